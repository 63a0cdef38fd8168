//! SQLite session lookup (`session_and_user`) at 1,000 and at 1,000,000
//! sessions, timed in one process and interleaved, so that the machine's
//! load affects both sizes alike.
//!
//!     cargo bench --bench sqlite_scale
//!
//! `AUTHCMP_SCALE_ROWS` sets the sizes (comma-separated, default
//! `1000,1000000`); the first is the baseline of the ratio. Each round
//! times a block of lookups at every size, starting at a different size
//! each round. Tokens are random UUIDs, as `authjs-database` issues them,
//! and lookups follow `scenarios/scale.toml`: three requests per session,
//! one, two and three minutes after sign-in, with sign-ins spread evenly
//! over an hour.

use std::hint::black_box;
use std::time::Instant;

use authcmp::store::{Profile, SqliteStore, Store};
use authcmp::time::DAY;

const ROUNDS: usize = 40;
const BLOCK: usize = 2_000;

/// A store with `rows` users and one session each, and their tokens in
/// sign-in order.
struct Fixture {
    rows: usize,
    store: SqliteStore,
    tokens: Vec<String>,
    next: usize,
    nanos: Vec<u64>,
    block_medians: Vec<u64>,
}

impl Fixture {
    fn new(rows: usize) -> Fixture {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let mut tokens = Vec::with_capacity(rows);
        for id in 1..=rows as u64 {
            store.seed_user(&Profile::generated(id, 0, 0)).unwrap();
            let token = uuid::Uuid::new_v4().to_string();
            store.create_session(&token, id, 30 * DAY).unwrap();
            tokens.push(token);
        }
        Fixture {
            rows,
            store,
            tokens,
            next: 0,
            nanos: Vec::with_capacity(ROUNDS * BLOCK),
            block_medians: Vec::with_capacity(ROUNDS),
        }
    }

    /// Index of the session the `step`-th request reads: requests cycle
    /// through sessions signed in one, two and three minutes earlier.
    fn session_at(&self, step: usize) -> usize {
        let per_minute = (self.rows / 60).max(1);
        let lag = (step % 3 + 1) * per_minute;
        (step / 3 + self.rows - lag % self.rows) % self.rows
    }

    fn time_block(&mut self) {
        let mut block = Vec::with_capacity(BLOCK);
        for _ in 0..BLOCK {
            let token = &self.tokens[self.session_at(self.next)];
            self.next += 1;
            let started = Instant::now();
            let found = self.store.session_and_user(black_box(token)).unwrap();
            block.push(started.elapsed().as_nanos() as u64);
            assert!(found.is_some());
        }
        self.nanos.extend_from_slice(&block);
        self.block_medians.push(percentile(&mut block, 50));
    }
}

fn percentile(values: &mut [u64], p: usize) -> u64 {
    values.sort_unstable();
    values[(values.len() - 1) * p / 100]
}

fn main() {
    let rows: Vec<usize> = std::env::var("AUTHCMP_SCALE_ROWS")
        .unwrap_or_else(|_| "1000,1000000".to_string())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .unwrap_or_else(|e| panic!("AUTHCMP_SCALE_ROWS: invalid size {n:?} ({e}); expected comma-separated session counts"))
        })
        .collect();
    let mut fixtures: Vec<Fixture> = rows
        .iter()
        .map(|&n| {
            let started = Instant::now();
            let fixture = Fixture::new(n);
            eprintln!(
                "filled {n} sessions in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            fixture
        })
        .collect();
    for round in 0..ROUNDS {
        for i in 0..fixtures.len() {
            let k = (i + round) % fixtures.len();
            fixtures[k].time_block();
        }
    }
    let (base_p50, base_blocks) = {
        let base = &mut fixtures[0];
        (percentile(&mut base.nanos, 50), base.block_medians.clone())
    };
    println!("sessions   p50 ns   p99 ns   ratio of p50   per-round ratio min..max");
    for fixture in &mut fixtures {
        let p50 = percentile(&mut fixture.nanos, 50);
        let p99 = percentile(&mut fixture.nanos, 99);
        let mut ratios: Vec<f64> = fixture
            .block_medians
            .iter()
            .zip(&base_blocks)
            .map(|(&m, &b)| m as f64 / b as f64)
            .collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "{:>9} {:>8} {:>8} {:>14.2}   {:.2}..{:.2}",
            fixture.rows,
            p50,
            p99,
            p50 as f64 / base_p50 as f64,
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}
