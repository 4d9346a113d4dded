//! One merge's update of the words that may contain the merged pair: serial for a few words, in
//! parallel for many (the first merges touch most of the corpus).
//!
//! Both produce the same two things: the summed count change of every pair next to a merge
//! (`deltas`), and the word lists of the new pairs (`NewPairLists`). Only words that contain the
//! pair are touched.
//!
//! Performance notes (session 6, `english_100M.txt` at 10K vocab, 2 threads): the parallel path
//! used to give each task a hash map of the last word per new pair plus a list of (pair, word)
//! entries, replayed serially into `NewPairLists` (0.03 s); per word it cost ~3x the serial path,
//! so 2 threads were slower than 1 (merges 0..1000: 0.18-0.23 s parallel vs 0.13-0.18 s serial;
//! the 16-core scaling table in docs/training.md shows the same: merges/s flat or falling with
//! threads). Now each task owns a `NewPairLists` and a delta map, kept from merge to merge, so a
//! task does per word exactly what the serial path does; its lists are moved into the index in
//! task order (the same word order as the serial path).

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::pairs::{Delta, NewPairLists, Pair, PairIndex};
use super::words::{for_each_prefetched, update_word, Words};

/// Merges touching at least this many words update them in parallel (below it, the cost of
/// spawning tasks and merging their delta maps exceeds the gain).
const PAR_WORDS: usize = 2048;

/// A task's share of one merge's changes, reused from merge to merge.
#[derive(Default)]
struct TaskChanges {
    deltas: FxHashMap<Pair, Delta>,
    new_lists: NewPairLists,
}

/// What one merge changed, reused from merge to merge.
#[derive(Default)]
pub(super) struct Changes {
    pub(super) deltas: FxHashMap<Pair, Delta>,
    new_lists: NewPairLists,
    tasks: Vec<TaskChanges>,
}

/// Iterating or clearing a hash map costs its capacity, not its length: after one of the first,
/// huge merges, reusing the map would make every later (small) merge pay for it.
fn reset(map: &mut FxHashMap<Pair, Delta>) {
    if map.capacity() > 4096 {
        *map = FxHashMap::default();
    } else {
        map.clear();
    }
}

impl Changes {
    /// Merges the pair `(a, b)` into `n` in each word of `todo` (distinct offsets), recording the
    /// changes; `n_tokens` is the number of tokens, `n` included.
    pub(super) fn update(
        &mut self,
        words: &mut Words,
        todo: &[u32],
        merge: (u32, u32, u32),
        n_tokens: usize,
    ) {
        reset(&mut self.deltas);
        self.new_lists.reserve(n_tokens);
        if todo.len() >= PAR_WORDS && rayon::current_num_threads() > 1 {
            self.update_parallel(words, todo, merge, n_tokens);
        } else {
            self.update_serial(words, todo, merge);
        }
    }

    /// Moves the word lists of the new pairs (token `n`) into `index`, in word order.
    pub(super) fn flush_new_lists(&mut self, n: u32, index: &mut PairIndex) {
        self.new_lists.flush(n, index);
        for t in &mut self.tasks {
            t.new_lists.flush(n, index);
        }
    }

    fn update_serial(&mut self, words: &mut Words, todo: &[u32], merge: (u32, u32, u32)) {
        let (deltas, new_lists) = (&mut self.deltas, &mut self.new_lists);
        let n = merge.2;
        for_each_prefetched(todo, words.data_ptr(), |w| {
            update_word(
                words.record_mut(w),
                merge,
                w,
                &mut |p, d| *deltas.entry(p).or_insert(0) += d,
                &mut |p, w| new_lists.add(p, w, n),
            );
        });
    }

    /// Each rayon task takes a disjoint slice of `todo` (in order) and records into its own
    /// `TaskChanges`; the delta maps are then summed here.
    fn update_parallel(
        &mut self,
        words: &mut Words,
        todo: &[u32],
        merge: (u32, u32, u32),
        n_tokens: usize,
    ) {
        let shared = words.shared();
        let n_tasks = rayon::current_num_threads() * 4;
        self.tasks.resize_with(n_tasks, TaskChanges::default);
        let n = merge.2;
        todo.par_chunks(todo.len().div_ceil(n_tasks))
            .zip(self.tasks.par_iter_mut())
            .for_each(|(ws, t)| {
                reset(&mut t.deltas);
                t.new_lists.reserve(n_tokens);
                let (deltas, new_lists) = (&mut t.deltas, &mut t.new_lists);
                for_each_prefetched(ws, shared.data_ptr(), |w| {
                    // SAFETY: `todo` holds distinct record offsets (`Words::queue_once`) and
                    // `par_chunks` gives each task a disjoint slice of it, so no two tasks hold
                    // the same record.
                    let rec = unsafe { shared.record(w) };
                    update_word(
                        rec,
                        merge,
                        w,
                        &mut |p, v| *deltas.entry(p).or_insert(0) += v,
                        &mut |p, w| new_lists.add(p, w, n),
                    );
                });
            });
        for t in &mut self.tasks {
            for (&p, &v) in &t.deltas {
                *self.deltas.entry(p).or_insert(0) += v;
            }
        }
    }
}
