//! Batch encoding on a thread pool, with large texts split at safe cuts across the threads.
//!
//! Why split: a batch of a few large documents (or one) kept one thread busy while the others
//! idled at the end; 2 threads gave 1.58x one on English documents before this. A text longer
//! than twice a thread's share of the batch (a quarter of total / threads, at least `SPLIT_MIN`)
//! is cut into parts at safe cuts (`crate::cut`, CORE's one rule: encoding the parts and joining
//! their ids gives the ids of the whole text), and the parts are encoded as jobs of their own.

use rayon::prelude::*;

use super::{Allowed, Tokenizer};
use crate::cut::{self, Cutter};
use crate::error::Result;
use crate::monitor::Monitor;

/// Texts at most twice this long are never split (a cut costs a little scanning, and small
/// jobs cost scheduling).
const SPLIT_MIN: usize = 256 << 10;

impl Tokenizer {
    /// Encodes many texts in parallel on `threads` threads (None: all cores). Stops with
    /// `Error::Interrupted` soon after `monitor` is cancelled.
    pub fn encode_batch<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        allowed: Allowed<'_>,
        threads: Option<usize>,
        monitor: &Monitor,
    ) -> Result<Vec<Vec<u32>>> {
        crate::parallel::install(threads, || {
            let encode = |t: &str| {
                monitor.check()?;
                self.encode(t, allowed)
            };
            let workers = rayon::current_num_threads();
            let total: usize = texts.iter().map(|t| t.as_ref().len()).sum();
            let part = (total / (4 * workers)).max(SPLIT_MIN);
            if workers == 1 || texts.iter().all(|t| t.as_ref().len() <= 2 * part) {
                return texts.par_iter().map(|t| encode(t.as_ref())).collect();
            }
            let cutter = self.cutter_for(allowed)?;
            // (text number, part of it), in text order; every text has at least one part.
            let mut jobs: Vec<(usize, &str)> = Vec::new();
            for (i, t) in texts.iter().enumerate() {
                let t = t.as_ref();
                if t.len() > 2 * part {
                    jobs.extend(cut::split_str(&cutter, t, part).into_iter().map(|p| (i, p)));
                } else {
                    jobs.push((i, t));
                }
            }
            let parts: Vec<Vec<u32>> = jobs
                .par_iter()
                .map(|&(_, p)| encode(p))
                .collect::<Result<_>>()?;
            let mut out: Vec<Vec<u32>> = Vec::with_capacity(texts.len());
            for (&(i, _), ids) in jobs.iter().zip(parts) {
                if i < out.len() {
                    out[i].extend_from_slice(&ids);
                } else {
                    out.push(ids);
                }
            }
            Ok(out)
        })?
    }

    /// The cutter for encoding under `allowed`: the special tokens it recognizes must not be
    /// cut through; with none allowed, special-token text is ordinary text.
    fn cutter_for(&self, allowed: Allowed<'_>) -> Result<Cutter> {
        let names: Vec<String> = match allowed {
            Allowed::None => Vec::new(),
            Allowed::All => self.specials.iter().map(|(s, _)| s.clone()).collect(),
            Allowed::Only(names) => names.to_vec(),
        };
        Cutter::for_pretokenizer(&names, &self.pretok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::GPT2_PATTERN;

    /// Bytes plus a few merges, with these special tokens.
    fn small_tokenizer(specials: &[String]) -> Tokenizer {
        let mut vocab: Vec<(u32, Vec<u8>)> = (0..256u32).map(|b| (b, vec![b as u8])).collect();
        let merges: Vec<(Vec<u8>, Vec<u8>)> = [("t", "h"), ("th", "e"), (" ", "t"), ("e", "r")]
            .iter()
            .map(|(a, b)| (a.as_bytes().to_vec(), b.as_bytes().to_vec()))
            .collect();
        for (i, (a, b)) in merges.iter().enumerate() {
            vocab.push((256 + i as u32, [&a[..], &b[..]].concat()));
        }
        Tokenizer::from_vocab_merges(vocab, merges, specials, GPT2_PATTERN).unwrap()
    }

    #[test]
    fn split_batches_equal_whole_encodes() {
        let tok = small_tokenizer(&["<|endoftext|>".to_string()]);
        // One large text (split into parts) beside small ones, special tokens in between.
        let big = "the other theme, then 42!<|endoftext|>\n  x\t\n".repeat(40_000);
        let texts = vec![
            big.clone(),
            String::new(),
            "the".to_string(),
            big[7..].to_string(),
        ];
        let monitor = Monitor::silent();
        let only = vec!["<|endoftext|>".to_string()];
        for allowed in [Allowed::All, Allowed::None, Allowed::Only(&only)] {
            let want: Vec<Vec<u32>> = texts
                .iter()
                .map(|t| tok.encode(t, allowed).unwrap())
                .collect();
            for threads in [1, 2, 3] {
                let got = tok
                    .encode_batch(&texts, allowed, Some(threads), &monitor)
                    .unwrap();
                assert_eq!(got, want, "threads {threads}");
            }
        }
    }
}
