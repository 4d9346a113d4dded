//! Pre-tokenization: splitting text into pieces that BPE never merges across.
//!
//! The GPT-2 pattern (the default), cl100k_base's and o200k_base's run on hand-written scanners
//! (`gpt2`, `cl100k`, `o200k`) that reproduce the regex exactly; any other pattern runs on
//! fancy-regex (`regex_pattern`), which is also the scanners' test oracle.

pub mod cl100k;
pub mod gpt2;
pub mod o200k;
pub mod regex_pattern;
mod scan;
pub mod unicode_class;

use crate::error::Result;

/// tiktoken's `r50k_base`/`gpt2` pattern, possessive form (what tiktoken ships).
pub const GPT2_PATTERN: &str =
    r"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s";

/// The classic (non-possessive) spelling of the same pattern, as in GPT-2's `encoder.py`; it has the
/// same matches, so it also selects the scanner.
pub const GPT2_PATTERN_CLASSIC: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// tiktoken's `cl100k_base` pattern, exactly as tiktoken ships it.
pub const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

/// tiktoken's `o200k_base` (and `o200k_harmony`) pattern, exactly as tiktoken ships it (its
/// alternatives joined with `|`).
pub const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|",
    r"\p{N}{1,3}|",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*|",
    r"\s*[\r\n]+|",
    r"\s+(?!\S)|",
    r"\s+",
);

#[derive(Debug)]
pub enum Pretokenizer {
    /// The GPT-2 pattern, by the hand-written scanner.
    Gpt2,
    /// cl100k_base's pattern, by its hand-written scanner.
    Cl100k,
    /// o200k_base's pattern, by its hand-written scanner.
    O200k,
    /// Any other pattern, by fancy-regex.
    Regex(regex_pattern::RegexSplitter),
}

impl Pretokenizer {
    pub fn gpt2() -> Self {
        Pretokenizer::Gpt2
    }

    /// Picks the scanner for GPT-2's pattern (either spelling) or cl100k's, fancy-regex for
    /// anything else.
    pub fn from_pattern(pattern: &str) -> Result<Self> {
        if pattern == GPT2_PATTERN || pattern == GPT2_PATTERN_CLASSIC {
            Ok(Pretokenizer::Gpt2)
        } else if pattern == CL100K_PATTERN {
            Ok(Pretokenizer::Cl100k)
        } else if pattern == O200K_PATTERN {
            Ok(Pretokenizer::O200k)
        } else {
            Ok(Pretokenizer::Regex(regex_pattern::RegexSplitter::new(
                pattern,
            )?))
        }
    }

    /// The pattern this pre-tokenizer implements (saved in tokenizer files).
    pub fn pattern(&self) -> &str {
        match self {
            Pretokenizer::Gpt2 => GPT2_PATTERN,
            Pretokenizer::Cl100k => CL100K_PATTERN,
            Pretokenizer::O200k => O200K_PATTERN,
            Pretokenizer::Regex(r) => r.pattern(),
        }
    }

    pub fn is_gpt2(&self) -> bool {
        matches!(self, Pretokenizer::Gpt2)
    }

    /// Calls `f` with each piece of `text`, in order; the pieces concatenate to `text`
    /// (GPT-2's pattern matches every character; for other patterns, unmatched text is skipped,
    /// as with `re.findall`).
    pub fn for_each_piece<'t, F: FnMut(&'t str)>(&self, text: &'t str, mut f: F) -> Result<()> {
        match self {
            Pretokenizer::Gpt2 => {
                for piece in gpt2::Gpt2Pieces::new(text) {
                    f(piece);
                }
                Ok(())
            }
            Pretokenizer::Cl100k => {
                for piece in cl100k::Cl100kPieces::new(text) {
                    f(piece);
                }
                Ok(())
            }
            Pretokenizer::O200k => {
                for piece in o200k::O200kPieces::new(text) {
                    f(piece);
                }
                Ok(())
            }
            Pretokenizer::Regex(r) => r.for_each_piece(text, f),
        }
    }

    /// All pieces of `text` (tests and small inputs; hot paths use `for_each_piece`).
    pub fn pieces<'t>(&self, text: &'t str) -> Result<Vec<&'t str>> {
        let mut out = Vec::new();
        self.for_each_piece(text, |p| out.push(p))?;
        Ok(out)
    }
}

impl Clone for Pretokenizer {
    fn clone(&self) -> Self {
        match self {
            Pretokenizer::Gpt2 => Pretokenizer::Gpt2,
            Pretokenizer::Cl100k => Pretokenizer::Cl100k,
            Pretokenizer::O200k => Pretokenizer::O200k,
            Pretokenizer::Regex(r) => Pretokenizer::Regex(r.clone()),
        }
    }
}
