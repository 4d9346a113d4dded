//! A complete tokenizer: pre-tokenizer + BPE + special tokens + decoder.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::encode::{Bpe, RankedToken};
use crate::error::{Error, Result};
use crate::fork_safe::{ForkSafeMutex, RaceOnce};
use crate::monitor::Monitor;

use crate::pretokenize::Pretokenizer;
use crate::special::{Segment, SpecialMatcher};

mod batch;
mod unstable;

/// How much text `encode_cancellable` encodes between two looks at its monitor.
const CANCEL_CHECK_BYTES: usize = 1 << 20;

/// Which special tokens `encode` recognizes (defined in `special`; re-exported for callers).
pub use crate::special::{Allowed, SpecialPolicy};

#[derive(Debug)]
pub struct Tokenizer {
    bpe: Bpe,
    pretok: Pretokenizer,
    /// id -> bytes, for every id the tokenizer has (ranked, special, or decode-only).
    decoder: Vec<Option<Box<[u8]>>>,
    /// Ranked tokens in rank order (kept for export and `token_byte_values`).
    ranked: Vec<RankedToken>,
    /// The merges this tokenizer was built from, when it was built from merges.
    merges: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    specials: Vec<(String, u32)>,
    all_specials: SpecialMatcher,
    /// Matchers for subsets of the special tokens (`Allowed::Only`), by sorted token indices.
    /// Fork-safe: a child forked while another thread holds this lock gets a fresh cache.
    subset_matchers: ForkSafeMutex<FxHashMap<Vec<usize>, Arc<SpecialMatcher>>>,
    /// Ranked tokens' (bytes, id) sorted by bytes, built on first use by `encode_with_unstable`.
    /// (No `OnceLock`: a fork during its initialization would leave the child waiting forever.)
    sorted_tokens: RaceOnce<Vec<(Box<[u8]>, u32)>>,
}

impl Tokenizer {
    /// tiktoken style: ranked tokens (rank is the priority, id the output) and special tokens
    /// with explicit ids. `extra` holds decode-only tokens.
    pub fn from_ranked(
        mut ranked: Vec<RankedToken>,
        specials: Vec<(String, u32)>,
        pattern: &str,
        merges: Option<Vec<(Vec<u8>, Vec<u8>)>>,
        extra: Vec<(u32, Vec<u8>)>,
    ) -> Result<Self> {
        let pretok = Pretokenizer::from_pattern(pattern)?;
        let bpe = Bpe::new(&ranked)?;
        ranked.sort_by_key(|t| t.rank);
        for w in ranked.windows(2) {
            if w[0].rank == w[1].rank {
                return Err(Error::value(format!(
                    "two tokens share rank {}: ranks must be distinct",
                    w[0].rank
                )));
            }
        }
        let names: Vec<String> = specials.iter().map(|(s, _)| s.clone()).collect();
        let all_specials = SpecialMatcher::new(&names)?;
        // Ids index a dense table: refuse ids far beyond the token count instead of allocating
        // gigabytes for a typo or a hostile file.
        let count = ranked.len() + specials.len() + extra.len();
        let max_id = (count as u64).saturating_add(1 << 20);
        let too_big = ranked
            .iter()
            .map(|t| t.id)
            .chain(specials.iter().map(|(_, id)| *id))
            .chain(extra.iter().map(|(id, _)| *id))
            .find(|&id| id as u64 >= max_id);
        if let Some(id) = too_big {
            return Err(Error::value(format!(
                "token id {id} is far beyond the {count} tokens given (ids must be below {max_id})"
            )));
        }
        let mut decoder: Vec<Option<Box<[u8]>>> = Vec::new();
        let mut put = |id: u32, bytes: &[u8]| -> Result<()> {
            let i = id as usize;
            if i >= decoder.len() {
                decoder.resize(i + 1, None);
            }
            match &decoder[i] {
                Some(old) if old.as_ref() != bytes => Err(Error::value(format!(
                    "token id {id} is given two different byte strings ({:?} and {:?})",
                    String::from_utf8_lossy(old),
                    String::from_utf8_lossy(bytes)
                ))),
                _ => {
                    decoder[i] = Some(bytes.into());
                    Ok(())
                }
            }
        };
        for t in &ranked {
            put(t.id, &t.bytes)?;
        }
        for (s, id) in &specials {
            put(*id, s.as_bytes())?;
        }
        for (id, bytes) in &extra {
            put(*id, bytes)?;
        }
        Ok(Tokenizer {
            bpe,
            pretok,
            decoder,
            ranked,
            merges,
            specials,
            all_specials,
            subset_matchers: ForkSafeMutex::default(),
            sorted_tokens: RaceOnce::new(),
        })
    }

    /// CS336 / HF style: a vocabulary (id -> bytes) and merges in order. The 256 single bytes and
    /// each merge's product are the ranked tokens (merge i has rank 256 + i; a product that is
    /// already ranked keeps its first rank). Special tokens missing from the vocabulary are
    /// appended after the largest id, in order.
    pub fn from_vocab_merges(
        vocab: Vec<(u32, Vec<u8>)>,
        merges: Vec<(Vec<u8>, Vec<u8>)>,
        special_tokens: &[String],
        pattern: &str,
    ) -> Result<Self> {
        let mut id_of: FxHashMap<&[u8], u32> = FxHashMap::default();
        let mut seen_ids: FxHashMap<u32, &[u8]> = FxHashMap::default();
        for (id, bytes) in &vocab {
            if bytes.is_empty() {
                return Err(Error::value(format!("vocab id {id} has empty bytes")));
            }
            if let Some(prev) = seen_ids.insert(*id, bytes) {
                if prev != bytes.as_slice() {
                    return Err(Error::value(format!("vocab has id {id} twice")));
                }
            }
            let e = id_of.entry(bytes.as_slice()).or_insert(*id);
            *e = (*e).min(*id);
        }
        let mut ranked: Vec<RankedToken> = Vec::with_capacity(256 + merges.len());
        let mut is_ranked: FxHashMap<&[u8], ()> = FxHashMap::default();
        for b in 0..=255u8 {
            let bytes = [b];
            let id = *id_of.get(&bytes[..]).ok_or_else(|| {
                Error::value(format!(
                    "the vocabulary lacks the single byte 0x{b:02x}; byte-level BPE needs all 256"
                ))
            })?;
            ranked.push(RankedToken {
                bytes: vec![b],
                id,
                rank: b as u32,
            });
        }
        let products: Vec<Vec<u8>> = merges
            .iter()
            .map(|(l, r)| [&l[..], &r[..]].concat())
            .collect();
        for (i, ((l, r), product)) in merges.iter().zip(&products).enumerate() {
            for part in [l, r] {
                if !id_of.contains_key(part.as_slice()) {
                    return Err(Error::value(format!(
                        "merge {i} ({:?}, {:?}) uses {:?}, which is not in the vocabulary",
                        String::from_utf8_lossy(l),
                        String::from_utf8_lossy(r),
                        String::from_utf8_lossy(part)
                    )));
                }
            }
            let Some(&id) = id_of.get(product.as_slice()) else {
                return Err(Error::value(format!(
                    "merge {i} ({:?}, {:?}) makes {:?}, which is not in the vocabulary",
                    String::from_utf8_lossy(l),
                    String::from_utf8_lossy(r),
                    String::from_utf8_lossy(product)
                )));
            };
            if product.len() > 1 && is_ranked.insert(product.as_slice(), ()).is_none() {
                ranked.push(RankedToken {
                    bytes: product.clone(),
                    id,
                    rank: 256 + i as u32,
                });
            }
        }
        let mut next_id = vocab
            .iter()
            .map(|(id, _)| id.saturating_add(1))
            .max()
            .unwrap_or(0);
        let mut specials = Vec::with_capacity(special_tokens.len());
        for s in special_tokens {
            let id = match id_of.get(s.as_bytes()) {
                Some(&id) => id,
                None => {
                    let id = next_id;
                    next_id = next_id
                        .checked_add(1)
                        .ok_or_else(|| Error::value("no token id left for the special tokens"))?;
                    id
                }
            };
            specials.push((s.clone(), id));
        }
        let ranked_ids: FxHashMap<u32, ()> = ranked.iter().map(|t| (t.id, ())).collect();
        let extra: Vec<(u32, Vec<u8>)> = vocab
            .iter()
            .filter(|(id, _)| !ranked_ids.contains_key(id))
            .filter(|(id, _)| !specials.iter().any(|(_, sid)| sid == id))
            .cloned()
            .collect();
        Tokenizer::from_ranked(ranked, specials, pattern, Some(merges), extra)
    }

    pub fn pattern(&self) -> &str {
        self.pretok.pattern()
    }

    pub fn pretokenizer(&self) -> &Pretokenizer {
        &self.pretok
    }

    pub fn specials(&self) -> &[(String, u32)] {
        &self.specials
    }

    pub fn ranked(&self) -> &[RankedToken] {
        &self.ranked
    }

    pub fn merges(&self) -> Option<&[(Vec<u8>, Vec<u8>)]> {
        self.merges.as_deref()
    }

    /// One more than the largest id (tiktoken's `n_vocab`).
    pub fn n_vocab(&self) -> usize {
        self.decoder.len()
    }

    /// Every (id, bytes) the tokenizer can decode, in id order.
    pub fn vocab(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.decoder
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.as_deref().map(|b| (i as u32, b)))
    }

    /// The id of the ranked token with exactly these bytes, if any.
    pub fn token_id(&self, bytes: &[u8]) -> Option<u32> {
        self.bpe.token_id(bytes)
    }

    /// Appends the ids of ordinary text (no special-token handling) to `out`.
    pub fn encode_ordinary_into(&self, text: &str, out: &mut Vec<u32>) -> Result<()> {
        self.bpe.with_cache(|enc| {
            self.pretok
                .for_each_piece(text, |piece| enc.encode_piece(piece.as_bytes(), out))
        })
    }

    pub fn encode_ordinary(&self, text: &str) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        self.encode_ordinary_into(text, &mut out)?;
        Ok(out)
    }

    /// Appends ids of `text`, recognizing the special tokens `allowed` names.
    pub fn encode_into(&self, text: &str, allowed: Allowed<'_>, out: &mut Vec<u32>) -> Result<()> {
        self.encode_segments(text, allowed, out, |t, out| {
            self.encode_ordinary_into(t, out)
        })
    }

    /// `encode` that stops with `Error::Interrupted` soon after `monitor` is cancelled: the
    /// monitor is polled every `CANCEL_CHECK_BYTES` of text (a long single call stays stoppable).
    pub fn encode_cancellable(
        &self,
        text: &str,
        allowed: Allowed<'_>,
        monitor: &Monitor,
    ) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        let mut since_check = 0usize;
        let mut stopped = false;
        // Watching the monitor lets the merge loop of one huge piece stop too (`crate::cancel`).
        crate::cancel::while_watching(monitor, || {
            self.bpe.with_cache(|enc| {
                self.encode_segments(text, allowed, &mut out, |t, out| {
                    self.pretok.for_each_piece(t, |piece| {
                        if stopped {
                            return; // finish scanning without encoding: far faster than encoding
                        }
                        since_check += piece.len();
                        if since_check >= CANCEL_CHECK_BYTES {
                            since_check = 0;
                            stopped = monitor.is_cancelled();
                        }
                        enc.encode_piece(piece.as_bytes(), out)
                    })
                })
            })
        })?;
        monitor.check()?;
        Ok(out)
    }

    /// Splits `text` at the `allowed` special tokens; ordinary text goes to `ordinary`.
    fn encode_segments(
        &self,
        text: &str,
        allowed: Allowed<'_>,
        out: &mut Vec<u32>,
        mut ordinary: impl FnMut(&str, &mut Vec<u32>) -> Result<()>,
    ) -> Result<()> {
        let matcher: Arc<SpecialMatcher>;
        let m: &SpecialMatcher = match allowed {
            Allowed::None => return ordinary(text, out),
            Allowed::All => &self.all_specials,
            Allowed::Only(names) => {
                matcher = self.subset_matcher(names)?;
                &matcher
            }
        };
        if m.is_empty() {
            return ordinary(text, out);
        }
        for seg in m.split(text) {
            match seg {
                Segment::Text(t) => ordinary(t, out)?,
                Segment::Special(_, s) => out.push(self.special_id(s)?),
            }
        }
        Ok(())
    }

    pub fn encode(&self, text: &str, allowed: Allowed<'_>) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        self.encode_into(text, allowed, &mut out)?;
        Ok(out)
    }

    /// The first occurrence in `text` of one of the special tokens `names` (leftmost, longest).
    pub fn find_special<'t>(&self, text: &'t str, names: &[String]) -> Result<Option<&'t str>> {
        if names.is_empty() {
            return Ok(None);
        }
        let m = self.subset_matcher(names)?;
        Ok(m.find(text).map(|(_, s, e)| &text[s..e]))
    }

    fn special_id(&self, s: &str) -> Result<u32> {
        self.specials
            .iter()
            .find(|(name, _)| name == s)
            .map(|(_, id)| *id)
            .ok_or_else(|| Error::value(format!("{s:?} is not a special token")))
    }

    fn subset_matcher(&self, names: &[String]) -> Result<Arc<SpecialMatcher>> {
        let mut idx = Vec::with_capacity(names.len());
        for n in names {
            match self.specials.iter().position(|(s, _)| s == n) {
                Some(i) => idx.push(i),
                None => {
                    return Err(Error::value(format!(
                        "{n:?} is not a special token of this tokenizer"
                    )))
                }
            }
        }
        idx.sort_unstable();
        idx.dedup();
        let mut cache = self.subset_matchers.lock();
        if let Some(m) = cache.get(&idx) {
            return Ok(m.clone());
        }
        let tokens: Vec<String> = idx.iter().map(|&i| self.specials[i].0.clone()).collect();
        let m = Arc::new(SpecialMatcher::new(&tokens)?);
        if cache.len() > 64 {
            cache.clear();
        }
        cache.insert(idx, m.clone());
        Ok(m)
    }

    /// The bytes of one token.
    pub fn token_bytes(&self, id: u32) -> Result<&[u8]> {
        self.decoder
            .get(id as usize)
            .and_then(|b| b.as_deref())
            .ok_or(Error::UnknownId(id as i64))
    }

    /// Concatenated bytes of `ids`.
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            out.extend_from_slice(self.token_bytes(id)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::GPT2_PATTERN;

    fn bytes_vocab() -> Vec<(u32, Vec<u8>)> {
        (0..256u32).map(|b| (b, vec![b as u8])).collect()
    }

    /// Bytes plus "th" and "the", with these special tokens.
    fn the_tokenizer(specials: &[String]) -> Tokenizer {
        let mut vocab = bytes_vocab();
        vocab.push((256, b"th".to_vec()));
        vocab.push((257, b"the".to_vec()));
        let merges = vec![
            (b"t".to_vec(), b"h".to_vec()),
            (b"th".to_vec(), b"e".to_vec()),
        ];
        Tokenizer::from_vocab_merges(vocab, merges, specials, GPT2_PATTERN).unwrap()
    }

    #[test]
    fn cancellable_encode_equals_encode_and_stops_when_cancelled() {
        let tok = the_tokenizer(&["<|endoftext|>".to_string()]);
        // Several monitor checks' worth of text, with special tokens between documents.
        let text = "the other theme, then 42!<|endoftext|>\n".repeat(3 * CANCEL_CHECK_BYTES / 40);
        let monitor = Monitor::silent();
        for allowed in [Allowed::All, Allowed::None] {
            assert_eq!(
                tok.encode_cancellable(&text, allowed, &monitor).unwrap(),
                tok.encode(&text, allowed).unwrap()
            );
        }
        monitor.cancel();
        assert!(matches!(
            tok.encode_cancellable(&text, Allowed::All, &monitor),
            Err(Error::Interrupted)
        ));
    }

    #[test]
    fn cs336_vocab_merges_round_trip_and_specials() {
        let tok = the_tokenizer(&[
            "<|endoftext|>".to_string(),
            "<|endoftext|><|endoftext|>".to_string(),
        ]);
        assert_eq!(tok.n_vocab(), 260);
        let text = "the<|endoftext|><|endoftext|>the<|endoftext|>";
        let ids = tok.encode(text, Allowed::All).unwrap();
        assert_eq!(ids, vec![257, 259, 257, 258]);
        assert_eq!(tok.decode_bytes(&ids).unwrap(), text.as_bytes());
        let only = vec!["<|endoftext|>".to_string()];
        let ids = tok.encode(text, Allowed::Only(&only)).unwrap();
        assert_eq!(ids, vec![257, 258, 258, 257, 258]);
        assert!(matches!(tok.token_bytes(999), Err(Error::UnknownId(999))));
    }

    #[test]
    fn merge_outside_vocab_is_an_error() {
        let merges = vec![(b"t".to_vec(), b"h".to_vec())];
        let err = Tokenizer::from_vocab_merges(bytes_vocab(), merges, &[], GPT2_PATTERN);
        assert!(err.is_err());
    }
}
