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
        "relative: store reads / request and verify p50 as multiples of those of\n  {} (--reference); - when its value is 0.",
        report.reference_label()
    )
}

/// Lines printed under the table to explain the columns, after
/// [`relative_legend`].
pub(crate) const LEGEND: &[&str] = &[
    "store reads, writes / request: store operations per verify; login ops: per",
    "  sign-in.",
    "cookie bytes: the Cookie header part carrying the credential.",
    "Set-Cookie bytes/resp: mean per verify response, 0 when nothing is re-issued.",
    "verify µs: wall-clock time per verify call. Every other figure uses the",
    "  virtual clock and is exact for the scenario and seed.",
    "revocation delay: virtual time from a sign-out or ban until a copied or",
    "  still-held cookie is first rejected. never: still accepted at its last use.",
    "  probes: how far apart the presentations around that rejection were. last",
    "  accept: the latest accept of a revoked cookie, when a node's cache accepted",
    "  it after a rejection.",
    "state bytes / session: store bytes per live session at the end of the run;",
    "  0 when no session or denylist entry is live then.",
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
/// does not, it is drawn transposed, one column per strategy, split into
/// several tables of as many strategies as fit the width side by side.
pub fn render_table(report: &Report, style: TableStyle) -> String {
    let header: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = report
        .strategies
        .iter()
        .map(|s| row_cells(report, s))
        .collect();
    let table = new_table(style, header, rows, ContentArrangement::Disabled);
    let natural = table.lines().next().map_or(0, |line| line.chars().count());
    let tables = match style.width {
        Some(width) if natural > usize::from(width) => transposed(report, style, width),
        _ => vec![table],
    };
    let mut out = title(report);
    out.push('\n');
    for table in tables {
        out.push_str(&table.to_string());
        out.push('\n');
    }
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
        "run: {:.2} s wall, {:.2} s in timed sign-in and verify calls (wall/timed {:.2}x)",
        report.run.wall_ms / 1e3,
        report.run.timed_ms / 1e3,
        report.run.wall_per_timed,
    )
}

/// Columns a cell needs so that wrapping breaks it only at spaces: its
/// longest word.
fn longest_word(text: &str) -> usize {
    text.split_whitespace()
        .map(|word| word.chars().count())
        .max()
        .unwrap_or(0)
}

/// Draws the transposed table, one column per strategy, as several tables
/// when the strategies do not fit `width` side by side. Each strategy
/// column is at least as wide as its longest word, so that wrapping
/// breaks cells only at spaces.
fn transposed(report: &Report, style: TableStyle, width: u16) -> Vec<Table> {
    let figures: Vec<String> = HEADERS[1..].iter().map(|h| h.replace('\n', " ")).collect();
    let columns: Vec<(String, Vec<String>)> = report
        .strategies
        .iter()
        .map(|s| {
            let cells = row_cells(report, s)[1..]
                .iter()
                .map(|c| c.replace('\n', " "))
                .collect();
            (s.label.clone(), cells)
        })
        .collect();
    // A column takes its content plus one space of padding on each side
    // and one border.
    let first_width = figures.iter().map(|f| f.chars().count()).max().unwrap_or(0) + 3 + 1;
    let min_width = |(label, cells): &(String, Vec<String>)| {
        cells
            .iter()
            .map(|c| longest_word(c))
            .chain([longest_word(label)])
            .max()
            .unwrap_or(0)
            + 3
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut used = first_width;
    for (index, column) in columns.iter().enumerate() {
        let needed = min_width(column);
        match groups.last_mut() {
            Some(group) if used + needed <= usize::from(width) => group.push(index),
            _ => {
                groups.push(vec![index]);
                used = first_width;
            }
        }
        used += needed;
    }
    groups
        .into_iter()
        .map(|group| {
            let mut header = vec!["figure".to_string()];
            header.extend(group.iter().map(|&i| columns[i].0.clone()));
            let rows = figures
                .iter()
                .enumerate()
                .map(|(row, name)| {
                    let mut cells = vec![name.clone()];
                    cells.extend(group.iter().map(|&i| columns[i].1[row].clone()));
                    cells
                })
                .collect();
            let mut table = new_table(style, header, rows, ContentArrangement::Dynamic);
            if let Some(first) = table.column_mut(0) {
                first.set_constraint(ColumnConstraint::ContentWidth);
            }
            for (position, &i) in group.iter().enumerate() {
                let floor = (min_width(&columns[i]) - 1) as u16;
                if let Some(column) = table.column_mut(position + 1) {
                    column.set_constraint(ColumnConstraint::LowerBoundary(
                        comfy_table::Width::Fixed(floor),
                    ));
                }
            }
            table
        })
        .collect()
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
        "{} (seed {}): {}, {} over {} of virtual time",
        report.scenario.name,
        report.seed,
        super::count(report.run.users, "user", "users"),
        super::count(report.run.requests, "request", "requests"),
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
