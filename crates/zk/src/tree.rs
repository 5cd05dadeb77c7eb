//! Fixed-depth, position-ordered Poseidon Merkle tree over `Fr`, built sparsely.
//!
//! Node = `hash2(left, right)` = `Poseidon(0; left, right)`. Leaves sit at positions
//! `0..n`; every position `n..2^depth` holds the empty leaf. Subtrees made only of empty leaves
//! are never materialised: `empty[0] = EMPTY_LEAF`, `empty[k+1] = hash2(empty[k], empty[k])`,
//! and a level stores only the nodes that have at least one real leaf below them.
//! Building costs `n + depth` hashes (about n − 1 + depth permutations), memory about `2n` field
//! elements.

use ark_bls12_377::Fr;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::poseidon::{hash2, hash_tagged, tag};
use crate::{fe_serde, ZkError};

/// Tag of the empty leaf.
pub const TAG_EMPTY: &str = "fairdrop.empty.v1";

/// The empty leaf: `Poseidon(tag("fairdrop.empty.v1"); 0, 0)`.
pub fn empty_leaf() -> Fr {
    hash_tagged(tag(TAG_EMPTY), Fr::from(0u64), Fr::from(0u64))
}

/// `empty[k]` of the private tree ([`NodeHash::Fairdrop`]).
pub fn empty_hashes(depth: usize) -> Vec<Fr> {
    NodeHash::Fairdrop.empty_hashes(depth)
}

/// Largest depth accepted (keeps `1 << depth` inside u64 and paths small).
pub const MAX_DEPTH: usize = 32;

/// How a tree hashes its nodes and what its empty positions hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeHash {
    /// fairdrop's private tree: node `hash2(left, right)`, empty leaf [`empty_leaf`].
    Fairdrop,
    /// The `aleo` profile: node = snarkVM's `hash.psd2 [left, right]` (a `[field; 2]`), empty
    /// leaf `0field` (no `Leaf` struct hashes to it: that would be a Poseidon preimage).
    Psd2,
}

impl NodeHash {
    /// The parent of two nodes.
    pub fn node(self, left: Fr, right: Fr) -> Fr {
        match self {
            NodeHash::Fairdrop => hash2(left, right),
            NodeHash::Psd2 => crate::psd2::node(left, right),
        }
    }

    /// The value of a position past the last leaf.
    pub fn empty_leaf(self) -> Fr {
        match self {
            NodeHash::Fairdrop => empty_leaf(),
            NodeHash::Psd2 => Fr::from(0u64),
        }
    }

    /// `empty[k]` = root of a subtree of height `k` made of empty leaves, `k = 0..=depth`.
    pub fn empty_hashes(self, depth: usize) -> Vec<Fr> {
        let mut v = Vec::with_capacity(depth + 1);
        v.push(self.empty_leaf());
        for k in 0..depth {
            let e = v[k];
            v.push(self.node(e, e));
        }
        v
    }
}

/// A Merkle path: the leaf index and the `depth` siblings from the leaf level up.
/// Bit `i` of `index` (LSB first) is 1 when the node at level `i` is a right child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerklePath {
    pub index: u64,
    #[serde(with = "fe_serde::vec")]
    pub siblings: Vec<Fr>,
}

impl MerklePath {
    /// Depth of the tree this path belongs to.
    pub fn depth(&self) -> usize {
        self.siblings.len()
    }

    /// The root obtained by hashing `leaf` up this path. Errors when the index does not fit
    /// the depth.
    pub fn compute_root(&self, leaf: Fr) -> Result<Fr, ZkError> {
        self.compute_root_with(NodeHash::Fairdrop, leaf)
    }

    /// [`MerklePath::compute_root`] with the given node hash.
    pub fn compute_root_with(&self, hash: NodeHash, leaf: Fr) -> Result<Fr, ZkError> {
        let depth = self.siblings.len();
        if depth > MAX_DEPTH || (depth < 64 && self.index >> depth != 0) {
            return Err(ZkError::PathIndex {
                index: self.index,
                depth,
            });
        }
        let mut cur = leaf;
        for (i, s) in self.siblings.iter().enumerate() {
            cur = if (self.index >> i) & 1 == 1 {
                hash.node(*s, cur)
            } else {
                hash.node(cur, *s)
            };
        }
        Ok(cur)
    }

    /// Whether `leaf` at this path hashes to `root`.
    pub fn verify(&self, leaf: Fr, root: Fr) -> bool {
        matches!(self.compute_root(leaf), Ok(r) if r == root)
    }

    /// Index bits, LSB first (`depth` of them).
    pub fn index_bits(&self) -> Vec<bool> {
        (0..self.siblings.len())
            .map(|i| (self.index >> i) & 1 == 1)
            .collect()
    }
}

/// A sparse fixed-depth Merkle tree.
#[derive(Clone, Debug)]
pub struct SparseTree {
    hash: NodeHash,
    depth: usize,
    /// levels[0] = leaves, levels[k] = nodes at height k (only those with a real leaf below).
    levels: Vec<Vec<Fr>>,
    empty: Vec<Fr>,
}

const PAR_THRESHOLD: usize = 1 << 12;

/// The parents of `level` (pairs in order; a last odd node is paired with `empty`), hashed
/// [`crate::poseidon::many::LANES`] at a time.
fn hash_pairs(hash: NodeHash, level: &[Fr], empty: Fr) -> Vec<Fr> {
    if hash == NodeHash::Psd2 {
        return crate::psd2::nodes(level, empty);
    }
    let mut states: Vec<[Fr; 3]> = level
        .chunks(2)
        .map(|c| {
            [
                Fr::from(0u64),
                c[0],
                if c.len() == 2 { c[1] } else { empty },
            ]
        })
        .collect();
    crate::poseidon::many::permute_many(&mut states);
    states.iter().map(|s| s[1]).collect()
}

impl SparseTree {
    /// Build a tree of the given depth over `leaves` (positions `0..leaves.len()`).
    pub fn new(depth: usize, leaves: Vec<Fr>) -> Result<SparseTree, ZkError> {
        SparseTree::with_hash(NodeHash::Fairdrop, depth, leaves)
    }

    /// Build a tree whose nodes are hashed with `hash`.
    pub fn with_hash(hash: NodeHash, depth: usize, leaves: Vec<Fr>) -> Result<SparseTree, ZkError> {
        if depth > MAX_DEPTH {
            return Err(ZkError::TooDeep(depth));
        }
        if (leaves.len() as u128) > (1u128 << depth) {
            return Err(ZkError::TooManyLeaves {
                leaves: leaves.len(),
                depth,
            });
        }
        let empty = hash.empty_hashes(depth);
        let mut levels = Vec::with_capacity(depth + 1);
        levels.push(leaves);
        for k in 0..depth {
            let prev = &levels[k];
            let e = empty[k];
            let next: Vec<Fr> = if prev.len() >= PAR_THRESHOLD {
                prev.par_chunks(PAR_THRESHOLD)
                    .map(|c| hash_pairs(hash, c, e))
                    .collect::<Vec<_>>()
                    .concat()
            } else {
                hash_pairs(hash, prev, e)
            };
            levels.push(next);
        }
        Ok(SparseTree {
            hash,
            depth,
            levels,
            empty,
        })
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    /// How this tree hashes its nodes.
    pub fn node_hash(&self) -> NodeHash {
        self.hash
    }

    /// Number of real leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    pub fn leaves(&self) -> &[Fr] {
        &self.levels[0]
    }

    pub fn leaf(&self, index: usize) -> Option<Fr> {
        self.levels[0].get(index).copied()
    }

    /// The root (the empty-tree root when there are no leaves).
    pub fn root(&self) -> Fr {
        self.levels[self.depth]
            .first()
            .copied()
            .unwrap_or(self.empty[self.depth])
    }

    /// The path of leaf `index`.
    pub fn path(&self, index: usize) -> Result<MerklePath, ZkError> {
        if index >= self.len() {
            return Err(ZkError::LeafIndex {
                index,
                len: self.len(),
            });
        }
        let mut siblings = Vec::with_capacity(self.depth);
        let mut i = index;
        for k in 0..self.depth {
            let s = self.levels[k].get(i ^ 1).copied().unwrap_or(self.empty[k]);
            siblings.push(s);
            i >>= 1;
        }
        Ok(MerklePath {
            index: index as u64,
            siblings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense_root(hash: NodeHash, depth: usize, leaves: &[Fr]) -> Fr {
        let mut level: Vec<Fr> = (0..1usize << depth)
            .map(|i| leaves.get(i).copied().unwrap_or_else(|| hash.empty_leaf()))
            .collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|c| hash.node(c[0], c[1])).collect();
        }
        level[0]
    }

    #[test]
    fn sparse_equals_dense_and_paths_verify() {
        for hash in [NodeHash::Fairdrop, NodeHash::Psd2] {
            for depth in 0..=5 {
                for n in 0..=(1usize << depth) {
                    let leaves: Vec<Fr> = (0..n as u64).map(|i| Fr::from(i * 3 + 1)).collect();
                    let t = SparseTree::with_hash(hash, depth, leaves.clone()).unwrap();
                    assert_eq!(
                        t.root(),
                        dense_root(hash, depth, &leaves),
                        "{hash:?} depth {depth} n {n}"
                    );
                    for (i, l) in leaves.iter().enumerate() {
                        let p = t.path(i).unwrap();
                        assert!(p.compute_root_with(hash, *l).unwrap() == t.root());
                        assert!(
                            p.compute_root_with(hash, *l + Fr::from(1u64)).unwrap() != t.root()
                        );
                    }
                }
            }
        }
        // Large enough for the parallel path.
        let leaves: Vec<Fr> = (0..5000u64).map(Fr::from).collect();
        let t = SparseTree::with_hash(NodeHash::Psd2, 13, leaves.clone()).unwrap();
        assert_eq!(t.root(), dense_root(NodeHash::Psd2, 13, &leaves));
    }

    #[test]
    fn rejects_overflow_and_bad_indices() {
        assert!(matches!(
            SparseTree::new(1, vec![Fr::from(1u64); 3]),
            Err(ZkError::TooManyLeaves { .. })
        ));
        assert!(SparseTree::new(40, vec![]).is_err());
        let t = SparseTree::new(3, vec![Fr::from(1u64)]).unwrap();
        assert!(t.path(1).is_err());
        let mut p = t.path(0).unwrap();
        p.index = 8;
        assert!(p.compute_root(Fr::from(1u64)).is_err());
        assert!(!p.verify(Fr::from(1u64), t.root()));
    }
}
