//! The binary as users run it: exit codes, error lines, files written.

use assert_cmd::Command;
use predicates::prelude::*;

use crate::common::{self, assert_clean_error};

fn authcmp() -> Command {
    Command::cargo_bin("authcmp").unwrap()
}

const SMALL: &str = r#"
name = "small"
[[cohort]]
name = "u"
users = 3
steps = [{ login = {} }, { requests = { count = 5, every = "1m" } }, { logout = {} }]
"#;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn invalid_scenario_names_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "bad.toml",
        "name = \"x\"\nhorizon = \"3 fortnights\"\n",
    );
    let stderr = assert_clean_error(&["validate", &file], 2);
    assert!(
        stderr.contains(&format!("{file}:2:11: key `horizon`")),
        "{stderr}"
    );
    assert!(stderr.contains("\"30d\""), "{stderr}");
}

#[test]
fn unknown_key_is_rejected_with_fix() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL.replace("users = 3", "users = 3\nuser = 4");
    let file = write(&dir, "typo.toml", &text);
    let stderr = assert_clean_error(&["bench", "--no-save", &file], 2);
    assert!(
        stderr.contains("typo.toml:6:1: unknown key `user`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `users`?"), "{stderr}");

    let text = SMALL.replace("users = 3", "users = 3\nflavour = 4");
    let file = write(&dir, "stray.toml", &text);
    let stderr = assert_clean_error(&["bench", "--no-save", &file], 2);
    assert!(stderr.contains("unknown key `flavour`"), "{stderr}");
    assert!(stderr.contains("correct its spelling"), "{stderr}");
}

#[test]
fn unknown_strategy_lists_valid_names() {
    let stderr = assert_clean_error(
        &[
            "bench",
            "--no-save",
            "--strategy",
            "cookie-magic",
            "logout-replay",
        ],
        2,
    );
    assert!(
        stderr.contains("unknown strategy \"cookie-magic\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("authjs-database, authjs-jwt, jwt"),
        "{stderr}"
    );
}

#[test]
fn unknown_strategy_in_scenario_names_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "s.toml",
        &format!("{SMALL}\n[[strategy]]\nname = \"sessions\"\n"),
    );
    let stderr = assert_clean_error(&["validate", &file], 2);
    assert!(
        stderr.contains("s.toml:9:8: key `name`: unknown strategy \"sessions\""),
        "{stderr}"
    );
}

#[test]
fn bad_inputs_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("empty.toml", ""),
        ("not-toml.toml", "[[[\n"),
        ("binary.toml", "\u{0}\u{1}\u{2}"),
        ("zero-users.toml", &SMALL.replace("users = 3", "users = 0")),
        (
            "zero-every.toml",
            &SMALL.replace("every = \"1m\"", "every = \"0s\""),
        ),
        ("zero-count.toml", &SMALL.replace("count = 5", "count = 0")),
        (
            "negative-count.toml",
            &SMALL.replace("count = 5", "count = -5"),
        ),
        (
            "bad-step.toml",
            &SMALL.replace("{ logout = {} }", "{ logut = {} }"),
        ),
        (
            "device-before-login.toml",
            &SMALL.replace("{ logout = {} }", "{ logout = { device = \"phone\" } }"),
        ),
        (
            "replay-unknown.toml",
            &SMALL.replace(
                "{ logout = {} }",
                "{ replay = { cookie = \"x\", count = 1, every = \"1m\" } }",
            ),
        ),
        (
            "fraction.toml",
            &format!(
                "{SMALL}\n[[event]]\nat = \"1m\"\nrevoke = {{ cohort = \"u\", fraction = 1.5 }}\n"
            ),
        ),
        (
            "cohort.toml",
            &format!(
                "{SMALL}\n[[event]]\nat = \"1m\"\nrevoke = {{ cohort = \"v\", fraction = 0.5 }}\n"
            ),
        ),
        (
            "option.toml",
            &format!("{SMALL}\n[[strategy]]\nname = \"jwt\"\nupdate_age = \"1d\"\n"),
        ),
        (
            "store.toml",
            &format!("{SMALL}\n[[strategy]]\nname = \"jwt\"\nstore = \"mongodb://x\"\n"),
        ),
        (
            "huge.toml",
            &SMALL.replace("users = 3", "users = 99999999999999999999999"),
        ),
        (
            "jitter.toml",
            &SMALL.replace("every = \"1m\"", "every = \"1m\", jitter = 2.0"),
        ),
        (
            "dots.toml",
            &SMALL.replace("name = \"small\"", "name = \"..\""),
        ),
    ];
    for (name, text) in cases {
        let file = write(&dir, name, text);
        let stderr = assert_clean_error(&["validate", &file], 2);
        assert!(
            stderr.starts_with(&format!("error: {file}:")),
            "{name}: {stderr}"
        );
    }
    assert_clean_error(&["bench", "--no-save", "no-such-scenario"], 2);
    assert_clean_error(
        &[
            "bench",
            "--no-save",
            "--store",
            "mysql://db",
            "logout-replay",
        ],
        2,
    );
}

#[test]
fn bench_saves_results_without_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "small.toml", SMALL);
    let results = dir.path().join("results");
    for _ in 0..2 {
        authcmp()
            .args(["bench", &file, "--results-dir", results.to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("authjs-database"))
            .stderr(predicate::str::is_match(
                r"saved .*/small/\d{8}T\d+Z(-1)?\.\{json,md,csv,latency\.svg,revocation\.svg,html\}\n$",
            )
            .unwrap());
    }
    let mut names: Vec<String> = std::fs::read_dir(results.join("small"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 12, "{names:?}");
    for ext in [
        "json",
        "md",
        "csv",
        "html",
        ".latency.svg",
        ".revocation.svg",
    ] {
        assert_eq!(
            names.iter().filter(|n| n.ends_with(ext)).count(),
            2,
            "{names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.starts_with('.')),
        "temporary file left: {names:?}"
    );
    let json = names.iter().find(|n| n.ends_with(".json")).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("small").join(json)).unwrap())
            .unwrap();
    assert_eq!(report["scenario"]["name"], "small");
    // A scenario without strategy tables runs every compared kind.
    let compared = authcmp::strategy::KINDS
        .iter()
        .filter(|k| k.compared)
        .count();
    assert_eq!(report["strategies"].as_array().unwrap().len(), compared);
    assert_eq!(report["scenario"]["sha256"].as_str().unwrap().len(), 64);
    common::assert_results_valid(&results);
}

#[test]
fn formats_print_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "small.toml", SMALL);
    let json = authcmp()
        .args(["bench", "--no-save", "--format", "json", &file])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["strategies"][0]["requests"]["verifies"], 15);
    let csv = authcmp()
        .args([
            "bench",
            "--no-save",
            "--format",
            "csv",
            "--strategy",
            "jwt",
            &file,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(csv.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.starts_with("scenario,label,strategy,store,verifies"));
    authcmp()
        .args(["bench", "--no-save", "--format", "markdown", &file])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "| strategy | relative reads/p50 | store reads / request |",
        ));
}

#[test]
fn table_has_no_color_codes_when_piped() {
    authcmp()
        .env("NO_COLOR", "1")
        .args(["bench", "--no-save", "profile-update"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}[").not())
        .stdout(predicate::str::contains("verify"));
}

#[test]
fn unwritable_results_dir_fails_before_run() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = write(&dir, "file", "not a folder");
    let stderr = assert_clean_error(&["bench", "logout-replay", "--results-dir", &blocker], 3);
    assert!(stderr.contains("is a file, not a folder"), "{stderr}");

    // A file where the scenario's folder goes is found before the run too.
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    std::fs::write(results.join("logout-replay"), "not a folder").unwrap();
    let results = results.to_str().unwrap();
    let stderr = assert_clean_error(&["bench", "logout-replay", "--results-dir", results], 3);
    assert!(
        stderr.ends_with(
            "logout-replay is a file, where the results of scenario logout-replay go; \
             move it away or pass --results-dir DIR\n"
        ),
        "{stderr}"
    );
}

#[test]
fn list_shows_strategies_and_scenarios() {
    authcmp()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("authjs-database"))
        .stdout(predicate::str::contains("logout-replay"))
        .stdout(predicate::str::contains("profile-update"));
}

#[test]
fn validate_accepts_shipped_scenarios() {
    for name in ["default", "logout-replay", "profile-update"] {
        let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        authcmp()
            .args(["validate", &path])
            .assert()
            .success()
            .stdout(predicate::str::contains(": ok"));
    }
}

#[test]
fn help_states_units() {
    authcmp()
        .args(["bench", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--seed <N>"))
        .stdout(predicate::str::contains("--results-dir <DIR>"));
}

#[test]
fn calibrate_prints_agreement_per_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "small.toml", SMALL);
    let output = authcmp()
        .args([
            "calibrate",
            &file,
            "--samples",
            "3",
            "--strategy",
            "jwt",
            "--strategy",
            "authjs-database",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("in-run / isolated"), "{stdout}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("│ jwt") || l.starts_with("│ authjs-database"))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(stdout.contains("wall/timed"), "{stdout}");
}

#[test]
fn users_and_horizon_override_scenario() {
    let output = authcmp()
        .args([
            "bench",
            "--no-save",
            "--format",
            "json",
            "--strategy",
            "noop",
            "--users",
            "10",
            "--horizon",
            "2h",
            "logout-replay",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["run"]["users"], 10);
    assert!(report["run"]["virtual_span_ms"].as_u64().unwrap() <= 2 * 3_600_000);
    // clap reports argument errors on one line plus a hint to try --help.
    for args in [["--users", "0"], ["--horizon", "soon"]] {
        let output = authcmp()
            .args(["bench", "--no-save", args[0], args[1], "logout-replay"])
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        let expected = format!("error: invalid value '{}'", args[1]);
        assert!(stderr.starts_with(&expected), "{stderr}");
    }
}

#[test]
fn horizon_before_a_start_or_event_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let late = SMALL.replace("users = 3", "users = 3\nstart = \"1h\"");
    let file = write(&dir, "late.toml", &late);
    let stderr = assert_clean_error(&["bench", "--no-save", "--horizon", "10m", &file], 2);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: --horizon 10m: cohort \"u\" of {file} starts at 1h, so it would never run; \
             pass a horizon after 1h"
        )
    );
    let banned =
        format!("{SMALL}\n[[event]]\nat = \"2h\"\nrevoke = {{ cohort = \"u\", fraction = 0.5 }}\n");
    let file = write(&dir, "ban.toml", &banned);
    let stderr = assert_clean_error(&["bench", "--no-save", "--horizon", "1h", &file], 2);
    assert!(
        stderr.contains(&format!("{file} has an event at 2h, which would never run")),
        "{stderr}"
    );
}

#[test]
fn several_scenarios_share_one_output() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(&dir, "small.toml", SMALL);
    let second = write(&dir, "other.toml", &SMALL.replace("\"small\"", "\"other\""));
    let run = |format: &str| {
        let output = authcmp()
            .args([
                "bench",
                "--no-save",
                "--strategy",
                "jwt",
                "--format",
                format,
            ])
            .args([&first, &second])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };

    // JSON: one array of reports, in the order given.
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scenario"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["small", "other"]);

    // CSV: one header, then a row per scenario named in the first column.
    let csv = run("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("scenario,label,strategy,"), "{csv}");
    assert!(lines[1].starts_with("small,jwt,jwt,"), "{csv}");
    assert!(lines[2].starts_with("other,jwt,jwt,"), "{csv}");
}

#[test]
fn label_with_control_characters_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{SMALL}\n[[strategy]]\nname = \"jwt\"\nlabel = \"a\\u001b[31mb\"\n");
    let file = write(&dir, "label.toml", &text);
    let stderr = assert_clean_error(&["validate", &file], 2);
    assert!(
        stderr.contains("label.toml:10:9: key `label`: must be at most 64 characters"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

#[test]
fn closed_stdout_is_not_a_panic() {
    for args in [&["completions", "bash"][..], &["list"][..]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_authcmp"))
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn odd_option_values_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().to_str().unwrap();
    for (args, code, expected) in [
        (
            &["bench", "--no-save", "--store", "sqlite::memory:extra"][..],
            2,
            "has text after \":memory:\"",
        ),
        (
            &["bench", "--no-save", "--store-timeout", "0s"][..],
            2,
            "must be longer than 0s",
        ),
        (
            &["load", "--no-save", "--users", "0"][..],
            2,
            "invalid value '0' for '--users <N>'",
        ),
        (
            &["bench", "--horizon", "500us"][..],
            2,
            "must be at least 1ms",
        ),
        (
            &[
                "bench",
                "--results-dir",
                results,
                "--store",
                "sqlite::memory:x",
            ][..],
            2,
            ":memory:",
        ),
    ] {
        let output = authcmp().args(args).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert!(
        !std::path::Path::new(":memory:extra").exists(),
        "no file is created for a bad sqlite URL"
    );
}

#[cfg(unix)]
#[test]
fn results_are_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "small.toml", SMALL);
    let results = dir.path().join("results");
    authcmp()
        .args([
            "bench",
            "--quiet",
            "--strategy",
            "jwt",
            &file,
            "--results-dir",
        ])
        .arg(&results)
        .assert()
        .success();
    for entry in std::fs::read_dir(results.join("small")).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}
