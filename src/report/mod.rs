//! Reports: the figures of a run, and the formats they are written in.
//!
//! [`Report`] is what `results/*.json` holds. Every wall-clock figure is
//! under a `latency` key or in `run.wall_ms` and `run.started_at`; every
//! other field is determined by the scenario and seed alone.

mod csv;
pub mod histogram;
mod html;
pub mod load;
mod markdown;
pub mod plots;
mod save;
mod table;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use self::csv::render_csv;
pub use html::render_html;
pub use markdown::render_markdown;
pub use save::{check_writable, describe_saved, save, save_files, stem_for, RUN_FILES};
pub use table::{harness_line, render_table, TableStyle};

use crate::engine::{per_action, LaneResult, RunResult};
use crate::metrics::{median, quantile_of_counts, ActionOps};
pub use crate::metrics::{Presentation, ProbeSample};
use crate::scenario::Scenario;
use crate::time::Millis;

/// A whole run, as saved to `results/<scenario>/<time>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub tool: Tool,
    pub scenario: ScenarioInfo,
    pub seed: u64,
    pub run: RunInfo,
    pub machine: Machine,
    pub strategies: Vec<StrategyFigures>,
    /// Label of the strategy that the table's relative column divides by;
    /// absent means the first strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    /// Names this build of authcmp.
    pub fn current() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioInfo {
    pub name: String,
    pub description: String,
    pub path: String,
    pub sha256: String,
}

impl ScenarioInfo {
    /// Identifies the scenario file that `scenario` was read from.
    pub fn of(scenario: &Scenario) -> ScenarioInfo {
        ScenarioInfo {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            path: scenario.source.path.clone(),
            sha256: scenario.source.sha256.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    /// UTC start of the run, RFC 3339.
    pub started_at: String,
    /// Wall time of the whole run in milliseconds, all strategies together.
    pub wall_ms: f64,
    /// Wall time inside timed calls (sign-ins and verifies) of every
    /// strategy, in milliseconds.
    pub timed_ms: f64,
    /// `wall_ms / timed_ms`: how much longer the run took than the calls
    /// it measured; the rest is the harness.
    pub wall_per_timed: f64,
    pub users: u64,
    pub events: u64,
    /// Requests and replays in the workload, sent to each strategy.
    pub requests: u64,
    /// Virtual time of the last event, in milliseconds.
    pub virtual_span_ms: u64,
    pub peak_active_users: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Machine {
    pub os: String,
    pub arch: String,
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
}

/// The figures of one strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StrategyFigures {
    pub label: String,
    pub strategy: String,
    pub settings: BTreeMap<String, String>,
    pub store: String,
    pub requests: RequestFigures,
    pub store_ops: StoreFigures,
    pub cookies: CookieFigures,
    pub latency: LatencyFigures,
    pub server_state: StateFigures,
    pub revocation: RevocationFigures,
    pub staleness: StalenessFigures,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestFigures {
    /// Requests that reached the verifier.
    pub verifies: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Requests from signed-out clients, not sent to the verifier.
    pub signed_out: u64,
    /// Sign-ins forced by the rejection of a credential that was not revoked.
    pub forced_sign_ins: u64,
}

/// Store operations per action: how often it ran and what it cost each time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionFigures {
    pub count: u64,
    pub reads_per_action: f64,
    pub writes_per_action: f64,
}

impl From<&ActionOps> for ActionFigures {
    fn from(ops: &ActionOps) -> Self {
        let (reads, writes) = per_action(ops);
        ActionFigures {
            count: ops.count,
            reads_per_action: reads,
            writes_per_action: writes,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StoreFigures {
    pub reads_per_request: f64,
    pub writes_per_request: f64,
    pub login: ActionFigures,
    pub logout: ActionFigures,
    pub revoke: ActionFigures,
    pub profile_update: ActionFigures,
    pub total_reads: u64,
    pub total_writes: u64,
    /// Every store operation of the run divided by its virtual span.
    pub projected_ops_per_second: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CookieFigures {
    /// Median bytes of the `Cookie` header part carrying the credential.
    pub bytes_median: usize,
    pub bytes_max: usize,
    pub max_chunks: usize,
    /// Mean bytes of `Set-Cookie` values per verify, zeros included.
    pub set_cookie_bytes_per_response: f64,
    /// Verifies that returned a `Set-Cookie`.
    pub set_cookie_responses: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyFigures {
    pub verify: Percentiles,
    pub login: Percentiles,
    /// Sum of every timed call, in milliseconds.
    pub timed_ms: f64,
    /// The verify-latency histogram in nanoseconds: base64 of hdrhistogram's
    /// V2 serialization. `compare` resamples it to tell noise from change.
    /// Absent in files from versions that did not save it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_histogram: Option<String>,
}

/// Percentiles of a latency histogram, in nanoseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
    pub mean_ns: f64,
}

impl Percentiles {
    /// Summarises a latency histogram in nanoseconds.
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Self {
        Percentiles {
            count: h.len(),
            p50_ns: h.value_at_quantile(0.50),
            p90_ns: h.value_at_quantile(0.90),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            max_ns: h.max(),
            mean_ns: if h.is_empty() { 0.0 } else { h.mean() },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateFigures {
    pub bytes: u64,
    pub entries: u64,
    pub bytes_per_entry: f64,
}

/// A delay in virtual milliseconds, or `"never"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Delay {
    Ms(u64),
    Never(Never),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Never {
    Never,
}

impl std::fmt::Display for Delay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delay::Ms(ms) => write!(f, "{}", crate::time::Span(*ms).rounded()),
            Delay::Never(_) => f.write_str("never"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RevocationFigures {
    /// Revoked credentials tracked: copies of signed-out cookies and every
    /// cookie of a revoked user.
    pub tracked: u64,
    /// Tracked credentials rejected after their revocation.
    pub rejected: u64,
    /// Still accepted at their last presentation.
    pub never: u64,
    /// Not presented after their revocation.
    pub unprobed: u64,
    /// Median over presented credentials; `null` when none was presented.
    pub median_delay_ms: Option<Delay>,
    pub max_delay_ms: Option<Delay>,
    /// Largest gap between the last accept and the first rejection.
    pub resolution_ms: u64,
    pub stale_accepts: u64,
    /// Latest accept of any revoked credential, as time since its
    /// revocation; 0 when none was accepted.
    pub last_accept_ms: u64,
    /// Presentations of the first few tracked credentials after their
    /// revocation, for the revocation timeline chart.
    #[serde(default)]
    pub samples: Vec<ProbeSample>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StalenessFigures {
    pub profile_changes: u64,
    /// Devices that saw the new profile after a change.
    pub caught_up: u64,
    pub never: u64,
    pub unobserved: u64,
    pub median_delay_ms: Option<Delay>,
    pub max_delay_ms: Option<Delay>,
    pub stale_reads: u64,
}

/// Median and max of `delays` with `never` more values at infinity.
fn delay_summary(delays: &mut [Millis], never: u64) -> (Option<Delay>, Option<Delay>) {
    let total = delays.len() as u64 + never;
    if total == 0 {
        return (None, None);
    }
    median(delays);
    let middle = (total - 1) / 2;
    let median = match delays.get(middle as usize) {
        Some(ms) => Delay::Ms(*ms),
        None => Delay::Never(Never::Never),
    };
    let max = if never > 0 {
        Delay::Never(Never::Never)
    } else {
        Delay::Ms(*delays.last().expect("total > 0 and never == 0"))
    };
    (Some(median), Some(max))
}

impl Report {
    /// Builds the report of a finished run.
    pub fn new(scenario: &Scenario, seed: u64, run: RunResult, started_at: String) -> Report {
        let span_s = run.span as f64 / 1_000.0;
        let timed_ns: u128 = run.lanes.iter().map(|lane| lane.metrics.timed_ns).sum();
        let strategies = run
            .lanes
            .into_iter()
            .map(|lane| figures(lane, span_s))
            .collect();
        Report {
            tool: Tool::current(),
            scenario: ScenarioInfo::of(scenario),
            seed,
            run: RunInfo {
                started_at,
                wall_ms: run.wall_ns as f64 / 1e6,
                timed_ms: timed_ns as f64 / 1e6,
                wall_per_timed: if timed_ns == 0 {
                    0.0
                } else {
                    run.wall_ns as f64 / timed_ns as f64
                },
                users: scenario.users(),
                events: run.events,
                requests: run.requests,
                virtual_span_ms: run.span,
                peak_active_users: run.peak_active_users,
            },
            machine: Machine::current(),
            strategies,
            reference: None,
        }
    }

    /// Label of the reference strategy for relative figures: the one
    /// `reference` names, or the first.
    pub fn reference_label(&self) -> &str {
        match &self.reference {
            Some(label) => label,
            None => self.strategies.first().map_or("", |s| s.label.as_str()),
        }
    }
}

fn figures(lane: LaneResult, span_s: f64) -> StrategyFigures {
    let mut m = lane.metrics;
    let verifies = m.verify.count;
    let per_request = |n: u64| {
        if verifies == 0 {
            0.0
        } else {
            n as f64 / verifies as f64
        }
    };
    let total = m.total_ops();
    let (rev_median, rev_max) = delay_summary(&mut m.revocation.delays, m.revocation.never);
    let (stale_median, stale_max) = delay_summary(&mut m.staleness.delays, m.staleness.never);
    StrategyFigures {
        label: lane.setup.label.clone(),
        strategy: lane.setup.options.kind_name().to_string(),
        settings: lane
            .setup
            .options
            .settings()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .chain([("store".to_string(), lane.setup.store.to_string())])
            .collect(),
        store: lane.store,
        requests: RequestFigures {
            verifies,
            accepted: m.accepted,
            rejected: m.rejected,
            signed_out: m.signed_out_requests,
            forced_sign_ins: m.forced_sign_ins,
        },
        store_ops: StoreFigures {
            reads_per_request: per_request(m.verify.ops.reads),
            writes_per_request: per_request(m.verify.ops.writes),
            login: (&m.login).into(),
            logout: (&m.logout).into(),
            revoke: (&m.revoke).into(),
            profile_update: (&m.profile_update).into(),
            total_reads: total.reads,
            total_writes: total.writes,
            projected_ops_per_second: if span_s > 0.0 {
                total.total() as f64 / span_s
            } else {
                0.0
            },
        },
        cookies: CookieFigures {
            bytes_median: quantile_of_counts(&m.cookie_bytes, 0.5).unwrap_or(0),
            bytes_max: m.cookie_bytes.max().unwrap_or(0),
            max_chunks: m.max_chunks,
            set_cookie_bytes_per_response: per_request(m.set_cookie_bytes),
            set_cookie_responses: m.set_cookie_responses,
        },
        latency: LatencyFigures {
            verify: Percentiles::of(&m.verify_latency),
            login: Percentiles::of(&m.login_latency),
            timed_ms: m.timed_ns as f64 / 1e6,
            verify_histogram: Some(histogram::encode(&m.verify_latency)),
        },
        server_state: StateFigures {
            bytes: lane.state.bytes,
            entries: lane.state.entries,
            bytes_per_entry: if lane.state.entries == 0 {
                0.0
            } else {
                lane.state.bytes as f64 / lane.state.entries as f64
            },
        },
        revocation: RevocationFigures {
            tracked: m.revocation.tracked,
            rejected: m.revocation.delays.len() as u64,
            never: m.revocation.never,
            unprobed: m.revocation.unprobed,
            median_delay_ms: rev_median,
            max_delay_ms: rev_max,
            resolution_ms: m.revocation.resolution,
            stale_accepts: m.revocation.stale_accepts,
            last_accept_ms: m.revocation.last_accept,
            samples: std::mem::take(&mut m.revocation.samples),
        },
        staleness: StalenessFigures {
            profile_changes: m.staleness.changes,
            caught_up: m.staleness.delays.len() as u64,
            never: m.staleness.never,
            unobserved: m.staleness.unobserved,
            median_delay_ms: stale_median,
            max_delay_ms: stale_max,
            stale_reads: m.staleness.stale_reads,
        },
    }
}

impl Machine {
    /// Describes the machine this process runs on.
    pub fn current() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".to_string());
        Machine {
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            kernel,
        }
    }
}

/// Returns the JSON Schema of results files, generated from [`Report`].
/// `results/schema.json` ships this schema, and a test keeps it current.
pub fn results_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).expect("a schema serializes to JSON")
}

/// Returns the JSON Schema of `load` results files, generated from
/// [`load::LoadReport`]. `results/load-schema.json` ships this schema.
pub fn load_results_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(load::LoadReport))
        .expect("a schema serializes to JSON")
}

/// Formats nanoseconds with a unit: `850 ns`, `1.62 µs`, `3.1 ms`.
pub fn format_nanos(ns: u64) -> String {
    match ns {
        0..=999 => format!("{ns} ns"),
        1_000..=9_999 => format!("{:.2} µs", ns as f64 / 1e3),
        10_000..=999_999 => format!("{:.1} µs", ns as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.2} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}

/// Formats nanoseconds as microseconds with three significant digits.
pub fn format_micros(ns: u64) -> String {
    let us = ns as f64 / 1e3;
    if us < 10.0 {
        format!("{us:.2}")
    } else if us < 100.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.0}")
    }
}

/// Writes a count with its noun, singular for 1: `1 user`, `2 users`.
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// Formats a per-request ratio: integers plainly, others with 3 decimals.
pub fn format_ratio(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

/// Revocation delay for tables: `median / max`, or `-` when unprobed.
pub fn format_delays(median: Option<Delay>, max: Option<Delay>) -> String {
    match (median, max) {
        (Some(median), Some(max)) if median == max => median.to_string(),
        (Some(median), Some(max)) => format!("{median} / {max}"),
        _ => "-".to_string(),
    }
}

#[cfg(test)]
mod count_tests {
    use super::count;

    #[test]
    fn count_uses_singular_for_one() {
        assert_eq!(count(1, "user", "users"), "1 user");
        assert_eq!(count(0, "user", "users"), "0 users");
        assert_eq!(count(2, "strategy", "strategies"), "2 strategies");
    }
}
