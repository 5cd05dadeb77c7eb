//! The `uniswap` profile: Uniswap `MerkleDistributor`, as its generator
//! (`src/parse-balance-map.ts` + `src/balance-tree.ts` + `src/merkle-tree.ts`) builds it.
//!
//! * accounts are written in EIP-55 form and sorted as JavaScript sorts those strings
//!   (code-unit order, so case matters); `index` is the position in that order;
//! * leaf = keccak256(abi.encodePacked(uint256 index, address account, uint256 amount))
//!   (32 + 20 + 32 = 84 bytes);
//! * leaves sorted by hash (byte order), layers built pairwise with
//!   keccak256(min ‖ max); a lone last node is promoted to the next layer unchanged;
//! * proof = the pair element at each layer where one exists;
//! * JSON `{"merkleRoot","tokenTotal","claims":{account:{"index","amount","proof"}}}` with
//!   `amount`/`tokenTotal` as ethers `BigNumber.toHexString()` (even-length hex), compact,
//!   claims in sorted-account order.
//!
//! Like the generator, duplicate accounts and zero amounts are errors.

use rayon::prelude::*;

use crate::error::{MerkleError, Result};
use crate::hash::{hex32, keccak256, keccak_pair_sorted, u128_hex_even, u128_word, Hash32};

/// One claim of a Uniswap distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniswapClaim {
    pub account: [u8; 20],
    /// EIP-55 form, the key in the JSON.
    pub checksum: String,
    pub index: u64,
    pub amount: u128,
    pub leaf: Hash32,
    /// Position of the leaf in layer 0.
    pub position: usize,
}

/// A Uniswap MerkleDistributor tree.
#[derive(Clone, Debug)]
pub struct UniswapTree {
    layers: Vec<Vec<Hash32>>,
    claims: Vec<UniswapClaim>,
    /// Sum of all amounts as a uint256 (big-endian), like the generator's BigNumber.
    total: [u8; 32],
}

/// Minimal even-length hex of a big-endian number (`0x00` for zero), as
/// `BigNumber.toHexString()`.
pub fn bytes_hex_even(be: &[u8]) -> String {
    let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    if first == be.len() {
        return "0x00".to_string();
    }
    format!("0x{}", hex::encode(&be[first..]))
}

/// keccak256(abi.encodePacked(uint256 index, address account, uint256 amount)).
pub fn leaf_hash(index: u64, account: &[u8; 20], amount: u128) -> Hash32 {
    let mut buf = [0u8; 84];
    buf[24..32].copy_from_slice(&index.to_be_bytes());
    buf[32..52].copy_from_slice(account);
    buf[52..].copy_from_slice(&u128_word(amount));
    keccak256(&buf)
}

/// Fold a proof onto a leaf (OpenZeppelin 3.x `MerkleProof.verify`, which the distributor calls).
pub fn process_proof(leaf: &Hash32, proof: &[Hash32]) -> Hash32 {
    proof.iter().fold(*leaf, |a, p| keccak_pair_sorted(&a, p))
}

impl UniswapTree {
    /// Build from (account, amount) pairs in any order.
    pub fn build(entries: &[([u8; 20], u128)]) -> Result<UniswapTree> {
        if entries.is_empty() {
            return Err(MerkleError::Empty);
        }
        let mut rows: Vec<(String, [u8; 20], u128)> = entries
            .iter()
            .map(|(a, amt)| {
                (
                    format!("0x{}", fairdrop_core::address::eip55(&hex::encode(a))),
                    *a,
                    *amt,
                )
            })
            .collect();
        rows.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for w in rows.windows(2) {
            if w[0].1 == w[1].1 {
                return Err(MerkleError::Invalid(format!(
                    "duplicate address: {}",
                    w[0].0
                )));
            }
        }
        // uint256 sum as (high, low) u128 halves: n < 2^64 amounts below 2^128 cannot overflow.
        let (mut hi, mut lo) = (0u128, 0u128);
        for r in &rows {
            if r.2 == 0 {
                return Err(MerkleError::Invalid(format!(
                    "invalid amount for account {}: must be greater than zero",
                    r.0
                )));
            }
            let (l, carry) = lo.overflowing_add(r.2);
            lo = l;
            hi += carry as u128;
        }
        let mut total = [0u8; 32];
        total[..16].copy_from_slice(&hi.to_be_bytes());
        total[16..].copy_from_slice(&lo.to_be_bytes());
        let mut claims: Vec<UniswapClaim> = rows
            .into_par_iter()
            .enumerate()
            .map(|(i, (checksum, account, amount))| UniswapClaim {
                leaf: leaf_hash(i as u64, &account, amount),
                account,
                checksum,
                index: i as u64,
                amount,
                position: 0,
            })
            .collect();
        let mut order: Vec<(Hash32, usize)> = claims
            .iter()
            .enumerate()
            .map(|(i, c)| (c.leaf, i))
            .collect();
        order.par_sort_unstable();
        for (pos, (_, ci)) in order.iter().enumerate() {
            claims[*ci].position = pos;
        }
        let mut layers = vec![order.into_iter().map(|(h, _)| h).collect::<Vec<_>>()];
        while layers.last().map_or(0, Vec::len) > 1 {
            let prev = layers.last().expect("non-empty");
            let next: Vec<Hash32> = prev
                .par_chunks(2)
                .map(|c| match c {
                    [a, b] => keccak_pair_sorted(a, b),
                    [a] => *a,
                    _ => unreachable!("chunks of 2"),
                })
                .collect();
            layers.push(next);
        }
        Ok(UniswapTree {
            layers,
            claims,
            total,
        })
    }

    pub fn root(&self) -> Hash32 {
        self.layers.last().expect("non-empty")[0]
    }

    /// Claims in index (sorted-account) order.
    pub fn claims(&self) -> &[UniswapClaim] {
        &self.claims
    }

    /// Sum of all amounts, uint256 big-endian.
    pub fn total(&self) -> [u8; 32] {
        self.total
    }

    /// The layers, leaves first.
    pub fn layers(&self) -> &[Vec<Hash32>] {
        &self.layers
    }

    /// Proof for the leaf at layer-0 position `pos`.
    pub fn proof_at(&self, mut pos: usize) -> Vec<Hash32> {
        let mut proof = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let pair = pos ^ 1;
            if pair < layer.len() {
                proof.push(layer[pair]);
            }
            pos /= 2;
        }
        proof
    }

    /// Index of the claim for `account`.
    pub fn find(&self, account: &[u8; 20]) -> Option<usize> {
        let key = format!("0x{}", fairdrop_core::address::eip55(&hex::encode(account)));
        self.claims
            .binary_search_by(|c| c.checksum.as_str().cmp(key.as_str()))
            .ok()
    }

    /// The generator's JSON, compact (`JSON.stringify(parseBalanceMap(...))`).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.claims.len() * (90 + 68 * self.layers.len()));
        out.extend_from_slice(b"{\"merkleRoot\":\"");
        out.extend_from_slice(hex32(&self.root()).as_bytes());
        out.extend_from_slice(b"\",\"tokenTotal\":\"");
        out.extend_from_slice(bytes_hex_even(&self.total).as_bytes());
        out.extend_from_slice(b"\",\"claims\":{");
        let parts: Vec<Vec<u8>> = self
            .claims
            .par_chunks(4096)
            .map(|chunk| {
                let mut b = Vec::new();
                for c in chunk {
                    b.extend_from_slice(b",\"");
                    b.extend_from_slice(c.checksum.as_bytes());
                    b.extend_from_slice(b"\":{\"index\":");
                    b.extend_from_slice(c.index.to_string().as_bytes());
                    b.extend_from_slice(b",\"amount\":\"");
                    b.extend_from_slice(u128_hex_even(c.amount).as_bytes());
                    b.extend_from_slice(b"\",\"proof\":[");
                    for (k, p) in self.proof_at(c.position).iter().enumerate() {
                        if k > 0 {
                            b.push(b',');
                        }
                        b.extend_from_slice(b"\"0x");
                        crate::hash::push_hex_bytes(&mut b, p);
                        b.push(b'"');
                    }
                    b.extend_from_slice(b"]}");
                }
                b
            })
            .collect();
        for (k, p) in parts.iter().enumerate() {
            out.extend_from_slice(if k == 0 { &p[1..] } else { p });
        }
        out.extend_from_slice(b"}}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_vector_single_claim() {
        let a = crate::abi::parse_evm("0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f").unwrap();
        let t = UniswapTree::build(&[(a, 100)]).unwrap();
        assert_eq!(
            hex32(&t.root()),
            "0xdefa96435aec82d201dbd2e5f050fb4e1fef5edac90ce1e03953f916a5e1132d"
        );
        let json = String::from_utf8(t.to_json()).unwrap();
        assert_eq!(
            json,
            "{\"merkleRoot\":\"0xdefa96435aec82d201dbd2e5f050fb4e1fef5edac90ce1e03953f916a5e1132d\",\
             \"tokenTotal\":\"0x64\",\"claims\":{\"0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f\":\
             {\"index\":0,\"amount\":\"0x64\",\"proof\":[]}}}"
        );
    }

    #[test]
    fn proofs_verify_and_lone_node_is_promoted() {
        for n in 1..30u8 {
            let entries: Vec<([u8; 20], u128)> = (0..n)
                .map(|i| ([i.wrapping_mul(37) ^ 0xa5; 20], 1 + i as u128))
                .collect();
            let t = UniswapTree::build(&entries).unwrap();
            for c in t.claims() {
                let p = t.proof_at(c.position);
                assert_eq!(process_proof(&c.leaf, &p), t.root());
                assert_eq!(t.find(&c.account), Some(c.index as usize));
            }
            if n == 3 {
                // 3 leaves: [h(l0,l1), l2] -> root; l2's proof has one element.
                let l2 = t.claims().iter().find(|c| c.position == 2).unwrap();
                assert_eq!(t.proof_at(l2.position).len(), 1);
            }
        }
        let dup = [([1u8; 20], 1u128), ([1u8; 20], 2u128)];
        assert!(UniswapTree::build(&dup)
            .unwrap_err()
            .to_string()
            .contains("duplicate"));
        assert!(UniswapTree::build(&[([1u8; 20], 0)]).is_err());
        let big = UniswapTree::build(&[([1u8; 20], u128::MAX), ([2u8; 20], 2)]).unwrap();
        assert_eq!(
            bytes_hex_even(&big.total()),
            "0x0100000000000000000000000000000001"
        );
        assert_eq!(bytes_hex_even(&[0, 0, 1, 0x23]), "0x0123");
        assert_eq!(bytes_hex_even(&[0, 0]), "0x00");
    }
}
