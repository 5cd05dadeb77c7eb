//! CSV records exactly as `csv::Reader` reads them (default dialect, no header handling,
//! flexible field counts), with a fast path for the common export.
//!
//! Most activity exports never quote a field. For those, splitting a line is finding commas,
//! and the general CSV state machine (a step per byte) was the largest cost of the parser
//! thread. [`CsvRecords`] reads the input in blocks of whole lines; a block with no `"` and no
//! lone `\r` (a line ending the CSV dialect also accepts) is split with `memchr`. From the first
//! block that has either, the rest of the input, starting at that block, goes through
//! `csv::Reader`, with line numbers continued. Blocks begin at a line start outside any
//! quoted field (no quote came before), so the hand-over is exact.
//!
//! Blank lines yield no record on the fast path; callers skip them on both paths (a record of
//! one empty field).
//!
//! The input is a reader ([`CsvRecords::new`]) or bytes already in memory, such as a mapped
//! file ([`CsvRecords::mapped`]): then the fast path splits its blocks in place, with no copy
//! through `read` (the kernel's copy into a buffer was a quarter of the parser thread's time
//! on plain files).

use std::io::{self, Chain, Cursor, Read};
use std::sync::Arc;

/// Bytes read per block on the fast path.
pub const BLOCK: usize = 1 << 20;

type Slow = csv::Reader<Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>>;

/// Told about every chunk of input bytes as it is taken, in order, then once about an empty
/// chunk when the input has been read to its end (counting and hashing what was ingested).
pub type Seen = Box<dyn FnMut(&[u8]) + Send>;

/// What a [`Mapped`] reads: a buffer, or a mapped file whose pages can be let go once read.
pub trait Bytes: Send + Sync {
    fn bytes(&self) -> &[u8];
    /// The bytes in `range` will not be read again (a mapped file drops their pages from the
    /// process's resident set, so it does not grow with the file; the page cache keeps them).
    fn release(&self, _range: std::ops::Range<usize>) {}
}

impl Bytes for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// Released in steps of this many bytes (a multiple of any page size).
const RELEASE: usize = 8 << 20;

/// Bytes in memory (a mapped file, or a buffer in tests), read front to back.
pub struct Mapped {
    bytes: Arc<dyn Bytes>,
    /// Bytes taken so far.
    pos: usize,
    /// Bytes before this were released.
    released: usize,
    seen: Seen,
    /// The end was reported.
    ended: bool,
}

impl Mapped {
    pub fn new(bytes: Arc<dyn Bytes>, seen: Seen) -> Self {
        Mapped {
            bytes,
            pos: 0,
            released: 0,
            seen,
            ended: false,
        }
    }

    fn len(&self) -> usize {
        self.bytes.bytes().len()
    }

    /// Let go of whole steps of bytes before `upto`.
    fn release_before(&mut self, upto: usize) {
        let upto = upto / RELEASE * RELEASE;
        if upto > self.released {
            self.bytes.release(self.released..upto);
            self.released = upto;
        }
    }

    /// Take up to `n` more bytes, reporting them (and the end, once reached).
    fn advance(&mut self, n: usize) {
        let all = self.bytes.bytes();
        let end = self.pos.saturating_add(n).min(all.len());
        if end > self.pos {
            (self.seen)(&all[self.pos..end]);
        }
        self.pos = end;
        if end == all.len() && !self.ended {
            self.ended = true;
            (self.seen)(&[]);
        }
    }
}

impl Read for Mapped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let start = self.pos;
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self.bytes.bytes()[start..start + n]);
        self.advance(n);
        self.release_before(self.pos);
        Ok(n)
    }
}

/// Where the fast path's blocks come from; the current block is `window()[..end]`.
enum Src {
    /// Copied out of a reader into a buffer.
    Read { r: Box<dyn Read + Send>, buf: Vec<u8> },
    /// In place: the window is the taken bytes from `start` on.
    Map { m: Mapped, start: usize },
}

impl Src {
    fn window(&self) -> &[u8] {
        match self {
            Src::Read { buf, .. } => buf,
            Src::Map { m, start } => &m.bytes.bytes()[*start..m.pos],
        }
    }

    /// Drop the first `n` bytes of the window.
    fn consume(&mut self, n: usize) {
        match self {
            Src::Read { buf, .. } => {
                buf.drain(..n);
            }
            Src::Map { m, start } => {
                *start += n;
                m.release_before(*start);
            }
        }
    }

    /// Grow the window until it holds at least `block` bytes and a line end, or the input
    /// ends.
    fn fill(&mut self, block: usize, eof: &mut bool) -> io::Result<()> {
        match self {
            Src::Read { r, buf } => fill(r, buf, block, eof),
            Src::Map { m, start } => {
                while !*eof {
                    let have = &m.bytes.bytes()[*start..m.pos];
                    if have.len() >= block && memchr::memchr(b'\n', have).is_some() {
                        break;
                    }
                    m.advance(block.max(have.len() / 2).max(4096));
                    *eof = m.pos == m.len();
                }
                Ok(())
            }
        }
    }

    /// The window's bytes, then the rest of the input, as a reader.
    fn into_reader(self, mut head: Vec<u8>) -> Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>> {
        head.extend_from_slice(self.window());
        let rest: Box<dyn Read + Send> = match self {
            Src::Read { r, .. } => r,
            Src::Map { m, .. } => Box::new(m),
        };
        Cursor::new(head).chain(rest)
    }
}

enum State {
    Fast {
        src: Src,
        /// Next unread byte of the current block `window()[..end]`.
        pos: usize,
        /// End of the current block (whole lines); `window()[end..]` is the start of the next.
        end: usize,
        eof: bool,
        /// 1 + the line ends consumed so far.
        line: u64,
        /// The last record ended `\r\n`: csv ends such a record at the `\r` and consumes
        /// the `\n` in the next read, where it counts like a skipped blank line.
        crlf: bool,
    },
    Slow {
        rdr: Box<Slow>,
        /// Lines read on the fast path before the hand-over.
        offset: u64,
    },
    /// Only while switching.
    Empty,
}

/// Reads records like `csv::ReaderBuilder::new().has_headers(false).flexible(true)`.
pub struct CsvRecords {
    state: State,
    block: usize,
}

impl CsvRecords {
    pub fn new(r: Box<dyn Read + Send>) -> Self {
        Self::with_block(r, BLOCK)
    }

    /// Records of bytes in memory, split in place.
    pub fn mapped(m: Mapped) -> Self {
        Self::mapped_with_block(m, BLOCK)
    }

    /// [`CsvRecords::mapped`] with a chosen block size.
    pub fn mapped_with_block(m: Mapped, block: usize) -> Self {
        Self::from_src(Src::Map { m, start: 0 }, block)
    }

    /// With a chosen block size (tests use tiny ones to cross block boundaries).
    pub fn with_block(r: Box<dyn Read + Send>, block: usize) -> Self {
        Self::from_src(
            Src::Read {
                r,
                buf: Vec::new(),
            },
            block,
        )
    }

    fn from_src(src: Src, block: usize) -> Self {
        Self {
            state: State::Fast {
                src,
                pos: 0,
                end: 0,
                eof: false,
                line: 1,
                crlf: false,
            },
            block: block.max(1),
        }
    }

    /// The next record into `rec` (with its line in `rec.position()`); `false` at the end.
    /// The same contract as `csv::Reader::read_byte_record`.
    pub fn read(&mut self, rec: &mut csv::ByteRecord) -> Result<bool, csv::Error> {
        // csv numbers a record by the lines before its read began: blank lines it skips on
        // the way count only for later records. `blanks` are those skipped in this call.
        let mut blanks = match &mut self.state {
            State::Fast { crlf, .. } => std::mem::take(crlf) as u64,
            _ => 0,
        };
        loop {
            match &mut self.state {
                State::Slow { rdr, offset } => {
                    let got = rdr.read_byte_record(rec)?;
                    if got {
                        let mut p = rec.position().cloned().unwrap_or_else(csv::Position::new);
                        let line = p.line() + *offset;
                        p.set_line(line);
                        rec.set_position(Some(p));
                    }
                    return Ok(got);
                }
                State::Empty => return Ok(false),
                State::Fast {
                    src,
                    pos,
                    end,
                    eof,
                    line,
                    crlf,
                } => {
                    if *pos == *end {
                        src.consume(*end);
                        *pos = 0;
                        *end = 0;
                        src.fill(self.block, eof)?;
                        let buf = src.window();
                        if buf.is_empty() {
                            return Ok(false);
                        }
                        *end = if *eof {
                            buf.len()
                        } else {
                            memchr::memrchr(b'\n', buf).map_or(buf.len(), |i| i + 1)
                        };
                        if needs_csv(&buf[..*end]) {
                            self.hand_over(blanks);
                            continue;
                        }
                    }
                    let rest = &src.window()[*pos..*end];
                    let (text, used) = match memchr::memchr(b'\n', rest) {
                        Some(i) => (&rest[..i], i + 1),
                        None => (rest, rest.len()),
                    };
                    let (text, cr) = match text.strip_suffix(b"\r") {
                        Some(t) => (t, true),
                        None => (text, false),
                    };
                    let at = *line - blanks;
                    *pos += used;
                    *line += 1;
                    if text.is_empty() {
                        blanks += 1;
                        continue;
                    }
                    *crlf = cr && used > text.len() + 1;
                    rec.clear();
                    let mut start = 0;
                    for i in memchr::memchr_iter(b',', text) {
                        rec.push_field(&text[start..i]);
                        start = i + 1;
                    }
                    rec.push_field(&text[start..]);
                    let mut p = csv::Position::new();
                    p.set_line(at);
                    rec.set_position(Some(p));
                    return Ok(true);
                }
            }
        }
    }

    /// Continue with `csv::Reader` from the start of the current block, giving it back the
    /// `blanks` blank lines this read already skipped (so its numbering matches).
    fn hand_over(&mut self, blanks: u64) {
        let State::Fast { src, line, .. } = std::mem::replace(&mut self.state, State::Empty) else {
            return;
        };
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(src.into_reader(vec![b'\n'; blanks as usize]));
        self.state = State::Slow {
            rdr: Box::new(rdr),
            offset: line - 1 - blanks,
        };
    }
}

/// Read until `buf` holds at least `block` bytes and a line end, or the input ends.
fn fill(
    r: &mut Box<dyn Read + Send>,
    buf: &mut Vec<u8>,
    block: usize,
    eof: &mut bool,
) -> io::Result<()> {
    while !*eof && (buf.len() < block || memchr::memchr(b'\n', buf).is_none()) {
        let have = buf.len();
        let want = block.max(have / 2).max(4096);
        buf.resize(have + want, 0);
        let n = loop {
            match r.read(&mut buf[have..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    buf.truncate(have);
                    return Err(e);
                }
            }
        };
        buf.truncate(have + n);
        if n == 0 {
            *eof = true;
        }
    }
    Ok(())
}

/// A block the fast path cannot split exactly: a quote anywhere, or a `\r` that does not end
/// a line as `\r\n`.
fn needs_csv(block: &[u8]) -> bool {
    memchr::memchr(b'"', block).is_some()
        || memchr::memchr_iter(b'\r', block).any(|i| block.get(i + 1) != Some(&b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records (line, fields) as a caller sees them: blank-line records dropped.
    fn with_csv(data: &[u8]) -> Vec<(u64, Vec<Vec<u8>>)> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut out = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            if rec.len() == 1 && rec[0].is_empty() {
                continue;
            }
            let line = rec.position().unwrap().line();
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    fn with_fast(data: &[u8], block: usize) -> Vec<(u64, Vec<Vec<u8>>)> {
        let mut r = CsvRecords::with_block(Box::new(Cursor::new(data.to_vec())), block);
        let mut out = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while r.read(&mut rec).unwrap() {
            if rec.len() == 1 && rec[0].is_empty() {
                continue;
            }
            let line = rec.position().unwrap().line();
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    /// The same through the in-place path; also returns every chunk the observer saw.
    fn with_mapped(data: &[u8], block: usize) -> (Vec<(u64, Vec<Vec<u8>>)>, Vec<Vec<u8>>) {
        let chunks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let c = chunks.clone();
        let m = Mapped::new(
            Arc::new(data.to_vec()),
            Box::new(move |b: &[u8]| c.lock().unwrap().push(b.to_vec())),
        );
        let mut r = CsvRecords::mapped_with_block(m, block);
        let mut out = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while r.read(&mut rec).unwrap() {
            if rec.len() == 1 && rec[0].is_empty() {
                continue;
            }
            let line = rec.position().unwrap().line();
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        drop(r);
        let seen = std::mem::take(&mut *chunks.lock().unwrap());
        (out, seen)
    }

    /// The observer saw the input's bytes in order, then one empty chunk (the end).
    fn saw_all_once(data: &[u8], seen: &[Vec<u8>]) -> bool {
        let (last, body) = seen.split_last().expect("the end was reported");
        last.is_empty() && body.iter().all(|c| !c.is_empty()) && body.concat() == data
    }

    /// Bytes that record what was released.
    struct Tracked(Vec<u8>, std::sync::Mutex<Vec<std::ops::Range<usize>>>);
    impl Bytes for Tracked {
        fn bytes(&self) -> &[u8] {
            &self.0
        }
        fn release(&self, range: std::ops::Range<usize>) {
            self.1.lock().unwrap().push(range);
        }
    }

    #[test]
    fn mapped_input_is_released_behind_the_reader() {
        // 3.5 release steps of plain lines, then (in a second case) a quote that hands the
        // rest over to csv: either way, whole steps before what was read are released, in
        // order, and the records are csv's.
        let line = b"aleo1xyz,transfer,1000\n";
        let n = (RELEASE * 7 / 2) / line.len();
        let plain: Vec<u8> = line.repeat(n);
        let mut quoted = plain.clone();
        quoted[RELEASE + 5] = b'"';
        for data in [plain, quoted] {
            let t = Arc::new(Tracked(data.clone(), Default::default()));
            let mut r = CsvRecords::mapped(Mapped::new(t.clone(), Box::new(|_| {})));
            let mut rec = csv::ByteRecord::new();
            let mut records = 0;
            while r.read(&mut rec).unwrap() {
                records += 1;
            }
            assert_eq!(records, with_csv(&data).len());
            let released = t.1.lock().unwrap().clone();
            let mut at = 0;
            for r in &released {
                assert_eq!(r.start, at, "{released:?}");
                assert!(r.end > r.start && r.end % RELEASE == 0, "{released:?}");
                at = r.end;
            }
            assert_eq!(at, data.len() / RELEASE * RELEASE, "{released:?}");
        }
    }

    #[test]
    fn plain_file_and_hand_over() {
        let data = b"a,b,c\r\n1,2,3\n\n4,,\nx,\"y,\nz\",w\n5,6,7";
        let want = with_csv(data);
        assert_eq!(want.len(), 5);
        // csv's numbering: a record's line counts the line ends consumed before its read
        // began. A `\r\n` record ends at the `\r`, so its `\n` (like the blank line before
        // `4,,`) counts only for the records after the next one.
        assert_eq!(
            want.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![1, 1, 3, 5, 7]
        );
        for block in [1, 2, 5, 8, 13, 1 << 20] {
            assert_eq!(with_fast(data, block), want, "block {block}");
            let (got, seen) = with_mapped(data, block);
            assert_eq!(got, want, "mapped, block {block}");
            assert!(saw_all_once(data, &seen), "mapped, block {block}: {seen:?}");
        }
        // All fast (no quote, no lone CR): the last line has no newline.
        let plain = b"t,a\n1,2\n\n3,4";
        assert_eq!(with_fast(plain, 3), with_csv(plain));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        /// Any bytes, any block size: the same records, fields and line numbers as csv.
        #[test]
        fn same_records_as_csv(
            data in proptest::collection::vec(
                prop_oneof![
                    8 => proptest::sample::select(b"ab1 ".to_vec()),
                    3 => Just(b','),
                    2 => Just(b'\n'),
                    1 => Just(b'\r'),
                    1 => Just(b'"'),
                    1 => Just(0xffu8),
                    1 => Just(0u8),
                ],
                0..300,
            ),
            block in 1usize..64,
        ) {
            let want = with_csv(&data);
            prop_assert_eq!(with_fast(&data, block), want.clone());
            // In place: the same records, and every byte reported once, in order (the
            // manifest's hash of the input is taken from these reports).
            let (got, seen) = with_mapped(&data, block);
            prop_assert_eq!(got, want);
            prop_assert!(saw_all_once(&data, &seen), "{:?}", seen);
        }

        /// Files without quotes or lone CRs (the fast path end to end), CRLF or LF.
        #[test]
        fn same_records_plain(
            lines in proptest::collection::vec("[a-z0-9 ,]{0,12}", 0..40),
            crlf in any::<bool>(),
            block in 1usize..64,
        ) {
            let nl = if crlf { "\r\n" } else { "\n" };
            let data = lines.join(nl);
            prop_assert!(!needs_csv(data.as_bytes()));
            let want = with_csv(data.as_bytes());
            prop_assert_eq!(with_fast(data.as_bytes(), block), want.clone());
            let (got, seen) = with_mapped(data.as_bytes(), block);
            prop_assert_eq!(got, want);
            prop_assert!(saw_all_once(data.as_bytes(), &seen), "{:?}", seen);
        }
    }
}
