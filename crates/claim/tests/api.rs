//! The HTTP API through `tower::ServiceExt::oneshot`: eligibility, progress, claims (idempotent,
//! conflicts, 500 concurrent), windows, vesting, admin, rate limits, outbox export, clawback.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use fairdrop_claim::fixture::FixtureOptions;
use fairdrop_claim::{Chain, CheckError, Entitlement, ProofChecker};
use serde_json::{json, Value};

#[tokio::test]
async fn eligibility_of_eligible_ineligible_unknown_and_malformed() {
    let e = env();
    let (a, amount) = e.fx.eligible[3].clone();
    let r = call(&e.router, "GET", &format!("/v1/eligibility/{a}"), None).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["eligible"], true);
    assert_eq!(v["amount"], amount.to_string());
    assert!(v["proofs"]["oz"]["proof"].as_array().unwrap().len() >= 5);
    assert!(v["proofs"]["uniswap"]["root"]
        .as_str()
        .unwrap()
        .starts_with("0x"));

    // Mixed case (EIP-55) resolves to the same wallet.
    let cs = fairdrop_core::Address::parse(&a)
        .unwrap()
        .to_checksum()
        .unwrap();
    let v2 = call(&e.router, "GET", &format!("/v1/eligibility/{cs}"), None)
        .await
        .json();
    assert_eq!(v2["address"], a);
    assert_eq!(v2["eligible"], true);

    let bad = &e.fx.ineligible[0];
    let v = call(&e.router, "GET", &format!("/v1/eligibility/{bad}"), None)
        .await
        .json();
    assert_eq!(v["eligible"], false);
    assert_eq!(v["amount"], Value::Null);
    assert_eq!(v["reasons"][0]["code"], "gate.min_active_days");
    assert_eq!(v["reasons"][1]["code"], "sybil.cluster");
    assert!(v["reasons"][1]["sentence"]
        .as_str()
        .unwrap()
        .contains("cluster 17"));

    let unknown = fairdrop_claim::fixture::address(999_999);
    let v = call(
        &e.router,
        "GET",
        &format!("/v1/eligibility/{unknown}"),
        None,
    )
    .await
    .json();
    assert_eq!(v["known"], false);
    assert_eq!(v["eligible"], false);
    assert_eq!(v["reasons"][0]["code"], "wallet.unknown");

    // Malformed: 400 with the rule.
    let r = call(
        &e.router,
        "GET",
        "/v1/eligibility/aleo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
        None,
    )
    .await;
    let v = r.json();
    assert_eq!(r.status, 400);
    assert!(
        v["code"].as_str().unwrap().starts_with("address.aleo."),
        "{v}"
    );
    let r = call(&e.router, "GET", "/v1/eligibility/0x1234", None).await;
    r.assert_error(400, "address.evm.length");
    let r = call(
        &e.router,
        "GET",
        "/v1/eligibility/0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6F",
        None,
    )
    .await;
    r.assert_error(400, "address.evm.eip55");
    let r = call(&e.router, "GET", "/v1/eligibility/hello%20world", None).await;
    r.assert_error(400, "address.unknown_format");
}

#[tokio::test]
async fn progress_shows_eleven_steps_points_and_next_tier() {
    let e = env();
    let a = &e.fx.eligible[0].0;
    let v = call(&e.router, "GET", &format!("/v1/progress/{a}"), None)
        .await
        .json();
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 11);
    assert_eq!(steps[0]["key"], "wallet_setup");
    let done = steps.iter().filter(|s| s["done"] == true).count();
    assert_eq!(v["steps_done"], done);
    assert!(done >= 4);
    for s in steps {
        assert_eq!(s["points_max"], 50);
        assert_eq!(s["points"], if s["done"] == true { 50 } else { 0 });
    }
    assert_eq!(v["total"], done as u64 * 50);
    let missing = v["missing"]["steps"].as_array().unwrap();
    assert_eq!(missing.len(), 11 - done);
    if done < 11 {
        let nt = &v["next_tier"];
        assert!(nt["points_missing"].as_u64().unwrap() > 0, "{v}");
    }
    let gates = v["gates"].as_array().unwrap();
    assert_eq!(gates.len(), 2);
    // Ineligible wallet: failed gates listed.
    let b = &e.fx.ineligible[0];
    let v = call(&e.router, "GET", &format!("/v1/progress/{b}"), None)
        .await
        .json();
    assert_eq!(v["missing"]["gates"].as_array().unwrap().len(), 2);
    call(&e.router, "GET", "/v1/progress/nope", None)
        .await
        .assert_error(400, "address.unknown_format");
}

#[tokio::test]
async fn claim_is_recorded_once_with_a_signed_receipt_and_conflicts_get_409() {
    let e = env();
    let (a, amount) = e.fx.eligible[5].clone();
    let body = claim_body(&e.router, &a, "oz").await.to_string();
    let r1 = call(&e.router, "POST", "/v1/claims", Some(body.as_bytes())).await;
    assert_eq!(r1.status, 201, "{}", String::from_utf8_lossy(&r1.bytes));
    let v1 = r1.json();
    assert_eq!(v1["status"], "accepted");
    let receipt = v1["receipt"].clone();
    assert_eq!(receipt["amount"], amount.to_string());
    assert_eq!(receipt["address"], a);
    // Signed by the campaign key.
    let pk = fairdrop_merkle::manifest::read_public_key(&e.fx.public_key).unwrap();
    fairdrop_claim::ledger::verify_receipt(&receipt.to_string(), &pk).unwrap();
    let mut forged = receipt.clone();
    forged["amount"] = json!("1");
    assert!(fairdrop_claim::ledger::verify_receipt(&forged.to_string(), &pk).is_err());

    // Again: the same receipt, byte for byte.
    let r2 = call(&e.router, "POST", "/v1/claims", Some(body.as_bytes())).await;
    assert_eq!(r2.status, 200);
    assert_eq!(r2.json()["status"], "duplicate");
    assert_eq!(r2.json()["receipt"], receipt);

    // The same wallet through another profile: a different claim → 409 with the recorded receipt.
    let other = claim_body(&e.router, &a, "uniswap").await.to_string();
    let r3 = call(&e.router, "POST", "/v1/claims", Some(other.as_bytes())).await;
    let v3 = r3.assert_error(409, "claim.conflict");
    assert_eq!(v3["receipt"], receipt);

    let s = call(&e.router, "GET", &format!("/v1/claims/{a}"), None)
        .await
        .json();
    assert_eq!(s["status"], "claimed");
    assert_eq!(s["receipt"], receipt);
    assert_eq!(s["vesting"]["released"], amount.to_string());
    assert_eq!(s["vesting"]["claimable_now"], "0");
    let s = call(
        &e.router,
        "GET",
        &format!("/v1/claims/{}", e.fx.eligible[6].0),
        None,
    )
    .await
    .json();
    assert_eq!(s["status"], "unclaimed");
    assert_eq!(s["window"]["phase"], "open");
    assert_eq!(payout_rows(&e.db), vec![(a.clone(), amount.to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_submissions_make_one_payout_row() {
    let e = env();
    let (a, amount) = e.fx.eligible[7].clone();
    let body = Arc::new(claim_body(&e.router, &a, "uniswap").await.to_string());
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let router = e.router.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            call(&router, "POST", "/v1/claims", Some(body.as_bytes())).await
        }));
    }
    let mut created = 0;
    let mut receipts = BTreeSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status.as_u16() {
            201 => created += 1,
            200 => {}
            s => panic!("status {s}: {}", String::from_utf8_lossy(&r.bytes)),
        }
        receipts.insert(r.json()["receipt"].to_string());
    }
    assert_eq!(created, 1);
    assert_eq!(receipts.len(), 1);
    assert_eq!(payout_rows(&e.db), vec![(a, amount.to_string())]);
}

#[tokio::test]
async fn bad_claims_get_4xx_with_code_and_message() {
    let e = env();
    let (a, amount) = e.fx.eligible[9].clone();
    let good = claim_body(&e.router, &a, "oz").await;
    let post = |b: Vec<u8>| {
        let r = e.router.clone();
        async move { call(&r, "POST", "/v1/claims", Some(&b)).await }
    };
    post(b"{not json".to_vec())
        .await
        .assert_error(400, "body.json");
    post(b"".to_vec()).await.assert_error(400, "body.json");
    post(b"[]".to_vec()).await.assert_error(400, "body.schema");
    post(br#"{"address":"x"}"#.to_vec())
        .await
        .assert_error(400, "body.schema");
    let mut v = good.clone();
    v["amount"] = json!(amount as u64);
    post(v.to_string().into_bytes())
        .await
        .assert_error(400, "body.schema");
    let mut v = good.clone();
    v["extra"] = json!(1);
    post(v.to_string().into_bytes())
        .await
        .assert_error(400, "body.schema");
    // Oversize.
    let big = format!(
        r#"{{"address":"{a}","amount":"1","profile":"oz","proof":["{}"]}}"#,
        "0".repeat(40_000)
    );
    post(big.into_bytes())
        .await
        .assert_error(413, "body.too_large");
    // Unknown profile, bad address, bad amount.
    let mut v = good.clone();
    v["profile"] = json!("aleo");
    post(v.to_string().into_bytes())
        .await
        .assert_error(400, "claim.profile");
    let mut v = good.clone();
    v["address"] = json!("0xzz");
    post(v.to_string().into_bytes())
        .await
        .assert_error(400, "claim.address");
    for bad_amount in [
        "-5",
        "1.5",
        "1e6",
        "",
        "340282366920938463463374607431768211456",
    ] {
        let mut v = good.clone();
        v["amount"] = json!(bad_amount);
        post(v.to_string().into_bytes())
            .await
            .assert_error(400, "claim.amount.format");
    }
    // Wrong amount (well-formed).
    let mut v = good.clone();
    v["amount"] = json!((amount + 1).to_string());
    post(v.to_string().into_bytes())
        .await
        .assert_error(422, "claim.amount");
    // Bad hex.
    let mut v = good.clone();
    v["proof"][0] = json!("0xnothex");
    post(v.to_string().into_bytes())
        .await
        .assert_error(400, "claim.proof.hex");
    let mut v = good.clone();
    v["proof"][0] = json!(format!("0x{}", "g".repeat(64)));
    post(v.to_string().into_bytes())
        .await
        .assert_error(400, "claim.proof.hex");
    // Wrong proof lengths.
    let mut v = good.clone();
    v["proof"] = json!([]);
    post(v.to_string().into_bytes())
        .await
        .assert_error(400, "claim.proof.length");
    let mut v = good.clone();
    v["proof"]
        .as_array_mut()
        .unwrap()
        .push(json!(format!("0x{}", "11".repeat(32))));
    v["proof"]
        .as_array_mut()
        .unwrap()
        .push(json!(format!("0x{}", "11".repeat(32))));
    v["proof"]
        .as_array_mut()
        .unwrap()
        .push(json!(format!("0x{}", "11".repeat(32))));
    post(v.to_string().into_bytes())
        .await
        .assert_error(400, "claim.proof.length");
    // Forged proof: one byte flipped.
    let mut v = good.clone();
    let p0 = v["proof"][0].as_str().unwrap().to_string();
    let flipped = format!("{}{}", &p0[..65], if p0.ends_with('0') { "1" } else { "0" });
    v["proof"][0] = json!(flipped);
    post(v.to_string().into_bytes())
        .await
        .assert_error(422, "claim.proof.invalid");
    // Another wallet's proof.
    let other = claim_body(&e.router, &e.fx.eligible[10].0, "oz").await;
    let mut v = good.clone();
    v["proof"] = other["proof"].clone();
    post(v.to_string().into_bytes())
        .await
        .assert_error(422, "claim.proof.invalid");
    // Not eligible.
    let mut v = good.clone();
    v["address"] = json!(e.fx.ineligible[0]);
    post(v.to_string().into_bytes())
        .await
        .assert_error(422, "claim.not_eligible");
    // Nothing recorded.
    assert!(payout_rows(&e.db).is_empty());
    // Framework errors are JSON too.
    call(&e.router, "GET", "/nope", None)
        .await
        .assert_error(404, "not_found");
    call(&e.router, "DELETE", "/v1/claims", None)
        .await
        .assert_error(405, "method_not_allowed");
    // The good claim still works.
    let r = post(good.to_string().into_bytes()).await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn claim_window_gives_403_with_the_times() {
    let e = env_with(
        FixtureOptions {
            eligible: 8,
            start_offset: 3600,
            deadline_offset: 7200,
            ..Default::default()
        },
        |_| {},
    );
    let a = &e.fx.eligible[0].0;
    let body = claim_body(&e.router, a, "oz").await.to_string();
    let r = call(&e.router, "POST", "/v1/claims", Some(body.as_bytes())).await;
    let v = r.assert_error(403, "claim_window.not_started");
    assert!(v["start"].as_str().unwrap().ends_with('Z'));
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains(v["start"].as_str().unwrap()));
    let s = call(&e.router, "GET", &format!("/v1/claims/{a}"), None)
        .await
        .json();
    assert_eq!(s["window"]["phase"], "not_started");

    let e = env_with(
        FixtureOptions {
            eligible: 8,
            start_offset: -7200,
            deadline_offset: -3600,
            ..Default::default()
        },
        |_| {},
    );
    let a = &e.fx.eligible[0].0;
    let body = claim_body(&e.router, a, "oz").await.to_string();
    let v = call(&e.router, "POST", "/v1/claims", Some(body.as_bytes()))
        .await
        .assert_error(403, "claim_window.closed");
    assert!(v["deadline"].as_str().is_some());
    let s = call(&e.router, "GET", &format!("/v1/claims/{a}"), None)
        .await
        .json();
    assert_eq!(s["status"], "expired");
}

#[tokio::test]
async fn vesting_with_a_cliff_splits_claimable_and_locked() {
    // Started 10 days ago, cliff 5 days, 40 days linear: 25% vested.
    let e = env_with(
        FixtureOptions {
            eligible: 8,
            start_offset: -10 * 86_400,
            deadline_offset: 60 * 86_400,
            cliff_days: 5,
            vesting_days: 40,
            ..Default::default()
        },
        |_| {},
    );
    let (a, amount) = e.fx.eligible[1].clone();
    let s = call(&e.router, "GET", &format!("/v1/claims/{a}"), None)
        .await
        .json();
    let vested: u128 = s["vesting"]["vested"].as_str().unwrap().parse().unwrap();
    let locked: u128 = s["vesting"]["locked"].as_str().unwrap().parse().unwrap();
    assert_eq!(vested + locked, amount);
    assert!(
        vested >= amount / 4 && vested <= amount / 4 + amount / 1000,
        "{s}"
    );
    assert_eq!(s["vesting"]["claimable_now"], vested.to_string());
    let body = claim_body(&e.router, &a, "oz").await.to_string();
    assert_eq!(
        call(&e.router, "POST", "/v1/claims", Some(body.as_bytes()))
            .await
            .status,
        201
    );
    let rows = payout_rows(&e.db);
    assert_eq!(rows.len(), 1);
    let paid: u128 = rows[0].1.parse().unwrap();
    assert!(paid >= vested && paid < amount / 2);
    assert_eq!(fairdrop_claim::dist::vested(1000, 0, 5, 40, 4 * 86_400), 0);
    assert_eq!(
        fairdrop_claim::dist::vested(1000, 0, 5, 40, 20 * 86_400),
        500
    );
    assert_eq!(
        fairdrop_claim::dist::vested(1000, 0, 5, 40, 50 * 86_400),
        1000
    );
    assert_eq!(
        fairdrop_claim::dist::vested(u128::MAX, 0, 0, 2, 86_400),
        u128::MAX / 2
    );
}

#[tokio::test]
async fn admin_routes_need_the_token_and_pause_claims() {
    let e = env();
    let a = &e.fx.eligible[2].0;
    let body = claim_body(&e.router, a, "oz").await.to_string();
    call(&e.router, "POST", "/v1/admin/pause", None)
        .await
        .assert_error(401, "admin.unauthorized");
    call_h(
        &e.router,
        "POST",
        "/v1/admin/pause",
        None,
        &[("authorization", "Bearer wrong")],
    )
    .await
    .assert_error(401, "admin.unauthorized");
    let auth = [("authorization", "Bearer s3cret-admin-token")];
    let r = call_h(&e.router, "POST", "/v1/admin/pause", None, &auth).await;
    assert_eq!(r.status, 200);
    let r = call(&e.router, "POST", "/v1/claims", Some(body.as_bytes())).await;
    r.assert_error(503, "claims.paused");
    assert!(r.headers.get("retry-after").is_some());
    let ready = call(&e.router, "GET", "/readyz", None).await.json();
    assert_eq!(ready["claims_paused"], true);
    assert_eq!(
        call_h(&e.router, "POST", "/v1/admin/resume", None, &auth)
            .await
            .status,
        200
    );
    assert_eq!(
        call(&e.router, "POST", "/v1/claims", Some(body.as_bytes()))
            .await
            .status,
        201
    );
    let l = call_h(&e.router, "GET", "/v1/admin/ledger", None, &auth)
        .await
        .json();
    assert_eq!(l["claims"].as_array().unwrap().len(), 1);
    assert_eq!(l["payouts"].as_array().unwrap().len(), 1);
    // Without a configured token, admin is off.
    let e2 = env_with(
        FixtureOptions {
            eligible: 4,
            ..Default::default()
        },
        |c| c.admin_token = None,
    );
    call_h(&e2.router, "POST", "/v1/admin/pause", None, &auth)
        .await
        .assert_error(403, "admin.disabled");
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_headers() {
    let e = env_with(
        FixtureOptions {
            eligible: 4,
            ..Default::default()
        },
        |c| {
            c.limits.rate_per_sec = 0.5;
            c.limits.burst = 3;
        },
    );
    let a = &e.fx.eligible[0].0;
    let uri = format!("/v1/eligibility/{a}");
    for i in 0..3 {
        let r = call(&e.router, "GET", &uri, None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["x-ratelimit-limit"], "3");
        assert_eq!(
            r.headers["x-ratelimit-remaining"],
            (2 - i).to_string().as_str()
        );
    }
    let r = call(&e.router, "GET", &uri, None).await;
    r.assert_error(429, "rate_limited");
    let ra: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&ra));
    assert_eq!(r.headers["x-ratelimit-remaining"], "0");
    // Health checks are not limited.
    assert_eq!(call(&e.router, "GET", "/healthz", None).await.status, 200);
}

#[tokio::test]
async fn ops_endpoints_campaign_openapi_and_page() {
    let e = env();
    assert_eq!(
        call(&e.router, "GET", "/healthz", None).await.json()["status"],
        "ok"
    );
    assert_eq!(
        call(&e.router, "GET", "/readyz", None).await.json()["status"],
        "ready"
    );
    let c = call(&e.router, "GET", "/v1/campaign", None).await;
    assert!(c.headers.get("x-request-id").is_some());
    let c = c.json();
    let pk = fairdrop_merkle::manifest::read_public_key(&e.fx.public_key).unwrap();
    assert_eq!(c["fingerprint"], fairdrop_claim::fingerprint(&pk));
    assert_eq!(c["public_key"], hex::encode(pk.as_bytes()));
    assert!(c["profiles"]["oz"]["root"]
        .as_str()
        .unwrap()
        .starts_with("0x"));
    assert_eq!(c["steps"].as_array().unwrap().len(), 11);
    let o = call(&e.router, "GET", "/v1/openapi.json", None)
        .await
        .json();
    assert_eq!(o["openapi"], "3.0.3");
    assert!(o["paths"]["/v1/claims"]["post"].is_object());
    let p = call(&e.router, "GET", "/", None).await;
    let html = String::from_utf8(p.bytes).unwrap();
    assert!(html.contains(c["fingerprint"].as_str().unwrap()));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    let m = String::from_utf8(call(&e.router, "GET", "/metrics", None).await.bytes).unwrap();
    assert!(
        m.contains("fairdrop_http_requests_total{route=\"/v1/campaign\",status=\"200\"} 1"),
        "{m}"
    );
    assert!(m.contains("fairdrop_http_request_duration_seconds_bucket"));
}

/// A stand-in for the coming Aleo Poseidon checker: proves the trait plugs in and the Aleo
/// payout export.
struct FakeAleo {
    address: String,
}

impl ProofChecker for FakeAleo {
    fn profile(&self) -> &str {
        "aleo"
    }
    fn root(&self) -> String {
        ALEO_ROOT.into()
    }
    fn claims(&self) -> u64 {
        1
    }
    fn canonical(&self, address: &str) -> Result<String, String> {
        match fairdrop_core::Address::parse(address) {
            Ok(a) if a.is_aleo() => Ok(a.to_string()),
            _ => Err("not an Aleo address".into()),
        }
    }
    fn lookup(&self, canonical: &str) -> Option<Entitlement> {
        (canonical == self.address).then(|| Entitlement {
            amount: 5_000_000,
            index: 0,
            proof: vec!["7field".into()],
        })
    }
    fn verify(
        &self,
        canonical: &str,
        amount: u128,
        proof: &[String],
    ) -> Result<Entitlement, CheckError> {
        let e = self
            .lookup(canonical)
            .ok_or_else(|| CheckError::NotEligible("no".into()))?;
        if amount != e.amount {
            return Err(CheckError::Amount("wrong".into()));
        }
        if proof != e.proof {
            return Err(CheckError::Proof("forged".into()));
        }
        Ok(e)
    }
}

/// The root of an empty `aleo` tree (what the fixture's empty `proofs-aleo.jsonl` rebuilds
/// to); the test then plugs in its own checker under that root.
const ALEO_ROOT: &str = "0x0ef58c81626d46915d3b69e141f3eae94487db0868ebb16042c11540ec51e379";

const ALEO: &str = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";

#[tokio::test]
async fn payout_export_writes_each_row_once_and_clawback_totals_unclaimed() {
    let e = env_with_dist(
        FixtureOptions {
            eligible: 16,
            extra_roots: vec![("aleo".into(), ALEO_ROOT.into())],
            ..Default::default()
        },
        |d| {
            d.add_checker(Arc::new(FakeAleo {
                address: ALEO.into(),
            }))
            .unwrap();
        },
    );
    let out = e.dir.path().join("payouts");
    // Aleo claim through the plugged-in checker.
    let v = call(&e.router, "GET", &format!("/v1/eligibility/{ALEO}"), None)
        .await
        .json();
    assert_eq!(v["proofs"]["aleo"]["proof"][0], "7field");
    let body =
        json!({"address": ALEO, "amount": "5000000", "proof": ["7field"], "profile": "aleo"})
            .to_string();
    assert_eq!(
        call(&e.router, "POST", "/v1/claims", Some(body.as_bytes()))
            .await
            .status,
        201
    );
    let s = fairdrop_claim::export_payouts(&e.db, &out, Chain::Aleo).unwrap();
    assert_eq!((s.batch, s.rows, s.total.as_str()), (1, 1, "5000000"));
    let script = s.path.unwrap();
    let text = std::fs::read_to_string(&script).unwrap();
    assert_eq!(
        text,
        format!(
            "{}pay 1 {ALEO} 5000000u64 \"$@\"\n",
            fairdrop_claim::ledger::ALEO_BATCH_HEADER
        )
    );
    // The script runs Leo with the row and the caller's arguments, and a re-run pays nothing
    // twice (a `leo` that records its arguments stands in for the real one here; the real
    // Leo runs a batch in scripts/aleo-leo).
    let bin = e.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = e.dir.path().join("leo.log");
    std::fs::write(
        bin.join("leo"),
        format!("#!/bin/sh\necho \"$*\" >> {}\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        bin.join("leo"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for _ in 0..2 {
        let r = std::process::Command::new("sh")
            .arg(&script)
            .args(["--network", "testnet"])
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("execute credits.aleo::transfer_public {ALEO} 5000000u64 --broadcast --yes --network testnet\n")
    );
    // Nothing new: nothing exported.
    let s = fairdrop_claim::export_payouts(&e.db, &out, Chain::Aleo).unwrap();
    assert_eq!((s.rows, s.path), (0, None));

    // EVM claims, exported as CSV; then an Aleo export refuses EVM rows by name.
    let mut claimed = 0u128;
    for (a, amount) in &e.fx.eligible[..3] {
        let b = claim_body(&e.router, a, "oz").await.to_string();
        assert_eq!(
            call(&e.router, "POST", "/v1/claims", Some(b.as_bytes()))
                .await
                .status,
            201
        );
        claimed += amount;
    }
    let s = fairdrop_claim::export_payouts(&e.db, &out, Chain::Evm).unwrap();
    assert_eq!((s.batch, s.rows), (2, 3));
    let text = std::fs::read_to_string(s.path.as_ref().unwrap()).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text.starts_with("address,amount\n"));
    let b = claim_body(&e.router, &e.fx.eligible[4].0, "oz")
        .await
        .to_string();
    assert_eq!(
        call(&e.router, "POST", "/v1/claims", Some(b.as_bytes()))
            .await
            .status,
        201
    );
    let err = fairdrop_claim::export_payouts(&e.db, &out, Chain::Aleo).unwrap_err();
    assert!(err.to_string().contains("not an Aleo address"), "{err}");
    // Every row is in exactly one batch.
    let l = fairdrop_claim::read_ledger(&e.db).unwrap();
    let batches: Vec<Value> = l["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["batch"].clone())
        .collect();
    assert_eq!(
        batches,
        vec![json!(1), json!(2), json!(2), json!(2), Value::Null]
    );
    // The refused row is still unexported; the right chain exports it.
    let s = fairdrop_claim::export_payouts(&e.db, &out, Chain::Evm).unwrap();
    assert_eq!((s.batch, s.rows), (3, 1));
    let l = fairdrop_claim::read_ledger(&e.db).unwrap();
    assert!(l["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["batch"].is_i64()));

    let r = fairdrop_claim::clawback_report(&e.db, &e.fx.dist).unwrap();
    let pool: u128 = e.fx.eligible.iter().map(|x| x.1).sum();
    claimed += e.fx.eligible[4].1 + 5_000_000;
    assert_eq!(r.claimed_wallets, 5);
    assert_eq!(r.claimed, claimed.to_string());
    assert_eq!(r.unclaimed, pool.saturating_sub(claimed).to_string());
    assert!(!r.after_deadline);
}

#[test]
fn refuses_to_start_on_a_bad_signature_or_a_foreign_key() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fairdrop_claim::fixture::build_dist(
        dir.path(),
        &FixtureOptions {
            eligible: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let db = dir.path().join("c.db");
    // Another key cannot sign receipts for this campaign.
    let other = dir.path().join("other.key");
    fairdrop_merkle::manifest::keygen(&other, &dir.path().join("other.pub")).unwrap();
    let mut cfg = config(&fx, &db);
    cfg.signing_key = other;
    let err = fairdrop_claim::open_app(&cfg).err().expect("must refuse");
    assert!(
        err.to_string()
            .contains("not the key that signed the manifest"),
        "{err}"
    );
    // A ledger belongs to one campaign.
    let c = rusqlite::Connection::open(&db).unwrap();
    fairdrop_claim::ledger::open(&db).unwrap();
    c.execute(
        "INSERT INTO settings(key, value) VALUES ('campaign', 'another')",
        [],
    )
    .unwrap();
    drop(c);
    let err = fairdrop_claim::open_app(&config(&fx, &db))
        .err()
        .expect("must refuse");
    assert!(
        err.to_string().contains("belongs to campaign \"another\""),
        "{err}"
    );
    std::fs::remove_file(&db).unwrap();
    // A tampered manifest.
    let mpath = fx.dist.join("manifest.json");
    let text = std::fs::read_to_string(&mpath).unwrap();
    std::fs::write(&mpath, text.replace("\"FIX\"", "\"FOX\"")).unwrap();
    let err = fairdrop_claim::open_app(&config(&fx, &db))
        .err()
        .expect("must refuse");
    assert!(err.to_string().starts_with("refusing to serve"), "{err}");
    assert!(err.to_string().contains("signature"), "{err}");
}
