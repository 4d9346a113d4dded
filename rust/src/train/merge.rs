//! The merge loop of BPE training: from word counts to merges.
//!
//! Rule (Stanford CS336's): repeatedly merge the adjacent pair of tokens with the highest count,
//! counted over all positions of all words (a word's count is how often it occurs); ties go to the
//! lexicographically greater `(left_bytes, right_bytes)` (the ranking lives in `order`). Every
//! occurrence of the chosen pair is replaced, left to right, in every word.
//!
//! The pieces, one job per file:
//! - `words`: the words as records in one flat `u32` array, and the per-word merge;
//! - `pairs`: exact pair counts and the pair -> words index, built in parallel up front;
//! - `pair_counts`: the live pairs' counts, a table that applies each merge's changes in
//!   prefetched batches;
//! - `order`: which of two pairs is merged first (count, then the tie-break);
//! - `heap`: a max-heap of candidates with lazy invalidation (`pop_best`);
//! - `update`: one merge's update of the words holding the pair (one pass, serial: see its notes),
//!   as summed count deltas plus the word lists of the new pairs;
//! - `tokens`: token bytes by id (a merge whose bytes already are a token reuses its id).
//!
//! Each step: pop the best current pair, make (or find) its token, update each word that may
//! hold it (each once), apply the deltas to the counts and the heap, and index the
//! new pairs. Only words that contain the chosen pair are touched.

use crate::error::{Error, Result};
use crate::monitor::{Monitor, Unit};
use crate::special::SpecialMatcher;

use super::count::WordCounts;
use super::pairs::{unpack, PairIndex};
use super::tokens::Tokens;
use super::update::Changes;
use super::words::Words;

/// Ids are `u32`: no vocabulary can be larger.
pub const MAX_VOCAB_SIZE: u64 = 1 << 32;

/// What to learn.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// Total vocabulary size: special tokens + 256 bytes + merged tokens.
    pub vocab_size: usize,
    /// Special tokens; they take ids `0..k` and are never merged.
    pub special_tokens: Vec<String>,
    /// Pairs seen fewer times than this are never merged (0 and 1 both mean "any pair").
    pub min_frequency: u64,
    /// Size of the rayon pool for the parallel parts (see `crate::parallel::threads` for what
    /// `None` and 0 mean).
    pub threads: Option<usize>,
}

impl Default for MergeOptions {
    fn default() -> Self {
        MergeOptions {
            vocab_size: 256,
            special_tokens: Vec::new(),
            min_frequency: 0,
            threads: None,
        }
    }
}

impl MergeOptions {
    /// Checks the options without doing any work (the one home of these rules; the Python layer
    /// calls it before counting too).
    pub fn check(&self) -> Result<()> {
        SpecialMatcher::new(&self.special_tokens)?;
        crate::parallel::threads(self.threads)?;
        let need = 256 + self.special_tokens.len();
        if self.vocab_size < need {
            return Err(Error::value(format!(
                "vocab_size must be at least 256 + the number of special tokens ({need}), got {}",
                self.vocab_size
            )));
        }
        if self.vocab_size as u64 > MAX_VOCAB_SIZE {
            return Err(Error::value(format!(
                "vocab_size must be at most {MAX_VOCAB_SIZE} (ids are 32-bit), got {}",
                self.vocab_size
            )));
        }
        Ok(())
    }
}

/// A trained vocabulary.
///
/// Id layout: special tokens first (ids `0..k`, in the given order), then the 256 single bytes
/// (ids `k..k+256`, in byte-value order), then one id per *new* token, in the order merges created
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trained {
    /// `vocab[id]` is the token's bytes.
    pub vocab: Vec<Vec<u8>>,
    /// Merges in the order they were learned, as (left bytes, right bytes). When a merge produces
    /// bytes that already are a token (possible: `(a, bc)` after `(ab, c)`), it is still listed here,
    /// but gets no second id; so `merges.len()` can exceed `vocab.len() - 256 - k`.
    pub merges: Vec<(Vec<u8>, Vec<u8>)>,
    pub special_tokens: Vec<String>,
    /// True when training stopped before `vocab_size` because no pair was left (or none reached
    /// `min_frequency`).
    pub ran_out: bool,
}

impl Trained {
    /// The merges as pairs of ids into `vocab` (every merge joins two existing tokens).
    pub fn from_learned(l: Learned) -> Self {
        let merges = l
            .merges
            .iter()
            .map(|&(a, b)| (l.vocab[a as usize].clone(), l.vocab[b as usize].clone()))
            .collect();
        Trained {
            vocab: l.vocab,
            merges,
            special_tokens: l.special_tokens,
            ran_out: l.ran_out,
        }
    }
}

/// What [`learn_ids`] returns: like [`Trained`], but each merge is a pair of ids into `vocab`, so
/// the bytes of merged tokens exist once (a corpus of one huge pre-token makes tokens whose total
/// size is many times the corpus; bindings can share one bytes object per token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learned {
    pub vocab: Vec<Vec<u8>>,
    /// `(left id, right id)`, ids in the layout of `vocab`.
    pub merges: Vec<(u32, u32)>,
    pub special_tokens: Vec<String>,
    pub ran_out: bool,
}

/// Learns merges from word counts.
pub fn learn(counts: &WordCounts, opts: &MergeOptions, monitor: &Monitor) -> Result<Trained> {
    learn_ids(counts, opts, monitor).map(Trained::from_learned)
}

/// [`learn`], with merges as ids (see [`Learned`]).
pub fn learn_ids(counts: &WordCounts, opts: &MergeOptions, monitor: &Monitor) -> Result<Learned> {
    opts.check()?;
    crate::parallel::install(opts.threads, || {
        // Watched by the loops inside one huge word (`words::merge_word`).
        crate::cancel::while_watching(monitor, || learn_in_pool(counts, opts, monitor))
    })?
}

fn learn_in_pool(counts: &WordCounts, opts: &MergeOptions, monitor: &Monitor) -> Result<Learned> {
    let k = opts.special_tokens.len();
    let target = opts.vocab_size - k; // distinct non-special tokens wanted
    let min_count = opts.min_frequency.max(1) as u128;
    let mut tok = Tokens::new();
    let mut words = Words::from_counts(counts)?;
    let mut pairs = PairIndex::count(&words, monitor);
    let mut heap = pairs.heap(&tok);
    let mut changes = Changes::default();
    let mut scratch = Vec::new();
    let mut merges: Vec<(u32, u32)> = Vec::new();
    let mut ran_out = false;
    monitor.start(
        "merging",
        Unit::Items,
        Some(target.saturating_sub(256) as u64),
    );
    while tok.len() < target {
        monitor.check()?;
        let Some(best) = heap
            .pop_best(&pairs.counts, &tok)
            .filter(|e| e.count >= min_count)
        else {
            ran_out = true;
            break;
        };
        let (a, b) = unpack(best.pair);
        merges.push((a, b));
        let (n, is_new) = tok.concat(a, b);
        if is_new {
            monitor.add(1)?;
        }
        let list = pairs.take_words(best.pair);
        changes.update(&mut words, &list, (a, b, n), tok.len());
        pairs.apply_deltas(&changes.deltas, &mut scratch, &mut heap, &tok);
        changes.flush_new_lists(n, &mut pairs);
    }
    monitor.finish();
    let learned = learned(tok, merges, opts, ran_out);
    // Freeing the index (hundreds of thousands of word lists) took 45-90 ms on 100 MB of
    // English: done on the pool, after the caller has its result.
    rayon::spawn(move || drop((words, pairs, heap, changes)));
    Ok(learned)
}

/// The public id layout: internal ids put the bytes first; the public layout puts the special
/// tokens first.
fn learned(tok: Tokens, merges: Vec<(u32, u32)>, opts: &MergeOptions, ran_out: bool) -> Learned {
    let k = opts.special_tokens.len() as u32;
    let mut vocab: Vec<Vec<u8>> = opts
        .special_tokens
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    vocab.extend(tok.into_bytes().into_iter().map(|b| b.into_vec()));
    let merges = merges.into_iter().map(|(a, b)| (a + k, b + k)).collect();
    Learned {
        vocab,
        merges,
        special_tokens: opts.special_tokens.clone(),
        ran_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::Pretokenizer;

    fn counts_of(words: &[(&str, u64)]) -> WordCounts {
        let mut c = WordCounts::new();
        for (w, n) in words {
            c.add(w.as_bytes(), *n);
        }
        c
    }

    fn merges_str(t: &Trained) -> Vec<String> {
        t.merges
            .iter()
            .map(|(a, b)| {
                format!(
                    "{} {}",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                )
            })
            .collect()
    }

    #[test]
    fn cs336_handout_example() {
        let c = counts_of(&[("low", 5), ("lower", 2), ("widest", 3), ("newest", 6)]);
        let opts = MergeOptions {
            vocab_size: 256 + 1 + 6,
            special_tokens: vec!["<|endoftext|>".into()],
            ..Default::default()
        };
        let t = learn(&c, &opts, &Monitor::silent()).unwrap();
        assert_eq!(
            merges_str(&t),
            vec!["s t", "e st", "o w", "l ow", "w est", "n e"]
        );
        assert_eq!(t.vocab[0], b"<|endoftext|>");
        assert_eq!(t.vocab[1], vec![0u8]);
        assert_eq!(t.vocab[1 + 256], b"st");
        assert!(!t.ran_out);
    }

    /// A direct transcription of the rule on byte strings (slow), for cross-checking.
    fn naive(words: &[(&str, u64)], n_merges: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut ws: Vec<(Vec<Vec<u8>>, u64)> = words
            .iter()
            .map(|(w, c)| (w.bytes().map(|b| vec![b]).collect(), *c))
            .collect();
        let mut out = Vec::new();
        for _ in 0..n_merges {
            let mut pc: std::collections::BTreeMap<(Vec<u8>, Vec<u8>), u64> = Default::default();
            for (w, c) in &ws {
                for p in w.windows(2) {
                    *pc.entry((p[0].clone(), p[1].clone())).or_default() += c;
                }
            }
            let Some((best, _)) = pc.iter().max_by(|x, y| x.1.cmp(y.1).then(x.0.cmp(y.0))) else {
                break;
            };
            let best = best.clone();
            for (w, _) in ws.iter_mut() {
                let mut o: Vec<Vec<u8>> = Vec::new();
                let mut i = 0;
                while i < w.len() {
                    if i + 1 < w.len() && w[i] == best.0 && w[i + 1] == best.1 {
                        o.push([best.0.clone(), best.1.clone()].concat());
                        i += 2;
                    } else {
                        o.push(w[i].clone());
                        i += 1;
                    }
                }
                *w = o;
            }
            out.push(best);
        }
        out
    }

    #[test]
    fn matches_naive_on_tricky_words() {
        let words = [
            ("aaaa", 3u64),
            ("abab", 2),
            ("aaa", 5),
            ("ababab", 1),
            ("ba", 4),
            ("abc", 2),
            ("bcab", 3),
            ("zz", 1),
        ];
        let c = counts_of(&words);
        let expect = naive(&words, 12);
        for threads in [1, 2] {
            let t = learn(
                &c,
                &MergeOptions {
                    vocab_size: 256 + 40,
                    threads: Some(threads),
                    ..Default::default()
                },
                &Monitor::silent(),
            )
            .unwrap();
            // The naive version has no duplicate-bytes rule, so compare the prefix it shares.
            assert_eq!(
                &t.merges[..expect.len().min(t.merges.len())],
                &expect[..expect.len().min(t.merges.len())]
            );
        }
    }

    #[test]
    fn many_words_parallel_equals_serial() {
        let p = Pretokenizer::gpt2();
        let text: String = (0..20000u32)
            .map(|i| format!("w{} {}x{} ", i % 997, (i * 7919) % 1009, i % 13))
            .collect();
        let mut c = WordCounts::new();
        c.count_text(&text, &p, &SpecialMatcher::empty()).unwrap();
        let run = |threads| {
            learn(
                &c,
                &MergeOptions {
                    vocab_size: 256 + 300,
                    threads: Some(threads),
                    ..Default::default()
                },
                &Monitor::silent(),
            )
            .unwrap()
        };
        let one = run(1);
        assert_eq!(one, run(3));
    }

    #[test]
    fn runs_out_and_min_frequency_and_errors() {
        let c = counts_of(&[("ab", 1)]);
        let t = learn(
            &c,
            &MergeOptions {
                vocab_size: 1000,
                ..Default::default()
            },
            &Monitor::silent(),
        )
        .unwrap();
        assert_eq!(t.merges.len(), 1);
        assert_eq!(t.vocab.len(), 257);
        assert!(t.ran_out);
        let t = learn(
            &c,
            &MergeOptions {
                vocab_size: 1000,
                min_frequency: 2,
                ..Default::default()
            },
            &Monitor::silent(),
        )
        .unwrap();
        assert!(t.merges.is_empty());
        assert!(learn(
            &c,
            &MergeOptions {
                vocab_size: 255,
                ..Default::default()
            },
            &Monitor::silent()
        )
        .is_err());
        let dup = MergeOptions {
            vocab_size: 300,
            special_tokens: vec!["x".into(), "x".into()],
            ..Default::default()
        };
        assert!(learn(&c, &dup, &Monitor::silent()).is_err());
        let empty = learn(
            &WordCounts::new(),
            &MergeOptions {
                vocab_size: 300,
                ..Default::default()
            },
            &Monitor::silent(),
        )
        .unwrap();
        assert_eq!(empty.vocab.len(), 256);
    }

    #[test]
    fn duplicate_bytes_get_one_id() {
        // (a, bc) and (ab, c) both make "abc".
        let c = counts_of(&[("bc", 10), ("abc", 3), ("ab", 8), ("xabc", 1), ("ab c", 0)]);
        let t = learn(
            &c,
            &MergeOptions {
                vocab_size: 256 + 10,
                ..Default::default()
            },
            &Monitor::silent(),
        )
        .unwrap();
        let mut seen = std::collections::HashSet::new();
        for v in &t.vocab {
            assert!(seen.insert(v.clone()), "duplicate token {v:?}");
        }
    }
}
