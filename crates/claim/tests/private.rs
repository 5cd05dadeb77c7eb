//! `POST /v1/private-claims`: a tiny Groth16 setup (keys made once per test binary), the
//! verifying key, root and tree committed in the test dist's signed manifest (`dist/zk/`), then
//! valid, reused, redirected, wrong-campaign and malformed claims; signed receipts; vesting;
//! clawback totals; and a service that refuses to start when `dist/zk/` does not match the
//! manifest.

mod common;

use std::sync::OnceLock;

use common::{call, config, payout_rows};
use fairdrop_claim::fixture::{build_dist, FixtureOptions, ZkFiles};
use fairdrop_claim::open_app;
use fairdrop_core::Address;
use fairdrop_zk::{
    os_rng, prove, setup, CampaignId, ClaimWitness, Commitment, Note, PrivateClaim, PrivateTree,
    ProvingKey, Secret, TreeFile, VerifyingKey,
};
use serde_json::Value;

/// The fixture's campaign id (`campaign.json` `id`).
const CAMPAIGN: &str = "fixture-2026";
const RECIPIENT: &str = "0x1111111111111111111111111111111111111111";
const OTHER: &str = "0x2222222222222222222222222222222222222222";
const DENOM: u64 = 1_000_000;

struct Zk {
    pk: ProvingKey,
    vk: VerifyingKey,
    tree: PrivateTree,
    secrets: Vec<Secret>,
}

fn zk() -> &'static Zk {
    static ZK: OnceLock<Zk> = OnceLock::new();
    ZK.get_or_init(|| {
        let campaign = CampaignId::from_name(CAMPAIGN);
        let secrets: Vec<Secret> = (0..3u8)
            .map(|i| Secret::from_random_bytes([i + 7; 32]))
            .collect();
        let notes = secrets
            .iter()
            .map(|s| Note {
                commitment: Commitment::new(s, &campaign),
                denomination: DENOM,
            })
            .collect();
        let tree = PrivateTree::build(notes).unwrap();
        let (pk, vk) = setup(&campaign, &mut os_rng().unwrap()).unwrap();
        Zk {
            pk,
            vk,
            tree,
            secrets,
        }
    })
}

/// A valid private claim of secret `i` to `recipient`.
fn claim(i: usize, recipient: &str) -> PrivateClaim {
    let z = zk();
    let campaign = CampaignId::from_name(CAMPAIGN);
    let c = Commitment::new(&z.secrets[i], &campaign);
    let index = z.tree.index_of(&c, DENOM).unwrap();
    let recipient = Address::parse(recipient).unwrap();
    let witness = ClaimWitness {
        secret: z.secrets[i],
        path: z.tree.path(index).unwrap(),
        root: z.tree.root(),
        denomination: DENOM,
        recipient: recipient,
        campaign,
    };
    let (proof, public) = prove(&z.pk, &witness, &mut os_rng().unwrap()).unwrap();
    PrivateClaim::new(&public, &recipient, &proof)
}

struct PEnv {
    _dir: tempfile::TempDir,
    router: axum::Router,
    db: std::path::PathBuf,
    public_key: ed25519_dalek::VerifyingKey,
}

fn zk_files(root: Option<String>) -> ZkFiles {
    let z = zk();
    let campaign = CampaignId::from_name(CAMPAIGN);
    ZkFiles {
        vk: z.vk.to_bytes(),
        root: root.unwrap_or_else(|| fairdrop_zk::fe_to_hex(&z.tree.root())),
        tree: Some(serde_json::to_vec(&TreeFile::new(&z.tree, &campaign)).unwrap()),
        pk_sha256: fairdrop_zk::key_hash(&z.pk.to_bytes()),
    }
}

/// A test dist whose manifest commits to the verifying key (when `vk`) and the private root
/// (`root`, default: the test tree's root), as `fairdrop run` with `[zk]` writes it.
fn env(vk: bool, root: Option<String>, o: FixtureOptions) -> PEnv {
    let dir = tempfile::tempdir().unwrap();
    let o = FixtureOptions {
        zk: vk.then(|| zk_files(root)),
        ..o
    };
    let fx = build_dist(dir.path(), &o).unwrap();
    let db = dir.path().join("claims.db");
    let app = open_app(&config(&fx, &db)).unwrap();
    PEnv {
        router: fairdrop_claim::router(app),
        public_key: fairdrop_merkle::manifest::read_public_key(&fx.public_key).unwrap(),
        _dir: dir,
        db,
    }
}

fn small() -> FixtureOptions {
    FixtureOptions {
        eligible: 4,
        ineligible: 1,
        ..FixtureOptions::default()
    }
}

async fn post(router: &axum::Router, body: &[u8]) -> common::Resp {
    call(router, "POST", "/v1/private-claims", Some(body)).await
}

fn private_payouts(db: &std::path::Path, nullifier: &str) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT address, amount FROM payouts WHERE nullifier = ?1 ORDER BY id")
        .unwrap();
    st.query_map([nullifier], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[tokio::test]
async fn private_claim_lifecycle() {
    let e = env(true, None, small());
    let good = claim(0, RECIPIENT);

    // Redirected to another recipient: the proof binds the recipient.
    let mut redirected = good.clone();
    redirected.recipient = OTHER.into();
    post(&e.router, &serde_json::to_vec(&redirected).unwrap())
        .await
        .assert_error(422, "private_claim.proof");

    // Wrong denomination (another bucket): does not verify.
    let mut denom = good.clone();
    denom.denomination = DENOM * 10;
    post(&e.router, &serde_json::to_vec(&denom).unwrap())
        .await
        .assert_error(422, "private_claim.proof");

    // Flipped proof bytes: 400 (not a curve point) or 422 (does not verify), never 5xx.
    let mut flipped = good.clone();
    let last = flipped.proof.pop().unwrap();
    flipped.proof.push(if last == '0' { '1' } else { '0' });
    let r = post(&e.router, &serde_json::to_vec(&flipped).unwrap()).await;
    assert!(
        r.status.as_u16() == 400 || r.status.as_u16() == 422,
        "{}",
        r.json()
    );

    // Another campaign's id.
    let mut other = good.clone();
    other.campaign = CampaignId::from_name("someone-else").to_hex();
    post(&e.router, &serde_json::to_vec(&other).unwrap())
        .await
        .assert_error(400, "private_claim.campaign");

    assert!(payout_rows(&e.db).is_empty(), "nothing paid yet");

    // Valid.
    let body = serde_json::to_vec(&good).unwrap();
    let r = post(&e.router, &body).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.json());
    let v = r.json();
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["nullifier"], good.nullifier.as_str());
    assert_eq!(v["recipient"], RECIPIENT);
    assert_eq!(v["denomination"], DENOM);
    assert_eq!(
        private_payouts(&e.db, &good.nullifier),
        vec![(RECIPIENT.to_string(), DENOM.to_string())]
    );
    // A signed receipt, as for public claims: campaign key, canonical JSON.
    let receipt = v["receipt"].to_string();
    let checked = fairdrop_claim::ledger::verify_receipt(&receipt, &e.public_key).unwrap();
    assert_eq!(checked["profile"], "private");
    assert_eq!(checked["nullifier"], good.nullifier.as_str());
    assert_eq!(checked["recipient"], RECIPIENT);
    assert_eq!(checked["amount"], DENOM.to_string());
    assert_eq!(checked["root"], good.root.as_str());
    assert_eq!(checked["campaign"], CAMPAIGN);
    assert_eq!(v["receipt_id"], checked["receipt_id"]);
    assert!(
        checked.get("address").is_none(),
        "no eligible address in a private receipt"
    );
    // A tampered receipt does not verify.
    let forged = receipt.replace(RECIPIENT, OTHER);
    assert!(fairdrop_claim::ledger::verify_receipt(&forged, &e.public_key).is_err());

    // The exact body again: 200 with the same receipt and no second payout (as a public
    // claim sent again).
    let r = post(&e.router, &body).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.json());
    assert_eq!(r.json()["status"], "duplicate");
    assert_eq!(r.json()["receipt"], v["receipt"]);
    assert_eq!(private_payouts(&e.db, &good.nullifier).len(), 1);
    // A fresh proof for the same note (same nullifier), even to another recipient: 409.
    let again = claim(0, OTHER);
    assert_ne!(again.proof, good.proof, "a new proof is re-randomised");
    assert_eq!(again.nullifier, good.nullifier);
    post(&e.router, &serde_json::to_vec(&again).unwrap())
        .await
        .assert_error(409, "private_claim.nullifier_reused");
    // Upper-case hex of the same nullifier is the same nullifier (the same claim again).
    let mut upper = good.clone();
    upper.nullifier = format!("0x{}", good.nullifier[2..].to_ascii_uppercase());
    let r = post(&e.router, &serde_json::to_vec(&upper).unwrap()).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.json());
    assert_eq!(r.json()["receipt"], v["receipt"]);

    // Exactly one payout row for the nullifier.
    assert_eq!(private_payouts(&e.db, &good.nullifier).len(), 1);
    assert_eq!(payout_rows(&e.db).len(), 1);

    // Another note to the same recipient and denomination: a second, separate payout row.
    let second = claim(1, RECIPIENT);
    let r = post(&e.router, &serde_json::to_vec(&second).unwrap()).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.json());
    assert_eq!(private_payouts(&e.db, &second.nullifier).len(), 1);
    assert_eq!(payout_rows(&e.db).len(), 2);

    // The admin ledger lists private claims.
    let l = common::call_h(
        &e.router,
        "GET",
        "/v1/admin/ledger",
        None,
        &[("authorization", "Bearer s3cret-admin-token")],
    )
    .await
    .json();
    assert_eq!(l["private_claims"].as_array().unwrap().len(), 2, "{l}");
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let e = env(true, None, small());
    let good = serde_json::to_value(claim(2, RECIPIENT)).unwrap();
    post(&e.router, b"not json")
        .await
        .assert_error(400, "body.json");
    post(&e.router, b"{}")
        .await
        .assert_error(400, "body.schema");
    post(&e.router, b"[1,2,3]")
        .await
        .assert_error(400, "body.schema");
    let mut extra = good.clone();
    extra["extra"] = Value::from(1);
    post(&e.router, extra.to_string().as_bytes())
        .await
        .assert_error(400, "body.schema");
    for (field, value) in [
        ("campaign", Value::from("0x12")),
        ("root", Value::from(format!("0x{}", "f".repeat(64)))),
        ("nullifier", Value::from("zz")),
        ("recipient", Value::from("not-an-address")),
        ("proof", Value::from("0x1234")),
        ("proof", Value::from(format!("0x{}", "00".repeat(192)))),
    ] {
        let mut b = good.clone();
        b[field] = value;
        let r = post(&e.router, b.to_string().as_bytes()).await;
        assert_eq!(r.status.as_u16(), 400, "{field}: {}", r.json());
        r.assert_error(400, r.json()["code"].as_str().unwrap());
    }
    for (field, value) in [
        ("denomination", Value::from(-1)),
        ("denomination", Value::from("1")),
    ] {
        let mut b = good.clone();
        b[field] = value;
        post(&e.router, b.to_string().as_bytes())
            .await
            .assert_error(400, "body.schema");
    }
    let mut zero = good.clone();
    zero["denomination"] = Value::from(0);
    let r = post(&e.router, zero.to_string().as_bytes()).await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.json());
    assert!(payout_rows(&e.db).is_empty());
}

#[tokio::test]
async fn disabled_without_a_verifying_key() {
    let e = env(false, None, small());
    let body = serde_json::to_vec(&claim(0, RECIPIENT)).unwrap();
    post(&e.router, &body)
        .await
        .assert_error(404, "private_claims.disabled");
}

#[tokio::test]
async fn pinned_root_and_window() {
    // The manifest commits to another root: 422 private_claim.root.
    let other_root = fairdrop_zk::fe_to_hex(&fairdrop_zk::Fr::from(42u64));
    let e = env(true, Some(other_root), small());
    let body = serde_json::to_vec(&claim(0, RECIPIENT)).unwrap();
    post(&e.router, &body)
        .await
        .assert_error(422, "private_claim.root");
    // The right root pinned: accepted.
    let e = env(
        true,
        Some(fairdrop_zk::fe_to_hex(&zk().tree.root())),
        small(),
    );
    let r = post(&e.router, &body).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.json());
    // Window closed: 403 as for public claims.
    let e = env(
        true,
        None,
        FixtureOptions {
            start_offset: -10 * 86_400,
            deadline_offset: -86_400,
            ..small()
        },
    );
    post(&e.router, &body)
        .await
        .assert_error(403, "claim_window.closed");
    assert!(payout_rows(&e.db).is_empty());
}

#[tokio::test]
async fn paused_answers_503() {
    let e = env(true, None, small());
    let body = serde_json::to_vec(&claim(1, RECIPIENT)).unwrap();
    let r = common::call_h(
        &e.router,
        "POST",
        "/v1/admin/pause",
        None,
        &[("authorization", "Bearer s3cret-admin-token")],
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.json());
    post(&e.router, &body)
        .await
        .assert_error(503, "claims.paused");
    assert!(payout_rows(&e.db).is_empty());
}

/// Vesting applies to private payouts as to public ones: 10 days into a 40-day schedule with a
/// 5-day cliff, a quarter of the denomination is paid; the same claim sent again pays only
/// what vested since (one tranche row each, like a public claim sent again).
#[tokio::test]
async fn private_payouts_vest_like_public_claims() {
    let e = env(
        true,
        None,
        FixtureOptions {
            start_offset: -10 * 86_400,
            deadline_offset: 60 * 86_400,
            cliff_days: 5,
            vesting_days: 40,
            ..small()
        },
    );
    let good = claim(0, RECIPIENT);
    let body = serde_json::to_vec(&good).unwrap();
    let r = post(&e.router, &body).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.json());
    let v = r.json();
    let vested: u128 = v["vesting"]["vested"].as_str().unwrap().parse().unwrap();
    let locked: u128 = v["vesting"]["locked"].as_str().unwrap().parse().unwrap();
    assert_eq!(vested + locked, DENOM as u128);
    let quarter = DENOM as u128 / 4;
    assert!(
        vested >= quarter && vested <= quarter + DENOM as u128 / 1000,
        "{v}"
    );
    let rows = private_payouts(&e.db, &good.nullifier);
    assert_eq!(rows.len(), 1);
    let first: u128 = rows[0].1.parse().unwrap();
    assert_eq!(first, vested, "only the vested part is paid");
    // The receipt is for the whole denomination (the entitlement), as for public claims.
    assert_eq!(v["receipt"]["amount"], DENOM.to_string());

    // Sent again at once: same receipt; at most the seconds vested since are added.
    let r = post(&e.router, &body).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.json());
    assert_eq!(r.json()["receipt"], v["receipt"]);
    let total: u128 = private_payouts(&e.db, &good.nullifier)
        .iter()
        .map(|r| r.1.parse::<u128>().unwrap())
        .sum();
    assert!(total >= first && total <= first + DENOM as u128 / 1000);

    // Inside the cliff nothing is paid, but the nullifier is spent and the receipt issued.
    let e = env(
        true,
        None,
        FixtureOptions {
            start_offset: -86_400,
            cliff_days: 5,
            vesting_days: 40,
            ..small()
        },
    );
    let r = post(&e.router, &body).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.json());
    assert_eq!(r.json()["vesting"]["vested"], "0");
    assert!(private_payouts(&e.db, &good.nullifier).is_empty());
    assert!(fairdrop_claim::ledger::verify_receipt(
        &r.json()["receipt"].to_string(),
        &e.public_key
    )
    .is_ok());
    let again = claim(0, OTHER);
    post(&e.router, &serde_json::to_vec(&again).unwrap())
        .await
        .assert_error(409, "private_claim.nullifier_reused");
}

/// A claim recorded by a v2 ledger (no receipt column value) gets a signed receipt the next
/// time it is sent.
#[tokio::test]
async fn pre_v3_private_claim_gets_a_receipt_on_replay() {
    let e = env(true, None, small());
    let good = claim(1, RECIPIENT);
    let body = serde_json::to_vec(&good).unwrap();
    assert_eq!(post(&e.router, &body).await.status.as_u16(), 201);
    {
        let c = rusqlite::Connection::open(&e.db).unwrap();
        c.execute("UPDATE private_claims SET receipt = NULL", [])
            .unwrap();
    }
    let r = post(&e.router, &body).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.json());
    let rc =
        fairdrop_claim::ledger::verify_receipt(&r.json()["receipt"].to_string(), &e.public_key)
            .unwrap();
    assert_eq!(rc["nullifier"], good.nullifier.as_str());
    assert_eq!(private_payouts(&e.db, &good.nullifier).len(), 1);
}

/// `clawback-report` totals public and private claims apart, and counts unclaimed notes of
/// the committed tree.
#[tokio::test]
async fn clawback_separates_private_from_public() {
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            zk: Some(zk_files(None)),
            ..small()
        },
    )
    .unwrap();
    let db = dir.path().join("claims.db");
    let app = open_app(&config(&fx, &db)).unwrap();
    let router = fairdrop_claim::router(app);
    // One public claim.
    let (a, amount) = fx.eligible[0].clone();
    let proof = call(&router, "GET", &format!("/v1/eligibility/{a}"), None)
        .await
        .json();
    let body = serde_json::json!({"address": a, "amount": amount.to_string(),
        "proof": proof["proofs"]["oz"]["proof"], "profile": "oz"});
    let r = call(
        &router,
        "POST",
        "/v1/claims",
        Some(body.to_string().as_bytes()),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.json());
    // Two private claims.
    for i in 0..2 {
        let r = post(&router, &serde_json::to_vec(&claim(i, RECIPIENT)).unwrap()).await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.json());
    }
    let r = fairdrop_claim::clawback_report(&db, &fx.dist).unwrap();
    let pool: u128 = fx.eligible.iter().map(|x| x.1).sum();
    assert_eq!(r.claimed_wallets, 1);
    assert_eq!(r.claimed, amount.to_string());
    assert_eq!(r.released, amount.to_string(), "public payouts only");
    assert_eq!(r.private.claims, 2);
    assert_eq!(r.private.claimed, (2 * DENOM).to_string());
    assert_eq!(r.private.released, (2 * DENOM).to_string());
    assert_eq!(r.private.notes, Some(3));
    assert_eq!(r.private.committed, Some((3 * DENOM).to_string()));
    assert_eq!(r.private.unclaimed, Some(DENOM.to_string()));
    assert_eq!(
        r.unclaimed,
        pool.saturating_sub(amount + 2 * DENOM as u128).to_string()
    );
}

/// The service refuses to start when `dist/zk/` does not match the signed manifest.
#[test]
fn refuses_zk_files_the_manifest_does_not_commit_to() {
    let start = |fx: &fairdrop_claim::fixture::Fixture, dir: &std::path::Path| {
        open_app(&config(fx, &dir.join("claims.db"))).map(|_| ())
    };
    let z = zk();
    let campaign = CampaignId::from_name(CAMPAIGN);

    // A swapped verifying key (a valid key of the same campaign, from another setup).
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            zk: Some(zk_files(None)),
            ..small()
        },
    )
    .unwrap();
    start(&fx, dir.path()).unwrap();
    let (_, vk2) = setup(&campaign, &mut os_rng().unwrap()).unwrap();
    std::fs::write(fx.dist.join("zk/claim.vk"), vk2.to_bytes()).unwrap();
    let e = start(&fx, dir.path()).unwrap_err().to_string();
    assert!(e.contains("claim.vk") && e.contains("zk:claim.vk"), "{e}");

    // A swapped root.
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            zk: Some(zk_files(None)),
            ..small()
        },
    )
    .unwrap();
    std::fs::write(
        fx.dist.join("zk/root.txt"),
        format!("{}\n", fairdrop_zk::fe_to_hex(&fairdrop_zk::Fr::from(7u64))),
    )
    .unwrap();
    let e = start(&fx, dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("root.txt") && e.contains("roots[\"private\"]"),
        "{e}"
    );
    // Missing root or key the manifest commits to.
    std::fs::remove_file(fx.dist.join("zk/root.txt")).unwrap();
    assert!(start(&fx, dir.path())
        .unwrap_err()
        .to_string()
        .contains("root.txt"));
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            zk: Some(zk_files(None)),
            ..small()
        },
    )
    .unwrap();
    std::fs::remove_file(fx.dist.join("zk/claim.vk")).unwrap();
    assert!(start(&fx, dir.path())
        .unwrap_err()
        .to_string()
        .contains("claim.vk"));

    // A changed tree file.
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            zk: Some(zk_files(None)),
            ..small()
        },
    )
    .unwrap();
    let mut t = TreeFile::new(&z.tree, &campaign);
    t.bucket_sizes.push((1, 1));
    std::fs::write(
        fx.dist.join("zk/tree.json"),
        serde_json::to_vec(&t).unwrap(),
    )
    .unwrap();
    let e = start(&fx, dir.path()).unwrap_err().to_string();
    assert!(e.contains("tree.json"), "{e}");

    // zk files in a dist whose manifest commits to no private claims.
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(dir.path(), &small()).unwrap();
    std::fs::create_dir_all(fx.dist.join("zk")).unwrap();
    std::fs::write(fx.dist.join("zk/claim.vk"), z.vk.to_bytes()).unwrap();
    let e = start(&fx, dir.path()).unwrap_err().to_string();
    assert!(e.contains("commits to no private claims"), "{e}");

    // The campaign endpoint shows what was committed.
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            zk: Some(zk_files(None)),
            ..small()
        },
    )
    .unwrap();
    let app = open_app(&config(&fx, &dir.path().join("claims.db"))).unwrap();
    let p = app.dist.private.as_ref().unwrap();
    assert_eq!(
        p.vk_sha256,
        app.dist.manifest.inputs[fairdrop_zk::MANIFEST_VK]
    );
}
