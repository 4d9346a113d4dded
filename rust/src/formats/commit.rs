//! Writing tokenizer files: one file or several, all or nothing.
//!
//! Every file is first written in full (and synced) under a temporary name beside its target; only
//! then are the targets replaced, each by an atomic rename. With several files, each target that
//! already exists is first kept under a backup name (a hard link, so the target never goes
//! missing); if replacing any target fails, the ones already replaced get their old contents back
//! and the new ones are removed. So a reader sees the old set or the new set, and a failure
//! (disk full, permissions, a directory in the way) leaves the old files as they were.
//!
//! A target that is a symbolic link is written through: its final target is replaced and the
//! link stays a link (as `open(path, "w")` would do, but atomically).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::AtomicFile;

/// Writes every `(path, bytes)` or, on any failure, none (old contents kept).
pub fn write_files(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    write_files_with(files, &RealFs)
}

/// [`write_files`] for files inside `dir`, which is created first (with missing parents); when
/// the write fails, the directories it created are removed again: a failed save leaves no empty
/// folder behind.
pub fn write_files_into(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let result = write_files(files);
    if result.is_err() {
        for d in &missing {
            let _ = std::fs::remove_dir(d); // innermost first; only if still empty
        }
    }
    result
}

/// The file-system steps, so tests can make any one of them fail.
trait Fs {
    /// The whole new file under its temporary name (`crate::fsutil`'s unique names).
    fn create(&self, target: &Path, data: &[u8]) -> Result<AtomicFile>;
    /// Renames the temporary file over its target.
    fn commit(&self, file: AtomicFile) -> Result<()>;
    /// A second name for `from`'s current contents.
    fn keep(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove(&self, path: &Path) -> io::Result<()>;
}

struct RealFs;

impl Fs for RealFs {
    fn create(&self, target: &Path, data: &[u8]) -> Result<AtomicFile> {
        let mut f = AtomicFile::create(target)?;
        f.file()?
            .write_all(data)
            .map_err(|e| Error::io(target, e))?;
        Ok(f)
    }
    fn commit(&self, file: AtomicFile) -> Result<()> {
        file.commit()
    }
    fn keep(&self, from: &Path, to: &Path) -> io::Result<()> {
        // A hard link costs nothing; file systems without them get a copy.
        std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
}

/// A target that has been replaced, and where its old contents are kept (None: it was new).
struct Replaced {
    target: PathBuf,
    backup: Option<PathBuf>,
}

fn write_files_with(files: &[(PathBuf, Vec<u8>)], fs: &dyn Fs) -> Result<()> {
    // 1. Every new file whole under a temporary name; a failure drops (removes) them all.
    let mut temps = Vec::with_capacity(files.len());
    for (path, data) in files {
        let target = follow_links(path).map_err(|e| Error::io(path, e))?;
        temps.push((fs.create(&target, data)?, target));
    }
    if temps.len() == 1 {
        let (file, _) = temps.remove(0);
        return fs.commit(file);
    }
    // 2. Replace the targets one by one, keeping the old contents until all are in.
    let mut done: Vec<Replaced> = Vec::with_capacity(temps.len());
    let mut result = Ok(());
    for (file, target) in temps.drain(..) {
        let mut backup = None;
        if target.exists() {
            let kept = side_name(&target)
                .ok_or_else(|| Error::value(format!("{}: not a file name", target.display())));
            match kept.and_then(|b| {
                fs.keep(&target, &b)
                    .map(|()| b)
                    .map_err(|e| Error::io(&target, e))
            }) {
                Ok(b) => backup = Some(b),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if let Err(e) = fs.commit(file) {
            if let Some(b) = backup {
                let _ = fs.remove(&b);
            }
            result = Err(e);
            break;
        }
        done.push(Replaced { target, backup });
    }
    // 3. On failure put the old contents back (best effort: the first error is reported);
    // either way the backups go.
    for r in &done {
        match (&result, &r.backup) {
            (Ok(()), Some(b)) => {
                let _ = fs.remove(b);
            }
            (Ok(()), None) => {}
            (Err(_), Some(b)) => {
                let _ = fs.rename(b, &r.target);
            }
            (Err(_), None) => {
                let _ = fs.remove(&r.target);
            }
        }
    }
    result
}

/// The file a path finally names, following symbolic links (a dangling link's target included).
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// `.NAME.PID-N.old` beside `path`, unique per call (two writers never share one).
fn side_name(path: &Path) -> Option<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name()?);
    name.push(format!(".{}-{n}.old", std::process::id()));
    Some(path.with_file_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// The real file system, failing at the `fail_at`-th step.
    struct Faulty {
        step: Cell<usize>,
        fail_at: usize,
    }

    impl Faulty {
        fn tick(&self) -> io::Result<()> {
            let n = self.step.get();
            self.step.set(n + 1);
            if n == self.fail_at {
                return Err(io::Error::other("injected fault"));
            }
            Ok(())
        }
    }

    impl Fs for Faulty {
        fn create(&self, target: &Path, data: &[u8]) -> Result<AtomicFile> {
            self.tick().map_err(|e| Error::io(target, e))?;
            RealFs.create(target, data)
        }
        fn commit(&self, file: AtomicFile) -> Result<()> {
            self.tick().map_err(|e| Error::io(file.target(), e))?;
            RealFs.commit(file)
        }
        fn keep(&self, from: &Path, to: &Path) -> io::Result<()> {
            self.tick()?;
            RealFs.keep(from, to)
        }
        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            RealFs.rename(from, to) // roll-back steps never fail here: the test checks them
        }
        fn remove(&self, path: &Path) -> io::Result<()> {
            RealFs.remove(path)
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fastbpe-commit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn listing(d: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_fault_at_any_step_leaves_the_old_files() {
        for old_b in [true, false] {
            for fail_at in 0..8 {
                let d = scratch(&format!("fault{fail_at}{old_b}"));
                std::fs::write(d.join("a"), b"old a").unwrap();
                if old_b {
                    std::fs::write(d.join("b"), b"old b").unwrap();
                }
                let before = listing(&d);
                let files = vec![
                    (d.join("a"), b"new a".to_vec()),
                    (d.join("b"), b"new b".to_vec()),
                ];
                let fs = Faulty {
                    step: Cell::new(0),
                    fail_at,
                };
                let r = write_files_with(&files, &fs);
                let after = listing(&d);
                if r.is_ok() {
                    assert_eq!(
                        after,
                        vec![
                            ("a".into(), b"new a".to_vec()),
                            ("b".into(), b"new b".to_vec())
                        ]
                    );
                } else {
                    assert_eq!(after, before, "fault at step {fail_at} changed the files");
                }
                let _ = std::fs::remove_dir_all(&d);
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_written_through() {
        let d = scratch("link");
        std::fs::write(d.join("real"), b"old").unwrap();
        std::os::unix::fs::symlink("real", d.join("link")).unwrap();
        write_files(&[(d.join("link"), b"new".to_vec())]).unwrap();
        assert!(std::fs::symlink_metadata(d.join("link"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(d.join("real")).unwrap(), b"new");
        let _ = std::fs::remove_dir_all(&d);
    }
}
