//! Feeds arbitrary text as the session cookie of the strategies whose
//! cookie is an opaque token or a signed value: `authjs-database` and
//! `cached-session` (a store lookup), `access-refresh`'s refresh cookie
//! (a store lookup) and `signed-cookie` (an HMAC check). Every input must
//! be rejected without a panic.
#![no_main]

use std::cell::RefCell;

use authcmp::cookie::{CookieJar, Holder};
use authcmp::strategy::{Setup, Strategy};
use libfuzzer_sys::fuzz_target;

const TARGETS: [(&str, &str); 4] = [
    ("authjs-database", "authjs.session-token"),
    ("cached-session", "authjs.session-token"),
    ("access-refresh", "refresh_token"),
    ("signed-cookie", "sessionid"),
];

thread_local! {
    static STRATEGIES: RefCell<Vec<Box<dyn Strategy>>> = RefCell::new(
        TARGETS
            .iter()
            .map(|(name, _)| Setup::with_defaults(name).unwrap().build().unwrap())
            .collect(),
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    STRATEGIES.with(|strategies| {
        for (strategy, (name, cookie)) in strategies.borrow_mut().iter_mut().zip(TARGETS) {
            let jar = CookieJar::from_pairs(Holder::Browser, [(cookie, value)]);
            let verification = strategy.verify(&jar, 0).expect("the in-memory store works");
            assert!(verification.outcome.is_err(), "{name} accepted {value:?}");
        }
    });
});
