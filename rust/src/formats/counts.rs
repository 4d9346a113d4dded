//! The counts file (`.counts`): pre-token counts ([`WordCounts`]) plus how they were made, so
//! counting can run on many processes or machines and the merge loop once, later, elsewhere.
//!
//! # Layout, version 1
//!
//! All fixed-width integers are little-endian; `varint` is unsigned LEB128 (at most 10 bytes,
//! value < 2^64).
//!
//! ```text
//! magic        8 bytes   "FBPECNTS"
//! version      u32       1
//! flags        u32       bit 0: the origin (pattern + special tokens) is known; other bits 0
//! bytes_read   u64       input bytes counted (summed by merges)
//! pattern      varint n, n bytes of UTF-8   (empty when the origin is unknown)
//! specials     varint k, then k times: varint n, n bytes of UTF-8
//! words        u64       number of distinct words
//! total        u64       sum of all counts (saturating), a cross-check
//! k words, in strictly increasing byte order, front-coded:
//!              varint shared (bytes shared with the previous word), varint n, n more bytes,
//!              varint count (>= 1; 64-bit)
//! checksum     u64       FNV-1a 64 of every byte before it
//! ```
//!
//! The file grows with the number of distinct words, not with the corpus: sorted words share
//! prefixes (front coding), and counts and lengths are varints (1-3 bytes for most). The words
//! of 100 MB of English take about 1.3 bytes per distinct word of overhead.
//!
//! # Why these choices
//! - A checksum over the whole file: a flipped bit in a count would otherwise still parse and
//!   silently change the trained vocabulary.
//! - Strictly increasing words: one canonical file per set of counts (byte-identical files for
//!   equal counts, whatever the merge order), and duplicates or reordering are detected as
//!   corruption.
//! - Every length is checked against the bytes left before anything is allocated, so a corrupt
//!   length cannot make the reader allocate gigabytes.
//! - The pattern is stored canonically ([`crate::pretokenize::Pretokenizer::pattern`]), so GPT-2's
//!   two spellings are the same origin.

use std::path::Path;

use crate::error::{Error, Result};
use crate::train::WordCounts;

/// First bytes of every counts file.
pub const MAGIC: &[u8; 8] = b"FBPECNTS";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
const FLAG_ORIGIN: u32 = 1;

/// How counts were made: everything that changes which words are counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The pre-tokenization pattern, canonical spelling.
    pub pattern: String,
    /// Special tokens removed as document separators, in the order given.
    pub special_tokens: Vec<String>,
}

/// Where counts came from: the header of a counts file, kept beside the `WordCounts` it describes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// `None` for counts built by hand (`WordCounts.add`): they merge with any origin.
    pub origin: Option<Origin>,
    /// Input bytes counted.
    pub bytes_read: u64,
}

impl Provenance {
    /// The provenance of `self`'s counts plus `other`'s (the reduce step). Counts made with a
    /// different pattern or different special tokens cannot be combined: the words would not
    /// mean the same thing.
    pub fn merged(&self, other: &Provenance) -> Result<Provenance> {
        Ok(Provenance {
            origin: merged_origin(&self.origin, &other.origin)?,
            bytes_read: self.bytes_read.saturating_add(other.bytes_read),
        })
    }
}

/// The origin of merged counts, or the error that explains why they cannot be merged.
pub fn merged_origin(a: &Option<Origin>, b: &Option<Origin>) -> Result<Option<Origin>> {
    // Special tokens are compared as a set: their order changes ids, not counts.
    let same = |x: &Origin, y: &Origin| {
        let mut xs: Vec<&String> = x.special_tokens.iter().collect();
        let mut ys: Vec<&String> = y.special_tokens.iter().collect();
        xs.sort();
        ys.sort();
        x.pattern == y.pattern && xs == ys
    };
    match (a, b) {
        (Some(x), Some(y)) if !same(x, y) => {
            let what = if x.pattern != y.pattern {
                format!(
                    "different pre-tokenization patterns ({:?} vs {:?})",
                    short(&x.pattern),
                    short(&y.pattern)
                )
            } else {
                format!(
                    "different special tokens ({:?} vs {:?})",
                    x.special_tokens, y.special_tokens
                )
            };
            Err(Error::value(format!(
                "cannot merge word counts made with {what}; count every part with the same \
                 --pattern and --special-token options"
            )))
        }
        (Some(x), _) | (None, Some(x)) => Ok(Some(x.clone())),
        (None, None) => Ok(None),
    }
}

fn short(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(40).collect::<String>())
    }
}

/// FNV-1a, 64-bit: tiny, no dependency, and enough to catch corruption (not an adversary).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, data: &[u8]) {
        let mut h = self.0;
        for &b in data {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        self.0 = h;
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// The file's bytes for `counts` made as `prov` says (deterministic: equal counts give equal
/// bytes).
pub fn write(prov: &Provenance, counts: &WordCounts) -> Vec<u8> {
    let words = counts.sorted();
    let mut out = Vec::with_capacity(64 + words.len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    let flags = if prov.origin.is_some() {
        FLAG_ORIGIN
    } else {
        0
    };
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&prov.bytes_read.to_le_bytes());
    let (pattern, specials): (&str, &[String]) = match &prov.origin {
        Some(o) => (&o.pattern, &o.special_tokens),
        None => ("", &[]),
    };
    put_bytes(&mut out, pattern.as_bytes());
    put_varint(&mut out, specials.len() as u64);
    for s in specials {
        put_bytes(&mut out, s.as_bytes());
    }
    out.extend_from_slice(&(words.len() as u64).to_le_bytes());
    let total = words.iter().fold(0u64, |a, (_, n)| a.saturating_add(*n));
    out.extend_from_slice(&total.to_le_bytes());
    let mut prev: &[u8] = &[];
    for (w, n) in &words {
        let shared = prev
            .iter()
            .zip(w.iter())
            .take_while(|(a, b)| a == b)
            .count();
        put_varint(&mut out, shared as u64);
        put_bytes(&mut out, &w[shared..]);
        put_varint(&mut out, *n);
        prev = w;
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// The checksum stored in the last 8 bytes: FNV-1a 64 of all bytes before them. Public so that
/// fuzzers can fix it up and reach the structure behind it.
pub fn checksum(data: &[u8]) -> u64 {
    let mut h = Fnv::new();
    h.update(data);
    h.0
}

/// A cursor over the file's bytes whose every failure names the file and the byte offset.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn err(&self, what: impl std::fmt::Display) -> Error {
        Error::format(
            self.path,
            format!("corrupt fastbpe counts file: {what} (at byte {})", self.pos),
        )
    }

    fn truncated(&self) -> Error {
        Error::format(
            self.path,
            format!(
                "truncated fastbpe counts file: it ends at byte {} in the middle of a record \
                 (was it copied or written completely?)",
                self.data.len()
            ),
        )
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(self.truncated());
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.take(1)?[0];
            let bits = (b & 0x7f) as u64;
            if i == 9 && bits > 1 {
                return Err(self.err("a number does not fit in 64 bits"));
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                // Minimal encodings only (no trailing zero groups): one file per content.
                if i > 0 && b == 0 {
                    return Err(self.err("a number is not minimally encoded"));
                }
                return Ok(v);
            }
        }
        Err(self.err("a number does not fit in 64 bits"))
    }

    fn text(&mut self, what: &str) -> Result<String> {
        let n = self.varint()?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.err(format!("{what} is not UTF-8")))
    }
}

/// Parses a counts file's bytes; `path` names the file in errors. Never panics.
pub fn parse(data: &[u8], path: &Path) -> Result<(Provenance, WordCounts)> {
    let mut r = Reader { data, pos: 0, path };
    if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
        return Err(Error::format(
            path,
            "not a fastbpe counts file (it does not start with FBPECNTS); write one with \
             `fastbpe count` or WordCounts.save",
        ));
    }
    r.pos = MAGIC.len();
    let version = r.u32()?;
    if version != VERSION {
        return Err(Error::format(
            path,
            if version > VERSION {
                format!(
                    "counts file version {version} was written by a newer fastbpe; this one \
                     reads version {VERSION}"
                )
            } else {
                format!("unknown counts file version {version}")
            },
        ));
    }
    // Check the checksum before trusting any length (a damaged length is then reported as
    // damage, not as a strange parse error).
    if data.len() < r.pos + 8 {
        return Err(r.truncated());
    }
    let body_end = data.len() - 8;
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&data[body_end..]);
    if checksum(&data[..body_end]) != u64::from_le_bytes(stored) {
        return Err(Error::format(
            path,
            format!(
                "corrupt or truncated fastbpe counts file: checksum mismatch ({} bytes; the \
                 file was damaged or not written completely)",
                data.len()
            ),
        ));
    }
    let mut r = Reader {
        data: &data[..body_end],
        pos: r.pos,
        path,
    };
    let flags = r.u32()?;
    if flags & !FLAG_ORIGIN != 0 {
        return Err(r.err(format!("unknown flags {flags:#x}")));
    }
    let bytes_read = r.u64()?;
    let pattern = r.text("the pattern")?;
    let n_specials = r.varint()?;
    // Each special token takes at least 2 bytes (length + one byte): bound before allocating.
    if n_specials > (r.data.len() - r.pos) as u64 / 2 {
        return Err(r.err(format!("{n_specials} special tokens cannot fit")));
    }
    let mut specials = Vec::with_capacity(n_specials as usize);
    for _ in 0..n_specials {
        let s = r.text("a special token")?;
        if s.is_empty() {
            return Err(r.err("an empty special token"));
        }
        specials.push(s);
    }
    let origin = if flags & FLAG_ORIGIN != 0 {
        if pattern.is_empty() {
            return Err(r.err("an empty pattern"));
        }
        Some(Origin {
            pattern,
            special_tokens: specials,
        })
    } else {
        if !pattern.is_empty() || !specials.is_empty() {
            return Err(r.err("a pattern or special tokens without the origin flag"));
        }
        None
    };
    let n_words = r.u64()?;
    let total = r.u64()?;
    // Each word takes at least 3 bytes (shared, length, count): bound before reserving.
    if n_words > (r.data.len() - r.pos) as u64 / 3 {
        return Err(r.err(format!("{n_words} words cannot fit in the file")));
    }
    let mut counts = WordCounts::new();
    let (mut prev, mut word): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
    let mut sum = 0u64;
    for i in 0..n_words {
        let shared = r.varint()?;
        if shared > prev.len() as u64 {
            return Err(r.err(format!(
                "word {i} shares more bytes than the previous word has"
            )));
        }
        let n = r.varint()?;
        let suffix = r.take(n)?;
        let count = r.varint()?;
        if count == 0 {
            return Err(r.err(format!("word {i} has count 0")));
        }
        word.clear();
        word.extend_from_slice(&prev[..shared as usize]);
        word.extend_from_slice(suffix);
        if i > 0 && word <= prev {
            return Err(r.err(format!("word {i} is out of order")));
        }
        // Canonical front coding shares the longest common prefix.
        if (shared as usize) < prev.len() && suffix.first() == prev.get(shared as usize) {
            return Err(r.err(format!("word {i} does not share its longest prefix")));
        }
        counts.add(&word, count);
        sum = sum.saturating_add(count);
        std::mem::swap(&mut prev, &mut word);
    }
    if r.pos != r.data.len() {
        return Err(r.err("unexpected bytes after the last word"));
    }
    if sum != total {
        return Err(r.err(format!(
            "the counts add up to {sum}, the header says {total}"
        )));
    }
    Ok((Provenance { origin, bytes_read }, counts))
}

/// Writes a counts file to `path` atomically (temporary file + rename: never a half-written
/// file).
pub fn save(prov: &Provenance, counts: &WordCounts, path: &Path) -> Result<()> {
    crate::fsutil::write_atomic(path, &write(prov, counts))
}

/// Reads the counts file at `path`.
pub fn load(path: &Path) -> Result<(Provenance, WordCounts)> {
    parse(&super::read(path)?, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Provenance, WordCounts) {
        let mut counts = WordCounts::new();
        for (w, n) in [
            (&b"the"[..], 7u64),
            (b" the", 1 << 40),
            (b"th", 2),
            (b"", 1),
            (b"\xff\x00", u64::MAX),
            (b" theory", 3),
        ] {
            counts.add(w, n);
        }
        let prov = Provenance {
            origin: Some(Origin {
                pattern: crate::pretokenize::GPT2_PATTERN.to_string(),
                special_tokens: vec!["<|endoftext|>".into(), "<|x|>".into()],
            }),
            bytes_read: 12345,
        };
        (prov, counts)
    }

    #[test]
    fn round_trip_is_exact_and_canonical() {
        let (prov, counts) = sample();
        let bytes = write(&prov, &counts);
        let (p2, c2) = parse(&bytes, Path::new("t.counts")).unwrap();
        assert_eq!(p2, prov);
        assert_eq!(c2.sorted(), counts.sorted());
        assert_eq!(write(&p2, &c2), bytes);
        let (p3, c3) = parse(
            &write(&Provenance::default(), &WordCounts::new()),
            Path::new("e"),
        )
        .unwrap();
        assert!(p3.origin.is_none() && c3.is_empty());
    }

    #[test]
    fn every_truncation_and_byte_flip_is_an_error_naming_the_file() {
        let (prov, counts) = sample();
        let bytes = write(&prov, &counts);
        for n in 0..bytes.len() {
            let e = parse(&bytes[..n], Path::new("cut.counts")).unwrap_err();
            assert!(e.to_string().starts_with("cut.counts: "), "{e}");
        }
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= bit;
                let e = parse(&b, Path::new("bad.counts")).unwrap_err();
                assert!(e.to_string().starts_with("bad.counts: "), "{e}");
            }
        }
    }

    /// With the checksum fixed up, random damage reaches the structure checks: never a panic,
    /// and whatever parses is canonical (writing it back gives the same bytes).
    #[test]
    fn damaged_structure_is_an_error_or_canonical() {
        let (prov, counts) = sample();
        let good = write(&prov, &counts);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let mut b = good.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % (b.len() - 8);
                match next() % 3 {
                    0 => b[i] = next() as u8,
                    1 => {
                        b.insert(i, next() as u8);
                    }
                    _ => {
                        b.remove(i);
                    }
                }
            }
            let body = b.len() - 8;
            let sum = checksum(&b[..body]);
            b[body..].copy_from_slice(&sum.to_le_bytes());
            if let Ok((p, c)) = parse(&b, Path::new("f")) {
                assert_eq!(write(&p, &c), b);
            }
        }
    }

    #[test]
    fn merging_checks_the_origin() {
        let (a, _) = sample();
        let mut b = a.clone();
        b.origin.as_mut().unwrap().special_tokens.pop();
        let e = a.merged(&b).unwrap_err().to_string();
        assert!(e.contains("different special tokens"), "{e}");
        let mut c = a.clone();
        c.origin.as_mut().unwrap().pattern = r"\S+".into();
        assert!(a.merged(&c).unwrap_err().to_string().contains("patterns"));
        let m = a.merged(&Provenance::default()).unwrap();
        assert_eq!(m.origin, a.origin);
        assert_eq!(a.merged(&a).unwrap().bytes_read, 24690);
    }
}
