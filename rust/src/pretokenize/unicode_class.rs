//! The three Unicode classes of GPT-2's pattern (`\p{L}`, `\p{N}`, `\s`) and their complement, for the
//! hand-written scanner.
//!
//! The tables are built once, at first use, from the very ranges the regex engine uses: we ask
//! `regex_syntax` (the crate fancy-regex compiles `\p{L}`, `\p{N}` and `\s` with) for the `Hir` of each
//! class and copy its ranges. So the scanner and the fancy-regex oracle agree on every code point by
//! construction, whatever Unicode version that crate ships (16.0.0 in regex-syntax 0.8.12).
//!
//! # Layout (performance notes)
//! A two-stage table: `index[cp >> 7]` names a 128-entry block of one-byte classes, and identical
//! blocks are stored once. With regex-syntax 0.8.12 that is 8704 `u16` index entries (17 KiB) plus 208
//! distinct blocks (26 KiB): 43 KiB in all, built at first use in ~8 M instructions (cachegrind; a
//! few ms). A lookup is two dependent loads and no branch; ASCII never gets here (the scanner's
//! 256-entry byte table handles it).
//! Measured in the scanner (MB/s on a quiet 16-core Xeon, 8 MB each of mixed multilingual text and
//! of its mostly non-ASCII lines; the pre-tokenizer README has the method):
//!
//! | layout | size | multilingual | non-ASCII |
//! | --- | --- | --- | --- |
//! | two-stage, 128-entry blocks (chosen) | 43 KiB | 356-378 | 417-432 |
//! | flat, one byte per code point | 1.1 MiB | 318-360 | 313-448 |
//! | flat, 2 bits per code point | 272 KiB | 368-380 | 419-430 |
//! | binary search over the 1610 runs of equal class | 8 KiB | 134-185 | 129-134 |
//!
//! The three tables are equally fast within noise, so the smallest wins (it also leaves cache to the
//! BPE ranks that run next). Binary search is 2-3x slower on non-ASCII text.

use crate::fork_safe::RaceOnce;

use regex_syntax::hir::{Class, HirKind};

/// The class of a character with respect to GPT-2's pattern. The three named classes are disjoint
/// (checked when the tables are built and by a test); `Other` is `[^\s\p{L}\p{N}]`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CharClass {
    /// `\p{L}`
    Letter = 0,
    /// `\p{N}`
    Number = 1,
    /// `\s` (Unicode `White_Space`, as the regex crate defines it)
    Whitespace = 2,
    /// `[^\s\p{L}\p{N}]`: punctuation, symbols, marks, controls, unassigned, private use, ...
    Other = 3,
}

impl CharClass {
    #[inline(always)]
    pub const fn from_u8(v: u8) -> CharClass {
        match v {
            0 => CharClass::Letter,
            1 => CharClass::Number,
            2 => CharClass::Whitespace,
            _ => CharClass::Other,
        }
    }
}

/// log2 of the block size of the second stage.
const SHIFT: u32 = 7;
const BLOCK: usize = 1 << SHIFT;
const MASK: u32 = (BLOCK as u32) - 1;
const N_BLOCKS: usize = 0x11_0000 >> SHIFT;

/// The two-stage class table. Get the shared instance with [`table`].
pub struct ClassTable {
    /// `index[cp >> SHIFT]` is the number of the block that holds `cp`'s class.
    index: Box<[u16; N_BLOCKS]>,
    /// Distinct blocks of `BLOCK` class bytes each, concatenated.
    blocks: Box<[u8]>,
    /// The class of code points in no named class (and of values past U+10FFFF).
    rest: u8,
}

impl ClassTable {
    /// The class of code point `cp` (`cp <= 0x10FFFF`; larger values give the rest class,
    /// `Other` in the GPT-2 table).
    #[inline(always)]
    pub fn class_u32(&self, cp: u32) -> u8 {
        match self.index.get((cp >> SHIFT) as usize) {
            Some(&blk) => {
                // `blk * BLOCK + (cp & MASK)` is in bounds by construction; the check is kept (it
                // is predictable and cheap).
                self.blocks[((blk as usize) << SHIFT) | (cp & MASK) as usize]
            }
            None => self.rest,
        }
    }

    #[inline(always)]
    pub fn class(&self, c: char) -> CharClass {
        CharClass::from_u8(self.class_u32(c as u32))
    }

    /// Bytes used by the table (for the performance notes).
    pub fn heap_bytes(&self) -> usize {
        N_BLOCKS * 2 + self.blocks.len()
    }

    /// Number of distinct blocks.
    pub fn distinct_blocks(&self) -> usize {
        self.blocks.len() / BLOCK
    }

    fn build() -> ClassTable {
        ClassTable::from_classes(
            &[
                (CharClass::Letter as u8, r"\p{L}"),
                (CharClass::Number as u8, r"\p{N}"),
                (CharClass::Whitespace as u8, r"\s"),
            ],
            CharClass::Other as u8,
        )
    }

    /// The table that gives each code point the class byte of the one pattern (a single Unicode
    /// class such as `\p{Lu}`) that contains it, and `rest` where none does. Shared with the
    /// o200k scanner's finer classes (`o200k.rs`).
    ///
    /// Panics if two of the patterns share a code point: the scanners assume disjoint classes.
    pub(crate) fn from_classes(classes: &[(u8, &str)], rest: u8) -> ClassTable {
        let mut flat = vec![rest; 0x11_0000];
        for &(class, pattern) in classes {
            for (lo, hi) in class_ranges(pattern) {
                for cp in lo..=hi {
                    let slot = &mut flat[cp as usize];
                    assert_eq!(
                        *slot, rest,
                        "U+{cp:04X} is in {pattern} and another class: the scanners assume \
                         disjoint classes"
                    );
                    *slot = class;
                }
            }
        }
        let mut index = Box::new([0u16; N_BLOCKS]);
        let mut blocks: Vec<u8> = Vec::new();
        let mut seen: std::collections::HashMap<&[u8], u16> = std::collections::HashMap::new();
        for (i, chunk) in flat.chunks_exact(BLOCK).enumerate() {
            let next = seen.len();
            let id = *seen.entry(chunk).or_insert_with(|| {
                blocks.extend_from_slice(chunk);
                u16::try_from(next).expect("fewer than 65536 distinct blocks")
            });
            index[i] = id;
        }
        ClassTable {
            index,
            blocks: blocks.into_boxed_slice(),
            rest,
        }
    }
}

/// The shared class table, built on first use (a few milliseconds).
#[inline]
pub fn table() -> &'static ClassTable {
    // RaceOnce, not OnceLock: a child forked while another thread builds the table must not block.
    static TABLE: RaceOnce<ClassTable> = RaceOnce::new();
    TABLE.get_or_init(ClassTable::build)
}

/// The class of `c`.
#[inline]
pub fn class_of(c: char) -> CharClass {
    table().class(c)
}

/// The code point ranges (inclusive) of a single Unicode class such as `\p{L}` or `\s`, exactly as the
/// regex engine compiles it.
///
/// Panics if `pattern` is not a single Unicode character class (only called with the literals above).
pub fn class_ranges(pattern: &str) -> Vec<(u32, u32)> {
    let hir = regex_syntax::parse(pattern).expect("valid class pattern");
    match hir.kind() {
        HirKind::Class(Class::Unicode(cls)) => cls
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        other => panic!("{pattern:?} is not a Unicode class: {other:?}"),
    }
}

/// Class of each ASCII byte, and `NON_ASCII` for bytes >= 0x80 (UTF-8 lead or continuation bytes).
pub const NON_ASCII: u8 = 4;

pub static ASCII_CLASS: [u8; 256] = {
    let mut t = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() {
            CharClass::Letter as u8
        } else if c.is_ascii_digit() {
            CharClass::Number as u8
        } else if matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
            // `\s` in ASCII: the six White_Space characters (note: vertical tab 0x0B is included,
            // unlike `char::is_ascii_whitespace`).
            CharClass::Whitespace as u8
        } else {
            CharClass::Other as u8
        };
        b += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    fn class_from_ranges(cp: u32, l: &[(u32, u32)], n: &[(u32, u32)], s: &[(u32, u32)]) -> u8 {
        let inr = |rs: &[(u32, u32)]| {
            rs.binary_search_by(|&(lo, hi)| {
                if hi < cp {
                    std::cmp::Ordering::Less
                } else if lo > cp {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
        };
        let (a, b, c) = (inr(l), inr(n), inr(s));
        assert!(
            (a as u8 + b as u8 + c as u8) <= 1,
            "U+{cp:04X} is in more than one of L/N/s"
        );
        if a {
            0
        } else if b {
            1
        } else if c {
            2
        } else {
            3
        }
    }

    #[test]
    fn classes_are_disjoint() {
        let l = class_ranges(r"\p{L}");
        let n = class_ranges(r"\p{N}");
        let s = class_ranges(r"\s");
        for (i, a) in [&l, &n, &s].iter().enumerate() {
            for b in [&l, &n, &s].iter().skip(i + 1) {
                for &(alo, ahi) in a.iter() {
                    for &(blo, bhi) in b.iter() {
                        assert!(
                            ahi < blo || bhi < alo,
                            "overlap {alo:X}-{ahi:X} / {blo:X}-{bhi:X}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn table_matches_hir_ranges_for_every_code_point() {
        let l = class_ranges(r"\p{L}");
        let n = class_ranges(r"\p{N}");
        let s = class_ranges(r"\s");
        let t = table();
        for cp in 0..=0x10FFFFu32 {
            assert_eq!(
                t.class_u32(cp),
                class_from_ranges(cp, &l, &n, &s),
                "class of U+{cp:04X}"
            );
        }
        assert_eq!(t.class_u32(0x110000), CharClass::Other as u8);
    }

    #[test]
    fn ascii_table_matches_unicode_table() {
        for b in 0u8..128 {
            assert_eq!(
                ASCII_CLASS[b as usize],
                table().class_u32(b as u32),
                "byte {b:#x}"
            );
        }
        assert!(ASCII_CLASS[128..].iter().all(|&c| c == NON_ASCII));
    }

    #[test]
    fn table_matches_fancy_regex_on_a_sample() {
        let re_l = fancy_regex::Regex::new(r"^\p{L}$").unwrap();
        let re_n = fancy_regex::Regex::new(r"^\p{N}$").unwrap();
        let re_s = fancy_regex::Regex::new(r"^\s$").unwrap();
        let re_o = fancy_regex::Regex::new(r"^[^\s\p{L}\p{N}]$").unwrap();
        let mut checked = 0;
        // A stride of 53 (prime, so it walks across block boundaries) gives ~21k code points, plus
        // every whitespace character and the neighbours of every class boundary of \s and \p{N}.
        let mut cps: Vec<u32> = (0..=0x10FFFF).step_by(53).collect();
        for pat in [r"\s", r"\p{N}"] {
            for (lo, hi) in class_ranges(pat) {
                cps.extend([lo.saturating_sub(1), lo, hi, hi + 1]);
            }
        }
        let mut buf = [0u8; 4];
        for cp in cps {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let s: &str = c.encode_utf8(&mut buf);
            let want = if re_l.is_match(s).unwrap() {
                CharClass::Letter
            } else if re_n.is_match(s).unwrap() {
                CharClass::Number
            } else if re_s.is_match(s).unwrap() {
                CharClass::Whitespace
            } else {
                assert!(re_o.is_match(s).unwrap(), "U+{cp:04X}");
                CharClass::Other
            };
            assert_eq!(class_of(c), want, "U+{cp:04X}");
            checked += 1;
        }
        assert!(checked > 20_000);
    }

    #[test]
    fn known_characters() {
        use CharClass::*;
        for (c, want) in [
            ('a', Letter),
            ('ª', Letter),
            ('é', Letter),
            ('\u{0301}', Other), // combining acute: \p{M}
            ('中', Letter),
            ('²', Number),
            ('Ⅻ', Number),
            ('٣', Number),
            ('３', Number),
            ('\u{00A0}', Whitespace),
            ('\u{0085}', Whitespace),
            ('\u{2028}', Whitespace),
            ('\u{3000}', Whitespace),
            ('\u{200B}', Other), // zero width space is not White_Space
            ('\u{200D}', Other),
            ('\u{FE0F}', Other),
            ('😀', Other),
            ('\'', Other),
            ('_', Other),
        ] {
            assert_eq!(class_of(c), want, "{c:?}");
        }
    }

    #[test]
    fn table_size() {
        let t = table();
        // Keep the table small enough to stay mostly in cache; see the layout notes above.
        assert!(t.heap_bytes() < 96 * 1024, "{} bytes", t.heap_bytes());
        eprintln!(
            "class table: {} distinct blocks, {} bytes",
            t.distinct_blocks(),
            t.heap_bytes()
        );
    }
}
