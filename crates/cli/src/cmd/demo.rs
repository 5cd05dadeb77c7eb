use std::path::PathBuf;

use anyhow::Result;

/// Simulate an Aleo ecosystem and run the whole pipeline on it into dist/.
#[derive(clap::Args)]
#[command(after_help = "Example:\n  fairdrop demo --wallets 20000 --out dist")]
pub struct Args {
    /// Simulated wallets
    #[arg(long, default_value_t = 20_000)]
    pub wallets: u64,
    /// Random seed of the simulated world
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Output folder
    #[arg(long, default_value = "dist")]
    pub out: PathBuf,
}

pub fn run(_a: Args) -> Result<()> {
    anyhow::bail!("demo: the simulator is not wired in yet")
}
