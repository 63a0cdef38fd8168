//! The agreement check: each strategy's verify timed in isolation, as a
//! criterion benchmark times it, next to the p50 an `authcmp bench` run
//! reports for the same strategy, in one process.
//!
//! The isolated figure signs in 1,000 clients and times batches of
//! verifies over them in turn, one clock pair per batch, and takes the
//! median batch mean. The in-run figure times every verify on its own,
//! inside the replay, with the cache and branch state a real run leaves.

use std::time::Instant;

use crate::cookie::{CookieJar, Holder};
use crate::engine::EngineError;
use crate::store::{Profile, StoreError};
use crate::strategy::Setup;
use crate::time::MINUTE;

/// Clients signed in for the isolated measurement.
pub const CLIENTS: u64 = 1_000;

/// Verifies timed together between two clock reads.
const BATCH: usize = 200;

/// The two measurements of one strategy's verify.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    pub label: String,
    /// Median over batches of the mean verify time, in nanoseconds.
    pub isolated_ns: f64,
    /// Verify p50 of the replay, in nanoseconds.
    pub in_run_ns: u64,
}

impl Agreement {
    /// In-run p50 divided by the isolated median.
    pub fn ratio(&self) -> f64 {
        self.in_run_ns as f64 / self.isolated_ns
    }
}

/// Times `setup`'s verify over `samples` batches in isolation.
pub fn isolated_verify(setup: &Setup, samples: usize) -> Result<f64, EngineError> {
    let failed = |source: StoreError| EngineError {
        label: setup.label.clone(),
        source,
    };
    let mut strategy = setup.build().map_err(failed)?;
    let mut jars = Vec::with_capacity(CLIENTS as usize);
    for id in 1..=CLIENTS {
        let profile = Profile::generated(id, 0, 0);
        strategy.store().seed_user(&profile).map_err(failed)?;
        let mut jar = CookieJar::new(Holder::Browser);
        let set = strategy.login(&profile, &jar, 0).map_err(failed)?;
        jar.apply(&set, 0);
        jars.push(jar);
    }
    let mut means = Vec::with_capacity(samples);
    let mut next = 0;
    for _ in 0..samples.max(1) {
        let started = Instant::now();
        for _ in 0..BATCH {
            next = (next + 1) % jars.len();
            let verification = strategy.verify(&jars[next], MINUTE).map_err(failed)?;
            std::hint::black_box(verification);
        }
        means.push(started.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    means.sort_by(f64::total_cmp);
    Ok(means[(means.len() - 1) / 2])
}
