//! Counters, histograms and trackers that one strategy fills during a run.

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::store::OpCounts;
use crate::time::Millis;

/// Store operations attributed to one kind of action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActionOps {
    /// How many times the action ran.
    pub count: u64,
    pub ops: OpCounts,
}

impl ActionOps {
    pub fn add(&mut self, ops: OpCounts) {
        self.count += 1;
        self.ops.reads += ops.reads;
        self.ops.writes += ops.writes;
    }
}

/// What happened to credentials after they were revoked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevocationStats {
    /// Revoked credentials being tracked: copies of a signed-out cookie,
    /// and every cookie of a revoked user.
    pub tracked: u64,
    /// For each credential rejected after its revocation: virtual time
    /// from the revocation to the first rejection.
    pub delays: Vec<Millis>,
    /// Largest gap between the last accepted presentation (or the
    /// revocation) and the first rejection: how precisely the probes
    /// located each rejection.
    pub resolution: Millis,
    /// Credentials still accepted at their last presentation.
    pub never: u64,
    /// Credentials never presented after their revocation.
    pub unprobed: u64,
    /// Requests accepted with a credential already revoked.
    pub stale_accepts: u64,
    /// Latest accept after a revocation, as time since the revocation.
    pub last_accept: Millis,
    /// Presentations of the first [`MAX_PROBE_SAMPLES`] tracked
    /// credentials, for the revocation timeline chart.
    pub samples: Vec<ProbeSample>,
}

/// Tracked credentials whose presentations a run keeps, per strategy.
pub const MAX_PROBE_SAMPLES: usize = 12;

/// Presentations kept per sampled credential; later ones are dropped.
pub const MAX_PRESENTATIONS: usize = 60;

/// Presentations of one revoked credential after its revocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeSample {
    /// Virtual time of the revocation, in milliseconds.
    pub revoked_at_ms: Millis,
    /// In time order. Rejections can be followed by accepts where caches
    /// on several nodes disagree.
    pub presentations: Vec<Presentation>,
}

/// One request made with a revoked credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Presentation {
    /// Virtual time of the request, in milliseconds.
    pub at_ms: Millis,
    pub accepted: bool,
}

impl RevocationStats {
    /// Starts a probe sample for a newly tracked credential, returning its
    /// index while fewer than [`MAX_PROBE_SAMPLES`] are kept.
    pub fn start_sample(&mut self, revoked_at: Millis) -> Option<usize> {
        if self.samples.len() >= MAX_PROBE_SAMPLES {
            return None;
        }
        self.samples.push(ProbeSample {
            revoked_at_ms: revoked_at,
            presentations: Vec::new(),
        });
        Some(self.samples.len() - 1)
    }

    /// Records a presentation of a tracked credential in its sample, if it
    /// has one with room left.
    pub fn present(&mut self, sample: Option<usize>, at: Millis, accepted: bool) {
        let Some(sample) = sample.and_then(|i| self.samples.get_mut(i)) else {
            return;
        };
        if sample.presentations.len() < MAX_PRESENTATIONS {
            sample.presentations.push(Presentation {
                at_ms: at,
                accepted,
            });
        }
    }
}

/// How long devices kept seeing an old profile after a change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StalenessStats {
    /// Profile changes.
    pub changes: u64,
    /// For each signed-in device of the user: virtual time from the change
    /// until its first accepted request that saw the new profile.
    pub delays: Vec<Millis>,
    /// Devices that kept seeing the old profile up to their last request.
    pub never: u64,
    /// Devices with no accepted request after the change.
    pub unobserved: u64,
    /// Accepted requests that saw an outdated profile.
    pub stale_reads: u64,
}

/// Everything measured for one strategy.
pub struct Metrics {
    /// Wall-clock nanoseconds per verify call.
    pub verify_latency: Histogram<u64>,
    /// Wall-clock nanoseconds per sign-in call.
    pub login_latency: Histogram<u64>,
    /// Sum of every timed call, in nanoseconds.
    pub timed_ns: u128,
    pub verify: ActionOps,
    pub login: ActionOps,
    pub logout: ActionOps,
    pub revoke: ActionOps,
    pub profile_update: ActionOps,
    pub accepted: u64,
    pub rejected: u64,
    /// Requests from a signed-out device, which never reach the verifier.
    pub signed_out_requests: u64,
    /// Sign-ins forced by the rejection of a credential that was not revoked.
    pub forced_sign_ins: u64,
    /// Count of verifies by bytes of the `Cookie` header part they sent.
    pub cookie_bytes: ValueCounts,
    /// Most cookies one credential needed.
    pub max_chunks: usize,
    /// Bytes of every `Set-Cookie` value verifies returned.
    pub set_cookie_bytes: u64,
    /// Verifies that returned at least one `Set-Cookie`.
    pub set_cookie_responses: u64,
    pub revocation: RevocationStats,
    pub staleness: StalenessStats,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        // 1 ns to 1 h at 3 significant digits.
        let histogram = || {
            Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                .expect("static histogram bounds are valid")
        };
        Metrics {
            verify_latency: histogram(),
            login_latency: histogram(),
            timed_ns: 0,
            verify: ActionOps::default(),
            login: ActionOps::default(),
            logout: ActionOps::default(),
            revoke: ActionOps::default(),
            profile_update: ActionOps::default(),
            accepted: 0,
            rejected: 0,
            signed_out_requests: 0,
            forced_sign_ins: 0,
            cookie_bytes: ValueCounts::default(),
            max_chunks: 0,
            set_cookie_bytes: 0,
            set_cookie_responses: 0,
            revocation: RevocationStats::default(),
            staleness: StalenessStats::default(),
        }
    }

    /// Records one timed call in `histogram`, saturating at its maximum.
    pub fn record(histogram: &mut Histogram<u64>, timed_ns: &mut u128, nanos: u64) {
        *timed_ns += u128::from(nanos);
        histogram.saturating_record(nanos.max(1));
    }

    /// Store operations of every action together.
    pub fn total_ops(&self) -> OpCounts {
        [
            self.verify,
            self.login,
            self.logout,
            self.revoke,
            self.profile_update,
        ]
        .iter()
        .fold(OpCounts::default(), |sum, a| OpCounts {
            reads: sum.reads + a.ops.reads,
            writes: sum.writes + a.ops.writes,
        })
    }
}

/// How many times each value occurred, sorted by value.
///
/// A run records a handful of distinct cookie sizes, so a sorted vector with a
/// binary search costs less per record than a `BTreeMap`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValueCounts {
    counts: Vec<(usize, u64)>,
}

impl ValueCounts {
    /// Counts one occurrence of `value`.
    pub fn add(&mut self, value: usize) {
        self.add_count(value, 1);
    }

    fn add_count(&mut self, value: usize, count: u64) {
        match self.counts.binary_search_by_key(&value, |&(v, _)| v) {
            Ok(index) => self.counts[index].1 += count,
            Err(index) => self.counts.insert(index, (value, count)),
        }
    }

    /// Iterates over `(value, count)` pairs in ascending order of value.
    pub fn iter(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts.iter().copied()
    }

    /// Returns the largest value counted, if any.
    pub fn max(&self) -> Option<usize> {
        self.counts.last().map(|&(value, _)| value)
    }
}

impl FromIterator<(usize, u64)> for ValueCounts {
    fn from_iter<I: IntoIterator<Item = (usize, u64)>>(pairs: I) -> Self {
        let mut counts = ValueCounts::default();
        for (value, count) in pairs {
            counts.add_count(value, count);
        }
        counts
    }
}

/// The value at quantile `q` (0 to 1) of a count map, by the nearest-rank
/// rule; `None` when the map is empty.
pub fn quantile_of_counts(counts: &ValueCounts, q: f64) -> Option<usize> {
    let total: u64 = counts.iter().map(|(_, count)| count).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (value, count) in counts.iter() {
        seen += count;
        if seen >= rank {
            return Some(value);
        }
    }
    counts.max()
}

/// The median of `values` by the nearest-rank rule, after sorting them.
pub fn median(values: &mut [Millis]) -> Option<Millis> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_uses_nearest_rank() {
        let counts = ValueCounts::from_iter([(30, 1), (10, 2), (20, 1)]);
        assert_eq!(quantile_of_counts(&counts, 0.5), Some(10));
        assert_eq!(quantile_of_counts(&counts, 0.75), Some(20));
        assert_eq!(quantile_of_counts(&counts, 1.0), Some(30));
        assert_eq!(quantile_of_counts(&ValueCounts::default(), 0.5), None);
    }

    #[test]
    fn value_counts_stay_sorted() {
        let mut counts = ValueCounts::default();
        for value in [57, 12, 57, 300, 12, 57] {
            counts.add(value);
        }
        let pairs: Vec<(usize, u64)> = counts.iter().collect();
        assert_eq!(pairs, [(12, 2), (57, 3), (300, 1)]);
        assert_eq!(counts.max(), Some(300));
        assert_eq!(ValueCounts::default().max(), None);
    }

    #[test]
    fn median_picks_lower_middle() {
        assert_eq!(median(&mut [5, 1, 3]), Some(3));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
        assert_eq!(median(&mut []), None);
    }
}
