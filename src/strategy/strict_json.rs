//! A JSON check that rejects duplicate member names at any depth.
//!
//! `serde_json` keeps the last of two equal keys when it builds a
//! `serde_json::Value` or a map, and it ignores a repeated key that a
//! derived struct does not name. RFC 7515 §5.2 and RFC 7519 §4 let a JOSE
//! parser either reject duplicate member names or keep only the lexically
//! last one. The verifiers here reject them, so no two parsers (this one
//! and the application's) can read different claims from one token.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Checks that `bytes` is one JSON value whose objects have no repeated
/// member name. Returns the parser's message on invalid JSON, or
/// `duplicate member "<name>"`.
///
/// Nesting is bounded by `serde_json`'s recursion limit (128 levels), so
/// a deeply nested input fails with an error instead of a stack overflow.
pub fn check_unique_keys(bytes: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<UniqueKeys>(bytes)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A JSON value that was checked and then dropped.
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_unit<E: de::Error>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format!("duplicate member {key:?}")));
            }
            map.next_value::<UniqueKeys>()?;
            seen.insert(key);
        }
        Ok(UniqueKeys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_keys_pass() {
        assert_eq!(
            check_unique_keys(br#"{"a":1,"b":{"a":2},"c":[{"a":3}]}"#),
            Ok(())
        );
    }

    #[test]
    fn duplicate_top_level_key_fails() {
        let err = check_unique_keys(br#"{"exp":1,"exp":2}"#).unwrap_err();
        assert!(err.starts_with("duplicate member \"exp\""), "{err}");
    }

    #[test]
    fn duplicate_nested_key_fails() {
        let err = check_unique_keys(br#"{"a":[{"k":1,"k":1}]}"#).unwrap_err();
        assert!(err.starts_with("duplicate member \"k\""), "{err}");
    }

    #[test]
    fn escaped_duplicate_key_fails() {
        // "\u0065xp" decodes to "exp".
        let err = check_unique_keys(br#"{"exp":1,"\u0065xp":2}"#).unwrap_err();
        assert!(err.starts_with("duplicate member \"exp\""), "{err}");
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let deep = "[".repeat(100_000);
        let err = check_unique_keys(deep.as_bytes()).unwrap_err();
        assert!(err.starts_with("recursion limit exceeded"), "{err}");
    }

    #[test]
    fn trailing_data_fails() {
        let err = check_unique_keys(b"{} x").unwrap_err();
        assert!(err.starts_with("trailing characters"), "{err}");
    }
}
