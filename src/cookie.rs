//! Cookies as a browser keeps them: `Set-Cookie` lines in, `Cookie` headers out.
//!
//! A [`CookieJar`] holds the authentication cookies of one client. Devices
//! honour `Expires` and `Max-Age=0` the way a browser does. A copied jar,
//! as an attacker keeps it, takes re-issued values but ignores expiry and
//! deletion, so that a replay keeps presenting the stolen value.

use crate::time::{http_date, Millis};

/// Per-cookie budget of Auth.js: name, value and attributes in 4096 bytes.
pub const COOKIE_BUDGET: usize = 4096;

/// Attributes shared by every cookie a strategy sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieAttributes {
    pub path: &'static str,
    pub http_only: bool,
    pub same_site_lax: bool,
    pub secure: bool,
}

impl CookieAttributes {
    /// `Path=/; HttpOnly; SameSite=Lax`, plus `Secure` on https.
    pub fn session(secure: bool) -> Self {
        CookieAttributes {
            path: "/",
            http_only: true,
            same_site_lax: true,
            secure,
        }
    }
}

/// When a cookie stops being sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// `Expires=<date>` at this virtual time.
    Expires(Millis),
    /// `Max-Age=0`: delete the cookie now.
    Delete,
    /// Neither attribute: kept until the browser closes.
    Session,
}

/// One `Set-Cookie` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub lifetime: Lifetime,
    pub attributes: CookieAttributes,
}

impl SetCookie {
    /// Builds a cookie that deletes `name` (`Max-Age=0` and an empty value).
    pub fn delete(name: &str, attributes: &CookieAttributes) -> Self {
        SetCookie {
            name: name.to_string(),
            value: String::new(),
            lifetime: Lifetime::Delete,
            attributes: attributes.clone(),
        }
    }

    /// Serializes the header value in the attribute order of the `cookie`
    /// npm package that Auth.js uses: `Max-Age`, `Path`, `Expires`,
    /// `HttpOnly`, `SameSite`, `Secure`.
    pub fn header_value(&self) -> String {
        let expires = match self.lifetime {
            Lifetime::Expires(at) => Some(http_date(at)),
            Lifetime::Delete | Lifetime::Session => None,
        };
        self.header_value_expiring(expires.as_deref())
    }

    /// Serializes the header as [`SetCookie::header_value`] does, with
    /// `expires` (an HTTP date) as the `Expires` attribute in place of the
    /// lifetime's. Callers whose times lie before the virtual epoch use it.
    pub fn header_value_expiring(&self, expires: Option<&str>) -> String {
        let mut line = format!("{}={}", self.name, self.value);
        if self.lifetime == Lifetime::Delete {
            line.push_str("; Max-Age=0");
        }
        line.push_str("; Path=");
        line.push_str(self.attributes.path);
        if let Some(date) = expires {
            line.push_str("; Expires=");
            line.push_str(date);
        }
        if self.attributes.http_only {
            line.push_str("; HttpOnly");
        }
        if self.attributes.same_site_lax {
            line.push_str("; SameSite=Lax");
        }
        if self.attributes.secure {
            line.push_str("; Secure");
        }
        line
    }

    /// Length in bytes of [`SetCookie::header_value`], computed without
    /// building the string.
    pub fn header_len(&self) -> usize {
        let mut len = self.name.len() + 1 + self.value.len();
        if self.lifetime == Lifetime::Delete {
            len += "; Max-Age=0".len();
        }
        len += "; Path=".len() + self.attributes.path.len();
        if let Lifetime::Expires(_) = self.lifetime {
            // An HTTP date always has 29 characters.
            len += "; Expires=".len() + 29;
        }
        if self.attributes.http_only {
            len += "; HttpOnly".len();
        }
        if self.attributes.same_site_lax {
            len += "; SameSite=Lax".len();
        }
        if self.attributes.secure {
            len += "; Secure".len();
        }
        len
    }
}

/// Owner of a jar, which decides how it treats expiry and deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// A browser: drops expired cookies and obeys `Max-Age=0`.
    Browser,
    /// A copy taken by an attacker: keeps presenting what it has, but
    /// takes new values a server re-issues to it.
    Copy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct StoredCookie {
    name: String,
    value: String,
    expires: Option<Millis>,
}

/// The authentication cookies of one client, in creation order.
#[derive(Clone, Debug)]
pub struct CookieJar {
    holder: Holder,
    cookies: Vec<StoredCookie>,
}

impl CookieJar {
    pub fn new(holder: Holder) -> Self {
        CookieJar {
            holder,
            cookies: Vec::new(),
        }
    }

    /// Builds a jar from `name=value` pairs, as a `Cookie` header carries them.
    pub fn from_pairs<'a>(
        holder: Holder,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut jar = CookieJar::new(holder);
        for (name, value) in pairs {
            jar.cookies.push(StoredCookie {
                name: name.to_string(),
                value: value.to_string(),
                expires: None,
            });
        }
        jar
    }

    /// Copies this jar for an attacker.
    pub fn copy_for_attacker(&self) -> Self {
        CookieJar {
            holder: Holder::Copy,
            cookies: self.cookies.clone(),
        }
    }

    /// Applies `Set-Cookie` headers received at `now`.
    pub fn apply(&mut self, set_cookies: &[SetCookie], now: Millis) {
        for set in set_cookies {
            let deleted = match set.lifetime {
                Lifetime::Delete => true,
                Lifetime::Expires(at) => at <= now,
                Lifetime::Session => false,
            };
            let position = self.cookies.iter().position(|c| c.name == set.name);
            if deleted {
                if self.holder == Holder::Browser {
                    if let Some(index) = position {
                        self.cookies.remove(index);
                    }
                }
                continue;
            }
            let expires = match set.lifetime {
                Lifetime::Expires(at) => Some(at),
                _ => None,
            };
            match position {
                Some(index) => {
                    self.cookies[index].value.clone_from(&set.value);
                    self.cookies[index].expires = expires;
                }
                None => self.cookies.push(StoredCookie {
                    name: set.name.clone(),
                    value: set.value.clone(),
                    expires,
                }),
            }
        }
    }

    /// Drops the cookies a browser would no longer send at `now`.
    pub fn expire(&mut self, now: Millis) {
        let expired = |c: &StoredCookie| c.expires.is_some_and(|at| at <= now);
        // Most calls find nothing to drop, and the check costs less than `retain`.
        if self.holder == Holder::Browser && self.cookies.iter().any(expired) {
            self.cookies.retain(|c| !expired(c));
        }
    }

    /// Empties the jar, as a browser that signed out does.
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// The value of the cookie called `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.as_str())
    }

    /// Iterates over `(name, value)` pairs in the order they are sent.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.cookies
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_str()))
    }

    /// Number of cookies in the jar.
    pub fn len(&self) -> usize {
        self.cookies.len()
    }

    /// Bytes of the `Cookie` header part these cookies make: `name=value`
    /// pairs joined by `; `.
    pub fn header_len(&self) -> usize {
        let pairs: usize = self
            .cookies
            .iter()
            .map(|c| c.name.len() + 1 + c.value.len())
            .sum();
        pairs + 2 * self.cookies.len().saturating_sub(1)
    }

    /// The `Cookie` header part these cookies make.
    pub fn header(&self) -> String {
        let parts: Vec<String> = self.pairs().map(|(n, v)| format!("{n}={v}")).collect();
        parts.join("; ")
    }
}

/// Splits a credential over chunk cookies as Auth.js's `SessionStore` does.
///
/// A value longer than `chunk_size` characters goes into cookies named
/// `<name>.0`, `<name>.1`, ...; a value that fits keeps the plain name. Every
/// cookie the request carried under this name, chunked or not, is deleted
/// first (`Max-Age=0`) unless the new set overwrites it.
pub fn chunk_credential(
    jar: &CookieJar,
    name: &str,
    value: &str,
    chunk_size: usize,
    lifetime: Lifetime,
    attributes: &CookieAttributes,
) -> Vec<SetCookie> {
    let mut out: Vec<SetCookie> = credential_cookie_names(jar, name)
        .map(|old| SetCookie::delete(old, attributes))
        .collect();
    let count = value.len().div_ceil(chunk_size).max(1);
    for index in 0..count {
        let cookie_name = if count == 1 {
            name.to_string()
        } else {
            format!("{name}.{index}")
        };
        let start = index * chunk_size;
        let end = (start + chunk_size).min(value.len());
        let cookie = SetCookie {
            name: cookie_name,
            value: value[start..end].to_string(),
            lifetime,
            attributes: attributes.clone(),
        };
        match out.iter_mut().find(|c| c.name == cookie.name) {
            Some(slot) => *slot = cookie,
            None => out.push(cookie),
        }
    }
    out
}

/// Deletes every cookie that carries the credential `name`, chunks included.
pub fn delete_credential(
    jar: &CookieJar,
    name: &str,
    attributes: &CookieAttributes,
) -> Vec<SetCookie> {
    credential_cookie_names(jar, name)
        .map(|old| SetCookie::delete(old, attributes))
        .collect()
}

/// Joins the credential `name` from a jar: the plain cookie, or its chunks
/// in numeric order of their suffix, as Auth.js reads them.
///
/// Returns `None` when the jar has no cookie of that name.
pub fn join_credential(jar: &CookieJar, name: &str) -> Option<String> {
    let mut parts: Vec<(u64, &str)> = Vec::new();
    for (cookie_name, value) in jar.pairs() {
        if cookie_name == name {
            parts.push((0, value));
        } else if let Some(suffix) = chunk_suffix(cookie_name, name) {
            parts.push((suffix, value));
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.sort_by_key(|(index, _)| *index);
    Some(parts.into_iter().map(|(_, value)| value).collect())
}

/// Number of cookies in `jar` that carry the credential `name`.
pub fn credential_chunks(jar: &CookieJar, name: &str) -> usize {
    credential_cookie_names(jar, name).count()
}

fn credential_cookie_names<'a>(jar: &'a CookieJar, name: &'a str) -> impl Iterator<Item = &'a str> {
    jar.pairs()
        .map(|(n, _)| n)
        .filter(move |n| *n == name || chunk_suffix(n, name).is_some())
}

fn chunk_suffix(cookie_name: &str, name: &str) -> Option<u64> {
    let rest = cookie_name.strip_prefix(name)?.strip_prefix('.')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs() -> CookieAttributes {
        CookieAttributes::session(false)
    }

    #[test]
    fn header_len_matches_value() {
        let set = SetCookie {
            name: "authjs.session-token".into(),
            value: "x".repeat(36),
            lifetime: Lifetime::Expires(0),
            attributes: CookieAttributes::session(true),
        };
        assert_eq!(set.header_len(), set.header_value().len());
        let delete = SetCookie::delete("a", &attrs());
        assert_eq!(
            delete.header_value(),
            "a=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!(delete.header_len(), delete.header_value().len());
    }

    #[test]
    fn chunking_splits_and_joins() {
        let jar = CookieJar::new(Holder::Browser);
        let value = "a".repeat(10) + &"b".repeat(5);
        let set = chunk_credential(&jar, "t", &value, 10, Lifetime::Session, &attrs());
        let names: Vec<&str> = set.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["t.0", "t.1"]);
        let mut jar = CookieJar::new(Holder::Browser);
        jar.apply(&set, 0);
        assert_eq!(join_credential(&jar, "t").as_deref(), Some(value.as_str()));
        assert_eq!(jar.header_len(), jar.header().len());
        assert_eq!(
            jar.header(),
            format!("t.0={}; t.1={}", "a".repeat(10), "b".repeat(5))
        );
    }

    #[test]
    fn rechunking_deletes_stale_chunks() {
        let mut jar = CookieJar::new(Holder::Browser);
        let set = chunk_credential(&jar, "t", &"a".repeat(25), 10, Lifetime::Session, &attrs());
        jar.apply(&set, 0);
        assert_eq!(jar.len(), 3);
        let set = chunk_credential(&jar, "t", "short", 10, Lifetime::Session, &attrs());
        jar.apply(&set, 0);
        assert_eq!(jar.header(), "t=short");
    }

    #[test]
    fn copy_ignores_deletion() {
        let mut jar = CookieJar::new(Holder::Browser);
        jar.apply(
            &chunk_credential(&jar, "t", "v", 10, Lifetime::Expires(5), &attrs()),
            0,
        );
        let mut copy = jar.copy_for_attacker();
        let delete = delete_credential(&jar, "t", &attrs());
        jar.apply(&delete, 1);
        copy.apply(&delete, 1);
        copy.expire(10);
        assert!(jar.is_empty());
        assert_eq!(copy.header(), "t=v");
    }

    #[test]
    fn chunks_join_in_numeric_order() {
        let jar =
            CookieJar::from_pairs(Holder::Browser, [("t.10", "c"), ("t.2", "b"), ("t.0", "a")]);
        assert_eq!(join_credential(&jar, "t").as_deref(), Some("abc"));
    }
}
