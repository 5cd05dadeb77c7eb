use std::path::PathBuf;

use anyhow::Result;
use fairdrop_policy::campaign::Campaign;

use crate::Exit;

/// Run a campaign end to end: ingest → score → sybil → allocate → commit → report.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop run --campaign campaigns/aleo-airdrop-2024.toml\n\n\
The output folder (the campaign's outputs.dir unless --out) appears only when every stage \
succeeded; a failed run leaves the previous one untouched."
)]
pub struct Args {
    /// Campaign file (TOML)
    #[arg(long)]
    pub campaign: PathBuf,
    /// Output folder (default: the campaign's outputs.dir, relative to the campaign file)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bars
    #[arg(long)]
    pub quiet: bool,
}

pub fn load(path: &std::path::Path) -> Result<Campaign> {
    Campaign::load(path).map_err(|e| Exit(2, format!("invalid campaign: {e}")).into())
}

pub fn run(a: Args) -> Result<()> {
    let c = load(&a.campaign)?;
    let t = std::time::Instant::now();
    let opts = fairdrop_pipeline::RunOptions {
        out: a.out,
        progress: !a.quiet,
        batch_rows: None,
    };
    let s = fairdrop_pipeline::run(&c, &opts).map_err(|e| Exit(2, format!("run failed: {e}")))?;
    print_summary(&c, &s, t.elapsed().as_secs_f64());
    Ok(())
}

pub fn print_summary(c: &Campaign, s: &fairdrop_pipeline::RunSummary, secs: f64) {
    println!("campaign   {} ({})", c.name, c.id);
    match &c.features {
        Some(f) => println!("features   {} (computed elsewhere; no events)", f.display()),
        None => println!(
            "events     {} read, {} accepted, {} quarantined",
            s.rows_read, s.rows_accepted, s.rows_quarantined
        ),
    }
    println!(
        "wallets    {} scored, {} passed the gates",
        s.wallets_scored, s.passed_gates
    );
    println!(
        "sybil      {} wallets in {} clusters",
        s.sybil_flagged, s.sybil_clusters
    );
    println!("eligible   {}", s.eligible);
    let stages: Vec<String> = s
        .stage_seconds
        .iter()
        .map(|(n, t)| format!("{n} {t:.2}s"))
        .collect();
    println!("time       {secs:.2}s ({})", stages.join(", "));
    println!("output     {}", s.out);
}
