//! tiktoken's `encode_with_unstable`: the ids of the part of a text that more text cannot change,
//! and every id sequence the rest might become once more text follows (for completion-style
//! prompting: the model continues from the stable ids, constrained to one of the completions).
//!
//! Same rules as tiktoken, so the results are the same sets:
//! - The unstable part is the last pre-tokenized piece (nothing, if the text ends with a special
//!   token), widened backwards over tokens made only of spaces, newlines and tabs.
//! - Completions: every ranked token that starts with the unstable bytes; for every split of the
//!   unstable bytes into a kept prefix and a suffix, every ranked token starting with the suffix,
//!   appended to the prefix and encoded again, cut after the tokens that cover the unstable bytes;
//!   and, when the unstable bytes end in whitespace, the split GPT-2's `\s+(?!\S)` would make.
//!
//! Completions come back sorted (tiktoken returns them in hash-set order).

use std::collections::BTreeSet;

use super::{Allowed, Tokenizer};
use crate::error::Result;

impl Tokenizer {
    /// (stable ids, possible completions of the rest); see the module comment.
    pub fn encode_with_unstable(
        &self,
        text: &str,
        allowed: Allowed<'_>,
    ) -> Result<(Vec<u32>, Vec<Vec<u32>>)> {
        let (mut ids, last_piece) = self.encode_with_last_piece(text, allowed)?;
        if last_piece == 0 {
            return Ok((ids, Vec::new()));
        }
        let split = ids.len() - self.widen_over_whitespace(&ids, last_piece);
        let unstable = self.decode_bytes(&ids[split..])?;
        ids.truncate(split);

        let mut completions = BTreeSet::new();
        for (_, id) in self.tokens_starting_with(&unstable) {
            completions.insert(vec![*id]);
        }
        for keep in 1..unstable.len() {
            let (prefix, suffix) = unstable.split_at(keep);
            for (bytes, _) in self.tokens_starting_with(suffix) {
                let candidate = [prefix, bytes].concat();
                let encoded = match std::str::from_utf8(&candidate) {
                    // Pre-tokenize again: the longer text may split where the shorter did not.
                    Ok(s) => self.encode_ordinary(s)?,
                    Err(_) => self.encode_bytes_as_one_piece(&candidate),
                };
                completions.insert(self.covering(encoded, unstable.len())?);
            }
        }
        if unstable.len() > 1 {
            if let Some(n) = trailing_whitespace_char_len(&unstable) {
                if n < unstable.len() {
                    let (head, tail) = unstable.split_at(unstable.len() - n);
                    let mut split_ids = self.encode_bytes_as_one_piece(head);
                    split_ids.extend(self.encode_bytes_as_one_piece(tail));
                    completions.insert(split_ids);
                }
            }
        }
        Ok((ids, completions.into_iter().collect()))
    }

    /// `encode`, plus how many of the ids came from the last pre-tokenized piece (0 when the
    /// text is empty or ends with a special token).
    fn encode_with_last_piece(
        &self,
        text: &str,
        allowed: Allowed<'_>,
    ) -> Result<(Vec<u32>, usize)> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        // (where the last piece's ids end, how many there are)
        let mut last = (0usize, 0usize);
        self.encode_segments(text, allowed, &mut out, |t, out| {
            self.pretok.for_each_piece(t, |piece| {
                let start = out.len();
                self.bpe.encode_piece(piece.as_bytes(), out);
                last = (out.len(), out.len() - start);
            })
        })?;
        // A special token after the last piece leaves nothing unstable.
        let last_piece = if last.0 == out.len() { last.1 } else { 0 };
        Ok((out, last_piece))
    }

    /// Widens the unstable tail backwards over whitespace-only tokens: a piece boundary between
    /// whitespace runs can disappear when more text follows.
    fn widen_over_whitespace(&self, ids: &[u32], mut tail: usize) -> usize {
        let all_space = |id: u32| {
            !self.specials.iter().any(|(_, s)| *s == id)
                && self
                    .token_bytes(id)
                    .is_ok_and(|b| b.iter().all(|c| matches!(c, b' ' | b'\n' | b'\t')))
        };
        if tail > 0 && all_space(ids[ids.len() - tail]) {
            while tail < ids.len() && all_space(ids[ids.len() - tail - 1]) {
                tail += 1;
            }
        }
        tail
    }

    /// BPE of `bytes` as a single piece, without pre-tokenizing.
    fn encode_bytes_as_one_piece(&self, bytes: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        self.bpe.encode_piece(bytes, &mut out);
        out
    }

    /// The shortest prefix of `ids` whose bytes reach `len` bytes (all of them if none does).
    fn covering(&self, ids: Vec<u32>, len: usize) -> Result<Vec<u32>> {
        let mut covered = 0;
        let mut out = Vec::new();
        for id in ids {
            out.push(id);
            covered += self.token_bytes(id)?.len();
            if covered >= len {
                break;
            }
        }
        Ok(out)
    }

    /// Ranked tokens whose bytes start with `prefix`, in byte order.
    fn tokens_starting_with<'a>(
        &'a self,
        prefix: &'a [u8],
    ) -> impl Iterator<Item = &'a (Box<[u8]>, u32)> {
        let sorted = self.sorted_tokens.get_or_init(|| {
            let mut v: Vec<(Box<[u8]>, u32)> = self
                .ranked
                .iter()
                .map(|t| (t.bytes.clone().into_boxed_slice(), t.id))
                .collect();
            v.sort_unstable();
            v
        });
        let from = sorted.partition_point(|(b, _)| b.as_ref() < prefix);
        sorted[from..]
            .iter()
            .take_while(move |(b, _)| b.starts_with(prefix))
    }
}

/// The byte length of the last character of `bytes` if it is valid UTF-8 and whitespace.
fn trailing_whitespace_char_len(bytes: &[u8]) -> Option<usize> {
    // A character is 1 to 4 bytes; the shortest valid tail is the last character.
    let last = (1..=bytes.len().min(4))
        .find_map(|n| std::str::from_utf8(&bytes[bytes.len() - n..]).ok())?
        .chars()
        .next()?;
    last.is_whitespace().then_some(last.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::trailing_whitespace_char_len;

    #[test]
    fn last_whitespace_character() {
        assert_eq!(trailing_whitespace_char_len(b"ab "), Some(1));
        assert_eq!(
            trailing_whitespace_char_len("a\u{3000}".as_bytes()),
            Some(3)
        );
        assert_eq!(trailing_whitespace_char_len(b"ab"), None);
        assert_eq!(trailing_whitespace_char_len(b" b"), None);
        assert_eq!(trailing_whitespace_char_len("a\u{e9}".as_bytes()), None);
        assert_eq!(trailing_whitespace_char_len(b"a\xff"), None);
        assert_eq!(trailing_whitespace_char_len(b""), None);
    }
}
