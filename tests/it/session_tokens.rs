//! Session tokens: where their randomness comes from, and that a sign-in
//! always issues a new one (no session fixation).
//!
//! `authjs-database` and `cached-session` issue `Uuid::new_v4()`, which
//! the `uuid` crate fills from `getrandom` (the operating system's CSPRNG):
//! 122 random bits, with 4 version bits and 2 variant bits fixed. That is
//! what `crypto.randomUUID()` gives Auth.js.

use std::collections::HashSet;

use authcmp::cookie::{CookieJar, Holder};
use authcmp::store::Profile;
use authcmp::strategy::{Rejection, Setup, Strategy};

const COOKIE: &str = "authjs.session-token";

fn strategy(name: &str) -> Box<dyn Strategy> {
    let mut strategy = Setup::with_defaults(name).unwrap().build().unwrap();
    strategy
        .store()
        .seed_user(&Profile::generated(1, 0, 0))
        .unwrap();
    strategy
}

/// Signs user 1 in on `jar` and returns the session token it set.
fn sign_in(strategy: &mut dyn Strategy, jar: &mut CookieJar) -> String {
    let set = strategy
        .login(&Profile::generated(1, 0, 0), jar, 0)
        .unwrap();
    jar.apply(&set, 0);
    jar.get(COOKIE).expect("a session cookie").to_string()
}

#[test]
fn session_tokens_are_uuid_v4() {
    for name in ["authjs-database", "cached-session"] {
        let mut strategy = strategy(name);
        let mut jar = CookieJar::new(Holder::Browser);
        let token = sign_in(strategy.as_mut(), &mut jar);
        assert_eq!(token.len(), 36, "{name}: {token}");
        let uuid = uuid::Uuid::parse_str(&token).unwrap();
        assert_eq!(uuid.get_version_num(), 4, "{name}: {token}");
        assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{name}");
        assert_eq!(uuid.hyphenated().to_string(), token, "{name}: lower case");
    }
}

#[test]
fn session_tokens_are_unique() {
    const SIGN_INS: usize = 10_000;
    for name in ["authjs-database", "cached-session"] {
        let mut strategy = strategy(name);
        let mut seen = HashSet::new();
        for _ in 0..SIGN_INS {
            let mut jar = CookieJar::new(Holder::Browser);
            seen.insert(sign_in(strategy.as_mut(), &mut jar));
        }
        assert_eq!(seen.len(), SIGN_INS, "{name}");
    }
}

#[test]
fn session_token_bits_vary() {
    // Over 1,000 tokens every one of the 122 random bits takes both
    // values; a fixed or counter-like bit would show up here.
    let mut strategy = strategy("authjs-database");
    let (mut ones, mut zeros) = (0u128, 0u128);
    for _ in 0..1_000 {
        let mut jar = CookieJar::new(Holder::Browser);
        let token = sign_in(strategy.as_mut(), &mut jar);
        let bits = uuid::Uuid::parse_str(&token).unwrap().as_u128();
        ones |= bits;
        zeros |= !bits;
    }
    let fixed = (ones & !zeros) | (zeros & !ones);
    // The version (bits 76-79) and variant (bits 62-63) are the only fixed ones.
    let version_and_variant: u128 = (0xF << 76) | (0x3 << 62);
    assert_eq!(fixed, version_and_variant);
}

#[test]
fn sign_in_replaces_a_planted_token() {
    for name in ["authjs-database", "cached-session"] {
        let mut strategy = strategy(name);
        let mut jar = CookieJar::new(Holder::Browser);
        let first = sign_in(strategy.as_mut(), &mut jar);
        // An attacker plants `first` in the victim's browser, who signs in.
        let mut victim = CookieJar::from_pairs(Holder::Browser, [(COOKIE, first.as_str())]);
        let second = sign_in(strategy.as_mut(), &mut victim);
        assert_ne!(first, second, "{name}: a sign-in issues a new token");
        assert_eq!(victim.get(COOKIE), Some(second.as_str()), "{name}");
        // Auth.js creates a new session row at sign-in and leaves the old
        // one alone, so the planted token still names its own session,
        // which is not the victim's new one.
        let old = CookieJar::from_pairs(Holder::Browser, [(COOKIE, first.as_str())]);
        let verification = strategy.verify(&old, 0).unwrap();
        assert!(verification.outcome.is_ok(), "{name}");
        // An application that signs the old session out deletes its row.
        strategy.logout(&old, 0).unwrap();
        let verification = strategy.verify(&old, 0).unwrap();
        assert_eq!(
            verification.outcome.unwrap_err(),
            Rejection::UnknownSession,
            "{name}"
        );
        let verification = strategy.verify(&victim, 0).unwrap();
        assert!(
            verification.outcome.is_ok(),
            "{name}: the new session lives"
        );
    }
}

#[test]
fn refresh_tokens_are_unique() {
    let mut strategy = strategy("access-refresh");
    let mut seen = HashSet::new();
    for _ in 0..2_000 {
        let mut jar = CookieJar::new(Holder::Browser);
        let set = strategy
            .login(&Profile::generated(1, 0, 0), &jar, 0)
            .unwrap();
        jar.apply(&set, 0);
        let token = jar.get("refresh_token").unwrap().to_string();
        // `<family>.<secret>`: two 128-bit values in base64url, 22 characters each.
        let (family, secret) = token.split_once('.').unwrap();
        assert_eq!(family.len(), 22, "{token}");
        assert_eq!(secret.len(), 22, "{token}");
        seen.insert(token);
    }
    assert_eq!(seen.len(), 2_000);
}
