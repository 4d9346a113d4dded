//! One merge's update of the words that may contain the merged pair.
//!
//! It produces two things: the summed count change of every pair next to a merge (`deltas`),
//! and the word lists of the new pairs (`NewPairLists`). Only words that contain the pair are
//! touched, each once, in one pass (`Words::for_each_once`: skip repeats, merge, record).
//!
//! Performance notes (session 6, `english_100M.txt` at 10K vocab, merge phase, 2-core machine,
//! best of 5 interleaved runs under the other engineers' load):
//! - Serial for every merge: 0.465 s. Parallel for merges touching >= 2048 words (as before):
//!   0.534 s; >= 32768 words: 0.487 s. The parallel path needs a separate queueing pass first (a
//!   word may be listed twice, and two tasks must never hold one record), so each word is a
//!   cache miss twice, and the stamps written by that pass move between cores; it also merged
//!   per-task delta maps. Earlier it also gave each task a last-word hash map per new pair and
//!   replayed (pair, word) entries serially (0.03 s): then 1 thread (0.548 s) was as fast as 2
//!   (0.537 s), and the 16-core table in docs/training.md shows merges/s flat from 1 to 16
//!   threads. So the update is serial, and dropped the parallel path.
//! - One pass instead of queueing then updating: 1 thread 0.579 -> 0.515 s (best of 4).

use rustc_hash::FxHashMap;

use super::pairs::{Delta, NewPairLists, Pair, PairIndex};
use super::words::{update_word, Words};

/// What one merge changed, reused from merge to merge.
#[derive(Default)]
pub(super) struct Changes {
    pub(super) deltas: FxHashMap<Pair, Delta>,
    new_lists: NewPairLists,
}

impl Changes {
    /// Merges the pair `(a, b)` into `n` in each word of `list` (the pair's word list: stale
    /// entries and repeats are skipped), recording the changes; `n_tokens` is the number of
    /// tokens, `n` included.
    pub(super) fn update(
        &mut self,
        words: &mut Words,
        list: &[u32],
        merge: (u32, u32, u32),
        n_tokens: usize,
    ) {
        // Iterating or clearing a hash map costs its capacity, not its length: after one of the
        // first, huge merges, reusing the map would make every later (small) merge pay for it.
        if self.deltas.capacity() > 4096 {
            self.deltas = FxHashMap::default();
        } else {
            self.deltas.clear();
        }
        self.new_lists.reserve(n_tokens);
        words.next_step();
        let (deltas, new_lists) = (&mut self.deltas, &mut self.new_lists);
        let n = merge.2;
        words.for_each_once(list, |rec, w| {
            update_word(
                rec,
                merge,
                w,
                &mut |p, d| *deltas.entry(p).or_insert(0) += d,
                &mut |p, w| new_lists.add(p, w, n),
            );
        });
    }

    /// Moves the word lists of the new pairs (token `n`) into `index`.
    pub(super) fn flush_new_lists(&mut self, n: u32, index: &mut PairIndex) {
        self.new_lists.flush(n, index);
    }
}
