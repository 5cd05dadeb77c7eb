//! Properties of a simulated world: determinism, valid rows, consistent truth, every farm
//! style, the eleven steps, heavy-tailed activity.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fairdrop_core::event::{format_timestamp, RawFields};
use fairdrop_core::{steps, AddressCache, Event};
use fairdrop_sim::{
    load_hubs, load_truth, simulate, FarmStyle, Label, OutputFormat, SimConfig, SimSummary,
    TruthRow, EVENTS_HEADER,
};

const WALLETS: u64 = 2_000;
const SEED: u64 = 7;

struct World {
    _dir: tempfile::TempDir,
    out: PathBuf,
    summary: SimSummary,
    rows: Vec<Vec<String>>,
    truth: Vec<TruthRow>,
    hubs: Vec<String>,
}

fn cfg(wallets: u64, seed: u64, threads: usize) -> SimConfig {
    SimConfig {
        wallets,
        seed,
        threads: Some(threads),
        ..SimConfig::default()
    }
}

/// The 2,000-wallet world, built once for all tests.
fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("world");
        let summary = simulate(&cfg(WALLETS, SEED, 2), &out).unwrap();
        let text = std::fs::read_to_string(out.join("events.csv")).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(EVENTS_HEADER));
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        let truth = load_truth(&out.join("truth.csv")).unwrap();
        let hubs = load_hubs(&out.join("hubs.txt")).unwrap();
        World {
            _dir: dir,
            out,
            summary,
            rows,
            truth,
            hubs,
        }
    })
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["events.csv", "truth.csv", "hubs.txt", "sim-summary.json"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
        .collect()
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let again = dir.path().join("again");
    simulate(&cfg(WALLETS, SEED, 1), &again).unwrap();
    let (a, b) = (files(&w.out), files(&again));
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between runs with the same seed");
    }
    let other = dir.path().join("other");
    simulate(&cfg(WALLETS, SEED + 1, 3), &other).unwrap();
    let c = files(&other);
    for ((name, x), (_, y)) in a.iter().zip(&c) {
        assert!(x != y, "{name} is the same for a different seed");
    }
}

#[test]
fn every_row_passes_the_schema() {
    let w = world();
    assert_eq!(w.rows.len() as u64, w.summary.events);
    let mut cache = AddressCache::new();
    let mut keys = HashSet::new();
    let start = fairdrop_sim::default_snapshot() - fairdrop_sim::WINDOW_SECONDS;
    for (n, r) in w.rows.iter().enumerate() {
        assert_eq!(r.len(), 9, "row {n}: {r:?}");
        let f = |i: usize| Some(r[i].as_str()).filter(|s| !s.is_empty());
        let raw = RawFields {
            timestamp: f(0),
            chain: f(1),
            tx_id: f(2),
            address: f(3),
            action: f(4),
            counterparty: f(5),
            amount: f(6),
            asset: f(7),
            program: f(8),
        };
        let e: Event = Event::from_fields(&raw, &mut cache)
            .unwrap_or_else(|err| panic!("row {n} {r:?}: {err} ({})", err.rule()));
        // Canonical text: what ingest would write is what we wrote.
        assert_eq!(format_timestamp(e.timestamp), r[0]);
        assert_eq!(e.address.to_string(), r[3]);
        assert!(e.address.is_aleo(), "row {n}: acting address is Aleo");
        if let Some(c) = e.counterparty {
            assert_eq!(c.to_string(), r[5]);
            // EVM counterparties only where the user's Metamask wallet is named.
            let evm_ok = matches!(
                (e.chain.as_str(), e.action.as_str()),
                ("sepolia", "faucet_claim") | ("aleo", "bridge_in") | ("aleo", "bridge_out")
            );
            assert_eq!(!c.is_aleo(), evm_ok, "row {n}: {r:?}");
        }
        assert!(e.tx_id.is_some(), "row {n} has a tx id");
        assert!(
            (start..fairdrop_sim::default_snapshot()).contains(&e.timestamp),
            "row {n} in the window"
        );
        let key = (r[1].clone(), r[2].clone(), r[4].clone(), r[3].clone());
        assert!(
            keys.insert(key),
            "row {n}: duplicate (chain, tx_id, action, address)"
        );
    }
    let by_action: u64 = w.summary.events_by_action.values().sum();
    assert_eq!(by_action, w.summary.events);
}

#[test]
fn truth_and_hubs_are_consistent() {
    let w = world();
    // Sorted, unique, complete.
    let addrs: Vec<&str> = w.truth.iter().map(|t| t.address.as_str()).collect();
    assert!(
        addrs.windows(2).all(|p| p[0] < p[1]),
        "truth sorted and unique"
    );
    let hub_rows: Vec<&TruthRow> = w.truth.iter().filter(|t| t.label == Label::Hub).collect();
    assert_eq!(
        w.truth.len() as u64 - hub_rows.len() as u64,
        WALLETS,
        "one truth row per wallet plus hubs"
    );
    let hubs_from_truth: Vec<&str> = hub_rows.iter().map(|t| t.address.as_str()).collect();
    assert_eq!(
        w.hubs, hubs_from_truth,
        "hubs.txt = the hub rows of truth.csv"
    );
    assert!(w.hubs.windows(2).all(|p| p[0] < p[1]));
    assert!(hub_rows.iter().any(|h| h.kind == "exchange"));
    for k in ["faucet", "bridge", "dex", "orderbook"] {
        assert!(hub_rows.iter().any(|h| h.kind == k), "hub kind {k}");
    }

    // Labels and farms.
    let mut farm_members: BTreeMap<&str, u64> = BTreeMap::new();
    for t in &w.truth {
        match t.label {
            Label::Sybil => {
                let id = t.farm_id.as_deref().expect("every sybil has a farm id");
                assert!(t.kind.starts_with("farm_"), "{t:?}");
                if t.kind != "farm_funder" && t.kind != "farm_collector" {
                    *farm_members.entry(id).or_default() += 1;
                }
            }
            _ => assert!(t.farm_id.is_none(), "{t:?}"),
        }
    }
    assert_eq!(farm_members.len(), w.summary.farms.len());
    for f in &w.summary.farms {
        assert_eq!(farm_members[f.id.as_str()], f.members, "{}", f.id);
        assert!(
            (5..=200).contains(&f.members),
            "{} has {} members",
            f.id,
            f.members
        );
    }
    let sybils = w.summary.by_label["sybil"];
    assert!(
        (WALLETS * 10 / 100..=WALLETS * 15 / 100).contains(&sybils),
        "{sybils} sybils"
    );

    // Every hub is a funder; every acting address is in the truth.
    let senders: HashSet<&str> = w
        .rows
        .iter()
        .filter(|r| r[4] == "transfer")
        .map(|r| r[3].as_str())
        .collect();
    for h in &w.hubs {
        assert!(senders.contains(h.as_str()), "hub {h} never funds anyone");
    }
    let known: HashSet<&str> = addrs.iter().copied().collect();
    for r in &w.rows {
        assert!(known.contains(r[3].as_str()), "{} not in truth", r[3]);
        if r[5].starts_with("aleo1") {
            assert!(known.contains(r[5].as_str()), "{} not in truth", r[5]);
        }
    }
}

/// Rows by acting address.
fn rows_by_address(w: &World) -> HashMap<&str, Vec<&Vec<String>>> {
    let mut m: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
    for r in &w.rows {
        m.entry(r[3].as_str()).or_default().push(r);
    }
    m
}

#[test]
fn every_farm_style_appears_and_behaves() {
    let w = world();
    let by_addr = rows_by_address(w);
    let kind_of: HashMap<&str, &TruthRow> =
        w.truth.iter().map(|t| (t.address.as_str(), t)).collect();
    let styles: BTreeSet<FarmStyle> = w.summary.farms.iter().map(|f| f.style).collect();
    assert_eq!(styles.len(), 4, "all four styles: {styles:?}");
    for style in [
        FarmStyle::Star,
        FarmStyle::Chain,
        FarmStyle::Exchange,
        FarmStyle::Stealth,
    ] {
        assert!(
            w.truth.iter().any(|t| t.kind == style.kind()),
            "{} in truth",
            style.kind()
        );
    }
    let hubs: HashSet<&str> = w.hubs.iter().map(String::as_str).collect();
    for f in &w.summary.farms {
        let members: Vec<&str> = w
            .truth
            .iter()
            .filter(|t| t.farm_id.as_deref() == Some(&f.id) && t.kind == f.style.kind())
            .map(|t| t.address.as_str())
            .collect();
        // Who funded each member (first incoming credits transfer).
        let funders: HashMap<&str, &str> = w
            .rows
            .iter()
            .filter(|r| r[4] == "transfer" && r[7] == "credits" && members.contains(&r[5].as_str()))
            .fold(HashMap::new(), |mut m, r| {
                let e = m
                    .entry(r[5].as_str())
                    .or_insert((r[0].as_str(), r[3].as_str()));
                if r[0].as_str() < e.0 {
                    *e = (r[0].as_str(), r[3].as_str());
                }
                m
            })
            .into_iter()
            .map(|(k, (_, v))| (k, v))
            .collect();
        assert_eq!(
            funders.len(),
            members.len(),
            "{}: every member is funded",
            f.id
        );
        let swaps = |a: &str| -> Vec<(String, String)> {
            by_addr[a]
                .iter()
                .filter(|r| r[4] == "swap" && r[7] == "ETH")
                .map(|r| (r[6].clone(), r[8].clone()))
                .collect()
        };
        match f.style {
            FarmStyle::Star => {
                let fu = f.funder.as_deref().unwrap();
                assert!(funders.values().all(|&x| x == fu), "{}: star", f.id);
                assert_eq!(kind_of[fu].kind, "farm_funder");
                // Lockstep: identical swaps (amount, program) for every member.
                let first = swaps(members[0]);
                assert!(
                    members.iter().all(|m| swaps(m) == first),
                    "{}: lockstep",
                    f.id
                );
            }
            FarmStyle::Exchange => {
                assert!(
                    funders.values().all(|x| hubs.contains(x)),
                    "{}: via exchange",
                    f.id
                );
                let first = swaps(members[0]);
                assert!(
                    members.iter().all(|m| swaps(m) == first),
                    "{}: lockstep",
                    f.id
                );
            }
            FarmStyle::Chain => {
                let chained = funders.values().filter(|x| members.contains(x)).count();
                assert_eq!(chained, members.len() - 1, "{}: a chain", f.id);
            }
            FarmStyle::Stealth => {
                let fu = f.funder.as_deref().unwrap();
                assert!(funders.values().all(|&x| x == fu), "{}: one funder", f.id);
                let amounts: HashSet<&str> = w
                    .rows
                    .iter()
                    .filter(|r| r[3] == fu && r[4] == "transfer")
                    .map(|r| r[6].as_str())
                    .collect();
                assert!(
                    amounts.len() > members.len() / 2,
                    "{}: jittered amounts",
                    f.id
                );
            }
        }
        // Everyone sweeps somewhere: a collector or the exchange.
        for m in &members {
            assert!(
                by_addr[m].iter().any(|r| r[4] == "transfer"
                    && (Some(r[5].as_str()) == f.collector.as_deref()
                        || r[5] == f.exchange
                        || members.contains(&r[5].as_str()))),
                "{}: {m} passes money on",
                f.id
            );
        }
    }
}

#[test]
fn organic_users_cover_the_eleven_steps_with_a_heavy_tail() {
    let w = world();
    let organic: HashSet<&str> = w
        .truth
        .iter()
        .filter(|t| t.label == Label::Organic)
        .map(|t| t.address.as_str())
        .collect();
    let mut per_step = [0u64; 11];
    let mut counts: HashMap<&str, u64> = HashMap::new();
    let mut masks: HashMap<&str, u16> = HashMap::new();
    for r in &w.rows {
        if organic.contains(r[3].as_str()) {
            *counts.entry(&r[3]).or_default() += 1;
            *masks.entry(&r[3]).or_default() |= steps::steps_of(&r[1], &r[4]);
        }
    }
    for m in masks.values() {
        for (s, c) in per_step.iter_mut().enumerate() {
            if m & (1 << s) != 0 {
                *c += 1;
            }
        }
    }
    for (s, c) in per_step.iter().enumerate() {
        assert!(*c >= 20, "step {} done by only {c} organic wallets", s + 1);
    }
    // Random subsets: a clear spread of step counts.
    let distinct: BTreeSet<u32> = masks.values().map(|m| m.count_ones()).collect();
    assert!(distinct.len() >= 8, "{distinct:?}");
    assert!(masks.values().any(|m| m.count_ones() == 11));
    assert_eq!(counts.len(), organic.len(), "every organic wallet acts");

    let mut v: Vec<u64> = counts.values().copied().collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = v.iter().sum();
    let top = v.len() / 100;
    let share = v[..top].iter().sum::<u64>() as f64 / total as f64;
    assert!(share > 0.08, "top 1% hold {share:.3} of organic events");
    let median = v[v.len() / 2];
    let mean = total as f64 / v.len() as f64;
    assert!(mean > 1.5 * median as f64, "mean {mean} vs median {median}");
    let avg = w.summary.events as f64 / WALLETS as f64;
    assert!((35.0..70.0).contains(&avg), "{avg} events per wallet");
    // Friends and multi-wallet owners exist and are organic.
    for k in ["friend", "multi_wallet_owner", "organic"] {
        assert!(w.summary.by_kind[k] > 0, "{k}");
    }
}

#[test]
fn parquet_holds_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let c = cfg(300, 11, 2);
    let csv = simulate(&c, &dir.path().join("csv")).unwrap();
    let pq = simulate(
        &SimConfig {
            format: OutputFormat::Parquet,
            ..c
        },
        &dir.path().join("pq"),
    )
    .unwrap();
    assert_eq!(csv.events, pq.events);
    let text = std::fs::read_to_string(&csv.files.events).unwrap();
    let mut lines = text.lines().skip(1);
    let mut n = 0;
    for batch in fairdrop_table::EventReader::open(&pq.files.events).unwrap() {
        let b = batch.unwrap();
        for i in 0..b.len() {
            let r = b.row(i);
            let o = |x: Option<&str>| x.unwrap_or("").to_string();
            let line = [
                format_timestamp(r.timestamp),
                r.chain.to_string(),
                o(r.tx_id),
                r.address.to_string(),
                r.action.to_string(),
                o(r.counterparty),
                o(r.amount),
                o(r.asset),
                o(r.program),
            ]
            .join(",");
            assert_eq!(Some(line.as_str()), lines.next());
            n += 1;
        }
    }
    assert_eq!(n, csv.events);
    assert_eq!(
        std::fs::read(&csv.files.truth).unwrap(),
        std::fs::read(&pq.files.truth).unwrap()
    );
}

#[test]
fn bad_config_is_refused_and_tiny_worlds_work() {
    let dir = tempfile::tempdir().unwrap();
    assert!(simulate(&cfg(0, 1, 1), dir.path()).is_err());
    let bad_snapshot = SimConfig {
        snapshot: 0,
        ..cfg(10, 1, 1)
    };
    assert!(simulate(&bad_snapshot, dir.path()).is_err());
    for n in [1, 7, 50] {
        let s = simulate(&cfg(n, 3, 2), &dir.path().join(n.to_string())).unwrap();
        assert_eq!(s.wallets, n);
        assert_eq!(
            s.by_label["organic"] + s.by_label["sybil"],
            n,
            "{n}: every wallet labelled"
        );
    }
    assert_eq!("parquet".parse::<OutputFormat>(), Ok(OutputFormat::Parquet));
    assert!("xml".parse::<OutputFormat>().is_err());
}

/// FNV-1a, 64-bit.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The bytes of a small world are pinned: a change here changes every simulated world, so it
/// must be deliberate (update the constants and say so in the commit).
#[test]
fn output_is_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let s = simulate(&cfg(200, 42, 2), dir.path()).unwrap();
    let got = [
        fnv(&std::fs::read(&s.files.events).unwrap()),
        fnv(&std::fs::read(&s.files.truth).unwrap()),
        fnv(&std::fs::read(&s.files.hubs).unwrap()),
    ];
    assert_eq!(
        got,
        [0xde5d850aeeee4935, 0x4ea1ebd9ebe2cf4f, 0xf7ad4bec2fa0394d],
        "pinned hashes (events, truth, hubs) changed: {got:#018x?}"
    );
}
