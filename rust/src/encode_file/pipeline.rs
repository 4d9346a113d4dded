//! The reader side of `encode_files`: inputs are cut into chunks (`chunk::ChunkReader`, at the
//! safe cuts of `crate::cut`), each chunk is encoded on the rayon pool, and its ids go to the
//! writer (`writer.rs`) tagged with its sequence number.

use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;

use super::options::Dtype;
use super::output::ids_to_bytes;
use super::writer::{Permits, Piece};
use crate::chunk::{self, ChunkReader, Cutter, Utf8Mode};
use crate::error::{Error, Result};
use crate::fsutil::{self, Input};
use crate::monitor::Monitor;
use crate::tokenizer::{Allowed, Tokenizer};

pub struct Job<'a> {
    pub tok: &'a Tokenizer,
    pub allowed: Allowed<'a>,
    pub cutter: &'a Cutter,
    pub utf8: Utf8Mode,
    pub dtype: Dtype,
    pub chunk_size: usize,
    pub permits: &'a Permits,
    pub monitor: &'a Monitor,
}

impl<'a> Job<'a> {
    /// Reads every input, dispatching chunks to the pool; returns how many pieces it sent.
    pub fn read_all<'s>(
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
                    self.permits.acquire(self.monitor)?;
                    let data = Ok(ids_to_bytes(&[sep], self.dtype));
                    let _ = tx.send(Piece {
                        seq,
                        bytes: 0,
                        data,
                    });
                    seq += 1;
                }
            }
            let name = if fsutil::is_stdin(path) {
                "<stdin>".to_string()
            } else {
                path.display().to_string()
            };
            // ChunkReader reads in blocks of 64 KiB or more itself: no BufReader needed.
            match fsutil::open_input(path)? {
                Input::File { file, len } => {
                    let reader =
                        ChunkReader::new(file, self.cutter.clone(), self.chunk_size, &name)
                            .expect_len(len);
                    self.read_one(scope, reader, &name, &tx, &mut seq)?
                }
                Input::Stream(stream) => {
                    let stream = stream.cancel_with(self.monitor);
                    let reader =
                        ChunkReader::new(stream, self.cutter.clone(), self.chunk_size, &name);
                    self.read_one(scope, reader, &name, &tx, &mut seq)?
                }
            }
        }
        Ok(seq)
    }

    fn read_one<'s, R: Read>(
        &'s self,
        scope: &rayon::Scope<'s>,
        mut chunks: ChunkReader<R>,
        name: &str,
        tx: &mpsc::Sender<Piece>,
        seq: &mut u64,
    ) -> Result<()>
    where
        'a: 's,
    {
        let context: Arc<str> = name.into();
        loop {
            self.permits.acquire(self.monitor)?;
            let chunk = match chunks.next_chunk() {
                Ok(Some(c)) => c,
                Ok(None) => {
                    self.permits.release();
                    return Ok(());
                }
                Err(e) => {
                    self.permits.release();
                    // A stream read that gave up because of Ctrl-C is reported as Ctrl-C.
                    self.monitor.check()?;
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
                    self.permits.fail();
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
        let mut ids = Vec::new();
        ids.try_reserve(text.len() / 3 + 16).map_err(|_| {
            Error::OutOfMemory(format!(
                "out of memory: cannot hold the ids of a chunk of {context}"
            ))
        })?;
        self.tok.encode_into(&text, self.allowed, &mut ids)?;
        Ok(ids_to_bytes(&ids, self.dtype))
    }
}
