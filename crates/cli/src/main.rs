//! The `fairdrop` binary: a thin layer of clap subcommands over the pipeline crates.
use clap::Parser;

#[derive(Parser)]
#[command(name = "fairdrop", version, about = "An airdrop engine: ingest, score, filter sybils, allocate, commit, claim.")]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _ = Cli::parse();
    Ok(())
}
