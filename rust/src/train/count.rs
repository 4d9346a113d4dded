//! The map step of training: pre-tokenize text and count distinct pre-tokens ("words").
//!
//! Counting is a map-reduce. [`WordCounts`] is the mergeable result: counts made on different
//! threads, processes or machines combine with [`WordCounts::merge`] (or `add`) before the merge
//! loop, and the result does not depend on how the corpus was split.
//!
//! Performance notes:
//! - Every thread of the pool owns one map for the whole job (`ThreadMaps`), so memory is
//!   `threads x distinct words`, not `chunks x distinct words`, and the maps are merged once, in a
//!   tree, at the end.
//! - A piece is looked up by `&[u8]` and only copied when it is new, into a table built for this
//!   (`table::ByteCounter`: hash kept per slot, short keys inline, long keys in an arena); see its
//!   notes for the numbers against `HashMap`.
//! - Files are read with positional reads of ~1 MiB chunks (bounded memory, no mmap page-cache
//!   pressure) and cut at safe boundaries by `crate::chunk`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::chunk::{self, ChunkReader, Cutter, FileChunks, Utf8Mode};
use crate::error::{Error, Result};
use crate::fsutil::{self, Input};
use crate::monitor::{Monitor, Unit};
use crate::pretokenize::Pretokenizer;
use crate::special::{Segment, SpecialMatcher};

use super::table::{ByteCounter, BATCH};

/// Counts of distinct pre-tokens (byte strings), 64-bit.
#[derive(Clone, Default)]
pub struct WordCounts {
    table: ByteCounter,
}

impl std::fmt::Debug for WordCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WordCounts({} distinct)", self.table.len())
    }
}

impl WordCounts {
    pub fn new() -> Self {
        WordCounts::default()
    }

    /// Number of distinct words.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Adds `n` occurrences of `word` (saturating at `u64::MAX`).
    #[inline]
    pub fn add(&mut self, word: &[u8], n: u64) {
        self.table.add(word, n);
    }

    /// The count of `word` (0 when absent).
    pub fn get(&self, word: &[u8]) -> u64 {
        self.table.get(word)
    }

    /// Total number of word occurrences.
    pub fn total(&self) -> u64 {
        self.table
            .iter()
            .fold(0u64, |a, (_, b)| a.saturating_add(b))
    }

    /// Adds all counts of `other` (the reduce step). Adds the smaller table into the larger.
    pub fn merge(&mut self, mut other: WordCounts) {
        if other.len() > self.len() {
            std::mem::swap(self, &mut other);
        }
        self.table.merge_from(&other.table);
    }

    /// All (word, count) pairs, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], u64)> + '_ {
        self.table.iter()
    }

    /// All (word, count) pairs sorted by word bytes (deterministic order, for saving or tests).
    pub fn sorted(&self) -> Vec<(&[u8], u64)> {
        let mut v: Vec<_> = self.iter().collect();
        v.sort_unstable();
        v
    }

    /// Approximate bytes of memory held.
    pub fn memory(&self) -> usize {
        self.table.memory()
    }

    /// Pre-tokenizes `text` (special tokens removed first, as document separators) and counts its
    /// pieces.
    pub fn count_text(
        &mut self,
        text: &str,
        pretokenizer: &Pretokenizer,
        specials: &SpecialMatcher,
    ) -> Result<()> {
        if specials.is_empty() {
            return self.count_plain(text, pretokenizer);
        }
        for seg in specials.split(text) {
            if let Segment::Text(t) = seg {
                self.count_plain(t, pretokenizer)?;
            }
        }
        Ok(())
    }

    #[inline]
    fn count_plain(&mut self, text: &str, pretokenizer: &Pretokenizer) -> Result<()> {
        let table = &mut self.table;
        let mut batch: [&[u8]; BATCH] = [&[]; BATCH];
        let mut n = 0;
        pretokenizer.for_each_piece(text, |piece| {
            batch[n] = piece.as_bytes();
            n += 1;
            if n == BATCH {
                table.add_batch(&batch);
                n = 0;
            }
        })?;
        table.add_batch(&batch[..n]);
        Ok(())
    }
}

/// How to count: the pre-tokenization, the special tokens (removed as separators), threads,
/// chunking and the UTF-8 policy.
#[derive(Clone, Debug)]
pub struct CountOptions {
    pub pretokenizer: Pretokenizer,
    pub special_tokens: Vec<String>,
    /// Size of the rayon pool (`None` or 0: all cores; see `crate::parallel::threads`).
    pub threads: Option<usize>,
    /// Nominal chunk size in bytes (see `crate::chunk`); only changes speed and memory, never counts.
    pub chunk_size: usize,
    pub utf8: Utf8Mode,
}

impl Default for CountOptions {
    fn default() -> Self {
        CountOptions {
            pretokenizer: Pretokenizer::gpt2(),
            special_tokens: Vec::new(),
            threads: None,
            chunk_size: chunk::DEFAULT_CHUNK_SIZE,
            utf8: Utf8Mode::Strict,
        }
    }
}

/// One map per thread of the current rayon pool.
struct ThreadMaps {
    maps: Vec<Mutex<WordCounts>>,
}

impl ThreadMaps {
    fn new() -> Self {
        let n = rayon::current_num_threads().max(1);
        ThreadMaps {
            maps: (0..n).map(|_| Mutex::new(WordCounts::new())).collect(),
        }
    }

    /// Runs `f` on this thread's map. Only this thread uses it, so the lock is uncontended
    /// (a thread outside the pool falls back to map 0).
    fn with<T>(&self, f: impl FnOnce(&mut WordCounts) -> T) -> T {
        let i = rayon::current_thread_index().unwrap_or(0) % self.maps.len();
        let mut guard = match self.maps[i].lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Merges all maps, pairwise in parallel.
    fn into_counts(self) -> WordCounts {
        let maps: Vec<WordCounts> = self
            .maps
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect();
        maps.into_par_iter().reduce(WordCounts::new, |mut a, b| {
            a.merge(b);
            a
        })
    }
}

/// A counting job that accepts text in batches (the Python iterable path) and keeps one map per
/// thread between batches. Call from inside the pool (`crate::parallel::install`).
pub struct BatchCounter {
    pretokenizer: Pretokenizer,
    specials: SpecialMatcher,
    cutter: Cutter,
    chunk_size: usize,
    maps: ThreadMaps,
}

impl BatchCounter {
    /// Must be created on the pool that will count (it sizes its maps from it).
    pub fn new(opts: &CountOptions) -> Result<Self> {
        let specials = SpecialMatcher::new(&opts.special_tokens)?;
        let cutter = Cutter::new(
            &opts.special_tokens,
            chunk::CutRule::for_pattern(&opts.pretokenizer),
        )?;
        Ok(BatchCounter {
            pretokenizer: opts.pretokenizer.clone(),
            specials,
            cutter,
            chunk_size: opts.chunk_size.max(1),
            maps: ThreadMaps::new(),
        })
    }

    /// Counts a batch of independent texts in parallel (long texts are cut at safe points).
    pub fn count<S: AsRef<str> + Sync>(&self, texts: &[S], monitor: &Monitor) -> Result<()> {
        let mut parts: Vec<&str> = Vec::with_capacity(texts.len());
        for t in texts {
            let t = t.as_ref();
            if t.len() > self.chunk_size {
                parts.extend(chunk::split_str(&self.cutter, t, self.chunk_size));
            } else if !t.is_empty() {
                parts.push(t);
            }
        }
        // Group small texts so each task is ~chunk_size bytes (a task per short doc is overhead).
        let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
        let (mut start, mut bytes) = (0, 0usize);
        for (i, p) in parts.iter().enumerate() {
            bytes += p.len();
            if bytes >= self.chunk_size {
                groups.push(start..i + 1);
                start = i + 1;
                bytes = 0;
            }
        }
        if start < parts.len() {
            groups.push(start..parts.len());
        }
        groups.par_iter().try_for_each(|g| {
            let group = &parts[g.clone()];
            self.maps.with(|m| -> Result<()> {
                for p in group {
                    m.count_text(p, &self.pretokenizer, &self.specials)?;
                }
                Ok(())
            })?;
            monitor.add(group.iter().map(|p| p.len() as u64).sum())
        })
    }

    pub fn finish(self) -> WordCounts {
        self.maps.into_counts()
    }
}

/// Counts independent texts (each one a document: no pair crosses from one to the next).
pub fn count_texts<S: AsRef<str> + Sync>(
    texts: &[S],
    opts: &CountOptions,
    monitor: &Monitor,
) -> Result<WordCounts> {
    crate::parallel::install(opts.threads, || {
        let counter = BatchCounter::new(opts)?;
        monitor.start(
            "counting",
            Unit::Bytes,
            Some(texts.iter().map(|t| t.as_ref().len() as u64).sum()),
        );
        counter.count(texts, monitor)?;
        let counts = counter.finish();
        monitor.finish();
        Ok(counts)
    })?
}

struct FileJob {
    chunks: FileChunks,
    name: String,
}

/// Counts the pre-tokens of files, in parallel over ~`chunk_size` chunks of all files.
/// Each file is a separate input (no pair crosses from one file to the next). A path that is a
/// stream (`-` for standard input, a FIFO, `<(zcat corpus.gz)`, a device) is read in order, its
/// chunks counted in parallel as they arrive (`chunk::par_for_each_chunk`), after the files.
pub fn count_files<P: AsRef<Path>>(
    paths: &[P],
    opts: &CountOptions,
    monitor: &Monitor,
) -> Result<WordCounts> {
    let specials = SpecialMatcher::new(&opts.special_tokens)?;
    let cutter = Cutter::new(
        &opts.special_tokens,
        chunk::CutRule::for_pattern(&opts.pretokenizer),
    )?;
    // Check every input before any work: a typo in the 10th path should fail at once.
    let mut files = Vec::with_capacity(paths.len());
    let mut streams = Vec::new();
    for p in paths {
        let path: PathBuf = p.as_ref().to_path_buf();
        match fsutil::open_input(&path)? {
            Input::File { len, .. } => files.push((path, len)),
            Input::Stream(reader) => streams.push(reader),
        }
    }
    let total: u64 = files.iter().map(|(_, len)| *len).sum();
    let pretokenizer = &opts.pretokenizer;
    let utf8 = opts.utf8;

    let mut jobs: Vec<FileJob> = Vec::with_capacity(files.len());
    let result = crate::parallel::install(opts.threads, || -> Result<WordCounts> {
        monitor.start("counting", Unit::Bytes, streams.is_empty().then_some(total));
        for (path, _) in files {
            let (file, len) = chunk::open_file(&path)?;
            jobs.push(FileJob {
                name: path.display().to_string(),
                chunks: FileChunks::plan(path, &file, len, opts.chunk_size, &cutter)?,
            });
            monitor.check()?;
        }
        let items: Vec<(usize, std::ops::Range<u64>)> = jobs
            .iter()
            .enumerate()
            .flat_map(|(i, j)| j.chunks.ranges().map(move |r| (i, r)))
            .collect();
        let maps = ThreadMaps::new();
        let files_counted = items.par_iter().try_for_each_init(
            || (Vec::<u8>::new(), None::<(usize, std::fs::File)>),
            |(buf, open), (fi, range)| -> Result<()> {
                let job = &jobs[*fi];
                if open.as_ref().map(|(i, _)| i) != Some(fi) {
                    let (f, _) = chunk::open_file(&job.chunks.path)?;
                    *open = Some((*fi, f));
                }
                let Some((_, file)) = open.as_ref() else {
                    return Err(Error::internal("file not open"));
                };
                job.chunks.read(file, range.clone(), buf)?;
                let text = chunk::decode(buf, utf8, &job.name, range.start)?;
                maps.with(|m| m.count_text(&text, pretokenizer, &specials))?;
                monitor.add(range.end - range.start)
            },
        );
        if let Err(e) = files_counted {
            return Err(match e {
                Error::Utf8 { .. } => first_utf8_error(&jobs)?,
                e => e,
            });
        }
        for stream in streams {
            let name = stream.name().to_string();
            let reader = ChunkReader::new(
                stream.cancel_with(monitor),
                cutter.clone(),
                opts.chunk_size,
                name.clone(),
            );
            // Chunks in flight: enough to keep every thread busy while the next one is read.
            let in_flight = 2 * rayon::current_num_threads() + 2;
            // The earliest failing chunk's error is returned, so the message is deterministic.
            chunk::par_for_each_chunk(reader, in_flight, monitor, |c| {
                let text = chunk::decode(&c.data, utf8, &name, c.offset)?;
                maps.with(|m| m.count_text(&text, pretokenizer, &specials))?;
                monitor.add(c.data.len() as u64)
            })?;
        }
        Ok(maps.into_counts())
    })?;
    monitor.finish();
    result
}

/// Workers stop at the first error they meet, which need not be the first in the input; find the
/// first invalid byte of the first bad file by a sequential pass, so the message is deterministic.
fn first_utf8_error(jobs: &[FileJob]) -> Result<Error> {
    let mut buf = Vec::new();
    for job in jobs {
        let (file, _) = chunk::open_file(&job.chunks.path)?;
        for range in job.chunks.ranges() {
            let offset = range.start;
            job.chunks.read(&file, range, &mut buf)?;
            if let Err(e) = chunk::decode(&buf, Utf8Mode::Strict, &job.name, offset) {
                return Ok(e);
            }
        }
    }
    Ok(Error::value("invalid UTF-8 (file changed while reading?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpt2_counts(text: &str, specials: &[&str]) -> WordCounts {
        let s: Vec<String> = specials.iter().map(|s| s.to_string()).collect();
        let mut c = WordCounts::new();
        c.count_text(
            text,
            &Pretokenizer::gpt2(),
            &SpecialMatcher::new(&s).unwrap(),
        )
        .unwrap();
        c
    }

    #[test]
    fn counts_pieces_and_skips_specials() {
        let c = gpt2_counts("hello world<|eot|> hello world", &["<|eot|>"]);
        assert_eq!(c.get(b"hello"), 1);
        assert_eq!(c.get(b" hello"), 1);
        assert_eq!(c.get(b" world"), 2);
        assert_eq!(c.get(b"<|"), 0);
        assert_eq!(c.total(), 4);
    }

    #[test]
    fn long_words_and_merge() {
        let long = "x".repeat(100);
        let mut a = gpt2_counts(&format!("{long} {long}"), &[]);
        let b = gpt2_counts(&format!("{long} ab"), &[]);
        a.merge(b);
        assert_eq!(a.get(long.as_bytes()), 2);
        assert_eq!(a.get(format!(" {long}").as_bytes()), 1);
        assert_eq!(a.get(b" ab"), 1);
    }

    #[test]
    fn texts_same_for_any_threads_and_chunks() {
        let text: String = (0..3000)
            .map(|i| {
                format!(
                    "word{} line{}\n<|eot|>{}",
                    i % 37,
                    i % 11,
                    if i % 5 == 0 { "  \n" } else { "" }
                )
            })
            .collect();
        let texts = vec![text.clone(), "tail text".to_string()];
        let base = count_texts(&texts, &CountOptions::default(), &Monitor::silent()).unwrap();
        for threads in [1, 2, 4] {
            for chunk_size in [1, 13, 4096] {
                let opts = CountOptions {
                    special_tokens: vec!["<|eot|>".into()],
                    threads: Some(threads),
                    chunk_size,
                    ..Default::default()
                };
                let c = count_texts(&texts, &opts, &Monitor::silent()).unwrap();
                let with_specials = {
                    let mut w = WordCounts::new();
                    for t in &texts {
                        w.count_text(
                            t,
                            &Pretokenizer::gpt2(),
                            &SpecialMatcher::new(&opts.special_tokens).unwrap(),
                        )
                        .unwrap();
                    }
                    w
                };
                assert_eq!(c.sorted(), with_specials.sorted());
            }
        }
        assert!(base.len() > 10);
    }

    #[test]
    fn files_match_texts_and_report_bad_utf8() {
        let dir = std::env::temp_dir().join(format!("fastbpe-count-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.txt");
        let text: String = (0..2000)
            .map(|i| format!("doc {i} é世界 ok.\n\n<|eot|>x  y\n"))
            .collect();
        std::fs::write(&good, &text).unwrap();
        let opts = CountOptions {
            special_tokens: vec!["<|eot|>".into()],
            threads: Some(2),
            chunk_size: 100,
            ..Default::default()
        };
        let from_file = count_files(&[&good], &opts, &Monitor::silent()).unwrap();
        let from_text = count_texts(&[text.as_str()], &opts, &Monitor::silent()).unwrap();
        assert_eq!(from_file.sorted(), from_text.sorted());

        let bad = dir.join("bad.txt");
        let mut bytes = text.clone().into_bytes();
        bytes[5000] = 0xff;
        bytes[30000] = 0xff;
        std::fs::write(&bad, &bytes).unwrap();
        match count_files(&[&good, &bad], &opts, &Monitor::silent()) {
            Err(Error::Utf8 { context, offset }) => {
                assert!(context.ends_with("bad.txt"));
                assert_eq!(offset, 5000);
            }
            other => panic!("{other:?}"),
        }
        let replaced = count_files(
            &[&bad],
            &CountOptions {
                utf8: Utf8Mode::Replace,
                ..opts.clone()
            },
            &Monitor::silent(),
        )
        .unwrap();
        assert!(replaced
            .iter()
            .any(|(w, _)| w.ends_with("\u{FFFD}".as_bytes())));

        assert!(matches!(
            count_files(&[dir.join("missing.txt")], &opts, &Monitor::silent()),
            Err(Error::Io { ref source, .. }) if source.kind() == std::io::ErrorKind::NotFound
        ));
        assert!(matches!(
            count_files(&[&dir], &opts, &Monitor::silent()),
            Err(Error::Io { ref source, .. }) if source.kind() == std::io::ErrorKind::IsADirectory
        ));
        let empty = dir.join("empty.txt");
        std::fs::write(&empty, b"").unwrap();
        assert!(count_files(&[&empty], &opts, &Monitor::silent())
            .unwrap()
            .is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
