//! Checking a whitespace candidate against a user pattern (`CutRule::Verified`): the pieces of a
//! window around the candidate must be the pieces of its two halves, concatenated.
//!
//! Why a window suffices in practice is in `cut/README.md` ("User patterns"); what it costs:
//! three pre-tokenizations of at most `2 * VERIFY_RADIUS` bytes per candidate, and a chunker
//! looks at one candidate per chunk unless the pattern rejects it (a 1 MiB chunk then pays
//! ~1 us per rejected candidate).

use std::borrow::Cow;

use super::{Cutter, VERIFY_RADIUS};
use crate::pretokenize::Pretokenizer;

/// Pieces of `window` (special-token segments as one piece each), as (start, bytes) with starts
/// relative to `base`. `None` when the pattern fails (backtrack limit): then no cut is proved.
fn pieces(
    cutter: &Cutter,
    pretok: &Pretokenizer,
    window: &[u8],
    base: usize,
) -> Option<Vec<(usize, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut at = base;
    for (is_special, seg) in cutter.segments(window) {
        if is_special {
            out.push((at, seg.to_vec()));
        } else {
            // Lossy: the window may start or end inside a character, and the same replacement
            // happens on both sides of the comparison, because the candidate is an ASCII byte.
            let text: Cow<'_, str> = String::from_utf8_lossy(seg);
            let origin = text.as_ptr() as usize;
            let r = pretok.for_each_piece(&text, |piece| {
                out.push((
                    at + (piece.as_ptr() as usize - origin),
                    piece.as_bytes().to_vec(),
                ));
            });
            r.ok()?;
            at += text.len();
            continue;
        }
        at += seg.len();
    }
    Some(out)
}

/// Whether cutting `buf` at `p` leaves the pieces of the window `[p - R, p + R)` unchanged
/// (clipped at `lo`, a known safe cut, and at the end of `buf`).
pub(super) fn cut_keeps_pieces(
    cutter: &Cutter,
    pretok: &Pretokenizer,
    buf: &[u8],
    lo: usize,
    p: usize,
) -> bool {
    let a = p.saturating_sub(VERIFY_RADIUS).max(lo);
    let b = p.saturating_add(VERIFY_RADIUS).min(buf.len());
    let (Some(whole), Some(left)) = (
        pieces(cutter, pretok, &buf[a..b], 0),
        pieces(cutter, pretok, &buf[a..p], 0),
    ) else {
        return false;
    };
    // Offsets in the right half continue after the left half's decoded length.
    let left_len = String::from_utf8_lossy(&buf[a..p]).len();
    let Some(right) = pieces(cutter, pretok, &buf[p..b], left_len) else {
        return false;
    };
    // The window must show a piece boundary at the cut: with no piece ending or starting there
    // (e.g. `[^\n]*\n` inside a line longer than the window) the window proves nothing.
    let boundary = whole
        .iter()
        .any(|(s, b)| *s == left_len || s + b.len() == left_len);
    boundary
        && whole.len() == left.len() + right.len()
        && whole.iter().eq(left.iter().chain(right.iter()))
}

/// The probe behind `CutRule::for_pattern`: a pattern gets whitespace cuts only if at least one
/// typical candidate verifies. Patterns whose matches run across every whitespace (`(?s).+`,
/// `[^\n]*\n`, `\S+\s*`) fail it and are cut only at special tokens, so that chunkers do not pay
/// a rejected verification at every space of the input.
pub(super) fn pattern_allows_cuts(pretok: &Pretokenizer) -> bool {
    const PROBES: [&str; 6] = [
        "ab cd",
        "ab\ncd",
        "ab\r\ncd",
        "x1.\n\ny 2",
        "hello\tworld",
        "é z\n",
    ];
    let Ok(cutter) = Cutter::new(&[], super::CutRule::SpecialOnly) else {
        return false;
    };
    PROBES.iter().any(|text| {
        let buf = text.as_bytes();
        (1..buf.len()).any(|p| {
            super::is_ascii_space(buf[p])
                && Cutter::non_space_before(buf, 0, p)
                && cut_keeps_pieces(&cutter, pretok, buf, 0, p)
        })
    })
}
