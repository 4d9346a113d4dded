//! The one rule for where a byte stream may be cut, for a pre-tokenization pattern and a set of
//! recognized special tokens, so that the pieces (and ids) of the parts, concatenated, are the
//! pieces of the whole. Training's chunker, `encode_file`, Python's `encode_iterable` and the
//! shard planner (`next_safe_cut`) all ask this module; the argument for each rule is in
//! `cut/README.md`.
//!
//! A position `p` is a **safe cut** when no occurrence of a recognized special token straddles it
//! (starts before `p`, ends after it) and either
//! * an occurrence of a special token starts at `p` (then the matcher itself starts a special
//!   token there, see the README), or
//! * the byte at `p` is ASCII whitespace (` \t\n\r\x0b\x0c`) and the character before it is not
//!   whitespace, and the pattern allows it: proved for GPT-2's pattern ([`CutRule::Gpt2`]);
//!   verified against the pattern on a window of [`VERIFY_RADIUS`] bytes each side for any other
//!   pattern ([`CutRule::Verified`], which also tries the second byte of a whitespace run, the
//!   `\n` of `\r\n`); never for a pattern that fails a probe ([`CutRule::SpecialOnly`]).
//!
//! **Locality.** Whether `p` is a safe cut is decided from the bytes in
//! `[p - context, p + context)` only ([`Cutter::context`]), never from where a scan started:
//! independent processes that cut one file agree on every boundary.

mod verify;

use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::error::{Error, Result};
use crate::pretokenize::Pretokenizer;

/// Bytes on each side of a candidate that [`CutRule::Verified`] pre-tokenizes to check it.
pub const VERIFY_RADIUS: usize = 256;

/// Where, besides special tokens, a stream may be cut.
#[derive(Clone, Debug)]
pub enum CutRule {
    /// GPT-2's pattern: before ASCII whitespace that follows a non-whitespace character (proved
    /// in `cut/README.md`).
    Gpt2,
    /// Another pattern: the same candidates, each checked against the pattern on a window.
    Verified(Arc<Pretokenizer>),
    /// Only before special tokens (the pattern's matches run across whitespace).
    SpecialOnly,
}

impl CutRule {
    /// `Gpt2` for GPT-2's pattern; `Verified` for a pattern that passes the probe in
    /// `verify::pattern_allows_cuts`; else `SpecialOnly` (still exact, but a file without special
    /// tokens is then one chunk).
    pub fn for_pattern(pretokenizer: &Pretokenizer) -> Self {
        if pretokenizer.is_gpt2() {
            CutRule::Gpt2
        } else if verify::pattern_allows_cuts(pretokenizer) {
            CutRule::Verified(Arc::new(pretokenizer.clone()))
        } else {
            CutRule::SpecialOnly
        }
    }

    fn uses_whitespace(&self) -> bool {
        !matches!(self, CutRule::SpecialOnly)
    }
}

/// Result of looking for a cut in a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// A safe cut at this index of the buffer.
    At(usize),
    /// Undecided: more bytes after the buffer are needed. Every position before `resume` is known
    /// not to be a cut, so a caller with more bytes may look again from there.
    NeedMore { resume: usize },
    /// No safe cut before the end of the input (the buffer reaches the end).
    End,
}

/// The bytes that may start a whitespace candidate: GPT-2's `\s` restricted to ASCII.
#[inline]
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Finds safe cuts (see the module docs). Cheap to clone; share one per input.
#[derive(Clone, Debug)]
pub struct Cutter {
    rule: CutRule,
    specials: Vec<Vec<u8>>,
    /// Leftmost-longest, as the special-token matcher (`special.rs`) decides.
    automaton: Option<AhoCorasick>,
    /// Every occurrence, overlapping ones included (for the straddle check).
    overlapping: Option<AhoCorasick>,
    max_special_len: usize,
}

impl Cutter {
    /// A cutter for these recognized special tokens (empty strings are ignored) and this rule.
    pub fn new(special_tokens: &[String], rule: CutRule) -> Result<Self> {
        let specials: Vec<Vec<u8>> = special_tokens
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| t.as_bytes().to_vec())
            .collect();
        let build = |kind: MatchKind| -> Result<Option<AhoCorasick>> {
            if specials.is_empty() {
                return Ok(None);
            }
            AhoCorasick::builder()
                .match_kind(kind)
                .build(&specials)
                .map(Some)
                .map_err(|e| Error::value(format!("cannot build special-token matcher: {e}")))
        };
        let automaton = build(MatchKind::LeftmostLongest)?;
        let overlapping = build(MatchKind::Standard)?;
        let max_special_len = specials.iter().map(|s| s.len()).max().unwrap_or(0);
        Ok(Cutter {
            rule,
            specials,
            automaton,
            overlapping,
            max_special_len,
        })
    }

    /// The cutter for `pretokenizer`'s pattern with these recognized special tokens.
    pub fn for_pretokenizer(
        special_tokens: &[String],
        pretokenizer: &Pretokenizer,
    ) -> Result<Self> {
        Cutter::new(special_tokens, CutRule::for_pattern(pretokenizer))
    }

    pub fn rule(&self) -> &CutRule {
        &self.rule
    }

    /// Bytes on each side of a position that deciding it may read: the longest special token,
    /// the character before it (4 bytes), and the verification window for user patterns.
    pub fn context(&self) -> usize {
        let verify = match self.rule {
            CutRule::Verified(_) => VERIFY_RADIUS,
            _ => 0,
        };
        self.max_special_len.max(4).max(verify)
    }

    /// Bytes after `p` that deciding `p` reads (at most `context()`).
    fn lookahead(&self) -> usize {
        match self.rule {
            CutRule::Verified(_) => self.max_special_len.max(VERIFY_RADIUS),
            _ => self.max_special_len,
        }
    }

    /// Whether some special-token occurrence starts before `p` and ends after it.
    /// Bytes before `lo` are not looked at (the caller knows `lo` is a safe cut, so no occurrence
    /// that straddles `p` can start before it).
    /// One overlapping scan of the `2 * longest - 2` bytes around `p` (not one comparison per
    /// token: a tokenizer may have 20,000 special tokens).
    fn straddled(&self, buf: &[u8], lo: usize, p: usize) -> bool {
        let Some(ac) = &self.overlapping else {
            return false;
        };
        let a = p.saturating_sub(self.max_special_len - 1).max(lo);
        let b = p.saturating_add(self.max_special_len - 1).min(buf.len());
        if a >= p || b <= p {
            return false;
        }
        let mut state = aho_corasick::automaton::OverlappingState::start();
        let input = aho_corasick::Input::new(&buf[a..b]);
        loop {
            ac.find_overlapping(input.clone(), &mut state);
            match state.get_match() {
                None => return false,
                Some(m) if a + m.start() < p && a + m.end() > p => return true,
                Some(_) => {}
            }
        }
    }

    /// Whether the character that ends at `p` (exclusive) is valid UTF-8 and not whitespace.
    fn non_space_before(buf: &[u8], lo: usize, p: usize) -> bool {
        let start = p.saturating_sub(4).max(lo);
        let Some(lead) = (start..p).rev().find(|&i| (buf[i] & 0xC0) != 0x80) else {
            return false;
        };
        match std::str::from_utf8(&buf[lead..p]) {
            Ok(s) => s.chars().next().is_some_and(|c| !c.is_whitespace()),
            Err(_) => false, // invalid UTF-8 before the candidate: not a cut
        }
    }

    /// Finds the first safe cut `p` with `from <= p` and `lo < p` in `buf`, reading no byte before
    /// `lo` (`buf[lo]` must be the start of the input or a safe cut). `eof` says whether `buf`
    /// reaches the end of the input; when it does not, a candidate whose decision needs bytes after
    /// `buf` yields `NeedMore`, as does having found no cut.
    pub fn find_cut(&self, buf: &[u8], lo: usize, from: usize, eof: bool) -> Cut {
        let from = from.min(buf.len());
        let ahead = self.lookahead();
        let next_ws = |at: usize| -> Option<usize> {
            if !self.rule.uses_whitespace() {
                return None;
            }
            buf[at..]
                .iter()
                .position(|&b| is_ascii_space(b))
                .map(|i| at + i)
        };
        // Every special-token occurrence at or after `from` that no other occurrence straddles is
        // reported by a leftmost-longest scan from `from` (README, "Finding candidates").
        let mut specials = self
            .automaton
            .as_ref()
            .map(|ac| ac.find_iter(aho_corasick::Input::new(buf).range(from..)));
        let mut next_special = specials
            .as_mut()
            .and_then(|it| it.next())
            .map(|m| m.start());
        let mut next_space = next_ws(from);
        loop {
            let (p, is_special) = match (next_space, next_special) {
                (None, None) => {
                    return if eof {
                        Cut::End
                    } else {
                        Cut::NeedMore {
                            resume: buf.len().saturating_sub(ahead).max(from),
                        }
                    }
                }
                (Some(n), None) => (n, false),
                (None, Some(s)) => (s, true),
                (Some(n), Some(s)) if s <= n => (s, true),
                (Some(n), Some(_)) => (n, false),
            };
            if !eof && p + ahead > buf.len() {
                return Cut::NeedMore { resume: p };
            }
            if p > lo && self.is_cut_candidate(buf, lo, p, is_special) {
                return Cut::At(p);
            }
            if is_special {
                next_special = specials
                    .as_mut()
                    .and_then(|it| it.next())
                    .map(|m| m.start());
            }
            if Some(p) == next_space {
                next_space = next_ws(p + 1);
            }
        }
    }

    /// Whether `p` (with `lo < p < buf.len()`) is a safe cut, `buf` holding its lookahead (or
    /// reaching the end of the input). The single-position form of [`Cutter::find_cut`].
    pub fn is_cut(&self, buf: &[u8], lo: usize, p: usize) -> bool {
        if p <= lo || p >= buf.len() {
            return false;
        }
        let is_special = self.specials.iter().any(|t| buf[p..].starts_with(t));
        let is_space = self.rule.uses_whitespace() && is_ascii_space(buf[p]);
        (is_special || is_space) && self.is_cut_candidate(buf, lo, p, is_special)
    }

    /// The last safe cut `p > lo` of `buf` whose decision `buf` holds (all of `buf` when `eof`):
    /// candidates are tried from the end backwards, in tails that double, so the cost is linear
    /// in the bytes behind the cut (`encode_iterable` keeps only what follows it).
    pub fn last_cut(&self, buf: &[u8], lo: usize, eof: bool) -> Option<usize> {
        let hi = if eof {
            buf.len()
        } else {
            buf.len().checked_sub(self.lookahead())?
        };
        let mut end = hi; // candidates in [from, end] are still to be tried
        let mut tail = 4096usize;
        loop {
            let from = end.saturating_sub(tail).max(lo + 1);
            if from > end {
                return None;
            }
            let mut starts: Vec<usize> = match &self.automaton {
                Some(ac) => ac
                    .find_iter(aho_corasick::Input::new(buf).range(from..))
                    .map(|m| m.start())
                    .take_while(|&s| s <= end)
                    .collect(),
                None => Vec::new(),
            };
            let spaces = self.rule.uses_whitespace();
            for p in (from..=end).rev() {
                let is_special = starts.last() == Some(&p);
                if is_special {
                    starts.pop();
                } else if !(spaces && p < buf.len() && is_ascii_space(buf[p])) {
                    continue;
                }
                if self.is_cut_candidate(buf, lo, p, is_special) {
                    return Some(p);
                }
            }
            if from == lo + 1 {
                return None;
            }
            end = from - 1;
            tail = tail.saturating_mul(2);
        }
    }

    /// Decides a candidate (a special-token start, or else an ASCII whitespace byte) whose
    /// lookahead is in `buf` (or `buf` reaches the end of the input).
    /// Cheap checks first: the character before, then straddling, then the pattern.
    fn is_cut_candidate(&self, buf: &[u8], lo: usize, p: usize, is_special: bool) -> bool {
        if is_special {
            return !self.straddled(buf, lo, p);
        }
        let after_non_space = Cutter::non_space_before(buf, lo, p);
        match &self.rule {
            CutRule::Gpt2 => after_non_space && !self.straddled(buf, lo, p),
            // Also the second byte of a whitespace run (the `\n` of `\r\n`), since patterns such
            // as `\w+\r?` take the `\r` with the word; at most two candidates per run keep the
            // verification cost bounded in long runs.
            CutRule::Verified(pretok) => {
                (after_non_space
                    || (p >= lo + 2
                        && is_ascii_space(buf[p - 1])
                        && Cutter::non_space_before(buf, lo, p - 1)))
                    && !self.straddled(buf, lo, p)
                    && verify::cut_keeps_pieces(self, pretok, buf, lo, p)
            }
            CutRule::SpecialOnly => false,
        }
    }

    /// Splits `text` into the segments the special-token matcher makes: (is_special, bytes).
    fn segments<'t>(&self, text: &'t [u8]) -> Vec<(bool, &'t [u8])> {
        let mut out = Vec::new();
        let mut pos = 0;
        if let Some(ac) = &self.automaton {
            for m in ac.find_iter(text) {
                if m.start() > pos {
                    out.push((false, &text[pos..m.start()]));
                }
                out.push((true, &text[m.start()..m.end()]));
                pos = m.end();
            }
        }
        if pos < text.len() {
            out.push((false, &text[pos..]));
        }
        out
    }
}

/// Splits an in-memory text into pieces of about `chunk_size` bytes at safe cuts (for parallel
/// work on one long string). The pieces concatenate to `text`.
pub fn split_str<'t>(cutter: &Cutter, text: &'t str, chunk_size: usize) -> Vec<&'t str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let from = start.saturating_add(chunk_size.max(1));
        let end = if from >= bytes.len() {
            bytes.len()
        } else {
            match cutter.find_cut(bytes, start, from, true) {
                Cut::At(p) => p,
                _ => bytes.len(),
            }
        };
        // Cuts are at ASCII bytes or a special token's first byte: char boundaries of a &str.
        match text.get(start..end) {
            Some(piece) => out.push(piece),
            None => {
                out.push(&text[start..]);
                break;
            }
        }
        start = end;
    }
    out
}

/// The first safe cut at or after `start` in `data`, a window of some longer stream, deciding
/// each position from `data` alone (the shard planner's question; see `/work/coord/cut-api.md`).
///
/// Positions closer than [`Cutter::context`] to the start of `data` are not decided (the bytes
/// before them are unknown) unless `stream_start` says `data` begins the stream; positions whose
/// lookahead passes the end of `data` are undecided unless `stream_end` says `data` ends the
/// stream, in which case `data.len()` is returned when nothing earlier is a cut.
/// `None`: undecided within `data`.
pub fn next_safe_cut(
    cutter: &Cutter,
    data: &[u8],
    start: usize,
    stream_start: bool,
    stream_end: bool,
) -> Option<usize> {
    if start > data.len() {
        return None;
    }
    if stream_start && start == 0 {
        return Some(0);
    }
    let from = if stream_start {
        start
    } else {
        start.max(cutter.context())
    };
    if from > data.len() {
        return None;
    }
    if stream_end && from == data.len() {
        return Some(from);
    }
    match cutter.find_cut(data, 0, from, stream_end) {
        Cut::At(p) => Some(p),
        Cut::End => Some(data.len()),
        Cut::NeedMore { .. } => None,
    }
}

#[cfg(test)]
mod tests;
