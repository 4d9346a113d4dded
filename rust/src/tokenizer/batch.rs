//! Batch encoding: texts cut into chunks (`plan`: many short texts per chunk, large texts split
//! at safe cuts), chunks encoded on a thread pool, and the ids handed to the calling thread in
//! text order while later chunks are still being encoded (`ordered`).
//!
//! Splitting at safe cuts (`crate::cut`, CORE's one rule: encoding the parts and joining their
//! ids gives the ids of the whole text) keeps threads balanced on batches of a few large
//! documents: 2 threads gave 1.58x one on English documents when each text was one job.
//! Each chunk's ids go into one flat vector with the end of every text's part, so a batch of
//! 100K lines makes ~40 allocations, not 200K.
//!
//! Performance notes (GPT-2, 5 MB slices of the benchmark corpora past their first 10 MB, 2
//! cores shared with other sessions, so each timing kept only when the rest of the machine was
//! idle during the call; `encode_ordinary_batch` 2 threads / 1 thread, lists included):
//! - before (a job per text, lists built after all encoding): English documents 2.06x, lines
//!   1.36x; multilingual 1.66x / 1.50x; code 1.59x / 1.23x (12:18 UTC, load 0.6);
//! - after (chunks, conversion overlapped): English 1.79-2.12x / 1.66-1.84x, multilingual
//!   1.68-2.12x / 1.77-1.83x, code 1.59-1.75x / 1.54x (13:29-13:34 UTC). What is left on
//!   lines is serial work before the engine starts: the Python wrapper's per-text type check
//!   (~8 ms of ~130 on 130K lines) and PyO3's copy of every str into bytes under `abi3-py39`.
//!   Inside the engine the helper is busy ~95% of the time.
//! - tried and dropped: pausing the garbage collector per step instead of per batch
//!   (collections took 38% of the calling thread, `id_lists.rs`); reusing chunk buffers across
//!   chunks instead of allocating each (no change in the calling thread's time or its kernel
//!   share, 17%, which is Python's own list memory being faulted in).

use super::{Allowed, Tokenizer};
use crate::cut::{Cut, Cutter};
use crate::error::Result;
use crate::monitor::Monitor;

mod ordered;
mod plan;

/// A text part at least this long is encoded with cancellation checks inside it, and a chunk
/// this long never on the calling thread (a text without safe cuts can make one chunk
/// arbitrarily long; see `ordered::run`).
const CANCEL_INSIDE_FROM: usize = 4 << 20;

/// One chunk's ids: text part `i`'s ids are `ids[ends[i - 1]..ends[i]]`.
struct Encoded {
    ids: Vec<u32>,
    ends: Vec<usize>,
}

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
        let mut out = Vec::with_capacity(texts.len());
        self.encode_batch_with(texts, allowed, threads, monitor, |done| {
            out.extend(done.iter().map(|ids| ids.to_vec()));
            monitor.check()
        })?;
        Ok(out)
    }

    /// Encodes `texts` on `threads` threads (None: all cores; the calling thread is one of them)
    /// and calls `take` on the calling thread with the ids of the texts finished so far, each
    /// text once, in order, while the other threads go on encoding. `take` is also called with
    /// no texts at least every 50 ms (`ordered::POLL_EVERY`) while the calling thread waits, so it can check for
    /// Ctrl-C; an error from it stops the batch and is returned. `monitor` is cancelled when the
    /// batch stops early, so the work in flight ends soon.
    pub fn encode_batch_with<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        allowed: Allowed<'_>,
        threads: Option<usize>,
        monitor: &Monitor,
        mut take: impl FnMut(&[&[u32]]) -> Result<()>,
    ) -> Result<()> {
        let threads = crate::parallel::threads(threads)?;
        let len = |t: usize| texts[t].as_ref().len();
        let cutter = if (0..texts.len()).any(|t| len(t) > plan::MIN_CHUNK) {
            Some(self.cutter_for(allowed)?)
        } else {
            None
        };
        let chunks = plan::plan(texts.len(), len, threads, |t, lo, want| {
            match cutter
                .as_ref()?
                .find_cut(texts[t].as_ref().as_bytes(), lo, want, true)
            {
                // Cuts fall on ASCII bytes or a special token's first byte; checked anyway, as
                // the slicing below relies on it.
                Cut::At(p) if texts[t].as_ref().is_char_boundary(p) => Some(p),
                _ => None,
            }
        });
        let encode_chunk = |k: usize| -> Result<Encoded> {
            monitor.check()?;
            let c = &chunks[k];
            let mut ids = Vec::with_capacity(c.bytes(len) / 3 + 16);
            let mut ends = Vec::with_capacity(c.last - c.first + 1);
            for (t, text) in texts.iter().enumerate().take(c.last + 1).skip(c.first) {
                let text = text.as_ref();
                let part = &text[c.segment(t, text.len())];
                if part.len() >= CANCEL_INSIDE_FROM {
                    ids.extend(self.encode_cancellable(part, allowed, monitor)?);
                } else {
                    self.encode_into(part, allowed, &mut ids)?;
                }
                ends.push(ids.len());
            }
            Ok(Encoded { ids, ends })
        };
        // The ids of a text whose parts span chunks, gathered until its last part.
        let mut carry: Vec<u32> = Vec::new();
        let mut next = 0;
        // An error from `take` (Ctrl-C) cancels the monitor at once, so that jobs in flight
        // (a long text without safe cuts is one job) stop before `run` waits for them.
        let mut take = |done: &[&[u32]]| take(done).inspect_err(|_| monitor.cancel());
        let long = |k: usize| chunks[k].bytes(len) >= CANCEL_INSIDE_FROM;
        let result = ordered::run(chunks.len(), threads, encode_chunk, long, |step| {
            let Some(e) = step else {
                return take(&[]);
            };
            let c = &chunks[next];
            next += 1;
            let parts = c.last - c.first + 1;
            let continued = c.from > 0; // its first part continues a text
            let open = !c.ends(c.last, len(c.last)); // its last part's text goes on
            let part = |i: usize| &e.ids[if i == 0 { 0 } else { e.ends[i - 1] }..e.ends[i]];
            if continued {
                carry.extend_from_slice(part(0));
            }
            let finished = if open { parts - 1 } else { parts };
            let done: Vec<&[u32]> = (0..finished)
                .map(|i| {
                    if i == 0 && continued {
                        &carry[..]
                    } else {
                        part(i)
                    }
                })
                .collect();
            take(&done)?;
            drop(done);
            let only_carried = parts == 1 && continued && open; // already in `carry`
            if continued && !only_carried {
                carry.clear();
            }
            if open && !only_carried {
                carry.extend_from_slice(part(parts - 1));
            }
            Ok(())
        });
        if result.is_err() {
            monitor.cancel();
        }
        result
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
