//! Each strategy's sign-in and verify through the `Strategy` trait, on
//! each store named in `AUTHCMP_BENCH_STORES` (comma-separated store
//! URLs; default `sqlite::memory:`).
//!
//! Verify runs over 1,000 signed-in clients in turn, one minute after
//! their sign-in, so that no verify finds its credential expired and
//! store lookups are spread over many rows.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

use authcmp::cookie::{CookieJar, Holder};
use authcmp::store::{Profile, StoreUrl};
use authcmp::strategy::{Setup, KINDS};
use authcmp::time::MINUTE;

const CLIENTS: u64 = 1_000;

fn stores() -> Vec<StoreUrl> {
    let urls =
        std::env::var("AUTHCMP_BENCH_STORES").unwrap_or_else(|_| "sqlite::memory:".to_string());
    urls.split(',')
        .map(|url| {
            StoreUrl::parse(url.trim()).unwrap_or_else(|e| panic!("AUTHCMP_BENCH_STORES: {e}"))
        })
        .collect()
}

fn strategies(c: &mut Criterion) {
    for store in stores() {
        let mut group = c.benchmark_group(format!("strategy/{store}"));
        for kind in KINDS.iter().filter(|k| k.compared) {
            let mut setup = Setup::with_defaults(kind.name).unwrap();
            setup.store = store.clone();
            let mut strategy = setup.build().unwrap();
            let mut jars = Vec::new();
            for id in 1..=CLIENTS {
                let profile = Profile::generated(id, 0, 0);
                strategy.store().seed_user(&profile).unwrap();
                let mut jar = CookieJar::new(Holder::Browser);
                let set = strategy.login(&profile, &jar, 0).unwrap();
                jar.apply(&set, 0);
                jars.push(jar);
            }
            let mut next = 0;
            group.bench_function(BenchmarkId::new("verify", kind.name), |b| {
                b.iter(|| {
                    next = (next + 1) % jars.len();
                    let verification = strategy.verify(black_box(&jars[next]), MINUTE).unwrap();
                    assert!(verification.outcome.is_ok());
                    verification
                })
            });
            let profile = Profile::generated(1, 0, 0);
            let empty = CookieJar::new(Holder::Browser);
            group.bench_function(BenchmarkId::new("login", kind.name), |b| {
                b.iter(|| strategy.login(black_box(&profile), &empty, MINUTE).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, strategies);
criterion_main!(benches);
