//! Soundness of private claims: a valid proof verifies; everything altered is rejected.

use std::sync::OnceLock;

use ark_bls12_377::{Bls12_377, Fr};
use ark_groth16::Groth16;
use ark_snark::SNARK;
use ark_std::rand::{rngs::StdRng, SeedableRng};
use fairdrop_core::Address;
use fairdrop_zk::*;

const R1: &str = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";
const R2: &str = "aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add";
const EVM: &str = "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f";

struct Campaign {
    id: CampaignId,
    master: Secret,
    tree: PrivateTree,
    pk: ProvingKey,
    vk: VerifyingKey,
}

fn make_campaign(name: &str, seed: u64) -> Campaign {
    let id = CampaignId::from_name(name);
    let master = Secret::from_random_bytes([seed as u8; 32]);
    // Our participant has notes 0..3 (1000, 100, 100); others fill the buckets.
    let split = split_denominations(1_234, &[1_000, 100], 10).unwrap();
    assert_eq!(split.notes, vec![1_000, 100, 100]);
    assert_eq!(split.remainder, 34);
    let mut notes: Vec<Note> = split
        .notes
        .iter()
        .enumerate()
        .map(|(j, &d)| Note {
            commitment: Commitment::new(&master.derive_note(j as u64), &id),
            denomination: d,
        })
        .collect();
    for i in 0..20u8 {
        let s = Secret::from_random_bytes([i.wrapping_add(100); 32]);
        notes.push(Note {
            commitment: Commitment::new(&s, &id),
            denomination: if i % 2 == 0 { 1_000 } else { 100 },
        });
    }
    let tree = PrivateTree::build(notes).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let (pk, vk) = setup(&id, &mut rng).unwrap();
    Campaign {
        id,
        master,
        tree,
        pk,
        vk,
    }
}

fn campaign_a() -> &'static Campaign {
    static A: OnceLock<Campaign> = OnceLock::new();
    A.get_or_init(|| make_campaign("campaign-a", 1))
}

fn campaign_b() -> &'static Campaign {
    static B: OnceLock<Campaign> = OnceLock::new();
    B.get_or_init(|| make_campaign("campaign-b", 2))
}

fn witness(c: &Campaign, note: u64, denomination: u64, recipient: &str) -> ClaimWitness {
    let secret = c.master.derive_note(note);
    let commitment = Commitment::new(&secret, &c.id);
    let index = c.tree.index_of(&commitment, denomination).unwrap();
    ClaimWitness {
        secret,
        path: c.tree.path(index).unwrap(),
        root: c.tree.root(),
        denomination,
        recipient: Address::parse(recipient).unwrap(),
        campaign: c.id,
    }
}

/// One proof per campaign, made once and shared by the tests.
fn proof_a() -> &'static (Proof, PublicInputs) {
    static P: OnceLock<(Proof, PublicInputs)> = OnceLock::new();
    P.get_or_init(|| {
        let a = campaign_a();
        prove(
            &a.pk,
            &witness(a, 0, 1_000, R1),
            &mut StdRng::seed_from_u64(9),
        )
        .unwrap()
    })
}

#[test]
fn valid_proof_is_accepted_and_192_bytes() {
    let a = campaign_a();
    let (proof, public) = proof_a();
    assert_eq!(proof.to_bytes().len(), 192);
    assert!(verify(&a.vk, public, proof).unwrap());
    // Round trips.
    let back = Proof::from_hex(&proof.to_hex()).unwrap();
    assert!(verify(&a.vk, public, &back).unwrap());
    // The public inputs are the documented ones.
    let secret = a.master.derive_note(0);
    assert_eq!(public.nullifier, Nullifier::new(&secret, &a.id));
    assert_eq!(public.root, a.tree.root());
    assert_eq!(
        public.recipient,
        recipient_field(&Address::parse(R1).unwrap()).unwrap()
    );
}

#[test]
fn reused_nullifier_is_rejected() {
    let a = campaign_a();
    let (proof, public) = proof_a();
    let mut spent = NullifierSet::new();
    verify_and_record(&a.vk, public, &proof.to_bytes(), &mut spent).unwrap();
    let again = verify_and_record(&a.vk, public, &proof.to_bytes(), &mut spent);
    assert!(
        matches!(again, Err(ZkError::NullifierReused(_))),
        "{again:?}"
    );
    // A fresh proof of the same note (new randomness, other recipient) has the same nullifier.
    let (p2, pub2) = prove(
        &a.pk,
        &witness(a, 0, 1_000, R2),
        &mut StdRng::seed_from_u64(10),
    )
    .unwrap();
    assert_ne!(p2.to_bytes(), proof.to_bytes());
    assert_eq!(pub2.nullifier, public.nullifier);
    assert!(verify(&a.vk, &pub2, &p2).unwrap());
    assert!(matches!(
        verify_and_record(&a.vk, &pub2, &p2.to_bytes(), &mut spent),
        Err(ZkError::NullifierReused(_))
    ));
}

#[test]
fn wrong_root_is_rejected() {
    let a = campaign_a();
    let (proof, public) = proof_a();
    let mut p = *public;
    p.root = campaign_b().tree.root();
    assert!(!verify(&a.vk, &p, proof).unwrap());
    p.root = public.root + Fr::from(1u64);
    assert!(!verify(&a.vk, &p, proof).unwrap());
}

#[test]
fn wrong_recipient_is_rejected() {
    let a = campaign_a();
    let (proof, public) = proof_a();
    for r in [R2, EVM] {
        let p = PublicInputs::new(
            public.root,
            public.nullifier,
            &Address::parse(r).unwrap(),
            public.denomination,
            public.campaign,
        )
        .unwrap();
        assert!(!verify(&a.vk, &p, proof).unwrap(), "{r}");
    }
    let mut spent = NullifierSet::new();
    let mut p = *public;
    p.recipient = -public.recipient; // same square: still rejected (Groth16 binds the input)
    assert!(matches!(
        verify_and_record(&a.vk, &p, &proof.to_bytes(), &mut spent),
        Err(ZkError::InvalidProof)
    ));
    assert!(spent.is_empty(), "a failed claim records nothing");
}

#[test]
fn wrong_denomination_and_nullifier_are_rejected() {
    let a = campaign_a();
    let (proof, public) = proof_a();
    let mut p = *public;
    p.denomination = 100;
    assert!(!verify(&a.vk, &p, proof).unwrap());
    p.denomination = 1_001;
    assert!(!verify(&a.vk, &p, proof).unwrap());
    let mut p = *public;
    p.nullifier = Nullifier::new(&a.master.derive_note(1), &a.id);
    assert!(!verify(&a.vk, &p, proof).unwrap());
}

#[test]
fn flipped_proof_bytes_are_rejected() {
    let a = campaign_a();
    let (proof, public) = proof_a();
    let good = proof.to_bytes();
    let mut decoded_but_invalid = 0;
    for i in 0..good.len() {
        let mut b = good;
        b[i] ^= 1 << (i % 8);
        match Proof::from_bytes(&b) {
            Err(ZkError::Format(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
            Ok(p) => {
                decoded_but_invalid += 1;
                assert!(
                    !verify(&a.vk, public, &p).unwrap(),
                    "byte {i} flipped verified"
                );
            }
        }
    }
    // Not a vacuous test: some flips decode to valid points and still fail verification.
    assert!(decoded_but_invalid > 0);
    assert!(Proof::from_bytes(&good[..191]).is_err());
    assert!(Proof::from_bytes(&[0u8; 193]).is_err());
    assert!(Proof::from_hex("0xzz").is_err());
}

#[test]
fn proof_from_another_campaign_is_rejected() {
    let a = campaign_a();
    let b = campaign_b();
    let (pb, pub_b) = prove(
        &b.pk,
        &witness(b, 1, 100, R1),
        &mut StdRng::seed_from_u64(3),
    )
    .unwrap();
    assert!(verify(&b.vk, &pub_b, &pb).unwrap());
    // Presented to campaign A as is, or relabelled with A's id and root.
    assert!(!verify(&a.vk, &pub_b, &pb).unwrap());
    let mut relabelled = pub_b;
    relabelled.campaign = a.id;
    relabelled.root = a.tree.root();
    assert!(!verify(&a.vk, &relabelled, &pb).unwrap());
    // Cryptographically too, not just by the key's campaign label.
    let inputs = relabelled.to_field_elements();
    assert!(!Groth16::<Bls12_377>::verify(&a.vk.inner, &inputs, &pb.0).unwrap());
    let inputs = pub_b.to_field_elements();
    assert!(!Groth16::<Bls12_377>::verify(&a.vk.inner, &inputs, &pb.0).unwrap());
    // And the prover refuses B's witness with A's key.
    assert!(matches!(
        prove(
            &a.pk,
            &witness(b, 1, 100, R1),
            &mut StdRng::seed_from_u64(3)
        ),
        Err(ZkError::CampaignMismatch)
    ));
}

#[test]
fn prover_refuses_a_witness_not_in_the_tree() {
    let a = campaign_a();
    let mut w = witness(a, 1, 100, R1);
    w.denomination = 1_000;
    assert!(matches!(
        prove(&a.pk, &w, &mut StdRng::seed_from_u64(1)),
        Err(ZkError::NotInTree)
    ));
    let mut w = witness(a, 1, 100, R1);
    w.secret = Secret::from_random_bytes([42; 32]);
    assert!(matches!(
        prove(&a.pk, &w, &mut StdRng::seed_from_u64(1)),
        Err(ZkError::NotInTree)
    ));
}

#[test]
fn circuit_agrees_with_native_poseidon_and_tree() {
    let a = campaign_a();
    let w = witness(a, 2, 100, EVM);
    let public = w.public_inputs().unwrap();
    assert!(is_satisfied(ClaimCircuit::new(&public, &w.secret, &w.path)).unwrap());

    // Bad path: one sibling changed.
    let mut bad = w.path.clone();
    bad.siblings[7] += Fr::from(1u64);
    assert!(!is_satisfied(ClaimCircuit::new(&public, &w.secret, &bad)).unwrap());
    // Bad path: index of another leaf.
    let mut bad = w.path.clone();
    bad.index ^= 1;
    assert!(!is_satisfied(ClaimCircuit::new(&public, &w.secret, &bad)).unwrap());
    // Wrong secret.
    let other = a.master.derive_note(1);
    assert!(!is_satisfied(ClaimCircuit::new(&public, &other, &w.path)).unwrap());
    // Wrong public nullifier.
    let mut p = public;
    p.nullifier = Nullifier::from_fe(Fr::from(5u64));
    assert!(!is_satisfied(ClaimCircuit::new(&p, &w.secret, &w.path)).unwrap());
}

#[test]
fn keys_round_trip_through_files_with_hashes() {
    let a = campaign_a();
    let dir = tempfile::tempdir().unwrap();
    let hashes = write_keys(dir.path(), &a.pk, &a.vk).unwrap();
    let pkb = std::fs::read(dir.path().join(PK_FILE)).unwrap();
    let vkb = std::fs::read(dir.path().join(VK_FILE)).unwrap();
    assert_eq!(hashes.proving_key_sha256, key_hash(&pkb));
    assert_eq!(hashes.verifying_key_sha256, key_hash(&vkb));
    assert_eq!(hashes.verifying_key_sha256.len(), 64);
    let vk = read_verifying_key(&dir.path().join(VK_FILE)).unwrap();
    assert_eq!(vk.campaign, a.id);
    let (proof, public) = proof_a();
    assert!(verify(&vk, public, proof).unwrap());
    let pk = read_proving_key(&dir.path().join(PK_FILE)).unwrap();
    assert_eq!(pk.campaign, a.id);
    assert_eq!(pk.to_bytes(), pkb);

    // Damaged keys are errors, not panics.
    assert!(VerifyingKey::from_bytes(&vkb[..vkb.len() - 1]).is_err());
    assert!(VerifyingKey::from_bytes(b"FDZKVK01").is_err());
    assert!(VerifyingKey::from_bytes(&pkb).is_err()); // wrong magic
    let mut junk = vkb.clone();
    for b in junk[41..].iter_mut() {
        *b = 0xA5;
    }
    assert!(VerifyingKey::from_bytes(&junk).is_err());
    let mut trailing = vkb.clone();
    trailing.push(0);
    assert!(VerifyingKey::from_bytes(&trailing).is_err());
    assert!(ProvingKey::from_bytes(&pkb[..1000]).is_err());
    // A key of another shape (which would make the prover index out of range) is refused.
    let mut wrong = pk.clone();
    wrong.inner.l_query.pop();
    assert!(matches!(
        ProvingKey::from_bytes(&wrong.to_bytes()),
        Err(ZkError::Format(_))
    ));
    wrong.inner.a_query.clear();
    assert!(ProvingKey::from_bytes(&wrong.to_bytes()).is_err());
    let missing = read_verifying_key(&dir.path().join("nope.vk")).unwrap_err();
    assert!(missing.to_string().contains("nope.vk"), "{missing}");
}

#[test]
fn claim_codes_prove_like_registered_secrets() {
    let a = campaign_a();
    let holder = Address::parse(R2).unwrap();
    let split = split_denominations(2_100, &[1_000, 100], 10).unwrap();
    let codes = issue_claim_codes(&holder, &split, &a.id).unwrap();
    assert_eq!(codes.len(), 3);
    let notes: Vec<Note> = codes
        .iter()
        .map(|c| Note {
            commitment: c.commitment,
            denomination: c.denomination,
        })
        .collect();
    let tree = PrivateTree::build(notes).unwrap();
    let code = &codes[2];
    let w = ClaimWitness {
        secret: code.secret,
        path: tree
            .path(tree.index_of(&code.commitment, code.denomination).unwrap())
            .unwrap(),
        root: tree.root(),
        denomination: code.denomination,
        recipient: Address::parse(R1).unwrap(),
        campaign: a.id,
    };
    let public = w.public_inputs().unwrap();
    assert!(is_satisfied(ClaimCircuit::new(&public, &w.secret, &w.path)).unwrap());
}

#[test]
fn constraint_count_is_small() {
    let n = constraint_count(PRIVATE_DEPTH).unwrap();
    // 27 Poseidon permutations of 275 constraints, 2 selects per level, 1 binding.
    assert!(n > 7_000 && n < 9_000, "{n}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let _ = Proof::from_bytes(&b);
        let _ = VerifyingKey::from_bytes(&b);
        let mut v = b"FDZKVK01".to_vec();
        v.extend_from_slice(&b);
        let _ = VerifyingKey::from_bytes(&v);
        let _ = ProvingKey::from_bytes(&b);
    }
}

#[test]
fn private_claim_json_round_trips_and_validates_fields() {
    let a = campaign_a();
    let (proof, public) = proof_a();
    let recipient = Address::parse(R1).unwrap();
    let claim = PrivateClaim::new(public, &recipient, proof);
    let json = serde_json::to_string(&claim).unwrap();
    let back: PrivateClaim = serde_json::from_str(&json).unwrap();
    let (p2, r2, pr2) = back.decode().unwrap();
    assert_eq!(&p2, public);
    assert_eq!(r2, recipient);
    assert!(verify(&a.vk, &p2, &pr2).unwrap());

    let bad = |f: &dyn Fn(&mut PrivateClaim), what: &str| {
        let mut c = claim.clone();
        f(&mut c);
        let e = c.decode().unwrap_err().to_string();
        assert!(e.contains(what), "{e}");
    };
    bad(&|c| c.root = "0x1234".into(), "root");
    bad(&|c| c.nullifier = "nope".into(), "nullifier");
    bad(
        &|c| c.campaign = format!("0x{}", "f".repeat(64)),
        "campaign",
    );
    bad(&|c| c.recipient = "aleo1xyz".into(), "recipient");
    bad(&|c| c.proof = "0x00".into(), "proof");
    assert!(serde_json::from_str::<PrivateClaim>(r#"{"campaign":"0x00","extra":1}"#).is_err());
}
