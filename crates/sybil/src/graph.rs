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

impl Graph {
    /// Build from `(u, v, w)` triples over nodes `0..n` (triples naming a node ≥ n are skipped).
    pub fn from_edges(n: usize, edges: impl IntoIterator<Item = (u32, u32, f64)>) -> Self {
        let mut pairs: Vec<(u32, u32, f64)> = Vec::new();
        let mut self_loop = vec![0.0; n];
        for (u, v, w) in edges {
            if (u as usize) >= n || (v as usize) >= n || w.is_nan() || w <= 0.0 || !w.is_finite() {
                continue;
            }
            if u == v {
                self_loop[u as usize] += w;
            } else {
                pairs.push((u, v, w));
                pairs.push((v, u, w));
            }
        }
        pairs.sort_unstable_by_key(|a| (a.0, a.1));
        let mut offsets = vec![0usize; n + 1];
        let mut nbrs = Vec::with_capacity(pairs.len());
        let mut weights: Vec<f64> = Vec::with_capacity(pairs.len());
        let mut last: Option<(u32, u32)> = None;
        for (u, v, w) in pairs {
            if last == Some((u, v)) {
                if let Some(x) = weights.last_mut() {
                    *x += w;
                }
                continue;
            }
            last = Some((u, v));
            nbrs.push(v);
            weights.push(w);
            offsets[u as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        Graph {
            offsets,
            nbrs,
            weights,
            self_loop,
        }
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
pub fn funder_and_sweep(input: &SybilInput) -> (Vec<Option<WalletId>>, Vec<Option<WalletId>>) {
    let n = input.n_wallets();
    let mut funder: Vec<Option<(i64, usize, WalletId)>> = vec![None; n];
    let mut sweep: Vec<Option<(i64, usize, WalletId)>> = vec![None; n];
    for (row, t) in input.transfers.iter().enumerate() {
        if t.from == t.to || (t.from as usize) >= n || (t.to as usize) >= n {
            continue;
        }
        if t.amount() == Some(0) {
            continue;
        }
        let ts = t.timestamp().unwrap_or(i64::MIN);
        let key = (ts, row, t.from);
        let f = &mut funder[t.to as usize];
        if f.map(|(a, b, _)| (ts, row) < (a, b)).unwrap_or(true) {
            *f = Some(key);
        }
        let key = (ts, row, t.to);
        let s = &mut sweep[t.from as usize];
        if s.map(|(a, b, _)| (ts, row) > (a, b)).unwrap_or(true) {
            *s = Some(key);
        }
    }
    (
        funder.into_iter().map(|x| x.map(|k| k.2)).collect(),
        sweep.into_iter().map(|x| x.map(|k| k.2)).collect(),
    )
}

/// Automatic hub detection: wallets whose number of distinct counterparties is an outlier.
///
/// A wallet is a hub when its distinct-counterparty degree is at least `min_degree` and at
/// least `factor` times the median degree of wallets with any edge (robust to graph size).
/// Returns a flag per wallet.
pub fn detect_hubs(g: &Graph, min_degree: usize, factor: f64) -> Vec<bool> {
    let n = g.n();
    let mut degs: Vec<usize> = (0..n as u32)
        .map(|u| g.degree(u))
        .filter(|&d| d > 0)
        .collect();
    degs.sort_unstable();
    let median = if degs.is_empty() {
        0
    } else {
        degs[degs.len() / 2]
    };
    let cut = (min_degree as f64).max(factor * median as f64);
    (0..n as u32)
        .map(|u| g.degree(u) as f64 >= cut && g.degree(u) > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Transfer;

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
