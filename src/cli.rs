//! Command-line interface: argument parsing and the commands.
//!
//! Exit codes: 0 success, 1 a threshold failed or `compare` (or `bench
//! --baseline`) found a regression beyond noise, 2 invalid usage or
//! scenario, 3 a runtime failure such as a store error or an unwritable
//! results folder.

mod calibrate;
mod progress;
pub mod source;
mod sweep;
mod token;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::compare;
use crate::report::{self, Report, TableStyle};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::store::StoreUrl;
use crate::strategy::{self, Setup};

#[derive(Parser, Debug)]
#[command(
    name = "authcmp",
    version,
    about = "Compare session-cookie and JWT authentication strategies on scripted workloads",
    long_about = "Replays scripted sign-in and request workloads from scenario files against \
                  real implementations of session-cookie and JWT strategies, and prints one \
                  comparison table: store operations per request, cookie bytes, verify latency, \
                  revocation delay and profile staleness.\n\n\
                  Exit codes: 0 success, 1 a threshold failed or a regression beyond noise \
                  (compare, bench --baseline), 2 invalid usage, scenario or results file, \
                  3 runtime failure (store error, unwritable results folder)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay scenarios against their strategies and print the comparison table
    Bench(BenchArgs),
    /// Parse and check scenario files without running them
    Validate {
        /// Scenario files, or names of built-in scenarios
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,

        /// Accept scenarios that script more events than the size limit
        #[arg(long)]
        allow_large: bool,
    },
    /// List the strategies and the shipped scenarios
    List,
    /// Compare two saved runs figure by figure; exits 1 on a regression
    /// beyond noise
    Compare {
        /// Results file of the earlier run, as `bench` saved it (.json)
        #[arg(value_name = "OLD.json")]
        old: PathBuf,
        /// Results file of the later run
        #[arg(value_name = "NEW.json")]
        new: PathBuf,
    },
    /// Write a commented starter scenario; an existing file is kept
    Init {
        /// Where to write it
        #[arg(value_name = "PATH", default_value = "scenario.toml")]
        path: PathBuf,
    },
    /// Print a shell completion script, for example
    /// `authcmp completions bash > ~/.local/share/bash-completion/completions/authcmp`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Issue or verify one credential, such as a cookie from your application
    Token(token::TokenArgs),
    /// Re-run one strategy over several values of one option and mark the trade-off front
    Sweep(sweep::SweepArgs),
    /// Check that a run's verify p50 agrees with an isolated measurement of each strategy
    Calibrate(calibrate::CalibrateArgs),
    /// Send verify calls from concurrent workers for a fixed wall time, then print and save throughput and latency
    Load(crate::load::LoadArgs),
}

/// Output format of `bench`, `sweep` and `load` on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for the terminal, with a legend
    Table,
    /// A GitHub-flavoured Markdown table, with a legend
    Markdown,
    /// The full report as JSON, as saved in results/
    Json,
    /// One row per strategy with raw numbers
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Scenario files or built-in scenario names [default: scenarios/default.toml]
    #[arg(value_name = "SCENARIO")]
    pub scenarios: Vec<String>,

    /// Run only this strategy: a label from the scenario or a strategy name,
    /// which runs with its defaults if the scenario lacks it (repeatable)
    #[arg(long = "strategy", value_name = "NAME")]
    pub strategies: Vec<String>,

    /// Seed for the workload generator, replacing the scenario's `seed`
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Store for every strategy: sqlite::memory:, sqlite:PATH (a file in WAL mode),
    /// postgres://USER:PASSWORD@HOST:PORT/DB or redis://[:PASSWORD@]HOST:PORT[/DB].
    /// Passwords are printed and saved as ***
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,

    /// Time allowed for connecting to a PostgreSQL or Redis store and for each
    /// store operation, such as 500ms or 10s; a store that takes longer fails
    /// the run with exit code 3
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub store_timeout: std::time::Duration,

    /// Folder that receives results/<scenario>/<UTC time>.{json,md,csv}
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results_dir: PathBuf,

    /// Print the table without writing anything under the results folder
    #[arg(long)]
    pub no_save: bool,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Run scenarios that script more than 20 million events, which
    /// otherwise fail before the run as a likely mistake
    #[arg(long)]
    pub allow_large: bool,

    /// Print no progress bar and no "saved" lines on stderr; errors and
    /// failed thresholds still print
    #[arg(long, short)]
    pub quiet: bool,

    /// Compare each run with this saved results file (.json) and exit 1 on
    /// a regression beyond noise
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Strategy label that the table's relative column divides by
    /// [default: the first strategy]
    #[arg(long, value_name = "NAME")]
    pub reference: Option<String>,

    /// Stop the run at this virtual time (a duration such as 12h), replacing the scenario's `horizon`
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub horizon: Option<crate::time::Millis>,

    /// Scale every cohort so the users add up to about N (at most 100000000), keeping their proportions
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub users: Option<u64>,
}

/// Parses a duration argument such as `12h` for clap.
fn parse_duration_arg(text: &str) -> Result<crate::time::Millis, String> {
    match crate::time::parse_duration(text)? {
        0 => Err("must be at least 1ms".to_string()),
        ms => Ok(ms),
    }
}

/// An error that ends the program, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Runtime(String),
    /// A run stopped by Ctrl-C. The message lists the results saved before it.
    #[error("{0}")]
    Interrupted(String),
}

impl AppError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Usage(_) | AppError::Scenario(_) => 2,
            AppError::Runtime(_) => 3,
            AppError::Interrupted(_) => crate::interrupt::EXIT_CODE,
        }
    }
}

/// Parses the command line and runs the command.
pub fn run() -> Result<ExitCode, AppError> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => bench(&args),
        Command::Validate { files, allow_large } => Ok(validate(&files, allow_large)),
        Command::List => {
            print_stdout(&list());
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare { old, new } => compare_files(&old, &new),
        Command::Init { path } => {
            crate::scaffold::init(&path)?;
            eprintln!(
                "wrote {}; run it with `authcmp bench {}`",
                path.display(),
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics when the
            // pipe it writes to closes (`authcmp completions bash | head`).
            let mut script = Vec::new();
            crate::scaffold::completions(shell, &mut script);
            print_stdout(&String::from_utf8_lossy(&script));
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(args) => token::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Load(args) => crate::load::run(&args),
    }
}

/// Parses a store timeout: a human duration longer than zero.
pub fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => {
            Err("must be longer than 0s; a store call cannot finish in no time".into())
        }
        d => Ok(d),
    }
}

/// Parses a human duration such as `500ms`, `10s` or `1m`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| {
        format!("invalid duration \"{text}\": {e}; use a value such as 500ms, 10s or 1m")
    })
}

pub(crate) fn print_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`authcmp list | head`) is not an error worth reporting.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

fn bench(args: &BenchArgs) -> Result<ExitCode, AppError> {
    let names = if args.scenarios.is_empty() {
        vec!["scenarios/default.toml".to_string()]
    } else {
        args.scenarios.clone()
    };
    let store = match &args.store {
        Some(url) => {
            Some(StoreUrl::parse(url).map_err(|m| AppError::Usage(format!("--store: {m}")))?)
        }
        None => None,
    };
    // Check every input before the first run starts.
    let mut plans = Vec::new();
    for name in &names {
        let mut scenario = scenario::load(name)?;
        if let Some(horizon) = args.horizon {
            scenario.set_horizon(horizon).map_err(AppError::Usage)?;
        }
        if let Some(users) = args.users {
            scenario.scale_users(users);
        }
        crate::limits::check_size(&scenario, args.allow_large).map_err(AppError::Usage)?;
        let mut setups = select_strategies(&scenario, &args.strategies, store.as_ref())?;
        for setup in &mut setups {
            setup.store = setup.store.clone().with_timeout(args.store_timeout);
        }
        if let Some(reference) = &args.reference {
            check_reference(reference, &scenario, &setups)?;
        }
        plans.push((scenario, setups));
    }
    let baseline = match &args.baseline {
        Some(path) => Some(compare::load(path).map_err(AppError::Usage)?),
        None => None,
    };
    if !args.no_save {
        let names: Vec<&str> = plans.iter().map(|(s, _)| s.name.as_str()).collect();
        check_results_dir(&args.results_dir, &names)?;
    }
    crate::interrupt::install().map_err(AppError::Runtime)?;
    let mut saved = Vec::new();
    let mut failed = false;
    // Several scenarios in JSON print one array at the end, so stdout stays
    // one JSON document; CSV prints its header once.
    let mut json_reports = Vec::new();
    let json_array = args.format == Format::Json && plans.len() > 1;
    for (index, (scenario, setups)) in plans.iter().enumerate() {
        let mut progress = progress::Progress::new(scenario, args.quiet);
        let result = run_one_with_progress(scenario, setups, args.seed, &mut |events| {
            progress.update(events)
        });
        progress.finish();
        let mut report = match result {
            Err(AppError::Interrupted(_)) => {
                print_json_array(&json_reports);
                return Err(interrupted(&scenario.name, &saved));
            }
            Err(e) => {
                print_json_array(&json_reports);
                return Err(e);
            }
            Ok(report) => report,
        };
        report.reference.clone_from(&args.reference);
        if !json_array {
            let text = render(&report, args.format);
            if args.format == Format::Csv && index > 0 {
                print_stdout(text.split_once('\n').map_or("", |(_, rows)| rows));
            } else {
                print_stdout(&text);
            }
        }
        if !args.no_save {
            let path = match report::save(&report, &args.results_dir) {
                Ok(path) => path,
                Err(e) => {
                    if json_array {
                        json_reports.push(report);
                    }
                    print_json_array(&json_reports);
                    return Err(AppError::Runtime(format!(
                        "cannot save results under {}: {e}",
                        args.results_dir.display()
                    )));
                }
            };
            if !args.quiet {
                eprintln!(
                    "saved {}",
                    report::describe_saved(&path, &report::RUN_FILES)
                );
            }
            saved.push(path);
        }
        if let Some(baseline) = &baseline {
            failed |= print_comparison(baseline, &report, args.format);
        }
        for failure in scenario::check_thresholds(&report, &scenario.thresholds) {
            eprintln!("{failure}");
            failed = true;
        }
        if json_array {
            json_reports.push(report);
        }
    }
    print_json_array(&json_reports);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints the reports of several scenarios as one JSON array, if any.
fn print_json_array(reports: &[Report]) {
    if !reports.is_empty() {
        print_stdout(
            &(serde_json::to_string_pretty(reports).expect("reports serialize to JSON") + "\n"),
        );
    }
}

/// Checks, before a run, that its results can be saved: `dir` is a
/// writable folder, and each scenario's folder in it is a folder or absent.
pub fn check_results_dir(dir: &Path, scenarios: &[&str]) -> Result<(), AppError> {
    if dir.exists() && !dir.is_dir() {
        return Err(AppError::Runtime(format!(
            "results folder {} is a file, not a folder; pass --results-dir DIR or --no-save",
            dir.display()
        )));
    }
    report::check_writable(dir).map_err(|e| {
        AppError::Runtime(format!(
            "results folder {} is not writable: {e}; pass --results-dir DIR or --no-save",
            dir.display()
        ))
    })?;
    for name in scenarios {
        let folder = dir.join(name);
        if folder.exists() && !folder.is_dir() {
            return Err(AppError::Runtime(format!(
                "{} is a file, where the results of scenario {name} go; move it away or pass --results-dir DIR",
                folder.display()
            )));
        }
    }
    Ok(())
}

/// Checks that `--reference` names one of the strategies that will run.
fn check_reference(reference: &str, scenario: &Scenario, setups: &[Setup]) -> Result<(), AppError> {
    if setups.iter().any(|s| s.label == reference) {
        return Ok(());
    }
    let labels: Vec<&str> = setups.iter().map(|s| s.label.as_str()).collect();
    Err(AppError::Usage(format!(
        "--reference: no strategy labelled \"{reference}\" runs in {}; use one of: {}",
        scenario.source.path,
        labels.join(", ")
    )))
}

/// Compares two results files: exit 1 on a regression beyond noise.
fn compare_files(old: &Path, new: &Path) -> Result<ExitCode, AppError> {
    let old = compare::load(old).map_err(AppError::Usage)?;
    let new = compare::load(new).map_err(AppError::Usage)?;
    let comparison = compare::compare(&old, &new);
    print_stdout(&compare::render(&comparison, TableStyle::detect()));
    Ok(if comparison.regressions() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints how `report` compares with `baseline`: to stdout after a table,
/// to stderr when stdout carries JSON, CSV or Markdown. Returns true on a
/// regression beyond noise.
fn print_comparison(baseline: &Report, report: &Report, format: Format) -> bool {
    let comparison = compare::compare(baseline, report);
    let text = compare::render(&comparison, TableStyle::detect());
    if format == Format::Table {
        print_stdout(&format!("\ncompared with the baseline:\n{text}"));
    } else {
        eprint!("compared with the baseline:\n{text}");
    }
    comparison.regressions() > 0
}

/// Builds the error for a run stopped by Ctrl-C, listing the results saved before it.
fn interrupted(scenario: &str, saved: &[PathBuf]) -> AppError {
    let kept = if saved.is_empty() {
        "no results were saved in this call".to_string()
    } else {
        let paths: Vec<String> = saved
            .iter()
            .map(|p| report::describe_saved(p, &report::RUN_FILES))
            .collect();
        format!("results saved before it: {}", paths.join(", "))
    };
    AppError::Interrupted(format!(
        "interrupted: scenario {scenario} stopped before its end and was not saved; {kept}"
    ))
}

/// Runs one scenario and builds its report.
pub fn run_one(
    scenario: &Scenario,
    setups: &[Setup],
    seed: Option<u64>,
) -> Result<Report, AppError> {
    run_one_with_progress(scenario, setups, seed, &mut |_| {})
}

/// Runs one scenario like [`run_one`], calling `progress` with the count of
/// events run so far.
pub fn run_one_with_progress(
    scenario: &Scenario,
    setups: &[Setup],
    seed: Option<u64>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, AppError> {
    let seed = seed.unwrap_or(scenario.seed);
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stop = crate::interrupt::flag();
    let result = crate::engine::run_until(scenario, setups, seed, stop, progress)
        .map_err(|e| AppError::Runtime(e.to_string()))?;
    let Some(result) = result else {
        return Err(AppError::Interrupted(format!(
            "interrupted: scenario {} stopped before its end",
            scenario.name
        )));
    };
    Ok(Report::new(scenario, seed, result, started_at))
}

fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => report::render_table(report, TableStyle::detect()),
        Format::Markdown => report::render_markdown(report),
        Format::Json => {
            serde_json::to_string_pretty(report).expect("reports serialize to JSON") + "\n"
        }
        Format::Csv => report::render_csv(report),
    }
}

/// Picks the strategies to run: all of the scenario's, or those named by
/// `--strategy` (a label, or a kind name run with its defaults), each on
/// `store` when one is given.
pub fn select_strategies(
    scenario: &Scenario,
    names: &[String],
    store: Option<&StoreUrl>,
) -> Result<Vec<Setup>, AppError> {
    let mut setups: Vec<Setup> = if names.is_empty() {
        scenario.strategies.clone()
    } else {
        let mut chosen = Vec::new();
        for name in names {
            let matching: Vec<&Setup> = scenario
                .strategies
                .iter()
                .filter(|s| s.label == *name || s.options.kind_name() == name)
                .collect();
            if !matching.is_empty() {
                chosen.extend(matching.into_iter().cloned());
            } else if let Some(setup) = Setup::with_defaults(name) {
                chosen.push(setup);
            } else {
                let labels: Vec<&str> = scenario
                    .strategies
                    .iter()
                    .map(|s| s.label.as_str())
                    .collect();
                return Err(AppError::Usage(format!(
                    "unknown strategy \"{name}\"; valid names: {} (labels in {}: {})",
                    strategy::kind_names(),
                    scenario.source.path,
                    labels.join(", ")
                )));
            }
        }
        chosen.dedup_by(|a, b| a.label == b.label);
        chosen
    };
    if let Some(store) = store {
        for setup in &mut setups {
            setup.store = store.clone();
        }
    }
    Ok(setups)
}

fn validate(files: &[String], allow_large: bool) -> ExitCode {
    let mut failed = false;
    for file in files {
        let checked = scenario::load(file)
            .map_err(|e| e.to_string())
            .and_then(|s| {
                crate::limits::check_size(&s, allow_large)?;
                Ok(s)
            });
        match checked {
            Ok(s) => {
                println!(
                    "{}: ok ({}, {}, {})",
                    s.source.path,
                    report::count(s.users(), "user", "users"),
                    report::count(s.strategies.len() as u64, "strategy", "strategies"),
                    report::count(s.thresholds.count() as u64, "threshold", "thresholds")
                );
                for line in s.thresholds.describe() {
                    println!("  thresholds for {line}");
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn list() -> String {
    let mut out = String::from("strategies:\n");
    let width = strategy::KINDS
        .iter()
        .map(|k| k.name.len())
        .max()
        .unwrap_or(0);
    for kind in strategy::KINDS {
        out.push_str(&format!("  {:width$}  {}\n", kind.name, kind.summary));
    }
    out.push_str("\nshipped scenarios (run with `authcmp bench NAME`):\n");
    let width = scenario::BUILTIN
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (name, text) in scenario::BUILTIN {
        let description = scenario::parse(name, text)
            .map(|s| s.description)
            .unwrap_or_default();
        out.push_str(&format!("  {name:width$}  {description}\n"));
    }
    out
}
