//! Behaviour of a whole ingest: sorting, dedup, formats agreeing, spill equivalence, determinism.

use std::io::Write;
use std::path::Path;

use fairdrop_ingest::{ingest, IngestOptions};
use fairdrop_table::EventReader;

const A1: &str = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";
const A2: &str = "aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add";
const A3: &str = "aleo1d5hg2z3ma00382pngntdp68e74zv54jdxy249qhaujhks9c72yrs33ddah";
const E1: &str = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f";

fn rows() -> Vec<(
    i64,
    &'static str,
    String,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<u128>,
)> {
    // (ts, chain, tx, address, action, counterparty, amount) in a scrambled order.
    let mut v = Vec::new();
    let addrs = [A1, A2, A3, E1];
    for i in 0..400u64 {
        let a = addrs[(i * 7 % 4) as usize];
        let ts = 1_709_251_200 + ((i * 7919) % 1000) as i64 * 60;
        let (action, cp) = if i % 3 == 0 {
            ("transfer", Some(addrs[((i + 1) % 4) as usize]))
        } else {
            ("swap", None)
        };
        v.push((
            ts,
            "aleo",
            format!("at{i}"),
            a,
            action,
            cp,
            Some(i as u128 * 1_000_000),
        ));
    }
    v
}

fn write_csv(
    path: &Path,
    rows: &[(i64, &str, String, &str, &str, Option<&str>, Option<u128>)],
    dup_every: usize,
) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(
        f,
        "action,timestamp,chain,tx_id,address,counterparty,amount,extra"
    )
    .unwrap();
    for (i, r) in rows.iter().enumerate() {
        let line = format!(
            "{},{},{},{},{},{},{},x",
            r.4,
            fairdrop_core::event::format_timestamp(r.0),
            r.1,
            r.2,
            r.3,
            r.5.unwrap_or(""),
            r.6.map(|a| a.to_string()).unwrap_or_default()
        );
        writeln!(f, "{line}").unwrap();
        if dup_every > 0 && i % dup_every == 0 {
            writeln!(f, "{line}").unwrap();
        }
    }
}

fn write_jsonl(path: &Path, rows: &[(i64, &str, String, &str, &str, Option<&str>, Option<u128>)]) {
    let mut f = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    for r in rows {
        let mut o = serde_json::json!({"timestamp": r.0, "chain": r.1, "tx_id": r.2, "address": r.3, "action": r.4});
        if let Some(c) = r.5 {
            o["counterparty"] = c.into();
        }
        if let Some(a) = r.6 {
            o["amount"] = serde_json::Value::String(a.to_string());
        }
        writeln!(f, "{o}").unwrap();
    }
    f.finish().unwrap();
}

fn read_all(p: &Path) -> Vec<(i64, String, String, Option<String>)> {
    let mut out = Vec::new();
    for b in EventReader::open(p).unwrap() {
        let b = b.unwrap();
        for i in 0..b.len() {
            let r = b.row(i);
            out.push((
                r.timestamp,
                r.address.to_string(),
                r.action.to_string(),
                r.tx_id.map(String::from),
            ));
        }
    }
    out
}

#[test]
fn sorted_by_address_then_time_and_deduplicated() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.csv");
    write_csv(&input, &rows(), 10);
    let s = ingest(
        &[input],
        &d.path().join("out"),
        &IngestOptions {
            batch_rows: 1_000_000,
            progress: false,
            hash_inputs: false,
        },
    )
    .unwrap();
    assert_eq!(s.duplicates, 40);
    assert_eq!(s.accepted, 400);
    assert_eq!(s.rows_read, 440);
    assert_eq!(s.inputs[0].ignored_columns, vec!["extra".to_string()]);
    let got = read_all(&d.path().join("out/events.parquet"));
    assert_eq!(got.len(), 400);
    for w in got.windows(2) {
        assert!(
            (&w[0].1, w[0].0) <= (&w[1].1, w[1].0),
            "not sorted: {:?} then {:?}",
            w[0],
            w[1]
        );
    }
    // Addresses are canonical lowercase.
    assert!(got.iter().any(|r| r.1 == E1.to_ascii_lowercase()));
    assert!(got.iter().all(|r| r.1 == r.1.to_ascii_lowercase()));
}

#[test]
fn spilled_runs_give_the_same_bytes_as_in_memory() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.csv");
    write_csv(&input, &rows(), 7);
    ingest(
        &[input.clone()],
        &d.path().join("mem"),
        &IngestOptions {
            batch_rows: 1_000_000,
            progress: false,
            hash_inputs: false,
        },
    )
    .unwrap();
    ingest(
        &[input.clone()],
        &d.path().join("spill"),
        &IngestOptions {
            batch_rows: 13,
            progress: false,
            hash_inputs: false,
        },
    )
    .unwrap();
    ingest(
        &[input],
        &d.path().join("again"),
        &IngestOptions {
            batch_rows: 1_000_000,
            progress: false,
            hash_inputs: false,
        },
    )
    .unwrap();
    for f in ["events.parquet", "quarantine.csv", "ingest-summary.json"] {
        let a = std::fs::read(d.path().join("mem").join(f)).unwrap();
        assert_eq!(
            a,
            std::fs::read(d.path().join("spill").join(f)).unwrap(),
            "{f} differs when spilled"
        );
        assert_eq!(
            a,
            std::fs::read(d.path().join("again").join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
    assert_eq!(
        std::fs::read_dir(d.path().join("spill")).unwrap().count(),
        3,
        "temp runs cleaned up"
    );
}

#[test]
fn csv_and_gzipped_jsonl_agree() {
    let d = tempfile::tempdir().unwrap();
    write_csv(&d.path().join("a.csv"), &rows(), 0);
    write_jsonl(&d.path().join("b.jsonl.gz"), &rows());
    let o = IngestOptions {
        batch_rows: 100,
        progress: false,
        hash_inputs: false,
    };
    ingest(&[d.path().join("a.csv")], &d.path().join("a"), &o).unwrap();
    ingest(&[d.path().join("b.jsonl.gz")], &d.path().join("b"), &o).unwrap();
    assert_eq!(
        read_all(&d.path().join("a/events.parquet")),
        read_all(&d.path().join("b/events.parquet"))
    );
    // Both together: every row is a duplicate of one in the other file.
    let s = ingest(
        &[d.path().join("a.csv"), d.path().join("b.jsonl.gz")],
        &d.path().join("c"),
        &o,
    )
    .unwrap();
    assert_eq!((s.accepted, s.duplicates), (400, 400));
    // Counted per file: rows equal but for their file come in file order, so the first
    // file keeps them all.
    let per_file: Vec<(u64, u64)> = s
        .inputs
        .iter()
        .map(|i| (i.accepted, i.duplicates))
        .collect();
    assert_eq!(per_file, vec![(400, 0), (0, 400)]);
}

#[test]
fn own_output_reads_back_as_input() {
    let d = tempfile::tempdir().unwrap();
    write_csv(&d.path().join("a.csv"), &rows(), 0);
    let o = IngestOptions {
        batch_rows: 100,
        progress: false,
        hash_inputs: false,
    };
    ingest(&[d.path().join("a.csv")], &d.path().join("a"), &o).unwrap();
    let s = ingest(
        &[d.path().join("a/events.parquet")],
        &d.path().join("b"),
        &o,
    )
    .unwrap();
    assert_eq!((s.accepted, s.quarantined), (400, 0));
    assert_eq!(
        std::fs::read(d.path().join("a/events.parquet")).unwrap(),
        std::fs::read(d.path().join("b/events.parquet")).unwrap()
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(0u8.., 0..400), ext in 0usize..4) {
        let d = tempfile::tempdir().unwrap();
        let name = ["x.csv", "x.jsonl", "x.parquet", "x.csv.gz"][ext];
        let mut bytes = b"timestamp,chain,address,action\n".to_vec();
        if ext == 1 { bytes.clear(); }
        bytes.extend(body);
        std::fs::write(d.path().join(name), &bytes).unwrap();
        let _ = ingest(&[d.path().join(name)], &d.path().join("out"), &IngestOptions { batch_rows: 3, progress: false, hash_inputs: false });
    }
}

/// With `hash_inputs`, each CSV / JSONL input's sha256 is of its bytes as stored (gzip: the
/// compressed file), recorded in the summary; Parquet inputs and runs without the option
/// record none.
#[test]
fn inputs_hashed_as_read() {
    use sha2::{Digest, Sha256};
    let d = tempfile::tempdir().unwrap();
    write_csv(&d.path().join("a.csv"), &rows(), 0);
    write_jsonl(&d.path().join("b.jsonl.gz"), &rows());
    let sha = |p: &Path| hex::encode(Sha256::digest(std::fs::read(p).unwrap()));
    let mut o = IngestOptions {
        batch_rows: 100,
        progress: false,
        hash_inputs: true,
    };
    let inputs = [d.path().join("a.csv"), d.path().join("b.jsonl.gz")];
    let s = ingest(&inputs, &d.path().join("a"), &o).unwrap();
    let got: Vec<Option<String>> = s.inputs.iter().map(|i| i.sha256.clone()).collect();
    assert_eq!(got, vec![Some(sha(&inputs[0])), Some(sha(&inputs[1]))]);
    let json = std::fs::read_to_string(d.path().join("a/ingest-summary.json")).unwrap();
    assert!(json.contains(&sha(&inputs[0])), "{json}");
    // Parquet is not read as a stream: no hash.
    let s = ingest(
        &[d.path().join("a/events.parquet")],
        &d.path().join("p"),
        &o,
    )
    .unwrap();
    assert_eq!(s.inputs[0].sha256, None);
    o.hash_inputs = false;
    let s = ingest(&inputs, &d.path().join("b"), &o).unwrap();
    assert!(s.inputs.iter().all(|i| i.sha256.is_none()));
    let json = std::fs::read_to_string(d.path().join("b/ingest-summary.json")).unwrap();
    assert!(!json.contains("sha256"), "{json}");
}

/// One address written in several forms is one address: one id, counted once, deduplicated
/// across forms, and stored canonically, whichever form comes first.
#[test]
fn address_forms_share_one_identity() {
    let evm_mixed = E1;
    let evm_lower = E1.to_ascii_lowercase();
    let evm_pg = format!("\\x{}", &evm_lower[2..]);
    let aleo_upper = A2.to_ascii_uppercase();
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.csv");
    let mut f = std::fs::File::create(&input).unwrap();
    writeln!(f, "timestamp,chain,tx_id,address,action,counterparty").unwrap();
    // (address form, tx, counterparty form): a non-canonical form first for E1, the
    // canonical form first for A2; tx t1 comes back under another form of its address.
    let rows = [
        (evm_mixed, "t1", aleo_upper.as_str()),
        (evm_pg.as_str(), "t2", A2),
        (evm_lower.as_str(), "t3", evm_mixed),
        (evm_lower.as_str(), "t1", A2), // duplicate of the first row
        (A2, "t4", evm_pg.as_str()),
        (aleo_upper.as_str(), "t5", evm_lower.as_str()),
        (aleo_upper.as_str(), "t4", evm_mixed), // duplicate of (A2, t4)
    ];
    for (i, (a, tx, cp)) in rows.iter().enumerate() {
        writeln!(f, "2024-03-01T00:00:0{i}Z,aleo,{tx},{a},transfer,{cp}").unwrap();
    }
    drop(f);
    let s = ingest(
        &[input],
        &d.path().join("out"),
        &IngestOptions {
            batch_rows: 3,
            progress: false,
            hash_inputs: false,
        },
    )
    .unwrap();
    assert_eq!((s.accepted, s.duplicates, s.quarantined), (5, 2, 0));
    assert_eq!(s.distinct_addresses, 2);
    let mut seen = std::collections::BTreeSet::new();
    for b in EventReader::open(&d.path().join("out/events.parquet")).unwrap() {
        let b = b.unwrap();
        for i in 0..b.len() {
            let r = b.row(i);
            seen.insert(r.address.to_string());
            if let Some(c) = r.counterparty {
                seen.insert(c.to_string());
            }
        }
    }
    let want: std::collections::BTreeSet<String> = [A2.to_string(), evm_lower.clone()].into();
    assert_eq!(seen, want);
}
