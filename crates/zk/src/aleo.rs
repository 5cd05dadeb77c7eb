//! The `aleo` Merkle profile: Aleo address + u64 microcredits leaves, Poseidon over `Fr`.
//!
//! - `x` = the Aleo address's x-coordinate (the 32-byte bech32m payload, little-endian; always
//!   below the modulus for a valid address) as an `Fr` element.
//! - leaf = `Poseidon(tag("fairdrop.aleo.leaf.v1"); x, amount)` with `amount` the u64 as an `Fr`.
//! - node = `Poseidon(0; left, right)`, position-ordered (not sorted).
//! - fixed depth 24 ([`ALEO_DEPTH`]); positions past the last leaf hold the empty leaf
//!   `Poseidon(tag("fairdrop.empty.v1"); 0, 0)`.
//! - leaf `i` is the `i`-th pair given to [`AleoTree::build`]; callers pass allocations in their
//!   canonical (sorted) order so the root is reproducible.

use std::collections::HashSet;

use ark_bls12_377::Fr;
use fairdrop_core::Address;
use serde::{Deserialize, Serialize};

use crate::poseidon::{hash_tagged, tag};
use crate::tree::{MerklePath, SparseTree};
use crate::{fe_serde, ZkError};

/// Tag of `aleo` profile leaves.
pub const TAG_ALEO_LEAF: &str = "fairdrop.aleo.leaf.v1";
/// Depth of every `aleo` profile tree (up to 16,777,216 leaves). Fixed so that a verifier
/// (an Aleo program, a circuit) has one constant loop bound and one proof length.
pub const ALEO_DEPTH: usize = 24;

/// The x-coordinate of an Aleo address as a field element.
pub fn aleo_x(addr: &Address) -> Result<Fr, ZkError> {
    match addr {
        Address::Aleo(x) => crate::fe_from_le_bytes(x).ok_or(ZkError::AleoXNotCanonical),
        Address::Evm(_) => Err(ZkError::NotAleo(addr.to_string())),
    }
}

/// `aleo` profile leaf hash.
pub fn aleo_leaf(addr: &Address, microcredits: u64) -> Result<Fr, ZkError> {
    Ok(hash_tagged(
        tag(TAG_ALEO_LEAF),
        aleo_x(addr)?,
        Fr::from(microcredits),
    ))
}

/// An `aleo` profile tree.
#[derive(Clone, Debug)]
pub struct AleoTree {
    tree: SparseTree,
    entries: Vec<(Address, u64)>,
}

/// A proof for one `aleo` leaf, as written to JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AleoProof {
    pub address: String,
    pub amount: u64,
    #[serde(with = "fe_serde")]
    pub leaf: Fr,
    pub path: MerklePath,
}

impl AleoTree {
    /// Build from `(address, microcredits)` pairs in the given order. Rejects EVM addresses,
    /// duplicate addresses and more than 2^24 entries.
    pub fn build(entries: &[(Address, u64)]) -> Result<AleoTree, ZkError> {
        let mut seen = HashSet::with_capacity(entries.len());
        for (a, _) in entries {
            if !seen.insert(*a) {
                return Err(ZkError::DuplicateAddress(a.to_string()));
            }
        }
        use rayon::prelude::*;
        let t = tag(TAG_ALEO_LEAF);
        let leaves: Vec<Fr> = entries
            .par_chunks(2048)
            .map(|c| -> Result<Vec<Fr>, ZkError> {
                let pairs: Vec<(Fr, Fr)> = c
                    .iter()
                    .map(|(a, m)| Ok((aleo_x(a)?, Fr::from(*m))))
                    .collect::<Result<_, ZkError>>()?;
                Ok(crate::poseidon::many::hash_tagged_many(
                    t,
                    pairs.into_iter(),
                ))
            })
            .collect::<Result<Vec<_>, _>>()?
            .concat();
        Ok(AleoTree {
            tree: SparseTree::new(ALEO_DEPTH, leaves)?,
            entries: entries.to_vec(),
        })
    }

    pub fn root(&self) -> Fr {
        self.tree.root()
    }

    /// Root as `0x` + 64 hex digits (big-endian).
    pub fn root_hex(&self) -> String {
        crate::fe_to_hex(&self.root())
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    pub fn tree(&self) -> &SparseTree {
        &self.tree
    }

    /// The proof of leaf `index`.
    pub fn proof(&self, index: usize) -> Result<AleoProof, ZkError> {
        let path = self.tree.path(index)?;
        let (addr, amount) = self.entries[index];
        Ok(AleoProof {
            address: addr.to_string(),
            amount,
            leaf: self.tree.leaves()[index],
            path,
        })
    }
}

/// Why an `aleo` proof does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AleoVerifyError {
    #[error("address is not a valid Aleo address: {0}")]
    Address(String),
    #[error("leaf in the proof does not match Poseidon(address, amount)")]
    LeafMismatch,
    #[error("path has {got} siblings, the aleo profile uses {expected}")]
    PathLength { got: usize, expected: usize },
    #[error("path index {0} does not fit depth 24")]
    Index(u64),
    #[error("path hashes to {computed}, not the root {root}")]
    RootMismatch { computed: String, root: String },
}

/// Check an `aleo` proof against a root, naming the first check that fails.
pub fn verify_aleo_proof(root: &Fr, proof: &AleoProof) -> Result<(), AleoVerifyError> {
    let addr = Address::parse(&proof.address)
        .map_err(|e| AleoVerifyError::Address(format!("{}: {e}", proof.address)))?;
    let leaf =
        aleo_leaf(&addr, proof.amount).map_err(|e| AleoVerifyError::Address(e.to_string()))?;
    if leaf != proof.leaf {
        return Err(AleoVerifyError::LeafMismatch);
    }
    if proof.path.depth() != ALEO_DEPTH {
        return Err(AleoVerifyError::PathLength {
            got: proof.path.depth(),
            expected: ALEO_DEPTH,
        });
    }
    let computed = proof
        .path
        .compute_root(leaf)
        .map_err(|_| AleoVerifyError::Index(proof.path.index))?;
    if computed != *root {
        return Err(AleoVerifyError::RootMismatch {
            computed: crate::fe_to_hex(&computed),
            root: crate::fe_to_hex(root),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A1: &str = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";
    const A2: &str = "aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add";
    const A3: &str = "aleo1d5hg2z3ma00382pngntdp68e74zv54jdxy249qhaujhks9c72yrs33ddah";

    fn entries() -> Vec<(Address, u64)> {
        vec![
            (Address::parse(A1).unwrap(), 1_000_000),
            (Address::parse(A2).unwrap(), 2_500_000),
            (Address::parse(A3).unwrap(), 7),
        ]
    }

    #[test]
    fn builds_proves_verifies() {
        let t = AleoTree::build(&entries()).unwrap();
        assert_eq!(t.len(), 3);
        // Deterministic.
        assert_eq!(t.root(), AleoTree::build(&entries()).unwrap().root());
        for i in 0..3 {
            let p = t.proof(i).unwrap();
            assert_eq!(p.path.depth(), ALEO_DEPTH);
            verify_aleo_proof(&t.root(), &p).unwrap();
            // JSON round trip.
            let j = serde_json::to_string(&p).unwrap();
            let back: AleoProof = serde_json::from_str(&j).unwrap();
            verify_aleo_proof(&t.root(), &back).unwrap();
        }
        // Order matters (position-ordered).
        let mut e = entries();
        e.swap(0, 1);
        assert_ne!(AleoTree::build(&e).unwrap().root(), t.root());
    }

    #[test]
    fn wrong_amount_address_or_path_fail_with_the_check_named() {
        let t = AleoTree::build(&entries()).unwrap();
        let mut p = t.proof(1).unwrap();
        p.amount += 1;
        assert_eq!(
            verify_aleo_proof(&t.root(), &p),
            Err(AleoVerifyError::LeafMismatch)
        );
        let mut p = t.proof(1).unwrap();
        p.path.siblings.pop();
        assert!(matches!(
            verify_aleo_proof(&t.root(), &p),
            Err(AleoVerifyError::PathLength { .. })
        ));
        let mut p = t.proof(1).unwrap();
        p.path.index = 0;
        assert!(matches!(
            verify_aleo_proof(&t.root(), &p),
            Err(AleoVerifyError::RootMismatch { .. })
        ));
        let mut p = t.proof(1).unwrap();
        p.address = "aleo1bad".into();
        assert!(matches!(
            verify_aleo_proof(&t.root(), &p),
            Err(AleoVerifyError::Address(_))
        ));
    }

    #[test]
    fn rejects_evm_and_duplicates() {
        let evm = Address::parse("0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f").unwrap();
        assert!(matches!(
            AleoTree::build(&[(evm, 1)]),
            Err(ZkError::NotAleo(_))
        ));
        let a = Address::parse(A1).unwrap();
        assert!(matches!(
            AleoTree::build(&[(a, 1), (a, 2)]),
            Err(ZkError::DuplicateAddress(_))
        ));
    }

    #[test]
    fn leaf_encoding_is_the_documented_one() {
        use ark_ff::PrimeField;
        let a = Address::parse(A1).unwrap();
        let x = Fr::from_le_bytes_mod_order(a.as_bytes());
        let t = Fr::from_le_bytes_mod_order(TAG_ALEO_LEAF.as_bytes());
        let manual = crate::poseidon::sponge(t, &[x, Fr::from(5u64)]);
        assert_eq!(aleo_leaf(&a, 5).unwrap(), manual);
    }
}
