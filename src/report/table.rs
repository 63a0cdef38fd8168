//! The comparison table: one row per strategy, units in the headers.

use std::io::IsTerminal;

use crate::time::Span;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, ContentArrangement, Table};

use super::{format_delays, format_nanos, format_ratio, Report, StrategyFigures};

/// Column headers, each with its unit.
pub(crate) const HEADERS: &[&str] = &[
    "strategy",
    "store reads\n/ request",
    "store writes\n/ request",
    "login ops\nreads / writes",
    "cookie bytes\np50 / max",
    "Set-Cookie\nbytes / resp",
    "chunks",
    "verify\np50 / p99",
    "server state\nbytes / session",
    "revocation delay\nmedian / max",
    "stale\naccepts",
    "profile staleness\nmax (stale reads)",
    "store ops/s",
];

/// Lines printed under the table to explain the columns.
pub(crate) const LEGEND: &[&str] = &[
    "store reads, writes / request: store operations per verify; login ops: per sign-in.",
    "cookie bytes: the Cookie header part carrying the credential; Set-Cookie bytes: mean per verify response, 0 when nothing is re-issued.",
    "verify: wall-clock time per verify call. Every other column runs on the virtual clock and is exact for the scenario and seed.",
    "revocation delay: virtual time from a sign-out or ban until a copied or still-held cookie is first rejected; never = still accepted at its last use.",
    "stale accepts: requests accepted with an already revoked credential. profile staleness: time until other devices see a profile change.",
    "store ops/s: every store operation of the run over its virtual duration.",
];

/// The cells of one row, in [`HEADERS`] order.
pub(crate) fn row_cells(s: &StrategyFigures) -> Vec<String> {
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
        format_ratio(ops.reads_per_request),
        format_ratio(ops.writes_per_request),
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
        format!("{:.2}", ops.projected_ops_per_second),
    ]
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
        TableStyle {
            color: terminal && !no_color,
            width,
        }
    }
}

/// Renders the terminal table with a title line and the legend.
pub fn render_table(report: &Report, style: TableStyle) -> String {
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
    table.set_header(HEADERS.iter().map(|h| {
        let cell = Cell::new(h);
        if style.color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for strategy in &report.strategies {
        table.add_row(
            row_cells(strategy)
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let cell = Cell::new(text);
                    if i == 0 {
                        cell
                    } else {
                        cell.set_alignment(CellAlignment::Right)
                    }
                }),
        );
    }
    let mut out = title(report);
    out.push('\n');
    out.push_str(&table.to_string());
    out.push('\n');
    for line in LEGEND {
        out.push_str(line);
        out.push('\n');
    }
    out
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
