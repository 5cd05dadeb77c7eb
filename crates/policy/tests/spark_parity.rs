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
