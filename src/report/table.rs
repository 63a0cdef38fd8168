//! The comparison table: one row per strategy, units in the headers.

use std::io::IsTerminal;

use crate::time::Span;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table};

use super::{format_delays, format_micros, format_ratio, Delay, Report, StrategyFigures};

/// Column headers, each with its unit.
pub(crate) const HEADERS: &[&str] = &[
    "strategy",
    "relative\nreads/p50",
    "store reads\n/ request",
    "store writes\n/ request",
    "login ops\nreads/writes",
    "cookie bytes\np50/max",
    "Set-Cookie\nbytes/resp",
    "chunks",
    "verify µs\np50/p99",
    "state bytes\n/ session",
    "revocation delay\nmedian/max",
    "stale\naccepts",
    "profile staleness\nmax (stale reads)",
    "store\nops/s",
];

/// Explains the relative column, naming the reference strategy.
pub(crate) fn relative_legend(report: &Report) -> String {
    format!(
        "relative: store reads / request and verify p50 as multiples of those of {}\n  (--reference); - when its value is 0.",
        report.reference_label()
    )
}

/// Lines printed under the table to explain the columns, after
/// [`relative_legend`].
pub(crate) const LEGEND: &[&str] = &[
    "store reads, writes / request: store operations per verify; login ops: per sign-in.",
    "cookie bytes: the Cookie header part carrying the credential.",
    "Set-Cookie bytes/resp: mean per verify response, 0 when nothing is re-issued.",
    "verify µs: wall-clock time per verify call. Every other figure uses the virtual clock",
    "  and is exact for the scenario and seed.",
    "revocation delay: virtual time from a sign-out or ban until a copied or still-held",
    "  cookie is first rejected; never = still accepted at its last use; probes = how",
    "  far apart the presentations around that rejection were; last accept = latest",
    "  accept of a revoked cookie, when a node's cache accepted it after a rejection.",
    "stale accepts: requests accepted with an already revoked credential.",
    "profile staleness: time until each signed-in device sees a profile change.",
    "store ops/s: every store operation of the run over its virtual duration.",
];

/// The cells of one row, in [`HEADERS`] order.
pub(crate) fn row_cells(report: &Report, s: &StrategyFigures) -> Vec<String> {
    let ops = &s.store_ops;
    let staleness = match (&s.staleness.max_delay_ms, s.staleness.profile_changes) {
        (_, 0) => "-".to_string(),
        (Some(max), _) => format!("{max} ({})", s.staleness.stale_reads),
        (None, _) => format!("- ({})", s.staleness.stale_reads),
    };
    let revocation = format_delays(s.revocation.median_delay_ms, s.revocation.max_delay_ms);
    let revocation = if s.revocation.resolution_ms > 0 && s.revocation.rejected > 0 {
        format!(
            "{revocation}\n(probes ±{})",
            Span(s.revocation.resolution_ms).rounded()
        )
    } else {
        revocation
    };
    // A credential accepted again after its first rejection (a cache on
    // another node) is revoked everywhere only at its last accept.
    let revocation = match s.revocation.max_delay_ms {
        Some(Delay::Ms(max)) if s.revocation.last_accept_ms > max => format!(
            "{revocation}\nlast accept +{}",
            Span(s.revocation.last_accept_ms).rounded()
        ),
        _ => revocation,
    };
    vec![
        s.label.clone(),
        relative_cell(report, s),
        format_ratio(ops.reads_per_request),
        format_ratio(ops.writes_per_request),
        format!(
            "{}/{}",
            format_ratio(ops.login.reads_per_action),
            format_ratio(ops.login.writes_per_action)
        ),
        format!("{}/{}", s.cookies.bytes_median, s.cookies.bytes_max),
        format!("{:.0}", s.cookies.set_cookie_bytes_per_response),
        s.cookies.max_chunks.to_string(),
        format!(
            "{}/{}",
            format_micros(s.latency.verify.p50_ns),
            format_micros(s.latency.verify.p99_ns)
        ),
        if s.server_state.entries == 0 {
            "0".to_string()
        } else {
            format!("{:.0}", s.server_state.bytes_per_entry)
        },
        revocation,
        s.revocation.stale_accepts.to_string(),
        staleness,
        format!("{:.2}", ops.projected_ops_per_second),
    ]
}

/// Formats store reads per request and verify p50 relative to the
/// reference strategy, such as `3.0x/0.8x`.
fn relative_cell(report: &Report, s: &StrategyFigures) -> String {
    let reference_label = report.reference_label();
    if s.label == reference_label {
        return "reference".to_string();
    }
    let Some(reference) = report
        .strategies
        .iter()
        .find(|r| r.label == reference_label)
    else {
        return "-".to_string();
    };
    let reads = relative(
        s.store_ops.reads_per_request,
        reference.store_ops.reads_per_request,
    );
    let p50 = relative(
        s.latency.verify.p50_ns as f64,
        reference.latency.verify.p50_ns as f64,
    );
    format!("{reads}/{p50}")
}

/// Formats `value / reference` as `0.25x`, `3.1x` or `42x`, or `-` when the
/// reference is 0.
fn relative(value: f64, reference: f64) -> String {
    if reference == 0.0 {
        return "-".to_string();
    }
    let ratio = value / reference;
    if ratio == 0.0 {
        "0x".to_string()
    } else if ratio < 1.0 {
        format!("{ratio:.2}x")
    } else if ratio < 10.0 {
        format!("{ratio:.1}x")
    } else {
        format!("{ratio:.0}x")
    }
}

/// How the terminal table is drawn.
#[derive(Clone, Copy, Debug)]
pub struct TableStyle {
    /// Bold headers; off when `NO_COLOR` is set or stdout is not a terminal.
    pub color: bool,
    /// Maximum width in columns, if known.
    pub width: Option<u16>,
}

impl TableStyle {
    /// Detects the style from the environment and stdout.
    pub fn detect() -> Self {
        let terminal = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .or_else(|| if terminal { Table::new().width() } else { None });
        TableStyle {
            color: terminal && !no_color,
            width,
        }
    }
}

/// Renders the terminal table with a title line and the legend.
///
/// The table has one row per strategy when it fits the width. When it
/// does not, it is drawn transposed, one column per strategy, which fits
/// 80 columns for a handful of strategies.
pub fn render_table(report: &Report, style: TableStyle) -> String {
    let header: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = report
        .strategies
        .iter()
        .map(|s| row_cells(report, s))
        .collect();
    let mut table = new_table(style, header, rows, ContentArrangement::Disabled);
    let natural = table.lines().next().map_or(0, |line| line.chars().count());
    if style
        .width
        .is_some_and(|width| natural > usize::from(width))
    {
        table = transposed(report, style);
    }
    let mut out = title(report);
    out.push('\n');
    out.push_str(&table.to_string());
    out.push('\n');
    out.push_str(&relative_legend(report));
    out.push('\n');
    for line in LEGEND {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&harness_line(report));
    out.push('\n');
    out
}

/// One line on the run's wall time against the time inside timed calls.
pub fn harness_line(report: &Report) -> String {
    format!(
        "run: {:.2} s wall, {:.2} s inside timed sign-in and verify calls (wall/timed {:.2}x)",
        report.run.wall_ms / 1e3,
        report.run.timed_ms / 1e3,
        report.run.wall_per_timed,
    )
}

fn transposed(report: &Report, style: TableStyle) -> Table {
    let mut header = vec!["figure".to_string()];
    header.extend(report.strategies.iter().map(|s| s.label.clone()));
    let cells: Vec<Vec<String>> = report
        .strategies
        .iter()
        .map(|s| row_cells(report, s))
        .collect();
    let rows = HEADERS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, name)| {
            let mut row = vec![name.replace('\n', " ")];
            row.extend(cells.iter().map(|c| c[i].replace('\n', " ")));
            row
        })
        .collect();
    let mut table = new_table(style, header, rows, ContentArrangement::Dynamic);
    if let Some(first) = table.column_mut(0) {
        first.set_constraint(ColumnConstraint::ContentWidth);
    }
    table
}

fn new_table(
    style: TableStyle,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    arrangement: ContentArrangement,
) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_content_arrangement(arrangement);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if let Some(width) = style.width {
        table.set_width(width);
    }
    table.set_header(header.into_iter().map(|h| {
        let cell = Cell::new(h);
        if style.color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for row in rows {
        table.add_row(row.into_iter().enumerate().map(|(i, text)| {
            let cell = Cell::new(text);
            if i == 0 {
                cell
            } else {
                cell.set_alignment(CellAlignment::Right)
            }
        }));
    }
    table
}

/// One line naming the scenario, seed and workload size.
pub(crate) fn title(report: &Report) -> String {
    format!(
        "{} (seed {}): {} users, {} requests over {} of virtual time",
        report.scenario.name,
        report.seed,
        report.run.users,
        report.run.requests,
        Span(report.run.virtual_span_ms).rounded(),
    )
}

#[cfg(test)]
mod relative_tests {
    use super::*;

    #[test]
    fn relative_formats_ratio() {
        assert_eq!(relative(3.0, 1.0), "3.0x");
        assert_eq!(relative(0.0, 1.0), "0x");
        assert_eq!(relative(1.0, 4.0), "0.25x");
        assert_eq!(relative(42.0, 1.0), "42x");
        assert_eq!(relative(1.0, 0.0), "-");
    }
}
