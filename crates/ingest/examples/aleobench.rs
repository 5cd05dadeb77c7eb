//! Block JSON → activity rows, MB/s on one core: `aleo::map_block` (typed, borrowing serde)
//! beside the peer a user would write, a `serde_json::Value` walk doing the same mapping
//! (credits.aleo calls with the wallet from the future, deployments, fees).
//!
//! `cargo run --release -p fairdrop-ingest --example aleobench [-- --blocks N]`
//! Blocks are the real mainnet transactions of `../shared/aleo/transactions` (a transfer, a
//! deployment, a 13-transition private execution) and the real block under
//! `crates/ingest/tests/data/aleo-blocks`, repeated.

use std::time::Instant;

use fairdrop_ingest::aleo::{future_arguments, integer_literal, map_block, Network, Rules};
use serde_json::Value;

fn shared(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/aleo/transactions")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The peer: parse into `Value`, walk it, map the same functions.
fn value_walk(json: &str) -> usize {
    let b: Value = serde_json::from_str(json).unwrap();
    let mut rows = 0;
    let map = |tr: &Value, rows: &mut usize| {
        let f = tr["function"].as_str().unwrap_or("");
        if tr["program"] != "credits.aleo" {
            return;
        }
        let (w, a) = match f {
            "transfer_public" | "transfer_public_as_signer" => (0, 2),
            "transfer_public_to_private" | "transfer_private_to_public" | "fee_public" => (0, 1),
            "bond_public" => (0, 3),
            "unbond_public" => (1, 2),
            _ => return,
        };
        for o in tr["outputs"].as_array().into_iter().flatten() {
            if o["type"] == "future" {
                let args = future_arguments(o["value"].as_str().unwrap_or(""));
                let ok = args
                    .get(w)
                    .and_then(|x| fairdrop_core::Address::parse(x).ok())
                    .is_some()
                    && args.get(a).and_then(|x| integer_literal(x)).is_some();
                *rows += ok as usize;
            }
        }
    };
    for c in b["transactions"].as_array().into_iter().flatten() {
        if c["status"] != "accepted" {
            continue;
        }
        let t = &c["transaction"];
        for tr in t["execution"]["transitions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            map(tr, &mut rows);
        }
        if let Some(o) = t["owner"]["address"].as_str() {
            rows += fairdrop_core::Address::parse(o).is_ok() as usize;
        }
        map(&t["fee"]["transition"], &mut rows);
    }
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--blocks")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let real = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/aleo-blocks/mainnet-1203288.json"
    ))
    .unwrap();
    let txs = [
        shared("transaction_string.json"),
        shared("deployment_transaction_string.json"),
        shared("private_transaction_string.json"),
    ];
    let mut blocks = vec![real];
    for (i, t) in txs.iter().enumerate() {
        let c = format!(
            r#"{{"status":"accepted","type":"{}","index":0,"transaction":{t},"finalize":[]}}"#,
            if i == 1 { "deploy" } else { "execute" }
        );
        let b = blocks[0].clone();
        let start = b.find(r#""transactions":["#).unwrap() + r#""transactions":["#.len();
        let end = b.find(r#"],"aborted_transaction_ids""#).unwrap();
        blocks.push(format!("{}{c}{}", &b[..start], &b[end..]));
    }
    let all: Vec<&str> = (0..n).map(|i| blocks[i % blocks.len()].as_str()).collect();
    let bytes: usize = all.iter().map(|b| b.len()).sum();
    let rules = Rules::credits();
    println!(
        "aleo block JSON → activity rows, {n} blocks, {:.1} MB, one core",
        bytes as f64 / 1e6
    );
    let mut best = [f64::MAX; 2];
    let mut counts = [0usize; 2];
    for _ in 0..5 {
        let t = Instant::now();
        counts[0] = all
            .iter()
            .map(|b| map_block(b, Network::Mainnet, &rules).unwrap().rows.len())
            .sum();
        best[0] = best[0].min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        counts[1] = all.iter().map(|b| value_walk(b)).sum();
        best[1] = best[1].min(t.elapsed().as_secs_f64());
    }
    assert_eq!(
        counts[0], counts[1],
        "the two mappings must give the same rows"
    );
    for (name, s) in [
        ("fairdrop map_block (typed serde)", best[0]),
        ("serde_json::Value walk (peer)", best[1]),
    ] {
        println!(
            "  {name:<34} {:>8.1} MB/s  {:>9.0} blocks/s",
            bytes as f64 / 1e6 / s,
            n as f64 / s
        );
    }
    println!(
        "  rows: {}; map_block is {:.2}x the Value walk",
        counts[0],
        best[1] / best[0]
    );
}
