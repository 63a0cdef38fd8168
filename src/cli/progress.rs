//! The progress bar of `bench`: shown on stderr once a run has taken
//! about a second, with an ETA, and never when stderr is not a terminal
//! or with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::scenario::Scenario;

/// Runs shorter than this finish without a bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Events between two checks of the clock and updates of the bar.
const UPDATE_EVERY: u64 = 1_024;

/// A progress bar over the events of one run, hidden until [`SHOW_AFTER`].
pub struct Progress {
    bar: ProgressBar,
    total: u64,
    started: Instant,
    /// Whether the bar may appear at all.
    enabled: bool,
    /// Whether the bar has been switched to stderr.
    drawn: bool,
}

impl Progress {
    /// Prepares a bar for `scenario`; `quiet` or a stderr that is not a
    /// terminal keep it hidden.
    pub fn new(scenario: &Scenario, quiet: bool) -> Self {
        let total = expected_events(scenario);
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {percent:>3}% {human_pos}/{human_len} events, ETA {eta}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_message(scenario.name.clone());
        Progress {
            bar,
            total,
            started: Instant::now(),
            enabled: !quiet && std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// Records that `events` events have run.
    pub fn update(&mut self, events: u64) {
        if events % UPDATE_EVERY != 0 {
            return;
        }
        if self.enabled && !self.drawn && self.started.elapsed() >= SHOW_AFTER {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.drawn = true;
        }
        self.bar.set_position(events.min(self.total));
    }

    /// Removes the bar before the table prints.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Events a run of `scenario` produces when no horizon cuts it short: every
/// scripted step, one end-of-script event per user and each global event.
pub fn expected_events(scenario: &Scenario) -> u64 {
    scenario
        .scripted_events()
        .saturating_add(scenario.users())
        .saturating_add(scenario.events.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> Scenario {
        let text = include_str!("../../tests/data/strict.toml");
        crate::scenario::parse("strict.toml", text).unwrap()
    }

    #[test]
    fn expected_events_match_run() {
        let scenario = strict();
        let setups = crate::strategy::Setup::with_defaults("jwt")
            .into_iter()
            .collect::<Vec<_>>();
        let run = crate::engine::run(&scenario, &setups, scenario.seed).unwrap();
        assert_eq!(expected_events(&scenario), run.events);
    }

    #[test]
    fn progress_counts_events() {
        let scenario = strict();
        let setups = crate::strategy::Setup::with_defaults("jwt")
            .into_iter()
            .collect::<Vec<_>>();
        let mut seen = 0;
        let run =
            crate::engine::run_with_progress(&scenario, &setups, scenario.seed, &mut |n| seen = n)
                .unwrap();
        assert_eq!(seen, run.events);
    }
}
