//! The `bench` table: width limit and the relative column.

use crate::common::{authcmp, data};

fn bench_table(columns: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .env("COLUMNS", columns)
        .args(["bench", "--quiet", "--no-save"])
        .args(extra)
        .arg(data("strict.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "strict.toml misses its thresholds"
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Cells of the table line that starts with `│ {first} `, trimmed.
fn cells(table: &str, first: &str) -> Vec<String> {
    table
        .lines()
        .find(|l| l.starts_with(&format!("│ {first} ")))
        .unwrap_or_else(|| panic!("no line for {first} in\n{table}"))
        .trim_matches('│')
        .split('┆')
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn table_fits_120_columns() {
    let table = bench_table("120", &[]);
    for line in table.lines() {
        let width = line.chars().count();
        assert!(width <= 120, "{width} chars: {line}");
    }
}

#[test]
fn relative_column_uses_reference() {
    let wide = bench_table("400", &[]);
    assert_eq!(cells(&wide, "authjs-database")[1], "reference");
    assert!(cells(&wide, "jwt")[1].starts_with("0x/"), "{wide}");
    assert!(
        wide.contains("multiples of those of\n  authjs-database (--reference)"),
        "{wide}"
    );

    let transposed = bench_table("120", &["--reference", "jwt"]);
    let relative = cells(&transposed, "relative reads/p50");
    assert_eq!(relative.len(), 4, "{relative:?}");
    assert!(relative[1].starts_with("-/"), "{relative:?}");
    assert!(relative[2].starts_with("-/"), "{relative:?}");
    assert_eq!(relative[3], "reference");
}

#[test]
fn unknown_reference_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .args(["bench", "--no-save", "--reference", "nope"])
        .arg(data("strict.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no strategy labelled \"nope\""), "{stderr}");
    assert!(
        stderr.contains("authjs-database, authjs-jwt, jwt"),
        "{stderr}"
    );
}

#[test]
fn narrow_terminal_splits_table() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .env("COLUMNS", "80")
        .args(["bench", "--quiet", "--no-save", "--users", "40", "default"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for line in text.lines() {
        let width = line.chars().count();
        assert!(width <= 80, "{width} chars: {line}");
    }

    // Each table's header row names its strategies after "figure".
    let headers: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with("│ figure "))
        .map(|l| {
            l.trim_matches('│')
                .split('┆')
                .skip(1)
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    assert!(headers.len() > 1, "{text}");

    let labels: Vec<String> = headers.concat();
    let compared: Vec<&str> = authcmp::strategy::KINDS
        .iter()
        .filter(|k| k.compared)
        .map(|k| k.name)
        .collect();
    assert_eq!(labels, compared, "each strategy once, its name unbroken");

    // Wrapped cells break at spaces: no cell line ends inside "probes".
    assert!(!text.contains("(pr "), "{text}");
}
