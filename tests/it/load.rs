//! `authcmp load` on every store backend, and the results it prints and
//! saves: counts that do not depend on timing are exact.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use authcmp::cli::Format;
use authcmp::load::{run_one, LoadArgs};
use authcmp::store::StoreUrl;
use authcmp::strategy::Setup;

use crate::common::{assert_results_valid, authcmp, files_ending};

/// Paths of the files under `dir`, relative to it and sorted, temporary
/// files included.
fn files(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    files_ending(dir, "")
        .iter()
        .map(|path| {
            path.strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Returns the store URLs to test: SQLite always, the servers when
/// configured.
fn backends() -> Vec<StoreUrl> {
    let mut urls = vec![StoreUrl::SqliteMemory];
    for variable in ["AUTHCMP_TEST_POSTGRES_URL", "AUTHCMP_TEST_REDIS_URL"] {
        match std::env::var(variable) {
            Ok(url) => urls.push(StoreUrl::parse(&url).unwrap()),
            Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("{variable} is not set with CI=true; run the tests with scripts/test.sh")
            }
            Err(_) => eprintln!("skipping a store: {variable} is not set"),
        }
    }
    urls
}

fn args(rate: Option<f64>) -> LoadArgs {
    LoadArgs {
        scenario: "default".to_string(),
        strategies: Vec::new(),
        store: None,
        store_timeout: Duration::from_secs(5),
        concurrency: vec![2],
        rate,
        duration: Duration::from_secs(1),
        users: 20,
        results_dir: PathBuf::from("results"),
        no_save: true,
        format: Format::Table,
        quiet: true,
    }
}

#[test]
fn open_loop_sends_every_scheduled_request() {
    for url in backends() {
        let mut setup = Setup::with_defaults("authjs-database").unwrap();
        setup.label = "load-open".to_string();
        setup.store = url.clone();
        let result = run_one(&setup, 2, &args(Some(100.0))).unwrap().unwrap();
        // 100 requests/s for 1 s, shared by 2 workers on a fixed schedule.
        assert_eq!(result.requests, 100, "{url}");
        assert_eq!(result.errors, 0, "{url}");
        // One session read per verify; updateAge 1 d means no extension.
        assert_eq!(result.store_ops, 100, "{url}");
        assert_eq!(result.corrected.len(), 100, "{url}");
        assert_eq!(result.uncorrected.len(), 100, "{url}");
        if url != StoreUrl::SqliteMemory {
            assert_eq!(result.store, url.to_string());
        }
    }
}

#[test]
fn closed_loop_verifies_without_errors() {
    for url in backends() {
        let mut setup = Setup::with_defaults("access-refresh").unwrap();
        setup.label = "load-closed".to_string();
        setup.store = url.clone();
        let result = run_one(&setup, 2, &args(None)).unwrap().unwrap();
        assert!(result.requests > 0, "{url}");
        assert_eq!(result.errors, 0, "{url}");
        assert_eq!(result.corrected.len(), result.requests, "{url}");
    }
}

#[test]
fn unreachable_store_fails_load() {
    let mut setup = Setup::with_defaults("authjs-database").unwrap();
    setup.store = StoreUrl::parse("redis://127.0.0.1:1").unwrap();
    let error = run_one(&setup, 2, &args(None)).unwrap_err();
    assert_eq!(error.store, "redis://127.0.0.1:1");
}

/// Arguments of a short closed-loop run of two strategies at two levels.
const SHORT_RUN: [&str; 12] = [
    "load",
    "default",
    "--strategy",
    "authjs-database",
    "--strategy",
    "authjs-jwt",
    "--concurrency",
    "1,2",
    "--duration",
    "1s",
    "--users",
    "8",
];

/// The labels and worker counts of the short run's rows, in run order.
const SHORT_ROWS: [(&str, u64); 4] = [
    ("authjs-database", 1),
    ("authjs-jwt", 1),
    ("authjs-database", 2),
    ("authjs-jwt", 2),
];

/// Formats nanoseconds as the load table does: microseconds with one
/// decimal below 100 µs, none from there.
fn table_micros(ns: &serde_json::Value) -> String {
    let us = ns.as_u64().unwrap() as f64 / 1_000.0;
    if us >= 100.0 {
        format!("{us:.0}")
    } else {
        format!("{us:.1}")
    }
}

/// Builds the Markdown row that the load table prints for one JSON result.
fn markdown_row(result: &serde_json::Value) -> String {
    let pair = |key: &str| {
        format!(
            "{} ({})",
            table_micros(&result["corrected"][key]),
            table_micros(&result["uncorrected"][key])
        )
    };
    format!(
        "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {:.0} | {} |",
        result["label"].as_str().unwrap(),
        result["store"].as_str().unwrap(),
        result["workers"],
        result["requests_per_second"].as_f64().unwrap(),
        pair("p50_ns"),
        pair("p99_ns"),
        pair("p999_ns"),
        pair("max_ns"),
        result["store_ops_per_second"].as_f64().unwrap(),
        result["errors"],
    )
}

#[test]
fn load_saves_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .args(SHORT_RUN)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();

    let results = dir.path().join("results");
    let saved = files(&results);
    assert_eq!(saved.len(), 2, "{saved:?}");
    let json_name = &saved[0];
    let stem = json_name.strip_suffix("-load.json").unwrap();
    assert!(stem.starts_with("default/"), "{saved:?}");
    assert_eq!(saved[1], format!("{stem}-load.md"));
    let stderr_lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(stderr_lines.len(), 5, "{stderr}");
    assert_eq!(
        stderr_lines[4],
        format!("saved results/{stem}-load.{{json,md}}")
    );
    assert_results_valid(&results);

    let json_text = std::fs::read_to_string(results.join(json_name)).unwrap();
    assert_eq!(json_text, stdout, "the saved JSON is what stdout printed");
    assert_eq!(printed["scenario"]["name"], "default");
    assert_eq!(printed["run"]["complete"], true);
    assert_eq!(
        printed["settings"]["concurrency"],
        serde_json::json!([1, 2])
    );
    assert_eq!(printed["settings"]["mode"], "closed");
    assert_eq!(
        printed["settings"]["rate_per_second"],
        serde_json::Value::Null
    );
    assert_eq!(printed["settings"]["duration_ms"], 1000);
    assert_eq!(printed["settings"]["users"], 8);
    assert_eq!(printed["settings"]["store"], serde_json::Value::Null);

    let rows = printed["results"].as_array().unwrap();
    assert_eq!(rows.len(), SHORT_ROWS.len());
    let markdown = std::fs::read_to_string(results.join(format!("{stem}-load.md"))).unwrap();
    for (row, (label, workers)) in rows.iter().zip(SHORT_ROWS) {
        assert_eq!(row["label"], label);
        assert_eq!(row["strategy"], label);
        assert_eq!(row["workers"], workers);
        assert_eq!(row["errors"], 0, "{label}");
        let requests = row["requests"].as_u64().unwrap();
        assert!(requests > 0, "{label} sent no request");
        assert_eq!(row["corrected"]["count"], requests, "{label}");
        assert_eq!(row["uncorrected"]["count"], requests, "{label}");
        let histogram =
            authcmp::report::histogram::decode(row["corrected_histogram"].as_str().unwrap())
                .unwrap();
        assert_eq!(histogram.len(), requests, "{label}");
        assert_eq!(histogram.max(), row["corrected"]["max_ns"], "{label}");
        let line = markdown_row(row);
        assert!(markdown.contains(&line), "{line} missing from\n{markdown}");
    }
    // authjs-database reads its session once per verify; a JWT reads nothing.
    assert_eq!(rows[0]["store_ops"], rows[0]["requests"]);
    assert_eq!(rows[1]["store_ops"], 0);
}

#[test]
fn no_save_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .args(SHORT_RUN)
        .args(["--no-save", "--quiet", "--format", "csv"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1 + SHORT_ROWS.len(), "{stdout}");
    assert!(lines[0].starts_with("scenario,label,strategy,store,workers,requests,errors,"));
    for (line, (label, workers)) in lines[1..].iter().zip(SHORT_ROWS) {
        let prefix = format!("default,{label},{label},sqlite (memory),{workers},");
        assert!(line.starts_with(&prefix), "{line}");
    }
    assert_eq!(files(dir.path()), Vec::<String>::new());
}

#[test]
fn unwritable_results_dir_fails_before_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "not a folder").unwrap();
    // A run would take 10 minutes, so the timeout fails a check made after it.
    let output = authcmp(dir.path())
        .args(["load", "default", "--strategy", "jwt", "--duration", "10m"])
        .args(["--results-dir", "file/results"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(output.stdout, b"");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: results folder file/results is not writable: "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("; pass --results-dir DIR or --no-save\n"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn sigint_keeps_finished_level_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_authcmp"))
        .current_dir(dir.path())
        .args(["load", "default", "--strategy", "authjs-database"])
        .args(["--concurrency", "1,2", "--duration", "3s", "--users", "8"])
        .args(["--format", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(
        first.starts_with("finished authjs-database with 1 worker: "),
        "{first}"
    );
    // Let the second level get under way.
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(130), "{first}{rest}");

    let results = dir.path().join("results");
    let saved = files(&results);
    assert_eq!(saved.len(), 2, "json and md, no temporary file: {saved:?}");
    let stem = saved[0].strip_suffix("-load.json").unwrap();
    assert_eq!(saved[1], format!("{stem}-load.md"));
    assert_eq!(
        rest,
        format!(
            "error: interrupted: strategy authjs-database with 2 workers stopped before the \
             end of its timed phase and was not kept; the 1 finished row is printed and saved \
             in results/{stem}-load.{{json,md}}\n"
        )
    );
    assert_results_valid(&results);

    let csv_lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(csv_lines.len(), 2, "{stdout}");
    assert!(
        csv_lines[1].starts_with("default,authjs-database,authjs-database,sqlite (memory),1,"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join(&saved[0])).unwrap()).unwrap();
    assert_eq!(report["run"]["complete"], false);
    assert_eq!(report["settings"]["concurrency"], serde_json::json!([1, 2]));
    let rows = report["results"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["workers"], 1);
    let markdown = std::fs::read_to_string(results.join(&saved[1])).unwrap();
    assert!(markdown.contains(&markdown_row(&rows[0])), "{markdown}");
    assert!(
        markdown.contains("- stopped before the end: "),
        "{markdown}"
    );
}

#[test]
fn rate_beyond_capacity_ends_at_duration_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .args(["load", "--no-save", "--strategy", "jwt", "--users", "4"])
        .args(["--duration", "1s", "--rate", "1e9"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning: jwt with 1 worker sent "))
        .unwrap_or_else(|| panic!("no warning in {stderr}"));
    assert!(
        warning.ends_with(
            "of the 1000000000 requests that --rate 1000000000 scheduled within --duration; \
             the rest fell behind and are not counted, so lower --rate"
        ),
        "{warning}"
    );
}
