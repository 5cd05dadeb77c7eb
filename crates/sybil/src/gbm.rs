//! Gradient-boosted decision trees for a yes/no label (logistic loss), small and
//! deterministic: the learner behind [`crate::learn`].
//!
//! The method is the histogram one of LightGBM and scikit-learn's
//! `HistGradientBoostingClassifier`: every feature is cut into at most [`Params::max_bins`]
//! bins once; each round fits one tree to the gradient and hessian of the log-loss, growing
//! it best-first (the leaf whose split gains most is split next) up to
//! [`Params::max_leaves`] leaves of at least [`Params::min_leaf`] rows; leaf values are
//! Newton steps scaled by the learning rate. A sibling's histogram is its parent's minus the
//! one built for the smaller child.
//!
//! Determinism: sums run in row order, ties go to the lower feature, the lower bin and the
//! older leaf, and nothing is random, so the same rows give the same model, bit for bit, and
//! the JSON form ([`Model`] is serde) round-trips exactly.
//!
//! Explanations: [`Model::contributions`] splits a prediction into one additive part per
//! feature (the change of node value along each tree's path, credited to the feature the
//! node splits on), so a verdict can name what drove it.
//!
//! ```
//! use fairdrop_sybil::gbm::{train, Params};
//! // y = x0 > 5, whatever x1 is.
//! let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![(i % 10) as f64, (i % 7) as f64]).collect();
//! let y: Vec<bool> = rows.iter().map(|r| r[0] > 5.0).collect();
//! let names = vec!["x0".to_string(), "x1".to_string()];
//! let m = train(&rows, &y, names, &Params { trees: 50, min_leaf: 5, ..Params::default() }).unwrap();
//! assert!(m.predict(&[9.0, 3.0]) > 0.9);
//! assert!(m.predict(&[1.0, 3.0]) < 0.1);
//! ```

use serde::{Deserialize, Serialize};

/// Training settings (the defaults are scikit-learn's `HistGradientBoostingClassifier`'s
/// with 300 rounds at learning rate 0.05 and no early stopping).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Boosting rounds (trees).
    pub trees: usize,
    pub learning_rate: f64,
    /// Leaves per tree.
    pub max_leaves: usize,
    /// Rows per leaf, at least.
    pub min_leaf: usize,
    /// L2 penalty on leaf values.
    pub l2: f64,
    /// Bins per feature, 2..=256.
    pub max_bins: usize,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            trees: 300,
            learning_rate: 0.05,
            max_leaves: 31,
            min_leaf: 20,
            l2: 0.0,
            max_bins: 255,
        }
    }
}

/// One tree node. A leaf has `feature == u32::MAX`. Every node keeps its value (the Newton
/// step of its rows), which [`Model::contributions`] reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub feature: u32,
    /// Rows with `x[feature] <= threshold` go left.
    pub threshold: f64,
    pub left: u32,
    pub right: u32,
    pub value: f64,
}

const LEAF: u32 = u32::MAX;

impl Node {
    fn is_leaf(&self) -> bool {
        self.feature == LEAF
    }
}

/// A fitted tree; node 0 is the root.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    fn leaf_of(&self, x: &[f64]) -> &Node {
        let mut n = &self.nodes[0];
        while !n.is_leaf() {
            let v = x.get(n.feature as usize).copied().unwrap_or(0.0);
            n = &self.nodes[if v <= n.threshold { n.left } else { n.right } as usize];
        }
        n
    }
}

/// A trained model: the feature names it reads (in order), the base log-odds and the trees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub features: Vec<String>,
    pub base: f64,
    pub trees: Vec<Tree>,
}

/// Why training could not run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GbmError {
    #[error("no training rows")]
    Empty,
    #[error("row {row} has {got} values, the model has {want} features")]
    Width { row: usize, got: usize, want: usize },
    #[error("{rows} rows but {labels} labels")]
    Labels { rows: usize, labels: usize },
    #[error("row {row}, feature {feature}: {value} is not a finite number")]
    NotFinite {
        row: usize,
        feature: String,
        value: f64,
    },
    #[error("the labels are all {0}: nothing to learn")]
    OneClass(bool),
    #[error("bad parameter: {0}")]
    Param(&'static str),
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Model {
    /// The log-odds of `x` (feature values in [`Model::features`] order).
    pub fn raw(&self, x: &[f64]) -> f64 {
        self.base + self.trees.iter().map(|t| t.leaf_of(x).value).sum::<f64>()
    }

    /// The probability that `x` is positive.
    pub fn predict(&self, x: &[f64]) -> f64 {
        sigmoid(self.raw(x))
    }

    /// Each feature's additive part of [`Model::raw`], and the bias (the part no feature
    /// decides): `bias + Σ parts == raw(x)` up to rounding.
    pub fn contributions(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let mut parts = vec![0.0; self.features.len()];
        let mut bias = self.base;
        for t in &self.trees {
            let mut n = &t.nodes[0];
            bias += n.value;
            while !n.is_leaf() {
                let f = n.feature as usize;
                let v = x.get(f).copied().unwrap_or(0.0);
                let c = &t.nodes[if v <= n.threshold { n.left } else { n.right } as usize];
                if let Some(p) = parts.get_mut(f) {
                    *p += c.value - n.value;
                }
                n = c;
            }
        }
        (bias, parts)
    }
}

/// Bin edges of one feature: `bin(x)` = number of edges below `x`, so `x <= edges[b]` is
/// `bin(x) <= b`.
fn edges_of(mut vals: Vec<f64>, max_bins: usize) -> Vec<f64> {
    vals.sort_by(f64::total_cmp);
    let mut distinct = vals.clone();
    distinct.dedup();
    if distinct.len() <= max_bins {
        return distinct
            .windows(2)
            .map(|w| w[0] + (w[1] - w[0]) / 2.0)
            .collect();
    }
    let n = vals.len();
    let mut e: Vec<f64> = (1..max_bins).map(|k| vals[k * n / max_bins]).collect();
    e.dedup();
    // The last edge must leave something above it.
    if e.last() == vals.last() {
        e.pop();
    }
    e
}

#[derive(Clone)]
struct Hist {
    g: Vec<f64>,
    h: Vec<f64>,
    n: Vec<u32>,
}

impl Hist {
    fn new(size: usize) -> Self {
        Self {
            g: vec![0.0; size],
            h: vec![0.0; size],
            n: vec![0; size],
        }
    }
    fn minus(&self, o: &Hist) -> Hist {
        Hist {
            g: self.g.iter().zip(&o.g).map(|(a, b)| a - b).collect(),
            h: self.h.iter().zip(&o.h).map(|(a, b)| a - b).collect(),
            n: self.n.iter().zip(&o.n).map(|(a, b)| a - b).collect(),
        }
    }
}

struct Split {
    gain: f64,
    feature: usize,
    bin: usize,
}

/// A leaf being grown: its rows, histogram, sums and best split.
struct Open {
    node: usize,
    rows: Vec<u32>,
    hist: Hist,
    split: Option<Split>,
}

struct Data<'a> {
    bins: Vec<Vec<u8>>,
    offset: Vec<usize>,
    width: Vec<usize>,
    p: &'a Params,
}

impl Data<'_> {
    fn hist(&self, rows: &[u32], g: &[f64], h: &[f64]) -> Hist {
        let mut out = Hist::new(*self.offset.last().unwrap_or(&0));
        for (f, col) in self.bins.iter().enumerate() {
            let o = self.offset[f];
            for &r in rows {
                let b = o + col[r as usize] as usize;
                out.g[b] += g[r as usize];
                out.h[b] += h[r as usize];
                out.n[b] += 1;
            }
        }
        out
    }

    fn best(&self, hist: &Hist, g: f64, h: f64, n: usize) -> Option<Split> {
        let min_leaf = self.p.min_leaf.max(1);
        if n < 2 * min_leaf {
            return None;
        }
        let l2 = self.p.l2;
        let parent = g * g / (h + l2);
        let mut best: Option<Split> = None;
        for f in 0..self.bins.len() {
            let o = self.offset[f];
            let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0usize);
            for b in 0..self.width[f].saturating_sub(1) {
                gl += hist.g[o + b];
                hl += hist.h[o + b];
                nl += hist.n[o + b] as usize;
                if nl < min_leaf {
                    continue;
                }
                if n - nl < min_leaf {
                    break;
                }
                let (gr, hr) = (g - gl, h - hl);
                if hl < 1e-3 || hr < 1e-3 {
                    continue;
                }
                let gain = gl * gl / (hl + l2) + gr * gr / (hr + l2) - parent;
                if gain > 1e-12 && best.as_ref().is_none_or(|s| gain > s.gain) {
                    best = Some(Split {
                        gain,
                        feature: f,
                        bin: b,
                    });
                }
            }
        }
        best
    }
}

/// Train on `rows` (one `Vec` of feature values per row, in `names` order) and labels `y`.
pub fn train(
    rows: &[Vec<f64>],
    y: &[bool],
    names: Vec<String>,
    p: &Params,
) -> Result<Model, GbmError> {
    if rows.is_empty() {
        return Err(GbmError::Empty);
    }
    if rows.len() != y.len() {
        return Err(GbmError::Labels {
            rows: rows.len(),
            labels: y.len(),
        });
    }
    if !(2..=256).contains(&p.max_bins) {
        return Err(GbmError::Param("max_bins must be 2..=256"));
    }
    if p.max_leaves < 2 {
        return Err(GbmError::Param("max_leaves must be at least 2"));
    }
    if !(p.learning_rate > 0.0 && p.learning_rate.is_finite()) || p.l2.is_nan() || p.l2 < 0.0 {
        return Err(GbmError::Param(
            "learning_rate must be positive, l2 non-negative",
        ));
    }
    let nf = names.len();
    for (i, r) in rows.iter().enumerate() {
        if r.len() != nf {
            return Err(GbmError::Width {
                row: i,
                got: r.len(),
                want: nf,
            });
        }
        if let Some(f) = r.iter().position(|v| !v.is_finite()) {
            return Err(GbmError::NotFinite {
                row: i,
                feature: names[f].clone(),
                value: r[f],
            });
        }
    }
    let pos = y.iter().filter(|&&b| b).count();
    if pos == 0 || pos == y.len() {
        return Err(GbmError::OneClass(pos != 0));
    }
    let n = rows.len();

    // Bin every feature once.
    let mut edges = Vec::with_capacity(nf);
    let mut bins = Vec::with_capacity(nf);
    let mut width = Vec::with_capacity(nf);
    let mut offset = vec![0usize];
    for f in 0..nf {
        let e = edges_of(rows.iter().map(|r| r[f]).collect(), p.max_bins);
        bins.push(
            rows.iter()
                .map(|r| e.partition_point(|&t| t < r[f]) as u8)
                .collect::<Vec<u8>>(),
        );
        width.push(e.len() + 1);
        offset.push(offset[f] + e.len() + 1);
        edges.push(e);
    }
    let data = Data {
        bins,
        offset,
        width,
        p,
    };

    let rate = pos as f64 / n as f64;
    let base = (rate / (1.0 - rate)).ln();
    let mut raw = vec![base; n];
    let mut g = vec![0.0; n];
    let mut h = vec![0.0; n];
    let all: Vec<u32> = (0..n as u32).collect();
    let lr = p.learning_rate;
    let l2 = p.l2;
    let value = |g: f64, h: f64| -lr * g / (h + l2).max(1e-12);
    let mut trees = Vec::with_capacity(p.trees);
    for _ in 0..p.trees {
        for i in 0..n {
            let q = sigmoid(raw[i]);
            g[i] = q - if y[i] { 1.0 } else { 0.0 };
            h[i] = (q * (1.0 - q)).max(1e-16);
        }
        let hist = data.hist(&all, &g, &h);
        let (gs, hs) = (g.iter().sum::<f64>(), h.iter().sum::<f64>());
        let mut nodes = vec![Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value: value(gs, hs),
        }];
        let split = data.best(&hist, gs, hs, n);
        let mut open = vec![Open {
            node: 0,
            rows: all.clone(),
            hist,
            split,
        }];
        let mut leaves = 1;
        while leaves < p.max_leaves {
            // The open leaf with the largest gain; ties go to the older one.
            let mut pick: Option<usize> = None;
            for (i, o) in open.iter().enumerate() {
                if let Some(s) = &o.split {
                    if pick.is_none_or(|j| s.gain > open[j].split.as_ref().map_or(0.0, |t| t.gain))
                    {
                        pick = Some(i);
                    }
                }
            }
            let Some(i) = pick else { break };
            let leaf = open.remove(i);
            let s = leaf.split.as_ref().expect("picked leaves have a split");
            let col = &data.bins[s.feature];
            let (lrows, rrows): (Vec<u32>, Vec<u32>) = leaf
                .rows
                .iter()
                .partition(|&&r| (col[r as usize] as usize) <= s.bin);
            let (small, large_is_left) = if lrows.len() <= rrows.len() {
                (&lrows, false)
            } else {
                (&rrows, true)
            };
            let hs_small = data.hist(small, &g, &h);
            let hs_large = leaf.hist.minus(&hs_small);
            let (lh, rh) = if large_is_left {
                (hs_large, hs_small)
            } else {
                (hs_small, hs_large)
            };
            let sum = |rows: &[u32], v: &[f64]| rows.iter().map(|&r| v[r as usize]).sum::<f64>();
            let (lg, lhs) = (sum(&lrows, &g), sum(&lrows, &h));
            let (rg, rhs) = (sum(&rrows, &g), sum(&rrows, &h));
            let (li, ri) = (nodes.len(), nodes.len() + 1);
            for (gg, hh) in [(lg, lhs), (rg, rhs)] {
                nodes.push(Node {
                    feature: LEAF,
                    threshold: 0.0,
                    left: 0,
                    right: 0,
                    value: value(gg, hh),
                });
            }
            let parent = &mut nodes[leaf.node];
            parent.feature = s.feature as u32;
            parent.threshold = edges[s.feature][s.bin];
            parent.left = li as u32;
            parent.right = ri as u32;
            leaves += 1;
            let lsplit = data.best(&lh, lg, lhs, lrows.len());
            let rsplit = data.best(&rh, rg, rhs, rrows.len());
            open.push(Open {
                node: li,
                rows: lrows,
                hist: lh,
                split: lsplit,
            });
            open.push(Open {
                node: ri,
                rows: rrows,
                hist: rh,
                split: rsplit,
            });
        }
        for o in &open {
            let v = nodes[o.node].value;
            for &r in &o.rows {
                raw[r as usize] += v;
            }
        }
        trees.push(Tree { nodes });
    }
    Ok(Model {
        features: names,
        base,
        trees,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("x{i}")).collect()
    }

    /// A label no single feature gives: x0 below 3 exactly when x1 is below 6.
    fn xor_rows() -> (Vec<Vec<f64>>, Vec<bool>) {
        let mut rows = Vec::new();
        for a in 0..10 {
            for b in 0..10 {
                for c in 0..4 {
                    rows.push(vec![a as f64, b as f64, c as f64]);
                }
            }
        }
        let y = rows.iter().map(|r| (r[0] < 3.0) == (r[1] < 6.0)).collect();
        (rows, y)
    }

    #[test]
    fn learns_an_interaction() {
        let (rows, y) = xor_rows();
        let p = Params {
            trees: 80,
            learning_rate: 0.2,
            min_leaf: 5,
            ..Params::default()
        };
        let m = train(&rows, &y, names(3), &p).unwrap();
        let right = rows
            .iter()
            .zip(&y)
            .filter(|(r, &l)| (m.predict(r) >= 0.5) == l)
            .count();
        assert_eq!(right, rows.len());
        // The noise feature x2 is never split on.
        assert!(m
            .trees
            .iter()
            .flat_map(|t| &t.nodes)
            .all(|n| n.feature != 2));
    }

    #[test]
    fn contributions_add_up_and_name_the_feature() {
        let (rows, y) = xor_rows();
        let p = Params {
            trees: 30,
            min_leaf: 5,
            ..Params::default()
        };
        let m = train(&rows, &y, names(3), &p).unwrap();
        for r in rows.iter().step_by(7) {
            let (bias, parts) = m.contributions(r);
            let sum = bias + parts.iter().sum::<f64>();
            assert!((sum - m.raw(r)).abs() < 1e-9, "{sum} vs {}", m.raw(r));
            assert_eq!(parts[2], 0.0);
        }
    }

    #[test]
    fn leaves_respect_the_minimum_and_the_leaf_count() {
        let (rows, y) = xor_rows();
        let p = Params {
            trees: 5,
            min_leaf: 30,
            max_leaves: 4,
            ..Params::default()
        };
        let m = train(&rows, &y, names(3), &p).unwrap();
        for t in &m.trees {
            assert!(t.nodes.iter().filter(|n| n.is_leaf()).count() <= 4);
            let mut counts = vec![0usize; t.nodes.len()];
            for r in &rows {
                let leaf = t.leaf_of(r) as *const Node;
                let i = t.nodes.iter().position(|n| std::ptr::eq(n, leaf)).unwrap();
                counts[i] += 1;
            }
            for (i, n) in t.nodes.iter().enumerate() {
                if n.is_leaf() {
                    assert!(counts[i] >= 30, "leaf {i} has {} rows", counts[i]);
                }
            }
        }
    }

    #[test]
    fn same_rows_same_model_and_json_round_trips() {
        let (rows, y) = xor_rows();
        let p = Params {
            trees: 20,
            min_leaf: 5,
            ..Params::default()
        };
        let a = train(&rows, &y, names(3), &p).unwrap();
        let b = train(&rows, &y, names(3), &p).unwrap();
        let ja = serde_json::to_string(&a).unwrap();
        assert_eq!(ja, serde_json::to_string(&b).unwrap());
        let back: Model = serde_json::from_str(&ja).unwrap();
        assert_eq!(back, a);
        for r in &rows {
            assert_eq!(back.raw(r).to_bits(), a.raw(r).to_bits());
        }
    }

    #[test]
    fn many_distinct_values_are_binned() {
        // 1,000 distinct values, 16 bins: the split still lands near the true cut.
        let rows: Vec<Vec<f64>> = (0..1000).map(|i| vec![i as f64 / 10.0]).collect();
        let y: Vec<bool> = rows.iter().map(|r| r[0] > 50.0).collect();
        let p = Params {
            trees: 40,
            learning_rate: 0.3,
            min_leaf: 5,
            max_bins: 16,
            ..Params::default()
        };
        let m = train(&rows, &y, names(1), &p).unwrap();
        assert!(m.predict(&[80.0]) > 0.9 && m.predict(&[20.0]) < 0.1);
        let cut = m.trees[0].nodes[0].threshold;
        assert!((43.0..=57.0).contains(&cut), "first cut at {cut}");
    }

    #[test]
    fn bad_input_is_refused() {
        let p = Params::default();
        assert_eq!(train(&[], &[], names(1), &p), Err(GbmError::Empty));
        assert_eq!(
            train(&[vec![1.0], vec![2.0]], &[true, true], names(1), &p),
            Err(GbmError::OneClass(true))
        );
        assert!(matches!(
            train(&[vec![1.0], vec![f64::NAN]], &[true, false], names(1), &p),
            Err(GbmError::NotFinite { row: 1, .. })
        ));
        assert!(matches!(
            train(&[vec![1.0, 2.0]], &[true], names(1), &p),
            Err(GbmError::Width { row: 0, got: 2, .. })
        ));
    }
}
