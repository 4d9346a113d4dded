//! The count of every live pair: an open-addressing table built for the merge loop's access
//! pattern, one batch of count changes per merge.
//!
//! Performance notes (session 6, `english_100M.txt` at 10K vocab, 2 threads): with
//! `FxHashMap<Pair, u128>`, applying the changes of merges 1000..9743 (583 K changes) took
//! 0.12-0.17 s, ~80% of it on the cache miss of each lookup (perf annotate: the key compare and the
//! count load). Here a batch is applied with the slot of the change [`PREFETCH`] places ahead
//! already requested, so the misses overlap. Slots are 32 bytes (key and `u128` count: two per
//! cache line, never straddling one), linear probing, at most 3/4 full (1/2 doubled peak RSS's
//! share of this table on english_100M: 32 MB instead of hashbrown's 16 MB); a count that reaches 0
//! is deleted by shifting back the entries after it (no tombstones, so lookups of absent pairs stay
//! short).

use super::pairs::{Delta, Pair, PairCount};
use crate::prefetch::prefetch;

/// How many changes ahead [`PairCounts::apply`] prefetches.
const PREFETCH: usize = 8;

#[derive(Clone, Copy, Default)]
struct Slot {
    pair: Pair,
    /// 0: empty (a live pair's count is > 0).
    count: PairCount,
}

/// What a change did to a pair's count.
pub(super) enum Change {
    /// The count went up, to this value.
    Raised(PairCount),
    /// The count went down but not to 0.
    Lowered,
    /// The count reached 0: the pair is gone.
    Gone,
}

#[derive(Default)]
pub(super) struct PairCounts {
    slots: Vec<Slot>,
    len: usize,
}

#[inline(always)]
fn hash(p: Pair) -> u64 {
    super::table::fold_mul(p ^ 0x243F_6A88_85A3_08D3, 0x9E37_79B9_7F4A_7C15)
}

impl PairCounts {
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    /// Room for `extra` more pairs without growing (so prefetched slots stay where they are).
    fn reserve(&mut self, extra: usize) {
        if (self.len + extra) * 4 > self.slots.len() * 3 {
            let cap = ((self.len + extra) * 2).next_power_of_two().max(64);
            let old = std::mem::replace(&mut self.slots, vec![Slot::default(); cap]);
            let mask = cap - 1;
            for s in old.into_iter().filter(|s| s.count != 0) {
                let mut i = hash(s.pair) as usize & mask;
                while self.slots[i].count != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = s;
            }
        }
    }

    /// The slot holding `p`, or the empty slot where it would go.
    #[inline(always)]
    fn find(&self, p: Pair) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = hash(p) as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.count == 0 || s.pair == p {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The count of `p` (0 when absent).
    #[inline]
    pub(super) fn get(&self, p: Pair) -> PairCount {
        if self.slots.is_empty() {
            return 0;
        }
        self.slots[self.find(p)].count
    }

    #[inline]
    pub(super) fn contains(&self, p: Pair) -> bool {
        self.get(p) > 0
    }

    /// Adds `c` (> 0) to the count of `p`.
    pub(super) fn add(&mut self, p: Pair, c: PairCount) {
        self.reserve(1);
        let i = self.find(p);
        let s = &mut self.slots[i];
        if s.count == 0 {
            s.pair = p;
            self.len += 1;
        }
        s.count += c;
    }

    /// Applies one merge's summed changes (`d != 0` each), calling `on(pair, change)` for each,
    /// in the order given. A decrease never exceeds the count (each -1 is an occurrence that
    /// existed); it saturates anyway, so a broken invariant cannot wrap.
    pub(super) fn apply(&mut self, changes: &[(Pair, Delta)], mut on: impl FnMut(Pair, Change)) {
        let raised = changes.iter().filter(|(_, d)| *d > 0).count();
        self.reserve(raised);
        let mask = self.slots.len() - 1;
        for (k, &(p, d)) in changes.iter().enumerate() {
            if let Some(&(ahead, _)) = changes.get(k + PREFETCH) {
                prefetch(
                    self.slots
                        .as_ptr()
                        .wrapping_add(hash(ahead) as usize & mask),
                );
            }
            let i = self.find(p);
            let s = &mut self.slots[i];
            if d > 0 {
                if s.count == 0 {
                    s.pair = p;
                    self.len += 1;
                }
                s.count += d.unsigned_abs();
                on(p, Change::Raised(s.count));
            } else if s.count > 0 {
                s.count = s.count.saturating_sub(d.unsigned_abs());
                if s.count == 0 {
                    self.remove_at(i);
                    on(p, Change::Gone);
                } else {
                    on(p, Change::Lowered);
                }
            } else {
                on(p, Change::Gone); // a decrease of an absent pair: a broken invariant
            }
        }
    }

    /// Empties slot `i` and shifts back the entries of its probe run that would no longer be found
    /// (linear probing's deletion: every entry stays reachable from its home slot).
    fn remove_at(&mut self, mut i: usize) {
        let mask = self.slots.len() - 1;
        self.len -= 1;
        let mut j = i;
        loop {
            self.slots[i].count = 0;
            loop {
                j = (j + 1) & mask;
                let s = self.slots[j];
                if s.count == 0 {
                    return;
                }
                let home = hash(s.pair) as usize & mask;
                // `s` may move to `i` unless its home lies cyclically in (i, j].
                let stays = if i <= j {
                    i < home && home <= j
                } else {
                    i < home || home <= j
                };
                if !stays {
                    self.slots[i] = s;
                    i = j;
                    break;
                }
            }
        }
    }

    /// Every (pair, count), in table order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (Pair, PairCount)> + '_ {
        self.slots
            .iter()
            .filter(|s| s.count != 0)
            .map(|s| (s.pair, s.count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Random batches of changes (many pairs colliding in a small key space, counts going to 0 and
    /// back) give the same counts as a `HashMap`, and every change is reported as it happened.
    #[test]
    fn matches_hashmap_under_random_changes() {
        let mut t = PairCounts::default();
        let mut m: HashMap<Pair, PairCount> = HashMap::new();
        let mut x: u64 = 7;
        let mut rng = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..400 {
            let mut batch: HashMap<Pair, Delta> = HashMap::new();
            for _ in 0..(rng() % 300) {
                // keys in a small space so runs collide; also the pair (0, 0)
                let p = (rng() % 700) << (32 * (round % 2));
                let cur = m.get(&p).copied().unwrap_or(0) as Delta + batch.get(&p).unwrap_or(&0);
                let d = if cur > 0 && rng() % 2 == 0 {
                    -((rng() as Delta % cur) + 1)
                } else {
                    (rng() % 5 + 1) as Delta
                };
                *batch.entry(p).or_insert(0) += d;
            }
            let changes: Vec<(Pair, Delta)> = batch.into_iter().filter(|&(_, d)| d != 0).collect();
            let mut seen = Vec::new();
            t.apply(&changes, |p, c| seen.push((p, c)));
            assert_eq!(seen.len(), changes.len());
            for (&(p, d), (q, c)) in changes.iter().zip(seen) {
                assert_eq!(p, q);
                let before = m.get(&p).copied().unwrap_or(0);
                let after = (before as Delta + d) as PairCount;
                match c {
                    Change::Raised(n) => assert!(d > 0 && n == after),
                    Change::Lowered => assert!(d < 0 && after > 0),
                    Change::Gone => assert!(d < 0 && after == 0),
                }
                if after == 0 {
                    m.remove(&p);
                } else {
                    m.insert(p, after);
                }
            }
            assert_eq!(t.len(), m.len());
            for (&p, &c) in &m {
                assert_eq!(t.get(p), c);
            }
            assert_eq!(t.iter().count(), m.len());
        }
        for p in 0..700u64 {
            assert_eq!(t.get(p), m.get(&p).copied().unwrap_or(0));
        }
        t.add(5, 3);
        t.add(5, 4);
        assert_eq!(t.get(5), m.get(&5).copied().unwrap_or(0) + 7);
    }
}
