//! Poseidon over the BLS12-377 scalar field `Fr`.
//!
//! Parameters (fixed, deterministic): width 3 (rate 2, capacity 1), S-box `x^17`, 8 full rounds
//! (4 + 4) and 31 partial rounds, round constants and MDS matrix from arkworks'
//! `find_poseidon_ark_and_mds::<Fr>(253, 2, 8, 31, 0)` (the Grain LFSR of the Poseidon paper,
//! skip_matrices = 0). These are the values arkworks lists as its default "optimised for
//! constraints" rate-2 set, and the shape (alpha 17, 8 + 31 rounds) of snarkVM's `psd2`.
//!
//! Every hash in fairdrop is one use of the arkworks duplex sponge with the capacity element
//! initialised to a tag: `sponge(tag, inputs)` sets the state to `[tag, 0, 0]`, adds the inputs
//! two at a time into lanes 1 and 2 (permuting between blocks), permutes once more and outputs
//! lane 1. For two inputs that is exactly `P([tag, a, b])[1]`, written `Poseidon(tag; a, b)`.

pub mod many;

use std::sync::OnceLock;

use ark_bls12_377::Fr;
use ark_crypto_primitives::sponge::constraints::CryptographicSpongeVar;
use ark_crypto_primitives::sponge::poseidon::constraints::PoseidonSpongeVar;
use ark_crypto_primitives::sponge::poseidon::{find_poseidon_ark_and_mds, PoseidonConfig};
use ark_ff::{Field, PrimeField, Zero};
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};

/// Rate of the sponge (field elements absorbed per permutation).
pub const RATE: usize = 2;
/// Capacity of the sponge.
pub const CAPACITY: usize = 1;
/// S-box exponent.
pub const ALPHA: u64 = 17;
/// Number of full rounds (half before, half after the partial rounds).
pub const FULL_ROUNDS: usize = 8;
/// Number of partial rounds.
pub const PARTIAL_ROUNDS: usize = 31;
/// Bit size of the BLS12-377 scalar field modulus, as passed to the Grain LFSR.
pub const PRIME_BITS: u64 = 253;

const WIDTH: usize = RATE + CAPACITY;

/// A domain tag: the ASCII bytes of `s` read as a little-endian integer. Every tag this crate
/// uses is at most 25 bytes, so the value is below the modulus and no reduction happens.
pub fn tag(s: &str) -> Fr {
    Fr::from_le_bytes_mod_order(s.as_bytes())
}

struct Params {
    config: PoseidonConfig<Fr>,
    ark: Vec<[Fr; WIDTH]>,
    mds: [[Fr; WIDTH]; WIDTH],
}

fn params() -> &'static Params {
    static P: OnceLock<Params> = OnceLock::new();
    P.get_or_init(|| {
        let (ark, mds) = find_poseidon_ark_and_mds::<Fr>(
            PRIME_BITS,
            RATE,
            FULL_ROUNDS as u64,
            PARTIAL_ROUNDS as u64,
            0,
        );
        let config = PoseidonConfig::new(
            FULL_ROUNDS,
            PARTIAL_ROUNDS,
            ALPHA,
            mds.clone(),
            ark.clone(),
            RATE,
            CAPACITY,
        );
        let ark_fixed = ark.iter().map(|r| [r[0], r[1], r[2]]).collect();
        let mds_fixed = [
            [mds[0][0], mds[0][1], mds[0][2]],
            [mds[1][0], mds[1][1], mds[1][2]],
            [mds[2][0], mds[2][1], mds[2][2]],
        ];
        Params {
            config,
            ark: ark_fixed,
            mds: mds_fixed,
        }
    })
}

/// The arkworks Poseidon configuration used everywhere in this crate.
pub fn config() -> &'static PoseidonConfig<Fr> {
    &params().config
}

#[inline(always)]
fn sbox(x: Fr) -> Fr {
    let x2 = x.square();
    let x4 = x2.square();
    let x8 = x4.square();
    let x16 = x8.square();
    x16 * x
}

/// The Poseidon permutation on a width-3 state (allocation-free; equal to arkworks'
/// `PoseidonSponge::permute`, checked by tests).
pub fn permute(state: &mut [Fr; WIDTH]) {
    let p = params();
    let half = FULL_ROUNDS / 2;
    for (round, rc) in p.ark.iter().enumerate() {
        for (s, c) in state.iter_mut().zip(rc.iter()) {
            *s += c;
        }
        if round < half || round >= half + PARTIAL_ROUNDS {
            for s in state.iter_mut() {
                *s = sbox(*s);
            }
        } else {
            state[0] = sbox(state[0]);
        }
        let s = *state;
        for (out, row) in state.iter_mut().zip(p.mds.iter()) {
            *out = Fr::sum_of_products(row, &s);
        }
    }
}

/// `sponge(tag, inputs)`: state `[tag, 0, 0]`, absorb `inputs` (rate 2), squeeze one element.
pub fn sponge(tag: Fr, inputs: &[Fr]) -> Fr {
    let mut state = [tag, Fr::zero(), Fr::zero()];
    if inputs.is_empty() {
        permute(&mut state);
        return state[1];
    }
    for block in inputs.chunks(RATE) {
        for (i, x) in block.iter().enumerate() {
            state[CAPACITY + i] += x;
        }
        permute(&mut state);
    }
    state[1]
}

/// `Poseidon(tag; a, b) = P([tag, a, b])[1]`.
#[inline]
pub fn hash_tagged(tag: Fr, a: Fr, b: Fr) -> Fr {
    let mut state = [tag, a, b];
    permute(&mut state);
    state[1]
}

/// Two-to-one hash used for Merkle nodes: `Poseidon(0; a, b)` (plain arkworks sponge, capacity 0).
#[inline]
pub fn hash2(a: Fr, b: Fr) -> Fr {
    hash_tagged(Fr::zero(), a, b)
}

/// Variable-length hash: `sponge(tag("fairdrop.hash.v1") + len, inputs)`. The length in the
/// capacity element keeps `[a]` and `[a, 0]` apart (the bare sponge does not pad).
pub fn hash(inputs: &[Fr]) -> Fr {
    sponge(tag(TAG_HASH) + Fr::from(inputs.len() as u64), inputs)
}

/// Tag of [`hash`].
pub const TAG_HASH: &str = "fairdrop.hash.v1";

// ---------------------------------------------------------------------------------------------
// In-circuit versions.

/// In-circuit `sponge(tag, inputs)` with the arkworks `PoseidonSpongeVar` (5 constraints per
/// S-box, 275 per permutation).
pub fn sponge_var(
    cs: ConstraintSystemRef<Fr>,
    tag: &FpVar<Fr>,
    inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    let mut sp = PoseidonSpongeVar::new(cs, config());
    sp.state[0] = tag.clone();
    if inputs.is_empty() {
        // arkworks squeezes with a permutation first when nothing was absorbed.
    } else {
        sp.absorb(&inputs.to_vec())?;
    }
    let out = sp.squeeze_field_elements(1)?;
    out.into_iter().next().ok_or(SynthesisError::Unsatisfiable)
}

/// In-circuit [`hash_tagged`].
pub fn hash_tagged_var(
    cs: ConstraintSystemRef<Fr>,
    tag: Fr,
    a: &FpVar<Fr>,
    b: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    sponge_var(cs, &FpVar::Constant(tag), &[a.clone(), b.clone()])
}

/// In-circuit [`hash2`].
pub fn hash2_var(
    cs: ConstraintSystemRef<Fr>,
    a: &FpVar<Fr>,
    b: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    hash_tagged_var(cs, Fr::zero(), a, b)
}

/// In-circuit [`hash`].
pub fn hash_var(
    cs: ConstraintSystemRef<Fr>,
    inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    let t = tag(TAG_HASH) + Fr::from(inputs.len() as u64);
    sponge_var(cs, &FpVar::Constant(t), inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_crypto_primitives::sponge::poseidon::PoseidonSponge;
    use ark_crypto_primitives::sponge::{CryptographicSponge, FieldBasedCryptographicSponge};
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::ConstraintSystem;

    fn arkworks_sponge(tag: Fr, inputs: &[Fr]) -> Fr {
        let mut sp = PoseidonSponge::<Fr>::new(config());
        sp.state[0] = tag;
        for x in inputs {
            sp.absorb(x);
        }
        sp.squeeze_native_field_elements(1)[0]
    }

    fn fe(n: u64) -> Fr {
        Fr::from(n)
    }

    #[test]
    fn fast_permutation_matches_arkworks_sponge() {
        for n in 0..6u64 {
            let inputs: Vec<Fr> = (0..n).map(|i| fe(1000 + i * 7919)).collect();
            for t in [Fr::zero(), tag("fairdrop.x"), fe(5)] {
                assert_eq!(sponge(t, &inputs), arkworks_sponge(t, &inputs), "n={n}");
            }
        }
        assert_eq!(
            hash2(fe(1), fe(2)),
            arkworks_sponge(Fr::zero(), &[fe(1), fe(2)])
        );
    }

    #[test]
    fn hash_separates_lengths_and_tags() {
        assert_ne!(hash(&[fe(1)]), hash(&[fe(1), Fr::zero()]));
        assert_ne!(hash(&[]), hash2(Fr::zero(), Fr::zero()));
        assert_ne!(hash_tagged(tag("a"), fe(1), fe(2)), hash2(fe(1), fe(2)));
        assert_ne!(hash2(fe(1), fe(2)), hash2(fe(2), fe(1)));
    }

    #[test]
    fn parameters_are_pinned() {
        // Pin the generated constants so a dependency change cannot move every root silently.
        let c = config();
        assert_eq!(c.ark.len(), FULL_ROUNDS + PARTIAL_ROUNDS);
        assert_eq!(c.mds.len(), 3);
        assert_eq!(
            crate::fe_to_hex(&hash2(Fr::zero(), Fr::zero())),
            crate::fe_to_hex(&arkworks_sponge(Fr::zero(), &[Fr::zero(), Fr::zero()]))
        );
    }

    #[test]
    fn gadget_matches_native() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        for n in 0..5u64 {
            let inputs: Vec<Fr> = (0..n).map(|i| fe(31 * i + 2)).collect();
            let vars: Vec<FpVar<Fr>> = inputs
                .iter()
                .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                .collect();
            let h = hash_var(cs.clone(), &vars).unwrap();
            assert_eq!(h.value().unwrap(), hash(&inputs));
        }
        let a = FpVar::new_witness(cs.clone(), || Ok(fe(3))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(fe(4))).unwrap();
        assert_eq!(
            hash2_var(cs.clone(), &a, &b).unwrap().value().unwrap(),
            hash2(fe(3), fe(4))
        );
        assert!(cs.is_satisfied().unwrap());
    }
}
