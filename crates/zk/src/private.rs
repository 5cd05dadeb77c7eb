//! Private-claim values: secrets, campaign ids, commitments, nullifiers, recipients,
//! denominations (anonymity buckets) and the private tree.

use std::collections::HashSet;
use std::fmt;

use ark_bls12_377::Fr;
use ark_ff::{BigInteger, PrimeField};
use fairdrop_core::Address;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::poseidon::{hash_tagged, tag};
use crate::tree::{MerklePath, SparseTree};
use crate::{fe_from_hex, fe_to_hex, ZkError};

/// Depth of the private tree (2^24 = 16,777,216 notes).
pub const PRIVATE_DEPTH: usize = 24;

/// Tag of commitments.
pub const TAG_COMMIT: &str = "fairdrop.zk.commit.v1";
/// Tag of private-tree leaves (notes).
pub const TAG_NOTE: &str = "fairdrop.zk.note.v1";
/// Tag of nullifiers.
pub const TAG_NULLIFIER: &str = "fairdrop.zk.nullifier.v1";
/// Tag of recipient hashes.
pub const TAG_RECIPIENT: &str = "fairdrop.recipient.v1";
/// Tag of note-secret derivation from a master secret.
pub const TAG_NOTE_SECRET: &str = "fairdrop.zk.notesecret.v1";
/// Prefix of the campaign-id derivation.
pub const CAMPAIGN_ID_PREFIX: &[u8] = b"fairdrop.campaign.v1\0";

/// Number of random bits in a secret.
pub const SECRET_BITS: u32 = 251;

// ---------------------------------------------------------------------------------------------

/// A claim secret: a field element below 2^251. Never logged (Debug prints `Secret(..)`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Secret(Fr);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// 251 fresh bits from the operating system (`getrandom`).
    pub fn generate() -> Result<Secret, ZkError> {
        let mut b = [0u8; 32];
        getrandom::getrandom(&mut b).map_err(|e| ZkError::Random(e.to_string()))?;
        Ok(Self::from_random_bytes(b))
    }

    /// Keep the low 251 bits of 32 (random) bytes, little-endian.
    pub fn from_random_bytes(mut b: [u8; 32]) -> Secret {
        b[31] &= 0x07; // 248 + 3 = 251 bits
        Secret(Fr::from_le_bytes_mod_order(&b))
    }

    /// Secret `j` derived from a master secret: `Poseidon(tag("fairdrop.zk.notesecret.v1");
    /// master, j)`. One leaf needs one secret (one leaf, one nullifier), so a participant with
    /// several notes derives one secret per note from a single backed-up master secret.
    pub fn derive_note(&self, j: u64) -> Secret {
        Secret(hash_tagged(tag(TAG_NOTE_SECRET), self.0, Fr::from(j)))
    }

    pub fn as_fe(&self) -> Fr {
        self.0
    }

    /// `0x` + 64 hex digits, big-endian.
    pub fn to_hex(&self) -> String {
        fe_to_hex(&self.0)
    }

    /// Parse `0x` + 64 hex digits (a canonical field element).
    pub fn from_hex(s: &str) -> Result<Secret, ZkError> {
        fe_from_hex(s).map(Secret)
    }
}

// ---------------------------------------------------------------------------------------------

/// A campaign identifier as a field element:
/// the first 31 bytes of `sha256("fairdrop.campaign.v1\0" ‖ name)` read little-endian
/// (248 bits, always below the modulus).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CampaignId(Fr);

impl fmt::Debug for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CampaignId({})", self.to_hex())
    }
}

impl CampaignId {
    pub fn from_name(name: &str) -> CampaignId {
        let mut h = Sha256::new();
        h.update(CAMPAIGN_ID_PREFIX);
        h.update(name.as_bytes());
        let d = h.finalize();
        CampaignId(Fr::from_le_bytes_mod_order(&d[..31]))
    }

    pub fn from_fe(f: Fr) -> CampaignId {
        CampaignId(f)
    }

    pub fn as_fe(&self) -> Fr {
        self.0
    }

    pub fn to_hex(&self) -> String {
        fe_to_hex(&self.0)
    }

    pub fn from_hex(s: &str) -> Result<CampaignId, ZkError> {
        fe_from_hex(s).map(CampaignId)
    }
}

// ---------------------------------------------------------------------------------------------

/// A commitment `C = Poseidon(tag("fairdrop.zk.commit.v1"); secret, campaign_id)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Commitment(Fr);

impl Commitment {
    pub fn new(secret: &Secret, campaign: &CampaignId) -> Commitment {
        Commitment(hash_tagged(tag(TAG_COMMIT), secret.0, campaign.0))
    }
    pub fn from_fe(f: Fr) -> Commitment {
        Commitment(f)
    }
    pub fn as_fe(&self) -> Fr {
        self.0
    }
    pub fn to_hex(&self) -> String {
        fe_to_hex(&self.0)
    }
    pub fn from_hex(s: &str) -> Result<Commitment, ZkError> {
        fe_from_hex(s).map(Commitment)
    }
}

/// A nullifier `N = Poseidon(tag("fairdrop.zk.nullifier.v1"); secret, campaign_id)`.
/// Deterministic: one secret (one leaf) has exactly one nullifier per campaign.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Nullifier(Fr);

impl Nullifier {
    pub fn new(secret: &Secret, campaign: &CampaignId) -> Nullifier {
        Nullifier(hash_tagged(tag(TAG_NULLIFIER), secret.0, campaign.0))
    }
    pub fn from_fe(f: Fr) -> Nullifier {
        Nullifier(f)
    }
    pub fn as_fe(&self) -> Fr {
        self.0
    }
    /// `0x` + 64 hex digits: the key the claim service stores (UNIQUE column).
    pub fn to_hex(&self) -> String {
        fe_to_hex(&self.0)
    }
    pub fn from_hex(s: &str) -> Result<Nullifier, ZkError> {
        fe_from_hex(s).map(Nullifier)
    }
    /// 32 bytes, big-endian.
    pub fn to_bytes(&self) -> [u8; 32] {
        let v = self.0.into_bigint().to_bytes_be();
        let mut out = [0u8; 32];
        out.copy_from_slice(&v);
        out
    }
}

/// In-memory set of spent nullifiers. The claim service keeps the same set in SQLite
/// (a UNIQUE column, inserted in the payout transaction); this type is the reference
/// behaviour and what tests use.
#[derive(Clone, Debug, Default)]
pub struct NullifierSet {
    spent: HashSet<Nullifier>,
}

impl NullifierSet {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn contains(&self, n: &Nullifier) -> bool {
        self.spent.contains(n)
    }
    /// Record `n`; a second use is an error (`ZkError::NullifierReused`, HTTP 409).
    pub fn insert(&mut self, n: Nullifier) -> Result<(), ZkError> {
        if self.spent.insert(n) {
            Ok(())
        } else {
            Err(ZkError::NullifierReused(n.to_hex()))
        }
    }
    pub fn len(&self) -> usize {
        self.spent.len()
    }
    pub fn is_empty(&self) -> bool {
        self.spent.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------

/// The recipient as one field element:
/// `Poseidon(tag("fairdrop.recipient.v1"); kind, value)` with kind 0 = Aleo (value = x),
/// kind 1 = EVM (value = the 20 address bytes as a big-endian integer).
pub fn recipient_field(addr: &Address) -> Result<Fr, ZkError> {
    let (kind, value) = match addr {
        Address::Aleo(_) => (0u64, crate::aleo::aleo_x(addr)?),
        Address::Evm(b) => (1u64, Fr::from_be_bytes_mod_order(b)),
    };
    Ok(hash_tagged(tag(TAG_RECIPIENT), Fr::from(kind), value))
}

// ---------------------------------------------------------------------------------------------

/// An allocation split into fixed denominations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// One entry per note, largest denomination first.
    pub notes: Vec<u64>,
    /// What no denomination could carry (paid publicly, or forfeited: campaign policy).
    pub remainder: u64,
}

/// Split `amount` greedily over `denominations` (any order; each non-zero, no repeats),
/// producing at most `max_notes` notes. With denominations where each divides the next
/// (e.g. 10^k tiers) greedy is optimal.
pub fn split_denominations(
    amount: u64,
    denominations: &[u64],
    max_notes: usize,
) -> Result<Split, ZkError> {
    let mut d: Vec<u64> = denominations.to_vec();
    if d.is_empty() || d.contains(&0) {
        return Err(ZkError::Denominations(
            "denominations must be non-empty and non-zero".into(),
        ));
    }
    d.sort_unstable_by(|a, b| b.cmp(a));
    if d.windows(2).any(|w| w[0] == w[1]) {
        return Err(ZkError::Denominations("denominations repeat".into()));
    }
    let mut rest = amount;
    let mut notes = Vec::new();
    for den in d {
        let k = rest / den;
        if k == 0 {
            continue;
        }
        if notes.len() as u64 + k > max_notes as u64 {
            return Err(ZkError::TooManyNotes { amount, max_notes });
        }
        notes.extend(std::iter::repeat_n(den, k as usize));
        rest -= k * den;
    }
    Ok(Split {
        notes,
        remainder: rest,
    })
}

// ---------------------------------------------------------------------------------------------

/// A private-tree leaf: `Poseidon(tag("fairdrop.zk.note.v1"); C, denomination)`.
pub fn note_leaf(c: &Commitment, denomination: u64) -> Fr {
    hash_tagged(tag(TAG_NOTE), c.0, Fr::from(denomination))
}

/// One note of the private tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Note {
    pub commitment: Commitment,
    pub denomination: u64,
}

/// The private tree: depth 24, notes sorted by (denomination, commitment) so the root is
/// independent of registration order.
#[derive(Clone, Debug)]
pub struct PrivateTree {
    notes: Vec<Note>,
    tree: SparseTree,
}

impl PrivateTree {
    /// Build from notes (any order). Rejects a commitment used twice: two leaves with one
    /// secret would share a nullifier, so only one could ever be claimed.
    pub fn build(mut notes: Vec<Note>) -> Result<PrivateTree, ZkError> {
        let mut seen = HashSet::with_capacity(notes.len());
        for n in &notes {
            if !seen.insert(n.commitment) {
                return Err(ZkError::DuplicateCommitment(n.commitment.to_hex()));
            }
        }
        // Keys computed once per note (a comparator converting both sides out of Montgomery
        // form did it 40 times per note at 551k notes).
        notes.sort_by_cached_key(|n| (n.denomination, n.commitment.0.into_bigint()));
        use rayon::prelude::*;
        let t = tag(TAG_NOTE);
        let leaves: Vec<Fr> = notes
            .par_chunks(2048)
            .map(|c| {
                crate::poseidon::many::hash_tagged_many(
                    t,
                    c.iter().map(|n| (n.commitment.0, Fr::from(n.denomination))),
                )
            })
            .collect::<Vec<_>>()
            .concat();
        let tree = SparseTree::new(PRIVATE_DEPTH, leaves)?;
        Ok(PrivateTree { notes, tree })
    }

    pub fn root(&self) -> Fr {
        self.tree.root()
    }
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }
    pub fn len(&self) -> usize {
        self.notes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }

    /// Index of a note (binary search in the canonical order).
    pub fn index_of(&self, commitment: &Commitment, denomination: u64) -> Option<usize> {
        let key = (denomination, commitment.0.into_bigint());
        self.notes
            .binary_search_by(|n| (n.denomination, n.commitment.0.into_bigint()).cmp(&key))
            .ok()
    }

    pub fn path(&self, index: usize) -> Result<MerklePath, ZkError> {
        self.tree.path(index)
    }

    /// Anonymity set per denomination: how many notes carry each denomination.
    pub fn bucket_sizes(&self) -> Vec<(u64, usize)> {
        let mut out: Vec<(u64, usize)> = Vec::new();
        for n in &self.notes {
            match out.last_mut() {
                Some((d, c)) if *d == n.denomination => *c += 1,
                _ => out.push((n.denomination, 1)),
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------

/// The text an EVM wallet signs (EIP-191 `personal_sign`) to bind a commitment to its address:
/// the claim service recovers the signer from the signature over
/// `"\x19Ethereum Signed Message:\n" ‖ len ‖ text` and checks it is the eligible address.
pub fn evm_registration_message(campaign: &CampaignId, c: &Commitment) -> String {
    format!(
        "fairdrop private-claim registration\ncampaign: {}\ncommitment: {}",
        campaign.to_hex(),
        c.to_hex()
    )
}

/// The exact bytes hashed with keccak256 by EIP-191 for [`evm_registration_message`].
pub fn eip191_bytes(message: &str) -> Vec<u8> {
    let mut v = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    v.extend_from_slice(message.as_bytes());
    v
}

/// An operator-issued claim code (second mode): the operator draws the secret, computes the
/// commitment itself and sends the code to the address holder through its own channel.
#[derive(Clone, Debug)]
pub struct ClaimCode {
    pub address: Address,
    pub denomination: u64,
    pub secret: Secret,
    pub commitment: Commitment,
}

/// Issue one claim code per note of `split` for `address`.
pub fn issue_claim_codes(
    address: &Address,
    split: &Split,
    campaign: &CampaignId,
) -> Result<Vec<ClaimCode>, ZkError> {
    split
        .notes
        .iter()
        .map(|&d| {
            let secret = Secret::generate()?;
            Ok(ClaimCode {
                address: *address,
                denomination: d,
                secret,
                commitment: Commitment::new(&secret, campaign),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_251_bits_and_round_trip() {
        let s = Secret::generate().unwrap();
        assert!(s.as_fe().into_bigint().num_bits() <= 251);
        assert_eq!(Secret::from_hex(&s.to_hex()).unwrap(), s);
        assert_ne!(Secret::generate().unwrap(), s);
        let all = Secret::from_random_bytes([0xff; 32]);
        assert_eq!(all.as_fe().into_bigint().num_bits(), 251);
        assert_eq!(format!("{s:?}"), "Secret(..)");
        assert_ne!(s.derive_note(0), s.derive_note(1));
    }

    #[test]
    fn commitment_and_nullifier_are_separated_and_campaign_bound() {
        let s = Secret::from_random_bytes([7; 32]);
        let a = CampaignId::from_name("a");
        let b = CampaignId::from_name("b");
        assert_ne!(
            Commitment::new(&s, &a).as_fe(),
            Nullifier::new(&s, &a).as_fe()
        );
        assert_ne!(Commitment::new(&s, &a), Commitment::new(&s, &b));
        assert_ne!(Nullifier::new(&s, &a), Nullifier::new(&s, &b));
        assert_eq!(Nullifier::new(&s, &a), Nullifier::new(&s, &a));
        assert_eq!(CampaignId::from_name("a"), a);
        assert!(a.as_fe().into_bigint().num_bits() <= 248);
    }

    #[test]
    fn nullifier_set_rejects_second_use() {
        let mut set = NullifierSet::new();
        let n = Nullifier::new(
            &Secret::from_random_bytes([1; 32]),
            &CampaignId::from_name("x"),
        );
        set.insert(n).unwrap();
        assert!(matches!(set.insert(n), Err(ZkError::NullifierReused(_))));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn split_is_greedy_with_remainder() {
        let s = split_denominations(3_456, &[100, 1_000, 10], 100).unwrap();
        assert_eq!(
            s.notes,
            vec![1000, 1000, 1000, 100, 100, 100, 100, 10, 10, 10, 10, 10]
        );
        assert_eq!(s.remainder, 6);
        assert_eq!(s.notes.iter().sum::<u64>() + s.remainder, 3_456);
        assert!(split_denominations(10, &[], 5).is_err());
        assert!(split_denominations(10, &[0, 1], 5).is_err());
        assert!(split_denominations(10, &[5, 5], 5).is_err());
        assert!(matches!(
            split_denominations(u64::MAX, &[1], 1000),
            Err(ZkError::TooManyNotes { .. })
        ));
        assert_eq!(
            split_denominations(5, &[10], 1).unwrap().notes,
            Vec::<u64>::new()
        );
    }

    #[test]
    fn private_tree_is_order_independent_and_counts_buckets() {
        let camp = CampaignId::from_name("c");
        let notes: Vec<Note> = (0..10u8)
            .map(|i| Note {
                commitment: Commitment::new(&Secret::from_random_bytes([i; 32]), &camp),
                denomination: if i % 3 == 0 { 1000 } else { 100 },
            })
            .collect();
        let t1 = PrivateTree::build(notes.clone()).unwrap();
        let mut rev = notes.clone();
        rev.reverse();
        let t2 = PrivateTree::build(rev).unwrap();
        assert_eq!(t1.root(), t2.root());
        assert_eq!(t1.bucket_sizes(), vec![(100, 6), (1000, 4)]);
        for n in &notes {
            let i = t1.index_of(&n.commitment, n.denomination).unwrap();
            let p = t1.path(i).unwrap();
            assert!(p.verify(note_leaf(&n.commitment, n.denomination), t1.root()));
        }
        let mut dup = notes.clone();
        dup.push(notes[0]);
        assert!(matches!(
            PrivateTree::build(dup),
            Err(ZkError::DuplicateCommitment(_))
        ));
    }

    #[test]
    fn recipients_distinguish_chains() {
        let aleo =
            Address::parse("aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf")
                .unwrap();
        let evm = Address::parse("0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f").unwrap();
        assert_ne!(
            recipient_field(&aleo).unwrap(),
            recipient_field(&evm).unwrap()
        );
        let msg = evm_registration_message(
            &CampaignId::from_name("x"),
            &Commitment::from_fe(Fr::from(1u64)),
        );
        assert!(eip191_bytes(&msg).starts_with(b"\x19Ethereum Signed Message:\n"));
    }
}
