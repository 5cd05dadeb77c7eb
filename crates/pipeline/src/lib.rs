//! The whole campaign run, stage by stage, into one output folder that appears only when
//! every stage succeeded:
//!
//! ```text
//! campaign.toml ─► ingest ─► features + score ─► sybil ─► allocate ─► commit ─► report
//!                  ingest/   wallets.csv         clusters.csv  allocations.csv  manifest.json
//! ```
//!
//! Each stage reads and writes plain files with documented columns (see ARCHITECTURE.md), so
//! any stage can be rerun, tested or replaced alone.
//!
//! ```no_run
//! let c = fairdrop_policy::campaign::Campaign::load("campaign.toml".as_ref()).unwrap();
//! let summary = fairdrop_pipeline::run(&c, &fairdrop_pipeline::RunOptions::default()).unwrap();
//! println!("{} eligible", summary.eligible);
//! ```

pub mod allocation;
pub mod commit;
pub mod report;
pub mod sybil;
pub mod wallets;
pub mod warehouse;
pub mod world;

use std::path::{Path, PathBuf};

use fairdrop_core::fsutil::AtomicDir;
use fairdrop_policy::campaign::Campaign;
use fairdrop_policy::score::{Scorer, WalletScore};

/// Options of a run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Output folder; default: the campaign's `outputs.dir`, relative to the campaign file.
    pub out: Option<PathBuf>,
    /// Progress bars on a terminal.
    pub progress: bool,
    /// Rows held in memory by ingest before spilling.
    pub batch_rows: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("ingest: {0}")]
    Ingest(#[from] fairdrop_ingest::IngestError),
    #[error("features: {0}")]
    Table(#[from] fairdrop_table::TableError),
    #[error("sybil: {0}")]
    Sybil(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("commit: {0}")]
    Commit(String),
    #[error("campaign {0}")]
    Campaign(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Figures of a finished run (also written as `run-summary.json`).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunSummary {
    pub campaign: String,
    /// Where the run was written (printed, not written: the folder's place is not its content).
    #[serde(skip)]
    pub out: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub wallets_scored: u64,
    pub wallets_other_kind: u64,
    pub passed_gates: u64,
    pub sybil_flagged: u64,
    pub sybil_clusters: u64,
    pub eligible: u64,
    pub allocated_wallets: u64,
    /// Sum of allocations in base units (always the pool).
    pub allocated_total: String,
    /// Merkle root per profile.
    pub roots: std::collections::BTreeMap<String, String>,
    /// Whether the manifest is signed.
    pub signed: bool,
    /// Wall time per stage (printed, not written: outputs must be byte-identical).
    #[serde(skip)]
    pub stage_seconds: Vec<(String, f64)>,
}

/// Per-wallet state carried through the stages.
#[derive(Clone, Debug)]
pub struct WalletState {
    pub score: WalletScore,
    /// Step bits (bit k = step k+1 done), for the funnel.
    pub steps: u16,
    /// Gates passed.
    pub passed_gates: bool,
    /// Sybil cluster id, when flagged.
    pub cluster: Option<String>,
}

/// Scored wallets between two releases of freed memory while scoring runs (see
/// [`fairdrop_core::mem::hold_freed`]): the decoding buffers and the sybil reader's batches
/// turn over many times a second and are reused, while what the transfers pass and the
/// reader's growing tables leave behind would otherwise pile up to the run's peak.
const RELEASE_EVERY: usize = 1 << 17;

/// Run the campaign. See the crate docs.
pub fn run(c: &Campaign, opts: &RunOptions) -> Result<RunSummary, RunError> {
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| c.base.join(&c.outputs.dir));
    let dir = AtomicDir::create(&out).map_err(io(&out))?;
    let mut summary = RunSummary {
        campaign: c.id.clone(),
        out: out.display().to_string(),
        ..Default::default()
    };
    // Freed memory stays with the allocator until a stage boundary below gives it back
    // (and every 128k wallets while scoring): given back a second after it was freed, it was
    // faulted in and zeroed again by a later batch (on a VM whose host takes freed pages,
    // page zeroing was a tenth of the run's CPU time at 1M wallets).
    let _held = fairdrop_core::mem::hold_freed();
    let mut timer = std::time::Instant::now();
    let mut lap = |name: &str, s: &mut RunSummary| {
        s.stage_seconds
            .push((name.to_string(), timer.elapsed().as_secs_f64()));
        timer = std::time::Instant::now();
    };

    // 1. Ingest.
    let inputs = c.inputs();
    if inputs.is_empty() && c.features.is_none() {
        return Err(RunError::Campaign(
            "inputs.events and inputs.sources are empty: nothing to score".into(),
        ));
    }
    // A sybil model is read before any stage runs: a bad file fails the run at once.
    let model = match &c.sybil.model {
        Some(p) if c.sybil.enabled => {
            let m = fairdrop_sybil::learn::read_model(&c.base.join(p))
                .map_err(|e| RunError::Sybil(format!("sybil.model: {e}")))?;
            // The features a run gives: events (no transfer files), the campaign's hub lists.
            let lists: Vec<String> = c
                .hubs
                .iter()
                .map(|h| fairdrop_sybil::load::source_name(h))
                .collect();
            let lists: Vec<&str> = lists.iter().map(|s| s.as_str()).collect();
            let names = fairdrop_sybil::features::names(&lists, &[]);
            fairdrop_sybil::learn::check_fit(&m, fairdrop_sybil::learn::RULES_EVENTS, &names)
                .map_err(|e| RunError::Sybil(format!("sybil.model {p}: {e}")))?;
            Some(m)
        }
        _ => None,
    };
    // The manifest's input hashes are computed beside the stages, not after them: ingest
    // hashes the event files it reads as a stream (CSV, JSONL) while reading them; a thread
    // hashes the rest (Parquet events, hub and exclusion lists).
    let streamed: Vec<std::path::PathBuf> = inputs
        .iter()
        .map(|i| &i.path)
        .filter(|p| {
            matches!(
                fairdrop_ingest::source::detect(p),
                Ok((
                    fairdrop_ingest::Format::Csv | fairdrop_ingest::Format::Jsonl,
                    _
                ))
            )
        })
        .cloned()
        .collect();
    let input_hashes = {
        let c = c.clone();
        let skip = streamed.clone();
        std::thread::Builder::new()
            .name("hash-inputs".into())
            .spawn(move || commit::hash_inputs_but(&c, &skip))
            .map_err(io(&out))?
    };
    let ingest_dir = dir.path().join("ingest");
    let mut iopts = fairdrop_ingest::IngestOptions {
        progress: opts.progress,
        hash_inputs: true,
        ..Default::default()
    };
    if let Some(b) = opts.batch_rows {
        iopts.batch_rows = b;
    }
    // With `inputs.features` the warehouse computed the features: there are no events.
    let isum = match c.features {
        Some(_) => fairdrop_ingest::IngestSummary::default(),
        None => fairdrop_ingest::ingest_inputs(&inputs, &ingest_dir, &iopts)?,
    };
    summary.rows_read = isum.rows_read;
    summary.rows_accepted = isum.accepted;
    summary.rows_quarantined = isum.quarantined;
    let mut streamed_hashes = std::collections::BTreeMap::new();
    for (p, s) in inputs.iter().map(|i| &i.path).zip(&isum.inputs) {
        if streamed.contains(p) {
            let h = match &s.sha256 {
                Some(h) => h.clone(),
                // Not read to its end (cannot happen for a finished ingest): hash it here.
                None => fairdrop_merkle::manifest::sha256_file(p)
                    .map_err(|e| RunError::Commit(format!("{}: {e}", p.display())))?,
            };
            streamed_hashes.insert(commit::input_key(c, p), h);
        }
    }
    lap("ingest", &mut summary);
    // Ingest's threads have exited; the allocator still held their 1.2 GB of freed buffers
    // (at 1M wallets) while scoring and the sybil reader allocated their own.
    fairdrop_core::mem::release();

    // 2. Features + score, streaming; beside it (3a) the sybil stage reads the same events
    // into the detector's input, learning which wallets passed the gates from the verdicts
    // scoring sends in address order. Each stage alone kept the 2 cores about 1.5 busy.
    let events = ingest_dir.join(fairdrop_ingest::EVENTS_FILE);
    let scorer = Scorer::new(c);
    let prefix = match c.address_kind {
        fairdrop_core::AddressKind::Aleo => "aleo1",
        fairdrop_core::AddressKind::Evm => "0x",
    };
    let mut other = 0u64;
    let addresses = usize::try_from(isum.distinct_addresses).unwrap_or(0);
    // At most one state per distinct address: reserved once (pages are touched only as
    // wallets are pushed), where growing by doubling copied every state into fresh memory
    // again (about 170 MB at 1M wallets, twice over).
    let mut wallets: Vec<WalletState> = Vec::with_capacity(addresses.min(1 << 27));
    let read = std::thread::scope(|scope| -> Result<Option<sybil::Read>, RunError> {
        // From a warehouse's tables (beside its features) the sybil stage reads them after
        // scoring instead.
        let (to_reader, reader) = if c.sybil.enabled && c.sybil_tables.is_none() {
            let (tx, rx) = std::sync::mpsc::sync_channel(256);
            let events = &events;
            let h = std::thread::Builder::new()
                .name("sybil-read".into())
                .spawn_scoped(scope, move || sybil::read(c, events, rx, addresses))
                .map_err(io(&out))?;
            (Some(tx), Some(h))
        } else {
            (None, None)
        };
        let mut batch: Vec<(Box<str>, bool)> = Vec::with_capacity(4096);
        let mut each = |f: fairdrop_policy::features::Features| {
            if !f.address.starts_with(prefix) {
                other += 1;
                if to_reader.is_some() {
                    batch.push((f.address.as_str().into(), false));
                }
                return;
            }
            let score = scorer.score(&f);
            let passed_gates = score.gates.iter().all(|(_, ok)| *ok)
                && !score
                    .reasons
                    .iter()
                    .any(|r| r.code.starts_with("excluded."));
            let mut steps = 0u16;
            for k in 0..11 {
                if f.step(k) {
                    steps |= 1 << k;
                }
            }
            if let Some(tx) = &to_reader {
                batch.push((f.address.as_str().into(), passed_gates));
                if batch.len() >= 4096 {
                    // A reader that stopped reports its error when joined.
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(4096)));
                }
            }
            if wallets.len() % RELEASE_EVERY == RELEASE_EVERY - 1 {
                fairdrop_core::mem::release();
            }
            wallets.push(WalletState {
                score,
                steps,
                passed_gates,
                cluster: None,
            });
        };
        let scored = match &c.features {
            Some(p) => fairdrop_policy::features::read_csv(p, &mut each)
                .map_err(|e| RunError::Campaign(format!("inputs.features: {e}"))),
            None => fairdrop_policy::features::extract(&events, &c.feature_params(), &mut each)
                .map_err(RunError::from),
        };
        if let Some(tx) = to_reader {
            let _ = tx.send(std::mem::take(&mut batch));
        }
        let finished = scored.map(|_| ());
        summary.wallets_scored = wallets.len() as u64;
        summary.wallets_other_kind = other;
        summary.passed_gates = wallets.iter().filter(|w| w.passed_gates).count() as u64;
        lap("score", &mut summary);
        // The transfers pass's table and the decoding buffers are gone.
        fairdrop_core::mem::release();
        let read =
            match reader {
                Some(h) => Some(h.join().unwrap_or_else(|_| {
                    Err(RunError::Sybil("reading the events panicked".into()))
                })?),
                None => None,
            };
        finished?;
        Ok(read)
    })?;

    // 3b. Sybil detection and the campaign's action on flagged clusters.
    let (read, read_from) = match &c.sybil_tables {
        Some(t) if c.sybil.enabled => {
            let mut passed: Vec<&str> = wallets
                .iter()
                .filter(|w| w.passed_gates)
                .map(|w| &*w.score.address)
                .collect();
            passed.sort_unstable();
            let input = warehouse::read_tables(c, &warehouse::table_paths(t), &passed)?;
            (Some(sybil::Read::from_input(input)), t.clone())
        }
        _ => (read, events.clone()),
    };
    if let Some(read) = read {
        let s = sybil::run(
            c,
            &read_from,
            read,
            model.as_ref(),
            &mut wallets,
            dir.path(),
        )?;
        summary.sybil_flagged = s.flagged;
        summary.sybil_clusters = s.clusters;
    }
    lap("sybil", &mut summary);
    // The detector's graphs and signatures are gone; commit builds trees and proof files.
    fairdrop_core::mem::release();
    summary.eligible = wallets.iter().filter(|w| w.score.eligible).count() as u64;

    // 4. Allocate.
    let allocs = allocation::run(c, &wallets)?;
    summary.allocated_wallets = allocs.len() as u64;
    summary.allocated_total = allocs.iter().map(|a| a.amount).sum::<u128>().to_string();
    allocation::write(&dir.path().join("allocations.csv"), &allocs)?;
    lap("allocate", &mut summary);

    // Outputs. 5. Commit: trees and proof stores here, the per-wallet files on a second
    // thread; then the claim-service data and the signed manifest.
    let (roots, written) = std::thread::scope(|scope| {
        let files = scope.spawn(|| -> Result<(), RunError> {
            wallets::write_wallets_csv(&dir.path().join("wallets.csv"), &wallets)?;
            commit::write_progress(c, &wallets, dir.path())
        });
        let roots = commit::trees(c, &allocs, dir.path());
        let written = files
            .join()
            .unwrap_or_else(|_| Err(RunError::Commit("writing wallets.csv panicked".into())));
        (roots, written)
    });
    let roots = roots?;
    written?;
    commit::write_campaign_json(c, dir.path())?;
    let mut inputs = input_hashes
        .join()
        .unwrap_or_else(|_| Err(RunError::Commit("hashing the inputs panicked".into())))?;
    inputs.extend(streamed_hashes);
    let m = commit::manifest(c, roots, inputs, &summary, dir.path())?;
    summary.roots = m.roots.clone();
    summary.signed = m.signature.is_some();
    lap("commit", &mut summary);

    let rep = report::build(c, &wallets, &allocs, &summary);
    report::write(dir.path(), &rep)?;
    let js = serde_json::to_vec_pretty(&summary).expect("summary serialises");
    fairdrop_core::fsutil::write_atomic(dir.path().join("run-summary.json"), &js)
        .map_err(io(&out))?;
    lap("write", &mut summary);
    dir.commit().map_err(io(&out))?;
    Ok(summary)
}
