//! A self-contained HTML page per run: the comparison table, its legend and
//! the charts as inline SVG.
//!
//! The markup is also well-formed XML, so tests can parse it with an XML
//! parser.

use super::table::{relative_legend, row_cells, title, HEADERS, LEGEND};
use super::{format_nanos, Report};

/// Styles for the page; the table scrolls sideways when it is wider than
/// the window.
const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.25em; }
h2 { font-size: 1.15em; margin-top: 1.6em; }
.meta { color: #555; font-size: 0.9em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.7em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.3em; text-align: right; }
th { background: #f2f2f2; vertical-align: bottom; }
td:first-child { white-space: nowrap; }
td:first-child, th:first-child { text-align: left; }
ul.legend { font-size: 0.85em; color: #444; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
";

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A chart for the page: a heading, the SVG and a caption saying how to
/// read it.
pub struct Chart<'a> {
    pub heading: &'a str,
    pub svg: &'a str,
    pub caption: &'a str,
}

/// Renders the page with the table, the legend and `charts` inline.
pub fn render_html(report: &Report, charts: &[Chart]) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    out.push_str(&format!(
        "<title>authcmp: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&report.scenario.name)
    ));
    out.push_str(&format!("<h1>{}</h1>\n", escape(&title(report))));
    if !report.scenario.description.is_empty() {
        out.push_str(&format!(
            "<p>{}</p>\n",
            escape(&report.scenario.description)
        ));
    }
    out.push_str(&format!(
        "<p class=\"meta\">{} {}, started {}, {:.0} ms of wall time; {} on {} ({} CPUs, {}); scenario {}</p>\n",
        escape(&report.tool.name),
        escape(&report.tool.version),
        escape(&report.run.started_at),
        report.run.wall_ms,
        escape(&report.machine.cpu_model),
        escape(&report.machine.os),
        report.machine.cpus,
        escape(&report.machine.arch),
        escape(&report.scenario.path),
    ));

    out.push_str("<div class=\"scroll\">\n<table>\n<thead>\n<tr>");
    for header in HEADERS {
        out.push_str(&format!(
            "<th>{}</th>",
            escape(header).replace('\n', "<br/>")
        ));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for strategy in &report.strategies {
        out.push_str("<tr>");
        for cell in row_cells(report, strategy) {
            out.push_str(&format!("<td>{}</td>", escape(&keep_units(&cell))));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n<ul class=\"legend\">\n");
    out.push_str(&format!(
        "<li>{}</li>\n",
        escape(&relative_legend(report).replace("\n  ", " "))
    ));
    // Continuation lines of the legend start with two spaces.
    let legend = LEGEND.join("\n").replace("\n  ", " ");
    for line in legend.lines() {
        out.push_str(&format!("<li>{}</li>\n", escape(line)));
    }
    out.push_str("</ul>\n");

    for chart in charts {
        out.push_str(&format!(
            "<h2>{}</h2>\n<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
            escape(chart.heading),
            strip_xml_declaration(chart.svg),
            escape(chart.caption)
        ));
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Joins each number to its unit with a no-break space, so that a narrow
/// cell wraps between values and not inside one.
fn keep_units(cell: &str) -> String {
    let mut out = String::new();
    for word in cell.split(' ') {
        if !out.is_empty() {
            let unit = matches!(word, "ns" | "µs" | "ms" | "s");
            out.push(if unit { '\u{a0}' } else { ' ' });
        }
        out.push_str(word);
    }
    out
}

/// Drops an `<?xml ...?>` line, which may not appear inside a document.
fn strip_xml_declaration(svg: &str) -> &str {
    match svg.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(svg, |(_, body)| body.trim_start()),
        None => svg,
    }
}

/// Caption of the latency chart, with the fastest p50 for scale.
pub fn latency_caption(report: &Report) -> String {
    let fastest = report
        .strategies
        .iter()
        .map(|s| s.latency.verify.p50_ns)
        .filter(|&ns| ns > 0)
        .min();
    let scale = fastest.map_or(String::new(), |ns| {
        format!(
            " The fastest median verify here takes {}.",
            format_nanos(ns)
        )
    });
    format!(
        "Wall-clock time per verify call at each percentile; lower is faster, and a line that climbs at the right has a long tail. Latency varies between machines and runs.{scale}"
    )
}

/// Caption of the revocation timeline.
pub const REVOCATION_CAPTION: &str = "Each row is one revoked credential (a copied cookie after sign-out, or a cookie of a banned user), starting at its revocation. Dots are requests the strategy still accepted and grey crosses are requests it rejected. A row of dots with no cross was never rejected. Virtual time, exact for the scenario and seed.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }

    #[test]
    fn units_stay_with_numbers() {
        assert_eq!(
            keep_units("1.03 µs / 2.14 µs"),
            "1.03\u{a0}µs / 2.14\u{a0}µs"
        );
        assert_eq!(keep_units("57 / 57"), "57 / 57");
    }

    #[test]
    fn xml_declaration_stripped() {
        assert_eq!(
            strip_xml_declaration("<?xml version=\"1.0\"?>\n<svg/>"),
            "<svg/>"
        );
        assert_eq!(strip_xml_declaration("<svg/>"), "<svg/>");
    }
}
