//! The sybil stage inside a run: the campaign's events become transfer edges, links and
//! activity rows ([`SybilInput::add_record`]), the wallets that passed the gates are the
//! candidates, the detector runs with [`Config::for_events`] (role and behaviour rules; the
//! campaign's `min_cluster_size`), and flagged clusters get the campaign's action
//! (`exclude`, `collapse` to one share, or keep a `fraction`).

use std::collections::HashMap;
use std::path::Path;

use fairdrop_core::Address;
use fairdrop_policy::campaign::Campaign;
use fairdrop_policy::score::Reason;
use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::input::{FxMap, Interner, SybilInput};
use fairdrop_table::{DictMemo, EventReader};

use crate::{RunError, WalletState};

pub struct SybilSummary {
    pub flagged: u64,
    pub clusters: u64,
}

/// Scoring's verdicts, in address order (the order of `events.parquet`): `(address, passed
/// the gates)` for every wallet scored, sent in batches while scoring runs.
pub type Verdicts = std::sync::mpsc::Receiver<Vec<(Box<str>, bool)>>;

/// What reading the events gave: the detector's input and the address → wallet id cache.
pub struct Read {
    input: SybilInput,
    cache: AddrCache,
}

impl Read {
    /// A detector input built elsewhere ([`crate::warehouse::read_tables`]).
    pub fn from_input(input: SybilInput) -> Read {
        Read {
            input,
            cache: AddrCache::with_capacity(0),
        }
    }
}

/// Address text → wallet id, prefetchable (addresses are under 64 bytes; a longer text is
/// not cached and is parsed each time).
type AddrCache = fairdrop_core::hash::InlineMap;

/// Follows the verdict stream alongside the events: both are in address order.
struct Cursor {
    rx: Verdicts,
    buf: Vec<(Box<str>, bool)>,
    pos: usize,
    done: bool,
}

impl Cursor {
    /// Whether `addr` passed the gates; addresses before it in the stream are skipped (their
    /// rows all fell outside the window). An address scoring never saw is not a candidate.
    fn passed(&mut self, addr: &str) -> bool {
        loop {
            if self.pos == self.buf.len() {
                if self.done {
                    return false;
                }
                match self.rx.recv() {
                    Ok(b) => {
                        self.buf = b;
                        self.pos = 0;
                    }
                    Err(_) => {
                        self.done = true;
                        return false;
                    }
                }
                continue;
            }
            let (a, ok) = &self.buf[self.pos];
            match (**a).cmp(addr) {
                std::cmp::Ordering::Less => self.pos += 1,
                std::cmp::Ordering::Equal => {
                    self.pos += 1;
                    return *ok;
                }
                std::cmp::Ordering::Greater => return false,
            }
        }
    }
}

fn wallet_id(
    wallets: &mut Interner,
    cache: &mut AddrCache,
    events: &Path,
    s: &str,
) -> Result<u32, RunError> {
    let h = AddrCache::hash(s);
    if let Some(i) = cache.get(s, h) {
        return Ok(i);
    }
    let a = Address::parse_trusted(s)
        .map_err(|e| RunError::Sybil(format!("{}: bad address {s:?}: {e}", events.display())))?;
    let id = wallets.intern(a);
    cache.insert(s, h, id);
    Ok(id)
}

/// "None" in a [`Pre`] row's id fields.
const NONE: u32 = u32::MAX;

/// A row as the resolving stage leaves it: wallet ids final, names as indices into the
/// stage's own name list (turned into symbols by the second stage, in row order).
struct Pre {
    w: u32,
    cp: u32,
    ts: i64,
    amount: Option<u128>,
    action: u32,
    program: u32,
    asset: u32,
    is_transfer: bool,
    exact: bool,
}

/// A batch from the resolving stage: rows, the wallets that start at a row (index, address:
/// the verdict stream is followed by address), and the names first met in this batch.
#[derive(Default)]
struct PreBatch {
    rows: Vec<Pre>,
    starts: Vec<(usize, Box<str>)>,
    names: Vec<Box<str>>,
}

/// Rows per batch between the two stages, and batches in flight (1M rows: room to run ahead
/// of the verdicts, which follow scoring). 4M rows held 0.7 GB at the end of scoring at 1M
/// wallets, the run's memory peak then; since the resolver got faster, 1M rows ahead keeps
/// the reader as busy.
const PRE_BATCH: usize = 16384;

const PRE_BATCHES: usize = 64;

/// Read the events into the detector's input while scoring runs on another thread: whether
/// a wallet is a candidate (passed the gates) comes from `verdicts`, which scoring sends in
/// the same address order. Wallet ids are given in the order the rows name addresses, as
/// before scoring and reading overlapped.
///
/// Two stages on two threads: the first resolves every row's wallets (the address-cache
/// probes, most of the work) without waiting for verdicts; the second follows the verdicts
/// and builds the input, interning symbols in row order, so ids are what one pass gave.
///
/// `addresses`: how many distinct addresses the events hold (ingest's count; 0 if unknown),
/// to size the address cache once.
pub fn read(
    c: &Campaign,
    events: &Path,
    verdicts: Verdicts,
    addresses: usize,
) -> Result<Read, RunError> {
    let mut input = SybilInput::new();
    let mut cursor = Cursor {
        rx: verdicts,
        buf: Vec::new(),
        pos: 0,
        done: false,
    };
    // Room for every row at once (address space only: a page counts once a row lands in
    // it), so the two big tables never grow by doubling. Grown, the transfers alone (16M
    // rows, 650 MB at 1M wallets) were copied five times, their fresh pages zeroed each
    // time, and the old copies (as much again) stayed with the allocator until the next
    // stage boundary.
    let rows = EventReader::count_rows(events)? as usize;
    input.compact.reserve_exact(rows);
    input.transfers.reserve_exact(rows);
    let (tx, rx) = std::sync::mpsc::sync_channel::<PreBatch>(PRE_BATCHES);
    // Row vectors go back to the resolver for reuse: fresh ones cost their pages, zeroed by
    // the kernel (a second of the resolving thread at 1M wallets).
    let (give_back, returned) = std::sync::mpsc::channel::<Vec<Pre>>();
    std::thread::scope(|scope| -> Result<Read, RunError> {
        let resolver = std::thread::Builder::new()
            .name("sybil-resolve".into())
            .spawn_scoped(scope, move || resolve(c, events, tx, returned, addresses))
            .map_err(|e| RunError::Sybil(format!("cannot start the sybil reader: {e}")))?;
        // Symbol of each name index, once interned.
        let mut names: Vec<Box<str>> = Vec::new();
        let mut symbols: Vec<Option<u32>> = Vec::new();
        fn symbol(
            input: &mut SybilInput,
            symbols: &mut [Option<u32>],
            names: &[Box<str>],
            k: u32,
        ) -> u32 {
            let k = k as usize;
            if let Some(id) = symbols[k] {
                return id;
            }
            let id = input.symbol(&names[k]);
            symbols[k] = Some(id);
            id
        }
        let mut is_candidate = false;
        for mut batch in rx {
            names.extend(std::mem::take(&mut batch.names));
            symbols.resize(names.len(), None);
            let mut starts = std::mem::take(&mut batch.starts).into_iter().peekable();
            for (i, r) in batch.rows.iter().enumerate() {
                while let Some((_, a)) = starts.next_if(|(at, _)| *at == i) {
                    is_candidate = cursor.passed(&a);
                }
                // Intern in add_compact_record's order: action, program, then the asset.
                if is_candidate {
                    let action = symbol(&mut input, &mut symbols, &names, r.action);
                    let program = (r.program != NONE)
                        .then(|| symbol(&mut input, &mut symbols, &names, r.program));
                    input.push_activity(r.w, r.ts, action, program, r.amount, r.exact);
                }
                if r.cp != NONE {
                    if r.is_transfer {
                        let asset = (r.asset != NONE)
                            .then(|| symbol(&mut input, &mut symbols, &names, r.asset));
                        input.push_transfer(r.w, r.cp, r.ts, r.amount, asset);
                    } else {
                        input.push_link(r.w, r.cp);
                    }
                }
            }
            batch.rows.clear();
            let _ = give_back.send(batch.rows);
        }
        let (wallets, cache) = resolver
            .join()
            .unwrap_or_else(|_| Err(RunError::Sybil("reading the events panicked".into())))?;
        input.wallets = wallets;
        Ok(Read { input, cache })
    })
}

/// The first stage of [`read`]: every row in the window, its wallets resolved, sent in
/// batches. Text columns come as dictionaries: each distinct value of a row group is
/// resolved once (the per-row lookups of counterparties in a table of every wallet were most
/// of this work), in row order, so wallet ids are what per-row resolution gave.
fn resolve(
    c: &Campaign,
    events: &Path,
    tx: std::sync::mpsc::SyncSender<PreBatch>,
    returned: std::sync::mpsc::Receiver<Vec<Pre>>,
    distinct: usize,
) -> Result<(Interner, AddrCache), RunError> {
    let mut wallets = Interner::default();
    // Candidates' rows go to the detector's compact form (24 bytes a row), and to the exact
    // form (40 bytes) only for the bridge actions, whose signal compares exact amounts.
    let cfg = Config::for_events(c.sybil.min_cluster_size);
    let bridge_actions: Vec<&str> = cfg
        .behaviour
        .bridge_actions
        .iter()
        .map(|s| s.as_str())
        .collect();
    // One lookup per distinct counterparty and row group.
    let mut cache = AddrCache::with_capacity(distinct);
    // Names (actions, programs, assets) by index, in order of first sight.
    let mut name_ids: FxMap<Box<str>, u32> = FxMap::default();
    let mut name_id = |batch: &mut PreBatch, s: &str| -> u32 {
        if let Some(&i) = name_ids.get(s) {
            return i;
        }
        let i = name_ids.len() as u32;
        name_ids.insert(s.into(), i);
        batch.names.push(s.into());
        i
    };
    // Decoding runs on a third thread; chain and tx_id are not read.
    const COLUMNS: [&str; 7] = [
        "timestamp",
        "address",
        "action",
        "counterparty",
        "amount",
        "asset",
        "program",
    ];
    let transfer = fairdrop_core::actions::TRANSFER;
    let mut last: Option<(String, u32)> = None;
    let mut last_key: Option<usize> = None;
    // Wallet ids of the address dictionary's values, found ahead like the counterparties'.
    let mut addresses = DictMemo::<u32>::default();
    let mut counterparties = DictMemo::<u32>::default();
    let mut hashes: Vec<u64> = Vec::new();
    // Per action: (name index, is `transfer`, keeps exact rows).
    let mut actions = DictMemo::<(u32, bool, bool)>::default();
    let mut assets = DictMemo::<u32>::default();
    let mut programs = DictMemo::<u32>::default();
    let mut batch = PreBatch {
        rows: Vec::with_capacity(PRE_BATCH),
        ..Default::default()
    };
    for b in EventReader::open_dict(events, &COLUMNS)?.prefetch(2) {
        let b = b?;
        // Look up every value of a new dictionary now, prefetching a few values ahead: one
        // cache miss at a time was most of this stage. Values not cached yet stay unresolved
        // and are interned at their first row below, so ids keep row order.
        let mut look_ahead = |memo: &mut DictMemo<u32>, cache: &AddrCache| {
            let n = memo.n_values();
            hashes.clear();
            hashes.extend((0..n).map(|k| AddrCache::hash(memo.value(k))));
            const AHEAD: usize = 16;
            for k in 0..n {
                if let Some(&h) = hashes.get(k + AHEAD) {
                    cache.prefetch(h);
                }
                if let Some(id) = cache.get(memo.value(k), hashes[k]) {
                    memo.set(k, id);
                }
            }
        };
        if addresses.start(&b.address) {
            last_key = None;
            look_ahead(&mut addresses, &cache);
        }
        if counterparties.start(&b.counterparty) {
            look_ahead(&mut counterparties, &cache);
        }
        actions.start(&b.action);
        assets.start(&b.asset);
        programs.start(&b.program);
        // The counterparty memo of a large dictionary is read at random places: its entry
        // is asked for this many rows ahead.
        const ROWS_AHEAD: usize = 16;
        let n = b.len();
        for i in 0..n {
            if let Some(k) = (i + ROWS_AHEAD < n)
                .then(|| b.counterparty.key(i + ROWS_AHEAD))
                .flatten()
            {
                counterparties.prefetch(k);
            }
            let ts = b.timestamp.value(i);
            if ts < c.window_start || ts > c.snapshot {
                continue;
            }
            // Rows come sorted by address: most rows repeat the previous row's wallet.
            let k = b.address.key(i).unwrap_or(usize::MAX);
            let w = match &last {
                Some((_, w)) if last_key == Some(k) => *w,
                _ => {
                    let a = b.address.value(k).unwrap_or("");
                    let w = match &last {
                        Some((s, w)) if s == a => *w,
                        _ => {
                            let w = match addresses.get(k) {
                                Some(w) => w,
                                None => {
                                    let w = wallet_id(&mut wallets, &mut cache, events, a)?;
                                    addresses.set(k, w);
                                    w
                                }
                            };
                            batch.starts.push((batch.rows.len(), a.into()));
                            last = Some((a.to_string(), w));
                            w
                        }
                    };
                    last_key = Some(k);
                    w
                }
            };
            let cp = match b.counterparty.key(i) {
                Some(k) => match counterparties.get(k) {
                    Some(id) => id,
                    None => {
                        let id =
                            wallet_id(&mut wallets, &mut cache, events, counterparties.value(k))?;
                        counterparties.set(k, id);
                        id
                    }
                },
                None => NONE,
            };
            // Ingest wrote canonical decimals: the validator's parser (a u64 path for up to
            // 19 digits) takes them, faster than `str::parse::<u128>`.
            let amount = b
                .amount(i)
                .and_then(|a| fairdrop_core::event::parse_amount(a).ok());
            let ak = b.action.key(i).unwrap_or(usize::MAX);
            let (action, is_transfer, exact) = match actions.get(ak) {
                Some(a) => a,
                None => {
                    let name = actions.value(ak);
                    let a = (
                        name_id(&mut batch, name),
                        name == transfer,
                        bridge_actions.contains(&name),
                    );
                    actions.set(ak, a);
                    a
                }
            };
            let mut memo = |m: &mut DictMemo<u32>, k: Option<usize>, batch: &mut PreBatch| {
                k.map_or(NONE, |k| match m.get(k) {
                    Some(id) => id,
                    None => {
                        let id = name_id(batch, m.value(k));
                        m.set(k, id);
                        id
                    }
                })
            };
            let program = memo(&mut programs, b.program.key(i), &mut batch);
            let asset = memo(&mut assets, b.asset.key(i), &mut batch);
            batch.rows.push(Pre {
                w,
                cp,
                ts,
                amount,
                action,
                program,
                asset,
                is_transfer,
                exact,
            });
            if batch.rows.len() >= PRE_BATCH {
                // A second stage that stopped reports its own error.
                let rows = returned
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(PRE_BATCH));
                let full = std::mem::replace(
                    &mut batch,
                    PreBatch {
                        rows,
                        ..Default::default()
                    },
                );
                if tx.send(full).is_err() {
                    return Ok((wallets, cache));
                }
            }
        }
    }
    let _ = tx.send(batch);
    Ok((wallets, cache))
}

/// Detect on what [`read`] gave, with the scored wallets, and apply the campaign's action.
pub fn run(
    c: &Campaign,
    events: &Path,
    read: Read,
    model: Option<&fairdrop_sybil::learn::LearnedModel>,
    wallets: &mut [WalletState],
    out: &Path,
) -> Result<SybilSummary, RunError> {
    let Read {
        mut input,
        mut cache,
    } = read;
    let lists = fairdrop_sybil::load::load_hub_lists(&mut input, &c.hubs)
        .map_err(|e| RunError::Sybil(e.to_string()))?;
    let mut index: HashMap<u32, usize> = HashMap::new();
    for (k, w) in wallets.iter().enumerate() {
        if w.passed_gates {
            let id = wallet_id(&mut input.wallets, &mut cache, events, &w.score.address)?;
            input.candidates.push(id);
            index.insert(id, k);
        }
    }
    // Detection is where a run's memory peaks: the address cache is not needed there.
    drop(cache);
    fairdrop_core::mem::release();
    let cfg = Config::for_events(c.sybil.min_cluster_size);
    let appeals = match &c.sybil.appeals {
        Some(p) => fairdrop_sybil::output::read_appeals(&c.base.join(p))
            .map_err(|e| RunError::Sybil(e.to_string()))?,
        None => Appeals::default(),
    };
    // Not sorted: the rows come grouped by wallet (events are sorted by address), which is
    // all the detector needs (`behaviour::wallet_runs`); sorting 30M rows took 1.5 s of
    // both cores at 1M wallets.
    // Events carry timestamps, amounts and activity: the role and behaviour rules apply.
    let mut report = detect(&input, &cfg, &appeals);
    if let Some(m) = model {
        // The learned detector refines the rule verdicts (`fairdrop sybil --model`).
        let f = fairdrop_sybil::features::features(&input, &report, &lists);
        let p = fairdrop_sybil::learn::probabilities(m, &f)
            .map_err(|e| RunError::Sybil(format!("sybil.model: {e}")))?;
        report = fairdrop_sybil::learn::apply(&report, &input, &f, &p, m.threshold, &cfg, &appeals);
        let text = fairdrop_sybil::learn::reasons_csv(m, &input, &f, &p);
        fairdrop_core::fsutil::write_atomic(out.join("sybil-reasons.csv"), text.as_bytes())
            .map_err(|e| RunError::Sybil(format!("writing sybil-reasons.csv: {e}")))?;
    }
    fairdrop_sybil::output::write_clusters_csv(&out.join("clusters.csv"), &report, &input.wallets)
        .map_err(|e| RunError::Sybil(e.to_string()))?;

    let mut flagged = 0u64;
    for (ci, cl) in report.clusters.iter().enumerate() {
        // Members flagged and not cleared, in address order.
        let members: Vec<usize> = report
            .verdicts
            .iter()
            .filter(|v| v.cluster == ci && v.action.is_sybil())
            .filter_map(|v| index.get(&v.wallet).copied())
            .collect();
        if members.is_empty() {
            continue;
        }
        // For `collapse`, the member with the most points keeps one share.
        let keeper = members.iter().copied().max_by(|a, b| {
            wallets[*a]
                .score
                .points
                .cmp(&wallets[*b].score.points)
                .then(wallets[*b].score.address.cmp(&wallets[*a].score.address))
        });
        let signals: Vec<&str> = cl.signals.iter().map(|s| s.code()).collect();
        for k in members {
            flagged += 1;
            let w = &mut wallets[k];
            w.cluster = Some(cl.id.clone());
            let what = match c.sybil.action.as_str() {
                "collapse" if Some(k) == keeper => {
                    format!(
                        "kept as the one share of its cluster of {}",
                        cl.members.len()
                    )
                }
                "collapse" | "exclude" => {
                    w.score.eligible = false;
                    "not eligible".to_string()
                }
                _ => {
                    w.score.points = w.score.points * c.sybil.keep_percent as u64 / 100;
                    if w.score.points == 0 {
                        w.score.eligible = false;
                    }
                    format!("{}% of its points kept", c.sybil.keep_percent)
                }
            };
            if !w.score.eligible {
                w.score.reasons.retain(|r| r.code != "eligible");
            }
            w.score.reasons.push(Reason {
                code: format!("sybil.{}", cl.id),
                sentence: format!(
                    "Part of cluster {} ({} wallets; signals: {}): {what}. Appeal with the cluster id if this is wrong.",
                    cl.id,
                    cl.members.len(),
                    signals.join(", ")
                ),
            });
        }
    }
    Ok(SybilSummary {
        flagged,
        clusters: report.clusters.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reader follows verdicts across batches, skips wallets it never reads (all rows
    /// outside the window), and treats a wallet scoring never sent as no candidate.
    #[test]
    fn cursor_follows_verdicts_in_address_order() {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        tx.send(vec![("a".into(), true), ("b".into(), false)])
            .unwrap();
        tx.send(vec![]).unwrap();
        tx.send(vec![
            ("c".into(), true),
            ("e".into(), true),
            ("g".into(), true),
        ])
        .unwrap();
        drop(tx);
        let mut c = Cursor {
            rx,
            buf: Vec::new(),
            pos: 0,
            done: false,
        };
        assert!(c.passed("a"));
        assert!(!c.passed("b"));
        // "c" is skipped: the reader saw no row of it.
        assert!(!c.passed("d"));
        assert!(c.passed("e"));
        assert!(!c.passed("f"));
        assert!(c.passed("g"));
        // The stream ended: later wallets are no candidates.
        assert!(!c.passed("h"));
    }
}

#[cfg(test)]
mod read_tests {
    use super::*;

    /// The dictionary reader builds exactly the input that resolving every row's strings
    /// (what `read` did before) builds: same wallet ids, symbol ids, rows and edges, in order.
    #[test]
    fn dictionary_read_equals_per_row_read() {
        let d = tempfile::tempdir().unwrap();
        let w = d.path().join("world");
        crate::world::world(&w, 2000, 5, fairdrop_sim::OutputFormat::Csv).unwrap();
        let c = Campaign::load(&w.join("campaign.toml")).unwrap();
        let out = d.path().join("ingest");
        let opts = fairdrop_ingest::IngestOptions {
            progress: false,
            ..Default::default()
        };
        let distinct = fairdrop_ingest::ingest(&c.events, &out, &opts)
            .unwrap()
            .distinct_addresses;
        let events = out.join(fairdrop_ingest::EVENTS_FILE);
        // Every other distinct address (in file order) is a candidate.
        let mut verdicts: Vec<(Box<str>, bool)> = Vec::new();
        for b in EventReader::open_columns(&events, &["address"]).unwrap() {
            let b = b.unwrap();
            for i in 0..b.len() {
                let a = b.row(i).address;
                if verdicts.last().is_none_or(|(l, _)| &**l != a) {
                    let pass = verdicts.len().is_multiple_of(2);
                    verdicts.push((a.into(), pass));
                }
            }
        }
        assert!(verdicts.len() > 1000, "{}", verdicts.len());
        let passed: HashMap<Box<str>, bool> = verdicts.iter().cloned().collect();
        // The address cache sized from no hint (grows), a small one (grows past it), and
        // the ingest's exact count.
        let read_with = |hint: usize| {
            let (tx, rx) = std::sync::mpsc::channel();
            for chunk in verdicts.chunks(300) {
                tx.send(chunk.to_vec()).unwrap();
            }
            drop(tx);
            read(&c, &events, rx, hint).unwrap().input
        };
        let got = read_with(0);
        for hint in [16, distinct as usize] {
            let other = read_with(hint);
            assert_eq!(other.compact, got.compact, "hint {hint}");
            assert_eq!(other.transfers, got.transfers, "hint {hint}");
        }

        let cfg = Config::for_events(c.sybil.min_cluster_size);
        let mut want = SybilInput::new();
        let mut cache = AddrCache::default();
        for b in EventReader::open(&events).unwrap() {
            let b = b.unwrap();
            for i in 0..b.len() {
                let r = b.row(i);
                if r.timestamp < c.window_start || r.timestamp > c.snapshot {
                    continue;
                }
                let wid = wallet_id(&mut want.wallets, &mut cache, &events, r.address).unwrap();
                let cp = r
                    .counterparty
                    .map(|cp| wallet_id(&mut want.wallets, &mut cache, &events, cp).unwrap());
                let amount = r.amount.and_then(|a| a.parse::<u128>().ok());
                if passed[r.address] {
                    let exact = cfg.behaviour.bridge_actions.iter().any(|a| a == r.action);
                    want.add_compact_record(
                        wid,
                        r.timestamp,
                        r.action,
                        cp,
                        amount,
                        r.asset,
                        r.program,
                        exact,
                    );
                } else {
                    want.add_edges(wid, r.timestamp, r.action, cp, amount, r.asset);
                }
            }
        }
        assert!(!want.transfers.is_empty() && !want.compact.is_empty());
        assert_eq!(got.wallets.addresses(), want.wallets.addresses());
        let names = |i: &SybilInput| -> Vec<String> {
            (0..i.symbols.len() as u32)
                .map(|k| i.symbols.name(k).to_string())
                .collect()
        };
        assert_eq!(names(&got), names(&want));
        assert_eq!(got.compact, want.compact);
        assert_eq!(got.activity, want.activity);
        assert_eq!(got.transfers, want.transfers);
        assert_eq!(got.links, want.links);
    }
}
