use std::path::PathBuf;

use anyhow::{Context, Result};
use fairdrop_policy::sql::Dialect;

use crate::Exit;

/// Per-wallet features of a campaign: computed natively, or emitted as SQL for a warehouse.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  fairdrop features --campaign c.toml --events work/events.parquet --out features.csv\n  \
fairdrop features --campaign c.toml --emit-sql duckdb --events work/events.parquet > features.sql\n  \
fairdrop features --campaign c.toml --emit-sql spark --events /data/events.parquet --sql-dir sql/\n  \
fairdrop features --campaign c.toml --events work/events.parquet --sybil-tables tables/\n\n\
Every feature is listed with its meaning by `fairdrop features --list`. A campaign runs from\n\
the results with `[inputs] features = ...` and `sybil_tables = ...` (docs/warehouse.md)."
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
    /// With --emit-sql: write every query of warehouse mode into DIR (features.sql and the
    /// sybil stage's sybil-wallets.sql, sybil-activity.sql, sybil-bridges.sql) instead of
    /// printing the features query, e.g. `--sql-dir sql/`
    #[arg(long, value_name = "DIR", requires = "emit_sql")]
    pub sql_dir: Option<PathBuf>,
    /// Compute the sybil stage's three tables natively into DIR (sybil-wallets.csv,
    /// sybil-activity.csv, sybil-bridges.csv), as the emitted SQL computes them, e.g. to check a
    /// warehouse's results: `--sybil-tables tables/`
    #[arg(long, value_name = "DIR", conflicts_with = "emit_sql")]
    pub sybil_tables: Option<PathBuf>,
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
        let features = fairdrop_policy::sql::emit(d, &events, &c.feature_params());
        let Some(dir) = a.sql_dir else {
            print!("{features}");
            return Ok(());
        };
        std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
        let params = fairdrop_pipeline::warehouse::sql_params(&c);
        let mut all = vec![("features", features)];
        all.extend(fairdrop_policy::sql::emit_sybil(d, &events, &params));
        for (name, q) in all {
            let p = dir.join(format!("{name}.sql"));
            fairdrop_core::fsutil::write_atomic(&p, q.as_bytes())
                .with_context(|| p.display().to_string())?;
            eprintln!("{}", p.display());
        }
        return Ok(());
    }
    if let Some(dir) = &a.sybil_tables {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        let params = fairdrop_pipeline::warehouse::sql_params(&c);
        let n = fairdrop_pipeline::warehouse::write_tables(&params, events.as_ref(), dir)
            .map_err(|e| Exit(2, e.to_string()))?;
        for (p, n) in fairdrop_pipeline::warehouse::table_paths(dir).iter().zip(n) {
            eprintln!("{}: {n} rows", p.display());
        }
        if a.out.is_none() {
            return Ok(());
        }
    }
    let out = a.out.ok_or_else(|| {
        Exit(
            2,
            "--out FILE is needed to compute features (or --sybil-tables DIR, --emit-sql DIALECT)"
                .into(),
        )
    })?;
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
