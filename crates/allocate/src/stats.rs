//! Descriptive statistics of a distribution (amounts or points) for `report.html`/`report.json`.
//!
//! These figures describe, they do not pay: they may be `f64`. They are still deterministic:
//! values are sorted first, sums are exact integers (256-bit where needed) and each figure is one
//! IEEE division of exact integers (or a fixed-order sum), with no libm call (`ln`, `pow`) whose
//! last bit could differ across platforms. Histogram bins are integer edges.
//!
//! ```
//! use fairdrop_allocate::stats::Sorted;
//!
//! let s = Sorted::new([0u128, 10, 10, 80]);
//! let d = s.describe(4);
//! assert_eq!(d.summary.count, 4);
//! assert_eq!(d.summary.sum, 100);
//! assert_eq!(d.summary.median, 10.0);
//! assert_eq!(d.top_1pct_share, 0.8); // the top 1% is at least one wallet
//! assert_eq!(d.gini, 0.6); // (−3·0 − 10 + 10 + 3·80) / (4 · 100)
//! assert_eq!(d.lorenz.len(), 5); // 0%, 25%, 50%, 75%, 100%
//! ```

use serde::{Deserialize, Serialize};

use crate::wide::U256;

/// Count, sum, extremes and centre of a distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    /// Exact sum, saturating at `u128::MAX` (amounts always sum to the pool).
    pub sum: u128,
    /// 0 when empty.
    pub min: u128,
    /// 0 when empty.
    pub max: u128,
    /// Middle value, or the mean of the two middle values; 0 when empty.
    pub median: f64,
    /// 0 when empty.
    pub mean: f64,
}

/// One point of the Lorenz curve: the poorest `population` fraction holds `share` of the total.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LorenzPoint {
    pub population: f64,
    pub share: f64,
}

/// One histogram bin `[lo, hi)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub lo: u128,
    /// Exclusive upper edge; `u128::MAX` for the open last bin (which also holds `u128::MAX`).
    pub hi: u128,
    pub count: u64,
    /// Sum of the values in the bin (saturating).
    pub sum: u128,
}

/// Every figure the report shows for one distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub summary: Summary,
    /// Gini coefficient in `[0, 1)`; 0 for an empty or all-zero distribution.
    pub gini: f64,
    /// Share of the total held by the top 1% of wallets (at least one wallet).
    pub top_1pct_share: f64,
    /// Share of the total held by the top 10% of wallets (at least one wallet).
    pub top_10pct_share: f64,
    pub lorenz: Vec<LorenzPoint>,
    pub histogram: Vec<Bucket>,
}

/// Values sorted ascending, ready for every statistic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sorted {
    values: Vec<u128>,
    total: U256,
}

impl Sorted {
    /// Sorts the values (amounts, or points widened to `u128`).
    pub fn new(values: impl IntoIterator<Item = u128>) -> Self {
        let mut values: Vec<u128> = values.into_iter().collect();
        values.sort_unstable();
        let mut total = U256::ZERO;
        for &v in &values {
            total = total
                .checked_add(U256::from_u128(v))
                .expect("fewer than 2^128 values");
        }
        Sorted { values, total }
    }

    /// The sorted values.
    pub fn values(&self) -> &[u128] {
        &self.values
    }

    fn total_f64(&self) -> f64 {
        self.total.to_f64()
    }

    /// Count, sum, min, max, median, mean.
    pub fn summary(&self) -> Summary {
        let v = &self.values;
        let n = v.len();
        let median = match n {
            0 => 0.0,
            _ if n % 2 == 1 => v[n / 2] as f64,
            _ => (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0,
        };
        Summary {
            count: n as u64,
            sum: if self.total.hi == 0 {
                self.total.lo
            } else {
                u128::MAX
            },
            min: v.first().copied().unwrap_or(0),
            max: v.last().copied().unwrap_or(0),
            median,
            mean: if n == 0 {
                0.0
            } else {
                self.total_f64() / n as f64
            },
        }
    }

    /// Gini coefficient `Σ (2i − n − 1) x_i / (n Σ x)` over the ascending values (1-based `i`),
    /// computed exactly in integers and divided once. 0 when empty or all zero.
    pub fn gini(&self) -> f64 {
        let n = self.values.len();
        if n == 0 || self.total == U256::ZERO {
            return 0.0;
        }
        let (mut pos, mut neg) = (U256::ZERO, U256::ZERO);
        for (i, &x) in self.values.iter().enumerate() {
            let c = 2 * (i as i128 + 1) - n as i128 - 1;
            let term = U256::mul(c.unsigned_abs(), x);
            if c >= 0 {
                pos = pos.checked_add(term).expect("bounded by n² · 2^128");
            } else {
                neg = neg.checked_add(term).expect("bounded by n² · 2^128");
            }
        }
        // Ascending order makes the numerator non-negative; the difference is exact.
        let num = pos.checked_sub(neg).unwrap_or(U256::ZERO).to_f64();
        num / (self.total_f64() * n as f64)
    }

    /// `points + 1` Lorenz points at population fractions `0, 1/points, …, 1`: the poorest
    /// `⌊j·n/points⌋` wallets and their share of the total. The diagonal when the total is 0.
    pub fn lorenz(&self, points: usize) -> Vec<LorenzPoint> {
        let points = points.max(1);
        let n = self.values.len();
        let total = self.total_f64();
        let mut out = Vec::with_capacity(points + 1);
        let mut acc = U256::ZERO;
        let mut taken = 0usize;
        for j in 0..=points {
            let upto = ((j as u128 * n as u128) / points as u128) as usize;
            while taken < upto {
                acc = acc
                    .checked_add(U256::from_u128(self.values[taken]))
                    .expect("partial sum below the total");
                taken += 1;
            }
            let population = j as f64 / points as f64;
            let share = if total == 0.0 {
                population
            } else {
                acc.to_f64() / total
            };
            out.push(LorenzPoint { population, share });
        }
        out
    }

    /// Share of the total held by the top `percent`% of wallets, `⌈n · percent / 100⌉` of them
    /// and at least one. 0 when empty or all zero.
    pub fn top_share(&self, percent: u32) -> f64 {
        let n = self.values.len();
        if n == 0 || self.total == U256::ZERO {
            return 0.0;
        }
        let k = ((n as u128 * percent.min(100) as u128).div_ceil(100) as usize).clamp(1, n);
        let mut acc = U256::ZERO;
        for &v in &self.values[n - k..] {
            acc = acc
                .checked_add(U256::from_u128(v))
                .expect("partial sum below the total");
        }
        acc.to_f64() / self.total_f64()
    }

    /// Log-scale histogram on the 1–2–5 series: `[0,1) [1,2) [2,5) [5,10) [10,20) …`, from the
    /// bin of the smallest value to the bin of the largest, empty bins in between included.
    pub fn log_histogram(&self) -> Vec<Bucket> {
        let (Some(&min), Some(&max)) = (self.values.first(), self.values.last()) else {
            return Vec::new();
        };
        let edges = log_edges();
        let bin = |v: u128| edges.partition_point(|&e| e <= v) - 1;
        let (first, last) = (bin(min), bin(max));
        let mut out: Vec<Bucket> = (first..=last)
            .map(|b| Bucket {
                lo: edges[b],
                hi: edges.get(b + 1).copied().unwrap_or(u128::MAX),
                count: 0,
                sum: 0,
            })
            .collect();
        let mut b = first;
        for &v in &self.values {
            while b + 1 < edges.len() && v >= edges[b + 1] {
                b += 1;
            }
            let bucket = &mut out[b - first];
            bucket.count += 1;
            bucket.sum = bucket.sum.saturating_add(v);
        }
        out
    }

    /// All figures: summary, Gini, top 1%/10%, a Lorenz curve of `lorenz_points + 1` points,
    /// and the log-scale histogram.
    pub fn describe(&self, lorenz_points: usize) -> Distribution {
        Distribution {
            summary: self.summary(),
            gini: self.gini(),
            top_1pct_share: self.top_share(1),
            top_10pct_share: self.top_share(10),
            lorenz: self.lorenz(lorenz_points),
            histogram: self.log_histogram(),
        }
    }
}

/// Bin edges `0, 1, 2, 5, 10, 20, 50, …` up to the largest that fits in `u128`.
fn log_edges() -> Vec<u128> {
    let mut edges = vec![0u128];
    let mut decade: u128 = 1;
    loop {
        for m in [1u128, 2, 5] {
            match decade.checked_mul(m) {
                Some(e) => edges.push(e),
                None => return edges,
            }
        }
        match decade.checked_mul(10) {
            Some(d) => decade = d,
            None => return edges,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn figures_are_sane_and_order_free(
            values in proptest::collection::vec(
                prop_oneof![Just(0u128), 0u128..1000, any::<u128>()], 0..300),
        ) {
            let d = Sorted::new(values.clone()).describe(100);
            let mut rev = values.clone();
            rev.reverse();
            prop_assert_eq!(&Sorted::new(rev).describe(100), &d);
            prop_assert!((0.0..1.0).contains(&d.gini), "gini {}", d.gini);
            prop_assert!(d.top_1pct_share <= d.top_10pct_share + 1e-12);
            prop_assert!(d.top_10pct_share <= 1.0 + 1e-12);
            prop_assert_eq!(d.lorenz.len(), 101);
            prop_assert!(d.lorenz.windows(2).all(|w| w[0].share <= w[1].share));
            prop_assert!(d.lorenz.iter().all(|p| p.share <= p.population + 1e-9));
            prop_assert_eq!(d.lorenz[100].share, 1.0);
            let counted: u64 = d.histogram.iter().map(|b| b.count).sum();
            prop_assert_eq!(counted, values.len() as u64);
            for b in &d.histogram {
                prop_assert!(b.lo < b.hi);
            }
            prop_assert!(d.summary.min as f64 <= d.summary.median);
            prop_assert!(d.summary.median <= d.summary.max as f64);
        }
    }

    #[test]
    fn empty_distribution() {
        let d = Sorted::new(Vec::<u128>::new()).describe(100);
        assert_eq!(d.summary.count, 0);
        assert_eq!(d.gini, 0.0);
        assert_eq!(d.top_1pct_share, 0.0);
        assert!(d.histogram.is_empty());
        assert_eq!(d.lorenz.len(), 101);
        assert_eq!(d.lorenz[50].share, 0.5);
    }

    #[test]
    fn equal_values_have_zero_gini() {
        let s = Sorted::new(vec![7u128; 1000]);
        assert_eq!(s.gini(), 0.0);
        assert_eq!(s.top_share(10), 0.1);
        assert_eq!(s.top_share(1), 0.01);
        let l = s.lorenz(4);
        let shares: Vec<f64> = l.iter().map(|p| p.share).collect();
        assert_eq!(shares, [0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn one_holder_has_gini_near_one() {
        let mut v = vec![0u128; 99];
        v.push(1_000_000);
        let s = Sorted::new(v);
        assert!((s.gini() - 0.99).abs() < 1e-12); // (n-1)/n
        assert_eq!(s.top_share(1), 1.0);
        assert_eq!(s.summary().median, 0.0);
        assert_eq!(s.summary().mean, 10_000.0);
    }

    #[test]
    fn gini_hand_computed() {
        // x = 1,2,3,4: Σ(2i−n−1)x = −3·1 −1·2 +1·3 +3·4 = 10; n Σx = 40 → 0.25
        assert_eq!(Sorted::new([4u128, 2, 3, 1]).gini(), 0.25);
        // huge values: exact integer path through 256 bits
        let big = u128::MAX / 4;
        assert_eq!(Sorted::new([big, big * 2, big * 3, big * 4]).gini(), 0.25);
    }

    #[test]
    fn histogram_bins() {
        let s = Sorted::new([0u128, 1, 3, 4, 9, 150]);
        let h = s.log_histogram();
        let bins: Vec<(u128, u128, u64)> = h.iter().map(|b| (b.lo, b.hi, b.count)).collect();
        assert_eq!(
            bins,
            [
                (0, 1, 1),
                (1, 2, 1),
                (2, 5, 2),
                (5, 10, 1),
                (10, 20, 0),
                (20, 50, 0),
                (50, 100, 0),
                (100, 200, 1)
            ]
        );
        assert_eq!(h[2].sum, 7);
        let top = Sorted::new([u128::MAX]).log_histogram();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].count, 1);
        assert_eq!(top[0].hi, u128::MAX);
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(Sorted::new([5u128, 1, 3]).summary().median, 3.0);
        assert_eq!(Sorted::new([5u128, 1, 4, 2]).summary().median, 3.0);
    }
}
