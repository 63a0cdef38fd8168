//! A strategy that does no work, to measure the harness itself.
//!
//! It sets one fixed cookie at sign-in and accepts every request that
//! carries a cookie, without a store, crypto or allocation. A run with only
//! this strategy times the engine's own cost per event: workload
//! generation, cookie jars, trackers and the latency histogram.

use super::{Identity, Rejection, Strategy, Verification};
use crate::cookie::{CookieAttributes, CookieJar, Lifetime, SetCookie};
use crate::store::{Profile, StateSize, Store, StoreResult};
use crate::time::Millis;

pub struct Noop {
    store: Box<dyn Store>,
}

impl Noop {
    pub fn new(store: Box<dyn Store>) -> Self {
        Noop { store }
    }
}

impl Strategy for Noop {
    fn login(
        &mut self,
        _profile: &Profile,
        _jar: &CookieJar,
        _now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        Ok(vec![SetCookie {
            name: "noop".to_string(),
            value: "1".to_string(),
            lifetime: Lifetime::Session,
            attributes: CookieAttributes::session(false),
        }])
    }

    fn verify(&mut self, jar: &CookieJar, _now: Millis) -> StoreResult<Verification> {
        let outcome = if jar.is_empty() {
            Err(Rejection::NoCredential)
        } else {
            Ok(Identity {
                subject: String::new(),
                name: String::new(),
            })
        };
        Ok(Verification {
            outcome,
            set_cookies: Vec::new(),
        })
    }

    fn update_profile(
        &mut self,
        _profile: &Profile,
        _jar: &CookieJar,
        _now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        Ok(Vec::new())
    }

    fn logout(&mut self, _jar: &CookieJar, _now: Millis) -> StoreResult<Vec<SetCookie>> {
        Ok(Vec::new())
    }

    fn revoke_user(&mut self, _user_id: u64, _now: Millis) -> StoreResult<()> {
        Ok(())
    }

    fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    fn server_state(&mut self, _now: Millis) -> StoreResult<StateSize> {
        Ok(StateSize::default())
    }
}
