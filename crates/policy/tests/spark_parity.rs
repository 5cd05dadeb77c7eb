//! The emitted Spark SQL computes exactly the native features, wallet by wallet, on a local
//! Spark (PyPI `pyspark`, installed by `scripts/test`; Java 17) whose session time zone is not
//! UTC, so nothing may depend on it.

mod common;

use std::path::Path;
use std::process::Command;

use common::{assert_same, native_csv, params, world_with};
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
    let script = format!(
        r#"
import csv, sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").appName("fairdrop-parity")
    .config("spark.sql.session.timeZone", {tz:?})
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "4")
    .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
q = open({sql:?}).read().rstrip().rstrip(';')
df = spark.sql(q)
with open({out:?}, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(df.columns)
    for r in df.toLocalIterator():
        w.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in r])
spark.stop()
"#,
        sql = sql_path.to_str().unwrap(),
        out = out_csv.to_str().unwrap(),
    );
    let run = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3 must be installed");
    let err = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(
        !err.contains("No module named 'pyspark'"),
        "pyspark is missing: install it with `pip install pyspark`, as scripts/test does"
    );
    if !run.status.success() {
        return Err(err);
    }
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
