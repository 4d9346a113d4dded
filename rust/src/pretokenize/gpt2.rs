//! Hand-written scanner for GPT-2's pre-tokenization pattern
//! `'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s`.
//!
//! One forward pass, no allocation, linear time on every input: each piece is found by scanning it
//! once, plus (for a whitespace run followed by non-whitespace) a second look at the run's last
//! character, which becomes the start of the next piece. Why each rule gives exactly the regex's
//! match is argued in `README.md` beside this file.

use super::unicode_class::{table, CharClass, ClassTable, ASCII_CLASS, NON_ASCII};

/// Class bytes as the tables store them (`Letter` = 0 and `Number` = 1 need no special case).
const SPACE: u8 = CharClass::Whitespace as u8; // any `\s`
const OTHER: u8 = CharClass::Other as u8;

/// The pieces of `text` under GPT-2's pattern, in order; they concatenate to `text`.
pub struct Gpt2Pieces<'t> {
    text: &'t str,
    pos: usize,
    table: &'static ClassTable,
}

impl<'t> Gpt2Pieces<'t> {
    pub fn new(text: &'t str) -> Self {
        Gpt2Pieces {
            text,
            pos: 0,
            table: table(),
        }
    }
}

/// Decodes the non-ASCII char whose lead byte is at `i` of valid UTF-8: (code point, length).
#[inline(always)]
pub(super) fn decode(bytes: &[u8], i: usize) -> (u32, usize) {
    let b0 = bytes[i] as u32;
    if b0 < 0xE0 {
        (((b0 & 0x1F) << 6) | (bytes[i + 1] as u32 & 0x3F), 2)
    } else if b0 < 0xF0 {
        (
            ((b0 & 0x0F) << 12)
                | ((bytes[i + 1] as u32 & 0x3F) << 6)
                | (bytes[i + 2] as u32 & 0x3F),
            3,
        )
    } else {
        (
            ((b0 & 0x07) << 18)
                | ((bytes[i + 1] as u32 & 0x3F) << 12)
                | ((bytes[i + 2] as u32 & 0x3F) << 6)
                | (bytes[i + 3] as u32 & 0x3F),
            4,
        )
    }
}

impl<'t> Gpt2Pieces<'t> {
    /// Class and byte length of the char starting at `i` (< len).
    #[inline(always)]
    fn class_at(&self, bytes: &[u8], i: usize) -> (u8, usize) {
        super::scan::class_at(&ASCII_CLASS, NON_ASCII, self.table, bytes, i)
    }

    /// End of the maximal run of chars of class `class` starting at byte `i` (possessive `++`).
    #[inline(always)]
    fn run_end(&self, bytes: &[u8], mut i: usize, class: u8) -> usize {
        while i < bytes.len() {
            let c = ASCII_CLASS[bytes[i] as usize];
            if c == class {
                i += 1;
            } else if c == NON_ASCII {
                let (cp, len) = decode(bytes, i);
                if self.table.class_u32(cp) != class {
                    break;
                }
                i += len;
            } else {
                break;
            }
        }
        i
    }

    /// The piece starting with the whitespace char at `start` (of byte length `len0`), when it is not
    /// a single ' ' followed by a non-whitespace char (that case joins the following run).
    /// `\s++$` | `\s+(?!\S)` | `\s`.
    #[inline(never)]
    fn whitespace_end(&self, bytes: &[u8], start: usize, len0: usize) -> usize {
        let mut last = start; // start of the last whitespace char seen
        let mut i = start + len0;
        while i < bytes.len() {
            let c = ASCII_CLASS[bytes[i] as usize];
            if c == SPACE {
                last = i;
                i += 1;
            } else if c == NON_ASCII {
                let (cp, len) = decode(bytes, i);
                if self.table.class_u32(cp) != SPACE {
                    break;
                }
                last = i;
                i += len;
            } else {
                break;
            }
        }
        if i == bytes.len() {
            // `\s++$`: the whole run reaches the end of the text.
            i
        } else if last > start {
            // `\s+(?!\S)`: backtracks one char so that whitespace (the run's last char) follows.
            last
        } else {
            // `\s`: a single whitespace char before non-whitespace.
            i
        }
    }

    /// End of the piece that starts at `start` (< len).
    ///
    /// Every path settles the class of the run and where it continues, then shares one `run_end`
    /// loop; whitespace and contractions leave early.
    #[inline(always)]
    fn piece_end(&self, bytes: &[u8], start: usize) -> usize {
        let b = bytes[start];
        let mut class = ASCII_CLASS[b as usize];
        let mut i = start + 1;
        if class == SPACE {
            // ` ?\p{L}++` | ` ?\p{N}++` | ` ?[^\s\p{L}\p{N}]++`: a ' ' takes the run that follows
            // it, whichever of the three classes that is. Anything else is whitespace's business.
            if b != b' ' || i >= bytes.len() {
                return self.whitespace_end(bytes, start, 1);
            }
            let (c1, len1) = self.class_at(bytes, i);
            if c1 == SPACE {
                return self.whitespace_end(bytes, start, 1);
            }
            class = c1;
            i += len1;
        } else if class == OTHER {
            if b == b'\'' {
                // `'(?:[sdmt]|ll|ve|re)`, tried first; otherwise `'` is an ordinary Other char.
                match (bytes.get(i), bytes.get(i + 1)) {
                    (Some(b's' | b'd' | b'm' | b't'), _) => return i + 1,
                    (Some(b'l'), Some(b'l'))
                    | (Some(b'v'), Some(b'e'))
                    | (Some(b'r'), Some(b'e')) => return i + 2,
                    _ => {}
                }
            }
        } else if class == NON_ASCII {
            let (cp, len) = decode(bytes, start);
            class = self.table.class_u32(cp);
            i = start + len;
            if class == SPACE {
                return self.whitespace_end(bytes, start, len);
            }
        }
        self.run_end(bytes, i, class)
    }
}

impl<'t> Iterator for Gpt2Pieces<'t> {
    type Item = &'t str;

    #[inline]
    fn next(&mut self) -> Option<&'t str> {
        let (piece, end) =
            super::scan::next_piece(self.text, self.pos, |b, s| self.piece_end(b, s))?;
        self.pos = end;
        Some(piece)
    }
}

#[cfg(test)]
#[path = "gpt2_tests.rs"]
pub(super) mod tests;
