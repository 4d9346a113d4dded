//! What the hand-written scanners (`gpt2`, `cl100k`, `o200k`) share: stepping from one piece to
//! the next, a char's class, and the small rules two patterns spell alike.

use super::gpt2::decode;
use super::unicode_class::ClassTable;

/// The piece of `text` from `start` to `end(bytes, start)`, and that end; None at the end of the
/// text. `end` must return a char boundary in `(start, len]`.
///
/// Tried and dropped (session 8): calling each scanner's `piece_end` directly from `next`
/// instead of through this closure, which the Python module's build does not inline (perf put
/// a quarter of the o200k scanner's samples on the closure's prologue and epilogue). Python,
/// 5 MB after another 5 MB, best of 5 interleaved: o200k English 63.7 -> 61.4, code 82.5 ->
/// 79.5, multilingual 37.7 -> 38.6 MB/s; GPT-2 within noise.
#[inline(always)]
pub(super) fn next_piece(
    text: &str,
    start: usize,
    end: impl FnOnce(&[u8], usize) -> usize,
) -> Option<(&str, usize)> {
    if start >= text.len() {
        return None;
    }
    let end = end(text.as_bytes(), start);
    debug_assert!(start < end && end <= text.len() && text.is_char_boundary(end));
    // SAFETY: `start` and `end` are char boundaries of `text` with `start < end <= len`:
    // `start` is 0 or a previous `end`, and every scanner reaches `end` by stepping over whole
    // chars (an ASCII byte, a lead byte plus the length its bits give, or a contraction's ASCII
    // letters or U+017F) from a boundary, never past `len` (each step checks `i < len` first,
    // and valid UTF-8 never truncates a char). Skipping the two `is_char_boundary` checks of
    // `&text[start..end]` cut the GPT-2 scanner's instructions by a quarter (22.4 -> 16-17 per
    // byte on English, cachegrind; README.md).
    Some((unsafe { text.get_unchecked(start..end) }, end))
}

/// Class and byte length of the char starting at byte `i` (< len) of valid UTF-8: an ASCII byte
/// by the scanner's byte table `ascii`, whose `non_ascii` entries send lead bytes to `table`.
#[inline(always)]
pub(super) fn class_at(
    ascii: &[u8; 256],
    non_ascii: u8,
    table: &ClassTable,
    b: &[u8],
    i: usize,
) -> (u8, usize) {
    let c = ascii[b[i] as usize];
    if c != non_ascii {
        (c, 1)
    } else {
        let (cp, len) = decode(b, i);
        (table.class_u32(cp), len)
    }
}

/// `\r` or `\n`, the two chars cl100k's and o200k's patterns treat apart from other `\s`.
#[inline(always)]
pub(super) fn is_newline(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

/// `\p{N}{1,3}` (cl100k and o200k): the digit at `start` (of byte length `len0`) and up to two
/// more, where `class_at(b, i)` gives the class and byte length of the char at `i` and `number`
/// is the digit class in that scanner's numbering.
#[inline(always)]
pub(super) fn digits_end(
    b: &[u8],
    start: usize,
    len0: usize,
    number: u8,
    class_at: impl Fn(&[u8], usize) -> (u8, usize),
) -> usize {
    let mut i = start + len0;
    for _ in 0..2 {
        if i >= b.len() {
            break;
        }
        let (c, len) = class_at(b, i);
        if c != number {
            break;
        }
        i += len;
    }
    i
}
