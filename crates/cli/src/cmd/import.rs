use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use fairdrop_ingest::aleo::{Network, Rules};
use fairdrop_ingest::import::{import_aleo, BlockSource, ImportError, ImportOptions, NodeOptions};

use crate::Exit;

/// Import real chain data as canonical activity (docs/import.md)
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop import aleo --node https://api.explorer.provable.com/v1 --from 5000000 --to 5010000 --out work/aleo\n\n\
Then list work/aleo/activity.csv in the campaign's [inputs] events."
)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    Aleo(AleoArgs),
}

/// Aleo blocks from a snarkOS node's REST API or from saved block JSON → DIR/activity.csv
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  fairdrop import aleo --node https://api.explorer.provable.com/v1 --network mainnet --from 5000000 --to 5010000 --out work/aleo\n  \
fairdrop import aleo --blocks saved-blocks/ --campaign campaigns/aleo-airdrop-2024.toml --out work/aleo\n\n\
Writes DIR/activity.csv (canonical columns: `ingest` and `run` read it as it is), \
DIR/quarantine.csv (height,tx_id,rule,detail,raw) and DIR/import-summary.json. A killed node \
import started again with the same arguments goes on from DIR/import.checkpoint; the result is \
byte for byte an uninterrupted import's. Exit 2 when a file cannot be read or the node does not \
answer after every retry (nothing final is written)."
)]
pub struct AleoArgs {
    /// snarkOS REST endpoint, without the network (`…/v1`, `http://127.0.0.1:3030`)
    #[arg(long, conflicts_with = "blocks", required_unless_present = "blocks")]
    node: Option<String>,
    /// Saved block JSON: files or folders (.json/.jsonl; a block, an array of blocks, or one per line)
    #[arg(long, num_args = 1..)]
    blocks: Vec<PathBuf>,
    #[arg(long, default_value = "mainnet", value_parser = ["mainnet", "testnet", "canary"])]
    network: String,
    /// First height (inclusive)
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Last height (inclusive); default the node's latest, or the last block in the files
    #[arg(long)]
    to: Option<u64>,
    #[arg(long)]
    out: PathBuf,
    /// Calls to the node in flight at once (50 blocks each)
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Attempts per call (429, 5xx, timeouts and unreadable bodies are retried with backoff)
    #[arg(long, default_value_t = 8)]
    attempts: u32,
    /// Seconds before a call times out
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// First wait before a retry, in milliseconds (doubled per attempt, at most 30 s; a 429's
    /// Retry-After wins when longer)
    #[arg(long, default_value_t = 500)]
    backoff_ms: u64,
    /// A campaign file whose `[[programs]]` table maps ecosystem programs' transitions
    /// (token registry, name service, DEX, bridge) beyond credits.aleo's built-in rules
    #[arg(long)]
    campaign: Option<PathBuf>,
    /// No progress bar
    #[arg(long)]
    quiet: bool,
}

pub fn run(a: Args) -> Result<()> {
    match a.cmd {
        Cmd::Aleo(a) => aleo(a),
    }
}

fn aleo(a: AleoArgs) -> Result<()> {
    let network = Network::parse(&a.network)
        .ok_or_else(|| Exit(2, format!("unknown network {:?}", a.network)))?;
    let source = match &a.node {
        Some(url) => {
            let mut n = NodeOptions::new(url);
            n.concurrency = a.concurrency.max(1);
            n.attempts = a.attempts.max(1);
            n.timeout = Duration::from_secs(a.timeout.max(1));
            n.backoff = Duration::from_millis(a.backoff_ms);
            BlockSource::Node(n)
        }
        None => BlockSource::Files(a.blocks.clone()),
    };
    let opts = ImportOptions {
        network,
        from: a.from,
        to: a.to,
        rules: match &a.campaign {
            Some(p) => fairdrop_policy::campaign::aleo_rules_of(p)
                .map_err(|e| Exit(2, format!("invalid campaign: {e}")))?,
            None => Rules::credits(),
        },
        progress: !a.quiet,
    };
    let t = std::time::Instant::now();
    let s = import_aleo(&source, &a.out, &opts).map_err(|e| match e {
        ImportError::Args(m) => Exit(2, format!("import aleo: {m}")),
        e => Exit(2, format!("import aleo: {e}")),
    })?;
    let c = &s.counts;
    eprintln!(
        "import aleo: blocks {}..={} ({} blocks{}), {} transactions ({} rejected, {} deployments), {} transitions ({} private), {} rows, {} quarantined in {:.2}s → {}",
        s.from,
        s.to,
        c.blocks,
        if s.resumed { ", resumed" } else { "" },
        c.transactions,
        c.rejected_transactions,
        c.deployments,
        c.transitions,
        c.private_transitions,
        c.rows,
        c.quarantined,
        t.elapsed().as_secs_f64(),
        a.out.join("activity.csv").display()
    );
    let mut unmapped: Vec<_> = c.unmapped.iter().collect();
    unmapped.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
    for (k, n) in unmapped.iter().take(10) {
        eprintln!("  no rule {n:>8}  {k}");
    }
    Ok(())
}
