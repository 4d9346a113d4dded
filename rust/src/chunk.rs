//! Cutting a byte stream or a file into chunks at *safe* boundaries, so that each chunk can be
//! pre-tokenized (and counted, or encoded) on its own and the concatenated result is exactly the
//! result for the whole input.
//!
//! Used by training (`train::count`) and by anything else that streams a corpus in pieces.
//!
//! # What a safe cut is
//!
//! A position `p` (a byte offset) is a safe cut when both hold:
//!
//! 1. **No special token straddles `p`**: no occurrence of any special token's bytes starts before
//!    `p` and ends after it. Then leftmost-longest special-token matching of the whole input equals
//!    matching of `[..p]` followed by matching of `[p..]`: matches that start before `p` end at or
//!    before `p` (so they are all seen, with the same length, in `[..p]`), and the scan resumes at
//!    or before `p` and finds no match starting before `p` that it has not already reported, so its
//!    next match is the first one at or after `p`, as in `[p..]` alone.
//! 2. `p` is either **the start of a special-token occurrence** (the text segment ends there anyway),
//!    or (per [`CutRule`]) **a `\n` whose preceding character is not whitespace**; for GPT-2's
//!    pattern, [`Cutter::find_cut_any`] also takes **a space or tab whose preceding character is not
//!    whitespace**.
//!
//! ## Why whitespace after a non-whitespace character does not change GPT-2 pre-tokens
//!
//! GPT-2's pattern is `'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s`.
//! Let `c` be the (non-whitespace) character before `p` and `w` the whitespace character at `p`
//! (`\n`, or with `find_cut_any` also ` ` or `\t`).
//! * No piece of the whole text contains both `c` and `w`: the contraction, letter, number and
//!   punctuation alternatives match whitespace only as their optional leading space, never after
//!   another character, and the three whitespace alternatives never match `c`. So the pieces of the
//!   whole text have a boundary at `p`.
//! * The pieces of `[..p]` are the pieces of the whole text before `p`: the pattern has no look-behind
//!   and no `^`; the only things that look *past* the end of a match are the possessive runs (a run
//!   of letters, digits or punctuation that reaches `p` stops at `p` in both texts, since `w` is in
//!   none of those classes) and the whitespace alternatives `\s++$` and `\s+(?!\S)`. Those two are
//!   why we must **not** cut inside or right after a whitespace run: in `"a \nb"`, the whole text
//!   gives `"a", " ", "\n", "b"` but `"a \n" | "b"` would give `"a", " \n", "b"` (`\s++$` takes the
//!   run at the end of the chunk). Here every whitespace run inside `[..p]` is followed by a
//!   non-whitespace character inside `[..p]` (at the latest `c`), so `$` and `(?!\S)` see the same
//!   thing in both texts.
//! * The pieces of `[p..]` are the pieces of the whole text from `p` on: matching restarts at `p` in
//!   both (previous match ended at `p`) and never looks behind.
//!
//! The same argument holds for every pattern whose non-whitespace alternatives cannot match `\n`
//! and that has no look-behind (e.g. `\S+`). GPT-4's `cl100k_base` is **not** such a pattern:
//! ` ?[^\s\p{L}\p{N}]++[\r\n]*` glues punctuation to the newlines after it (`".\n"` is one piece).
//! For patterns other than GPT-2's, [`CutRule::for_pattern`] therefore uses the stricter
//! [`CutRule::AlnumNewline`] (the character before `\n` must be an ASCII letter or digit: then no
//! alternative of GPT-2, cl100k, o200k or `\S+` can join it to the `\n`), after probing the
//! pattern on a few strings; a pattern that fails the probe (its matches can run across such a
//! newline, e.g. `[^\n]*\n`) is cut only at special tokens.
//!
//! # Never inside a character or a special token
//!
//! Cuts are only placed at an ASCII whitespace byte or at the first byte of a special token, both of
//! which start a UTF-8 character in valid text, and condition 1 rules out cutting inside a special
//! token.
//!
//! # Which cut
//!
//! Chunk boundaries are *nominal* positions `k * chunk_size`, each moved forward to the first safe
//! cut at or after it ([`Cutter::cut_at_or_after`]); a stretch without any safe cut (no whitespace
//! and no special token) stays one chunk. [`FileChunks::plan`] finds the cuts of a file in
//! parallel, with a sequential fix-up for long cut-less stretches that keeps the total work linear.
//! Any safe cut gives the same result, so special-token cuts are not preferred over others.
//!
//! # Invalid UTF-8
//!
//! [`Utf8Mode::Strict`] (the default) fails with [`Error::Utf8`] naming the file (or stream) and
//! the byte offset of the first invalid byte. [`Utf8Mode::Replace`] substitutes U+FFFD for each
//! maximal invalid subsequence (as `String::from_utf8_lossy` and Python's `errors="replace"` do).
//! Replacing chunk by chunk gives the same text as replacing the whole input, because cuts fall
//! before an ASCII byte or a special token's first byte, neither of which is a UTF-8 continuation
//! byte.
//! Cut positions are always computed on the raw bytes.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, MatchKind};

use crate::error::{Error, Result};
use crate::pretokenize::Pretokenizer;

/// First search window for a safe cut; doubled until a cut (or the end) is found.
const WINDOW: usize = 64 * 1024;

/// Default nominal chunk size for files: large enough that per-chunk overhead (a read, a window
/// scan) is noise, small enough that 2-64 threads share even a 10 MB file evenly.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;

/// Where, besides special tokens, a chunk may be cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutRule {
    /// Before a `\n` whose preceding character is not whitespace (proved safe for GPT-2's pattern
    /// above).
    NonSpaceNewline,
    /// Before a `\n` whose preceding character is an ASCII letter or digit (safe for GPT-2,
    /// cl100k, o200k and whitespace-splitting patterns).
    AlnumNewline,
    /// Only before special tokens (for patterns where newlines are not safe).
    SpecialOnly,
}

impl CutRule {
    /// The rule for a pre-tokenizer: `NonSpaceNewline` for GPT-2's pattern (proved above);
    /// `AlnumNewline` for another pattern, if it passes a probe (below); else `SpecialOnly`.
    ///
    /// The probe cuts short strings such as `"ab\ncd"` before their `\n` and checks that the
    /// pieces of the two halves are the pieces of the whole. It catches patterns whose matches
    /// run across a newline (`[^\n]*\n`, `\S+\s*`, `(?s).+`), which then are cut only at special
    /// tokens: still exact, but a file without special tokens becomes one chunk (one thread).
    pub fn for_pattern(pretokenizer: &Pretokenizer) -> Self {
        if pretokenizer.is_gpt2() {
            return CutRule::NonSpaceNewline;
        }
        const LEFT: [&str; 9] = ["a", "ab", "Ab9", "x y1", " a", "a.b", "1", "12345", "é z"];
        const RIGHT: [&str; 8] = [
            "\n", "\nb", "\n\n", "\n c", "\n\nd e", "\n\n\n1", "\n.", "\n\t x",
        ];
        for l in LEFT {
            for r in RIGHT {
                let whole = format!("{l}{r}");
                let (Ok(a), Ok(b), Ok(w)) = (
                    pretokenizer.pieces(l),
                    pretokenizer.pieces(r),
                    pretokenizer.pieces(&whole),
                ) else {
                    return CutRule::SpecialOnly;
                };
                if a.len() + b.len() != w.len()
                    || a.iter().chain(b.iter()).zip(w.iter()).any(|(x, y)| x != y)
                {
                    return CutRule::SpecialOnly;
                }
            }
        }
        CutRule::AlnumNewline
    }
}

/// What to do with bytes that are not UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Utf8Mode {
    /// Fail with [`Error::Utf8`] naming the input and the byte offset.
    #[default]
    Strict,
    /// Substitute U+FFFD for each maximal invalid subsequence.
    Replace,
}

impl Utf8Mode {
    /// Parses Python's `errors=` spelling: `"strict"` or `"replace"`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "strict" => Ok(Utf8Mode::Strict),
            "replace" => Ok(Utf8Mode::Replace),
            other => Err(Error::value(format!(
                "errors must be \"strict\" or \"replace\", not {other:?}"
            ))),
        }
    }
}

/// Decodes one chunk that starts at byte `offset` of the input named `context`.
pub fn decode<'a>(
    bytes: &'a [u8],
    mode: Utf8Mode,
    context: &str,
    offset: u64,
) -> Result<Cow<'a, str>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => match mode {
            Utf8Mode::Replace => Ok(String::from_utf8_lossy(bytes)),
            Utf8Mode::Strict => Err(Error::Utf8 {
                context: context.to_string(),
                offset: offset + e.valid_up_to() as u64,
            }),
        },
    }
}

/// Result of looking for a cut in a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// A safe cut at this index of the buffer.
    At(usize),
    /// Undecided: more bytes after the buffer are needed.
    NeedMore,
    /// No safe cut before the end of the input (the buffer reaches the end).
    End,
}

/// Finds safe cuts (see the module docs). Cheap to clone; share one per input.
#[derive(Clone, Debug)]
pub struct Cutter {
    rule: CutRule,
    specials: Vec<Vec<u8>>,
    automaton: Option<AhoCorasick>,
    max_special_len: usize,
}

impl Cutter {
    pub fn new(special_tokens: &[String], rule: CutRule) -> Result<Self> {
        let specials: Vec<Vec<u8>> = special_tokens
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| t.as_bytes().to_vec())
            .collect();
        let automaton = if specials.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&specials)
                    .map_err(|e| {
                        Error::value(format!("cannot build special-token matcher: {e}"))
                    })?,
            )
        };
        let max_special_len = specials.iter().map(|s| s.len()).max().unwrap_or(0);
        Ok(Cutter {
            rule,
            specials,
            automaton,
            max_special_len,
        })
    }

    pub fn rule(&self) -> CutRule {
        self.rule
    }

    /// Bytes before a candidate that deciding it may look at.
    fn lookbehind(&self) -> usize {
        self.max_special_len.max(4)
    }

    /// Whether some special-token occurrence starts before `p` and ends after it.
    /// `buf[lo..]` is what may be looked at (bytes before `lo` belong to an earlier, already
    /// safely cut chunk, so no occurrence that straddles `p` can start there).
    fn straddled(&self, buf: &[u8], lo: usize, p: usize) -> bool {
        self.specials.iter().any(|t| {
            let first = p.saturating_sub(t.len() - 1).max(lo);
            (first..p).any(|s| buf.get(s..s + t.len()) == Some(t.as_slice()))
        })
    }

    /// Whether the character ending at `p` (exclusive) qualifies under the newline rule.
    fn newline_ok(&self, buf: &[u8], lo: usize, p: usize) -> bool {
        match self.rule {
            CutRule::SpecialOnly => false,
            CutRule::AlnumNewline => p > lo && buf[p - 1].is_ascii_alphanumeric(),
            CutRule::NonSpaceNewline => {
                // Decode the character that ends at `p`: up to 4 bytes back to its lead byte.
                let start = p.saturating_sub(4).max(lo);
                let Some(lead) = (start..p).rev().find(|&i| (buf[i] & 0xC0) != 0x80) else {
                    return false;
                };
                match std::str::from_utf8(&buf[lead..p])
                    .ok()
                    .and_then(|s| s.chars().next())
                {
                    Some(c) => !c.is_whitespace(),
                    None => false, // invalid UTF-8 before the newline: not a cut
                }
            }
        }
    }

    /// Finds the first safe cut `p` with `from <= p` in `buf`, looking back no further than `lo`.
    /// `eof` says whether `buf` reaches the end of the input; when it does not, a candidate whose
    /// decision needs bytes after `buf` yields `NeedMore`, as does having found no cut.
    pub fn find_cut(&self, buf: &[u8], lo: usize, from: usize, eof: bool) -> Cut {
        self.find_cut_impl(buf, lo, from, eof, false)
    }

    /// Like [`Cutter::find_cut`], but with [`CutRule::NonSpaceNewline`] (GPT-2's pattern) it also
    /// takes a cut before a space or a tab that follows a non-whitespace character. That is safe
    /// for the same reason as the newline (no GPT-2 piece has whitespace after a non-whitespace
    /// character, and the whitespace run is matched the same way from the cut on), and it finds a
    /// cut within a few bytes in any text with spaces, including text with no newline at all.
    pub fn find_cut_any(&self, buf: &[u8], lo: usize, from: usize, eof: bool) -> Cut {
        self.find_cut_impl(buf, lo, from, eof, self.rule == CutRule::NonSpaceNewline)
    }

    fn find_cut_impl(&self, buf: &[u8], lo: usize, from: usize, eof: bool, wide: bool) -> Cut {
        let from = from.min(buf.len());
        let use_newlines = self.rule != CutRule::SpecialOnly;
        let next_ws = |at: usize| -> Option<usize> {
            if !use_newlines {
                None
            } else if wide {
                memchr::memchr3(b'\n', b' ', b'\t', &buf[at..]).map(|i| at + i)
            } else {
                memchr::memchr(b'\n', &buf[at..]).map(|i| at + i)
            }
        };
        let mut specials = self
            .automaton
            .as_ref()
            .map(|ac| ac.find_iter(aho_corasick::Input::new(buf).range(from..)));
        let mut next_special = specials
            .as_mut()
            .and_then(|it| it.next())
            .map(|m| m.start());
        let mut next_nl = next_ws(from);
        loop {
            let (p, is_special) = match (next_nl, next_special) {
                (None, None) => return if eof { Cut::End } else { Cut::NeedMore },
                (Some(n), None) => (n, false),
                (None, Some(s)) => (s, true),
                (Some(n), Some(s)) => {
                    if s <= n {
                        (s, true)
                    } else {
                        (n, false)
                    }
                }
            };
            // Deciding `p` looks at up to `max_special_len - 1` bytes after it.
            if !eof && p + self.max_special_len > buf.len() {
                return Cut::NeedMore;
            }
            let ok = (is_special || self.newline_ok(buf, lo, p)) && !self.straddled(buf, lo, p);
            // A cut at `lo` would make an empty chunk; look further.
            if ok && p > lo {
                return Cut::At(p);
            }
            if is_special && Some(p) == next_special {
                next_special = specials
                    .as_mut()
                    .and_then(|it| it.next())
                    .map(|m| m.start());
            }
            if Some(p) == next_nl {
                next_nl = next_ws(p + 1);
            }
        }
    }

    /// The first safe cut (per [`Cutter::find_cut_any`]) at or after byte `x` of a seekable input
    /// of `len` bytes, reading a window after `x` that starts at 4 KiB and doubles up to
    /// `max_window` bytes. `Ok(None)`: no decision within `max_window` (`usize::MAX`: unbounded,
    /// then the answer is the cut or `len`).
    pub fn cut_at_or_after<R: ReadAt + ?Sized>(
        &self,
        input: &R,
        len: u64,
        x: u64,
        max_window: usize,
        path: &Path,
    ) -> Result<Option<u64>> {
        if x == 0 || x >= len {
            return Ok(Some(x.min(len)));
        }
        let back = (self.lookbehind() as u64).min(x);
        let start = x - back;
        let mut window: u64 = 4096;
        let mut buf = Vec::new();
        loop {
            let end = x.saturating_add(window).min(len);
            buf.resize((end - start) as usize, 0);
            input
                .read_exact_at(&mut buf, start)
                .map_err(|e| Error::io(path, e))?;
            let eof = end == len;
            match self.find_cut_any(&buf, 0, back as usize, eof) {
                Cut::At(p) => return Ok(Some(start + p as u64)),
                Cut::End => return Ok(Some(len)),
                Cut::NeedMore if eof => return Ok(Some(len)),
                Cut::NeedMore if window >= max_window as u64 => return Ok(None),
                Cut::NeedMore => window = window.saturating_mul(2).min(max_window as u64),
            }
        }
    }
}

/// Positional reads (`pread`), so several threads can read one file without sharing a cursor.
pub trait ReadAt {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

impl ReadAt for File {
    #[cfg(unix)]
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            match self.seek_read(buf, offset) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl ReadAt for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let start = usize::try_from(offset)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        let src = self
            .get(start..start + buf.len())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// Opens a corpus file for reading, with the errors users expect: a missing file is `NotFound`,
/// a directory is `IsADirectory` (not a confusing read error later).
pub fn open_file(path: &Path) -> Result<(File, u64)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "is a directory, not a file",
            ),
        ));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // Size from the open handle (the path could have changed between the two calls).
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    Ok((file, len))
}

/// How far the parallel pass of [`FileChunks::plan`] looks for a cut after each nominal boundary.
const PLAN_WINDOW: usize = 64 * 1024;

/// A file split into chunks at safe cuts.
///
/// Chunk boundaries are the nominal positions `k * chunk_size`, each moved forward to a safe cut.
/// [`FileChunks::plan`] finds them in two passes, so that the cost is linear even for a file with
/// long stretches that have no safe cut:
/// 1. in parallel, each nominal boundary looks for the first cut within 64 KiB after it;
/// 2. in order, a boundary that found none takes the previous boundary's cut if that already lies
///    beyond it (the stretch in between has no cut), else searches on, unbounded, from itself.
///
/// Cuts are then made non-decreasing (each is a safe cut, so their maximum is too), and the
/// chunks between consecutive distinct cuts tile the file.
#[derive(Debug, Clone)]
pub struct FileChunks {
    pub path: PathBuf,
    pub len: u64,
    /// Chunk boundaries: `0`, the cuts, `len`; strictly increasing.
    pub cuts: Vec<u64>,
}

impl FileChunks {
    /// Plans the chunks of `file` (`len` bytes); the parallel pass runs on the current rayon pool.
    pub fn plan<R: ReadAt + Sync + ?Sized>(
        path: impl Into<PathBuf>,
        file: &R,
        len: u64,
        chunk_size: usize,
        cutter: &Cutter,
    ) -> Result<Self> {
        use rayon::prelude::*;
        let path = path.into();
        let size = chunk_size.max(1) as u64;
        let nominal: Vec<u64> = (1..len.div_ceil(size)).map(|k| k * size).collect();
        let found: Vec<Option<u64>> = nominal
            .par_iter()
            .map(|&x| cutter.cut_at_or_after(file, len, x, PLAN_WINDOW, &path))
            .collect::<Result<_>>()?;
        let mut cuts = Vec::with_capacity(nominal.len() + 2);
        cuts.push(0u64);
        let mut last = 0u64;
        for (&x, f) in nominal.iter().zip(found) {
            let c = match f {
                Some(c) => c,
                None if last >= x => last,
                None => cutter
                    .cut_at_or_after(file, len, x, usize::MAX, &path)?
                    .unwrap_or(len),
            };
            let c = c.max(last);
            if c > last && c < len {
                cuts.push(c);
            }
            last = c;
        }
        if len > 0 {
            cuts.push(len);
        }
        Ok(FileChunks { path, len, cuts })
    }

    /// The chunks, in order (none is empty).
    pub fn ranges(&self) -> impl Iterator<Item = std::ops::Range<u64>> + '_ {
        self.cuts.windows(2).map(|w| w[0]..w[1])
    }

    /// Reads `range` of `file` into `buf` (resized to fit).
    pub fn read<R: ReadAt + ?Sized>(
        &self,
        file: &R,
        range: std::ops::Range<u64>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let n = usize::try_from(range.end - range.start)
            .map_err(|_| Error::value("chunk too large for this platform"))?;
        buf.resize(n, 0);
        file.read_exact_at(buf, range.start)
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// One chunk of a stream: its bytes and where they start in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u64,
    pub data: Vec<u8>,
}

/// Splits any `Read` (a pipe, stdin, a file read sequentially) into chunks at safe cuts, with
/// bounded memory: about `chunk_size` plus a search window (longer only when a stretch of the
/// input has no safe cut).
pub struct ChunkReader<R: Read> {
    inner: R,
    cutter: Cutter,
    chunk_size: usize,
    buf: Vec<u8>,
    offset: u64,
    eof: bool,
    name: String,
}

impl<R: Read> ChunkReader<R> {
    /// `name` is used in error messages (a path, or `"<stdin>"`).
    pub fn new(inner: R, cutter: Cutter, chunk_size: usize, name: impl Into<String>) -> Self {
        ChunkReader {
            inner,
            cutter,
            chunk_size: chunk_size.max(1),
            buf: Vec::new(),
            offset: 0,
            eof: false,
            name: name.into(),
        }
    }

    /// Reads until `buf` holds at least `want` bytes or the input ends.
    fn fill(&mut self, want: usize) -> Result<()> {
        while !self.eof && self.buf.len() < want {
            let old = self.buf.len();
            let grow = (want - old).max(WINDOW);
            self.buf.resize(old + grow, 0);
            let mut filled = old;
            while filled < self.buf.len() {
                match self.inner.read(&mut self.buf[filled..]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.buf.truncate(filled);
                        return Err(Error::io(&self.name, e));
                    }
                }
            }
            self.buf.truncate(filled);
        }
        Ok(())
    }

    /// The next chunk, or `None` at the end of the input. Chunks are never empty.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        let mut want = self.chunk_size + WINDOW;
        loop {
            self.fill(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            let from = self.chunk_size.min(self.buf.len());
            let cut = match self.cutter.find_cut_any(&self.buf, 0, from, self.eof) {
                Cut::At(p) => Some(p),
                Cut::End => Some(self.buf.len()),
                Cut::NeedMore if self.eof => Some(self.buf.len()),
                Cut::NeedMore => None,
            };
            if let Some(p) = cut {
                let rest = self.buf.split_off(p);
                let data = std::mem::replace(&mut self.buf, rest);
                let chunk = Chunk {
                    offset: self.offset,
                    data,
                };
                self.offset += p as u64;
                return Ok(Some(chunk));
            }
            want = self.buf.len().saturating_mul(2);
        }
    }
}

impl<R: Read> Iterator for ChunkReader<R> {
    type Item = Result<Chunk>;
    fn next(&mut self) -> Option<Result<Chunk>> {
        self.next_chunk().transpose()
    }
}

/// Splits an in-memory text into pieces of about `chunk_size` bytes at safe cuts (for parallel
/// work on one long string). The pieces concatenate to `text`.
pub fn split_str<'t>(cutter: &Cutter, text: &'t str, chunk_size: usize) -> Vec<&'t str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let from = start.saturating_add(chunk_size.max(1));
        let end = if from >= bytes.len() {
            bytes.len()
        } else {
            match cutter.find_cut_any(bytes, start, from, true) {
                Cut::At(p) => p,
                _ => bytes.len(),
            }
        };
        // Cuts are at '\n' or a special token's first byte: always char boundaries of a &str.
        match text.get(start..end) {
            Some(piece) => out.push(piece),
            None => {
                out.push(&text[start..]);
                break;
            }
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cutter(specials: &[&str], rule: CutRule) -> Cutter {
        let s: Vec<String> = specials.iter().map(|s| s.to_string()).collect();
        Cutter::new(&s, rule).unwrap()
    }

    fn all_cuts(c: &Cutter, text: &[u8]) -> Vec<usize> {
        (1..text.len())
            .filter(|&x| c.find_cut(text, 0, x, true) == Cut::At(x))
            .collect()
    }

    #[test]
    fn newline_after_non_space_only() {
        let c = cutter(&[], CutRule::NonSpaceNewline);
        // "a \nb\n\nc é\n"
        let t = "a \nb\n\nc é\nx".as_bytes();
        let cuts = all_cuts(&c, t);
        // after "b" (index 4) and after "é" (index 10); not after " " or after "\n".
        assert_eq!(cuts, vec![4, 10]);
    }

    #[test]
    fn alnum_rule_is_stricter() {
        let c = cutter(&[], CutRule::AlnumNewline);
        let t = b"a.\nb\nc";
        assert_eq!(all_cuts(&c, t), vec![4]);
        let c = cutter(&[], CutRule::SpecialOnly);
        assert!(all_cuts(&c, t).is_empty());
    }

    #[test]
    fn special_tokens_are_cuts_unless_straddled() {
        let c = cutter(&["<|eot|>", "x<|e"], CutRule::SpecialOnly);
        let t = b"ab<|eot|>cd x<|eot|>";
        // "<|eot|>" at 2 is a cut; the one at 13 is straddled by "x<|e" at 12, which is itself a cut.
        assert_eq!(all_cuts(&c, t), vec![2, 12]);
    }

    #[test]
    fn never_inside_a_special_token_containing_newline() {
        let c = cutter(&["a\nb"], CutRule::NonSpaceNewline);
        let t = b"xa\nby\nz";
        assert_eq!(all_cuts(&c, t), vec![1, 5]);
    }

    #[test]
    fn need_more_at_buffer_end() {
        let c = cutter(&["<|endoftext|>"], CutRule::NonSpaceNewline);
        assert_eq!(c.find_cut(b"abc", 0, 1, false), Cut::NeedMore);
        assert_eq!(c.find_cut(b"abc", 0, 1, true), Cut::End);
        // A newline near the end cannot be decided without the bytes after it.
        assert_eq!(c.find_cut(b"ab\n<|end", 0, 1, false), Cut::NeedMore);
        assert_eq!(c.find_cut(b"ab\n<|endoftext|>", 0, 1, false), Cut::At(2));
    }

    fn lcg_text(n: usize, seed: u64) -> Vec<u8> {
        let alphabet: Vec<&str> = vec![
            "a", "b", " ", "\n", "é", "<|s|>", ".", "  ", "\n\n", "x1", "\t", "\r\n", "\u{3000}",
            "\u{a0}", "'s", "7", "!!", " \n", "世",
        ];
        let mut s = seed;
        let mut out = Vec::new();
        while out.len() < n {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.extend_from_slice(alphabet[(s >> 33) as usize % alphabet.len()].as_bytes());
        }
        out
    }

    #[test]
    fn file_chunks_tile_and_match_reader() {
        let c = cutter(&["<|s|>"], CutRule::NonSpaceNewline);
        for seed in 0..20u64 {
            let text = lcg_text(5000, seed);
            for size in [1usize, 7, 64, 1000, 10000] {
                let fc =
                    FileChunks::plan("mem", text.as_slice(), text.len() as u64, size, &c).unwrap();
                assert_eq!(fc.cuts.first().copied(), Some(0));
                assert_eq!(fc.cuts.last().copied(), Some(text.len() as u64));
                for w in fc.cuts.windows(2) {
                    assert!(w[0] < w[1]);
                    let p = w[0] as usize;
                    if p > 0 {
                        assert_eq!(c.find_cut_any(&text, 0, p, true), Cut::At(p));
                    }
                }
                let reader = ChunkReader::new(text.as_slice(), c.clone(), size, "mem");
                let mut joined = Vec::new();
                for ch in reader {
                    let ch = ch.unwrap();
                    assert_eq!(ch.offset as usize, joined.len());
                    assert!(!ch.data.is_empty());
                    joined.extend_from_slice(&ch.data);
                }
                assert_eq!(joined, text);
                let s = std::str::from_utf8(&text).unwrap();
                assert_eq!(split_str(&c, s, size).concat(), s);
            }
        }
    }

    #[test]
    fn gpt2_pieces_unchanged_by_cuts() {
        let p = Pretokenizer::gpt2();
        let c = cutter(&[], CutRule::NonSpaceNewline);
        for seed in 0..30u64 {
            let text = String::from_utf8(lcg_text(3000, seed)).unwrap();
            let whole = p.pieces(&text).unwrap();
            for size in [1usize, 5, 50, 500] {
                let mut joined = Vec::new();
                for part in split_str(&c, &text, size) {
                    joined.extend(p.pieces(part).unwrap());
                }
                assert_eq!(joined, whole, "seed {seed} size {size}");
            }
        }
    }

    #[test]
    fn rule_for_patterns() {
        let rule = |p: &str| CutRule::for_pattern(&Pretokenizer::from_pattern(p).unwrap());
        assert_eq!(
            CutRule::for_pattern(&Pretokenizer::gpt2()),
            CutRule::NonSpaceNewline
        );
        assert_eq!(rule(r"\S+"), CutRule::AlnumNewline);
        let cl100k = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+";
        assert_eq!(rule(cl100k), CutRule::AlnumNewline);
        assert_eq!(rule(r"[^\n]*\n"), CutRule::SpecialOnly);
        assert_eq!(rule(r"\S+\s*"), CutRule::SpecialOnly);
        assert_eq!(rule(r"(?s).+"), CutRule::SpecialOnly);
    }

    #[test]
    fn plan_is_linear_without_newlines() {
        let c = cutter(&["<|endoftext|>"], CutRule::NonSpaceNewline);
        // Spaces but no newline: cuts at spaces, every chunk about chunk_size.
        let text = "the quick brown fox. ".repeat(50_000).into_bytes();
        let fc = FileChunks::plan("mem", text.as_slice(), text.len() as u64, 4096, &c).unwrap();
        assert!(fc.cuts.len() > text.len() / 4096 - 2);
        assert!(fc.ranges().all(|r| r.end - r.start < 4096 + 64));
        // No whitespace at all: one chunk, found by one linear search.
        let text = "x".repeat(3_000_000).into_bytes();
        let t = std::time::Instant::now();
        let fc = FileChunks::plan("mem", text.as_slice(), text.len() as u64, 1000, &c).unwrap();
        assert_eq!(fc.cuts, vec![0, text.len() as u64]);
        // Linear: ~0.1 s in a debug build. Quadratic (each of the 3000 nominal boundaries searching
        // to the end) would be ~4.5e9 byte steps, minutes; the bound is loose for loaded machines.
        assert!(t.elapsed().as_secs_f64() < 20.0, "{:?}", t.elapsed());
    }

    #[test]
    fn utf8_policy() {
        let bad = b"ab\xffcd";
        match decode(bad, Utf8Mode::Strict, "f.txt", 100) {
            Err(Error::Utf8 { context, offset }) => {
                assert_eq!(context, "f.txt");
                assert_eq!(offset, 102);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decode(bad, Utf8Mode::Replace, "f", 0).unwrap(),
            "ab\u{FFFD}cd"
        );
        assert!(Utf8Mode::parse("ignore").is_err());
    }

    #[test]
    fn invalid_utf8_before_newline_is_not_a_cut() {
        let c = cutter(&[], CutRule::NonSpaceNewline);
        assert_eq!(all_cuts(&c, b"a\xe2\x82\nb\nc"), vec![5]);
    }
}
