//! `bench` with a `[thresholds]` table that some strategies cannot meet.

use crate::common::{assert_results_valid, authcmp, data, files_ending};

#[test]
fn missed_threshold_exits_1_and_saves() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .args(["bench", "--quiet"])
        .arg(data("strict.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");

    let failures: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("threshold failed"))
        .collect();
    assert_eq!(
        failures,
        [
            "threshold failed: strategy \"authjs-jwt\": revocation delay (max) is never, \
             over the limit max_revocation_delay = \"5m\"",
            "threshold failed: strategy \"jwt\": revocation delay (max) is 13m, \
             over the limit max_revocation_delay = \"5m\"",
            "threshold failed: strategy \"jwt\": cookie bytes (max) is 327, \
             over the limit max_cookie_bytes = 100",
        ]
    );

    let saved = files_ending(&dir.path().join("results"), ".json");
    assert_eq!(saved.len(), 1, "one results file: {saved:?}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved[0]).unwrap()).unwrap();
    assert_eq!(report["scenario"]["name"], "strict");
    assert_eq!(report["strategies"].as_array().unwrap().len(), 3);
    assert_results_valid(&dir.path().join("results"));
}

#[test]
fn met_thresholds_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .args([
            "bench",
            "--quiet",
            "--no-save",
            "--strategy",
            "authjs-database",
        ])
        .arg(data("strict.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("threshold failed"), "{stderr}");
}

#[test]
fn validate_lists_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .arg("validate")
        .arg(data("strict.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].ends_with(": ok (2 users, 3 strategies, 2 thresholds)"),
        "{stdout}"
    );
    assert_eq!(
        lines[1..],
        [
            "  thresholds for every strategy: max_revocation_delay = \"5m\"",
            "  thresholds for jwt: max_cookie_bytes = 100",
        ]
    );
}
