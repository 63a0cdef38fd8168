//! The building blocks each strategy's verify is made of: JWE encryption
//! and decryption, JWT signing and verification per algorithm, and a
//! SQLite session lookup among 100,000 rows.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

use authcmp::store::{Profile, SqliteStore, Store};
use authcmp::strategy::jose::{self, ContentKey, Enc};
use authcmp::strategy::jwt::Signer;
use authcmp::strategy::keys::ALGORITHMS;
use authcmp::time::{MINUTE, SECOND};

/// Claims of the size Auth.js puts in a session token.
const PAYLOAD: &[u8] = br#"{"name":"User 1","email":"user1@example.org","picture":"https://example.org/avatars/1.png","sub":"1","iat":1798761600,"exp":1801353600,"jti":"8f0c3c52-6b1f-4c25-9d67-2b1a7a3f1e0d"}"#;

fn jwe(c: &mut Criterion) {
    let mut group = c.benchmark_group("jwe");
    for enc in [Enc::A256CbcHs512, Enc::A256Gcm] {
        let key = ContentKey::new(enc, vec![7u8; enc.key_len()], enc == Enc::A256CbcHs512);
        group.bench_function(BenchmarkId::new("encrypt", enc.name()), |b| {
            b.iter(|| key.encrypt(black_box(PAYLOAD)))
        });
        let token = key.encrypt(PAYLOAD);
        group.bench_function(BenchmarkId::new("decrypt", enc.name()), |b| {
            b.iter(|| {
                let parsed = jose::parse(black_box(&token)).unwrap();
                jose::decrypt(&parsed, &[enc], &key.key).unwrap()
            })
        });
    }
    group.finish();
}

fn jwt(c: &mut Criterion) {
    let mut group = c.benchmark_group("jwt");
    let profile = Profile::generated(1, 0, 0);
    for (name, algorithm) in ALGORITHMS {
        let signer = Signer::new(*algorithm, "bench-secret", 15 * MINUTE, 60 * SECOND);
        group.bench_function(BenchmarkId::new("sign", name), |b| {
            b.iter(|| signer.sign(black_box(&profile), 0))
        });
        let (token, _) = signer.sign(&profile, 0);
        group.bench_function(BenchmarkId::new("verify", name), |b| {
            b.iter(|| signer.check(black_box(&token), MINUTE).unwrap())
        });
    }
    group.finish();
}

fn sqlite_lookup(c: &mut Criterion) {
    const ROWS: u64 = 100_000;
    let mut store = SqliteStore::open_in_memory().unwrap();
    for id in 1..=ROWS {
        store.seed_user(&Profile::generated(id, 0, 0)).unwrap();
        store
            .create_session(&format!("{id:036}"), id, MINUTE)
            .unwrap();
    }
    let tokens: Vec<String> = (1..=ROWS)
        .step_by(97)
        .map(|id| format!("{id:036}"))
        .collect();
    let mut next = 0;
    c.bench_function("sqlite/session_and_user/100k", |b| {
        b.iter(|| {
            next = (next + 1) % tokens.len();
            store
                .session_and_user(black_box(&tokens[next]))
                .unwrap()
                .unwrap()
        })
    });
}

criterion_group!(benches, jwe, jwt, sqlite_lookup);
criterion_main!(benches);
