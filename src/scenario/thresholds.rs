//! Thresholds: limits on a run's figures that fail the run when exceeded.
//!
//! A scenario sets them globally in `[thresholds]` and per strategy in a
//! `thresholds` table inside `[[strategy]]`. A strategy's own limit replaces
//! the global limit on the same figure. `bench` checks them after saving
//! the results and exits 1 when one fails.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::parse::{Checker, Dur};
use super::ScenarioError;
use crate::report::{format_nanos, format_ratio, Delay, Report, StrategyFigures};
use crate::time::{Millis, Span};

/// Limits on one strategy's figures. `None` leaves a figure unchecked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limits {
    /// Maximum revocation delay in virtual milliseconds. A delay of "never" fails any limit.
    pub max_revocation_delay: Option<Millis>,
    pub max_stale_accepts: Option<u64>,
    /// Maximum profile staleness in virtual milliseconds. "never" fails any limit.
    pub max_profile_staleness: Option<Millis>,
    /// Maximum bytes of the `Cookie` header part carrying the credential.
    pub max_cookie_bytes: Option<u64>,
    pub max_store_reads_per_request: Option<f64>,
    pub max_store_writes_per_request: Option<f64>,
    /// Maximum verify latency at p50, in nanoseconds.
    pub max_p50_verify: Option<u64>,
    /// Maximum verify latency at p99, in nanoseconds.
    pub max_p99_verify: Option<u64>,
}

/// The thresholds of a scenario: global limits and each strategy's own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thresholds {
    pub global: Limits,
    /// Limits set inside `[[strategy]]`, by strategy label.
    pub per_strategy: Vec<(String, Limits)>,
}

impl Thresholds {
    /// Returns true when the scenario sets no limit at all.
    pub fn is_empty(&self) -> bool {
        self.global == Limits::default() && self.per_strategy.is_empty()
    }

    /// Returns the limits in force for the strategy labelled `label`.
    pub fn for_label(&self, label: &str) -> Limits {
        let own = self
            .per_strategy
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, limits)| limits);
        match own {
            Some(own) => own.or(&self.global),
            None => self.global.clone(),
        }
    }
}

impl Limits {
    /// Returns these limits, taking `fallback`'s for every figure left unset.
    fn or(&self, fallback: &Limits) -> Limits {
        Limits {
            max_revocation_delay: self.max_revocation_delay.or(fallback.max_revocation_delay),
            max_stale_accepts: self.max_stale_accepts.or(fallback.max_stale_accepts),
            max_profile_staleness: self
                .max_profile_staleness
                .or(fallback.max_profile_staleness),
            max_cookie_bytes: self.max_cookie_bytes.or(fallback.max_cookie_bytes),
            max_store_reads_per_request: self
                .max_store_reads_per_request
                .or(fallback.max_store_reads_per_request),
            max_store_writes_per_request: self
                .max_store_writes_per_request
                .or(fallback.max_store_writes_per_request),
            max_p50_verify: self.max_p50_verify.or(fallback.max_p50_verify),
            max_p99_verify: self.max_p99_verify.or(fallback.max_p99_verify),
        }
    }
}

impl Limits {
    /// Returns the limits that are set, as `key = value` the way a scenario
    /// writes them, in table order.
    pub fn describe(&self) -> Vec<String> {
        let entries = [
            (
                "max_revocation_delay",
                self.max_revocation_delay.map(quoted_span),
            ),
            (
                "max_stale_accepts",
                self.max_stale_accepts.map(|v| v.to_string()),
            ),
            (
                "max_profile_staleness",
                self.max_profile_staleness.map(quoted_span),
            ),
            (
                "max_cookie_bytes",
                self.max_cookie_bytes.map(|v| v.to_string()),
            ),
            (
                "max_store_reads_per_request",
                self.max_store_reads_per_request.map(format_ratio),
            ),
            (
                "max_store_writes_per_request",
                self.max_store_writes_per_request.map(format_ratio),
            ),
            ("max_p50_verify", self.max_p50_verify.map(quoted_nanos)),
            ("max_p99_verify", self.max_p99_verify.map(quoted_nanos)),
        ];
        entries
            .into_iter()
            .filter_map(|(key, value)| Some(format!("{key} = {}", value?)))
            .collect()
    }
}

impl Thresholds {
    /// Returns one line per table of limits that is set: `every strategy:
    /// ...` for `[thresholds]`, then `LABEL: ...` for each strategy's own.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let global = self.global.describe();
        if !global.is_empty() {
            lines.push(format!("every strategy: {}", global.join(", ")));
        }
        for (label, limits) in &self.per_strategy {
            let own = limits.describe();
            if !own.is_empty() {
                lines.push(format!("{label}: {}", own.join(", ")));
            }
        }
        lines
    }

    /// Number of limits set, global and per strategy.
    pub fn count(&self) -> usize {
        self.global.describe().len()
            + self
                .per_strategy
                .iter()
                .map(|(_, limits)| limits.describe().len())
                .sum::<usize>()
    }
}

/// A figure of one strategy over its limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub label: String,
    /// The threshold key, such as `max_revocation_delay`.
    pub key: &'static str,
    /// The limit as the scenario writes it, such as `5m`.
    pub limit: String,
    /// The measured value, formatted like the limit.
    pub value: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "threshold failed: strategy \"{}\": {} is {}, over the limit {} = {}",
            self.label,
            figure_name(self.key),
            self.value,
            self.key,
            self.limit
        )
    }
}

/// Names the figure a threshold key limits, as the table does.
fn figure_name(key: &str) -> &'static str {
    match key {
        "max_revocation_delay" => "revocation delay (max)",
        "max_stale_accepts" => "stale accepts",
        "max_profile_staleness" => "profile staleness (max)",
        "max_cookie_bytes" => "cookie bytes (max)",
        "max_store_reads_per_request" => "store reads / request",
        "max_store_writes_per_request" => "store writes / request",
        "max_p50_verify" => "verify latency p50",
        "max_p99_verify" => "verify latency p99",
        _ => "figure",
    }
}

/// Checks every strategy of `report` against `thresholds`, in table order.
pub fn check(report: &Report, thresholds: &Thresholds) -> Vec<Failure> {
    let mut failures = Vec::new();
    for strategy in &report.strategies {
        check_strategy(
            strategy,
            &thresholds.for_label(&strategy.label),
            &mut failures,
        );
    }
    failures
}

fn check_strategy(s: &StrategyFigures, limits: &Limits, failures: &mut Vec<Failure>) {
    let mut fail = |key: &'static str, limit: String, value: String| {
        failures.push(Failure {
            label: s.label.clone(),
            key,
            limit,
            value,
        });
    };
    let delay_over = |delay: Option<Delay>, max: Millis| match delay {
        Some(Delay::Never(_)) => true,
        Some(Delay::Ms(ms)) => ms > max,
        None => false,
    };

    if let Some(max) = limits.max_revocation_delay {
        if delay_over(s.revocation.max_delay_ms, max) {
            let value = s
                .revocation
                .max_delay_ms
                .expect("over the limit, so measured");
            fail("max_revocation_delay", quoted_span(max), value.to_string());
        }
    }
    if let Some(max) = limits.max_stale_accepts {
        if s.revocation.stale_accepts > max {
            let value = s.revocation.stale_accepts.to_string();
            fail("max_stale_accepts", max.to_string(), value);
        }
    }
    if let Some(max) = limits.max_profile_staleness {
        if delay_over(s.staleness.max_delay_ms, max) {
            let value = s
                .staleness
                .max_delay_ms
                .expect("over the limit, so measured");
            fail("max_profile_staleness", quoted_span(max), value.to_string());
        }
    }
    if let Some(max) = limits.max_cookie_bytes {
        if s.cookies.bytes_max as u64 > max {
            let value = s.cookies.bytes_max.to_string();
            fail("max_cookie_bytes", max.to_string(), value);
        }
    }
    if let Some(max) = limits.max_store_reads_per_request {
        if s.store_ops.reads_per_request > max {
            let value = format_ratio(s.store_ops.reads_per_request);
            fail("max_store_reads_per_request", format_ratio(max), value);
        }
    }
    if let Some(max) = limits.max_store_writes_per_request {
        if s.store_ops.writes_per_request > max {
            let value = format_ratio(s.store_ops.writes_per_request);
            fail("max_store_writes_per_request", format_ratio(max), value);
        }
    }
    if let Some(max) = limits.max_p50_verify {
        if s.latency.verify.p50_ns > max {
            let value = format_nanos(s.latency.verify.p50_ns);
            fail("max_p50_verify", quoted_nanos(max), value);
        }
    }
    if let Some(max) = limits.max_p99_verify {
        if s.latency.verify.p99_ns > max {
            let value = format_nanos(s.latency.verify.p99_ns);
            fail("max_p99_verify", quoted_nanos(max), value);
        }
    }
}

fn quoted_span(ms: Millis) -> String {
    format!("\"{}\"", Span(ms))
}

fn quoted_nanos(ns: u64) -> String {
    format!("\"{}\"", format_nanos(ns))
}

/// A latency limit written as a human duration (`"200us"`, `"1.5ms"`), in
/// nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Nanos(u64);

impl<'de> Deserialize<'de> for Nanos {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NanosVisitor;
        impl Visitor<'_> for NanosVisitor {
            type Value = Nanos;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a latency such as \"200us\", \"1ms\" or \"850ns\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Nanos, E> {
                let parsed = humantime::parse_duration(text.trim()).map_err(|err| {
                    E::custom(format!(
                        "invalid duration \"{text}\" ({err}); expected a number with a \
                         unit (ns, us, ms, s), for example \"200us\" or \"2ms\""
                    ))
                })?;
                u64::try_from(parsed.as_nanos())
                    .map(Nanos)
                    .map_err(|_| E::custom(format!("duration \"{text}\" is too long")))
            }
        }
        deserializer.deserialize_str(NanosVisitor)
    }
}

/// A `[thresholds]` table as written, global or inside `[[strategy]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    max_revocation_delay: Option<Spanned<Dur>>,
    max_stale_accepts: Option<Spanned<u64>>,
    max_profile_staleness: Option<Spanned<Dur>>,
    max_cookie_bytes: Option<Spanned<u64>>,
    max_store_reads_per_request: Option<Spanned<f64>>,
    max_store_writes_per_request: Option<Spanned<f64>>,
    max_p50_verify: Option<Spanned<Nanos>>,
    max_p99_verify: Option<Spanned<Nanos>>,
}

impl Checker<'_> {
    /// Checks a thresholds table. `None` gives no limits.
    pub(super) fn limits(&self, raw: Option<&RawLimits>) -> Result<Limits, ScenarioError> {
        let Some(raw) = raw else {
            return Ok(Limits::default());
        };
        let per_request = |value: &Option<Spanned<f64>>, key: &str| {
            match value {
            Some(v) if !(v.get_ref().is_finite() && *v.get_ref() >= 0.0) => Err(self.at(
                v,
                key,
                format!(
                    "{} is not a valid limit; use a number of operations of 0 or more, such as 0 or 1.5",
                    v.get_ref()
                ),
            )),
            Some(v) => Ok(Some(*v.get_ref())),
            None => Ok(None),
        }
        };
        let millis = |value: &Option<Spanned<Dur>>| value.as_ref().map(|v| v.get_ref().0);
        let nanos = |value: &Option<Spanned<Nanos>>| value.as_ref().map(|v| v.get_ref().0);
        let count = |value: &Option<Spanned<u64>>| value.as_ref().map(|v| *v.get_ref());
        Ok(Limits {
            max_revocation_delay: millis(&raw.max_revocation_delay),
            max_stale_accepts: count(&raw.max_stale_accepts),
            max_profile_staleness: millis(&raw.max_profile_staleness),
            max_cookie_bytes: count(&raw.max_cookie_bytes),
            max_store_reads_per_request: per_request(
                &raw.max_store_reads_per_request,
                "max_store_reads_per_request",
            )?,
            max_store_writes_per_request: per_request(
                &raw.max_store_writes_per_request,
                "max_store_writes_per_request",
            )?,
            max_p50_verify: nanos(&raw.max_p50_verify),
            max_p99_verify: nanos(&raw.max_p99_verify),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
name = "t"
[[cohort]]
name = "c"
users = 1
steps = [{ login = {} }]
"#;

    fn parse(extra: &str) -> Result<crate::scenario::Scenario, ScenarioError> {
        crate::scenario::parse("t.toml", &format!("{BASE}{extra}"))
    }

    #[test]
    fn global_and_per_strategy_limits() {
        let scenario = parse(
            r#"
[[strategy]]
name = "jwt"
thresholds = { max_cookie_bytes = 300 }

[[strategy]]
name = "authjs-database"
label = "db"

[strategy.thresholds]
max_store_reads_per_request = 0
max_revocation_delay = "1m"

[thresholds]
max_revocation_delay = "5m"
max_p99_verify = "200us"
"#,
        )
        .unwrap();
        let t = &scenario.thresholds;
        assert_eq!(t.global.max_revocation_delay, Some(5 * 60_000));
        assert_eq!(t.global.max_p99_verify, Some(200_000));
        let jwt = t.for_label("jwt");
        assert_eq!(jwt.max_cookie_bytes, Some(300));
        assert_eq!(jwt.max_revocation_delay, Some(5 * 60_000));
        let db = t.for_label("db");
        assert_eq!(db.max_store_reads_per_request, Some(0.0));
        assert_eq!(db.max_revocation_delay, Some(60_000));
        assert_eq!(db.max_p99_verify, Some(200_000));
        assert_eq!(t.for_label("other"), t.global);
    }

    #[test]
    fn no_thresholds_table_is_empty() {
        assert!(parse("").unwrap().thresholds.is_empty());
    }

    #[test]
    fn unknown_threshold_key_names_place() {
        let err = parse("[thresholds]\nmax_cookie_byte = 4096\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml:8:1: "), "{err}");
        assert!(err.contains("unknown key `max_cookie_byte`"), "{err}");
        assert!(err.contains("max_cookie_bytes"), "{err}");
    }

    #[test]
    fn invalid_latency_names_key_and_fix() {
        let err = parse("[thresholds]\nmax_p99_verify = \"fast\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml:8:18: "), "{err}");
        assert!(err.contains("max_p99_verify"), "{err}");
        assert!(err.contains("\"200us\""), "{err}");
    }

    #[test]
    fn negative_reads_limit_rejected() {
        let err = parse("[thresholds]\nmax_store_reads_per_request = -1\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml:8:31: "), "{err}");
        assert!(err.contains("key `max_store_reads_per_request`"), "{err}");
        assert!(err.contains("0 or more"), "{err}");
    }
}
