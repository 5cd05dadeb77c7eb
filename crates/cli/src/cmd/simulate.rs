use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fairdrop_sim::{simulate, OutputFormat, SimConfig};

use crate::Exit;

/// The seed's campaign, embedded so `simulate` can write a ready campaign beside the world.
pub const CAMPAIGN_TEMPLATE: &str = include_str!("../../../../campaigns/aleo-airdrop-2024.toml");

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
    let cfg = SimConfig {
        format,
        ..SimConfig::new(wallets, seed)
    };
    let s = simulate(&cfg, out).map_err(|e| Exit(2, format!("simulate: {e}")))?;
    write_campaign(out, format)?;
    Ok(s)
}

fn write_campaign(out: &Path, format: OutputFormat) -> Result<()> {
    let campaign = CAMPAIGN_TEMPLATE.replace(
        "events = [\"events.csv\"]",
        &format!("events = [\"{}\"]", format.file_name()),
    );
    fairdrop_core::fsutil::write_atomic(out.join("campaign.toml"), campaign.as_bytes())?;
    let lists = out.join("lists");
    std::fs::create_dir_all(&lists).with_context(|| lists.display().to_string())?;
    let truth =
        fairdrop_sim::load_truth(&out.join("truth.csv")).map_err(|e| Exit(2, e.to_string()))?;
    let exchanges: Vec<&str> = truth
        .iter()
        .filter(|t| t.kind == "exchange")
        .map(|t| t.address.as_str())
        .collect();
    // A simulated team: the first few organic wallets (in address order) stand in for team members.
    let team: Vec<&str> = truth
        .iter()
        .filter(|t| t.kind == "organic")
        .take(3)
        .map(|t| t.address.as_str())
        .collect();
    let list = |name: &str, head: &str, addrs: &[&str]| -> Result<()> {
        let mut s = format!("# {head}\n");
        for a in addrs {
            s.push_str(a);
            s.push('\n');
        }
        fairdrop_core::fsutil::write_atomic(lists.join(name), s.as_bytes())?;
        Ok(())
    };
    list("team.txt", "simulated team wallets", &team)?;
    list("treasury.txt", "no treasury wallets in the simulation", &[])?;
    list(
        "exchanges.txt",
        "exchange hot wallets of the simulation",
        &exchanges,
    )?;
    list(
        "sanctions.txt",
        "no sanctioned addresses in the simulation",
        &[],
    )?;
    Ok(())
}
