//! File-system helpers, each with one home: writing a file atomically, refusing directories,
//! opening an input as a regular file or as a stream, and reading a stream so that Ctrl-C is
//! noticed even when the stream is silent.
//!
//! # Atomic writes ([`AtomicFile`], [`write_atomic`])
//! Output goes to a temporary file beside the target, named `.NAME.PID.N.tmp` with `N` unique per
//! call in this process (a process-wide counter) and created with `create_new`, so two writers
//! (threads or processes) never share a temporary file. It is synced, then renamed over the
//! target: `rename` replaces the target in one step, so a reader sees the old file or the new
//! one, whole; with several writers the last rename wins, and its file is one writer's whole
//! output. A temporary file not committed is removed on drop (errors, Ctrl-C, panics).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::monitor::Monitor;

/// The input name that means standard input.
pub const STDIN: &str = "-";

/// Whether `path` names standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

fn is_a_directory(path: &Path) -> Error {
    Error::io(
        path,
        std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory, not a file",
        ),
    )
}

/// `IsADirectory` when `path` is a directory (a clearer error than the read or write that would
/// fail later); `Ok` otherwise, also when it does not exist.
pub fn refuse_directory(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(is_a_directory(path));
    }
    Ok(())
}

/// Counter that makes temporary names unique per call within a process.
static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A file being written under a temporary name beside `target`; [`AtomicFile::commit`] renames it
/// into place; dropping it uncommitted removes it. See the module docs.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    file: Option<File>,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file for `target`. Errors name `target` (not the temporary name):
    /// a missing directory, no permission, `target` being a directory.
    pub fn create(target: &Path) -> Result<Self> {
        let name = target
            .file_name()
            .ok_or_else(|| Error::value(format!("{}: not a file name", target.display())))?;
        refuse_directory(target)?;
        loop {
            let n = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
            let temp = target.with_file_name(tmp_name);
            match File::options().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    return Ok(AtomicFile {
                        target: target.to_path_buf(),
                        temp,
                        file: Some(file),
                        committed: false,
                    })
                }
                // Left behind by a killed process whose pid we now have: take the next number.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(target, e)),
            }
        }
    }

    /// The temporary path (for error messages of writes into it; prefer naming the target).
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The open temporary file (for writing, seeking, syncing).
    pub fn file(&mut self) -> Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| Error::Internal("temporary file already closed".into()))
    }

    /// Takes the file out (e.g. to move it to a writer thread); `commit` still works after it.
    pub fn take_file(&mut self) -> Result<File> {
        self.file
            .take()
            .ok_or_else(|| Error::Internal("temporary file already taken".into()))
    }

    /// Syncs the file (if still held) and renames it over the target.
    pub fn commit(mut self) -> Result<()> {
        if let Some(f) = self.file.take() {
            f.sync_all().map_err(|e| Error::io(&self.target, e))?;
        }
        std::fs::rename(&self.temp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            self.file = None;
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Writes `data` to `path` atomically (see the module docs).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let mut out = AtomicFile::create(path)?;
    out.file()?
        .write_all(data)
        .map_err(|e| Error::io(path, e))?;
    out.commit()
}

/// An input opened for reading.
pub enum Input {
    /// A regular file and its size when opened (read with positional reads, in parallel).
    File { file: File, len: u64 },
    /// Standard input, a pipe, a FIFO, a character device, `/dev/fd/N` from `<(...)`: read in
    /// order until it ends; its size is unknown.
    Stream(StreamReader<'static>),
}

/// Opens `path` (`-`: standard input). A directory is `IsADirectory`; a missing path is
/// `NotFound`. Anything that is not a regular file is a [`Input::Stream`], opened and read on a
/// background thread so that a silent FIFO neither blocks `open` nor hides Ctrl-C; so is a
/// regular file whose size reads as 0 (`/proc` and `/sys` files have content but no size).
pub fn open_input(path: &Path) -> Result<Input> {
    match open_any(path)? {
        Input::File { len: 0, .. } => Ok(Input::Stream(StreamReader::spawn(
            path.display().to_string(),
            Some(path.to_path_buf()),
        ))),
        other => Ok(other),
    }
}

fn open_any(path: &Path) -> Result<Input> {
    if is_stdin(path) {
        return Ok(Input::Stream(StreamReader::spawn(STDIN.into(), None)));
    }
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(is_a_directory(path));
    }
    if !meta.is_file() {
        return Ok(Input::Stream(StreamReader::spawn(
            path.display().to_string(),
            Some(path.to_path_buf()),
        )));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // Size from the open handle (the path could have changed between the two calls).
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    Ok(Input::File { file, len })
}

/// Opens a regular file for positional reads: `(file, size)`. A stream (FIFO, `-`, a device) is
/// refused with a clear error rather than read as an empty file; use [`open_input`] for those.
pub fn open_regular(path: &Path) -> Result<(File, u64)> {
    match open_any(path)? {
        Input::File { file, len } => Ok((file, len)),
        Input::Stream(_) => Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "is a stream (pipe, FIFO or device), not a regular file; this reader needs a file",
            ),
        )),
    }
}

/// Bytes per read on a stream.
const STREAM_BLOCK: usize = 256 * 1024;
/// Blocks read ahead on a stream (bounded memory: 4 x 256 KiB).
const STREAM_AHEAD: usize = 4;
/// How often a blocked read looks at the cancel flag.
const STREAM_POLL: Duration = Duration::from_millis(50);

/// A stream read on a background thread, in blocks, so that [`Read::read`] can give up within
/// 50 ms of Ctrl-C ([`StreamReader::cancel_with`]) even when the stream sends nothing (or, for a
/// FIFO, has no writer yet: `open` blocks too). A cancelled read fails with an `Other` error
/// ("interrupted"; not `ErrorKind::Interrupted`, which readers retry); the caller's monitor then
/// reports `KeyboardInterrupt`. The thread ends when the stream ends or, after the reader is
/// dropped, when its pending read returns.
pub struct StreamReader<'m> {
    name: String,
    rx: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    block: Vec<u8>,
    pos: usize,
    done: bool,
    monitor: Option<&'m Monitor>,
}

impl<'m> StreamReader<'m> {
    /// `path`: `None` reads standard input.
    fn spawn(name: String, path: Option<PathBuf>) -> StreamReader<'static> {
        let (tx, rx) = mpsc::sync_channel(STREAM_AHEAD);
        let spawned = std::thread::Builder::new()
            .name("fastbpe-stream".into())
            .spawn(move || {
                let source: std::io::Result<Box<dyn Read>> = match path {
                    None => Ok(Box::new(std::io::stdin())),
                    Some(p) => File::open(p).map(|f| Box::new(f) as Box<dyn Read>),
                };
                let mut source = match source {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    let mut block = Vec::new();
                    if block.try_reserve_exact(STREAM_BLOCK).is_err() {
                        let _ = tx.send(Err(std::io::ErrorKind::OutOfMemory.into()));
                        return;
                    }
                    block.resize(STREAM_BLOCK, 0);
                    match source.read(&mut block) {
                        Ok(0) => return, // end of stream: dropping `tx` says so
                        Ok(n) => {
                            block.truncate(n);
                            if tx.send(Ok(block)).is_err() {
                                return; // the reader is gone
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            });
        let mut reader = StreamReader {
            name,
            rx,
            block: Vec::new(),
            pos: 0,
            done: false,
            monitor: None,
        };
        if let Err(e) = spawned {
            // No thread: report it on the first read.
            let (tx, rx) = mpsc::sync_channel(1);
            let _ = tx.send(Err(e));
            reader.rx = rx;
        }
        reader
    }

    /// The name for messages (the path, or `-`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads give up (with an error) once `monitor` is cancelled.
    pub fn cancel_with<'n>(self, monitor: &'n Monitor) -> StreamReader<'n> {
        StreamReader {
            name: self.name,
            rx: self.rx,
            block: self.block,
            pos: self.pos,
            done: self.done,
            monitor: Some(monitor),
        }
    }
}

impl Read for StreamReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.block.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv_timeout(STREAM_POLL) {
                Ok(Ok(block)) => {
                    self.block = block;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => self.done = true,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.monitor.as_ref().is_some_and(|m| m.is_cancelled()) {
                        return Err(std::io::Error::other("interrupted"));
                    }
                }
            }
        }
        let n = out.len().min(self.block.len() - self.pos);
        out[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fastbpe-fsutil-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn atomic_write_commits_whole_and_cleans_up() {
        let d = dir("atomic");
        let target = d.join("out.bin");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.file().unwrap().write_all(b"abandoned").unwrap();
            assert!(f.temp_path().exists());
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "temporary file left"
        );
        assert!(matches!(
            write_atomic(&d, b"x"),
            Err(Error::Io { ref source, .. }) if source.kind() == std::io::ErrorKind::IsADirectory
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn concurrent_writers_leave_one_whole_file() {
        let d = dir("race");
        let target = d.join("out.bin");
        std::thread::scope(|s| {
            for t in 0..8u8 {
                let target = &target;
                s.spawn(move || {
                    for _ in 0..20 {
                        write_atomic(target, &vec![t; 10_000 + t as usize]).unwrap();
                    }
                });
            }
        });
        let data = std::fs::read(&target).unwrap();
        let t = data[0];
        assert_eq!(data, vec![t; 10_000 + t as usize]);
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "temporary file left"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn inputs_regular_stream_and_directory() {
        let d = dir("inputs");
        let f = d.join("a.txt");
        std::fs::write(&f, b"hello").unwrap();
        assert!(matches!(
            open_input(&f).unwrap(),
            Input::File { len: 5, .. }
        ));
        assert!(matches!(open_regular(&d), Err(Error::Io { .. })));
        #[cfg(unix)]
        {
            let mut s = match open_input(Path::new("/dev/null")).unwrap() {
                Input::Stream(s) => s,
                Input::File { .. } => panic!("/dev/null is not a regular file"),
            };
            let mut out = Vec::new();
            s.read_to_end(&mut out).unwrap();
            assert!(out.is_empty());
            assert!(open_regular(Path::new("/dev/null")).is_err());
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
