//! Upper bounds on scenario values, so that a typo such as `users = 10^15`
//! fails at once with a clear error instead of exhausting memory or
//! running for hours.
//!
//! The limits on single values (durations, users, timeline) are hard: a
//! larger value can only be a mistake. The limit on events is soft:
//! `--allow-large` on `bench`, `sweep` and `validate` lifts it.

use crate::scenario::{Cohort, Scenario, Step};
use crate::time::{Millis, DAY};

/// Maximum duration any scenario key accepts: 3650 days (about 10 years).
/// The systems modelled use lifetimes of minutes to months, and a virtual
/// time this long stays far inside the range of Unix seconds and of
/// JavaScript dates that token claims and cookie dates use.
pub const MAX_DURATION: Millis = 3650 * DAY;

/// Maximum users per cohort: 100 million.
pub const MAX_USERS: u64 = 100_000_000;

/// Latest virtual time a cohort's script may reach when every step runs
/// to its end: 36,500 days (about 100 years). This keeps every sum of
/// times inside `u64` milliseconds.
pub const MAX_TIMELINE: Millis = 36_500 * DAY;

/// Maximum events a scenario may script without `--allow-large`: 20 million,
/// about 150 times the shipped `default.toml` (135,000 requests). Every
/// event goes to every strategy, so this is the figure that sets run time.
pub const MAX_EVENTS: u64 = 20_000_000;

/// Virtual time at which the last step of `cohort`'s last user ends, if
/// every step runs to its end with the largest jitter. Computed in `u128`,
/// so it cannot overflow for any parsed values.
pub fn cohort_timeline(cohort: &Cohort) -> u128 {
    let mut total = u128::from(cohort.start) + u128::from(cohort.ramp);
    for step in &cohort.steps {
        total += match *step {
            Step::Requests {
                count,
                every,
                jitter,
                ..
            } => {
                // A jittered gap is at most `every × (1 + jitter)`, and jitter < 1.
                let max_gap = u128::from(every) * if jitter > 0.0 { 2 } else { 1 };
                u128::from(count) * max_gap
            }
            Step::Replay { count, every, .. } => u128::from(count) * u128::from(every),
            Step::Wait { span } => u128::from(span),
            _ => 0,
        };
    }
    total
}

/// Checks that `scenario` scripts at most [`MAX_EVENTS`] events, unless
/// `allow_large` is set. The error names the file, the estimate, the
/// cohort that contributes most and the fixes.
pub fn check_size(scenario: &Scenario, allow_large: bool) -> Result<(), String> {
    let events = scenario.scripted_events();
    if allow_large || events <= MAX_EVENTS {
        return Ok(());
    }
    let largest = scenario
        .cohorts
        .iter()
        .max_by_key(|c| c.scripted_events())
        .map(|c| format!(" (cohort \"{}\" alone: {})", c.name, c.scripted_events()))
        .unwrap_or_default();
    Err(format!(
        "{}: the scenario scripts an estimated {events} events{largest}, more than the limit of \
         {MAX_EVENTS}; lower `users` or a step's `count`, add a `horizon`, or pass \
         --allow-large to run it anyway",
        scenario.source.path
    ))
}
