//! Streaming corpus encoding: text files in, one token file out (`.npy` or raw `.bin`).
//!
//! | file | job |
//! | --- | --- |
//! | `mod.rs` | `encode_files`: checks, the temporary output, the threads, the commit |
//! | `options.rs` | options and statistics: format, dtype, special-token policy |
//! | `pipeline.rs` | the reader: inputs -> chunks -> encoded on the pool |
//! | `writer.rs` | the ordered writer and the semaphore bounding chunks in flight |
//! | `output.rs` | ids as little-endian bytes; the `.npy` header |
//!
//! # Guarantees
//!
//! * **Same ids as one call.** Each input is cut into chunks only at *safe cuts* (`crate::cut`:
//!   before a special token the encoder recognizes, or before whitespace after a non-whitespace
//!   character where the pattern allows it), so encoding the chunks separately and concatenating
//!   the ids gives exactly `tokenizer.encode(whole_file)` under the same special-token policy.
//!   Several inputs are encoded each on its own (a file boundary is a document boundary),
//!   optionally with a separator id between consecutive files.
//! * **Bounded memory.** At most `in_flight` chunks (read, being encoded, or encoded and waiting
//!   for their turn to be written) exist at once; each is about `chunk_size` bytes of text plus its
//!   ids. Memory does not grow with the file; a stretch with no safe cut makes one longer chunk,
//!   at most `chunk::MAX_UNCUT` bytes past its nominal end (then a clear error).
//! * **Streams.** `-` is standard input; FIFOs, `/dev/stdin` and `<(zcat ...)` are read as streams
//!   (not sized from metadata), on a thread that notices Ctrl-C within 50 ms even when the stream
//!   is silent (`fsutil::StreamReader`).
//! * **Order.** Chunks are numbered as they are read and written strictly in that order.
//! * **All or nothing.** Output goes to a temporary file beside the final one with a name unique to
//!   this call (`fsutil::AtomicFile`), renamed into place only after everything is written and
//!   synced. Errors and Ctrl-C (via [`Monitor`]) remove it; nothing ever appears under the final
//!   name half-written; of two concurrent writers, the last to finish wins, whole.
//! * **A file that changes while it is read** (grows or shrinks) is an error naming it.
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
//! - Reading is sequential (`ChunkReader` on the file); at 1 MiB chunks the reader spends ~1 ms
//!   per chunk, far less than the ~20-40 ms a worker spends encoding it, so one reader feeds many
//!   workers. Reading with `pread` from several threads (`FileChunks`) was not needed.
//! - Workers turn ids into little-endian `u16`/`u32` bytes themselves, so the writer only copies.
//! - The window (`in_flight`, default `2 * threads + 2`) must exceed the worker count, or workers
//!   idle while the writer waits for a slow chunk; beyond ~2x it only adds memory.
//! - rayon's `in_place_scope` keeps the reader on the calling thread, so all pool threads encode.

mod options;
mod output;
mod pipeline;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

pub use self::options::{Dtype, EncodeFileOptions, EncodeFileStats, SpecialPolicy, TokenFormat};
pub use self::output::{npy_header, NPY_HEADER_LEN};
pub use crate::fsutil::STDIN;

use self::pipeline::Job;
use self::writer::{write_in_order, Permits, Piece, WriterContext};
use crate::chunk::{self, Cutter};
use crate::error::{Error, Result};
use crate::fsutil::{self, AtomicFile};
use crate::monitor::{Monitor, Unit};
use crate::parallel;
use crate::tokenizer::Tokenizer;

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
    let chunk_size = chunk::check_chunk_size(opts.chunk_size)?;
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
    let allowed = opts.special.as_allowed();
    let cutter = Cutter::for_pretokenizer(&specials, tok.pretokenizer())?;
    let total = check_inputs(inputs, output)?;

    let mut out = AtomicFile::create(output)?;
    // `parallel::pool`, not rayon's global pool: it is rebuilt after fork() (multiprocessing).
    let pool = parallel::pool(opts.threads)?;
    let workers = pool.current_num_threads();
    let in_flight = if opts.in_flight > 0 {
        opts.in_flight
    } else {
        2 * workers + 2
    };

    monitor.start("encode", Unit::Bytes, total);
    let permits = Permits::new(in_flight);
    let job = Job {
        tok,
        allowed,
        cutter: &cutter,
        utf8: opts.utf8,
        dtype,
        chunk_size,
        permits: &permits,
        monitor,
    };
    let cx = WriterContext {
        dtype,
        format,
        permits: &permits,
        monitor,
    };
    let (tx, rx) = mpsc::channel::<Piece>();
    let file = out.file()?;
    let (written, reader_result) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| write_in_order(&cx, rx, file, output));
        let reader_result = pool.in_place_scope(|s| job.read_all(s, inputs, opts.separator, tx));
        // The reader's sender is dropped and every task has finished: the writer sees the end.
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the writer thread panicked".into())));
        (written, reader_result)
    });
    // Ends the progress line whatever happened, so an error message starts on a fresh line.
    monitor.finish();
    // The writer reports the earliest failure in input order; the reader's own failure (a read
    // error, Ctrl-C) lies after every chunk it dispatched.
    let (tokens, chunks, bytes) = written?;
    let chunks_read = reader_result?;
    if chunks != chunks_read {
        return Err(Error::Internal(format!(
            "{chunks_read} chunks read but {chunks} written"
        )));
    }
    monitor.check()?;
    out.commit()?;
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
/// their total size when all are regular files. Streams are not opened here (opening a FIFO
/// waits for its writer).
fn check_inputs(inputs: &[PathBuf], output: &Path) -> Result<Option<u64>> {
    if inputs.is_empty() {
        return Err(Error::value("no input files given"));
    }
    let out_canon = std::fs::canonicalize(output).ok();
    let mut total = Some(0u64);
    let mut stdin_seen = false;
    for p in inputs {
        if fsutil::is_stdin(p) {
            if stdin_seen {
                return Err(Error::value("standard input (-) can be read only once"));
            }
            stdin_seen = true;
            total = None;
            continue;
        }
        let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if !meta.is_file() {
            fsutil::refuse_directory(p)?;
            total = None; // a stream: size unknown
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

#[cfg(test)]
mod tests;
