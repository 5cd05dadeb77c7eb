//! The emitted DuckDB SQL computes exactly the native features, wallet by wallet.
//! Needs Python with the `duckdb` package (installed by `scripts/test`).

use std::io::Write;
use std::path::Path;
use std::process::Command;

use fairdrop_core::Address;
use fairdrop_policy::features::{
    csv_header, csv_record, extract, extract_pinned, FeatureParams, Pass1,
};
use fairdrop_policy::sql::{emit, Dialect};

/// A small deterministic world with every feature exercised: stakes and unstakes (including
/// over-unstaking), transfers both ways, bridges, faucets on two chains, custom actions,
/// events outside the window, equal timestamps.
fn world(dir: &Path) -> std::path::PathBuf {
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

#[test]
fn duckdb_sql_equals_native_features() {
    let dir = tempfile::tempdir().unwrap();
    let events = world(dir.path());
    let p = FeatureParams {
        snapshot: 1_700_000_000 + 150 * 86_400,
        window_start: 1_700_000_000 + 10 * 86_400,
        decimals: 6,
    };

    let mut native = csv::Writer::from_writer(Vec::new());
    native.write_record(csv_header()).unwrap();
    let n = extract(&events, &p, &mut |f| {
        native.write_record(csv_record(&f)).unwrap()
    })
    .unwrap();
    assert!(n > 30, "world has wallets: {n}");
    let native = String::from_utf8(native.into_inner().unwrap()).unwrap();

    let sql = emit(Dialect::DuckDb, events.to_str().unwrap(), &p);
    let sql_path = dir.path().join("features.sql");
    std::fs::write(&sql_path, &sql).unwrap();
    let out_csv = dir.path().join("duck.csv");
    let script = format!(
        "import duckdb, sys\ncon = duckdb.connect()\nq = open({:?}).read().rstrip().rstrip(';')\ncon.execute(\"COPY (\" + q + \") TO '{}' (HEADER, DELIMITER ',')\")\n",
        sql_path.to_str().unwrap(),
        out_csv.to_str().unwrap()
    );
    let run = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3 must be installed");
    assert!(
        run.status.success(),
        "DuckDB failed (install it with `pip install duckdb`, as scripts/test does):\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let duck = std::fs::read_to_string(&out_csv).unwrap();
    let parse = |s: &str| -> Vec<Vec<String>> {
        csv::Reader::from_reader(s.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let header = csv_header();
    let duck_header: Vec<String> = csv::Reader::from_reader(duck.as_bytes())
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, duck_header, "same columns in the same order");
    let (nv, dv) = (parse(&native), parse(&duck));
    assert_eq!(nv.len(), dv.len(), "same wallets");
    let mut checked = 0;
    for (a, b) in nv.iter().zip(dv.iter()) {
        let diffs: Vec<String> = a
            .iter()
            .zip(b.iter())
            .zip(header.iter())
            .filter(|((x, y), _)| x != y)
            .map(|((x, y), h)| format!("{h}: native {x:?} duckdb {y:?}"))
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

/// Pass 1 (what wallets received) runs beside pass 2; whether pass 2 takes its result before
/// the first wallet, only at the end (every wallet waits, partially computed) or as soon as
/// it is ready, the features are the same, wallet by wallet, in the same order.
#[test]
fn features_do_not_depend_on_when_the_transfers_pass_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let events = world(dir.path());
    let p = FeatureParams {
        snapshot: 1_700_000_000 + 150 * 86_400,
        window_start: 1_700_000_000 + 10 * 86_400,
        decimals: 6,
    };
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
