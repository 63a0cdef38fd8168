//! `init`, `completions` and the shipped results schema.

use std::path::Path;

use crate::common::{self, assert_results_valid, authcmp};

/// Compares `results/<name>` with the schema generated from its type, after
/// rewriting the file when AUTHCMP_UPDATE_SCHEMA is set.
fn assert_schema_current(name: &str, schema: serde_json::Value, type_name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("results")
        .join(name);
    let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("AUTHCMP_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "results/{name} is out of date with the {type_name} type; \
         regenerate it with `AUTHCMP_UPDATE_SCHEMA=1 cargo test --test it scaffold::`"
    );
}

#[test]
fn schema_file_is_current() {
    assert_schema_current("schema.json", authcmp::report::results_schema(), "Report");
}

#[test]
fn load_schema_file_is_current() {
    assert_schema_current(
        "load-schema.json",
        authcmp::report::load_results_schema(),
        "LoadReport",
    );
}

#[test]
fn init_writes_runnable_starter() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path()).arg("init").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let written = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
    assert_eq!(written, authcmp::scaffold::STARTER);

    let output = authcmp(dir.path())
        .args(["bench", "--quiet", "scenario.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_results_valid(&dir.path().join("results"));
}

#[test]
fn init_keeps_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, "# my scenario\n").unwrap();
    let output = authcmp(dir.path())
        .args(["init", "mine.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: mine.toml already exists;"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# my scenario\n");
}

#[test]
fn completions_name_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let script = String::from_utf8(output.stdout).unwrap();
    assert!(script.contains("_authcmp()"), "{script}");
    for subcommand in ["bench", "compare", "init", "completions"] {
        assert!(script.contains(subcommand), "missing {subcommand}");
    }
}

#[test]
fn schema_rejects_missing_figure() {
    let schema = authcmp::report::results_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = authcmp(dir.path())
        .args(["bench", "--quiet", "--format", "json", "--no-save"])
        .arg(common::data("strict.toml"))
        .output()
        .unwrap();
    let mut report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(validator.is_valid(&report));

    report["strategies"][0]["store_ops"]
        .as_object_mut()
        .unwrap()
        .remove("reads_per_request");
    assert!(!validator.is_valid(&report));
}
