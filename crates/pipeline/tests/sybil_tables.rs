//! The sybil stage's tables (`fairdrop_policy::sql::emit_sybil`) computed by DuckDB and by
//! local Spark (session time zone not UTC) equal the native ones
//! (`fairdrop_pipeline::warehouse::write_tables`) row by row, amounts at powers of two and
//! at 38 digits included. Needs Python with `duckdb` and `pyspark` (installed by
//! `scripts/test`).

#[path = "../../policy/tests/common/mod.rs"]
mod common;

use std::path::Path;

use fairdrop_pipeline::warehouse::{table_paths, write_tables};
use fairdrop_policy::sql::{emit_sybil, Dialect, SybilSqlParams, SYBIL_TABLES};

fn params() -> SybilSqlParams {
    let f = common::params();
    SybilSqlParams {
        window_start: f.window_start,
        snapshot: f.snapshot,
        lockstep_window: 1800,
        bridge_actions: vec!["bridge_in".into(), "bridge_out".into()],
    }
}

/// Amounts where the double estimate of log2 is off or the bucket changes: powers of two and
/// their neighbours, up to the widest the queries take (38 digits).
fn edge_amounts() -> Vec<String> {
    let mut v = Vec::new();
    for k in [1u32, 2, 3, 52, 53, 54, 63, 64, 65, 100, 125] {
        let p = 1u128 << k;
        v.extend([p - 1, p, p + 1].map(|x| x.to_string()));
    }
    v.push("99999999999999999999999999999999999999".into());
    v.push("85070591730234615865843651857942052864".into()); // 2^126
    v
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v = vec![r.headers().unwrap().iter().map(String::from).collect()];
    v.extend(
        r.records()
            .map(|x| x.unwrap().iter().map(String::from).collect::<Vec<String>>()),
    );
    v
}

fn assert_same_tables(native: &Path, other: &Path, engine: &str) {
    let (n, o) = (table_paths(native), table_paths(other));
    for ((a, b), name) in n.iter().zip(&o).zip(SYBIL_TABLES) {
        let (ra, rb) = (rows(a), rows(b));
        assert!(ra.len() > 20, "{name}: {} rows", ra.len());
        assert_eq!(ra[0], rb[0], "{name}: same columns");
        for (i, (x, y)) in ra.iter().zip(&rb).enumerate() {
            assert_eq!(x, y, "{name} row {i}: native vs {engine}");
        }
        assert_eq!(ra.len(), rb.len(), "{name}: same rows");
    }
}

/// Write each query of `dialect` to `dir/<table>.sql`.
fn write_sql(d: Dialect, events: &Path, dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    std::fs::create_dir_all(dir).unwrap();
    emit_sybil(d, events.to_str().unwrap(), &params())
        .into_iter()
        .map(|(name, q)| {
            let p = dir.join(format!("{name}.sql"));
            std::fs::write(&p, q).unwrap();
            (name.to_string(), p)
        })
        .collect()
}

#[test]
fn duckdb_and_spark_compute_the_native_sybil_tables() {
    let dir = tempfile::tempdir().unwrap();
    let amounts = edge_amounts();
    let amounts: Vec<&str> = amounts.iter().map(|s| s.as_str()).collect();
    let events = common::world_with(dir.path(), &amounts);
    let native = dir.path().join("native");
    std::fs::create_dir_all(&native).unwrap();
    let counts = write_tables(&params(), &events, &native).unwrap();
    assert!(counts.iter().all(|&n| n > 20), "{counts:?}");
    let buckets: std::collections::BTreeSet<String> = rows(&table_paths(&native)[1])
        .into_iter()
        .skip(1)
        .map(|r| r[4].clone())
        .collect();
    assert!(buckets.len() > 40, "amount buckets exercised: {buckets:?}");

    // DuckDB.
    let duck = dir.path().join("duck");
    for (name, sql) in write_sql(Dialect::DuckDb, &events, &duck) {
        let out = duck.join(format!("{name}.csv"));
        let script = format!(
            "import duckdb\ncon = duckdb.connect()\nq = open({:?}).read().rstrip().rstrip(';')\ncon.execute(\"COPY (\" + q + \") TO '{}' (HEADER, DELIMITER ',')\")\n",
            sql.to_str().unwrap(),
            out.to_str().unwrap()
        );
        common::python(&script, "duckdb").unwrap_or_else(|e| panic!("DuckDB {name}:\n{e}"));
    }
    assert_same_tables(&native, &duck, "duckdb");

    // Spark, in a session time zone west of UTC.
    let spark = dir.path().join("spark");
    for (name, sql) in write_sql(Dialect::Spark, &events, &spark) {
        let out = spark.join(format!("{name}.csv"));
        common::run_spark(&sql, &out, "America/Los_Angeles")
            .unwrap_or_else(|e| panic!("Spark {name}:\n{e}"));
    }
    assert_same_tables(&native, &spark, "spark");
}
