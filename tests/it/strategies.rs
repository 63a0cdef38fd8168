//! Exact figures of each strategy on scripted workloads. The virtual clock
//! makes every figure here except latency deterministic.

use crate::common::{figures, run, run_builtin};
use authcmp::report::{Delay, Never};

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
const NEVER: Option<Delay> = Some(Delay::Never(Never::Never));

fn ms(value: u64) -> Option<Delay> {
    Some(Delay::Ms(value))
}

#[test]
fn every_strategy_counts_store_ops_per_verify() {
    let report = run_builtin("logout-replay");
    let db = figures(&report, "authjs-database");
    assert_eq!(db.store_ops.reads_per_request, 1.0);
    assert_eq!(db.store_ops.login.reads_per_action, 1.0);
    assert_eq!(db.store_ops.login.writes_per_action, 1.0);
    assert_eq!(db.store_ops.logout.writes_per_action, 1.0);
    for label in ["authjs-jwt", "jwt"] {
        let s = figures(&report, label);
        assert_eq!(s.store_ops.reads_per_request, 0.0, "{label}");
        assert_eq!(s.store_ops.writes_per_request, 0.0, "{label}");
        assert_eq!(s.store_ops.logout.writes_per_action, 0.0, "{label}");
        assert_eq!(s.store_ops.login.reads_per_action, 1.0, "{label}");
    }
}

#[test]
fn database_extends_only_when_due() {
    // Reads every 6 h from sign-in: at 0 h, 6 h, ..., 66 h. With updateAge
    // 1 d the rule `expires - maxAge + updateAge <= now` holds at 24 h and
    // 48 h only; with updateAge 0 it holds on every read.
    let report = run(r#"
        name = "extension"
        [[cohort]]
        name = "u"
        users = 1
        steps = [{ login = {} }, { requests = { count = 12, every = "6h" } }]
        [[strategy]]
        name = "authjs-database"
        label = "one-day"
        [[strategy]]
        name = "authjs-database"
        label = "every-read"
        update_age = "0s"
    "#);
    let daily = figures(&report, "one-day");
    assert_eq!(daily.requests.verifies, 12);
    assert_eq!(daily.store_ops.total_reads, 12 + 1);
    assert_eq!(daily.store_ops.total_writes, 2 + 1);
    let every = figures(&report, "every-read");
    assert_eq!(every.store_ops.total_writes, 12 + 1);
    assert_eq!(every.store_ops.writes_per_request, 1.0);
    // The cookie is re-sent with a new Expires on every read, write or not.
    assert_eq!(daily.cookies.set_cookie_responses, 12);
}

#[test]
fn logout_replay_revocation_per_strategy() {
    let report = run_builtin("logout-replay");
    assert_eq!(report.run.users, 100);

    // Sign-out deletes the row: the first replay, at the sign-out, fails.
    let db = figures(&report, "authjs-database");
    assert_eq!(db.revocation.tracked, 100);
    assert_eq!(db.revocation.rejected, 100);
    assert_eq!(db.revocation.median_delay_ms, ms(0));
    assert_eq!(db.revocation.max_delay_ms, ms(0));
    assert_eq!(db.revocation.stale_accepts, 0);

    // Every replay is re-issued a fresh token: accepted for all 35 days.
    let jwe = figures(&report, "authjs-jwt");
    assert_eq!(jwe.revocation.never, 100);
    assert_eq!(jwe.revocation.median_delay_ms, NEVER);
    assert_eq!(jwe.revocation.max_delay_ms, NEVER);
    assert_eq!(jwe.revocation.stale_accepts, 100 * 840);
    assert_eq!(jwe.cookies.set_cookie_responses, jwe.requests.verifies);

    // Issued at sign-in with exp 15 m later; signed out after 10 m. The
    // replay at sign-out is accepted, the next one an hour later is not.
    let jwt = figures(&report, "jwt");
    assert_eq!(jwt.revocation.stale_accepts, 100);
    assert_eq!(jwt.revocation.median_delay_ms, ms(HOUR));
    assert_eq!(jwt.revocation.max_delay_ms, ms(HOUR));
    assert_eq!(jwt.revocation.resolution_ms, HOUR);
    assert_eq!(jwt.cookies.set_cookie_responses, 0);
}

#[test]
fn jwt_copy_valid_until_exp_plus_leeway() {
    // exp is 900 s after sign-in. With 60 s leeway the copy is accepted up
    // to 960 s (16 m) and rejected at 17 m; with none, up to 15 m.
    let report = run(r#"
        name = "expiry"
        [[cohort]]
        name = "u"
        users = 1
        steps = [
          { login = {} },
          { copy_cookie = { to = "copy" } },
          { logout = {} },
          { replay = { cookie = "copy", count = 30, every = "1m" } },
        ]
        [[strategy]]
        name = "jwt"
        label = "leeway-60s"
        lifetime = "15m"
        leeway = "60s"
        [[strategy]]
        name = "jwt"
        label = "leeway-0s"
        lifetime = "15m"
        leeway = "0s"
        [[strategy]]
        name = "authjs-jwt"
        [[strategy]]
        name = "authjs-database"
    "#);
    let with_leeway = figures(&report, "leeway-60s");
    assert_eq!(with_leeway.revocation.stale_accepts, 17);
    assert_eq!(with_leeway.revocation.max_delay_ms, ms(17 * MINUTE));
    let without = figures(&report, "leeway-0s");
    assert_eq!(without.revocation.stale_accepts, 16);
    assert_eq!(without.revocation.max_delay_ms, ms(16 * MINUTE));
    assert_eq!(
        figures(&report, "authjs-jwt").revocation.max_delay_ms,
        NEVER
    );
    assert_eq!(
        figures(&report, "authjs-database").revocation.max_delay_ms,
        ms(0)
    );
}

#[test]
fn ban_takes_effect_per_strategy() {
    // Ten users request every minute from 0 to 9 m; all are banned at
    // 2 m 30 s, so seven requests follow the ban.
    let report = run(r#"
        name = "ban"
        [[cohort]]
        name = "u"
        users = 10
        steps = [{ login = {} }, { requests = { count = 10, every = "1m" } }]
        [[event]]
        at = "2m 30s"
        revoke = { cohort = "u", fraction = 1.0 }
    "#);
    let db = figures(&report, "authjs-database");
    assert_eq!(db.revocation.tracked, 10);
    assert_eq!(db.revocation.max_delay_ms, ms(30_000));
    assert_eq!(db.revocation.stale_accepts, 0);
    assert_eq!(db.store_ops.revoke.count, 10);
    assert_eq!(db.store_ops.revoke.writes_per_action, 1.0);
    // The banned devices stay signed out: six requests never reach the verifier.
    assert_eq!(db.requests.signed_out, 60);
    for label in ["authjs-jwt", "jwt"] {
        let s = figures(&report, label);
        assert_eq!(s.revocation.max_delay_ms, NEVER, "{label}");
        assert_eq!(s.revocation.stale_accepts, 70, "{label}");
        assert_eq!(s.store_ops.revoke.writes_per_action, 0.0, "{label}");
    }
}

#[test]
fn profile_change_staleness_per_strategy() {
    let report = run_builtin("profile-update");
    // The phone first requests 5 m after the change, and the database returns
    // the new name at once.
    let db = figures(&report, "authjs-database");
    assert_eq!(db.staleness.profile_changes, 20);
    assert_eq!(db.staleness.stale_reads, 0);
    assert_eq!(db.staleness.max_delay_ms, ms(5 * MINUTE));
    assert_eq!(db.store_ops.profile_update.writes_per_action, 1.0);

    // The phone's token keeps the old name for its 60 requests and sees
    // the new one only after signing in again, 65 m after the change.
    let jwe = figures(&report, "authjs-jwt");
    assert_eq!(jwe.staleness.stale_reads, 20 * 60);
    assert_eq!(jwe.staleness.max_delay_ms, ms(65 * MINUTE));
    assert_eq!(jwe.staleness.median_delay_ms, ms(0));
    assert_eq!(jwe.staleness.never, 0);

    // The phone's 15 m token, issued at 0 m, is accepted with the old name
    // at 10..14 m. The browser drops the cookie at its Expires (15 m), so
    // the request at 15 m carries none and the user signs in again: up to
    // date from 16 m, 11 m after the change.
    let jwt = figures(&report, "jwt");
    assert_eq!(jwt.staleness.stale_reads, 20 * 5);
    assert_eq!(jwt.staleness.max_delay_ms, ms(11 * MINUTE));
    // The phone's cookie lapses at 15, 30, 45 and 60 m of its 10..69 m run.
    assert_eq!(jwt.requests.forced_sign_ins, 20 * 4);
    assert_eq!(db.requests.forced_sign_ins, 0);
}

#[test]
fn large_claims_split_into_two_chunks() {
    // A 4,000-character name pushes the v5 JWE past 3,936 characters.
    let report = run(r#"
        name = "chunks"
        [[cohort]]
        name = "u"
        users = 1
        name_padding = 4000
        steps = [{ login = {} }, { requests = { count = 3, every = "1m" } }]
        [[strategy]]
        name = "authjs-jwt"
        [[strategy]]
        name = "authjs-database"
    "#);
    let jwe = figures(&report, "authjs-jwt");
    assert_eq!(jwe.cookies.max_chunks, 2);
    assert!(
        jwe.cookies.bytes_median > 4096,
        "{}",
        jwe.cookies.bytes_median
    );
    assert_eq!(jwe.requests.accepted, 3);
    let db = figures(&report, "authjs-database");
    assert_eq!(db.cookies.max_chunks, 1);
    assert_eq!(db.cookies.bytes_max, "authjs.session-token=".len() + 36);
}

#[test]
fn same_seed_gives_same_figures() {
    let strip = |report: &authcmp::report::Report| {
        let mut value = serde_json::to_value(report).unwrap();
        value["run"]["started_at"] = serde_json::Value::Null;
        value["run"]["wall_ms"] = serde_json::Value::Null;
        value["run"]["timed_ms"] = serde_json::Value::Null;
        value["run"]["wall_per_timed"] = serde_json::Value::Null;
        for s in value["strategies"].as_array_mut().unwrap() {
            s["latency"] = serde_json::Value::Null;
        }
        value
    };
    let first = run_builtin("default");
    let second = run_builtin("default");
    assert_eq!(strip(&first), strip(&second));
    assert!(first.run.requests >= 100_000, "{}", first.run.requests);
    assert_eq!(first.run.users, 2_000);
}

#[test]
fn other_seed_gives_other_workload() {
    let scenario = authcmp::scenario::load("default").unwrap();
    let a = authcmp::cli::run_one(&scenario, &scenario.strategies[..1], Some(1)).unwrap();
    let b = authcmp::cli::run_one(&scenario, &scenario.strategies[..1], Some(2)).unwrap();
    assert_ne!(a.run.requests, b.run.requests);
    assert_eq!(a.seed, 1);
}

#[test]
fn noop_measures_only_the_harness() {
    let report = run(r#"
        name = "noop"
        [[cohort]]
        name = "u"
        users = 3
        steps = [{ login = {} }, { requests = { count = 5, every = "1m" } }, { logout = {} }]
        [[strategy]]
        name = "noop"
    "#);
    let s = figures(&report, "noop");
    assert_eq!(s.requests.verifies, 15);
    assert_eq!(s.requests.accepted, 15);
    assert_eq!(s.store_ops.total_reads, 0);
    assert_eq!(s.store_ops.total_writes, 0);
    assert_eq!(s.store, "none");
    assert!(report.run.timed_ms > 0.0);
    assert!(
        report.run.wall_per_timed >= 1.0,
        "{}",
        report.run.wall_per_timed
    );
}
