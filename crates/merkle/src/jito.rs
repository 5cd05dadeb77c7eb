//! The `jito` profile: Jito's Solana `merkle-distributor` (jito-foundation/distributor).
//!
//! Checked against that repository's source (`merkle-tree/src/merkle_tree.rs`,
//! `merkle-tree/src/tree_node.rs`, `merkle-tree/src/airdrop_merkle_tree.rs`,
//! `merkle-tree/src/utils.rs` and `verify/src/lib.rs`):
//!
//! * claim hash = sha256(claimant pubkey (32) ‖ amount_unlocked u64 LE ‖ amount_locked u64 LE)
//!   (`TreeNode::hash`); leaf = sha256(0x00 ‖ claim hash) (`hash_leaf!` with `LEAF_PREFIX`);
//! * leaves in the order of the tree nodes (not sorted by hash); `AirdropMerkleTree::new` keeps
//!   input order. fairdrop sorts claimants by pubkey bytes first so the root does not depend on
//!   row order (the same root Jito's tool gives for that order);
//! * level above: pairs (l[2i], l[2i+1]); on an odd level the last node is paired with
//!   itself (`MerkleTree::new`, "Duplicate last entry if the level length is odd");
//!   node = sha256(0x01 ‖ min(a,b) ‖ max(a,b)) (`sorted_hashes = true`);
//! * proof = the sibling at each level below the root, the node itself where it was duplicated
//!   (`find_path` + `get_proof`); on-chain `verify` folds with the same sorted rule.
//!
//! fairdrop puts the whole amount in `amount_unlocked` (locked = 0). Output: the JSON of Jito's
//! `AirdropMerkleTree` (serde, pretty), which its CLI reads, with the amount as
//! `total_unlocked_staker`.

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{MerkleError, Result};
use crate::hash::{sha256v, Hash32};

/// One claimant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitoClaim {
    pub claimant: [u8; 32],
    pub unlocked: u64,
    pub locked: u64,
    pub leaf: Hash32,
}

/// A Jito distributor tree.
#[derive(Clone, Debug)]
pub struct JitoTree {
    levels: Vec<Vec<Hash32>>,
    claims: Vec<JitoClaim>,
}

/// sha256(0x00 ‖ sha256(pubkey ‖ unlocked LE ‖ locked LE)).
pub fn leaf_hash(claimant: &[u8; 32], unlocked: u64, locked: u64) -> Hash32 {
    let inner = sha256v(&[claimant, &unlocked.to_le_bytes(), &locked.to_le_bytes()]);
    sha256v(&[&[0u8], &inner])
}

/// sha256(0x01 ‖ min ‖ max).
pub fn node_hash(a: &Hash32, b: &Hash32) -> Hash32 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    sha256v(&[&[1u8], lo, hi])
}

/// Fold a proof onto a leaf, as the on-chain `verify`.
pub fn process_proof(leaf: &Hash32, proof: &[Hash32]) -> Hash32 {
    proof.iter().fold(*leaf, |a, p| node_hash(&a, p))
}

impl JitoTree {
    /// Build from (pubkey, unlocked, locked); sorted by pubkey, duplicates are an error.
    pub fn build(entries: &[([u8; 32], u64, u64)]) -> Result<JitoTree> {
        if entries.is_empty() {
            return Err(MerkleError::Empty);
        }
        let mut rows = entries.to_vec();
        rows.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for w in rows.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(MerkleError::Invalid(format!(
                    "duplicate claimant {}",
                    bs58::encode(w[0].0).into_string()
                )));
            }
        }
        let mut total: u64 = 0;
        for r in &rows {
            total = r
                .1
                .checked_add(r.2)
                .and_then(|t| total.checked_add(t))
                .ok_or_else(|| MerkleError::Invalid("max_total_claim overflows u64".to_string()))?;
        }
        let claims: Vec<JitoClaim> = rows
            .par_iter()
            .map(|(c, u, l)| JitoClaim {
                claimant: *c,
                unlocked: *u,
                locked: *l,
                leaf: leaf_hash(c, *u, *l),
            })
            .collect();
        let mut levels = vec![claims.iter().map(|c| c.leaf).collect::<Vec<_>>()];
        while levels.last().map_or(0, Vec::len) > 1 {
            let prev = levels.last().expect("non-empty");
            let next: Vec<Hash32> = prev
                .par_chunks(2)
                .map(|c| match c {
                    [a, b] => node_hash(a, b),
                    [a] => node_hash(a, a),
                    _ => unreachable!("chunks of 2"),
                })
                .collect();
            levels.push(next);
        }
        Ok(JitoTree { levels, claims })
    }

    pub fn root(&self) -> Hash32 {
        self.levels.last().expect("non-empty")[0]
    }

    /// Claims in leaf order (sorted by pubkey).
    pub fn claims(&self) -> &[JitoClaim] {
        &self.claims
    }

    /// The levels, leaves first.
    pub fn levels(&self) -> &[Vec<Hash32>] {
        &self.levels
    }

    /// Proof for leaf `i`.
    pub fn proof(&self, mut i: usize) -> Vec<Hash32> {
        let mut proof = Vec::with_capacity(self.levels.len());
        for level in &self.levels[..self.levels.len() - 1] {
            let s = if i.is_multiple_of(2) {
                if i + 1 < level.len() {
                    i + 1
                } else {
                    i
                }
            } else {
                i - 1
            };
            proof.push(level[s]);
            i /= 2;
        }
        proof
    }

    /// Leaf index of `claimant`.
    pub fn find(&self, claimant: &[u8; 32]) -> Option<usize> {
        self.claims
            .binary_search_by(|c| c.claimant.cmp(claimant))
            .ok()
    }

    /// Jito's `AirdropMerkleTree` JSON (`serde_json::to_string_pretty`).
    pub fn to_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Node {
            claimant: [u8; 32],
            proof: Option<Vec<[u8; 32]>>,
            total_unlocked_staker: u64,
            total_locked_staker: u64,
            total_unlocked_searcher: u64,
            total_locked_searcher: u64,
            total_unlocked_validator: u64,
            total_locked_validator: u64,
        }
        #[derive(Serialize)]
        struct Tree {
            merkle_root: [u8; 32],
            max_num_nodes: u64,
            max_total_claim: u64,
            tree_nodes: Vec<Node>,
        }
        let t = Tree {
            merkle_root: self.root(),
            max_num_nodes: self.claims.len() as u64,
            max_total_claim: self.claims.iter().map(|c| c.unlocked + c.locked).sum(),
            tree_nodes: self
                .claims
                .iter()
                .enumerate()
                .map(|(i, c)| Node {
                    claimant: c.claimant,
                    proof: Some(self.proof(i)),
                    total_unlocked_staker: c.unlocked,
                    total_locked_staker: c.locked,
                    total_unlocked_searcher: 0,
                    total_locked_searcher: 0,
                    total_unlocked_validator: 0,
                    total_locked_validator: 0,
                })
                .collect(),
        };
        serde_json::to_vec_pretty(&t).expect("plain structs serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_levels_duplicate_the_last_node() {
        let t = JitoTree::build(&[([1; 32], 5, 0), ([2; 32], 6, 0), ([3; 32], 7, 1)]).unwrap();
        let l = t.levels();
        assert_eq!(l.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 2, 1]);
        assert_eq!(l[1][1], node_hash(&l[0][2], &l[0][2]));
        assert_eq!(t.proof(2)[0], l[0][2]);
        for n in 1..20u8 {
            let e: Vec<_> = (0..n).map(|i| ([i; 32], i as u64, 0)).collect();
            let t = JitoTree::build(&e).unwrap();
            for (i, c) in t.claims().iter().enumerate() {
                assert_eq!(process_proof(&c.leaf, &t.proof(i)), t.root());
            }
        }
        // a single leaf is its own root
        let t = JitoTree::build(&[([9; 32], 1, 2)]).unwrap();
        assert_eq!(t.root(), leaf_hash(&[9; 32], 1, 2));
        assert!(t.proof(0).is_empty());
    }

    #[test]
    fn leaf_layout() {
        // sha256(0x00 || sha256(pubkey || 1u64 LE || 2u64 LE)), spelled out.
        let mut pre = vec![7u8; 32];
        pre.extend_from_slice(&1u64.to_le_bytes());
        pre.extend_from_slice(&2u64.to_le_bytes());
        let inner = sha256v(&[&pre]);
        let mut outer = vec![0u8];
        outer.extend_from_slice(&inner);
        assert_eq!(leaf_hash(&[7; 32], 1, 2), sha256v(&[&outer]));
    }
}
