//! `authcmp sweep`: one strategy over a list of values of one option.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{print_stdout, run_one, AppError, Format};
use crate::report::{self, TableStyle};
use crate::scenario;
use crate::sweep::{self, SweepReport};

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Scenario file or built-in scenario name
    #[arg(value_name = "SCENARIO")]
    pub scenario: String,

    /// Strategy to sweep: a label from the scenario or a strategy name,
    /// which runs with its defaults if the scenario lacks it
    #[arg(long, value_name = "NAME")]
    pub strategy: String,

    /// Option and its values, such as lifetime=5m,15m,1h; each value is
    /// checked as the scenario file would check it
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub param: String,

    /// Seed for the workload generator, replacing the scenario's `seed`
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Folder that receives results/<scenario>/<UTC time>-sweep-<key>.{json,md,svg}
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results_dir: PathBuf,

    /// Print the table without writing anything under the results folder
    #[arg(long)]
    pub no_save: bool,

    /// Output format on stdout; csv prints the run's report, one row per value
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Run a scenario that scripts more than 20 million events, which
    /// otherwise fails before the run as a likely mistake
    #[arg(long)]
    pub allow_large: bool,
}

/// Runs the sweep, prints it and saves it.
pub fn run(args: &SweepArgs) -> Result<ExitCode, AppError> {
    let (file, text) = scenario::read(&args.scenario)?;
    let scenario = scenario::parse(&file, &text)?;
    crate::limits::check_size(&scenario, args.allow_large).map_err(AppError::Usage)?;
    let (key, values) = sweep::parse_param(&args.param).map_err(AppError::Usage)?;
    let setups = sweep::plan(&text, &args.strategy, &key, &values).map_err(AppError::Usage)?;
    if !args.no_save {
        crate::cli::check_results_dir(&args.results_dir, &[scenario.name.as_str()])?;
    }
    crate::interrupt::install().map_err(AppError::Runtime)?;
    let report = run_one(&scenario, &setups, args.seed)?;
    let result = sweep::sweep_report(report, &args.strategy, &key, &values);
    print_stdout(&render(&result, args.format));
    if !args.no_save {
        let path = save(&result, &args.results_dir).map_err(|e| {
            AppError::Runtime(format!(
                "cannot save results under {}: {e}",
                args.results_dir.display()
            ))
        })?;
        eprintln!("saved {}", report::describe_saved(&path, &SWEEP_FILES));
    }
    Ok(ExitCode::SUCCESS)
}

fn render(result: &SweepReport, format: Format) -> String {
    match format {
        Format::Table => sweep::render_table(result, TableStyle::detect()),
        Format::Markdown => sweep::render_markdown(result),
        Format::Json => {
            serde_json::to_string_pretty(result).expect("sweeps serialize to JSON") + "\n"
        }
        Format::Csv => report::render_csv(&result.report),
    }
}

/// Extensions of the files [`save`] writes for a sweep, in order, the
/// JSON first.
const SWEEP_FILES: [&str; 3] = ["json", "md", "svg"];

/// Saves the JSON, Markdown and chart of a sweep, returning the JSON path.
fn save(result: &SweepReport, dir: &std::path::Path) -> std::io::Result<PathBuf> {
    let json = serde_json::to_string_pretty(result).expect("sweeps serialize to JSON") + "\n";
    let svg = sweep::render_svg(result).map_err(std::io::Error::other)?;
    let stem = format!(
        "{}-sweep-{}",
        report::stem_for(&result.report.run.started_at),
        result.sweep.key
    );
    let contents = [json, sweep::render_markdown(result), svg];
    let files: Vec<(&str, String)> = SWEEP_FILES.into_iter().zip(contents).collect();
    report::save_files(&dir.join(&result.report.scenario.name), &stem, &files)
}
