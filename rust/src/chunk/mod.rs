//! Reading inputs in chunks that can be pre-tokenized (and counted, or encoded) on their own:
//! the concatenated result is exactly the result for the whole input, because every chunk
//! boundary is a safe cut of `crate::cut` (the one rule; its argument is in `cut/README.md`).
//!
//! * [`FileChunks`]: a regular file, planned up front and read with positional reads by many
//!   threads (training).
//! * [`ChunkReader`]: any `Read` (a file read in order, standard input, a FIFO, `<(zcat ...)`),
//!   one chunk after another, with memory that grows with need (`encode_file`, training on
//!   streams).
//!
//! # Limits (checked with a clear error, never by running out of memory)
//! * `chunk_size` is at most [`MAX_CHUNK_SIZE`] ([`check_chunk_size`]).
//! * A chunk extends at most [`MAX_UNCUT`] bytes past its nominal end looking for a cut. An input
//!   with no whitespace and no special token for that long (`/dev/zero`, a binary file) is
//!   refused, naming it and the offset ([`no_cut_error`]).
//! * A failed allocation is an error ([`try_reserve`]), not an abort.
//! * A file whose size changes while it is read is refused, naming it ([`changed_size`]).
//!
//! # Invalid UTF-8
//!
//! [`Utf8Mode::Strict`] (the default) fails with [`Error::Utf8`] naming the file (or stream) and
//! the byte offset of the first invalid byte. [`Utf8Mode::Replace`] substitutes U+FFFD for each
//! maximal invalid subsequence (as `String::from_utf8_lossy` and Python's `errors="replace"` do).
//! Replacing chunk by chunk gives the same text as replacing the whole input, because cuts fall
//! before an ASCII byte or a special token's first byte, neither of which is a UTF-8 continuation
//! byte. Cut positions are always computed on the raw bytes.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

mod stream;

pub use self::stream::{par_for_each_chunk, Permits};
pub use crate::cut::{split_str, Cut, CutRule, Cutter};
use crate::error::{Error, Result};

/// Default nominal chunk size for files: large enough that per-chunk overhead (a read, a window
/// scan) is noise, small enough that 2-64 threads share even a 10 MB file evenly.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;

/// Largest accepted `chunk_size` (1 GiB): chunks are held in memory, several at once.
pub const MAX_CHUNK_SIZE: usize = 1 << 30;

/// Bytes a chunk may extend past its nominal end while looking for a safe cut (256 MiB).
pub const MAX_UNCUT: usize = 256 << 20;

/// Bytes read per `read` call at least (and the slack kept beyond a chunk's nominal end).
const READ_BLOCK: usize = 64 * 1024;

/// `chunk_size` if it is within limits (0 means the default).
pub fn check_chunk_size(chunk_size: usize) -> Result<usize> {
    match chunk_size {
        0 => Ok(DEFAULT_CHUNK_SIZE),
        n if n > MAX_CHUNK_SIZE => Err(Error::value(format!(
            "chunk_size {n} is too large: at most {MAX_CHUNK_SIZE} bytes (1 GiB)"
        ))),
        n => Ok(n),
    }
}

/// Grows `buf`'s capacity by `additional` bytes, or fails with an out-of-memory error naming
/// the input (instead of the allocator aborting the process).
pub fn try_reserve(buf: &mut Vec<u8>, additional: usize, name: &str) -> Result<()> {
    buf.try_reserve(additional).map_err(|_| {
        Error::OutOfMemory(format!(
            "out of memory: cannot allocate {} bytes to read {name}",
            buf.len().saturating_add(additional)
        ))
    })
}

/// The error for an input with no safe cut for [`MAX_UNCUT`] bytes after `offset`.
pub fn no_cut_error(name: &str, offset: u64) -> Error {
    Error::value(format!(
        "{name}: no place to cut the input for {MAX_UNCUT} bytes after byte offset {offset} \
         (no whitespace after a non-space character, no special token): is it text?"
    ))
}

/// The error for a file whose size changed while it was read (`read`: bytes read, when known).
pub fn changed_size(name: &str, expected: u64, read: Option<u64>) -> Error {
    let how = match read {
        Some(n) if n > expected => format!("it grew: {n} bytes read, {expected} when opened"),
        Some(n) => format!("it shrank: {n} bytes read, {expected} when opened"),
        None => format!("{expected} bytes when opened"),
    };
    Error::io(
        name,
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file changed while it was being read ({how}); read it once it is complete"
            ),
        ),
    )
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

/// The first safe cut at or after byte `x` of a seekable input of `len` bytes, reading a window
/// after `x` that starts at 4 KiB and doubles up to `max_window` bytes. `Ok(None)`: no decision
/// within `max_window`. The window starts `cutter.context()` bytes before `x`, so each position
/// is decided from its own neighbourhood (`cut` module docs, "Locality").
pub fn cut_at_or_after<R: ReadAt + ?Sized>(
    cutter: &Cutter,
    input: &R,
    len: u64,
    x: u64,
    max_window: usize,
    path: &Path,
) -> Result<Option<u64>> {
    if x == 0 || x >= len {
        return Ok(Some(x.min(len)));
    }
    let back = (cutter.context() as u64).min(x);
    let start = x - back;
    let mut window: u64 = 4096;
    let mut from = back as usize;
    let mut buf = Vec::new();
    loop {
        let end = x.saturating_add(window).min(len);
        let n = (end - start) as usize;
        let more = n.saturating_sub(buf.len());
        try_reserve(&mut buf, more, &path.display().to_string())?;
        buf.resize(n, 0);
        input.read_exact_at(&mut buf, start).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                changed_size(&path.display().to_string(), len, None)
            } else {
                Error::io(path, e)
            }
        })?;
        let eof = end == len;
        match cutter.find_cut(&buf, 0, from, eof) {
            Cut::At(p) => return Ok(Some(start + p as u64)),
            Cut::End => return Ok(Some(len)),
            Cut::NeedMore { .. } if eof => return Ok(Some(len)),
            Cut::NeedMore { .. } if window >= max_window as u64 => return Ok(None),
            Cut::NeedMore { resume } => {
                from = resume;
                window = window.saturating_mul(2).min(max_window as u64);
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

/// Opens a regular file for positional reads: `(file, size)`; see [`crate::fsutil::open_regular`]
/// (a directory is `IsADirectory`, a stream is refused rather than read as empty).
pub fn open_file(path: &Path) -> Result<(File, u64)> {
    crate::fsutil::open_regular(path)
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
///    beyond it (the stretch in between has no cut), else searches on from itself, up to
///    [`MAX_UNCUT`] bytes (then the file is refused: [`no_cut_error`]).
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
            .map(|&x| cut_at_or_after(cutter, file, len, x, PLAN_WINDOW, &path))
            .collect::<Result<_>>()?;
        let mut cuts = Vec::with_capacity(nominal.len() + 2);
        cuts.push(0u64);
        let mut last = 0u64;
        for (&x, f) in nominal.iter().zip(found) {
            let c = match f {
                Some(c) => c,
                None if last >= x => last,
                None => cut_at_or_after(cutter, file, len, x, MAX_UNCUT, &path)?
                    .ok_or_else(|| no_cut_error(&path.display().to_string(), x))?,
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
        // No clear(): a reused buffer of the same size is overwritten by the read, not zeroed.
        if n > buf.len() {
            try_reserve(buf, n - buf.len(), &self.path.display().to_string())?;
        }
        buf.resize(n, 0);
        file.read_exact_at(buf, range.start).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                changed_size(&self.path.display().to_string(), self.len, None)
            } else {
                Error::io(&self.path, e)
            }
        })?;
        // The last chunk also checks that nothing follows: a file that grew while it was read.
        if range.end == self.len {
            let mut one = [0u8; 1];
            if file.read_exact_at(&mut one, self.len).is_ok() {
                return Err(changed_size(
                    &self.path.display().to_string(),
                    self.len,
                    None,
                ));
            }
        }
        Ok(())
    }
}

/// One chunk of a stream: its bytes and where they start in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u64,
    pub data: Vec<u8>,
}

/// Splits any `Read` (a pipe, stdin, a file read in order) into chunks at safe cuts. Memory grows
/// with need: about `chunk_size` plus a 64 KiB read block, longer only while a stretch of the
/// input has no safe cut, and never more than [`MAX_UNCUT`] past the nominal end.
pub struct ChunkReader<R: Read> {
    inner: R,
    cutter: Cutter,
    chunk_size: usize,
    max_uncut: usize,
    buf: Vec<u8>,
    offset: u64,
    eof: bool,
    name: String,
    /// The file's size when opened, for inputs that have one: reading more or less is an error.
    expected_len: Option<u64>,
}

impl<R: Read> ChunkReader<R> {
    /// `name` is used in error messages (a path, or `"<stdin>"`).
    pub fn new(inner: R, cutter: Cutter, chunk_size: usize, name: impl Into<String>) -> Self {
        ChunkReader {
            inner,
            cutter,
            chunk_size: chunk_size.clamp(1, MAX_CHUNK_SIZE),
            max_uncut: MAX_UNCUT,
            buf: Vec::new(),
            offset: 0,
            eof: false,
            name: name.into(),
            expected_len: None,
        }
    }

    /// The input is a file of `len` bytes: a different number of bytes read is an error.
    pub fn expect_len(mut self, len: u64) -> Self {
        self.expected_len = Some(len);
        self
    }

    /// Lowers the [`MAX_UNCUT`] limit (tests).
    pub fn with_max_uncut(mut self, max_uncut: usize) -> Self {
        self.max_uncut = max_uncut.max(1);
        self
    }

    fn read_so_far(&self) -> u64 {
        self.offset + self.buf.len() as u64
    }

    /// Reads until `buf` holds at least `want` bytes or the input ends, growing it step by step
    /// (a huge `chunk_size` on a small file allocates only what the file holds).
    fn fill(&mut self, want: usize) -> Result<()> {
        while !self.eof && self.buf.len() < want {
            let old = self.buf.len();
            let grow = (want - old).min(old.max(READ_BLOCK));
            try_reserve(&mut self.buf, grow, &self.name)?;
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
                        if e.kind() == std::io::ErrorKind::OutOfMemory {
                            return Err(Error::OutOfMemory(format!(
                                "out of memory while reading {}",
                                self.name
                            )));
                        }
                        return Err(Error::io(&self.name, e));
                    }
                }
            }
            self.buf.truncate(filled);
            if let Some(len) = self.expected_len {
                let read = self.read_so_far();
                if read > len || (self.eof && read < len) {
                    return Err(changed_size(&self.name, len, Some(read)));
                }
            }
        }
        Ok(())
    }

    /// The next chunk, or `None` at the end of the input. Chunks are never empty.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        let mut from = self.chunk_size;
        let mut want = self.chunk_size.saturating_add(READ_BLOCK);
        loop {
            self.fill(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            let cut = match self
                .cutter
                .find_cut(&self.buf, 0, from.min(self.buf.len()), self.eof)
            {
                Cut::At(p) => Some(p),
                Cut::End => Some(self.buf.len()),
                Cut::NeedMore { .. } if self.eof => Some(self.buf.len()),
                Cut::NeedMore { resume } => {
                    from = resume; // everything before it is known not to be a cut
                    None
                }
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
            let limit = self.chunk_size.saturating_add(self.max_uncut);
            if from >= limit {
                return Err(no_cut_error(
                    &self.name,
                    self.offset + self.chunk_size as u64,
                ));
            }
            // Doubling keeps re-reading and re-scanning linear while a stretch has no cut.
            want = self
                .buf
                .len()
                .saturating_mul(2)
                .min(limit.saturating_add(self.cutter.context() + READ_BLOCK));
        }
    }
}

impl<R: Read> Iterator for ChunkReader<R> {
    type Item = Result<Chunk>;
    fn next(&mut self) -> Option<Result<Chunk>> {
        self.next_chunk().transpose()
    }
}

#[cfg(test)]
mod tests;
