use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::Result;

use crate::Exit;

/// Simulate an Aleo ecosystem and run the seed's campaign on it end to end into dist/.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop demo                      # 20,000 wallets into dist/\n  fairdrop demo --wallets 1000000 --out /tmp/big\n\n\
dist/world/ holds the simulated inputs (events, truth, hubs, campaign.toml, lists/), dist/run/ \
the campaign's outputs. The summary compares the sybil verdicts with the simulation's truth."
)]
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
    /// No progress bars
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<()> {
    let t = std::time::Instant::now();
    let world = a.out.join("world");
    let s = super::simulate::world(&world, a.wallets, a.seed, "csv")?;
    println!(
        "simulated  {} wallets, {} events in {:.2}s → {}",
        s.wallets,
        s.events,
        t.elapsed().as_secs_f64(),
        world.display()
    );
    let c = super::run::load(&world.join("campaign.toml"))?;
    let t = std::time::Instant::now();
    let run_dir = a.out.join("run");
    let opts = fairdrop_pipeline::RunOptions {
        out: Some(run_dir.clone()),
        progress: !a.quiet,
        batch_rows: None,
    };
    let rs = fairdrop_pipeline::run(&c, &opts).map_err(|e| Exit(2, format!("run failed: {e}")))?;
    super::run::print_summary(&c, &rs, t.elapsed().as_secs_f64());

    // How the sybil stage did against the simulation's truth (among wallets that passed the gates).
    let truth =
        fairdrop_sim::load_truth(&world.join("truth.csv")).map_err(|e| Exit(2, e.to_string()))?;
    let sybils: HashSet<&str> = truth
        .iter()
        .filter(|t| t.label == fairdrop_sim::Label::Sybil)
        .map(|t| t.address.as_str())
        .collect();
    let mut flagged = HashSet::new();
    let mut r = csv::Reader::from_path(run_dir.join("clusters.csv"))?;
    for rec in r.records() {
        let rec = rec?;
        if rec.get(5).is_some_and(|a| a != "cleared") {
            flagged.insert(rec[0].to_string());
        }
    }
    let mut w = csv::Reader::from_path(run_dir.join("wallets.csv"))?;
    let (mut tp, mut fp, mut fn_, mut paid_sybils) = (0u64, 0u64, 0u64, 0u64);
    for rec in w.records() {
        let rec = rec?;
        let addr = &rec[0];
        let is_sybil = sybils.contains(addr);
        let is_flagged = flagged.contains(addr);
        let gated_out = rec[4]
            .split(';')
            .any(|c| c.starts_with("gate.") || c.starts_with("excluded."));
        match (is_sybil, is_flagged) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) if !gated_out => fn_ += 1,
            _ => {}
        }
        if is_sybil && &rec[1] == "true" {
            paid_sybils += 1;
        }
    }
    let p = tp as f64 / (tp + fp).max(1) as f64;
    let rcl = tp as f64 / (tp + fn_).max(1) as f64;
    println!("vs truth   sybil precision {p:.3}, recall {rcl:.3} (among wallets past the gates); {paid_sybils} sybil wallets still eligible");
    Ok(())
}
