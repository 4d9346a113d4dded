//! Hand-written scanner for tiktoken's `o200k_base` pattern (`O200K_PATTERN` in `mod.rs`):
//! two case-aware letter alternatives with an optional contraction suffix, `\p{N}{1,3}`,
//! ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
//!
//! One forward pass, no allocation, linear time, the same shape as `cl100k.rs` (whose
//! contraction matcher it shares; the suffix letters are the same). Its own class table splits
//! letters by case and keeps marks apart. Why each rule gives exactly the regex's match is argued
//! in `README.md` beside this file ("o200k_base").

use super::cl100k::contraction_end;
use super::gpt2::decode;
use super::scan::{self, is_newline};
use super::unicode_class::ClassTable;
use crate::fork_safe::RaceOnce;

/// The classes the pattern tells apart, as the tables store them. The first four are the
/// letter-like chars, `\p{L}` and `\p{M}`; both of the pattern's letter sets hold `CASELESS`
/// and `MARK`, the "upper" set also `UPPER`, the "lower" set also `LOWER`.
pub const UPPER: u8 = 0; // \p{Lu}, \p{Lt}
pub const LOWER: u8 = 1; // \p{Ll}
pub const CASELESS: u8 = 2; // \p{Lm}, \p{Lo}
pub const MARK: u8 = 3; // \p{M}: in both letter sets, but not in \p{L}
pub const NUMBER: u8 = 4; // \p{N}
pub const SPACE: u8 = 5; // \s
pub const OTHER: u8 = 6; // everything else
const NON_ASCII: u8 = 7; // in the byte table: decode and look up

/// The Unicode classes behind each class byte, exactly as the pattern spells them.
pub const CLASSES: [(u8, &str); 8] = [
    (UPPER, r"\p{Lu}"),
    (UPPER, r"\p{Lt}"),
    (LOWER, r"\p{Ll}"),
    (CASELESS, r"\p{Lm}"),
    (CASELESS, r"\p{Lo}"),
    (MARK, r"\p{M}"),
    (NUMBER, r"\p{N}"),
    (SPACE, r"\s"),
];

/// The class table for all code points, built on first use from regex-syntax's ranges (the
/// tables fancy-regex compiles the pattern with), as `unicode_class::table` is.
pub fn table() -> &'static ClassTable {
    static TABLE: RaceOnce<ClassTable> = RaceOnce::new();
    TABLE.get_or_init(|| ClassTable::from_classes(&CLASSES, OTHER))
}

/// Class of each ASCII byte; `NON_ASCII` for bytes >= 0x80.
static ASCII: [u8; 256] = {
    let mut t = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_lowercase() {
            LOWER
        } else if c.is_ascii_digit() {
            NUMBER
        } else if matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
            SPACE
        } else {
            OTHER
        };
        b += 1;
    }
    t
};

/// In `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`, the "lower" letter set.
#[inline(always)]
fn in_lower_set(c: u8) -> bool {
    c.wrapping_sub(LOWER) <= MARK - LOWER
}

/// The pieces of `text` under o200k's pattern, in order; they concatenate to `text`.
pub struct O200kPieces<'t> {
    text: &'t str,
    pos: usize,
    table: &'static ClassTable,
}

impl<'t> O200kPieces<'t> {
    pub fn new(text: &'t str) -> Self {
        O200kPieces {
            text,
            pos: 0,
            table: table(),
        }
    }

    /// Class and byte length of the char starting at `i` (< len).
    #[inline(always)]
    fn class_at(&self, b: &[u8], i: usize) -> (u8, usize) {
        scan::class_at(&ASCII, NON_ASCII, self.table, b, i)
    }

    /// End of the run from `i` of chars whose class passes `keep`.
    #[inline(always)]
    fn run_end(&self, b: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
        while i < b.len() {
            let (c, len) = self.class_at(b, i);
            if !keep(c) {
                break;
            }
            i += len;
        }
        i
    }

    /// End of the run of lower-set chars from `i`. ASCII lowercase letters, most of any text,
    /// are tested on the byte itself.
    #[inline(always)]
    fn lower_run_end(&self, b: &[u8], mut i: usize) -> usize {
        loop {
            while i < b.len() && b[i].is_ascii_lowercase() {
                i += 1;
            }
            if i >= b.len() || b[i] < 0x80 {
                return i;
            }
            let (cp, len) = decode(b, i);
            if !in_lower_set(self.table.class_u32(cp)) {
                return i;
            }
            i += len;
        }
    }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` at `s` (the first letter
    /// alternative without its prefix and suffix): `Ok(end)` if it matches, else `Err(e)` with
    /// `e` the end of the upper-set run from `s` (where the second alternative's `+` ends).
    #[inline(always)]
    fn cased_letters(&self, b: &[u8], s: usize) -> Result<usize, usize> {
        if s < b.len() && b[s].is_ascii_lowercase() {
            return Ok(self.lower_run_end(b, s + 1)); // the common case, without the loop below
        }
        let mut i = s;
        let mut both_end = None; // end of the run's last char that is in both sets
        while i < b.len() {
            let (c, len) = self.class_at(b, i);
            if c == LOWER {
                // The upper-set run ends at a lower-only letter: the lower run takes it and more.
                return Ok(self.lower_run_end(b, i + len));
            }
            if c > MARK {
                break;
            }
            i += len;
            if c != UPPER {
                both_end = Some(i);
            }
        }
        // No lower-only letter after the run: the engine backtracks to the run's last char that
        // is in both sets (the lower run is that one char), if there is one.
        both_end.ok_or(i)
    }

    /// Both letter alternatives after a prefix char that is not a mark, at `s`: the end of the
    /// piece with its contraction suffix, or `None` when the char at `s` is not letter-like.
    #[inline(always)]
    fn prefixed_letters_end(&self, b: &[u8], s: usize) -> Option<usize> {
        match self.cased_letters(b, s) {
            Ok(end) => Some(suffix_end(b, end)),
            Err(end) if end > s => Some(suffix_end(b, end)), // the second alternative
            Err(_) => None,
        }
    }

    /// `\p{N}{1,3}`.
    #[inline(always)]
    fn digits_end(&self, b: &[u8], start: usize, len0: usize) -> usize {
        scan::digits_end(b, start, len0, NUMBER, |b, i| self.class_at(b, i))
    }

    /// `[^\s\p{L}\p{N}]+[\r\n/]*` continued from `i`.
    #[inline(always)]
    fn punct_end(&self, b: &[u8], i: usize) -> usize {
        let mut i = self.run_end(b, i, |c| c == OTHER || c == MARK);
        while i < b.len() && matches!(b[i], b'\r' | b'\n' | b'/') {
            i += 1;
        }
        i
    }

    /// The whitespace alternatives from the whitespace char at `start` (of byte length `len0`):
    /// `\s*[\r\n]+` | `\s+(?!\S)` | `\s+`.
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
        if newline_end != 0 {
            newline_end // `\s*[\r\n]+`: up to and with the run's last \r or \n
        } else if i == b.len() || last == start {
            i // `\s+(?!\S)` at the end of the text, or `\s+` for a single char
        } else {
            last // `\s+(?!\S)`: all but the run's last char
        }
    }

    /// End of the piece that starts at `start` (< len).
    #[inline(always)]
    fn piece_end(&self, b: &[u8], start: usize) -> usize {
        let (class, len0) = self.class_at(b, start);
        let next = start + len0;
        // An `if` chain, not a `match`: the match compiled to a jump table whose indirect
        // branch mispredicted on a third of the pieces of English text (cachegrind).
        if class <= CASELESS {
            match self.cased_letters(b, start) {
                Ok(end) | Err(end) => suffix_end(b, end),
            }
        } else if class == SPACE {
            // All but \r and \n may lead letters; a ' ' may lead punctuation.
            if !is_newline(b[start]) {
                if let Some(end) = self.prefixed_letters_end(b, next) {
                    return end;
                }
                if b[start] == b' ' && next < b.len() && self.class_at(b, next).0 == OTHER {
                    return self.punct_end(b, next);
                }
            }
            self.whitespace_end(b, start, len0)
        } else if class == OTHER {
            self.prefixed_letters_end(b, next)
                .unwrap_or_else(|| self.punct_end(b, next))
        } else if class == NUMBER {
            self.digits_end(b, start, len0)
        } else {
            // MARK: the prefix of the first alternative if the letter core matches after it,
            // else the first alternative without prefix, where the mark is the lower run.
            match self.cased_letters(b, next) {
                Ok(end) => suffix_end(b, end),
                Err(_) => suffix_end(b, next),
            }
        }
    }
}

/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `i`: the same letters as cl100k's contractions.
#[inline(always)]
fn suffix_end(b: &[u8], i: usize) -> usize {
    if b.get(i) == Some(&b'\'') {
        contraction_end(b, i + 1).unwrap_or(i)
    } else {
        i
    }
}

impl<'t> Iterator for O200kPieces<'t> {
    type Item = &'t str;

    #[inline]
    fn next(&mut self) -> Option<&'t str> {
        let (piece, end) = scan::next_piece(self.text, self.pos, |b, s| self.piece_end(b, s))?;
        self.pos = end;
        Some(piece)
    }
}

#[cfg(test)]
#[path = "o200k_tests.rs"]
mod tests;
