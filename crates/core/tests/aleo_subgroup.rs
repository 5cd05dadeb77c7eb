//! Aleo address validity as snarkVM decides it: an x-coordinate is an address iff one of the
//! points (x, ±y) is in the prime-order subgroup. `Address::aleo_from_x` decides it with two
//! quadratic characters; here it is compared, for a few thousand x-coordinates, with
//! arkworks' direct check (multiplication by the group order).
use ark_ed_on_bls12_377::{EdwardsAffine, Fq};
use ark_ff::{BigInteger, Field, PrimeField};
use fairdrop_core::{Address, AddressError};

fn slow_valid(x: Fq) -> Option<bool> {
    let d = Fq::from(3021u64);
    let y2 = (Fq::ONE + x.square()) * (Fq::ONE - d * x.square()).inverse()?;
    let y = y2.sqrt()?; // None: off the curve
    let p = EdwardsAffine::new_unchecked(x, y);
    assert!(p.is_on_curve());
    let q = EdwardsAffine::new_unchecked(x, -y);
    Some(
        p.is_in_correct_subgroup_assuming_on_curve()
            || q.is_in_correct_subgroup_assuming_on_curve(),
    )
}

#[test]
fn fast_subgroup_check_agrees_with_scalar_multiplication() {
    let mut x = Fq::from(12345u64);
    let (mut valid, mut invalid, mut off) = (0, 0, 0);
    for _ in 0..4000 {
        x = x * x + Fq::from(7u64);
        let bytes: [u8; 32] = x.into_bigint().to_bytes_le().try_into().unwrap();
        let fast = Address::aleo_from_x(bytes);
        match slow_valid(x) {
            None => {
                off += 1;
                assert!(
                    matches!(fast, Err(AddressError::AleoOffCurve)),
                    "{x}: {fast:?}"
                );
            }
            Some(true) => {
                valid += 1;
                assert!(fast.is_ok(), "{x}: {fast:?}");
            }
            Some(false) => {
                invalid += 1;
                assert!(
                    matches!(fast, Err(AddressError::AleoNotInSubgroup)),
                    "{x}: {fast:?}"
                );
            }
        }
    }
    // Both outcomes occur often (each about half of the on-curve x).
    assert!(
        valid > 900 && invalid > 900 && off > 1500,
        "{valid} {invalid} {off}"
    );
}

/// Addresses made by real keys (snarkVM's test key, real mainnet transactions' signers) pass.
#[test]
fn real_addresses_are_in_the_subgroup() {
    for a in [
        "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf",
        "aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add",
        "aleo1rhgdu77hgyqd3xjj8ucu3jj9r2krwz6mnzyd80gncr5fxcwlh5rsvzp9px",
    ] {
        Address::parse(a).unwrap_or_else(|e| panic!("{a}: {e}"));
    }
    // snarkVM refuses this one ("Failed to parse string"): on the curve, outside the subgroup.
    let e = Address::parse("aleo18qqqqqqqqqqqpjjjz3ahdj4vl6wk3zuzm37s80l86qpx8fyx95fqw5qw4k")
        .unwrap_err();
    assert_eq!(e.rule(), "address.aleo.not_in_subgroup");
}
