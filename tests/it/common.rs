//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use authcmp::report::{Report, StrategyFigures};

/// Parses a scenario from text and runs all its strategies.
pub fn run(text: &str) -> Report {
    let scenario = authcmp::scenario::parse("test.toml", text).expect("test scenario is valid");
    authcmp::cli::run_one(&scenario, &scenario.strategies, None).expect("run succeeds")
}

/// Runs a shipped scenario by name.
pub fn run_builtin(name: &str) -> Report {
    let scenario = authcmp::scenario::load(name).expect("built-in scenario loads");
    authcmp::cli::run_one(&scenario, &scenario.strategies, None).expect("run succeeds")
}

/// The figures of the strategy labelled `label`.
pub fn figures<'a>(report: &'a Report, label: &str) -> &'a StrategyFigures {
    report
        .strategies
        .iter()
        .find(|s| s.label == label)
        .unwrap_or_else(|| panic!("no strategy labelled {label}"))
}

/// Path of a file under `tests/data`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Builds a command running the `authcmp` binary in `dir`, with no colour
/// and a 120-column table.
pub fn authcmp(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("authcmp").expect("the binary is built");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120");
    cmd
}

/// Files under `dir` whose name ends with `suffix`, sorted.
pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).expect("folder is readable") {
            let path = entry.expect("entry is readable").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Builds a validator from a schema file shipped in `results/`.
fn shipped_validator(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("results")
        .join(name);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("the shipped results/{name} is not a valid schema: {e}"))
}

/// Checks every `.json` file under `dir` against its shipped schema:
/// `results/load-schema.json` for the `-load.json` files of `authcmp
/// load`, `results/schema.json` for the others.
pub fn assert_results_valid(dir: &Path) {
    let run_validator = shipped_validator("schema.json");
    let load_validator = shipped_validator("load-schema.json");
    let files = files_ending(dir, ".json");
    assert!(!files.is_empty(), "no results JSON under {}", dir.display());
    for file in files {
        let (validator, schema) = if file.to_string_lossy().ends_with("-load.json") {
            (&load_validator, "load-schema.json")
        } else {
            (&run_validator, "schema.json")
        };
        let instance: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} does not match results/{schema}: {errors:#?}",
            file.display()
        );
    }
}

/// Runs authcmp with `args` and checks it failed cleanly: exit code
/// `code`, one error line on stderr, and no panic. Returns stderr.
pub fn assert_clean_error(args: &[&str], code: i32) -> String {
    let output = Command::cargo_bin("authcmp")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    stderr
}
