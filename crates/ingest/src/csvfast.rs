//! CSV records exactly as `csv::Reader` reads them (default dialect, no header handling,
//! flexible field counts), with a fast path for the common export.
//!
//! Most activity exports never quote a field. For those, splitting a line is finding commas,
//! and the general CSV state machine (a step per byte) was the largest cost of the parser
//! thread. [`CsvRecords`] reads the input in blocks of whole lines; a block with no `"` and no
//! lone `\r` (a line ending the CSV dialect also accepts) is split in one pass that finds its
//! commas and line ends as bit masks, 64 bytes at a time. From the first
//! block that has either, the rest of the input, starting at that block, goes through
//! `csv::Reader`, with line numbers continued. Blocks begin at a line start outside any
//! quoted field (no quote came before), so the hand-over is exact.
//!
//! [`CsvRecords::read_block`] gives a fast-path block whole: its bytes and each record's
//! fields as byte ranges of them, so no field is copied (the parser thread of `read_csv` uses
//! it; [`CsvRecords::read`] copies each record into a `csv::ByteRecord`).
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
        /// Line ends consumed since the last record that do not count for the next one:
        /// csv numbers a record by the lines before its read began, so blank lines skipped
        /// on the way count only for later records. A record that ended `\r\n` leaves one
        /// too: csv ends it at the `\r` and consumes the `\n` in the next read, where it
        /// counts like a skipped blank line.
        blanks: u64,
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

/// One line of the current fast-path block.
enum Line {
    /// A record: its line number and text (without the line end).
    Record {
        at: u64,
        text: std::ops::Range<usize>,
    },
    Blank,
    /// The block is used up.
    End,
}

/// The records of one fast-path block, split without copying a field: what
/// [`CsvRecords::read_block`] fills.
#[derive(Default)]
pub struct Block {
    /// The block's bytes (whole lines).
    pub text: Vec<u8>,
    /// Per record: its line number, and its fields as `spans[first..first + len]`.
    pub recs: Vec<BlockRec>,
    /// Field byte ranges in `text`, `(start, end)`.
    pub spans: Vec<(u32, u32)>,
}

#[derive(Clone, Copy, Debug)]
pub struct BlockRec {
    pub line: u64,
    pub first: u32,
    pub len: u32,
}

impl Block {
    /// The fields of record `r` as byte ranges in `text`.
    pub fn fields(&self, r: &BlockRec) -> &[(u32, u32)] {
        &self.spans[r.first as usize..(r.first + r.len) as usize]
    }
}

/// What [`CsvRecords::read_block`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum BlockRead {
    /// `Block` holds the records of the next block (possibly none: only blank lines).
    Block,
    /// The rest of the input needs the CSV state machine: read it with [`CsvRecords::read`].
    Slow,
    /// No input left.
    End,
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
                blanks: 0,
            },
            block: block.max(1),
        }
    }

    /// The fast path's block and cursors: `(buf, pos, end, line, blanks)`.
    #[allow(clippy::type_complexity)]
    fn fast(&mut self) -> Option<(&mut Vec<u8>, &mut usize, &mut usize, &mut u64, &mut u64)> {
        match &mut self.state {
            State::Fast {
                buf,
                pos,
                end,
                line,
                blanks,
                ..
            } => Some((buf, pos, end, line, blanks)),
            _ => None,
        }
    }

    /// The next line of the current fast-path block (`Line::End` also when not fast).
    fn next_line(&mut self) -> Line {
        let Some((buf, pos, end, line, blanks)) = self.fast() else {
            return Line::End;
        };
        if *pos == *end {
            return Line::End;
        }
        let rest = &buf[*pos..*end];
        let (len, used) = match memchr::memchr(b'\n', rest) {
            Some(i) => (i, i + 1),
            None => (rest.len(), rest.len()),
        };
        let cr = len > 0 && rest[len - 1] == b'\r';
        let len = len - cr as usize;
        let start = *pos;
        *pos += used;
        *line += 1;
        if len == 0 {
            *blanks += 1;
            return Line::Blank;
        }
        let at = *line - 1 - *blanks;
        *blanks = (cr && used > len + 1) as u64;
        Line::Record {
            at,
            text: start..start + len,
        }
    }

    /// Start the next block of the fast path: `Ok(false)` when the input has ended or the
    /// reader has switched to the CSV state machine (see `self.state`).
    fn next_block(&mut self) -> Result<bool, csv::Error> {
        let State::Fast {
            r,
            buf,
            pos,
            end,
            eof,
            blanks,
            ..
        } = &mut self.state
        else {
            return Ok(false);
        };
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
            let b = *blanks;
            self.hand_over(b);
            return Ok(false);
        }
        Ok(true)
    }

    /// The next record into `rec` (with its line in `rec.position()`); `false` at the end.
    /// The same contract as `csv::Reader::read_byte_record`.
    pub fn read(&mut self, rec: &mut csv::ByteRecord) -> Result<bool, csv::Error> {
        loop {
            match self.next_line() {
                Line::Blank => continue,
                Line::Record { at, text } => {
                    let State::Fast { buf, .. } = &self.state else {
                        unreachable!("records come from the fast path")
                    };
                    let text = &buf[text];
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
                Line::End => {}
            }
            match &mut self.state {
                State::Fast { .. } => {
                    if !self.next_block()? && matches!(self.state, State::Fast { .. }) {
                        return Ok(false);
                    }
                }
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
            }
        }
    }

    /// The records of the rest of the current block, or of the next one, into `out`, their
    /// fields as ranges of `out.text` (the block's bytes move there; `out`'s old buffer is
    /// reused for reading). Records are exactly those [`CsvRecords::read`] gives, blank
    /// lines left out. Once this returns `BlockRead::Slow`, read the rest with `read`.
    pub fn read_block(&mut self, out: &mut Block) -> Result<BlockRead, csv::Error> {
        out.recs.clear();
        out.spans.clear();
        out.text.clear();
        let fresh = match &self.state {
            State::Fast { pos, end, .. } => pos == end,
            State::Slow { .. } => return Ok(BlockRead::Slow),
            State::Empty => return Ok(BlockRead::End),
        };
        if fresh && !self.next_block()? {
            return Ok(match self.state {
                State::Fast { .. } | State::Empty => BlockRead::End,
                State::Slow { .. } => BlockRead::Slow,
            });
        }
        if let State::Fast { end, blanks, .. } = &self.state {
            if *end > u32::MAX as usize {
                // Offsets are u32: a line of 4 GiB goes to the state machine.
                let b = *blanks;
                self.hand_over(b);
                return Ok(BlockRead::Slow);
            }
        }
        let Some((buf, pos, end, line, blanks)) = self.fast() else {
            unreachable!("the block was read on the fast path")
        };
        split(&buf[..*end], *pos, line, blanks, out);
        // Hand the block over whole and keep reading into `out`'s old buffer: only the
        // start of the next block (less than a line) is copied.
        std::mem::swap(buf, &mut out.text);
        buf.extend_from_slice(&out.text[*end..]);
        out.text.truncate(*end);
        *pos = 0;
        *end = 0;
        Ok(BlockRead::Block)
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

/// Split the lines of `text[from..]` (whole lines; the last one may lack its line end only
/// at the end of the input) into `out`'s records and field spans, numbering them as
/// [`CsvRecords::next_line`] does. `text` has no `"` and no lone `\r` (checked by the
/// caller), so a comma always separates fields and a `\r` always ends a line with the `\n`
/// after it.
///
/// One pass finds every comma and line end, 64 bytes at a time, as bit masks: finding them
/// with `memchr`, a call per line and per comma (ten a row), was a tenth of phase one's work.
fn split(text: &[u8], from: usize, line: &mut u64, blanks: &mut u64, out: &mut Block) {
    let mut line_start = from;
    let mut field_start = from;
    let mut first = out.spans.len();
    // A line of `text[line_start..stop]` (its line end excluded); `used` bytes with its end.
    let mut end_line = |stop: usize,
                        used: usize,
                        line_start: usize,
                        field_start: usize,
                        first: &mut usize,
                        out: &mut Block| {
        let cr = stop > line_start && text[stop - 1] == b'\r';
        let stop = stop - cr as usize;
        let len = stop - line_start;
        *line += 1;
        if len == 0 {
            // No comma can be in an empty line: no span was pushed for it.
            *blanks += 1;
            return;
        }
        let at = *line - 1 - *blanks;
        *blanks = (cr && used > len + 1) as u64;
        out.spans.push((field_start as u32, stop as u32));
        out.recs.push(BlockRec {
            line: at,
            first: *first as u32,
            len: (out.spans.len() - *first) as u32,
        });
        *first = out.spans.len();
    };
    let mut base = from;
    while base < text.len() {
        let mut chunk = [0u8; 64];
        let n = (text.len() - base).min(64);
        chunk[..n].copy_from_slice(&text[base..base + n]);
        let (commas, ends) = separators(&chunk);
        let mut m = commas | ends;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            let at = base + i;
            if ends >> i & 1 == 0 {
                out.spans.push((field_start as u32, at as u32));
                field_start = at + 1;
            } else {
                end_line(
                    at,
                    at + 1 - line_start,
                    line_start,
                    field_start,
                    &mut first,
                    out,
                );
                line_start = at + 1;
                field_start = at + 1;
            }
        }
        base += n;
    }
    if line_start < text.len() {
        // The last line of the input, without a line end.
        let used = text.len() - line_start;
        end_line(text.len(), used, line_start, field_start, &mut first, out);
    }
}

/// Bit `i` of each mask is set when byte `i` of `chunk` is a comma / a `\n`.
#[inline]
fn separators(chunk: &[u8; 64]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        separators_sse2(chunk)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        separators_swar(chunk)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn separators_sse2(chunk: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let (mut commas, mut ends) = (0u64, 0u64);
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always
    // available; each unaligned 16-byte load reads `chunk[16k..16k + 16]`, inside the array.
    unsafe {
        let comma = _mm_set1_epi8(b',' as i8);
        let nl = _mm_set1_epi8(b'\n' as i8);
        for k in 0..4 {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k) as *const __m128i);
            commas |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) as u16 as u64) << (16 * k);
            ends |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) as u16 as u64) << (16 * k);
        }
    }
    (commas, ends)
}

/// [`separators`] eight bytes at a time in plain integer arithmetic (other targets; tested on
/// all of them).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn separators_swar(chunk: &[u8; 64]) -> (u64, u64) {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each byte of `w` that equals `b` (exact: no carry crosses a byte).
    let eq = |w: u64, b: u8| {
        let x = w ^ (0x0101_0101_0101_0101u64 * b as u64);
        !(((x & LO7) + LO7) | x | LO7)
    };
    // Those high bits gathered into the low 8 bits, byte i to bit i.
    let gather = |m: u64| (m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    let (mut commas, mut ends) = (0u64, 0u64);
    for (k, word) in chunk.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        commas |= gather(eq(w, b',')) << (8 * k);
        ends |= gather(eq(w, b'\n')) << (8 * k);
    }
    (commas, ends)
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
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records (line, fields) as a caller sees them: blank-line records dropped.
    pub(crate) fn with_csv(data: &[u8]) -> Vec<(u64, Vec<Vec<u8>>)> {
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
        read_rest(&mut r, &mut out);
        out
    }

    /// The remaining records through `read`, blank-line records dropped.
    fn read_rest(r: &mut CsvRecords, out: &mut Vec<(u64, Vec<Vec<u8>>)>) {
        let mut rec = csv::ByteRecord::new();
        while r.read(&mut rec).unwrap() {
            if rec.len() == 1 && rec[0].is_empty() {
                continue;
            }
            let line = rec.position().unwrap().line();
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
    }

    /// Bytes for CSV text: plain characters, commas, line ends, lone or paired CRs, quotes,
    /// a byte that is not UTF-8, NUL.
    pub(crate) fn csv_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            8 => proptest::sample::select(b"ab1 ".to_vec()),
            3 => Just(b','),
            2 => Just(b'\n'),
            1 => Just(b'\r'),
            1 => Just(b'"'),
            1 => Just(0xffu8),
            1 => Just(0u8),
        ]
    }

    /// The same through `read_block`, then `read` once it says `Slow`.
    fn with_blocks(data: &[u8], block: usize) -> Vec<(u64, Vec<Vec<u8>>)> {
        let mut r = CsvRecords::with_block(Box::new(Cursor::new(data.to_vec())), block);
        let mut out = Vec::new();
        let mut b = Block::default();
        loop {
            match r.read_block(&mut b).unwrap() {
                BlockRead::Block => {
                    for rec in &b.recs {
                        let f = b.fields(rec);
                        let fields: Vec<Vec<u8>> = f
                            .iter()
                            .map(|&(s, e)| b.text[s as usize..e as usize].to_vec())
                            .collect();
                        out.push((rec.line, fields));
                    }
                }
                BlockRead::End => return out,
                BlockRead::Slow => break,
            }
        }
        assert_eq!(r.read_block(&mut b).unwrap(), BlockRead::Slow);
        read_rest(&mut r, &mut out);
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
            assert_eq!(with_blocks(data, block), want, "blocks of {block}");
        }
        // All fast (no quote, no lone CR): the last line has no newline.
        let plain = b"t,a\n1,2\n\n3,4";
        assert_eq!(with_fast(plain, 3), with_csv(plain));
        assert_eq!(with_blocks(plain, 3), with_csv(plain));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        /// Any bytes, any block size: the same records, fields and line numbers as csv.
        #[test]
        fn same_records_as_csv(
            data in proptest::collection::vec(csv_byte(), 0..300),
            block in 1usize..64,
        ) {
            let want = with_csv(&data);
            prop_assert_eq!(with_fast(&data, block), want.clone());
            prop_assert_eq!(with_blocks(&data, block), want);
        }

        /// The separator masks, SSE2 and portable alike, are exactly the comma and line-end
        /// bytes.
        #[test]
        fn separator_masks_are_exact(bytes in proptest::collection::vec(any::<u8>(), 64)) {
            let chunk: [u8; 64] = bytes.clone().try_into().unwrap();
            let mask = |b: u8| {
                bytes.iter().enumerate().fold(0u64, |m, (i, &x)| m | ((x == b) as u64) << i)
            };
            let want = (mask(b','), mask(b'\n'));
            prop_assert_eq!(separators_swar(&chunk), want);
            prop_assert_eq!(separators(&chunk), want);
        }

        /// Files without quotes or lone CRs (the fast path end to end), CRLF or LF: short
        /// lines, and lines long enough to cross the splitter's 64-byte chunks; blocks from a
        /// byte to several chunks.
        #[test]
        fn same_records_plain(
            lines in proptest::collection::vec(
                prop_oneof![3 => "[a-z0-9 ,]{0,12}", 1 => "[a-z0-9 ,]{13,150}"],
                0..40,
            ),
            crlf in any::<bool>(),
            block in prop_oneof![1usize..64, 64usize..700],
        ) {
            let nl = if crlf { "\r\n" } else { "\n" };
            let data = lines.join(nl);
            prop_assert!(!needs_csv(data.as_bytes()));
            let want = with_csv(data.as_bytes());
            prop_assert_eq!(with_fast(data.as_bytes(), block), want.clone());
            prop_assert_eq!(with_blocks(data.as_bytes(), block), want);
        }
    }
}
