//! A priority queue for times that never go backwards: a timing wheel of
//! one-millisecond buckets, with a binary heap for times beyond its span.
//!
//! Entries come out in `(at, tie)` order, the order a binary heap of those
//! pairs gives, as long as no entry is pushed before the time of the last
//! pop. A push and a pop cost a few bit operations and list links, where a
//! binary heap of the workload's 2,000 active users costs about 11 levels of
//! comparisons and moves.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::time::Millis;

/// Buckets in the wheel, one per millisecond: 2^17 ms is about 131 s.
/// Entries further ahead, such as hourly replays, wait in the overflow
/// heap until the wheel reaches them.
const BUCKETS: usize = 1 << 17;
const WORDS: usize = BUCKETS / 64;
const SPAN: Millis = BUCKETS as Millis;

/// Index of "no node" in the lists; the arena's slot 0 is never used.
const NONE: u32 = 0;

#[derive(Clone, Copy)]
struct Bucket {
    head: u32,
    tail: u32,
}

impl Bucket {
    const EMPTY: Bucket = Bucket {
        head: NONE,
        tail: NONE,
    };
}

#[derive(Clone, Copy)]
struct Node<T> {
    at: Millis,
    tie: u64,
    next: u32,
    value: T,
}

/// An entry of the overflow heap, ordered by `(at, tie)` alone.
struct Entry<T> {
    at: Millis,
    tie: u64,
    value: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.tie) == (other.at, other.tie)
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.tie).cmp(&(other.at, other.tie))
    }
}

/// A min-queue of values keyed by `(at, tie)` whose pushes are never
/// earlier than the last pop.
///
/// Bucket `at % BUCKETS` contains the entries due at `at` for every `at` in
/// `[now, now + BUCKETS)`, as a singly linked list sorted by `tie`. Two
/// bitmaps find the next non-empty bucket. Entries due later wait in a
/// binary heap and move into the wheel once `now` comes within `BUCKETS`
/// of them, before any push can reach their bucket, so every list stays
/// sorted with plain appends.
pub struct TimingWheel<T: Copy> {
    /// Time of the last pop; no entry is earlier.
    now: Millis,
    /// First and last node of each bucket's list, or `NONE` for both, side
    /// by side so that a push or pop touches one cache line.
    buckets: Vec<Bucket>,
    /// One bit per bucket, set when its list is not empty.
    occupied: Vec<u64>,
    /// One bit per word of `occupied`, set when the word is not zero.
    summary: Vec<u64>,
    /// List nodes; slot 0 is a placeholder so that `NONE` is never a node.
    nodes: Vec<Node<T>>,
    /// Unused slots of `nodes`, reused before the arena grows.
    free: Vec<u32>,
    /// Entries in the wheel's lists.
    in_wheel: usize,
    overflow: BinaryHeap<Reverse<Entry<T>>>,
}

impl<T: Copy> TimingWheel<T> {
    /// Creates an empty queue at time 0.
    pub fn new() -> Self {
        TimingWheel {
            now: 0,
            buckets: vec![Bucket::EMPTY; BUCKETS],
            occupied: vec![0; WORDS],
            summary: vec![0; WORDS / 64],
            nodes: Vec::new(),
            free: Vec::new(),
            in_wheel: 0,
            overflow: BinaryHeap::new(),
        }
    }

    /// Adds `value` due at `at`. Among entries due at the same time, lower
    /// `tie` comes out first, and equal ties come out in push order.
    ///
    /// # Panics
    ///
    /// Panics if `at` is earlier than the time of the last pop.
    pub fn push(&mut self, at: Millis, tie: u64, value: T) {
        assert!(
            at >= self.now,
            "timing wheel push at {at} ms is before the last pop at {} ms",
            self.now
        );
        if at - self.now >= SPAN {
            self.overflow.push(Reverse(Entry { at, tie, value }));
        } else {
            self.link(at, tie, value);
        }
    }

    /// Removes and returns the entry with the lowest `(at, tie)`, with its
    /// time.
    pub fn pop(&mut self) -> Option<(Millis, T)> {
        if self.in_wheel == 0 {
            let Reverse(entry) = self.overflow.pop()?;
            self.advance(entry.at);
            return Some((entry.at, entry.value));
        }
        let start = self.now as usize % BUCKETS;
        let bucket = self
            .next_occupied(start)
            .or_else(|| self.next_occupied(0))
            .expect("a wheel with entries has an occupied bucket");
        let index = self.buckets[bucket].head;
        let node = self.nodes[index as usize];
        self.buckets[bucket].head = node.next;
        if node.next == NONE {
            self.buckets[bucket].tail = NONE;
            self.clear_bit(bucket);
        }
        self.free.push(index);
        self.in_wheel -= 1;
        if node.at != self.now {
            self.advance(node.at);
        }
        Some((node.at, node.value))
    }

    /// Removes every entry. The time of the last pop stays.
    pub fn clear(&mut self) {
        self.buckets.fill(Bucket::EMPTY);
        self.occupied.fill(0);
        self.summary.fill(0);
        self.nodes.clear();
        self.free.clear();
        self.in_wheel = 0;
        self.overflow.clear();
    }

    /// Sets the time to `now` and moves the overflow entries that are now
    /// within the wheel's span into their buckets.
    fn advance(&mut self, now: Millis) {
        self.now = now;
        while let Some(Reverse(top)) = self.overflow.peek() {
            if top.at - now >= SPAN {
                break;
            }
            let Reverse(entry) = self.overflow.pop().expect("peeked entry");
            self.link(entry.at, entry.tie, entry.value);
        }
    }

    /// Inserts an entry into its bucket's list, keeping the list sorted.
    fn link(&mut self, at: Millis, tie: u64, value: T) {
        let bucket = at as usize % BUCKETS;
        let node = Node {
            at,
            tie,
            next: NONE,
            value,
        };
        let index = match self.free.pop() {
            Some(index) => {
                self.nodes[index as usize] = node;
                index
            }
            None => {
                if self.nodes.is_empty() {
                    // The placeholder in slot 0, so that `NONE` names no node.
                    self.nodes.push(node);
                }
                self.nodes.push(node);
                u32::try_from(self.nodes.len() - 1).expect("fewer than 2^32 queued entries")
            }
        };
        self.in_wheel += 1;

        let tail = self.buckets[bucket].tail;
        if tail == NONE {
            self.buckets[bucket] = Bucket {
                head: index,
                tail: index,
            };
            self.set_bit(bucket);
            return;
        }

        debug_assert_eq!(
            self.nodes[tail as usize].at, at,
            "a bucket contains entries of one time only"
        );
        if tie >= self.nodes[tail as usize].tie {
            self.nodes[tail as usize].next = index;
            self.buckets[bucket].tail = index;
            return;
        }

        // A lower tie than the tail's: walk to the first node with a higher
        // tie. The tail is such a node, so the tail does not change.
        let mut previous = NONE;
        let mut current = self.buckets[bucket].head;
        while self.nodes[current as usize].tie <= tie {
            previous = current;
            current = self.nodes[current as usize].next;
        }
        self.nodes[index as usize].next = current;
        if previous == NONE {
            self.buckets[bucket].head = index;
        } else {
            self.nodes[previous as usize].next = index;
        }
    }

    fn set_bit(&mut self, bucket: usize) {
        let word = bucket / 64;
        self.occupied[word] |= 1 << (bucket % 64);
        self.summary[word / 64] |= 1 << (word % 64);
    }

    fn clear_bit(&mut self, bucket: usize) {
        let word = bucket / 64;
        self.occupied[word] &= !(1 << (bucket % 64));
        if self.occupied[word] == 0 {
            self.summary[word / 64] &= !(1 << (word % 64));
        }
    }

    /// Finds the first occupied bucket at or after `from`, without wrapping.
    fn next_occupied(&self, from: usize) -> Option<usize> {
        let word = from / 64;
        let bits = self.occupied[word] & (u64::MAX << (from % 64));
        if bits != 0 {
            return Some(word * 64 + bits.trailing_zeros() as usize);
        }
        let mut next_word = word + 1;
        if next_word == WORDS {
            return None;
        }
        let mut group = next_word / 64;
        let mut groups = self.summary[group] & (u64::MAX << (next_word % 64));
        loop {
            if groups != 0 {
                next_word = group * 64 + groups.trailing_zeros() as usize;
                let bits = self.occupied[next_word];
                return Some(next_word * 64 + bits.trailing_zeros() as usize);
            }
            group += 1;
            if group == self.summary.len() {
                return None;
            }
            groups = self.summary[group];
        }
    }
}

impl<T: Copy> Default for TimingWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::SplitMix64;

    /// Pops everything from both queues, asserting the same order.
    fn drain_both(
        wheel: &mut TimingWheel<u64>,
        heap: &mut BinaryHeap<Reverse<(Millis, u64, u64)>>,
    ) {
        while let Some(Reverse((at, _, value))) = heap.pop() {
            assert_eq!(wheel.pop(), Some((at, value)));
        }
        assert_eq!(wheel.pop(), None);
    }

    #[test]
    fn wheel_matches_heap_order() {
        // Gaps from 0 to beyond the wheel's span, so entries pass through
        // the overflow heap, wrap around the wheel and share buckets.
        let gaps = [0, 1, 7, 1_000, SPAN - 1, SPAN, SPAN + 5, 10 * SPAN];
        let mut rng = SplitMix64::seed_from_u64(7);
        let mut wheel = TimingWheel::new();
        let mut heap = BinaryHeap::new();
        let mut now = 0;
        let mut tie = 0;
        for value in 0..200_000u64 {
            if rng.gen_bool(0.55) {
                let at = now + gaps[rng.gen_range(0..gaps.len())];
                tie += 1;
                wheel.push(at, tie, value);
                heap.push(Reverse((at, tie, value)));
            } else if let Some(Reverse((at, _, expected))) = heap.pop() {
                assert_eq!(wheel.pop(), Some((at, expected)));
                now = at;
            }
        }
        drain_both(&mut wheel, &mut heap);
    }

    #[test]
    fn lower_tie_goes_first() {
        let mut wheel = TimingWheel::new();
        let mut heap = BinaryHeap::new();
        for (at, tie) in [
            (5, 30),
            (5, 10),
            (5, 20),
            (5, 5),
            (2 * SPAN, 3),
            (2 * SPAN, 1),
        ] {
            wheel.push(at, tie, tie);
            heap.push(Reverse((at, tie, tie)));
        }
        drain_both(&mut wheel, &mut heap);
    }

    #[test]
    fn equal_ties_keep_push_order() {
        let mut wheel = TimingWheel::new();
        for value in 0..3 {
            wheel.push(9, 1, value);
        }
        assert_eq!(wheel.pop(), Some((9, 0)));
        assert_eq!(wheel.pop(), Some((9, 1)));
        assert_eq!(wheel.pop(), Some((9, 2)));
    }

    #[test]
    fn clear_empties_wheel_and_overflow() {
        let mut wheel = TimingWheel::new();
        wheel.push(1, 0, 1u64);
        wheel.push(3 * SPAN, 0, 2);
        wheel.clear();
        assert_eq!(wheel.pop(), None);
    }

    #[test]
    #[should_panic(expected = "before the last pop")]
    fn push_before_last_pop_panics() {
        let mut wheel = TimingWheel::new();
        wheel.push(10, 0, 0u64);
        wheel.pop();
        wheel.push(9, 0, 0);
    }
}
