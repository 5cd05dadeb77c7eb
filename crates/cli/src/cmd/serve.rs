use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;

use crate::Exit;

/// The claim service: eligibility, progress, proofs and claims over HTTP, with a durable ledger.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  FAIRDROP_ADMIN_TOKEN=… fairdrop serve --dist dist/run --key keys/campaign.key --listen 127.0.0.1:8080\n\n\
Checks the manifest signature (and that --key signed it) before serving; refuses to start otherwise. \
API: GET /v1/campaign, /v1/eligibility/{address}, /v1/progress/{address}, POST /v1/claims, \
GET /v1/claims/{address}, /v1/openapi.json, /healthz, /readyz, /metrics; the participant page at /."
)]
pub struct Args {
    /// Output folder of `fairdrop run` (manifest.json, proof stores, wallets.csv, …)
    #[arg(long)]
    pub dist: PathBuf,
    /// SQLite ledger (default: claims.db beside the dist folder)
    #[arg(long)]
    pub db: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The campaign's ed25519 secret key (signs receipts; must be the manifest's signer)
    #[arg(long)]
    pub key: PathBuf,
    /// Per-IP requests per second (0 = off)
    #[arg(long)]
    pub rate: Option<f64>,
}

pub fn run(a: Args) -> Result<()> {
    fairdrop_claim::init_logging();
    let db = a.db.unwrap_or_else(|| fairdrop_claim::default_db(&a.dist));
    let mut cfg = fairdrop_claim::ServeConfig::new(&a.dist, db, a.listen, &a.key);
    if let Some(r) = a.rate {
        cfg.limits.rate_per_sec = r;
    }
    fairdrop_claim::serve(cfg).map_err(|e| Exit(2, format!("serve: {e}")))?;
    Ok(())
}

/// Payout batches from the claim ledger, each accepted claim exported exactly once.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop payouts export --db dist/claims.db --out payouts/ --chain aleo\n\n\
For Aleo: payouts-<batch>.sh, a script Leo executes (`sh payouts-000001.sh --network mainnet --endpoint URL`: \
one `leo execute credits.aleo::transfer_public` per row, paid rows recorded in payouts-<batch>.sh.done and \
skipped on a re-run); for EVM and Solana: CSV."
)]
pub struct PayoutArgs {
    #[command(subcommand)]
    pub cmd: PayoutCmd,
}

#[derive(clap::Subcommand)]
pub enum PayoutCmd {
    /// Write the next batch of unexported payouts
    Export {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// aleo, evm or solana
        #[arg(long)]
        chain: String,
    },
}

pub fn payouts(a: PayoutArgs) -> Result<()> {
    match a.cmd {
        PayoutCmd::Export { db, out, chain } => {
            let chain = chain
                .parse()
                .map_err(|e| Exit(2, format!("--chain: {e}")))?;
            let s = fairdrop_claim::export_payouts(&db, &out, chain)
                .map_err(|e| Exit(2, e.to_string()))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "batch": s.batch, "rows": s.rows, "total": s.total, "path": s.path.map(|p| p.display().to_string())
                }))?
            );
        }
    }
    Ok(())
}

/// After the deadline: what was not claimed, to return to the treasury.
#[derive(clap::Args)]
#[command(after_help = "Example:\n  fairdrop clawback-report --db dist/claims.db --dist dist/run")]
pub struct ClawbackArgs {
    #[arg(long)]
    pub db: PathBuf,
    #[arg(long)]
    pub dist: PathBuf,
}

pub fn clawback(a: ClawbackArgs) -> Result<()> {
    let r = fairdrop_claim::clawback_report(&a.db, &a.dist).map_err(|e| Exit(2, e.to_string()))?;
    println!("{}", serde_json::to_string_pretty(&r)?);
    Ok(())
}
