//! The canonical activity table on disk (`events.parquet`).
//!
//! Every stage after ingest reads this one file. Columns (see `shared/spec/activity-schema.md`
//! and `docs/activity-table.md`):
//!
//! | column | Arrow type | null | notes |
//! |---|---|---|---|
//! | `timestamp` | Int64 | no | UTC seconds since the epoch |
//! | `chain` | Utf8 | no | |
//! | `tx_id` | Utf8 | yes | |
//! | `address` | Utf8 | no | canonical lowercase |
//! | `action` | Utf8 | no | |
//! | `counterparty` | Utf8 | yes | canonical lowercase |
//! | `amount` | Utf8 | yes | decimal integer, base units, up to 2^128-1 (no Arrow integer holds it) |
//! | `asset` | Utf8 | yes | |
//! | `program` | Utf8 | yes | |
//!
//! Rows are sorted by address, then timestamp (ingest guarantees it; the writer does not sort).
//!
//! ```no_run
//! use fairdrop_table::{EventWriter, EventReader};
//! # fn f(events: Vec<fairdrop_core::Event>) -> Result<(), fairdrop_table::TableError> {
//! let mut w = EventWriter::create("events.parquet")?;
//! for e in &events { w.write(e)?; }
//! w.finish()?;
//! for batch in EventReader::open("events.parquet")? {
//!     let batch = batch?;
//!     for i in 0..batch.len() { let row = batch.row(i); println!("{} {}", row.address, row.action); }
//! }
//! # Ok(()) }
//! ```

mod dictcol;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::types::UInt32Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use arrow_buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use fairdrop_core::fsutil::AtomicFile;
use fairdrop_core::Event;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowSchemaConverter;
use parquet::file::writer::SerializedFileWriter;

/// Rows per row group (a multiple of [`BATCH_ROWS`], so batches never straddle two; unit
/// tests use a size that makes them straddle, to cover the split).
const ROW_GROUP_ROWS: usize = if cfg!(test) {
    BATCH_ROWS + BATCH_ROWS / 2
} else {
    1 << 20
};

/// Columns encoded on the helper thread (indices into [`COLUMNS`]): address and counterparty,
/// about half of the encoding work (the other thread also writes the file). Handed over as
/// dictionary ids, they are encoded from the ids ([`dictcol`]), not re-interned by string.
const HELPER_COLUMNS: [usize; 2] = [3, 5];

/// An encoded column chunk of a row group.
enum Chunk {
    Arrow(ArrowColumnChunk),
    /// From a [`dictcol::DictColumnWriter`]: the bytes and their metadata.
    Raw(bytes::Bytes, parquet::column::writer::ColumnCloseResult),
}

type Chunks = parquet::errors::Result<Vec<(usize, Chunk)>>;

enum ToHelper {
    Start(Vec<(usize, ArrowColumnWriter)>),
    Batch(RecordBatch),
    Close,
}

/// Encode batches into Parquet row groups on this thread and one helper, each encoding its
/// own columns of every batch (what `ArrowWriter` does on one thread, column after column;
/// Parquet encoding was the busiest thread of ingest's second phase). Chunks are appended in
/// column order.
fn encode(
    file: AtomicFile,
    arrow_schema: SchemaRef,
    props: WriterProperties,
    batches: std::sync::mpsc::Receiver<RecordBatch>,
) -> parquet::errors::Result<AtomicFile> {
    use parquet::errors::ParquetError;
    let parquet_schema = ArrowSchemaConverter::new().convert(&arrow_schema)?;
    // Columns that arrive as dictionary ids get the id writer, kept across row groups: the
    // helper's (address, counterparty) on the helper, the small ones (chain, action, asset,
    // program) here. `ArrowColumnWriter` hashed each of their rows' strings to rebuild a
    // dictionary the ids already are.
    let id_writer = |i: usize| {
        let descr = parquet_schema.column(i);
        let stats = props.statistics_enabled(descr.path()) != EnabledStatistics::None;
        (i, dictcol::DictColumnWriter::new(descr, stats))
    };
    let is_ids = |i: &usize| matches!(arrow_schema.field(*i).data_type(), DataType::Dictionary(k, v) if **k == DataType::UInt32 && **v == DataType::Utf8);
    let mut dict_writers: Vec<(usize, dictcol::DictColumnWriter)> = HELPER_COLUMNS
        .iter()
        .copied()
        .filter(is_ids)
        .map(id_writer)
        .collect();
    let mut own_dicts: Vec<(usize, dictcol::DictColumnWriter)> = (0..arrow_schema.fields().len())
        .filter(|i| !HELPER_COLUMNS.contains(i) && is_ids(i))
        .map(id_writer)
        .collect();
    let by_ids: Vec<usize> = dict_writers.iter().chain(&own_dicts).map(|w| w.0).collect();
    let mut fw =
        SerializedFileWriter::new(file, parquet_schema.root_schema_ptr(), Arc::new(props))?;
    let factory = ArrowRowGroupWriterFactory::new(&fw, arrow_schema.clone());
    let fields = arrow_schema.fields().clone();
    let (to_helper, helper_in) = std::sync::mpsc::sync_channel::<ToHelper>(2);
    let (helper_out, from_helper) = std::sync::mpsc::channel::<Chunks>();
    let helper_fields = fields.clone();
    let helper = std::thread::Builder::new()
        .name("parquet-encode".into())
        .spawn(move || {
            let mut writers: Vec<(usize, ArrowColumnWriter)> = Vec::new();
            let mut failed: Option<ParquetError> = None;
            for msg in helper_in {
                match msg {
                    ToHelper::Start(w) => writers = w,
                    ToHelper::Batch(b) if failed.is_none() => {
                        let r = writers
                            .iter_mut()
                            .try_for_each(|(i, w)| {
                                compute_leaves(&helper_fields[*i], b.column(*i))
                                    .and_then(|leaves| leaves.iter().try_for_each(|l| w.write(l)))
                            })
                            .and_then(|_| {
                                dict_writers
                                    .iter_mut()
                                    .try_for_each(|(i, w)| w.write(b.column(*i).as_ref()))
                            });
                        if let Err(e) = r {
                            failed = Some(e);
                        }
                    }
                    ToHelper::Batch(_) => {}
                    ToHelper::Close => {
                        let out =
                            match failed.take() {
                                Some(e) => Err(e),
                                None => std::mem::take(&mut writers)
                                    .into_iter()
                                    .map(|(i, w)| w.close().map(|c| (i, Chunk::Arrow(c))))
                                    .chain(dict_writers.iter_mut().map(|(i, w)| {
                                        w.close().map(|(b, c)| (*i, Chunk::Raw(b, c)))
                                    }))
                                    .collect(),
                            };
                        if helper_out.send(out).is_err() {
                            return;
                        }
                    }
                }
            }
        })
        .map_err(|e| ParquetError::External(Box::new(e)))?;
    let gone = || ParquetError::General("the Parquet encoding thread stopped".into());
    // Finished row groups go to a third thread that appends them to the file, so encoding the
    // next group does not wait for the write (a stall every million rows otherwise).
    let (to_io, io_in) = std::sync::mpsc::sync_channel::<Vec<(usize, Chunk)>>(1);
    let io = std::thread::Builder::new()
        .name("parquet-io".into())
        .spawn(move || -> parquet::errors::Result<AtomicFile> {
            for chunks in io_in {
                let mut rg = fw.next_row_group()?;
                for (_, c) in chunks {
                    match c {
                        Chunk::Arrow(c) => c.append_to_row_group(&mut rg)?,
                        Chunk::Raw(bytes, close) => rg.append_column(&bytes, close)?,
                    }
                }
                rg.close()?;
            }
            fw.into_inner()
        })
        .map_err(|e| ParquetError::External(Box::new(e)))?;
    let mut own: Vec<(usize, ArrowColumnWriter)> = Vec::new();
    let mut group = 0usize;
    let mut rows = 0usize;
    let close_group = |own: &mut Vec<(usize, ArrowColumnWriter)>,
                       own_dicts: &mut Vec<(usize, dictcol::DictColumnWriter)>|
     -> parquet::errors::Result<()> {
        to_helper.send(ToHelper::Close).map_err(|_| gone())?;
        let mut chunks: Vec<(usize, Chunk)> = std::mem::take(own)
            .into_iter()
            .map(|(i, w)| w.close().map(|c| (i, Chunk::Arrow(c))))
            .chain(
                own_dicts
                    .iter_mut()
                    .map(|(i, w)| w.close().map(|(b, c)| (*i, Chunk::Raw(b, c)))),
            )
            .collect::<parquet::errors::Result<_>>()?;
        chunks.extend(from_helper.recv().map_err(|_| gone())??);
        chunks.sort_by_key(|c| c.0);
        to_io.send(chunks).map_err(|_| gone())
    };
    for mut batch in batches {
        while batch.num_rows() > 0 {
            if rows == 0 {
                let mut theirs = Vec::new();
                for (i, w) in factory
                    .create_column_writers(group)?
                    .into_iter()
                    .enumerate()
                {
                    if by_ids.contains(&i) {
                        // encoded from ids by the helper's own writer
                    } else if HELPER_COLUMNS.contains(&i) {
                        theirs.push((i, w));
                    } else {
                        own.push((i, w));
                    }
                }
                to_helper
                    .send(ToHelper::Start(theirs))
                    .map_err(|_| gone())?;
            }
            let take = batch.num_rows().min(ROW_GROUP_ROWS - rows);
            let part = batch.slice(0, take);
            batch = batch.slice(take, batch.num_rows() - take);
            to_helper
                .send(ToHelper::Batch(part.clone()))
                .map_err(|_| gone())?;
            for (i, w) in own.iter_mut() {
                for leaf in compute_leaves(&fields[*i], part.column(*i))? {
                    w.write(&leaf)?;
                }
            }
            for (i, w) in own_dicts.iter_mut() {
                w.write(part.column(*i).as_ref())?;
            }
            rows += take;
            if rows == ROW_GROUP_ROWS {
                close_group(&mut own, &mut own_dicts)?;
                group += 1;
                rows = 0;
            }
        }
    }
    if rows > 0 {
        close_group(&mut own, &mut own_dicts)?;
    }
    drop(to_helper);
    let _ = helper.join();
    drop(to_io);
    io.join()
        .map_err(|_| ParquetError::General("the Parquet file thread panicked".into()))?
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        // Unfinished: stop the worker; the AtomicFile it returns is dropped, removing the temp file.
        self.send = None;
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
    }
}
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

/// Rows per record batch written.
pub const BATCH_ROWS: usize = 65_536;

/// Column names in file order.
pub const COLUMNS: [&str; 9] = [
    "timestamp",
    "chain",
    "tx_id",
    "address",
    "action",
    "counterparty",
    "amount",
    "asset",
    "program",
];

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: {source}")]
    Arrow {
        path: PathBuf,
        source: arrow_schema::ArrowError,
    },
    #[error("{path}: not a canonical events table: {why}")]
    Schema { path: PathBuf, why: String },
}

/// The Arrow schema of the canonical table.
pub fn schema() -> SchemaRef {
    let s = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        Field::new("timestamp", DataType::Int64, false),
        s("chain", false),
        s("tx_id", true),
        s("address", false),
        s("action", false),
        s("counterparty", true),
        s("amount", true),
        s("asset", true),
        s("program", true),
    ]))
}

/// Streams events into a Parquet file that appears only when `finish` succeeds.
///
/// Rows are gathered into Arrow batches on the caller's thread; two threads encode and
/// compress them, each its own columns, and a third appends finished row groups to the file
/// (Parquet encoding costs more than producing the rows, so this spreads it over the cores).
pub struct EventWriter {
    path: PathBuf,
    send: Option<std::sync::mpsc::SyncSender<RecordBatch>>,
    worker: Option<std::thread::JoinHandle<Result<AtomicFile, TableError>>>,
    cols: Cols,
    rows: u64,
}

enum Cols {
    Text(Box<Builders>),
    Ids(Box<IdBuilders>),
}

/// Every string an id may name, for [`EventWriter::create_interned`]. `names` serves both
/// `address` and `counterparty`. Ids index these arrays; [`NO_ID`] is null.
pub struct Dictionaries {
    pub chain: StringArray,
    pub names: StringArray,
    pub action: StringArray,
    pub asset: StringArray,
    pub program: StringArray,
}

/// The id of an absent optional value in [`EventWriter::write_ids`].
pub const NO_ID: u32 = u32::MAX;

/// Batches of ids that become dictionary columns: the writer gets each string once per
/// batch (as the dictionary's values) instead of once per row.
struct IdBuilders {
    dict: [ArrayRef; 5],
    ts: Vec<i64>,
    /// chain, address, action, counterparty, asset, program.
    keys: [Vec<u32>; 6],
    tx: StringBuilder,
    amount: StringBuilder,
}

impl IdBuilders {
    fn new(d: Dictionaries) -> Self {
        Self {
            dict: [
                Arc::new(d.chain),
                Arc::new(d.names),
                Arc::new(d.action),
                Arc::new(d.asset),
                Arc::new(d.program),
            ],
            ts: Vec::with_capacity(BATCH_ROWS),
            keys: std::array::from_fn(|_| Vec::with_capacity(BATCH_ROWS)),
            tx: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 66),
            amount: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 8),
        }
    }

    fn finish(&mut self, path: &Path) -> Result<Vec<ArrayRef>, TableError> {
        let ts = std::mem::replace(&mut self.ts, Vec::with_capacity(BATCH_ROWS));
        let mut dict = |k: usize, d: usize| -> Result<ArrayRef, TableError> {
            let mut keys = std::mem::replace(&mut self.keys[k], Vec::with_capacity(BATCH_ROWS));
            let nulls = keys.contains(&NO_ID).then(|| {
                let valid = BooleanBuffer::collect_bool(keys.len(), |i| keys[i] != NO_ID);
                for v in keys.iter_mut().filter(|v| **v == NO_ID) {
                    *v = 0;
                }
                NullBuffer::new(valid)
            });
            let keys = UInt32Array::new(ScalarBuffer::from(keys), nulls);
            let a = DictionaryArray::<UInt32Type>::try_new(keys, self.dict[d].clone()).map_err(
                |source| TableError::Arrow {
                    path: path.to_path_buf(),
                    source,
                },
            )?;
            Ok(Arc::new(a))
        };
        let chain = dict(0, 0)?;
        let address = dict(1, 1)?;
        let action = dict(2, 2)?;
        let counterparty = dict(3, 1)?;
        let asset = dict(4, 3)?;
        let program = dict(5, 4)?;
        let tx_bytes = self.tx.values_slice().len();
        let tx: ArrayRef = Arc::new(self.tx.finish());
        self.tx = StringBuilder::with_capacity(BATCH_ROWS, tx_bytes + tx_bytes / 8 + 64);
        let amount_bytes = self.amount.values_slice().len();
        let amount: ArrayRef = Arc::new(self.amount.finish());
        self.amount =
            StringBuilder::with_capacity(BATCH_ROWS, amount_bytes + amount_bytes / 8 + 64);
        Ok(vec![
            Arc::new(Int64Array::from(ts)),
            chain,
            tx,
            address,
            action,
            counterparty,
            amount,
            asset,
            program,
        ])
    }
}

/// The file schema with the interned columns as dictionaries (what the writer is handed in
/// [`EventWriter::create_interned`] mode; the Parquet file is the same plain UTF-8 columns).
fn dict_schema() -> SchemaRef {
    let d = |name: &str, nullable: bool| {
        Field::new(
            name,
            DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)),
            nullable,
        )
    };
    Arc::new(Schema::new(vec![
        Field::new("timestamp", DataType::Int64, false),
        d("chain", false),
        Field::new("tx_id", DataType::Utf8, true),
        d("address", false),
        d("action", false),
        d("counterparty", true),
        Field::new("amount", DataType::Utf8, true),
        d("asset", true),
        d("program", true),
    ]))
}

struct Builders {
    ts: Int64Builder,
    s: [StringBuilder; 8],
    n: usize,
}

impl Builders {
    fn new() -> Self {
        Self {
            ts: Int64Builder::with_capacity(BATCH_ROWS),
            s: std::array::from_fn(|_| StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16)),
            n: 0,
        }
    }
}

impl EventWriter {
    pub fn create(path: impl AsRef<Path>) -> Result<Self, TableError> {
        Self::create_with(path.as_ref(), Cols::Text(Box::new(Builders::new())))
    }

    /// A writer fed interned ids ([`EventWriter::write_ids`]) instead of strings, for a
    /// caller that already holds every string once (ingest). The file is the same.
    pub fn create_interned(
        path: impl AsRef<Path>,
        dictionaries: Dictionaries,
    ) -> Result<Self, TableError> {
        Self::create_with(
            path.as_ref(),
            Cols::Ids(Box::new(IdBuilders::new(dictionaries))),
        )
    }

    fn create_with(path: &Path, cols: Cols) -> Result<Self, TableError> {
        let path = path.to_path_buf();
        // Tables are large and written once, start to end: around the page cache.
        let file = AtomicFile::create_direct(&path).map_err(|source| TableError::Io {
            path: path.clone(),
            source,
        })?;
        let pb = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_column_dictionary_enabled(ColumnPath::from("tx_id"), false)
            // Room for every distinct address of a row group (at most 2^20 of at most 63
            // bytes), so these columns never fall back to plain pages: readers that take the
            // dictionaries (the sybil stage, the transfers pass) resolve each value once per
            // row group, and a fallback would make them hash every row to rebuild one.
            .set_column_dictionary_page_size_limit(ColumnPath::from("address"), 64 << 20)
            .set_column_dictionary_page_size_limit(ColumnPath::from("counterparty"), 64 << 20)
            // tx_ids are random hex: Snappy saves only the length prefixes (a tenth of the
            // column) and was the costliest step of encoding.
            .set_column_compression(ColumnPath::from("tx_id"), Compression::UNCOMPRESSED)
            .set_column_compression(ColumnPath::from("address"), Compression::UNCOMPRESSED)
            .set_column_compression(ColumnPath::from("counterparty"), Compression::UNCOMPRESSED)
            // Timestamps ascend within a wallet: delta encoding stores them smaller than
            // dictionary + Snappy did, and every reader skips the decompression. Amounts
            // keep their dictionary, without Snappy. Snappy on these two columns took 0.5 s of
            // CPU per 10M rows in ingest, and decompressing them a tenth of the transfers
            // pass; the file grows 4%.
            .set_column_dictionary_enabled(ColumnPath::from("timestamp"), false)
            .set_column_encoding(
                ColumnPath::from("timestamp"),
                parquet::basic::Encoding::DELTA_BINARY_PACKED,
            )
            .set_column_compression(ColumnPath::from("timestamp"), Compression::UNCOMPRESSED)
            .set_column_compression(ColumnPath::from("amount"), Compression::UNCOMPRESSED)
            .set_created_by(format!("fairdrop {}", env!("CARGO_PKG_VERSION")));
        // Min/max statistics only where a reader can prune by them: the file is sorted by
        // address (then time). On the other text columns they cost a string comparison per
        // value (a fifth of the writer's time) and say nothing useful.
        let mut pb = pb;
        for c in [
            "chain",
            "tx_id",
            "action",
            "counterparty",
            "amount",
            "asset",
            "program",
        ] {
            pb = pb.set_column_statistics_enabled(ColumnPath::from(c), EnabledStatistics::None);
        }
        let props = pb.build();
        // No embedded Arrow schema: readers take the types from the Parquet schema (UTF-8
        // strings), whichever Arrow types this writer was handed.
        let arrow_schema = match cols {
            Cols::Text(_) => schema(),
            Cols::Ids(_) => dict_schema(),
        };
        let (send, recv) = std::sync::mpsc::sync_channel::<RecordBatch>(4);
        let wpath = path.clone();
        let worker = std::thread::Builder::new()
            .name("parquet-writer".into())
            .spawn(move || {
                let pq = |source| TableError::Parquet {
                    path: wpath.clone(),
                    source,
                };
                encode(file, arrow_schema, props, recv).map_err(pq)
            })
            .map_err(|source| TableError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            path,
            send: Some(send),
            worker: Some(worker),
            cols,
            rows: 0,
        })
    }

    pub fn write(&mut self, e: &Event) -> Result<(), TableError> {
        let mut buf = String::new();
        self.write_parts(
            e.timestamp,
            &e.chain,
            e.tx_id.as_deref(),
            {
                use std::fmt::Write;
                write!(buf, "{}", e.address).expect("string write");
                &buf
            },
            &e.action,
            e.counterparty.map(|c| c.to_string()).as_deref(),
            e.amount.map(|a| a.to_string()).as_deref(),
            e.asset.as_deref(),
            e.program.as_deref(),
        )
    }

    /// Write one row from already-canonical text fields.
    #[allow(clippy::too_many_arguments)]
    pub fn write_parts(
        &mut self,
        timestamp: i64,
        chain: &str,
        tx_id: Option<&str>,
        address: &str,
        action: &str,
        counterparty: Option<&str>,
        amount: Option<&str>,
        asset: Option<&str>,
        program: Option<&str>,
    ) -> Result<(), TableError> {
        let Cols::Text(c) = &mut self.cols else {
            return Err(TableError::Schema {
                path: self.path.clone(),
                why: "this writer takes interned ids (write_ids), not strings".into(),
            });
        };
        c.ts.append_value(timestamp);
        c.s[0].append_value(chain);
        c.s[1].append_option(tx_id);
        c.s[2].append_value(address);
        c.s[3].append_value(action);
        c.s[4].append_option(counterparty);
        c.s[5].append_option(amount);
        c.s[6].append_option(asset);
        c.s[7].append_option(program);
        c.n += 1;
        self.rows += 1;
        if c.n >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Write one row of interned ids (see [`Dictionaries`]; [`NO_ID`] for an absent optional
    /// value). Only for a writer made by [`EventWriter::create_interned`].
    #[allow(clippy::too_many_arguments)]
    pub fn write_ids(
        &mut self,
        timestamp: i64,
        chain: u32,
        tx_id: Option<&str>,
        address: u32,
        action: u32,
        counterparty: u32,
        amount: Option<&str>,
        asset: u32,
        program: u32,
    ) -> Result<(), TableError> {
        let Cols::Ids(c) = &mut self.cols else {
            return Err(TableError::Schema {
                path: self.path.clone(),
                why: "this writer takes strings (write_parts), not ids".into(),
            });
        };
        c.ts.push(timestamp);
        for (k, v) in c
            .keys
            .iter_mut()
            .zip([chain, address, action, counterparty, asset, program])
        {
            k.push(v);
        }
        c.tx.append_option(tx_id);
        c.amount.append_option(amount);
        self.rows += 1;
        if c.ts.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TableError> {
        let (arrays, schema) = match &mut self.cols {
            Cols::Text(c) => {
                if c.n == 0 {
                    return Ok(());
                }
                let mut arrays: Vec<ArrayRef> = vec![Arc::new(c.ts.finish())];
                for b in c.s.iter_mut() {
                    // `finish` hands the buffers over and leaves an empty builder: size the
                    // next one like this one so the next batch does not grow by doubling
                    // (copies, page faults).
                    let bytes = b.values_slice().len();
                    arrays.push(Arc::new(b.finish()));
                    *b = StringBuilder::with_capacity(BATCH_ROWS, bytes + bytes / 8 + 64);
                }
                c.ts = Int64Builder::with_capacity(BATCH_ROWS);
                c.n = 0;
                (arrays, schema())
            }
            Cols::Ids(c) => {
                if c.ts.is_empty() {
                    return Ok(());
                }
                (c.finish(&self.path)?, dict_schema())
            }
        };
        let batch = RecordBatch::try_new(schema, arrays).map_err(|source| TableError::Arrow {
            path: self.path.clone(),
            source,
        })?;
        let sent = self
            .send
            .as_ref()
            .map(|s| s.send(batch).is_ok())
            .unwrap_or(false);
        if !sent {
            // The writer thread stopped: its error is the one to report.
            return Err(self
                .join_worker()
                .err()
                .unwrap_or_else(|| TableError::Schema {
                    path: self.path.clone(),
                    why: "the Parquet writer stopped".into(),
                }));
        }
        Ok(())
    }

    fn join_worker(&mut self) -> Result<AtomicFile, TableError> {
        self.send = None;
        match self.worker.take() {
            Some(h) => h.join().unwrap_or_else(|_| {
                Err(TableError::Schema {
                    path: self.path.clone(),
                    why: "the Parquet writer thread panicked".into(),
                })
            }),
            None => Err(TableError::Schema {
                path: self.path.clone(),
                why: "the Parquet writer already finished".into(),
            }),
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flush, close and move the file into place. Returns the row count.
    pub fn finish(mut self) -> Result<u64, TableError> {
        self.flush()?;
        let file = self.join_worker()?;
        let path = self.path.clone();
        file.commit()
            .map_err(|source| TableError::Io { path, source })?;
        Ok(self.rows)
    }
}

/// A text column read as a dictionary: per row, an index into a table of distinct values.
/// Within one row group the values are the same table batch after batch (one `Arc`), so a
/// reader can map each distinct string once ([`DictColumn::same_values`]).
#[derive(Clone)]
pub struct DictColumn {
    keys: arrow_array::Int32Array,
    values: StringArray,
}

impl DictColumn {
    fn from_array(a: &ArrayRef) -> Option<Self> {
        let d = a
            .as_any()
            .downcast_ref::<DictionaryArray<arrow_array::types::Int32Type>>()?;
        let values = d.values().as_any().downcast_ref::<StringArray>()?.clone();
        Some(Self {
            keys: d.keys().clone(),
            values,
        })
    }

    fn new_null(n: usize) -> Self {
        Self {
            keys: arrow_array::Int32Array::new_null(n),
            values: StringArray::from(Vec::<&str>::new()),
        }
    }

    /// The value index of row `i`, `None` when the row has no value.
    #[inline]
    pub fn key(&self, i: usize) -> Option<usize> {
        (!self.keys.is_null(i)).then(|| self.keys.value(i) as usize)
    }

    /// The distinct values.
    pub fn values(&self) -> &StringArray {
        &self.values
    }

    /// How many distinct values.
    #[inline]
    pub fn n_values(&self) -> usize {
        self.values.len()
    }

    /// The value at index `k` (from [`DictColumn::key`]); `None` past the end.
    #[inline]
    pub fn value(&self, k: usize) -> Option<&str> {
        (k < self.values.len()).then(|| self.values.value(k))
    }

    /// Whether `other` indexes the very same values (the next batch of one row group).
    pub fn same_values(&self, other: &DictColumn) -> bool {
        let (a, b) = (self.values.to_data(), other.values.to_data());
        a.len() == b.len() && a.offset() == b.offset() && {
            let (ab, bb) = (a.buffers(), b.buffers());
            ab.len() == bb.len() && ab.iter().zip(bb).all(|(x, y)| x.as_ptr() == y.as_ptr())
        }
    }
}

/// Values resolved from one dictionary column, by value index, while batches keep the same
/// dictionary (one row group); `start` resets it when the dictionary changes. Resolve lazily,
/// at the row where a value is first needed, and the order of resolution is the rows' order.
pub struct DictMemo<T: Copy> {
    col: Option<DictColumn>,
    ids: Vec<Option<T>>,
}

impl<T: Copy> Default for DictMemo<T> {
    fn default() -> Self {
        Self {
            col: None,
            ids: Vec::new(),
        }
    }
}

impl<T: Copy> DictMemo<T> {
    /// Use `c`'s dictionary; true when it is a new one (everything unresolved again).
    pub fn start(&mut self, c: &DictColumn) -> bool {
        if self.col.as_ref().is_some_and(|p| p.same_values(c)) {
            return false;
        }
        self.ids.clear();
        self.ids.resize(c.n_values(), None);
        self.col = Some(c.clone());
        true
    }
    #[inline]
    pub fn get(&self, k: usize) -> Option<T> {
        self.ids.get(k).copied().flatten()
    }
    /// How many values the current dictionary has.
    #[inline]
    pub fn n_values(&self) -> usize {
        self.ids.len()
    }
    /// Start loading index `k`'s entry into the cache (a hint: a large dictionary's memo is
    /// read at random places).
    #[inline]
    pub fn prefetch(&self, k: usize) {
        if let Some(x) = self.ids.get(k) {
            fairdrop_core::hash::prefetch(x);
        }
    }
    #[inline]
    pub fn set(&mut self, k: usize, v: T) {
        if let Some(x) = self.ids.get_mut(k) {
            *x = Some(v);
        }
    }
    /// The string at value index `k` ("" if out of range, which a valid file never has).
    #[inline]
    pub fn value(&self, k: usize) -> &str {
        self.col.as_ref().and_then(|c| c.value(k)).unwrap_or("")
    }
    /// The value for index `k`, computed by `f` from its string the first time.
    #[inline]
    pub fn resolve(&mut self, k: usize, f: impl FnOnce(&str) -> T) -> T {
        if let Some(v) = self.get(k) {
            return v;
        }
        let v = f(self.value(k));
        self.set(k, v);
        v
    }
}

/// One batch with the text columns `chain`, `address`, `action`, `counterparty`, `asset`
/// and `program` as dictionaries (see [`EventReader::open_dict`]); a column not asked for is all
/// null.
pub struct DictBatch {
    pub timestamp: Int64Array,
    pub chain: DictColumn,
    pub address: DictColumn,
    pub action: DictColumn,
    pub counterparty: DictColumn,
    pub amount: StringArray,
    pub asset: DictColumn,
    pub program: DictColumn,
}

impl DictBatch {
    /// Row `i`'s amount text.
    #[inline]
    pub fn amount(&self, i: usize) -> Option<&str> {
        opt(&self.amount, i)
    }
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The columns [`EventReader::open_dict`] reads as dictionaries.
pub const DICT_COLUMNS: [&str; 6] = [
    "chain",
    "address",
    "action",
    "counterparty",
    "asset",
    "program",
];

/// Streams [`DictBatch`]es: see [`EventReader::open_dict`].
pub struct DictReader {
    path: PathBuf,
    inner: ParquetRecordBatchReader,
}

impl Iterator for DictReader {
    type Item = Result<DictBatch, TableError>;
    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.inner.next()? {
            Ok(b) => b,
            Err(source) => {
                return Some(Err(TableError::Arrow {
                    path: self.path.clone(),
                    source,
                }))
            }
        };
        let n = batch.num_rows();
        let d = |name: &str| -> Option<DictColumn> {
            match batch.column_by_name(name) {
                Some(c) => DictColumn::from_array(c),
                None => Some(DictColumn::new_null(n)),
            }
        };
        let out = (|| {
            Some(DictBatch {
                timestamp: match batch.column_by_name("timestamp") {
                    Some(c) => c.as_any().downcast_ref::<Int64Array>()?.clone(),
                    None => Int64Array::from(vec![0i64; n]),
                },
                chain: d("chain")?,
                address: d("address")?,
                action: d("action")?,
                counterparty: d("counterparty")?,
                amount: match batch.column_by_name("amount") {
                    Some(c) => c.as_any().downcast_ref::<StringArray>()?.clone(),
                    None => StringArray::new_null(n),
                },
                asset: d("asset")?,
                program: d("program")?,
            })
        })();
        Some(out.ok_or_else(|| TableError::Schema {
            path: self.path.clone(),
            why: "unexpected column types".into(),
        }))
    }
}

impl DictReader {
    /// Decode on a background thread: see [`EventReader::prefetch`].
    pub fn prefetch(self, depth: usize) -> Prefetch<DictBatch> {
        let path = self.path.clone();
        prefetch(self, path, depth)
    }
}

/// One batch of canonical rows, column-wise.
pub struct EventBatch {
    pub timestamp: Int64Array,
    pub chain: StringArray,
    pub tx_id: StringArray,
    pub address: StringArray,
    pub action: StringArray,
    pub counterparty: StringArray,
    pub amount: StringArray,
    pub asset: StringArray,
    pub program: StringArray,
}

/// A borrowed view of one row.
#[derive(Clone, Copy, Debug)]
pub struct RowRef<'a> {
    pub timestamp: i64,
    pub chain: &'a str,
    pub tx_id: Option<&'a str>,
    pub address: &'a str,
    pub action: &'a str,
    pub counterparty: Option<&'a str>,
    pub amount: Option<&'a str>,
    pub asset: Option<&'a str>,
    pub program: Option<&'a str>,
}

#[inline]
fn opt(a: &StringArray, i: usize) -> Option<&str> {
    if a.is_null(i) {
        None
    } else {
        Some(a.value(i))
    }
}

impl EventBatch {
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn row(&self, i: usize) -> RowRef<'_> {
        RowRef {
            timestamp: self.timestamp.value(i),
            chain: self.chain.value(i),
            tx_id: opt(&self.tx_id, i),
            address: self.address.value(i),
            action: self.action.value(i),
            counterparty: opt(&self.counterparty, i),
            amount: opt(&self.amount, i),
            asset: opt(&self.asset, i),
            program: opt(&self.program, i),
        }
    }
}

/// Streams an events table batch by batch; memory holds one batch.
pub struct EventReader {
    path: PathBuf,
    inner: ParquetRecordBatchReader,
}

impl EventReader {
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TableError> {
        Self::open_columns(path, &COLUMNS)
    }

    /// Read only `columns` (names from [`COLUMNS`]); the others come back as all-null
    /// columns (`RowRef` gives `None`, or `""` for the required ones). Skipping columns a
    /// pass does not need skips their decoding.
    pub fn open_columns(path: impl AsRef<Path>, columns: &[&str]) -> Result<Self, TableError> {
        let path = path.as_ref().to_path_buf();
        let f = File::open(&path).map_err(|source| TableError::Io {
            path: path.clone(),
            source,
        })?;
        let b =
            ParquetRecordBatchReaderBuilder::try_new(f).map_err(|source| TableError::Parquet {
                path: path.clone(),
                source,
            })?;
        check_fields(&path, b.schema())?;
        let mask = parquet::arrow::ProjectionMask::columns(
            b.parquet_schema(),
            columns.iter().copied().filter(|c| COLUMNS.contains(c)),
        );
        let inner = b
            .with_batch_size(BATCH_ROWS)
            .with_projection(mask)
            .build()
            .map_err(|source| TableError::Parquet {
                path: path.clone(),
                source,
            })?;
        Ok(Self { path, inner })
    }

    /// Fail unless the file holds the canonical columns with their types.
    fn check_schema(path: &Path) -> Result<(), TableError> {
        let f = File::open(path).map_err(|source| TableError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let b =
            ParquetRecordBatchReaderBuilder::try_new(f).map_err(|source| TableError::Parquet {
                path: path.to_path_buf(),
                source,
            })?;
        check_fields(path, b.schema())
    }
}

fn check_fields(path: &Path, have: &SchemaRef) -> Result<(), TableError> {
    let path = path.to_path_buf();
    {
        let want = schema();
        for field in want.fields() {
            match have.field_with_name(field.name()) {
                Ok(f) if f.data_type() == field.data_type() => {}
                Ok(f) => {
                    return Err(TableError::Schema {
                        path,
                        why: format!(
                            "column {} is {}, expected {}",
                            field.name(),
                            f.data_type(),
                            field.data_type()
                        ),
                    })
                }
                Err(_) => {
                    return Err(TableError::Schema {
                        path,
                        why: format!("column {} is missing", field.name()),
                    })
                }
            }
        }
    }
    Ok(())
}

impl EventReader {
    /// Read `columns` with the text columns among [`DICT_COLUMNS`] as dictionaries, decoded
    /// straight from the file's dictionary pages: no string is copied per row, and a reader
    /// resolves each distinct value once per row group instead of once per row.
    pub fn open_dict(path: impl AsRef<Path>, columns: &[&str]) -> Result<DictReader, TableError> {
        let path = path.as_ref().to_path_buf();
        Self::check_schema(&path)?;
        let f = File::open(&path).map_err(|source| TableError::Io {
            path: path.clone(),
            source,
        })?;
        let hint: Vec<Field> = schema()
            .fields()
            .iter()
            .map(|f| {
                if DICT_COLUMNS.contains(&f.name().as_str()) {
                    Field::new(
                        f.name(),
                        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                        f.is_nullable(),
                    )
                } else {
                    f.as_ref().clone()
                }
            })
            .collect();
        let options = parquet::arrow::arrow_reader::ArrowReaderOptions::new()
            .with_schema(Arc::new(Schema::new(hint)));
        let pq = |source| TableError::Parquet {
            path: path.clone(),
            source,
        };
        let b = ParquetRecordBatchReaderBuilder::try_new_with_options(f, options).map_err(pq)?;
        let mask = parquet::arrow::ProjectionMask::columns(
            b.parquet_schema(),
            columns.iter().copied().filter(|c| COLUMNS.contains(c)),
        );
        let inner = b
            .with_batch_size(BATCH_ROWS)
            .with_projection(mask)
            .build()
            .map_err(pq)?;
        Ok(DictReader { path, inner })
    }

    /// Total rows according to the file metadata.
    pub fn count_rows(path: impl AsRef<Path>) -> Result<u64, TableError> {
        let path = path.as_ref().to_path_buf();
        let f = File::open(&path).map_err(|source| TableError::Io {
            path: path.clone(),
            source,
        })?;
        let b =
            ParquetRecordBatchReaderBuilder::try_new(f).map_err(|source| TableError::Parquet {
                path: path.clone(),
                source,
            })?;
        Ok(b.metadata().file_metadata().num_rows() as u64)
    }
}

impl EventReader {
    /// Decode on a background thread, up to `depth` batches ahead, so decoding overlaps
    /// whatever the caller does with each batch. Dropping the iterator stops the thread.
    pub fn prefetch(self, depth: usize) -> Prefetch {
        let path = self.path.clone();
        prefetch(self, path, depth)
    }
}

fn prefetch<I, T>(it: I, path: PathBuf, depth: usize) -> Prefetch<T>
where
    I: Iterator<Item = Result<T, TableError>> + Send + 'static,
    T: Send + 'static,
{
    let (send, recv) = std::sync::mpsc::sync_channel(depth.max(1));
    let spawned = std::thread::Builder::new()
        .name("events-reader".into())
        .spawn(move || {
            for b in it {
                if send.send(b).is_err() {
                    return; // the consumer is gone
                }
            }
        });
    match spawned {
        Ok(_) => Prefetch { recv, failed: None },
        Err(source) => Prefetch {
            recv: std::sync::mpsc::sync_channel(1).1,
            failed: Some(TableError::Io { path, source }),
        },
    }
}

/// Batches decoded ahead on a background thread: see [`EventReader::prefetch`].
pub struct Prefetch<T = EventBatch> {
    recv: std::sync::mpsc::Receiver<Result<T, TableError>>,
    failed: Option<TableError>,
}

impl<T> Iterator for Prefetch<T> {
    type Item = Result<T, TableError>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        self.recv.recv().ok()
    }
}

impl Iterator for EventReader {
    type Item = Result<EventBatch, TableError>;
    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.inner.next()? {
            Ok(b) => b,
            Err(source) => {
                return Some(Err(TableError::Arrow {
                    path: self.path.clone(),
                    source,
                }))
            }
        };
        let col = |name: &str| batch.column_by_name(name).cloned();
        let n = batch.num_rows();
        let s = |name: &str| -> Option<StringArray> {
            match col(name) {
                Some(c) => c.as_any().downcast_ref::<StringArray>().cloned(),
                None => Some(StringArray::new_null(n)),
            }
        };
        let ts = match col("timestamp") {
            Some(c) => c.as_any().downcast_ref::<Int64Array>().cloned(),
            None => Some(Int64Array::from(vec![0i64; n])),
        };
        let out = (|| {
            Some(EventBatch {
                timestamp: ts?,
                chain: s("chain")?,
                tx_id: s("tx_id")?,
                address: s("address")?,
                action: s("action")?,
                counterparty: s("counterparty")?,
                amount: s("amount")?,
                asset: s("asset")?,
                program: s("program")?,
            })
        })();
        Some(out.ok_or_else(|| TableError::Schema {
            path: self.path.clone(),
            why: "unexpected column types".into(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairdrop_core::Address;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.parquet");
        let a: Address = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf"
            .parse()
            .unwrap();
        let b: Address = "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f"
            .parse()
            .unwrap();
        let mut w = EventWriter::create(&p).unwrap();
        let n = BATCH_ROWS + 10;
        for i in 0..n {
            w.write(&Event {
                timestamp: 1_700_000_000 + i as i64,
                chain: "aleo".into(),
                tx_id: (i % 2 == 0).then(|| format!("at{i}")),
                address: a,
                action: "transfer".into(),
                counterparty: Some(b),
                amount: Some(u128::MAX - i as u128),
                asset: None,
                program: Some("credits.aleo".into()),
            })
            .unwrap();
        }
        assert!(!p.exists(), "file appears only on finish");
        assert_eq!(w.finish().unwrap(), n as u64);
        assert_eq!(EventReader::count_rows(&p).unwrap(), n as u64);
        let mut seen = 0;
        for batch in EventReader::open(&p).unwrap() {
            let batch = batch.unwrap();
            for i in 0..batch.len() {
                let r = batch.row(i);
                assert_eq!(r.timestamp, 1_700_000_000 + seen as i64);
                assert_eq!(r.address, a.to_string());
                assert_eq!(r.counterparty, Some(b.to_string().as_str()));
                assert_eq!(
                    r.amount.unwrap().parse::<u128>().unwrap(),
                    u128::MAX - seen as u128
                );
                assert_eq!(r.tx_id.is_some(), seen % 2 == 0);
                assert_eq!(r.asset, None);
                seen += 1;
            }
        }
        assert_eq!(seen, n);

        // A projection reads only the named columns; the others come back empty.
        let mut seen = 0;
        for batch in EventReader::open_columns(&p, &["timestamp", "counterparty"]).unwrap() {
            let batch = batch.unwrap();
            for i in 0..batch.len() {
                let r = batch.row(i);
                assert_eq!(r.timestamp, 1_700_000_000 + seen as i64);
                assert_eq!(r.counterparty, Some(b.to_string().as_str()));
                assert_eq!(
                    (r.address, r.chain, r.amount, r.tx_id),
                    ("", "", None, None)
                );
                seen += 1;
            }
        }
        assert_eq!(seen, n);

        // Prefetched batches are the same batches, in the same order.
        let direct: Vec<i64> = EventReader::open(&p)
            .unwrap()
            .flat_map(|b| b.unwrap().timestamp.values().to_vec())
            .collect();
        let ahead: Vec<i64> = EventReader::open(&p)
            .unwrap()
            .prefetch(2)
            .flat_map(|b| b.unwrap().timestamp.values().to_vec())
            .collect();
        assert_eq!(direct.len(), n);
        assert_eq!(direct, ahead);
        // Stopping early is fine: the thread notices and ends.
        assert!(EventReader::open(&p).unwrap().prefetch(1).next().is_some());
    }

    /// Rows written as ids read back exactly like the same rows written as strings, across
    /// batch boundaries, with absent optional values null.
    #[test]
    fn interned_writer_matches_text_writer() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["aleo1alpha", "aleo1beta", "0xgamma"];
        let actions = ["transfer", "swap"];
        let assets: [&str; 0] = [];
        let programs = ["credits.aleo", "arcane.aleo"];
        let dicts = || Dictionaries {
            chain: StringArray::from(vec!["aleo"]),
            names: StringArray::from(names.to_vec()),
            action: StringArray::from(actions.to_vec()),
            asset: StringArray::from(assets.to_vec()),
            program: StringArray::from(programs.to_vec()),
        };
        let (pt, pi) = (dir.path().join("t.parquet"), dir.path().join("i.parquet"));
        let mut t = EventWriter::create(&pt).unwrap();
        let mut w = EventWriter::create_interned(&pi, dicts()).unwrap();
        assert!(w
            .write_parts(0, "aleo", None, "a", "b", None, None, None, None)
            .is_err());
        assert!(t
            .write_ids(0, 0, None, 0, 0, NO_ID, None, NO_ID, NO_ID)
            .is_err());
        let n = BATCH_ROWS * 3 + 7;
        for i in 0..n {
            let (addr, cp) = (
                (i % 3) as u32,
                if i % 4 == 0 {
                    NO_ID
                } else {
                    ((i + 1) % 3) as u32
                },
            );
            let program = if i % 5 == 0 { NO_ID } else { (i % 2) as u32 };
            let tx = (i % 3 != 0).then(|| format!("at{i}"));
            let amount = (i % 2 == 0).then(|| i.to_string());
            let ts = 1_700_000_000 + i as i64;
            let action = (i % 2) as u32;
            w.write_ids(
                ts,
                0,
                tx.as_deref(),
                addr,
                action,
                cp,
                amount.as_deref(),
                NO_ID,
                program,
            )
            .unwrap();
            let opt = |l: &[&'static str], id: u32| (id != NO_ID).then(|| l[id as usize]);
            t.write_parts(
                ts,
                "aleo",
                tx.as_deref(),
                names[addr as usize],
                actions[action as usize],
                opt(&names, cp),
                amount.as_deref(),
                None,
                opt(&programs, program),
            )
            .unwrap();
        }
        assert_eq!(w.finish().unwrap(), n as u64);
        assert_eq!(t.finish().unwrap(), n as u64);
        let rows = |p: &Path| -> Vec<String> {
            EventReader::open(p)
                .unwrap()
                .flat_map(|b| {
                    let b = b.unwrap();
                    (0..b.len())
                        .map(|i| format!("{:?}", b.row(i)))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let (a, b) = (rows(&pt), rows(&pi));
        assert_eq!(a.len(), n);
        assert_eq!(a, b);
        // Row groups of ROW_GROUP_ROWS, batches split across them.
        let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(&pi).unwrap())
            .unwrap()
            .metadata()
            .clone();
        let groups: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
        let full = ROW_GROUP_ROWS as i64;
        assert_eq!(groups, vec![full, full, n as i64 - 2 * full]);
        assert!(b[0].contains("counterparty: None") && b[1].contains("aleo1beta"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
        /// Address and counterparty written from ids (their own page encoder: dictionary
        /// pages, RLE and bit-packed runs, definition levels) read back like the same rows
        /// written as strings: dictionaries of 1 to 3000 names (index widths 0 to 12 bits),
        /// runs from 1 row to hundreds, nulls in runs, pages, batches and row groups crossed.
        #[test]
        fn id_columns_read_back_like_strings(
            n_names in 1usize..3000,
            runs in proptest::collection::vec((0usize..3000, 1usize..400, 0u8..4), 1..300),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let names: Vec<String> = (0..n_names).map(|i| format!("aleo1n{i:04}")).collect();
            let dicts = Dictionaries {
                chain: StringArray::from(vec!["aleo"]),
                names: StringArray::from(names.clone()),
                action: StringArray::from(vec!["transfer"]),
                asset: StringArray::from(Vec::<&str>::new()),
                program: StringArray::from(Vec::<&str>::new()),
            };
            let (pt, pi) = (dir.path().join("t.parquet"), dir.path().join("i.parquet"));
            let mut t = EventWriter::create(&pt).unwrap();
            let mut w = EventWriter::create_interned(&pi, dicts).unwrap();
            let mut ts = 0i64;
            for (seed, len, cp_kind) in &runs {
                for k in 0..*len {
                    let addr = (seed % n_names) as u32;
                    // 0: no counterparty; 1: the same one all run; 2, 3: a new one each row.
                    let cp = match cp_kind {
                        0 => NO_ID,
                        1 => ((seed * 7) % n_names) as u32,
                        _ => ((seed + k * 31) % n_names) as u32,
                    };
                    ts += 1;
                    w.write_ids(ts, 0, None, addr, 0, cp, None, NO_ID, NO_ID).unwrap();
                    let cp = (cp != NO_ID).then(|| names[cp as usize].as_str());
                    t.write_parts(ts, "aleo", None, &names[addr as usize], "transfer", cp, None, None, None)
                        .unwrap();
                }
            }
            let n: usize = runs.iter().map(|r| r.1).sum();
            proptest::prop_assert_eq!(w.finish().unwrap(), n as u64);
            proptest::prop_assert_eq!(t.finish().unwrap(), n as u64);
            let rows = |p: &Path| -> Vec<String> {
                EventReader::open(p)
                    .unwrap()
                    .flat_map(|b| {
                        let b = b.unwrap();
                        (0..b.len()).map(|i| format!("{:?}", b.row(i))).collect::<Vec<_>>()
                    })
                    .collect()
            };
            let (a, b) = (rows(&pt), rows(&pi));
            proptest::prop_assert_eq!(a.len(), n);
            proptest::prop_assert!(a == b, "rows differ");
        }
    }

    /// Dictionary batches give the rows the string reader gives, and consecutive batches of
    /// one row group share their values (what lets a reader map each value once).
    #[test]
    fn dict_reader_matches_string_reader() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.parquet");
        let mut w = EventWriter::create(&p).unwrap();
        let n = BATCH_ROWS * 3 + 11;
        for i in 0..n {
            let a = format!("aleo1w{:05}", i / 7);
            let cp = (i % 3 != 0).then(|| format!("aleo1c{}", i % 101));
            let amount = (i % 2 == 0).then(|| (i * 13).to_string());
            let action = ["transfer", "swap", "vote"][i % 3];
            let asset = (i % 4 != 0).then_some("credits");
            let chain = if i % 5 == 0 { "sepolia" } else { "aleo" };
            let program = (i % 5 == 1).then_some("swap.aleo");
            w.write_parts(
                i as i64,
                chain,
                None,
                &a,
                action,
                cp.as_deref(),
                amount.as_deref(),
                asset,
                program,
            )
            .unwrap();
        }
        w.finish().unwrap();
        let cols = [
            "timestamp",
            "chain",
            "address",
            "action",
            "counterparty",
            "amount",
            "asset",
            "program",
        ];
        let mut want = Vec::new();
        for b in EventReader::open_columns(&p, &cols).unwrap() {
            let b = b.unwrap();
            for i in 0..b.len() {
                let r = b.row(i);
                want.push(format!(
                    "{} {} {} {} {:?} {:?} {:?} {:?}",
                    r.timestamp,
                    r.chain,
                    r.address,
                    r.action,
                    r.counterparty,
                    r.amount,
                    r.asset,
                    r.program
                ));
            }
        }
        let mut got = Vec::new();
        let mut shared = Vec::new();
        let mut prev: Option<DictColumn> = None;
        for b in EventReader::open_dict(&p, &cols).unwrap().prefetch(2) {
            let b = b.unwrap();
            let v = |c: &DictColumn, i: usize| c.key(i).map(|k| c.values().value(k).to_string());
            for i in 0..b.len() {
                got.push(format!(
                    "{} {} {} {} {:?} {:?} {:?} {:?}",
                    b.timestamp.value(i),
                    v(&b.chain, i).unwrap(),
                    v(&b.address, i).unwrap(),
                    v(&b.action, i).unwrap(),
                    v(&b.counterparty, i),
                    (!b.amount.is_null(i)).then(|| b.amount.value(i)),
                    v(&b.asset, i),
                    v(&b.program, i),
                ));
            }
            shared.push(prev.as_ref().is_some_and(|p| p.same_values(&b.action)));
            prev = Some(b.action.clone());
        }
        assert_eq!(want.len(), n);
        assert_eq!(got, want);
        // Test row groups hold 1.5 batches, so every batch spans two dictionaries and gets
        // its own values: none may claim to share.
        assert!(shared.iter().all(|s| !s), "{shared:?}");

        // Batches cut from one dictionary share; equal but separate values do not.
        let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let dict = |keys: Vec<i32>, v: &ArrayRef| -> ArrayRef {
            Arc::new(
                DictionaryArray::<arrow_array::types::Int32Type>::try_new(
                    arrow_array::Int32Array::from(keys),
                    v.clone(),
                )
                .unwrap(),
            )
        };
        let a = DictColumn::from_array(&dict(vec![0, 1], &values)).unwrap();
        let b = DictColumn::from_array(&dict(vec![1, 1, 0], &values)).unwrap();
        let other: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let c = DictColumn::from_array(&dict(vec![0], &other)).unwrap();
        assert!(a.same_values(&b) && !a.same_values(&c));
        assert_eq!((b.key(0), b.values().value(1)), (Some(1), "b"));
    }

    #[test]
    fn rejects_foreign_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.parquet");
        std::fs::write(&p, b"not parquet").unwrap();
        assert!(EventReader::open(&p).is_err());
    }
}
