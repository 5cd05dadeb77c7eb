//! HTTP handlers, the router and its middleware.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use tower::ServiceBuilder;
use tower_http::request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::checker::{CheckError, Entitlement};
use crate::dist::{format_time, vested, Dist};
use crate::ledger::{now_secs, ClaimJob, ClaimOutcome, Ledger, PrivateJob, PrivateOutcome};
use crate::ops::{MakeId, Metrics, RateLimiter};
use crate::Limits;

/// Shared state of the service.
pub struct AppState {
    pub dist: Dist,
    pub ledger: Ledger,
    pub metrics: Metrics,
    pub limiter: Option<RateLimiter>,
    /// sha256 of the admin token (never the token itself).
    pub admin_token_hash: Option<[u8; 32]>,
    pub limits: Limits,
    pub page: String,
    pub campaign_json: Bytes,
    pub started: Instant,
}

/// The state handlers share.
pub type App = Arc<AppState>;

/// An error answer: `{code, message}` plus optional extra fields.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub extra: Option<Value>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            extra: None,
            headers: vec![],
        }
    }
    fn with(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }
}

pub(crate) fn error_body(code: &str, message: &str, extra: Option<Value>) -> Value {
    let mut v = json!({"code": code, "message": message});
    if let (Some(Value::Object(e)), Value::Object(m)) = (extra, &mut v) {
        for (k, x) in e {
            if k != "code" && k != "message" {
                m.insert(k, x);
            }
        }
    }
    v
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(error_body(&self.code, &self.message, self.extra)),
        )
            .into_response();
        for (k, v) in self.headers {
            r.headers_mut().insert(k, v);
        }
        r
    }
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn ok_json(v: Value) -> Response {
    json_response(StatusCode::OK, v.to_string())
}

/// Canonical form of an address typed by a participant (with its `wallets.csv` row when
/// found on the fast path), or 400 with the rule it breaks.
fn resolve_row(
    app: &AppState,
    raw: &str,
) -> Result<(String, Option<crate::dist::WalletRow>), ApiError> {
    if raw.len() <= 128 {
        if let Some(row) = app.dist.wallets.get(raw) {
            return Ok((raw.to_string(), Some(row)));
        }
    }
    let a = resolve(app, raw)?;
    let row = app.dist.wallets.get(&a);
    Ok((a, row))
}

/// Canonical form of an address typed by a participant, or 400 with the rule it breaks.
fn resolve(app: &AppState, raw: &str) -> Result<String, ApiError> {
    if raw.len() > 128 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "address.too_long",
            "an address is at most 128 characters",
        ));
    }
    if app.dist.wallets.get(raw).is_some() {
        return Ok(raw.to_string());
    }
    match fairdrop_core::Address::parse(raw) {
        Ok(a) => Ok(a.to_string()),
        Err(e) => {
            // Not an Aleo or EVM address: a profile with another kind (Solana) may take it.
            for c in &app.dist.checkers {
                if c.profile() == "jito" {
                    if let Ok(s) = c.canonical(raw) {
                        return Ok(s);
                    }
                }
            }
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                e.rule(),
                format!("malformed address: {e}"),
            )
            .with(json!({"rule": e.rule()})))
        }
    }
}

fn entitlements(app: &AppState, canonical: &str) -> Vec<(String, String, Entitlement)> {
    app.dist
        .checkers
        .iter()
        .filter_map(|c| {
            c.lookup(canonical)
                .map(|e| (c.profile().to_string(), c.root(), e))
        })
        .collect()
}

async fn page(State(app): State<App>) -> Response {
    let mut r = Response::new(Body::from(app.page.clone()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    r.headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

async fn healthz() -> Response {
    ok_json(json!({"status": "ok"}))
}

async fn readyz(State(app): State<App>) -> Response {
    if app.ledger.ping() {
        ok_json(json!({"status": "ready", "claims_paused": app.ledger.paused()}))
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the ledger does not answer",
        )
        .into_response()
    }
}

async fn metrics(State(app): State<App>) -> Response {
    let text = app.metrics.render(&[
        (
            "fairdrop_claims_paused",
            "1 when claims are paused.",
            if app.ledger.paused() { 1.0 } else { 0.0 },
        ),
        (
            "fairdrop_wallets",
            "Wallets in wallets.csv.",
            app.dist.wallets.len() as f64,
        ),
        (
            "fairdrop_uptime_seconds",
            "Seconds since start.",
            app.started.elapsed().as_secs_f64(),
        ),
    ]);
    let mut r = Response::new(Body::from(text));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn openapi() -> Response {
    json_response(StatusCode::OK, crate::OPENAPI)
}

async fn campaign(State(app): State<App>) -> Response {
    json_response(StatusCode::OK, app.campaign_json.clone())
}

/// `GET /v1/campaign` body.
pub(crate) fn campaign_value(dist: &Dist) -> Value {
    let c = &dist.campaign;
    let roots: serde_json::Map<String, Value> = dist
        .checkers
        .iter()
        .map(|k| {
            (
                k.profile().to_string(),
                json!({"root": k.root(), "claims": k.claims()}),
            )
        })
        .collect();
    json!({
        "id": c.id,
        "name": c.name,
        "token": c.token,
        "decimals": c.decimals,
        "pool": c.pool,
        "snapshot": c.snapshot,
        "claim": {
            "start": format_time(dist.start),
            "deadline": format_time(dist.deadline),
            "cliff_days": c.claim.cliff_days,
            "vesting_days": c.claim.vesting_days,
        },
        "manifest": dist.manifest,
        "profiles": roots,
        "private": dist.private.as_ref().map(|p| json!({
            "campaign_id": p.campaign.to_hex(),
            "root": p.root.map(|r| fairdrop_zk::fe_to_hex(&r)),
            "verifying_key_sha256": p.vk_sha256,
        })),
        "public_key": hex::encode(dist.public_key.as_bytes()),
        "fingerprint": dist.fingerprint(),
        "steps": c.steps,
        "tiers": c.tiers,
    })
}

#[derive(serde::Serialize)]
struct ProofOut<'a> {
    root: String,
    index: u64,
    amount: String,
    proof: &'a [String],
    /// The claim program's call (aleo): `{"program", "function", "inputs"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    call: Option<serde_json::Value>,
    /// The fee (microcredits) a wallet's request for `call` offers
    /// (`fairdrop_zk::program::wallet_fee`).
    #[serde(skip_serializing_if = "Option::is_none")]
    wallet_fee: Option<u64>,
}

#[derive(serde::Serialize)]
struct EligibilityOut<'a> {
    address: &'a str,
    known: bool,
    eligible: bool,
    amount: Option<String>,
    tier: Option<&'a str>,
    points: Option<u64>,
    reasons: &'a [crate::dist::Reason],
    proofs: std::collections::BTreeMap<&'a str, ProofOut<'a>>,
}

async fn eligibility(
    State(app): State<App>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (addr, row) = resolve_row(&app, &raw)?;
    let ents = entitlements(&app, &addr);
    let amount = ents.first().map(|e| e.2.amount.to_string());
    let proofs = ents
        .iter()
        .map(|(p, root, e)| {
            let call = app
                .dist
                .checkers
                .iter()
                .find(|c| c.profile() == p.as_str())
                .and_then(|c| c.chain_call(&addr));
            let wallet_fee = call.as_ref().and_then(|c| {
                fairdrop_zk::program::wallet_fee(c["function"].as_str()?, e.proof.len())
            });
            (
                p.as_str(),
                ProofOut {
                    root: root.clone(),
                    index: e.index,
                    amount: e.amount.to_string(),
                    proof: &e.proof,
                    call,
                    wallet_fee,
                },
            )
        })
        .collect();
    let unknown = [crate::dist::Reason {
        code: "wallet.unknown".into(),
        sentence: "No activity from this address was found in the campaign snapshot.".into(),
    }];
    let out = match &row {
        Some(w) => EligibilityOut {
            address: &addr,
            known: true,
            // Eligible per wallets.csv, and committed in every profile that takes this
            // kind of address.
            eligible: w.eligible
                && (!ents.is_empty()
                    || app
                        .dist
                        .checkers
                        .iter()
                        .all(|c| c.canonical(&addr).is_err())),
            amount,
            tier: Some(&w.tier),
            points: Some(w.points),
            reasons: &w.reasons,
            proofs,
        },
        None if !ents.is_empty() => EligibilityOut {
            address: &addr,
            known: true,
            eligible: true,
            amount,
            tier: None,
            points: None,
            reasons: &[],
            proofs,
        },
        None => EligibilityOut {
            address: &addr,
            known: false,
            eligible: false,
            amount: None,
            tier: None,
            points: Some(0),
            reasons: &unknown,
            proofs,
        },
    };
    let body = serde_json::to_vec(&out).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "internal.encode",
            e.to_string(),
        )
    })?;
    Ok(json_response(StatusCode::OK, body))
}

async fn progress(State(app): State<App>, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let addr = resolve(&app, &raw)?;
    let Some(p) = &app.dist.progress else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "progress.unavailable",
            "this campaign's dist folder has no progress.jsonl",
        ));
    };
    let rec = p.get(&addr);
    let c = &app.dist.campaign;
    let known = rec.is_some();
    let rec = rec.unwrap_or(crate::dist::ProgressRecord {
        address: addr.clone(),
        steps: Default::default(),
        gates: Default::default(),
        points: Default::default(),
        total: 0,
        tier: String::new(),
    });
    let steps: Vec<Value> = c
        .steps
        .iter()
        .map(|s| {
            let earned: u64 = c
                .points
                .iter()
                .filter(|r| r.step.as_deref() == Some(s.key.as_str()))
                .map(|r| rec.points.get(&r.id).copied().unwrap_or(0))
                .sum();
            json!({
                "number": s.number,
                "key": s.key,
                "title": s.title,
                "rule": s.rule,
                "done": rec.steps.get(&s.key).copied().unwrap_or(false),
                "points": earned,
                "points_max": s.points_max,
            })
        })
        .collect();
    let gates: Vec<Value> = c
        .gates
        .iter()
        .map(|g| {
            json!({
                "id": g.id,
                "passed": rec.gates.get(&g.id).copied().unwrap_or(false),
                "reason": g.reason,
            })
        })
        .collect();
    let points: Vec<Value> = c
        .points
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "label": r.label,
                "step": r.step,
                "points": rec.points.get(&r.id).copied().unwrap_or(0),
                "cap": r.cap,
            })
        })
        .collect();
    let mut tiers = c.tiers.clone();
    tiers.sort_by_key(|t| t.min_points);
    let next = tiers.iter().find(|t| t.min_points > rec.total);
    let todo: Vec<Value> = c
        .steps
        .iter()
        .filter(|s| !rec.steps.get(&s.key).copied().unwrap_or(false))
        .map(|s| json!({"step": s.key, "title": s.title, "points_max": s.points_max}))
        .collect();
    let failed_gates: Vec<Value> = c
        .gates
        .iter()
        .filter(|g| !rec.gates.get(&g.id).copied().unwrap_or(false))
        .map(|g| json!({"gate": g.id, "reason": g.reason}))
        .collect();
    Ok(ok_json(json!({
        "address": addr,
        "known": known,
        "total": rec.total,
        "tier": rec.tier,
        "steps": steps,
        "steps_done": rec.steps.values().filter(|d| **d).count(),
        "gates": gates,
        "points": points,
        "next_tier": next.map(|t| json!({
            "name": t.name,
            "min_points": t.min_points,
            "points_missing": t.min_points - rec.total,
        })),
        "missing": {"steps": todo, "gates": failed_gates},
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    address: String,
    amount: String,
    proof: Vec<String>,
    profile: String,
}

fn window_error(app: &AppState, now: i64) -> Option<ApiError> {
    let (start, deadline) = (app.dist.start, app.dist.deadline);
    let times = json!({"start": format_time(start), "deadline": format_time(deadline), "now": format_time(now)});
    if now < start {
        Some(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "claim_window.not_started",
                format!(
                    "claims open at {} (now {}); they close at {}",
                    format_time(start),
                    format_time(now),
                    format_time(deadline)
                ),
            )
            .with(times),
        )
    } else if now >= deadline {
        Some(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "claim_window.closed",
                format!(
                    "claims closed at {} (now {}); they opened at {}",
                    format_time(deadline),
                    format_time(now),
                    format_time(start)
                ),
            )
            .with(times),
        )
    } else {
        None
    }
}

fn bad(code: &str, msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, msg)
}

async fn post_claim(
    State(app): State<App>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let r = submit(&app, body).await;
    if r.is_err() {
        app.metrics.claims_rejected.fetch_add(1, Ordering::Relaxed);
    }
    r
}

async fn submit(
    app: &AppState,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body.too_large",
                format!("the body is larger than {} bytes", app.limits.max_body),
            )
        } else {
            bad("body.unreadable", e.body_text())
        }
    })?;
    let b: ClaimBody = serde_json::from_slice(&body).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "body.json"
        } else {
            "body.schema"
        };
        bad(
            code,
            format!("the body must be JSON {{\"address\", \"amount\" (decimal string), \"proof\" (array of hex strings), \"profile\"}}: {e}"),
        )
    })?;
    let checker = app.dist.checker(&b.profile).ok_or_else(|| {
        let known: Vec<&str> = app.dist.checkers.iter().map(|c| c.profile()).collect();
        bad(
            "claim.profile",
            format!(
                "unknown profile {:?}; this campaign has {}",
                b.profile.chars().take(40).collect::<String>(),
                known.join(", ")
            ),
        )
    })?;
    if b.address.len() > 128 {
        return Err(bad("claim.address", "an address is at most 128 characters"));
    }
    let address = checker
        .canonical(&b.address)
        .map_err(|m| bad("claim.address", m))?;
    let amount = fairdrop_core::parse_amount(&b.amount)
        .map_err(|e| bad("claim.amount.format", format!("amount: {e}")))?;
    if b.proof.len() > 256 {
        return Err(bad(
            "claim.proof.length",
            "a proof has at most 256 elements",
        ));
    }
    let now = now_secs();
    if let Some(e) = window_error(app, now) {
        return Err(e);
    }
    if app.ledger.paused() {
        return Err(paused_error());
    }
    let ent = checker.verify(&address, amount, &b.proof).map_err(|e| {
        let status = match e {
            CheckError::Address(_) | CheckError::ProofFormat(_) | CheckError::ProofLength(_) => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.message())
    })?;
    let c = &app.dist.campaign.claim;
    let job = ClaimJob {
        address: address.clone(),
        profile: checker.profile().to_string(),
        amount: ent.amount,
        root: checker.root(),
        vested: vested(
            ent.amount,
            app.dist.start,
            c.cliff_days,
            c.vesting_days,
            now,
        ),
        now,
    };
    match app.ledger.claim(job).await {
        Ok(ClaimOutcome::Accepted { receipt }) => {
            app.metrics.claims_accepted.fetch_add(1, Ordering::Relaxed);
            tracing::info!(address = %address, profile = checker.profile(), "claim accepted");
            Ok(json_response(
                StatusCode::CREATED,
                format!("{{\"status\":\"accepted\",\"receipt\":{receipt}}}"),
            ))
        }
        Ok(ClaimOutcome::Duplicate { receipt }) => {
            app.metrics.claims_duplicate.fetch_add(1, Ordering::Relaxed);
            Ok(json_response(
                StatusCode::OK,
                format!("{{\"status\":\"duplicate\",\"receipt\":{receipt}}}"),
            ))
        }
        Ok(ClaimOutcome::Conflict { receipt }) => {
            app.metrics.claims_conflict.fetch_add(1, Ordering::Relaxed);
            let existing: Value = serde_json::from_str(&receipt).unwrap_or(Value::Null);
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "claim.conflict",
                format!("{address} has already claimed with a different claim (see receipt)"),
            )
            .with(json!({"receipt": existing})))
        }
        Ok(ClaimOutcome::Paused) => Err(paused_error()),
        Err(e) => {
            tracing::error!(error = %e, "ledger write failed");
            let mut er = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ledger.unavailable",
                "the claim was not recorded; try again",
            );
            er.headers
                .push((header::RETRY_AFTER, HeaderValue::from_static("1")));
            Err(er)
        }
    }
}

async fn post_private_claim(
    State(app): State<App>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let r = submit_private(&app, body).await;
    if r.is_err() {
        app.metrics.claims_rejected.fetch_add(1, Ordering::Relaxed);
    }
    r
}

/// `POST /v1/private-claims`: decode and check every field, verify the Groth16 proof (on the
/// blocking pool), then record the nullifier and the payout row in one transaction. Dedup is by
/// nullifier only: the same body sent again answers 409 `private_claim.nullifier_reused`.
async fn submit_private(
    app: &AppState,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(private) = app.dist.private.as_ref() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "private_claims.disabled",
            "private claims are not enabled for this campaign (no zk/claim.vk in the dist)",
        ));
    };
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body.too_large",
                format!("the body is larger than {} bytes", app.limits.max_body),
            )
        } else {
            bad("body.unreadable", e.body_text())
        }
    })?;
    let b: fairdrop_zk::PrivateClaim = serde_json::from_slice(&body).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "body.json"
        } else {
            "body.schema"
        };
        bad(
            code,
            format!("the body must be JSON {{\"campaign\", \"root\", \"nullifier\", \"recipient\", \"denomination\" (integer), \"proof\" (0x + 384 hex digits)}}: {e}"),
        )
    })?;
    let (public, recipient, proof) = b
        .decode()
        .map_err(|e| bad("private_claim.format", e.to_string()))?;
    if public.campaign != private.campaign {
        return Err(bad(
            "private_claim.campaign",
            format!(
                "campaign {} is not this campaign's id {}",
                public.campaign.to_hex(),
                private.campaign.to_hex()
            ),
        ));
    }
    if public.denomination == 0 {
        return Err(bad(
            "private_claim.denomination",
            "denomination must be positive",
        ));
    }
    if let Some(root) = private.root {
        if public.root != root {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "private_claim.root",
                format!(
                    "root {} is not the campaign's private root {}",
                    fairdrop_zk::fe_to_hex(&public.root),
                    fairdrop_zk::fe_to_hex(&root)
                ),
            ));
        }
    }
    let now = now_secs();
    if let Some(e) = window_error(app, now) {
        return Err(e);
    }
    if app.ledger.paused() {
        return Err(paused_error());
    }
    // Groth16 verification costs a few ms of CPU: bound how many run at once so a flood of
    // private claims cannot take every blocking thread (the request timeout still applies).
    static VERIFIERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = VERIFIERS.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(n * 2)
    });
    let _permit = permits.acquire().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the verifier is shutting down; try again",
        )
    })?;
    let vk = private.vk.clone();
    let ok = tokio::task::spawn_blocking(move || fairdrop_zk::verify(&vk, &public, &proof))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "proof verification task failed");
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "private_claim.proof",
                "the proof could not be verified",
            )
        })?;
    match ok {
        Ok(true) => {}
        Ok(false) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "private_claim.proof",
                "the proof does not verify for these public inputs (root, nullifier, recipient, denomination, campaign)",
            ))
        }
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "private_claim.proof",
                format!("the proof does not verify: {e}"),
            ))
        }
    }
    let nullifier = public.nullifier.to_hex();
    let c = &app.dist.campaign.claim;
    let amount = public.denomination as u128;
    let vested_now = vested(amount, app.dist.start, c.cliff_days, c.vesting_days, now);
    let job = PrivateJob {
        nullifier: nullifier.clone(),
        root: fairdrop_zk::fe_to_hex(&public.root),
        recipient: recipient.to_string(),
        denomination: public.denomination,
        vested: vested_now,
        now,
    };
    // Same shape as `GET /v1/claims/{address}` vesting; payouts never go backwards, so what
    // has been released is what has vested by now.
    let vesting = json!({
        "amount": amount.to_string(),
        "cliff_days": c.cliff_days,
        "vesting_days": c.vesting_days,
        "vesting_end": format_time(app.dist.start + c.vesting_days as i64 * 86_400),
        "vested": vested_now.to_string(),
        "released": vested_now.to_string(),
        "locked": (amount - vested_now.min(amount)).to_string(),
    });
    let answer = |status: StatusCode, word: &str, receipt: &str| {
        let receipt: Value = serde_json::from_str(receipt).unwrap_or(Value::Null);
        json_response(
            status,
            json!({
                "status": word,
                "receipt": receipt,
                "receipt_id": receipt["receipt_id"],
                "nullifier": nullifier,
                "recipient": job.recipient,
                "denomination": job.denomination,
                "root": job.root,
                "claimed_at": receipt["claimed_at"],
                "vesting": vesting,
            })
            .to_string(),
        )
    };
    match app.ledger.private_claim(job.clone()).await {
        Ok(PrivateOutcome::Accepted { receipt }) => {
            app.metrics.claims_accepted.fetch_add(1, Ordering::Relaxed);
            tracing::info!(nullifier = %nullifier, "private claim accepted");
            Ok(answer(StatusCode::CREATED, "accepted", &receipt))
        }
        Ok(PrivateOutcome::Duplicate { receipt }) => {
            app.metrics.claims_duplicate.fetch_add(1, Ordering::Relaxed);
            Ok(answer(StatusCode::OK, "duplicate", &receipt))
        }
        Ok(PrivateOutcome::Reused) => {
            app.metrics.claims_conflict.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "private_claim.nullifier_reused",
                format!("nullifier {nullifier} was already used by a claim to another recipient or denomination (a note is claimed once)"),
            )
            .with(json!({"nullifier": nullifier})))
        }
        Ok(PrivateOutcome::Paused) => Err(paused_error()),
        Err(e) => {
            tracing::error!(error = %e, "ledger write failed");
            let mut er = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ledger.unavailable",
                "the claim was not recorded; try again",
            );
            er.headers
                .push((header::RETRY_AFTER, HeaderValue::from_static("1")));
            Err(er)
        }
    }
}

fn paused_error() -> ApiError {
    let mut e = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "claims.paused",
        "claims are paused by the operator; try again later",
    );
    e.headers
        .push((header::RETRY_AFTER, HeaderValue::from_static("60")));
    e
}

async fn claim_status(
    State(app): State<App>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let addr = resolve(&app, &raw)?;
    let now = now_secs();
    let ents = entitlements(&app, &addr);
    let stored = app.ledger.status(&addr).map_err(|e| {
        tracing::error!(error = %e, "ledger read failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger.unavailable",
            "the ledger does not answer; try again",
        )
    })?;
    let c = &app.dist.campaign.claim;
    let phase = if now < app.dist.start {
        "not_started"
    } else if now >= app.dist.deadline {
        "closed"
    } else {
        "open"
    };
    let amount: Option<u128> = match &stored {
        Some(s) => s.amount.parse().ok(),
        None => ents.first().map(|e| e.2.amount),
    };
    let status = match (&stored, amount) {
        (Some(_), _) => "claimed",
        (None, Some(_)) if phase == "closed" => "expired",
        (None, Some(_)) => "unclaimed",
        (None, None) => "not_eligible",
    };
    let vesting = amount.map(|a| {
        let v = vested(a, app.dist.start, c.cliff_days, c.vesting_days, now);
        let released: u128 = stored
            .as_ref()
            .and_then(|s| s.released.parse().ok())
            .unwrap_or(0);
        json!({
            "cliff_days": c.cliff_days,
            "vesting_days": c.vesting_days,
            "cliff_end": format_time(app.dist.start + c.cliff_days as i64 * 86_400),
            "vesting_end": format_time(app.dist.start + c.vesting_days as i64 * 86_400),
            "vested": v.to_string(),
            "locked": (a - v.min(a)).to_string(),
            "released": released.to_string(),
            "claimable_now": if phase == "closed" && stored.is_none() { "0".to_string() } else { v.saturating_sub(released).to_string() },
        })
    });
    Ok(ok_json(json!({
        "address": addr,
        "status": status,
        "amount": amount.map(|a| a.to_string()),
        "window": {"start": format_time(app.dist.start), "deadline": format_time(app.dist.deadline), "now": format_time(now), "phase": phase},
        "vesting": vesting,
        "receipt": stored.map(|s| s.receipt),
    })))
}

fn check_admin(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    use sha2::{Digest, Sha256};
    let Some(want) = app.admin_token_hash else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin.disabled",
            "admin routes are disabled: set FAIRDROP_ADMIN_TOKEN",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| Sha256::digest(t.trim().as_bytes()));
    // Compare digests in constant time.
    let ok =
        given.is_some_and(|g| g.iter().zip(want.iter()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0);
    if ok {
        Ok(())
    } else {
        let mut e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "admin.unauthorized",
            "admin routes need Authorization: Bearer <token>",
        );
        e.headers
            .push((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        Err(e)
    }
}

async fn admin_pause(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    set_paused(&app, &headers, true).await
}

async fn admin_resume(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    set_paused(&app, &headers, false).await
}

async fn set_paused(app: &AppState, headers: &HeaderMap, p: bool) -> Result<Response, ApiError> {
    check_admin(app, headers)?;
    app.ledger.set_paused(p).await.map_err(|e| {
        tracing::error!(error = %e, "ledger write failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger.unavailable",
            "the ledger did not record the change; try again",
        )
    })?;
    tracing::warn!(
        paused = p,
        "claims {} by admin",
        if p { "paused" } else { "resumed" }
    );
    Ok(ok_json(json!({"claims_paused": p})))
}

async fn admin_ledger(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    check_admin(&app, &headers)?;
    let v = app.ledger.export().map_err(|e| {
        tracing::error!(error = %e, "ledger read failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger.unavailable",
            "the ledger does not answer; try again",
        )
    })?;
    Ok(ok_json(v))
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see /v1/openapi.json",
    )
}

/// The route pattern of `path`, for metric labels (bounded cardinality: never the address).
fn route_label(method: &axum::http::Method, path: &str) -> &'static str {
    let get = method == axum::http::Method::GET;
    match path {
        "/" if get => "/",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        "/v1/openapi.json" => "/v1/openapi.json",
        "/v1/campaign" => "/v1/campaign",
        "/v1/claims" => "/v1/claims",
        "/v1/private-claims" => "/v1/private-claims",
        "/v1/admin/pause" => "/v1/admin/pause",
        "/v1/admin/resume" => "/v1/admin/resume",
        "/v1/admin/ledger" => "/v1/admin/ledger",
        p if p.starts_with("/v1/eligibility/") => "/v1/eligibility/{address}",
        p if p.starts_with("/v1/progress/") => "/v1/progress/{address}",
        p if p.starts_with("/v1/claims/") => "/v1/claims/{address}",
        _ => "unmatched",
    }
}

/// Metrics, and every error answer as `{code, message}` JSON (404/405/408/413 from the
/// framework included).
async fn track(State(app): State<App>, req: Request, next: Next) -> Response {
    let t = Instant::now();
    let route = route_label(req.method(), req.uri().path());
    app.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let mut r = next.run(req).await;
    app.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let status = r.status();
    let is_json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() >= 400 && !is_json {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found".to_string(),
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed".to_string(),
            StatusCode::REQUEST_TIMEOUT => "timeout".to_string(),
            StatusCode::PAYLOAD_TOO_LARGE => "body.too_large".to_string(),
            s => format!("http.{}", s.as_u16()),
        };
        let msg = status.canonical_reason().unwrap_or("error").to_string();
        let headers = r.headers().clone();
        let mut nr = json_response(status, error_body(&code, &msg, None).to_string());
        for k in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(v) = headers.get(&k) {
                nr.headers_mut().insert(k, v.clone());
            }
        }
        for (k, v) in headers.iter() {
            if k.as_str().starts_with("x-") {
                nr.headers_mut().insert(k.clone(), v.clone());
            }
        }
        r = nr;
    }
    app.metrics
        .observe(route, status.as_u16(), t.elapsed().as_secs_f64());
    r
}

async fn rate_limit(State(app): State<App>, req: Request, next: Next) -> Response {
    let Some(lim) = &app.limiter else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" || path == "/metrics" {
        return next.run(req).await;
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let d = lim.check(ip);
    let hv =
        |n: u64| HeaderValue::from_str(&n.to_string()).unwrap_or(HeaderValue::from_static("0"));
    let mut r = if d.allowed {
        next.run(req).await
    } else {
        app.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many requests from this address; retry after {} s",
                d.retry_after
            ),
        );
        e.headers.push((header::RETRY_AFTER, hv(d.retry_after)));
        e.into_response()
    };
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", hv(d.limit));
    h.insert("x-ratelimit-remaining", hv(d.remaining));
    h.insert("x-ratelimit-reset", hv(d.reset));
    r
}

async fn shed(err: tower::BoxError) -> ApiError {
    let mut e = if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the service is at capacity; try again shortly",
        )
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service could not take the request; try again shortly",
        )
    };
    e.headers
        .push((header::RETRY_AFTER, HeaderValue::from_static("1")));
    e
}

/// The router with every route and the operational middleware (request ids, tracing,
/// metrics, rate limit, load shedding, timeout, body limit).
pub fn router(app: App) -> Router {
    let limits = app.limits.clone();
    let shed_metrics = app.clone();
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/campaign", get(campaign))
        .route("/v1/eligibility/{address}", get(eligibility))
        .route("/v1/progress/{address}", get(progress))
        .route("/v1/claims", post(post_claim))
        .route("/v1/private-claims", post(post_private_claim))
        .route("/v1/claims/{address}", get(claim_status))
        .route("/v1/admin/pause", post(admin_pause))
        .route("/v1/admin/resume", post(admin_resume))
        .route("/v1/admin/ledger", get(admin_ledger))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.max_body))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |e: tower::BoxError| {
                    let m = shed_metrics.clone();
                    async move {
                        m.metrics.shed.fetch_add(1, Ordering::Relaxed);
                        shed(e).await
                    }
                }))
                .load_shed()
                .concurrency_limit(limits.max_concurrency.max(1)),
        )
        .layer(middleware::from_fn_with_state(app.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(app.clone(), track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
            .into_response()
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|r| r.header_value().to_str().ok())
                        .unwrap_or("-")
                        .to_string();
                    // Path only: no query string, no headers (the admin token is a header).
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG),
                ),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeId::new()))
        .with_state(app)
}
