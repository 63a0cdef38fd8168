//! Building blocks of the hostile-credential corpus: how each case is
//! described, checked and printed.

use authcmp::cookie::{CookieJar, Holder};
use authcmp::strategy::{Identity, Rejection, Strategy};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The outcome a case must have.
#[derive(Clone, Debug)]
pub enum Want {
    /// Accepted: a control case, or a case accepted on purpose.
    Accepted,
    /// Rejected as a stored session that does not exist.
    UnknownSession,
    /// Rejected as expired.
    Expired,
    /// Rejected as invalid, with this text in the reason.
    Invalid(String),
}

/// Rejected as invalid, with `text` in the reason.
pub fn invalid(text: &str) -> Want {
    Want::Invalid(text.to_string())
}

/// One hostile (or control) credential and what happened to it.
pub struct Row {
    pub strategy: String,
    pub case: String,
    pub outcome: Result<Identity, Rejection>,
    pub want: Want,
}

impl Row {
    /// Whether the outcome is the wanted one, reason text included.
    pub fn matches(&self) -> bool {
        match (&self.outcome, &self.want) {
            (Ok(_), Want::Accepted) => true,
            (Err(Rejection::UnknownSession), Want::UnknownSession) => true,
            (Err(Rejection::Expired), Want::Expired) => true,
            (Err(Rejection::Invalid(reason)), Want::Invalid(text)) => reason.contains(text),
            _ => false,
        }
    }

    fn outcome_text(&self) -> String {
        match &self.outcome {
            Ok(identity) => format!("accepted (sub {})", identity.subject),
            Err(Rejection::Invalid(reason)) => format!("Invalid: {reason}"),
            Err(other) => format!("{other:?}: {other}"),
        }
    }
}

/// The corpus's results, printed as a table and then checked one by one.
#[derive(Default)]
pub struct Corpus {
    pub rows: Vec<Row>,
}

impl Corpus {
    pub fn push(
        &mut self,
        strategy: &str,
        case: &str,
        outcome: Result<Identity, Rejection>,
        want: Want,
    ) {
        self.rows.push(Row {
            strategy: strategy.to_string(),
            case: case.to_string(),
            outcome,
            want,
        });
    }

    /// Verifies `cookies` with `strategy` at virtual time `now` and records
    /// the outcome.
    pub fn verify(
        &mut self,
        label: &str,
        strategy: &mut dyn Strategy,
        case: &str,
        cookies: &[(&str, &str)],
        now: u64,
        want: Want,
    ) {
        let jar = CookieJar::from_pairs(Holder::Browser, cookies.iter().copied());
        let verification = strategy.verify(&jar, now).expect("the SQLite store works");
        self.push(label, case, verification.outcome, want);
    }

    /// Prints the table (shown by `cargo test -- --nocapture`) and asserts
    /// each row on its own, naming the strategy and case.
    pub fn print_and_check(&self, title: &str) {
        let width = self.rows.iter().map(|r| r.case.len()).max().unwrap_or(0);
        let strategy_width = self
            .rows
            .iter()
            .map(|r| r.strategy.len())
            .max()
            .unwrap_or(0);
        println!("\n{title}: {} cases", self.rows.len());
        for row in &self.rows {
            let mark = if row.matches() { "ok  " } else { "FAIL" };
            println!(
                "{mark} {:strategy_width$}  {:width$}  {}",
                row.strategy,
                row.case,
                row.outcome_text()
            );
        }
        for row in &self.rows {
            assert!(
                row.matches(),
                "{} / {}: expected {:?}, got {}",
                row.strategy,
                row.case,
                row.want,
                row.outcome_text()
            );
        }
    }
}

/// Base64url without padding, as JOSE segments use.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a base64url segment, panicking on invalid test input.
pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .expect("test segment is base64url")
}

/// Signs `header` and `payload` (raw JSON bytes, not checked) with
/// HMAC-SHA256 under `key`, as an attacker holding the key would.
pub fn hs256(key: &[u8], header: &[u8], payload: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(signing_input.as_bytes());
    let signature = mac.finalize().into_bytes();
    format!("{signing_input}.{}", b64(&signature))
}

/// Replaces segment `index` of a dot-separated token.
pub fn with_segment(token: &str, index: usize, value: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = value;
    parts.join(".")
}

/// XORs decoded byte `at` of segment `index` with `mask` and re-encodes it.
pub fn flip(token: &str, index: usize, at: usize, mask: u8) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut bytes = unb64(parts[index]);
    bytes[at] ^= mask;
    with_segment(token, index, &b64(&bytes))
}

/// Drops the last `bytes` decoded bytes of segment `index`, keeping the
/// segment valid base64url.
pub fn truncate(token: &str, index: usize, bytes: usize) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let decoded = unb64(parts[index]);
    with_segment(token, index, &b64(&decoded[..decoded.len() - bytes]))
}

/// A 1 MiB cookie value of base64url characters.
pub fn one_mebibyte() -> String {
    "A".repeat(1 << 20)
}
