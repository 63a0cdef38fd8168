//! `authcmp sweep`: exact figures per value on the virtual clock, the
//! Pareto marks, validation errors and saved files.

use assert_cmd::Command;
use authcmp::report::Delay;
use authcmp::sweep::{self, SweepReport};

/// Users work for ten minutes, have their cookie copied, sign out, and the
/// copy is replayed every minute for three hours.
const SCENARIO: &str = r#"
name = "sweep-check"
seed = 1
[[cohort]]
name = "u"
users = 4
steps = [
  { login = {} },
  { requests = { count = 10, every = "1m" } },
  { copy_cookie = { to = "stolen" } },
  { logout = {} },
  { replay = { cookie = "stolen", count = 180, every = "1m" } },
]
[[strategy]]
name = "jwt"
leeway = "0s"
"#;

fn run_sweep(strategy: &str, param: &str) -> SweepReport {
    let scenario = authcmp::scenario::parse("sweep-check.toml", SCENARIO).unwrap();
    let (key, values) = sweep::parse_param(param).unwrap();
    let setups = sweep::plan(SCENARIO, strategy, &key, &values).unwrap();
    let report = authcmp::cli::run_one(&scenario, &setups, None).unwrap();
    sweep::sweep_report(report, strategy, &key, &values)
}

fn max_delay(result: &SweepReport) -> Vec<Option<Delay>> {
    result
        .report
        .strategies
        .iter()
        .map(|s| s.revocation.max_delay_ms)
        .collect()
}

#[test]
fn jwt_lifetime_raises_revocation_delay() {
    let result = run_sweep("jwt", "lifetime=5m,15m,1h");
    let labels: Vec<&str> = result
        .report
        .strategies
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(
        labels,
        ["jwt lifetime=5m", "jwt lifetime=15m", "jwt lifetime=1h"]
    );
    // The copy outlives the sign-out at 10 min until exp: the 5 min token
    // was renewed by a forced sign-in at 6 min, the others date from 0.
    assert_eq!(
        max_delay(&result),
        [
            Some(Delay::Ms(60_000)),
            Some(Delay::Ms(360_000)),
            Some(Delay::Ms(3_060_000))
        ]
    );
    let stale: Vec<u64> = result
        .report
        .strategies
        .iter()
        .map(|s| s.revocation.stale_accepts)
        .collect();
    assert_eq!(stale, [4, 24, 204]);
    // The only store operations are the user lookups of sign-ins: one per
    // user, and one per forced sign-in after a 5m token expired at 6m.
    let forced: Vec<u64> = result
        .report
        .strategies
        .iter()
        .map(|s| s.requests.forced_sign_ins)
        .collect();
    assert_eq!(forced, [4, 0, 0]);
    for (figures, forced) in result.report.strategies.iter().zip(forced) {
        assert_eq!(figures.requests.verifies, 760);
        let reads = (4 + forced) as f64 / 760.0 * 1000.0;
        assert_eq!(sweep::ops_per_thousand(figures), (reads, 0.0));
    }
    // 5m pays for its short delay with sign-ins; 1h has 15m's load and a
    // longer delay, so it is the one off the front.
    assert_eq!(result.sweep.on_pareto_front, [true, true, false]);
    assert_eq!(result.sweep.values, ["5m", "15m", "1h"]);
}

#[test]
fn database_update_age_lowers_writes() {
    // A kind name not in the scenario runs with its defaults.
    let result = run_sweep("authjs-database", "update_age=0s,1m,1h");
    let ops: Vec<(f64, f64)> = result
        .report
        .strategies
        .iter()
        .map(sweep::ops_per_thousand)
        .collect();
    // Each of the 760 verifies reads once. Each of the 4 sign-ins reads and
    // writes once, and each of the 4 sign-outs writes once. Accepted reads
    // extend the session 40 times at 0s, 36 times at 1m and never at 1h.
    let reads = 764.0 / 760.0 * 1000.0;
    assert_eq!(ops[0], (reads, (8.0 + 40.0) / 760.0 * 1000.0));
    assert_eq!(ops[1], (reads, (8.0 + 36.0) / 760.0 * 1000.0));
    assert_eq!(ops[2], (reads, 8.0 / 760.0 * 1000.0));
    assert_eq!(max_delay(&result), [Some(Delay::Ms(0)); 3]);
    assert_eq!(result.sweep.on_pareto_front, [false, false, true]);
}

#[test]
fn invalid_values_name_param_and_fix() {
    let cases = [
        ("jwt", "lifetime=0s", "--param lifetime=0s: must be at least 1s"),
        (
            "jwt",
            "max_age=1d",
            "--param max_age=1d: key `max_age` does not apply to strategy `jwt`; it accepts: lifetime, leeway, algorithm, secret, secure",
        ),
        ("jwt", "lifetime=5", "--param lifetime=5: invalid type: integer `5`"),
        ("authjs-jwt", "version=v3", "--param version=v3: unknown Auth.js version \"v3\""),
        ("cookie-magic", "lifetime=1m", "unknown strategy \"cookie-magic\""),
    ];
    for (strategy, param, expected) in cases {
        let (key, values) = sweep::parse_param(param).unwrap();
        let err = sweep::plan(SCENARIO, strategy, &key, &values).unwrap_err();
        assert!(err.contains(expected), "{param}: {err}");
    }
}

#[test]
fn cli_sweep_saves_json_markdown_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let results = dir.path().join("results");
    let output = Command::cargo_bin("authcmp")
        .unwrap()
        .args(["sweep", file.to_str().unwrap(), "--strategy", "jwt"])
        .args(["--param", "lifetime=5m,15m", "--results-dir"])
        .arg(&results)
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("│ 5m       ┆     * ┆"), "{stdout}");
    assert!(stdout.contains("*: on the Pareto front"), "{stdout}");
    assert!(stderr.starts_with("saved "), "{stderr}");
    assert!(
        stderr.trim_end().ends_with("-sweep-lifetime.{json,md,svg}"),
        "{stderr}"
    );
    let mut names: Vec<String> = std::fs::read_dir(results.join("sweep-check"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names[0].ends_with("-sweep-lifetime.json"), "{names:?}");
    assert!(names[1].ends_with("-sweep-lifetime.md"), "{names:?}");
    assert!(names[2].ends_with("-sweep-lifetime.svg"), "{names:?}");
    let svg = std::fs::read_to_string(results.join("sweep-check").join(&names[2])).unwrap();
    let chart = roxmltree::Document::parse(&svg).unwrap();
    let labels: Vec<&str> = chart
        .descendants()
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    assert!(labels.contains(&"lifetime=5m"), "{labels:?}");
    assert!(labels.contains(&"lifetime=15m"), "{labels:?}");
    let rings = chart
        .descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("r") == Some("8"))
        .count();
    assert_eq!(rings, 2, "both lifetimes are on the front");
    let json = std::fs::read_to_string(results.join("sweep-check").join(&names[0])).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(saved["sweep"]["key"], "lifetime");
    assert_eq!(
        saved["sweep"]["on_pareto_front"],
        serde_json::json!([true, true])
    );
    assert_eq!(
        saved["strategies"][1]["revocation"]["max_delay_ms"],
        360_000
    );
    assert_eq!(saved["strategies"][1]["settings"]["lifetime"], "15m");
}

#[test]
fn cli_sweep_rejects_bad_param() {
    let output = Command::cargo_bin("authcmp")
        .unwrap()
        .args(["sweep", "logout-replay", "--strategy", "authjs-database"])
        .args(["--param", "max_age=0s", "--no-save"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr, "error: --param max_age=0s: must be at least 1s\n");
}

/// Users request every minute from 0 to 60 minutes, have their cookie
/// copied, sign out at 61 minutes, and the copy is replayed every minute.
/// Every lifetime tried divides 60 minutes, so each device refreshed at
/// 60 minutes and the copied access token lives one lifetime from there.
const ACCESS_SCENARIO: &str = r#"
name = "access-sweep"
seed = 1
[[cohort]]
name = "u"
users = 2
steps = [
  { login = {} },
  { requests = { count = 61, every = "1m" } },
  { copy_cookie = { to = "stolen" } },
  { logout = {} },
  { replay = { cookie = "stolen", count = 60, every = "1m" } },
]
[[strategy]]
name = "access-refresh"
leeway = "0s"
"#;

#[test]
fn access_lifetime_trades_reads_for_delay() {
    let scenario = authcmp::scenario::parse("access-sweep.toml", ACCESS_SCENARIO).unwrap();
    let values = ["1m".to_string(), "5m".to_string(), "15m".to_string()];
    let setups = sweep::plan(ACCESS_SCENARIO, "access-refresh", "lifetime", &values).unwrap();
    let report = authcmp::cli::run_one(&scenario, &setups, None).unwrap();
    let result = sweep::sweep_report(report, "access-refresh", "lifetime", &values);
    let reads: Vec<f64> = result
        .report
        .strategies
        .iter()
        .map(|s| sweep::ops_per_thousand(s).0)
        .collect();
    // Per user and 121 verifies, reads come from the sign-in's user lookup
    // and two per refresh (60, 12 or 4 refreshes). Each replay whose access
    // token has expired adds one read, because its refresh token was deleted
    // at sign-out (59, 55 or 45 replays).
    let expected = [180.0, 80.0, 54.0].map(|reads: f64| reads / 121.0 * 1000.0);
    assert_eq!(reads, expected);
    assert_eq!(max_delay(&result), EXPECTED_ACCESS_DELAYS);
    // Each row trades store load against delay: all three are on the front.
    assert_eq!(result.sweep.on_pareto_front, [true, true, true]);
}

const EXPECTED_ACCESS_DELAYS: [Option<Delay>; 3] = [
    Some(Delay::Ms(60_000)),
    Some(Delay::Ms(300_000)),
    Some(Delay::Ms(900_000)),
];
