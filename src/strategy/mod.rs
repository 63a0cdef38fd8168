//! Authentication strategies: how a credential is issued, sent and checked.
//!
//! Each strategy sits behind [`Strategy`]. The engine calls it with the
//! virtual time and a client's [`CookieJar`], and applies the `Set-Cookie`
//! headers it returns the way the client would.

pub mod access_refresh;
pub mod authjs_jwt;
pub mod cached_session;
pub mod database;
pub mod jose;
pub mod jwt;
pub mod keys;
pub mod noop;
pub mod signed_cookie;
pub mod strict_json;

use crate::cookie::{CookieJar, SetCookie};
use crate::store::{Profile, StateSize, Store, StoreResult, StoreUrl};
use crate::time::{Millis, DAY, MINUTE, SECOND};

/// Who a verified request belongs to, as the strategy read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The user id the credential names (`sub`, or the session's user).
    pub subject: String,
    /// Profile name the store returned or the token carried.
    pub name: String,
}

/// Why a strategy rejected a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The request carried no credential cookie.
    NoCredential,
    /// The session token matches no stored session.
    UnknownSession,
    /// The session or token has expired.
    Expired,
    /// The credential failed a check, which the text names.
    Invalid(String),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::NoCredential => f.write_str("no credential cookie"),
            Rejection::UnknownSession => f.write_str("unknown session token"),
            Rejection::Expired => f.write_str("expired"),
            Rejection::Invalid(reason) => f.write_str(reason),
        }
    }
}

/// The result of one verify: the outcome and the headers sent back.
#[derive(Clone, Debug)]
pub struct Verification {
    pub outcome: Result<Identity, Rejection>,
    pub set_cookies: Vec<SetCookie>,
}

/// One way of keeping users signed in.
///
/// Every method receives the virtual time `now`; none may read the system
/// clock. Errors are store failures: a rejected credential is an
/// [`Rejection`] inside an `Ok`.
pub trait Strategy {
    /// Signs `profile` in on the client holding `jar`, returning the
    /// cookies to set. Includes the sign-in's user lookup.
    fn login(
        &mut self,
        profile: &Profile,
        jar: &CookieJar,
        now: Millis,
    ) -> StoreResult<Vec<SetCookie>>;

    /// Checks the credential in `jar`, as a request to a protected page does.
    fn verify(&mut self, jar: &CookieJar, now: Millis) -> StoreResult<Verification>;

    /// Saves a changed profile from the client holding `jar`, returning
    /// the cookies that client receives.
    fn update_profile(
        &mut self,
        profile: &Profile,
        jar: &CookieJar,
        now: Millis,
    ) -> StoreResult<Vec<SetCookie>>;

    /// Signs out the client holding `jar`.
    fn logout(&mut self, jar: &CookieJar, now: Millis) -> StoreResult<Vec<SetCookie>>;

    /// Revokes every credential of a user, as an admin ban or a password
    /// change does. A strategy without server state can do nothing here.
    fn revoke_user(&mut self, user_id: u64, now: Millis) -> StoreResult<()>;

    /// The store this strategy reads and writes.
    fn store(&mut self) -> &mut dyn Store;

    /// Measures the server-side state held for live credentials at `now`.
    fn server_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        self.store().session_state(now)
    }
}

/// A strategy kind that scenarios can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub summary: &'static str,
    /// Scenario keys this kind accepts besides `name`, `label` and `store`.
    pub keys: &'static [&'static str],
    /// Whether a scenario without `[[strategy]]` tables runs this kind.
    pub compared: bool,
}

/// Every strategy kind, in the order `authcmp list` shows them.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "authjs-database",
        summary: "Auth.js database sessions: opaque UUID cookie, one joined store lookup per request",
        keys: &["max_age", "update_age", "secure"],
        compared: true,
    },
    Kind {
        name: "authjs-jwt",
        summary: "Auth.js JWT sessions: encrypted JWE cookie re-issued on every request (v5 or v4 encoding)",
        keys: &["max_age", "secret", "secure", "version", "check_user"],
        compared: true,
    },
    Kind {
        name: "jwt",
        summary: "Signed JWT (HS256, RS256, ES256, EdDSA) with a fixed lifetime; no server state",
        keys: &["lifetime", "leeway", "algorithm", "secret", "secure"],
        compared: true,
    },
    Kind {
        name: "jwt-denylist",
        summary: "Signed JWT plus a denylist read on every request; sign-out and bans add entries",
        keys: &["lifetime", "leeway", "algorithm", "secret", "secure"],
        compared: true,
    },
    Kind {
        name: "access-refresh",
        summary: "Short access JWT plus a rotating refresh token in the store, with reuse detection",
        keys: &["lifetime", "refresh_lifetime", "leeway", "algorithm", "secret", "secure"],
        compared: true,
    },
    Kind {
        name: "cached-session",
        summary: "Database sessions behind a per-node cache (TTL) on several load-balanced nodes",
        keys: &["max_age", "update_age", "secure", "cache_ttl", "nodes", "balance"],
        compared: true,
    },
    Kind {
        name: "signed-cookie",
        summary: "Session data in an HMAC-signed, timestamped cookie (Django signed_cookies style)",
        keys: &["max_age", "secret", "secure"],
        compared: true,
    },
    Kind {
        name: "noop",
        summary: "Does no work: accepts every request with a cookie, to measure the harness itself",
        keys: &[],
        compared: false,
    },
];

/// Finds a kind by name.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Names of every kind, comma-separated, for error messages.
pub fn kind_names() -> String {
    KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// Secret used when a scenario names none. Fine for measuring, since the
/// figures do not depend on it; never use it to protect anything.
pub const DEFAULT_SECRET: &str = "authcmp-benchmark-secret-not-for-production";

/// Options of every strategy kind, with the defaults of the system modelled.
#[derive(Clone, Debug, PartialEq)]
pub enum Options {
    AuthjsDatabase(database::DatabaseOptions),
    AuthjsJwt(authjs_jwt::JweOptions),
    Jwt(jwt::JwtOptions),
    JwtDenylist(jwt::JwtOptions),
    AccessRefresh(access_refresh::AccessRefreshOptions),
    CachedSession(cached_session::CachedSessionOptions),
    SignedCookie(signed_cookie::SignedCookieOptions),
    Noop,
}

impl Options {
    /// Default options of the kind called `name`.
    pub fn defaults(name: &str) -> Option<Options> {
        Some(match name {
            "authjs-database" => Options::AuthjsDatabase(Default::default()),
            "authjs-jwt" => Options::AuthjsJwt(Default::default()),
            "jwt" => Options::Jwt(Default::default()),
            "jwt-denylist" => Options::JwtDenylist(jwt::JwtOptions {
                denylist: true,
                ..Default::default()
            }),
            "access-refresh" => Options::AccessRefresh(Default::default()),
            "cached-session" => Options::CachedSession(Default::default()),
            "signed-cookie" => Options::SignedCookie(Default::default()),
            "noop" => Options::Noop,
            _ => return None,
        })
    }

    /// Name of the kind.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Options::AuthjsDatabase(_) => "authjs-database",
            Options::AuthjsJwt(_) => "authjs-jwt",
            Options::Jwt(_) => "jwt",
            Options::JwtDenylist(_) => "jwt-denylist",
            Options::AccessRefresh(_) => "access-refresh",
            Options::CachedSession(_) => "cached-session",
            Options::SignedCookie(_) => "signed-cookie",
            Options::Noop => "noop",
        }
    }

    /// Settings in force, as `key = value` pairs for reports.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        match self {
            Options::AuthjsDatabase(o) => o.settings(),
            Options::AuthjsJwt(o) => o.settings(),
            Options::Jwt(o) | Options::JwtDenylist(o) => o.settings(),
            Options::AccessRefresh(o) => o.settings(),
            Options::CachedSession(o) => o.settings(),
            Options::SignedCookie(o) => o.settings(),
            Options::Noop => Vec::new(),
        }
    }
}

/// A strategy as a scenario configures it: a label, options and a store.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// Row name in the table; the kind name unless the scenario sets one.
    pub label: String,
    pub options: Options,
    pub store: StoreUrl,
}

impl Setup {
    /// Setup of the kind called `name` with its defaults, on an in-memory store.
    pub fn with_defaults(name: &str) -> Option<Setup> {
        Some(Setup {
            label: name.to_string(),
            options: Options::defaults(name)?,
            store: StoreUrl::SqliteMemory,
        })
    }

    /// Opens the store and builds the strategy.
    pub fn build(&self) -> StoreResult<Box<dyn Strategy>> {
        if let Options::Noop = self.options {
            return Ok(Box::new(noop::Noop::new(Box::new(crate::store::NullStore))));
        }
        let store = self.store.open(&self.label)?;
        Ok(self.build_on(store))
    }

    /// Builds the strategy on a store opened by the caller, such as one
    /// that several instances share; `noop` ignores it.
    pub fn build_on(&self, store: Box<dyn Store>) -> Box<dyn Strategy> {
        match &self.options {
            Options::AuthjsDatabase(o) => Box::new(database::AuthjsDatabase::new(o.clone(), store)),
            Options::AuthjsJwt(o) => Box::new(authjs_jwt::AuthjsJwt::new(o.clone(), store)),
            Options::Jwt(o) | Options::JwtDenylist(o) => Box::new(jwt::Jwt::new(o.clone(), store)),
            Options::AccessRefresh(o) => {
                Box::new(access_refresh::AccessRefresh::new(o.clone(), store))
            }
            Options::CachedSession(o) => {
                Box::new(cached_session::CachedSession::new(o.clone(), store))
            }
            Options::SignedCookie(o) => {
                Box::new(signed_cookie::SignedCookie::new(o.clone(), store))
            }
            Options::Noop => Box::new(noop::Noop::new(Box::new(crate::store::NullStore))),
        }
    }
}

/// Formats a duration setting for reports.
pub(crate) fn span(ms: Millis) -> String {
    crate::time::Span(ms).to_string()
}

pub(crate) const THIRTY_DAYS: Millis = 30 * DAY;
pub(crate) const FIFTEEN_MINUTES: Millis = 15 * MINUTE;
pub(crate) const FIFTEEN_SECONDS: Millis = 15 * SECOND;
