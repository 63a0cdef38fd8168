//! Signed JWTs in a cookie through the `jsonwebtoken` crate: the plain
//! `jwt` strategy and `jwt-denylist`.
//!
//! The token is issued at sign-in with a fixed lifetime and never
//! re-issued. Plain `jwt` keeps no server state, so sign-out only clears
//! the browser's cookie and a copy stays valid until `exp` plus the leeway.
//! `jwt-denylist` adds one store read per verify: sign-out denies the
//! token's `jti`, and a ban denies every token of the user issued before it.
//!
//! `jsonwebtoken` checks `exp` against the system clock, which strategies
//! must not read. Its time checks are therefore turned off and the same
//! rule is applied to the virtual clock here: a token is expired once
//! `exp < now - leeway`. Unlike `jsonwebtoken`'s default, `nbf` is checked
//! too when present.
//!
//! Before `jsonwebtoken` decodes a token, [`Signer::check_at`] checks its form
//! itself: exactly three segments, a protected header without duplicate
//! members whose `alg` is the configured one (so `none`, in any case, and
//! algorithm confusion such as HS256 against an RSA key fail here), and no
//! `kid`, because each signer has one key and names none. Claims with a
//! duplicate member are rejected after the signature check (RFC 7515
//! §5.2 allows rejecting them). The HMAC comparison is `jsonwebtoken`'s,
//! which compares in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::keys::{algorithm_name, key_pair, KeyPair};
use super::strict_json::check_unique_keys;
use super::{span, Identity, Rejection, Strategy, Verification, DEFAULT_SECRET, FIFTEEN_MINUTES};
use crate::cookie::{delete_credential, CookieAttributes, CookieJar, Lifetime, SetCookie};
use crate::store::{Profile, StateSize, Store, StoreResult};
use crate::time::{from_unix_seconds, unix_seconds, Millis, SECOND};

/// `jsonwebtoken`'s default leeway, which authcmp keeps as its default.
pub const JSONWEBTOKEN_DEFAULT_LEEWAY: Millis = 60 * SECOND;

/// Options of `jwt` and `jwt-denylist`.
#[derive(Clone, Debug, PartialEq)]
pub struct JwtOptions {
    /// Time from issue to `exp`.
    pub lifetime: Millis,
    /// Clock skew allowed past `exp` and before `nbf`, in whole seconds.
    pub leeway: Millis,
    pub algorithm: Algorithm,
    /// HMAC secret; asymmetric keys are generated instead.
    pub secret: String,
    /// Whether cookies are set for https (`__Secure-` prefix, `Secure`).
    pub secure: bool,
    /// Whether every verify checks a denylist in the store.
    pub denylist: bool,
}

impl Default for JwtOptions {
    fn default() -> Self {
        JwtOptions {
            lifetime: FIFTEEN_MINUTES,
            leeway: JSONWEBTOKEN_DEFAULT_LEEWAY,
            algorithm: Algorithm::HS256,
            secret: DEFAULT_SECRET.to_string(),
            secure: false,
            denylist: false,
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

/// Claims of the signed JWT: the profile fields plus registered claims.
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

/// Signs and checks tokens for one algorithm and key pair.
pub struct Signer {
    header: Header,
    keys: KeyPair,
    validation: Validation,
    lifetime: Millis,
    leeway: Millis,
}

impl Signer {
    /// Builds a signer; asymmetric keys are generated here.
    pub fn new(algorithm: Algorithm, secret: &str, lifetime: Millis, leeway: Millis) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Signer {
            header: Header::new(algorithm),
            keys: key_pair(algorithm, secret),
            validation,
            lifetime,
            leeway,
        }
    }

    /// Signs a token for `profile` valid from `now` for the lifetime.
    pub fn sign(&self, profile: &Profile, now: Millis) -> (String, Claims) {
        let iat = unix_seconds(now);
        let claims = Claims {
            sub: profile.id.to_string(),
            name: profile.name.clone(),
            email: profile.email.clone(),
            picture: profile.image.clone(),
            iat,
            exp: iat + (self.lifetime / SECOND) as i64,
            nbf: None,
            jti: Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(&self.header, &claims, &self.keys.encoding)
            .expect("signing with a key of the header's algorithm cannot fail");
        (token, claims)
    }

    /// Verifies a token's signature and time claims at `now`.
    pub fn check(&self, token: &str, now: Millis) -> Result<Claims, Rejection> {
        self.check_at(token, unix_seconds(now))
    }

    /// Returns the public key that verifies tokens, empty for HS256. See
    /// [`KeyPair::public_key`] for its encoding.
    pub fn public_key(&self) -> &[u8] {
        &self.keys.public_key
    }

    /// Verifies a token's form, signature and time claims at Unix second
    /// `now_s`.
    pub fn check_at(&self, token: &str, now_s: i64) -> Result<Claims, Rejection> {
        let payload = self.check_form(token)?;
        let data = jsonwebtoken::decode::<Claims>(token, &self.keys.decoding, &self.validation)
            .map_err(|e| Rejection::Invalid(describe_error(&e)))?;
        check_unique_keys(&payload)
            .map_err(|e| Rejection::Invalid(format!("claims are not valid JSON: {e}")))?;
        let claims = data.claims;
        let leeway = (self.leeway / SECOND) as i64;
        if claims.exp < now_s - leeway {
            return Err(Rejection::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now_s + leeway) {
            return Err(Rejection::Invalid("token is not valid yet (nbf)".into()));
        }
        Ok(claims)
    }

    /// Checks the compact form and the protected header, returning the
    /// decoded payload segment.
    fn check_form(&self, token: &str) -> Result<Vec<u8>, Rejection> {
        let invalid = |reason: String| Rejection::Invalid(reason);
        let segments: Vec<&str> = token.split('.').collect();
        if segments.len() != 3 {
            return Err(invalid(format!(
                "not a JWS in compact form: expected 3 segments, found {}",
                segments.len()
            )));
        }
        let header = URL_SAFE_NO_PAD
            .decode(segments[0])
            .map_err(|_| invalid("header is not valid base64url".into()))?;
        check_unique_keys(&header)
            .map_err(|e| invalid(format!("header is not valid JSON: {e}")))?;
        let header: Value = serde_json::from_slice(&header)
            .map_err(|e| invalid(format!("header is not valid JSON: {e}")))?;
        let Some(header) = header.as_object() else {
            return Err(invalid("header is not a JSON object".into()));
        };
        let expected = algorithm_name(self.header.alg);
        match header.get("alg").and_then(Value::as_str) {
            Some(alg) if alg.eq_ignore_ascii_case("none") => {
                return Err(invalid(format!(
                    "unsecured token (alg {alg:?}) is not accepted"
                )))
            }
            Some(alg) if alg != expected => {
                return Err(invalid(format!(
                    "algorithm {alg:?} is not accepted; expected {expected:?}"
                )))
            }
            Some(_) => {}
            None => return Err(invalid("header has no string \"alg\"".into())),
        }
        if let Some(kid) = header.get("kid") {
            return Err(invalid(format!(
                "unknown key id (kid) {kid}; this verifier has one key and no key id"
            )));
        }
        URL_SAFE_NO_PAD
            .decode(segments[1])
            .map_err(|_| invalid("payload is not valid base64url".into()))
    }

    /// Signs arbitrary claims at Unix second `now_s`, setting `iat`, `exp`
    /// and a fresh `jti` and keeping the other claims in their order.
    pub fn sign_json_at(&self, claims: &mut Map<String, Value>, now_s: i64) -> String {
        let lifetime_s = (self.lifetime / SECOND) as i64;
        claims.insert("iat".into(), now_s.into());
        claims.insert("exp".into(), now_s.saturating_add(lifetime_s).into());
        claims.insert("jti".into(), Uuid::new_v4().to_string().into());
        jsonwebtoken::encode(&self.header, claims, &self.keys.encoding)
            .expect("signing with a key of the header's algorithm cannot fail")
    }

    /// Virtual time at which no token issued up to `now` is accepted any more.
    pub fn last_valid(&self, now: Millis) -> Millis {
        now + self.lifetime + self.leeway + SECOND
    }
}

pub struct Jwt {
    options: JwtOptions,
    store: Box<dyn Store>,
    attributes: CookieAttributes,
    signer: Signer,
}

impl Jwt {
    pub fn new(options: JwtOptions, store: Box<dyn Store>) -> Self {
        Jwt {
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

    /// Signs arbitrary claims at Unix second `now_s`; see [`Signer::sign_json_at`].
    pub fn sign_json_at(&self, claims: &mut Map<String, Value>, now_s: i64) -> String {
        self.signer.sign_json_at(claims, now_s)
    }

    /// Verifies a token at Unix second `now_s`; see [`Signer::check_at`].
    pub fn check_at(&self, token: &str, now_s: i64) -> Result<Claims, Rejection> {
        self.signer.check_at(token, now_s)
    }

    fn issue(&self, profile: &Profile, now: Millis) -> Vec<SetCookie> {
        vec![SetCookie {
            name: self.options.cookie_name().to_string(),
            value: self.signer.sign(profile, now).0,
            lifetime: Lifetime::Expires(now + self.options.lifetime),
            attributes: self.attributes.clone(),
        }]
    }

    /// Checks the token and, for `jwt-denylist`, the denylist.
    fn accept(&mut self, token: &str, now: Millis) -> StoreResult<Result<Identity, Rejection>> {
        let claims = match self.signer.check(token, now) {
            Ok(claims) => claims,
            Err(reason) => return Ok(Err(reason)),
        };
        if self.options.denylist {
            let user_id = claims.sub.parse().unwrap_or(u64::MAX);
            let issued_at = from_unix_seconds(claims.iat);
            if self.store.is_denied(&claims.jti, user_id, issued_at)? {
                return Ok(Err(Rejection::Invalid("token is on the denylist".into())));
            }
        }
        Ok(Ok(Identity {
            subject: claims.sub,
            name: claims.name,
        }))
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
        let token = token.to_string();
        Ok(Verification {
            outcome: self.accept(&token, now)?,
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

    fn logout(&mut self, jar: &CookieJar, now: Millis) -> StoreResult<Vec<SetCookie>> {
        if self.options.denylist {
            let claims = jar
                .get(self.options.cookie_name())
                .and_then(|t| self.signer.check(t, now).ok());
            if let Some(claims) = claims {
                let expires = from_unix_seconds(claims.exp) + self.options.leeway + SECOND;
                self.store.deny_token(&claims.jti, expires)?;
            }
        }
        Ok(delete_credential(
            jar,
            self.options.cookie_name(),
            &self.attributes,
        ))
    }

    fn revoke_user(&mut self, user_id: u64, now: Millis) -> StoreResult<()> {
        if self.options.denylist {
            // NOTE: `iat` has whole seconds, so a token issued in the same
            // second as the ban but after it is denied as well.
            self.store
                .deny_user_before(user_id, now, self.signer.last_valid(now))?;
        }
        Ok(())
    }

    fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    fn server_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        if self.options.denylist {
            self.store.denylist_state(now)
        } else {
            Ok(StateSize::default())
        }
    }
}

/// Says in words why `jsonwebtoken` rejected a token; its own messages
/// name Rust enum variants such as `InvalidSignature`.
fn describe_error(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => "signature does not match".into(),
        ErrorKind::InvalidToken => "not a JWT in compact form".into(),
        // The header and payload were decoded before; only the signature is left.
        ErrorKind::Base64(_) => "signature is not valid base64url".into(),
        ErrorKind::Json(e) => format!("claims are not valid JSON: {e}"),
        ErrorKind::Utf8(_) => "claims are not valid UTF-8".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("claim `{claim}` is missing"),
        ErrorKind::InvalidClaimFormat(claim) => format!("claim `{claim}` has the wrong type"),
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::ImmatureSignature => "token is not valid yet (nbf)".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            "algorithm does not match the key".into()
        }
        _ => format!("signature check failed: {error}"),
    }
}
