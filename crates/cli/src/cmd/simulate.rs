use std::path::{Path, PathBuf};

use anyhow::Result;
use fairdrop_sim::OutputFormat;

use crate::Exit;

/// Simulate a deterministic Aleo ecosystem: organic users, exchanges, friend groups, people with
/// two wallets, and sybil farms of four styles.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop simulate --wallets 100000 --seed 7 --out world/\n  fairdrop run --campaign world/campaign.toml\n\n\
Writes DIR/events.csv (or .parquet), truth.csv (address,label,farm_id,kind), hubs.txt, \
sim-summary.json, and a ready campaign for the seed's airdrop (campaign.toml + lists/)."
)]
pub struct Args {
    /// Participant wallets (organic + sybil)
    #[arg(long, default_value_t = 10_000)]
    pub wallets: u64,
    /// Random seed: the same seed gives byte-identical files
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder
    #[arg(long)]
    pub out: PathBuf,
    /// Events format: csv or parquet
    #[arg(long, default_value = "csv")]
    pub format: String,
}

pub fn run(a: Args) -> Result<()> {
    let t = std::time::Instant::now();
    let s = world(&a.out, a.wallets, a.seed, &a.format)?;
    eprintln!(
        "simulate: {} wallets, {} events in {:.2}s → {} (campaign: {})",
        s.wallets,
        s.events,
        t.elapsed().as_secs_f64(),
        a.out.display(),
        a.out.join("campaign.toml").display()
    );
    for (k, n) in &s.by_kind {
        eprintln!("  {n:>9}  {k}");
    }
    Ok(())
}

/// Simulate into `out` and write the campaign files beside it.
pub fn world(
    out: &Path,
    wallets: u64,
    seed: u64,
    format: &str,
) -> Result<fairdrop_sim::SimSummary> {
    let format: OutputFormat = format.parse().map_err(|e: String| Exit(2, e))?;
    Ok(fairdrop_pipeline::world::world(out, wallets, seed, format)
        .map_err(|e| Exit(2, e.to_string()))?)
}
