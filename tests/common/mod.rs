//! Helpers shared by the integration tests.

#![allow(dead_code)]

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
