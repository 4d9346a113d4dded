//! Hand-written scanner for tiktoken's `cl100k_base` pattern
//! `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`.
//!
//! One forward pass, no allocation, linear time: the same shape as `gpt2.rs` (which it shares
//! its character classes and UTF-8 decoding with). Why each rule gives exactly the regex's
//! match is argued in `README.md` beside this file ("cl100k_base").

use super::scan::{self, is_newline};
use super::unicode_class::{table, CharClass, ClassTable, ASCII_CLASS, NON_ASCII};

const LETTER: u8 = CharClass::Letter as u8;
const NUMBER: u8 = CharClass::Number as u8;
const SPACE: u8 = CharClass::Whitespace as u8;
const OTHER: u8 = CharClass::Other as u8;

/// The pieces of `text` under cl100k's pattern, in order; they concatenate to `text`.
pub struct Cl100kPieces<'t> {
    text: &'t str,
    pos: usize,
    table: &'static ClassTable,
}

impl<'t> Cl100kPieces<'t> {
    pub fn new(text: &'t str) -> Self {
        Cl100kPieces {
            text,
            pos: 0,
            table: table(),
        }
    }

    /// Class and byte length of the char starting at `i` (< len).
    #[inline(always)]
    fn class_at(&self, b: &[u8], i: usize) -> (u8, usize) {
        scan::class_at(&ASCII_CLASS, NON_ASCII, self.table, b, i)
    }

    /// End of the maximal run of chars of class `class` from byte `i` (possessive `++`).
    #[inline(always)]
    fn run_end(&self, b: &[u8], mut i: usize, class: u8) -> usize {
        while i < b.len() {
            let (c, len) = self.class_at(b, i);
            if c != class {
                break;
            }
            i += len;
        }
        i
    }

    /// `\p{N}{1,3}`.
    #[inline(always)]
    fn digits_end(&self, b: &[u8], start: usize, len0: usize) -> usize {
        scan::digits_end(b, start, len0, NUMBER, |b, i| self.class_at(b, i))
    }

    /// The whitespace alternatives from the whitespace char at `start` (of byte length `len0`):
    /// `\s++$` | `\s*[\r\n]` | `\s+(?!\S)` | `\s`.
    #[inline(never)]
    fn whitespace_end(&self, b: &[u8], start: usize, len0: usize) -> usize {
        let mut last = start; // start of the run's last char
        let mut newline_end = if is_newline(b[start]) { start + 1 } else { 0 };
        let mut i = start + len0;
        while i < b.len() {
            let (c, len) = self.class_at(b, i);
            if c != SPACE {
                break;
            }
            if is_newline(b[i]) {
                newline_end = i + 1;
            }
            last = i;
            i += len;
        }
        if i == b.len() {
            i // `\s++$`
        } else if newline_end != 0 {
            newline_end // `\s*[\r\n]`: up to and with the run's last \r or \n
        } else if last > start {
            last // `\s+(?!\S)`: all but the run's last char
        } else {
            i // `\s`
        }
    }

    /// End of the piece that starts at `start` (< len).
    #[inline(always)]
    fn piece_end(&self, b: &[u8], start: usize) -> usize {
        let (class, len0) = self.class_at(b, start);
        let next = start + len0;
        match class {
            LETTER => self.run_end(b, next, LETTER),
            NUMBER => self.digits_end(b, start, len0),
            OTHER => {
                if b[start] == b'\'' {
                    if let Some(end) = contraction_end(b, next) {
                        return end;
                    }
                }
                // `[^\r\n\p{L}\p{N}]?+\p{L}++`: an Other char takes the letters after it...
                if next < b.len() {
                    let (c1, len1) = self.class_at(b, next);
                    if c1 == LETTER {
                        return self.run_end(b, next + len1, LETTER);
                    }
                }
                // ...else ` ?[^\s\p{L}\p{N}]++[\r\n]*+` with no space.
                newlines_end(b, self.run_end(b, next, OTHER))
            }
            _ => {
                // Whitespace. All but \r and \n may lead letters (`[^\r\n\p{L}\p{N}]?+\p{L}++`);
                // a ' ' may lead an Other run (` ?[^\s\p{L}\p{N}]++[\r\n]*+`).
                if !is_newline(b[start]) && next < b.len() {
                    let (c1, len1) = self.class_at(b, next);
                    if c1 == LETTER {
                        return self.run_end(b, next + len1, LETTER);
                    }
                    if c1 == OTHER && b[start] == b' ' {
                        return newlines_end(b, self.run_end(b, next + len1, OTHER));
                    }
                }
                self.whitespace_end(b, start, len0)
            }
        }
    }
}

/// `[\r\n]*`: the end of the run of \r and \n from `i`.
#[inline(always)]
fn newlines_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_newline(b[i]) {
        i += 1;
    }
    i
}

/// After a `'` (at `i - 1`): the end of `(?i:[sdmt]|ll|ve|re)` matched at `i`, if it matches.
/// Case-insensitive is Unicode simple case folding: besides ASCII case, `s` also matches
/// U+017F LATIN SMALL LETTER LONG S (UTF-8 C5 BF); no other char folds to one of these letters
/// (`contraction_letters_are_the_regex_engines` checks it against regex-syntax).
#[inline(always)]
pub(super) fn contraction_end(b: &[u8], i: usize) -> Option<usize> {
    let c0 = *b.get(i)?;
    match c0 | 0x20 {
        b's' | b'd' | b'm' | b't' if c0.is_ascii_alphabetic() => return Some(i + 1),
        _ => {}
    }
    let c1 = *b.get(i + 1)?;
    if c0 == 0xC5 && c1 == 0xBF {
        return Some(i + 2); // ſ
    }
    if !(c0.is_ascii_alphabetic() && c1.is_ascii_alphabetic()) {
        return None;
    }
    match (c0 | 0x20, c1 | 0x20) {
        (b'l', b'l') | (b'v', b'e') | (b'r', b'e') => Some(i + 2),
        _ => None,
    }
}

impl<'t> Iterator for Cl100kPieces<'t> {
    type Item = &'t str;

    #[inline]
    fn next(&mut self) -> Option<&'t str> {
        let (piece, end) = scan::next_piece(self.text, self.pos, |b, s| self.piece_end(b, s))?;
        self.pos = end;
        Some(piece)
    }
}

#[cfg(test)]
#[path = "cl100k_tests.rs"]
mod tests;
