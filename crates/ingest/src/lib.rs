//! Ingest: turn activity exports into the canonical table, validating every row.
//!
//! ```text
//! inputs (CSV / JSONL, optionally .gz; Parquet)
//!   → source readers (raw fields per row)        source.rs, or through a column
//!                                                 mapping (Dune, BigQuery, cryo…) mapped.rs
//!   → validation (fairdrop_core::Event rules)     quarantine.csv for bad rows
//!   → external sort by address, then time         sort.rs (spills runs past `batch_rows`)
//!   → dedup on (chain, tx_id, action, address)
//!   → DIR/events.parquet, DIR/quarantine.csv, DIR/ingest-summary.json
//! ```
//!
//! Memory is bounded by `batch_rows` and the number of distinct addresses (each distinct
//! address string is validated once and interned), not by file size. A file that cannot be
//! read at all fails the whole run ([`IngestError::File`]) and leaves no output behind; a bad
//! row is quarantined with its file, line and rule, and counted.
//!
//! ```no_run
//! let summary = fairdrop_ingest::ingest(
//!     &["activity.csv.gz".into()],
//!     std::path::Path::new("work"),
//!     &fairdrop_ingest::IngestOptions::default(),
//! ).unwrap();
//! println!("{} rows accepted", summary.accepted);
//! ```
//!
//! Exports in other columns go through [`ingest_inputs`] with an [`Input`] whose `mapping` is
//! a [`mapped::Mapping`] (a preset or a campaign's `[[inputs.sources]]`). Real Aleo chain data
//! comes from [`import`] (`fairdrop import aleo`), which writes canonical rows.

pub mod aleo;
mod csvfast;
pub mod import;
pub mod mapped;
mod sort;
pub mod source;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use fairdrop_core::event::RawFields;
use fairdrop_core::fsutil::AtomicFile;
use fairdrop_core::{Address, AddressError, CheckedRow, FieldError};
pub use source::{FileError, Format, Position};

use crate::sort::{Interner, Row, Sorter};

/// Options for [`ingest`].
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// Rows held in memory before a sorted run is spilled to disk.
    pub batch_rows: usize,
    /// Show a progress bar (only when stderr is a terminal).
    pub progress: bool,
    /// Record the sha256 of each CSV / JSONL input as it is read (`InputSummary::sha256`):
    /// what a run's manifest needs, without reading the files a second time.
    pub hash_inputs: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            batch_rows: 1_000_000,
            progress: true,
            hash_inputs: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// An input cannot be read at all (exit code 2).
    #[error(transparent)]
    File(#[from] FileError),
    /// Writing an output failed.
    #[error("{path}: {source}")]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Table(#[from] fairdrop_table::TableError),
    #[error("no input files given")]
    NoInputs,
}

/// Per-input figures.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct InputSummary {
    pub path: String,
    pub format: Option<Format>,
    pub gzip: bool,
    pub rows_read: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub ignored_columns: Vec<String>,
    /// The column mapping the file was read through (`None`: canonical columns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    /// Rows a mapping's `skip_when` left out (failed transactions).
    pub skipped: u64,
    /// sha256 (hex) of the file's bytes as read, when `IngestOptions::hash_inputs` asked for
    /// it and the format is read as a stream (CSV, JSONL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// What `ingest-summary.json` holds. `rows_read = accepted + duplicates + quarantined`;
/// rows a mapping skipped are counted apart (`skipped`), not read.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct IngestSummary {
    pub schema: &'static str,
    pub rows_read: u64,
    pub skipped: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub quarantined_by_rule: BTreeMap<String, u64>,
    pub distinct_addresses: u64,
    pub inputs: Vec<InputSummary>,
    pub outputs: Vec<String>,
}

pub const EVENTS_FILE: &str = "events.parquet";
pub const QUARANTINE_FILE: &str = "quarantine.csv";
pub const SUMMARY_FILE: &str = "ingest-summary.json";

use fairdrop_core::hash::{InlineKey, InlineMap};

/// High bit of a cached verdict: the rest indexes `Validator::errors`.
const ERR: u32 = 1 << 31;

struct Validator {
    /// Raw address string → interned canonical address id, or `ERR | index` of the rule it
    /// broke. Its probes are prefetched a few rows ahead ([`Validator::prefetch`]).
    cache: InlineMap,
    /// The same for strings of 64 bytes or more (never valid, but cached all the same).
    long: sort::FxMap<Box<str>, u32>,
    errors: Vec<AddressError>,
    /// Distinct valid addresses (ids handed out). Every canonical address that has an id is
    /// a key of `cache` too, so a raw string in another form (upper case, `\x` hex) finds
    /// the id its canonical form already has there, with no second table.
    distinct: u64,
    /// The two strings looked up last, most recent first, with their verdicts: exports
    /// grouped by wallet repeat the address row after row (about 2 lookups in 3 in the
    /// simulated world), and this skips the hash and the table probe (a cache miss).
    recent: [Option<(InlineKey, u32)>; 2],
}

impl Validator {
    fn address(&mut self, s: &str, names: &mut Interner) -> Result<u32, AddressError> {
        let v = match self.recent {
            [Some((k, v)), _] if k.is(s) => v,
            [a, Some((k, v))] if k.is(s) => {
                self.recent = [Some((k, v)), a];
                v
            }
            _ => {
                let v = self.lookup(s, names);
                if let Some(k) = InlineKey::new(s) {
                    self.recent = [Some((k, v)), self.recent[0]];
                }
                v
            }
        };
        if v & ERR == 0 {
            Ok(v)
        } else {
            Err(self.errors[(v & !ERR) as usize].clone())
        }
    }

    /// Start loading the cache line a lookup of `s` will read: the reader passes the
    /// addresses of a row some rows ahead, so the cache miss overlaps the rows between.
    fn prefetch(&self, s: &str) {
        if let [Some((k, _)), _] = &self.recent {
            if k.is(s) {
                return; // most likely still the wallet being read
            }
        }
        self.cache.prefetch(InlineMap::hash(s));
    }

    /// The cached verdict for `s`, validating it on first sight.
    fn lookup(&mut self, s: &str, names: &mut Interner) -> u32 {
        let h = InlineMap::hash(s);
        let hit = match s.len() < 64 {
            true => self.cache.get(s, h),
            false => self.long.get(s).copied(),
        };
        let v = match hit {
            Some(v) => v,
            None => {
                let v = match Address::parse(s) {
                    Ok(a) => match a.canonical_from(s) {
                        // Canonical and not in the cache: a new address.
                        std::borrow::Cow::Borrowed(c) => {
                            self.distinct += 1;
                            names.push_new(c.to_owned())
                        }
                        std::borrow::Cow::Owned(c) => {
                            let hc = InlineMap::hash(&c);
                            match self.cache.get(&c, hc) {
                                Some(id) => id,
                                None => {
                                    self.distinct += 1;
                                    let id = names.push_new(c.clone());
                                    let held = self.cache.insert(&c, hc, id);
                                    debug_assert!(held, "canonical addresses are under 64 bytes");
                                    id
                                }
                            }
                        }
                    },
                    Err(e) => {
                        self.errors.push(e);
                        ERR | (self.errors.len() as u32 - 1)
                    }
                };
                if !self.cache.insert(s, h, v) {
                    self.long.insert(s.into(), v);
                }
                v
            }
        };
        v
    }
}

/// Distinct addresses to size the address cache for, guessed from the input's size: one per
/// 8 KiB (the simulated worlds have one per 4.9 KiB of CSV, so this is low; the table holds
/// 7/8 of its slots before it grows, and grows as before when the guess is short). Growing
/// from empty made the 1M-wallet ingest allocate and zero every doubling of the table
/// (128 MB, 64 MB, ... before the last one). The table's pages are mapped only where keys
/// land: a guess too high costs memory only for the pages keys land in.
fn address_hint(input_bytes: u64) -> usize {
    (input_bytes / 8192).min(1 << 26) as usize
}

/// One input: a file, and the column mapping to read it through (none: canonical columns).
#[derive(Clone, Debug)]
pub struct Input {
    pub path: PathBuf,
    pub mapping: Option<std::sync::Arc<mapped::Mapping>>,
}

impl From<PathBuf> for Input {
    fn from(path: PathBuf) -> Input {
        Input {
            path,
            mapping: None,
        }
    }
}

/// Run the ingest stage on files in the canonical columns. See the crate docs.
pub fn ingest(
    inputs: &[PathBuf],
    out_dir: &Path,
    opts: &IngestOptions,
) -> Result<IngestSummary, IngestError> {
    let inputs: Vec<Input> = inputs.iter().cloned().map(Input::from).collect();
    ingest_inputs(&inputs, out_dir, opts)
}

/// Run the ingest stage on inputs each read through its own mapping, if any.
pub fn ingest_inputs(
    inputs: &[Input],
    out_dir: &Path,
    opts: &IngestOptions,
) -> Result<IngestSummary, IngestError> {
    if inputs.is_empty() {
        return Err(IngestError::NoInputs);
    }
    // Batch, spill and merge buffers are freed and allocated again all along: the allocator
    // keeps them until ingest ends instead of giving them back a second after each is freed
    // (on a VM whose host takes freed pages, each round trip was a fault and a zeroing:
    // 49.5M rows in 36.5-37.1 s instead of 38.7-40.7 s, 0.1 GB more peak).
    let _held = fairdrop_core::mem::hold_freed();
    // Fail fast on files that cannot be opened or named, before any work.
    let mut formats = Vec::new();
    let mut total_bytes = 0u64;
    for Input { path: p, .. } in inputs {
        let (fmt, gz) = source::detect(p)?;
        let md =
            std::fs::metadata(p).map_err(|e| FileError::new(p, format!("cannot open: {e}")))?;
        if md.is_dir() {
            return Err(FileError::new(p, "is a folder, not a file").into());
        }
        total_bytes += md.len();
        formats.push((fmt, gz));
    }
    std::fs::create_dir_all(out_dir).map_err(|source| IngestError::Output {
        path: out_dir.to_path_buf(),
        source,
    })?;

    let qpath = out_dir.join(QUARANTINE_FILE);
    let qfile = AtomicFile::create(&qpath).map_err(|source| IngestError::Output {
        path: qpath.clone(),
        source,
    })?;
    let mut qw = csv::Writer::from_writer(qfile);
    qw.write_record(["source", "line", "rule", "raw", "detail"])
        .map_err(|e| IngestError::Output {
            path: qpath.clone(),
            source: e.into(),
        })?;

    let mut sorter =
        Sorter::new(opts.batch_rows, out_dir).map_err(|source| IngestError::Output {
            path: out_dir.to_path_buf(),
            source,
        })?;
    let mut val = Validator {
        cache: InlineMap::with_capacity(address_hint(total_bytes)),
        long: Default::default(),
        errors: Vec::new(),
        distinct: 0,
        recent: [None; 2],
    };
    let mut summary = IngestSummary {
        schema: "fairdrop.activity.v1",
        ..Default::default()
    };
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress_bar(opts.progress, total_bytes, counter.clone());

    for (src, (input, (fmt, gz))) in inputs.iter().zip(formats).enumerate() {
        let path = &input.path;
        let mut isum = InputSummary {
            path: path.display().to_string(),
            format: Some(fmt),
            gzip: gz,
            mapping: input.mapping.as_ref().map(|m| m.name.clone()),
            ..Default::default()
        };
        let src_name = path.display().to_string();
        let mut out_err: Option<IngestError> = None;
        let mut rows_since_tick = 0u32;
        let mut visit = |row: source::RawRow<'_>| -> Result<(), FileError> {
            isum.rows_read += 1;
            rows_since_tick += 1;
            if rows_since_tick >= 65_536 {
                rows_since_tick = 0;
                if let Some(b) = &bar {
                    b.set_position(counter.load(std::sync::atomic::Ordering::Relaxed));
                }
            }
            for s in row.ahead.into_iter().flatten() {
                val.prefetch(s);
            }
            let res = match row.fields {
                Err(rule) => Err((rule, rule_text(rule))),
                Ok(f) => validate(&f, row.pre, &mut val, &mut sorter, src as u32)
                    .map_err(|e| (e.rule(), e.to_string())),
            };
            if let Err((rule, detail)) = res {
                isum.quarantined += 1;
                *summary
                    .quarantined_by_rule
                    .entry(rule.to_string())
                    .or_default() += 1;
                let raw = (row.raw)();
                let raw: String = if raw.len() > 4096 {
                    format!("{}…", truncate(&raw, 4096))
                } else {
                    raw
                };
                if let Err(e) =
                    qw.write_record([src_name.as_str(), &row.pos.to_string(), rule, &raw, &detail])
                {
                    out_err = Some(IngestError::Output {
                        path: qpath.clone(),
                        source: e.into(),
                    });
                }
            }
            if let Err(e) = sorter.maybe_spill() {
                out_err = Some(IngestError::Output {
                    path: out_dir.to_path_buf(),
                    source: e,
                });
            }
            match &out_err {
                Some(_) => Err(FileError::new(
                    path,
                    "stopped: an output could not be written",
                )),
                None => Ok(()),
            }
        };
        let digest = (opts.hash_inputs && fmt != Format::Parquet)
            .then(|| Arc::new(std::sync::Mutex::new(None)));
        let tap = source::Tap {
            counter: counter.clone(),
            digest: digest.clone(),
        };
        let mut skipped = 0;
        let info = match (&input.mapping, fmt) {
            (Some(m), _) => mapped::read(path, fmt, gz, tap, m, &mut visit).map(|(i, s)| {
                skipped = s;
                i
            }),
            (None, Format::Csv) => source::read_csv(path, gz, tap, &mut visit),
            (None, Format::Jsonl) => source::read_jsonl(path, gz, tap, &mut visit),
            (None, Format::Parquet) => source::read_parquet(path, counter.clone(), &mut visit),
        };
        if let Some(e) = out_err {
            return Err(e);
        }
        let info = info?;
        isum.skipped = skipped;
        summary.skipped += skipped;
        isum.ignored_columns = info.ignored_columns;
        isum.sha256 = digest.and_then(|d| d.lock().unwrap_or_else(|p| p.into_inner()).take());
        summary.rows_read += isum.rows_read;
        summary.quarantined += isum.quarantined;
        summary.inputs.push(isum);
    }
    if let Some(b) = &bar {
        b.set_message("sorting");
    }

    // Sort, dedup, write. This thread merges (the second phase's critical path); a second
    // drops duplicates and builds the Arrow columns from the interned strings, and the table
    // writer encodes Parquet on a third.
    let epath = out_dir.join(EVENTS_FILE);
    // The tables are complete now: the writer gets each string once, as dictionary values,
    // and rows as ids (copying every row's strings into Arrow columns cost a core-second
    // per 10M rows).
    let writer =
        fairdrop_table::EventWriter::create_interned(&epath, dictionaries(&sorter.tables))?;
    let (to_builder, chunks) = std::sync::mpsc::sync_channel::<Chunk>(4);
    let (to_merger, spent) = std::sync::mpsc::channel::<Chunk>();
    let n_src = inputs.len();
    let builder = std::thread::Builder::new()
        .name("column-builder".into())
        .spawn(move || build_columns(writer, chunks, to_merger, n_src))
        .map_err(|source| IngestError::Output {
            path: epath.clone(),
            source,
        })?;
    let mut chunk = Chunk::default();
    let mut builder_gone = false;
    let merged = sorter.finish(&mut |row: &Row, _t: &sort::Tables, tx: Option<&str>| {
        if builder_gone {
            return;
        }
        let mut r = *row;
        match tx {
            Some(t) => {
                r.tx_off = chunk.tx.len() as u32;
                chunk.tx.push_str(t);
            }
            None => r.tx_off = u32::MAX,
        }
        chunk.rows.push(r);
        if chunk.rows.len() >= CHUNK_ROWS {
            let next = spent.try_recv().unwrap_or_default();
            builder_gone = to_builder
                .send(std::mem::replace(&mut chunk, next))
                .is_err();
        }
    });
    if !builder_gone && !chunk.rows.is_empty() {
        let _ = to_builder.send(chunk);
    }
    drop(to_builder);
    let (writer, per_src_acc, per_src_dup) =
        builder.join().map_err(|_| IngestError::Output {
            path: epath.clone(),
            source: std::io::Error::other("the column builder thread panicked"),
        })??;
    merged.map_err(|source| IngestError::Output {
        path: out_dir.to_path_buf(),
        source,
    })?;
    for (i, s) in summary.inputs.iter_mut().enumerate() {
        s.accepted = per_src_acc[i];
        s.duplicates = per_src_dup[i];
    }
    summary.accepted = per_src_acc.iter().sum();
    summary.duplicates = per_src_dup.iter().sum();
    summary.distinct_addresses = val.distinct;
    summary.outputs = vec![
        EVENTS_FILE.into(),
        QUARANTINE_FILE.into(),
        SUMMARY_FILE.into(),
    ];

    // Commit: events, quarantine, then the summary last (its presence marks a finished run).
    let qfile = qw.into_inner().map_err(|e| IngestError::Output {
        path: qpath.clone(),
        source: e.into_error(),
    })?;
    let json = serde_json::to_vec_pretty(&summary).expect("summary serialises");
    let spath = out_dir.join(SUMMARY_FILE);
    let mut sfile = AtomicFile::create(&spath).map_err(|source| IngestError::Output {
        path: spath.clone(),
        source,
    })?;
    sfile
        .write_all(&json)
        .and_then(|_| sfile.write_all(b"\n"))
        .map_err(|source| IngestError::Output {
            path: spath.clone(),
            source,
        })?;
    let _ = std::fs::remove_file(&spath);
    writer.finish()?;
    qfile.commit().map_err(|source| IngestError::Output {
        path: qpath,
        source,
    })?;
    sfile.commit().map_err(|source| IngestError::Output {
        path: spath,
        source,
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}

/// Rows per chunk handed from the merger to the column builder.
const CHUNK_ROWS: usize = 16_384;

/// Emitted rows in output order, with their tx_ids in one arena (`tx_off == u32::MAX`: none).
#[derive(Default)]
struct Chunk {
    rows: Vec<Row>,
    tx: String,
}

/// The column-builder thread: drops duplicates from the sorted chunks of interned rows (see
/// [`sort::Dedup`]; here rather than on the merging thread, which is the critical path of
/// the second phase) and turns the rest into table rows. Returns the writer (to be finished
/// by the caller) and the rows kept and dropped per input file, or the first write error.
fn build_columns(
    mut writer: fairdrop_table::EventWriter,
    chunks: std::sync::mpsc::Receiver<Chunk>,
    spent: std::sync::mpsc::Sender<Chunk>,
    n_src: usize,
) -> Result<(fairdrop_table::EventWriter, Vec<u64>, Vec<u64>), IngestError> {
    // Rows kept and duplicates dropped, per input file.
    let (mut kept, mut dups) = (vec![0u64; n_src], vec![0u64; n_src]);
    let mut dedup = sort::Dedup::default();
    let mut amount_buf = [0u8; 40];
    for mut chunk in chunks {
        for row in &chunk.rows {
            let tx = (row.tx_off != u32::MAX)
                .then(|| &chunk.tx[row.tx_off as usize..row.tx_off as usize + row.tx_len as usize]);
            if dedup.is_dup(row, tx) {
                dups[row.src as usize] += 1;
                continue;
            }
            kept[row.src as usize] += 1;
            let amount = row.amount().map(|a| fmt_u128(a, &mut amount_buf));
            writer.write_ids(
                row.ts,
                row.chain,
                tx,
                row.addr,
                row.action,
                row.cp,
                amount,
                row.asset,
                row.program,
            )?;
        }
        chunk.rows.clear();
        chunk.tx.clear();
        let _ = spent.send(chunk);
    }
    Ok((writer, kept, dups))
}

/// Every interned string, by id, for the table writer.
fn dictionaries(t: &sort::Tables) -> fairdrop_table::Dictionaries {
    // Sized up front: grown by doubling, the address table (110 MB of text at 1M wallets)
    // was copied and its fresh pages zeroed at every step.
    let a = |i: &Interner| {
        let bytes = i.list().iter().map(|s| s.len()).sum();
        let mut b = arrow_array::builder::StringBuilder::with_capacity(i.list().len(), bytes);
        for s in i.list() {
            b.append_value(s);
        }
        b.finish()
    };
    fairdrop_table::Dictionaries {
        chain: a(&t.chains),
        names: a(&t.names),
        action: a(&t.actions),
        asset: a(&t.assets),
        program: a(&t.programs),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn rule_text(rule: &str) -> String {
    match rule {
        "csv.field_count" => "row has a different number of fields than the header".into(),
        "encoding.utf8" => "row is not valid UTF-8".into(),
        "json.syntax" => "line is not valid JSON".into(),
        "json.not_object" => "line is not a JSON object of the canonical keys".into(),
        "json.type" => "a value is not a string, number or null".into(),
        r => r.into(),
    }
}

/// Decimal text of `v` in `buf` (no allocation).
fn fmt_u128(mut v: u128, buf: &mut [u8; 40]) -> &str {
    let mut i = buf.len();
    if v == 0 {
        i -= 1;
        buf[i] = b'0';
    }
    // Work in u64 chunks of 19 digits: u128 division is slow.
    const CHUNK: u128 = 10_000_000_000_000_000_000;
    while v > 0 {
        let (q, mut r) = if v > u64::MAX as u128 {
            (v / CHUNK, (v % CHUNK) as u64)
        } else {
            (0, v as u64)
        };
        let mut digits = 0;
        while r > 0 || (q > 0 && digits < 19) {
            i -= 1;
            buf[i] = b'0' + (r % 10) as u8;
            r /= 10;
            digits += 1;
        }
        v = q;
    }
    std::str::from_utf8(&buf[i..]).expect("digits")
}

fn validate(
    f: &RawFields<'_>,
    pre: Option<fairdrop_core::Prechecked>,
    val: &mut Validator,
    sorter: &mut Sorter,
    src: u32,
) -> Result<(), FieldError> {
    // The core owns the field rules; addresses resolve through our interning cache so each
    // distinct string is checked once. Nothing here allocates per row.
    let t = &mut sorter.tables;
    let mut resolve = |s: &str| val.address(s, &mut t.names);
    let e = match pre {
        Some(p) => CheckedRow::<u32>::from_prechecked(f, p, &mut resolve)?,
        None => CheckedRow::<u32>::check(f, &mut resolve)?,
    };
    let (amount_words, has_amount) = Row::amount_fields(e.amount);
    let row = Row {
        addr: e.address,
        ts: e.timestamp,
        chain: t.chains.intern(e.chain),
        action: t.actions.intern(e.action),
        cp: e.counterparty.unwrap_or(sort::NONE),
        asset: e.asset.map_or(sort::NONE, |a| t.assets.intern(a)),
        program: e.program.map_or(sort::NONE, |p| t.programs.intern(p)),
        amount_words,
        has_amount,
        tx_off: 0,
        tx_len: 0,
        src,
    };
    sorter.push(row, e.tx_id);
    Ok(())
}

fn progress_bar(
    enabled: bool,
    total: u64,
    _counter: Arc<AtomicU64>,
) -> Option<indicatif::ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(total);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "ingest {bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .expect("template"),
    );
    Some(b)
}

#[cfg(test)]
mod fmt_tests {
    #[test]
    fn u128_text() {
        let mut b = [0u8; 40];
        for v in [
            0u128,
            1,
            9,
            10,
            1_000_000,
            u64::MAX as u128,
            u64::MAX as u128 + 1,
            10u128.pow(19),
            10u128.pow(19) - 1,
            10u128.pow(38),
            u128::MAX,
            12345678901234567890123456789,
        ] {
            assert_eq!(super::fmt_u128(v, &mut b), v.to_string());
        }
    }
}
