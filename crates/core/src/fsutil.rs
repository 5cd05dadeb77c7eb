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
    /// Bytes written through [`Write`], and how many of them write-out was started for.
    written: u64,
    kicked: u64,
}

/// Through [`Write`], write-out to the disk is started every this many bytes, so that the
/// fsync at [`AtomicFile::commit`] waits for the last stretch only (the fsync of a 2.6 GB
/// `events.parquet` was 0.65 s at the end of ingest, with nothing else to do meanwhile).
const KICK_BYTES: u64 = 64 << 20;

/// Start write-out of `len` bytes from `off` without waiting for it (Linux); elsewhere
/// nothing, and the fsync at commit does it all.
fn start_writeback(f: &File, off: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a syscall on a descriptor `f` keeps open; SYNC_FILE_RANGE_WRITE only
        // starts write-out of dirty pages in the range. Its result is advice: the fsync at
        // commit is what reports errors.
        unsafe {
            libc::sync_file_range(
                f.as_raw_fd(),
                off as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (f, off, len);
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
            written: 0,
            kicked: 0,
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
        let n = self.writer().write(buf)?;
        self.written += n as u64;
        if self.written - self.kicked >= KICK_BYTES {
            let w = self.writer.as_ref().expect("writer present until commit");
            // Bytes past the buffer are in the file (bytes written through `writer()` are not
            // counted, so this never runs past them).
            let in_file = self.written.saturating_sub(w.buffer().len() as u64);
            if in_file > self.kicked {
                start_writeback(w.get_ref(), self.kicked, in_file - self.kicked);
                self.kicked = in_file;
            }
        }
        Ok(n)
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

    /// Past the write-out threshold (started every 64 MiB, in odd-sized writes that leave
    /// bytes in the buffer), every byte arrives, in order.
    #[test]
    fn long_files_arrive_whole() {
        let d = std::env::temp_dir().join(format!("fd-core-long-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        let p = d.join("long.bin");
        let mut f = AtomicFile::create(&p).unwrap();
        let piece: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        let mut want = Vec::new();
        for k in 0..150u32 {
            let part = &piece[..piece.len() - (k as usize % 7)];
            f.write_all(part).unwrap();
            want.extend_from_slice(part);
        }
        assert!(f.kicked > 0, "write-out was started along the way");
        f.commit().unwrap();
        assert!(fs::read(&p).unwrap() == want);
        fs::remove_dir_all(&d).unwrap();
    }
}
