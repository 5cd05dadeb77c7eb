//! Atomic output: nothing half-written.
//!
//! [`AtomicFile`] writes to a hidden temp file beside the target and renames it into place on
//! [`AtomicFile::commit`]; dropped without commit, the temp file is removed.
//! [`AtomicDir`] does the same for a whole output folder.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file that appears at its path only when complete.
pub struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    pub fn create(target: impl AsRef<Path>) -> io::Result<Self> {
        let target = target.as_ref().to_path_buf();
        let name = target
            .file_name()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
            })?
            .to_string_lossy()
            .into_owned();
        let tmp = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let f = File::create(&tmp)?;
        Ok(Self {
            tmp,
            target,
            writer: Some(BufWriter::with_capacity(1 << 20, f)),
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("writer present until commit")
    }

    /// Flush, fsync and rename into place.
    pub fn commit(mut self) -> io::Result<()> {
        let w = self.writer.take().expect("writer present until commit");
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&self.tmp, &self.target)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Write `bytes` to `target` atomically.
pub fn write_atomic(target: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(bytes)?;
    f.commit()
}

/// An output folder built in a sibling temp folder and swapped into place on commit.
/// If the target exists it is replaced only at commit; until then it is untouched.
pub struct AtomicDir {
    tmp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl AtomicDir {
    pub fn create(target: impl AsRef<Path>) -> io::Result<Self> {
        let target = target.as_ref().to_path_buf();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)?;
        let name = target
            .file_name()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "output folder has no name")
            })?
            .to_string_lossy()
            .into_owned();
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        Ok(Self {
            tmp,
            target,
            done: false,
        })
    }

    /// Where to write files now.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Swap the finished folder into place (the old one, if any, is removed after the swap).
    pub fn commit(mut self) -> io::Result<()> {
        if self.target.exists() {
            let old = self.tmp.with_extension("old");
            if old.exists() {
                fs::remove_dir_all(&old)?;
            }
            fs::rename(&self.target, &old)?;
            fs::rename(&self.tmp, &self.target)?;
            fs::remove_dir_all(&old)?;
        } else {
            fs::rename(&self.tmp, &self.target)?;
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for AtomicDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_appears_only_on_commit() {
        let d = std::env::temp_dir().join(format!("fd-core-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        let p = d.join("out.txt");
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"half").unwrap();
            assert!(!p.exists());
        }
        assert!(!p.exists());
        assert_eq!(fs::read_dir(&d).unwrap().count(), 0, "temp file cleaned up");
        write_atomic(&p, b"whole").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"whole");

        let out = d.join("dist");
        let ad = AtomicDir::create(&out).unwrap();
        fs::write(ad.path().join("a"), b"1").unwrap();
        assert!(!out.exists());
        ad.commit().unwrap();
        assert_eq!(fs::read(out.join("a")).unwrap(), b"1");
        let ad = AtomicDir::create(&out).unwrap();
        fs::write(ad.path().join("b"), b"2").unwrap();
        drop(ad);
        assert!(out.join("a").exists() && !out.join("b").exists());
        fs::remove_dir_all(&d).unwrap();
    }
}
