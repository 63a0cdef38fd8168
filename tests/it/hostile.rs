//! Hostile credentials against every verifier. Each case states the
//! outcome it must have: the `Rejection` variant and a stable part of its
//! reason. Run `cargo test --test it hostile:: -- --nocapture` to see the
//! corpus's table; docs/hostile-credentials.md explains each case.

use crate::corpus::{
    b64, flip, hs256, invalid, one_mebibyte, truncate, unb64, with_segment, Corpus, Want,
};
use authcmp::cookie::{CookieJar, Holder};
use authcmp::store::{Profile, StoreUrl};
use authcmp::strategy::access_refresh::{AccessRefresh, AccessRefreshOptions};
use authcmp::strategy::authjs_jwt::{AuthjsJwt, JweOptions, Version};
use authcmp::strategy::jose::{self, ContentKey, Enc};
use authcmp::strategy::jwt::{Jwt, JwtOptions};
use authcmp::strategy::signed_cookie::{SignedCookie, SignedCookieOptions};
use authcmp::strategy::{Setup, Strategy, DEFAULT_SECRET};
use authcmp::time::{unix_seconds, MINUTE};
use jsonwebtoken::Algorithm;

/// Virtual time of every verify here: 10 minutes into the run.
const NOW: u64 = 10 * MINUTE;

fn store() -> Box<dyn authcmp::store::Store> {
    StoreUrl::SqliteMemory
        .open("hostile")
        .expect("in-memory SQLite opens")
}

fn user() -> Profile {
    Profile::generated(1, 0, 0)
}

/// Signs in `user()` and returns the cookies the browser then holds.
fn sign_in(strategy: &mut dyn Strategy) -> Vec<(String, String)> {
    strategy
        .store()
        .seed_user(&user())
        .expect("seeding a user works");
    let mut jar = CookieJar::new(Holder::Browser);
    let set = strategy.login(&user(), &jar, 0).expect("sign-in works");
    jar.apply(&set, 0);
    jar.pairs()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Claims of a well-formed token for user 1 at `NOW`, as JSON text with
/// `extra` spliced in before the closing brace.
fn jwt_claims(exp: &str, extra: &str) -> String {
    let now = unix_seconds(NOW);
    format!(
        r#"{{"sub":"1","name":"User 1","email":"user1@example.com","picture":"p","iat":{now},"exp":{exp},"jti":"j"{extra}}}"#
    )
}

const HS256_HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// Runs the JWS corpus against a `jwt` or `jwt-denylist` strategy with
/// the default HS256 secret and 60 s leeway.
fn jws_corpus(corpus: &mut Corpus, label: &str, strategy: &mut dyn Strategy) {
    let cookie = "token";
    let key = DEFAULT_SECRET.as_bytes();
    let now = unix_seconds(NOW);
    let issued = sign_in(strategy);
    let token = issued[0].1.clone();
    let mut check = |corpus: &mut Corpus, case: &str, value: &str, want: Want| {
        corpus.verify(label, strategy, case, &[(cookie, value)], NOW, want);
    };
    check(corpus, "control: issued token", &token, Want::Accepted);

    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"typ":"JWT","alg":"{alg}"}}"#);
        let unsigned = format!(
            "{}.{}.",
            b64(header.as_bytes()),
            b64(jwt_claims(&(now + 600).to_string(), "").as_bytes())
        );
        check(
            corpus,
            &format!("alg {alg:?}, empty signature"),
            &unsigned,
            invalid("unsecured token (alg"),
        );
    }
    let hs384_header = br#"{"typ":"JWT","alg":"HS384"}"#;
    let hs384 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS384),
        &serde_json::from_str::<serde_json::Value>(&jwt_claims(&(now + 600).to_string(), ""))
            .unwrap(),
        &jsonwebtoken::EncodingKey::from_secret(key).unwrap(),
    )
    .unwrap();
    assert_eq!(unb64(hs384.split('.').next().unwrap()), hs384_header);
    check(
        corpus,
        "HS384, right secret",
        &hs384,
        invalid("algorithm \"HS384\" is not accepted; expected \"HS256\""),
    );

    // A byte flipped in each segment: `typ` "JWT" to "JWt" in the header,
    // the name in the claims, the first signature byte.
    let header_flip = flip(&token, 0, 10, 0x20);
    assert!(
        String::from_utf8(unb64(header_flip.split('.').next().unwrap()))
            .unwrap()
            .contains("\"JWt\"")
    );
    check(
        corpus,
        "flipped byte in header",
        &header_flip,
        invalid("signature does not match"),
    );
    let payload_flip = flip(&token, 1, 1, 0x01);
    check(
        corpus,
        "flipped byte in payload",
        &payload_flip,
        invalid("signature does not match"),
    );
    check(
        corpus,
        "flipped byte in signature",
        &flip(&token, 2, 0, 0x01),
        invalid("signature does not match"),
    );
    check(
        corpus,
        "truncated: signature 3 bytes short",
        &truncate(&token, 2, 3),
        invalid("signature does not match"),
    );
    let two_segments = token.rsplit_once('.').unwrap().0;
    check(
        corpus,
        "truncated: signature segment dropped",
        two_segments,
        invalid("expected 3 segments, found 2"),
    );
    check(
        corpus,
        "extra segment",
        &format!("{token}.AAAA"),
        invalid("expected 3 segments, found 4"),
    );
    check(
        corpus,
        "invalid base64url in header",
        &with_segment(&token, 0, "eyJ*"),
        invalid("header is not valid base64url"),
    );
    check(
        corpus,
        "invalid base64url in payload",
        &with_segment(&token, 1, "eyJ+/"),
        invalid("payload is not valid base64url"),
    );
    check(
        corpus,
        "invalid base64url in signature",
        &with_segment(&token, 2, "!!!!"),
        invalid("signature is not valid base64url"),
    );

    let exp = (now + 600).to_string();
    let signed = |payload: &str| hs256(key, HS256_HEADER.as_bytes(), payload.as_bytes());
    check(
        corpus,
        "non-JSON payload, right secret",
        &signed("not json"),
        invalid("claims are not valid JSON: expected ident"),
    );
    check(
        corpus,
        "duplicate claim exp, right secret",
        &signed(&jwt_claims(&exp, &format!(r#","exp":{}"#, now + 999_999))),
        invalid("duplicate field `exp`"),
    );
    check(
        corpus,
        "duplicate unknown claim, right secret",
        &signed(&jwt_claims(&exp, r#","role":"user","role":"admin""#)),
        invalid("claims are not valid JSON: duplicate member \"role\""),
    );
    let duplicate_alg = hs256(
        key,
        br#"{"alg":"HS256","alg":"HS256"}"#,
        jwt_claims(&exp, "").as_bytes(),
    );
    check(
        corpus,
        "duplicate header alg, right secret",
        &duplicate_alg,
        invalid("header is not valid JSON: duplicate member \"alg\""),
    );
    check(
        corpus,
        "exp as a string, right secret",
        &signed(&jwt_claims(&format!("\"{exp}\""), "")),
        invalid("claims are not valid JSON: invalid type: string"),
    );
    check(
        corpus,
        "nbf as a string, right secret",
        &signed(&jwt_claims(&exp, &format!(r#","nbf":"{now}""#))),
        invalid("claims are not valid JSON: invalid type: string"),
    );
    check(
        corpus,
        "exp 61 s ago: just past the 60 s leeway",
        &signed(&jwt_claims(&(now - 61).to_string(), "")),
        Want::Expired,
    );
    check(
        corpus,
        "exp 60 s ago: just inside the leeway",
        &signed(&jwt_claims(&(now - 60).to_string(), "")),
        Want::Accepted,
    );
    check(
        corpus,
        "nbf 61 s ahead",
        &signed(&jwt_claims(&exp, &format!(r#","nbf":{}"#, now + 61))),
        invalid("token is not valid yet (nbf)"),
    );
    let with_kid = hs256(
        key,
        br#"{"typ":"JWT","alg":"HS256","kid":"other"}"#,
        jwt_claims(&exp, "").as_bytes(),
    );
    check(
        corpus,
        "kid the verifier does not have",
        &with_kid,
        invalid("unknown key id (kid) \"other\""),
    );
    check(
        corpus,
        "signed with a rotated-out secret",
        &hs256(
            b"the-previous-secret",
            HS256_HEADER.as_bytes(),
            jwt_claims(&exp, "").as_bytes(),
        ),
        invalid("signature does not match"),
    );
    check(
        corpus,
        "empty cookie",
        "",
        invalid("expected 3 segments, found 1"),
    );
    check(
        corpus,
        "1 MiB cookie",
        &one_mebibyte(),
        invalid("expected 3 segments, found 1"),
    );
}

#[test]
fn jws_corpus_is_rejected() {
    let mut corpus = Corpus::default();
    for name in ["jwt", "jwt-denylist"] {
        let mut strategy = Setup::with_defaults(name).unwrap().build().unwrap();
        jws_corpus(&mut corpus, name, strategy.as_mut());
    }
    corpus.print_and_check("JWS corpus (jwt, jwt-denylist; HS256)");
}

#[test]
fn algorithm_confusion_is_rejected() {
    let mut corpus = Corpus::default();
    let now = unix_seconds(NOW);
    for (name, algorithm) in [("RS256", Algorithm::RS256), ("ES256", Algorithm::ES256)] {
        let options = JwtOptions {
            algorithm,
            ..JwtOptions::default()
        };
        let mut strategy = Jwt::new(options, store());
        let public_key = strategy.signer().public_key().to_vec();
        assert!(!public_key.is_empty(), "{name} has a public key");
        let label = format!("jwt {name}");
        let issued = sign_in(&mut strategy);
        corpus.verify(
            &label,
            &mut strategy,
            "control: issued token",
            &[("token", &issued[0].1)],
            NOW,
            Want::Accepted,
        );
        let forged = hs256(
            &public_key,
            HS256_HEADER.as_bytes(),
            jwt_claims(&(now + 600).to_string(), "").as_bytes(),
        );
        let reason = if algorithm == Algorithm::RS256 {
            "algorithm \"HS256\" is not accepted; expected \"RS256\""
        } else {
            "algorithm \"HS256\" is not accepted; expected \"ES256\""
        };
        corpus.verify(
            &label,
            &mut strategy,
            "HS256 keyed with the public key",
            &[("token", &forged)],
            NOW,
            invalid(reason),
        );
        // The same forgery, but claiming the configured algorithm.
        let header = format!(r#"{{"typ":"JWT","alg":"{name}"}}"#);
        let relabelled = hs256(
            &public_key,
            header.as_bytes(),
            jwt_claims(&(now + 600).to_string(), "").as_bytes(),
        );
        corpus.verify(
            &label,
            &mut strategy,
            "HMAC with the public key, alg relabelled",
            &[("token", &relabelled)],
            NOW,
            invalid("signature does not match"),
        );
    }
    corpus.print_and_check("algorithm confusion (jwt with RS256 and ES256)");
}

/// Encrypts `payload` as Auth.js v5 would, for the default secret.
fn v5_key() -> ContentKey {
    let key = jose::derive_key_v5(
        DEFAULT_SECRET.as_bytes(),
        "authjs.session-token",
        Enc::A256CbcHs512,
    );
    ContentKey::new(Enc::A256CbcHs512, key, true)
}

fn session_claims(exp: &str, extra: &str) -> String {
    let now = unix_seconds(NOW);
    format!(
        r#"{{"name":"User 1","email":"user1@example.com","picture":"p","sub":"1","iat":{now},"exp":{exp},"jti":"j"{extra}}}"#
    )
}

#[test]
fn jwe_corpus_is_rejected() {
    let mut corpus = Corpus::default();
    let label = "authjs-jwt v5";
    let cookie = "authjs.session-token";
    let now = unix_seconds(NOW);
    let mut strategy = AuthjsJwt::new(JweOptions::default(), store());
    let token = sign_in(&mut strategy)[0].1.clone();
    let key = v5_key();
    let exp = (now + 600).to_string();
    let mut check = |corpus: &mut Corpus, case: &str, value: &str, want: Want| {
        corpus.verify(label, &mut strategy, case, &[(cookie, value)], NOW, want);
    };
    check(&mut corpus, "control: issued token", &token, Want::Accepted);

    let body = |token: &str| token.split_once('.').unwrap().1.to_string();
    for alg in ["none", "NONE", "A256KW"] {
        let header = format!(r#"{{"alg":"{alg}","enc":"A256CBC-HS512"}}"#);
        let forged = format!("{}.{}", b64(header.as_bytes()), body(&token));
        check(
            &mut corpus,
            &format!("alg {alg:?}"),
            &forged,
            invalid(&format!("unsupported key management algorithm \"{alg}\"")),
        );
    }
    let other_enc = format!(
        "{}.{}",
        b64(br#"{"alg":"dir","enc":"A128CBC-HS256"}"#),
        body(&token)
    );
    check(
        &mut corpus,
        "enc A128CBC-HS256 (not configured)",
        &other_enc,
        invalid("content encryption \"A128CBC-HS256\" is not accepted"),
    );
    // The kid is the last member of the header: flip one of its letters.
    let header_len = unb64(token.split('.').next().unwrap()).len();
    check(
        &mut corpus,
        "flipped byte in header (kid)",
        &flip(&token, 0, header_len - 3, 0x01),
        invalid("no matching decryption secret for kid"),
    );
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&unb64(token.split('.').next().unwrap())).unwrap();
    header.insert("x".into(), 1.into());
    let edited_header = with_segment(&token, 0, &b64(&serde_json::to_vec(&header).unwrap()));
    check(
        &mut corpus,
        "header edited (member added)",
        &edited_header,
        invalid("authentication tag mismatch"),
    );
    check(
        &mut corpus,
        "flipped byte in IV",
        &flip(&token, 2, 0, 0x01),
        invalid("authentication tag mismatch"),
    );
    check(
        &mut corpus,
        "flipped byte in ciphertext",
        &flip(&token, 3, 0, 0x01),
        invalid("authentication tag mismatch"),
    );
    check(
        &mut corpus,
        "flipped byte in tag",
        &flip(&token, 4, 0, 0x01),
        invalid("authentication tag mismatch"),
    );
    check(
        &mut corpus,
        "truncated: tag 3 bytes short",
        &truncate(&token, 4, 3),
        invalid("authentication tag has the wrong length"),
    );
    check(
        &mut corpus,
        "truncated: tag segment dropped",
        token.rsplit_once('.').unwrap().0,
        invalid("expected 5 segments, found 4"),
    );
    check(
        &mut corpus,
        "extra segment",
        &format!("{token}.AAAA"),
        invalid("expected 5 segments, found 6"),
    );
    check(
        &mut corpus,
        "non-empty encrypted key",
        &with_segment(&token, 1, "AAAA"),
        invalid("encrypted key must be empty"),
    );
    for (index, name) in [
        (0, "protected header"),
        (2, "initialization vector"),
        (3, "ciphertext"),
        (4, "authentication tag"),
    ] {
        let expected = format!("segment {name} is not valid base64url");
        check(
            &mut corpus,
            &format!("invalid base64url in {name}"),
            &with_segment(&token, index, "ab*d"),
            invalid(&expected),
        );
    }
    check(
        &mut corpus,
        "non-JSON payload, right key",
        &key.encrypt(b"not json"),
        invalid("claims are not valid JSON: expected"),
    );
    check(
        &mut corpus,
        "duplicate claim exp, right key",
        &key.encrypt(session_claims(&exp, &format!(r#","exp":{}"#, now + 999_999)).as_bytes()),
        invalid("claims are not valid JSON: duplicate member \"exp\""),
    );
    check(
        &mut corpus,
        "duplicate unknown claim, right key",
        &key.encrypt(session_claims(&exp, r#","role":"user","role":"admin""#).as_bytes()),
        invalid("claims are not valid JSON: duplicate member \"role\""),
    );
    check(
        &mut corpus,
        "exp as a string, right key",
        &key.encrypt(session_claims(&format!("\"{exp}\""), "").as_bytes()),
        invalid("claims are not a valid JWT claims set: invalid type: string"),
    );
    check(
        &mut corpus,
        "nbf as a string, right key",
        &key.encrypt(session_claims(&exp, &format!(r#","nbf":"{now}""#)).as_bytes()),
        invalid("claims are not a valid JWT claims set: invalid type: string"),
    );
    check(
        &mut corpus,
        "exp 15 s ago: just past the 15 s tolerance",
        &key.encrypt(session_claims(&(now - 15).to_string(), "").as_bytes()),
        Want::Expired,
    );
    check(
        &mut corpus,
        "exp 14 s ago: just inside the tolerance",
        &key.encrypt(session_claims(&(now - 14).to_string(), "").as_bytes()),
        Want::Accepted,
    );
    check(
        &mut corpus,
        "nbf 16 s ahead",
        &key.encrypt(session_claims(&exp, &format!(r#","nbf":{}"#, now + 16)).as_bytes()),
        invalid("token is not valid yet (nbf)"),
    );
    let old = jose::derive_key_v5(
        b"the-previous-secret",
        "authjs.session-token",
        Enc::A256CbcHs512,
    );
    let rotated = ContentKey::new(Enc::A256CbcHs512, old.clone(), true);
    check(
        &mut corpus,
        "rotated-out secret (its own kid)",
        &rotated.encrypt(session_claims(&exp, "").as_bytes()),
        invalid("no matching decryption secret for kid"),
    );
    let rotated_no_kid = ContentKey::new(Enc::A256CbcHs512, old, false);
    check(
        &mut corpus,
        "rotated-out secret, no kid",
        &rotated_no_kid.encrypt(session_claims(&exp, "").as_bytes()),
        invalid("authentication tag mismatch"),
    );
    check(
        &mut corpus,
        "empty cookie",
        "",
        invalid("expected 5 segments, found 1"),
    );
    check(
        &mut corpus,
        "1 MiB cookie",
        &one_mebibyte(),
        invalid("expected 5 segments, found 1"),
    );
    corpus.print_and_check("JWE corpus (authjs-jwt v5, A256CBC-HS512)");
}

#[test]
fn jwe_v4_corpus_is_rejected() {
    let mut corpus = Corpus::default();
    let label = "authjs-jwt v4";
    let cookie = "next-auth.session-token";
    let options = JweOptions {
        version: Version::V4,
        ..JweOptions::default()
    };
    let mut strategy = AuthjsJwt::new(options, store());
    let token = sign_in(&mut strategy)[0].1.clone();
    let now = unix_seconds(NOW);
    let mut check = |corpus: &mut Corpus, case: &str, value: &str, want: Want| {
        corpus.verify(label, &mut strategy, case, &[(cookie, value)], NOW, want);
    };
    check(&mut corpus, "control: issued token", &token, Want::Accepted);
    // v4 decodes only A256GCM: a v5-style token (A256CBC-HS512) is refused
    // before any key is tried.
    let v5_style = v5_key().encrypt(session_claims(&(now + 600).to_string(), "").as_bytes());
    check(
        &mut corpus,
        "enc A256CBC-HS512 (not configured)",
        &v5_style,
        invalid("content encryption \"A256CBC-HS512\" is not accepted"),
    );
    for (index, what) in [(2, "IV"), (3, "ciphertext"), (4, "tag")] {
        check(
            &mut corpus,
            &format!("flipped byte in {what}"),
            &flip(&token, index, 0, 0x01),
            invalid("authentication tag mismatch"),
        );
    }
    let old = jose::derive_key_v4(b"the-previous-secret");
    let rotated = ContentKey::new(Enc::A256Gcm, old, false);
    check(
        &mut corpus,
        "rotated-out secret",
        &rotated.encrypt(session_claims(&(now + 600).to_string(), "").as_bytes()),
        invalid("authentication tag mismatch"),
    );
    corpus.print_and_check("JWE corpus (authjs-jwt v4, A256GCM)");
}

#[test]
fn jwe_chunks_join_in_numeric_order() {
    let mut corpus = Corpus::default();
    let label = "authjs-jwt v5";
    let mut strategy = AuthjsJwt::new(JweOptions::default(), store());
    let token = sign_in(&mut strategy)[0].1.clone();
    let third = token.len() / 3;
    let (a, rest) = token.split_at(third);
    let (b, c) = rest.split_at(third);
    let name = |i: usize| format!("authjs.session-token.{i}");
    let (n0, n1, n2, n3) = (name(0), name(1), name(2), name(3));
    corpus.verify(
        label,
        &mut strategy,
        "chunks .0 .1 .2 in order",
        &[(&n0, a), (&n1, b), (&n2, c)],
        NOW,
        Want::Accepted,
    );
    // Auth.js sorts chunk cookies by their numeric suffix before joining,
    // so the order the browser sends them in does not matter.
    corpus.verify(
        label,
        &mut strategy,
        "chunks sent as .2 .0 .1 (accepted: joined by suffix)",
        &[(&n2, c), (&n0, a), (&n1, b)],
        NOW,
        Want::Accepted,
    );
    corpus.verify(
        label,
        &mut strategy,
        "chunks .0 and .1 swapped in content",
        &[(&n0, b), (&n1, a), (&n2, c)],
        NOW,
        invalid("protected header is not valid JSON"),
    );
    corpus.verify(
        label,
        &mut strategy,
        "chunk .1 missing",
        &[(&n0, a), (&n2, c)],
        NOW,
        invalid("not a JWE in compact form: expected 5 segments"),
    );
    corpus.verify(
        label,
        &mut strategy,
        "extra chunk .3",
        &[(&n0, a), (&n1, b), (&n2, c), (&n3, "AAAA")],
        NOW,
        invalid("authentication tag has the wrong length"),
    );
    corpus.print_and_check("chunked JWE (authjs-jwt v5)");
}

/// Cases for a strategy whose cookie is an opaque session token.
fn session_corpus(corpus: &mut Corpus, label: &str, strategy: &mut dyn Strategy) {
    let cookie = "authjs.session-token";
    let token = sign_in(strategy)[0].1.clone();
    let mut check = |corpus: &mut Corpus, case: &str, value: &str, want: Want| {
        corpus.verify(label, strategy, case, &[(cookie, value)], NOW, want);
    };
    check(corpus, "control: issued token", &token, Want::Accepted);
    check(
        corpus,
        "unknown token (fresh UUID)",
        &uuid::Uuid::new_v4().to_string(),
        Want::UnknownSession,
    );
    let mut one_off = token.clone().into_bytes();
    one_off[0] = if one_off[0] == b'a' { b'b' } else { b'a' };
    check(
        corpus,
        "token differing in one character",
        &String::from_utf8(one_off).unwrap(),
        Want::UnknownSession,
    );
    check(
        corpus,
        "SQL metacharacters",
        &format!("{token}' OR '1'='1"),
        Want::UnknownSession,
    );
    check(
        corpus,
        "SQL comment and wildcard",
        "%'; DROP TABLE sessions; --",
        Want::UnknownSession,
    );
    check(
        corpus,
        "token followed by a NUL byte",
        &format!("{token}\0"),
        Want::UnknownSession,
    );
    check(corpus, "empty cookie", "", Want::UnknownSession);
    check(
        corpus,
        "1 MiB cookie",
        &one_mebibyte(),
        Want::UnknownSession,
    );
    // The control still verifies: no hostile lookup changed the store.
    check(
        corpus,
        "control again after the corpus",
        &token,
        Want::Accepted,
    );
}

#[test]
fn session_corpus_is_rejected() {
    let mut corpus = Corpus::default();
    for name in ["authjs-database", "cached-session"] {
        let mut strategy = Setup::with_defaults(name).unwrap().build().unwrap();
        session_corpus(&mut corpus, name, strategy.as_mut());
    }
    corpus.print_and_check("session tokens (authjs-database, cached-session)");
}

#[test]
fn signed_cookie_corpus_is_rejected() {
    let mut corpus = Corpus::default();
    let label = "signed-cookie";
    let cookie = "sessionid";
    let mut strategy = SignedCookie::new(SignedCookieOptions::default(), store());
    let value = sign_in(&mut strategy)[0].1.clone();
    let parts: Vec<&str> = value.split(':').collect();
    assert_eq!(parts.len(), 3, "payload:timestamp:signature");
    let mut check = |corpus: &mut Corpus, case: &str, value: &str, want: Want| {
        corpus.verify(label, &mut strategy, case, &[(cookie, value)], NOW, want);
    };
    check(
        &mut corpus,
        "control: issued cookie",
        &value,
        Want::Accepted,
    );
    let mut payload = unb64(parts[0]);
    let text = String::from_utf8(payload.clone()).unwrap();
    let at = text.find("\"1\"").expect("user id 1 in the payload") + 1;
    payload[at] = b'2';
    check(
        &mut corpus,
        "payload edited (user id 1 to 2)",
        &format!("{}:{}:{}", b64(&payload), parts[1], parts[2]),
        invalid("bad signature"),
    );
    check(
        &mut corpus,
        "timestamp edited forward",
        &format!("{}:{}1:{}", parts[0], parts[1], parts[2]),
        invalid("bad signature"),
    );
    let rotated = SignedCookie::new(
        SignedCookieOptions {
            secret: "the-previous-secret".into(),
            ..SignedCookieOptions::default()
        },
        store(),
    );
    check(
        &mut corpus,
        "signed with a rotated-out secret",
        &rotated.sign(&user(), 0),
        invalid("bad signature"),
    );
    check(
        &mut corpus,
        "signature 3 bytes short",
        &truncate(&value.replace(':', "."), 2, 3).replace('.', ":"),
        invalid("bad signature"),
    );
    check(
        &mut corpus,
        "invalid base64url in signature",
        &format!("{}:{}:ab*d", parts[0], parts[1]),
        invalid("signature is not base64url"),
    );
    check(
        &mut corpus,
        "empty cookie",
        "",
        invalid("not a signed value"),
    );
    check(
        &mut corpus,
        "1 MiB cookie",
        &one_mebibyte(),
        invalid("not a signed value"),
    );
    corpus.print_and_check("signed cookie (Django style)");
}

/// Virtual time of the access-refresh cases: inside the 5-minute access
/// token lifetime.
const AR_NOW: u64 = MINUTE;

#[test]
fn access_refresh_corpus_is_rejected() {
    let mut corpus = Corpus::default();
    let label = "access-refresh";
    let mut strategy = AccessRefresh::new(AccessRefreshOptions::default(), store());
    let issued = sign_in(&mut strategy);
    let access = issued
        .iter()
        .find(|(n, _)| n == "access_token")
        .unwrap()
        .1
        .clone();
    let forged = flip(&access, 2, 0, 0x01);
    let now = unix_seconds(AR_NOW);
    corpus.verify(
        label,
        &mut strategy,
        "control: issued access token",
        &[("access_token", &access)],
        AR_NOW,
        Want::Accepted,
    );
    corpus.verify(
        label,
        &mut strategy,
        "forged access token, no refresh token",
        &[("access_token", &forged)],
        AR_NOW,
        invalid("signature does not match"),
    );
    corpus.verify(
        label,
        &mut strategy,
        "alg none access token",
        &[(
            "access_token",
            &format!(
                "{}.{}.",
                b64(br#"{"alg":"none"}"#),
                b64(jwt_claims(&(now + 600).to_string(), "").as_bytes())
            ),
        )],
        AR_NOW,
        invalid("unsecured token (alg \"none\")"),
    );
    corpus.verify(
        label,
        &mut strategy,
        "unknown refresh token",
        &[(
            "refresh_token",
            "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        )],
        AR_NOW,
        invalid("unknown refresh token"),
    );
    corpus.verify(
        label,
        &mut strategy,
        "forged access token, unknown refresh token",
        &[("access_token", &forged), ("refresh_token", "x' OR '1'='1")],
        AR_NOW,
        invalid("unknown refresh token"),
    );
    corpus.print_and_check("access-refresh");
}
