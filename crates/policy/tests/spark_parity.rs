//! The emitted Spark SQL computes exactly the native features, wallet by wallet, on a local
//! Spark (PyPI `pyspark`, installed by `scripts/test`; Java 17) whose session time zone is not
//! UTC, so nothing may depend on it.

mod common;

use std::path::Path;

use common::{assert_same, native_csv, params, run_spark, world_with};
use fairdrop_policy::sql::{emit, Dialect};

/// Run the emitted query on local Spark in `tz`: its rows as CSV, or Spark's error.
fn spark(events: &Path, dir: &Path, tz: &str) -> Result<String, String> {
    let sql_path = dir.join("features-spark.sql");
    std::fs::write(
        &sql_path,
        emit(Dialect::Spark, events.to_str().unwrap(), &params()),
    )
    .unwrap();
    let out_csv = dir.join("spark.csv");
    run_spark(&sql_path, &out_csv, tz)?;
    Ok(std::fs::read_to_string(&out_csv).unwrap())
}

#[test]
fn spark_sql_equals_native_features_in_a_non_utc_session() {
    let dir = tempfile::tempdir().unwrap();
    let events = world_with(
        dir.path(),
        &["1000000000000000000000000", "98765432109876543210987"],
    );
    let native = native_csv(&events, &params());
    let got = spark(&events, dir.path(), "America/Los_Angeles")
        .unwrap_or_else(|e| panic!("Spark failed:\n{e}"));
    assert_same(&native, &got, "spark");
    // An amount of 39 digits: refused by name, not read as 0.
    let dir = tempfile::tempdir().unwrap();
    let events = world_with(dir.path(), &["340282366920938463463374607431768211455"]);
    let e = spark(&events, dir.path(), "UTC").unwrap_err();
    assert!(
        e.contains("fairdrop: column amount") && e.contains("38 digits"),
        "{}",
        &e[e.len().saturating_sub(3000)..]
    );
}

/// A features file from elsewhere is checked as it is read: header, order, every value.
#[test]
fn features_files_are_checked_with_line_and_column() {
    use fairdrop_policy::features::{csv_header, read_csv};
    let dir = tempfile::tempdir().unwrap();
    let events = common::world(dir.path());
    let good = native_csv(&events, &params());
    let path = dir.path().join("f.csv");
    let read = |text: &str| {
        std::fs::write(&path, text).unwrap();
        let mut n = 0;
        read_csv(&path, &mut |_| n += 1).map(|_| n)
    };
    let wallets = good.lines().count() - 1;
    assert_eq!(read(&good).unwrap(), wallets);
    let lines: Vec<&str> = good.lines().collect();
    // Two rows swapped: not in address order.
    let mut swapped = lines.clone();
    swapped.swap(2, 3);
    let e = read(&(swapped.join("\n") + "\n")).unwrap_err();
    assert_eq!((e.line, e.column.as_str()), (4, "address"), "{e}");
    // A boolean that is not true/false, a negative count.
    let step_col = csv_header()
        .iter()
        .position(|h| h == "step_greenlist")
        .unwrap();
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut cells: Vec<&str> = lines[5].split(',').collect();
    cells[step_col] = "1";
    bad[5] = cells.join(",");
    let e = read(&(bad.join("\n") + "\n")).unwrap_err();
    assert_eq!((e.line, e.column.as_str()), (6, "step_greenlist"), "{e}");
    let mut cells: Vec<&str> = lines[5].split(',').collect();
    cells[1] = "-5";
    bad[5] = cells.join(",");
    let e = read(&(bad.join("\n") + "\n")).unwrap_err();
    assert_eq!((e.line, e.column.as_str()), (6, "first_seen"), "{e}");
    // A header of other columns.
    let e = read(&good.replacen("tx_count", "txs", 1)).unwrap_err();
    assert_eq!((e.line, e.column.as_str()), (1, "tx_count"), "{e}");
}
