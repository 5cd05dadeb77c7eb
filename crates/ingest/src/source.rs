//! Input readers: CSV, JSON Lines (both optionally gzip) and Parquet, each turning a file into
//! a stream of raw rows ([`RawRow`]) that the validator checks.
//!
//! A reader fails as a whole ([`FileError`]) only when the file cannot be read at all: missing,
//! not its format, empty, no header, a required column missing, a column of the wrong type, a
//! corrupt compressed stream. Anything wrong with a single row is left to the validator.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use fairdrop_core::event::RawFields;
use fairdrop_core::CheckedRow;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::value::RawValue;

/// Columns the schema requires.
pub const REQUIRED: [&str; 4] = ["timestamp", "chain", "address", "action"];
/// All canonical columns, in the table's order.
pub const KNOWN: [&str; 9] = fairdrop_table::COLUMNS;

/// Input format, from the file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Jsonl,
    Parquet,
}

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct FileError {
    pub path: PathBuf,
    pub why: String,
}

impl FileError {
    pub fn new(path: &Path, why: impl Into<String>) -> Self {
        FileError {
            path: path.to_path_buf(),
            why: why.into(),
        }
    }
}

/// Where a row sits in its file: a 1-based line, or row group and row for Parquet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Position {
    Line(u64),
    Parquet { group: u32, row: u64 },
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Line(l) => write!(f, "{l}"),
            Position::Parquet { group, row } => write!(f, "rg{group}:{row}"),
        }
    }
}

/// How many rows ahead readers pass addresses for the validator to prefetch
/// ([`RawRow::ahead`]): enough rows of work to cover a cache miss.
const PREFETCH_AHEAD: usize = 8;

/// One raw row handed to the validator.
pub struct RawRow<'a> {
    pub pos: Position,
    /// The row's fields, or the rule it already broke while being read (e.g. not UTF-8).
    pub fields: Result<RawFields<'a>, &'static str>,
    /// Renders the raw text of the row for the quarantine file (only called for bad rows).
    pub raw: &'a dyn Fn() -> String,
    /// The reader already ran [`CheckedRow::precheck`] on `fields` and it passed (readers
    /// that do this on their own thread take that work off the validating one).
    ///
    /// [`CheckedRow::precheck`]: fairdrop_core::CheckedRow::precheck
    pub pre: Option<fairdrop_core::Prechecked>,
    /// The address and counterparty of a row some rows ahead, when the reader has it at
    /// hand: the validator prefetches their cache lines (a hint; may be empty).
    pub ahead: [Option<&'a str>; 2],
}

/// Decide the format from the name: `.csv`, `.jsonl`/`.ndjson`/`.json`, `.parquet`, each of the
/// first two optionally followed by `.gz`.
pub fn detect(path: &Path) -> Result<(Format, bool), FileError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (stem, gz) = match name.strip_suffix(".gz") {
        Some(s) => (s.to_string(), true),
        None => (name.clone(), false),
    };
    let fmt = if stem.ends_with(".csv") {
        Format::Csv
    } else if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") || stem.ends_with(".json") {
        Format::Jsonl
    } else if stem.ends_with(".parquet") && !gz {
        Format::Parquet
    } else {
        return Err(FileError::new(
            path,
            "cannot tell the format from the name: use .csv, .jsonl (or .ndjson), their .gz, or .parquet",
        ));
    };
    Ok((fmt, gz))
}

/// Where a reader reports the bytes it takes from a file: the progress counter and, when
/// `digest` is given, the sha256 of the file's bytes (hex), stored there once the file has been
/// read to its end (so it is the hash of exactly what was ingested; a file not read to its end
/// leaves it empty).
#[derive(Clone, Default)]
pub struct Tap {
    pub counter: Arc<AtomicU64>,
    pub digest: Option<Arc<Mutex<Option<String>>>>,
}

/// Counts (and optionally hashes) bytes read from the underlying file.
pub struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
    hash: Option<Hashing>,
}

/// sha256 of the bytes read, computed on its own thread: inline, it was a tenth of a 1M-wallet
/// run's ingest on the parser thread (8.4 GB). Chunks are copied into recycled buffers,
/// which costs a fifth of hashing them.
struct Hashing {
    to_hasher: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    spent: std::sync::mpsc::Receiver<Vec<u8>>,
    hasher: Option<std::thread::JoinHandle<String>>,
    slot: Arc<Mutex<Option<String>>>,
}

impl Hashing {
    fn start(slot: Arc<Mutex<Option<String>>>) -> Option<Self> {
        let (to_hasher, chunks) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let (back, spent) = std::sync::mpsc::channel::<Vec<u8>>();
        let hasher = std::thread::Builder::new()
            .name("input-sha256".into())
            .spawn(move || {
                let mut h = Sha256::new();
                for c in chunks {
                    h.update(&c);
                    let _ = back.send(c);
                }
                hex::encode(h.finalize())
            })
            .ok()?;
        Some(Self {
            to_hasher: Some(to_hasher),
            spent,
            hasher: Some(hasher),
            slot,
        })
    }

    fn update(&mut self, bytes: &[u8]) {
        let mut c = self.spent.try_recv().unwrap_or_default();
        c.clear();
        c.extend_from_slice(bytes);
        if let Some(tx) = &self.to_hasher {
            if tx.send(c).is_err() {
                self.to_hasher = None; // the hasher stopped: no digest
            }
        }
    }

    /// At the end of the file: wait for the digest and store it.
    fn finish(mut self) {
        if self.to_hasher.take().is_none() {
            return;
        }
        if let Some(hex) = self.hasher.take().and_then(|h| h.join().ok()) {
            *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(hex);
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        if n > 0 {
            if let Some(h) = &mut self.hash {
                h.update(&buf[..n]);
            }
        } else if !buf.is_empty() {
            if let Some(h) = self.hash.take() {
                h.finish();
            }
        }
        Ok(n)
    }
}

pub(crate) fn open(path: &Path, gz: bool, tap: Tap) -> Result<Box<dyn Read + Send>, FileError> {
    let f = File::open(path).map_err(|e| FileError::new(path, format!("cannot open: {e}")))?;
    let c = Counting {
        inner: BufReader::with_capacity(1 << 20, f),
        counter: tap.counter,
        hash: tap.digest.and_then(Hashing::start),
    };
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(c))
    } else {
        Box::new(c)
    })
}

pub(crate) fn io_err(path: &Path, gz: bool, e: io::Error) -> FileError {
    if gz {
        FileError::new(path, format!("gzip stream is corrupt or truncated: {e}"))
    } else {
        FileError::new(path, format!("read error: {e}"))
    }
}

/// Extra information a reader reports about a file.
#[derive(Default, Debug, Clone, serde::Serialize)]
pub struct FileInfo {
    /// Columns present but not part of the canonical schema (ignored).
    pub ignored_columns: Vec<String>,
}

fn map_header(
    path: &Path,
    names: &[String],
) -> Result<(HashMap<&'static str, usize>, FileInfo), FileError> {
    let mut map = HashMap::new();
    let mut info = FileInfo::default();
    for (i, n) in names.iter().enumerate() {
        match KNOWN.iter().find(|k| **k == n) {
            Some(k) => {
                if map.insert(*k, i).is_some() {
                    return Err(FileError::new(
                        path,
                        format!("header names column `{k}` twice"),
                    ));
                }
            }
            None => info.ignored_columns.push(n.clone()),
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|r| !map.contains_key(*r))
        .copied()
        .collect();
    if !missing.is_empty() {
        let shown: Vec<String> = names
            .iter()
            .take(12)
            .map(|n| n.chars().take(40).collect())
            .collect();
        return Err(FileError::new(
            path,
            format!(
                "header lacks required column(s) {}; found [{}] (needs {}; optional {})",
                missing.join(", "),
                shown.join(", "),
                REQUIRED.join(", "),
                "tx_id, counterparty, amount, asset, program"
            ),
        ));
    }
    Ok((map, info))
}

fn escape_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\0' {
                s.push_str("\\x00");
            } else {
                s.push(c);
            }
        }
        for x in chunk.invalid() {
            s.push_str(&format!("\\x{x:02x}"));
        }
    }
    s
}

/// The column names of a CSV header record (a UTF-8 byte-order mark dropped).
pub(crate) fn header_names(path: &Path, rec: &csv::ByteRecord) -> Result<Vec<String>, FileError> {
    rec.iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 {
                f.strip_prefix(b"\xef\xbb\xbf").unwrap_or(f)
            } else {
                f
            };
            std::str::from_utf8(f)
                .map(str::to_string)
                .map_err(|_| FileError::new(path, "header line is not UTF-8 (is this a CSV file?)"))
        })
        .collect()
}

/// Read a CSV file (optionally gzip), calling `visit` for every data row.
pub fn read_csv(
    path: &Path,
    gz: bool,
    tap: Tap,
    visit: &mut dyn FnMut(RawRow<'_>) -> Result<(), FileError>,
) -> Result<FileInfo, FileError> {
    let r = open(path, gz, tap)?;
    let mut rdr = crate::csvfast::CsvRecords::new(r);
    let mut rec = csv::ByteRecord::new();
    let got = rdr.read(&mut rec).map_err(|e| csv_err(path, gz, e))?;
    if !got || (rec.len() == 1 && rec[0].is_empty()) {
        return Err(FileError::new(path, "empty file: no header line"));
    }
    let names = header_names(path, &rec)?;
    let (map, info) = map_header(path, &names)?;
    let idx = |k: &str| map.get(k).copied();
    let cols = [
        idx("timestamp"),
        idx("chain"),
        idx("tx_id"),
        idx("address"),
        idx("action"),
        idx("counterparty"),
        idx("amount"),
        idx("asset"),
        idx("program"),
    ];
    let width = names.len();
    // Parsing (decompression, CSV splitting, UTF-8 checks) runs on its own thread, a batch
    // of records at a time, while this thread validates: the two overlap on two cores.
    // Batches and their buffers go back to the parser for reuse, so steady state allocates
    // nothing. On the fast path a batch is a whole block of lines, its fields byte ranges
    // of the block: no field is copied (copying each into a `csv::ByteRecord`, then checking
    // it as UTF-8 record by record, was a quarter of the parser thread's work).
    const BATCH: usize = 4096;
    let (to_main, from_parser) = std::sync::mpsc::sync_channel::<Result<Batch, FileError>>(4);
    let (to_parser, returned) = std::sync::mpsc::channel::<Batch>();
    std::thread::scope(|scope| -> Result<(), FileError> {
        std::thread::Builder::new()
            .name("csv-parser".into())
            .spawn_scoped(scope, move || {
                let mut spare: Vec<csv::ByteRecord> = Vec::new();
                let mut spare_recs: Vec<Vec<Rec>> = Vec::new();
                let mut spare_blocks: Vec<FastBatch> = Vec::new();
                let mut fast = true;
                loop {
                    while let Ok(b) = returned.try_recv() {
                        match b {
                            Batch::Recs(mut v) => {
                                spare.extend(v.drain(..).map(Rec::into_bytes));
                                spare_recs.push(v);
                            }
                            Batch::Block(b) => spare_blocks.push(b),
                        }
                    }
                    let batch = if fast {
                        let mut fb = spare_blocks.pop().unwrap_or_default();
                        let mut block = fb.take_block();
                        match rdr.read_block(&mut block) {
                            Ok(crate::csvfast::BlockRead::Block) => {}
                            Ok(crate::csvfast::BlockRead::End) => return,
                            Ok(crate::csvfast::BlockRead::Slow) => {
                                fast = false;
                                continue;
                            }
                            Err(e) => {
                                let _ = to_main.send(Err(csv_err(path, gz, e)));
                                return;
                            }
                        }
                        if block.recs.is_empty() {
                            fb.put_block(block);
                            spare_blocks.push(fb);
                            continue;
                        }
                        match fb.fill(block, width, &cols) {
                            Ok(()) => Batch::Block(fb),
                            // Not UTF-8 somewhere: record by record, as the slow path does.
                            Err(block) => {
                                let mut batch = spare_recs.pop().unwrap_or_default();
                                for r in &block.recs {
                                    let mut rec = spare.pop().unwrap_or_default();
                                    rec.clear();
                                    for &(s, e) in block.fields(r) {
                                        rec.push_field(&block.text[s as usize..e as usize]);
                                    }
                                    let mut p = csv::Position::new();
                                    p.set_line(r.line);
                                    rec.set_position(Some(p));
                                    batch.push(classify_record(rec, width, &cols));
                                }
                                fb.put_block(block);
                                spare_blocks.push(fb);
                                Batch::Recs(batch)
                            }
                        }
                    } else {
                        let mut batch = spare_recs.pop().unwrap_or_default();
                        let mut done = false;
                        while batch.len() < BATCH {
                            let mut rec = spare.pop().unwrap_or_default();
                            match rdr.read(&mut rec) {
                                Ok(true) => {}
                                Ok(false) => {
                                    done = true;
                                    break;
                                }
                                Err(e) => {
                                    let _ = to_main.send(Err(csv_err(path, gz, e)));
                                    return;
                                }
                            }
                            if rec.len() == 1 && rec[0].is_empty() {
                                spare.push(rec);
                                continue; // blank line
                            }
                            batch.push(classify_record(rec, width, &cols));
                        }
                        if (!batch.is_empty() && to_main.send(Ok(Batch::Recs(batch))).is_err())
                            || done
                        {
                            return;
                        }
                        continue;
                    };
                    if to_main.send(Ok(batch)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| FileError::new(path, format!("cannot start the CSV parser: {e}")))?;
        for batch in from_parser {
            match batch? {
                Batch::Recs(batch) => {
                    for (i, rec) in batch.iter().enumerate() {
                        let ahead = match batch.get(i + PREFETCH_AHEAD) {
                            Some(Rec::Text(r, _)) => [
                                cols[3].map(|c| &r[c]),
                                cols[5].map(|c| &r[c]).filter(|s| !s.is_empty()),
                            ],
                            _ => [None; 2],
                        };
                        let line = rec.line();
                        let raw = move || rec.raw();
                        let (fields, pre) = match rec {
                            Rec::FieldCount(_) => (Err("csv.field_count"), None),
                            Rec::NotUtf8(_) => (Err("encoding.utf8"), None),
                            Rec::Text(r, pre) => (Ok(fields_of(r, &cols)), *pre),
                        };
                        visit(RawRow {
                            pos: Position::Line(line),
                            fields,
                            raw: &raw,
                            pre,
                            ahead,
                        })?;
                    }
                    // The parser may have finished; then nobody needs the batch back.
                    let _ = to_parser.send(Batch::Recs(batch));
                }
                Batch::Block(fb) => {
                    for (i, (r, kind)) in fb.recs.iter().zip(&fb.kinds).enumerate() {
                        let ahead = match (
                            fb.recs.get(i + PREFETCH_AHEAD),
                            fb.kinds.get(i + PREFETCH_AHEAD),
                        ) {
                            (Some(a), Some(Kind::Text(_))) => {
                                let f = fb.fields(a);
                                [
                                    cols[3].map(|c| fb.field(f, c)),
                                    cols[5].map(|c| fb.field(f, c)).filter(|s| !s.is_empty()),
                                ]
                            }
                            _ => [None; 2],
                        };
                        let f = fb.fields(r);
                        let raw = || {
                            f.iter()
                                .map(|&(s, e)| {
                                    escape_bytes(&fb.text.as_bytes()[s as usize..e as usize])
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        };
                        let (fields, pre) = match kind {
                            Kind::FieldCount => (Err("csv.field_count"), None),
                            Kind::Text(pre) => (Ok(fb.raw_fields(f, &cols)), *pre),
                        };
                        visit(RawRow {
                            pos: Position::Line(r.line),
                            fields,
                            raw: &raw,
                            pre,
                            ahead,
                        })?;
                    }
                    let _ = to_parser.send(Batch::Block(fb));
                }
            }
        }
        Ok(())
    })?;
    Ok(info)
}

/// What the CSV parser thread hands over.
enum Batch {
    /// Records one by one (the CSV state machine, or a block that is not all UTF-8).
    Recs(Vec<Rec>),
    /// A fast-path block.
    Block(FastBatch),
}

/// A fast-path block whose text is all UTF-8, with each record's kind.
#[derive(Default)]
struct FastBatch {
    text: String,
    recs: Vec<crate::csvfast::BlockRec>,
    spans: Vec<(u32, u32)>,
    kinds: Vec<Kind>,
}

#[derive(Clone, Copy)]
enum Kind {
    /// The header's width; what `precheck` gave if it passed.
    Text(Option<fairdrop_core::Prechecked>),
    /// A different number of fields than the header.
    FieldCount,
}

impl FastBatch {
    /// The buffers, as a block to read into.
    fn take_block(&mut self) -> crate::csvfast::Block {
        crate::csvfast::Block {
            text: std::mem::take(&mut self.text).into_bytes(),
            recs: std::mem::take(&mut self.recs),
            spans: std::mem::take(&mut self.spans),
        }
    }

    /// Give a block's buffers back unused.
    fn put_block(&mut self, b: crate::csvfast::Block) {
        let mut text = b.text;
        text.clear();
        self.text = String::from_utf8(text).expect("empty is UTF-8");
        self.recs = b.recs;
        self.spans = b.spans;
    }

    /// Take a block that is all UTF-8, classifying and prechecking each record; the block
    /// comes back if it is not.
    fn fill(
        &mut self,
        b: crate::csvfast::Block,
        width: usize,
        cols: &[Option<usize>; 9],
    ) -> Result<(), crate::csvfast::Block> {
        let text = match String::from_utf8(b.text) {
            Ok(t) => t,
            Err(e) => {
                return Err(crate::csvfast::Block {
                    text: e.into_bytes(),
                    recs: b.recs,
                    spans: b.spans,
                })
            }
        };
        self.text = text;
        self.recs = b.recs;
        self.spans = b.spans;
        self.kinds.clear();
        for r in &self.recs {
            let f = &self.spans[r.first as usize..(r.first + r.len) as usize];
            self.kinds.push(if f.len() != width {
                Kind::FieldCount
            } else {
                // Every rule but the address lookups, here on the parser thread: the
                // validating thread is the busier one.
                let fields = raw_fields(&self.text, f, cols);
                Kind::Text(CheckedRow::precheck(&fields).ok())
            });
        }
        Ok(())
    }

    fn fields(&self, r: &crate::csvfast::BlockRec) -> &[(u32, u32)] {
        &self.spans[r.first as usize..(r.first + r.len) as usize]
    }

    fn field(&self, f: &[(u32, u32)], c: usize) -> &str {
        let (s, e) = f[c];
        &self.text[s as usize..e as usize]
    }

    fn raw_fields<'t>(&'t self, f: &[(u32, u32)], cols: &[Option<usize>; 9]) -> RawFields<'t> {
        raw_fields(&self.text, f, cols)
    }
}

/// The canonical fields of a record whose fields are `f` (byte ranges of `text`, which
/// begin and end next to an ASCII comma or line end, so on character boundaries).
fn raw_fields<'t>(text: &'t str, f: &[(u32, u32)], cols: &[Option<usize>; 9]) -> RawFields<'t> {
    let mut vals: [Option<&str>; 9] = [None; 9];
    for (slot, c) in vals.iter_mut().zip(cols.iter()) {
        *slot = c.map(|c| {
            let (s, e) = f[c];
            &text[s as usize..e as usize]
        });
    }
    fields_from(vals)
}

/// Check one record's width and text, and precheck it.
fn classify_record(rec: csv::ByteRecord, width: usize, cols: &[Option<usize>; 9]) -> Rec {
    if rec.len() != width {
        return Rec::FieldCount(rec);
    }
    match csv::StringRecord::from_byte_record(rec) {
        Ok(s) => {
            // Every rule but the address lookups, here on the parser thread: the
            // validating thread was the busier one.
            let pre = CheckedRow::precheck(&fields_of(&s, cols)).ok();
            Rec::Text(s, pre)
        }
        Err(e) => Rec::NotUtf8(e.into_byte_record()),
    }
}

/// The canonical fields of a record, by the header's column map.
fn fields_of<'r>(r: &'r csv::StringRecord, cols: &[Option<usize>; 9]) -> RawFields<'r> {
    let mut vals: [Option<&str>; 9] = [None; 9];
    for (slot, c) in vals.iter_mut().zip(cols.iter()) {
        *slot = c.map(|c| &r[c]);
    }
    fields_from(vals)
}

/// A parsed CSV record as the parser thread hands it over.
enum Rec {
    /// Right width, valid UTF-8; what `precheck` gave if it passed.
    Text(csv::StringRecord, Option<fairdrop_core::Prechecked>),
    /// Right width, not UTF-8.
    NotUtf8(csv::ByteRecord),
    /// A different number of fields than the header.
    FieldCount(csv::ByteRecord),
}

impl Rec {
    fn line(&self) -> u64 {
        let p = match self {
            Rec::Text(r, _) => r.position(),
            Rec::NotUtf8(r) | Rec::FieldCount(r) => r.position(),
        };
        p.map(|p| p.line()).unwrap_or(0)
    }
    fn raw(&self) -> String {
        let parts: Vec<String> = match self {
            Rec::Text(r, _) => r.iter().map(|f| escape_bytes(f.as_bytes())).collect(),
            Rec::NotUtf8(r) | Rec::FieldCount(r) => r.iter().map(escape_bytes).collect(),
        };
        parts.join(",")
    }
    fn into_bytes(self) -> csv::ByteRecord {
        match self {
            Rec::Text(r, _) => r.into_byte_record(),
            Rec::NotUtf8(r) | Rec::FieldCount(r) => r,
        }
    }
}

pub(crate) fn fields_from(v: [Option<&str>; 9]) -> RawFields<'_> {
    RawFields {
        timestamp: v[0],
        chain: v[1],
        tx_id: v[2],
        address: v[3],
        action: v[4],
        counterparty: v[5],
        amount: v[6],
        asset: v[7],
        program: v[8],
    }
}

pub(crate) fn csv_err(path: &Path, gz: bool, e: csv::Error) -> FileError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io_err(path, gz, e),
        k => FileError::new(path, format!("CSV error: {k:?}")),
    }
}

/// Read JSON Lines (optionally gzip): one JSON object per line with the canonical keys.
/// String values are taken as they are; numbers keep their exact source text.
pub fn read_jsonl(
    path: &Path,
    gz: bool,
    tap: Tap,
    visit: &mut dyn FnMut(RawRow<'_>) -> Result<(), FileError>,
) -> Result<FileInfo, FileError> {
    let mut r = BufReader::with_capacity(1 << 20, open(path, gz, tap)?);
    let mut buf = Vec::with_capacity(1024);
    let mut line = 0u64;
    let mut any = false;
    let mut ignored: std::collections::BTreeSet<String> = Default::default();
    loop {
        buf.clear();
        let n = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| io_err(path, gz, e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let text = trim_eol(&buf);
        if text.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        any = true;
        let raw = || escape_bytes(text);
        let s = match std::str::from_utf8(text) {
            Ok(s) => s,
            Err(_) => {
                visit(RawRow {
                    pos: Position::Line(line),
                    fields: Err("encoding.utf8"),
                    raw: &raw,
                    pre: None,
                    ahead: [None; 2],
                })?;
                continue;
            }
        };
        let obj: HashMap<Cow<'_, str>, &RawValue> = match serde_json::from_str(s) {
            Ok(o) => o,
            Err(e) => {
                let rule = if e.is_data() {
                    "json.not_object"
                } else {
                    "json.syntax"
                };
                visit(RawRow {
                    pos: Position::Line(line),
                    fields: Err(rule),
                    raw: &raw,
                    pre: None,
                    ahead: [None; 2],
                })?;
                continue;
            }
        };
        let mut vals: [Option<Cow<'_, str>>; 9] = Default::default();
        let mut rule = None;
        for (k, v) in &obj {
            match KNOWN.iter().position(|n| *n == k.as_ref()) {
                Some(i) => match json_scalar(v) {
                    Ok(x) => vals[i] = x,
                    Err(r) => rule = Some(r),
                },
                None => {
                    if ignored.len() < 64 {
                        ignored.insert(k.to_string());
                    }
                }
            }
        }
        let fields = match rule {
            Some(r) => Err(r),
            None => {
                let v: [Option<&str>; 9] = std::array::from_fn(|i| vals[i].as_deref());
                Ok(fields_from(v))
            }
        };
        visit(RawRow {
            pos: Position::Line(line),
            fields,
            raw: &raw,
            pre: None,
            ahead: [None; 2],
        })?;
    }
    if !any {
        return Err(FileError::new(path, "empty file: no JSON lines"));
    }
    Ok(FileInfo {
        ignored_columns: ignored.into_iter().collect(),
    })
}

fn trim_eol(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn json_scalar(v: &RawValue) -> Result<Option<Cow<'_, str>>, &'static str> {
    let t = v.get();
    match t.as_bytes().first() {
        Some(b'"') => {
            let s: Cow<'_, str> = serde_json::from_str(t).map_err(|_| "json.syntax")?;
            Ok(Some(s))
        }
        Some(b'n') => Ok(None),
        Some(b'-' | b'0'..=b'9') => Ok(Some(Cow::Borrowed(t))),
        _ => Err("json.type"),
    }
}

enum Col {
    Absent,
    Str(ArrayRef),
    Int(ArrayRef),
    Ts(ArrayRef, i64),
    Dec(ArrayRef),
}

fn classify(path: &Path, name: &str, a: ArrayRef) -> Result<Col, FileError> {
    let dt = a.data_type().clone();
    let ok = match (&dt, name) {
        (DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View, _) => Col::Str(a),
        (
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64,
            "timestamp" | "amount",
        ) => Col::Int(a),
        (DataType::Timestamp(unit, _), "timestamp") => {
            let div = match unit {
                TimeUnit::Second => 1,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1_000_000,
                TimeUnit::Nanosecond => 1_000_000_000,
            };
            Col::Ts(a, div)
        }
        (DataType::Decimal128(_, 0), "amount") => Col::Dec(a),
        _ => {
            let want = match name {
                "timestamp" => "string, integer seconds or timestamp",
                "amount" => "string, integer or decimal with scale 0",
                _ => "string",
            };
            return Err(FileError::new(
                path,
                format!("column `{name}` has type {dt}, expected {want}"),
            ));
        }
    };
    Ok(ok)
}

fn cell(c: &Col, i: usize) -> Option<Cow<'_, str>> {
    match c {
        Col::Absent => None,
        _ if matches!(c, Col::Str(a) | Col::Int(a) | Col::Ts(a, _) | Col::Dec(a) if a.is_null(i)) => {
            None
        }
        Col::Str(a) => Some(Cow::Borrowed(match a.data_type() {
            DataType::Utf8 => a.as_string::<i32>().value(i),
            DataType::LargeUtf8 => a.as_string::<i64>().value(i),
            _ => a.as_string_view().value(i),
        })),
        Col::Int(a) => Some(Cow::Owned(match a.data_type() {
            DataType::Int8 => a.as_primitive::<Int8Type>().value(i).to_string(),
            DataType::Int16 => a.as_primitive::<Int16Type>().value(i).to_string(),
            DataType::Int32 => a.as_primitive::<Int32Type>().value(i).to_string(),
            DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
            DataType::UInt8 => a.as_primitive::<UInt8Type>().value(i).to_string(),
            DataType::UInt16 => a.as_primitive::<UInt16Type>().value(i).to_string(),
            DataType::UInt32 => a.as_primitive::<UInt32Type>().value(i).to_string(),
            _ => a.as_primitive::<UInt64Type>().value(i).to_string(),
        })),
        Col::Ts(a, div) => {
            let v = match a.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    a.as_primitive::<TimestampSecondType>().value(i)
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => {
                    a.as_primitive::<TimestampMillisecondType>().value(i)
                }
                DataType::Timestamp(TimeUnit::Microsecond, _) => {
                    a.as_primitive::<TimestampMicrosecondType>().value(i)
                }
                _ => a.as_primitive::<TimestampNanosecondType>().value(i),
            };
            Some(Cow::Owned(v.div_euclid(*div).to_string()))
        }
        Col::Dec(a) => Some(Cow::Owned(
            a.as_primitive::<Decimal128Type>().value(i).to_string(),
        )),
    }
}

/// A Parquet file's reader builder and the file's size; an empty or unreadable file is an error.
pub(crate) fn open_parquet(
    path: &Path,
) -> Result<(ParquetRecordBatchReaderBuilder<File>, u64), FileError> {
    let f = File::open(path).map_err(|e| FileError::new(path, format!("cannot open: {e}")))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Err(FileError::new(path, "empty file"));
    }
    let b = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| FileError::new(path, format!("not a readable Parquet file: {e}")))?;
    Ok((b, size))
}

/// Read a Parquet file; positions are row group and row within it.
pub fn read_parquet(
    path: &Path,
    counter: Arc<AtomicU64>,
    visit: &mut dyn FnMut(RawRow<'_>) -> Result<(), FileError>,
) -> Result<FileInfo, FileError> {
    let (b, size) = open_parquet(path)?;
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let (map, info) = map_header(path, &names)?;
    let groups: Vec<u64> = b
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows() as u64)
        .collect();
    let reader = b
        .with_batch_size(65_536)
        .build()
        .map_err(|e| FileError::new(path, e.to_string()))?;
    let per_row = size / groups.iter().sum::<u64>().max(1);
    // Decoding runs on its own thread, a couple of batches ahead of validation; that thread
    // also runs the field rules (`CheckedRow::precheck`), leaving address lookups to the
    // validating one.
    let (send, batches) = std::sync::mpsc::sync_channel(2);
    let map_ref = &map;
    std::thread::scope(|scope| -> Result<(), FileError> {
        std::thread::Builder::new()
            .name("parquet-reader".into())
            .spawn_scoped(scope, move || {
                for b in reader {
                    let pre = match &b {
                        Ok(batch) => prechecks(path, map_ref, batch),
                        Err(_) => Vec::new(),
                    };
                    if send.send((b, pre)).is_err() {
                        return; // validation stopped
                    }
                }
            })
            .map_err(|e| FileError::new(path, format!("cannot start the Parquet reader: {e}")))?;
        read_batches(path, &map, &groups, per_row, &counter, batches, visit)
    })?;
    Ok(info)
}

/// The columns of a batch by canonical name (`Col::Absent` where the file has none).
fn columns(
    path: &Path,
    map: &HashMap<&'static str, usize>,
    batch: &arrow_array::RecordBatch,
) -> Result<Vec<Col>, FileError> {
    KNOWN
        .iter()
        .map(|k| match map.get(k) {
            Some(i) => classify(path, k, batch.column(*i).clone()),
            None => Ok(Col::Absent),
        })
        .collect()
}

/// `CheckedRow::precheck` of every row (empty when a column has a wrong type: validation
/// reports that).
fn prechecks(
    path: &Path,
    map: &HashMap<&'static str, usize>,
    batch: &arrow_array::RecordBatch,
) -> Vec<Option<fairdrop_core::Prechecked>> {
    let Ok(cols) = columns(path, map, batch) else {
        return Vec::new();
    };
    (0..batch.num_rows())
        .map(|i| {
            let vals: [Option<Cow<'_, str>>; 9] = std::array::from_fn(|k| cell(&cols[k], i));
            let v: [Option<&str>; 9] = std::array::from_fn(|k| vals[k].as_deref());
            CheckedRow::precheck(&fields_from(v)).ok()
        })
        .collect()
}

type Decoded = (
    Result<arrow_array::RecordBatch, arrow_schema::ArrowError>,
    Vec<Option<fairdrop_core::Prechecked>>,
);

/// Validate decoded batches as they arrive (row positions as row group and row).
fn read_batches(
    path: &Path,
    map: &HashMap<&'static str, usize>,
    groups: &[u64],
    per_row: u64,
    counter: &AtomicU64,
    batches: std::sync::mpsc::Receiver<Decoded>,
    visit: &mut dyn FnMut(RawRow<'_>) -> Result<(), FileError>,
) -> Result<(), FileError> {
    let (mut group_v, mut in_group_v) = (0usize, 0u64);
    let (group, in_group) = (&mut group_v, &mut in_group_v);
    for (batch, pre) in batches {
        let batch =
            batch.map_err(|e| FileError::new(path, format!("corrupt Parquet data: {e}")))?;
        let cols = columns(path, map, &batch)?;
        for i in 0..batch.num_rows() {
            while *group < groups.len() && *in_group >= groups[*group] {
                *group += 1;
                *in_group = 0;
            }
            let vals: [Option<Cow<'_, str>>; 9] = std::array::from_fn(|k| cell(&cols[k], i));
            let v: [Option<&str>; 9] = std::array::from_fn(|k| vals[k].as_deref());
            let raw = || {
                let mut m = serde_json::Map::new();
                for (k, x) in KNOWN.iter().zip(v.iter()) {
                    if let Some(x) = x {
                        m.insert(k.to_string(), serde_json::Value::String(x.to_string()));
                    }
                }
                serde_json::Value::Object(m).to_string()
            };
            visit(RawRow {
                pos: Position::Parquet {
                    group: *group as u32,
                    row: *in_group,
                },
                fields: Ok(fields_from(v)),
                raw: &raw,
                pre: pre.get(i).copied().flatten(),
                ahead: [3, 5].map(
                    |k| match (&cols[k], i + PREFETCH_AHEAD < batch.num_rows()) {
                        (Col::Str(a), true) if a.data_type() == &DataType::Utf8 => {
                            let a = a.as_string::<i32>();
                            let j = i + PREFETCH_AHEAD;
                            (!a.is_null(j)).then(|| a.value(j))
                        }
                        _ => None,
                    },
                ),
            })?;
            *in_group += 1;
        }
        counter.fetch_add(per_row * batch.num_rows() as u64, Ordering::Relaxed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the validator sees of each row: line, fields (or the rule already broken), raw.
    type Seen = (u64, Result<Vec<Option<String>>, &'static str>, String);

    fn through_read_csv(data: &[u8]) -> Vec<Seen> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.csv");
        std::fs::write(&p, data).unwrap();
        let tap = Tap {
            counter: Arc::default(),
            digest: None,
        };
        let mut out = Vec::new();
        read_csv(&p, false, tap, &mut |r: RawRow<'_>| {
            let Position::Line(line) = r.pos else {
                panic!("CSV rows have lines")
            };
            let fields = r.fields.map(|f| {
                [f.timestamp, f.chain, f.address, f.action]
                    .map(|x| x.map(str::to_string))
                    .to_vec()
            });
            out.push((line, fields, (r.raw)()));
            Ok(())
        })
        .unwrap();
        out
    }

    /// The same from `csv::Reader` directly, record by record.
    fn reference(data: &[u8]) -> Vec<Seen> {
        crate::csvfast::tests::with_csv(data)
            .into_iter()
            .skip(1) // the header
            .map(|(line, rec)| {
                let raw = rec
                    .iter()
                    .map(|f| escape_bytes(f))
                    .collect::<Vec<_>>()
                    .join(",");
                let fields = if rec.len() != 4 {
                    Err("csv.field_count")
                } else {
                    match rec
                        .iter()
                        .map(|f| std::str::from_utf8(f))
                        .collect::<Result<Vec<_>, _>>()
                    {
                        Ok(v) => Ok(v.into_iter().map(|s| Some(s.to_string())).collect()),
                        Err(_) => Err("encoding.utf8"),
                    }
                };
                (line, fields, raw)
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Whole blocks (fields as ranges of the block), the record-by-record fallback for
        /// blocks that are not UTF-8, and the CSV state machine from the first quote: each
        /// row reaches the validator with the line, fields and raw text csv gives it.
        #[test]
        fn rows_as_csv_reads_them(
            body in proptest::collection::vec(crate::csvfast::tests::csv_byte(), 0..400),
            crlf in any::<bool>(),
        ) {
            let mut data = if crlf {
                b"timestamp,chain,address,action\r\n".to_vec()
            } else {
                b"timestamp,chain,address,action\n".to_vec()
            };
            data.extend_from_slice(&body);
            prop_assert_eq!(through_read_csv(&data), reference(&data));
        }
    }

    #[test]
    fn fast_path_rows_keep_their_lines() {
        let data = b"timestamp,chain,address,action\n1,a,b,c\n\n2,a,b\n3,a,\0,c\r\n4,a,b,c\n";
        let seen = through_read_csv(data);
        assert_eq!(seen, reference(data));
        let lines: Vec<u64> = seen.iter().map(|s| s.0).collect();
        // csv's numbering: a blank line counts only for the records after the next one,
        // and so does the `\n` of a `\r\n` record.
        assert_eq!(lines, vec![2, 3, 5, 5]);
        assert_eq!(seen[1].1, Err("csv.field_count"));
        assert_eq!(seen[2].2, "3,a,\\x00,c");
    }
}
