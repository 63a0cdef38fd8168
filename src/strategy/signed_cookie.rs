//! Sessions kept in an HMAC-signed cookie with a signing timestamp, in the
//! style of Django's `signed_cookies` session backend.
//!
//! The cookie value is `payload:timestamp:signature`: the session as
//! base64url JSON, the signing time in base62 seconds, and a base64url
//! HMAC-SHA256 over both, as Django's `TimestampSigner` writes them. No
//! store is read: expiry counts from the signing time, and sign-out only
//! clears the browser's cookie. The session also carries a hash of the
//! user's password, as Django's `_auth_user_hash` does, so a password
//! change (a per-user secret rotation) invalidates every copy.
//!
//! NOTE: Django reads the user row to recompute that hash on each request;
//! this model keeps each user's password version in process memory, so
//! its store reads per request stay 0.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{span, Identity, Rejection, Strategy, Verification, DEFAULT_SECRET};
use crate::cookie::{delete_credential, CookieAttributes, CookieJar, Lifetime, SetCookie};
use crate::store::{Profile, StateSize, Store, StoreResult};
use crate::time::{unix_seconds, Millis, DAY};

/// Django's default `SESSION_COOKIE_AGE`: two weeks.
pub const DJANGO_SESSION_COOKIE_AGE: Millis = 14 * DAY;

const SALT: &str = "django.contrib.sessions.backends.signed_cookies";

/// Options of `signed-cookie`.
#[derive(Clone, Debug, PartialEq)]
pub struct SignedCookieOptions {
    /// Age after signing at which the cookie is rejected.
    pub max_age: Millis,
    pub secret: String,
    pub secure: bool,
}

impl Default for SignedCookieOptions {
    fn default() -> Self {
        SignedCookieOptions {
            max_age: DJANGO_SESSION_COOKIE_AGE,
            secret: DEFAULT_SECRET.to_string(),
            secure: false,
        }
    }
}

impl SignedCookieOptions {
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("max_age", span(self.max_age)),
            ("secure", self.secure.to_string()),
        ]
    }

    pub fn cookie_name(&self) -> &'static str {
        if self.secure {
            "__Secure-sessionid"
        } else {
            "sessionid"
        }
    }
}

/// The session data the cookie carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Session {
    #[serde(rename = "_auth_user_id")]
    user_id: String,
    #[serde(rename = "_auth_user_backend")]
    backend: String,
    #[serde(rename = "_auth_user_hash")]
    auth_hash: String,
    name: String,
    email: String,
    picture: String,
}

pub struct SignedCookie {
    options: SignedCookieOptions,
    store: Box<dyn Store>,
    attributes: CookieAttributes,
    /// `SHA-256(salt + "signer" + secret)`, the key Django derives for the signer.
    signing_key: [u8; 32],
    /// Password version of each user who changed their password.
    password_versions: HashMap<u64, u32>,
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62_encode(mut value: u64) -> String {
    if value == 0 {
        return "0".to_string();
    }
    let mut digits = Vec::new();
    while value > 0 {
        digits.push(BASE62[(value % 62) as usize]);
        value /= 62;
    }
    digits.reverse();
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

fn base62_decode(text: &str) -> Option<u64> {
    text.bytes().try_fold(0u64, |acc, b| {
        let digit = BASE62.iter().position(|d| *d == b)? as u64;
        acc.checked_mul(62)?.checked_add(digit)
    })
}

impl SignedCookie {
    pub fn new(options: SignedCookieOptions, store: Box<dyn Store>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(format!("{SALT}signer").as_bytes());
        hasher.update(options.secret.as_bytes());
        SignedCookie {
            attributes: CookieAttributes::session(options.secure),
            signing_key: hasher.finalize().into(),
            password_versions: HashMap::new(),
            options,
            store,
        }
    }

    fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key)
            .expect("HMAC takes any key length");
        mac.update(message);
        mac
    }

    /// Hex HMAC of the user's current password version.
    fn auth_hash(&self, user_id: u64) -> String {
        let version = self.password_versions.get(&user_id).copied().unwrap_or(0);
        let mac = self.mac(format!("user:{user_id}:password-v{version}").as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Signs the session for `profile` at `now`.
    pub fn sign(&self, profile: &Profile, now: Millis) -> String {
        self.sign_at(profile, unix_seconds(now))
    }

    /// Signs the session for `profile` at Unix second `now_s`.
    pub fn sign_at(&self, profile: &Profile, now_s: i64) -> String {
        let session = Session {
            user_id: profile.id.to_string(),
            backend: "django.contrib.auth.backends.ModelBackend".to_string(),
            auth_hash: self.auth_hash(profile.id),
            name: profile.name.clone(),
            email: profile.email.clone(),
            picture: profile.image.clone(),
        };
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&session).expect("sessions serialize"));
        let signed = format!("{payload}:{}", base62_encode(now_s.max(0) as u64));
        let signature = URL_SAFE_NO_PAD.encode(self.mac(signed.as_bytes()).finalize().into_bytes());
        format!("{signed}:{signature}")
    }

    /// Checks signature, age and password hash of a cookie value.
    pub fn check(&self, value: &str, now: Millis) -> Result<Identity, Rejection> {
        self.check_at(value, unix_seconds(now))
    }

    /// Checks a cookie value at Unix second `now_s`.
    pub fn check_at(&self, value: &str, now_s: i64) -> Result<Identity, Rejection> {
        let invalid = |reason: &str| Rejection::Invalid(reason.to_string());
        let (signed, signature) = value
            .rsplit_once(':')
            .ok_or_else(|| invalid("not a signed value"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| invalid("signature is not base64url"))?;
        self.mac(signed.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| invalid("bad signature"))?;
        let (payload, timestamp) = signed
            .rsplit_once(':')
            .ok_or_else(|| invalid("no timestamp"))?;
        let signed_at =
            base62_decode(timestamp).ok_or_else(|| invalid("timestamp is not base62"))?;
        let age = now_s.saturating_sub(i64::try_from(signed_at).unwrap_or(i64::MAX));
        if age > (self.options.max_age / 1_000) as i64 {
            return Err(Rejection::Expired);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| invalid("payload is not base64url"))?;
        let session: Session =
            serde_json::from_slice(&bytes).map_err(|_| invalid("payload is not a session"))?;
        let user_id: u64 = session
            .user_id
            .parse()
            .map_err(|_| invalid("user id is not a number"))?;
        let expected = self.auth_hash(user_id);
        if !bool::from(expected.as_bytes().ct_eq(session.auth_hash.as_bytes())) {
            return Err(invalid(
                "password changed since sign-in (session hash mismatch)",
            ));
        }
        Ok(Identity {
            subject: session.user_id,
            name: session.name,
        })
    }

    fn issue(&self, profile: &Profile, now: Millis) -> Vec<SetCookie> {
        vec![SetCookie {
            name: self.options.cookie_name().to_string(),
            value: self.sign(profile, now),
            lifetime: Lifetime::Expires(now + self.options.max_age),
            attributes: self.attributes.clone(),
        }]
    }
}

impl Strategy for SignedCookie {
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
        Ok(self.issue(&user, now))
    }

    fn verify(&mut self, jar: &CookieJar, now: Millis) -> StoreResult<Verification> {
        let name = self.options.cookie_name();
        let Some(value) = jar.get(name) else {
            return Ok(Verification {
                outcome: Err(Rejection::NoCredential),
                set_cookies: Vec::new(),
            });
        };
        let outcome = self.check(value, now);
        let set_cookies = if outcome.is_err() {
            delete_credential(jar, name, &self.attributes)
        } else {
            Vec::new()
        };
        Ok(Verification {
            outcome,
            set_cookies,
        })
    }

    fn update_profile(
        &mut self,
        profile: &Profile,
        jar: &CookieJar,
        now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        self.store.update_user(profile)?;
        if jar.get(self.options.cookie_name()).is_none() {
            return Ok(Vec::new());
        }
        Ok(self.issue(profile, now))
    }

    fn logout(&mut self, jar: &CookieJar, _now: Millis) -> StoreResult<Vec<SetCookie>> {
        Ok(delete_credential(
            jar,
            self.options.cookie_name(),
            &self.attributes,
        ))
    }

    fn revoke_user(&mut self, user_id: u64, _now: Millis) -> StoreResult<()> {
        *self.password_versions.entry(user_id).or_insert(0) += 1;
        Ok(())
    }

    fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    fn server_state(&mut self, _now: Millis) -> StoreResult<StateSize> {
        Ok(StateSize::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_round_trips() {
        for value in [0, 61, 62, 1_798_761_600] {
            assert_eq!(base62_decode(&base62_encode(value)), Some(value));
        }
        assert_eq!(base62_encode(61), "z");
        assert_eq!(base62_decode("!"), None);
    }
}
