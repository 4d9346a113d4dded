//! UTF-8 from fixed-width characters: the 1, 2 or 4 bytes a character that a Python `str` holds
//! its text in (CPython's "kinds": Latin-1, UCS-2, UCS-4; `py/text.rs` reads them).
//!
//! Why (issue 10): the core reads UTF-8, and a `str` that is not pure ASCII has none until
//! Python makes it (`PyUnicode_AsUTF8AndSize`), with its per-character encoder and then kept on
//! the `str` for as long as it lives. Every 5 MB slice of the benchmark's corpora (English, code
//! and multilingual alike) holds at least one character above U+FFFF, so each is stored 4 bytes
//! a character, and Python's encoder took 5.6-8.8 ms of it (0.6-0.9 GB/s): a tenth of an
//! `encode_ordinary` call on English or code. Here runs of 16 ASCII characters are narrowed a
//! block at a time (SSE2 packs on x86_64), and only the rest goes character by character.
//! Performance notes: `py/text.rs`.
//!
//! Correctness: every code point below U+0080 is its own byte; the others are written with the
//! standard 2-, 3- and 4-byte forms by their ranges (the tests compare each with
//! `char::encode_utf8`, for every code point, alone and inside ASCII blocks). Surrogates
//! (U+D800..U+DFFF) and values above U+10FFFF have no UTF-8 form: the result is then `Err` with
//! the position of the first one, so every `Ok` is valid UTF-8.

/// One fixed-width character: `u8` (Latin-1), `u16` (UCS-2) or `u32` (UCS-4).
pub trait Unit: Copy {
    /// The most bytes one such character takes in UTF-8.
    const MAX_UTF8: usize;
    fn code(self) -> u32;
    /// When all of `block` is ASCII, writes it to `out` as bytes and returns true; else writes
    /// nothing and returns false.
    fn ascii_block(block: &[Self; BLOCK], out: &mut [u8; BLOCK]) -> bool;
}

/// Characters narrowed at a time when all are ASCII.
const BLOCK: usize = 16;

impl Unit for u8 {
    const MAX_UTF8: usize = 2;
    #[inline(always)]
    fn code(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn ascii_block(block: &[u8; BLOCK], out: &mut [u8; BLOCK]) -> bool {
        let all_ascii =
            u128::from_le_bytes(*block) & 0x8080_8080_8080_8080_8080_8080_8080_8080 == 0;
        if all_ascii {
            *out = *block;
        }
        all_ascii
    }
}

impl Unit for u16 {
    const MAX_UTF8: usize = 3;
    #[inline(always)]
    fn code(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn ascii_block(block: &[u16; BLOCK], out: &mut [u8; BLOCK]) -> bool {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of x86_64; the loads read the 32 bytes of `block` and the store
        // writes the 16 of `out` (unaligned forms).
        unsafe {
            use std::arch::x86_64::*;
            let p = block.as_ptr().cast::<__m128i>();
            let (a, b) = (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)));
            let high = _mm_and_si128(_mm_or_si128(a, b), _mm_set1_epi16(!0x7F));
            if _mm_movemask_epi8(_mm_cmpeq_epi16(high, _mm_setzero_si128())) != 0xFFFF {
                return false;
            }
            _mm_storeu_si128(out.as_mut_ptr().cast(), _mm_packus_epi16(a, b));
            true
        }
        #[cfg(not(target_arch = "x86_64"))]
        narrow_block(block, out)
    }
}

impl Unit for u32 {
    const MAX_UTF8: usize = 4;
    #[inline(always)]
    fn code(self) -> u32 {
        self
    }
    #[inline(always)]
    fn ascii_block(block: &[u32; BLOCK], out: &mut [u8; BLOCK]) -> bool {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as for u16: 64 bytes read from `block`, 16 written to `out`. The packs
        // saturate, which changes nothing for values below 0x80.
        unsafe {
            use std::arch::x86_64::*;
            let p = block.as_ptr().cast::<__m128i>();
            let (a, b) = (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)));
            let (c, d) = (_mm_loadu_si128(p.add(2)), _mm_loadu_si128(p.add(3)));
            let all = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
            let high = _mm_and_si128(all, _mm_set1_epi32(!0x7F));
            if _mm_movemask_epi8(_mm_cmpeq_epi32(high, _mm_setzero_si128())) != 0xFFFF {
                return false;
            }
            let ab = _mm_packs_epi32(a, b);
            let cd = _mm_packs_epi32(c, d);
            _mm_storeu_si128(out.as_mut_ptr().cast(), _mm_packus_epi16(ab, cd));
            true
        }
        #[cfg(not(target_arch = "x86_64"))]
        narrow_block(block, out)
    }
}

/// `Unit::ascii_block` without vector instructions.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn narrow_block<U: Unit>(block: &[U; BLOCK], out: &mut [u8; BLOCK]) -> bool {
    if block.iter().fold(0, |acc, u| acc | u.code()) >= 0x80 {
        return false;
    }
    for (d, u) in out.iter_mut().zip(block) {
        *d = u.code() as u8;
    }
    true
}

/// Why a text was not transcoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTranscoded {
    /// The character at this index has no UTF-8 form (a surrogate, or above U+10FFFF).
    NoUtf8(usize),
    /// The output buffer could not be allocated (the caller's own conversion then reports it:
    /// Python raises MemoryError, where a failed Rust allocation would abort the process).
    NoMemory,
}

/// The text of `units` as UTF-8.
pub fn to_utf8<U: Unit>(units: &[U]) -> Result<String, NotTranscoded> {
    let mut out: Vec<u8> = Vec::new();
    units
        .len()
        .checked_mul(U::MAX_UTF8)
        .and_then(|n| out.try_reserve_exact(n).ok())
        .ok_or(NotTranscoded::NoMemory)?;
    let cap = out.capacity();
    let dst = out.as_mut_ptr();
    let mut n = 0usize; // bytes written
    let mut i = 0usize;
    // SAFETY: every write below is at `dst + n` with `n + (bytes of the characters written so
    // far and now)` <= `units.len() * MAX_UTF8` <= `cap`, since no character takes more than
    // `MAX_UTF8` bytes; `set_len(n)` covers only written bytes.
    unsafe {
        while i < units.len() {
            if let Some(block) = units.get(i..i + BLOCK) {
                // (A slice of exactly BLOCK units, so both conversions succeed.)
                if let (Ok(block), Some(to)) = (
                    <&[U; BLOCK]>::try_from(block),
                    dst.add(n).cast::<[u8; BLOCK]>().as_mut(),
                ) {
                    if U::ascii_block(block, to) {
                        n += BLOCK;
                        i += BLOCK;
                        continue;
                    }
                }
            }
            // A block with some non-ASCII character (or the tail): one block's worth of
            // characters one at a time, then try a whole block again.
            let end = (i + BLOCK).min(units.len());
            while i < end {
                let c = units[i].code();
                let p = dst.add(n);
                if c < 0x80 {
                    *p = c as u8;
                    n += 1;
                } else if c < 0x800 {
                    *p = 0xC0 | (c >> 6) as u8;
                    *p.add(1) = 0x80 | (c & 0x3F) as u8;
                    n += 2;
                } else if c < 0x10000 {
                    if (0xD800..0xE000).contains(&c) {
                        return Err(NotTranscoded::NoUtf8(i));
                    }
                    *p = 0xE0 | (c >> 12) as u8;
                    *p.add(1) = 0x80 | (c >> 6 & 0x3F) as u8;
                    *p.add(2) = 0x80 | (c & 0x3F) as u8;
                    n += 3;
                } else {
                    if c > 0x10FFFF {
                        return Err(NotTranscoded::NoUtf8(i));
                    }
                    *p = 0xF0 | (c >> 18) as u8;
                    *p.add(1) = 0x80 | (c >> 12 & 0x3F) as u8;
                    *p.add(2) = 0x80 | (c >> 6 & 0x3F) as u8;
                    *p.add(3) = 0x80 | (c & 0x3F) as u8;
                    n += 4;
                }
                i += 1;
            }
        }
        debug_assert!(n <= cap);
        out.set_len(n);
    }
    debug_assert!(std::str::from_utf8(&out).is_ok());
    // SAFETY: only the standard encodings of code points that are not surrogates and at most
    // U+10FFFF were written (see the module comment), which is valid UTF-8.
    Ok(unsafe { String::from_utf8_unchecked(out) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want<U: Unit>(units: &[U]) -> Result<String, NotTranscoded> {
        let mut s = String::new();
        for (i, u) in units.iter().enumerate() {
            s.push(char::from_u32(u.code()).ok_or(NotTranscoded::NoUtf8(i))?);
        }
        Ok(s)
    }

    /// Every code point (surrogates and a few beyond U+10FFFF too), alone, in the middle of an
    /// ASCII block, and at each position of a block.
    #[test]
    fn every_code_point_in_every_position() {
        let ascii: Vec<u32> = (0..40).map(|i| b'a' as u32 + i % 26).collect();
        for c in (0..0x11_0000u32).chain([0x11_0000, 0x7FFF_FFFF, u32::MAX]) {
            assert_eq!(to_utf8(&[c]), want(&[c]), "{c:#x}");
            let at = (c as usize * 7) % 40;
            let mut units = ascii.clone();
            units[at] = c;
            assert_eq!(to_utf8(&units), want(&units), "{c:#x} at {at}");
            if c <= 0xFFFF {
                let narrow: Vec<u16> = units.iter().map(|&u| u as u16).collect();
                assert_eq!(to_utf8(&narrow), want(&narrow), "{c:#x} at {at}");
            }
            if c <= 0xFF {
                let latin: Vec<u8> = units.iter().map(|&u| u as u8).collect();
                assert_eq!(to_utf8(&latin), want(&latin), "{c:#x} at {at}");
            }
        }
    }

    /// Random mixes of ASCII runs and characters of every width, of every length up to 300.
    #[test]
    fn random_mixes() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for len in 0..300 {
            for _ in 0..30 {
                let units: Vec<u32> = (0..len)
                    .map(|_| {
                        let r = next();
                        match r % 8 {
                            0 => (r >> 8) as u32 % 0x800,
                            1 => (r >> 8) as u32 % 0x1_0000,
                            2 => (r >> 8) as u32 % 0x11_0000,
                            _ => (r >> 8) as u32 % 0x80,
                        }
                    })
                    .collect();
                assert_eq!(to_utf8(&units), want(&units));
                let narrow: Vec<u16> = units.iter().map(|&u| u as u16).collect();
                assert_eq!(to_utf8(&narrow), want(&narrow));
                let latin: Vec<u8> = units.iter().map(|&u| u as u8).collect();
                assert_eq!(to_utf8(&latin), want(&latin));
            }
        }
    }
}
