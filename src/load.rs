//! Concurrent load: many verify calls at once against one shared store.
//!
//! Each worker is an OS thread with its own strategy instance, the way each
//! application node or process has its own verifier and store connection.
//! Strategies and the synchronous [`Store`](crate::store::Store) trait are
//! not `Send`, and every PostgreSQL or Redis store blocks on its own
//! current-thread tokio runtime, so a worker cannot be a task on a shared
//! runtime. Workers share the backing store: PostgreSQL, Redis or a SQLite
//! file. A private in-memory SQLite database cannot be shared, so with
//! `sqlite::memory:` each worker has its own database.
//!
//! Each worker first signs in its share of the users with the virtual
//! clock at 0, then sends verify calls with their cookies, applying any
//! `Set-Cookie` it receives. During the timed phase the virtual clock is
//! the wall time since the phase began. With `--rate`, requests are
//! scheduled at fixed intervals (open loop) and latency is measured from
//! each request's scheduled start, so a stalled store shows up as latency
//! of the requests that waited behind it, as wrk2 does. The uncorrected
//! figure, from the moment the call was made, is shown beside it. Without
//! `--rate` each worker sends the next request when the last one returns
//! (closed loop), and both figures are the same.
//!
//! Workers check for Ctrl-C before each request, so the timed phase in
//! progress stops within a request (or 50 ms of an open-loop wait). Its
//! partial measurement is dropped, and the strategies and levels that
//! finished are printed and saved under `results/` as after a full run.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;

use crate::cli::{
    parse_duration, parse_timeout, print_stdout, select_strategies, AppError, Format,
};
use crate::cookie::{CookieJar, Holder};
use crate::interrupt;
use crate::report;
use crate::report::load::{self, LoadMode, LoadReport, LoadSettings};
use crate::scenario;
use crate::store::{Profile, StoreError, StoreUrl};
use crate::strategy::Setup;

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// Scenario file or built-in scenario name whose strategies are loaded
    #[arg(value_name = "SCENARIO", default_value = "scenarios/default.toml")]
    pub scenario: String,

    /// Load only this strategy: a label from the scenario or a strategy name (repeatable)
    #[arg(long = "strategy", value_name = "NAME")]
    pub strategies: Vec<String>,

    /// Store for every strategy, as for `bench --store`; sqlite::memory: gives
    /// each worker a private database
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,

    /// Time allowed for connecting to a PostgreSQL or Redis store and for each
    /// store operation
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub store_timeout: Duration,

    /// Concurrent workers, each with its own strategy instance and store
    /// connection; a comma-separated list runs each level in turn
    #[arg(long, value_name = "N", default_value = "1", value_delimiter = ',')]
    pub concurrency: Vec<usize>,

    /// Requests per second over all workers, sent on a fixed schedule (open
    /// loop); without it each worker sends its next request when the last
    /// one returns (closed loop)
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,

    /// Wall time of each timed phase, such as 10s or 1m, at most 10m
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Users signed in before the timed phase, shared out among the workers
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub users: u64,

    /// Folder that receives results/<scenario>/<UTC time>-load.{json,md}
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results_dir: PathBuf,

    /// Print the table without writing anything under the results folder
    #[arg(long)]
    pub no_save: bool,

    /// Output format on stdout
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Print no progress line and no "saved" line on stderr; errors still
    /// print
    #[arg(long, short)]
    pub quiet: bool,
}

/// Longest timed phase accepted, so that a load run always ends by itself.
const MAX_DURATION: Duration = Duration::from_secs(600);

/// Results of one strategy at one concurrency level.
#[derive(Debug)]
pub struct LoadResult {
    pub label: String,
    /// Strategy kind name, such as `authjs-database`.
    pub strategy: String,
    pub store: String,
    pub workers: usize,
    pub requests: u64,
    /// Requests a store error or a rejected credential failed.
    pub errors: u64,
    pub store_ops: u64,
    pub elapsed: Duration,
    /// Nanoseconds from each request's scheduled start to its end.
    pub corrected: Histogram<u64>,
    /// Nanoseconds from each call to its return.
    pub uncorrected: Histogram<u64>,
}

impl LoadResult {
    /// Returns requests per second of the timed phase.
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Returns store operations per second of the timed phase.
    pub fn store_ops_per_second(&self) -> f64 {
        self.store_ops as f64 / self.elapsed.as_secs_f64()
    }
}

/// Measurements of one worker.
struct WorkerResult {
    /// Whether Ctrl-C stopped the worker before the end of the timed phase.
    interrupted: bool,
    requests: u64,
    errors: u64,
    store_ops: u64,
    corrected: Histogram<u64>,
    uncorrected: Histogram<u64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid histogram bounds")
}

/// Runs `authcmp load`: each concurrency level in turn, every strategy
/// at each level, then prints and saves the results that finished.
pub fn run(args: &LoadArgs) -> Result<ExitCode, AppError> {
    check_args(args)?;
    let store = match &args.store {
        Some(url) => {
            Some(StoreUrl::parse(url).map_err(|m| AppError::Usage(format!("--store: {m}")))?)
        }
        None => None,
    };
    let scenario = scenario::load(&args.scenario)?;
    let mut setups = select_strategies(&scenario, &args.strategies, store.as_ref())?;
    for setup in &mut setups {
        setup.store = setup.store.clone().with_timeout(args.store_timeout);
    }
    if !args.no_save {
        crate::cli::check_results_dir(&args.results_dir, &[scenario.name.as_str()])?;
    }
    interrupt::install().map_err(AppError::Runtime)?;
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let wall = Instant::now();
    let (results, stop) = run_levels(&setups, args);
    let settings = settings(args, store.as_ref());
    let report = LoadReport::new(
        &scenario,
        settings,
        &results,
        started_at,
        wall.elapsed(),
        stop.is_none(),
    );
    if let (Some(stop), true) = (&stop, report.results.is_empty()) {
        return Err(stop_error(stop, &report, None));
    }
    print_stdout(&render(&report, args.format));
    let saved = if args.no_save {
        None
    } else {
        let path = load::save(&report, &args.results_dir).map_err(|e| {
            AppError::Runtime(format!(
                "cannot save results under {}: {e}",
                args.results_dir.display()
            ))
        })?;
        Some(path)
    };
    // A run that stopped early names its files in the error line instead.
    if let Some(stop) = &stop {
        return Err(stop_error(stop, &report, saved.as_deref()));
    }
    if let (Some(path), false) = (&saved, args.quiet) {
        eprintln!("saved {}", report::describe_saved(path, &load::LOAD_FILES));
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks the options that clap cannot check alone.
fn check_args(args: &LoadArgs) -> Result<(), AppError> {
    if args.duration.is_zero() || args.duration > MAX_DURATION {
        return Err(AppError::Usage(format!(
            "--duration {} is out of range; use a value from 1s to 10m",
            humantime::format_duration(args.duration)
        )));
    }
    if args.concurrency.iter().any(|&n| n == 0 || n > 1024) {
        return Err(AppError::Usage(
            "--concurrency must be from 1 to 1024 workers".to_string(),
        ));
    }
    if args.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err(AppError::Usage(
            "--rate must be a positive number of requests per second".to_string(),
        ));
    }
    Ok(())
}

/// The reason a load run ended before every strategy ran at every level.
enum Stop {
    /// Ctrl-C stopped `label` at `workers` workers, so its partial
    /// measurement is dropped.
    Interrupted { label: String, workers: usize },
    /// The store of `label` failed at `workers` workers.
    Failed {
        label: String,
        workers: usize,
        error: StoreError,
    },
}

/// Runs every strategy at every concurrency level, stopping at Ctrl-C or
/// the first store error. Returns the results that finished and, when the
/// run ended early, why.
fn run_levels(setups: &[Setup], args: &LoadArgs) -> (Vec<LoadResult>, Option<Stop>) {
    let mut results = Vec::new();
    for &workers in &args.concurrency {
        for setup in setups {
            let interrupted = Stop::Interrupted {
                label: setup.label.clone(),
                workers,
            };
            if interrupt::requested() {
                return (results, Some(interrupted));
            }
            match run_one(setup, workers, args) {
                Ok(Some(result)) => {
                    report_finished(&result, args.quiet);
                    results.push(result);
                }
                Ok(None) => return (results, Some(interrupted)),
                Err(error) => {
                    let failed = Stop::Failed {
                        label: setup.label.clone(),
                        workers,
                        error,
                    };
                    return (results, Some(failed));
                }
            }
        }
    }
    (results, None)
}

/// Prints a line on stderr for each finished timed phase when stderr is
/// not a terminal, such as a CI log, which gets no progress line.
fn report_finished(result: &LoadResult, quiet: bool) {
    if quiet || std::io::stderr().is_terminal() {
        return;
    }
    eprintln!(
        "finished {} with {}: {} requests in {:.2} s",
        result.label,
        worker_count(result.workers),
        result.requests,
        result.elapsed.as_secs_f64()
    );
}

/// Counts workers in words: `1 worker`, `2 workers`.
fn worker_count(workers: usize) -> String {
    if workers == 1 {
        "1 worker".to_string()
    } else {
        format!("{workers} workers")
    }
}

/// Records the command-line settings of the run, the store without its
/// password.
fn settings(args: &LoadArgs, store: Option<&StoreUrl>) -> LoadSettings {
    LoadSettings {
        concurrency: args.concurrency.clone(),
        mode: if args.rate.is_some() {
            LoadMode::Open
        } else {
            LoadMode::Closed
        },
        rate_per_second: args.rate,
        duration_ms: args.duration.as_millis() as u64,
        users: args.users,
        store: store.map(ToString::to_string),
        store_timeout_ms: args.store_timeout.as_millis() as u64,
        strategies: args.strategies.clone(),
    }
}

/// Builds the one error line of a run that stopped early, saying what was
/// dropped and where the finished results are.
fn stop_error(stop: &Stop, report: &LoadReport, saved: Option<&Path>) -> AppError {
    let finished = report.results.len();
    let rows = if finished == 1 {
        "the 1 finished row is".to_string()
    } else {
        format!("the {finished} finished rows are")
    };
    let kept_rows = match saved {
        _ if finished == 0 => {
            "no strategy had finished, so nothing was printed or saved".to_string()
        }
        Some(path) => format!(
            "{rows} printed and saved in {}",
            report::describe_saved(path, &load::LOAD_FILES)
        ),
        // Without a path, --no-save was given.
        None => format!("{rows} printed and not saved (--no-save)"),
    };
    match stop {
        Stop::Interrupted { label, workers } => AppError::Interrupted(format!(
            "interrupted: strategy {label} with {} stopped before the end of its timed phase \
             and was not kept; {kept_rows}",
            worker_count(*workers)
        )),
        Stop::Failed {
            label,
            workers,
            error,
        } => AppError::Runtime(format!(
            "strategy {label} with {}: {error}; {kept_rows}",
            worker_count(*workers)
        )),
    }
}

/// Renders the report in the `--format` format.
fn render(report: &LoadReport, format: Format) -> String {
    match format {
        Format::Table => load::render_table(report),
        Format::Markdown => load::render_markdown(report),
        Format::Json => load::render_json(report),
        Format::Csv => load::render_csv(report),
    }
}

/// Loads one strategy with `workers` concurrent workers. Returns `None`
/// when Ctrl-C stopped the sign-ins or the timed phase before its end, so
/// that a partial measurement is never reported.
pub fn run_one(
    setup: &Setup,
    workers: usize,
    args: &LoadArgs,
) -> Result<Option<LoadResult>, StoreError> {
    // Opening empties the shared store; the workers then attach to it.
    let primary = setup.store.open(&setup.label)?;
    let store_name = primary.describe();
    let barrier = Arc::new(Barrier::new(workers + 1));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::with_capacity(workers);
    for worker in 0..workers {
        let setup = setup.clone();
        let barrier = Arc::clone(&barrier);
        let done = Arc::clone(&done);
        let failed = Arc::clone(&failed);
        let plan = Plan {
            worker,
            workers,
            users: args.users,
            rate: args.rate,
            duration: args.duration,
        };
        handles.push(std::thread::spawn(move || {
            run_worker(&setup, &plan, &barrier, &done, &failed)
        }));
    }
    barrier.wait();
    let started = Instant::now();
    let progress = if args.quiet {
        None
    } else {
        show_progress(&setup.label, workers, &done, args.duration)
    };
    let mut result = LoadResult {
        label: setup.label.clone(),
        strategy: setup.options.kind_name().to_string(),
        store: store_name,
        workers,
        requests: 0,
        errors: 0,
        store_ops: 0,
        elapsed: Duration::ZERO,
        corrected: histogram(),
        uncorrected: histogram(),
    };
    let mut first_error = None;
    let mut interrupted = false;
    for handle in handles {
        match handle.join().expect("load workers do not panic") {
            Ok(worker) => {
                interrupted |= worker.interrupted;
                result.requests += worker.requests;
                result.errors += worker.errors;
                result.store_ops += worker.store_ops;
                result
                    .corrected
                    .add(&worker.corrected)
                    .expect("same bounds");
                result
                    .uncorrected
                    .add(&worker.uncorrected)
                    .expect("same bounds");
            }
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    result.elapsed = started.elapsed();
    if let Some(progress) = progress {
        progress.finish();
    }
    drop(primary);
    if let (Some(rate), None, false) = (args.rate, &first_error, interrupted) {
        let scheduled = (rate * args.duration.as_secs_f64()).floor() as u64;
        if result.requests.saturating_add(result.requests / 100) < scheduled {
            eprintln!(
                "warning: {} with {} sent {} of the {scheduled} requests that --rate {rate} scheduled within --duration; the rest fell behind and are not counted, so lower --rate",
                setup.label,
                report::count(workers as u64, "worker", "workers"),
                result.requests
            );
        }
    }
    match first_error {
        Some(e) => Err(e),
        None if interrupted => Ok(None),
        None => Ok(Some(result)),
    }
}

/// A worker's share of the load.
struct Plan {
    worker: usize,
    workers: usize,
    users: u64,
    rate: Option<f64>,
    duration: Duration,
}

/// Signs in the worker's users, waits for every worker, then sends verify
/// calls until the duration has passed or Ctrl-C is pressed.
fn run_worker(
    setup: &Setup,
    plan: &Plan,
    barrier: &Barrier,
    done: &AtomicU64,
    failed: &AtomicBool,
) -> Result<WorkerResult, StoreError> {
    let prepared = prepare_worker(setup, plan);
    if prepared.is_err() {
        failed.store(true, Ordering::Relaxed);
    }
    // Every worker reaches the barrier, even a failed one, so none waits
    // forever; a failure stops the others before they send anything.
    barrier.wait();
    let (mut strategy, mut jars) = prepared?;
    let mut result = WorkerResult {
        interrupted: false,
        requests: 0,
        errors: 0,
        store_ops: 0,
        corrected: histogram(),
        uncorrected: histogram(),
    };
    if failed.load(Ordering::Relaxed) || jars.is_empty() {
        return Ok(result);
    }
    if interrupt::requested() {
        result.interrupted = true;
        return Ok(result);
    }
    // Worker w sends requests w, w + N, w + 2N, ... of the overall schedule.
    let interval = plan
        .rate
        .map(|rate| Duration::from_secs_f64(plan.workers as f64 / rate));
    let offset = plan.rate.map_or(Duration::ZERO, |rate| {
        Duration::from_secs_f64(plan.worker as f64 / rate)
    });
    let ops_before = strategy.store().counts();
    let started = Instant::now();
    let end = started + plan.duration;
    let mut next = 0usize;
    for sequence in 0u32.. {
        let scheduled = match interval {
            Some(interval) => started + offset + interval * sequence,
            None => Instant::now(),
        };
        // The phase ends at its duration even when an open loop fell
        // behind its schedule; `run_one` reports the requests not sent.
        if scheduled >= end || Instant::now() >= end {
            break;
        }
        if failed.load(Ordering::Relaxed) {
            break;
        }
        if !sleep_until(scheduled) {
            result.interrupted = true;
            break;
        }
        let user = next;
        next = (next + 1) % jars.len();
        let jar = &mut jars[user];
        let call_start = Instant::now();
        let virtual_now = call_start.duration_since(started).as_millis() as u64;
        let outcome = strategy.verify(jar, virtual_now);
        let finished = Instant::now();
        match outcome {
            Ok(verification) => {
                if verification.outcome.is_err() {
                    result.errors += 1;
                }
                jar.apply(&verification.set_cookies, virtual_now);
            }
            Err(e) => {
                // A store that fails mid-phase ends the phase for every
                // worker: its figures would count failures as throughput.
                failed.store(true, Ordering::Relaxed);
                return Err(e);
            }
        }
        result.requests += 1;
        let uncorrected = finished.duration_since(call_start).as_nanos() as u64;
        // A closed loop has no schedule to fall behind: both figures agree.
        let corrected = match interval {
            Some(_) => finished
                .duration_since(scheduled.min(call_start))
                .as_nanos() as u64,
            None => uncorrected,
        };
        result.corrected.saturating_record(corrected.max(1));
        result.uncorrected.saturating_record(uncorrected.max(1));
        done.fetch_add(1, Ordering::Relaxed);
    }
    result.store_ops = strategy.store().counts().since(ops_before).total();
    Ok(result)
}

/// Maximum sleep between two checks for Ctrl-C while an open-loop worker
/// waits for a request's scheduled start.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// Sleeps until `deadline`, waking to check for Ctrl-C. Returns false when
/// Ctrl-C was pressed, at once or during the sleep.
fn sleep_until(deadline: Instant) -> bool {
    loop {
        if interrupt::requested() {
            return false;
        }
        let now = Instant::now();
        if deadline <= now {
            return true;
        }
        std::thread::sleep((deadline - now).min(INTERRUPT_POLL));
    }
}

type Prepared = (Box<dyn crate::strategy::Strategy>, Vec<CookieJar>);

/// Builds the worker's strategy on the shared store and signs in users
/// `worker + 1`, `worker + 1 + N`, ... at virtual time 0.
fn prepare_worker(setup: &Setup, plan: &Plan) -> Result<Prepared, StoreError> {
    let store = match setup.store {
        StoreUrl::SqliteMemory => setup.store.open(&setup.label)?,
        _ => setup.store.attach(&setup.label)?,
    };
    let mut strategy = setup.build_on(store);
    let mut jars = Vec::new();
    let mut user = plan.worker as u64 + 1;
    // Ctrl-C ends the sign-ins early; the caller drops the phase.
    while user <= plan.users && !interrupt::requested() {
        let profile = Profile::generated(user, 0, 0);
        strategy.store().seed_user(&profile)?;
        let mut jar = CookieJar::new(Holder::Browser);
        let set_cookies = strategy.login(&profile, &jar, 0)?;
        jar.apply(&set_cookies, 0);
        jars.push(jar);
        user += plan.workers as u64;
    }
    Ok((strategy, jars))
}

/// A progress line on stderr, redrawn each second, when stderr is a
/// terminal.
struct Progress {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Progress {
    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        eprint!("\r\x1b[K");
    }
}

fn show_progress(
    label: &str,
    workers: usize,
    done: &Arc<AtomicU64>,
    duration: Duration,
) -> Option<Progress> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let label = label.to_string();
    let done = Arc::clone(done);
    let thread = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut last = 0;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let elapsed = started.elapsed();
                if elapsed.as_secs() == last {
                    continue;
                }
                last = elapsed.as_secs();
                let requests = done.load(Ordering::Relaxed);
                eprint!(
                    "\r\x1b[K{label}, {workers} workers: {last}s of {}s, {requests} requests, {:.0}/s",
                    duration.as_secs(),
                    requests as f64 / elapsed.as_secs_f64()
                );
            }
        })
    };
    Some(Progress { stop, thread })
}
