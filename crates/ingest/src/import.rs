//! `fairdrop import aleo`: blocks from a snarkOS node or from saved block JSON → canonical
//! activity (`DIR/activity.csv`, read by `ingest` and `run` as it is).
//!
//! ```text
//! node (blocks?start=&end=, 50 a call, N calls in flight, retries)  or  --blocks FILE|DIR
//!   → aleo::map_block per block, in height order
//!   → DIR/activity.csv, DIR/quarantine.csv (height,tx_id,rule,detail,raw), DIR/import-summary.json
//! ```
//!
//! **Resuming.** While it runs the outputs are `activity.csv.partial` and
//! `quarantine.csv.partial`; after each page of blocks is written in order and synced,
//! `import.checkpoint` records the next height and both files' lengths. A killed import
//! started again with the same arguments cuts the partial files back to those lengths and goes
//! on from that height, so its output is byte for byte an uninterrupted import's. The final
//! files appear (renamed) only when the whole range is done.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::aleo::{map_block, BlockCounts, BlockOut, Network, Quarantined, Rules, COLUMNS};

/// Blocks per `blocks?start=&end=` call (snarkOS's maximum).
pub const PAGE: u64 = 50;

/// Where blocks come from.
#[derive(Clone, Debug)]
pub enum BlockSource {
    /// Block JSON files: a block object, an array of blocks, or one block per line. A
    /// directory means its `.json` / `.jsonl` files.
    Files(Vec<PathBuf>),
    /// A snarkOS REST endpoint (`https://api.explorer.provable.com/v1`, `http://127.0.0.1:3030`).
    Node(NodeOptions),
}

#[derive(Clone, Debug)]
pub struct NodeOptions {
    pub url: String,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Attempts per call before the import stops (429, 5xx, timeouts, bodies that do not parse).
    pub attempts: u32,
    pub timeout: Duration,
    /// First backoff; doubled per attempt up to 30 s (a 429's `Retry-After` wins when longer).
    pub backoff: Duration,
}

impl NodeOptions {
    pub fn new(url: &str) -> NodeOptions {
        NodeOptions {
            url: url.trim_end_matches('/').to_string(),
            concurrency: 4,
            attempts: 8,
            timeout: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub network: Network,
    /// First height (inclusive).
    pub from: u64,
    /// Last height (inclusive); `None`: the node's latest (or every block in the files).
    pub to: Option<u64>,
    pub rules: Rules,
    pub progress: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(String),
    #[error("node {url}: {detail}")]
    Node { url: String, detail: String },
    #[error("{0}")]
    Args(String),
}

/// `import-summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportSummary {
    pub network: String,
    pub source: String,
    pub from: u64,
    pub to: u64,
    #[serde(flatten)]
    pub counts: BlockCounts,
    /// Whether this run went on from a checkpoint.
    #[serde(skip)]
    pub resumed: bool,
}

#[derive(Serialize, Deserialize, PartialEq, Eq, Debug)]
struct Checkpoint {
    /// What the import is of: a resume must be of the same.
    key: String,
    next: u64,
    activity_bytes: u64,
    quarantine_bytes: u64,
    counts: BlockCounts,
}

struct Writer {
    dir: PathBuf,
    key: String,
    activity: std::fs::File,
    quarantine: std::fs::File,
    activity_bytes: u64,
    quarantine_bytes: u64,
    counts: BlockCounts,
}

const ACTIVITY: &str = "activity.csv";
const QUARANTINE: &str = "quarantine.csv";
const CHECKPOINT: &str = "import.checkpoint";

fn partial(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.partial"))
}

fn io_err(p: &Path, e: std::io::Error) -> ImportError {
    ImportError::File(format!("{}: {e}", p.display()))
}

impl Writer {
    /// Opens the partial files, resuming from the checkpoint when it is of the same import.
    /// Returns the writer and the next height to write.
    fn open(dir: &Path, key: String, from: u64) -> Result<(Writer, u64, bool), ImportError> {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let cp_path = dir.join(CHECKPOINT);
        let cp: Option<Checkpoint> = std::fs::read(&cp_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .filter(|c: &Checkpoint| c.key == key);
        let (ap, qp) = (partial(dir, ACTIVITY), partial(dir, QUARANTINE));
        let open = |p: &Path, fresh: bool| {
            std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(fresh)
                .open(p)
                .map_err(|e| io_err(p, e))
        };
        match cp {
            Some(c) if file_len(&ap) >= c.activity_bytes && file_len(&qp) >= c.quarantine_bytes => {
                let activity = open(&ap, false)?;
                let quarantine = open(&qp, false)?;
                activity
                    .set_len(c.activity_bytes)
                    .map_err(|e| io_err(&ap, e))?;
                quarantine
                    .set_len(c.quarantine_bytes)
                    .map_err(|e| io_err(&qp, e))?;
                let mut w = Writer {
                    dir: dir.to_path_buf(),
                    key,
                    activity,
                    quarantine,
                    activity_bytes: c.activity_bytes,
                    quarantine_bytes: c.quarantine_bytes,
                    counts: c.counts,
                };
                use std::io::Seek;
                w.activity
                    .seek(std::io::SeekFrom::End(0))
                    .map_err(|e| io_err(&ap, e))?;
                w.quarantine
                    .seek(std::io::SeekFrom::End(0))
                    .map_err(|e| io_err(&qp, e))?;
                Ok((w, c.next, true))
            }
            _ => {
                let mut w = Writer {
                    dir: dir.to_path_buf(),
                    key,
                    activity: open(&ap, true)?,
                    quarantine: open(&qp, true)?,
                    activity_bytes: 0,
                    quarantine_bytes: 0,
                    counts: BlockCounts::default(),
                };
                let mut a = COLUMNS.join(",");
                a.push('\n');
                w.write(a.into_bytes(), b"height,tx_id,rule,detail,raw\n".to_vec())?;
                w.checkpoint(from)?;
                Ok((w, from, false))
            }
        }
    }

    fn write(&mut self, a: Vec<u8>, q: Vec<u8>) -> Result<(), ImportError> {
        self.activity
            .write_all(&a)
            .map_err(|e| io_err(&partial(&self.dir, ACTIVITY), e))?;
        self.quarantine
            .write_all(&q)
            .map_err(|e| io_err(&partial(&self.dir, QUARANTINE), e))?;
        self.activity_bytes += a.len() as u64;
        self.quarantine_bytes += q.len() as u64;
        Ok(())
    }

    fn block(&mut self, b: &BlockOut) -> Result<(), ImportError> {
        let mut a = csv::WriterBuilder::new().from_writer(Vec::new());
        for r in &b.rows {
            let ts = r.timestamp.to_string();
            a.write_record([
                ts.as_str(),
                r.chain,
                &r.tx_id,
                &r.address,
                &r.action,
                &r.counterparty,
                &r.amount,
                &r.asset,
                &r.program,
            ])
            .map_err(|e| ImportError::File(e.to_string()))?;
        }
        let mut q = csv::WriterBuilder::new().from_writer(Vec::new());
        for x in &b.quarantined {
            quarantine_record(&mut q, x)?;
        }
        let (a, q) = (
            a.into_inner()
                .map_err(|e| ImportError::File(e.to_string()))?,
            q.into_inner()
                .map_err(|e| ImportError::File(e.to_string()))?,
        );
        self.counts.add(&b.counts);
        self.write(a, q)
    }

    fn quarantine_only(&mut self, x: &Quarantined) -> Result<(), ImportError> {
        let mut q = csv::WriterBuilder::new().from_writer(Vec::new());
        quarantine_record(&mut q, x)?;
        self.counts.quarantined += 1;
        let q = q
            .into_inner()
            .map_err(|e| ImportError::File(e.to_string()))?;
        self.write(Vec::new(), q)
    }

    /// Sync both files, then record that everything below `next` is in them.
    fn checkpoint(&mut self, next: u64) -> Result<(), ImportError> {
        let ap = partial(&self.dir, ACTIVITY);
        self.activity.sync_data().map_err(|e| io_err(&ap, e))?;
        let qp = partial(&self.dir, QUARANTINE);
        self.quarantine.sync_data().map_err(|e| io_err(&qp, e))?;
        let c = Checkpoint {
            key: self.key.clone(),
            next,
            activity_bytes: self.activity_bytes,
            quarantine_bytes: self.quarantine_bytes,
            counts: self.counts.clone(),
        };
        let p = self.dir.join(CHECKPOINT);
        fairdrop_core::fsutil::write_atomic(&p, &serde_json::to_vec(&c).unwrap_or_default())
            .map_err(|e| io_err(&p, e))
    }

    fn finish(self, summary: &ImportSummary) -> Result<(), ImportError> {
        drop(self.activity);
        drop(self.quarantine);
        for name in [ACTIVITY, QUARANTINE] {
            let (from, to) = (partial(&self.dir, name), self.dir.join(name));
            std::fs::rename(&from, &to).map_err(|e| io_err(&to, e))?;
        }
        let p = self.dir.join("import-summary.json");
        let mut s = serde_json::to_vec_pretty(summary).unwrap_or_default();
        s.push(b'\n');
        fairdrop_core::fsutil::write_atomic(&p, &s).map_err(|e| io_err(&p, e))?;
        let cp = self.dir.join(CHECKPOINT);
        std::fs::remove_file(&cp).map_err(|e| io_err(&cp, e))
    }
}

fn quarantine_record(q: &mut csv::Writer<Vec<u8>>, x: &Quarantined) -> Result<(), ImportError> {
    let h = x.height.map(|h| h.to_string()).unwrap_or_default();
    q.write_record([h.as_str(), &x.tx_id, x.rule, &x.detail, &x.raw])
        .map_err(|e| ImportError::File(e.to_string()))
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Run an import into `out_dir` (module docs).
pub fn import_aleo(
    source: &BlockSource,
    out_dir: &Path,
    opts: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    match source {
        BlockSource::Files(paths) => import_files(paths, out_dir, opts),
        BlockSource::Node(n) => import_node(n, out_dir, opts),
    }
}

fn files_of(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ImportError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| io_err(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension()
                        .is_some_and(|x| x == "json" || x == "jsonl" || x == "ndjson")
                })
                .collect();
            v.sort();
            out.extend(v);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(ImportError::File(format!(
                "{}: no such file or folder",
                p.display()
            )));
        }
    }
    if out.is_empty() {
        return Err(ImportError::File(
            "no block files (.json, .jsonl) given".into(),
        ));
    }
    Ok(out)
}

/// The blocks in one file's text: an object, an array of objects, or one object per line.
/// Lines (or the whole text) that are not JSON come back as `Err` for the quarantine.
fn blocks_in(text: &str) -> Vec<Result<&str, String>> {
    let t = text.trim_start();
    if t.starts_with('[') {
        return match serde_json::from_str::<Vec<&RawValue>>(t) {
            Ok(v) => v.into_iter().map(|r| Ok(r.get())).collect(),
            Err(e) => vec![Err(format!("not a JSON array of blocks: {e}"))],
        };
    }
    if let Ok(r) = serde_json::from_str::<&RawValue>(t) {
        return vec![Ok(r.get())];
    }
    t.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str::<&RawValue>(l) {
            Ok(r) => Ok(r.get()),
            Err(e) => Err(format!("line is not JSON: {e}")),
        })
        .collect()
}

fn import_files(
    paths: &[PathBuf],
    out_dir: &Path,
    opts: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let files = files_of(paths)?;
    let mut texts = Vec::new();
    for f in &files {
        texts.push(std::fs::read_to_string(f).map_err(|e| io_err(f, e))?);
    }
    // Every block, by height; what is not a block goes to the quarantine first.
    let mut blocks: Vec<(u64, &str)> = Vec::new();
    let mut bad: Vec<Quarantined> = Vec::new();
    for (f, text) in files.iter().zip(&texts) {
        for b in blocks_in(text) {
            match b {
                Ok(json) => match crate::aleo::block_height(json) {
                    Some(h) => blocks.push((h, json)),
                    None => bad.push(Quarantined {
                        height: None,
                        tx_id: String::new(),
                        rule: "aleo.block.shape",
                        detail: format!("{}: no header.metadata.height", f.display()),
                        raw: json.chars().take(512).collect(),
                    }),
                },
                Err(detail) => bad.push(Quarantined {
                    height: None,
                    tx_id: String::new(),
                    rule: "aleo.json.malformed",
                    detail: format!("{}: {detail}", f.display()),
                    raw: String::new(),
                }),
            }
        }
    }
    blocks.sort_by_key(|b| b.0);
    blocks.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let to = opts
        .to
        .unwrap_or(blocks.last().map(|b| b.0).unwrap_or(opts.from));
    // Files are read whole and fast: a files import always starts afresh.
    let _ = std::fs::remove_file(out_dir.join(CHECKPOINT));
    let (mut w, _, _) = Writer::open(out_dir, String::new(), opts.from)?;
    for q in &bad {
        w.quarantine_only(q)?;
    }
    let mut prev: Option<u64> = None;
    for (h, json) in blocks.iter().filter(|b| b.0 >= opts.from && b.0 <= to) {
        if prev == Some(*h) {
            w.quarantine_only(&Quarantined {
                height: Some(*h),
                tx_id: String::new(),
                rule: "aleo.block.duplicate_height",
                detail: "two different blocks at this height; the first is kept".into(),
                raw: String::new(),
            })?;
            continue;
        }
        prev = Some(*h);
        match map_block(json, opts.network, &opts.rules) {
            Ok(b) => w.block(&b)?,
            Err(q) => w.quarantine_only(&q)?,
        }
    }
    let from = blocks
        .iter()
        .map(|b| b.0)
        .find(|h| *h >= opts.from)
        .unwrap_or(opts.from);
    let summary = ImportSummary {
        network: opts.network.name().into(),
        source: files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        from,
        to,
        counts: w.counts.clone(),
        resumed: false,
    };
    w.finish(&summary)?;
    Ok(summary)
}

/// GET `url` until `parse` accepts the body: 429 (after its `Retry-After`), 5xx, timeouts,
/// connection errors and bodies `parse` refuses are retried with doubling backoff; other
/// statuses stop at once.
async fn get_with_retries<T>(
    client: &reqwest::Client,
    n: &NodeOptions,
    url: &str,
    parse: impl Fn(&[u8]) -> Result<T, String>,
) -> Result<T, ImportError> {
    let mut last = String::new();
    // A 429's Retry-After (seconds), for the next wait.
    let mut retry_after = Duration::ZERO;
    for attempt in 0..n.attempts.max(1) {
        if attempt > 0 {
            let wait = n
                .backoff
                .saturating_mul(1 << (attempt - 1).min(10))
                .min(Duration::from_secs(30));
            tokio::time::sleep(wait.max(retry_after)).await;
            retry_after = Duration::ZERO;
        }
        let resp = match client.get(url).send().await {
            Ok(r) => r,
            Err(e) => {
                last = e.to_string();
                continue;
            }
        };
        let status = resp.status();
        if status.as_u16() == 429 {
            let secs = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
            retry_after = Duration::from_secs(secs.unwrap_or(0).min(300));
            last = "HTTP 429 Too Many Requests".into();
            continue;
        }
        if status.is_server_error() {
            last = format!("HTTP {status}");
            continue;
        }
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(ImportError::Node {
                url: url.to_string(),
                detail: format!(
                    "HTTP {status}: {}",
                    body.chars().take(200).collect::<String>()
                ),
            });
        }
        match resp.bytes().await {
            Ok(body) => match parse(&body) {
                Ok(v) => return Ok(v),
                Err(e) => last = e,
            },
            Err(e) => last = format!("reading the body: {e}"),
        }
    }
    Err(ImportError::Node {
        url: url.to_string(),
        detail: format!("gave up after {} attempts; last: {last}", n.attempts.max(1)),
    })
}

/// One page of blocks from the node: each block's JSON text, heights checked.
async fn fetch_page(
    client: &reqwest::Client,
    n: &NodeOptions,
    network: Network,
    start: u64,
    end: u64,
) -> Result<Vec<String>, ImportError> {
    let url = format!(
        "{}/{}/blocks?start={start}&end={end}",
        n.url,
        network.name()
    );
    get_with_retries(client, n, &url, |body| {
        let blocks: Vec<&RawValue> = serde_json::from_slice(body).map_err(|e| {
            format!(
                "the body is not a JSON array of blocks ({} bytes): {e}",
                body.len()
            )
        })?;
        let heights: Vec<Option<u64>> = blocks
            .iter()
            .map(|b| crate::aleo::block_height(b.get()))
            .collect();
        if !heights.iter().copied().eq((start..end).map(Some)) {
            return Err(format!(
                "asked for heights {start}..{end}, got {} blocks ({:?} … {:?})",
                blocks.len(),
                heights.first().copied().flatten(),
                heights.last().copied().flatten()
            ));
        }
        Ok(blocks.into_iter().map(|b| b.get().to_string()).collect())
    })
    .await
}

async fn latest_height(
    client: &reqwest::Client,
    n: &NodeOptions,
    network: Network,
) -> Result<u64, ImportError> {
    let url = format!("{}/{}/block/height/latest", n.url, network.name());
    get_with_retries(client, n, &url, |body| {
        let t = String::from_utf8_lossy(body);
        t.trim()
            .parse()
            .map_err(|_| format!("not a height: {:?}", t.chars().take(80).collect::<String>()))
    })
    .await
}

fn import_node(
    n: &NodeOptions,
    out_dir: &Path,
    opts: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ImportError::Args(format!("tokio runtime: {e}")))?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(n.timeout)
            .user_agent(concat!("fairdrop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ImportError::Args(format!("HTTP client: {e}")))?;
        let to = match opts.to {
            Some(t) => t,
            None => latest_height(&client, n, opts.network).await?,
        };
        if to < opts.from {
            return Err(ImportError::Args(format!(
                "--to {to} is below --from {}",
                opts.from
            )));
        }
        // The rules are part of what the import is of: other rules would map blocks already
        // written differently, so a checkpoint under other rules starts over.
        let key = format!(
            "{} {} {}..={to} rules {}",
            n.url,
            opts.network.name(),
            opts.from,
            opts.rules.fingerprint()
        );
        let (mut w, mut next, resumed) = Writer::open(out_dir, key, opts.from)?;
        let total = to + 1 - opts.from;
        let bar = progress_bar(opts.progress, total, next - opts.from);
        let mut tasks = tokio::task::JoinSet::new();
        let mut ready: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
        let mut issued = next;
        let client = std::sync::Arc::new(client);
        while next <= to {
            while issued <= to && tasks.len() < n.concurrency.max(1) {
                let (s, e) = (issued, (issued + PAGE).min(to + 1));
                let (c, nn, net) = (client.clone(), n.clone(), opts.network);
                tasks.spawn(async move { (s, fetch_page(&c, &nn, net, s, e).await) });
                issued = e;
            }
            let Some(done) = tasks.join_next().await else {
                break;
            };
            let (s, page) = done.map_err(|e| ImportError::Args(format!("task: {e}")))?;
            ready.insert(s, page?);
            while let Some(page) = ready.remove(&next) {
                let count = page.len() as u64;
                for json in &page {
                    match map_block(json, opts.network, &opts.rules) {
                        Ok(b) => w.block(&b)?,
                        Err(q) => w.quarantine_only(&q)?,
                    }
                }
                next += count;
                w.checkpoint(next)?;
                if let Some(b) = &bar {
                    b.inc(count);
                }
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let summary = ImportSummary {
            network: opts.network.name().into(),
            source: n.url.clone(),
            from: opts.from,
            to,
            counts: w.counts.clone(),
            resumed,
        };
        w.finish(&summary)?;
        Ok(summary)
    })
}

fn progress_bar(on: bool, total: u64, done: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !on || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(total);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "import {bar:40} {pos}/{len} blocks, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b.set_position(done);
    Some(b)
}
