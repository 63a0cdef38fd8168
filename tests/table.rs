//! The `bench` table: width limit and the relative column.

mod common;

use common::{authcmp, data};

fn bench_table(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
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

fn row<'a>(table: &'a str, label: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.starts_with(&format!("│ {label} ")))
        .unwrap_or_else(|| panic!("no row for {label} in\n{table}"))
}

#[test]
fn table_fits_120_columns() {
    let table = bench_table(&[]);
    for line in table.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} chars: {line}",
            line.chars().count()
        );
    }
    assert!(table.contains("relative"), "{table}");
}

#[test]
fn relative_column_uses_reference() {
    let table = bench_table(&[]);
    assert!(
        row(&table, "authjs-database").contains("reference"),
        "{table}"
    );
    assert!(row(&table, "jwt").contains(" 0x / "), "{table}");
    assert!(
        table.contains("reference strategy's, authjs-database"),
        "{table}"
    );

    let table = bench_table(&["--reference", "jwt"]);
    assert!(row(&table, "jwt").contains("reference"), "{table}");
    assert!(row(&table, "authjs-database").contains(" - / "), "{table}");
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
