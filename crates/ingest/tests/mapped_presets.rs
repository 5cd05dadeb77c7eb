//! Each preset on a file laid out as its tool writes it: the column names, order and types
//! of Dune's CSV download, BigQuery's CSV and newline-delimited JSON exports, and cryo's
//! Parquet (polars' large string and binary columns, LZ4_RAW compression, cryo's file names).
//! What comes out is the canonical table; failed transactions are skipped and counted, bad
//! values quarantined with file, line and rule.
//!
//! The cryo files have the default columns, names and types of cryo's dataset structs
//! (`crates/freeze/src/datasets/{transactions,erc20_transfers,native_transfers,blocks}.rs` at
//! paradigmxyz/cryo 559b654, Jan 2025; U256 values as `value_binary`, `value_string`,
//! `value_f64`). No cryo binary could be run here: it needs an RPC node. Dune and BigQuery
//! layouts follow their documentation.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, LargeBinaryArray, LargeStringArray, RecordBatch,
    UInt32Array, UInt64Array,
};
use fairdrop_ingest::mapped::{Mapping, MappingSpec};
use fairdrop_ingest::{ingest_inputs, IngestOptions, IngestSummary, Input};
use fairdrop_table::EventReader;

const A: &str = "0xd8da6bf26964af9d7eed9e03e53415d37aa96045";
const B: &str = "0x28c6c06298d514db089934071355e5743bf21d60";
const TOKEN: &str = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
const H1: &str = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";
const H2: &str = "0x19f1df2c7ee6b464720ad28e903aeda1a5ad8780afc22f0b960827bd4fcf0123";
const H3: &str = "0x8a2c1f1e4d9f0c5b7a6e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e";

/// (timestamp, chain, tx_id, address, action, counterparty, amount, asset)
type Row = (
    i64,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn spec(preset: &str) -> MappingSpec {
    MappingSpec {
        preset: Some(preset.into()),
        ..Default::default()
    }
}

fn run(file: &Path, spec: MappingSpec, out: &Path) -> (IngestSummary, Vec<Row>, String) {
    let m = Mapping::from_spec(&spec).unwrap();
    let s = ingest_inputs(
        &[Input {
            path: file.to_path_buf(),
            mapping: Some(Arc::new(m)),
        }],
        out,
        &IngestOptions {
            batch_rows: 1 << 16,
            progress: false,
            hash_inputs: false,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut rows = Vec::new();
    for b in EventReader::open(&out.join("events.parquet")).unwrap() {
        let b = b.unwrap();
        for i in 0..b.len() {
            let r = b.row(i);
            let o = |s: Option<&str>| s.map(str::to_string);
            rows.push((
                r.timestamp,
                r.chain.to_string(),
                o(r.tx_id),
                r.address.to_string(),
                r.action.to_string(),
                o(r.counterparty),
                o(r.amount),
                o(r.asset),
            ));
        }
    }
    rows.sort();
    let q = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
    (s, rows, q)
}

/// The error of ingesting `file` through `preset`.
fn ingest_error(file: &Path, preset: &str, out: &Path) -> String {
    ingest_inputs(
        &[Input {
            path: file.to_path_buf(),
            mapping: Some(Arc::new(Mapping::from_spec(&spec(preset)).unwrap())),
        }],
        out,
        &IngestOptions {
            batch_rows: 1024,
            progress: false,
            hash_inputs: false,
        },
    )
    .unwrap_err()
    .to_string()
}

fn row(
    t: i64,
    tx: &str,
    addr: &str,
    action: &str,
    cp: Option<&str>,
    amount: Option<&str>,
    asset: &str,
) -> Row {
    (
        t,
        "ethereum".into(),
        Some(tx.into()),
        addr.into(),
        action.into(),
        cp.map(str::to_string),
        amount.map(str::to_string),
        Some(asset.into()),
    )
}

/// 2024-03-05T20:50:59Z
const T: i64 = 1_709_671_859;

/// What each transactions preset reads from its file: a transfer of 1.5 ETH, a contract
/// creation, and not the failed transaction between them.
fn transactions_read() -> [Row; 2] {
    [
        row(
            T,
            H1,
            A,
            "transfer",
            Some(B),
            Some("1500000000000000000"),
            "ETH",
        ),
        row(T, H3, A, "deploy_program", None, Some("0"), "ETH"),
    ]
}

/// Dune's CSV download of `ethereum.transactions`: every column of the table in its order,
/// `block_time` as `2024-03-05 20:50:59.000 UTC`, uint256 as decimal, varbinary as lowercase
/// `0x` hex, booleans `true`/`false`, NULL as an empty field.
#[test]
fn dune_ethereum_transactions_csv() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("dune-ethereum-transactions.csv");
    let header = "block_time,block_number,value,gas_limit,gas_price,gas_used,max_fee_per_gas,max_priority_fee_per_gas,priority_fee_per_gas,nonce,index,success,from,to,block_hash,data,hash,type,access_list,block_date";
    let line = |value: &str, success: &str, to: &str, hash: &str, data: &str| {
        format!("2024-03-05 20:50:59.000 UTC,19375000,{value},21000,31000000000,21000,40000000000,100000000,100000000,7,12,{success},{A},{to},0x3b1f0a6e2d4c5b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4,{data},{hash},DynamicFee,[],2024-03-05\n")
    };
    let body = format!(
        "{header}\n{}{}{}{}",
        line("1500000000000000000", "true", B, H1, "0x"),
        line("0", "false", B, H2, "0xa9059cbb"),
        line("0", "true", "", H3, "0x6080604052"),
        line("1.5e18x", "true", B, &H1.replace("5c", "6d"), "0x"),
    );
    std::fs::write(&f, body).unwrap();
    let (s, rows, q) = run(&f, spec("dune.ethereum.transactions"), &d.path().join("o"));
    assert_eq!(rows, transactions_read());
    assert_eq!(s.skipped, 1, "the failed transaction");
    assert_eq!(s.quarantined, 1, "{q}");
    let bad = q.lines().nth(1).unwrap();
    assert!(
        bad.starts_with(&format!("{},5,amount.", f.display())),
        "file, line and rule: {bad}"
    );
    assert_eq!(
        s.inputs[0].mapping.as_deref(),
        Some("dune.ethereum.transactions")
    );
}

/// Dune's `erc20_ethereum.evt_Transfer`: one row per Transfer log; `tx_id` is hash:index so
/// two transfers in one transaction stay two rows.
#[test]
fn dune_erc20_evt_transfer_csv() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("evt_transfer.csv");
    std::fs::write(
        &f,
        format!(
            "contract_address,evt_tx_hash,evt_tx_from,evt_tx_to,evt_index,evt_block_time,evt_block_number,evt_block_date,from,to,value\n\
             {TOKEN},{H1},{A},{TOKEN},41,2024-03-05 20:50:59.000 UTC,19375000,2024-03-05,{A},{B},2500000\n\
             {TOKEN},{H1},{A},{TOKEN},42,2024-03-05 20:50:59.000 UTC,19375000,2024-03-05,{A},{B},7\n"
        ),
    )
    .unwrap();
    let (s, rows, _) = run(&f, spec("dune.erc20.evt_Transfer"), &d.path().join("o"));
    assert_eq!(
        rows,
        [
            row(
                T,
                &format!("{H1}:41"),
                A,
                "transfer",
                Some(B),
                Some("2500000"),
                TOKEN
            ),
            row(
                T,
                &format!("{H1}:42"),
                A,
                "transfer",
                Some(B),
                Some("7"),
                TOKEN
            ),
        ]
    );
    assert_eq!(s.duplicates, 0);
}

/// BigQuery's CSV export of `crypto_ethereum.transactions` (TIMESTAMP as
/// `2024-03-05 20:50:59 UTC`, NUMERIC value, receipt_status 0 for a failed transaction) and its
/// newline-delimited JSON export of `token_transfers` (INT64 written as strings).
#[test]
fn bigquery_transactions_csv_and_token_transfers_json() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("transactions-000000000000.csv");
    let header = "hash,nonce,transaction_index,from_address,to_address,value,gas,gas_price,input,receipt_cumulative_gas_used,receipt_gas_used,receipt_contract_address,receipt_root,receipt_status,block_timestamp,block_number,block_hash,max_fee_per_gas,max_priority_fee_per_gas,transaction_type,receipt_effective_gas_price";
    let line = |hash: &str, to: &str, value: &str, created: &str, status: &str| {
        format!("{hash},7,12,{A},{to},{value},21000,31000000000,0x,1200000,21000,{created},,{status},2024-03-05 20:50:59 UTC,19375000,0x3b1f0a6e2d4c5b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4,40000000000,100000000,2,31000000000\n")
    };
    std::fs::write(
        &f,
        format!(
            "{header}\n{}{}{}",
            line(H1, B, "1500000000000000000", "", "1"),
            line(H2, B, "1", "", "0"),
            line(H3, "", "0", TOKEN, "1"),
        ),
    )
    .unwrap();
    let (s, rows, _) = run(
        &f,
        spec("bigquery.crypto_ethereum.transactions"),
        &d.path().join("o"),
    );
    assert_eq!(rows, transactions_read());
    assert_eq!(s.skipped, 1);

    let j = d.path().join("token_transfers-000000000000.json");
    let obj = |log: &str, value: &str| {
        serde_json::json!({
            "token_address": TOKEN, "from_address": A, "to_address": B, "value": value,
            "transaction_hash": H1, "log_index": log, "block_timestamp": "2024-03-05 20:50:59 UTC",
            "block_number": "19375000",
            "block_hash": "0x3b1f0a6e2d4c5b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4"
        })
        .to_string()
    };
    std::fs::write(&j, format!("{}\n{}\n", obj("3", "2500000"), obj("4", "-1"))).unwrap();
    let (s, rows, q) = run(
        &j,
        spec("bigquery.crypto_ethereum.token_transfers"),
        &d.path().join("j"),
    );
    assert_eq!(
        rows,
        [row(
            T,
            &format!("{H1}:3"),
            A,
            "transfer",
            Some(B),
            Some("2500000"),
            TOKEN
        )]
    );
    assert_eq!(s.quarantined, 1);
    assert!(q.contains(&format!("{},2,amount.", j.display())), "{q}");
}

fn bin(hex_str: &str) -> Vec<u8> {
    hex::decode(hex_str.trim_start_matches("0x")).unwrap()
}

/// A U256 as cryo writes `value_binary`: 32 bytes big-endian.
fn u256(v: u128) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    b.extend(v.to_be_bytes());
    b
}

/// Write a Parquet file as cryo does (polars: large string / binary columns; LZ4_RAW).
fn write_cryo(path: &Path, cols: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::LZ4_RAW)
        .build();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn large_bin(v: Vec<Option<Vec<u8>>>) -> ArrayRef {
    Arc::new(LargeBinaryArray::from_iter(v))
}

fn large_str(v: Vec<&str>) -> ArrayRef {
    Arc::new(LargeStringArray::from(v))
}

/// cryo `transactions` with `--include-columns timestamp`: its default columns and types.
#[test]
fn cryo_transactions_parquet() {
    let d = tempfile::tempdir().unwrap();
    let f = d
        .path()
        .join("ethereum__transactions__19375000_to_19375999.parquet");
    let n = 3;
    let u64s = |v: u64| -> ArrayRef { Arc::new(UInt64Array::from(vec![v; n])) };
    let u32s = |v: u32| -> ArrayRef { Arc::new(UInt32Array::from(vec![v; n])) };
    write_cryo(
        &f,
        vec![
            ("block_number", u32s(19_375_000)),
            (
                "transaction_index",
                Arc::new(UInt64Array::from(vec![0, 1, 2])),
            ),
            (
                "transaction_hash",
                large_bin(vec![Some(bin(H1)), Some(bin(H2)), Some(bin(H3))]),
            ),
            ("nonce", u64s(7)),
            ("from_address", large_bin(vec![Some(bin(A)); 3])),
            (
                "to_address",
                large_bin(vec![Some(bin(B)), Some(bin(B)), None]),
            ),
            (
                "value_binary",
                large_bin(vec![
                    Some(u256(1_500_000_000_000_000_000)),
                    Some(u256(1)),
                    Some(u256(0)),
                ]),
            ),
            (
                "value_string",
                large_str(vec!["1500000000000000000", "1", "0"]),
            ),
            (
                "value_f64",
                Arc::new(Float64Array::from(vec![1.5e18, 1.0, 0.0])),
            ),
            (
                "input",
                large_bin(vec![Some(vec![]), Some(vec![0xa9]), Some(vec![0x60, 0x80])]),
            ),
            ("gas_limit", u64s(21000)),
            ("gas_used", u64s(21000)),
            ("gas_price", u64s(31_000_000_000)),
            ("transaction_type", u32s(2)),
            ("max_priority_fee_per_gas", u64s(100_000_000)),
            ("max_fee_per_gas", u64s(40_000_000_000)),
            (
                "success",
                Arc::new(BooleanArray::from(vec![true, false, true])),
            ),
            ("n_input_bytes", u32s(0)),
            ("n_input_zero_bytes", u32s(0)),
            ("n_input_nonzero_bytes", u32s(0)),
            ("chain_id", u64s(1)),
            ("timestamp", u32s(T as u32)),
        ],
    );
    let (s, rows, _) = run(&f, spec("cryo.transactions"), &d.path().join("o"));
    assert_eq!(rows, transactions_read());
    assert_eq!(s.skipped, 1);
}

/// cryo `erc20_transfers` has no time column: the preset takes each row's block time from a
/// cryo `blocks` file (`block_times`). A block missing from it leaves the row without a time,
/// and the validator quarantines it.
#[test]
fn cryo_erc20_transfers_with_block_times() {
    let d = tempfile::tempdir().unwrap();
    let blocks = d
        .path()
        .join("ethereum__blocks__19375000_to_19375999.parquet");
    write_cryo(
        &blocks,
        vec![
            (
                "block_hash",
                large_bin(vec![Some(vec![1; 32]), Some(vec![2; 32])]),
            ),
            ("author", large_bin(vec![Some(bin(B)), Some(bin(B))])),
            (
                "block_number",
                Arc::new(UInt32Array::from(vec![19_375_000, 19_375_001])),
            ),
            ("gas_used", Arc::new(UInt64Array::from(vec![1, 1]))),
            ("extra_data", large_bin(vec![Some(vec![]), Some(vec![])])),
            (
                "timestamp",
                Arc::new(UInt32Array::from(vec![T as u32, T as u32 + 12])),
            ),
            ("base_fee_per_gas", Arc::new(UInt64Array::from(vec![1, 1]))),
            ("chain_id", Arc::new(UInt64Array::from(vec![1, 1]))),
        ],
    );
    let f = d
        .path()
        .join("ethereum__erc20_transfers__19375000_to_19375999.parquet");
    write_cryo(
        &f,
        vec![
            (
                "block_number",
                Arc::new(UInt32Array::from(vec![19_375_000, 19_375_001, 19_375_002])),
            ),
            (
                "transaction_index",
                Arc::new(UInt32Array::from(vec![0, 0, 0])),
            ),
            ("log_index", Arc::new(UInt32Array::from(vec![5, 6, 7]))),
            (
                "transaction_hash",
                large_bin(vec![Some(bin(H1)), Some(bin(H2)), Some(bin(H3))]),
            ),
            ("erc20", large_bin(vec![Some(bin(TOKEN)); 3])),
            ("from_address", large_bin(vec![Some(bin(A)); 3])),
            ("to_address", large_bin(vec![Some(bin(B)); 3])),
            ("value_binary", large_bin(vec![Some(u256(2_500_000)); 3])),
            ("value_string", large_str(vec!["2500000"; 3])),
            ("value_f64", Arc::new(Float64Array::from(vec![2.5e6; 3]))),
            ("chain_id", Arc::new(UInt64Array::from(vec![1; 3]))),
        ],
    );
    // Without block times the preset names what the file lacks.
    let e = ingest_error(&f, "cryo.erc20_transfers", &d.path().join("x"));
    assert!(
        e.contains("erc20_transfers__19375000") && e.contains("timestamp") && e.contains("lacks"),
        "{e}"
    );
    let mut sp = spec("cryo.erc20_transfers");
    sp.block_times = Some(blocks);
    let (s, rows, q) = run(&f, sp, &d.path().join("o"));
    assert_eq!(
        rows,
        [
            row(
                T,
                &format!("{H1}:5"),
                A,
                "transfer",
                Some(B),
                Some("2500000"),
                TOKEN
            ),
            row(
                T + 12,
                &format!("{H2}:6"),
                A,
                "transfer",
                Some(B),
                Some("2500000"),
                TOKEN
            ),
        ]
    );
    assert_eq!(s.quarantined, 1, "{q}");
    assert!(q.contains(",rg0:2,timestamp."), "{q}");
}

/// cryo `native_transfers` (its columns as cryo's `NativeTransfers` struct declares them:
/// `transaction_index` and `transaction_hash` nullable, `transfer_index` per block): a reward
/// row (from 20 zero bytes, no transaction) is skipped, the others read with block times.
#[test]
fn cryo_native_transfers_with_block_times() {
    let d = tempfile::tempdir().unwrap();
    let blocks = d.path().join("ethereum__blocks__19375000_to_19375999.csv");
    std::fs::write(&blocks, format!("block_number,timestamp\n19375000,{T}\n")).unwrap();
    let f = d
        .path()
        .join("ethereum__native_transfers__19375000_to_19375999.parquet");
    write_cryo(
        &f,
        vec![
            (
                "block_number",
                Arc::new(UInt32Array::from(vec![19_375_000; 3])),
            ),
            ("block_hash", large_bin(vec![Some(vec![1; 32]); 3])),
            (
                "transaction_index",
                Arc::new(UInt32Array::from(vec![Some(0), Some(1), None])),
            ),
            ("transfer_index", Arc::new(UInt32Array::from(vec![0, 1, 2]))),
            (
                "transaction_hash",
                large_bin(vec![Some(bin(H1)), Some(bin(H2)), None]),
            ),
            (
                "from_address",
                large_bin(vec![Some(bin(A)), Some(bin(A)), Some(vec![0; 20])]),
            ),
            ("to_address", large_bin(vec![Some(bin(B)); 3])),
            (
                "value_binary",
                large_bin(vec![
                    Some(u256(5)),
                    Some(u256(6)),
                    Some(u256(2_000_000_000_000_000_000)),
                ]),
            ),
            (
                "value_string",
                large_str(vec!["5", "6", "2000000000000000000"]),
            ),
            (
                "value_f64",
                Arc::new(Float64Array::from(vec![5.0, 6.0, 2e18])),
            ),
            ("chain_id", Arc::new(UInt64Array::from(vec![1; 3]))),
        ],
    );
    let mut sp = spec("cryo.native_transfers");
    sp.block_times = Some(blocks);
    let (s, rows, _) = run(&f, sp, &d.path().join("o"));
    // Sorted by tx_id: H2's hash sorts before H1's.
    let want = [
        row(
            T,
            &format!("{H2}:1"),
            A,
            "transfer",
            Some(B),
            Some("6"),
            "ETH",
        ),
        row(
            T,
            &format!("{H1}:0"),
            A,
            "transfer",
            Some(B),
            Some("5"),
            "ETH",
        ),
    ];
    assert_eq!(rows, want);
    assert_eq!(s.skipped, 1, "the block reward");
}

/// The `quests` and `list` presets on their plain layouts, names changed with `columns`.
#[test]
fn quest_and_list_presets() {
    let d = tempfile::tempdir().unwrap();
    let aleo = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";
    let q = d.path().join("quests.csv");
    std::fs::write(&q, format!("timestamp,address,quest\n2024-03-05 20:50:59,{aleo},join-discord\n{},{aleo},follow-x\n", T + 60)).unwrap();
    let (_, rows, _) = run(&q, spec("quests"), &d.path().join("q"));
    let got: Vec<(i64, &str, Option<&str>, &str)> = rows
        .iter()
        .map(|r| (r.0, r.1.as_str(), r.2.as_deref(), r.4.as_str()))
        .collect();
    let tx = |q: &str| format!("{q}:{aleo}");
    assert_eq!(
        got,
        [
            (T, "offchain", Some(tx("join-discord").as_str()), "quest"),
            (T + 60, "offchain", Some(tx("follow-x").as_str()), "quest"),
        ]
    );
    let l = d.path().join("greenlist.jsonl");
    std::fs::write(
        &l,
        format!("{{\"added\": \"2024-03-05\", \"wallet\": \"{aleo}\"}}\n"),
    )
    .unwrap();
    let mut sp = spec("list");
    sp.columns = [
        ("timestamp", "added"),
        ("address", "wallet"),
        ("action", "=greenlist"),
        ("chain", "=aleo"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .into();
    let (s, rows, _) = run(&l, sp, &d.path().join("l"));
    assert_eq!(s.accepted, 1);
    assert_eq!(
        (rows[0].0, rows[0].4.as_str()),
        (1_709_596_800, "greenlist")
    );
}

/// A generic mapping for an off-chain list (a faucet log): source columns renamed, constants
/// for chain and action, whole-token amounts scaled to base units.
#[test]
fn generic_mapping_for_a_faucet_log() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("faucet.csv");
    let aleo = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";
    std::fs::write(
        &f,
        format!(
            "claimed_at,wallet,credits\n2024-03-05T20:50:59Z,{aleo},10.5\n1709671860,{aleo},1\n"
        ),
    )
    .unwrap();
    let sp = MappingSpec {
        columns: [
            ("timestamp", "claimed_at"),
            ("address", "wallet"),
            ("chain", "=aleo"),
            ("action", "=faucet_claim"),
            ("amount", "credits"),
            ("asset", "=credits"),
            ("tx_id", "faucet:{wallet}:{claimed_at}"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .into(),
        amount_decimals: Some(6),
        ..Default::default()
    };
    let (s, rows, _) = run(&f, sp, &d.path().join("o"));
    assert_eq!(s.accepted, 2);
    let got: Vec<(i64, &str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.0, r.4.as_str(), r.6.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (T, "faucet_claim", Some("10500000")),
            (T + 1, "faucet_claim", Some("1000000"))
        ]
    );
}

/// A file that lacks a column its preset reads is an error naming the file, the preset, the
/// missing column and what the file has; nothing is written.
#[test]
fn missing_columns_are_a_file_error() {
    let d = tempfile::tempdir().unwrap();
    let f: PathBuf = d.path().join("wrong.csv");
    std::fs::write(&f, "block_time,hash,from,value\nx,y,z,1\n").unwrap();
    let out = d.path().join("o");
    let e = ingest_error(&f, "dune.ethereum.transactions", &out);
    assert!(
        e.contains("wrong.csv")
            && e.contains("dune.ethereum.transactions")
            && e.contains("success, to")
            && e.contains("found [block_time, hash, from, value]"),
        "{e}"
    );
    assert!(!out.join("events.parquet").exists());
}
