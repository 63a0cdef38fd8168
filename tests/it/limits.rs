//! Scenario values that would exhaust memory, run for hours or make no
//! sense fail before any run, each with one error line that names the
//! file, the place, the value and the fix.

use assert_cmd::Command;

use crate::common::assert_clean_error;

fn authcmp() -> Command {
    Command::cargo_bin("authcmp").unwrap()
}

const SMALL: &str = r#"name = "small"
horizon = "1d"
[[cohort]]
name = "u"
users = 3
steps = [{ login = {} }, { requests = { count = 5, every = "1m" } }, { logout = {} }]
"#;

/// Parses `text` and returns its error message, which must exist.
fn parse_error(text: &str) -> String {
    match authcmp::scenario::parse("limits.toml", text) {
        Ok(_) => panic!("scenario was accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn absurd_users_are_rejected() {
    let error = parse_error(&SMALL.replace("users = 3", "users = 1000000000000000"));
    assert_eq!(
        error,
        "limits.toml:5:9: key `users`: 1000000000000000 is too large; \
         use at most 100000000 users per cohort"
    );
}

#[test]
fn negative_users_are_rejected() {
    let error = parse_error(&SMALL.replace("users = 3", "users = -3"));
    assert!(error.starts_with("limits.toml:5:9: key `users`"), "{error}");
}

#[test]
fn start_after_horizon_is_rejected() {
    let text = SMALL.replace("users = 3", "users = 3\nstart = \"2d\"");
    let error = parse_error(&text);
    assert_eq!(
        error,
        "limits.toml:6:9: key `start`: cohort \"u\" starts at 2d, after the horizon 1d, \
         so it would never run; move `start` earlier or raise `horizon`"
    );
}

#[test]
fn start_at_horizon_is_accepted() {
    let text = SMALL.replace("users = 3", "users = 3\nstart = \"1d\"");
    assert!(authcmp::scenario::parse("limits.toml", &text).is_ok());
}

#[test]
fn duration_of_years_is_rejected() {
    let error = parse_error(&SMALL.replace("horizon = \"1d\"", "horizon = \"20000d\""));
    assert!(
        error.starts_with("limits.toml:2:11: key `horizon`"),
        "{error}"
    );
    assert!(
        error.contains("duration \"20000d\" is longer than the limit of 3650d"),
        "{error}"
    );
}

#[test]
fn duration_overflowing_u64_is_rejected() {
    let error = parse_error(&SMALL.replace("\"1m\"", "\"99999999999999999d\""));
    assert!(error.starts_with("limits.toml:6:"), "{error}");
    assert!(error.contains("key `every`"), "{error}");
}

#[test]
fn strategy_lifetime_of_years_is_rejected() {
    let text = format!("{SMALL}[[strategy]]\nname = \"jwt\"\nlifetime = \"4000d\"\n");
    let error = parse_error(&text);
    assert!(
        error.starts_with("limits.toml:9:12: key `lifetime`"),
        "{error}"
    );
    assert!(error.contains("limit of 3650d"), "{error}");
}

#[test]
fn script_longer_than_a_century_is_rejected() {
    let text = SMALL.replace("count = 5, every = \"1m\"", "count = 20, every = \"3000d\"");
    let error = parse_error(&text);
    assert_eq!(
        error,
        "limits.toml:6:9: key `steps`: cohort \"u\" runs until about 60000 days of virtual \
         time, longer than the limit of 36500 days; lower `count`, `every` or `wait`, or set \
         a smaller `start` or `ramp`"
    );
}

#[test]
fn zero_interval_is_rejected() {
    let error = parse_error(&SMALL.replace("every = \"1m\"", "every = \"0s\""));
    assert!(
        error.contains("key `every`: must be at least 1ms"),
        "{error}"
    );
}

#[test]
fn fraction_above_one_is_rejected() {
    let text =
        format!("{SMALL}[[event]]\nat = \"1m\"\nrevoke = {{ cohort = \"u\", fraction = 1.5 }}\n");
    let error = parse_error(&text);
    assert!(
        error.contains("key `fraction`: 1.5 is out of range"),
        "{error}"
    );
}

#[test]
fn event_after_horizon_is_rejected() {
    let text =
        format!("{SMALL}[[event]]\nat = \"2d\"\nrevoke = {{ cohort = \"u\", fraction = 0.5 }}\n");
    let error = parse_error(&text);
    assert!(error.contains("is after the horizon 1d"), "{error}");
}

/// A scenario of 10^12 requests: one user, one request per millisecond.
const TRILLION: &str = r#"name = "trillion"
[[cohort]]
name = "u"
users = 1
steps = [{ login = {} }, { requests = { count = 1000000000000, every = "1ms" } }]
"#;

#[test]
fn huge_scenario_reports_estimate_and_limit() {
    let scenario = authcmp::scenario::parse("trillion.toml", TRILLION).unwrap();
    assert_eq!(scenario.scripted_events(), 1_000_000_000_001);
    let error = authcmp::limits::check_size(&scenario, false).unwrap_err();
    assert_eq!(
        error,
        "trillion.toml: the scenario scripts an estimated 1000000000001 events (cohort \"u\" \
         alone: 1000000000001), more than the limit of 20000000; lower `users` or a step's \
         `count`, add a `horizon`, or pass --allow-large to run it anyway"
    );
    assert_eq!(authcmp::limits::check_size(&scenario, true), Ok(()));
}

#[test]
fn largest_count_fails_on_timeline() {
    let text = TRILLION.replace("1000000000000", &i64::MAX.to_string());
    let error = parse_error(&text);
    assert!(error.starts_with("limits.toml:5:9: key `steps`"), "{error}");
}

#[test]
fn event_estimate_saturates() {
    let mut scenario = authcmp::scenario::parse("trillion.toml", TRILLION).unwrap();
    scenario.cohorts[0].users = u64::MAX;
    scenario.cohorts.push(scenario.cohorts[0].clone());
    assert_eq!(scenario.cohorts[0].scripted_events(), u64::MAX);
    assert_eq!(scenario.scripted_events(), u64::MAX);
}

#[test]
fn bench_rejects_huge_scenario_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trillion.toml");
    std::fs::write(&file, TRILLION).unwrap();
    let file = file.to_str().unwrap();
    let started = std::time::Instant::now();
    let stderr = assert_clean_error(&["bench", "--no-save", file], 2);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(
        stderr.starts_with(&format!("error: {file}: the scenario scripts an estimated")),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-large"), "{stderr}");
    let stderr = assert_clean_error(&["validate", file], 2);
    assert!(
        stderr.contains("more than the limit of 20000000"),
        "{stderr}"
    );
    let stderr = assert_clean_error(
        &[
            "sweep",
            file,
            "--strategy",
            "jwt",
            "--param",
            "lifetime=5m,15m",
            "--no-save",
        ],
        2,
    );
    assert!(
        stderr.contains("more than the limit of 20000000"),
        "{stderr}"
    );
}

#[test]
fn validate_allow_large_accepts_huge_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trillion.toml");
    std::fs::write(&file, TRILLION).unwrap();
    let output = authcmp()
        .args(["validate", "--allow-large", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.ends_with(": ok (1 user, 7 strategies, 0 thresholds)\n"),
        "{stdout}"
    );
}
