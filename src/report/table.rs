//! The comparison table: one row per strategy, units in the headers.

use std::io::IsTerminal;

use crate::time::Span;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, ContentArrangement, Table};

use super::{format_delays, format_nanos, format_ratio, Report, StrategyFigures};

/// Column headers after the first two, each with its unit.
const FIGURE_HEADERS: &[&str] = &[
    "store reads\n/ request",
    "store writes\n/ request",
    "store ops/s",
    "login ops\nreads / writes",
    "cookie bytes\np50 / max",
    "Set-Cookie\nbytes / resp",
    "chunks",
    "verify\np50 / p99",
    "server state\nbytes / session",
    "revocation delay\nmedian / max",
    "stale\naccepts",
    "profile staleness\nmax (stale reads)",
];

/// Returns the column headers: strategy, the relative column, then
/// [`FIGURE_HEADERS`].
pub(crate) fn headers() -> Vec<String> {
    let mut headers = vec!["strategy".to_string(), "relative\nreads / p50".to_string()];
    headers.extend(FIGURE_HEADERS.iter().map(|h| h.to_string()));
    headers
}

/// Explains the relative column, naming the reference strategy.
pub(crate) fn relative_legend(report: &Report) -> String {
    format!(
        "relative: store reads per request and verify p50 as multiples of the reference strategy's, {} (--reference); - when its value is 0.",
        report.reference_label()
    )
}

/// Lines printed under the table to explain the columns, after
/// [`relative_legend`].
pub(crate) const LEGEND: &[&str] = &[
    "store reads, writes / request: store operations per verify; login ops: per sign-in.",
    "cookie bytes: the Cookie header part carrying the credential; Set-Cookie bytes: mean per verify response, 0 when nothing is re-issued.",
    "verify: wall-clock time per verify call. Every other column runs on the virtual clock and is exact for the scenario and seed.",
    "revocation delay: virtual time from a sign-out or ban until a copied or still-held cookie is first rejected; never = still accepted at its last use.",
    "stale accepts: requests accepted with an already revoked credential. profile staleness: time until other devices see a profile change.",
    "store ops/s: every store operation of the run over its virtual duration.",
];

/// The cells of one row, in [`headers`] order.
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
            "{revocation} (probes ±{})",
            Span(s.revocation.resolution_ms).rounded()
        )
    } else {
        revocation
    };
    vec![
        s.label.clone(),
        relative_cell(report, s),
        format_ratio(ops.reads_per_request),
        format_ratio(ops.writes_per_request),
        format!("{:.2}", ops.projected_ops_per_second),
        format!(
            "{} / {}",
            format_ratio(ops.login.reads_per_action),
            format_ratio(ops.login.writes_per_action)
        ),
        format!("{} / {}", s.cookies.bytes_median, s.cookies.bytes_max),
        format!("{:.0}", s.cookies.set_cookie_bytes_per_response),
        s.cookies.max_chunks.to_string(),
        format!(
            "{} / {}",
            format_nanos(s.latency.verify.p50_ns),
            format_nanos(s.latency.verify.p99_ns)
        ),
        if s.server_state.entries == 0 {
            "0".to_string()
        } else {
            format!("{:.0}", s.server_state.bytes_per_entry)
        },
        revocation,
        s.revocation.stale_accepts.to_string(),
        staleness,
    ]
}

/// Formats store reads per request and verify p50 relative to the
/// reference strategy, such as `3.0x / 0.8x`.
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
    format!("{reads} / {p50}")
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
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
        // NOTE: without COLUMNS, render_table queries comfy-table for the
        // terminal's width, which it only knows when stdout is a terminal.
        TableStyle {
            color: terminal && !no_color,
            width,
        }
    }
}

/// Renders the terminal table with a title line and the legend.
///
/// When the table is wider than the terminal (or `COLUMNS`), its columns
/// are split over several tables that each repeat the strategy column, so
/// that no cell has to wrap letter by letter.
pub fn render_table(report: &Report, style: TableStyle) -> String {
    let headers = headers();
    let rows: Vec<Vec<String>> = report
        .strategies
        .iter()
        .map(|s| row_cells(report, s))
        .collect();
    let max_width = style.width.or_else(|| {
        let mut probe = Table::new();
        if !style.color {
            probe.force_no_tty();
        }
        probe.width()
    });

    let mut out = title(report);
    out.push('\n');
    for group in column_groups(&headers, &rows, max_width) {
        out.push_str(&draw(&headers, &rows, &group, style));
        out.push('\n');
    }
    let relative_line = relative_legend(report);
    for line in std::iter::once(relative_line.as_str()).chain(LEGEND.iter().copied()) {
        for wrapped in wrap(line, max_width.map_or(usize::MAX, usize::from)) {
            out.push_str(&wrapped);
            out.push('\n');
        }
    }
    out
}

/// Breaks `text` at spaces into lines of at most `width` characters; a
/// longer word stays whole on its own line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// Draws one table with the columns at `indices`.
fn draw(headers: &[String], rows: &[Vec<String>], indices: &[usize], style: TableStyle) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if let Some(width) = style.width {
        table.set_width(width);
    }
    table.set_header(indices.iter().map(|&i| {
        let cell = Cell::new(&headers[i]);
        if style.color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for row in rows {
        table.add_row(indices.iter().map(|&i| {
            let cell = Cell::new(&row[i]);
            if i == 0 {
                cell
            } else {
                cell.set_alignment(CellAlignment::Right)
            }
        }));
    }
    table.to_string()
}

/// Splits the columns into groups whose tables fit in `max_width`, each
/// starting with the strategy column. A column too wide on its own gets a
/// group of its own, where comfy-table wraps it.
fn column_groups(
    headers: &[String],
    rows: &[Vec<String>],
    max_width: Option<u16>,
) -> Vec<Vec<usize>> {
    let all: Vec<usize> = (0..headers.len()).collect();
    let Some(max_width) = max_width else {
        return vec![all];
    };
    // Content width plus one space of padding on each side and one border.
    let column_width = |i: usize| {
        let text_width = std::iter::once(&headers[i])
            .chain(rows.iter().map(|r| &r[i]))
            .flat_map(|text| text.lines())
            .map(|line| line.chars().count())
            .max()
            .unwrap_or(0);
        text_width + 3
    };
    let first = column_width(0) + 1;
    let mut groups = vec![vec![0]];
    let mut width = first;
    for i in 1..headers.len() {
        let needed = column_width(i);
        let group = groups.last_mut().expect("groups starts non-empty");
        if width + needed <= usize::from(max_width) || group.len() == 1 {
            group.push(i);
            width += needed;
        } else {
            groups.push(vec![0, i]);
            width = first + needed;
        }
    }
    groups
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
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("aa bb cc", 80), ["aa bb cc"]);
        assert_eq!(wrap("abcdefg hi", 3), ["abcdefg", "hi"]);
    }

    #[test]
    fn relative_formats_ratio() {
        assert_eq!(relative(3.0, 1.0), "3.0x");
        assert_eq!(relative(0.0, 1.0), "0x");
        assert_eq!(relative(1.0, 4.0), "0.25x");
        assert_eq!(relative(42.0, 1.0), "42x");
        assert_eq!(relative(1.0, 0.0), "-");
    }
}
