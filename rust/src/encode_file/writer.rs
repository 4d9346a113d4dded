//! The writer thread: pieces arrive in any order and are written strictly in sequence order,
//! each giving back its permit (`chunk::Permits`, the semaphore bounding chunks alive at once).

use std::collections::BTreeMap;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc;

use super::options::{Dtype, TokenFormat};
use super::output::npy_header;
pub use crate::chunk::Permits;
use crate::error::{Error, Result};
use crate::monitor::Monitor;

/// One slot of output, in input order.
pub struct Piece {
    pub seq: u64,
    /// Input bytes this piece covers (for progress).
    pub bytes: u64,
    /// Ids as little-endian bytes of the output dtype, or the error encoding it hit.
    pub data: Result<Vec<u8>>,
}

/// What the writer needs from the job: the permits to give back, progress, and the stop flag.
pub struct WriterContext<'a> {
    pub dtype: Dtype,
    pub format: TokenFormat,
    pub permits: &'a Permits,
    pub monitor: &'a Monitor,
}

/// Receives pieces in any order, writes them in sequence order to `out` (errors name `path`, the
/// final output). Returns (tokens, pieces, bytes). On failure it stops the readers
/// ([`Permits::fail`]) and returns the earliest error in input order.
pub fn write_in_order<W: Write + Seek>(
    cx: &WriterContext<'_>,
    rx: mpsc::Receiver<Piece>,
    out: W,
    path: &Path,
) -> Result<(u64, u64, u64)> {
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 20, out);
        let io = |e| Error::io(path, e);
        if cx.format == TokenFormat::Npy {
            out.write_all(&npy_header(cx.dtype, 0)).map_err(io)?;
        }
        let mut pending: BTreeMap<u64, Piece> = BTreeMap::new();
        let (mut next, mut tokens, mut bytes) = (0u64, 0u64, 0u64);
        for piece in rx.iter() {
            pending.insert(piece.seq, piece);
            while let Some(piece) = pending.remove(&next) {
                let data = piece.data?;
                out.write_all(&data).map_err(io)?;
                tokens += (data.len() / cx.dtype.itemsize()) as u64;
                bytes += piece.bytes;
                next += 1;
                drop(data);
                cx.permits.release();
                cx.monitor.add(piece.bytes)?;
            }
        }
        if let Some((&seq, _)) = pending.iter().next() {
            return Err(Error::Internal(format!(
                "piece {next} missing before {seq}"
            )));
        }
        let mut out = out.into_inner().map_err(|e| io(e.into_error()))?;
        if cx.format == TokenFormat::Npy {
            out.seek(SeekFrom::Start(0)).map_err(io)?;
            out.write_all(&npy_header(cx.dtype, tokens)).map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok((tokens, next, bytes))
    })();
    if result.is_err() {
        cx.permits.fail();
    }
    result
}
