//! The emitted DuckDB SQL computes exactly the native features, wallet by wallet.
//! Needs Python with the `duckdb` package (installed by `scripts/test`).

mod common;

use std::path::Path;

use common::{assert_same, native_csv, params, world, world_with};
use fairdrop_policy::features::{extract_pinned, Pass1};
use fairdrop_policy::sql::{emit, Dialect};

/// The query's rows as CSV, or DuckDB's error.
fn duckdb(events: &Path, dir: &Path) -> Result<String, String> {
    let sql_path = dir.join("features.sql");
    std::fs::write(
        &sql_path,
        emit(Dialect::DuckDb, events.to_str().unwrap(), &params()),
    )
    .unwrap();
    let out_csv = dir.join("duck.csv");
    let script = format!(
        "import duckdb, sys\ncon = duckdb.connect()\nq = open({:?}).read().rstrip().rstrip(';')\ncon.execute(\"COPY (\" + q + \") TO '{}' (HEADER, DELIMITER ',')\")\n",
        sql_path.to_str().unwrap(),
        out_csv.to_str().unwrap()
    );
    common::python(&script, "duckdb")?;
    Ok(std::fs::read_to_string(&out_csv).unwrap())
}

#[test]
fn duckdb_sql_equals_native_features() {
    let dir = tempfile::tempdir().unwrap();
    // Wei-scale amounts too: sums and time weights beyond 64 bits, capped as natively.
    let events = world_with(
        dir.path(),
        &["1000000000000000000000000", "98765432109876543210987"],
    );
    let native = native_csv(&events, &params());
    let duck = duckdb(&events, dir.path()).unwrap_or_else(|e| panic!("DuckDB failed:\n{e}"));
    assert_same(&native, &duck, "duckdb");
}

/// An amount of 39 digits (the schema allows up to 2^128 - 1) does not fit DuckDB's HUGEINT nor
/// Spark's DECIMAL(38,0): the query stops with an error that names the column, never a wrong
/// number.
#[test]
fn duckdb_refuses_amounts_beyond_38_digits_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let events = world_with(dir.path(), &["340282366920938463463374607431768211455"]);
    let e = duckdb(&events, dir.path()).unwrap_err();
    assert!(
        e.contains("fairdrop: column amount") && e.contains("38 digits"),
        "{e}"
    );
}

/// Pass 1 (what wallets received) runs beside pass 2; whether pass 2 takes its result before
/// the first wallet, only at the end (every wallet waits, partially computed) or as soon as
/// it is ready, the features are the same, wallet by wallet, in the same order.
#[test]
fn features_do_not_depend_on_when_the_transfers_pass_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let events = world(dir.path());
    let p = params();
    let run = |when: Pass1| {
        let mut out = Vec::new();
        extract_pinned(&events, &p, when, &mut |f| out.push(f)).unwrap();
        out
    };
    let first = run(Pass1::JoinFirst);
    assert!(first.len() > 30);
    assert!(
        first.iter().any(|f| !f.funder.is_empty()),
        "the world has received transfers, so pass 1 matters"
    );
    assert_eq!(first, run(Pass1::JoinLast));
    assert_eq!(first, run(Pass1::Overlap));
}
