//! Issuing and verifying single credentials outside a run, for `authcmp token`.
//!
//! Times here are whole Unix seconds of the real calendar, not virtual
//! [`Millis`]: a user checks cookies from a real application, and real
//! clocks read dates before the virtual epoch (2027-01-01), which `Millis`
//! cannot hold. Strategies take Unix seconds through their `*_at` methods.
//!
//! Each strategy kind is one arm in [`configure`], [`issue`] and [`verify`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::cookie::{
    chunk_credential, join_credential, CookieAttributes, CookieJar, Holder, Lifetime, SetCookie,
};
use crate::store::{Profile, StoreUrl};
use crate::strategy::access_refresh::AccessRefresh;
use crate::strategy::authjs_jwt::{self, Codec, SessionClaims, Version};
use crate::strategy::database::AuthjsDatabase;
use crate::strategy::jwt::Jwt;
use crate::strategy::signed_cookie::SignedCookie;
use crate::strategy::{Options, Rejection, Strategy};
use crate::time::{Millis, EPOCH_UNIX_MS, SECOND};

/// Latest Unix second an HTTP date can show: 9999-12-31T23:59:59Z.
pub const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// An error that stops `token issue` or `token verify`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// An option or claim does not fit the strategy; the text names the fix.
    #[error("{0}")]
    Usage(String),
    /// The in-memory store a strategy needs failed to open or write.
    #[error("{0}")]
    Store(String),
}

/// Settings `token` can change on a strategy's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenSettings {
    /// Signing or encryption secret; `None` keeps the built-in one.
    pub secret: Option<String>,
    /// Cookies for https: the `__Secure-` prefix and the `Secure` attribute.
    pub secure: bool,
    /// Auth.js major version, for `authjs-jwt` only.
    pub version: Option<Version>,
}

/// Applies `settings` to `options`, rejecting a setting the kind lacks.
pub fn configure(options: &mut Options, settings: &TokenSettings) -> Result<(), TokenError> {
    let kind = options.kind_name();
    let unsupported = |flag: &str, why: &str| {
        TokenError::Usage(format!("{flag} does not apply to {kind}: {why}; remove it"))
    };
    if settings.version.is_some() && !matches!(options, Options::AuthjsJwt(_)) {
        return Err(unsupported(
            "--version",
            "only authjs-jwt has two token encodings",
        ));
    }
    match options {
        Options::Noop => return Err(noop_error()),
        Options::AuthjsDatabase(o) => {
            if settings.secret.is_some() {
                return Err(unsupported(
                    "--secret",
                    "its cookie is a random session id that nothing signs",
                ));
            }
            o.secure = settings.secure;
        }
        Options::AuthjsJwt(o) => {
            if let Some(secret) = &settings.secret {
                o.secret.clone_from(secret);
            }
            if let Some(version) = settings.version {
                o.version = version;
            }
            o.secure = settings.secure;
        }
        Options::Jwt(o) | Options::JwtDenylist(o) => {
            if let Some(secret) = &settings.secret {
                o.secret.clone_from(secret);
            }
            o.secure = settings.secure;
        }
        Options::AccessRefresh(o) => {
            if let Some(secret) = &settings.secret {
                o.secret.clone_from(secret);
            }
            o.secure = settings.secure;
        }
        Options::CachedSession(o) => {
            if settings.secret.is_some() {
                return Err(unsupported(
                    "--secret",
                    "its cookie is a random session id that nothing signs",
                ));
            }
            o.session.secure = settings.secure;
        }
        Options::SignedCookie(o) => {
            if let Some(secret) = &settings.secret {
                o.secret.clone_from(secret);
            }
            o.secure = settings.secure;
        }
    }
    Ok(())
}

/// A credential as a strategy would set it.
#[derive(Clone, Debug, PartialEq)]
pub struct Issued {
    /// `Set-Cookie` header values, one per cookie (several for chunks).
    pub set_cookies: Vec<String>,
    /// The `Cookie` header part a browser sends back: `name=value` pairs.
    pub cookie_header: String,
    /// Decoded protected header, for JWT and JWE credentials.
    pub header: Option<Map<String, Value>>,
    /// The claims in the credential, in encoded order.
    pub claims: Option<Map<String, Value>>,
    /// A remark on this kind of credential, printed with it.
    pub note: Option<&'static str>,
}

/// Note printed for `access-refresh`, whose refresh token lives in the store.
pub const ACCESS_REFRESH_NOTE: &str = "this is the access token; the refresh token is an opaque \
     random id checked against the application's store, so it is not shown or checked here";

/// Note printed for `jwt-denylist`, whose denylist lives in the store.
pub const DENYLIST_NOTE: &str = "signature and time claims only: the denylist lives in the \
     application's store, which this check cannot read";

/// Note printed for database sessions, whose cookie carries no claims.
pub const DATABASE_NOTE: &str = "a database session cookie is an opaque random id: the user's \
     claims and the expiry live in the session row of the application's store";

/// Issues the credential of the strategy `options` describe for `claims`
/// (the default profile of user 1 when `None`) at Unix second `at`.
pub fn issue(
    options: &Options,
    claims: Option<Map<String, Value>>,
    at: i64,
) -> Result<Issued, TokenError> {
    match options {
        Options::Noop => Err(noop_error()),
        Options::CachedSession(o) => issue(&Options::AuthjsDatabase(o.session.clone()), claims, at),
        Options::AuthjsDatabase(o) => {
            if claims.is_some() {
                return Err(TokenError::Usage(format!(
                    "--claims does not apply to authjs-database: {DATABASE_NOTE}; remove it"
                )));
            }
            let expires = checked_expiry(at, o.max_age)?;
            let profile = Profile::generated(1, 0, 0);
            let mut store = open_store()?;
            store
                .seed_user(&profile)
                .map_err(|e| TokenError::Store(e.to_string()))?;
            let mut strategy = AuthjsDatabase::new(o.clone(), store);
            let jar = CookieJar::new(Holder::Browser);
            // The session row lives in a throwaway store, so its virtual
            // expiry does not matter; the printed `Expires` comes from `at`.
            let set = strategy
                .login(&profile, &jar, virtual_time(at))
                .map_err(|e| TokenError::Store(e.to_string()))?;
            Ok(Issued {
                cookie_header: cookie_header(&set),
                set_cookies: render(&set, expires),
                header: None,
                claims: None,
                note: Some(DATABASE_NOTE),
            })
        }
        Options::AuthjsJwt(o) => {
            let expires = checked_expiry(at, o.max_age)?;
            let mut claims = claims.unwrap_or_else(default_authjs_claims);
            let codec = Codec::new(o.clone());
            let token = codec.encode_json_at(&mut claims, at);
            let set = chunk_credential(
                &CookieJar::new(Holder::Browser),
                o.cookie_name(),
                &token,
                o.chunk_size(),
                Lifetime::Session,
                &CookieAttributes::session(o.secure),
            );
            Ok(Issued {
                cookie_header: cookie_header(&set),
                set_cookies: render(&set, expires),
                header: decode_segment(&token, 0),
                claims: Some(claims),
                note: None,
            })
        }
        Options::AccessRefresh(o) => {
            let expires = checked_expiry(at, o.lifetime)?;
            let mut claims = claims.unwrap_or_else(default_jwt_claims);
            require_jwt_claims(&claims)?;
            let strategy = AccessRefresh::new(o.clone(), open_store()?);
            let token = strategy.signer().sign_json_at(&mut claims, at);
            let set = vec![SetCookie {
                name: o.names().0.to_string(),
                value: token.clone(),
                lifetime: Lifetime::Session,
                attributes: CookieAttributes::session(o.secure),
            }];
            Ok(Issued {
                cookie_header: cookie_header(&set),
                set_cookies: render(&set, expires),
                header: decode_segment(&token, 0),
                claims: Some(claims),
                note: Some(ACCESS_REFRESH_NOTE),
            })
        }
        Options::SignedCookie(o) => {
            if claims.is_some() {
                return Err(TokenError::Usage(
                    "--claims does not apply to signed-cookie: its session holds the profile of a user; remove it".into(),
                ));
            }
            let expires = checked_expiry(at, o.max_age)?;
            let strategy = SignedCookie::new(o.clone(), open_store()?);
            let set = vec![SetCookie {
                name: o.cookie_name().to_string(),
                value: strategy.sign_at(&Profile::generated(1, 0, 0), at),
                lifetime: Lifetime::Session,
                attributes: CookieAttributes::session(o.secure),
            }];
            Ok(Issued {
                cookie_header: cookie_header(&set),
                set_cookies: render(&set, expires),
                header: None,
                claims: None,
                note: None,
            })
        }
        Options::Jwt(o) | Options::JwtDenylist(o) => {
            let expires = checked_expiry(at, o.lifetime)?;
            let mut claims = claims.unwrap_or_else(default_jwt_claims);
            require_jwt_claims(&claims)?;
            let jwt = Jwt::new(o.clone(), open_store()?);
            let token = jwt.sign_json_at(&mut claims, at);
            let set = vec![SetCookie {
                name: o.cookie_name().to_string(),
                value: token.clone(),
                lifetime: Lifetime::Session,
                attributes: CookieAttributes::session(o.secure),
            }];
            Ok(Issued {
                cookie_header: cookie_header(&set),
                set_cookies: render(&set, expires),
                header: decode_segment(&token, 0),
                claims: Some(claims),
                note: None,
            })
        }
    }
}

/// The result of checking one credential.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub outcome: Result<(), Rejection>,
    /// Name of the credential cookie the strategy reads.
    pub cookie_name: &'static str,
    /// Cookies that carried the credential: 1, or the number of chunks.
    pub cookies: usize,
    /// Bytes of the credential value, chunks joined.
    pub bytes: usize,
    pub header: Option<Map<String, Value>>,
    /// Claims read from the credential, also when it was rejected for its
    /// time claims. `None` when nothing could be decoded.
    pub claims: Option<Map<String, Value>>,
    pub note: Option<&'static str>,
}

/// Verifies `cookie` (a bare value, or `name=value; ...` pairs as a
/// `Cookie` header carries them) as the strategy would at Unix second `at`.
pub fn verify(options: &Options, cookie: &str, at: i64) -> Result<Verdict, TokenError> {
    let jar = CookieJar::from_pairs(Holder::Browser, cookie_pairs(cookie, cookie_name(options)));
    let name = cookie_name(options);
    let mut verdict = Verdict {
        outcome: Ok(()),
        cookie_name: name,
        cookies: jar
            .pairs()
            .filter(|(n, _)| *n == name || is_chunk(n, name))
            .count(),
        bytes: 0,
        header: None,
        claims: None,
        note: None,
    };
    let Some(value) = join_credential(&jar, name) else {
        verdict.outcome = Err(Rejection::Invalid(missing_cookie_reason(options, &jar)));
        return Ok(verdict);
    };
    verdict.bytes = value.len();
    match options {
        Options::Noop => return Err(noop_error()),
        Options::CachedSession(o) => {
            let mut strategy = AuthjsDatabase::new(o.session.clone(), open_store()?);
            let result = strategy
                .verify(&jar, virtual_time(at))
                .map_err(|e| TokenError::Store(e.to_string()))?;
            verdict.outcome = result.outcome.map(drop);
            verdict.note = Some(DATABASE_NOTE);
        }
        Options::AccessRefresh(o) => {
            verdict.header = decode_segment(&value, 0);
            let strategy = AccessRefresh::new(o.clone(), open_store()?);
            verdict.outcome = strategy.signer().check_at(&value, at).map(drop);
            verdict.claims = decode_segment(&value, 1);
            verdict.note = Some(ACCESS_REFRESH_NOTE);
        }
        Options::SignedCookie(o) => {
            let strategy = SignedCookie::new(o.clone(), open_store()?);
            verdict.outcome = strategy.check_at(&value, at).map(drop);
        }
        Options::AuthjsDatabase(o) => {
            // A fresh store contains no session, so this rejects every cookie
            // the way a real store rejects an unknown session id.
            let mut strategy = AuthjsDatabase::new(o.clone(), open_store()?);
            let result = strategy
                .verify(&jar, virtual_time(at))
                .map_err(|e| TokenError::Store(e.to_string()))?;
            verdict.outcome = result.outcome.map(drop);
            verdict.note = Some(DATABASE_NOTE);
        }
        Options::AuthjsJwt(o) => {
            verdict.header = decode_segment(&value, 0);
            let codec = Codec::new(o.clone());
            verdict.outcome = match codec.decrypt(&value) {
                Err(e) => Err(Rejection::Invalid(e.to_string())),
                Ok(payload) => {
                    verdict.claims = serde_json::from_slice(&payload).ok();
                    SessionClaims::from_payload(&payload)
                        .and_then(|claims| authjs_jwt::check_time_claims(&claims, at))
                }
            };
        }
        Options::Jwt(o) | Options::JwtDenylist(o) => {
            verdict.header = decode_segment(&value, 0);
            let jwt = Jwt::new(o.clone(), open_store()?);
            verdict.outcome = jwt.check_at(&value, at).map(drop);
            verdict.claims = decode_segment(&value, 1);
            if o.denylist {
                verdict.note = Some(DENYLIST_NOTE);
            }
        }
    }
    Ok(verdict)
}

/// Name of the cookie that carries the credential of `options`.
pub fn cookie_name(options: &Options) -> &'static str {
    match options {
        Options::AuthjsDatabase(o) => crate::strategy::database::cookie_name(o.secure),
        Options::AuthjsJwt(o) => o.cookie_name(),
        Options::Jwt(o) | Options::JwtDenylist(o) => o.cookie_name(),
        Options::AccessRefresh(o) => o.names().0,
        Options::CachedSession(o) => crate::strategy::database::cookie_name(o.session.secure),
        Options::SignedCookie(o) => o.cookie_name(),
        Options::Noop => "noop",
    }
}

fn noop_error() -> TokenError {
    TokenError::Usage(
        "noop issues no credential to inspect: it only measures the harness; pick another strategy"
            .into(),
    )
}

/// Claims the default `jwt` callback of Auth.js makes for user 1.
fn default_authjs_claims() -> Map<String, Value> {
    let profile = Profile::generated(1, 0, 0);
    let mut claims = Map::new();
    claims.insert("name".into(), profile.name.into());
    claims.insert("email".into(), profile.email.into());
    claims.insert("picture".into(), profile.image.into());
    claims.insert("sub".into(), profile.id.to_string().into());
    claims
}

/// Claims the `jwt` strategy signs for user 1, in its order.
fn default_jwt_claims() -> Map<String, Value> {
    let profile = Profile::generated(1, 0, 0);
    let mut claims = Map::new();
    claims.insert("sub".into(), profile.id.to_string().into());
    claims.insert("name".into(), profile.name.into());
    claims.insert("email".into(), profile.email.into());
    claims.insert("picture".into(), profile.image.into());
    claims
}

/// Rejects claims the `jwt` strategy's verifier would refuse to read.
fn require_jwt_claims(claims: &Map<String, Value>) -> Result<(), TokenError> {
    let missing: Vec<&str> = ["sub", "name", "email", "picture"]
        .into_iter()
        .filter(|key| !claims.get(*key).is_some_and(Value::is_string))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(TokenError::Usage(format!(
        "--claims: the jwt strategy reads string claims sub, name, email and picture, \
         and these are missing or not strings: {}; add them",
        missing.join(", ")
    )))
}

/// Converts Unix seconds to virtual time, or 0 before the virtual epoch.
fn virtual_time(at: i64) -> Millis {
    let ms = at.saturating_mul(1_000);
    u64::try_from(ms).unwrap_or(0).saturating_sub(EPOCH_UNIX_MS)
}

/// Unix second at which a credential issued at `at` for `lifetime` expires,
/// rejecting one past the last date an HTTP date can show.
fn checked_expiry(at: i64, lifetime: Millis) -> Result<i64, TokenError> {
    let lifetime_s = i64::try_from(lifetime / SECOND).unwrap_or(i64::MAX);
    let expires = at.saturating_add(lifetime_s);
    if expires > MAX_UNIX_SECONDS {
        return Err(TokenError::Usage(format!(
            "the credential would expire at Unix second {expires}, after the year 9999 \
             that a cookie's Expires date can show; use an earlier --at"
        )));
    }
    Ok(expires)
}

fn open_store() -> Result<Box<dyn crate::store::Store>, TokenError> {
    StoreUrl::SqliteMemory
        .open("token")
        .map_err(|e| TokenError::Store(e.to_string()))
}

/// `Set-Cookie` values with `Expires` at Unix second `expires`.
fn render(set: &[SetCookie], expires: i64) -> Vec<String> {
    let date = http_date(expires);
    set.iter()
        .map(|c| c.header_value_expiring(Some(&date)))
        .collect()
}

fn cookie_header(set: &[SetCookie]) -> String {
    let pairs: Vec<String> = set
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect();
    pairs.join("; ")
}

/// Formats Unix seconds (0 to [`MAX_UNIX_SECONDS`]) as an HTTP date.
pub fn http_date(unix_seconds: i64) -> String {
    httpdate::fmt_http_date(system_time(unix_seconds))
}

/// Formats Unix seconds (0 to [`MAX_UNIX_SECONDS`]) as RFC 3339 in UTC.
pub fn rfc3339(unix_seconds: i64) -> String {
    humantime::format_rfc3339_seconds(system_time(unix_seconds)).to_string()
}

fn system_time(unix_seconds: i64) -> SystemTime {
    let seconds = unix_seconds.clamp(0, MAX_UNIX_SECONDS) as u64;
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// Parses a time for `--at`: RFC 3339 in UTC (`2027-01-01T00:00:00Z`),
/// whole Unix seconds, or `now`. Returns Unix seconds.
pub fn parse_time(text: &str, now: SystemTime) -> Result<i64, String> {
    let text = text.trim();
    let seconds = if text == "now" {
        now.duration_since(UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970; pass --at explicitly".to_string())?
            .as_secs()
            .try_into()
            .unwrap_or(i64::MAX)
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<i64>().unwrap_or(i64::MAX)
    } else {
        let time = humantime::parse_rfc3339(text).map_err(|e| {
            format!(
                "invalid time \"{text}\" ({e}); use RFC 3339 in UTC such as \
                 \"2027-01-01T00:00:00Z\", Unix seconds such as 1798761600, or \"now\""
            )
        })?;
        time.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    };
    if seconds > MAX_UNIX_SECONDS {
        return Err(format!(
            "time \"{text}\" is after 9999-12-31T23:59:59Z; use an earlier time"
        ));
    }
    Ok(seconds)
}

/// Splits `Cookie` header text into pairs. A text without `=` is a bare
/// credential value, given the name `bare_name`.
pub fn cookie_pairs<'a>(text: &'a str, bare_name: &'a str) -> Vec<(&'a str, &'a str)> {
    let text = text.trim();
    let text = match text.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("cookie:") => text[7..].trim_start(),
        _ => text,
    };
    if !text.contains('=') {
        return vec![(bare_name, text)];
    }
    text.split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect()
}

fn is_chunk(cookie_name: &str, name: &str) -> bool {
    cookie_name
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Explains a missing credential cookie, naming the flag that reads a
/// cookie found under another Auth.js or `jwt` name.
fn missing_cookie_reason(options: &Options, jar: &CookieJar) -> String {
    let expected = cookie_name(options);
    let found: Vec<&str> = jar.pairs().map(|(n, _)| n).collect();
    let mut reason = format!(
        "no credential cookie: expected {expected} or its chunks {expected}.0, {expected}.1, ..."
    );
    if found.is_empty() {
        return reason;
    }
    let mut shown: Vec<String> = found.iter().take(5).map(|n| shorten(n, 40)).collect();
    if found.len() > 5 {
        shown.push(format!("and {} more", found.len() - 5));
    }
    reason.push_str(&format!("; found {}", shown.join(", ")));
    let hints = [
        ("__Secure-", "--secure reads the __Secure- names"),
        ("next-auth.", "--version v4 reads next-auth names"),
        (
            "authjs.",
            "authjs-jwt and authjs-database read authjs names",
        ),
    ];
    for (marker, hint) in hints {
        if found.iter().any(|n| n.contains(marker)) && !expected.contains(marker) {
            reason.push_str(&format!("; {hint}"));
        }
    }
    reason
}

/// Cuts `text` to at most `max` characters, marking the cut with `...`,
/// so that a message never echoes a whole oversized input.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// Decodes segment `index` of a compact JWS or JWE as a JSON object.
fn decode_segment(token: &str, index: usize) -> Option<Map<String, Value>> {
    let segment = token.split('.').nth(index)?;
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        parse_time(text, UNIX_EPOCH).unwrap()
    }

    #[test]
    fn time_accepts_rfc3339_and_seconds() {
        assert_eq!(at("2027-01-01T00:00:00Z"), 1_798_761_600);
        assert_eq!(at("1796399719"), 1_796_399_719);
        assert_eq!(at("now"), 0);
        assert_eq!(rfc3339(1_796_399_719), "2026-12-04T15:55:19Z");
    }

    #[test]
    fn time_rejects_garbage_and_far_future() {
        let err = parse_time("tomorrow", UNIX_EPOCH).unwrap_err();
        assert!(err.contains("\"2027-01-01T00:00:00Z\""), "{err}");
        let err = parse_time("99999999999999999999999", UNIX_EPOCH).unwrap_err();
        assert!(err.contains("after 9999"), "{err}");
        assert!(parse_time("-5", UNIX_EPOCH).is_err());
    }

    #[test]
    fn virtual_time_saturates_before_epoch() {
        assert_eq!(virtual_time(1_796_399_719), 0);
        assert_eq!(virtual_time(1_798_761_601), 1_000);
        assert_eq!(virtual_time(i64::MIN), 0);
    }

    #[test]
    fn cookie_pairs_read_headers_and_bare_values() {
        assert_eq!(cookie_pairs(" abc.def ", "t"), [("t", "abc.def")]);
        assert_eq!(
            cookie_pairs("Cookie: t.0=a; other=x;t.1=b", "t"),
            [("t.0", "a"), ("other", "x"), ("t.1", "b")]
        );
    }

    #[test]
    fn chunk_names_need_digits() {
        assert!(is_chunk("t.0", "t"));
        assert!(is_chunk("t.12", "t"));
        assert!(!is_chunk("t.", "t"));
        assert!(!is_chunk("t.x", "t"));
        assert!(!is_chunk("tt.0", "t"));
    }
}
