//! Precision, recall and F1 of predicted sybils against labels, and a deterministic split of
//! the labels into two halves by address hash (tune on one, report on the other).

use fairdrop_core::Address;

use crate::load::Label;

/// Confusion counts and the derived figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    pub true_pos: u64,
    pub false_pos: u64,
    pub false_neg: u64,
    pub true_neg: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Scores {
    /// The figures of confusion counts (0 where a ratio has no denominator).
    pub fn from_counts(tp: u64, fp: u64, fneg: u64, tn: u64) -> Self {
        let p = if tp + fp == 0 {
            0.0
        } else {
            tp as f64 / (tp + fp) as f64
        };
        let r = if tp + fneg == 0 {
            0.0
        } else {
            tp as f64 / (tp + fneg) as f64
        };
        let f1 = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        Scores {
            true_pos: tp,
            false_pos: fp,
            false_neg: fneg,
            true_neg: tn,
            precision: p,
            recall: r,
            f1,
        }
    }

    /// Labelled wallets counted.
    pub fn n(&self) -> u64 {
        self.true_pos + self.false_pos + self.false_neg + self.true_neg
    }
}

impl std::fmt::Display for Scores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "precision {:.4}  recall {:.4}  F1 {:.4}  (tp {} fp {} fn {} tn {}, n {})",
            self.precision,
            self.recall,
            self.f1,
            self.true_pos,
            self.false_pos,
            self.false_neg,
            self.true_neg,
            self.n()
        )
    }
}

/// Which labels to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    All,
    /// Addresses whose hash is even.
    A,
    /// Addresses whose hash is odd.
    B,
}

/// A stable 64-bit hash of an address (FNV-1a over its bytes, finalised with splitmix64 so
/// that every input bit reaches every output bit).
pub fn address_hash(a: &Address) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in a.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    h
}

/// Half of the split an address falls in (the low bit of [`address_hash`]).
pub fn split_of(a: &Address) -> Split {
    let h = address_hash(a);
    if h & 1 == 0 {
        Split::A
    } else {
        Split::B
    }
}

/// Score `is_sybil` against `labels`, restricted to `split`.
pub fn evaluate(
    labels: &[(Address, Label)],
    split: Split,
    mut is_sybil: impl FnMut(&Address) -> bool,
) -> Scores {
    let (mut tp, mut fp, mut fneg, mut tn) = (0, 0, 0, 0);
    for (a, l) in labels {
        if split != Split::All && split_of(a) != split {
            continue;
        }
        match (is_sybil(a), l) {
            (true, Label::Sybil) => tp += 1,
            (true, Label::Clean) => fp += 1,
            (false, Label::Sybil) => fneg += 1,
            (false, Label::Clean) => tn += 1,
        }
    }
    Scores::from_counts(tp, fp, fneg, tn)
}

/// Score a `clusters.csv` (rows whose action is not `cleared` are predicted sybils) against
/// an `address,label` file: (all, half A, half B).
pub fn evaluate_files(
    pred: &std::path::Path,
    labels: &std::path::Path,
) -> Result<(Scores, Scores, Scores), crate::SybilError> {
    let rows = crate::output::read_clusters_csv(pred)?;
    let labels = crate::load::read_labels(labels)?;
    let mut sybil: Vec<Address> = rows
        .iter()
        .filter(|r| r.action.is_sybil())
        .map(|r| r.address)
        .collect();
    sybil.sort();
    sybil.dedup();
    let is = |a: &Address| sybil.binary_search(a).is_ok();
    Ok((
        evaluate(&labels, Split::All, is),
        evaluate(&labels, Split::A, is),
        evaluate(&labels, Split::B, is),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(i: u8) -> Address {
        Address::Evm([i; 20])
    }

    #[test]
    fn counts_and_figures() {
        let labels = vec![
            (a(1), Label::Sybil),
            (a(2), Label::Sybil),
            (a(3), Label::Clean),
            (a(4), Label::Clean),
        ];
        let s = evaluate(&labels, Split::All, |x| *x == a(1) || *x == a(3));
        assert_eq!(
            (s.true_pos, s.false_pos, s.false_neg, s.true_neg),
            (1, 1, 1, 1)
        );
        assert!((s.precision - 0.5).abs() < 1e-12);
        assert!((s.recall - 0.5).abs() < 1e-12);
        assert!((s.f1 - 0.5).abs() < 1e-12);
        let none = evaluate(&labels, Split::All, |_| false);
        assert_eq!(none.f1, 0.0);
    }

    #[test]
    fn halves_partition_the_labels() {
        let labels: Vec<_> = (0..100u8).map(|i| (a(i), Label::Sybil)).collect();
        let sa = evaluate(&labels, Split::A, |_| true);
        let sb = evaluate(&labels, Split::B, |_| true);
        assert_eq!(sa.n() + sb.n(), 100);
        assert!(sa.n() > 20 && sb.n() > 20);
    }
}
