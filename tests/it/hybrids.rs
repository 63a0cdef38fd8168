//! Exact figures of the hybrid strategies and of the JWT algorithms.

use crate::common::{figures, run};
use authcmp::report::{Delay, Never};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;
const NEVER: Option<Delay> = Some(Delay::Never(Never::Never));

fn ms(value: u64) -> Option<Delay> {
    Some(Delay::Ms(value))
}

/// One user signs in, sends `requests`, has the cookie copied, signs out,
/// and the copy is replayed `replays` times every `every`.
fn logout_replay(requests: &str, replays: &str, strategies: &str) -> String {
    format!(
        r#"
        name = "replay"
        [[cohort]]
        name = "u"
        users = 1
        steps = [
          {{ login = {{}} }},
          {{ requests = {requests} }},
          {{ copy_cookie = {{ to = "copy" }} }},
          {{ logout = {{}} }},
          {{ replay = {replays} }},
        ]
        {strategies}
        "#
    )
}

#[test]
fn denylist_reads_once_per_verify() {
    let text = logout_replay(
        r#"{ count = 10, every = "1m" }"#,
        r#"{ cookie = "copy", count = 5, every = "1m" }"#,
        "[[strategy]]\nname = \"jwt-denylist\"\nlifetime = \"1h\"",
    );
    let report = run(&text);
    let s = figures(&report, "jwt-denylist");
    // 10 requests and 5 replays, all with a token that is still valid, so
    // each one reaches the denylist.
    assert_eq!(s.requests.verifies, 15);
    assert_eq!(s.store_ops.reads_per_request, 1.0);
    assert_eq!(s.store_ops.writes_per_request, 0.0);
    assert_eq!(s.store_ops.logout.writes_per_action, 1.0);
    // The replay at the sign-out is the first probe, and it is rejected.
    assert_eq!(s.revocation.max_delay_ms, ms(0));
    assert_eq!(s.revocation.stale_accepts, 0);
    assert_eq!(s.server_state.entries, 1);
}

#[test]
fn denylist_blocks_banned_user() {
    let report = run(r#"
        name = "ban"
        [[cohort]]
        name = "u"
        users = 4
        steps = [{ login = {} }, { requests = { count = 10, every = "1m" } }]
        [[event]]
        at = "2m 30s"
        revoke = { cohort = "u", fraction = 1.0 }
        [[strategy]]
        name = "jwt-denylist"
        [[strategy]]
        name = "jwt"
    "#);
    let denylist = figures(&report, "jwt-denylist");
    assert_eq!(denylist.revocation.max_delay_ms, ms(30 * SECOND));
    assert_eq!(denylist.store_ops.revoke.writes_per_action, 1.0);
    assert_eq!(figures(&report, "jwt").revocation.max_delay_ms, NEVER);
}

#[test]
fn access_refresh_touches_store_only_on_refresh() {
    // Requests every minute for 20 minutes with a 5-minute access token:
    // the browser drops it at 5, 10 and 15 minutes, and each of those
    // requests refreshes: a refresh-token read, a user read, the rotation
    // write and the new token's insert.
    let text = logout_replay(
        r#"{ count = 20, every = "1m" }"#,
        r#"{ cookie = "copy", count = 5, every = "1m" }"#,
        "[[strategy]]\nname = \"access-refresh\"\nlifetime = \"5m\"\nleeway = \"60s\"",
    );
    let report = run(&text);
    let s = figures(&report, "access-refresh");
    assert_eq!(s.store_ops.login.reads_per_action, 1.0);
    assert_eq!(s.store_ops.login.writes_per_action, 1.0);
    // 20 device requests with 6 reads and 6 writes, then 5 replays: two
    // accepted on the access token alone, three failed refreshes (1 read).
    assert_eq!(s.requests.verifies, 25);
    assert_eq!(s.store_ops.total_reads, 1 + 6 + 3);
    assert_eq!(s.store_ops.total_writes, 1 + 6 + 1);
    // The copied access token (issued at 15 m, exp 20 m) passes at 20 and
    // 21 m with 60 s leeway and fails at 22 m, 2 m after the sign-out.
    assert_eq!(s.revocation.stale_accepts, 2);
    assert_eq!(s.revocation.max_delay_ms, ms(2 * MINUTE));
    assert!(s.revocation.last_accept_ms <= 5 * MINUTE + 60 * SECOND);
}

#[test]
fn access_refresh_reuse_revokes_family() {
    // The copy is taken at sign-in; the device refreshes at 5 and 10 m.
    // At 11 m the attacker presents the first, already used refresh token:
    // the family is revoked. The device's access token carries it to 15 m,
    // where its refresh fails and the user must sign in again.
    let report = run(r#"
        name = "reuse"
        [[cohort]]
        name = "u"
        users = 1
        steps = [
          { login = {} },
          { copy_cookie = { to = "copy" } },
          { requests = { count = 11, every = "1m" } },
          { replay = { cookie = "copy", count = 1, every = "1m" } },
          { requests = { count = 5, every = "1m" } },
        ]
        [[strategy]]
        name = "access-refresh"
        lifetime = "5m"
        leeway = "0s"
    "#);
    let s = figures(&report, "access-refresh");
    assert_eq!(s.requests.verifies, 17);
    assert_eq!(s.requests.rejected, 2);
    assert_eq!(s.requests.forced_sign_ins, 1);
    assert_eq!(s.store_ops.login.count, 2);
}

#[test]
fn cached_session_stale_on_other_nodes() {
    // Requests at 0, 10 and 20 s fill the caches of nodes 0, 1 and 2 in
    // turn; the sign-out at 30 s goes to node 0. Replays every 10 s then
    // reach nodes 1, 2, 0, 1, 2, 0...: nodes 1 and 2 accept until their
    // entries, cached at 10 and 20 s, reach the 60 s TTL.
    let strategies = r#"
        [[strategy]]
        name = "cached-session"
        label = "ttl-60s"
        cache_ttl = "60s"
        nodes = 3
        [[strategy]]
        name = "cached-session"
        label = "ttl-0s"
        cache_ttl = "0s"
        [[strategy]]
        name = "authjs-database"
    "#;
    let text = logout_replay(
        r#"{ count = 3, every = "10s" }"#,
        r#"{ cookie = "copy", count = 12, every = "10s" }"#,
        strategies,
    );
    let report = run(&text);
    let cached = figures(&report, "ttl-60s");
    // Accepted at 30 s (node 1), 40 s (node 2), rejected at 50 s (node 0),
    // accepted again at 60 s (node 1) and 70 s (node 2), rejected after.
    assert_eq!(cached.revocation.max_delay_ms, ms(20 * SECOND));
    assert_eq!(cached.revocation.stale_accepts, 4);
    assert_eq!(cached.revocation.last_accept_ms, 40 * SECOND);
    // Store reads: the sign-in, the three device requests that fill the
    // caches, and the replays that miss (50 s, then 80 s to 140 s).
    assert_eq!(cached.store_ops.total_reads, 1 + 3 + 8);

    let uncached = figures(&report, "ttl-0s");
    let database = figures(&report, "authjs-database");
    assert_eq!(uncached.revocation.max_delay_ms, ms(0));
    assert_eq!(uncached.revocation.stale_accepts, 0);
    assert_eq!(
        uncached.store_ops.reads_per_request,
        database.store_ops.reads_per_request
    );
    assert_eq!(uncached.store_ops.total_reads, 1 + 3 + 12);
    assert_eq!(
        uncached.store_ops.total_reads,
        database.store_ops.total_reads
    );
    assert_eq!(
        uncached.store_ops.total_writes,
        database.store_ops.total_writes
    );
    assert_eq!(uncached.cookies.bytes_median, database.cookies.bytes_median);
}

#[test]
fn signed_cookie_valid_until_max_age() {
    // Signed at sign-in (0 s) with a 1 h max age; the sign-out is at 1 s
    // and the replays at 1 s + k minutes. Django rejects once the age
    // exceeds 3,600 s: the replays at ages 1 s to 59 m 1 s pass and the
    // one at 60 m 1 s fails, 60 m after the sign-out.
    let text = logout_replay(
        r#"{ count = 1, every = "1s" }"#,
        r#"{ cookie = "copy", count = 90, every = "1m" }"#,
        "[[strategy]]\nname = \"signed-cookie\"\nmax_age = \"1h\"",
    );
    let report = run(&text);
    let s = figures(&report, "signed-cookie");
    assert_eq!(s.store_ops.reads_per_request, 0.0);
    assert_eq!(s.revocation.stale_accepts, 60);
    assert_eq!(s.revocation.max_delay_ms, ms(60 * MINUTE));
}

#[test]
fn signed_cookie_rotation_revokes_copy() {
    // A password change at 10 m 30 s changes the user's session hash: the
    // copy fails at its next presentation, 30 s later.
    let report = run(r#"
        name = "rotation"
        [[cohort]]
        name = "u"
        users = 1
        steps = [
          { login = {} },
          { copy_cookie = { to = "copy" } },
          { replay = { cookie = "copy", count = 20, every = "1m" } },
        ]
        [[event]]
        at = "10m 30s"
        revoke = { cohort = "u", fraction = 1.0 }
        [[strategy]]
        name = "signed-cookie"
    "#);
    let s = figures(&report, "signed-cookie");
    assert_eq!(s.revocation.max_delay_ms, ms(30 * SECOND));
    assert_eq!(s.revocation.stale_accepts, 0);
    assert_eq!(s.store_ops.revoke.writes_per_action, 0.0);
}

#[test]
fn check_user_revokes_authjs_jwt() {
    let report = run(r#"
        name = "ban"
        [[cohort]]
        name = "u"
        users = 2
        steps = [{ login = {} }, { requests = { count = 10, every = "1m" } }]
        [[event]]
        at = "2m 30s"
        revoke = { cohort = "u", fraction = 1.0 }
        [[strategy]]
        name = "authjs-jwt"
        label = "checked"
        check_user = true
        [[strategy]]
        name = "authjs-jwt"
    "#);
    let checked = figures(&report, "checked");
    assert_eq!(checked.store_ops.reads_per_request, 1.0);
    assert_eq!(checked.revocation.max_delay_ms, ms(30 * SECOND));
    assert_eq!(
        figures(&report, "authjs-jwt").revocation.max_delay_ms,
        NEVER
    );
}

#[test]
fn algorithm_sets_token_length() {
    let report = run(r#"
        name = "algorithms"
        [[cohort]]
        name = "u"
        users = 1
        steps = [{ login = {} }, { requests = { count = 1, every = "1m" } }]
        [[strategy]]
        name = "jwt"
        label = "HS256"
        algorithm = "HS256"
        [[strategy]]
        name = "jwt"
        label = "RS256"
        algorithm = "RS256"
        [[strategy]]
        name = "jwt"
        label = "ES256"
        algorithm = "ES256"
        [[strategy]]
        name = "jwt"
        label = "EdDSA"
        algorithm = "EdDSA"
    "#);
    // Signatures of 32, 256, 64 and 64 bytes are 43, 342, 86 and 86
    // base64url characters; every algorithm name has five characters, so
    // the header and claims segments are the same length for all four.
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sub":"1","name":"User 1","email":"user1@example.org","picture":"https://example.org/avatars/1.png","iat":1798761600,"exp":1798762500,"jti":"{}"}}"#,
        "0".repeat(36)
    ));
    let unsigned = "token=".len() + header.len() + 1 + claims.len() + 1;
    for (label, signature) in [("HS256", 43), ("RS256", 342), ("ES256", 86), ("EdDSA", 86)] {
        let s = figures(&report, label);
        assert_eq!(s.cookies.bytes_max, unsigned + signature, "{label}");
        assert_eq!(s.requests.accepted, 1, "{label}");
    }
}
