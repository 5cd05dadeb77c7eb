//! A small deterministic PRNG: xoshiro256** seeded through SplitMix64.
//!
//! Written here (not taken from a crate) so that a given seed yields the same world forever,
//! whatever crate versions are in the lock file. Only integer arithmetic and correctly rounded
//! IEEE operations (`sqrt`, `*`, `/`) are used, so results do not depend on the platform's libm.

/// The SplitMix64 output function: a bijection on `u64` with good avalanche.
#[inline]
pub(crate) fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Key for stream `index` of `domain` under `seed`.
#[inline]
pub(crate) fn derive_key(seed: u64, domain: u64, index: u64) -> u64 {
    mix64(mix64(mix64(seed) ^ domain) ^ index)
}

/// xoshiro256** (Blackman & Vigna).
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is filled by SplitMix64 from `key`.
    pub(crate) fn new(key: u64) -> Self {
        let mut k = key;
        // Textbook SplitMix64: state += γ, output = finalizer(state) (`mix64` adds γ itself).
        let mut next = || {
            let z = mix64(k);
            k = k.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z
        };
        let s = [next(), next(), next(), next()];
        // SplitMix64 never yields four zero words in a row, but keep the invariant explicit.
        let s = if s == [0; 4] { [1, 2, 3, 4] } else { s };
        Rng { s }
    }

    /// The independent stream `index` of `domain` under `seed`.
    pub(crate) fn derive(seed: u64, domain: u64, index: u64) -> Self {
        Rng::new(derive_key(seed, domain, index))
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (multiply-shift; `n == 0` gives 0).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`hi < lo` gives `lo`).
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// Uniform signed in `lo..=hi`.
    #[inline]
    pub(crate) fn range_i(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64 + 1) as i64
        }
    }

    /// True with probability `pm / 1000`.
    #[inline]
    pub(crate) fn chance(&mut self, pm: u32) -> bool {
        self.below(1000) < pm as u64
    }

    /// Uniform in `(0, 1]`, 53 bits.
    #[inline]
    pub(crate) fn unit_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Pareto with shape 4/3 and scale `xm`: `xm · U^(-3/4)`, computed with square roots only
    /// (correctly rounded everywhere), truncated to an integer and capped at `cap`.
    /// The top 1% of draws hold about 30% of the total.
    pub(crate) fn pareto43(&mut self, xm: u64, cap: u64) -> u64 {
        let u = self.unit_open0();
        let s = u.sqrt();
        let v = xm as f64 / (s * s.sqrt());
        if v >= cap as f64 {
            cap
        } else {
            v as u64
        }
    }

    /// Index drawn from cumulative integer weights (`cum` increasing, last = total).
    pub(crate) fn weighted(&mut self, cum: &[u32]) -> usize {
        let total = *cum.last().unwrap_or(&0) as u64;
        let r = self.below(total) as u32;
        cum.partition_point(|&c| c <= r)
            .min(cum.len().saturating_sub(1))
    }

    /// Shuffle in place (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// Cumulative sums of weights.
pub(crate) fn cumulative(w: &[u32]) -> Vec<u32> {
    let mut acc = 0;
    w.iter()
        .map(|x| {
            acc += x;
            acc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_never_change() {
        // Pinned outputs (the reference xoshiro256** seeded by SplitMix64(0)): if these
        // change, every simulated world changes.
        let mut r = Rng::new(0);
        let a = [r.next_u64(), r.next_u64(), r.next_u64()];
        assert_eq!(
            a,
            [
                0x99ec_5f36_cb75_f2b4,
                0xbf6e_1f78_4956_452a,
                0x1a5f_849d_4933_e6e0
            ]
        );
        assert_eq!(mix64(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn ranges() {
        let mut r = Rng::derive(7, 1, 2);
        for _ in 0..10_000 {
            assert!(r.below(10) < 10);
            let x = r.range(3, 5);
            assert!((3..=5).contains(&x));
            let y = r.range_i(-5, 5);
            assert!((-5..=5).contains(&y));
            let p = r.pareto43(10, 1000);
            assert!((10..=1000).contains(&p));
        }
        let cum = cumulative(&[1, 0, 3]);
        for _ in 0..1000 {
            assert_ne!(r.weighted(&cum), 1);
        }
    }
}
