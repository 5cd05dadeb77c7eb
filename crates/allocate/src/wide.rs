//! A minimal unsigned 256-bit integer: just what exact allocation needs.
//!
//! `pool · weight` can exceed `u128` (a pool of 10^30 base units times a weight near 2^64), so
//! products are formed as 256-bit values and divided back by a `u128` denominator whose quotient
//! is known to fit in `u128`.

const LOW64: u128 = u64::MAX as u128;

/// An unsigned 256-bit integer `hi · 2^128 + lo`.
///
/// Field order matters: the derived `Ord` compares `hi` first, then `lo`, which is numeric order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct U256 {
    pub hi: u128,
    pub lo: u128,
}

impl U256 {
    pub const ZERO: U256 = U256 { hi: 0, lo: 0 };

    pub fn from_u128(lo: u128) -> U256 {
        U256 { hi: 0, lo }
    }

    /// The full 256-bit product of two `u128`.
    pub fn mul(a: u128, b: u128) -> U256 {
        let (a1, a0) = (a >> 64, a & LOW64);
        let (b1, b0) = (b >> 64, b & LOW64);
        // Each partial product is below 2^128.
        let p00 = a0 * b0;
        let p01 = a0 * b1;
        let p10 = a1 * b0;
        let p11 = a1 * b1;
        // Middle column: at most 3 · (2^64 - 1), no overflow.
        let mid = (p00 >> 64) + (p01 & LOW64) + (p10 & LOW64);
        let lo = (p00 & LOW64) | (mid << 64);
        let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
        U256 { hi, lo }
    }

    /// `self + other`, or `None` on overflow past 2^256.
    pub fn checked_add(self, other: U256) -> Option<U256> {
        let (lo, carry) = self.lo.overflowing_add(other.lo);
        let hi = self.hi.checked_add(other.hi)?.checked_add(carry as u128)?;
        Some(U256 { hi, lo })
    }

    /// `self - other`, or `None` when `other > self`.
    pub fn checked_sub(self, other: U256) -> Option<U256> {
        let (lo, borrow) = self.lo.overflowing_sub(other.lo);
        let hi = self.hi.checked_sub(other.hi)?.checked_sub(borrow as u128)?;
        Some(U256 { hi, lo })
    }

    /// `(self / d, self % d)` for a quotient that fits in `u128`, i.e. `self.hi < d`.
    ///
    /// Returns `None` when `d == 0` or the quotient would not fit.
    pub fn div_rem(self, d: u128) -> Option<(u128, u128)> {
        if d == 0 || self.hi >= d {
            return None;
        }
        if self.hi == 0 {
            return Some((self.lo / d, self.lo % d));
        }
        if d <= LOW64 {
            // Two schoolbook steps with 64-bit digits; each partial dividend is below d · 2^64.
            let n1 = (self.hi << 64) | (self.lo >> 64);
            let (q1, r1) = (n1 / d, n1 % d);
            let n0 = (r1 << 64) | (self.lo & LOW64);
            let (q0, r0) = (n0 / d, n0 % d);
            return Some(((q1 << 64) | q0, r0));
        }
        // Restoring binary long division over the 128 low bits; the running remainder starts
        // at `hi < d` and stays below `d` after every step.
        let mut rem = self.hi;
        let mut q: u128 = 0;
        for i in (0..128).rev() {
            let carry = rem >> 127;
            rem = (rem << 1) | ((self.lo >> i) & 1);
            q <<= 1;
            if carry == 1 || rem >= d {
                rem = rem.wrapping_sub(d);
                q |= 1;
            }
        }
        Some((q, rem))
    }

    /// The value as `f64` (nearest-ish; deterministic). Used only by descriptive statistics.
    pub fn to_f64(self) -> f64 {
        self.hi as f64 * 2f64.powi(128) + self.lo as f64
    }
}

/// Compares `a · b` with `c · d` exactly.
#[cfg(test)]
pub(crate) fn cmp_products(a: u128, b: u128, c: u128, d: u128) -> std::cmp::Ordering {
    U256::mul(a, b).cmp(&U256::mul(c, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference_mul(a: u128, b: u128) -> (u128, u128) {
        // Bitwise shift-and-add reference.
        let mut acc = U256::ZERO;
        for i in 0..128 {
            if (b >> i) & 1 == 1 {
                let shifted = if i == 0 {
                    U256::from_u128(a)
                } else {
                    U256 {
                        hi: a >> (128 - i),
                        lo: a << i,
                    }
                };
                acc = acc.checked_add(shifted).unwrap();
            }
        }
        (acc.hi, acc.lo)
    }

    #[test]
    fn small_products_and_division() {
        assert_eq!(U256::mul(3, 5), U256::from_u128(15));
        let x = U256::mul(u128::MAX, u128::MAX);
        // (2^128 - 1)^2 = 2^256 - 2^129 + 1
        assert_eq!(x.hi, u128::MAX - 1);
        assert_eq!(x.lo, 1);
        assert_eq!(x.div_rem(u128::MAX), Some((u128::MAX, 0)));
        assert_eq!(U256::from_u128(7).div_rem(0), None);
        assert_eq!(U256 { hi: 5, lo: 0 }.div_rem(5), None);
    }

    proptest! {
        #[test]
        fn mul_matches_reference(a in any::<u128>(), b in any::<u128>()) {
            let p = U256::mul(a, b);
            prop_assert_eq!((p.hi, p.lo), reference_mul(a, b));
        }

        #[test]
        fn div_rem_inverts_mul(q in any::<u128>(), d in 1..=u128::MAX, r_seed in any::<u128>(),
                               small in any::<bool>()) {
            let d = if small { (d & LOW64).max(1) } else { d };
            let r = r_seed % d;
            let x = U256::mul(q, d).checked_add(U256::from_u128(r)).unwrap();
            prop_assert_eq!(x.div_rem(d), Some((q, r)));
        }
    }
}
