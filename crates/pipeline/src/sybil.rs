//! The sybil stage inside a run: the campaign's events become transfer edges, links and
//! activity rows ([`SybilInput::add_record`]), the wallets that passed the gates are the
//! candidates, the detector runs with [`Config::for_events`] (role and behaviour rules; the
//! campaign's `min_cluster_size`), and flagged clusters get the campaign's action
//! (`exclude`, `collapse` to one share, or keep a `fraction`).

use std::collections::HashMap;
use std::path::Path;

use fairdrop_core::hash::InlineKey;
use fairdrop_core::Address;
use fairdrop_policy::campaign::Campaign;
use fairdrop_policy::score::Reason;
use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::input::{FxMap, SybilInput};
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
    cache: FxMap<InlineKey, u32>,
}

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
    input: &mut SybilInput,
    cache: &mut FxMap<InlineKey, u32>,
    events: &Path,
    s: &str,
) -> Result<u32, RunError> {
    let key = InlineKey::new(s);
    if let Some(&i) = key.as_ref().and_then(|k| cache.get(k)) {
        return Ok(i);
    }
    let a = Address::parse_trusted(s)
        .map_err(|e| RunError::Sybil(format!("{}: bad address {s:?}: {e}", events.display())))?;
    let id = input.wallet(a);
    if let Some(k) = key {
        cache.insert(k, id);
    }
    Ok(id)
}

/// Read the events into the detector's input while scoring runs on another thread: whether
/// a wallet is a candidate (passed the gates) comes from `verdicts`, which scoring sends in
/// the same address order. Wallet ids are given in the order the rows name addresses, as
/// before scoring and reading overlapped.
pub fn read(c: &Campaign, events: &Path, verdicts: Verdicts) -> Result<Read, RunError> {
    let mut input = SybilInput::new();
    let mut cursor = Cursor {
        rx: verdicts,
        buf: Vec::new(),
        pos: 0,
        done: false,
    };
    // Candidates' rows go to the detector's compact form (24 bytes a row), and to the exact
    // form (40 bytes) only for the bridge actions, whose signal compares exact amounts.
    let cfg = Config::for_events(c.sybil.min_cluster_size);
    let bridge_actions: Vec<&str> = cfg
        .behaviour
        .bridge_actions
        .iter()
        .map(|s| s.as_str())
        .collect();
    // Room for every row at once (address space only until used): no doubling copies of
    // the biggest table.
    let rows = EventReader::count_rows(events)? as usize;
    input.compact.reserve_exact(rows);
    // FxHash on inline keys: one lookup per distinct counterparty and row group.
    let mut cache: FxMap<InlineKey, u32> = FxMap::default();
    // Decoding (on a second thread) overlaps building the input; chain and tx_id are not
    // read. Text columns come as dictionaries: each distinct value of a row group is
    // resolved once (the per-row lookups of counterparties in a table of every wallet, and
    // of symbols, were most of this thread's time), in row order, so wallet and symbol ids
    // are what per-row resolution gave.
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
    let mut last: Option<(String, (u32, bool))> = None;
    let mut last_key: Option<usize> = None;
    let mut addresses = DictMemo::<()>::default();
    let mut counterparties = DictMemo::<u32>::default();
    // Per action: (symbol id once interned, is `transfer`, keeps exact rows).
    let mut actions = DictMemo::<(Option<u32>, bool, bool)>::default();
    let mut assets = DictMemo::<u32>::default();
    let mut programs = DictMemo::<u32>::default();
    for b in EventReader::open_dict(events, &COLUMNS)?.prefetch(2) {
        let b = b?;
        if addresses.start(&b.address) {
            last_key = None;
        }
        counterparties.start(&b.counterparty);
        actions.start(&b.action);
        assets.start(&b.asset);
        programs.start(&b.program);
        for i in 0..b.len() {
            let ts = b.timestamp.value(i);
            if ts < c.window_start || ts > c.snapshot {
                continue;
            }
            // Rows come sorted by address: most rows repeat the previous row's wallet.
            let k = b.address.key(i).unwrap_or(usize::MAX);
            let (w, is_candidate) = match &last {
                Some((_, v)) if last_key == Some(k) => *v,
                _ => {
                    let a = addresses.value(k);
                    let v = match &last {
                        Some((s, v)) if s == a => *v,
                        _ => {
                            let v = (
                                wallet_id(&mut input, &mut cache, events, a)?,
                                cursor.passed(a),
                            );
                            last = Some((a.to_string(), v));
                            v
                        }
                    };
                    last_key = Some(k);
                    v
                }
            };
            let cp = match b.counterparty.key(i) {
                Some(k) => Some(match counterparties.get(k) {
                    Some(id) => id,
                    None => {
                        let id =
                            wallet_id(&mut input, &mut cache, events, counterparties.value(k))?;
                        counterparties.set(k, id);
                        id
                    }
                }),
                None => None,
            };
            let amount = b.amount(i).and_then(|a| a.parse::<u128>().ok());
            let ak = b.action.key(i).unwrap_or(usize::MAX);
            let (mut action_id, is_transfer, exact) = match actions.get(ak) {
                Some(a) => a,
                None => {
                    let name = actions.value(ak);
                    let a = (None, name == transfer, bridge_actions.contains(&name));
                    actions.set(ak, a);
                    a
                }
            };
            // Intern in add_compact_record's order: action, program, then the asset.
            if is_candidate {
                let id = match action_id {
                    Some(id) => id,
                    None => {
                        let id = input.symbol(actions.value(ak));
                        action_id = Some(id);
                        actions.set(ak, (action_id, is_transfer, exact));
                        id
                    }
                };
                let program = b
                    .program
                    .key(i)
                    .map(|k| symbol_of(&mut input, &mut programs, k));
                input.push_activity(w, ts, id, program, amount, exact);
            }
            if let Some(to) = cp {
                if is_transfer {
                    let asset = b
                        .asset
                        .key(i)
                        .map(|k| symbol_of(&mut input, &mut assets, k));
                    input.push_transfer(w, to, ts, amount, asset);
                } else {
                    input.push_link(w, to);
                }
            }
        }
    }
    Ok(Read { input, cache })
}

fn symbol_of(input: &mut SybilInput, m: &mut DictMemo<u32>, k: usize) -> u32 {
    match m.get(k) {
        Some(id) => id,
        None => {
            let id = input.symbol(m.value(k));
            m.set(k, id);
            id
        }
    }
}

/// Detect on what [`read`] gave, with the scored wallets, and apply the campaign's action.
pub fn run(
    c: &Campaign,
    events: &Path,
    read: Read,
    wallets: &mut [WalletState],
    out: &Path,
) -> Result<SybilSummary, RunError> {
    let Read {
        mut input,
        mut cache,
    } = read;
    fairdrop_sybil::load::load_hubs(&mut input, &c.hubs)
        .map_err(|e| RunError::Sybil(e.to_string()))?;
    let mut index: HashMap<u32, usize> = HashMap::new();
    for (k, w) in wallets.iter().enumerate() {
        if w.passed_gates {
            let id = wallet_id(&mut input, &mut cache, events, &w.score.address)?;
            input.candidates.push(id);
            index.insert(id, k);
        }
    }
    // Detection is where a run's memory peaks: the address cache is not needed there.
    drop(cache);
    let cfg = Config::for_events(c.sybil.min_cluster_size);
    let appeals = match &c.sybil.appeals {
        Some(p) => fairdrop_sybil::output::read_appeals(&c.base.join(p))
            .map_err(|e| RunError::Sybil(e.to_string()))?,
        None => Appeals::default(),
    };
    // Sorted here, in place, so the detector reads the rows without a sorted copy; on both
    // cores, as nothing else runs at this point of a run (30M rows at 1M wallets took 3 s
    // on one). Equal rows are identical, so the order is the same as a sequential sort's.
    {
        use rayon::slice::ParallelSliceMut;
        input.compact.par_sort_unstable();
    }
    // Events carry timestamps, amounts and activity: the role and behaviour rules apply.
    let report = detect(&input, &cfg, &appeals);
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
        fairdrop_ingest::ingest(&c.events, &out, &opts).unwrap();
        let events = out.join(fairdrop_ingest::EVENTS_FILE);
        // Every other distinct address (in file order) is a candidate.
        let mut verdicts: Vec<(Box<str>, bool)> = Vec::new();
        for b in EventReader::open_columns(&events, &["address"]).unwrap() {
            let b = b.unwrap();
            for i in 0..b.len() {
                let a = b.row(i).address;
                if verdicts.last().is_none_or(|(l, _)| &**l != a) {
                    let pass = verdicts.len() % 2 == 0;
                    verdicts.push((a.into(), pass));
                }
            }
        }
        assert!(verdicts.len() > 1000, "{}", verdicts.len());
        let passed: HashMap<Box<str>, bool> = verdicts.iter().cloned().collect();
        let (tx, rx) = std::sync::mpsc::channel();
        for chunk in verdicts.chunks(300) {
            tx.send(chunk.to_vec()).unwrap();
        }
        drop(tx);
        let got = read(&c, &events, rx).unwrap().input;

        let cfg = Config::for_events(c.sybil.min_cluster_size);
        let mut want = SybilInput::new();
        let mut cache: FxMap<InlineKey, u32> = FxMap::default();
        for b in EventReader::open(&events).unwrap() {
            let b = b.unwrap();
            for i in 0..b.len() {
                let r = b.row(i);
                if r.timestamp < c.window_start || r.timestamp > c.snapshot {
                    continue;
                }
                let wid = wallet_id(&mut want, &mut cache, &events, r.address).unwrap();
                let cp = r
                    .counterparty
                    .map(|cp| wallet_id(&mut want, &mut cache, &events, cp).unwrap());
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
