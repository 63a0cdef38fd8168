//! A plain signed JWT in a cookie, through the `jsonwebtoken` crate.
//!
//! The token is issued at sign-in with a fixed lifetime and never
//! re-issued; the server keeps no state, so sign-out only clears the
//! browser's cookie and a copy stays valid until `exp` plus the leeway.
//!
//! `jsonwebtoken` checks `exp` against the system clock, which strategies
//! must not read. Its time checks are therefore turned off and the same
//! rule is applied to the virtual clock here: a token is expired once
//! `exp < now - leeway`. Unlike `jsonwebtoken`'s default, `nbf` is checked
//! too when present.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{span, Identity, Rejection, Strategy, Verification, DEFAULT_SECRET, FIFTEEN_MINUTES};
use crate::cookie::{delete_credential, CookieAttributes, CookieJar, Lifetime, SetCookie};
use crate::store::{Profile, StateSize, Store, StoreResult};
use crate::time::{unix_seconds, Millis, SECOND};

/// `jsonwebtoken`'s default leeway, which authcmp keeps as its default.
pub const JSONWEBTOKEN_DEFAULT_LEEWAY: Millis = 60 * SECOND;

/// Options of `jwt`.
#[derive(Clone, Debug, PartialEq)]
pub struct JwtOptions {
    /// Time from issue to `exp`.
    pub lifetime: Millis,
    /// Clock skew allowed past `exp` and before `nbf`, in whole seconds.
    pub leeway: Millis,
    pub algorithm: Algorithm,
    /// HMAC secret.
    pub secret: String,
    /// Whether cookies are set for https (`__Secure-` prefix, `Secure`).
    pub secure: bool,
}

impl Default for JwtOptions {
    fn default() -> Self {
        JwtOptions {
            lifetime: FIFTEEN_MINUTES,
            leeway: JSONWEBTOKEN_DEFAULT_LEEWAY,
            algorithm: Algorithm::HS256,
            secret: DEFAULT_SECRET.to_string(),
            secure: false,
        }
    }
}

impl JwtOptions {
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("algorithm", format!("{:?}", self.algorithm)),
            ("lifetime", span(self.lifetime)),
            ("leeway", span(self.leeway)),
            ("secure", self.secure.to_string()),
        ]
    }

    pub fn cookie_name(&self) -> &'static str {
        if self.secure {
            "__Secure-token"
        } else {
            "token"
        }
    }
}

/// Claims of the plain JWT: the profile fields plus registered claims.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub email: String,
    pub picture: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: String,
}

const NON_EMPTY: &str = "the scenario parser rejects an empty secret";

pub struct Jwt {
    options: JwtOptions,
    store: Box<dyn Store>,
    attributes: CookieAttributes,
    header: Header,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Jwt {
    pub fn new(options: JwtOptions, store: Box<dyn Store>) -> Self {
        let mut validation = Validation::new(options.algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Jwt {
            attributes: CookieAttributes::session(options.secure),
            header: Header::new(options.algorithm),
            encoding: EncodingKey::from_secret(options.secret.as_bytes()).expect(NON_EMPTY),
            decoding: DecodingKey::from_secret(options.secret.as_bytes()).expect(NON_EMPTY),
            validation,
            options,
            store,
        }
    }

    /// Signs a token for `profile` valid from `now` for the lifetime.
    pub fn sign(&self, profile: &Profile, now: Millis) -> String {
        let iat = unix_seconds(now);
        let claims = Claims {
            sub: profile.id.to_string(),
            name: profile.name.clone(),
            email: profile.email.clone(),
            picture: profile.image.clone(),
            iat,
            exp: iat + (self.options.lifetime / SECOND) as i64,
            nbf: None,
            jti: Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&self.header, &claims, &self.encoding)
            .expect("HMAC signing cannot fail")
    }

    /// Signs any claims set at Unix second `now_s`: sets `iat`, `exp` =
    /// now + lifetime and a fresh `jti`, keeping every other key in order.
    pub fn sign_json_at(&self, claims: &mut Map<String, Value>, now_s: i64) -> String {
        let lifetime_s = (self.options.lifetime / SECOND) as i64;
        claims.insert("iat".into(), now_s.into());
        claims.insert("exp".into(), now_s.saturating_add(lifetime_s).into());
        claims.insert("jti".into(), Uuid::new_v4().to_string().into());
        jsonwebtoken::encode(&self.header, claims, &self.encoding)
            .expect("HMAC signing cannot fail")
    }

    /// Verifies a token's signature and time claims at `now`.
    pub fn check(&self, token: &str, now: Millis) -> Result<Claims, Rejection> {
        self.check_at(token, unix_seconds(now))
    }

    /// Verifies a token's signature and time claims at Unix second `now_s`.
    pub fn check_at(&self, token: &str, now_s: i64) -> Result<Claims, Rejection> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| Rejection::Invalid(format!("invalid token: {e}")))?;
        let claims = data.claims;
        let leeway = (self.options.leeway / SECOND) as i64;
        if claims.exp < now_s - leeway {
            return Err(Rejection::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now_s + leeway) {
            return Err(Rejection::Invalid("token is not valid yet (nbf)".into()));
        }
        Ok(claims)
    }

    fn issue(&self, profile: &Profile, now: Millis) -> Vec<SetCookie> {
        vec![SetCookie {
            name: self.options.cookie_name().to_string(),
            value: self.sign(profile, now),
            lifetime: Lifetime::Expires(now + self.options.lifetime),
            attributes: self.attributes.clone(),
        }]
    }
}

impl Strategy for Jwt {
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
        let Some(token) = jar.get(self.options.cookie_name()) else {
            return Ok(Verification {
                outcome: Err(Rejection::NoCredential),
                set_cookies: Vec::new(),
            });
        };
        let outcome = self.check(token, now).map(|claims| Identity {
            subject: claims.sub,
            name: claims.name,
        });
        Ok(Verification {
            outcome,
            set_cookies: Vec::new(),
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
