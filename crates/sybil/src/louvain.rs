//! Louvain community detection (modularity with a resolution parameter), deterministic:
//! nodes are visited in id order, ties go to the smaller community id, and communities are
//! renumbered by first appearance.

use crate::graph::Graph;

/// Community of every node of `g` (ids `0..k`, numbered by their smallest node).
pub fn louvain(g: &Graph, resolution: f64, max_levels: usize) -> Vec<u32> {
    let n = g.n();
    let mut membership: Vec<u32> = (0..n as u32).collect();
    let mut cur = g.clone();
    for _ in 0..max_levels.max(1) {
        let (comm, moved) = one_level(&cur, resolution);
        if !moved {
            break;
        }
        let (comm, k) = renumber(&comm);
        for m in membership.iter_mut() {
            *m = comm[*m as usize];
        }
        if k == cur.n() {
            break;
        }
        cur = aggregate(&cur, &comm, k);
    }
    renumber(&membership).0
}

fn renumber(comm: &[u32]) -> (Vec<u32>, usize) {
    let mut map = vec![u32::MAX; comm.len()];
    let mut k = 0u32;
    let mut out = Vec::with_capacity(comm.len());
    for &c in comm {
        let c = c as usize;
        if map[c] == u32::MAX {
            map[c] = k;
            k += 1;
        }
        out.push(map[c]);
    }
    (out, k as usize)
}

fn aggregate(g: &Graph, comm: &[u32], k: usize) -> Graph {
    let mut edges = Vec::new();
    for u in 0..g.n() as u32 {
        let cu = comm[u as usize];
        for (v, w) in g.neighbors(u) {
            if u < v {
                edges.push((cu, comm[v as usize], w));
            }
        }
        let s = g.self_loop(u);
        if s > 0.0 {
            edges.push((cu, cu, s));
        }
    }
    Graph::from_edges(k, edges)
}

/// Local moving phase. Returns the community per node and whether any node moved.
fn one_level(g: &Graph, resolution: f64) -> (Vec<u32>, bool) {
    let n = g.n();
    let k: Vec<f64> = (0..n as u32).map(|u| g.strength(u)).collect();
    let m2: f64 = k.iter().sum();
    let mut comm: Vec<u32> = (0..n as u32).collect();
    if m2 <= 0.0 {
        return (comm, false);
    }
    let mut tot = k.clone();
    let mut wto = vec![0.0f64; n];
    let mut touched: Vec<u32> = Vec::new();
    let mut moved_any = false;
    for _pass in 0..64 {
        let mut moved = 0usize;
        for u in 0..n as u32 {
            let cu = comm[u as usize];
            let ku = k[u as usize];
            touched.clear();
            for (v, w) in g.neighbors(u) {
                let c = comm[v as usize];
                if wto[c as usize] == 0.0 {
                    touched.push(c);
                }
                wto[c as usize] += w;
            }
            tot[cu as usize] -= ku;
            let gain = |c: u32, wto: &[f64], tot: &[f64]| {
                wto[c as usize] - resolution * tot[c as usize] * ku / m2
            };
            let mut best = cu;
            let mut best_gain = gain(cu, &wto, &tot);
            touched.sort_unstable();
            for &c in &touched {
                let gc = gain(c, &wto, &tot);
                if gc > best_gain + 1e-12 {
                    best = c;
                    best_gain = gc;
                }
            }
            tot[best as usize] += ku;
            if best != cu {
                comm[u as usize] = best;
                moved += 1;
            }
            for &c in &touched {
                wto[c as usize] = 0.0;
            }
        }
        if moved == 0 {
            break;
        }
        moved_any = true;
    }
    (comm, moved_any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clique(base: u32, size: u32, out: &mut Vec<(u32, u32, f64)>) {
        for i in 0..size {
            for j in i + 1..size {
                out.push((base + i, base + j, 1.0));
            }
        }
    }

    #[test]
    fn splits_two_cliques_joined_by_one_edge() {
        let mut e = Vec::new();
        clique(0, 6, &mut e);
        clique(6, 6, &mut e);
        e.push((5, 6, 1.0));
        let g = Graph::from_edges(12, e);
        let c = louvain(&g, 1.0, 10);
        assert!(c[..6].iter().all(|&x| x == c[0]));
        assert!(c[6..].iter().all(|&x| x == c[6]));
        assert_ne!(c[0], c[6]);
        assert_eq!(c[0], 0);
    }

    #[test]
    fn ring_of_cliques_and_determinism() {
        let mut e = Vec::new();
        for k in 0..5u32 {
            clique(k * 5, 5, &mut e);
            e.push((k * 5, ((k + 1) % 5) * 5 + 1, 1.0));
        }
        let g = Graph::from_edges(25, e);
        let a = louvain(&g, 1.0, 10);
        let b = louvain(&g, 1.0, 10);
        assert_eq!(a, b);
        for k in 0..5usize {
            assert!(a[k * 5..k * 5 + 5].iter().all(|&x| x == a[k * 5]));
        }
        let mut distinct = a.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 5);
    }

    #[test]
    fn empty_and_edgeless_graphs() {
        assert!(louvain(&Graph::from_edges(0, vec![]), 1.0, 5).is_empty());
        assert_eq!(
            louvain(&Graph::from_edges(3, vec![]), 1.0, 5),
            vec![0, 1, 2]
        );
    }
}
