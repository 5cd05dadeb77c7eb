//! What the SQL parity tests share: a small world that exercises every feature, the native
//! features as CSV, and a wallet-by-wallet comparison.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::Command;

use fairdrop_core::Address;
use fairdrop_policy::features::{csv_header, csv_record, extract, FeatureParams};

pub fn params() -> FeatureParams {
    FeatureParams {
        snapshot: 1_700_000_000 + 150 * 86_400,
        window_start: 1_700_000_000 + 10 * 86_400,
        decimals: 6,
    }
}

/// A small deterministic world with every feature exercised: stakes and unstakes (including
/// over-unstaking), transfers both ways, bridges, faucets on two chains, custom actions,
/// events outside the window, equal timestamps.
pub fn world(dir: &Path) -> std::path::PathBuf {
    world_with(dir, &[])
}

/// [`world`] with `extra` amounts given to transfers and bridges (wei-scale values, values at the
/// schema's limit).
pub fn world_with(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut addrs = Vec::new();
    let mut i = 1u8;
    while addrs.len() < 40 {
        let mut b = [0u8; 32];
        b[0] = i;
        b[1] = addrs.len() as u8;
        if let Ok(a) = Address::aleo_from_x(b) {
            addrs.push(a.to_string());
        }
        i = i.wrapping_add(1);
    }
    for k in 0..5u8 {
        addrs.push(Address::Evm([k + 1; 20]).to_string());
    }
    let actions = [
        "transfer",
        "stake",
        "unstake",
        "vote",
        "faucet_claim",
        "greenlist",
        "bridge_in",
        "bridge_out",
        "swap",
        "add_liquidity",
        "domain_register",
        "token_launch",
        "trade",
        "quest",
        "deploy_program",
        "nft_mint",
        "custom_x",
    ];
    let path = dir.join("raw.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(
        f,
        "timestamp,chain,tx_id,address,action,counterparty,amount,asset,program"
    )
    .unwrap();
    let base = 1_700_000_000i64;
    for n in 0..3000u64 {
        let a = &addrs[rnd(addrs.len() as u64) as usize];
        let act = actions[rnd(actions.len() as u64) as usize];
        let ts = base + (rnd(400) as i64) * 86_400 / 2 + rnd(3) as i64 * 3600; // some equal timestamps, some outside
        let chain = if act == "faucet_claim" && rnd(2) == 0 {
            "sepolia"
        } else if rnd(10) == 0 {
            "zealy"
        } else {
            "aleo"
        };
        let cp = if act == "transfer" {
            addrs[rnd(addrs.len() as u64) as usize].clone()
        } else {
            String::new()
        };
        let amount = if rnd(7) == 0 {
            String::new()
        } else if !extra.is_empty()
            && matches!(act, "transfer" | "bridge_in" | "stake")
            && rnd(8) == 0
        {
            extra[rnd(extra.len() as u64) as usize].to_string()
        } else {
            (rnd(5_000) * 1_000_000 + rnd(999)).to_string()
        };
        let program = if rnd(4) == 0 {
            String::new()
        } else {
            format!("p{}.aleo", rnd(6))
        };
        let tx = if rnd(20) == 0 {
            String::new()
        } else {
            format!("at{n}")
        };
        writeln!(
            f,
            "{ts},{chain},{tx},{a},{act},{cp},{amount},credits,{program}"
        )
        .unwrap();
    }
    // A wallet active only in January 2024 (UTC), once at 02:00 on the 1st: in a session time
    // zone west of UTC that first event falls in December.
    let jan = Address::Evm([0xee; 20]).to_string();
    for (n, ts) in [(0, 1_704_074_400i64), (1, 1_705_312_800)] {
        writeln!(f, "{ts},aleo,atjan{n},{jan},vote,,,,").unwrap();
    }
    drop(f);
    let out = dir.join("work");
    fairdrop_ingest::ingest(
        &[path],
        &out,
        &fairdrop_ingest::IngestOptions {
            batch_rows: 1 << 20,
            progress: false,
            hash_inputs: false,
        },
    )
    .unwrap();
    out.join("events.parquet")
}

/// The native features of `events` as CSV text.
pub fn native_csv(events: &Path, p: &FeatureParams) -> String {
    let mut native = csv::Writer::from_writer(Vec::new());
    native.write_record(csv_header()).unwrap();
    let n = extract(events, p, &mut |f| {
        native.write_record(csv_record(&f)).unwrap()
    })
    .unwrap();
    assert!(n > 30, "world has wallets: {n}");
    String::from_utf8(native.into_inner().unwrap()).unwrap()
}

/// Every feature of every wallet of `other` (an engine's CSV) equals the native one.
pub fn assert_same(native: &str, other: &str, engine: &str) {
    let parse = |s: &str| -> Vec<Vec<String>> {
        csv::Reader::from_reader(s.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let header = csv_header();
    let other_header: Vec<String> = csv::Reader::from_reader(other.as_bytes())
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, other_header, "same columns in the same order");
    let (nv, ov) = (parse(native), parse(other));
    assert_eq!(nv.len(), ov.len(), "same wallets");
    let mut checked = 0;
    for (a, b) in nv.iter().zip(ov.iter()) {
        let diffs: Vec<String> = a
            .iter()
            .zip(b.iter())
            .zip(header.iter())
            .filter(|((x, y), _)| x != y)
            .map(|((x, y), h)| format!("{h}: native {x:?} {engine} {y:?}"))
            .collect();
        assert!(
            diffs.is_empty(),
            "wallet {} differs:\n{}",
            a[0],
            diffs.join("\n")
        );
        checked += a.len();
    }
    assert!(checked > 1000, "compared {checked} values");
}

/// Run the Spark SQL in `sql_path` on local Spark (PyPI `pyspark`) with session time zone `tz`,
/// writing its rows to `out_csv` with a header, as `fairdrop features --out` writes them; or
/// Spark's error.
pub fn run_spark(sql_path: &Path, out_csv: &Path, tz: &str) -> Result<(), String> {
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
    python(&script, "pyspark")
}

/// Run a Python script that needs `package` (installed by `scripts/test`): Ok, or its stderr.
/// A missing package fails the test loudly rather than reading as the engine's error.
pub fn python(script: &str, package: &str) -> Result<(), String> {
    let run = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .expect("python3 must be installed");
    let err = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(
        !err.contains(&format!("No module named '{package}'")),
        "{package} is missing: install it with `pip install {package}`, as scripts/test does"
    );
    if !run.status.success() {
        return Err(err);
    }
    Ok(())
}
