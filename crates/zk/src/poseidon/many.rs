//! Many Poseidon permutations at once: [`permute_many`].
//!
//! Tree building hashes hundreds of thousands of independent states (a 551k-leaf `aleo` tree is
//! 2.2M permutations, 14 s of 2 cores with arkworks' field arithmetic, 2.7 s on this path). On x86-64 CPUs with
//! AVX-512 IFMA (52-bit integer multiply-add: Ice Lake and later Xeons, Zen 4 and later) this
//! module runs 16 permutations side by side, one per 64-bit lane of two sets of 512-bit
//! vectors. Elsewhere, or for a short tail, it falls back to the scalar [`super::permute`].
//!
//! The results are the same field elements as the scalar permutation, bit for bit (tests
//! compare both on random and edge-case states); only the arithmetic differs:
//! - An element is 5 limbs of 52 bits, in Montgomery form with R = 2^260 (arkworks uses
//!   2^256). p < 2^253 leaves 7 bits of headroom, so values are kept below 2^256 rather than
//!   below p ("lazy reduction"): a Montgomery product of two values below 2^256 is below
//!   2^252 + p < 2p, and only the final output is reduced to canonical form.
//! - Multiplication is schoolbook with `vpmadd52luq` / `vpmadd52huq` into 64-bit column
//!   accumulators, then word-by-word Montgomery reduction (5 steps of 52 bits).
//! - The MDS step sums the three products of a row before one reduction.
//!
//! Conversion: arkworks keeps `a·2^256 mod p`; multiplying that by `2^264 mod p` in this
//! module's Montgomery product gives `a·2^260`, and by `2^256 mod p` takes it back.

use ark_bls12_377::Fr;
use ark_ff::{BigInt, Field, PrimeField};
use std::sync::OnceLock;

use super::{params, FULL_ROUNDS, PARTIAL_ROUNDS, WIDTH};

const MASK52: u64 = (1 << 52) - 1;

/// Constants in this module's form (5 limbs of 52 bits, Montgomery R = 2^260).
struct Consts {
    p: [u64; 5],
    /// -p^-1 mod 2^52.
    pinv: u64,
    /// 2^264 mod p (into this form from arkworks' Montgomery form).
    c_in: [u64; 5],
    /// 2^256 mod p (back to arkworks' form).
    c_out: [u64; 5],
    ark: Vec<[[u64; 5]; WIDTH]>,
    mds: [[[u64; 5]; WIDTH]; WIDTH],
    /// p as four 64-bit words, for the final conditional subtraction.
    p64: [u64; 4],
}

/// 52-bit limbs of a canonical integer below 2^260.
fn limbs52(w: &[u64; 4]) -> [u64; 5] {
    [
        w[0] & MASK52,
        ((w[0] >> 52) | (w[1] << 12)) & MASK52,
        ((w[1] >> 40) | (w[2] << 24)) & MASK52,
        ((w[2] >> 28) | (w[3] << 36)) & MASK52,
        w[3] >> 16,
    ]
}

/// Back to 64-bit words (the value must be below 2^256).
fn words64(l: &[u64; 5]) -> [u64; 4] {
    [
        l[0] | (l[1] << 52),
        (l[1] >> 12) | (l[2] << 40),
        (l[2] >> 24) | (l[3] << 28),
        (l[3] >> 36) | (l[4] << 16),
    ]
}

/// `x` in this module's Montgomery form: the canonical integer of `x · 2^260 mod p`.
fn to_form(x: Fr) -> [u64; 5] {
    let r260 = Fr::from(2u64).pow([260u64]);
    limbs52(&(x * r260).into_bigint().0)
}

fn consts() -> &'static Consts {
    static C: OnceLock<Consts> = OnceLock::new();
    C.get_or_init(|| {
        let p64 = Fr::MODULUS.0;
        let p = limbs52(&p64);
        // Newton iteration for p^-1 mod 2^64 (p is odd), then negate mod 2^52.
        let mut inv: u64 = 1;
        for _ in 0..7 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(p64[0].wrapping_mul(inv)));
        }
        let pinv = inv.wrapping_neg() & MASK52;
        let two = Fr::from(2u64);
        // c_in, c_out are used as raw multipliers (not in this form): their integers.
        let c_in = limbs52(&two.pow([264u64]).into_bigint().0);
        let c_out = limbs52(&two.pow([256u64]).into_bigint().0);
        let par = params();
        Consts {
            p,
            pinv,
            c_in,
            c_out,
            ark: par
                .ark
                .iter()
                .map(|r| [to_form(r[0]), to_form(r[1]), to_form(r[2])])
                .collect(),
            mds: par.mds.map(|row| row.map(to_form)),
            p64,
        }
    })
}

/// Whether [`permute_many`] uses the vector path on this CPU.
pub fn vectorised() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static V: OnceLock<bool> = OnceLock::new();
        *V.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512ifma")
                && std::env::var_os("FAIRDROP_NO_SIMD").is_none()
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Number of permutations the vector path runs side by side.
pub const LANES: usize = 16;

/// Apply the Poseidon permutation to every state; equal to calling [`super::permute`] on each.
/// Uses AVX-512 IFMA when the CPU has it (see [`vectorised`]; the environment variable
/// `FAIRDROP_NO_SIMD` turns it off), 16 states at a time.
pub fn permute_many(states: &mut [[Fr; WIDTH]]) {
    #[cfg(target_arch = "x86_64")]
    if vectorised() {
        let c = consts();
        let mut chunks = states.chunks_exact_mut(LANES);
        for chunk in &mut chunks {
            // SAFETY: `vectorised()` checked that the CPU has AVX-512F and IFMA.
            unsafe { ifma::permute16(chunk, c) };
        }
        let rest = chunks.into_remainder();
        if rest.len() > LANES / 4 {
            let mut pad = [[Fr::from(0u64); WIDTH]; LANES];
            pad[..rest.len()].copy_from_slice(rest);
            // SAFETY: as above.
            unsafe { ifma::permute16(&mut pad, c) };
            rest.copy_from_slice(&pad[..rest.len()]);
        } else {
            rest.iter_mut().for_each(super::permute);
        }
        return;
    }
    states.iter_mut().for_each(super::permute);
}

/// `Poseidon(tag; a, b)` for every pair (see [`super::hash_tagged`]).
pub fn hash_tagged_many(tag: Fr, pairs: impl ExactSizeIterator<Item = (Fr, Fr)>) -> Vec<Fr> {
    let mut states: Vec<[Fr; WIDTH]> = pairs.map(|(a, b)| [tag, a, b]).collect();
    permute_many(&mut states);
    states.iter().map(|s| s[1]).collect()
}

/// Scalar reference: the conversion helpers round-trip (used by tests).
#[cfg(test)]
fn roundtrip_words(x: Fr) -> Fr {
    let w = words64(&limbs52(&x.0 .0));
    Fr::new_unchecked(BigInt(w))
}

#[cfg(target_arch = "x86_64")]
mod ifma {
    use super::*;
    use std::arch::x86_64::*;

    type L = [__m512i; 5];
    /// Two groups of 8 lanes, interleaved so one group's reduction chain hides the other's.
    const G: usize = 2;

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn splat(x: &[u64; 5]) -> L {
        [
            _mm512_set1_epi64(x[0] as i64),
            _mm512_set1_epi64(x[1] as i64),
            _mm512_set1_epi64(x[2] as i64),
            _mm512_set1_epi64(x[3] as i64),
            _mm512_set1_epi64(x[4] as i64),
        ]
    }

    /// Montgomery reduction of column accumulators `t` (each below 2^58) to 5 normalised limbs.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn redc(t: &mut [[__m512i; 10]; G], p: &L, pinv: __m512i) -> [L; G] {
        let z = _mm512_setzero_si512();
        for i in 0..5 {
            let mut m = [z; G];
            for g in 0..G {
                m[g] = _mm512_madd52lo_epu64(z, t[g][i], pinv);
            }
            for j in 0..5 {
                for g in 0..G {
                    t[g][i + j] = _mm512_madd52lo_epu64(t[g][i + j], m[g], p[j]);
                    t[g][i + j + 1] = _mm512_madd52hi_epu64(t[g][i + j + 1], m[g], p[j]);
                }
            }
            for tg in t.iter_mut() {
                tg[i + 1] = _mm512_add_epi64(tg[i + 1], _mm512_srli_epi64(tg[i], 52));
            }
        }
        let mask = _mm512_set1_epi64(MASK52 as i64);
        let mut out = [[z; 5]; G];
        for g in 0..G {
            for k in 5..9 {
                t[g][k + 1] = _mm512_add_epi64(t[g][k + 1], _mm512_srli_epi64(t[g][k], 52));
                out[g][k - 5] = _mm512_and_si512(t[g][k], mask);
            }
            out[g][4] = t[g][9];
        }
        out
    }

    /// Accumulate the schoolbook product `a·b` into the columns `t`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mac(t: &mut [[__m512i; 10]; G], a: &[L; G], b: &[L; G]) {
        for i in 0..5 {
            for j in 0..5 {
                for g in 0..G {
                    t[g][i + j] = _mm512_madd52lo_epu64(t[g][i + j], a[g][i], b[g][j]);
                    t[g][i + j + 1] = _mm512_madd52hi_epu64(t[g][i + j + 1], a[g][i], b[g][j]);
                }
            }
        }
    }

    /// As [`mac`] with the same constant `b` in every lane of every group.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mac_const(t: &mut [[__m512i; 10]; G], a: &[L; G], b: &L) {
        for i in 0..5 {
            for j in 0..5 {
                for g in 0..G {
                    t[g][i + j] = _mm512_madd52lo_epu64(t[g][i + j], a[g][i], b[j]);
                    t[g][i + j + 1] = _mm512_madd52hi_epu64(t[g][i + j + 1], a[g][i], b[j]);
                }
            }
        }
    }

    /// `a · b / 2^260 mod p`, below 2p for inputs below 2^256.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul(a: &[L; G], b: &[L; G], p: &L, pinv: __m512i) -> [L; G] {
        let mut t = [[_mm512_setzero_si512(); 10]; G];
        mac(&mut t, a, b);
        redc(&mut t, p, pinv)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul_const(a: &[L; G], b: &L, p: &L, pinv: __m512i) -> [L; G] {
        let mut t = [[_mm512_setzero_si512(); 10]; G];
        mac_const(&mut t, a, b);
        redc(&mut t, p, pinv)
    }

    /// `x^17` (four squarings and one product).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn sbox(x: &[L; G], p: &L, pinv: __m512i) -> [L; G] {
        let x2 = mul(x, x, p, pinv);
        let x4 = mul(&x2, &x2, p, pinv);
        let x8 = mul(&x4, &x4, p, pinv);
        let x16 = mul(&x8, &x8, p, pinv);
        mul(&x16, x, p, pinv)
    }

    /// `x + c` with carries propagated (limbs below 2^52 again; the value stays below 2^260).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn add_const(x: &mut [L; G], c: &L) {
        let mask = _mm512_set1_epi64(MASK52 as i64);
        for xg in x.iter_mut() {
            let mut carry = _mm512_setzero_si512();
            for k in 0..5 {
                let s = _mm512_add_epi64(_mm512_add_epi64(xg[k], c[k]), carry);
                if k < 4 {
                    carry = _mm512_srli_epi64(s, 52);
                    xg[k] = _mm512_and_si512(s, mask);
                } else {
                    xg[k] = s;
                }
            }
        }
    }

    /// Permute 16 states (lanes `g*8 .. g*8+8` in group `g`).
    ///
    /// # Safety
    /// The CPU must support AVX-512F and AVX-512 IFMA.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn permute16(states: &mut [[Fr; WIDTH]], c: &Consts) {
        debug_assert_eq!(states.len(), 8 * G);
        let z = _mm512_setzero_si512();
        let p = splat(&c.p);
        let pinv = _mm512_set1_epi64(c.pinv as i64);
        // Load: arkworks' Montgomery words -> 52-bit limbs -> this module's form.
        let c_in = splat(&c.c_in);
        let mut s = [[[z; 5]; G]; WIDTH];
        for (e, se) in s.iter_mut().enumerate() {
            let mut lanes = [[[0u64; 8]; 5]; G];
            for (i, st) in states.iter().enumerate() {
                let l = limbs52(&st[e].0 .0);
                for k in 0..5 {
                    lanes[i / 8][k][i % 8] = l[k];
                }
            }
            let mut raw = [[z; 5]; G];
            for g in 0..G {
                for k in 0..5 {
                    raw[g][k] = _mm512_loadu_si512(lanes[g][k].as_ptr().cast());
                }
            }
            *se = mul_const(&raw, &c_in, &p, pinv);
        }
        let mds: [[L; WIDTH]; WIDTH] = c.mds.map(|row| row.map(|m| splat(&m)));
        let half = FULL_ROUNDS / 2;
        for (round, rc) in c.ark.iter().enumerate() {
            for e in 0..WIDTH {
                add_const(&mut s[e], &splat(&rc[e]));
            }
            if round < half || round >= half + PARTIAL_ROUNDS {
                for se in s.iter_mut() {
                    *se = sbox(se, &p, pinv);
                }
            } else {
                s[0] = sbox(&s[0], &p, pinv);
            }
            let mut next = [[[z; 5]; G]; WIDTH];
            for (out, row) in next.iter_mut().zip(mds.iter()) {
                let mut t = [[z; 10]; G];
                for (se, m) in s.iter().zip(row.iter()) {
                    mac_const(&mut t, se, m);
                }
                *out = redc(&mut t, &p, pinv);
            }
            s = next;
        }
        // Store: back to arkworks' form, reduced below p.
        let c_out = splat(&c.c_out);
        for (e, se) in s.iter().enumerate() {
            let back = mul_const(se, &c_out, &p, pinv);
            let mut lanes = [[[0u64; 8]; 5]; G];
            for g in 0..G {
                for k in 0..5 {
                    _mm512_storeu_si512(lanes[g][k].as_mut_ptr().cast(), back[g][k]);
                }
            }
            for (i, st) in states.iter_mut().enumerate() {
                let l: [u64; 5] = std::array::from_fn(|k| lanes[i / 8][k][i % 8]);
                st[e] = Fr::new_unchecked(BigInt(reduce_once(words64(&l), &c.p64)));
            }
        }
    }

    /// `w - p` if `w >= p`, else `w` (for `w < 2p`).
    fn reduce_once(w: [u64; 4], p: &[u64; 4]) -> [u64; 4] {
        let mut d = [0u64; 4];
        let mut borrow = false;
        for k in 0..4 {
            let (x, b1) = w[k].overflowing_sub(p[k]);
            let (x, b2) = x.overflowing_sub(borrow as u64);
            d[k] = x;
            borrow = b1 || b2;
        }
        if borrow {
            w
        } else {
            d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, UniformRand, Zero};
    use ark_std::rand::{rngs::StdRng, SeedableRng};

    fn scalar(states: &[[Fr; WIDTH]]) -> Vec<[Fr; WIDTH]> {
        let mut v = states.to_vec();
        v.iter_mut().for_each(super::super::permute);
        v
    }

    #[test]
    fn limb_conversions_round_trip() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let x = Fr::rand(&mut rng);
            assert_eq!(roundtrip_words(x), x);
        }
        assert_eq!(roundtrip_words(-Fr::from(1u64)), -Fr::from(1u64));
    }

    #[test]
    fn many_equals_scalar_on_random_and_edge_states() {
        // On a CPU with IFMA this checks the vector path (and says so); elsewhere the fallback.
        eprintln!("vectorised Poseidon: {}", vectorised());
        let mut rng = StdRng::seed_from_u64(7);
        let minus1 = -Fr::from(1u64);
        let edges = [
            Fr::zero(),
            Fr::from(1u64),
            minus1,
            minus1.double(),
            Fr::from(u64::MAX),
        ];
        for n in [0usize, 1, 3, 4, 5, 8, 15, 16, 17, 33, 100] {
            let states: Vec<[Fr; WIDTH]> = (0..n)
                .map(|i| {
                    if i < edges.len() * 3 && i % 2 == 0 {
                        [edges[i % 5], edges[(i / 5) % 5], edges[(i + 2) % 5]]
                    } else {
                        [Fr::rand(&mut rng), Fr::rand(&mut rng), Fr::rand(&mut rng)]
                    }
                })
                .collect();
            let mut got = states.clone();
            permute_many(&mut got);
            assert_eq!(got, scalar(&states), "n = {n}");
        }
    }

    #[test]
    fn chained_permutations_stay_equal() {
        // Outputs fed back as inputs many times: any lazy-reduction bound that is off shows
        // up as a drift from the scalar result.
        let mut rng = StdRng::seed_from_u64(11);
        let mut a: Vec<[Fr; WIDTH]> = (0..LANES)
            .map(|_| [Fr::rand(&mut rng), Fr::rand(&mut rng), Fr::rand(&mut rng)])
            .collect();
        let mut b = a.clone();
        for _ in 0..50 {
            permute_many(&mut a);
            b.iter_mut().for_each(super::super::permute);
        }
        assert_eq!(a, b);
    }

    #[test]
    fn hash_tagged_many_equals_hash_tagged() {
        let mut rng = StdRng::seed_from_u64(3);
        let pairs: Vec<(Fr, Fr)> = (0..40)
            .map(|_| (Fr::rand(&mut rng), Fr::rand(&mut rng)))
            .collect();
        let t = super::super::tag("fairdrop.test");
        let got = hash_tagged_many(t, pairs.iter().copied());
        let want: Vec<Fr> = pairs
            .iter()
            .map(|(a, b)| super::super::hash_tagged(t, *a, *b))
            .collect();
        assert_eq!(got, want);
    }
}
