//! Graphs over wallet ids: a compact undirected weighted graph (CSR), the funder and sweep
//! edges, and hub detection.

use crate::input::{SybilInput, WalletId};

/// Undirected weighted graph in compressed sparse row form. Parallel edges are merged (their
/// weights add up); self-loops are kept apart in `self_loop`.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    offsets: Vec<usize>,
    nbrs: Vec<u32>,
    weights: Vec<f64>,
    self_loop: Vec<f64>,
}

/// Adjacency entries (both directions) from which [`Graph::from_edges`] sorts its lists on
/// two threads: below it, a thread costs more than it saves.
const PARALLEL_MIN: usize = 1 << 20;

/// Sort each node's list by neighbour and merge parallel edges, in place at the start of the
/// list's own range: `start` holds the ranges' bounds (offset by `start[0]`, where `nbrs` and
/// `weights` begin), `lens` gets each merged length.
fn merge_lists(start: &[usize], nbrs: &mut [u32], weights: &mut [f64], lens: &mut [usize]) {
    let base = start[0];
    let mut scratch: Vec<(u32, f64)> = Vec::new();
    for (u, len) in lens.iter_mut().enumerate() {
        let (begin, end) = (start[u] - base, start[u + 1] - base);
        scratch.clear();
        scratch.extend(
            nbrs[begin..end]
                .iter()
                .copied()
                .zip(weights[begin..end].iter().copied()),
        );
        // Stable: parallel edges keep input order, so their weights sum in that order.
        scratch.sort_by_key(|e| e.0);
        let mut out = begin;
        for &(v, w) in &scratch {
            if out > begin && nbrs[out - 1] == v {
                weights[out - 1] += w;
                continue;
            }
            nbrs[out] = v;
            weights[out] = w;
            out += 1;
        }
        *len = out - begin;
    }
}

impl Graph {
    /// Build from `(u, v, w)` triples over nodes `0..n` (triples naming a node ≥ n, or with
    /// a weight that is not positive and finite, are skipped). Parallel edges are merged,
    /// their weights summed in input order.
    ///
    /// Built by counting, reading the edges twice: each node's degree, then each edge written
    /// straight into its two nodes' places in the final arrays, then each node's list sorted
    /// by neighbour and merged in place. At 1M wallets, building the graph was half of
    /// detection, and most of that the kernel zeroing fresh pages: this touches 24 bytes an
    /// edge where sorting a list of both directions touched 56.
    pub fn from_edges<I>(n: usize, edges: I) -> Self
    where
        I: IntoIterator<Item = (u32, u32, f64)>,
        I::IntoIter: Clone,
    {
        Self::from_edges_with(n, edges, PARALLEL_MIN)
    }

    /// [`Graph::from_edges`], the lists sorted on two threads from `parallel_min` entries
    /// (both directions counted) on; the result does not depend on it.
    fn from_edges_with<I>(n: usize, edges: I, parallel_min: usize) -> Self
    where
        I: IntoIterator<Item = (u32, u32, f64)>,
        I::IntoIter: Clone,
    {
        let edges = edges.into_iter();
        let keep = |u: u32, v: u32, w: f64| {
            (u as usize) < n && (v as usize) < n && w > 0.0 && w.is_finite() && u != v
        };
        let mut self_loop = vec![0.0; n];
        // start[u + 1] = degree of u, then prefix sums: u's places are start[u]..start[u + 1].
        let mut start = vec![0usize; n + 1];
        for (u, v, w) in edges.clone() {
            if keep(u, v, w) {
                start[u as usize + 1] += 1;
                start[v as usize + 1] += 1;
            } else if u == v && (u as usize) < n && w > 0.0 && w.is_finite() {
                self_loop[u as usize] += w;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let total = start[n];
        let mut nbrs = vec![0u32; total];
        let mut weights = vec![0f64; total];
        {
            let mut fill = start.clone();
            for (u, v, w) in edges {
                if keep(u, v, w) {
                    let (iu, iv) = (fill[u as usize], fill[v as usize]);
                    nbrs[iu] = v;
                    weights[iu] = w;
                    nbrs[iv] = u;
                    weights[iv] = w;
                    fill[u as usize] += 1;
                    fill[v as usize] += 1;
                }
            }
        }
        // Sort and merge each list in its own place, on two threads for a large graph (each
        // list is independent; at 1M wallets this ran 0.8 s with the other core idle), then
        // compact; `start` becomes the offsets.
        let mut lens = vec![0usize; n];
        let split = if total >= parallel_min && n >= 2 {
            // The first node whose list starts in the second half of the entries.
            start[..n]
                .partition_point(|&s| s < total / 2)
                .clamp(1, n - 1)
        } else {
            n
        };
        {
            let (nb_lo, nb_hi) = nbrs.split_at_mut(start[split]);
            let (w_lo, w_hi) = weights.split_at_mut(start[split]);
            let (len_lo, len_hi) = lens.split_at_mut(split);
            let (st_lo, st_hi) = (&start[..=split], &start[split..]);
            if split < n {
                std::thread::scope(|scope| {
                    scope.spawn(|| merge_lists(st_hi, nb_hi, w_hi, len_hi));
                    merge_lists(st_lo, nb_lo, w_lo, len_lo);
                });
            } else {
                merge_lists(st_lo, nb_lo, w_lo, len_lo);
            }
        }
        let mut out = 0usize;
        let mut begin = 0usize;
        for u in 0..n {
            let end = start[u + 1];
            let len = lens[u];
            nbrs.copy_within(begin..begin + len, out);
            weights.copy_within(begin..begin + len, out);
            out += len;
            start[u + 1] = out;
            begin = end;
        }
        nbrs.truncate(out);
        weights.truncate(out);
        Graph {
            offsets: start,
            nbrs,
            weights,
            self_loop,
        }
    }

    /// The graph without the nodes flagged in `drop` (their edges and self-loops removed; node
    /// ids unchanged), compacted in place: equal to building it from the edges that touch no
    /// dropped node.
    pub fn without(mut self, drop: &[bool]) -> Graph {
        let n = self.n();
        let gone = |u: usize| drop.get(u).copied().unwrap_or(false);
        let mut out = 0usize;
        let mut begin = 0usize;
        for u in 0..n {
            let end = self.offsets[u + 1];
            if gone(u) {
                self.self_loop[u] = 0.0;
            } else {
                for i in begin..end {
                    let v = self.nbrs[i];
                    if !gone(v as usize) {
                        self.nbrs[out] = v;
                        self.weights[out] = self.weights[i];
                        out += 1;
                    }
                }
            }
            self.offsets[u + 1] = out;
            begin = end;
        }
        self.nbrs.truncate(out);
        self.weights.truncate(out);
        self
    }

    pub fn n(&self) -> usize {
        self.self_loop.len()
    }

    /// Neighbours of `u` with the merged edge weights, in increasing id order.
    pub fn neighbors(&self, u: u32) -> impl Iterator<Item = (u32, f64)> + '_ {
        let (a, b) = (self.offsets[u as usize], self.offsets[u as usize + 1]);
        self.nbrs[a..b]
            .iter()
            .copied()
            .zip(self.weights[a..b].iter().copied())
    }

    /// Number of distinct neighbours of `u`.
    pub fn degree(&self, u: u32) -> usize {
        self.offsets[u as usize + 1] - self.offsets[u as usize]
    }

    /// Weight of `u`'s self-loop.
    pub fn self_loop(&self, u: u32) -> f64 {
        self.self_loop[u as usize]
    }

    /// Weighted degree (self-loops count twice, as in modularity).
    pub fn strength(&self, u: u32) -> f64 {
        self.neighbors(u).map(|(_, w)| w).sum::<f64>() + 2.0 * self.self_loop(u)
    }

    /// The subgraph induced by `nodes` (renumbered `0..nodes.len()` in the given order).
    pub fn induced(&self, nodes: &[u32]) -> Graph {
        self.induced_with(nodes, &mut Vec::new())
    }

    /// [`Graph::induced`] reusing a scratch buffer (left all `u32::MAX` on return), so that
    /// splitting many components costs their size, not the whole graph's each time.
    /// Node ids ≥ n are ignored.
    pub fn induced_with(&self, nodes: &[u32], local: &mut Vec<u32>) -> Graph {
        let nodes: Vec<u32> = nodes
            .iter()
            .copied()
            .filter(|&u| (u as usize) < self.n())
            .collect();
        if local.len() != self.n() {
            local.clear();
            local.resize(self.n(), u32::MAX);
        }
        for (i, &u) in nodes.iter().enumerate() {
            local[u as usize] = i as u32;
        }
        let mut edges = Vec::new();
        for (i, &u) in nodes.iter().enumerate() {
            for (v, w) in self.neighbors(u) {
                let j = local[v as usize];
                if j != u32::MAX && (i as u32) < j {
                    edges.push((i as u32, j, w));
                }
            }
            let s = self.self_loop(u);
            if s > 0.0 {
                edges.push((i as u32, i as u32, s));
            }
        }
        for &u in &nodes {
            local[u as usize] = u32::MAX;
        }
        Graph::from_edges(nodes.len(), edges)
    }
}

/// Per wallet, the first sender of value to it (its funder) and the last recipient of value
/// from it (its sweep target), by timestamp where known and by row order otherwise. Self
/// transfers are ignored. `None` where a wallet never received / never sent.
///
/// The rows are read in order, so a later row wins a tie on time only for the sweep target
/// (`>=`), never for the funder (`<`): the row index need not be kept, and an entry is 16
/// bytes, not 32 (the funder table is read at random, once per transfer: at 1M wallets two
/// 54 MB tables became two of 27 MB).
///
/// With [`SybilInput::roles`] given, those (padded to every wallet).
pub fn funder_and_sweep(input: &SybilInput) -> (Vec<Option<WalletId>>, Vec<Option<WalletId>>) {
    match &input.roles {
        Some(r) => {
            let r = r.padded(input.n_wallets());
            (r.funder, r.sweep)
        }
        None => transfer_roles(input),
    }
}

fn transfer_roles(input: &SybilInput) -> (Vec<Option<WalletId>>, Vec<Option<WalletId>>) {
    let n = input.n_wallets();
    let mut funder: Vec<Option<(i64, WalletId)>> = vec![None; n];
    let mut sweep: Vec<Option<(i64, WalletId)>> = vec![None; n];
    for t in &input.transfers {
        if t.from == t.to || (t.from as usize) >= n || (t.to as usize) >= n {
            continue;
        }
        if t.amount() == Some(0) {
            continue;
        }
        let ts = t.timestamp().unwrap_or(i64::MIN);
        let f = &mut funder[t.to as usize];
        if f.is_none_or(|(a, _)| ts < a) {
            *f = Some((ts, t.from));
        }
        let s = &mut sweep[t.from as usize];
        if s.is_none_or(|(a, _)| ts >= a) {
            *s = Some((ts, t.to));
        }
    }
    (
        funder.into_iter().map(|x| x.map(|k| k.1)).collect(),
        sweep.into_iter().map(|x| x.map(|k| k.1)).collect(),
    )
}

/// Automatic hub detection: wallets whose number of distinct counterparties is an outlier.
///
/// A wallet is a hub when its distinct-counterparty degree is at least `min_degree` and at
/// least `factor` times the median degree of wallets with any edge (robust to graph size).
/// Returns a flag per wallet.
pub fn detect_hubs(g: &Graph, min_degree: usize, factor: f64) -> Vec<bool> {
    let degrees: Vec<u32> = (0..g.n() as u32).map(|u| g.degree(u) as u32).collect();
    hubs_from_degrees(&degrees, min_degree, factor)
}

/// [`detect_hubs`] from each wallet's number of distinct counterparties.
pub fn hubs_from_degrees(degrees: &[u32], min_degree: usize, factor: f64) -> Vec<bool> {
    let mut degs: Vec<u32> = degrees.iter().copied().filter(|&d| d > 0).collect();
    degs.sort_unstable();
    let median = if degs.is_empty() {
        0
    } else {
        degs[degs.len() / 2]
    };
    let cut = (min_degree as f64).max(factor * median as f64);
    degrees.iter().map(|&d| d as f64 >= cut && d > 0).collect()
}

/// What the role rules read of the transfers, per wallet: its funder and sweep target
/// ([`funder_and_sweep`]) and its number of distinct counterparties (self transfers aside,
/// zero amounts included: the automatic hub rule's degree). A warehouse computes the same
/// table (`sybil-wallets`), which then stands in for the transfers ([`SybilInput::roles`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    pub funder: Vec<Option<WalletId>>,
    pub sweep: Vec<Option<WalletId>>,
    pub degree: Vec<u32>,
}

impl Roles {
    /// A copy with exactly one entry per wallet of `n` (missing ones: no role, degree 0).
    pub fn padded(&self, n: usize) -> Roles {
        let mut r = self.clone();
        r.funder.resize(n, None);
        r.sweep.resize(n, None);
        r.degree.resize(n, 0);
        r
    }

    /// The roles the input's transfers give (ignoring any `roles` it already has).
    pub fn of_transfers(input: &SybilInput) -> Roles {
        let n = input.n_wallets();
        let (funder, sweep) = transfer_roles(input);
        let g = Graph::from_edges(
            n,
            input
                .transfers
                .iter()
                .filter(|t| (t.from as usize) < n && (t.to as usize) < n)
                .map(|t| (t.from, t.to, 1.0)),
        );
        Roles {
            funder,
            sweep,
            degree: (0..n as u32).map(|u| g.degree(u) as u32).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Transfer;
    use proptest::prelude::*;

    proptest! {
        /// The CSR equals a map of merged edges (weights summed in input order), for any
        /// edges: repeats, both directions, self-loops, out-of-range nodes, bad weights.
        #[test]
        fn csr_equals_merged_edge_map(
            n in 0usize..30,
            edges in proptest::collection::vec(
                (0u32..34, 0u32..34, prop_oneof![Just(1.0f64), 0.1f64..10.0, Just(-1.0), Just(f64::NAN)]),
                0..200),
        ) {
            let g = Graph::from_edges(n, edges.iter().copied());
            // Sorting the lists on two threads (forced here) changes nothing, bit for bit.
            let split = Graph::from_edges_with(n, edges.iter().copied(), 0);
            prop_assert_eq!(&split.offsets, &g.offsets);
            prop_assert_eq!(&split.nbrs, &g.nbrs);
            prop_assert_eq!(
                split.weights.iter().map(|w| w.to_bits()).collect::<Vec<_>>(),
                g.weights.iter().map(|w| w.to_bits()).collect::<Vec<_>>()
            );
            let mut want: std::collections::BTreeMap<(u32, u32), f64> = Default::default();
            let mut loops = vec![0.0; n];
            for &(u, v, w) in &edges {
                if (u as usize) >= n || (v as usize) >= n || !(w > 0.0 && w.is_finite()) {
                    continue;
                }
                if u == v {
                    loops[u as usize] += w;
                } else {
                    *want.entry((u, v)).or_insert(0.0) += w;
                    *want.entry((v, u)).or_insert(0.0) += w;
                }
            }
            prop_assert_eq!(g.n(), n);
            // Dropping nodes equals building from the edges that avoid them.
            let drop: Vec<bool> = (0..n).map(|u| (u * 7 + edges.len()) % 3 == 0).collect();
            let filtered = Graph::from_edges(
                n,
                edges
                    .iter()
                    .copied()
                    .filter(|&(u, v, _)| !drop.get(u as usize).copied().unwrap_or(false)
                        && !drop.get(v as usize).copied().unwrap_or(false)),
            );
            let cut = g.clone().without(&drop);
            prop_assert_eq!(&cut.offsets, &filtered.offsets);
            prop_assert_eq!(&cut.nbrs, &filtered.nbrs);
            prop_assert_eq!(&cut.self_loop, &filtered.self_loop);
            prop_assert_eq!(
                cut.weights.iter().map(|w| w.to_bits()).collect::<Vec<_>>(),
                filtered.weights.iter().map(|w| w.to_bits()).collect::<Vec<_>>()
            );
            for u in 0..n as u32 {
                let got: Vec<(u32, f64)> = g.neighbors(u).collect();
                let exp: Vec<(u32, f64)> =
                    want.range((u, 0)..(u + 1, 0)).map(|(&(_, v), &w)| (v, w)).collect();
                prop_assert_eq!(got, exp, "node {}", u);
                prop_assert_eq!(g.self_loop(u), loops[u as usize]);
                prop_assert_eq!(g.degree(u), want.range((u, 0)..(u + 1, 0)).count());
            }
        }
    }

    #[test]
    fn csr_merges_parallel_edges() {
        let g = Graph::from_edges(
            4,
            vec![
                (0, 1, 1.0),
                (1, 0, 2.0),
                (2, 2, 1.0),
                (1, 3, 1.0),
                (9, 1, 1.0),
            ],
        );
        assert_eq!(g.neighbors(1).collect::<Vec<_>>(), vec![(0, 3.0), (3, 1.0)]);
        assert_eq!(g.degree(2), 0);
        assert_eq!(g.strength(2), 2.0);
        assert_eq!(g.strength(1), 4.0);
        let sub = g.induced(&[1, 3]);
        assert_eq!(sub.neighbors(0).collect::<Vec<_>>(), vec![(1, 1.0)]);
    }

    #[test]
    fn hub_detection_finds_the_star_centre() {
        // A star of 50 leaves plus a sparse path: the centre is the only outlier.
        let mut edges: Vec<(u32, u32, f64)> = (1..=50).map(|i| (0, i, 1.0)).collect();
        for i in 51..80 {
            edges.push((i, i + 1, 1.0));
        }
        let g = Graph::from_edges(81, edges);
        let hubs = detect_hubs(&g, 10, 5.0);
        assert!(hubs[0]);
        assert_eq!(hubs.iter().filter(|&&h| h).count(), 1);
    }

    proptest! {
        /// Equal to keeping (time, row) per wallet and taking the least / the greatest, for
        /// any transfers: ties on time, no time, zero amounts, self transfers, ids out of
        /// range.
        #[test]
        fn funder_and_sweep_by_time_then_row(
            rows in proptest::collection::vec(
                (0u32..7, 0u32..7, proptest::option::of(0i64..4), proptest::option::of(0u128..3)),
                0..60,
            ),
        ) {
            let mut inp = SybilInput::new();
            for i in 0..6u8 {
                inp.wallet(fairdrop_core::Address::Evm([i; 20]));
            }
            for &(from, to, ts, amount) in &rows {
                inp.add_transfer(Transfer::new(from, to, ts, amount, None));
            }
            let n = inp.n_wallets();
            let mut want_f: Vec<Option<(i64, usize, WalletId)>> = vec![None; n];
            let mut want_s: Vec<Option<(i64, usize, WalletId)>> = vec![None; n];
            for (row, t) in inp.transfers.iter().enumerate() {
                if t.from == t.to || t.from as usize >= n || t.to as usize >= n || t.amount() == Some(0) {
                    continue;
                }
                let ts = t.timestamp().unwrap_or(i64::MIN);
                let f = &mut want_f[t.to as usize];
                if f.is_none_or(|(a, b, _)| (ts, row) < (a, b)) {
                    *f = Some((ts, row, t.from));
                }
                let s = &mut want_s[t.from as usize];
                if s.is_none_or(|(a, b, _)| (ts, row) > (a, b)) {
                    *s = Some((ts, row, t.to));
                }
            }
            let (funder, sweep) = funder_and_sweep(&inp);
            prop_assert_eq!(funder, want_f.iter().map(|x| x.map(|k| k.2)).collect::<Vec<_>>());
            prop_assert_eq!(sweep, want_s.iter().map(|x| x.map(|k| k.2)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn funder_is_first_sender_and_sweep_last_recipient() {
        let mut inp = SybilInput::new();
        for i in 0..4u8 {
            inp.wallet(fairdrop_core::Address::Evm([i; 20]));
        }
        let t = |from, to, ts| Transfer::new(from, to, Some(ts), Some(5), None);
        inp.add_transfer(t(1, 0, 20));
        inp.add_transfer(t(2, 0, 10)); // earlier although later in the rows
        inp.add_transfer(t(0, 3, 30));
        inp.add_transfer(t(0, 1, 25));
        let (funder, sweep) = funder_and_sweep(&inp);
        assert_eq!(funder[0], Some(2));
        assert_eq!(sweep[0], Some(3));
        assert_eq!(funder[3], Some(0));
        assert_eq!(sweep[3], None);
    }
}
