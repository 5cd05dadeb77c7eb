//! Shared by `examples/sim_eval.rs` and `tests/sim.rs`: load a world written by
//! `fairdrop simulate` (events.csv, hubs.txt, truth.csv) into a [`SybilInput`] the way the
//! pipeline's sybil stage builds it, and score a report against the simulator's truth.
//!
//! Truth is read only to score: nothing here feeds a label into the detector.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use fairdrop_core::event::parse_timestamp;
use fairdrop_core::Address;
use fairdrop_sybil::input::{FxMap, SybilInput, WalletId};
use fairdrop_sybil::Report;

pub struct World {
    pub input: SybilInput,
    /// Truth per wallet id: (label, kind); wallets absent from truth.csv (EVM counterparties)
    /// have none.
    pub truth: Vec<Option<(String, String)>>,
    /// Farm of each sybil wallet (`farm_id` in truth.csv), by wallet id.
    pub farm: Vec<Option<u32>>,
    /// Members of each farm, by farm index.
    pub farm_sizes: Vec<usize>,
    /// Wallets that passed the campaign's gates (from a run's wallets.csv), if given.
    pub gated: Option<Vec<WalletId>>,
}

fn lines(path: &Path) -> impl Iterator<Item = String> {
    let f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::with_capacity(1 << 20, f)
        .lines()
        .map_while(Result::ok)
        .skip(1)
}

/// Load `dir/events.csv`, `dir/hubs.txt`, `dir/truth.csv`, and if `run` is given the
/// wallets that passed the gates from `run/wallets.csv` (no `gate.` / `excluded.` reason).
pub fn load(dir: &Path, run: Option<&Path>) -> World {
    let mut input = SybilInput::new();
    let mut cache: FxMap<String, WalletId> = FxMap::default();
    let mut id = |input: &mut SybilInput, s: &str| -> WalletId {
        if let Some(&i) = cache.get(s) {
            return i;
        }
        let a = Address::parse_trusted(s).unwrap_or_else(|e| panic!("bad address {s}: {e}"));
        let i = input.wallet(a);
        cache.insert(s.to_string(), i);
        i
    };
    for line in lines(&dir.join("events.csv")) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 9 {
            panic!("bad events row {line}");
        }
        let ts = parse_timestamp(f[0]).unwrap_or_else(|e| panic!("{e}"));
        let w = id(&mut input, f[3]);
        let cp = if f[5].is_empty() {
            None
        } else {
            Some(id(&mut input, f[5]))
        };
        let amount = f[6].parse::<u128>().ok();
        let nz = |s: &str| {
            if s.is_empty() {
                None
            } else {
                Some(s.to_string())
            }
        };
        input.add_record(
            w,
            ts,
            f[4],
            cp,
            amount,
            nz(f[7]).as_deref(),
            nz(f[8]).as_deref(),
        );
    }
    let hubs = std::fs::read_to_string(dir.join("hubs.txt")).expect("hubs.txt");
    for l in hubs.lines().map(str::trim) {
        if !l.is_empty() && !l.starts_with('#') {
            let h = id(&mut input, l);
            input.hubs.push(h);
        }
    }
    let mut truth_rows = Vec::new();
    for line in lines(&dir.join("truth.csv")) {
        let f: Vec<&str> = line.split(',').collect();
        let w = id(&mut input, f[0]);
        truth_rows.push((w, f[1].to_string(), f[3].to_string(), f[2].to_string()));
    }
    let gated = run.map(|r| {
        let mut v = Vec::new();
        let f = File::open(r.join("wallets.csv")).expect("wallets.csv");
        let mut rd = csv_lines(BufReader::new(f));
        rd.next();
        for rec in rd {
            let reasons = rec.get(4).cloned().unwrap_or_default();
            let out = reasons
                .split(';')
                .any(|c| c.starts_with("gate.") || c.starts_with("excluded."));
            if !out {
                v.push(id(&mut input, &rec[0]));
            }
        }
        v
    });
    let mut truth = vec![None; input.n_wallets()];
    let mut farm = vec![None; input.n_wallets()];
    let mut farm_ids: BTreeMap<String, u32> = BTreeMap::new();
    let mut farm_sizes = Vec::new();
    for (w, l, k, f) in truth_rows {
        if l == "sybil" && !f.is_empty() {
            let next = farm_ids.len() as u32;
            let id = *farm_ids.entry(f).or_insert(next);
            if id as usize == farm_sizes.len() {
                farm_sizes.push(0);
            }
            farm_sizes[id as usize] += 1;
            farm[w as usize] = Some(id);
        }
        truth[w as usize] = Some((l, k));
    }
    World {
        input,
        truth,
        farm,
        farm_sizes,
        gated,
    }
}

/// Minimal CSV record reader (quoted fields with doubled quotes), enough for wallets.csv.
fn csv_lines(r: impl BufRead) -> impl Iterator<Item = Vec<String>> {
    let mut it = r.lines().map_while(Result::ok);
    std::iter::from_fn(move || {
        let mut line = it.next()?;
        while line.matches('"').count() % 2 == 1 {
            match it.next() {
                Some(more) => {
                    line.push('\n');
                    line.push_str(&more);
                }
                None => break,
            }
        }
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut q = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, q) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => q = !q,
                (',', false) => out.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        out.push(cur);
        Some(out)
    })
}

/// Figures of one run against the truth.
#[derive(Debug, Default)]
pub struct Figures {
    pub tp: u64,
    pub fp: u64,
    pub fneg: u64,
    pub precision: f64,
    pub recall: f64,
    /// kind → (flagged, total) among evaluated wallets.
    pub by_kind: BTreeMap<String, (u64, u64)>,
    /// Honest wallets sharing an exchange funder, a friend group or an owner:
    /// (flagged, total).
    pub shared_honest: (u64, u64),
    /// Farm size band (members in truth.csv) → (flagged, total) among evaluated members.
    pub by_size: BTreeMap<(usize, &'static str), (u64, u64)>,
    /// Style → (farms with an evaluated member flagged, farms with an evaluated member).
    pub farms_touched: BTreeMap<String, (u64, u64)>,
}

/// The farm size band of a farm of `n` members: (its smallest size, its name).
pub fn size_band(n: usize) -> (usize, &'static str) {
    match n {
        0..=4 => (1, "1-4"),
        5..=9 => (5, "5-9"),
        10..=19 => (10, "10-19"),
        20..=49 => (20, "20-49"),
        50..=99 => (50, "50-99"),
        _ => (100, "100+"),
    }
}

impl Figures {
    /// Recall among evaluated members of farms of at least `min` members.
    pub fn size_recall(&self, min: usize, max: usize) -> f64 {
        let (f, t) = self
            .by_size
            .iter()
            .filter(|((lo, _), _)| *lo >= min && *lo <= max)
            .fold((0, 0), |a, (_, &(f, t))| (a.0 + f, a.1 + t));
        f as f64 / t.max(1) as f64
    }
}

impl Figures {
    pub fn shared_fp_rate(&self) -> f64 {
        self.shared_honest.0 as f64 / self.shared_honest.1.max(1) as f64
    }
    pub fn kind_recall(&self, k: &str) -> f64 {
        self.by_kind
            .get(k)
            .map(|&(f, t)| f as f64 / t.max(1) as f64)
            .unwrap_or(0.0)
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "precision {:.4} recall {:.4} (tp {} fp {} fn {}); FP among shared-funder/friend/owner honest {:.4} ({}/{})",
            self.precision,
            self.recall,
            self.tp,
            self.fp,
            self.fneg,
            self.shared_fp_rate(),
            self.shared_honest.0,
            self.shared_honest.1
        )?;
        for (k, (fl, t)) in &self.by_kind {
            writeln!(
                f,
                "  {k:<20} {fl:>7}/{t:<7} flagged ({:.4})",
                *fl as f64 / (*t).max(1) as f64
            )?;
        }
        for ((_, b), (fl, t)) in &self.by_size {
            writeln!(
                f,
                "  farms of {b:<11} {fl:>7}/{t:<7} members flagged ({:.4})",
                *fl as f64 / (*t).max(1) as f64
            )?;
        }
        for (k, (touched, t)) in &self.farms_touched {
            writeln!(
                f,
                "  {k:<20} {touched:>7}/{t:<7} farms with a member flagged ({:.4})",
                *touched as f64 / (*t).max(1) as f64
            )?;
        }
        Ok(())
    }
}

/// Score `report` over the wallets in `eval` (truth kinds hub are skipped).
pub fn figures(world: &World, report: &Report, eval: &[WalletId]) -> Figures {
    let input = &world.input;
    let n = input.n_wallets();
    let flagged = report.sybil_mask(n);
    // Honest wallets whose first funder is an exchange hot wallet.
    let mut exchange = vec![false; n];
    for (i, t) in world.truth.iter().enumerate() {
        if let Some((_, k)) = t {
            if k == "exchange" {
                exchange[i] = true;
            }
        }
    }
    let (funder, _) = fairdrop_sybil::graph::funder_and_sweep(input);
    let mut fg = Figures::default();
    // Farm index → (style, any member flagged).
    let mut farms: BTreeMap<u32, (String, bool)> = BTreeMap::new();
    for &w in eval {
        let Some((label, kind)) = &world.truth[w as usize] else {
            continue;
        };
        if label == "hub" {
            continue;
        }
        let f = flagged[w as usize];
        let e = fg.by_kind.entry(kind.clone()).or_default();
        e.0 += f as u64;
        e.1 += 1;
        if label == "sybil" {
            if f {
                fg.tp += 1;
            } else {
                fg.fneg += 1;
            }
            if let Some(id) = world.farm[w as usize] {
                let b = fg
                    .by_size
                    .entry(size_band(world.farm_sizes[id as usize]))
                    .or_default();
                b.0 += f as u64;
                b.1 += 1;
                let e = farms.entry(id).or_insert((kind.clone(), false));
                e.1 |= f;
            }
        } else {
            if f {
                fg.fp += 1;
            }
            let shared = kind == "friend"
                || kind == "multi_wallet_owner"
                || (kind == "organic" && funder[w as usize].is_some_and(|x| exchange[x as usize]));
            if shared {
                fg.shared_honest.0 += f as u64;
                fg.shared_honest.1 += 1;
            }
        }
    }
    for (style, touched) in farms.into_values() {
        let e = fg.farms_touched.entry(style).or_default();
        e.0 += touched as u64;
        e.1 += 1;
    }
    fg.precision = fg.tp as f64 / (fg.tp + fg.fp).max(1) as f64;
    fg.recall = fg.tp as f64 / (fg.tp + fg.fneg).max(1) as f64;
    fg
}

/// Every wallet in truth.csv that is not a hub.
pub fn all_wallets(world: &World) -> Vec<WalletId> {
    (0..world.input.n_wallets() as WalletId)
        .filter(|&w| {
            world.truth[w as usize]
                .as_ref()
                .is_some_and(|(l, _)| l != "hub")
        })
        .collect()
}
