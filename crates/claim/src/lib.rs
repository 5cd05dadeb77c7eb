//! The claim service: eligibility, proofs, task progress and claims over HTTP, with a durable
//! SQLite ledger that never pays twice, a payout outbox, and the participant page.
//!
//! # Use
//!
//! ```no_run
//! use fairdrop_claim::{serve, ServeConfig};
//! let cfg = ServeConfig::new("out/dist", "out/claims.db", "127.0.0.1:8080".parse().unwrap(),
//!                            "campaign.key");
//! // cfg.admin_token comes from FAIRDROP_ADMIN_TOKEN (None: admin routes answer 403).
//! serve(cfg)?; // until Ctrl-C / SIGTERM, then drains in-flight requests
//! # Ok::<(), fairdrop_claim::ClaimError>(())
//! ```
//!
//! Beside the server: [`export_payouts`] (`fairdrop payouts export`: one batch file of every
//! payout row not yet exported, each row exactly once) and [`clawback_report`]
//! (`fairdrop clawback-report`: what was not claimed). Tests drive [`router`] with
//! `tower::ServiceExt::oneshot` after [`open_app`]; [`fixture`] builds a synthetic dist and
//! [`http_client`] is a minimal keep-alive client (crash test, `examples/loadbench.rs`).
//!
//! Rate limiting is per client IP as the socket sees it: behind a reverse proxy every client
//! shares the proxy's bucket, so raise `Limits::rate_per_sec` there or limit at the proxy.
//!
//! Start-up refuses to serve when the manifest signature does not verify, when the signing key
//! is not the key that signed the manifest, when a proof store's root differs from the
//! manifest's, or when `zk/` files do not match it. The secret key and the admin token are
//! never logged (the admin token is kept only as its sha256).
//!
//! # The dist contract
//!
//! The folder `fairdrop run` writes; the service reads:
//!
//! | file | format |
//! | --- | --- |
//! | `manifest.json` | [`fairdrop_merkle::manifest::Manifest`], signed ed25519 (the campaign key). `roots` names the profiles. |
//! | `proofs-<profile>.bin` | a `fairdrop_merkle::store` proof store per profile in `roots` (`oz`, `uniswap`, `jito`); `aleo` is plugged in with [`Dist::add_checker`] (trait [`ProofChecker`]). |
//! | `wallets.csv` | `address,eligible,points,tier,reasons,sentences`: every scored wallet; `eligible` is `true`/`false`, `reasons` the `;`-joined codes, `sentences` the matching sentences joined by ` \| `. Addresses canonical (lowercase). |
//! | `progress.jsonl` (optional) | one object per scored wallet: `{"address":"…","steps":{"wallet_setup":true,…the 11 step keys},"gates":{"<gate id>":true,…},"points":{"<rule id>":30,…},"total":470,"tier":"bronze"}` |
//! | `zk/claim.vk` (optional) | a `fairdrop zk setup` verifying key (`FDZKVK01`); its campaign must be `CampaignId::from_name(campaign.id)` and its sha256 the manifest's `inputs["zk:claim.vk"]`. Present: `POST /v1/private-claims` is enabled. |
//! | `zk/root.txt` (with `zk/claim.vk`) | one line, `0x` + 64 hex digits: the private tree root every private claim must use; equal to the manifest's `roots["private"]`. |
//! | `zk/tree.json` (optional) | the private tree (`fairdrop_zk::TreeFile`); sha256 = the manifest's `inputs["zk:tree.json"]`; `clawback-report` counts its notes. |
//!
//! `fairdrop run` with a `[zk]` campaign section writes the three files and the manifest
//! entries. Start-up refuses a dist whose `zk/` files do not match the signed manifest (a
//! swapped key, root or tree), or that has `zk/` files the manifest does not commit to.
//! | `campaign.json` | `{"id","name","token","decimals","pool","snapshot","claim":{"start","deadline","cliff_days","vesting_days"},"steps":[{"key","number","title","rule","points_max"}],"gates":[{"id","expr","reason"}],"points":[{"id","label","expr","cap","step"}],"tiers":[{"name","min_points"}]}`; times RFC 3339, amounts decimal strings of base units. |
//!
//! # API (v1, JSON; OpenAPI at `/v1/openapi.json`)
//!
//! | route | what |
//! | --- | --- |
//! | `GET /` | the participant page (self-contained HTML; `?address=` checks at once; shows the campaign key fingerprint) |
//! | `GET /v1/campaign` | campaign, manifest, roots per profile, public key and its sha256 fingerprint, claim window |
//! | `GET /v1/eligibility/{address}` | eligible, amount, tier, points, reasons (codes and sentences), proof per profile; 400 `{code: <address rule>}` for a malformed address |
//! | `GET /v1/progress/{address}` | the eleven steps (done, points earned, points max), gates, points rules, next tier and what is missing |
//! | `POST /v1/claims` | `{address, amount, proof, profile}`: checked against the root and recorded once. 201 first time, 200 + the same receipt again, 409 for a different claim by the same wallet, 403 outside the window, 503 when paused |
//! | `POST /v1/private-claims` | `fairdrop_zk::PrivateClaim` `{campaign, root, nullifier, recipient, denomination, proof}` (enabled by a committed `zk/claim.vk`, else 404 `private_claims.disabled`): fields checked (400), campaign id (400 `private_claim.campaign`), committed root (422 `private_claim.root`), Groth16 proof verified off the async threads (422 `private_claim.proof`), then nullifier + signed receipt + payout row (recipient, the part of the denomination vested now) in one transaction. 201 + receipt first time; the same claim again (nullifier, recipient, denomination) 200 + the same receipt and a row for what vested since; 409 `private_claim.nullifier_reused` for the nullifier with another recipient or denomination (dedup is by nullifier, never by proof bytes); window and pause as for `POST /v1/claims` |
//! | `GET /v1/claims/{address}` | status (`claimed`/`unclaimed`/`expired`/`not_eligible`), window, vesting (vested, locked, released, claimable now), receipt |
//! | `POST /v1/admin/pause`, `POST /v1/admin/resume` | pause/resume claims (bearer token) |
//! | `GET /v1/admin/ledger` | every receipt and payout row (bearer token) |
//! | `/healthz`, `/readyz`, `/metrics` | liveness, readiness (ledger answers), Prometheus text |
//!
//! Every error is `{"code", "message"}` JSON with a 4xx status for bad input (503 only for
//! load shedding, pause and ledger outages). Receipts are canonical JSON (sorted keys) signed
//! with the campaign key over every field but `public_key` and `signature`
//! ([`ledger::verify_receipt`]).
//!
//! # Durability
//!
//! See [`ledger`]: WAL + `synchronous=FULL`, group commit, claim and payout row in one
//! transaction, the wallet address as primary key: every acknowledged claim survives SIGKILL,
//! and none is recorded (or paid) twice.

pub mod api;
pub mod checker;
pub mod dist;
pub mod error;
pub mod fixture;
pub mod http_client;
pub mod ledger;
pub mod ops;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use api::{router, App, AppState};
pub use checker::{CheckError, Entitlement, ProofChecker, StoreChecker};
pub use dist::{fingerprint, Campaign, Dist};
pub use error::{ClaimError, Result};
pub use ledger::{
    clawback_report, export_payouts, read_ledger, Chain, ClawbackReport, ExportSummary,
    PrivateClawback,
};

/// The OpenAPI document served at `/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

const PAGE: &str = include_str!("page.html");

/// The Leo Wallet adapter, bundled from the npm registry's packages (`crates/claim/wallet`).
const LEO_WALLET_JS: &str = include_str!("leo-wallet.js");

/// Operational limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Per-IP token rate (requests per second); 0 turns rate limiting off.
    pub rate_per_sec: f64,
    /// Per-IP burst.
    pub burst: u32,
    /// Requests served at once; more are shed with 503.
    pub max_concurrency: usize,
    /// Per-request timeout (408).
    pub timeout: Duration,
    /// Largest request body in bytes (413).
    pub max_body: usize,
    /// Ledger read connections.
    pub readers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_per_sec: 20.0,
            burst: 60,
            max_concurrency: 4096,
            timeout: Duration::from_secs(10),
            max_body: 16 * 1024,
            readers: 4,
        }
    }
}

/// What `fairdrop serve` passes.
#[derive(Clone)]
pub struct ServeConfig {
    /// The dist folder (see the crate docs).
    pub dist: PathBuf,
    /// The SQLite ledger (created if missing).
    pub db: PathBuf,
    pub listen: SocketAddr,
    /// The campaign's secret key file (signs receipts; must be the manifest's signer).
    pub signing_key: PathBuf,
    /// Bearer token for the admin routes; `None` disables them.
    pub admin_token: Option<String>,
    pub limits: Limits,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("dist", &self.dist)
            .field("db", &self.db)
            .field("listen", &self.listen)
            .field("signing_key", &self.signing_key)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("limits", &self.limits)
            .finish()
    }
}

impl ServeConfig {
    /// Defaults, with the admin token from `FAIRDROP_ADMIN_TOKEN` (empty = none).
    pub fn new(
        dist: impl Into<PathBuf>,
        db: impl Into<PathBuf>,
        listen: SocketAddr,
        signing_key: impl Into<PathBuf>,
    ) -> ServeConfig {
        ServeConfig {
            dist: dist.into(),
            db: db.into(),
            listen,
            signing_key: signing_key.into(),
            admin_token: std::env::var("FAIRDROP_ADMIN_TOKEN")
                .ok()
                .filter(|t| !t.trim().is_empty()),
            limits: Limits::default(),
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Load the dist, check signatures and keys, open the ledger: the state [`router`] serves.
pub fn open_app(config: &ServeConfig) -> Result<App> {
    let dist = Dist::load(&config.dist, None)?;
    open_app_with(config, dist)
}

/// [`open_app`] with a dist already loaded (e.g. after [`Dist::add_checker`]).
pub fn open_app_with(config: &ServeConfig, dist: Dist) -> Result<App> {
    use sha2::{Digest, Sha256};
    let key = dist::load_signing_key(&config.signing_key, &dist.public_key)?;
    let signer = ledger::ReceiptSigner {
        key,
        campaign: dist.campaign.id.clone(),
    };
    let ledger = ledger::Ledger::start(&config.db, signer, config.limits.readers)?;
    let campaign_json = api::campaign_value(&dist).to_string();
    let page = PAGE
        .replace("{{FINGERPRINT}}", &dist.fingerprint())
        .replace("{{CAMPAIGN}}", &html_escape(&dist.campaign.name))
        .replace("{{TOKEN}}", &html_escape(&dist.campaign.token))
        // Last, so that nothing in the bundle is taken for a placeholder.
        .replace("{{LEO_WALLET_JS}}", LEO_WALLET_JS);
    let limiter = (config.limits.rate_per_sec > 0.0)
        .then(|| ops::RateLimiter::new(config.limits.rate_per_sec, config.limits.burst));
    Ok(Arc::new(AppState {
        dist,
        ledger,
        metrics: Default::default(),
        limiter,
        admin_token_hash: config
            .admin_token
            .as_ref()
            .map(|t| Sha256::digest(t.trim().as_bytes()).into()),
        limits: config.limits.clone(),
        page,
        campaign_json: campaign_json.into(),
        started: Instant::now(),
    }))
}

/// Serve until Ctrl-C or SIGTERM (a multi-threaded tokio runtime of its own). Prints
/// `fairdrop-claim listening on http://ADDR` to stdout once bound.
pub fn serve(config: ServeConfig) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ClaimError::Config(format!("cannot start the runtime: {e}")))?;
    rt.block_on(serve_until(config, shutdown_signal()))
}

/// Serve until `shutdown` completes, then stop taking connections and finish in-flight
/// requests (graceful shutdown).
pub async fn serve_until(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = open_app(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ClaimError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ClaimError::Config(format!("listener: {e}")))?;
    tracing::info!(
        %addr,
        campaign = %app.dist.campaign.id,
        fingerprint = %app.dist.fingerprint(),
        wallets = app.dist.wallets.len(),
        "claim service listening"
    );
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "fairdrop-claim listening on http://{addr}");
        let _ = out.flush();
    }
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| ClaimError::Config(format!("server: {e}")))?;
    tracing::info!("claim service stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// Structured logs to stderr (`RUST_LOG` filters; default `info`). For binaries; a library
/// user with its own subscriber skips this.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Where `fairdrop serve` puts the ledger by default: `<dist>/../claims.db`.
pub fn default_db(dist: &Path) -> PathBuf {
    dist.parent()
        .unwrap_or_else(|| Path::new("."))
        .join("claims.db")
}
