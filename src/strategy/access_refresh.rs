//! Short-lived access JWT plus an opaque, rotating refresh token.
//!
//! Requests carry a signed access token (default 5 minutes) that is
//! verified without the store. When it is missing or expired, the refresh
//! token is exchanged in the store for a new pair: the old refresh token
//! is marked used and a new one joins the same family. Presenting a used
//! refresh token again is taken as theft: the whole family is deleted, so
//! the legitimate holder is signed out too. Store operations therefore
//! happen only at sign-in, refresh, sign-out and revocation, and a revoked
//! session ends when its access token expires.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use rand::RngCore;

use super::jwt::{Signer, JSONWEBTOKEN_DEFAULT_LEEWAY};
use super::{span, Identity, Rejection, Strategy, Verification, DEFAULT_SECRET, THIRTY_DAYS};
use crate::cookie::{delete_credential, CookieAttributes, CookieJar, Lifetime, SetCookie};
use crate::store::{Profile, RefreshRow, StateSize, Store, StoreResult};
use crate::time::{Millis, MINUTE};

/// Options of `access-refresh`.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessRefreshOptions {
    /// Lifetime of each access token.
    pub lifetime: Millis,
    /// Lifetime of each refresh token, renewed at every rotation.
    pub refresh_lifetime: Millis,
    /// Clock skew allowed past the access token's `exp`.
    pub leeway: Millis,
    pub algorithm: Algorithm,
    pub secret: String,
    pub secure: bool,
}

impl Default for AccessRefreshOptions {
    fn default() -> Self {
        AccessRefreshOptions {
            lifetime: 5 * MINUTE,
            refresh_lifetime: THIRTY_DAYS,
            leeway: JSONWEBTOKEN_DEFAULT_LEEWAY,
            algorithm: Algorithm::HS256,
            secret: DEFAULT_SECRET.to_string(),
            secure: false,
        }
    }
}

impl AccessRefreshOptions {
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("algorithm", format!("{:?}", self.algorithm)),
            ("lifetime", span(self.lifetime)),
            ("refresh_lifetime", span(self.refresh_lifetime)),
            ("leeway", span(self.leeway)),
            ("secure", self.secure.to_string()),
        ]
    }

    /// Names of the access and the refresh cookie.
    pub fn names(&self) -> (&'static str, &'static str) {
        if self.secure {
            ("__Secure-access_token", "__Secure-refresh_token")
        } else {
            ("access_token", "refresh_token")
        }
    }
}

pub struct AccessRefresh {
    options: AccessRefreshOptions,
    store: Box<dyn Store>,
    attributes: CookieAttributes,
    signer: Signer,
}

/// A random 128-bit value in base64url: 22 characters.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The family a refresh token `<family>.<secret>` belongs to.
fn family_of(token: &str) -> Option<&str> {
    token.split_once('.').map(|(family, _)| family)
}

impl AccessRefresh {
    pub fn new(options: AccessRefreshOptions, store: Box<dyn Store>) -> Self {
        AccessRefresh {
            attributes: CookieAttributes::session(options.secure),
            signer: Signer::new(
                options.algorithm,
                &options.secret,
                options.lifetime,
                options.leeway,
            ),
            options,
            store,
        }
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    fn access_cookie(&self, profile: &Profile, now: Millis) -> SetCookie {
        SetCookie {
            name: self.options.names().0.to_string(),
            value: self.signer.sign(profile, now).0,
            lifetime: Lifetime::Expires(now + self.options.lifetime),
            attributes: self.attributes.clone(),
        }
    }

    /// Stores a new refresh token in `family` and returns its cookie.
    fn new_refresh(&mut self, family: &str, user_id: u64, now: Millis) -> StoreResult<SetCookie> {
        let token = format!("{family}.{}", random_id());
        let expires = now + self.options.refresh_lifetime;
        let row = RefreshRow {
            family: family.to_string(),
            user_id,
            expires,
            used: false,
        };
        self.store.insert_refresh(&token, &row)?;
        Ok(SetCookie {
            name: self.options.names().1.to_string(),
            value: token,
            lifetime: Lifetime::Expires(expires),
            attributes: self.attributes.clone(),
        })
    }

    fn clear(&self, jar: &CookieJar) -> Vec<SetCookie> {
        let (access, refresh) = self.options.names();
        let mut cookies = delete_credential(jar, access, &self.attributes);
        cookies.extend(delete_credential(jar, refresh, &self.attributes));
        cookies
    }

    /// Exchanges a refresh token for a new pair, detecting reuse.
    fn refresh(&mut self, jar: &CookieJar, token: &str, now: Millis) -> StoreResult<Verification> {
        let rejected = |this: &Self, reason| Verification {
            outcome: Err(reason),
            set_cookies: this.clear(jar),
        };
        let Some(row) = self.store.find_refresh(token)? else {
            return Ok(rejected(
                self,
                Rejection::Invalid("unknown refresh token".into()),
            ));
        };
        if row.used {
            self.store.delete_refresh_family(&row.family)?;
            return Ok(rejected(
                self,
                Rejection::Invalid("refresh token reused; its family is revoked".into()),
            ));
        }
        if row.expires < now {
            return Ok(rejected(self, Rejection::Expired));
        }
        let Some(user) = self.store.find_user(row.user_id)? else {
            return Ok(rejected(
                self,
                Rejection::Invalid("user no longer exists".into()),
            ));
        };
        self.store.mark_refresh_used(token)?;
        let refresh_cookie = self.new_refresh(&row.family, row.user_id, now)?;
        let access_cookie = self.access_cookie(&user.profile, now);
        Ok(Verification {
            outcome: Ok(Identity {
                subject: user.profile.id.to_string(),
                name: user.profile.name,
            }),
            set_cookies: vec![access_cookie, refresh_cookie],
        })
    }
}

impl Strategy for AccessRefresh {
    fn login(
        &mut self,
        profile: &Profile,
        _jar: &CookieJar,
        now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        let user = self
            .store
            .find_user(profile.id)?
            .map_or_else(|| profile.clone(), |row| row.profile);
        let refresh = self.new_refresh(&random_id(), user.id, now)?;
        Ok(vec![self.access_cookie(&user, now), refresh])
    }

    fn verify(&mut self, jar: &CookieJar, now: Millis) -> StoreResult<Verification> {
        let (access_name, refresh_name) = self.options.names();
        if let Some(claims) = jar
            .get(access_name)
            .and_then(|t| self.signer.check(t, now).ok())
        {
            return Ok(Verification {
                outcome: Ok(Identity {
                    subject: claims.sub,
                    name: claims.name,
                }),
                set_cookies: Vec::new(),
            });
        }
        match jar.get(refresh_name) {
            Some(token) => {
                let token = token.to_string();
                self.refresh(jar, &token, now)
            }
            None if jar.get(access_name).is_some() => Ok(Verification {
                outcome: Err(Rejection::Expired),
                set_cookies: self.clear(jar),
            }),
            None => Ok(Verification {
                outcome: Err(Rejection::NoCredential),
                set_cookies: Vec::new(),
            }),
        }
    }

    fn update_profile(
        &mut self,
        profile: &Profile,
        jar: &CookieJar,
        now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        self.store.update_user(profile)?;
        if jar.get(self.options.names().0).is_none() {
            return Ok(Vec::new());
        }
        Ok(vec![self.access_cookie(profile, now)])
    }

    fn logout(&mut self, jar: &CookieJar, _now: Millis) -> StoreResult<Vec<SetCookie>> {
        if let Some(family) = jar.get(self.options.names().1).and_then(family_of) {
            let family = family.to_string();
            self.store.delete_refresh_family(&family)?;
        }
        Ok(self.clear(jar))
    }

    fn revoke_user(&mut self, user_id: u64, _now: Millis) -> StoreResult<()> {
        self.store.delete_user_refresh(user_id)
    }

    fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    fn server_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        self.store.refresh_state(now)
    }
}
