use std::path::PathBuf;

use anyhow::Result;
use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::input::SybilInput;

use crate::Exit;

/// Find sybil clusters from canonical events or plain `from,to` transfer lists.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  fairdrop sybil --transfers ../shared/eval/hop/transfers/*.csv.gz \
--hubs ../shared/eval/hop/hubs/*.txt --allow ../shared/eval/hop/hubs/allow.txt \
--candidates ../shared/eval/hop/candidates.txt --out clusters.csv\n  \
fairdrop sybil --events work/events.parquet --hubs hubs.txt --out clusters.csv"
)]
pub struct Args {
    /// Canonical events (Parquet from `fairdrop ingest`)
    #[arg(long, num_args = 1.., conflicts_with = "transfers", required_unless_present = "transfers")]
    pub events: Vec<PathBuf>,
    /// `from,to` CSV or CSV.gz transfer lists
    #[arg(long, num_args = 1..)]
    pub transfers: Vec<PathBuf>,
    /// Hub lists (exchanges, deposit addresses, contracts, bridges): one address a line
    #[arg(long, num_args = 1..)]
    pub hubs: Vec<PathBuf>,
    /// Addresses kept in the graph although a hub list names them
    #[arg(long, num_args = 1..)]
    pub allow: Vec<PathBuf>,
    /// The wallets a verdict is about (default: all)
    #[arg(long, num_args = 1..)]
    pub candidates: Vec<PathBuf>,
    /// Addresses or cluster ids cleared by hand
    #[arg(long)]
    pub appeals: Option<PathBuf>,
    /// Minimum cluster size counted on candidates
    #[arg(long, default_value_t = 8)]
    pub min_cluster_size: usize,
    /// Reproduce the Hop team's method instead of fairdrop's detector
    #[arg(long)]
    pub hop_method: bool,
    /// Output clusters.csv
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let t = std::time::Instant::now();
    let fail = |e: fairdrop_sybil::SybilError| Exit(2, e.to_string());
    let mut input = SybilInput::new();
    if !a.transfers.is_empty() {
        fairdrop_sybil::load::load_transfers(&mut input, &a.transfers).map_err(fail)?;
    }
    for p in &a.events {
        for b in fairdrop_table::EventReader::open(p).map_err(|e| Exit(2, e.to_string()))? {
            let b = b.map_err(|e| Exit(2, e.to_string()))?;
            for i in 0..b.len() {
                let r = b.row(i);
                let addr = fairdrop_core::Address::parse_trusted(r.address)
                    .map_err(|e| Exit(2, format!("{}: {e}", p.display())))?;
                let cp = match r.counterparty {
                    Some(c) => Some(
                        fairdrop_core::Address::parse_trusted(c)
                            .map_err(|e| Exit(2, format!("{}: {e}", p.display())))?,
                    ),
                    None => None,
                };
                input.add_event(&fairdrop_core::Event {
                    timestamp: r.timestamp,
                    chain: r.chain.to_string(),
                    tx_id: None,
                    address: addr,
                    action: r.action.to_string(),
                    counterparty: cp,
                    amount: r.amount.and_then(|x| x.parse().ok()),
                    asset: r.asset.map(String::from),
                    program: r.program.map(String::from),
                });
            }
        }
    }
    fairdrop_sybil::load::load_hubs(&mut input, &a.hubs).map_err(fail)?;
    fairdrop_sybil::load::load_allow(&mut input, &a.allow).map_err(fail)?;
    fairdrop_sybil::load::load_candidates(&mut input, &a.candidates).map_err(fail)?;
    let appeals = match &a.appeals {
        Some(p) => fairdrop_sybil::output::read_appeals(p).map_err(fail)?,
        None => Appeals::default(),
    };
    let base = if a.hop_method {
        Config::hop_method()
    } else {
        Config::default()
    };
    let cfg = Config {
        min_cluster_candidates: a.min_cluster_size,
        ..base
    };
    let report = detect(&input, &cfg, &appeals);
    fairdrop_sybil::output::write_clusters_csv(&a.out, &report, &input.wallets).map_err(fail)?;
    eprintln!(
        "sybil: {} wallets, {} transfers, {} hubs (+{} detected) → {} clusters, {} flagged in {:.2}s → {}",
        report.stats.wallets,
        report.stats.transfers,
        report.stats.listed_hubs,
        report.stats.auto_hubs,
        report.clusters.len(),
        report.verdicts.len(),
        t.elapsed().as_secs_f64(),
        a.out.display()
    );
    Ok(())
}

/// Precision, recall and F1 of a clusters.csv against labels.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop sybil-eval --pred clusters.csv --labels ../shared/eval/hop/labels-dev.csv\n\n\
Labels: `address,label` with label sybil or clean. The figures are also given on two halves \
split by address hash, to show a setting is not fitted to one half."
)]
pub struct EvalArgs {
    #[arg(long)]
    pub pred: PathBuf,
    #[arg(long)]
    pub labels: PathBuf,
}

pub fn eval(a: EvalArgs) -> Result<()> {
    let (all, ha, hb) = fairdrop_sybil::eval::evaluate_files(&a.pred, &a.labels)
        .map_err(|e| Exit(2, e.to_string()))?;
    println!(
        "{:<8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}",
        "set", "precision", "recall", "f1", "tp", "fp", "fn"
    );
    for (n, s) in [("all", all), ("half-a", ha), ("half-b", hb)] {
        println!(
            "{:<8} {:>9.4} {:>9.4} {:>9.4} {:>8} {:>8} {:>8}",
            n, s.precision, s.recall, s.f1, s.true_pos, s.false_pos, s.false_neg
        );
    }
    Ok(())
}
