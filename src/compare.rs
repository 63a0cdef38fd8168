//! Comparison of two saved runs: for each strategy (matched by label) and
//! figure, the old and new value, the change and a verdict.
//!
//! Every figure except latency comes from the virtual clock, so any change
//! in it is real and judged as better or worse. Latency varies from run to
//! run, so a latency change is a regression only when it is outside a
//! bootstrap confidence interval of the ratio and larger than
//! [`MIN_LATENCY_CHANGE`].

use std::path::Path;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand_distr::{Beta, Distribution};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::report::{
    format_nanos, format_ratio, histogram, Delay, Report, StrategyFigures, TableStyle,
};
use crate::time::Span;

/// Bootstrap replicates per latency figure.
const REPLICATES: usize = 2_000;

/// Seed of the bootstrap, fixed so that the same two files always give the
/// same verdicts.
const BOOTSTRAP_SEED: u64 = 0x5eed_a07c;

/// Latency ratios closer to 1 than this are noise even when the bootstrap
/// interval excludes 1.
///
/// NOTE: the bootstrap only measures the sampling noise inside each run, not
/// machine drift between runs (other load, frequency scaling), so this
/// floor is a guess at that drift rather than a measured bound.
pub const MIN_LATENCY_CHANGE: f64 = 0.10;

/// Verdict on a figure's change from the old run to the new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Same,
    Better,
    /// Worse beyond noise: a regression, which makes `compare` exit 1.
    Worse,
    /// A latency change inside the run-to-run noise.
    Noise,
    /// Not judged, because a figure or histogram is missing on one side.
    Unjudged,
    /// A virtual-clock figure that changed between runs of different
    /// inputs (scenario file, seed, users or horizon), where a change is
    /// expected and reveals nothing about the code.
    Differs,
}

impl Verdict {
    fn text(self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::Better => "better",
            Verdict::Worse => "REGRESSION",
            Verdict::Noise => "noise",
            Verdict::Unjudged => "not judged",
            Verdict::Differs => "differs (other inputs)",
        }
    }
}

/// One figure of one strategy in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub label: String,
    pub figure: &'static str,
    pub old: String,
    pub new: String,
    /// Ratio (`1.25x`) or difference (`+120`), with the 95% interval for
    /// latencies.
    pub change: String,
    pub verdict: Verdict,
}

/// The comparison of two runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Row>,
    /// Lines that qualify the rows, such as a changed scenario.
    pub notes: Vec<String>,
}

impl Comparison {
    /// Counts rows judged as regressions.
    pub fn regressions(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == Verdict::Worse)
            .count()
    }
}

/// Loads a results file that `bench` saved, or returns a message naming the
/// file, the problem and the fix.
pub fn load(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read results file {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        let value: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        let saved_by = |key: &str| value.as_ref().is_some_and(|v| v.get(key).is_some());
        if saved_by("settings") && saved_by("results") {
            format!(
                "{} holds the results of `authcmp load`, which compare does not read; pass a .json file that `authcmp bench` saved",
                path.display()
            )
        } else {
            format!(
                "{} is not an authcmp results file ({e}); pass a .json file that `authcmp bench` saved",
                path.display()
            )
        }
    })
}

/// Compares every strategy of `new` with the strategy of the same label in
/// `old`.
pub fn compare(old: &Report, new: &Report) -> Comparison {
    let mut comparison = Comparison::default();
    let same_inputs = old.scenario.sha256 == new.scenario.sha256
        && old.seed == new.seed
        && old.run.users == new.run.users
        && old.run.events == new.run.events
        && old.run.virtual_span_ms == new.run.virtual_span_ms;
    let same_scenario = old.scenario.name == new.scenario.name;
    if !same_inputs {
        comparison.notes.push(format!(
            "note: the runs replay different workloads ({} seed {}, {} users, {} events vs {} seed {}, {} users, {} events), so changes in virtual-clock figures are shown but not judged{}",
            old.scenario.name,
            old.seed,
            old.run.users,
            old.run.events,
            new.scenario.name,
            new.seed,
            new.run.users,
            new.run.events,
            if same_scenario {
                ""
            } else {
                ", and neither is latency between two scenarios"
            }
        ));
    }
    for new_figures in &new.strategies {
        match old.strategies.iter().find(|s| s.label == new_figures.label) {
            Some(old_figures) => {
                let first = comparison.rows.len();
                compare_strategy(old_figures, new_figures, &mut comparison);
                if !same_inputs {
                    for row in &mut comparison.rows[first..] {
                        // Latency is judged across edits of one scenario,
                        // but not between two scenarios.
                        let judged = row.figure.starts_with("verify ") && same_scenario;
                        if !judged && matches!(row.verdict, Verdict::Better | Verdict::Worse) {
                            row.verdict = Verdict::Differs;
                        }
                    }
                }
            }
            None => comparison.notes.push(format!(
                "note: strategy \"{}\" is only in the new run",
                new_figures.label
            )),
        }
    }
    for old_figures in &old.strategies {
        if !new.strategies.iter().any(|s| s.label == old_figures.label) {
            comparison.notes.push(format!(
                "note: strategy \"{}\" is only in the old run",
                old_figures.label
            ));
        }
    }
    comparison
}

fn compare_strategy(old: &StrategyFigures, new: &StrategyFigures, out: &mut Comparison) {
    let mut push = |figure: &'static str, cells: Cells| {
        let (old_text, new_text, change, verdict) = cells;
        out.rows.push(Row {
            label: new.label.clone(),
            figure,
            old: old_text,
            new: new_text,
            change,
            verdict,
        });
    };

    let histograms = (
        decode(old.latency.verify_histogram.as_deref()),
        decode(new.latency.verify_histogram.as_deref()),
    );
    for (figure, quantile, old_ns, new_ns) in [
        (
            "verify p50",
            0.50,
            old.latency.verify.p50_ns,
            new.latency.verify.p50_ns,
        ),
        (
            "verify p99",
            0.99,
            old.latency.verify.p99_ns,
            new.latency.verify.p99_ns,
        ),
    ] {
        push(figure, latency_row(&histograms, quantile, old_ns, new_ns));
    }

    let (o, n) = (&old.store_ops, &new.store_ops);
    push(
        "store reads / request",
        ratio_row(o.reads_per_request, n.reads_per_request, format_ratio),
    );
    push(
        "store writes / request",
        ratio_row(o.writes_per_request, n.writes_per_request, format_ratio),
    );
    push(
        "store ops/s",
        ratio_row(
            o.projected_ops_per_second,
            n.projected_ops_per_second,
            |v| format!("{v:.2}"),
        ),
    );

    let bytes = |v: f64| format!("{v:.0}");
    push(
        "cookie bytes p50",
        difference_row(
            old.cookies.bytes_median as f64,
            new.cookies.bytes_median as f64,
            bytes,
        ),
    );
    push(
        "cookie bytes max",
        difference_row(
            old.cookies.bytes_max as f64,
            new.cookies.bytes_max as f64,
            bytes,
        ),
    );
    push(
        "Set-Cookie bytes / resp",
        difference_row(
            old.cookies.set_cookie_bytes_per_response,
            new.cookies.set_cookie_bytes_per_response,
            bytes,
        ),
    );
    push(
        "server state bytes",
        difference_row(
            old.server_state.bytes as f64,
            new.server_state.bytes as f64,
            bytes,
        ),
    );

    push(
        "revocation delay median",
        delay_row(
            old.revocation.median_delay_ms,
            new.revocation.median_delay_ms,
        ),
    );
    push(
        "revocation delay max",
        delay_row(old.revocation.max_delay_ms, new.revocation.max_delay_ms),
    );
    push(
        "stale accepts",
        difference_row(
            old.revocation.stale_accepts as f64,
            new.revocation.stale_accepts as f64,
            bytes,
        ),
    );
    push(
        "profile staleness max",
        delay_row(old.staleness.max_delay_ms, new.staleness.max_delay_ms),
    );
}

type Cells = (String, String, String, Verdict);

fn decode(text: Option<&str>) -> Option<Histogram<u64>> {
    histogram::decode(text?).ok()
}

/// Judges a verify-latency percentile by bootstrapping both histograms.
fn latency_row(
    histograms: &(Option<Histogram<u64>>, Option<Histogram<u64>>),
    quantile: f64,
    old_ns: u64,
    new_ns: u64,
) -> Cells {
    let (old_text, new_text) = (format_nanos(old_ns), format_nanos(new_ns));
    if old_ns == 0 || new_ns == 0 {
        return (old_text, new_text, "-".into(), Verdict::Unjudged);
    }
    let ratio = new_ns as f64 / old_ns as f64;
    let (Some(old_h), Some(new_h)) = histograms else {
        let change = format!("{ratio:.2}x (no histogram)");
        return (old_text, new_text, change, Verdict::Unjudged);
    };
    let (low, high) = ratio_interval(old_h, new_h, quantile);
    let change = format!("{ratio:.2}x ({low:.2}-{high:.2})");
    let verdict = if (low <= 1.0 && high >= 1.0) || (ratio - 1.0).abs() < MIN_LATENCY_CHANGE {
        if old_ns == new_ns {
            Verdict::Same
        } else {
            Verdict::Noise
        }
    } else if low > 1.0 {
        Verdict::Worse
    } else {
        Verdict::Better
    };
    (old_text, new_text, change, verdict)
}

/// Returns the 95% bootstrap interval of `new / old` at `quantile`.
///
/// Each replicate draws the quantile of a resample of each histogram
/// directly: the k-th smallest of n uniform draws follows Beta(k, n - k + 1),
/// and the histogram's inverse CDF maps it to a latency. This is exact for
/// resampling with replacement and costs no pass over the samples.
pub fn ratio_interval(old: &Histogram<u64>, new: &Histogram<u64>, quantile: f64) -> (f64, f64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(BOOTSTRAP_SEED);
    let old_sampler = QuantileSampler::new(old, quantile);
    let new_sampler = QuantileSampler::new(new, quantile);
    let mut ratios: Vec<f64> = (0..REPLICATES)
        .map(|_| new_sampler.draw(&mut rng) as f64 / old_sampler.draw(&mut rng).max(1) as f64)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((q * REPLICATES as f64) as usize).min(REPLICATES - 1)];
    (at(0.025), at(0.975))
}

/// Draws the `quantile` of bootstrap resamples of one histogram.
struct QuantileSampler {
    /// Distinct recorded values (highest equivalent) with cumulative counts.
    cumulative: Vec<(u64, u64)>,
    total: u64,
    rank: Beta<f64>,
}

impl QuantileSampler {
    fn new(histogram: &Histogram<u64>, quantile: f64) -> Self {
        let mut cumulative = Vec::new();
        let mut total = 0;
        for bucket in histogram.iter_recorded() {
            total += bucket.count_at_value();
            cumulative.push((
                histogram.highest_equivalent(bucket.value_iterated_to()),
                total,
            ));
        }
        let n = total.max(1) as f64;
        let k = (quantile * n).ceil().clamp(1.0, n);
        QuantileSampler {
            cumulative,
            total,
            rank: Beta::new(k, n - k + 1.0).expect("both shape parameters are at least 1"),
        }
    }

    fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let u = self.rank.sample(rng);
        let rank = ((u * self.total as f64).ceil() as u64).clamp(1, self.total);
        let index = self.cumulative.partition_point(|&(_, seen)| seen < rank);
        self.cumulative[index.min(self.cumulative.len() - 1)].0
    }
}

/// Judges a store-operation figure by its ratio; lower is better.
fn ratio_row(old: f64, new: f64, format: impl Fn(f64) -> String) -> Cells {
    let change = if old == 0.0 && new == 0.0 {
        "1.00x".to_string()
    } else if old == 0.0 {
        format!("+{} (from 0)", format(new))
    } else {
        format!("{:.2}x", new / old)
    };
    (format(old), format(new), change, exact_verdict(old, new))
}

/// Judges a byte or count figure by its difference; lower is better.
fn difference_row(old: f64, new: f64, format: impl Fn(f64) -> String) -> Cells {
    let difference = new - old;
    let change = if difference >= 0.0 {
        format!("+{}", format(difference))
    } else {
        format!("-{}", format(-difference))
    };
    (format(old), format(new), change, exact_verdict(old, new))
}

/// Judges a virtual-time delay by its difference; "never" is the worst.
fn delay_row(old: Option<Delay>, new: Option<Delay>) -> Cells {
    let text = |d: Option<Delay>| d.map_or("-".to_string(), |d| d.to_string());
    let (old_text, new_text) = (text(old), text(new));
    let (change, verdict) = match (old, new) {
        (Some(Delay::Ms(o)), Some(Delay::Ms(n))) if n >= o => (
            format!("+{}", Span(n - o).rounded()),
            exact_verdict(o as f64, n as f64),
        ),
        (Some(Delay::Ms(o)), Some(Delay::Ms(n))) => {
            (format!("-{}", Span(o - n).rounded()), Verdict::Better)
        }
        (Some(Delay::Never(_)), Some(Delay::Never(_))) => ("=".into(), Verdict::Same),
        (Some(Delay::Ms(_)), Some(Delay::Never(_))) => ("now never".into(), Verdict::Worse),
        (Some(Delay::Never(_)), Some(Delay::Ms(_))) => ("now bounded".into(), Verdict::Better),
        (None, None) => ("-".into(), Verdict::Same),
        _ => ("-".into(), Verdict::Unjudged),
    };
    (old_text, new_text, change, verdict)
}

/// Judges a virtual-clock figure, where every change is real.
fn exact_verdict(old: f64, new: f64) -> Verdict {
    let tolerance = 1e-9 * old.abs().max(new.abs()).max(1.0);
    if (new - old).abs() <= tolerance {
        Verdict::Same
    } else if new > old {
        Verdict::Worse
    } else {
        Verdict::Better
    }
}

/// Renders the comparison as a table with its notes and a summary line.
pub fn render(comparison: &Comparison, style: TableStyle) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if let Some(width) = style.width {
        table.set_width(width);
    }
    table.set_header(["strategy", "figure", "old", "new", "change", "verdict"]);
    for row in &comparison.rows {
        table.add_row([
            Cell::new(&row.label),
            Cell::new(row.figure),
            Cell::new(&row.old).set_alignment(CellAlignment::Right),
            Cell::new(&row.new).set_alignment(CellAlignment::Right),
            Cell::new(&row.change).set_alignment(CellAlignment::Right),
            Cell::new(row.verdict.text()),
        ]);
    }

    let mut out = String::new();
    for note in &comparison.notes {
        out.push_str(note);
        out.push('\n');
    }
    out.push_str(&table.to_string());
    out.push('\n');

    out.push_str(&format!(
        "change: new / old for latencies and store operations, new - old for bytes, counts and delays. \
         Latency ratios show their 95% bootstrap interval; a change inside it, or under {:.0}%, is noise.\n",
        MIN_LATENCY_CHANGE * 100.0
    ));
    let regressions = comparison.regressions();
    if regressions == 0 {
        out.push_str("no regression beyond noise\n");
    } else {
        out.push_str(&format!("{regressions} regression(s) beyond noise\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    /// Latencies from 1 µs to 2 µs in a fixed, uneven spread.
    fn spread(scale: u64) -> impl Iterator<Item = u64> {
        (0..5_000u64).map(move |i| (1_000 + (i * 7_919) % 1_000) * scale)
    }

    #[test]
    fn same_histogram_interval_contains_one() {
        let h = histogram(spread(1));
        let (low, high) = ratio_interval(&h, &h, 0.5);
        assert!(low <= 1.0, "{low}");
        assert!(high >= 1.0, "{high}");
    }

    #[test]
    fn tripled_latency_is_regression() {
        let old = histogram(spread(1));
        let new = histogram(spread(3));
        let cells = latency_row(
            &(Some(old.clone()), Some(new.clone())),
            0.5,
            old.value_at_quantile(0.5),
            new.value_at_quantile(0.5),
        );
        assert_eq!(cells.3, Verdict::Worse);
        assert!(cells.2.starts_with("3.00x ("), "{}", cells.2);
    }

    #[test]
    fn small_latency_shift_is_noise() {
        let old = histogram(spread(1));
        let new = histogram(spread(1).map(|v| v + 20));
        let cells = latency_row(
            &(Some(old.clone()), Some(new.clone())),
            0.5,
            old.value_at_quantile(0.5),
            new.value_at_quantile(0.5),
        );
        assert_eq!(cells.3, Verdict::Noise);
    }

    #[test]
    fn missing_histogram_is_not_judged() {
        let cells = latency_row(&(None, None), 0.5, 1_000, 9_000);
        assert_eq!(cells.3, Verdict::Unjudged);
        assert_eq!(cells.2, "9.00x (no histogram)");
    }

    #[test]
    fn exact_figures_judged_by_direction() {
        assert_eq!(ratio_row(1.0, 1.0, format_ratio).3, Verdict::Same);
        assert_eq!(ratio_row(1.0, 2.0, format_ratio).2, "2.00x");
        assert_eq!(ratio_row(1.0, 2.0, format_ratio).3, Verdict::Worse);
        assert_eq!(ratio_row(0.0, 1.0, format_ratio).2, "+1 (from 0)");
        assert_eq!(difference_row(520.0, 480.0, |v| format!("{v:.0}")).2, "-40");
        assert_eq!(
            difference_row(520.0, 480.0, |v| format!("{v:.0}")).3,
            Verdict::Better
        );
    }

    #[test]
    fn never_delay_is_worst() {
        let never = Some(Delay::Never(crate::report::Never::Never));
        let minute = Some(Delay::Ms(60_000));
        assert_eq!(delay_row(minute, never).3, Verdict::Worse);
        assert_eq!(delay_row(never, minute).3, Verdict::Better);
        assert_eq!(delay_row(never, never).3, Verdict::Same);
        assert_eq!(delay_row(minute, Some(Delay::Ms(120_000))).2, "+1m");
    }
}
