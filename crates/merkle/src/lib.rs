//! Merkle commitments byte-compatible with OpenZeppelin, Uniswap and Jito, plus a signed
//! manifest and a proof store for the claim service.
//!
//! An allocation (`address,amount[,tier]` CSV, amounts in integer base units) becomes a Merkle
//! root that a contract or program checks claims against. Each [`profile::Profile`] speaks one
//! ecosystem's format byte for byte:
//!
//! | profile | leaf | node | output file |
//! | --- | --- | --- | --- |
//! | `oz` ([`oz`]) | keccak256(keccak256(abi.encode(address, uint256))) | keccak256(sorted pair) | `tree.json`: `standard-v1` dump, identical to `JSON.stringify(tree.dump())` of `@openzeppelin/merkle-tree` 1.0.8 |
//! | `uniswap` ([`uniswap`]) | keccak256(encodePacked(uint256 index, address, uint256 amount)) | keccak256(sorted pair), lone node promoted | `uniswap.json`: `{merkleRoot, tokenTotal, claims}` as Uniswap's generator |
//! | `jito` ([`jito`]) | sha256(0x00 ‖ sha256(pubkey ‖ unlocked LE ‖ locked LE)) | sha256(0x01 ‖ sorted pair), odd node doubled | `jito.json`: Jito's `AirdropMerkleTree` JSON |
//!
//! The `aleo` profile (Poseidon over BLS12-377) is not here yet: it comes with the zk crate;
//! parsing `"aleo"` as a profile says so.
//!
//! Beside the trees: [`manifest`] (the campaign's `manifest.json`, canonical JSON, ed25519
//! signing, key files, `compare`) and [`store`] (one memory-mapped file, O(1) proof lookup by
//! address for the claim service). Every file is written atomically
//! (`fairdrop_core::fsutil`), and the same allocations give the same bytes whatever the row
//! order. Errors are [`MerkleError`], naming the file and line where there is one.
//!
//! # Example
//!
//! ```
//! use std::path::Path;
//! use fairdrop_merkle::profile::{build, parse_allocations, verify_record, Profile};
//!
//! let csv = "address,amount\n0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f,100\n";
//! let rows = parse_allocations(csv.as_bytes(), Path::new("allocations.csv"), Profile::Uniswap)?;
//! let tree = build(Profile::Uniswap, &rows)?;
//! assert_eq!(
//!     fairdrop_merkle::hash::hex32(&tree.root()),
//!     "0xdefa96435aec82d201dbd2e5f050fb4e1fef5edac90ce1e03953f916a5e1132d"
//! );
//! // `fairdrop proof`: one claim with its proof; `fairdrop verify`: which check failed, if any.
//! let record = tree.proof_record("0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f")?;
//! verify_record(&record)?;
//! // `fairdrop tree --out DIR`: tree.write_outputs(dir) writes `uniswap.json` atomically,
//! // and fairdrop_merkle::store::write(&tree, path) the proof store.
//! # Ok::<(), fairdrop_merkle::MerkleError>(())
//! ```

pub mod abi;
pub mod error;
pub mod hash;
pub mod jito;
pub mod manifest;
pub mod oz;
pub mod profile;
pub mod store;
pub mod uniswap;

pub use error::{MerkleError, Result};
pub use hash::Hash32;
pub use profile::{
    build, build_from_csv, read_allocations, verify_record, BuiltTree, ClaimAddress, Profile,
    ProofRecord,
};
