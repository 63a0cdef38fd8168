//! Files a saved run writes next to its JSON: charts as SVG and an HTML
//! page, checked by parsing them, and the probe samples behind the
//! revocation timeline.

use std::path::{Path, PathBuf};

use crate::common::{assert_results_valid, authcmp, data, files_ending};

const LABELS: [&str; 3] = ["authjs-database", "authjs-jwt", "jwt"];

/// Runs the strict scenario and returns the results folder.
fn saved_run(dir: &Path) -> PathBuf {
    let output = authcmp(dir)
        .args(["bench", "--quiet"])
        .arg(data("strict.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "strict.toml misses its thresholds"
    );
    dir.join("results/strict")
}

fn only_file(folder: &Path, suffix: &str) -> String {
    let files = files_ending(folder, suffix);
    assert_eq!(files.len(), 1, "{suffix}: {files:?}");
    std::fs::read_to_string(&files[0]).unwrap()
}

/// Text of every `<text>` element, trimmed.
fn texts(document: &roxmltree::Document) -> Vec<String> {
    document
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect()
}

fn count(texts: &[String], expected: &str) -> usize {
    texts.iter().filter(|t| *t == expected).count()
}

#[test]
fn latency_svg_has_series_per_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let svg = only_file(&saved_run(dir.path()), ".latency.svg");
    let document = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(document.root_element().tag_name().name(), "svg");
    assert_eq!(document.root_element().attribute("width"), Some("800"));

    let texts = texts(&document);
    for label in LABELS {
        assert_eq!(
            count(&texts, label),
            1,
            "legend entry for {label} in {texts:?}"
        );
    }
    assert_eq!(count(&texts, "verify latency (µs, log scale)"), 1);
    assert_eq!(count(&texts, "99%"), 1, "{texts:?}");
    let lines = document
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| n.attribute("stroke-width") == Some("2"))
        .count();
    assert_eq!(
        lines,
        2 * LABELS.len(),
        "a line and a legend sample per strategy"
    );
}

#[test]
fn revocation_svg_has_series_per_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let svg = only_file(&saved_run(dir.path()), ".revocation.svg");
    let document = roxmltree::Document::parse(&svg).unwrap();
    let texts = texts(&document);
    for label in LABELS {
        let legend = format!("{label} (accepted)");
        assert_eq!(count(&texts, &legend), 1, "{legend} in {texts:?}");
        let band = format!("{label}: 2 of 2 tracked credentials shown");
        assert_eq!(count(&texts, &band), 1, "{band} in {texts:?}");
    }
    assert_eq!(count(&texts, "virtual time since revocation (min)"), 1);
    // authjs-jwt accepts 30 presentations per credential and jwt 13, each
    // drawn as a filled circle, plus one legend circle per strategy.
    let circles = document
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(circles, 2 * 30 + 2 * 13 + LABELS.len());
}

#[test]
fn html_page_has_table_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let html = only_file(&saved_run(dir.path()), ".html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    let document = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let rows: Vec<roxmltree::Node> = document
        .descendants()
        .filter(|n| n.has_tag_name("tbody"))
        .flat_map(|n| n.children().filter(|c| c.has_tag_name("tr")))
        .collect();
    assert_eq!(rows.len(), LABELS.len());
    for (row, label) in rows.iter().zip(LABELS) {
        let first = row.children().find(|c| c.has_tag_name("td")).unwrap();
        assert_eq!(first.text(), Some(label));
    }
    let svgs = document
        .descendants()
        .filter(|n| n.tag_name().name() == "svg")
        .count();
    assert_eq!(svgs, 2);
    let headings: Vec<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name("h2"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(headings, ["Verify latency", "Revocation timeline"]);
}

#[test]
fn probe_samples_record_presentations() {
    let dir = tempfile::tempdir().unwrap();
    let folder = saved_run(dir.path());
    assert_results_valid(&folder);
    let report: authcmp::report::Report =
        serde_json::from_str(&only_file(&folder, ".json")).unwrap();

    let samples = |label: &str| {
        let strategy = report.strategies.iter().find(|s| s.label == label).unwrap();
        strategy.revocation.samples.clone()
    };
    for label in LABELS {
        let samples = samples(label);
        assert_eq!(samples.len(), 2, "{label}");
        for sample in &samples {
            assert_eq!(sample.revoked_at_ms, 180_000, "{label}");
        }
    }
    // The database session is deleted at sign-out: every replay fails.
    let database = &samples("authjs-database")[0].presentations;
    assert_eq!(database.len(), 30);
    assert_eq!(database[0].at_ms, 180_000);
    assert!(database.iter().all(|p| !p.accepted));
    // The rolling JWE is renewed by every replay and never rejected.
    let rolling = &samples("authjs-jwt")[0].presentations;
    assert_eq!(rolling.len(), 30);
    assert!(rolling.iter().all(|p| p.accepted));
    // The 15-minute JWT is accepted until it expires 13 minutes later.
    let jwt = &samples("jwt")[0].presentations;
    assert_eq!(jwt.len(), 30);
    assert_eq!(jwt.iter().filter(|p| p.accepted).count(), 13);
    assert!(jwt[..13].iter().all(|p| p.accepted));
    assert_eq!(jwt[13].at_ms, 960_000);
    assert!(!jwt[13].accepted);
}
