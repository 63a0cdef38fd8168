//! One strategy over a list of values of one option, for `authcmp sweep`.
//!
//! Every value becomes its own setup, validated as a scenario file would
//! validate it, and all setups replay the same event stream in one run.
//! Rows on the Pareto front of store load against maximum revocation
//! delay are marked: no other row has both less load and less delay.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use serde::{Deserialize, Serialize};

use crate::report::plots::SweepPoint;
use crate::report::{format_micros, format_ratio, Delay, Report, StrategyFigures, TableStyle};
use crate::scenario;
use crate::strategy::Setup;

/// The swept strategy, key and values, stored beside the run's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    /// The label or kind name the sweep selected.
    pub strategy: String,
    pub key: String,
    /// The values as given, in the order of `strategies` in the report.
    pub values: Vec<String>,
    /// For each value: whether its row is on the Pareto front.
    pub on_pareto_front: Vec<bool>,
}

/// A sweep as saved to `results/<scenario>/<time>-sweep-<key>.json`: the
/// report of the run, one strategy entry per value, and the sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    pub sweep: SweepInfo,
    #[serde(flatten)]
    pub report: Report,
}

/// Splits `KEY=V1,V2,...` into the key and its values.
pub fn parse_param(arg: &str) -> Result<(String, Vec<String>), String> {
    let Some((key, values)) = arg.split_once('=') else {
        return Err(format!(
            "--param \"{arg}\": expected KEY=V1,V2,..., such as lifetime=5m,15m,1h"
        ));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(format!(
            "--param \"{arg}\": the key is missing; write KEY=V1,V2,..."
        ));
    }
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if let Some(position) = values.iter().position(String::is_empty) {
        return Err(format!(
            "--param \"{arg}\": value {} is empty; separate values with single commas",
            position + 1
        ));
    }
    for (index, value) in values.iter().enumerate() {
        if values[..index].contains(value) {
            return Err(format!(
                "--param \"{arg}\": value \"{value}\" is given twice; list each value once"
            ));
        }
    }
    Ok((key.to_string(), values))
}

/// Reads a value as TOML (`true`, `3`, `0.5`, `"text"`), or as a string
/// when it is not valid TOML, as `5m` is not.
pub fn toml_value(raw: &str) -> toml::Value {
    let parsed = format!("value = {raw}").parse::<toml::Table>();
    match parsed {
        Ok(mut table) if table.len() == 1 => table
            .remove("value")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        _ => toml::Value::String(raw.to_string()),
    }
}

/// Builds one setup per value of `key` for the strategy `selector` names
/// in the scenario `text`. Each setup is labelled `<label> <key>=<value>`.
pub fn plan(
    text: &str,
    selector: &str,
    key: &str,
    values: &[String],
) -> Result<Vec<Setup>, String> {
    let mut setups = Vec::with_capacity(values.len());
    for value in values {
        let mut setup = scenario::strategy_with_key(text, selector, key, toml_value(value))
            .map_err(|message| format!("--param {key}={value}: {message}"))?;
        setup.label = format!("{} {key}={value}", setup.label);
        setups.push(setup);
    }
    Ok(setups)
}

/// Store operations per 1,000 verified requests, reads and writes: every
/// operation of the run, sign-ins (forced ones included), sign-outs and
/// refreshes as well as verifies, since a short token lifetime moves load
/// from verifies to sign-ins.
pub fn ops_per_thousand(figures: &StrategyFigures) -> (f64, f64) {
    let verifies = figures.requests.verifies;
    if verifies == 0 {
        return (0.0, 0.0);
    }
    let per_thousand = |ops: u64| ops as f64 / verifies as f64 * 1_000.0;
    (
        per_thousand(figures.store_ops.total_reads),
        per_thousand(figures.store_ops.total_writes),
    )
}

/// Orders a maximum revocation delay for the Pareto front: `never`, and no
/// measurement at all, count as worse than every finite delay.
pub fn delay_rank(delay: Option<Delay>) -> u64 {
    match delay {
        Some(Delay::Ms(ms)) => ms,
        Some(Delay::Never(_)) | None => u64::MAX,
    }
}

/// Marks the points `(load, delay)` that no other point dominates, where
/// lower is better on both axes. Equal points are all on the front.
pub fn pareto_front(points: &[(f64, u64)]) -> Vec<bool> {
    points
        .iter()
        .map(|&(load, delay)| {
            !points.iter().any(|&(other_load, other_delay)| {
                other_load <= load
                    && other_delay <= delay
                    && (other_load < load || other_delay < delay)
            })
        })
        .collect()
}

/// Builds the sweep report from a finished run.
pub fn sweep_report(report: Report, strategy: &str, key: &str, values: &[String]) -> SweepReport {
    let points: Vec<(f64, u64)> = report
        .strategies
        .iter()
        .map(|s| {
            let (reads, writes) = ops_per_thousand(s);
            (reads + writes, delay_rank(s.revocation.max_delay_ms))
        })
        .collect();
    SweepReport {
        sweep: SweepInfo {
            strategy: strategy.to_string(),
            key: key.to_string(),
            values: values.to_vec(),
            on_pareto_front: pareto_front(&points),
        },
        report,
    }
}

/// Returns the points of the store-load against revocation-delay chart,
/// one per value, with the Pareto front as the table marks it.
pub fn points(sweep: &SweepReport) -> Vec<SweepPoint> {
    sweep
        .report
        .strategies
        .iter()
        .zip(&sweep.sweep.values)
        .zip(&sweep.sweep.on_pareto_front)
        .map(|((s, value), &on_front)| {
            let (reads, writes) = ops_per_thousand(s);
            SweepPoint {
                label: format!("{}={value}", sweep.sweep.key),
                store_ops_per_thousand: reads + writes,
                revocation_delay: s.revocation.max_delay_ms,
                on_front,
            }
        })
        .collect()
}

/// Draws the sweep's store load against maximum revocation delay as SVG.
pub fn render_svg(sweep: &SweepReport) -> Result<String, crate::report::plots::PlotError> {
    crate::report::plots::sweep_svg(&sweep.sweep.strategy, &points(sweep))
}

const HEADERS: &[&str] = &[
    "front",
    "store reads / 1k req",
    "store writes / 1k req",
    "revocation delay median",
    "revocation delay max",
    "stale accepts",
    "verify µs p99",
];

const LEGEND: &[&str] = &[
    "store reads, writes / 1k req: every store operation of the run, sign-ins and",
    "  sign-outs included, per 1,000 verified requests.",
    "*: on the Pareto front of store load (reads + writes per 1,000 requests) against",
    "  max revocation delay, where never counts as the worst delay: no other value has",
    "  less of one and no more of the other.",
    "verify µs p99: wall-clock time per verify call; every other figure uses the virtual",
    "  clock and is exact for the scenario and seed.",
];

fn title(sweep: &SweepReport) -> String {
    let run = &sweep.report.run;
    format!(
        "{} (seed {}): {} over {}, {}, {}",
        sweep.report.scenario.name,
        sweep.report.seed,
        sweep.sweep.strategy,
        sweep.sweep.key,
        crate::report::count(run.users, "user", "users"),
        crate::report::count(run.requests, "request", "requests")
    )
}

fn row_cells(value: &str, on_front: bool, s: &StrategyFigures) -> Vec<String> {
    let (reads, writes) = ops_per_thousand(s);
    let delay = |d: Option<Delay>| d.map_or("-".to_string(), |d| d.to_string());
    vec![
        value.to_string(),
        if on_front { "*" } else { "" }.to_string(),
        format_ratio(reads),
        format_ratio(writes),
        delay(s.revocation.median_delay_ms),
        delay(s.revocation.max_delay_ms),
        s.revocation.stale_accepts.to_string(),
        format_micros(s.latency.verify.p99_ns),
    ]
}

fn rows(sweep: &SweepReport) -> Vec<Vec<String>> {
    sweep
        .sweep
        .values
        .iter()
        .zip(&sweep.sweep.on_pareto_front)
        .zip(&sweep.report.strategies)
        .map(|((value, on_front), figures)| row_cells(value, *on_front, figures))
        .collect()
}

/// Renders the sweep as a terminal table with a title and a legend.
pub fn render_table(sweep: &SweepReport, style: TableStyle) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = style.width {
        table.set_width(width);
    }
    let mut header = vec![sweep.sweep.key.clone()];
    header.extend(HEADERS.iter().map(|h| h.to_string()));
    table.set_header(header);
    for row in rows(sweep) {
        let cells = row.into_iter().enumerate().map(|(i, text)| {
            let cell = Cell::new(text);
            if i == 0 {
                cell
            } else {
                cell.set_alignment(CellAlignment::Right)
            }
        });
        table.add_row(cells);
    }
    format!("{}\n{table}\n{}\n", title(sweep), LEGEND.join("\n"))
}

/// Renders the sweep as a GitHub-flavoured Markdown table with a legend.
pub fn render_markdown(sweep: &SweepReport) -> String {
    let mut out = format!("### {}\n\n", title(sweep));
    let mut header = vec![sweep.sweep.key.clone()];
    header.extend(HEADERS.iter().map(|h| h.to_string()));
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    let rule: Vec<&str> = (0..header.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for row in rows(sweep) {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    // Continuation lines of the legend start with two spaces.
    for line in LEGEND.join("\n").replace("\n  ", " ").lines() {
        out.push_str(&format!("- {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_front_of_handmade_points() {
        let never = u64::MAX;
        let points = [
            (1000.0, 0),     // most load, instant revocation: on the front
            (500.0, 3_600),  // on the front
            (500.0, 7_200),  // dominated by the point above
            (0.0, never),    // no load, never revoked: on the front
            (600.0, 3_600),  // dominated by (500, 3600)
            (0.0, never),    // equal to another front point: on the front too
            (2000.0, never), // dominated by everything
        ];
        assert_eq!(
            pareto_front(&points),
            [true, true, false, true, false, true, false]
        );
    }

    #[test]
    fn pareto_front_of_one_point() {
        assert_eq!(pareto_front(&[(5.0, 5)]), [true]);
        assert!(pareto_front(&[]).is_empty());
    }

    #[test]
    fn values_parse_as_toml_or_strings() {
        assert_eq!(toml_value("5m"), toml::Value::String("5m".into()));
        assert_eq!(toml_value("true"), toml::Value::Boolean(true));
        assert_eq!(toml_value("3"), toml::Value::Integer(3));
        assert_eq!(toml_value("0.5"), toml::Value::Float(0.5));
        assert_eq!(toml_value("\"v4\""), toml::Value::String("v4".into()));
        assert_eq!(
            toml_value("1\nx = 2"),
            toml::Value::String("1\nx = 2".into())
        );
    }

    #[test]
    fn param_splits_key_and_values() {
        assert_eq!(
            parse_param("lifetime=5m, 15m,1h").unwrap(),
            (
                "lifetime".to_string(),
                vec!["5m".into(), "15m".into(), "1h".into()]
            )
        );
        assert!(parse_param("lifetime").unwrap_err().contains("KEY=V1,V2"));
        assert!(parse_param("=5m").unwrap_err().contains("key is missing"));
        assert!(parse_param("lifetime=5m,,1h")
            .unwrap_err()
            .contains("value 2 is empty"));
        assert!(parse_param("lifetime=5m,5m")
            .unwrap_err()
            .contains("given twice"));
    }

    #[test]
    fn delay_rank_puts_never_last() {
        assert_eq!(delay_rank(Some(Delay::Ms(5))), 5);
        assert_eq!(
            delay_rank(Some(Delay::Never(crate::report::Never::Never))),
            u64::MAX
        );
        assert_eq!(delay_rank(None), u64::MAX);
    }
}
