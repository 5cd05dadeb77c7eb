//! Integer weight functions: the shape of the curve from points to share of the pool.
//!
//! Everything is exact integer arithmetic so that every platform computes the same weights (no
//! `f64`, no libm). Every function here is monotone: more points never gives a smaller weight.

use crate::wide::U256;

/// Fractional bits of [`sqrt_weight`]: the weight is `√points` in fixed point with 32 fraction bits.
pub const SQRT_FRACTION_BITS: u32 = 32;

/// Fractional bits of [`log_weight`]: the weight is `log2(1 + points)` with 32 fraction bits.
pub const LOG_FRACTION_BITS: u32 = 32;

/// `⌊√(points · 2^64)⌋ = ⌊√points · 2^32⌋`: the square root in fixed point, exact (integer square
/// root, no rounding error). Below 2^64 for every `u64` input; zero only for zero points.
pub fn sqrt_weight(points: u64) -> u64 {
    // points · 2^64 < 2^128, and its square root is below 2^64.
    (((points as u128) << 64).isqrt()) as u64
}

/// `log2(1 + points) · 2^32`, rounded down, in integer arithmetic only.
///
/// The integer part is the bit length; the 32 fraction bits come from the classic
/// square-and-compare method with a 127-bit fixed-point mantissa (squared exactly in 256 bits,
/// then truncated). Truncation keeps each intermediate a hair below its exact value, so the
/// result is the exact `⌊2^32 · log2(1 + points)⌋` except when that real number lies within about
/// 2^-90 of the next integer, where it may come out one unit (2^-32) lower. Powers of two are
/// exact. The function is monotone (a larger input never yields a smaller weight), deterministic
/// on every platform, zero only for zero points, and at most `64 · 2^32` (for `u64::MAX`).
pub fn log_weight(points: u64) -> u64 {
    let x = points as u128 + 1;
    let int_part = 127 - x.leading_zeros(); // ⌊log2 x⌋, 0..=64
                                            // Mantissa y ∈ [1, 2) as a 128-bit number with 127 fraction bits: y ∈ [2^127, 2^128).
    let mut y = x << (127 - int_part);
    let mut frac: u64 = 0;
    for _ in 0..LOG_FRACTION_BITS {
        // y² ∈ [1, 4) with 254 fraction bits.
        let sq = U256::mul(y, y);
        frac <<= 1;
        if sq.hi >> 127 == 1 {
            // y² ≥ 2: emit a one and halve: y = y² / 2 (drop one more bit).
            frac |= 1;
            y = sq.hi;
        } else {
            y = (sq.hi << 1) | (sq.lo >> 127);
        }
    }
    ((int_part as u64) << LOG_FRACTION_BITS) | frac
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sqrt_known_values() {
        assert_eq!(sqrt_weight(0), 0);
        assert_eq!(sqrt_weight(1), 1 << 32);
        assert_eq!(sqrt_weight(4), 2 << 32);
        assert_eq!(sqrt_weight(100), 10 << 32);
        // √2 · 2^32 = 6074000999.95…
        assert_eq!(sqrt_weight(2), 6_074_000_999);
        assert_eq!(sqrt_weight(u64::MAX), u64::MAX);
    }

    #[test]
    fn log_known_values() {
        assert_eq!(log_weight(0), 0);
        assert_eq!(log_weight(1), 1 << 32); // log2 2 = 1
        assert_eq!(log_weight(3), 2 << 32); // log2 4 = 2
        assert_eq!(log_weight(1023), 10 << 32);
        assert_eq!(log_weight(u64::MAX), 64 << 32);
        // log2 3 · 2^32 = 6807362105.98…
        assert_eq!(log_weight(2), 6_807_362_105);
        // log2 10 · 2^32 = 14267572527.20…
        assert_eq!(log_weight(9), 14_267_572_527);
    }

    proptest! {
        #[test]
        fn weights_are_monotone(a in any::<u64>(), b in any::<u64>()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(sqrt_weight(lo) <= sqrt_weight(hi));
            prop_assert!(log_weight(lo) <= log_weight(hi));
        }

        #[test]
        fn sqrt_is_exact_floor(p in any::<u64>()) {
            let w = sqrt_weight(p) as u128;
            let target = (p as u128) << 64;
            prop_assert!(w * w <= target);
            // (w + 1)² > target, computed without overflow in 256 bits.
            prop_assert!(U256::mul(w + 1, w + 1) > U256::from_u128(target));
        }

        #[test]
        fn log_is_close_to_float(p in 0u64..(1 << 52)) {
            // Cross-check against f64 (only in the test; the library uses no floats).
            let expect = ((p as f64) + 1.0).log2() * 4_294_967_296.0;
            let got = log_weight(p) as f64;
            prop_assert!((got - expect).abs() <= 2.0, "p={p} got={got} expect={expect}");
        }
    }
}
