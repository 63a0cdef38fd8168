//! Feeds arbitrary text as a JWE to the Auth.js v5 and v4 codecs, and as
//! the chunked session cookie of `authjs-jwt`: the first byte picks how
//! many chunks the rest is split into. Every input must be rejected
//! without a panic.
#![no_main]

use std::cell::RefCell;

use authcmp::cookie::{CookieJar, Holder};
use authcmp::strategy::authjs_jwt::{Codec, JweOptions, Version};
use authcmp::strategy::{Setup, Strategy};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static CODECS: Vec<Codec> = [Version::V5, Version::V4]
        .into_iter()
        .map(|version| Codec::new(JweOptions { version, ..JweOptions::default() }))
        .collect();
    static STRATEGY: RefCell<Box<dyn Strategy>> =
        RefCell::new(Setup::with_defaults("authjs-jwt").unwrap().build().unwrap());
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunks, rest)) = data.split_first() else {
        return;
    };
    let Ok(token) = std::str::from_utf8(rest) else {
        return;
    };
    CODECS.with(|codecs| {
        for codec in codecs {
            assert!(codec.decode(token, 0).is_err(), "accepted {token:?}");
        }
    });
    // Split at character boundaries into 1 to 4 chunk cookies.
    let count = usize::from(chunks % 4) + 1;
    let chars: Vec<char> = token.chars().collect();
    let size = chars.len().div_ceil(count).max(1);
    let parts: Vec<String> = chars.chunks(size).map(|c| c.iter().collect()).collect();
    let names: Vec<String> = (0..parts.len())
        .map(|i| format!("authjs.session-token.{i}"))
        .collect();
    let jar = CookieJar::from_pairs(
        Holder::Browser,
        names
            .iter()
            .map(String::as_str)
            .zip(parts.iter().map(String::as_str)),
    );
    STRATEGY.with(|strategy| {
        let verification = strategy
            .borrow_mut()
            .verify(&jar, 0)
            .expect("the in-memory store works");
        assert!(verification.outcome.is_err(), "accepted {token:?}");
    });
});
