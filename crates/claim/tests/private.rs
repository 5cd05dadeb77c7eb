//! `POST /v1/private-claims`: a tiny Groth16 setup (keys made once per test binary), the
//! verifying key written into the test dist as `zk/claim.vk`, then valid, reused, redirected,
//! wrong-campaign and malformed claims.

mod common;

use std::sync::OnceLock;

use common::{call, config, payout_rows};
use fairdrop_claim::fixture::{build_dist, FixtureOptions};
use fairdrop_claim::open_app;
use fairdrop_core::Address;
use fairdrop_zk::{
    os_rng, prove, setup, CampaignId, ClaimWitness, Commitment, Note, PrivateClaim, PrivateTree,
    ProvingKey, Secret, VerifyingKey,
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
        secret: z.secrets[i].clone(),
        path: z.tree.path(index).unwrap(),
        root: z.tree.root(),
        denomination: DENOM,
        recipient: recipient.clone(),
        campaign,
    };
    let (proof, public) = prove(&z.pk, &witness, &mut os_rng().unwrap()).unwrap();
    PrivateClaim::new(&public, &recipient, &proof)
}

struct PEnv {
    _dir: tempfile::TempDir,
    router: axum::Router,
    db: std::path::PathBuf,
}

/// A test dist with `zk/claim.vk` (when `vk`) and `zk/root.txt` (when `root`).
fn env(vk: bool, root: Option<String>, o: FixtureOptions) -> PEnv {
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(dir.path(), &o).unwrap();
    let zdir = fx.dist.join("zk");
    std::fs::create_dir_all(&zdir).unwrap();
    if vk {
        std::fs::write(zdir.join(fairdrop_zk::VK_FILE), zk().vk.to_bytes()).unwrap();
    }
    if let Some(r) = root {
        std::fs::write(zdir.join("root.txt"), format!("{r}\n")).unwrap();
    }
    let db = dir.path().join("claims.db");
    let app = open_app(&config(&fx, &db)).unwrap();
    PEnv {
        router: fairdrop_claim::router(app),
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

    // The exact body again: 409 (dedup is by nullifier, so a replay is a reuse).
    post(&e.router, &body)
        .await
        .assert_error(409, "private_claim.nullifier_reused");
    // A fresh proof for the same note (same nullifier), even to another recipient: 409.
    let again = claim(0, OTHER);
    assert_ne!(again.proof, good.proof, "a new proof is re-randomised");
    assert_eq!(again.nullifier, good.nullifier);
    post(&e.router, &serde_json::to_vec(&again).unwrap())
        .await
        .assert_error(409, "private_claim.nullifier_reused");
    // Upper-case hex of the same nullifier is the same nullifier.
    let mut upper = good.clone();
    upper.nullifier = format!("0x{}", good.nullifier[2..].to_ascii_uppercase());
    let r = post(&e.router, &serde_json::to_vec(&upper).unwrap()).await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.json());

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
        r.assert_error(400, &r.json()["code"].as_str().unwrap().to_string());
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
    // zk/root.txt pins another root: 422 private_claim.root.
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
