//! Auth.js JWT sessions (`@auth/core` 0.41 for v5, next-auth 4.24 for v4).
//!
//! The cookie carries an encrypted JWT (JWE, `alg: "dir"`). Every session
//! read decrypts it, checks `exp` and `nbf` with 15 s of clock tolerance,
//! re-encrypts it with a new `iat`, `exp` and `jti`, and sends it back in
//! `Set-Cookie`, so a token that keeps being used never expires. Values
//! longer than the per-cookie budget are split into `<name>.0`, `<name>.1`.
//!
//! NOTE: Auth.js derives the key and its thumbprint with HKDF and SHA-512 on
//! every encode and decode; this model derives them once per secret, so its
//! verify latency excludes that per-call cost.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::jose::{self, ContentKey, Enc, JweError};
use super::{
    span, Identity, Rejection, Strategy, Verification, DEFAULT_SECRET, FIFTEEN_SECONDS, THIRTY_DAYS,
};
use crate::cookie::{
    chunk_credential, delete_credential, join_credential, CookieAttributes, CookieJar, Lifetime,
    SetCookie,
};
use crate::store::{Profile, Store, StoreResult};
use crate::time::{from_unix_seconds, unix_seconds, Millis, SECOND};

/// Which Auth.js encoding to model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// `@auth/core` / next-auth v5: `A256CBC-HS512` with a `kid`.
    V5,
    /// next-auth v4: `A256GCM`, no `kid`.
    V4,
}

/// Options of `authjs-jwt`.
#[derive(Clone, Debug, PartialEq)]
pub struct JweOptions {
    pub version: Version,
    /// Token lifetime after each re-issue (Auth.js `maxAge`).
    pub max_age: Millis,
    /// The `AUTH_SECRET` the key is derived from.
    pub secret: String,
    /// Whether cookies are set for https (`__Secure-` prefix, `Secure`).
    pub secure: bool,
    /// Whether the `jwt` callback reads the user row on every request, to
    /// reject revoked users and refresh the profile claims.
    pub check_user: bool,
}

impl Default for JweOptions {
    fn default() -> Self {
        JweOptions {
            version: Version::V5,
            max_age: THIRTY_DAYS,
            secret: DEFAULT_SECRET.to_string(),
            secure: false,
            check_user: false,
        }
    }
}

impl JweOptions {
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("version", format!("{:?}", self.version).to_lowercase()),
            ("max_age", span(self.max_age)),
            ("secure", self.secure.to_string()),
            ("clock_tolerance", span(FIFTEEN_SECONDS)),
            ("check_user", self.check_user.to_string()),
        ]
    }

    /// The session cookie name, which v5 also uses as the HKDF salt.
    pub fn cookie_name(&self) -> &'static str {
        match (self.version, self.secure) {
            (Version::V5, false) => "authjs.session-token",
            (Version::V5, true) => "__Secure-authjs.session-token",
            (Version::V4, false) => "next-auth.session-token",
            (Version::V4, true) => "__Secure-next-auth.session-token",
        }
    }

    /// Characters per chunk cookie: 4096 minus an estimated 160 bytes of
    /// name and attributes in v5, 163 in v4.
    pub fn chunk_size(&self) -> usize {
        match self.version {
            Version::V5 => 4096 - 160,
            Version::V4 => 4096 - 163,
        }
    }
}

/// The claims Auth.js puts in a session token, in its order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl SessionClaims {
    /// Parses a decrypted payload, rejecting one that is not a claims set
    /// with a numeric `exp`.
    pub fn from_payload(payload: &[u8]) -> Result<Self, Rejection> {
        serde_json::from_slice(payload)
            .map_err(|e| Rejection::Invalid(format!("claims are not a valid JWT claims set: {e}")))
    }

    /// The claims the default `jwt` callback makes from a user at sign-in.
    pub fn for_profile(profile: &Profile) -> Self {
        SessionClaims {
            name: Some(profile.name.clone()),
            email: Some(profile.email.clone()),
            picture: Some(profile.image.clone()),
            sub: Some(profile.id.to_string()),
            iat: None,
            nbf: None,
            exp: 0,
            jti: None,
        }
    }
}

/// Encoder and decoder of Auth.js session tokens for one secret.
pub struct Codec {
    options: JweOptions,
    encode_key: ContentKey,
    /// Keys a v5 decoder derives for each `enc` it accepts, with their `kid`.
    decode_keys: Vec<(Enc, Vec<u8>, Option<String>)>,
}

impl Codec {
    pub fn new(options: JweOptions) -> Self {
        let secret = options.secret.as_bytes();
        let (encode_key, decode_keys) = match options.version {
            Version::V5 => {
                let salt = options.cookie_name();
                let cbc = jose::derive_key_v5(secret, salt, Enc::A256CbcHs512);
                let gcm = jose::derive_key_v5(secret, salt, Enc::A256Gcm);
                let keys = vec![
                    (Enc::A256CbcHs512, cbc.clone(), Some(jose::thumbprint(&cbc))),
                    (Enc::A256Gcm, gcm.clone(), Some(jose::thumbprint(&gcm))),
                ];
                (ContentKey::new(Enc::A256CbcHs512, cbc, true), keys)
            }
            Version::V4 => {
                let key = jose::derive_key_v4(secret);
                let keys = vec![(Enc::A256Gcm, key.clone(), None)];
                (ContentKey::new(Enc::A256Gcm, key, false), keys)
            }
        };
        Codec {
            options,
            encode_key,
            decode_keys,
        }
    }

    pub fn options(&self) -> &JweOptions {
        &self.options
    }

    /// Encodes `claims` with `iat` = now, `exp` = now + maxAge and a fresh
    /// `jti`, as `jwt.encode` does.
    pub fn encode(&self, claims: &mut SessionClaims, now: Millis) -> String {
        let now_s = unix_seconds(now);
        claims.iat = Some(now_s);
        claims.exp = now_s + (self.options.max_age / SECOND) as i64;
        claims.jti = Some(Uuid::new_v4().to_string());
        let payload = serde_json::to_vec(claims).expect("claims serialize to JSON");
        self.encode_key.encrypt(&payload)
    }

    /// Decrypts a token and checks its time claims at `now` with 15 s of
    /// tolerance, as `jose`'s `jwtDecrypt` does for `jwt.decode`.
    pub fn decode(&self, token: &str, now: Millis) -> Result<SessionClaims, Rejection> {
        let payload = self
            .decrypt(token)
            .map_err(|e| Rejection::Invalid(e.to_string()))?;
        let claims = SessionClaims::from_payload(&payload)?;
        check_time_claims(&claims, unix_seconds(now))?;
        Ok(claims)
    }

    /// Encodes any claims set as `jwt.encode` does at Unix second `now_s`:
    /// sets `iat`, `exp` = now + maxAge and a fresh `jti`. Keys already
    /// present keep their position, as in the JavaScript object `jose`
    /// serializes, and every other key is kept.
    pub fn encode_json_at(&self, claims: &mut Map<String, Value>, now_s: i64) -> String {
        let max_age_s = (self.options.max_age / SECOND) as i64;
        claims.insert("iat".into(), now_s.into());
        claims.insert("exp".into(), now_s.saturating_add(max_age_s).into());
        claims.insert("jti".into(), Uuid::new_v4().to_string().into());
        let payload = serde_json::to_vec(claims).expect("a JSON map serializes");
        self.encode_key.encrypt(&payload)
    }

    /// Decrypts a token without checking its claims, returning the payload.
    pub fn decrypt(&self, token: &str) -> Result<Vec<u8>, JweError> {
        let jwe = jose::parse(token)?;
        let accepted: Vec<Enc> = self.decode_keys.iter().map(|(enc, _, _)| *enc).collect();
        let enc = jose::check_algorithms(&jwe, &accepted)?;
        let (_, key, kid) = self
            .decode_keys
            .iter()
            .find(|(candidate, _, _)| *candidate == enc)
            .expect("enc was checked against the decode keys");
        if let (Some(presented), Some(expected)) = (&jwe.kid, kid) {
            if presented != expected {
                return Err(JweError::Kid(presented.clone()));
            }
        }
        jose::decrypt(&jwe, &accepted, key)
    }
}

/// Checks `exp` and `nbf` at Unix second `now_s` as `jose` does with a
/// 15 s clock tolerance: expired once `exp <= now - 15`, not yet valid
/// while `nbf > now + 15`.
pub fn check_time_claims(claims: &SessionClaims, now_s: i64) -> Result<(), Rejection> {
    let tolerance = (FIFTEEN_SECONDS / SECOND) as i64;
    if claims.exp <= now_s - tolerance {
        return Err(Rejection::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now_s + tolerance) {
        return Err(Rejection::Invalid("token is not valid yet (nbf)".into()));
    }
    Ok(())
}

pub struct AuthjsJwt {
    codec: Codec,
    store: Box<dyn Store>,
    attributes: CookieAttributes,
}

impl AuthjsJwt {
    pub fn new(options: JweOptions, store: Box<dyn Store>) -> Self {
        AuthjsJwt {
            attributes: CookieAttributes::session(options.secure),
            codec: Codec::new(options),
            store,
        }
    }

    /// Encodes `claims` and splits the token into the cookies to set.
    pub fn issue(
        &self,
        jar: &CookieJar,
        claims: &mut SessionClaims,
        now: Millis,
    ) -> Vec<SetCookie> {
        let token = self.codec.encode(claims, now);
        let options = self.codec.options();
        let expires = Lifetime::Expires(now + options.max_age);
        chunk_credential(
            jar,
            options.cookie_name(),
            &token,
            options.chunk_size(),
            expires,
            &self.attributes,
        )
    }

    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// Reads the user row as a `jwt` callback would: rejects a user who is
    /// gone or whose sessions were revoked after `iat`, and copies the
    /// current profile into the claims.
    fn check_user(
        &mut self,
        mut claims: SessionClaims,
    ) -> StoreResult<Result<SessionClaims, Rejection>> {
        let user_id = claims.sub.as_deref().and_then(|sub| sub.parse().ok());
        let row = match user_id {
            Some(id) => self.store.find_user(id)?,
            None => None,
        };
        let Some(row) = row else {
            return Ok(Err(Rejection::Invalid("user not found".into())));
        };
        let issued_at = from_unix_seconds(claims.iat.unwrap_or(0));
        if row.revoked_before > issued_at {
            return Ok(Err(Rejection::Invalid(
                "user's sessions were revoked after this token was issued".into(),
            )));
        }
        claims.name = Some(row.profile.name);
        claims.email = Some(row.profile.email);
        claims.picture = Some(row.profile.image);
        Ok(Ok(claims))
    }
}

impl Strategy for AuthjsJwt {
    fn login(
        &mut self,
        profile: &Profile,
        jar: &CookieJar,
        now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        let user = self
            .store
            .find_user(profile.id)?
            .map_or_else(|| profile.clone(), |row| row.profile);
        let mut claims = SessionClaims::for_profile(&user);
        Ok(self.issue(jar, &mut claims, now))
    }

    fn verify(&mut self, jar: &CookieJar, now: Millis) -> StoreResult<Verification> {
        let name = self.codec.options().cookie_name();
        let Some(token) = join_credential(jar, name) else {
            return Ok(Verification {
                outcome: Err(Rejection::NoCredential),
                set_cookies: Vec::new(),
            });
        };
        let decoded = self.codec.decode(&token, now);
        let checked = match decoded {
            Ok(claims) if self.codec.options().check_user => self.check_user(claims)?,
            other => other,
        };
        let mut claims = match checked {
            Ok(claims) => claims,
            Err(reason) => {
                return Ok(Verification {
                    outcome: Err(reason),
                    set_cookies: delete_credential(jar, name, &self.attributes),
                })
            }
        };
        let identity = Identity {
            subject: claims.sub.clone().unwrap_or_default(),
            name: claims.name.clone().unwrap_or_default(),
        };
        let set_cookies = self.issue(jar, &mut claims, now);
        Ok(Verification {
            outcome: Ok(identity),
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
        // `update()` from the client: the `jwt` callback runs with
        // `trigger: "update"` and copies the new fields into this device's
        // token only.
        let name = self.codec.options().cookie_name();
        let Some(token) = join_credential(jar, name) else {
            return Ok(Vec::new());
        };
        let Ok(mut claims) = self.codec.decode(&token, now) else {
            return Ok(delete_credential(jar, name, &self.attributes));
        };
        claims.name = Some(profile.name.clone());
        claims.email = Some(profile.email.clone());
        claims.picture = Some(profile.image.clone());
        Ok(self.issue(jar, &mut claims, now))
    }

    fn logout(&mut self, jar: &CookieJar, _now: Millis) -> StoreResult<Vec<SetCookie>> {
        Ok(delete_credential(
            jar,
            self.codec.options().cookie_name(),
            &self.attributes,
        ))
    }

    fn revoke_user(&mut self, user_id: u64, now: Millis) -> StoreResult<()> {
        if self.codec.options().check_user {
            // NOTE: `iat` has whole seconds, so a token issued in the same
            // second as the revocation but after it is rejected as well.
            self.store.set_user_revoked_before(user_id, now)?;
        }
        Ok(())
    }

    fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    fn server_state(&mut self, _now: Millis) -> StoreResult<crate::store::StateSize> {
        Ok(crate::store::StateSize::default())
    }
}
