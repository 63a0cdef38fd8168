//! `compare` and `bench --baseline` on saved runs: an identical copy and a
//! copy with a planted regression.

use std::path::{Path, PathBuf};

use crate::common::{assert_results_valid, authcmp, data, files_ending};
use authcmp::compare::{self, Verdict};
use authcmp::report::{histogram, Report};
use hdrhistogram::Histogram;

/// Runs the strict scenario once and returns the saved results file.
fn saved_run(dir: &Path) -> PathBuf {
    authcmp(dir)
        .args(["bench", "--quiet"])
        .arg(data("strict.toml"))
        .output()
        .unwrap();
    let saved = files_ending(&dir.join("results"), ".json");
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_results_valid(&dir.join("results"));
    saved[0].clone()
}

/// Makes the first strategy read the store twice per request and verify
/// ten times slower, histogram included.
fn plant_regression(report: &mut Report) {
    let first = &mut report.strategies[0];
    first.store_ops.reads_per_request *= 2.0;
    let old = histogram::decode(first.latency.verify_histogram.as_deref().unwrap()).unwrap();
    let mut slower = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    for bucket in old.iter_recorded() {
        slower
            .record_n(bucket.value_iterated_to() * 10, bucket.count_at_value())
            .unwrap();
    }
    first.latency.verify.p50_ns = slower.value_at_quantile(0.5);
    first.latency.verify.p99_ns = slower.value_at_quantile(0.99);
    first.latency.verify_histogram = Some(histogram::encode(&slower));
}

fn verdict(comparison: &compare::Comparison, label: &str, figure: &str) -> Verdict {
    comparison
        .rows
        .iter()
        .find(|r| r.label == label && r.figure == figure)
        .unwrap_or_else(|| panic!("no row for {label} {figure}"))
        .verdict
}

#[test]
fn identical_runs_have_no_regression() {
    let dir = tempfile::tempdir().unwrap();
    let run = saved_run(dir.path());
    let report = compare::load(&run).unwrap();

    let comparison = compare::compare(&report, &report);
    assert_eq!(comparison.rows.len(), 3 * 13);
    assert!(comparison.notes.is_empty(), "{:?}", comparison.notes);
    for row in &comparison.rows {
        assert_eq!(row.verdict, Verdict::Same, "{row:?}");
    }

    let output = authcmp(dir.path())
        .arg("compare")
        .args([&run, &run])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("no regression beyond noise"), "{stdout}");
}

#[test]
fn planted_regression_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let run = saved_run(dir.path());
    let old = compare::load(&run).unwrap();
    let mut new = old.clone();
    plant_regression(&mut new);
    let planted = dir.path().join("planted.json");
    std::fs::write(&planted, serde_json::to_string_pretty(&new).unwrap()).unwrap();
    assert_results_valid(dir.path());

    let comparison = compare::compare(&old, &new);
    assert_eq!(
        verdict(&comparison, "authjs-database", "store reads / request"),
        Verdict::Worse
    );
    assert_eq!(
        verdict(&comparison, "authjs-database", "verify p50"),
        Verdict::Worse
    );
    assert_eq!(
        verdict(&comparison, "authjs-database", "cookie bytes max"),
        Verdict::Same
    );
    assert_eq!(verdict(&comparison, "jwt", "verify p50"), Verdict::Same);
    // The p99 of about 20 verifies is too uncertain to judge reliably, so
    // its verdict depends on the measured latencies: REGRESSION or noise.
    let p99 = verdict(&comparison, "authjs-database", "verify p99");
    assert!(matches!(p99, Verdict::Worse | Verdict::Noise), "{p99:?}");
    let expected = if p99 == Verdict::Worse { 3 } else { 2 };
    assert_eq!(comparison.regressions(), expected, "{:#?}", comparison.rows);

    let output = authcmp(dir.path())
        .arg("compare")
        .args([&run, &planted])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let reads_row = stdout
        .lines()
        .find(|l| l.contains("authjs-database") && l.contains("store reads / request"))
        .unwrap();
    assert!(reads_row.contains("2.00x"), "{reads_row}");
    assert!(reads_row.contains("REGRESSION"), "{reads_row}");
    let summary = format!("{expected} regression(s) beyond noise");
    assert!(stdout.contains(&summary), "{stdout}");
}

#[test]
fn baseline_with_regression_fails_bench() {
    let dir = tempfile::tempdir().unwrap();
    let run = saved_run(dir.path());
    let mut better = compare::load(&run).unwrap();
    better.strategies[0].store_ops.reads_per_request = 0.5;
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, serde_json::to_string(&better).unwrap()).unwrap();

    let output = authcmp(dir.path())
        .args([
            "bench",
            "--quiet",
            "--no-save",
            "--strategy",
            "authjs-database",
        ])
        .arg("--baseline")
        .arg(&baseline)
        .arg(data("strict.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("compared with the baseline:"), "{stdout}");
    assert!(stdout.contains("1 regression(s) beyond noise"), "{stdout}");
    assert!(stdout.contains("only in the old run"), "{stdout}");
}

#[test]
fn invalid_results_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"tool\": 1}").unwrap();
    let output = authcmp(dir.path())
        .arg("compare")
        .args([&bad, &bad])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("bad.json is not an authcmp results file"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let load = dir.path().join("run-load.json");
    std::fs::write(&load, "{\"settings\": {}, \"results\": []}").unwrap();
    let message = compare::load(&load).unwrap_err();
    assert!(
        message.ends_with(
            "run-load.json holds the results of `authcmp load`, which compare does not read; \
             pass a .json file that `authcmp bench` saved"
        ),
        "{message}"
    );
}

#[test]
fn other_workload_changes_are_shown_not_judged() {
    let dir = tempfile::tempdir().unwrap();
    let run = saved_run(dir.path());
    let old = compare::load(&run).unwrap();
    let mut new = old.clone();
    new.seed += 1;
    plant_regression(&mut new);
    let label = new.strategies[0].label.clone();

    let comparison = compare::compare(&old, &new);
    assert_eq!(comparison.notes.len(), 1, "{:?}", comparison.notes);
    assert!(
        comparison.notes[0].contains("different workloads"),
        "{:?}",
        comparison.notes
    );
    assert_eq!(
        verdict(&comparison, &label, "store reads / request"),
        Verdict::Differs
    );
    // Latency is judged whatever the inputs; no other row is.
    assert_eq!(verdict(&comparison, &label, "verify p50"), Verdict::Worse);
    let p99 = verdict(&comparison, &label, "verify p99");
    let expected = if p99 == Verdict::Worse { 2 } else { 1 };
    assert_eq!(comparison.regressions(), expected, "{:#?}", comparison.rows);

    // Same seed, more users: also another workload.
    let mut bigger = old.clone();
    bigger.run.users += 1;
    bigger.strategies[0].store_ops.reads_per_request *= 2.0;
    let comparison = compare::compare(&old, &bigger);
    assert_eq!(comparison.regressions(), 0, "{:?}", comparison.rows);
    assert_eq!(
        verdict(&comparison, &label, "store reads / request"),
        Verdict::Differs
    );
}

#[test]
fn other_scenario_is_not_judged_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let run = saved_run(dir.path());
    let old = compare::load(&run).unwrap();
    let mut new = old.clone();
    new.scenario.name = "other".into();
    new.scenario.sha256 = "0".repeat(64);
    plant_regression(&mut new);
    let label = new.strategies[0].label.clone();

    let comparison = compare::compare(&old, &new);
    assert_eq!(comparison.regressions(), 0, "{:#?}", comparison.rows);
    assert_eq!(verdict(&comparison, &label, "verify p50"), Verdict::Differs);
    assert!(
        comparison.notes[0].ends_with("and neither is latency between two scenarios"),
        "{:?}",
        comparison.notes
    );
}
