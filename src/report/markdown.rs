//! The comparison table as GitHub-flavoured Markdown, for design documents.

use super::table::{relative_legend, row_cells, title, HEADERS, LEGEND};
use super::Report;

/// Renders a Markdown table with the same columns as the terminal table.
pub fn render_markdown(report: &Report) -> String {
    let mut out = format!("### {}\n\n", title(report));
    let headers: Vec<String> = HEADERS.iter().map(|h| h.replace('\n', " ")).collect();
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
            .map(|c| c.replace('|', "\\|").replace('\n', " "))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    out.push_str(&format!(
        "- {}\n",
        relative_legend(report).replace("\n  ", " ")
    ));
    // Continuation lines of the legend start with two spaces.
    let legend = LEGEND.join("\n").replace("\n  ", " ");
    for line in legend.lines() {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str(&format!("\n{}\n", super::table::harness_line(report)));
    out
}
