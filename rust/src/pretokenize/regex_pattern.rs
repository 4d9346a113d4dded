//! User patterns (and the GPT-2 scanner's test oracle) on fancy-regex.

use fancy_regex::Regex;

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct RegexSplitter {
    regex: Regex,
}

impl RegexSplitter {
    pub fn new(pattern: &str) -> Result<Self> {
        let regex = fancy_regex::RegexBuilder::new(pattern)
            // tiktoken's default backtrack limit is too small for hostile inputs; a large limit keeps
            // user patterns working and still turns catastrophic backtracking into an error.
            .backtrack_limit(10_000_000)
            .build()
            .map_err(|e| {
                Error::value(format!("invalid pre-tokenization pattern {pattern:?}: {e}"))
            })?;
        // A pattern that can match the empty string drops text (`""` made encode return []):
        // refuse it here, the one place every user pattern passes. A probe that hits the
        // backtrack limit is no evidence either way and is ignored.
        const PROBES: [&str; 8] = ["", " ", "a", "1", "\n", "a b\r\n1.", "é", "'s"];
        let matches_empty = |t: &str| {
            regex
                .find_iter(t)
                .any(|m| m.is_ok_and(|m| m.as_str().is_empty()))
        };
        if PROBES.iter().any(|t| matches_empty(t)) {
            return Err(Error::value(format!(
                "pre-tokenization pattern {pattern:?} can match the empty string; \
                 every match must consume at least one character"
            )));
        }
        Ok(RegexSplitter { regex })
    }

    pub fn pattern(&self) -> &str {
        self.regex.as_str()
    }

    pub fn for_each_piece<'t, F: FnMut(&'t str)>(&self, text: &'t str, mut f: F) -> Result<()> {
        for m in self.regex.find_iter(text) {
            let m = m.map_err(|e| Error::value(format!("pre-tokenization pattern failed: {e}")))?;
            if !m.as_str().is_empty() {
                f(m.as_str());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::RegexSplitter;

    #[test]
    fn patterns_that_match_the_empty_string_are_refused() {
        for p in ["", "a*", r"\b", "x?", "(?=a)", r"\w*|\s+"] {
            let err = RegexSplitter::new(p).unwrap_err().to_string();
            assert!(err.contains("empty string"), "{p:?}: {err}");
        }
        for p in [
            super::super::GPT2_PATTERN,
            r"\w+|\s+|[^\w\s]+",
            r"\p{N}{1,3}|.",
        ] {
            assert!(RegexSplitter::new(p).is_ok(), "{p:?}");
        }
    }
}
