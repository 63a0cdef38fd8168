//! `authcmp load` on every store backend: counts that do not depend on
//! timing are exact.

use std::time::Duration;

use authcmp::load::{run_one, LoadArgs};
use authcmp::store::StoreUrl;
use authcmp::strategy::Setup;

/// The store URLs to test: SQLite always, the servers when configured.
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
    }
}

#[test]
fn open_loop_sends_every_scheduled_request() {
    for url in backends() {
        let mut setup = Setup::with_defaults("authjs-database").unwrap();
        setup.label = "load-open".to_string();
        setup.store = url.clone();
        let result = run_one(&setup, 2, &args(Some(100.0))).unwrap();
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
        let result = run_one(&setup, 2, &args(None)).unwrap();
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
