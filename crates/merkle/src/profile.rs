//! Hash profiles and the API the CLI calls: allocations CSV → tree → output files, one proof,
//! verification that names the failed check.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MerkleError, Result};
use crate::hash::{address_word, hex32, parse_hex32, u128_word, Hash32};
use crate::jito::JitoTree;
use crate::oz::{self, OzTree};
use crate::uniswap::UniswapTree;

/// A commitment scheme. Adding one (the planned `aleo` profile: Aleo address + u64
/// microcredits leaves hashed with Poseidon over the BLS12-377 scalar field, coming with the zk
/// crate) means a variant here, its address parsing in [`ClaimAddress::parse_for`], a tree
/// type, and one arm in each `match` of [`BuiltTree`] and [`verify_leaf`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// OpenZeppelin `StandardMerkleTree` (standard-v1).
    Oz,
    /// Uniswap `MerkleDistributor`.
    Uniswap,
    /// Jito Solana `merkle-distributor`.
    Jito,
}

impl Profile {
    /// Every implemented profile.
    pub const ALL: [Profile; 3] = [Profile::Oz, Profile::Uniswap, Profile::Jito];

    pub fn name(&self) -> &'static str {
        match self {
            Profile::Oz => "oz",
            Profile::Uniswap => "uniswap",
            Profile::Jito => "jito",
        }
    }

    /// The file [`BuiltTree::write_outputs`] writes.
    pub fn output_file(&self) -> &'static str {
        match self {
            Profile::Oz => "tree.json",
            Profile::Uniswap => "uniswap.json",
            Profile::Jito => "jito.json",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = MerkleError;
    fn from_str(s: &str) -> Result<Profile> {
        match s {
            "oz" => Ok(Profile::Oz),
            "uniswap" => Ok(Profile::Uniswap),
            "jito" => Ok(Profile::Jito),
            "aleo" => Err(MerkleError::Invalid(
                "profile 'aleo' is not implemented yet: it comes with the zk crate (Poseidon over BLS12-377)".to_string(),
            )),
            other => Err(MerkleError::Invalid(format!(
                "unknown profile {:?} (expected oz, uniswap or jito)",
                crate::hash::shorten(other)
            ))),
        }
    }
}

/// A claimant address in the form its profile uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClaimAddress {
    /// 20-byte EVM address (oz, uniswap).
    Evm([u8; 20]),
    /// 32-byte Solana public key (jito).
    Solana([u8; 32]),
}

impl ClaimAddress {
    /// Parse `s` as the address kind `profile` uses; the error says why not.
    pub fn parse_for(profile: Profile, s: &str) -> std::result::Result<ClaimAddress, String> {
        let s = s.trim();
        match profile {
            Profile::Oz | Profile::Uniswap => match fairdrop_core::Address::parse(s) {
                Ok(fairdrop_core::Address::Evm(b)) => Ok(ClaimAddress::Evm(b)),
                Ok(fairdrop_core::Address::Aleo(_)) => Err(format!(
                    "{s} is an Aleo address; the {profile} profile needs EVM (0x...) addresses"
                )),
                Err(e) => Err(format!(
                    "{:?} is not an EVM address: {e}",
                    crate::hash::shorten(s)
                )),
            },
            Profile::Jito => {
                if s.starts_with("0x") || s.starts_with("aleo1") {
                    return Err(format!(
                        "{} is not a Solana address; the jito profile needs base58 public keys",
                        crate::hash::shorten(s)
                    ));
                }
                let mut out = [0u8; 32];
                match bs58::decode(s).onto(&mut out[..]) {
                    Ok(32) => Ok(ClaimAddress::Solana(out)),
                    Ok(n) => Err(format!(
                        "{:?} decodes to {n} bytes; a Solana public key is 32",
                        crate::hash::shorten(s)
                    )),
                    Err(e) => Err(format!(
                        "{:?} is not a base58 Solana public key: {e}",
                        crate::hash::shorten(s)
                    )),
                }
            }
        }
    }

    /// Raw bytes (20 or 32).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ClaimAddress::Evm(b) => b,
            ClaimAddress::Solana(b) => b,
        }
    }
}

impl fmt::Display for ClaimAddress {
    /// EIP-55 for EVM, base58 for Solana.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimAddress::Evm(b) => {
                write!(f, "0x{}", fairdrop_core::address::eip55(&hex::encode(b)))
            }
            ClaimAddress::Solana(b) => f.write_str(&bs58::encode(b).into_string()),
        }
    }
}

/// One row of an allocations CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub address: ClaimAddress,
    /// Base units.
    pub amount: u128,
    pub tier: Option<String>,
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
}

/// Read an allocations CSV (`address,amount[,tier]` with a header) for `profile`.
pub fn read_allocations(path: &Path, profile: Profile) -> Result<Vec<Allocation>> {
    let f = std::fs::File::open(path).map_err(|e| MerkleError::io(path, e))?;
    parse_allocations(f, path, profile)
}

/// Parse an allocations CSV from `reader`; `path` is used in error messages. Rows are checked
/// (address kind for the profile, integer amount, no duplicate address) and returned sorted by
/// address, so the output does not depend on row order.
pub fn parse_allocations(
    reader: impl Read,
    path: &Path,
    profile: Profile,
) -> Result<Vec<Allocation>> {
    let err = |line: u64, msg: String| MerkleError::Csv {
        path: path.to_path_buf(),
        line,
        msg,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .map_err(|e| err(1, format!("cannot read the header: {e}")))?
        .clone();
    let names: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    if names.len() < 2
        || names[0] != "address"
        || names[1] != "amount"
        || (names.len() > 2 && (names[2] != "tier" || names.len() > 3))
    {
        return Err(err(
            1,
            format!(
                "header must be address,amount[,tier], got {:?}",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let more = rdr.read_record(&mut rec).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, format!("malformed CSV: {e}"))
        })?;
        if !more {
            break;
        }
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() == 1 && rec[0].is_empty() {
            continue;
        }
        if rec.len() != names.len() {
            return Err(err(
                line,
                format!("expected {} fields, found {}", names.len(), rec.len()),
            ));
        }
        let address = ClaimAddress::parse_for(profile, &rec[0]).map_err(|m| err(line, m))?;
        let amount =
            fairdrop_core::parse_amount(&rec[1]).map_err(|e| err(line, format!("amount: {e}")))?;
        if profile == Profile::Jito && amount > u64::MAX as u128 {
            return Err(err(
                line,
                format!("amount {amount} does not fit the u64 the Jito distributor uses"),
            ));
        }
        if profile == Profile::Uniswap && amount == 0 {
            return Err(err(
                line,
                "amount must be greater than zero (Uniswap's generator rejects zero)".to_string(),
            ));
        }
        let tier = rec.get(2).filter(|t| !t.is_empty()).map(str::to_string);
        out.push(Allocation {
            address,
            amount,
            tier,
            line,
        });
    }
    if out.is_empty() {
        return Err(err(
            1,
            "no allocations: a Merkle tree needs at least one row".to_string(),
        ));
    }
    out.sort_by(|a, b| a.address.cmp(&b.address).then(a.line.cmp(&b.line)));
    for w in out.windows(2) {
        if w[0].address == w[1].address {
            return Err(err(
                w[1].line,
                format!(
                    "duplicate address {} (first on line {})",
                    w[1].address, w[0].line
                ),
            ));
        }
    }
    Ok(out)
}

/// Which values an `oz` leaf holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OzEncoding {
    /// `["address","uint256"]`: (account, amount). The default.
    #[default]
    AddressAmount,
    /// `["uint256","address","uint256"]`: (index, account, amount), index = position in
    /// address order.
    IndexAddressAmount,
}

impl OzEncoding {
    pub fn types(&self) -> Vec<String> {
        match self {
            OzEncoding::AddressAmount => vec!["address".into(), "uint256".into()],
            OzEncoding::IndexAddressAmount => {
                vec!["uint256".into(), "address".into(), "uint256".into()]
            }
        }
    }
}

/// The oz leaf hash and JSON value text of one claim.
pub fn oz_leaf(enc: OzEncoding, index: u64, account: &[u8; 20], amount: u128) -> (String, Hash32) {
    let mut buf = [0u8; 96];
    let mut s = String::with_capacity(100);
    let n = match enc {
        OzEncoding::AddressAmount => {
            buf[..32].copy_from_slice(&address_word(account));
            buf[32..64].copy_from_slice(&u128_word(amount));
            s.push_str("[\"0x");
            crate::hash::push_hex(&mut s, account);
            s.push_str("\",\"");
            s.push_str(&amount.to_string());
            s.push_str("\"]");
            64
        }
        OzEncoding::IndexAddressAmount => {
            buf[..32].copy_from_slice(&u128_word(index as u128));
            buf[32..64].copy_from_slice(&address_word(account));
            buf[64..96].copy_from_slice(&u128_word(amount));
            s.push_str("[\"");
            s.push_str(&index.to_string());
            s.push_str("\",\"0x");
            crate::hash::push_hex(&mut s, account);
            s.push_str("\",\"");
            s.push_str(&amount.to_string());
            s.push_str("\"]");
            96
        }
    };
    (s, oz::leaf_hash_encoded(&buf[..n]))
}

/// An oz tree with the claims it was built from (value index = position in address order).
#[derive(Debug)]
pub struct OzBuilt {
    pub tree: OzTree,
    pub encoding: OzEncoding,
    /// (account, amount), sorted by account; value i of the tree is claim i.
    pub claims: Vec<([u8; 20], u128)>,
}

/// A built tree of any profile.
#[derive(Debug)]
pub enum BuiltTree {
    Oz(OzBuilt),
    Uniswap(UniswapTree),
    Jito(JitoTree),
}

/// One claim with its proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimProof {
    pub address: ClaimAddress,
    pub amount: u128,
    /// oz: value index; uniswap: the distributor index; jito: leaf index.
    pub index: u64,
    pub leaf: Hash32,
    pub proof: Vec<Hash32>,
}

/// A proof as `fairdrop proof` prints it and `fairdrop verify` reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProofRecord {
    pub profile: String,
    pub root: String,
    pub address: String,
    /// Base units, decimal.
    pub amount: String,
    pub index: u64,
    /// oz only: the leaf encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_encoding: Option<Vec<String>>,
    /// Number of leaves in the tree (lets verify check the proof length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaves: Option<u64>,
    pub leaf: String,
    pub proof: Vec<String>,
}

/// Build the tree of `profile` from checked allocations (oz uses `(address, uint256)` leaves).
pub fn build(profile: Profile, allocations: &[Allocation]) -> Result<BuiltTree> {
    build_with(profile, allocations, OzEncoding::default())
}

fn wrong_kind(profile: Profile, a: &Allocation) -> MerkleError {
    MerkleError::Invalid(format!(
        "line {}: address {} is not of the kind the {profile} profile uses",
        a.line, a.address
    ))
}

/// [`build`] with a choice of oz leaf encoding.
pub fn build_with(
    profile: Profile,
    allocations: &[Allocation],
    enc: OzEncoding,
) -> Result<BuiltTree> {
    if allocations.is_empty() {
        return Err(MerkleError::Empty);
    }
    match profile {
        Profile::Oz => {
            let mut claims = allocations
                .iter()
                .map(|a| match a.address {
                    ClaimAddress::Evm(b) => Ok((b, a.amount)),
                    _ => Err(wrong_kind(profile, a)),
                })
                .collect::<Result<Vec<_>>>()?;
            claims.par_sort_unstable();
            if let Some(w) = claims.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(MerkleError::Invalid(format!(
                    "duplicate address {}",
                    ClaimAddress::Evm(w[0].0)
                )));
            }
            let leaves: Vec<(String, Hash32)> = claims
                .par_iter()
                .enumerate()
                .map(|(i, (a, amt))| oz_leaf(enc, i as u64, a, *amt))
                .collect();
            let tree = OzTree::from_hashed(enc.types(), leaves)?;
            Ok(BuiltTree::Oz(OzBuilt {
                tree,
                encoding: enc,
                claims,
            }))
        }
        Profile::Uniswap => {
            let entries = allocations
                .iter()
                .map(|a| match a.address {
                    ClaimAddress::Evm(b) => Ok((b, a.amount)),
                    _ => Err(wrong_kind(profile, a)),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(BuiltTree::Uniswap(UniswapTree::build(&entries)?))
        }
        Profile::Jito => {
            let entries = allocations
                .iter()
                .map(|a| match a.address {
                    ClaimAddress::Solana(b) => u64::try_from(a.amount)
                        .map(|amt| (b, amt, 0u64))
                        .map_err(|_| {
                            MerkleError::Invalid(format!(
                                "line {}: amount does not fit u64",
                                a.line
                            ))
                        }),
                    _ => Err(wrong_kind(profile, a)),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(BuiltTree::Jito(JitoTree::build(&entries)?))
        }
    }
}

impl BuiltTree {
    pub fn profile(&self) -> Profile {
        match self {
            BuiltTree::Oz(_) => Profile::Oz,
            BuiltTree::Uniswap(_) => Profile::Uniswap,
            BuiltTree::Jito(_) => Profile::Jito,
        }
    }

    pub fn root(&self) -> Hash32 {
        match self {
            BuiltTree::Oz(t) => t.tree.root(),
            BuiltTree::Uniswap(t) => t.root(),
            BuiltTree::Jito(t) => t.root(),
        }
    }

    /// Number of claims.
    pub fn len(&self) -> usize {
        match self {
            BuiltTree::Oz(t) => t.claims.len(),
            BuiltTree::Uniswap(t) => t.claims().len(),
            BuiltTree::Jito(t) => t.claims().len(),
        }
    }

    /// Always false: a built tree has at least one claim.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Claim `i` (in address order) with its proof.
    pub fn claim_at(&self, i: usize) -> Option<ClaimProof> {
        match self {
            BuiltTree::Oz(t) => {
                let (a, amount) = *t.claims.get(i)?;
                Some(ClaimProof {
                    address: ClaimAddress::Evm(a),
                    amount,
                    index: i as u64,
                    leaf: t.tree.leaf_at(i).ok()?,
                    proof: t.tree.proof(i).ok()?,
                })
            }
            BuiltTree::Uniswap(t) => {
                let c = t.claims().get(i)?;
                Some(ClaimProof {
                    address: ClaimAddress::Evm(c.account),
                    amount: c.amount,
                    index: c.index,
                    leaf: c.leaf,
                    proof: t.proof_at(c.position),
                })
            }
            BuiltTree::Jito(t) => {
                let c = t.claims().get(i)?;
                Some(ClaimProof {
                    address: ClaimAddress::Solana(c.claimant),
                    amount: c.unlocked as u128 + c.locked as u128,
                    index: i as u64,
                    leaf: c.leaf,
                    proof: t.proof(i),
                })
            }
        }
    }

    /// Position (for [`BuiltTree::claim_at`]) of `address`.
    pub fn position_of(&self, address: &ClaimAddress) -> Option<usize> {
        match (self, address) {
            (BuiltTree::Oz(t), ClaimAddress::Evm(a)) => {
                t.claims.binary_search_by(|c| c.0.cmp(a)).ok()
            }
            (BuiltTree::Uniswap(t), ClaimAddress::Evm(a)) => t.find(a),
            (BuiltTree::Jito(t), ClaimAddress::Solana(a)) => t.find(a),
            _ => None,
        }
    }

    /// The claim and proof for `address` (any textual form the profile accepts).
    pub fn proof_for(&self, address: &str) -> Result<ClaimProof> {
        let a = ClaimAddress::parse_for(self.profile(), address).map_err(MerkleError::Invalid)?;
        let i = self
            .position_of(&a)
            .ok_or_else(|| MerkleError::NotFound(format!("{a} has no allocation in this tree")))?;
        self.claim_at(i)
            .ok_or_else(|| MerkleError::NotFound(format!("{a} has no allocation in this tree")))
    }

    /// [`BuiltTree::proof_for`] as a [`ProofRecord`].
    pub fn proof_record(&self, address: &str) -> Result<ProofRecord> {
        let c = self.proof_for(address)?;
        Ok(ProofRecord {
            profile: self.profile().name().to_string(),
            root: hex32(&self.root()),
            address: c.address.to_string(),
            amount: c.amount.to_string(),
            index: c.index,
            leaf_encoding: match self {
                BuiltTree::Oz(t) => Some(t.tree.leaf_encoding().to_vec()),
                _ => None,
            },
            leaves: Some(self.len() as u64),
            leaf: hex32(&c.leaf),
            proof: c.proof.iter().map(hex32).collect(),
        })
    }

    /// The profile's output file bytes (see [`Profile::output_file`]).
    pub fn output_bytes(&self) -> Vec<u8> {
        match self {
            BuiltTree::Oz(t) => t.tree.dump_json(),
            BuiltTree::Uniswap(t) => t.to_json(),
            BuiltTree::Jito(t) => t.to_json(),
        }
    }

    /// Every claim with its proof as JSON lines, in address order:
    /// `{"address":…,"amount":"…","index":…,"leaf":"0x…","proof":["0x…",…]}`. For frontends and
    /// static hosting; the claim service uses the [`crate::store`] instead.
    pub fn proofs_jsonl(&self) -> Vec<u8> {
        let n = self.len();
        let parts: Vec<Vec<u8>> = (0..n)
            .into_par_iter()
            .chunks(8192)
            .map(|idx| {
                let mut b = Vec::with_capacity(idx.len() * 1500);
                for i in idx {
                    let c = self.claim_at(i).expect("index in range");
                    b.extend_from_slice(b"{\"address\":\"");
                    match &c.address {
                        // lowercase hex: no keccak per line for the checksum
                        ClaimAddress::Evm(a) => {
                            b.extend_from_slice(b"0x");
                            crate::hash::push_hex_bytes(&mut b, a);
                        }
                        other => b.extend_from_slice(other.to_string().as_bytes()),
                    }
                    b.extend_from_slice(b"\",\"amount\":\"");
                    b.extend_from_slice(c.amount.to_string().as_bytes());
                    b.extend_from_slice(b"\",\"index\":");
                    b.extend_from_slice(c.index.to_string().as_bytes());
                    b.extend_from_slice(b",\"leaf\":\"0x");
                    crate::hash::push_hex_bytes(&mut b, &c.leaf);
                    b.extend_from_slice(b"\",\"proof\":[");
                    for (k, p) in c.proof.iter().enumerate() {
                        if k > 0 {
                            b.push(b',');
                        }
                        b.extend_from_slice(b"\"0x");
                        crate::hash::push_hex_bytes(&mut b, p);
                        b.push(b'"');
                    }
                    b.extend_from_slice(b"]}\n");
                }
                b
            })
            .collect();
        let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for p in parts {
            out.extend_from_slice(&p);
        }
        out
    }

    /// Write [`BuiltTree::proofs_jsonl`] to `path` atomically.
    pub fn write_proofs(&self, path: &Path) -> Result<()> {
        fairdrop_core::fsutil::write_atomic(path, &self.proofs_jsonl())
            .map_err(|e| MerkleError::io(path, e))
    }

    /// Write the profile's output file into `dir` (created if missing), atomically. Returns its
    /// path.
    pub fn write_outputs(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| MerkleError::io(dir, e))?;
        let path = dir.join(self.profile().output_file());
        fairdrop_core::fsutil::write_atomic(&path, &self.output_bytes())
            .map_err(|e| MerkleError::io(&path, e))?;
        Ok(path)
    }
}

impl BuiltTree {
    /// Name of the proof store file [`BuiltTree::write_all`] writes.
    pub const STORE_FILE: &'static str = "proofs.store";

    /// Write the profile's output file and the proof store (`proofs.store`) into `dir`, both
    /// atomically and at the same time (two threads). Returns both paths.
    pub fn write_all(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| MerkleError::io(dir, e))?;
        let store_path = dir.join(Self::STORE_FILE);
        let (out, st) = std::thread::scope(|s| {
            let h = s.spawn(|| crate::store::write(self, &store_path));
            let out = self.write_outputs(dir);
            (out, h.join())
        });
        let st = st.map_err(|_| MerkleError::Invalid("proof store writer panicked".to_string()))?;
        let out = out?;
        st?;
        Ok(vec![out, store_path])
    }
}

/// Read allocations, build, write the profile file and the proof store
/// ([`BuiltTree::write_all`]): `fairdrop tree` in one call. Returns the tree.
pub fn build_from_csv(allocations: &Path, profile: Profile, out_dir: &Path) -> Result<BuiltTree> {
    let rows = read_allocations(allocations, profile)?;
    let t = build(profile, &rows)?;
    t.write_all(out_dir)?;
    Ok(t)
}

/// The leaf hash of a claim under `profile` (`enc` only matters for oz).
pub fn leaf_for(
    profile: Profile,
    address: &ClaimAddress,
    amount: u128,
    index: u64,
    enc: OzEncoding,
) -> Result<Hash32> {
    match (profile, address) {
        (Profile::Oz, ClaimAddress::Evm(a)) => Ok(oz_leaf(enc, index, a, amount).1),
        (Profile::Uniswap, ClaimAddress::Evm(a)) => Ok(crate::uniswap::leaf_hash(index, a, amount)),
        (Profile::Jito, ClaimAddress::Solana(a)) => {
            let amt = u64::try_from(amount)
                .map_err(|_| MerkleError::Verify("amount does not fit u64".to_string()))?;
            Ok(crate::jito::leaf_hash(a, amt, 0))
        }
        _ => Err(MerkleError::Verify(format!(
            "address {address} is not of the kind the {profile} profile uses"
        ))),
    }
}

/// Fold `proof` onto `leaf` with the profile's node hash and compare with `root`.
pub fn verify_leaf(profile: Profile, leaf: &Hash32, proof: &[Hash32], root: &Hash32) -> Result<()> {
    let got = match profile {
        Profile::Oz => oz::process_proof(leaf, proof),
        Profile::Uniswap => crate::uniswap::process_proof(leaf, proof),
        Profile::Jito => crate::jito::process_proof(leaf, proof),
    };
    if &got != root {
        return Err(MerkleError::Verify(format!(
            "root check failed: the proof leads to {} but the root is {}",
            hex32(&got),
            hex32(root)
        )));
    }
    Ok(())
}

/// A [`ProofRecord`] for `address` from a loaded oz dump (`tree.json`), for `fairdrop proof`
/// without the allocations file. The dump must use one of the [`OzEncoding`]s; the first value
/// whose address field equals `address` is proven (a linear scan).
pub fn oz_proof_record(tree: &OzTree, address: &str) -> Result<ProofRecord> {
    let want = match ClaimAddress::parse_for(Profile::Oz, address).map_err(MerkleError::Invalid)? {
        ClaimAddress::Evm(a) => a,
        ClaimAddress::Solana(_) => {
            return Err(MerkleError::Invalid(
                "oz trees hold EVM addresses".to_string(),
            ))
        }
    };
    let enc = tree.leaf_encoding();
    let (addr_pos, amount_pos, index_pos) = if enc == OzEncoding::AddressAmount.types().as_slice() {
        (0, 1, None)
    } else if enc == OzEncoding::IndexAddressAmount.types().as_slice() {
        (1, 2, Some(0))
    } else {
        return Err(MerkleError::Invalid(format!(
            "leaf encoding {enc:?} has no address/amount fields fairdrop knows"
        )));
    };
    for (i, v) in tree.values().iter().enumerate() {
        let fields: Vec<serde_json::Value> = serde_json::from_str(&v.value)
            .map_err(|e| MerkleError::InvalidDump(format!("values[{i}]: {e}")))?;
        let Some(a) = fields.get(addr_pos).and_then(|f| f.as_str()) else {
            continue;
        };
        if crate::abi::parse_evm(a).ok() != Some(want) {
            continue;
        }
        let uint = |pos: usize| -> Result<u128> {
            let w = crate::abi::AbiType::Uint(256).encode(&fields[pos])?;
            if w[..16].iter().any(|&b| b != 0) {
                return Err(MerkleError::InvalidValue(format!(
                    "values[{i}]: amount exceeds 128 bits"
                )));
            }
            Ok(u128::from_be_bytes(w[16..].try_into().expect("16 bytes")))
        };
        let amount = uint(amount_pos)?;
        let index = match index_pos {
            Some(p) => u64::try_from(uint(p)?).map_err(|_| {
                MerkleError::InvalidValue(format!("values[{i}]: index exceeds u64"))
            })?,
            None => i as u64,
        };
        return Ok(ProofRecord {
            profile: Profile::Oz.name().to_string(),
            root: hex32(&tree.root()),
            address: ClaimAddress::Evm(want).to_string(),
            amount: amount.to_string(),
            index,
            leaf_encoding: Some(enc.to_vec()),
            leaves: Some(tree.len() as u64),
            leaf: hex32(&tree.leaf_at(i)?),
            proof: tree.proof(i)?.iter().map(hex32).collect(),
        });
    }
    Err(MerkleError::NotFound(format!(
        "{} has no allocation in this tree",
        ClaimAddress::Evm(want)
    )))
}

/// Allowed proof lengths for a tree of `n` leaves.
pub fn proof_len_bounds(profile: Profile, n: u64) -> (usize, usize) {
    if n <= 1 {
        return (0, 0);
    }
    let floor_log2 = |x: u64| (63 - x.leading_zeros()) as usize;
    let ceil_log2 = |x: u64| (64 - (x - 1).leading_zeros()) as usize;
    match profile {
        Profile::Oz => (floor_log2(n), floor_log2(2 * n - 1)),
        Profile::Uniswap => (1, ceil_log2(n)),
        Profile::Jito => (ceil_log2(n), ceil_log2(n)),
    }
}

/// Check a [`ProofRecord`]: every field parses, the leaf is the hash of (address, amount,
/// index), the proof length fits the tree size, and the proof leads to the root. The error
/// names the check that failed.
pub fn verify_record(r: &ProofRecord) -> Result<()> {
    let profile: Profile = r.profile.parse()?;
    let address = ClaimAddress::parse_for(profile, &r.address)
        .map_err(|m| MerkleError::Verify(format!("address check failed: {m}")))?;
    let amount = fairdrop_core::parse_amount(&r.amount)
        .map_err(|e| MerkleError::Verify(format!("amount check failed: {e}")))?;
    let root = parse_hex32(&r.root, "root")?;
    let leaf = parse_hex32(&r.leaf, "leaf")?;
    let proof = r
        .proof
        .iter()
        .enumerate()
        .map(|(i, p)| parse_hex32(p, &format!("proof[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    let enc = match (&r.leaf_encoding, profile) {
        (Some(e), Profile::Oz) if *e == OzEncoding::AddressAmount.types() => {
            OzEncoding::AddressAmount
        }
        (Some(e), Profile::Oz) if *e == OzEncoding::IndexAddressAmount.types() => {
            OzEncoding::IndexAddressAmount
        }
        (None, Profile::Oz) => OzEncoding::AddressAmount,
        (Some(e), Profile::Oz) => {
            return Err(MerkleError::Verify(format!(
                "leaf encoding check failed: {e:?} is not an encoding fairdrop builds"
            )))
        }
        (Some(_), _) => {
            return Err(MerkleError::Verify(format!(
                "leaf encoding check failed: the {profile} profile has no leafEncoding"
            )))
        }
        (None, _) => OzEncoding::AddressAmount,
    };
    let want = leaf_for(profile, &address, amount, r.index, enc)?;
    if want != leaf {
        return Err(MerkleError::Verify(format!(
            "leaf check failed: address, amount and index hash to {} but the record's leaf is {}",
            hex32(&want),
            hex32(&leaf)
        )));
    }
    if let Some(n) = r.leaves {
        if n == 0 {
            return Err(MerkleError::Verify(
                "proof length check failed: leaves is 0".to_string(),
            ));
        }
        let (lo, hi) = proof_len_bounds(profile, n);
        if proof.len() < lo || proof.len() > hi {
            return Err(MerkleError::Verify(format!(
                "proof length check failed: {} nodes, but a {profile} tree of {n} leaves needs {}",
                proof.len(),
                if lo == hi {
                    format!("exactly {lo}")
                } else {
                    format!("{lo} to {hi}")
                }
            )));
        }
    } else if proof.len() > 64 {
        return Err(MerkleError::Verify(format!(
            "proof length check failed: {} nodes is more than any tree needs",
            proof.len()
        )));
    }
    verify_leaf(profile, &leaf, &proof, &root)
}
