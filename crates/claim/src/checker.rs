//! Proof checking behind one small trait, so a profile that is not a `fairdrop-merkle` proof
//! store (the coming `aleo` Poseidon profile from the zk crate) plugs in with
//! [`crate::Dist::add_checker`].

use fairdrop_merkle::hash::{hex32, parse_hex32};
use fairdrop_merkle::profile::{
    leaf_for, proof_len_bounds, verify_leaf, ClaimAddress, OzEncoding, Profile,
};
use fairdrop_merkle::store::ProofStore;

/// What a wallet may claim under one profile, with its proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entitlement {
    /// Base units.
    pub amount: u128,
    /// Leaf index in the tree.
    pub index: u64,
    /// Proof elements in the profile's text form (`0x` + 64 hex digits for the hash profiles).
    pub proof: Vec<String>,
}

/// Why a submitted claim does not check out. Each maps to an HTTP 4xx `code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// The address is not of the kind this profile uses (`claim.address`).
    Address(String),
    /// The address has no allocation under this profile (`claim.not_eligible`).
    NotEligible(String),
    /// The amount is not the committed one (`claim.amount`).
    Amount(String),
    /// A proof element is not well-formed (`claim.proof.hex`).
    ProofFormat(String),
    /// The proof has a length no tree of this size produces (`claim.proof.length`).
    ProofLength(String),
    /// The proof does not lead to the root (`claim.proof.invalid`).
    Proof(String),
}

impl CheckError {
    /// Stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::Address(_) => "claim.address",
            CheckError::NotEligible(_) => "claim.not_eligible",
            CheckError::Amount(_) => "claim.amount",
            CheckError::ProofFormat(_) => "claim.proof.hex",
            CheckError::ProofLength(_) => "claim.proof.length",
            CheckError::Proof(_) => "claim.proof.invalid",
        }
    }
    /// Human message.
    pub fn message(&self) -> &str {
        match self {
            CheckError::Address(m)
            | CheckError::NotEligible(m)
            | CheckError::Amount(m)
            | CheckError::ProofFormat(m)
            | CheckError::ProofLength(m)
            | CheckError::Proof(m) => m,
        }
    }
}

/// One commitment profile the service can check claims against.
///
/// Implementations must be cheap to call concurrently (`lookup` runs on every eligibility
/// request). The ledger key of a claim is [`ProofChecker::canonical`]'s output, so two
/// profiles that accept the same wallet must canonicalise it to the same string (lowercase
/// `0x…` hex for EVM, base58 for Solana, `aleo1…` for Aleo): one wallet is paid once, whatever
/// the profile it claims through.
pub trait ProofChecker: Send + Sync + 'static {
    /// Profile name as in `manifest.json` `roots` (`oz`, `uniswap`, `jito`, `aleo`).
    fn profile(&self) -> &str;
    /// The root claims are checked against, as in the manifest.
    fn root(&self) -> String;
    /// Number of claims committed.
    fn claims(&self) -> u64;
    /// The canonical form of `address` if this profile accepts that kind of address, else
    /// why not.
    fn canonical(&self, address: &str) -> Result<String, String>;
    /// The entitlement of a canonical address, if any.
    fn lookup(&self, canonical: &str) -> Option<Entitlement>;
    /// The on-chain call that claims this entitlement, where the profile has a claim program
    /// (`aleo`: `{"program", "function", "inputs"}`, as `fairdrop proof --format aleo` prints).
    fn chain_call(&self, _canonical: &str) -> Option<serde_json::Value> {
        None
    }
    /// Check a submitted claim: the proof must lead from the leaf of (address, amount, index)
    /// to the root. Returns the entitlement on success.
    fn verify(
        &self,
        canonical: &str,
        amount: u128,
        proof: &[String],
    ) -> Result<Entitlement, CheckError>;
}

/// [`ProofChecker`] over a `fairdrop-merkle` proof store (`oz`, `uniswap`, `jito`).
pub struct StoreChecker {
    store: ProofStore,
    profile: Profile,
    root: String,
}

impl StoreChecker {
    pub fn new(store: ProofStore) -> StoreChecker {
        let profile = store.profile();
        let root = hex32(&store.root());
        StoreChecker {
            store,
            profile,
            root,
        }
    }

    fn parse(&self, address: &str) -> Result<ClaimAddress, String> {
        ClaimAddress::parse_for(self.profile, address)
    }
}

/// Canonical text of a claim address: lowercase hex for EVM, base58 for Solana.
pub fn canonical_text(a: &ClaimAddress) -> String {
    match a {
        ClaimAddress::Evm(b) => format!("0x{}", hex::encode(b)),
        ClaimAddress::Solana(_) => a.to_string(),
    }
}

impl ProofChecker for StoreChecker {
    fn profile(&self) -> &str {
        self.profile.name()
    }
    fn root(&self) -> String {
        self.root.clone()
    }
    fn claims(&self) -> u64 {
        self.store.len() as u64
    }
    fn canonical(&self, address: &str) -> Result<String, String> {
        self.parse(address).map(|a| canonical_text(&a))
    }
    fn lookup(&self, canonical: &str) -> Option<Entitlement> {
        let a = self.parse(canonical).ok()?;
        let c = self.store.get(&a)?;
        Some(Entitlement {
            amount: c.amount,
            index: c.index,
            proof: c.proof.iter().map(hex32).collect(),
        })
    }
    fn verify(
        &self,
        canonical: &str,
        amount: u128,
        proof: &[String],
    ) -> Result<Entitlement, CheckError> {
        let a = self.parse(canonical).map_err(CheckError::Address)?;
        let c = self.store.get(&a).ok_or_else(|| {
            CheckError::NotEligible(format!(
                "{canonical} has no allocation under the {} profile",
                self.profile
            ))
        })?;
        let (lo, hi) = proof_len_bounds(self.profile, self.store.len() as u64);
        if proof.len() < lo || proof.len() > hi {
            return Err(CheckError::ProofLength(format!(
                "the proof has {} elements, but a {} tree of {} leaves needs {}",
                proof.len(),
                self.profile,
                self.store.len(),
                if lo == hi {
                    format!("exactly {lo}")
                } else {
                    format!("{lo} to {hi}")
                }
            )));
        }
        let nodes = proof
            .iter()
            .enumerate()
            .map(|(i, p)| parse_hex32(p, &format!("proof[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CheckError::ProofFormat(e.to_string()))?;
        if amount != c.amount {
            return Err(CheckError::Amount(format!(
                "amount {amount} is not the amount committed for {canonical} under the {} profile",
                self.profile
            )));
        }
        let encodings: &[OzEncoding] = match self.profile {
            Profile::Oz => &[OzEncoding::AddressAmount, OzEncoding::IndexAddressAmount],
            _ => &[OzEncoding::AddressAmount],
        };
        let root = self.store.root();
        let mut last = String::new();
        for enc in encodings {
            let leaf = leaf_for(self.profile, &a, amount, c.index, *enc)
                .map_err(|e| CheckError::Proof(e.to_string()))?;
            match verify_leaf(self.profile, &leaf, &nodes, &root) {
                Ok(()) => {
                    return Ok(Entitlement {
                        amount: c.amount,
                        index: c.index,
                        proof: proof.to_vec(),
                    })
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(CheckError::Proof(format!(
            "the proof does not lead to the committed root: {last}"
        )))
    }
}

/// [`ProofChecker`] for the `aleo` profile (snarkVM's `hash.psd2`, `fairdrop_zk::aleo`),
/// loaded from `proofs-aleo.jsonl` (one `AleoProof` per claim, in leaf order): the tree is
/// rebuilt from the file's (address, amount) pairs and must give the manifest's root, so every
/// proof served is one the root commits to (rebuilding costs a tree, about 4 permutations a
/// leaf, where checking each stored path would cost 2 per level per leaf).
pub struct AleoChecker {
    root: fairdrop_zk::Fr,
    root_hex: String,
    tree: fairdrop_zk::aleo::AleoTree,
    index: std::collections::HashMap<String, usize>,
    program: String,
}

impl AleoChecker {
    /// Load the proofs, rebuild the tree and check its root against `root_hex` (the manifest's).
    /// `program` is the claim program's id (`name.aleo`) for [`ProofChecker::chain_call`].
    pub fn load(
        path: &std::path::Path,
        root_hex: &str,
        program: &str,
    ) -> Result<AleoChecker, String> {
        let root =
            fairdrop_zk::fe_from_hex(root_hex).map_err(|e| format!("aleo root {root_hex}: {e}"))?;
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut entries = Vec::new();
        let mut campaign = None;
        for (i, line) in text.lines().enumerate() {
            let at = || format!("{}:{}", path.display(), i + 1);
            let p: fairdrop_zk::aleo::AleoProof =
                serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
            if *campaign.get_or_insert(p.campaign) != p.campaign {
                return Err(format!(
                    "{}: campaign {} differs from line 1's",
                    at(),
                    p.campaign
                ));
            }
            if p.path.index != i as u64 {
                return Err(format!(
                    "{}: index {} is not the line's position",
                    at(),
                    p.path.index
                ));
            }
            let a = fairdrop_core::Address::parse(&p.address)
                .map_err(|e| format!("{}: {}: {e}", at(), p.address))?;
            entries.push((a, p.amount));
        }
        let tree = fairdrop_zk::aleo::AleoTree::build(campaign.unwrap_or(0), &entries)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if tree.root() != root {
            return Err(format!(
                "{}: the proofs rebuild to root {}, the manifest commits to {root_hex}",
                path.display(),
                tree.root_hex()
            ));
        }
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, (a, _))| (a.to_string(), i))
            .collect();
        Ok(AleoChecker {
            root,
            root_hex: fairdrop_zk::fe_to_hex(&root),
            tree,
            index,
            program: program.to_string(),
        })
    }

    /// The stored proof of a canonical address.
    pub fn proof_of(&self, canonical: &str) -> Option<fairdrop_zk::aleo::AleoProof> {
        self.tree.proof(*self.index.get(canonical)?).ok()
    }
}

impl ProofChecker for AleoChecker {
    fn profile(&self) -> &str {
        "aleo"
    }
    fn root(&self) -> String {
        self.root_hex.clone()
    }
    fn claims(&self) -> u64 {
        self.tree.len() as u64
    }
    fn canonical(&self, address: &str) -> Result<String, String> {
        match fairdrop_core::Address::parse(address) {
            Ok(a) if a.is_aleo() => Ok(a.to_string()),
            Ok(_) => Err("the aleo profile takes Aleo addresses (aleo1…)".into()),
            Err(e) => Err(format!("{e} ({})", e.rule())),
        }
    }
    fn chain_call(&self, canonical: &str) -> Option<serde_json::Value> {
        let p = self.proof_of(canonical)?;
        let call = fairdrop_zk::program::ClaimCall::new(&self.program, "claim", &p).ok()?;
        serde_json::to_value(call).ok()
    }
    fn lookup(&self, canonical: &str) -> Option<Entitlement> {
        let p = self.proof_of(canonical)?;
        Some(Entitlement {
            amount: p.amount as u128,
            index: p.path.index,
            proof: p.path.siblings.iter().map(fairdrop_zk::fe_to_hex).collect(),
        })
    }
    fn verify(
        &self,
        canonical: &str,
        amount: u128,
        proof: &[String],
    ) -> Result<Entitlement, CheckError> {
        let stored = self.proof_of(canonical).ok_or_else(|| {
            CheckError::NotEligible(format!(
                "{canonical} has no allocation under the aleo profile"
            ))
        })?;
        if proof.len() != stored.path.siblings.len() {
            return Err(CheckError::ProofLength(format!(
                "the proof has {} elements, the aleo profile needs exactly {}",
                proof.len(),
                stored.path.siblings.len()
            )));
        }
        let amount64 = u64::try_from(amount)
            .map_err(|_| CheckError::Amount(format!("{amount} exceeds u64 microcredits")))?;
        let mut siblings = Vec::with_capacity(proof.len());
        for (i, s) in proof.iter().enumerate() {
            siblings.push(
                fairdrop_zk::fe_from_hex(s)
                    .map_err(|e| CheckError::ProofFormat(format!("proof[{i}]: {e}")))?,
            );
        }
        let addr = fairdrop_core::Address::parse(canonical)
            .map_err(|e| CheckError::Address(e.to_string()))?;
        let index = u32::try_from(stored.path.index)
            .map_err(|_| CheckError::ProofFormat("index over u32".into()))?;
        let leaf = fairdrop_zk::aleo::aleo_leaf(stored.campaign, index, &addr, amount64)
            .map_err(|e| CheckError::Address(e.to_string()))?;
        let p = fairdrop_zk::aleo::AleoProof {
            campaign: stored.campaign,
            address: canonical.to_string(),
            amount: amount64,
            leaf,
            path: fairdrop_zk::MerklePath {
                index: stored.path.index,
                siblings,
            },
        };
        match fairdrop_zk::aleo::verify_aleo_proof(
            &self.root,
            self.tree.depth(),
            stored.campaign,
            &p,
        ) {
            Ok(()) => Ok(Entitlement {
                amount,
                index: stored.path.index,
                proof: proof.to_vec(),
            }),
            Err(e) if amount64 != stored.amount => Err(CheckError::Amount(format!(
                "{canonical} is owed {}, not {amount} ({e})",
                stored.amount
            ))),
            Err(e) => Err(CheckError::Proof(e.to_string())),
        }
    }
}
