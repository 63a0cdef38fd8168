//! Results of `authcmp load`: the JSON saved to
//! `results/<scenario>/<UTC time>-load.json`, and the table, Markdown and
//! CSV forms rendered from it.

use std::path::{Path, PathBuf};

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{histogram, save_files, stem_for, Machine, Percentiles, ScenarioInfo, Tool};
use crate::load::LoadResult;
use crate::scenario::Scenario;

/// A load run, as saved to `results/<scenario>/<time>-load.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadReport {
    pub tool: Tool,
    pub scenario: ScenarioInfo,
    pub run: LoadRunInfo,
    pub machine: Machine,
    pub settings: LoadSettings,
    /// One entry per strategy and concurrency level that finished its timed
    /// phase, in run order: each level in turn, the strategies in scenario
    /// order within it.
    pub results: Vec<LoadFigures>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadRunInfo {
    /// UTC start of the run, RFC 3339.
    pub started_at: String,
    /// Wall time of the whole run in milliseconds, sign-ins included.
    pub wall_ms: f64,
    /// False when Ctrl-C or a store error stopped the run early. `results`
    /// then lists only the strategies and levels that finished.
    pub complete: bool,
}

/// The way requests are sent: a closed or an open loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoadMode {
    /// Each worker sends its next request when the last one returns.
    Closed,
    /// Requests follow a fixed schedule of `rate_per_second` (`--rate`).
    Open,
}

/// The command-line settings of a load run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadSettings {
    /// Worker counts of `--concurrency`, in run order.
    pub concurrency: Vec<usize>,
    pub mode: LoadMode,
    /// Requests per second over all workers (`--rate`), or `null` in a
    /// closed loop.
    pub rate_per_second: Option<f64>,
    /// Wall time of each timed phase, in milliseconds.
    pub duration_ms: u64,
    /// Users signed in before each timed phase, shared out among the
    /// workers.
    pub users: u64,
    /// `--store` with any password replaced by `***`, or `null` when each
    /// strategy ran on the store its scenario gives it.
    pub store: Option<String>,
    pub store_timeout_ms: u64,
    /// `--strategy` names, empty when every strategy of the scenario ran.
    pub strategies: Vec<String>,
}

/// The figures of one strategy at one concurrency level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadFigures {
    pub label: String,
    /// Strategy kind name, such as `authjs-database`.
    pub strategy: String,
    /// The store, with any password replaced by `***`.
    pub store: String,
    pub workers: usize,
    /// Verify calls sent in the timed phase.
    pub requests: u64,
    /// Requests that a store error or a rejected credential failed.
    pub errors: u64,
    /// Store operations of all workers in the timed phase.
    pub store_ops: u64,
    /// Wall time of the timed phase, in milliseconds.
    pub elapsed_ms: f64,
    pub requests_per_second: f64,
    pub store_ops_per_second: f64,
    /// Latency from each request's scheduled start to its end, in
    /// nanoseconds. In a closed loop it equals `uncorrected`.
    pub corrected: Percentiles,
    /// Latency from each call to its return, in nanoseconds.
    pub uncorrected: Percentiles,
    /// The corrected latency histogram in nanoseconds: base64 of
    /// hdrhistogram's V2 serialization.
    pub corrected_histogram: String,
}

impl LoadFigures {
    /// Summarises the measurements of one timed phase.
    pub fn of(result: &LoadResult) -> LoadFigures {
        LoadFigures {
            label: result.label.clone(),
            strategy: result.strategy.clone(),
            store: result.store.clone(),
            workers: result.workers,
            requests: result.requests,
            errors: result.errors,
            store_ops: result.store_ops,
            elapsed_ms: result.elapsed.as_secs_f64() * 1e3,
            requests_per_second: result.throughput(),
            store_ops_per_second: result.store_ops_per_second(),
            corrected: Percentiles::of(&result.corrected),
            uncorrected: Percentiles::of(&result.uncorrected),
            corrected_histogram: histogram::encode(&result.corrected),
        }
    }
}

impl LoadReport {
    /// Builds the report of a load run from the results that finished.
    pub fn new(
        scenario: &Scenario,
        settings: LoadSettings,
        results: &[LoadResult],
        started_at: String,
        wall: std::time::Duration,
        complete: bool,
    ) -> LoadReport {
        LoadReport {
            tool: Tool::current(),
            scenario: ScenarioInfo::of(scenario),
            run: LoadRunInfo {
                started_at,
                wall_ms: wall.as_secs_f64() * 1e3,
                complete,
            },
            machine: Machine::current(),
            settings,
            results: results.iter().map(LoadFigures::of).collect(),
        }
    }
}

/// Extensions of the files that [`save`] writes for a load run, the JSON
/// first.
pub const LOAD_FILES: [&str; 2] = ["json", "md"];

/// Saves the JSON and Markdown of `report` to
/// `dir/<scenario>/<UTC time>-load.{json,md}`, returning the JSON path.
pub fn save(report: &LoadReport, dir: &Path) -> std::io::Result<PathBuf> {
    let stem = format!("{}-load", stem_for(&report.run.started_at));
    let contents = [render_json(report), render_markdown(report)];
    let files: Vec<(&str, String)> = LOAD_FILES.into_iter().zip(contents).collect();
    save_files(&dir.join(&report.scenario.name), &stem, &files)
}

/// Renders the report as pretty-printed JSON, as [`save`] writes it.
pub fn render_json(report: &LoadReport) -> String {
    serde_json::to_string_pretty(report).expect("load reports serialize to JSON") + "\n"
}

const HEADERS: [&str; 10] = [
    "strategy",
    "store",
    "workers",
    "req/s",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "max µs",
    "store ops/s",
    "errors",
];

/// Lines printed under the table to explain the columns.
const LEGEND: [&str; 3] = [
    "latency: corrected, from each request's scheduled start (uncorrected, from the call).",
    "In a closed loop both are the same. errors: store errors and rejected credentials.",
    "store ops/s: store operations of all workers over the timed phase.",
];

/// Explains why rows are missing from a run that stopped early.
const INCOMPLETE: &str =
    "stopped before the end: only the strategies and levels that finished are shown.";

/// Describes the users, duration and mode of the run, for the heading.
fn summary(report: &LoadReport) -> String {
    let settings = &report.settings;
    let mode = match settings.rate_per_second {
        Some(rate) => format!("open loop at {rate} requests/s"),
        None => "closed loop".to_string(),
    };
    format!(
        "{} signed in, {} per level, {mode}",
        super::count(settings.users, "user", "users"),
        humantime::format_duration(std::time::Duration::from_millis(settings.duration_ms))
    )
}

/// Formats a latency in microseconds, or `-` when nothing was measured.
fn micros(percentiles: &Percentiles, ns: u64) -> String {
    if percentiles.count == 0 {
        return "-".to_string();
    }
    let us = ns as f64 / 1_000.0;
    if us >= 100.0 {
        format!("{us:.0}")
    } else {
        format!("{us:.1}")
    }
}

/// Formats the cells of one row, in [`HEADERS`] order.
fn row_cells(figures: &LoadFigures) -> Vec<String> {
    let pair = |pick: fn(&Percentiles) -> u64| {
        format!(
            "{} ({})",
            micros(&figures.corrected, pick(&figures.corrected)),
            micros(&figures.uncorrected, pick(&figures.uncorrected))
        )
    };
    vec![
        figures.label.clone(),
        figures.store.clone(),
        figures.workers.to_string(),
        format!("{:.0}", figures.requests_per_second),
        pair(|p| p.p50_ns),
        pair(|p| p.p99_ns),
        pair(|p| p.p999_ns),
        pair(|p| p.max_ns),
        format!("{:.0}", figures.store_ops_per_second),
        figures.errors.to_string(),
    ]
}

/// Renders the terminal table with its legend.
pub fn render_table(report: &LoadReport) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(HEADERS.to_vec());
    for figures in &report.results {
        table.add_row(row_cells(figures));
    }
    for column in table.column_iter_mut().skip(2) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    let mut out = format!("load: {}\n{table}\n", summary(report));
    for line in LEGEND {
        out.push_str(line);
        out.push('\n');
    }
    if !report.run.complete {
        out.push_str(INCOMPLETE);
        out.push('\n');
    }
    out
}

/// Renders a GitHub-flavoured Markdown table with the same columns as the
/// terminal table.
pub fn render_markdown(report: &LoadReport) -> String {
    let mut out = format!(
        "### load of {}: {}\n\n",
        report.scenario.name,
        summary(report)
    );
    out.push_str(&format!("| {} |\n", HEADERS.join(" | ")));
    let rule: Vec<&str> = (0..HEADERS.len())
        .map(|i| if i < 2 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for figures in &report.results {
        let cells: Vec<String> = row_cells(figures)
            .iter()
            .map(|c| c.replace('|', "\\|"))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    for line in LEGEND {
        out.push_str(&format!("- {line}\n"));
    }
    if !report.run.complete {
        out.push_str(&format!("- {INCOMPLETE}\n"));
    }
    let machine = &report.machine;
    out.push_str(&format!(
        "\nrun: started {}, {:.2} s wall, {} CPUs ({}), authcmp {}\n",
        report.run.started_at,
        report.run.wall_ms / 1e3,
        machine.cpus,
        machine.cpu_model,
        report.tool.version
    ));
    out
}

const CSV_COLUMNS: [&str; 21] = [
    "scenario",
    "label",
    "strategy",
    "store",
    "workers",
    "requests",
    "errors",
    "store_ops",
    "elapsed_ms",
    "requests_per_second",
    "store_ops_per_second",
    "corrected_p50_ns",
    "corrected_p90_ns",
    "corrected_p99_ns",
    "corrected_p999_ns",
    "corrected_max_ns",
    "uncorrected_p50_ns",
    "uncorrected_p90_ns",
    "uncorrected_p99_ns",
    "uncorrected_p999_ns",
    "uncorrected_max_ns",
];

/// Renders one CSV row per strategy and level with raw numbers, header
/// first.
pub fn render_csv(report: &LoadReport) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(CSV_COLUMNS)
        .expect("writing to memory cannot fail");
    for f in &report.results {
        let record = [
            report.scenario.name.clone(),
            f.label.clone(),
            f.strategy.clone(),
            f.store.clone(),
            f.workers.to_string(),
            f.requests.to_string(),
            f.errors.to_string(),
            f.store_ops.to_string(),
            f.elapsed_ms.to_string(),
            f.requests_per_second.to_string(),
            f.store_ops_per_second.to_string(),
            f.corrected.p50_ns.to_string(),
            f.corrected.p90_ns.to_string(),
            f.corrected.p99_ns.to_string(),
            f.corrected.p999_ns.to_string(),
            f.corrected.max_ns.to_string(),
            f.uncorrected.p50_ns.to_string(),
            f.uncorrected.p90_ns.to_string(),
            f.uncorrected.p99_ns.to_string(),
            f.uncorrected.p999_ns.to_string(),
            f.uncorrected.max_ns.to_string(),
        ];
        writer
            .write_record(&record)
            .expect("writing to memory cannot fail");
    }
    let bytes = writer.into_inner().expect("flushing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}
