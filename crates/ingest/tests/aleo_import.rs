//! `fairdrop import aleo` on real mainnet transactions (`../shared/aleo/transactions/`, taken
//! from the Provable SDK's tests) inside blocks, from files and from a stand-in node that
//! answers 429, 500, slowly and with truncated bodies.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::node::{block, Fault, Node};
use fairdrop_ingest::aleo::{map_block, Network, Rules};
use fairdrop_ingest::import::{import_aleo, BlockSource, ImportOptions, NodeOptions};

fn shared(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/aleo/transactions")
        .join(name);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): the tests need ../shared", p.display()))
}

fn opts() -> ImportOptions {
    ImportOptions {
        network: Network::Mainnet,
        from: 0,
        to: None,
        rules: Rules::credits(),
        progress: false,
    }
}

/// Rows of activity.csv without the header.
fn rows(dir: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(dir.join("activity.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        fairdrop_ingest::aleo::COLUMNS
    );
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn transfer_public_is_the_sender_in_the_future_not_an_input() {
    let tx = shared("transaction_string.json");
    let b = map_block(
        &block(7, 1_725_000_000, &[("accepted", &tx)]),
        Network::Mainnet,
        &Rules::credits(),
    )
    .unwrap();
    assert!(b.quarantined.is_empty(), "{:?}", b.quarantined);
    let r = &b.rows[0];
    // The only address among the inputs is the receiver; the sender is the future's first argument.
    assert_eq!(
        r.address,
        "aleo12zlythl7htjdtjjjz3ahdj4vl6wk3zuzm37s80l86qpx8fyx95fqnxcn2f"
    );
    assert_eq!(
        r.counterparty,
        "aleo1nde82xqshcyjq2r3qjel7pphk3zfs928w5dqhuc6g2ywquef7srsmrpjgr"
    );
    assert_eq!(
        (r.action.as_str(), r.amount.as_str(), r.asset.as_str()),
        ("transfer", "925201", "credits")
    );
    assert_eq!(
        r.tx_id,
        "au1xkthsz95cfzf5dpm35j8rfmqh7d55n5qaj32h04zuk94hgs9ysqqwd5y0t"
    );
    assert_eq!(
        (r.timestamp, r.chain, r.program.as_str()),
        (1_725_000_000, "aleo", "credits.aleo")
    );
    // The fee: paid by the same wallet, for a call of credits.aleo.
    let f = &b.rows[1];
    assert_eq!(
        (f.action.as_str(), f.address.as_str(), f.amount.as_str()),
        ("fee", r.address.as_str(), "51060")
    );
    assert_eq!(b.rows.len(), 2);
}

#[test]
fn a_deployment_is_its_owner_deploying_the_program() {
    let tx = shared("deployment_transaction_string.json");
    let b = map_block(
        &block(9, 1, &[("accepted", &tx)]),
        Network::Mainnet,
        &Rules::credits(),
    )
    .unwrap();
    let got: Vec<_> = b
        .rows
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.address.as_str(),
                r.program.as_str(),
                r.amount.as_str(),
            )
        })
        .collect();
    let owner = "aleo14ufp2emj0h2hxz5szczmh67sy6jt8wrhujd8q0758lwdl3dxcgzsnych8z";
    assert_eq!(
        got,
        [
            ("deploy_program", owner, "paleo_token.aleo", ""),
            ("fee", owner, "paleo_token.aleo", "3822825")
        ]
    );
    assert_eq!(b.counts.deployments, 1);
}

#[test]
fn a_private_multi_program_execution_gives_what_is_public_and_counts_the_rest() {
    let tx = shared("private_transaction_string.json");
    let b = map_block(
        &block(11, 1, &[("accepted", &tx)]),
        Network::Mainnet,
        &Rules::credits(),
    )
    .unwrap();
    assert!(b.quarantined.is_empty(), "{:?}", b.quarantined);
    let got: Vec<_> = b
        .rows
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.address.as_str(),
                r.amount.as_str(),
                r.program.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // credits.aleo/transfer_public_to_private: the caller (here a program) in the future.
            (
                "transfer_to_private",
                "aleo1tjkv7vquk6yldxz53ecwsy5csnun43rfaknpkjc97v5223dlnyxsglv7nm",
                "2853086",
                "credits.aleo"
            ),
            // credits.aleo/transfer_private_to_public: the public receiver.
            (
                "transfer_from_private",
                "aleo1alc5gk6kq090zevzqk2mvj66kmxlm72rcdt37gxcqk6afzw4rcqqnr7n87",
                "2853086",
                "credits.aleo"
            ),
            // The fee of a transaction whose root call is the last transition's program.
            (
                "fee",
                "aleo1alc5gk6kq090zevzqk2mvj66kmxlm72rcdt37gxcqk6afzw4rcqqnr7n87",
                "630000",
                "arcn_puc_out_helper_v2_2_3.aleo"
            ),
        ]
    );
    assert_eq!(b.counts.transitions, 13);
    assert_eq!(
        b.counts
            .unmapped
            .get("token_registry.aleo/transfer_from_public_to_private"),
        Some(&1)
    );
    // transfer_voucher takes a record and a private value and outputs a record: nothing public.
    assert_eq!(b.counts.private_transitions, 1);
}

#[test]
fn rejected_transactions_and_bad_ones_contribute_nothing_and_are_counted() {
    let good = shared("transaction_string.json");
    let bad_addr = good.replace(
        "aleo12zlythl7htjdtjjjz3ahdj4vl6wk3zuzm37s80l86qpx8fyx95fqnxcn2f,\\n    aleo1nde",
        "aleo12zlythl7htjdtjjjz3ahdj4vl6wk3zuzm37s80l86qpx8fyx95fqnxcn2g,\\n    aleo1nde",
    );
    assert_ne!(bad_addr, good, "the test's edit must apply");
    let truncated = r#"{"status":"accepted","type":"execute","index":3,"transaction":{"type":"execute","id":"at1cut"}}"#;
    let text = block(
        21,
        5,
        &[
            ("accepted", &good),
            ("rejected", &good),
            ("accepted", &bad_addr),
        ],
    );
    // A confirmed transaction of the wrong shape, spliced in as a fourth.
    let text = text.replacen(
        "],\"aborted_transaction_ids\"",
        &format!(",{truncated}],\"aborted_transaction_ids\""),
        1,
    );
    let b = map_block(&text, Network::Mainnet, &Rules::credits()).unwrap();
    assert_eq!(b.counts.transactions, 4);
    assert_eq!(b.counts.rejected_transactions, 1);
    // The good transaction: 2 rows. The bad address: its transfer quarantined, its fee kept.
    assert_eq!(b.rows.len(), 3, "{:?}", b.rows);
    let rules: Vec<_> = b
        .quarantined
        .iter()
        .map(|q| (q.height, q.tx_id.as_str(), q.rule))
        .collect();
    assert_eq!(
        rules,
        [
            (
                Some(21),
                "au1xkthsz95cfzf5dpm35j8rfmqh7d55n5qaj32h04zuk94hgs9ysqqwd5y0t",
                "address.aleo.checksum"
            ),
            (Some(21), "at1cut", "aleo.transaction.shape"),
        ]
    );
    // A block of another network is refused whole.
    let e = map_block(
        &block(1, 1, &[]).replace(r#""network":0"#, r#""network":1"#),
        Network::Mainnet,
        &Rules::credits(),
    )
    .unwrap_err();
    assert_eq!(e.rule, "aleo.block.network");
}

fn blocks_range(n: u64) -> Vec<(u64, String)> {
    let txs = [
        shared("transaction_string.json"),
        shared("deployment_transaction_string.json"),
        shared("private_transaction_string.json"),
    ];
    (0..n)
        .map(|h| {
            let t = &txs[(h % 3) as usize];
            (
                h,
                block(h, 1_725_000_000 + h as i64 * 5, &[("accepted", t.as_str())]),
            )
        })
        .collect()
}

fn files_import(blocks: &[(u64, String)], dir: &Path) -> Vec<u8> {
    let src = dir.join("saved");
    std::fs::create_dir_all(&src).unwrap();
    // Saved as an explorer would: one file of blocks?start=&end= (an array), the rest one per line.
    let (first, rest) = blocks.split_at(blocks.len().min(50));
    std::fs::write(
        src.join("page-0.json"),
        format!(
            "[{}]",
            first
                .iter()
                .map(|b| b.1.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
    )
    .unwrap();
    std::fs::write(
        src.join("rest.jsonl"),
        rest.iter()
            .map(|b| format!("{}\n", b.1))
            .collect::<String>(),
    )
    .unwrap();
    let out = dir.join("from-files");
    let s = import_aleo(&BlockSource::Files(vec![src]), &out, &opts()).unwrap();
    assert_eq!(s.counts.blocks, blocks.len() as u64);
    std::fs::read(out.join("activity.csv")).unwrap()
}

fn node_opts(url: &str) -> NodeOptions {
    let mut n = NodeOptions::new(url);
    n.backoff = Duration::from_millis(5);
    n.timeout = Duration::from_millis(800);
    n.concurrency = 3;
    n
}

#[test]
fn a_node_that_misbehaves_gives_the_same_activity_as_the_saved_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let blocks = blocks_range(230);
    let want = files_import(&blocks, tmp.path());
    // Rows per block: a transfer 2, a deployment 2, the private execution 3.
    let per = [2usize, 2, 3];
    let expected: usize = (0..230).map(|h| per[h % 3]).sum();
    assert_eq!(rows(&tmp.path().join("from-files")).len(), expected);
    let node = Node::start(
        blocks.clone(),
        vec![
            (0, Fault::TooMany),
            (1, Fault::ServerError),
            (2, Fault::Truncated),
            (3, Fault::Slow(Duration::from_secs(3))),
        ],
        None,
        Duration::ZERO,
    );
    let out = tmp.path().join("from-node");
    let s = import_aleo(&BlockSource::Node(node_opts(&node.url())), &out, &opts()).unwrap();
    assert_eq!((s.from, s.to, s.counts.blocks), (0, 229, 230));
    assert_eq!(std::fs::read(out.join("activity.csv")).unwrap(), want);
    // 5 pages, 4 of the calls failed and were retried.
    assert_eq!(node.calls.load(std::sync::atomic::Ordering::SeqCst), 5 + 4);
    assert!(!out.join("import.checkpoint").exists());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("import-summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rows"], s.counts.rows);
}

#[test]
fn a_node_that_never_answers_stops_the_import_with_nothing_final_written() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(
        blocks_range(10),
        vec![],
        Some(Fault::ServerError),
        Duration::ZERO,
    );
    let mut n = node_opts(&node.url());
    n.attempts = 3;
    let out = tmp.path().join("out");
    let o = ImportOptions {
        to: Some(9),
        ..opts()
    };
    let e = import_aleo(&BlockSource::Node(n), &out, &o)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gave up after 3 attempts") && e.contains("500"),
        "{e}"
    );
    assert!(!out.join("activity.csv").exists());
    assert_eq!(node.calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn unreadable_inputs_are_errors_and_malformed_ones_are_quarantined() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = import_aleo(
        &BlockSource::Files(vec![tmp.path().join("nope.json")]),
        &tmp.path().join("o"),
        &opts(),
    )
    .unwrap_err();
    assert!(missing.to_string().contains("nope.json"), "{missing}");
    let src = tmp.path().join("bad.jsonl");
    let good = block(3, 1, &[("accepted", &shared("transaction_string.json"))]);
    std::fs::write(
        &src,
        format!("{good}\n{{\"header\": {{\"metadata\"\n{{\"not\":\"a block\"}}\n"),
    )
    .unwrap();
    let out = tmp.path().join("o2");
    let s = import_aleo(
        &BlockSource::Files(vec![PathBuf::from(&src)]),
        &out,
        &opts(),
    )
    .unwrap();
    assert_eq!(
        (s.counts.blocks, s.counts.rows, s.counts.quarantined),
        (1, 2, 2)
    );
    let q = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
    assert!(
        q.contains("aleo.json.malformed") && q.contains("aleo.block.shape"),
        "{q}"
    );
}

/// A real mainnet block as the REST API serves it (`tests/data/aleo-blocks`, SOURCES.md):
/// `cumulative_weight` above u64 as a bare number, solutions, a transfer_public.
#[test]
fn a_real_mainnet_block() {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aleo-blocks/mainnet-1203288.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let b = map_block(&text, Network::Mainnet, &Rules::credits()).unwrap();
    assert_eq!(b.height, 1203288);
    assert!(b.quarantined.is_empty(), "{:?}", b.quarantined);
    let got: Vec<_> = b
        .rows
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.address.as_str(),
                r.counterparty.as_str(),
                r.amount.as_str(),
                r.timestamp,
            )
        })
        .collect();
    let from = "aleo1mtfsa8hnhcr99v0n3m2ukayc60annk0kcaunf2ckhccav6lx55qsrhw0rl";
    assert_eq!(
        got,
        [
            (
                "transfer",
                from,
                "aleo1vs44yrqhmg77afudr43k2zeuqe724adc7p8ps0thjfy5e0wfksgsarj6pj",
                "1550000",
                1729056561
            ),
            ("fee", from, "", "51060", 1729056561),
        ]
    );
    // The same block through the importer, saved as a one-block file.
    let tmp = tempfile::tempdir().unwrap();
    let s = import_aleo(&BlockSource::Files(vec![p]), tmp.path(), &opts()).unwrap();
    assert_eq!((s.from, s.to, s.counts.rows), (1203288, 1203288, 2));
}

/// A checkpoint written under one rule table is not resumed under another: blocks already
/// written would be mapped by the old rules.
#[test]
fn a_checkpoint_under_other_rules_starts_over() {
    let tmp = tempfile::tempdir().unwrap();
    // The second call fails once: with one attempt the import stops after the first page.
    let node = Node::start(
        blocks_range(100),
        vec![(1, Fault::ServerError)],
        None,
        Duration::ZERO,
    );
    let mut n = node_opts(&node.url());
    n.attempts = 1;
    n.concurrency = 1;
    let out = tmp.path().join("out");
    let o = ImportOptions {
        to: Some(99),
        ..opts()
    };
    assert!(import_aleo(&BlockSource::Node(n.clone()), &out, &o).is_err());
    assert!(out.join("import.checkpoint").exists());
    let mut rules = Rules::credits();
    rules.insert(
        "arcn_puc_out_helper_v2_2_3.aleo",
        "swap_amm_credits_out",
        fairdrop_ingest::aleo::Rule {
            action: "swap".into(),
            wallet: fairdrop_ingest::aleo::Arg::Input(1),
            counterparty: None,
            amount: vec![],
            asset: None,
            per_transaction: true,
        },
    );
    let s = import_aleo(&BlockSource::Node(n), &out, &ImportOptions { rules, ..o }).unwrap();
    assert!(!s.resumed, "resumed a checkpoint of other rules");
    assert_eq!(s.counts.blocks, 100);
    // Every private-transaction block (h % 3 == 2) now has its swap row too.
    let swaps = rows(&out).iter().filter(|r| r[4] == "swap").count();
    assert_eq!(swaps, (0..100).filter(|h| h % 3 == 2).count());
}
