//! Per-candidate graph features for the learned detector ([`crate::learn`]).
//!
//! Each candidate gets one row of numbers, all read from the same inputs the rule detector
//! reads (transfers, hub lists, the allow list, the candidate set) plus the rule detector's
//! own verdict. Nothing in a row depends on a label or on an address's spelling, so a model
//! trained on one set of reviewed wallets applies to the others.
//!
//! The graph: every transfer is an edge; a *hub* is a wallet a hub list names and the allow
//! list does not. The hub-free graph keeps the edges between non-hubs; a wallet's *hub
//! neighbours* are the hubs it exchanged value with. Columns, in order ([`Features::names`]):
//!
//! | name | meaning |
//! |---|---|
//! | `rule_flag`, `rule_cluster_size`, `rule_score` | the rule detector's verdict: flagged (1/0), its cluster's candidates, the cluster score |
//! | `sent`, `received`, `to_self` | transfer rows out, in (to other wallets) and to itself |
//! | `degree` | distinct neighbours in the hub-free graph |
//! | `hub_degree` | distinct hub neighbours |
//! | `allowed` | on the allow list |
//! | `listed:L` | on hub list `L` (one column per list, named by the list file's stem) |
//! | `hub_nb:L` | hub neighbours from list `L` |
//! | `hub_share:L` | the most candidates that share one of those hub neighbours |
//! | `source:S` | transfer rows (in or out) from transfer files named `S` (none for event input) |
//! | `component_candidates`, `component_wallets` | size of its hub-free component, in candidates and in wallets |
//! | `candidate_neighbours` | neighbours that are candidates |
//! | `candidates_2hop` | other candidates two steps away through a neighbour of degree < 500 |
//! | `star` | the most candidates around one such neighbour |
//! | `component_mean:X` | for every column `X` above: its mean over the candidates of the same hub-free component |
//! | `cluster_mean:X` | its mean over the candidates of the same rule cluster (the component for unflagged wallets) |
//!
//! The two mean blocks give each wallet its context: on Hop they lift the learned
//! detector's F1 (trained on one half of the labels, scored on the other) from about 0.83 to
//! about 0.85.

use crate::detect::Report;
use crate::input::{SybilInput, WalletId};
use crate::unionfind::UnionFind;

/// Neighbours above this degree are not walked through for the two-step features (they act
/// as hubs nobody listed).
pub const WALK_MAX_DEGREE: usize = 500;

/// A named hub list (the file stem, e.g. `deposit_address`) and its wallets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HubList {
    pub name: String,
    pub wallets: Vec<WalletId>,
}

/// The feature table: one row per candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    pub names: Vec<String>,
    /// Candidates, in the order of `rows`, sorted by address.
    pub wallets: Vec<WalletId>,
    pub rows: Vec<Vec<f64>>,
    /// Each row's hub-free component (a wallet id standing for it).
    pub component: Vec<WalletId>,
}

/// Compressed adjacency: `nbrs[start[u]..start[u + 1]]`.
struct Csr {
    start: Vec<usize>,
    nbrs: Vec<u32>,
}

impl Csr {
    fn from_pairs(n: usize, mut pairs: Vec<(u32, u32)>) -> Csr {
        pairs.sort_unstable();
        pairs.dedup();
        let mut start = vec![0usize; n + 1];
        for &(a, _) in &pairs {
            start[a as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        Csr {
            start,
            nbrs: pairs.into_iter().map(|(_, b)| b).collect(),
        }
    }
    fn of(&self, u: u32) -> &[u32] {
        &self.nbrs[self.start[u as usize]..self.start[u as usize + 1]]
    }
}

/// The own columns of a row (before the two mean blocks), for these hub list and transfer
/// source names (each sorted, as [`features`] has them).
fn base_names(lists: &[&str], sources: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = [
        "rule_flag",
        "rule_cluster_size",
        "rule_score",
        "sent",
        "received",
        "to_self",
        "degree",
        "hub_degree",
        "allowed",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for l in lists {
        names.push(format!("listed:{l}"));
        names.push(format!("hub_nb:{l}"));
        names.push(format!("hub_share:{l}"));
    }
    for s in sources {
        names.push(format!("source:{s}"));
    }
    for s in [
        "component_candidates",
        "component_wallets",
        "candidate_neighbours",
        "candidates_2hop",
        "star",
    ] {
        names.push(s.to_string());
    }
    names
}

/// Every column name [`features`] gives for hub lists and transfer sources with these names
/// (known before any data is read, so a model can be checked against a run's inputs early).
pub fn names(lists: &[&str], sources: &[&str]) -> Vec<String> {
    let (mut l, mut s) = (lists.to_vec(), sources.to_vec());
    l.sort_unstable();
    l.dedup();
    s.sort_unstable();
    s.dedup();
    let base = base_names(&l, &s);
    let mut out = base.clone();
    for prefix in ["component_mean", "cluster_mean"] {
        out.extend(base.iter().map(|b| format!("{prefix}:{b}")));
    }
    out
}

/// Compute the features of every candidate (every wallet when `input.candidates` is empty).
pub fn features(input: &SybilInput, report: &Report, lists: &[HubList]) -> Features {
    let n = input.n_wallets();
    let allow = input.mask(&input.allow);
    let mut hub = input.mask(&input.hubs);
    for (h, a) in hub.iter_mut().zip(&allow) {
        *h &= !a;
    }
    let cand = if input.candidates.is_empty() {
        vec![true; n]
    } else {
        input.mask(&input.candidates)
    };
    let in_list: Vec<Vec<bool>> = lists.iter().map(|l| input.mask(&l.wallets)).collect();

    // Transfer sources (files), by name; rows of sources with the same name add up.
    let mut source_names: Vec<&str> = input.sources.iter().map(|(_, s)| s.as_str()).collect();
    source_names.sort_unstable();
    source_names.dedup();
    let mut by_source: Vec<Vec<u32>> = vec![vec![0u32; n]; source_names.len()];
    for (k, (start, name)) in input.sources.iter().enumerate() {
        let end = input
            .sources
            .get(k + 1)
            .map_or(input.transfers.len(), |x| x.0);
        let col = &mut by_source[source_names.binary_search(&name.as_str()).unwrap_or(0)];
        for t in input.transfers.get(*start..end).unwrap_or(&[]) {
            col[t.from as usize] += 1;
            if t.to != t.from {
                col[t.to as usize] += 1;
            }
        }
    }
    let (mut sent, mut received, mut to_self) = (vec![0u32; n], vec![0u32; n], vec![0u32; n]);
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut hub_pairs: Vec<(u32, u32)> = Vec::new();
    let edges = input
        .transfers
        .iter()
        .map(|t| (t.from, t.to))
        .chain(input.links.iter().copied());
    for (a, b) in edges {
        if a == b {
            to_self[a as usize] += 1;
            continue;
        }
        sent[a as usize] += 1;
        received[b as usize] += 1;
        match (hub[a as usize], hub[b as usize]) {
            (false, false) => {
                pairs.push((a, b));
                pairs.push((b, a));
            }
            (false, true) => hub_pairs.push((a, b)),
            (true, false) => hub_pairs.push((b, a)),
            (true, true) => {}
        }
    }
    let g = Csr::from_pairs(n, pairs);
    let hubs_of = Csr::from_pairs(n, hub_pairs);
    // Candidates around each hub.
    let mut hub_cands = vec![0u32; n];
    for u in 0..n as u32 {
        if cand[u as usize] {
            for &h in hubs_of.of(u) {
                hub_cands[h as usize] += 1;
            }
        }
    }
    let mut uf = UnionFind::new(n);
    for u in 0..n as u32 {
        for &v in g.of(u) {
            if u < v {
                uf.union(u, v);
            }
        }
    }
    let root: Vec<u32> = (0..n as u32).map(|u| uf.find(u)).collect();
    let (mut comp_c, mut comp_w) = (vec![0u32; n], vec![0u32; n]);
    for u in 0..n {
        comp_w[root[u] as usize] += 1;
        if cand[u] {
            comp_c[root[u] as usize] += 1;
        }
    }
    let mut rule = vec![None; n];
    let mut rule_cluster = vec![None; n];
    for v in &report.verdicts {
        if v.action.is_sybil() {
            let c = &report.clusters[v.cluster];
            rule[v.wallet as usize] = Some((c.members.len(), c.score));
            rule_cluster[v.wallet as usize] = Some(v.cluster as u32);
        }
    }

    let list_names: Vec<&str> = lists.iter().map(|l| l.name.as_str()).collect();
    let base = base_names(&list_names, &source_names);

    let mut wallets: Vec<WalletId> = (0..n as u32).filter(|&u| cand[u as usize]).collect();
    wallets.sort_by_key(|&w| *input.wallets.address(w));
    let mut seen = vec![u32::MAX; n];
    let mut rows = Vec::with_capacity(wallets.len());
    let mut component = Vec::with_capacity(wallets.len());
    for (k, &w) in wallets.iter().enumerate() {
        let u = w as usize;
        let mut r = Vec::with_capacity(3 * base.len());
        let (size, score) = rule[u].unwrap_or((0, 0.0));
        r.push(if rule[u].is_some() { 1.0 } else { 0.0 });
        r.push(size as f64);
        r.push(score);
        r.push(sent[u] as f64);
        r.push(received[u] as f64);
        r.push(to_self[u] as f64);
        r.push(g.of(w).len() as f64);
        r.push(hubs_of.of(w).len() as f64);
        r.push(if allow[u] { 1.0 } else { 0.0 });
        for m in &in_list {
            let hs = hubs_of.of(w).iter().filter(|&&h| m[h as usize]);
            let (count, share) = hs.fold((0u32, 0u32), |(c, s), &h| {
                (c + 1, s.max(hub_cands[h as usize]))
            });
            r.push(if m[u] { 1.0 } else { 0.0 });
            r.push(count as f64);
            r.push(share as f64);
        }
        for col in &by_source {
            r.push(col[u] as f64);
        }
        r.push(comp_c[root[u] as usize] as f64);
        r.push(comp_w[root[u] as usize] as f64);
        let nb = g.of(w);
        r.push(nb.iter().filter(|&&v| cand[v as usize]).count() as f64);
        let (mut two, mut star) = (0u32, 0u32);
        seen[u] = k as u32;
        for &v in nb {
            let around = g.of(v);
            if around.len() >= WALK_MAX_DEGREE {
                continue;
            }
            let mut c = 0;
            for &z in around {
                if cand[z as usize] {
                    c += 1;
                    if seen[z as usize] != k as u32 {
                        seen[z as usize] = k as u32;
                        two += 1;
                    }
                }
            }
            star = star.max(c);
        }
        r.push(two as f64);
        r.push(star as f64);
        debug_assert_eq!(r.len(), base.len());
        rows.push(r);
        component.push(root[u]);
    }
    // Means over the candidates of the same hub-free component, and of the same rule
    // cluster (the component for unflagged ones): the context of each wallet.
    let width = base.len();
    let mut names = base.clone();
    let comp_key: Vec<(u8, u32)> = component.iter().map(|&c| (0, c)).collect();
    let cluster_key: Vec<(u8, u32)> = wallets
        .iter()
        .zip(&component)
        .map(|(&w, &c)| match rule_cluster[w as usize] {
            Some(k) => (1, k),
            None => (0, c),
        })
        .collect();
    for (prefix, keys) in [
        ("component_mean", &comp_key),
        ("cluster_mean", &cluster_key),
    ] {
        let means = group_means(&rows, width, keys);
        for (r, m) in rows.iter_mut().zip(means) {
            r.extend(m);
        }
        names.extend(base.iter().map(|b| format!("{prefix}:{b}")));
    }
    Features {
        names,
        wallets,
        rows,
        component,
    }
}

/// For each row, the mean of the first `width` columns over the rows with the same key
/// (sums in row order, so the result is deterministic).
fn group_means(rows: &[Vec<f64>], width: usize, keys: &[(u8, u32)]) -> Vec<Vec<f64>> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| (keys[i], i));
    let mut out = vec![Vec::new(); rows.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && keys[order[j]] == keys[order[i]] {
            j += 1;
        }
        let mut sum = vec![0.0; width];
        for &k in &order[i..j] {
            for (s, v) in sum.iter_mut().zip(&rows[k][..width]) {
                *s += v;
            }
        }
        let n = (j - i) as f64;
        let mean: Vec<f64> = sum.into_iter().map(|s| s / n).collect();
        for &k in &order[i..j] {
            out[k] = mean.clone();
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{detect, Appeals, Config};
    use fairdrop_core::Address;

    fn addr(i: u16) -> Address {
        let mut b = [0u8; 20];
        b[..2].copy_from_slice(&i.to_be_bytes());
        Address::Evm(b)
    }

    fn col(f: &Features, w: usize, name: &str) -> f64 {
        let c = f.names.iter().position(|n| n == name).expect(name);
        f.rows[w][c]
    }

    #[test]
    fn counts_what_the_graph_shows() {
        let mut inp = SybilInput::new();
        // Funder 100 pays candidates 1..=3; candidate 1 also pays exchange 200 (a hub) twice
        // and itself once; candidate 4 pays the same exchange; candidate 5 is alone.
        for i in 1..=3 {
            inp.add_edge(addr(100), addr(i));
        }
        inp.add_edge(addr(1), addr(200));
        inp.add_edge(addr(1), addr(200));
        inp.add_edge(addr(1), addr(1));
        inp.add_edge(addr(4), addr(200));
        for i in 1..=5 {
            inp.add_candidate(addr(i));
        }
        inp.add_hub(addr(200));
        let lists = vec![HubList {
            name: "exchange".into(),
            wallets: vec![inp.wallet(addr(200))],
        }];
        let report = detect(&inp, &Config::default(), &Appeals::default());
        let f = features(&inp, &report, &lists);
        assert_eq!(f.wallets.len(), 5);
        assert_eq!(f.rows.len(), 5);
        assert!(f.names.contains(&"hub_share:exchange".to_string()));
        // Rows are sorted by address: candidate i is row i - 1.
        assert_eq!(col(&f, 0, "sent"), 2.0);
        assert_eq!(col(&f, 0, "received"), 1.0);
        assert_eq!(col(&f, 0, "to_self"), 1.0);
        assert_eq!(col(&f, 0, "degree"), 1.0);
        assert_eq!(col(&f, 0, "hub_degree"), 1.0);
        assert_eq!(col(&f, 0, "hub_nb:exchange"), 1.0);
        assert_eq!(col(&f, 0, "hub_share:exchange"), 2.0);
        assert_eq!(col(&f, 0, "component_candidates"), 3.0);
        assert_eq!(col(&f, 0, "component_wallets"), 4.0);
        assert_eq!(col(&f, 0, "candidate_neighbours"), 0.0);
        assert_eq!(col(&f, 0, "candidates_2hop"), 2.0);
        assert_eq!(col(&f, 0, "star"), 3.0);
        assert_eq!(col(&f, 3, "component_candidates"), 1.0);
        assert_eq!(col(&f, 3, "hub_share:exchange"), 2.0);
        assert_eq!(col(&f, 4, "degree"), 0.0);
        assert_eq!(col(&f, 4, "hub_degree"), 0.0);
        assert_eq!(col(&f, 4, "star"), 0.0);
        // The exchange is not a candidate, so it has no row; its own column is 0 for all.
        assert!((0..5).all(|w| col(&f, w, "listed:exchange") == 0.0));
        assert_eq!(f.component[0], f.component[1]);
        assert_ne!(f.component[0], f.component[3]);
        // Context: means over the candidates of the component (1, 2 and 3 together).
        assert!((col(&f, 1, "component_mean:sent") - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(col(&f, 3, "component_mean:hub_degree"), 1.0);
        // Nobody is flagged by the rules here, so the cluster means are the component's.
        assert_eq!(
            col(&f, 1, "cluster_mean:sent"),
            col(&f, 1, "component_mean:sent")
        );
        // 9 own columns, 3 for the one hub list, 5 graph ones; then the two mean blocks.
        assert_eq!(f.names.len(), 3 * (9 + 3 + 5));
        assert!(f.rows.iter().all(|r| r.len() == f.names.len()));
        assert_eq!(f.names, names(&["exchange"], &[]));
    }

    #[test]
    fn transfer_sources_are_counted_by_name() {
        let mut inp = SybilInput::new();
        inp.add_edge(addr(1), addr(2));
        inp.add_edge(addr(1), addr(3));
        inp.add_edge(addr(2), addr(1));
        inp.add_edge(addr(1), addr(1));
        inp.add_candidate(addr(1));
        // Two files named `polygon` and one `xdai`: same-named sources add up.
        inp.sources = vec![
            (0, "polygon".into()),
            (1, "xdai".into()),
            (2, "polygon".into()),
        ];
        let report = detect(&inp, &Config::default(), &Appeals::default());
        let f = features(&inp, &report, &[]);
        assert_eq!(col(&f, 0, "source:polygon"), 3.0);
        assert_eq!(col(&f, 0, "source:xdai"), 1.0);
        assert_eq!(
            f.names.iter().filter(|n| n.starts_with("source:")).count(),
            2
        );
    }

    #[test]
    fn allow_list_keeps_a_hub_in_the_graph() {
        let mut inp = SybilInput::new();
        inp.add_edge(addr(1), addr(200));
        inp.add_edge(addr(2), addr(200));
        inp.add_candidate(addr(1));
        inp.add_candidate(addr(2));
        inp.add_hub(addr(200));
        let report = detect(&inp, &Config::default(), &Appeals::default());
        let f = features(&inp, &report, &[]);
        assert_eq!(col(&f, 0, "degree"), 0.0);
        assert_eq!(col(&f, 0, "hub_degree"), 1.0);
        inp.add_allow(addr(200));
        let f = features(&inp, &report, &[]);
        assert_eq!(col(&f, 0, "degree"), 1.0);
        assert_eq!(col(&f, 0, "component_candidates"), 2.0);
        assert_eq!(col(&f, 0, "hub_degree"), 0.0);
    }
}
