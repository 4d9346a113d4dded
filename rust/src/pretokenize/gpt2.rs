//! Placeholder scanner that delegates to fancy-regex until the hand-written scanner lands.

use std::sync::OnceLock;

use super::regex_pattern::RegexSplitter;
use super::GPT2_PATTERN;

pub struct Gpt2Pieces<'t> {
    pieces: std::vec::IntoIter<&'t str>,
}

impl<'t> Gpt2Pieces<'t> {
    pub fn new(text: &'t str) -> Self {
        static RE: OnceLock<RegexSplitter> = OnceLock::new();
        let re = RE.get_or_init(|| RegexSplitter::new(GPT2_PATTERN).expect("valid pattern"));
        let mut v = Vec::new();
        let _ = re.for_each_piece(text, |p| v.push(p));
        Gpt2Pieces {
            pieces: v.into_iter(),
        }
    }
}

impl<'t> Iterator for Gpt2Pieces<'t> {
    type Item = &'t str;
    fn next(&mut self) -> Option<&'t str> {
        self.pieces.next()
    }
}
