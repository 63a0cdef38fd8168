//! Store URLs as they may be shown: passwords redacted.

use std::time::Duration;

use super::RemoteStore;

/// Time allowed for connecting to a store server and for each operation,
/// unless `--store-timeout` sets another.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// Returns `url` with the password of its user-info part and the value of
/// any `password=` query parameter replaced by `***`, so that
/// `postgres://user:secret@host/db` prints as `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let mut out = url[..authority_start].to_string();
    // The user info ends at the last `@`, not at the first `/`, `?` or
    // `#`: a password typed with those characters unencoded still counts
    // as password. An `@` later in the URL masks more than needed, never
    // less.
    let after_user = match rest.rfind('@') {
        Some(at) => {
            let user_info = &rest[..at];
            match user_info.find(':') {
                Some(colon) => {
                    out.push_str(&user_info[..colon]);
                    out.push_str(":***");
                }
                // `redis://secret@host` puts a password without a user name.
                None if url.starts_with("redis") && !user_info.is_empty() => out.push_str("***"),
                None => out.push_str(user_info),
            }
            &rest[at..]
        }
        None => rest,
    };
    out.push_str(&redact_query(after_user));
    out
}

/// Replaces the value of every `password` parameter in `?a=b&password=c`.
fn redact_query(tail: &str) -> String {
    let Some(question) = tail.find('?') else {
        return tail.to_string();
    };
    let (path, query) = tail.split_at(question + 1);
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}{}", pairs.join("&"))
}

impl std::fmt::Debug for RemoteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteStore")
            .field("url", &redact_url(&self.url))
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password_with_unencoded_delimiters() {
        for (url, shown) in [
            (
                "postgres://u:sec/ret@127.0.0.1:5432/db",
                "postgres://u:***@127.0.0.1:5432/db",
            ),
            (
                "postgres://u:sec#ret@127.0.0.1:1/db",
                "postgres://u:***@127.0.0.1:1/db",
            ),
            (
                "postgres://u:sec?ret@127.0.0.1:1/db",
                "postgres://u:***@127.0.0.1:1/db",
            ),
            (
                "redis://:se/c#ret@127.0.0.1:6379",
                "redis://:***@127.0.0.1:6379",
            ),
            ("redis://se/c@127.0.0.1:6379", "redis://***@127.0.0.1:6379"),
        ] {
            assert_eq!(redact_url(url), shown);
            assert!(!redact_url(url).contains("ret"), "{url}");
        }
    }

    #[test]
    fn redacts_user_password() {
        assert_eq!(
            redact_url("postgres://user:secret@host/db"),
            "postgres://user:***@host/db"
        );
        assert_eq!(
            redact_url("postgresql://u:p%40ss@127.0.0.1:5432/db?sslmode=disable"),
            "postgresql://u:***@127.0.0.1:5432/db?sslmode=disable"
        );
    }

    #[test]
    fn redacts_redis_password_forms() {
        assert_eq!(
            redact_url("redis://:secret@host:6379/0"),
            "redis://:***@host:6379/0"
        );
        assert_eq!(
            redact_url("redis://secret@host:6379"),
            "redis://***@host:6379"
        );
        assert_eq!(redact_url("redis://127.0.0.1:1"), "redis://127.0.0.1:1");
    }

    #[test]
    fn redacts_password_parameter() {
        assert_eq!(
            redact_url("postgres://host/db?user=u&password=secret&x=1"),
            "postgres://host/db?user=u&password=***&x=1"
        );
    }

    #[test]
    fn keeps_url_without_password() {
        assert_eq!(
            redact_url("postgres://user@host/db"),
            "postgres://user@host/db"
        );
    }

    #[test]
    fn debug_output_redacts() {
        let remote = RemoteStore {
            url: "postgres://user:secret@host/db".to_string(),
            timeout: DEFAULT_STORE_TIMEOUT,
        };
        let debug = format!("{remote:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains("user:***@host"), "{debug}");
    }
}
