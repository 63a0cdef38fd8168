//! One CSV row per strategy with raw numbers, for spreadsheets and scripts.

use super::{Delay, Report};

const COLUMNS: &[&str] = &[
    "scenario",
    "label",
    "strategy",
    "store",
    "verifies",
    "accepted",
    "rejected",
    "forced_sign_ins",
    "store_reads_per_request",
    "store_writes_per_request",
    "login_reads",
    "login_writes",
    "logout_reads",
    "logout_writes",
    "cookie_bytes_median",
    "cookie_bytes_max",
    "max_chunks",
    "set_cookie_bytes_per_response",
    "verify_p50_ns",
    "verify_p90_ns",
    "verify_p99_ns",
    "verify_p999_ns",
    "verify_max_ns",
    "login_p50_ns",
    "server_state_bytes",
    "server_state_entries",
    "revocation_median_ms",
    "revocation_max_ms",
    "revocation_resolution_ms",
    "stale_accepts",
    "staleness_max_ms",
    "stale_reads",
    "projected_store_ops_per_second",
];

fn delay(d: Option<Delay>) -> String {
    match d {
        Some(Delay::Ms(ms)) => ms.to_string(),
        Some(Delay::Never(_)) => "never".to_string(),
        None => String::new(),
    }
}

/// Renders the CSV text, header first. The first column names the
/// scenario, so that the rows of several runs can share one header.
pub fn render_csv(report: &Report) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(COLUMNS)
        .expect("writing to memory cannot fail");
    for s in &report.strategies {
        let record = [
            report.scenario.name.clone(),
            s.label.clone(),
            s.strategy.clone(),
            s.store.clone(),
            s.requests.verifies.to_string(),
            s.requests.accepted.to_string(),
            s.requests.rejected.to_string(),
            s.requests.forced_sign_ins.to_string(),
            s.store_ops.reads_per_request.to_string(),
            s.store_ops.writes_per_request.to_string(),
            s.store_ops.login.reads_per_action.to_string(),
            s.store_ops.login.writes_per_action.to_string(),
            s.store_ops.logout.reads_per_action.to_string(),
            s.store_ops.logout.writes_per_action.to_string(),
            s.cookies.bytes_median.to_string(),
            s.cookies.bytes_max.to_string(),
            s.cookies.max_chunks.to_string(),
            s.cookies.set_cookie_bytes_per_response.to_string(),
            s.latency.verify.p50_ns.to_string(),
            s.latency.verify.p90_ns.to_string(),
            s.latency.verify.p99_ns.to_string(),
            s.latency.verify.p999_ns.to_string(),
            s.latency.verify.max_ns.to_string(),
            s.latency.login.p50_ns.to_string(),
            s.server_state.bytes.to_string(),
            s.server_state.entries.to_string(),
            delay(s.revocation.median_delay_ms),
            delay(s.revocation.max_delay_ms),
            s.revocation.resolution_ms.to_string(),
            s.revocation.stale_accepts.to_string(),
            delay(s.staleness.max_delay_ms),
            s.staleness.stale_reads.to_string(),
            s.store_ops.projected_ops_per_second.to_string(),
        ];
        writer
            .write_record(&record)
            .expect("writing to memory cannot fail");
    }
    let bytes = writer.into_inner().expect("flushing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}
