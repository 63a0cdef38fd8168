//! The comparison table as GitHub-flavoured Markdown, for design documents.

use super::table::{headers, relative_legend, row_cells, title, LEGEND};
use super::Report;

/// Renders a Markdown table with the same columns as the terminal table.
pub fn render_markdown(report: &Report) -> String {
    let mut out = format!("### {}\n\n", title(report));
    let headers: Vec<String> = headers().iter().map(|h| h.replace('\n', " ")).collect();
    out.push_str(&format!("| {} |\n", headers.join(" | ")));
    let rule: Vec<&str> = headers
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for strategy in &report.strategies {
        let cells: Vec<String> = row_cells(report, strategy)
            .iter()
            .map(|c| c.replace('|', "\\|"))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    out.push_str(&format!("- {}\n", relative_legend(report)));
    for line in LEGEND {
        out.push_str(&format!("- {line}\n"));
    }
    out
}
