//! The seeded event generator: every user's script, merged in time order.
//!
//! Events are produced lazily. The generator holds one cursor per user who
//! has started and not finished, plus one pending start per cohort, so its
//! memory grows with the number of active users, not with requests.
//! Users of a cohort start in id order, each at a seeded point inside its
//! own equal slot of the ramp, so starts come out sorted without a sort.

use rand::{Rng, SeedableRng};
use rand_xoshiro::SplitMix64;

use crate::scenario::{JarId, Scenario, Step};
use crate::time::Millis;
use crate::wheel::TimingWheel;

/// What happens in one event.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Login {
        device: JarId,
    },
    Request {
        device: JarId,
    },
    UpdateProfile {
        device: JarId,
    },
    Logout {
        device: JarId,
    },
    CopyCookie {
        device: JarId,
        to: JarId,
    },
    Replay {
        copy: JarId,
    },
    /// The user's script has ended; nothing of theirs follows.
    Finish,
    /// Revoke every credential of these users.
    Revoke {
        users: Vec<u64>,
    },
}

/// One event at a virtual time. `user` is 0 for global events.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub at: Millis,
    pub user: u64,
    /// Index of the user's cohort in the scenario.
    pub cohort: usize,
    pub action: Action,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Global(u32),
    Start {
        cohort: u32,
        index: u64,
    },
    /// Index of the user's cursor in `Workload::cursors`.
    User(u32),
}

struct Cursor {
    user: u64,
    cohort: usize,
    step: usize,
    done: u64,
    rng: SplitMix64,
}

/// Iterator over a scenario's events in virtual-time order.
pub struct Workload<'a> {
    scenario: &'a Scenario,
    seed: u64,
    /// Pending slots in time order. At equal times global events run
    /// first, then the rest in the order they were scheduled: the tie is
    /// `class << 63 | seq`. A slot is never scheduled before the one being
    /// run, as the wheel requires.
    queue: TimingWheel<Target>,
    /// Cursors of the users who started and have not finished; finished
    /// users leave a `None` that the next start reuses.
    cursors: Vec<Option<Cursor>>,
    free_cursors: Vec<u32>,
    seq: u64,
}

impl<'a> Workload<'a> {
    /// Starts the generator; `seed` is the scenario's seed unless overridden.
    pub fn new(scenario: &'a Scenario, seed: u64) -> Self {
        let mut workload = Workload {
            scenario,
            seed,
            queue: TimingWheel::new(),
            cursors: Vec::new(),
            free_cursors: Vec::new(),
            seq: 0,
        };
        for (index, event) in scenario.events.iter().enumerate() {
            workload.schedule(event.at, 0, Target::Global(index as u32));
        }
        for cohort in 0..scenario.cohorts.len() {
            let at = workload.start_time(cohort, 0);
            workload.schedule(
                at,
                1,
                Target::Start {
                    cohort: cohort as u32,
                    index: 0,
                },
            );
        }
        workload
    }

    /// Users with a cursor right now: started and not finished.
    pub fn active_users(&self) -> usize {
        self.cursors.len() - self.free_cursors.len()
    }

    fn schedule(&mut self, at: Millis, class: u8, target: Target) {
        self.seq += 1;
        let tie = (u64::from(class) << 63) | self.seq;
        self.queue.push(at, tie, target);
    }

    fn rng(&self, stream: u64, a: u64, b: u64) -> SplitMix64 {
        let mut mix =
            SplitMix64::seed_from_u64(self.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let key = mix.gen::<u64>()
            ^ a.wrapping_mul(0xBF58_476D_1CE4_E5B9)
            ^ b.wrapping_mul(0x94D0_49BB_1331_11EB);
        SplitMix64::seed_from_u64(key)
    }

    fn start_time(&self, cohort: usize, index: u64) -> Millis {
        let c = &self.scenario.cohorts[cohort];
        if c.ramp == 0 {
            return c.start;
        }
        let u: f64 = self.rng(1, cohort as u64, index).gen();
        let slot = c.ramp as f64 / c.users as f64;
        c.start + ((index as f64 + u) * slot).floor() as Millis
    }

    fn revoked_users(&self, event_index: usize) -> Vec<u64> {
        let event = &self.scenario.events[event_index];
        let cohort = &self.scenario.cohorts[event.revoke_cohort];
        // Floyd's algorithm: `k` distinct indices out of `n` in O(k) memory.
        let (n, k) = (cohort.users, event.revoked_count(cohort.users));
        let mut rng = self.rng(2, event_index as u64, 0);
        let mut chosen = std::collections::BTreeSet::new();
        for j in (n - k)..n {
            let t = rng.gen_range(0..=j);
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        chosen.into_iter().map(|i| cohort.first_user + i).collect()
    }

    /// Stores a new user's cursor, returning its index in `cursors`.
    fn add_cursor(&mut self, cursor: Cursor) -> u32 {
        match self.free_cursors.pop() {
            Some(index) => {
                self.cursors[index as usize] = Some(cursor);
                index
            }
            None => {
                self.cursors.push(Some(cursor));
                u32::try_from(self.cursors.len() - 1).expect("fewer than 2^32 active users")
            }
        }
    }

    /// Advances the user of cursor `index` by one step, returning the event
    /// it produces now (if any) and scheduling the user's next slot.
    fn advance(&mut self, index: u32, at: Millis) -> Option<Event> {
        let cursor = self.cursors[index as usize]
            .as_mut()
            .expect("scheduled users have cursors");
        let user = cursor.user;
        let cohort_index = cursor.cohort;
        let steps = &self.scenario.cohorts[cohort_index].steps;
        let Some(step) = steps.get(cursor.step) else {
            self.cursors[index as usize] = None;
            self.free_cursors.push(index);
            return Some(Event {
                at,
                user,
                cohort: cohort_index,
                action: Action::Finish,
            });
        };
        let (action, next) = match *step {
            Step::Login { device } => (Some(Action::Login { device }), at),
            Step::UpdateProfile { device } => (Some(Action::UpdateProfile { device }), at),
            Step::Logout { device } => (Some(Action::Logout { device }), at),
            Step::CopyCookie { device, to } => (Some(Action::CopyCookie { device, to }), at),
            Step::Wait { span } => (None, at + span),
            Step::Requests {
                device,
                count,
                every,
                jitter,
            } => {
                let gap = jittered(every, jitter, &mut cursor.rng);
                cursor.done += 1;
                if cursor.done < count {
                    let event = Event {
                        at,
                        user,
                        cohort: cohort_index,
                        action: Action::Request { device },
                    };
                    self.schedule(at + gap, 1, Target::User(index));
                    return Some(event);
                }
                (Some(Action::Request { device }), at + gap)
            }
            Step::Replay { copy, count, every } => {
                cursor.done += 1;
                if cursor.done < count {
                    let event = Event {
                        at,
                        user,
                        cohort: cohort_index,
                        action: Action::Replay { copy },
                    };
                    self.schedule(at + every, 1, Target::User(index));
                    return Some(event);
                }
                (Some(Action::Replay { copy }), at + every)
            }
        };
        cursor.step += 1;
        cursor.done = 0;
        self.schedule(next, 1, Target::User(index));
        action.map(|action| Event {
            at,
            user,
            cohort: cohort_index,
            action,
        })
    }
}

/// A gap of `every`, spread uniformly by `jitter` (a fraction) either way.
fn jittered(every: Millis, jitter: f64, rng: &mut SplitMix64) -> Millis {
    if jitter == 0.0 {
        return every;
    }
    let factor = 1.0 + jitter * (2.0 * rng.gen::<f64>() - 1.0);
    ((every as f64) * factor).round().max(1.0) as Millis
}

impl Iterator for Workload<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            let (at, target) = self.queue.pop()?;
            if self.scenario.horizon.is_some_and(|h| at > h) {
                self.queue.clear();
                self.cursors.clear();
                self.free_cursors.clear();
                return None;
            }
            match target {
                Target::Global(index) => {
                    let index = index as usize;
                    let event = &self.scenario.events[index];
                    return Some(Event {
                        at,
                        user: 0,
                        cohort: event.revoke_cohort,
                        action: Action::Revoke {
                            users: self.revoked_users(index),
                        },
                    });
                }
                Target::Start { cohort, index } => {
                    let cohort = cohort as usize;
                    let c = &self.scenario.cohorts[cohort];
                    let user = c.first_user + index;
                    let rng = self.rng(3, user, 0);
                    let cursor = self.add_cursor(Cursor {
                        user,
                        cohort,
                        step: 0,
                        done: 0,
                        rng,
                    });
                    if index + 1 < c.users {
                        let at = self.start_time(cohort, index + 1);
                        self.schedule(
                            at,
                            1,
                            Target::Start {
                                cohort: cohort as u32,
                                index: index + 1,
                            },
                        );
                    }
                    if let Some(event) = self.advance(cursor, at) {
                        return Some(event);
                    }
                }
                Target::User(cursor) => {
                    if let Some(event) = self.advance(cursor, at) {
                        return Some(event);
                    }
                }
            }
        }
    }
}
