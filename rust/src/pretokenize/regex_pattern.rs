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
