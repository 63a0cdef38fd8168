//! Every case on every store backend: SQLite, PostgreSQL and Redis must give
//! the same figures, store operation counts included.
//!
//! PostgreSQL and Redis are reached through AUTHCMP_TEST_POSTGRES_URL and
//! AUTHCMP_TEST_REDIS_URL, which `scripts/test.sh` sets after starting
//! throwaway servers. Without them these tests print why they skipped a
//! backend and pass, except with CI=true, where a missing server fails them.

use std::sync::Mutex;

use authcmp::report::Report;
use authcmp::store::{OpCounts, Profile, RefreshRow, Store, StoreUrl};
use serde_json::Value;

/// Tests share the servers and open the same namespaces, so they take
/// turns.
static SERVERS: Mutex<()> = Mutex::new(());

/// The store URLs to test: SQLite always, the servers when configured.
fn backends() -> Vec<StoreUrl> {
    let mut urls = vec![StoreUrl::SqliteMemory];
    for (name, variable) in [
        ("PostgreSQL", "AUTHCMP_TEST_POSTGRES_URL"),
        ("Redis", "AUTHCMP_TEST_REDIS_URL"),
    ] {
        match std::env::var(variable) {
            Ok(url) => urls.push(StoreUrl::parse(&url).expect("test store URL is valid")),
            Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("{variable} is not set with CI=true; run the tests with scripts/test.sh")
            }
            Err(_) => eprintln!(
                "skipping the {name} store: {variable} is not set (scripts/test.sh starts a server and sets it)"
            ),
        }
    }
    urls
}

/// Runs a scenario with every strategy on `store`.
fn run_on(scenario: &authcmp::scenario::Scenario, store: &StoreUrl) -> Report {
    let setups = authcmp::cli::select_strategies(scenario, &[], Some(store)).unwrap();
    authcmp::cli::run_one(scenario, &setups, None)
        .unwrap_or_else(|e| panic!("run on {store} failed: {e}"))
}

/// The report as JSON without what may differ between stores: wall-clock
/// figures and the store's name.
fn comparable(report: &Report) -> Value {
    let mut value = serde_json::to_value(report).unwrap();
    value["run"]["started_at"] = Value::Null;
    value["run"]["wall_ms"] = Value::Null;
    value["run"]["timed_ms"] = Value::Null;
    value["run"]["wall_per_timed"] = Value::Null;
    for strategy in value["strategies"].as_array_mut().unwrap() {
        strategy["latency"] = Value::Null;
        strategy["store"] = Value::Null;
        strategy["settings"]["store"] = Value::Null;
    }
    value
}

/// Runs `scenario` on every backend and checks that the figures match the
/// SQLite run's; returns the SQLite report for further checks.
fn assert_same_on_every_store(scenario: &authcmp::scenario::Scenario) -> Report {
    let _turn = SERVERS.lock().unwrap_or_else(|e| e.into_inner());
    let mut urls = backends().into_iter();
    let reference_url = urls.next().unwrap();
    let reference = run_on(scenario, &reference_url);
    let expected = comparable(&reference);
    for url in urls {
        let report = run_on(scenario, &url);
        for (got, want) in report.strategies.iter().zip(&reference.strategies) {
            assert_eq!(
                serde_json::to_value(got).unwrap()["store_ops"],
                serde_json::to_value(want).unwrap()["store_ops"],
                "{}: store operations on {url}",
                got.label
            );
        }
        assert_eq!(comparable(&report), expected, "figures on {url}");
        assert!(
            report.strategies.iter().all(|s| s.store == url.to_string()),
            "store named in the report"
        );
    }
    reference
}

#[test]
fn logout_replay_same_on_every_store() {
    let scenario = authcmp::scenario::load("logout-replay").unwrap();
    let report = assert_same_on_every_store(&scenario);
    let db = &report.strategies[0];
    assert_eq!(db.label, "authjs-database");
    assert_eq!(db.store_ops.reads_per_request, 1.0);
    assert_eq!(db.revocation.stale_accepts, 0);
}

#[test]
fn profile_update_same_on_every_store() {
    let scenario = authcmp::scenario::load("profile-update").unwrap();
    let report = assert_same_on_every_store(&scenario);
    assert_eq!(report.strategies[0].staleness.stale_reads, 0);
    assert_eq!(report.strategies[0].store_ops.profile_update.count, 20);
}

#[test]
fn ban_same_on_every_store() {
    let scenario = authcmp::scenario::parse(
        "ban.toml",
        r#"
        name = "ban"
        [[cohort]]
        name = "u"
        users = 10
        steps = [{ login = {} }, { requests = { count = 10, every = "1m" } }]
        [[event]]
        at = "2m 30s"
        revoke = { cohort = "u", fraction = 1.0 }
        [[strategy]]
        name = "authjs-database"
        [[strategy]]
        name = "authjs-database"
        label = "every-read"
        update_age = "0s"
        max_age = "5m"
        [[strategy]]
        name = "authjs-jwt"
        [[strategy]]
        name = "jwt"
        "#,
    )
    .unwrap();
    let report = assert_same_on_every_store(&scenario);
    let db = &report.strategies[0];
    assert_eq!(db.store_ops.revoke.count, 10);
    assert_eq!(db.revocation.stale_accepts, 0);
    assert_eq!(report.strategies[1].store_ops.revoke.writes_per_action, 1.0);
}

#[test]
fn expired_session_deleted_on_every_store() {
    // A 2-minute session whose copied cookie is replayed every 3 minutes:
    // the replay at 0 m is accepted, the one at 3 m finds the row expired
    // and deletes it, and the one at 6 m finds no row. The copy ignores
    // the cookie deletion, as an attacker would.
    let scenario = authcmp::scenario::parse(
        "expiry.toml",
        r#"
        name = "expiry"
        [[cohort]]
        name = "u"
        users = 5
        steps = [
          { login = {} },
          { copy_cookie = { to = "copy" } },
          { replay = { cookie = "copy", count = 3, every = "3m" } },
        ]
        [[strategy]]
        name = "authjs-database"
        max_age = "2m"
        "#,
    )
    .unwrap();
    let report = assert_same_on_every_store(&scenario);
    let db = &report.strategies[0];
    assert_eq!(db.requests.accepted, 5);
    assert_eq!(db.requests.rejected, 10);
    // Per user: the session row, then its delete.
    assert_eq!(db.store_ops.total_writes, 5 * 2);
    // Per user: the sign-in's user lookup and three session reads.
    assert_eq!(db.store_ops.total_reads, 5 * 4);
}

#[test]
fn every_strategy_kind_same_on_every_store() {
    // Sign-outs with a copied cookie, a profile change, a ban and expiring
    // tokens, for every strategy kind with its defaults.
    let mut text = String::from(
        r#"
        name = "all-kinds"
        horizon = "2d"
        [[cohort]]
        name = "u"
        users = 8
        ramp = "10m"
        steps = [
          { login = { device = "laptop" } },
          { login = { device = "phone" } },
          { requests = { count = 10, every = "2m", device = "laptop" } },
          { update_profile = { device = "laptop" } },
          { requests = { count = 10, every = "2m", device = "phone" } },
          { copy_cookie = { device = "phone", to = "copy" } },
          { logout = { device = "phone" } },
          { replay = { cookie = "copy", count = 30, every = "10m" } },
          { requests = { count = 40, every = "20m", device = "laptop" } },
        ]
        [[event]]
        at = "3h"
        revoke = { cohort = "u", fraction = 0.5 }
        "#,
    );
    for kind in authcmp::strategy::KINDS.iter().filter(|k| k.name != "noop") {
        text.push_str(&format!("[[strategy]]\nname = \"{}\"\n", kind.name));
    }
    let scenario = authcmp::scenario::parse("all-kinds.toml", &text).unwrap();
    let report = assert_same_on_every_store(&scenario);
    assert_eq!(report.strategies.len(), authcmp::strategy::KINDS.len() - 1);
    let total_ops: u64 = report
        .strategies
        .iter()
        .map(|s| s.store_ops.total_reads + s.store_ops.total_writes)
        .sum();
    assert!(total_ops > 1_000, "{total_ops}");
}

/// Calls every trait method in a fixed order and records what each
/// returned, with the counts after each call.
fn transcript(store: &mut dyn Store) -> Vec<String> {
    let mut out = Vec::new();
    let mut note = |what: &str, value: String, counts: OpCounts| {
        out.push(format!(
            "{what}: {value} [{} r, {} w]",
            counts.reads, counts.writes
        ));
    };
    for id in 1..=3 {
        store.seed_user(&Profile::generated(id, 0, 0)).unwrap();
    }
    note("seeded", String::new(), store.counts());
    let found = store.find_user(2).unwrap();
    note("find_user 2", format!("{found:?}"), store.counts());
    let missing = store.find_user(9).unwrap();
    note("find_user 9", format!("{missing:?}"), store.counts());
    store.update_user(&Profile::generated(2, 1, 0)).unwrap();
    store.update_user(&Profile::generated(9, 1, 0)).unwrap();
    store.set_user_revoked_before(2, 77).unwrap();
    let found = store.find_user(2).unwrap();
    note("after update", format!("{found:?}"), store.counts());
    let missing = store.find_user(9).unwrap();
    note(
        "update of missing user",
        format!("{missing:?}"),
        store.counts(),
    );

    store.create_session(&"a".repeat(36), 1, 1_000).unwrap();
    store.create_session(&"b".repeat(36), 1, 5_000).unwrap();
    store.create_session(&"c".repeat(36), 2, 5_000).unwrap();
    let joined = store.session_and_user(&"b".repeat(36)).unwrap();
    note("session b", format!("{joined:?}"), store.counts());
    store.update_session_expiry(&"a".repeat(36), 9_000).unwrap();
    store.update_session_expiry("missing", 9_000).unwrap();
    let moved = store.session_and_user(&"a".repeat(36)).unwrap();
    note("session a moved", format!("{moved:?}"), store.counts());
    let state = store.session_state(6_000).unwrap();
    note("session state", format!("{state:?}"), store.counts());
    store.delete_session(&"c".repeat(36)).unwrap();
    store.delete_user_sessions(1).unwrap();
    let gone = store.session_and_user(&"a".repeat(36)).unwrap();
    note("after ban", format!("{gone:?}"), store.counts());
    let state = store.session_state(0).unwrap();
    note("state after ban", format!("{state:?}"), store.counts());

    store.deny_token("j1", 1_000).unwrap();
    store.deny_token("j1", 2_000).unwrap();
    store.deny_user_before(3, 500, 3_000).unwrap();
    for (jti, user, at) in [("j1", 1, 0), ("j2", 3, 499), ("j2", 3, 500), ("j3", 1, 0)] {
        let denied = store.is_denied(jti, user, at).unwrap();
        note(
            &format!("denied {jti} {user} {at}"),
            denied.to_string(),
            store.counts(),
        );
    }
    let state = store.denylist_state(1_500).unwrap();
    note("denylist state", format!("{state:?}"), store.counts());

    let row = |family: &str, user_id| RefreshRow {
        family: family.to_string(),
        user_id,
        expires: 4_000,
        used: false,
    };
    store.insert_refresh("t1", &row("f1", 1)).unwrap();
    store.insert_refresh("t2", &row("f1", 1)).unwrap();
    store.insert_refresh("t3", &row("f2", 2)).unwrap();
    store.mark_refresh_used("t1").unwrap();
    store.mark_refresh_used("missing").unwrap();
    let used = store.find_refresh("t1").unwrap();
    note("refresh t1", format!("{used:?}"), store.counts());
    let missing = store.find_refresh("missing").unwrap();
    note("refresh missing", format!("{missing:?}"), store.counts());
    let state = store.refresh_state(0).unwrap();
    note("refresh state", format!("{state:?}"), store.counts());
    store.delete_refresh_family("f1").unwrap();
    let state = store.refresh_state(0).unwrap();
    note("after family delete", format!("{state:?}"), store.counts());
    store.delete_user_refresh(2).unwrap();
    let state = store.refresh_state(0).unwrap();
    note("after user delete", format!("{state:?}"), store.counts());
    out
}

#[test]
fn trait_calls_same_on_every_store() {
    let _turn = SERVERS.lock().unwrap_or_else(|e| e.into_inner());
    let mut urls = backends().into_iter();
    let mut reference_store = urls.next().unwrap().open("conformance").unwrap();
    let expected = transcript(reference_store.as_mut());
    assert_eq!(
        expected.last().unwrap(),
        "after user delete: StateSize { entries: 0, bytes: 0 } [13 r, 20 w]"
    );
    for url in urls {
        let mut store = url.open("conformance").unwrap();
        let got = transcript(store.as_mut());
        for (line, (got, want)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "{url}, line {line}");
        }
        assert_eq!(got.len(), expected.len());
    }
}

#[test]
fn attached_store_sees_rows_and_open_empties() {
    let _turn = SERVERS.lock().unwrap_or_else(|e| e.into_inner());
    for url in backends().into_iter().skip(1) {
        let mut first = url.open("attach").unwrap();
        first.seed_user(&Profile::generated(1, 0, 0)).unwrap();
        first.create_session("tok", 1, 10_000).unwrap();
        let mut second = url.attach("attach").unwrap();
        let joined = second.session_and_user("tok").unwrap();
        assert_eq!(joined.map(|(s, _)| s.user_id), Some(1), "{url}");
        assert_eq!(second.counts().reads, 1, "{url}");
        let mut reopened = url.open("attach").unwrap();
        assert_eq!(reopened.session_and_user("tok").unwrap(), None, "{url}");
    }
}

#[test]
fn server_store_describe_hides_password() {
    let _turn = SERVERS.lock().unwrap_or_else(|e| e.into_inner());
    for url in backends().into_iter().skip(1) {
        let store = url.open("describe").unwrap();
        let description = store.describe();
        if let Some(password) = std::env::var("AUTHCMP_TEST_POSTGRES_URL")
            .ok()
            .and_then(|u| u.split_once("://").map(|(_, rest)| rest.to_string()))
            .and_then(|rest| rest.split_once('@').map(|(info, _)| info.to_string()))
            .and_then(|info| info.split_once(':').map(|(_, p)| p.to_string()))
        {
            assert!(!description.contains(&password), "{description}");
        }
        assert_eq!(description, url.to_string());
    }
}

/// Runs `authcmp bench` on `store` and returns its exit code, stderr and
/// wall time.
fn bench_on(store: &str, timeout: &str) -> (Option<i32>, String, std::time::Duration) {
    let started = std::time::Instant::now();
    let output = assert_cmd::Command::cargo_bin("authcmp")
        .unwrap()
        .args([
            "bench",
            "--no-save",
            "--store",
            store,
            "--store-timeout",
            timeout,
        ])
        .arg("logout-replay")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    (output.status.code(), stderr, started.elapsed())
}

#[test]
fn unreachable_store_exits_3_naming_it() {
    for (url, shown) in [
        (
            "postgres://authcmp:hunter2@127.0.0.1:1/x",
            "postgres://authcmp:***@127.0.0.1:1/x",
        ),
        ("redis://:hunter2@127.0.0.1:1", "redis://:***@127.0.0.1:1"),
    ] {
        let (code, stderr, elapsed) = bench_on(url, "2s");
        assert_eq!(code, Some(3), "{url}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(shown), "{stderr}");
        assert!(stderr.contains("refused"), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        // A refused connection fails at once; the bound only catches a hang.
        assert!(elapsed.as_secs() < 30, "{url} took {elapsed:?}");
    }
}

#[test]
fn silent_store_times_out() {
    // A listener that never accepts: the kernel completes the TCP handshake,
    // and then nothing answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for url in [
        format!("postgres://authcmp@127.0.0.1:{port}/x"),
        format!("redis://127.0.0.1:{port}"),
    ] {
        let (code, stderr, elapsed) = bench_on(&url, "1s");
        assert_eq!(code, Some(3), "{url}: {stderr}");
        assert!(stderr.contains(&url), "{stderr}");
        assert!(
            stderr.contains("within 1s") || stderr.contains("timed out"),
            "{stderr}"
        );
        assert!(elapsed.as_secs() < 30, "{url} took {elapsed:?}");
    }
    drop(listener);
}
