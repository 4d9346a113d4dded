//! One merge's update of the words that may contain the merged pair: serial for a few words, in
//! parallel for many (the first merges touch most of the corpus).
//!
//! Both produce the same two things: the summed count change of every pair next to a merge
//! (`deltas`), and the word lists of the new pairs (`NewPairLists`). Only words that contain the
//! pair are touched.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::pairs::{Delta, NewPairLists, Pair};
use super::words::{for_each_prefetched, update_word, Words};

/// Merges touching at least this many words update them in parallel (below it, the cost of
/// spawning tasks and merging their delta maps exceeds the gain).
const PAR_WORDS: usize = 2048;

/// What one merge changed, reused from merge to merge.
#[derive(Default)]
pub(super) struct Changes {
    pub(super) deltas: FxHashMap<Pair, Delta>,
    pub(super) new_lists: NewPairLists,
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
        // Iterating or clearing a hash map costs its capacity, not its length: after one of the
        // first, huge merges, reusing the map would make every later (small) merge pay for it.
        if self.deltas.capacity() > 4096 {
            self.deltas = FxHashMap::default();
        } else {
            self.deltas.clear();
        }
        self.new_lists.reserve(n_tokens);
        if todo.len() >= PAR_WORDS && rayon::current_num_threads() > 1 {
            self.update_parallel(words, todo, merge);
        } else {
            self.update_serial(words, todo, merge);
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

    /// Each rayon task takes a disjoint slice of `todo` and returns its own deltas and new-pair
    /// entries, which are then summed here.
    fn update_parallel(&mut self, words: &mut Words, todo: &[u32], merge: (u32, u32, u32)) {
        let shared = words.shared();
        let tasks = rayon::current_num_threads() * 4;
        type Part = (FxHashMap<Pair, Delta>, Vec<(Pair, u32)>);
        let parts: Vec<Part> = todo
            .par_chunks(todo.len().div_ceil(tasks))
            .map(|ws| {
                let mut d: FxHashMap<Pair, Delta> = FxHashMap::default();
                let mut np = Vec::new();
                // The last word recorded per new pair: a word lists each pair once, so a huge
                // word (one pre-token of megabytes) adds entries per distinct pair only.
                let mut last: FxHashMap<Pair, u32> = FxHashMap::default();
                for_each_prefetched(ws, shared.data_ptr(), |w| {
                    // SAFETY: `todo` holds distinct record offsets (`Words::queue_once`) and
                    // `par_chunks` gives each task a disjoint slice of it, so no two tasks hold
                    // the same record.
                    let rec = unsafe { shared.record(w) };
                    update_word(
                        rec,
                        merge,
                        w,
                        &mut |p, v| *d.entry(p).or_insert(0) += v,
                        &mut |p, w| {
                            if last.insert(p, w) != Some(w) {
                                np.push((p, w));
                            }
                        },
                    );
                });
                (d, np)
            })
            .collect();
        for (d, np) in parts {
            for (p, v) in d {
                *self.deltas.entry(p).or_insert(0) += v;
            }
            for (p, w) in np {
                self.new_lists.add(p, w, merge.2);
            }
        }
    }
}
