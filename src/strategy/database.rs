//! Auth.js database sessions (`@auth/core` 0.41, next-auth v5; v4 alike).
//!
//! The cookie holds a random UUID. Every session read performs one
//! `getSessionAndUser` lookup, deletes the row when it has expired, and
//! extends `expires` to now + maxAge only when
//! `expires - maxAge + updateAge <= now`. The cookie is re-sent with a new
//! `Expires` on every successful read, whether or not the row was written.

use uuid::Uuid;

use super::{span, Identity, Rejection, Strategy, Verification, DAY, THIRTY_DAYS};
use crate::cookie::{delete_credential, CookieAttributes, CookieJar, Lifetime, SetCookie};
use crate::store::{Profile, Store, StoreResult};
use crate::time::Millis;

/// Options of `authjs-database`.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseOptions {
    /// Session lifetime after its last extension (Auth.js `maxAge`).
    pub max_age: Millis,
    /// Minimum age of an expiry before a read extends it (`updateAge`).
    pub update_age: Millis,
    /// Whether cookies are set for https (`__Secure-` prefix, `Secure`).
    pub secure: bool,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions {
            max_age: THIRTY_DAYS,
            update_age: DAY,
            secure: false,
        }
    }
}

impl DatabaseOptions {
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("max_age", span(self.max_age)),
            ("update_age", span(self.update_age)),
            ("secure", self.secure.to_string()),
        ]
    }
}

/// The cookie name Auth.js v5 uses for the session token.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Secure-authjs.session-token"
    } else {
        "authjs.session-token"
    }
}

/// Whether a read at `now` extends a session expiring at `expires`: the
/// Auth.js rule `expires - maxAge + updateAge <= now`.
pub fn extension_due(expires: Millis, max_age: Millis, update_age: Millis, now: Millis) -> bool {
    i128::from(expires) - i128::from(max_age) + i128::from(update_age) <= i128::from(now)
}

pub struct AuthjsDatabase {
    options: DatabaseOptions,
    store: Box<dyn Store>,
    cookie: &'static str,
    attributes: CookieAttributes,
}

impl AuthjsDatabase {
    pub fn new(options: DatabaseOptions, store: Box<dyn Store>) -> Self {
        AuthjsDatabase {
            cookie: cookie_name(options.secure),
            attributes: CookieAttributes::session(options.secure),
            options,
            store,
        }
    }

    fn session_cookie(&self, token: String, expires: Millis) -> SetCookie {
        SetCookie {
            name: self.cookie.to_string(),
            value: token,
            lifetime: Lifetime::Expires(expires),
            attributes: self.attributes.clone(),
        }
    }
}

impl Strategy for AuthjsDatabase {
    fn login(
        &mut self,
        profile: &Profile,
        _jar: &CookieJar,
        now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        let user = self.store.find_user(profile.id)?;
        let user_id = user.map_or(profile.id, |row| row.profile.id);
        let token = Uuid::new_v4().to_string();
        let expires = now + self.options.max_age;
        self.store.create_session(&token, user_id, expires)?;
        Ok(vec![self.session_cookie(token, expires)])
    }

    fn verify(&mut self, jar: &CookieJar, now: Millis) -> StoreResult<Verification> {
        let Some(token) = jar.get(self.cookie) else {
            return Ok(Verification {
                outcome: Err(Rejection::NoCredential),
                set_cookies: Vec::new(),
            });
        };
        let rejected = |reason| Verification {
            outcome: Err(reason),
            set_cookies: delete_credential(jar, self.cookie, &self.attributes),
        };
        // The lookup by token is an index search, not a constant-time
        // comparison. As in Auth.js's adapters, the token is the random
        // primary key (122 random bits), so timing reveals no secret.
        let Some((session, user)) = self.store.session_and_user(token)? else {
            return Ok(rejected(Rejection::UnknownSession));
        };
        // Auth.js treats a session as expired only once `expires < now`.
        if session.expires < now {
            self.store.delete_session(token)?;
            return Ok(rejected(Rejection::Expired));
        }
        let new_expires = now + self.options.max_age;
        if extension_due(
            session.expires,
            self.options.max_age,
            self.options.update_age,
            now,
        ) {
            self.store.update_session_expiry(token, new_expires)?;
        }
        Ok(Verification {
            outcome: Ok(Identity {
                subject: session.user_id.to_string(),
                name: user.name,
            }),
            set_cookies: vec![self.session_cookie(token.to_string(), new_expires)],
        })
    }

    fn update_profile(
        &mut self,
        profile: &Profile,
        _jar: &CookieJar,
        _now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        self.store.update_user(profile)?;
        Ok(Vec::new())
    }

    fn logout(&mut self, jar: &CookieJar, _now: Millis) -> StoreResult<Vec<SetCookie>> {
        if let Some(token) = jar.get(self.cookie) {
            self.store.delete_session(token)?;
        }
        Ok(delete_credential(jar, self.cookie, &self.attributes))
    }

    fn revoke_user(&mut self, user_id: u64, _now: Millis) -> StoreResult<()> {
        self.store.delete_user_sessions(user_id)
    }

    fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookie::Holder;
    use crate::store::{OpCounts, SqliteStore};
    use crate::time::HOUR;

    fn strategy(update_age: Millis) -> AuthjsDatabase {
        let mut store = SqliteStore::open_in_memory().unwrap();
        store.seed_user(&Profile::generated(1, 0, 0)).unwrap();
        let options = DatabaseOptions {
            update_age,
            ..DatabaseOptions::default()
        };
        AuthjsDatabase::new(options, Box::new(store))
    }

    #[test]
    fn extension_rule_matches_authjs() {
        let max_age = THIRTY_DAYS;
        // Issued at 0: expires at 30 d; due once 1 d has passed.
        assert!(!extension_due(max_age, max_age, DAY, DAY - 1));
        assert!(extension_due(max_age, max_age, DAY, DAY));
        assert!(extension_due(max_age, max_age, 0, 0));
    }

    #[test]
    fn extension_writes_only_when_due() {
        let mut s = strategy(DAY);
        let mut jar = CookieJar::new(Holder::Browser);
        let set = s.login(&Profile::generated(1, 0, 0), &jar, 0).unwrap();
        jar.apply(&set, 0);
        let start = s.store().counts();
        // Reads every 6 h for 3 days: extensions at 24 h, 48 h and 72 h.
        for step in 1..=12 {
            let v = s.verify(&jar, step * 6 * HOUR).unwrap();
            assert!(v.outcome.is_ok());
            assert_eq!(v.set_cookies.len(), 1);
            jar.apply(&v.set_cookies, step * 6 * HOUR);
        }
        assert_eq!(
            s.store().counts().since(start),
            OpCounts {
                reads: 12,
                writes: 3
            }
        );
    }

    #[test]
    fn token_is_a_uuid() {
        let mut s = strategy(DAY);
        let jar = CookieJar::new(Holder::Browser);
        let set = s.login(&Profile::generated(1, 0, 0), &jar, 0).unwrap();
        assert_eq!(set[0].value.len(), 36);
        assert!(Uuid::parse_str(&set[0].value).is_ok());
    }
}
