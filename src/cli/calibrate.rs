//! `authcmp calibrate`: does a run's verify p50 agree with an isolated
//! measurement of the same call?

use std::process::ExitCode;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use super::{print_stdout, run_one, select_strategies, AppError};
use crate::calibrate::{isolated_verify, Agreement, CLIENTS};
use crate::scenario;

#[derive(clap::Args, Debug)]
pub struct CalibrateArgs {
    /// Scenario file or built-in scenario name [default: scenarios/default.toml]
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<String>,

    /// Check only this strategy: a label from the scenario or a strategy name (repeatable)
    #[arg(long = "strategy", value_name = "NAME")]
    pub strategies: Vec<String>,

    /// Batches of 200 verifies timed for each isolated median
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub samples: u64,
}

pub fn run(args: &CalibrateArgs) -> Result<ExitCode, AppError> {
    let name = args.scenario.as_deref().unwrap_or("scenarios/default.toml");
    let scenario = scenario::load(name)?;
    let setups = select_strategies(&scenario, &args.strategies, None)?;
    let report = run_one(&scenario, &setups, None)?;
    let mut rows = Vec::new();
    for (setup, figures) in setups.iter().zip(&report.strategies) {
        let isolated = isolated_verify(setup, args.samples as usize)
            .map_err(|e| AppError::Runtime(e.to_string()))?;
        rows.push(Agreement {
            label: setup.label.clone(),
            isolated_ns: isolated,
            in_run_ns: figures.latency.verify.p50_ns,
        });
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).force_no_tty();
    table.set_header([
        "strategy",
        "in-run p50 (ns)",
        "isolated median (ns)",
        "in-run / isolated",
    ]);
    for row in &rows {
        table.add_row([
            row.label.clone(),
            row.in_run_ns.to_string(),
            format!("{:.0}", row.isolated_ns),
            format!("{:.2}", row.ratio()),
        ]);
    }
    for index in 1..4 {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!(
        "{}: verify in the run against {} batches of 200 verifies over {CLIENTS} clients in isolation\n",
        report.scenario.name, args.samples
    );
    out.push_str(&table.to_string());
    out.push('\n');
    out.push_str(&crate::report::harness_line(&report));
    out.push('\n');
    print_stdout(&out);
    Ok(ExitCode::SUCCESS)
}
