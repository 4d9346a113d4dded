//! Streaming corpus encoding: text files in, one token file out (`.npy` or raw `.bin`).
//!
//! # Guarantees
//!
//! * **Same ids as one call.** Each input is cut into chunks only at *safe cuts* (`chunk.rs`: before
//!   a special token the encoder recognizes, or before a `\n` that follows a non-whitespace
//!   character), so encoding the chunks separately and concatenating the ids gives exactly
//!   `tokenizer.encode(whole_file)` under the same special-token policy. Several inputs are encoded
//!   each on its own (a file boundary is a document boundary), optionally with a separator id between
//!   consecutive files.
//! * **Bounded memory.** At most `in_flight` chunks (read, being encoded, or encoded and waiting
//!   for their turn to be written) exist at once; each is about `chunk_size` bytes of text plus its
//!   ids. Memory does not grow with the file. (A stretch of input with no safe cut is one chunk, so a
//!   multi-GB file without a single newline is read whole; see `chunk.rs`.)
//! * **Order.** Chunks are numbered as they are read and written strictly in that order.
//! * **All or nothing.** Output goes to a temporary file beside the final one, which is renamed into
//!   place only after everything is written and synced. Errors and Ctrl-C (via [`Monitor`]) remove
//!   the temporary file; nothing ever appears under the final name half-written.
//! * **Errors in input order.** When several chunks fail (e.g. invalid UTF-8), the error reported
//!   is the one earliest in the input, with its absolute byte offset.
//!
//! # Pipeline
//!
//! ```text
//!  reader (calling thread)        rayon pool (N workers)           writer thread
//!  ChunkReader -> chunk k  --spawn-->  decode UTF-8, encode,  --chan-->  reorder by k, write,
//!  takes a permit first                ids -> LE bytes                   give the permit back
//! ```
//!
//! Performance notes:
//! - Reading is sequential (`ChunkReader` on a buffered stream); at 1 MiB chunks the reader spends
//!   ~1 ms per chunk, far less than the ~20-40 ms a worker spends encoding it, so one reader feeds
//!   many workers. Reading with `pread` from several threads (`FileChunks`) was not needed.
//! - Workers turn ids into little-endian `u16`/`u32` bytes themselves, so the writer only copies.
//! - The window (`in_flight`, default `2 * threads + 2`) must exceed the worker count, or workers
//!   idle while the writer waits for a slow chunk; beyond ~2x it only adds memory.
//! - rayon's `in_place_scope` keeps the reader on the calling thread, so all pool threads encode.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::chunk::{self, Chunk, Cut, CutRule, Cutter, Utf8Mode};
use crate::error::{Error, Result};
use crate::monitor::{Monitor, Unit};
use crate::parallel;
use crate::tokenizer::{Allowed, Tokenizer};

/// The input name that means standard input.
pub const STDIN: &str = "-";

/// Layout of the output file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFormat {
    /// NumPy `.npy` version 1.0: a header, then little-endian ids (`numpy.load(..., mmap_mode="r")`).
    Npy,
    /// Raw little-endian ids, no header (nanoGPT's `.bin`; `numpy.memmap(path, dtype)`).
    Bin,
}

impl TokenFormat {
    /// From the output file's extension: `.npy` or `.bin`.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("npy") => Ok(TokenFormat::Npy),
            Some("bin") => Ok(TokenFormat::Bin),
            _ => Err(Error::value(format!(
                "{}: output must end in .npy (NumPy array) or .bin (raw ids)",
                path.display()
            ))),
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "npy" => Ok(TokenFormat::Npy),
            "bin" => Ok(TokenFormat::Bin),
            other => Err(Error::value(format!(
                "token file format must be \"npy\" or \"bin\", not {other:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TokenFormat::Npy => "npy",
            TokenFormat::Bin => "bin",
        }
    }
}

/// Element type of the ids in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    U16,
    U32,
}

impl Dtype {
    /// `U16` when every id of a vocabulary of `n_vocab` ids fits, else `U32`.
    pub fn for_vocab(n_vocab: usize) -> Self {
        if n_vocab <= 1 << 16 {
            Dtype::U16
        } else {
            Dtype::U32
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "uint16" | "u16" | "<u2" => Ok(Dtype::U16),
            "uint32" | "u32" | "<u4" => Ok(Dtype::U32),
            other => Err(Error::value(format!(
                "dtype must be uint16 or uint32, not {other:?}"
            ))),
        }
    }

    pub fn itemsize(self) -> usize {
        match self {
            Dtype::U16 => 2,
            Dtype::U32 => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dtype::U16 => "uint16",
            Dtype::U32 => "uint32",
        }
    }

    fn npy_descr(self) -> &'static str {
        match self {
            Dtype::U16 => "<u2",
            Dtype::U32 => "<u4",
        }
    }
}

/// Which special tokens are recognized in the text (the rest is encoded as ordinary text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecialPolicy {
    All,
    None,
    Only(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct EncodeFileOptions {
    /// Output layout; `None` picks it from the output's extension.
    pub format: Option<TokenFormat>,
    /// Element type; `None` picks `uint16` when the vocabulary fits, else `uint32`.
    pub dtype: Option<Dtype>,
    pub special: SpecialPolicy,
    /// An id written between consecutive input files (e.g. `<|endoftext|>`).
    pub separator: Option<u32>,
    pub utf8: Utf8Mode,
    /// Nominal chunk size in bytes (chunks end at the first safe cut after it).
    pub chunk_size: usize,
    /// Worker threads; 0 uses all cores.
    pub threads: usize,
    /// Most chunks alive at once; 0 picks `2 * threads + 2`.
    pub in_flight: usize,
}

impl Default for EncodeFileOptions {
    fn default() -> Self {
        EncodeFileOptions {
            format: None,
            dtype: None,
            special: SpecialPolicy::All,
            separator: None,
            utf8: Utf8Mode::Strict,
            chunk_size: chunk::DEFAULT_CHUNK_SIZE,
            threads: 0,
            in_flight: 0,
        }
    }
}

/// What an encoding run did.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodeFileStats {
    pub bytes: u64,
    pub tokens: u64,
    pub chunks: u64,
    pub files: usize,
    pub dtype: Dtype,
    pub format: TokenFormat,
    pub seconds: f64,
}

/// Encodes `inputs` (paths; `"-"` is standard input) into one token file at `output`.
pub fn encode_files(
    tok: &Tokenizer,
    inputs: &[PathBuf],
    output: &Path,
    opts: &EncodeFileOptions,
    monitor: &Monitor,
) -> Result<EncodeFileStats> {
    let started = Instant::now();
    let format = match opts.format {
        Some(f) => f,
        None => TokenFormat::from_path(output)?,
    };
    let dtype = check_dtype(tok, opts.dtype)?;
    if let Some(sep) = opts.separator {
        tok.token_bytes(sep).map_err(|_| {
            Error::value(format!(
                "separator id {sep} is not a token of this tokenizer"
            ))
        })?;
    }
    let specials: Vec<String> = match &opts.special {
        SpecialPolicy::All => tok.specials().iter().map(|(s, _)| s.clone()).collect(),
        SpecialPolicy::None => Vec::new(),
        SpecialPolicy::Only(names) => {
            tok.find_special("", names)?; // validates the names
            names.clone()
        }
    };
    let allowed = if specials.is_empty() {
        Allowed::None
    } else if opts.special == SpecialPolicy::All {
        Allowed::All
    } else {
        Allowed::Only(&specials)
    };
    let cutter = Cutter::new(&specials, CutRule::for_pattern(tok.pretokenizer()))?;
    let special_bytes: Vec<Vec<u8>> = specials.iter().map(|s| s.as_bytes().to_vec()).collect();
    let total = check_inputs(inputs, output)?;

    let mut tmp = TempFile::create(output)?;
    let file = tmp
        .file
        .take()
        .ok_or_else(|| Error::value("internal: no temporary file"))?;

    // `parallel::pool`, not rayon's global pool: it is rebuilt after fork() (multiprocessing).
    let pool = parallel::pool(Some(opts.threads))?;
    let workers = pool.current_num_threads();
    let in_flight = if opts.in_flight > 0 {
        opts.in_flight
    } else {
        2 * workers + 2
    };

    monitor.start("encode", Unit::Bytes, total);
    let job = Job {
        tok,
        allowed,
        cutter: &cutter,
        specials: &special_bytes,
        utf8: opts.utf8,
        dtype,
        chunk_size: opts.chunk_size.max(1),
        permits: Permits::new(in_flight),
        stop: AtomicBool::new(false),
        monitor,
    };
    let (tx, rx) = mpsc::channel::<Piece>();
    let tmp_path = tmp.path.clone();
    let (written, reader_result) = std::thread::scope(|scope| {
        let job = &job;
        let writer = scope.spawn(move || write_in_order(job, rx, file, format, &tmp_path));
        let reader_result = pool.in_place_scope(|s| job.read_all(s, inputs, opts.separator, tx));
        // The reader's sender is dropped and every task has finished: the writer sees the end.
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(Error::value("internal error: the writer thread panicked")));
        (written, reader_result)
    });
    // Ends the progress line whatever happened, so an error message starts on a fresh line.
    monitor.finish();
    // The writer reports the earliest failure in input order; the reader's own failure (a read
    // error, Ctrl-C) lies after every chunk it dispatched.
    let (tokens, chunks, bytes) = written?;
    let chunks_read = reader_result?;
    if chunks != chunks_read {
        return Err(Error::value(format!(
            "internal error: {chunks_read} chunks read but {chunks} written"
        )));
    }
    monitor.check()?;
    tmp.commit(output)?;
    Ok(EncodeFileStats {
        bytes,
        tokens,
        chunks,
        files: inputs.len(),
        dtype,
        format,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn check_dtype(tok: &Tokenizer, want: Option<Dtype>) -> Result<Dtype> {
    let auto = Dtype::for_vocab(tok.n_vocab());
    match want {
        None => Ok(auto),
        Some(Dtype::U16) if auto == Dtype::U32 => Err(Error::value(format!(
            "dtype uint16 cannot hold ids up to {} (this vocabulary has {} ids); use uint32",
            tok.n_vocab() - 1,
            tok.n_vocab()
        ))),
        Some(d) => Ok(d),
    }
}

/// Checks the inputs up front (so a typo in the 10th file fails before hours of work) and returns
/// their total size when all are regular files.
fn check_inputs(inputs: &[PathBuf], output: &Path) -> Result<Option<u64>> {
    if inputs.is_empty() {
        return Err(Error::value("no input files given"));
    }
    let out_canon = std::fs::canonicalize(output).ok();
    let mut total = Some(0u64);
    let mut stdin_seen = false;
    for p in inputs {
        if p.as_os_str() == STDIN {
            if stdin_seen {
                return Err(Error::value("standard input (-) can be read only once"));
            }
            stdin_seen = true;
            total = None;
            continue;
        }
        let (_, len) = chunk::open_file(p)?;
        if out_canon.is_some() && std::fs::canonicalize(p).ok() == out_canon {
            return Err(Error::value(format!(
                "{}: the output file is also an input; choose another output name",
                p.display()
            )));
        }
        total = total.map(|t| t + len);
    }
    Ok(total)
}

/// One slot of output, in input order.
struct Piece {
    seq: u64,
    /// Input bytes this piece covers (for progress).
    bytes: u64,
    /// Ids as little-endian bytes of the output dtype, or the error encoding it hit.
    data: Result<Vec<u8>>,
}

struct Job<'a> {
    tok: &'a Tokenizer,
    allowed: Allowed<'a>,
    cutter: &'a Cutter,
    /// The special tokens recognized (and so cut before), as bytes.
    specials: &'a [Vec<u8>],
    utf8: Utf8Mode,
    dtype: Dtype,
    chunk_size: usize,
    permits: Permits,
    /// Set on any failure: the reader stops dispatching new chunks.
    stop: AtomicBool,
    monitor: &'a Monitor,
}

impl<'a> Job<'a> {
    /// Reads every input, dispatching chunks to the pool; returns how many pieces it sent.
    fn read_all<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        inputs: &'s [PathBuf],
        separator: Option<u32>,
        tx: mpsc::Sender<Piece>,
    ) -> Result<u64>
    where
        'a: 's,
    {
        let mut seq = 0u64;
        for (i, path) in inputs.iter().enumerate() {
            if i > 0 {
                if let Some(sep) = separator {
                    self.permits.acquire(self)?;
                    let data = Ok(ids_to_bytes(&[sep], self.dtype));
                    let _ = tx.send(Piece {
                        seq,
                        bytes: 0,
                        data,
                    });
                    seq += 1;
                }
            }
            if path.as_os_str() == STDIN {
                let stdin = std::io::stdin().lock();
                self.read_one(scope, stdin, "<stdin>", &tx, &mut seq)?;
            } else {
                // ChunkReader reads in blocks of 64 KiB or more itself: no BufReader needed.
                let (file, _) = chunk::open_file(path)?;
                self.read_one(scope, file, &path.display().to_string(), &tx, &mut seq)?;
            }
        }
        Ok(seq)
    }

    fn read_one<'s, R: Read>(
        &'s self,
        scope: &rayon::Scope<'s>,
        input: R,
        name: &str,
        tx: &mpsc::Sender<Piece>,
        seq: &mut u64,
    ) -> Result<()>
    where
        'a: 's,
    {
        let context: std::sync::Arc<str> = name.into();
        let mut chunks = Chunker::new(input, self.cutter, self.specials, self.chunk_size, name);
        loop {
            self.permits.acquire(self)?;
            let chunk = match chunks.next_chunk() {
                Ok(Some(c)) => c,
                Ok(None) => {
                    self.permits.release();
                    return Ok(());
                }
                Err(e) => {
                    self.permits.release();
                    return Err(e);
                }
            };
            let n = *seq;
            *seq += 1;
            let tx = tx.clone();
            let context = context.clone();
            scope.spawn(move |_| {
                let data = self.encode_chunk(&chunk.data, &context, chunk.offset);
                if data.is_err() {
                    self.stop.store(true, Ordering::Relaxed);
                }
                let bytes = chunk.data.len() as u64;
                drop(chunk);
                let _ = tx.send(Piece {
                    seq: n,
                    bytes,
                    data,
                });
            });
        }
    }

    fn encode_chunk(&self, data: &[u8], context: &str, offset: u64) -> Result<Vec<u8>> {
        let text = chunk::decode(data, self.utf8, context, offset)?;
        let mut ids = Vec::with_capacity(text.len() / 3 + 16);
        self.tok.encode_into(&text, self.allowed, &mut ids)?;
        Ok(ids_to_bytes(&ids, self.dtype))
    }

    fn should_stop(&self) -> Result<()> {
        self.monitor.check()?;
        if self.stop.load(Ordering::Relaxed) {
            // The real error travels to the writer in its piece; this one is never reported.
            return Err(Error::value("stopped after an earlier error"));
        }
        Ok(())
    }
}

/// Chunks bigger than `FALLBACK_AFTER * chunk_size` without a `chunk.rs` safe cut are cut by the
/// wider fallback rule of [`Chunker`].
const FALLBACK_AFTER: usize = 2;

/// Bytes read per `read` call at least (and the slack kept beyond a chunk's nominal end).
const READ_BLOCK: usize = 64 * 1024;

/// Cuts a stream into chunks at safe cuts: `chunk.rs`'s rule first (before a recognized special
/// token, or before a `\n` after a non-space), like `chunk::ChunkReader`, plus a fallback so that
/// memory stays bounded and work parallel on inputs where that rule finds no cut for a long
/// stretch: CRLF files (every `\n` follows `\r`, which is whitespace) and files without newlines.
///
/// Fallback rule, tried only once a chunk has grown past `FALLBACK_AFTER * chunk_size`:
/// * GPT-2's pattern: before any ASCII whitespace byte that follows a non-whitespace character.
///   This is `chunk.rs`'s argument with `\n` replaced by any `\s` character: it used only that the
///   character at the cut is whitespace and the one before is not (no alternative of the pattern
///   matches across such a point; whitespace runs before it end at a non-space inside the chunk;
///   matching restarts at the cut in both texts).
/// * Other patterns (`chunk.rs`'s `AlnumNewline`): before a `\r` that follows an ASCII letter or
///   digit (the CRLF form of that rule; `\r` is whitespace and `[\r\n]` in every pattern it names).
/// * Special-token-only cutting: no fallback.
///
/// In both cases the cut must not be straddled by a recognized special token.
struct Chunker<'c, R: Read> {
    inner: R,
    cutter: &'c Cutter,
    specials: &'c [Vec<u8>],
    max_special: usize,
    chunk_size: usize,
    buf: Vec<u8>,
    offset: u64,
    eof: bool,
    name: String,
}

impl<'c, R: Read> Chunker<'c, R> {
    fn new(
        inner: R,
        cutter: &'c Cutter,
        specials: &'c [Vec<u8>],
        chunk_size: usize,
        name: &str,
    ) -> Self {
        Chunker {
            inner,
            cutter,
            specials,
            max_special: specials.iter().map(Vec::len).max().unwrap_or(0),
            chunk_size: chunk_size.max(1),
            buf: Vec::new(),
            offset: 0,
            eof: false,
            name: name.to_string(),
        }
    }

    /// Reads until `buf` holds at least `want` bytes or the input ends.
    fn fill(&mut self, want: usize) -> Result<()> {
        while !self.eof && self.buf.len() < want {
            let old = self.buf.len();
            self.buf.resize(old + (want - old).max(READ_BLOCK), 0);
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

    /// The next chunk (never empty), or `None` at the end of the input.
    fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        let mut want = self.chunk_size + READ_BLOCK;
        loop {
            self.fill(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            let from = self.chunk_size.min(self.buf.len());
            let primary = self.cutter.find_cut(&self.buf, 0, from, self.eof);
            let cut = match primary {
                Cut::At(p) => Some(p),
                Cut::End | Cut::NeedMore => None,
            }
            .or_else(|| {
                (self.buf.len() >= FALLBACK_AFTER * self.chunk_size)
                    .then(|| self.fallback_cut(from))
                    .flatten()
            })
            .or_else(|| (primary == Cut::End || self.eof).then_some(self.buf.len()));
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
            // Doubling keeps re-scanning linear overall when a long stretch has no cut at all.
            want = self.buf.len().saturating_mul(2);
        }
    }

    /// The first fallback cut at or after `from` that can be decided from `buf`.
    fn fallback_cut(&self, from: usize) -> Option<usize> {
        let rule = self.cutter.rule();
        if rule == CutRule::SpecialOnly {
            return None;
        }
        // Deciding `p` looks at most `max_special - 1` bytes past it (none exist past the end).
        let end = if self.eof {
            self.buf.len()
        } else {
            self.buf.len().checked_sub(self.max_special)?
        };
        (from.max(1)..end).find(|&p| {
            let ok = match rule {
                CutRule::NonSpaceNewline => {
                    self.buf[p].is_ascii_whitespace() && self.non_space_before(p)
                }
                CutRule::AlnumNewline => {
                    self.buf[p] == b'\r' && self.buf[p - 1].is_ascii_alphanumeric()
                }
                CutRule::SpecialOnly => false,
            };
            ok && !self.straddled(p)
        })
    }

    /// Whether the character that ends at `p` is valid UTF-8 and not whitespace.
    fn non_space_before(&self, p: usize) -> bool {
        let start = p.saturating_sub(4);
        let Some(lead) = (start..p).rev().find(|&i| (self.buf[i] & 0xC0) != 0x80) else {
            return false;
        };
        match std::str::from_utf8(&self.buf[lead..p]) {
            Ok(s) => s.chars().next().is_some_and(|c| !c.is_whitespace()),
            Err(_) => false,
        }
    }

    /// Whether an occurrence of a recognized special token starts before `p` and ends after it.
    /// (None can start before the buffer: the buffer starts at a safe cut.)
    fn straddled(&self, p: usize) -> bool {
        self.specials.iter().any(|t| {
            let first = p.saturating_sub(t.len().saturating_sub(1));
            (first..p).any(|s| self.buf.get(s..s + t.len()) == Some(t.as_slice()))
        })
    }
}

fn ids_to_bytes(ids: &[u32], dtype: Dtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * dtype.itemsize());
    match dtype {
        // `check_dtype` guarantees every id fits when U16 is chosen.
        Dtype::U16 => ids
            .iter()
            .for_each(|&i| out.extend_from_slice(&(i as u16).to_le_bytes())),
        Dtype::U32 => ids
            .iter()
            .for_each(|&i| out.extend_from_slice(&i.to_le_bytes())),
    }
    out
}

/// Receives pieces in any order, writes them in sequence order. Returns (tokens, pieces, bytes).
fn write_in_order(
    job: &Job<'_>,
    rx: mpsc::Receiver<Piece>,
    file: File,
    format: TokenFormat,
    path: &Path,
) -> Result<(u64, u64, u64)> {
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let io = |e| Error::io(path, e);
        if format == TokenFormat::Npy {
            out.write_all(&npy_header(job.dtype, 0)).map_err(io)?;
        }
        let mut pending: BTreeMap<u64, Piece> = BTreeMap::new();
        let (mut next, mut tokens, mut bytes) = (0u64, 0u64, 0u64);
        for piece in rx.iter() {
            pending.insert(piece.seq, piece);
            while let Some(piece) = pending.remove(&next) {
                let data = piece.data?;
                out.write_all(&data).map_err(io)?;
                tokens += (data.len() / job.dtype.itemsize()) as u64;
                bytes += piece.bytes;
                next += 1;
                drop(data);
                job.permits.release();
                job.monitor.add(piece.bytes)?;
            }
        }
        if let Some((&seq, _)) = pending.iter().next() {
            return Err(Error::value(format!(
                "internal error: piece {next} missing before {seq}"
            )));
        }
        let mut file = out.into_inner().map_err(|e| io(e.into_error()))?;
        if format == TokenFormat::Npy {
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            file.write_all(&npy_header(job.dtype, tokens)).map_err(io)?;
        }
        file.sync_all().map_err(io)?;
        Ok((tokens, next, bytes))
    })();
    if result.is_err() {
        job.stop.store(true, Ordering::Relaxed);
        job.permits.wake_all();
    }
    result
}

/// Total size of the `.npy` header we write: fixed, so the final header (with the real length)
/// overwrites the placeholder exactly. 128 bytes leave room for a 20-digit length and keep the
/// data 64-byte aligned, as NumPy requires of version 1.0 headers.
const NPY_HEADER_LEN: usize = 128;

/// A NumPy 1.0 header for a 1-D little-endian array of `len` elements.
pub fn npy_header(dtype: Dtype, len: u64) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({},), }}",
        dtype.npy_descr(),
        len
    );
    let body_len = NPY_HEADER_LEN - 10;
    let mut out = Vec::with_capacity(NPY_HEADER_LEN);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(body_len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(NPY_HEADER_LEN - 1, b' ');
    out.push(b'\n');
    out
}

/// A counting semaphore bounding the chunks alive at once; waits notice failures and Ctrl-C.
struct Permits {
    free: Mutex<usize>,
    cv: Condvar,
}

impl Permits {
    fn new(n: usize) -> Self {
        Permits {
            free: Mutex::new(n.max(1)),
            cv: Condvar::new(),
        }
    }

    fn acquire(&self, job: &Job<'_>) -> Result<()> {
        let mut free = self
            .free
            .lock()
            .map_err(|_| Error::value("internal: lock poisoned"))?;
        loop {
            job.should_stop()?;
            if *free > 0 {
                *free -= 1;
                return Ok(());
            }
            free = self
                .cv
                .wait_timeout(free, Duration::from_millis(50))
                .map_err(|_| Error::value("internal: lock poisoned"))?
                .0;
        }
    }

    fn release(&self) {
        if let Ok(mut free) = self.free.lock() {
            *free += 1;
        }
        self.cv.notify_one();
    }

    fn wake_all(&self) {
        self.cv.notify_all();
    }
}

/// The output being written: `.<name>.<pid>.tmp` beside the final path; removed on drop unless
/// committed (renamed into place).
struct TempFile {
    path: PathBuf,
    file: Option<File>,
    committed: bool,
}

impl TempFile {
    fn create(final_path: &Path) -> Result<Self> {
        let name = final_path
            .file_name()
            .ok_or_else(|| Error::value(format!("{}: not a file name", final_path.display())))?;
        if final_path.is_dir() {
            return Err(Error::io(
                final_path,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
            ));
        }
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let path = final_path.with_file_name(tmp_name);
        let file = File::create(&path).map_err(|e| {
            // Name the directory the user gave, not our temporary name.
            Error::io(final_path, e)
        })?;
        Ok(TempFile {
            path,
            file: Some(file),
            committed: false,
        })
    }

    fn commit(&mut self, final_path: &Path) -> Result<()> {
        std::fs::rename(&self.path, final_path).map_err(|e| Error::io(final_path, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            self.file = None;
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::GPT2_PATTERN;

    /// A small tokenizer: bytes + a few merges, `<|endoftext|>` special.
    fn tokenizer() -> Tokenizer {
        let mut vocab: Vec<(u32, Vec<u8>)> = (0..256u32).map(|b| (b, vec![b as u8])).collect();
        let merges: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b" ".to_vec(), b"t".to_vec()),
            (b"h".to_vec(), b"e".to_vec()),
            (b" t".to_vec(), b"he".to_vec()),
            (b" ".to_vec(), b" ".to_vec()),
            (b"\xc3".to_vec(), b"\xa9".to_vec()),
        ];
        for (i, (l, r)) in merges.iter().enumerate() {
            vocab.push((256 + i as u32, [&l[..], &r[..]].concat()));
        }
        let specials = vec!["<|endoftext|>".to_string()];
        Tokenizer::from_vocab_merges(vocab, merges, &specials, GPT2_PATTERN).unwrap()
    }

    fn text(n: usize, seed: u64) -> String {
        let parts = [
            "the",
            " the",
            "  ",
            "\n",
            "é",
            "<|endoftext|>",
            ".",
            " x",
            "\n\n",
            "12",
            "   \n",
            "日本",
        ];
        let mut s = seed;
        let mut out = String::new();
        while out.len() < n {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.push_str(parts[(s >> 33) as usize % parts.len()]);
        }
        out
    }

    fn read_npy(path: &Path) -> (Dtype, Vec<u32>) {
        let data = std::fs::read(path).unwrap();
        assert_eq!(&data[..8], b"\x93NUMPY\x01\x00");
        let hlen = u16::from_le_bytes([data[8], data[9]]) as usize;
        let header = std::str::from_utf8(&data[10..10 + hlen]).unwrap();
        let dtype = if header.contains("<u2") {
            Dtype::U16
        } else {
            Dtype::U32
        };
        let body = &data[10 + hlen..];
        let ids: Vec<u32> = match dtype {
            Dtype::U16 => body
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32)
                .collect(),
            Dtype::U32 => body
                .chunks(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        };
        assert!(
            header.contains(&format!("'shape': ({},)", ids.len())),
            "{header}"
        );
        (dtype, ids)
    }

    #[test]
    fn chunked_equals_whole_for_many_chunk_sizes() {
        let tok = tokenizer();
        let dir = std::env::temp_dir().join(format!("fastbpe-ef-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for seed in 0..5 {
            let t = text(20_000, seed);
            let input = dir.join(format!("in{seed}.txt"));
            std::fs::write(&input, &t).unwrap();
            let want = tok.encode(&t, Allowed::All).unwrap();
            for chunk_size in [1usize, 3, 17, 1000, 1 << 20] {
                let out = dir.join(format!("out{seed}_{chunk_size}.npy"));
                let opts = EncodeFileOptions {
                    chunk_size,
                    threads: 2,
                    in_flight: 3,
                    ..Default::default()
                };
                let st = encode_files(
                    &tok,
                    std::slice::from_ref(&input),
                    &out,
                    &opts,
                    &Monitor::silent(),
                )
                .unwrap();
                let (dtype, ids) = read_npy(&out);
                assert_eq!(dtype, Dtype::U16);
                assert_eq!(ids, want, "seed {seed} chunk {chunk_size}");
                assert_eq!(st.tokens as usize, want.len());
                assert_eq!(st.bytes as usize, t.len());
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_leave_no_output_and_name_the_offset() {
        let tok = tokenizer();
        let dir = std::env::temp_dir().join(format!("fastbpe-ef-err-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("bad.txt");
        let mut data = text(50_000, 1).into_bytes();
        data[30_001] = 0xff;
        data[40_001] = 0xff;
        std::fs::write(&input, &data).unwrap();
        let out = dir.join("out.bin");
        let opts = EncodeFileOptions {
            chunk_size: 100,
            threads: 2,
            ..Default::default()
        };
        let err = encode_files(
            &tok,
            std::slice::from_ref(&input),
            &out,
            &opts,
            &Monitor::silent(),
        )
        .unwrap_err();
        match err {
            Error::Utf8 { offset, .. } => assert!(offset <= 30_001 && offset > 29_990, "{offset}"),
            other => panic!("{other:?}"),
        }
        assert!(!out.exists());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "temporary file left behind"
        );
        // Cancelled before starting: no output either.
        let m = Monitor::silent();
        m.cancel();
        let good = dir.join("good.txt");
        std::fs::write(&good, "hello\n").unwrap();
        let err = encode_files(&tok, &[good], &out, &opts, &m).unwrap_err();
        assert!(matches!(err, Error::Interrupted));
        assert!(!out.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_input_separator_and_bin() {
        let tok = tokenizer();
        let dir = std::env::temp_dir().join(format!("fastbpe-ef-sep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.txt");
        std::fs::write(&empty, "").unwrap();
        let out = dir.join("e.npy");
        encode_files(
            &tok,
            std::slice::from_ref(&empty),
            &out,
            &Default::default(),
            &Monitor::silent(),
        )
        .unwrap();
        assert_eq!(read_npy(&out).1, Vec::<u32>::new());

        let a = dir.join("a.txt");
        std::fs::write(&a, "the").unwrap();
        let out = dir.join("s.bin");
        let opts = EncodeFileOptions {
            separator: Some(261),
            dtype: Some(Dtype::U32),
            ..Default::default()
        };
        let st = encode_files(
            &tok,
            &[a.clone(), empty, a],
            &out,
            &opts,
            &Monitor::silent(),
        )
        .unwrap();
        let raw = std::fs::read(&out).unwrap();
        let ids: Vec<u32> = raw
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let the = tok.encode("the", Allowed::None).unwrap();
        let mut want = the.clone();
        want.extend([261, 261]);
        want.extend(the);
        assert_eq!(ids, want);
        assert_eq!(st.files, 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_arguments() {
        let tok = tokenizer();
        let m = Monitor::silent();
        let o = Path::new("/nonexistent-dir/x.npy");
        let missing = PathBuf::from("/nonexistent-file.txt");
        assert!(matches!(
            encode_files(&tok, &[missing], o, &Default::default(), &m),
            Err(Error::Io { .. })
        ));
        assert!(encode_files(&tok, &[], o, &Default::default(), &m).is_err());
        assert!(TokenFormat::from_path(Path::new("x.txt")).is_err());
        let opts = EncodeFileOptions {
            separator: Some(99_999),
            ..Default::default()
        };
        assert!(encode_files(&tok, &[PathBuf::from("x")], o, &opts, &m).is_err());
    }

    #[test]
    fn crlf_and_newline_free_inputs_are_still_chunked() {
        let tok = tokenizer();
        let dir = std::env::temp_dir().join(format!("fastbpe-ef-crlf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let texts = [
            "the line é\r\n".repeat(800),
            "the  word, ".repeat(800),
            "x<|endoftext|>\r\n the\r\n\r\n".repeat(400),
        ];
        for (i, t) in texts.iter().enumerate() {
            let input = dir.join(format!("in{i}.txt"));
            std::fs::write(&input, t).unwrap();
            let want = tok.encode(t, Allowed::All).unwrap();
            for chunk_size in [1usize, 7, 100, 1000] {
                let out = dir.join(format!("out{i}.npy"));
                let opts = EncodeFileOptions {
                    chunk_size,
                    threads: 2,
                    ..Default::default()
                };
                let st = encode_files(
                    &tok,
                    std::slice::from_ref(&input),
                    &out,
                    &opts,
                    &Monitor::silent(),
                )
                .unwrap();
                assert_eq!(read_npy(&out).1, want, "text {i} chunk {chunk_size}");
                assert!(
                    st.chunks as usize >= t.len() / (2 * chunk_size + 64),
                    "{}",
                    st.chunks
                );
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn npy_header_is_aligned_and_fixed_size() {
        for n in [0u64, 7, u64::MAX] {
            let h = npy_header(Dtype::U32, n);
            assert_eq!(h.len(), NPY_HEADER_LEN);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(*h.last().unwrap(), b'\n');
        }
    }
}
