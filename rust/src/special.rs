//! Special tokens: found before pre-tokenization, longest first when one is a prefix of another,
//! never merged with neighbouring text.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::error::{Error, Result};

/// Which special tokens are recognized in text; the rest of the text is encoded as ordinary text.
/// The one policy type of every entry point (`Tokenizer::encode*`, `encode_file`, the Python
/// bindings); [`Allowed`] is its borrowed form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SpecialPolicy {
    /// Every special token of the tokenizer.
    #[default]
    All,
    /// None: special-token text is ordinary text.
    None,
    /// Exactly these (each must be a special token of the tokenizer).
    Only(Vec<String>),
}

impl SpecialPolicy {
    /// `Only(names)`, or `None` when `names` is empty (an empty list recognizes nothing).
    pub fn only(names: Vec<String>) -> Self {
        if names.is_empty() {
            SpecialPolicy::None
        } else {
            SpecialPolicy::Only(names)
        }
    }

    /// The borrowed form that the encoder takes (no copy of the names per call).
    pub fn as_allowed(&self) -> Allowed<'_> {
        match self {
            SpecialPolicy::All => Allowed::All,
            SpecialPolicy::None => Allowed::None,
            SpecialPolicy::Only(names) if names.is_empty() => Allowed::None,
            SpecialPolicy::Only(names) => Allowed::Only(names),
        }
    }
}

/// A [`SpecialPolicy`] borrowed for one call (not a second policy: the same three cases, with the
/// names borrowed, so a hot encode loop copies nothing).
#[derive(Debug, Clone, Copy)]
pub enum Allowed<'a> {
    All,
    None,
    Only(&'a [String]),
}

/// A piece of input: ordinary text, or one occurrence of special token number `index`
/// (its position in the list the matcher was built from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'t> {
    Text(&'t str),
    Special(usize, &'t str),
}

#[derive(Debug, Clone)]
pub struct SpecialMatcher {
    tokens: Vec<String>,
    automaton: Option<AhoCorasick>,
}

impl SpecialMatcher {
    /// Builds a matcher; empty and duplicate tokens are errors (they have no sensible meaning).
    pub fn new(tokens: &[String]) -> Result<Self> {
        for (i, t) in tokens.iter().enumerate() {
            if t.is_empty() {
                return Err(Error::value("special tokens must not be empty strings"));
            }
            if tokens[..i].contains(t) {
                return Err(Error::value(format!("duplicate special token {t:?}")));
            }
        }
        let automaton = if tokens.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(tokens)
                    .map_err(|e| {
                        Error::value(format!("cannot build special-token matcher: {e}"))
                    })?,
            )
        };
        Ok(SpecialMatcher {
            tokens: tokens.to_vec(),
            automaton,
        })
    }

    pub fn empty() -> Self {
        SpecialMatcher {
            tokens: Vec::new(),
            automaton: None,
        }
    }

    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Length in bytes of the longest special token (0 when there are none).
    pub fn max_len(&self) -> usize {
        self.tokens.iter().map(|t| t.len()).max().unwrap_or(0)
    }

    /// The first special token in `text` (leftmost, longest there): (index, start, end).
    pub fn find(&self, text: &str) -> Option<(usize, usize, usize)> {
        let m = self.automaton.as_ref()?.find(text)?;
        Some((m.pattern().as_usize(), m.start(), m.end()))
    }

    /// Splits `text` into text and special-token segments, in order. Empty text segments are skipped.
    pub fn split<'a, 't>(&'a self, text: &'t str) -> Segments<'a, 't> {
        Segments {
            matcher: self,
            text,
            pos: 0,
            pending: None,
        }
    }
}

pub struct Segments<'a, 't> {
    matcher: &'a SpecialMatcher,
    text: &'t str,
    pos: usize,
    pending: Option<(usize, usize, usize)>,
}

impl<'t> Iterator for Segments<'_, 't> {
    type Item = Segment<'t>;

    fn next(&mut self) -> Option<Segment<'t>> {
        loop {
            if let Some((idx, start, end)) = self.pending.take() {
                self.pos = end;
                return Some(Segment::Special(idx, &self.text[start..end]));
            }
            if self.pos >= self.text.len() {
                return None;
            }
            let rest = &self.text[self.pos..];
            match self.matcher.find(rest) {
                Some((idx, s, e)) => {
                    let (start, end) = (self.pos + s, self.pos + e);
                    self.pending = Some((idx, start, end));
                    if s > 0 {
                        let seg = &self.text[self.pos..start];
                        self.pos = start;
                        return Some(Segment::Text(seg));
                    }
                }
                None => {
                    self.pos = self.text.len();
                    return Some(Segment::Text(rest));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn longest_special_wins_when_one_is_a_prefix() {
        let m =
            SpecialMatcher::new(&toks(&["<|endoftext|>", "<|endoftext|><|endoftext|>"])).unwrap();
        let segs: Vec<_> = m
            .split("a<|endoftext|><|endoftext|>b<|endoftext|>")
            .collect();
        assert_eq!(
            segs,
            vec![
                Segment::Text("a"),
                Segment::Special(1, "<|endoftext|><|endoftext|>"),
                Segment::Text("b"),
                Segment::Special(0, "<|endoftext|>"),
            ]
        );
    }

    #[test]
    fn no_specials_gives_whole_text() {
        let m = SpecialMatcher::empty();
        assert_eq!(
            m.split("abc").collect::<Vec<_>>(),
            vec![Segment::Text("abc")]
        );
        assert_eq!(m.split("").count(), 0);
    }

    #[test]
    fn empty_and_duplicate_tokens_are_errors() {
        assert!(SpecialMatcher::new(&toks(&[""])).is_err());
        assert!(SpecialMatcher::new(&toks(&["<a>", "<a>"])).is_err());
    }
}
