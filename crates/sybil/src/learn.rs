//! The learned detector: a gradient-boosted model ([`crate::gbm`]) over per-candidate graph
//! features ([`crate::features`]), trained on wallets an operator has already reviewed.
//!
//! # What it is for
//! Rules see one pattern at a time; a reviewer's verdicts show how the patterns combine on a
//! given chain (a big component is damning, unless most of it is exchange customers; a
//! shared deposit address matters more than a shared contract...). `fairdrop sybil-train`
//! learns that from labelled wallets (`address,label`, as from a manual review of a sample);
//! `fairdrop sybil --model` then flags the wallets whose probability reaches the model's
//! threshold. The rule detector still runs first: its verdict is one of the features, and its
//! clusters, signals and evidence are kept for the wallets the model confirms.
//!
//! # How it is trained
//! 1. Features of every candidate; the labelled ones are the training rows (labels name
//!    wallets only to say which rows to learn from; no feature reads an address).
//! 2. Five folds by address hash: each fold is predicted by a model trained on the other four,
//!    and the threshold is the one that maximises F1 on those out-of-fold predictions
//!    (so the threshold is chosen on wallets the model did not see).
//! 3. The final model is trained on every labelled row. The file keeps the threshold, the
//!    settings and the out-of-fold figures, so a model states how well it did.
//!
//! # Verdicts
//! A flagged wallet inside a rule cluster stays in that cluster (same id, signals plus
//! `learned`); the others are grouped by their hub-free component. A cluster's score is the
//! mean probability of its members; actions and appeals work as for the rule detector
//! (appeals always win). [`reasons`] lists the features that pushed a wallet's probability up
//! most, for the `--reasons` file a wallet owner can appeal against.
//!
//! # Measured on Hop
//! Dev labels split in halves by address hash, trained on one half and scored on the other
//! (`tests/hop.rs`): see `docs/benchmarks.md`.

use std::collections::BTreeMap;
use std::path::Path;

use fairdrop_core::Address;
use serde::{Deserialize, Serialize};

use crate::detect::{cluster_id_of, Action, Appeals, Cluster, Config, Report, Signal};
use crate::detect::{Evidence, WalletVerdict};
use crate::error::SybilError;
use crate::eval::{address_hash, Scores};
use crate::features::Features;
use crate::gbm::{self, GbmError, Model, Params};
use crate::input::{SybilInput, WalletId};
use crate::load::Label;

/// The model file's format tag.
pub const FORMAT: &str = "fairdrop-sybil-model/1";

/// Folds of the cross-validation that picks the threshold.
pub const FOLDS: u64 = 5;

/// How the model did on its own training labels, out of fold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainedOn {
    pub rows: usize,
    pub sybil: usize,
    pub clean: usize,
    pub folds: u64,
    pub cv_precision: f64,
    pub cv_recall: f64,
    pub cv_f1: f64,
}

/// A model file: the trees, the threshold and how they were made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnedModel {
    pub format: String,
    /// Which rule detector gave the `rule_*` features at training: `edges` ([`Config::default`],
    /// plain `from,to` lists) or `events` ([`Config::for_events`], canonical events, as in
    /// `fairdrop run`). A model is applied with the same one.
    #[serde(default = "edges")]
    pub rules: String,
    /// Wallets with a probability at least this are flagged.
    pub threshold: f64,
    pub params: Params,
    pub trained_on: TrainedOn,
    pub model: Model,
}

fn edges() -> String {
    RULES_EDGES.into()
}

/// [`LearnedModel::rules`] for edge lists.
pub const RULES_EDGES: &str = "edges";
/// [`LearnedModel::rules`] for canonical events.
pub const RULES_EVENTS: &str = "events";

/// Check that `m` can be applied here: the rules it was trained beside, and the features
/// these inputs give (see [`crate::features::names`]).
pub fn check_fit(m: &LearnedModel, rules: &str, names: &[String]) -> Result<(), String> {
    if m.rules != rules {
        return Err(format!(
            "the model was trained beside the `{}` rules, these inputs use the `{rules}` rules \
             (train it on the same kind of input)",
            m.rules
        ));
    }
    if m.model.features != names {
        let missing: Vec<&str> = m
            .model
            .features
            .iter()
            .filter(|n| !names.contains(n))
            .map(|s| s.as_str())
            .collect();
        let extra: Vec<&str> = names
            .iter()
            .filter(|n| !m.model.features.contains(n))
            .map(|s| s.as_str())
            .collect();
        return Err(format!(
            "the model reads other features than these inputs give (missing: [{}]; not in the \
             model: [{}]); give the same hub lists (by file name) as at training",
            missing.join(", "),
            extra.join(", ")
        ));
    }
    Ok(())
}

fn fold_of(a: &Address) -> u64 {
    (address_hash(a) >> 8) % FOLDS
}

/// Indices of the feature rows that have a label (and pass `include`), with the labels.
fn labelled_rows(
    f: &Features,
    input: &SybilInput,
    labels: &[(Address, Label)],
    include: &dyn Fn(&Address) -> bool,
) -> (Vec<usize>, Vec<bool>) {
    let mut sorted: Vec<&(Address, Label)> = labels.iter().collect();
    sorted.sort_by_key(|x| x.0);
    let (mut idx, mut y) = (Vec::new(), Vec::new());
    for (i, &w) in f.wallets.iter().enumerate() {
        let a = input.wallets.address(w);
        if !include(a) {
            continue;
        }
        if let Ok(k) = sorted.binary_search_by(|x| x.0.cmp(a)) {
            idx.push(i);
            y.push(sorted[k].1 == Label::Sybil);
        }
    }
    (idx, y)
}

/// Confusion counts at `threshold`: (tp, fp, fn).
fn counts(p: &[f64], y: &[bool], threshold: f64) -> (u64, u64, u64) {
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    for (&q, &l) in p.iter().zip(y) {
        match (q >= threshold, l) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fneg += 1,
            (false, false) => {}
        }
    }
    (tp, fp, fneg)
}

/// Train on the labelled candidates that `include` accepts (`|_| true` for all of them).
pub fn train(
    f: &Features,
    input: &SybilInput,
    labels: &[(Address, Label)],
    params: &Params,
    include: &dyn Fn(&Address) -> bool,
) -> Result<LearnedModel, GbmError> {
    let (idx, y) = labelled_rows(f, input, labels, include);
    let rows: Vec<Vec<f64>> = idx.iter().map(|&i| f.rows[i].clone()).collect();
    let fold: Vec<u64> = idx
        .iter()
        .map(|&i| fold_of(input.wallets.address(f.wallets[i])))
        .collect();
    // Out-of-fold probabilities.
    let mut oof = vec![0.0; rows.len()];
    for k in 0..FOLDS {
        let (mut tr_x, mut tr_y) = (Vec::new(), Vec::new());
        for (j, r) in rows.iter().enumerate() {
            if fold[j] != k {
                tr_x.push(r.clone());
                tr_y.push(y[j]);
            }
        }
        let m = gbm::train(&tr_x, &tr_y, f.names.clone(), params)?;
        for (j, r) in rows.iter().enumerate() {
            if fold[j] == k {
                oof[j] = m.predict(r);
            }
        }
    }
    // The threshold with the best out-of-fold F1 (ties: the higher threshold).
    let mut best = (0.5, (0.0, 0.0, -1.0));
    for t in 5..=95 {
        let t = t as f64 / 100.0;
        let (tp, fp, fneg) = counts(&oof, &y, t);
        let s = Scores::from_counts(tp, fp, fneg, 0);
        if s.f1 >= best.1 .2 {
            best = (t, (s.precision, s.recall, s.f1));
        }
    }
    let model = gbm::train(&rows, &y, f.names.clone(), params)?;
    let sybil = y.iter().filter(|&&b| b).count();
    Ok(LearnedModel {
        format: FORMAT.into(),
        rules: RULES_EDGES.into(),
        threshold: best.0,
        params: params.clone(),
        trained_on: TrainedOn {
            rows: rows.len(),
            sybil,
            clean: rows.len() - sybil,
            folds: FOLDS,
            cv_precision: best.1 .0,
            cv_recall: best.1 .1,
            cv_f1: best.1 .2,
        },
        model,
    })
}

/// Every feature row's probability. The model must read exactly the features given (same
/// names, same order: the same hub list names).
pub fn probabilities(m: &LearnedModel, f: &Features) -> Result<Vec<f64>, String> {
    check_fit(m, &m.rules, &f.names)?;
    Ok(f.rows.iter().map(|r| m.model.predict(r)).collect())
}

/// The `k` features that raised a row's log-odds most: (name, value, contribution).
pub fn reasons(m: &Model, row: &[f64], k: usize) -> Vec<(String, f64, f64)> {
    let (_, parts) = m.contributions(row);
    let mut v: Vec<(usize, f64)> = parts
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, c)| c > 0.0)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter()
        .take(k)
        .map(|(i, c)| (m.features[i].clone(), row.get(i).copied().unwrap_or(0.0), c))
        .collect()
}

/// The report of the learned detector: wallets with probability ≥ `threshold` are flagged,
/// in their rule cluster if they had one, otherwise grouped by hub-free component.
pub fn apply(
    report: &Report,
    input: &SybilInput,
    f: &Features,
    probs: &[f64],
    threshold: f64,
    cfg: &Config,
    appeals: &Appeals,
) -> Report {
    let addr = |w: WalletId| *input.wallets.address(w);
    let mut rule: BTreeMap<WalletId, &WalletVerdict> = BTreeMap::new();
    for v in &report.verdicts {
        rule.insert(v.wallet, v);
    }
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Rule(usize),
        Component(WalletId),
    }
    let mut groups: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (i, &w) in f.wallets.iter().enumerate() {
        if probs[i] >= threshold {
            let key = match rule.get(&w) {
                Some(v) => Key::Rule(v.cluster),
                None => Key::Component(f.component[i]),
            };
            groups.entry(key).or_default().push(i);
        }
    }
    let cleared_addr: std::collections::BTreeSet<Address> =
        appeals.addresses.iter().copied().collect();
    let cleared_ids: std::collections::BTreeSet<&str> =
        appeals.cluster_ids.iter().map(|s| s.as_str()).collect();
    let mut clusters = Vec::new();
    let mut verdicts = Vec::new();
    for (key, rows) in groups {
        // Rows are in address order already (features are sorted by address).
        let members: Vec<WalletId> = rows.iter().map(|&i| f.wallets[i]).collect();
        let (id, evidence, mut signals) = match key {
            Key::Rule(c) => {
                let rc: &Cluster = &report.clusters[c];
                (rc.id.clone(), rc.evidence.clone(), rc.signals.clone())
            }
            Key::Component(_) => (
                cluster_id_of(&addr(members[0])),
                Evidence::default(),
                Vec::new(),
            ),
        };
        signals.push(Signal::Learned);
        signals.sort();
        signals.dedup();
        let score = rows.iter().map(|&i| probs[i]).sum::<f64>() / rows.len() as f64;
        let action = cfg.actions.for_cluster(&id, score, &cleared_ids);
        let ci = clusters.len();
        for &w in &members {
            let mut s = rule.get(&w).map(|v| v.signals.clone()).unwrap_or_default();
            s.push(Signal::Learned);
            s.sort();
            s.dedup();
            let action = if cleared_addr.contains(&addr(w)) {
                Action::Cleared
            } else {
                action
            };
            verdicts.push(WalletVerdict {
                wallet: w,
                cluster: ci,
                signals: s,
                action,
            });
        }
        clusters.push(Cluster {
            id,
            members,
            signals,
            score,
            action,
            evidence,
        });
    }
    verdicts.sort_by_key(|v| addr(v.wallet));
    Report {
        clusters,
        verdicts,
        stats: report.stats.clone(),
    }
}

/// `address,probability,reasons` for every flagged wallet (sorted by address): the top
/// features behind each verdict as `name=value(+contribution)` joined by `|`.
pub fn reasons_csv(m: &LearnedModel, input: &SybilInput, f: &Features, probs: &[f64]) -> String {
    let mut rows: Vec<(Address, String)> = Vec::new();
    for (i, &w) in f.wallets.iter().enumerate() {
        if probs[i] < m.threshold {
            continue;
        }
        let rs: Vec<String> = reasons(&m.model, &f.rows[i], 3)
            .into_iter()
            .map(|(n, v, c)| format!("{n}={}(+{c:.2})", short(v)))
            .collect();
        let a = *input.wallets.address(w);
        rows.push((a, format!("{a},{:.4},{}\n", probs[i], rs.join("|"))));
    }
    rows.sort_by_key(|x| x.0);
    let mut out = String::from("address,probability,reasons\n");
    for (_, l) in rows {
        out.push_str(&l);
    }
    out
}

/// A feature value as written in reasons: integers as such, others to 3 decimals.
fn short(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

/// Write a model file atomically (JSON on one line; `jq .` shows it laid out).
pub fn write_model(path: &Path, m: &LearnedModel) -> Result<(), SybilError> {
    let text = serde_json::to_string(m).map_err(|e| SybilError::Model {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    fairdrop_core::fsutil::write_atomic(path, format!("{text}\n").as_bytes()).map_err(|e| {
        SybilError::Write {
            path: path.to_path_buf(),
            source: e,
        }
    })
}

/// Read and check a model file.
pub fn read_model(path: &Path) -> Result<LearnedModel, SybilError> {
    let text = std::fs::read_to_string(path).map_err(|e| SybilError::io(path, e))?;
    let bad = |message: String| SybilError::Model {
        path: path.to_path_buf(),
        message,
    };
    let m: LearnedModel =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a model file: {e}")))?;
    if m.format != FORMAT {
        return Err(bad(format!("format {:?}, expected {FORMAT:?}", m.format)));
    }
    if m.rules != RULES_EDGES && m.rules != RULES_EVENTS {
        return Err(bad(format!(
            "rules {:?}: expected {RULES_EDGES:?} or {RULES_EVENTS:?}",
            m.rules
        )));
    }
    if !(m.threshold > 0.0 && m.threshold < 1.0) {
        return Err(bad(format!("threshold {} is not in (0, 1)", m.threshold)));
    }
    let nf = m.model.features.len() as u32;
    for (t, tree) in m.model.trees.iter().enumerate() {
        let nn = tree.nodes.len() as u32;
        if nn == 0 {
            return Err(bad(format!("tree {t} has no nodes")));
        }
        for (i, n) in tree.nodes.iter().enumerate() {
            let leaf = n.feature == u32::MAX;
            // Children come after their parent, so every walk ends.
            let ok = leaf
                || (n.feature < nf
                    && n.left < nn
                    && n.right < nn
                    && n.left as usize > i
                    && n.right as usize > i);
            if !ok || !n.value.is_finite() || n.threshold.is_nan() {
                return Err(bad(format!("tree {t}, node {i} is malformed")));
            }
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::detect;
    use crate::features::features;

    fn addr(i: u16) -> Address {
        let mut b = [0u8; 20];
        b[..2].copy_from_slice(&i.to_be_bytes());
        b[19] = 1;
        Address::Evm(b)
    }

    /// Farms of 6 candidates around one funder (below the rule detector's 8), and honest
    /// candidates paid by an exchange or by nobody. Labels say which are which.
    fn world() -> (SybilInput, Vec<(Address, Label)>) {
        let mut inp = SybilInput::new();
        let mut labels = Vec::new();
        let mut next = 1u16;
        for farm in 0..40u16 {
            let funder = addr(30_000 + farm);
            for _ in 0..6 {
                let w = addr(next);
                next += 1;
                inp.add_edge(funder, w);
                inp.add_candidate(w);
                labels.push((w, Label::Sybil));
            }
        }
        inp.add_hub(addr(40_000));
        for i in 0..400u16 {
            let w = addr(next);
            next += 1;
            if i % 2 == 0 {
                inp.add_edge(addr(40_000), w);
            }
            if i % 10 == 0 {
                // Pairs of friends.
                inp.add_edge(w, addr(next));
            }
            inp.add_candidate(w);
            labels.push((w, Label::Clean));
        }
        (inp, labels)
    }

    fn small() -> Params {
        Params {
            trees: 40,
            learning_rate: 0.2,
            min_leaf: 5,
            ..Params::default()
        }
    }

    #[test]
    fn learns_small_farms_the_rules_miss_and_writes_them_with_reasons() {
        let (inp, labels) = world();
        let rep = detect(&inp, &Config::default(), &Appeals::default());
        assert!(
            rep.verdicts.is_empty(),
            "farms of 6 are below the rule minimum"
        );
        let f = features(&inp, &rep, &[]);
        let m = train(&f, &inp, &labels, &small(), &|_| true).unwrap();
        assert!(m.trained_on.cv_f1 > 0.99, "{:?}", m.trained_on);
        assert_eq!(m.trained_on.rows, 640);
        let p = probabilities(&m, &f).unwrap();
        let out = apply(
            &rep,
            &inp,
            &f,
            &p,
            m.threshold,
            &Config::default(),
            &Appeals::default(),
        );
        assert_eq!(out.verdicts.len(), 240);
        assert_eq!(out.clusters.len(), 40);
        assert!(out
            .clusters
            .iter()
            .all(|c| c.members.len() == 6 && c.signals == vec![Signal::Learned]));
        let csv = crate::output::clusters_csv(&out, &inp.wallets);
        assert!(csv.lines().nth(1).unwrap().contains(",6,learned,"), "{csv}");
        let why = reasons_csv(&m, &inp, &f, &p);
        assert_eq!(why.lines().count(), 241);
        assert!(
            why.lines()
                .nth(1)
                .unwrap()
                .contains(",component_candidates=6(+"),
            "{why}"
        );
    }

    #[test]
    fn appeals_win_over_the_model() {
        let (inp, labels) = world();
        let rep = detect(&inp, &Config::default(), &Appeals::default());
        let f = features(&inp, &rep, &[]);
        let m = train(&f, &inp, &labels, &small(), &|_| true).unwrap();
        let p = probabilities(&m, &f).unwrap();
        let appeals = Appeals {
            addresses: vec![addr(1)],
            cluster_ids: vec![cluster_id_of(&addr(7))],
        };
        let out = apply(
            &rep,
            &inp,
            &f,
            &p,
            m.threshold,
            &Config::default(),
            &appeals,
        );
        let action = |a: Address| {
            let w = inp.wallets.get(&a).unwrap();
            out.verdicts.iter().find(|v| v.wallet == w).unwrap().action
        };
        assert_eq!(action(addr(1)), Action::Cleared);
        assert_eq!(action(addr(2)), Action::Exclude);
        for i in 7..=12 {
            assert_eq!(action(addr(i)), Action::Cleared);
        }
    }

    #[test]
    fn model_files_round_trip_and_bad_ones_are_refused() {
        let (inp, labels) = world();
        let rep = detect(&inp, &Config::default(), &Appeals::default());
        let f = features(&inp, &rep, &[]);
        let m = train(&f, &inp, &labels, &small(), &|_| true).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        write_model(&path, &m).unwrap();
        assert_eq!(read_model(&path).unwrap(), m);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(FORMAT, "other/1")).unwrap();
        let e = read_model(&path).unwrap_err().to_string();
        assert!(e.contains("model.json") && e.contains("format"), "{e}");
        let mut bad = m.clone();
        bad.model.trees[0].nodes[0].feature = 0;
        bad.model.trees[0].nodes[0].left = 0;
        write_model(&path, &bad).unwrap();
        let e = read_model(&path).unwrap_err().to_string();
        assert!(e.contains("tree 0, node 0 is malformed"), "{e}");
        // Other hub lists than at training: refused, naming the features.
        let lists = vec![crate::features::HubList {
            name: "exchange".into(),
            wallets: vec![],
        }];
        let f2 = features(&inp, &rep, &lists);
        let e = probabilities(&m, &f2).unwrap_err();
        assert!(e.contains("hub_share:exchange"), "{e}");
        let e = check_fit(&m, RULES_EVENTS, &f.names).unwrap_err();
        assert!(e.contains("`edges` rules"), "{e}");
        assert_eq!(check_fit(&m, RULES_EDGES, &f.names), Ok(()));
    }
}
