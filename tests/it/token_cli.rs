//! `authcmp token`: real Auth.js cookies verify, issued cookies round-trip,
//! and bad input fails cleanly.

use assert_cmd::Command;

use crate::common::assert_clean_error;

fn authcmp() -> Command {
    Command::cargo_bin("authcmp").unwrap()
}

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("../data/authjs-vectors.json")).unwrap()
}

/// Runs authcmp and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = authcmp().args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The cookie header part of `token issue` output: the name=value of each
/// Set-Cookie line, joined by "; ".
fn cookie_from_issue(stdout: &str) -> String {
    let pairs: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Set-Cookie: "))
        .map(|l| l.split(';').next().unwrap())
        .collect();
    pairs.join("; ")
}

#[test]
fn real_authjs_cookies_verify() {
    let vectors = vectors();
    let secret = vectors["secret"].as_str().unwrap();
    // The tokens were issued on 2026-12-04, before authcmp's virtual epoch.
    for (index, cookie_name, extra) in [
        (0, "authjs.session-token", vec![]),
        (1, "__Secure-authjs.session-token", vec!["--secure"]),
        (2, "next-auth.session-token", vec!["--version", "v4"]),
    ] {
        let case = &vectors["cases"][index];
        let cookie = format!("{cookie_name}={}", case["token"].as_str().unwrap());
        let iat = case["claims"]["iat"].as_i64().unwrap().to_string();
        let mut args = vec![
            "token",
            "verify",
            "authjs-jwt",
            &cookie,
            "--secret",
            secret,
            "--at",
            &iat,
        ];
        args.extend(extra);
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 0, "case {index}: {stdout}{stderr}");
        assert!(stdout.starts_with("accept\n"), "case {index}: {stdout}");
        let claims_start = stdout.find("claims:\n").unwrap() + "claims:\n".len();
        let claims: serde_json::Value = serde_json::from_str(&stdout[claims_start..]).unwrap();
        assert_eq!(claims, case["claims"], "case {index}");
    }
}

#[test]
fn real_cookie_rejects_after_exp() {
    let vectors = vectors();
    let case = &vectors["cases"][0];
    let exp = case["claims"]["exp"].as_i64().unwrap();
    let token = case["token"].as_str().unwrap();
    let secret = vectors["secret"].as_str().unwrap();
    let at = (exp + 15).to_string();
    let (code, stdout, _) = run(&[
        "token",
        "verify",
        "authjs-jwt",
        token,
        "--secret",
        secret,
        "--at",
        &at,
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.starts_with("reject: expired\n"), "{stdout}");
    assert!(
        stdout.contains("claims (read from the rejected cookie):"),
        "{stdout}"
    );
    let at = (exp + 14).to_string();
    let (code, _, _) = run(&[
        "token",
        "verify",
        "authjs-jwt",
        token,
        "--secret",
        secret,
        "--at",
        &at,
    ]);
    assert_eq!(code, 0);
}

#[test]
fn wrong_secret_or_cookie_name_rejects() {
    let vectors = vectors();
    let token = vectors["cases"][2]["token"].as_str().unwrap();
    let at = "1796399720";
    let cookie = format!("next-auth.session-token={token}");
    let (code, stdout, _) = run(&["token", "verify", "authjs-jwt", &cookie, "--at", at]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("reject: no credential cookie: expected authjs.session-token"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--version v4 reads next-auth names"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&[
        "token",
        "verify",
        "authjs-jwt",
        &cookie,
        "--at",
        at,
        "--version",
        "v4",
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("reject: decryption failed: authentication tag mismatch"),
        "{stdout}"
    );
}

#[test]
fn issued_chunked_cookie_round_trips() {
    let big = "x".repeat(6_000);
    let claims = format!(r#"{{"sub":"42","name":"Ada","roles":["admin"],"big":"{big}"}}"#);
    let (code, stdout, stderr) = run(&[
        "token",
        "issue",
        "authjs-jwt",
        "--claims",
        &claims,
        "--secret",
        "s3",
        "--at",
        "2026-12-04T00:00:00Z",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let set_cookies: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("Set-Cookie: "))
        .collect();
    assert_eq!(set_cookies.len(), 3, "{stdout}");
    assert!(set_cookies[0].starts_with("Set-Cookie: authjs.session-token.0="));
    assert!(set_cookies[2].starts_with("Set-Cookie: authjs.session-token.2="));
    assert!(
        set_cookies[0]
            .ends_with("; Path=/; Expires=Sun, 03 Jan 2027 00:00:00 GMT; HttpOnly; SameSite=Lax"),
        "{}",
        set_cookies[0]
    );
    assert!(stdout.contains("\"iat\": 1796342400"), "{stdout}");
    assert!(stdout.contains("\"exp\": 1798934400"), "{stdout}");
    let cookie = cookie_from_issue(&stdout);
    let (code, stdout, _) = run(&[
        "token",
        "verify",
        "authjs-jwt",
        &cookie,
        "--secret",
        "s3",
        "--at",
        "2026-12-05T00:00:00Z",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("in 3 cookie(s)"), "{stdout}");
    assert!(
        stdout.contains("\"roles\": [\n    \"admin\"\n  ]"),
        "{stdout}"
    );
}

#[test]
fn issued_jwt_expires_after_lifetime() {
    let (code, stdout, _) = run(&["token", "issue", "jwt"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("\"iat\": 1798761600"), "{stdout}");
    assert!(stdout.contains("\"exp\": 1798762500"), "{stdout}");
    assert!(
        stdout.contains("Expires=Fri, 01 Jan 2027 00:15:00 GMT"),
        "{stdout}"
    );
    let cookie = cookie_from_issue(&stdout);
    // 15 min lifetime plus 60 s leeway: valid through exp + 60 s.
    let at_edge = (1_798_762_500 + 60).to_string();
    let (code, _, _) = run(&["token", "verify", "jwt", &cookie, "--at", &at_edge]);
    assert_eq!(code, 0);
    let after = (1_798_762_500 + 61).to_string();
    let (code, stdout, _) = run(&["token", "verify", "jwt", &cookie, "--at", &after]);
    assert_eq!(code, 1);
    assert!(stdout.starts_with("reject: expired\n"), "{stdout}");
    let (code, stdout, _) = run(&["token", "verify", "jwt", &cookie, "--secret", "other"]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("reject: signature does not match"),
        "{stdout}"
    );
}

#[test]
fn database_cookie_is_opaque() {
    let (code, stdout, _) = run(&["token", "issue", "authjs-database", "--secure"]);
    assert_eq!(code, 0);
    let line = stdout.lines().next().unwrap();
    assert!(
        line.starts_with("Set-Cookie: __Secure-authjs.session-token="),
        "{line}"
    );
    assert_eq!(line.len(), "Set-Cookie: ".len() + 145, "{line}");
    assert!(stdout.contains("note: a database session cookie is an opaque random id"));
    let (code, stdout, _) = run(&[
        "token",
        "verify",
        "authjs-database",
        "1b0a8c44-1111-4e4e-8888-123456789abc",
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("reject: unknown session token\n"),
        "{stdout}"
    );
}

#[test]
fn secret_and_cookie_sources() {
    let vectors = vectors();
    let case = &vectors["cases"][0];
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(
        &secret_file,
        format!("{}\n", vectors["secret"].as_str().unwrap()),
    )
    .unwrap();
    let cookie_file = dir.path().join("cookie");
    std::fs::write(&cookie_file, case["token"].as_str().unwrap()).unwrap();
    let secret_arg = format!("@{}", secret_file.display());
    let cookie_arg = format!("@{}", cookie_file.display());
    let at = "1796399719";
    let (code, stdout, stderr) = run(&[
        "token",
        "verify",
        "authjs-jwt",
        &cookie_arg,
        "--secret",
        &secret_arg,
        "--at",
        at,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Secret from the environment, cookie from standard input.
    authcmp()
        .args([
            "token",
            "verify",
            "authjs-jwt",
            "-",
            "--secret-env",
            "AUTHCMP_TEST_SECRET",
        ])
        .args(["--at", at])
        .env("AUTHCMP_TEST_SECRET", vectors["secret"].as_str().unwrap())
        .write_stdin(case["token"].as_str().unwrap())
        .assert()
        .code(0);
    // Cookie from the environment, secret from standard input.
    authcmp()
        .args([
            "token",
            "verify",
            "authjs-jwt",
            "--cookie-env",
            "AUTHCMP_TEST_COOKIE",
        ])
        .args(["--secret", "-", "--at", at])
        .env("AUTHCMP_TEST_COOKIE", case["token"].as_str().unwrap())
        .write_stdin(format!("{}\n", vectors["secret"].as_str().unwrap()))
        .assert()
        .code(0);
}

#[test]
fn bad_usage_exits_2_with_one_line() {
    let stderr = assert_clean_error(&["token", "issue", "jwt", "--claims", "[1,2]"], 2);
    assert!(
        stderr.contains("expected a JSON object, found an array"),
        "{stderr}"
    );
    let stderr = assert_clean_error(&["token", "issue", "jwt", "--claims", "{"], 2);
    assert!(stderr.contains("--claims: invalid JSON"), "{stderr}");
    let stderr = assert_clean_error(&["token", "issue", "jwt", "--claims", r#"{"sub":"1"}"#], 2);
    assert!(
        stderr.contains("missing or not strings: name, email, picture"),
        "{stderr}"
    );
    let stderr = assert_clean_error(&["token", "issue", "sessions"], 2);
    assert!(stderr.contains("unknown strategy \"sessions\""), "{stderr}");
    let stderr = assert_clean_error(&["token", "issue", "jwt", "--version", "v4"], 2);
    assert!(
        stderr.contains("--version does not apply to jwt"),
        "{stderr}"
    );
    let stderr = assert_clean_error(&["token", "issue", "authjs-database", "--secret", "s"], 2);
    assert!(
        stderr.contains("--secret does not apply to authjs-database"),
        "{stderr}"
    );
    let stderr = assert_clean_error(&["token", "issue", "jwt", "--secret", ""], 2);
    assert!(stderr.contains("the secret is empty"), "{stderr}");
    let stderr = assert_clean_error(&["token", "issue", "jwt", "--secret", "@/no/such/file"], 2);
    assert!(
        stderr.contains("--secret @/no/such/file: cannot read the file"),
        "{stderr}"
    );
    let stderr = assert_clean_error(&["token", "verify", "jwt", "x", "--at", "soon"], 2);
    assert!(stderr.contains("--at: invalid time \"soon\""), "{stderr}");
    let stderr = assert_clean_error(
        &["token", "issue", "jwt", "--at", "9999-12-31T23:59:00Z"],
        2,
    );
    assert!(stderr.contains("after the year 9999"), "{stderr}");
    let stderr = assert_clean_error(&["token", "verify", "jwt", "-", "--secret", "-"], 2);
    assert!(stderr.contains("both read standard input"), "{stderr}");
}

#[test]
fn hostile_cookies_reject_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("megabyte", "A".repeat(1 << 20).into_bytes()),
        ("megabyte-dots", ".".repeat(1 << 20).into_bytes()),
        ("nul", b"eyJ\0.a.b".to_vec()),
        ("invalid-utf8", vec![b'a', 0xff, 0xfe, b'.']),
        ("empty", Vec::new()),
        ("equals", b"=;=;;=".to_vec()),
    ];
    for strategy in authcmp::strategy::KINDS
        .iter()
        .filter(|k| k.compared)
        .map(|k| k.name)
    {
        for (name, bytes) in &cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let arg = format!("@{}", path.display());
            let output = authcmp()
                .args(["token", "verify", strategy, &arg])
                .output()
                .unwrap();
            let stdout = String::from_utf8(output.stdout).unwrap();
            let stderr = String::from_utf8(output.stderr).unwrap();
            assert_eq!(output.status.code(), Some(1), "{strategy} {name}: {stderr}");
            assert!(
                stdout.starts_with("reject: "),
                "{strategy} {name}: {stdout}"
            );
            assert!(
                stdout.lines().next().unwrap().len() < 400,
                "{strategy} {name}"
            );
            assert!(stderr.is_empty(), "{strategy} {name}: {stderr}");
        }
    }
}

#[test]
fn every_strategy_round_trips() {
    // Issued at the virtual epoch, checked one minute later: accepted by
    // every strategy whose cookie carries the credential itself.
    for strategy in [
        "authjs-jwt",
        "jwt",
        "jwt-denylist",
        "access-refresh",
        "signed-cookie",
    ] {
        let (code, stdout, stderr) = run(&["token", "issue", strategy, "--at", "1798761600"]);
        assert_eq!(code, 0, "{strategy}: {stderr}");
        let cookie = cookie_from_issue(&stdout);
        let (code, stdout, _) = run(&["token", "verify", strategy, &cookie, "--at", "1798761660"]);
        assert_eq!(code, 0, "{strategy}: {stdout}");
        assert!(stdout.starts_with("accept"), "{strategy}: {stdout}");
    }
    // A database session cookie means nothing without the store.
    for strategy in ["authjs-database", "cached-session"] {
        let (code, stdout, _) = run(&["token", "issue", strategy]);
        assert_eq!(code, 0, "{strategy}");
        let (code, stdout, _) = run(&["token", "verify", strategy, &cookie_from_issue(&stdout)]);
        assert_eq!(code, 1, "{strategy}: {stdout}");
        assert!(
            stdout.starts_with("reject: unknown session token"),
            "{strategy}: {stdout}"
        );
    }
}

#[test]
fn oversized_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    let cap = authcmp::cli::source::MAX_VALUE_BYTES as usize;
    std::fs::write(&big, vec![b'a'; cap + 1]).unwrap();
    let arg = format!("@{}", big.display());
    let stderr = assert_clean_error(&["token", "verify", "jwt", &arg], 2);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: COOKIE {arg}: larger than 16 MiB, far more than any cookie or secret; \
             pass the right file"
        )
    );
    let output = authcmp()
        .args(["token", "verify", "jwt", "-"])
        .write_stdin(vec![b'a'; cap + 1])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));

    // Exactly the limit is read and judged as a cookie.
    std::fs::write(&big, vec![b'a'; cap]).unwrap();
    let (code, stdout, _) = run(&["token", "verify", "jwt", &arg]);
    assert_eq!(code, 1, "rejected, not refused");
    assert!(stdout.starts_with("reject: "), "{stdout}");
}

#[test]
fn secure_cookie_without_secure_gets_a_hint() {
    let (code, stdout, _) = run(&["token", "issue", "authjs-jwt", "--secure"]);
    assert_eq!(code, 0);
    let header = cookie_from_issue(&stdout);
    let value = header.split_once('=').unwrap().1;
    let at = "2027-01-01T00:01:00Z";
    let (code, stdout, _) = run(&["token", "verify", "authjs-jwt", value, "--at", at]);
    assert_eq!(code, 1, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("reject: no matching decryption secret"),
        "{stdout}"
    );
    assert_eq!(
        lines[1],
        "hint: Auth.js derives the key from the cookie name; a cookie set over HTTPS as \
         __Secure-authjs.session-token needs --secure"
    );
    let (code, stdout, _) = run(&[
        "token",
        "verify",
        "authjs-jwt",
        value,
        "--secure",
        "--at",
        at,
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("hint:"), "{stdout}");
}
