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

use std::io::{self, Chain, Cursor, Read};

/// Bytes read per block on the fast path.
pub const BLOCK: usize = 1 << 20;

type Slow = csv::Reader<Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>>;

enum State {
    Fast {
        r: Box<dyn Read + Send>,
        buf: Vec<u8>,
        /// Next unread byte of the current block `buf[..end]`.
        pos: usize,
        /// End of the current block (whole lines); `buf[end..]` is the start of the next.
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

    /// With a chosen block size (tests use tiny ones to cross block boundaries).
    pub fn with_block(r: Box<dyn Read + Send>, block: usize) -> Self {
        Self {
            state: State::Fast {
                r,
                buf: Vec::new(),
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
                    r,
                    buf,
                    pos,
                    end,
                    eof,
                    line,
                    crlf,
                } => {
                    if *pos == *end {
                        buf.drain(..*end);
                        *pos = 0;
                        *end = 0;
                        fill(r, buf, self.block, eof)?;
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
                    let rest = &buf[*pos..*end];
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
        let State::Fast { r, buf, line, .. } = std::mem::replace(&mut self.state, State::Empty)
        else {
            return;
        };
        let mut rest = vec![b'\n'; blanks as usize];
        rest.extend_from_slice(&buf);
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Cursor::new(rest).chain(r));
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
            prop_assert_eq!(with_fast(&data, block), with_csv(&data));
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
            prop_assert_eq!(with_fast(data.as_bytes(), block), with_csv(data.as_bytes()));
        }
    }
}
