//! Simulator: a deterministic Aleo ecosystem with organic users, exchanges, friend groups and
//! sybil farms.
//!
//! Before any real export exists, this crate makes the data the whole engine is shown and
//! tested on: a year of activity around the seed guide's Aleo airdrop
//! (`shared/seeds/aleo-airdrop-2024.txt`), in the canonical activity schema
//! (`shared/spec/activity-schema.md`), together with the ground truth of who is a sybil.
//! The same `(wallets, seed, format)` always gives byte-identical files, whatever the number
//! of threads and whatever crate versions are locked: the PRNG (xoshiro256** seeded by
//! SplitMix64) is written here, and only integer arithmetic and correctly rounded float
//! operations are used.
//!
//! # Usage
//!
//! ```no_run
//! use fairdrop_sim::{simulate, OutputFormat, SimConfig};
//! let cfg = SimConfig { wallets: 10_000, seed: 42, ..SimConfig::default() };
//! let summary = simulate(&cfg, "/tmp/world".as_ref())?;
//! println!("{} events, {} sybils", summary.events, summary.by_label["sybil"]);
//! let truth = fairdrop_sim::load_truth(&summary.files.truth)?;
//! let hubs = fairdrop_sim::load_hubs(&summary.files.hubs)?;
//! # let _ = (truth, hubs, OutputFormat::Csv);
//! # Ok::<(), fairdrop_sim::SimError>(())
//! ```
//!
//! [`simulate`] writes into the output folder (each file atomically):
//!
//! * `events.csv` (header `timestamp,chain,tx_id,address,action,counterparty,amount,asset,program`,
//!   RFC 3339 `…Z` timestamps, integer base units) or `events.parquet` (the canonical table of
//!   `fairdrop-table`). Rows are grouped by simulated unit, not sorted. Every row passes the
//!   schema's rules, and every `(chain, tx_id, action, address)` is unique (tx ids are a
//!   bijection of a per-row counter).
//! * `truth.csv`: `address,label,farm_id,kind` for every wallet and hub, sorted by address;
//!   `label` is `organic`, `sybil` or `hub`.
//! * `hubs.txt`: the hub addresses (exchange hot wallets and program/bridge addresses), sorted.
//! * `sim-summary.json`: the config, counts by label and kind, events by action, the farms.
//!
//! A `campaign.toml` for the seed's airdrop is not written yet: the campaign format does not
//! exist. It will be one more file written from [`SimSummary`].
//!
//! # The world
//!
//! Time: a 365-day window ending at `snapshot` (default 2024-06-01T00:00:00Z). Chains:
//! `aleo` (on-chain rows, tx ids `at1…`), `sepolia` (faucet claims, tx ids `0x…`), `zealy`
//! (quests) and `greenlist` (the Leo wallet greenlist). Off-chain rows carry the participant's
//! Aleo address. Amounts: credits in microcredits, ETH in wei, USDT with 6 decimals.
//!
//! The eleven steps, as rows (see `fairdrop_core::steps`):
//!
//! | step | rows |
//! |---|---|
//! | 1 wallet setup | any `aleo` row |
//! | 2 greenlist | `greenlist` on chain `greenlist`, program `leo_wallet_greenlist` |
//! | 3 Aleo faucet | `faucet_claim` of 10 credits (program `faucet.aleo.org`) + the faucet hub's `transfer` 10 min–6 h later |
//! | 4 Sepolia faucet | `faucet_claim` of 0.5 ETH on `sepolia`, counterparty = the user's EVM wallet |
//! | 5 bridge | `bridge_in` (ETH, counterparty = EVM wallet, `izar_bridge.aleo`) + the bridge hub's `transfer` |
//! | 6 swaps | two `swap` rows, ETH→USDT and back (`aleoswap.aleo`, 20% `arcane_finance.aleo`) |
//! | 7 liquidity | `add_liquidity` (later `remove_liquidity` + the DEX hub's `transfer`) |
//! | 8 domain | `domain_register`, fee in credits |
//! | 9 token launch | `token_launch`, asset = the new token's symbol, amount = supply |
//! | 10 trade | the order book hub's claim `transfer` of 1000 USDT, then `trade` on `privx.aleo` |
//! | 11 quests | `quest` on `zealy`, program = quest id `aleoofficial_q01`…`q40` (low ids popular) |
//!
//! Other activity: `transfer` (credits), `stake`/`unstake` (never more than staked),
//! `vote` (3 governance programs), `nft_mint` (4 collections), `deploy_program` (developers,
//! unique `app_…aleo` names), `bridge_out`.
//!
//! ## Hubs (label `hub`)
//! * `exchange`: `clamp(wallets / 40 000, 3, 30)` hot wallets, popularity ∝ 1/rank. They fund
//!   ~55% of single organic users (round-credit withdrawals, more for active users) and
//!   receive deposits; they are a shared funder that is not a farm. Farms also cash out to them.
//! * `faucet`, `bridge`, `dex`, `orderbook`: the program addresses of `faucet.aleo.org`,
//!   `izar_bridge.aleo`, `aleoswap.aleo`, `privx.aleo`, which send tokens to users.
//!
//! Every hub appears as the sender of `transfer` rows (the first `2 × exchanges` organic users
//! are assigned the exchanges in turn, and the first four do all eleven steps).
//!
//! ## Organic wallets (label `organic`)
//! * Activity: `n = 11 · U^(-3/4)` actions (Pareto, shape 4/3, capped at 5000): most wallets
//!   do a handful (median about 20 rows), the top 1% of organic wallets hold about a quarter
//!   of organic rows. Overall the world averages about 50 rows per wallet.
//! * Active from a day in a random month (later months busier: max of two uniform months)
//!   for `1..14 + 3n` days (to the snapshot at most).
//! * Steps: each with a base probability (greenlist 45%, Aleo faucet 60%, Sepolia faucet 38%,
//!   bridge 65% after the Sepolia faucet else 8%, swap 50%, liquidity 22%, domain 26%, token
//!   launch 9%, trade 28%, quests 38%), raised toward 100% for active wallets (`+n/400` of the
//!   rest, up to half), done in guide order over the first 60% of the active span.
//! * The remaining actions come in sessions of 1–5 actions 30 s–20 min apart: transfers 28,
//!   swaps 20, trades 10, stake 7, unstake 3, votes 6, NFT mints 6, liquidity 4+2, quests 4,
//!   faucet 5, bridge 3+1, domain 1 (weights); 4% of wallets are developers who also deploy.
//!   Transfers go to a random organic wallet (or, for some, an exchange deposit).
//!   Organic amounts are untidy (random microcredits / wei).
//! * `kind = organic`: single wallets; `friend`: groups of 3–8 wallets (8% of wallets) who fund
//!   each other (the first member and 40% of the others from an exchange) and send each other
//!   1–4 extra transfers and 55% of their transfers; `multi_wallet_owner`: one person's 2 (80%)
//!   or 3 wallets (5% of wallets): the main wallet funds the light secondary ones (3–15
//!   actions), which send 35% of their transfers back. They are honest, not farms.
//!
//! ## Sybil farms (label `sybil`, ~12% of wallets)
//! Sizes: 5–15 members (45%), 16–60 (35%), 61–200 (20%); the first four farms are one of each
//! style (and at most a fifth of the sybil budget each) so every style appears; then styles
//! are drawn star 35%, chain 20%, exchange 25%, stealth 20%. Each farm has a script: most of
//! the eleven steps (each 35–95%), 4–12 quests, maybe stake/vote/NFT, with farm-wide fixed,
//! round amounts. Members have `kind` = the style's kind, `farm_id` = `farm_NNNN`.
//! * `farm_star`: a `farm_funder` (withdraws from an exchange) pays every member the same
//!   amount 5–60 s apart; members run the script in lockstep (member `k` at `T + k·δ`,
//!   δ = 10–120 s, plus 0–20 s; gaps between tasks 5 min–6 h); then each sweeps the same
//!   amount to a `farm_collector`, which cashes out to the exchange. Members share one EVM
//!   wallet.
//! * `farm_chain`: the exchange funds member 1, who passes the rest on to member 2, and so on
//!   (20 min–8 h per link); each runs the script an hour after being funded; the last sweeps to
//!   a `farm_collector`. Shared EVM wallet.
//! * `farm_exchange`: every member withdraws the same amount from one exchange in a batch and
//!   deposits back to it at the end: the funding graph shows only a hub; only the lockstep
//!   script (δ = 20–240 s) reveals them. Own EVM wallets.
//! * `farm_stealth`: funder and collector as in star, but funding over 5 days with amounts
//!   ±20%, tasks 12 h–3 days apart with up to 12 h of jitter per member, amounts ±20%, 15% of
//!   tasks skipped per member, sweeps spread over 7 days. Own EVM wallets.
//!
//! # Speed
//! Wallet addresses are random x-coordinates (below 2^252) retried until on Edwards-BLS12-377;
//! each x also gives a second address, its negation `r - x` (on the curve too: the equation
//! only involves x²), so one curve check serves two wallets. They are computed in parallel,
//! formatted once, and dealt to wallets in a seeded random order (so the halves of a pair
//! land in unrelated units and hint at nothing). Events are generated in
//! chunks of whole units (≥ 2048 wallets), each unit from its own stream
//! `(seed, unit index)`, in parallel, and written in chunk order.

mod fmt;
mod gen;
mod rng;
mod world;

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use fairdrop_core::event::{days_from_civil, format_timestamp, MAX_TIMESTAMP, MIN_TIMESTAMP};
use fairdrop_core::fsutil::{write_atomic, AtomicFile};
use serde::{Deserialize, Serialize};

use crate::gen::{gen_chunk, Action, ChunkOut, N_ACTIONS};
use crate::world::{UnitKind, World, R_FARM_COLLECTOR, R_FARM_FUNDER};

/// The largest world `simulate` accepts.
pub const MAX_WALLETS: u64 = 50_000_000;
/// Length of the simulated window, in seconds (365 days).
pub const WINDOW_SECONDS: i64 = 365 * 86_400;
/// Header of `events.csv`.
pub const EVENTS_HEADER: &str =
    "timestamp,chain,tx_id,address,action,counterparty,amount,asset,program";
/// Header of `truth.csv`.
pub const TRUTH_HEADER: &str = "address,label,farm_id,kind";

/// Format of the events file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// `events.csv`
    #[default]
    Csv,
    /// `events.parquet` (the canonical table)
    Parquet,
}

impl OutputFormat {
    /// The events file name for this format.
    pub fn file_name(self) -> &'static str {
        match self {
            OutputFormat::Csv => "events.csv",
            OutputFormat::Parquet => "events.parquet",
        }
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "csv" => Ok(OutputFormat::Csv),
            "parquet" => Ok(OutputFormat::Parquet),
            _ => Err(format!("unknown format {s:?}: expected csv or parquet")),
        }
    }
}

/// What to simulate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Participant wallets (organic + sybil), 1..=[`MAX_WALLETS`]. Hubs come on top.
    pub wallets: u64,
    pub seed: u64,
    /// End of the window, UTC seconds (default 2024-06-01T00:00:00Z).
    pub snapshot: i64,
    pub format: OutputFormat,
    /// Worker threads (default: available parallelism). Does not change the output.
    #[serde(skip)]
    pub threads: Option<usize>,
}

/// 2024-06-01T00:00:00Z.
pub fn default_snapshot() -> i64 {
    days_from_civil(2024, 6, 1) * 86_400
}

impl SimConfig {
    /// `wallets` and `seed` with the defaults for the rest (CSV, snapshot 2024-06-01).
    pub fn new(wallets: u64, seed: u64) -> Self {
        SimConfig {
            wallets,
            seed,
            ..SimConfig::default()
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            wallets: 10_000,
            seed: 1,
            snapshot: default_snapshot(),
            format: OutputFormat::Csv,
            threads: None,
        }
    }
}

/// The four farm styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FarmStyle {
    /// One funder, lockstep script, sweep to a collector.
    Star,
    /// A funds B funds C …
    Chain,
    /// Funded through an exchange hot wallet; only lockstep behaviour reveals it.
    Exchange,
    /// Jittered timing (hours) and amounts.
    Stealth,
}

impl FarmStyle {
    /// The `kind` of its members in `truth.csv`.
    pub fn kind(self) -> &'static str {
        match self {
            FarmStyle::Star => "farm_star",
            FarmStyle::Chain => "farm_chain",
            FarmStyle::Exchange => "farm_exchange",
            FarmStyle::Stealth => "farm_stealth",
        }
    }
}

/// Ground-truth label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Organic,
    Sybil,
    Hub,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Organic => "organic",
            Label::Sybil => "sybil",
            Label::Hub => "hub",
        }
    }
}

/// One row of `truth.csv`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthRow {
    /// Canonical address text.
    pub address: String,
    pub label: Label,
    /// `farm_NNNN` for sybils, `None` otherwise.
    pub farm_id: Option<String>,
    /// `organic`, `friend`, `multi_wallet_owner`, `farm_star`, `farm_chain`, `farm_exchange`,
    /// `farm_stealth`, `farm_funder`, `farm_collector`, `exchange`, `faucet`, `bridge`, `dex`,
    /// `orderbook`.
    pub kind: String,
}

/// A hub: exchange hot wallet or program address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubInfo {
    pub address: String,
    /// `exchange_01`…, or the program id.
    pub name: String,
    pub kind: String,
}

/// One sybil farm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FarmInfo {
    pub id: String,
    pub style: FarmStyle,
    /// Participating wallets (funder and collector not counted).
    pub members: u64,
    pub funder: Option<String>,
    pub collector: Option<String>,
    /// The exchange hot wallet the farm's money comes from / goes back to.
    pub exchange: String,
}

/// Where the files went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputFiles {
    pub dir: PathBuf,
    pub events: PathBuf,
    pub truth: PathBuf,
    pub hubs: PathBuf,
    pub summary: PathBuf,
}

/// What was simulated. Serialised (without `files`) as `sim-summary.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SimSummary {
    pub config: SimConfig,
    pub snapshot_utc: String,
    pub window_start_utc: String,
    /// Participant wallets (= `config.wallets`).
    pub wallets: u64,
    /// Event rows written.
    pub events: u64,
    /// Wallets and hubs by label (`organic`, `sybil`, `hub`).
    pub by_label: BTreeMap<String, u64>,
    /// Wallets and hubs by kind.
    pub by_kind: BTreeMap<String, u64>,
    pub events_by_action: BTreeMap<String, u64>,
    /// Sorted by address.
    pub hubs: Vec<HubInfo>,
    /// In farm id order.
    pub farms: Vec<FarmInfo>,
    #[serde(skip)]
    pub files: OutputFiles,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulation config: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Table(#[from] fairdrop_table::TableError),
    #[error("{path}:{line}: {why}")]
    Parse {
        path: PathBuf,
        line: u64,
        why: String,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl SimConfig {
    fn validate(&self) -> Result<(), SimError> {
        if self.wallets == 0 || self.wallets > MAX_WALLETS {
            return Err(SimError::Config(format!(
                "wallets must be 1..={MAX_WALLETS}, got {}",
                self.wallets
            )));
        }
        if self.snapshot - WINDOW_SECONDS < MIN_TIMESTAMP || self.snapshot > MAX_TIMESTAMP {
            return Err(SimError::Config(format!(
                "snapshot {} must leave a 365-day window inside 2000-01-01 .. 2100-01-01",
                self.snapshot
            )));
        }
        if self.threads == Some(0) {
            return Err(SimError::Config("threads must be at least 1".into()));
        }
        Ok(())
    }
}

/// Simulate the world of `cfg` into `out_dir` (created if missing). See the crate docs.
pub fn simulate(cfg: &SimConfig, out_dir: &Path) -> Result<SimSummary, SimError> {
    cfg.validate()?;
    let threads = cfg.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let files = OutputFiles {
        dir: out_dir.to_path_buf(),
        events: out_dir.join(cfg.format.file_name()),
        truth: out_dir.join("truth.csv"),
        hubs: out_dir.join("hubs.txt"),
        summary: out_dir.join("sim-summary.json"),
    };

    let world = World::build(cfg, threads);

    // Events.
    let mut rows = 0u64;
    let mut by_action = [0u64; N_ACTIONS];
    match cfg.format {
        OutputFormat::Csv => {
            let path = &files.events;
            let mut f = AtomicFile::create(path).map_err(io_err(path))?;
            f.write_all(EVENTS_HEADER.as_bytes())
                .and_then(|_| f.write_all(b"\n"))
                .map_err(io_err(path))?;
            run_chunks(&world, threads, |c| {
                rows += c.rows;
                add(&mut by_action, &c.by_action);
                f.write_all(&c.buf).map_err(io_err(path))
            })?;
            f.commit().map_err(io_err(path))?;
        }
        OutputFormat::Parquet => {
            let path = &files.events;
            let mut wr = fairdrop_table::EventWriter::create(path)?;
            run_chunks(&world, threads, |c| {
                rows += c.rows;
                add(&mut by_action, &c.by_action);
                write_parquet_rows(&mut wr, &c.buf, path)
            })?;
            wr.finish()?;
        }
    }

    let summary = summarize(&world, rows, &by_action, files);
    write_truth(&world, &summary.files.truth)?;
    let mut hubs_txt = String::new();
    for h in &summary.hubs {
        hubs_txt.push_str(&h.address);
        hubs_txt.push('\n');
    }
    write_atomic(&summary.files.hubs, hubs_txt.as_bytes()).map_err(io_err(&summary.files.hubs))?;
    let mut json =
        serde_json::to_vec_pretty(&summary).map_err(|e| SimError::Internal(e.to_string()))?;
    json.push(b'\n');
    write_atomic(&summary.files.summary, &json).map_err(io_err(&summary.files.summary))?;
    Ok(summary)
}

fn add(acc: &mut [u64; N_ACTIONS], x: &[u64; N_ACTIONS]) {
    for (a, b) in acc.iter_mut().zip(x) {
        *a += b;
    }
}

/// Generate all chunks on `threads` workers; hand them to `sink` in chunk order. At most
/// `2·threads + 1` chunks are in memory at once.
fn run_chunks(
    world: &World,
    threads: usize,
    mut sink: impl FnMut(&ChunkOut) -> Result<(), SimError>,
) -> Result<(), SimError> {
    struct State {
        ready: BTreeMap<usize, ChunkOut>,
        /// Written buffers, for reuse (saves page faults on gigabytes of output).
        spare: Vec<Vec<u8>>,
        consumed: usize,
        abort: bool,
    }
    /// Wakes the consumer if a worker dies.
    struct Guard<'a>(&'a Mutex<State>, &'a Condvar);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                if let Ok(mut st) = self.0.lock() {
                    st.abort = true;
                }
                self.1.notify_all();
            }
        }
    }
    let n = world.chunks.len();
    let window = 2 * threads + 1;
    let next = AtomicUsize::new(0);
    let state = Mutex::new(State {
        ready: BTreeMap::new(),
        spare: Vec::new(),
        consumed: 0,
        abort: false,
    });
    let cond = Condvar::new();
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    std::thread::scope(|s| {
        for _ in 0..threads.min(n.max(1)) {
            s.spawn(|| {
                let _guard = Guard(&state, &cond);
                loop {
                    let ci = next.fetch_add(1, Ordering::Relaxed);
                    if ci >= n {
                        break;
                    }
                    let buf = {
                        let mut st = lock();
                        while ci >= st.consumed + window && !st.abort {
                            st = cond.wait(st).unwrap_or_else(|e| e.into_inner());
                        }
                        if st.abort {
                            break;
                        }
                        st.spare.pop().unwrap_or_default()
                    };
                    let out = gen_chunk(world, ci, buf);
                    lock().ready.insert(ci, out);
                    cond.notify_all();
                }
            });
        }
        let mut result = Ok(());
        for ci in 0..n {
            let out = {
                let mut st = lock();
                loop {
                    if let Some(o) = st.ready.remove(&ci) {
                        st.consumed = ci + 1;
                        break Some(o);
                    }
                    if st.abort {
                        break None;
                    }
                    st = cond.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            };
            cond.notify_all();
            let Some(out) = out else {
                result = Err(SimError::Internal("a generator thread failed".into()));
                break;
            };
            if let Err(e) = sink(&out) {
                result = Err(e);
                break;
            }
            lock().spare.push(out.buf);
        }
        if result.is_err() {
            lock().abort = true;
            cond.notify_all();
        }
        result
    })
}

fn write_parquet_rows(
    wr: &mut fairdrop_table::EventWriter,
    buf: &[u8],
    path: &Path,
) -> Result<(), SimError> {
    let bad = |why: &str| SimError::Internal(format!("{}: generated row: {why}", path.display()));
    for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let line = std::str::from_utf8(line).map_err(|_| bad("not UTF-8"))?;
        let mut it = line.split(',');
        let mut f: [&str; 9] = [""; 9];
        for slot in f.iter_mut() {
            *slot = it.next().ok_or_else(|| bad("too few fields"))?;
        }
        let ts = fairdrop_core::parse_timestamp(f[0]).map_err(|e| bad(&e.to_string()))?;
        wr.write_parts(
            ts,
            f[1],
            o(f[2]),
            f[3],
            f[4],
            o(f[5]),
            o(f[6]),
            o(f[7]),
            o(f[8]),
        )?;
    }
    Ok(())
}

fn o(s: &str) -> Option<&str> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// Truth rows in wallet index order, then hubs.
fn truth_rows(world: &World) -> Vec<(String, Label, Option<u32>, &'static str)> {
    let mut rows = Vec::with_capacity(world.n as usize + world.hubs.len());
    for u in &world.units {
        for i in u.start..u.start + u.len {
            let a = world.addr(i).to_string();
            let r = world.role[i as usize];
            rows.push(match &u.kind {
                UnitKind::Organic { .. } => (a, Label::Organic, None, "organic"),
                UnitKind::Friends => (a, Label::Organic, None, "friend"),
                UnitKind::Multi => (a, Label::Organic, None, "multi_wallet_owner"),
                UnitKind::Farm(f) => {
                    let kind = match r {
                        R_FARM_FUNDER => "farm_funder",
                        R_FARM_COLLECTOR => "farm_collector",
                        _ => f.style.kind(),
                    };
                    (a, Label::Sybil, Some(f.id), kind)
                }
            });
        }
    }
    for h in &world.hubs {
        rows.push((h.addr.clone(), Label::Hub, None, h.kind));
    }
    rows
}

fn farm_id(id: u32) -> String {
    format!("farm_{id:04}")
}

fn write_truth(world: &World, path: &Path) -> Result<(), SimError> {
    let mut rows = truth_rows(world);
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut f = AtomicFile::create(path).map_err(io_err(path))?;
    let mut buf = Vec::with_capacity(1 << 20);
    buf.extend_from_slice(TRUTH_HEADER.as_bytes());
    buf.push(b'\n');
    for (a, label, farm, kind) in &rows {
        buf.extend_from_slice(a.as_bytes());
        buf.push(b',');
        buf.extend_from_slice(label.as_str().as_bytes());
        buf.push(b',');
        if let Some(id) = farm {
            buf.extend_from_slice(farm_id(*id).as_bytes());
        }
        buf.push(b',');
        buf.extend_from_slice(kind.as_bytes());
        buf.push(b'\n');
        if buf.len() > (1 << 20) {
            f.write_all(&buf).map_err(io_err(path))?;
            buf.clear();
        }
    }
    f.write_all(&buf).map_err(io_err(path))?;
    f.commit().map_err(io_err(path))
}

fn summarize(
    world: &World,
    rows: u64,
    by_action: &[u64; N_ACTIONS],
    files: OutputFiles,
) -> SimSummary {
    let mut by_label = BTreeMap::new();
    let mut by_kind = BTreeMap::new();
    for l in [Label::Organic, Label::Sybil, Label::Hub] {
        by_label.insert(l.as_str().to_string(), 0);
    }
    for (_, label, _, kind) in truth_rows(world) {
        *by_label.entry(label.as_str().to_string()).or_insert(0) += 1;
        *by_kind.entry(kind.to_string()).or_insert(0) += 1;
    }
    let events_by_action = (0..N_ACTIONS)
        .map(|i| (Action::name(i).to_string(), by_action[i]))
        .collect();
    let mut hubs: Vec<HubInfo> = world
        .hubs
        .iter()
        .map(|h| HubInfo {
            address: h.addr.clone(),
            name: h.name.clone(),
            kind: h.kind.to_string(),
        })
        .collect();
    hubs.sort_by(|a, b| a.address.cmp(&b.address));
    let mut farms: Vec<FarmInfo> = world
        .units
        .iter()
        .filter_map(|u| match &u.kind {
            UnitKind::Farm(f) => Some(FarmInfo {
                id: farm_id(f.id),
                style: f.style,
                members: f.members as u64,
                funder: f.has_funder.then(|| world.addr(u.start).to_string()),
                collector: f
                    .has_collector
                    .then(|| world.addr(u.start + u.len - 1).to_string()),
                exchange: world.exchange(f.exchange).to_string(),
            }),
            _ => None,
        })
        .collect();
    farms.sort_by(|a, b| a.id.cmp(&b.id));
    SimSummary {
        config: world.cfg.clone(),
        snapshot_utc: format_timestamp(world.end),
        window_start_utc: format_timestamp(world.start),
        wallets: world.n as u64,
        events: rows,
        by_label,
        by_kind,
        events_by_action,
        hubs,
        farms,
        files,
    }
}

/// Read `truth.csv` back.
pub fn load_truth(path: &Path) -> Result<Vec<TruthRow>, SimError> {
    let f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut out = Vec::new();
    for (n, line) in io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(io_err(path))?;
        let parse = |why: &str| SimError::Parse {
            path: path.to_path_buf(),
            line: n as u64 + 1,
            why: why.to_string(),
        };
        if n == 0 {
            if line != TRUTH_HEADER {
                return Err(parse("expected header address,label,farm_id,kind"));
            }
            continue;
        }
        let p: Vec<&str> = line.split(',').collect();
        if p.len() != 4 {
            return Err(parse("expected 4 fields"));
        }
        let label = match p[1] {
            "organic" => Label::Organic,
            "sybil" => Label::Sybil,
            "hub" => Label::Hub,
            _ => return Err(parse("label must be organic, sybil or hub")),
        };
        out.push(TruthRow {
            address: p[0].to_string(),
            label,
            farm_id: (!p[2].is_empty()).then(|| p[2].to_string()),
            kind: p[3].to_string(),
        });
    }
    Ok(out)
}

/// Read `hubs.txt` back (one address a line).
pub fn load_hubs(path: &Path) -> Result<Vec<String>, SimError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    Ok(text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}
