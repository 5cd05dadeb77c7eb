use std::path::PathBuf;

use anyhow::Result;
use fairdrop_ingest::mapped::{Mapping, MappingSpec, PRESETS};
use fairdrop_ingest::{ingest_inputs, IngestError, IngestOptions, Input};

use crate::Exit;

/// Turn activity exports into the canonical table (events.parquet), validating every row.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  fairdrop ingest exports/aleo-*.csv.gz zealy.jsonl --out work/\n  \
fairdrop ingest dune-transactions.csv --preset dune.ethereum.transactions --out work/\n  \
fairdrop ingest faucet.csv --mapping faucet-mapping.toml --out work/\n\n\
Files in other tools' columns are read through a column mapping: --preset (see --list-presets) \
or --mapping, a TOML file of the keys of a campaign's [[inputs.sources]] without `file` \
(docs/import.md).\n\
Writes DIR/events.parquet (sorted by address, then time), DIR/quarantine.csv \
(source,line,rule,raw,detail) and DIR/ingest-summary.json.\n\
Exit 0 when it ran (bad rows are quarantined and reported), 1 with --strict if any row was \
quarantined, 2 when an input cannot be read at all (nothing is written)."
)]
pub struct Args {
    /// Input files: .csv, .jsonl/.ndjson (each optionally .gz), .parquet
    #[arg(required_unless_present = "list_presets")]
    pub inputs: Vec<PathBuf>,
    /// Output folder
    #[arg(long, required_unless_present = "list_presets")]
    pub out: Option<PathBuf>,
    /// Read every input through this built-in column mapping
    #[arg(long, conflicts_with = "mapping")]
    pub preset: Option<String>,
    /// Read every input through the column mapping in this TOML file
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Print the built-in column mappings and exit
    #[arg(long)]
    pub list_presets: bool,
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

/// The mapping of `--preset` / `--mapping`, if any.
fn mapping(a: &Args) -> Result<Option<std::sync::Arc<Mapping>>> {
    let spec = match (&a.preset, &a.mapping) {
        (Some(p), _) => MappingSpec {
            preset: Some(p.clone()),
            ..Default::default()
        },
        (None, Some(f)) => {
            let m = fairdrop_policy::campaign::load_mapping(f)
                .map_err(|e| Exit(2, format!("invalid mapping: {e}")))?;
            return Ok(Some(std::sync::Arc::new(m)));
        }
        (None, None) => return Ok(None),
    };
    let m = Mapping::from_spec(&spec).map_err(|e| Exit(2, format!("--preset: {e}")))?;
    Ok(Some(std::sync::Arc::new(m)))
}

pub fn run(a: Args) -> Result<()> {
    if a.list_presets {
        for (name, what) in PRESETS {
            println!("{name:<42} {what}");
        }
        return Ok(());
    }
    let out = a.out.clone().expect("clap requires --out");
    let m = mapping(&a)?;
    let inputs: Vec<Input> = a
        .inputs
        .iter()
        .map(|p| Input {
            path: p.clone(),
            mapping: m.clone(),
        })
        .collect();
    let opts = IngestOptions {
        batch_rows: a.batch_rows,
        progress: !a.quiet,
        hash_inputs: false,
    };
    let t = std::time::Instant::now();
    let s = match ingest_inputs(&inputs, &out, &opts) {
        Ok(s) => s,
        Err(e @ IngestError::File(_)) | Err(e @ IngestError::NoInputs) => {
            return Err(Exit(2, format!("cannot ingest: {e}")).into())
        }
        Err(e) => return Err(Exit(2, format!("ingest failed: {e}")).into()),
    };
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "ingest: {} rows read{}, {} accepted, {} duplicates, {} quarantined, {} addresses in {:.2}s ({:.0} rows/s) → {}",
        s.rows_read,
        if s.skipped > 0 { format!(" ({} skipped by the mapping)", s.skipped) } else { String::new() },
        s.accepted,
        s.duplicates,
        s.quarantined,
        s.distinct_addresses,
        secs,
        s.rows_read as f64 / secs.max(1e-9),
        out.display()
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
                out.join("quarantine.csv").display()
            ),
        )
        .into());
    }
    Ok(())
}
