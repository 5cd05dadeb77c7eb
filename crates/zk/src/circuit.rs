//! The claim circuit and the Groth16 (BLS12-377) prover and verifier.
//!
//! Public inputs, in this order: `root`, `nullifier`, `recipient` (see
//! [`crate::recipient_field`]), `denomination`, `campaign_id`.
//! Private: `secret`, the Merkle path (24 siblings, 24 index bits).
//! Constraints:
//! 1. `C = Poseidon(TAG_COMMIT; secret, campaign_id)`
//! 2. `leaf = Poseidon(TAG_NOTE; C, denomination)`
//! 3. hashing `leaf` up the path with `Poseidon(0; left, right)` gives `root`
//! 4. `nullifier = Poseidon(TAG_NULLIFIER; secret, campaign_id)`
//! 5. `recipient² = recipient_sq` (Tornado-style: makes the recipient part of a constraint
//!    so the proof cannot be redirected; arkworks' QAP also binds every public input)

use std::path::Path;

use ark_bls12_377::{Bls12_377, Fr};
use ark_ff::Zero;
use ark_groth16::{Groth16, PreparedVerifyingKey};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
    SynthesisMode,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use ark_std::rand::{CryptoRng, RngCore};
use fairdrop_core::Address;
use sha2::{Digest, Sha256};

use crate::poseidon::{hash2_var, hash_tagged_var, tag};
use crate::private::{
    note_leaf, recipient_field, CampaignId, Commitment, Nullifier, Secret, PRIVATE_DEPTH,
    TAG_COMMIT, TAG_NOTE, TAG_NULLIFIER,
};
use crate::tree::MerklePath;
use crate::ZkError;

/// Size of a compressed Groth16 proof on BLS12-377 (G1 48 + G2 96 + G1 48 bytes).
pub const PROOF_BYTES: usize = 192;

const PK_MAGIC: &[u8; 8] = b"FDZKPK01";
const VK_MAGIC: &[u8; 8] = b"FDZKVK01";

/// Public inputs of a private claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicInputs {
    pub root: Fr,
    pub nullifier: Nullifier,
    /// `recipient_field(address)`.
    pub recipient: Fr,
    pub denomination: u64,
    pub campaign: CampaignId,
}

impl PublicInputs {
    /// Build from the values a claim request carries.
    pub fn new(
        root: Fr,
        nullifier: Nullifier,
        recipient: &Address,
        denomination: u64,
        campaign: CampaignId,
    ) -> Result<PublicInputs, ZkError> {
        Ok(PublicInputs {
            root,
            nullifier,
            recipient: recipient_field(recipient)?,
            denomination,
            campaign,
        })
    }

    /// The field elements in circuit order.
    pub fn to_field_elements(&self) -> [Fr; 5] {
        [
            self.root,
            self.nullifier.as_fe(),
            self.recipient,
            Fr::from(self.denomination),
            self.campaign.as_fe(),
        ]
    }
}

/// Everything the claimant needs to prove.
#[derive(Clone, Debug)]
pub struct ClaimWitness {
    pub secret: Secret,
    pub path: MerklePath,
    pub root: Fr,
    pub denomination: u64,
    pub recipient: Address,
    pub campaign: CampaignId,
}

impl ClaimWitness {
    /// The public inputs this witness proves.
    pub fn public_inputs(&self) -> Result<PublicInputs, ZkError> {
        PublicInputs::new(
            self.root,
            Nullifier::new(&self.secret, &self.campaign),
            &self.recipient,
            self.denomination,
            self.campaign,
        )
    }

    /// Native check: the note of this secret and denomination is at `path` under `root`.
    pub fn check(&self) -> Result<(), ZkError> {
        if self.path.depth() != PRIVATE_DEPTH {
            return Err(ZkError::PathLength {
                got: self.path.depth(),
                expected: PRIVATE_DEPTH,
            });
        }
        let c = Commitment::new(&self.secret, &self.campaign);
        let leaf = note_leaf(&c, self.denomination);
        if !self.path.verify(leaf, self.root) {
            return Err(ZkError::NotInTree);
        }
        Ok(())
    }
}

/// The R1CS circuit. `depth` is fixed at [`PRIVATE_DEPTH`] by the public API; tests may use
/// other depths through [`ClaimCircuit::new`].
#[derive(Clone, Debug)]
pub struct ClaimCircuit {
    pub public: [Fr; 5],
    pub secret: Fr,
    pub siblings: Vec<Fr>,
    pub index_bits: Vec<bool>,
}

impl ClaimCircuit {
    pub fn new(public: &PublicInputs, secret: &Secret, path: &MerklePath) -> ClaimCircuit {
        ClaimCircuit {
            public: public.to_field_elements(),
            secret: secret.as_fe(),
            siblings: path.siblings.clone(),
            index_bits: path.index_bits(),
        }
    }

    /// A circuit of the right shape with dummy values (for key generation).
    pub fn blank(depth: usize, campaign: &CampaignId) -> ClaimCircuit {
        let mut public = [Fr::zero(); 5];
        public[4] = campaign.as_fe();
        ClaimCircuit {
            public,
            secret: Fr::zero(),
            siblings: vec![Fr::zero(); depth],
            index_bits: vec![false; depth],
        }
    }
}

impl ConstraintSynthesizer<Fr> for ClaimCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let [root, nullifier, recipient, denomination, campaign] = self.public;
        let root = FpVar::new_input(cs.clone(), || Ok(root))?;
        let nullifier = FpVar::new_input(cs.clone(), || Ok(nullifier))?;
        let recipient = FpVar::new_input(cs.clone(), || Ok(recipient))?;
        let denomination = FpVar::new_input(cs.clone(), || Ok(denomination))?;
        let campaign = FpVar::new_input(cs.clone(), || Ok(campaign))?;

        let secret = FpVar::new_witness(cs.clone(), || Ok(self.secret))?;
        let c = hash_tagged_var(cs.clone(), tag(TAG_COMMIT), &secret, &campaign)?;
        let mut cur = hash_tagged_var(cs.clone(), tag(TAG_NOTE), &c, &denomination)?;
        for (sib, bit) in self.siblings.iter().zip(self.index_bits.iter()) {
            let sib = FpVar::new_witness(cs.clone(), || Ok(*sib))?;
            let is_right = Boolean::new_witness(cs.clone(), || Ok(*bit))?;
            let left = is_right.select(&sib, &cur)?;
            let right = is_right.select(&cur, &sib)?;
            cur = hash2_var(cs.clone(), &left, &right)?;
        }
        cur.enforce_equal(&root)?;

        let n = hash_tagged_var(cs.clone(), tag(TAG_NULLIFIER), &secret, &campaign)?;
        n.enforce_equal(&nullifier)?;

        // Recipient binding.
        let _recipient_sq = recipient.square()?;
        Ok(())
    }
}

/// Number of R1CS constraints of the claim circuit at `depth`.
pub fn constraint_count(depth: usize) -> Result<usize, ZkError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    ClaimCircuit::blank(depth, &CampaignId::from_fe(Fr::zero()))
        .generate_constraints(cs.clone())?;
    cs.finalize();
    Ok(cs.num_constraints())
}

/// Sizes of the depth-24 claim circuit, used to check a proving key before proving with it.
#[derive(Clone, Copy, Debug)]
struct Shape {
    instances: usize,
    witnesses: usize,
    variables: usize,
    domain: usize,
}

fn circuit_shape() -> Result<Shape, ZkError> {
    static SHAPE: std::sync::OnceLock<Shape> = std::sync::OnceLock::new();
    if let Some(s) = SHAPE.get() {
        return Ok(*s);
    }
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    ClaimCircuit::blank(PRIVATE_DEPTH, &CampaignId::from_fe(Fr::zero()))
        .generate_constraints(cs.clone())?;
    cs.finalize();
    let instances = cs.num_instance_variables();
    let witnesses = cs.num_witness_variables();
    let shape = Shape {
        instances,
        witnesses,
        variables: instances + witnesses,
        domain: (cs.num_constraints() + instances).next_power_of_two(),
    };
    Ok(*SHAPE.get_or_init(|| shape))
}

/// Whether `circuit` is satisfied (native constraint check, no proof).
pub fn is_satisfied(circuit: ClaimCircuit) -> Result<bool, ZkError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit.generate_constraints(cs.clone())?;
    Ok(cs.is_satisfied()?)
}

// ---------------------------------------------------------------------------------------------

/// A campaign's proving key.
#[derive(Clone, Debug)]
pub struct ProvingKey {
    pub campaign: CampaignId,
    pub depth: usize,
    pub inner: ark_groth16::ProvingKey<Bls12_377>,
}

/// A campaign's verifying key (with the prepared form for fast verification).
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    pub campaign: CampaignId,
    pub depth: usize,
    pub inner: ark_groth16::VerifyingKey<Bls12_377>,
    prepared: PreparedVerifyingKey<Bls12_377>,
}

fn key_header(magic: &[u8; 8], campaign: &CampaignId, depth: usize) -> Vec<u8> {
    let mut v = magic.to_vec();
    v.extend_from_slice(&crate::fe_to_le_bytes(&campaign.as_fe()));
    v.push(depth as u8);
    v
}

fn parse_header<'a>(
    magic: &[u8; 8],
    bytes: &'a [u8],
    what: &'static str,
) -> Result<(CampaignId, usize, &'a [u8]), ZkError> {
    if bytes.len() < 41 || &bytes[..8] != magic {
        return Err(ZkError::Format(format!(
            "{what}: not a fairdrop {what} (bad magic or too short)"
        )));
    }
    let mut cb = [0u8; 32];
    cb.copy_from_slice(&bytes[8..40]);
    let campaign = crate::fe_from_le_bytes(&cb)
        .map(CampaignId::from_fe)
        .ok_or_else(|| ZkError::Format(format!("{what}: campaign id is not canonical")))?;
    let depth = bytes[40] as usize;
    if depth != PRIVATE_DEPTH {
        return Err(ZkError::Format(format!(
            "{what}: depth {depth}, this build uses {PRIVATE_DEPTH}"
        )));
    }
    Ok((campaign, depth, &bytes[41..]))
}

impl ProvingKey {
    /// `FDZKPK01` ‖ campaign id (32 bytes LE) ‖ depth (1 byte) ‖ arkworks *uncompressed* key.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = key_header(PK_MAGIC, &self.campaign, self.depth);
        self.inner
            .serialize_uncompressed(&mut v)
            .expect("writing to a Vec cannot fail");
        v
    }

    /// Parse without curve/subgroup checks (they take ~13 s for this key on 2 cores; loading
    /// this way takes milliseconds). Safe because the proving key is not a soundness input:
    /// a tampered key can only make its user's own proofs fail to verify, and the CLI checks
    /// the file's sha256 against the signed manifest. Malformed bytes give errors, never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<ProvingKey, ZkError> {
        let (campaign, depth, rest) = parse_header(PK_MAGIC, bytes, "proving key")?;
        let mut rd = rest;
        let inner =
            ark_groth16::ProvingKey::<Bls12_377>::deserialize_uncompressed_unchecked(&mut rd)
                .map_err(|e| ZkError::Format(format!("proving key: {e}")))?;
        if !rd.is_empty() {
            return Err(ZkError::Format("proving key: trailing bytes".into()));
        }
        let shape = circuit_shape()?;
        let got = (
            inner.a_query.len(),
            inner.b_g1_query.len(),
            inner.b_g2_query.len(),
            inner.l_query.len(),
            inner.h_query.len(),
            inner.vk.gamma_abc_g1.len(),
        );
        let want = (
            shape.variables,
            shape.variables,
            shape.variables,
            shape.witnesses,
            shape.domain - 1,
            shape.instances,
        );
        if got != want {
            return Err(ZkError::Format(format!(
                "proving key: shape {got:?} does not match the claim circuit {want:?}"
            )));
        }
        Ok(ProvingKey {
            campaign,
            depth,
            inner,
        })
    }
}

impl VerifyingKey {
    fn from_inner(
        campaign: CampaignId,
        depth: usize,
        inner: ark_groth16::VerifyingKey<Bls12_377>,
    ) -> VerifyingKey {
        let prepared = ark_groth16::prepare_verifying_key(&inner);
        VerifyingKey {
            campaign,
            depth,
            inner,
            prepared,
        }
    }

    /// `FDZKVK01` ‖ campaign id (32 bytes LE) ‖ depth (1 byte) ‖ arkworks compressed key.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = key_header(VK_MAGIC, &self.campaign, self.depth);
        self.inner
            .serialize_compressed(&mut v)
            .expect("writing to a Vec cannot fail");
        v
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<VerifyingKey, ZkError> {
        let (campaign, depth, rest) = parse_header(VK_MAGIC, bytes, "verifying key")?;
        let mut rd = rest;
        let inner = ark_groth16::VerifyingKey::<Bls12_377>::deserialize_compressed(&mut rd)
            .map_err(|e| ZkError::Format(format!("verifying key: {e}")))?;
        if !rd.is_empty() {
            return Err(ZkError::Format("verifying key: trailing bytes".into()));
        }
        if inner.gamma_abc_g1.len() != 6 {
            return Err(ZkError::Format(format!(
                "verifying key: expects {} public inputs, the claim circuit has 5",
                inner.gamma_abc_g1.len().saturating_sub(1)
            )));
        }
        Ok(VerifyingKey::from_inner(campaign, depth, inner))
    }
}

/// sha256 of the serialised key file, lowercase hex (goes into the manifest).
pub fn key_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hashes of a written key pair.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyHashes {
    pub proving_key_sha256: String,
    pub verifying_key_sha256: String,
}

/// Write `claim.pk` and `claim.vk` into `dir` atomically and return their sha256.
pub fn write_keys(dir: &Path, pk: &ProvingKey, vk: &VerifyingKey) -> Result<KeyHashes, ZkError> {
    let pkb = pk.to_bytes();
    let vkb = vk.to_bytes();
    let io = |p: &Path, e: std::io::Error| ZkError::Io(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let pp = dir.join(PK_FILE);
    let vp = dir.join(VK_FILE);
    fairdrop_core::fsutil::write_atomic(&pp, &pkb).map_err(|e| io(&pp, e))?;
    fairdrop_core::fsutil::write_atomic(&vp, &vkb).map_err(|e| io(&vp, e))?;
    Ok(KeyHashes {
        proving_key_sha256: key_hash(&pkb),
        verifying_key_sha256: key_hash(&vkb),
    })
}

/// File name of the proving key inside a key directory.
pub const PK_FILE: &str = "claim.pk";
/// File name of the verifying key inside a key directory.
pub const VK_FILE: &str = "claim.vk";

fn read_file(p: &Path) -> Result<Vec<u8>, ZkError> {
    std::fs::read(p).map_err(|e| ZkError::Io(format!("{}: {e}", p.display())))
}

/// The campaign a proving-key file (its bytes) belongs to, from its header only (no curve
/// points are decoded).
pub fn proving_key_campaign(bytes: &[u8]) -> Result<CampaignId, ZkError> {
    parse_header(PK_MAGIC, bytes, "proving key").map(|(c, _, _)| c)
}

/// Read a proving key file.
pub fn read_proving_key(path: &Path) -> Result<ProvingKey, ZkError> {
    ProvingKey::from_bytes(&read_file(path)?)
        .map_err(|e| ZkError::Format(format!("{}: {e}", path.display())))
}

/// Read a verifying key file.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, ZkError> {
    VerifyingKey::from_bytes(&read_file(path)?)
        .map_err(|e| ZkError::Format(format!("{}: {e}", path.display())))
}

// ---------------------------------------------------------------------------------------------

/// A Groth16 proof (192 bytes compressed).
#[derive(Clone, Debug, PartialEq)]
pub struct Proof(pub ark_groth16::Proof<Bls12_377>);

impl Proof {
    pub fn to_bytes(&self) -> [u8; PROOF_BYTES] {
        let mut v = Vec::with_capacity(PROOF_BYTES);
        self.0
            .serialize_compressed(&mut v)
            .expect("writing to a Vec cannot fail");
        let mut out = [0u8; PROOF_BYTES];
        out.copy_from_slice(&v);
        out
    }

    /// Exactly 192 bytes; points must decompress, lie on the curve and in the prime subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Proof, ZkError> {
        if bytes.len() != PROOF_BYTES {
            return Err(ZkError::Format(format!(
                "proof is {} bytes, must be {PROOF_BYTES}",
                bytes.len()
            )));
        }
        let mut rd = bytes;
        ark_groth16::Proof::<Bls12_377>::deserialize_compressed(&mut rd)
            .map(Proof)
            .map_err(|e| ZkError::Format(format!("proof: {e}")))
    }

    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.to_bytes()))
    }

    pub fn from_hex(s: &str) -> Result<Proof, ZkError> {
        let h = s.strip_prefix("0x").unwrap_or(s);
        let b = hex::decode(h).map_err(|e| ZkError::Format(format!("proof hex: {e}")))?;
        Proof::from_bytes(&b)
    }
}

/// Generate a campaign's keys (trusted setup by one party: fine for tests and demos,
/// production needs a multi-party ceremony, see docs/privacy.md).
pub fn setup<R: RngCore + CryptoRng>(
    campaign: &CampaignId,
    rng: &mut R,
) -> Result<(ProvingKey, VerifyingKey), ZkError> {
    let (pk, vk) = Groth16::<Bls12_377>::circuit_specific_setup(
        ClaimCircuit::blank(PRIVATE_DEPTH, campaign),
        rng,
    )?;
    Ok((
        ProvingKey {
            campaign: *campaign,
            depth: PRIVATE_DEPTH,
            inner: pk,
        },
        VerifyingKey::from_inner(*campaign, PRIVATE_DEPTH, vk),
    ))
}

/// Prove a claim. Checks the witness natively first (a clear error instead of a useless proof).
pub fn prove<R: RngCore + CryptoRng>(
    pk: &ProvingKey,
    witness: &ClaimWitness,
    rng: &mut R,
) -> Result<(Proof, PublicInputs), ZkError> {
    if witness.campaign != pk.campaign {
        return Err(ZkError::CampaignMismatch);
    }
    witness.check()?;
    let public = witness.public_inputs()?;
    let circuit = ClaimCircuit::new(&public, &witness.secret, &witness.path);
    let proof = Groth16::<Bls12_377>::prove(&pk.inner, circuit, rng)?;
    Ok((Proof(proof), public))
}

/// Verify a proof against public inputs. `Ok(false)` for a proof that does not verify
/// (including one made for another campaign); `Err` only for malformed input.
pub fn verify(vk: &VerifyingKey, public: &PublicInputs, proof: &Proof) -> Result<bool, ZkError> {
    if public.campaign != vk.campaign {
        return Ok(false);
    }
    let inputs = public.to_field_elements();
    Ok(Groth16::<Bls12_377>::verify_with_processed_vk(
        &vk.prepared,
        &inputs,
        &proof.0,
    )?)
}

/// Verify proof bytes, then record the nullifier: what `POST /v1/private-claims` does (with the
/// set in SQLite and the payout row in the same transaction).
pub fn verify_and_record(
    vk: &VerifyingKey,
    public: &PublicInputs,
    proof_bytes: &[u8],
    spent: &mut crate::NullifierSet,
) -> Result<(), ZkError> {
    if spent.contains(&public.nullifier) {
        return Err(ZkError::NullifierReused(public.nullifier.to_hex()));
    }
    let proof = Proof::from_bytes(proof_bytes)?;
    if !verify(vk, public, &proof)? {
        return Err(ZkError::InvalidProof);
    }
    spent.insert(public.nullifier)
}

/// The JSON body of a private claim (`fairdrop zk prove` writes it, `POST /v1/private-claims`
/// takes it). Every field is validated by [`PrivateClaim::decode`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateClaim {
    /// Campaign id, `0x` + 64 hex digits.
    pub campaign: String,
    /// Private-tree root, `0x` + 64 hex digits.
    pub root: String,
    /// Nullifier, `0x` + 64 hex digits.
    pub nullifier: String,
    /// Recipient address (Aleo `aleo1…` or EVM `0x…`).
    pub recipient: String,
    /// Denomination in base units.
    pub denomination: u64,
    /// Groth16 proof, `0x` + 384 hex digits (192 bytes).
    pub proof: String,
}

impl PrivateClaim {
    /// Package a proof and its public inputs.
    pub fn new(public: &PublicInputs, recipient: &Address, proof: &Proof) -> PrivateClaim {
        PrivateClaim {
            campaign: public.campaign.to_hex(),
            root: crate::fe_to_hex(&public.root),
            nullifier: public.nullifier.to_hex(),
            recipient: recipient.to_string(),
            denomination: public.denomination,
            proof: proof.to_hex(),
        }
    }

    /// Validate every field and return the public inputs and the proof (not yet verified).
    pub fn decode(&self) -> Result<(PublicInputs, Address, Proof), ZkError> {
        let field = |name: &str, e: ZkError| ZkError::Format(format!("{name}: {e}"));
        let campaign = CampaignId::from_hex(&self.campaign).map_err(|e| field("campaign", e))?;
        let root = crate::fe_from_hex(&self.root).map_err(|e| field("root", e))?;
        let nullifier = Nullifier::from_hex(&self.nullifier).map_err(|e| field("nullifier", e))?;
        let recipient = Address::parse(&self.recipient)
            .map_err(|e| ZkError::Format(format!("recipient: {} ({})", e, e.rule())))?;
        let proof = Proof::from_hex(&self.proof).map_err(|e| field("proof", e))?;
        let public = PublicInputs::new(root, nullifier, &recipient, self.denomination, campaign)?;
        Ok((public, recipient, proof))
    }
}
