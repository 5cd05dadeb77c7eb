//! The `oz` profile: OpenZeppelin `StandardMerkleTree` (`@openzeppelin/merkle-tree` 1.0.8,
//! dump format `standard-v1`), byte for byte.
//!
//! * leaf = keccak256(keccak256(abi.encode(value...)))
//! * node = keccak256(min(a, b) ‖ max(a, b)) (byte order, as `MerkleProof.sol`)
//! * leaves sorted by hash (stable: equal hashes keep input order), placed from the end of an
//!   array of 2n−1 nodes: leaf k of the sorted list is at `tree[2n−2−k]`; node i has children
//!   2i+1 and 2i+2; the root is `tree[0]`.
//! * `values` keep input order, each with the `treeIndex` of its leaf.
//! * [`OzTree::dump_json`] is byte-identical to `JSON.stringify(tree.dump())`.
//!
//! [`OzTree::load`] re-validates every node and value and is stricter than the npm package in
//! one way: every leaf must have exactly one value (a leaf without a value would be a hidden
//! claim).

use std::collections::{HashMap, VecDeque};
use std::sync::OnceLock;

use rayon::prelude::*;
use serde_json::Value;

use crate::abi::{encode_values, AbiType};
use crate::error::{MerkleError, Result};
use crate::hash::{
    hex32, keccak256, keccak_pair_sorted, parse_hex32, push_hex_bytes, shorten, Hash32,
};

/// The `format` field of a dump.
pub const FORMAT: &str = "standard-v1";

/// One value of the tree: its JSON text (a compact JSON array, as the npm package writes it)
/// and the index of its leaf in the node array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OzValue {
    /// Compact JSON array text, e.g. `["0x5b9c…","100"]`.
    pub value: String,
    /// Index of this value's leaf in [`OzTree::tree`].
    pub tree_index: usize,
}

/// A multiproof, as `getMultiProof` returns it: `leaves` are the proven values (JSON array
/// texts) in the order the proof consumes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OzMultiProof {
    pub leaves: Vec<String>,
    pub proof: Vec<Hash32>,
    pub proof_flags: Vec<bool>,
}

/// An OpenZeppelin standard Merkle tree.
#[derive(Debug)]
pub struct OzTree {
    leaf_encoding: Vec<String>,
    types: Vec<AbiType>,
    tree: Vec<Hash32>,
    values: Vec<OzValue>,
    lookup: OnceLock<HashMap<Hash32, usize>>,
}

/// The OpenZeppelin standard leaf hash of abi-encoded bytes: keccak256(keccak256(encoded)).
#[inline]
pub fn leaf_hash_encoded(encoded: &[u8]) -> Hash32 {
    keccak256(&keccak256(encoded))
}

/// The standard leaf hash of a JSON value array under `types`.
pub fn leaf_hash(types: &[AbiType], value: &[Value]) -> Result<Hash32> {
    Ok(leaf_hash_encoded(&encode_values(types, value)?))
}

/// Parse a leaf encoding (`["address","uint256"]`).
pub fn parse_encoding<S: AsRef<str>>(enc: &[S]) -> Result<Vec<AbiType>> {
    if enc.is_empty() {
        return Err(MerkleError::InvalidValue(
            "leaf encoding is empty".to_string(),
        ));
    }
    enc.iter().map(|s| AbiType::parse(s.as_ref())).collect()
}

/// Fill the internal nodes `tree[0..n-1]` of a heap-laid tree whose leaves are already placed.
fn build_internal(tree: &mut [Hash32], n: usize) {
    if n < 2 {
        return;
    }
    let last_internal = n - 2;
    let max_depth = usize::BITS - 1 - (last_internal + 1).leading_zeros(); // floor(log2(i+1))
    for d in (0..=max_depth).rev() {
        let a = (1usize << d) - 1;
        let b = ((1usize << (d + 1)) - 2).min(last_internal);
        let (left, right) = tree.split_at_mut(b + 1);
        let off = b + 1;
        let level = &mut left[a..=b];
        let f = |(k, slot): (usize, &mut Hash32)| {
            let i = a + k;
            *slot = keccak_pair_sorted(&right[2 * i + 1 - off], &right[2 * i + 2 - off]);
        };
        if level.len() >= 2048 {
            level.par_iter_mut().enumerate().for_each(f);
        } else {
            level.iter_mut().enumerate().for_each(f);
        }
    }
}

#[inline]
fn sibling(i: usize) -> usize {
    if i % 2 == 1 {
        i + 1
    } else {
        i - 1
    }
}

#[inline]
fn parent(i: usize) -> usize {
    (i - 1) / 2
}

/// Fold a proof onto a leaf with sorted-pair keccak.
pub fn process_proof(leaf: &Hash32, proof: &[Hash32]) -> Hash32 {
    proof
        .iter()
        .fold(*leaf, |acc, p| keccak_pair_sorted(&acc, p))
}

/// The root a multiproof gives for `leaves` (already hashed), exactly as `processMultiProof`;
/// malformed multiproofs are errors, never panics.
pub fn process_multi_proof(leaves: &[Hash32], proof: &[Hash32], flags: &[bool]) -> Result<Hash32> {
    let needed = flags.iter().filter(|f| !**f).count();
    if proof.len() < needed {
        return Err(MerkleError::Verify(format!(
            "invalid multiproof format: {} proof nodes but {} flags ask for one",
            proof.len(),
            needed
        )));
    }
    if leaves.len() + proof.len() != flags.len() + 1 {
        return Err(MerkleError::Verify(format!(
            "leaves and multiproof are not compatible: {} leaves + {} proof nodes must equal {} flags + 1",
            leaves.len(),
            proof.len(),
            flags.len()
        )));
    }
    let mut stack: VecDeque<Hash32> = leaves.iter().copied().collect();
    let mut proof: VecDeque<Hash32> = proof.iter().copied().collect();
    for (k, &flag) in flags.iter().enumerate() {
        let a = stack.pop_front();
        let b = if flag {
            stack.pop_front()
        } else {
            proof.pop_front()
        };
        match (a, b) {
            (Some(a), Some(b)) => stack.push_back(keccak_pair_sorted(&a, &b)),
            _ => {
                return Err(MerkleError::Verify(format!(
                    "multiproof runs out of nodes at flag {k}"
                )))
            }
        }
    }
    if stack.len() + proof.len() != 1 {
        return Err(MerkleError::Verify(
            "multiproof leaves more than one node at the end".to_string(),
        ));
    }
    Ok(stack
        .pop_back()
        .or_else(|| proof.pop_front())
        .expect("one node left"))
}

impl OzTree {
    /// Build from JSON values (each an array matching `leaf_encoding`), like
    /// `StandardMerkleTree.of(values, leafEncoding)`.
    pub fn of<S: AsRef<str>>(values: &[Vec<Value>], leaf_encoding: &[S]) -> Result<OzTree> {
        let types = parse_encoding(leaf_encoding)?;
        let hashed = values
            .par_iter()
            .enumerate()
            .map(|(i, v)| {
                let h = leaf_hash(&types, v)
                    .map_err(|e| MerkleError::InvalidValue(format!("value #{i}: {e}")))?;
                Ok((Value::Array(v.clone()).to_string(), h))
            })
            .collect::<Result<Vec<_>>>()?;
        let enc = leaf_encoding
            .iter()
            .map(|s| s.as_ref().to_string())
            .collect();
        OzTree::from_hashed(enc, hashed)
    }

    /// Build from values already rendered as compact JSON arrays and hashed. The caller vouches
    /// that each hash is the standard leaf hash of its value under `leaf_encoding`.
    pub fn from_hashed(
        leaf_encoding: Vec<String>,
        values: Vec<(String, Hash32)>,
    ) -> Result<OzTree> {
        let types = parse_encoding(&leaf_encoding)?;
        let n = values.len();
        if n == 0 {
            return Err(MerkleError::Empty);
        }
        if n > (u32::MAX as usize) {
            return Err(MerkleError::Invalid("too many leaves".to_string()));
        }
        let mut order: Vec<(Hash32, u32)> = values
            .iter()
            .enumerate()
            .map(|(i, (_, h))| (*h, i as u32))
            .collect();
        // (hash, input index) order == a stable sort by hash, as Array.prototype.sort is.
        order.par_sort_unstable();
        let len = 2 * n - 1;
        let mut tree = vec![[0u8; 32]; len];
        let mut tree_index = vec![0usize; n];
        for (k, (h, vi)) in order.iter().enumerate() {
            tree[len - 1 - k] = *h;
            tree_index[*vi as usize] = len - 1 - k;
        }
        drop(order);
        build_internal(&mut tree, n);
        let values = values
            .into_iter()
            .zip(tree_index)
            .map(|((value, _), tree_index)| OzValue { value, tree_index })
            .collect();
        Ok(OzTree {
            leaf_encoding,
            types,
            tree,
            values,
            lookup: OnceLock::new(),
        })
    }

    /// The root, `tree[0]`.
    pub fn root(&self) -> Hash32 {
        self.tree[0]
    }

    /// The leaf encoding as given.
    pub fn leaf_encoding(&self) -> &[String] {
        &self.leaf_encoding
    }

    /// The parsed leaf encoding.
    pub fn types(&self) -> &[AbiType] {
        &self.types
    }

    /// All 2n−1 nodes.
    pub fn tree(&self) -> &[Hash32] {
        &self.tree
    }

    /// The values in input order.
    pub fn values(&self) -> &[OzValue] {
        &self.values
    }

    /// Number of values (leaves).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false: a tree has at least one leaf.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Leaf hash of value `i`.
    pub fn leaf_at(&self, i: usize) -> Result<Hash32> {
        let v = self.value(i)?;
        Ok(self.tree[v.tree_index])
    }

    fn value(&self, i: usize) -> Result<&OzValue> {
        self.values.get(i).ok_or_else(|| {
            MerkleError::NotFound(format!(
                "value index {i} out of bounds (tree has {} values)",
                self.values.len()
            ))
        })
    }

    /// The value index whose leaf hash is `leaf`, if any.
    pub fn find_leaf(&self, leaf: &Hash32) -> Option<usize> {
        self.lookup
            .get_or_init(|| {
                self.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (self.tree[v.tree_index], i))
                    .collect()
            })
            .get(leaf)
            .copied()
    }

    /// Proof for value `i` (siblings from the leaf up), as `getProof(i)`.
    pub fn proof(&self, i: usize) -> Result<Vec<Hash32>> {
        Ok(self.proof_of_tree_index(self.value(i)?.tree_index))
    }

    /// Proof for the leaf at node index `ti`.
    pub fn proof_of_tree_index(&self, mut ti: usize) -> Vec<Hash32> {
        let mut proof =
            Vec::with_capacity(usize::BITS as usize - self.tree.len().leading_zeros() as usize);
        while ti > 0 {
            proof.push(self.tree[sibling(ti)]);
            ti = parent(ti);
        }
        proof
    }

    /// Proof for the value with these JSON fields, as `getProof(value)`.
    pub fn proof_for_value(&self, value: &[Value]) -> Result<Vec<Hash32>> {
        let h = leaf_hash(&self.types, value)?;
        let i = self
            .find_leaf(&h)
            .ok_or_else(|| MerkleError::NotFound("leaf is not in tree".to_string()))?;
        self.proof(i)
    }

    /// Multiproof for value indices, as `getMultiProof(indices)`.
    pub fn multi_proof(&self, value_indices: &[usize]) -> Result<OzMultiProof> {
        let mut indices = value_indices
            .iter()
            .map(|&i| self.value(i).map(|v| v.tree_index))
            .collect::<Result<Vec<_>>>()?;
        indices.sort_unstable_by(|a, b| b.cmp(a));
        if indices.windows(2).any(|w| w[0] == w[1]) {
            return Err(MerkleError::Invalid(
                "cannot prove duplicated index".to_string(),
            ));
        }
        let mut stack: VecDeque<usize> = indices.iter().copied().collect();
        let mut proof = Vec::new();
        let mut flags = Vec::new();
        while let Some(&j) = stack.front() {
            if j == 0 {
                break;
            }
            stack.pop_front();
            let s = sibling(j);
            let p = parent(j);
            if stack.front() == Some(&s) {
                flags.push(true);
                stack.pop_front();
            } else {
                flags.push(false);
                proof.push(self.tree[s]);
            }
            stack.push_back(p);
        }
        if indices.is_empty() {
            proof.push(self.tree[0]);
        }
        let lookup = self.lookup_tree_index();
        let leaves = indices
            .iter()
            .map(|ti| self.values[lookup[ti]].value.clone())
            .collect();
        Ok(OzMultiProof {
            leaves,
            proof,
            proof_flags: flags,
        })
    }

    fn lookup_tree_index(&self) -> HashMap<usize, usize> {
        self.values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.tree_index, i))
            .collect()
    }

    /// `StandardMerkleTree.verify(root, leafEncoding, value, proof)`: `Ok(())` or which check
    /// failed.
    pub fn verify<S: AsRef<str>>(
        root: &Hash32,
        leaf_encoding: &[S],
        value: &[Value],
        proof: &[Hash32],
    ) -> Result<()> {
        let types = parse_encoding(leaf_encoding)?;
        let leaf = leaf_hash(&types, value)?;
        let got = process_proof(&leaf, proof);
        if &got != root {
            return Err(MerkleError::Verify(format!(
                "proof leads to root {} but the expected root is {}",
                hex32(&got),
                hex32(root)
            )));
        }
        Ok(())
    }

    /// `StandardMerkleTree.verifyMultiProof(root, leafEncoding, multiproof)`.
    pub fn verify_multi_proof<S: AsRef<str>>(
        root: &Hash32,
        leaf_encoding: &[S],
        leaves: &[Vec<Value>],
        proof: &[Hash32],
        flags: &[bool],
    ) -> Result<()> {
        let types = parse_encoding(leaf_encoding)?;
        let hashes = leaves
            .iter()
            .map(|v| leaf_hash(&types, v))
            .collect::<Result<Vec<_>>>()?;
        let got = process_multi_proof(&hashes, proof, flags)?;
        if &got != root {
            return Err(MerkleError::Verify(format!(
                "multiproof leads to root {} but the expected root is {}",
                hex32(&got),
                hex32(root)
            )));
        }
        Ok(())
    }

    /// The dump as compact JSON, byte-identical to `JSON.stringify(tree.dump())`.
    pub fn dump_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.tree.len() * 69 + self.values.len() * 120 + 256);
        self.write_dump(&mut out);
        out
    }

    /// Append the compact dump to `out`.
    pub fn write_dump(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"format\":\"standard-v1\",\"leafEncoding\":[");
        for (i, e) in self.leaf_encoding.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(Value::String(e.clone()).to_string().as_bytes());
        }
        out.extend_from_slice(b"],\"tree\":[");
        // Hex-encode the nodes in parallel chunks.
        const CHUNK: usize = 1 << 14;
        let parts: Vec<Vec<u8>> = self
            .tree
            .par_chunks(CHUNK)
            .map(|c| {
                let mut b = Vec::with_capacity(c.len() * 69);
                for h in c {
                    b.extend_from_slice(b",\"0x");
                    push_hex_bytes(&mut b, h);
                    b.push(b'"');
                }
                b
            })
            .collect();
        for (k, p) in parts.iter().enumerate() {
            out.extend_from_slice(if k == 0 { &p[1..] } else { p });
        }
        out.extend_from_slice(b"],\"values\":[");
        let parts: Vec<Vec<u8>> = self
            .values
            .par_chunks(CHUNK)
            .map(|c| {
                let mut b = Vec::with_capacity(c.len() * 120);
                for v in c {
                    b.extend_from_slice(b",{\"value\":");
                    b.extend_from_slice(v.value.as_bytes());
                    b.extend_from_slice(b",\"treeIndex\":");
                    b.extend_from_slice(v.tree_index.to_string().as_bytes());
                    b.push(b'}');
                }
                b
            })
            .collect();
        for (k, p) in parts.iter().enumerate() {
            out.extend_from_slice(if k == 0 { &p[1..] } else { p });
        }
        out.extend_from_slice(b"]}");
    }

    /// Load a `standard-v1` dump (JSON text), re-validating every node and value.
    pub fn load(json: &[u8]) -> Result<OzTree> {
        let v: Value = serde_json::from_slice(json)
            .map_err(|e| MerkleError::InvalidDump(format!("not JSON: {e}")))?;
        OzTree::load_value(&v)
    }

    /// Load a parsed `standard-v1` dump, re-validating every node and value.
    pub fn load_value(v: &Value) -> Result<OzTree> {
        let obj = v
            .as_object()
            .ok_or_else(|| MerkleError::InvalidDump("top level is not an object".to_string()))?;
        match obj.get("format") {
            Some(Value::String(f)) if f == FORMAT => {}
            Some(Value::String(f)) => return Err(MerkleError::UnknownFormat(shorten(f))),
            Some(other) => return Err(MerkleError::UnknownFormat(shorten(&other.to_string()))),
            None => return Err(MerkleError::UnknownFormat("(missing)".to_string())),
        }
        let enc = obj
            .get("leafEncoding")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                MerkleError::InvalidDump(
                    "expected leafEncoding, an array of type names".to_string(),
                )
            })?;
        let leaf_encoding = enc
            .iter()
            .map(|e| {
                e.as_str().map(str::to_string).ok_or_else(|| {
                    MerkleError::InvalidDump(format!(
                        "leafEncoding entry {} is not a string",
                        shorten(&e.to_string())
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let types = parse_encoding(&leaf_encoding)?;
        let tree_v = obj.get("tree").and_then(Value::as_array).ok_or_else(|| {
            MerkleError::InvalidDump("expected tree, an array of hashes".to_string())
        })?;
        if tree_v.is_empty() {
            return Err(MerkleError::InvalidDump("tree is empty".to_string()));
        }
        if tree_v.len() % 2 == 0 {
            return Err(MerkleError::InvalidDump(format!(
                "tree has {} nodes; a standard tree has 2n-1 (an odd number)",
                tree_v.len()
            )));
        }
        let tree = tree_v
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let s = h.as_str().ok_or_else(|| {
                    MerkleError::InvalidDump(format!("tree[{i}] is not a string"))
                })?;
                parse_hex32(s, &format!("tree[{i}]"))
            })
            .collect::<Result<Vec<_>>>()?;
        let vals = obj
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| MerkleError::InvalidDump("expected values, an array".to_string()))?;
        let n = tree.len().div_ceil(2);
        let first_leaf = tree.len() - n;
        let mut owner = vec![usize::MAX; n];
        let mut values = Vec::with_capacity(vals.len());
        for (i, item) in vals.iter().enumerate() {
            let o = item
                .as_object()
                .ok_or_else(|| MerkleError::InvalidDump(format!("values[{i}] is not an object")))?;
            let value = o.get("value").and_then(Value::as_array).ok_or_else(|| {
                MerkleError::InvalidDump(format!("values[{i}].value is not an array"))
            })?;
            let ti = o.get("treeIndex").and_then(Value::as_u64).ok_or_else(|| {
                MerkleError::InvalidDump(format!(
                    "values[{i}].treeIndex is not a non-negative integer"
                ))
            })? as usize;
            if ti < first_leaf || ti >= tree.len() {
                return Err(MerkleError::Tampered(format!(
                    "values[{i}].treeIndex {ti} is not a leaf (leaves are {first_leaf}..{})",
                    tree.len() - 1
                )));
            }
            if owner[ti - first_leaf] != usize::MAX {
                return Err(MerkleError::Tampered(format!(
                    "values[{}] and values[{i}] both claim leaf {ti}",
                    owner[ti - first_leaf]
                )));
            }
            owner[ti - first_leaf] = i;
            let h = leaf_hash(&types, value)
                .map_err(|e| MerkleError::InvalidDump(format!("values[{i}]: {e}")))?;
            if h != tree[ti] {
                return Err(MerkleError::Tampered(format!(
                    "values[{i}] hashes to {} but tree[{ti}] is {}",
                    hex32(&h),
                    hex32(&tree[ti])
                )));
            }
            values.push(OzValue {
                value: Value::Array(value.clone()).to_string(),
                tree_index: ti,
            });
        }
        if let Some(k) = owner.iter().position(|&o| o == usize::MAX) {
            return Err(MerkleError::Tampered(format!(
                "leaf tree[{}] has no value ({} leaves, {} values)",
                first_leaf + k,
                n,
                vals.len()
            )));
        }
        let bad = (0..first_leaf)
            .into_par_iter()
            .find_first(|&i| tree[i] != keccak_pair_sorted(&tree[2 * i + 1], &tree[2 * i + 2]));
        if let Some(i) = bad {
            return Err(MerkleError::Tampered(format!(
                "tree[{i}] is {} but its children tree[{}] and tree[{}] hash to {}",
                hex32(&tree[i]),
                2 * i + 1,
                2 * i + 2,
                hex32(&keccak_pair_sorted(&tree[2 * i + 1], &tree[2 * i + 2]))
            )));
        }
        Ok(OzTree {
            leaf_encoding,
            types,
            tree,
            values,
            lookup: OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(n: usize) -> OzTree {
        let vals: Vec<Vec<Value>> = (0..n)
            .map(|i| {
                vec![
                    json!(format!("0x{:040x}", i + 1)),
                    json!((i * 7).to_string()),
                ]
            })
            .collect();
        OzTree::of(&vals, &["address", "uint256"]).unwrap()
    }

    #[test]
    fn proofs_verify_for_many_sizes() {
        for n in 1..40 {
            let t = sample(n);
            assert_eq!(t.tree().len(), 2 * n - 1);
            for i in 0..n {
                let p = t.proof(i).unwrap();
                assert_eq!(process_proof(&t.leaf_at(i).unwrap(), &p), t.root());
            }
            let all: Vec<usize> = (0..n).collect();
            let mp = t.multi_proof(&all).unwrap();
            let leaves: Vec<Hash32> = mp
                .leaves
                .iter()
                .map(|v| {
                    let v: Vec<Value> = serde_json::from_str(v).unwrap();
                    leaf_hash(t.types(), &v).unwrap()
                })
                .collect();
            assert_eq!(
                process_multi_proof(&leaves, &mp.proof, &mp.proof_flags).unwrap(),
                t.root()
            );
            let back = OzTree::load(&t.dump_json()).unwrap();
            assert_eq!(back.dump_json(), t.dump_json());
        }
    }

    #[test]
    fn multiproof_errors() {
        let t = sample(5);
        assert!(t.multi_proof(&[1, 1]).is_err());
        assert!(t.multi_proof(&[9]).is_err());
        let h = [[1u8; 32]];
        assert!(process_multi_proof(&h, &[], &[false]).is_err());
        assert!(process_multi_proof(&h, &h, &[true]).is_err());
        assert!(process_multi_proof(&h, &h, &[]).is_err());
    }
}
