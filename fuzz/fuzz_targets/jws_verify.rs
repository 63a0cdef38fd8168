//! Feeds arbitrary text as a JWS to the HS256 signer that `jwt`,
//! `jwt-denylist` and `access-refresh` share, through the `jwt-denylist`
//! strategy's cookie and `access-refresh`'s access cookie. Every input
//! must be rejected without a panic: accepting one would mean a forged
//! signature.
#![no_main]

use std::cell::RefCell;

use authcmp::cookie::{CookieJar, Holder};
use authcmp::strategy::{Setup, Strategy};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static STRATEGIES: RefCell<Vec<Box<dyn Strategy>>> = RefCell::new(
        ["jwt-denylist", "access-refresh"]
            .iter()
            .map(|name| Setup::with_defaults(name).unwrap().build().unwrap())
            .collect(),
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    STRATEGIES.with(|strategies| {
        for (strategy, cookie) in strategies
            .borrow_mut()
            .iter_mut()
            .zip(["token", "access_token"])
        {
            let jar = CookieJar::from_pairs(Holder::Browser, [(cookie, token)]);
            let verification = strategy.verify(&jar, 0).expect("the in-memory store works");
            assert!(verification.outcome.is_err(), "accepted {token:?}");
        }
    });
});
