use std::path::PathBuf;

use anyhow::{Context, Result};
use fairdrop_policy::sql::Dialect;

use crate::Exit;

/// Per-wallet features of a campaign: computed natively, or emitted as SQL for a warehouse.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  fairdrop features --campaign c.toml --events work/events.parquet --out features.csv\n  \
fairdrop features --campaign c.toml --emit-sql duckdb --events work/events.parquet > features.sql\n\n\
Every feature is listed with its meaning by `fairdrop features --list`."
)]
pub struct Args {
    /// Campaign file (snapshot, window and decimals come from it)
    #[arg(long, required_unless_present = "list")]
    pub campaign: Option<PathBuf>,
    /// Canonical events (events.parquet from `fairdrop ingest`), or a table name for BigQuery
    #[arg(long, required_unless_present = "list")]
    pub events: Option<String>,
    /// Emit SQL for duckdb, spark or bigquery instead of computing
    #[arg(long, value_name = "DIALECT")]
    pub emit_sql: Option<String>,
    /// Output CSV (computing natively)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// List every feature with its type and meaning
    #[arg(long)]
    pub list: bool,
}

pub fn run(a: Args) -> Result<()> {
    if a.list {
        for d in fairdrop_policy::features::definitions() {
            println!(
                "{:<24} {:<6} {}",
                d.name,
                format!("{:?}", d.kind).to_lowercase(),
                d.doc
            );
        }
        return Ok(());
    }
    let c = super::run::load(a.campaign.as_deref().expect("required"))?;
    let events = a.events.expect("required");
    if let Some(d) = a.emit_sql {
        let d: Dialect = d.parse().map_err(|e: String| Exit(2, e))?;
        print!(
            "{}",
            fairdrop_policy::sql::emit(d, &events, &c.feature_params())
        );
        return Ok(());
    }
    let out = a
        .out
        .ok_or_else(|| Exit(2, "--out FILE is needed to compute features".into()))?;
    let f = fairdrop_core::fsutil::AtomicFile::create(&out)
        .with_context(|| out.display().to_string())?;
    let mut w = csv::Writer::from_writer(f);
    w.write_record(fairdrop_policy::features::csv_header())?;
    let mut err = None;
    let n = fairdrop_policy::features::extract(events.as_ref(), &c.feature_params(), &mut |f| {
        if let Err(e) = w.write_record(fairdrop_policy::features::csv_record(&f)) {
            err.get_or_insert(e);
        }
    })
    .map_err(|e| Exit(2, e.to_string()))?;
    if let Some(e) = err {
        return Err(e.into());
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("{}", e.error()))?
        .commit()?;
    eprintln!("features: {n} wallets → {}", out.display());
    Ok(())
}
