//! Atomic output: nothing half-written.
//!
//! [`AtomicFile`] writes to a hidden temp file beside the target and renames it into place on
//! [`AtomicFile::commit`]; dropped without commit, the temp file is removed.
//! [`AtomicDir`] does the same for a whole output folder.
//!
//! [`AtomicFile::create_direct`] is for large outputs written once from start to end (the
//! canonical `events.parquet`): on Linux it writes around the page cache (`O_DIRECT`), from
//! one aligned buffer. Copying gigabytes into the page cache cost more CPU than encoding
//! them on the VMs fairdrop is measured on, where every fresh page cache page is a fault
//! on the host too.

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

/// A file that appears at its path only when complete.
pub struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    writer: Option<Sink>,
    /// Bytes written through [`Write`], and how many of them write-out was started for.
    written: u64,
    kicked: u64,
}

enum Sink {
    Buffered(BufWriter<File>),
    Direct(Direct),
}

/// Bytes of a direct write: a multiple of any block size in use (512 B to 4 KiB).
const DIRECT_ALIGN: usize = 4096;
/// Bytes gathered before each direct write.
const DIRECT_CHUNK: usize = 4 << 20;

/// Writes a file opened with `O_DIRECT`: whole aligned chunks from an aligned buffer; the
/// tail is padded to a block and the file cut back to its length at the end.
struct Direct {
    file: File,
    /// `DIRECT_CHUNK + DIRECT_ALIGN` bytes; the chunk starts at `start`, which is aligned.
    buf: Vec<u8>,
    start: usize,
    /// Bytes gathered in the chunk.
    len: usize,
    /// Bytes in the file.
    pos: u64,
}

impl Direct {
    fn new(file: File) -> Self {
        let buf = vec![0u8; DIRECT_CHUNK + DIRECT_ALIGN];
        let start = buf.as_ptr().align_offset(DIRECT_ALIGN);
        Self {
            file,
            buf,
            start,
            len: 0,
            pos: 0,
        }
    }

    /// Write the gathered bytes, padded with zeros to a whole block (only the tail is ever
    /// padded: the file is cut back to `pos` at the end).
    fn write_chunk(&mut self) -> io::Result<()> {
        let padded = self.len.div_ceil(DIRECT_ALIGN) * DIRECT_ALIGN;
        let chunk = &mut self.buf[self.start..self.start + padded];
        chunk[self.len..].fill(0);
        match self.file.write_all(chunk) {
            Ok(()) => {}
            // EINVAL on the first chunk: the file system takes O_DIRECT at open but not these
            // writes. Go on through the page cache, from the chunk's start.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput && self.pos == 0 => {
                clear_direct(&self.file)?;
                self.file.seek(io::SeekFrom::Start(self.pos))?;
                self.file.write_all(chunk)?;
            }
            Err(e) => return Err(e),
        }
        self.pos += self.len as u64;
        self.len = 0;
        Ok(())
    }

    fn finish(mut self) -> io::Result<File> {
        if self.len > 0 {
            self.write_chunk()?;
        }
        self.file.set_len(self.pos)?;
        Ok(self.file)
    }
}

impl Write for Direct {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(DIRECT_CHUNK - self.len);
        let at = self.start + self.len;
        self.buf[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        if self.len == DIRECT_CHUNK {
            self.write_chunk()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // whole chunks only; the tail goes at `finish`
    }
}

/// Open `path` for writing, around the page cache where the system allows it.
fn create_direct(path: &Path) -> io::Result<(File, bool)> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let direct = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(path);
        if let Ok(f) = direct {
            return Ok((f, true));
        }
    }
    Ok((File::create(path)?, false))
}

/// Turn `O_DIRECT` off on an open file.
fn clear_direct(f: &File) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor `f` keeps open, reading then setting its status flags.
        let r = unsafe {
            let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
            if fl < 0 {
                fl
            } else {
                libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl & !libc::O_DIRECT)
            }
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let _ = f;
    Ok(())
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
        let (tmp, target) = Self::paths(target.as_ref())?;
        let f = File::create(&tmp)?;
        Ok(Self::with(
            tmp,
            target,
            Sink::Buffered(BufWriter::with_capacity(1 << 20, f)),
        ))
    }

    /// The same, for a large file written from start to end: around the page cache where
    /// the system allows it (see the module docs), through the page cache elsewhere.
    pub fn create_direct(target: impl AsRef<Path>) -> io::Result<Self> {
        let (tmp, target) = Self::paths(target.as_ref())?;
        let sink = match create_direct(&tmp)? {
            (f, true) => Sink::Direct(Direct::new(f)),
            (f, false) => Sink::Buffered(BufWriter::with_capacity(1 << 20, f)),
        };
        Ok(Self::with(tmp, target, sink))
    }

    /// Whether this file is written around the page cache.
    pub fn is_direct(&self) -> bool {
        matches!(self.writer, Some(Sink::Direct(_)))
    }

    fn paths(target: &Path) -> io::Result<(PathBuf, PathBuf)> {
        let name = target
            .file_name()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
            })?
            .to_string_lossy()
            .into_owned();
        let tmp = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        Ok((tmp, target.to_path_buf()))
    }

    fn with(tmp: PathBuf, target: PathBuf, sink: Sink) -> Self {
        Self {
            tmp,
            target,
            writer: Some(sink),
            written: 0,
            kicked: 0,
        }
    }

    fn sink(&mut self) -> &mut Sink {
        self.writer.as_mut().expect("writer present until commit")
    }

    /// Flush, fsync and rename into place.
    pub fn commit(mut self) -> io::Result<()> {
        let f = match self.writer.take().expect("writer present until commit") {
            Sink::Buffered(w) => w.into_inner().map_err(|e| e.into_error())?,
            Sink::Direct(d) => d.finish()?,
        };
        f.sync_all()?;
        drop(f);
        fs::rename(&self.tmp, &self.target)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let w = match self.writer.as_mut().expect("writer present until commit") {
            Sink::Direct(d) => return d.write(buf),
            Sink::Buffered(w) => w,
        };
        let n = w.write(buf)?;
        self.written += n as u64;
        if self.written - self.kicked >= KICK_BYTES {
            // Bytes past the buffer are in the file.
            let in_file = self.written.saturating_sub(w.buffer().len() as u64);
            if in_file > self.kicked {
                start_writeback(w.get_ref(), self.kicked, in_file - self.kicked);
                self.kicked = in_file;
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.sink() {
            Sink::Buffered(w) => w.flush(),
            Sink::Direct(d) => d.flush(),
        }
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

    /// Around the page cache: chunks, odd-sized writes, a padded tail cut back, an empty
    /// file; through the page cache where the file system refuses O_DIRECT. Either way the
    /// file holds exactly the bytes written, and nothing before commit.
    #[test]
    fn direct_files_arrive_whole() {
        // The target folder is beside the crate (a disk file system: a temp folder on tmpfs
        // would only test the fallback).
        let d = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!(".fd-core-direct-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        let piece: Vec<u8> = (0..1_000_003u32).map(|i| (i % 253) as u8).collect();
        for (name, pieces) in [("empty", 0u32), ("small", 1), ("long", 11)] {
            let p = d.join(name);
            let mut f = AtomicFile::create_direct(&p).unwrap();
            if cfg!(target_os = "linux") && name == "long" {
                eprintln!("direct writes: {}", f.is_direct());
            }
            let mut want = Vec::new();
            for k in 0..pieces {
                let part = &piece[..piece.len() - (k as usize * 4099) % 9000];
                f.write_all(part).unwrap();
                want.extend_from_slice(part);
            }
            f.flush().unwrap();
            assert!(!p.exists());
            f.commit().unwrap();
            let got = fs::read(&p).unwrap();
            assert_eq!(got.len(), want.len(), "{name}");
            assert!(got == want, "{name}");
        }
        // Dropped without commit: nothing left.
        let p = d.join("dropped");
        let mut f = AtomicFile::create_direct(&p).unwrap();
        f.write_all(&piece).unwrap();
        drop(f);
        assert_eq!(fs::read_dir(&d).unwrap().count(), 3);
        fs::remove_dir_all(&d).unwrap();
    }
}
