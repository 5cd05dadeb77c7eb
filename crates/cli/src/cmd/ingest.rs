use std::path::PathBuf;

use anyhow::Result;
use fairdrop_ingest::{ingest, IngestError, IngestOptions};

use crate::Exit;

/// Turn activity exports into the canonical table (events.parquet), validating every row.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop ingest exports/aleo-*.csv.gz zealy.jsonl --out work/\n\n\
Writes DIR/events.parquet (sorted by address, then time), DIR/quarantine.csv \
(source,line,rule,raw,detail) and DIR/ingest-summary.json.\n\
Exit 0 when it ran (bad rows are quarantined and reported), 1 with --strict if any row was \
quarantined, 2 when an input cannot be read at all (nothing is written)."
)]
pub struct Args {
    /// Input files: .csv, .jsonl/.ndjson (each optionally .gz), .parquet
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder
    #[arg(long)]
    pub out: PathBuf,
    /// Exit 1 if any row was quarantined
    #[arg(long)]
    pub strict: bool,
    /// Rows held in memory before a sorted run is spilled to disk (about 110 bytes a row;
    /// larger batches were slower here, as fresh memory costs more than merging more runs)
    #[arg(long, default_value_t = fairdrop_ingest::IngestOptions::default().batch_rows)]
    pub batch_rows: usize,
    /// No progress bar
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<()> {
    let opts = IngestOptions {
        batch_rows: a.batch_rows,
        progress: !a.quiet,
        hash_inputs: false,
    };
    let t = std::time::Instant::now();
    let s = match ingest(&a.inputs, &a.out, &opts) {
        Ok(s) => s,
        Err(e @ IngestError::File(_)) | Err(e @ IngestError::NoInputs) => {
            return Err(Exit(2, format!("cannot ingest: {e}")).into())
        }
        Err(e) => return Err(Exit(2, format!("ingest failed: {e}")).into()),
    };
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "ingest: {} rows read, {} accepted, {} duplicates, {} quarantined, {} addresses in {:.2}s ({:.0} rows/s) → {}",
        s.rows_read,
        s.accepted,
        s.duplicates,
        s.quarantined,
        s.distinct_addresses,
        secs,
        s.rows_read as f64 / secs.max(1e-9),
        a.out.display()
    );
    for (rule, n) in &s.quarantined_by_rule {
        eprintln!("  quarantined {n:>8}  {rule}");
    }
    if a.strict && s.quarantined > 0 {
        return Err(Exit(
            1,
            format!(
                "--strict: {} rows quarantined (see {})",
                s.quarantined,
                a.out.join("quarantine.csv").display()
            ),
        )
        .into());
    }
    Ok(())
}
