//! The binary as a user runs it: exit codes, messages, --help examples.

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fairdrop"))
}

/// `fairdrop demo --wallets N --out out`: a world and its run, or the test fails.
fn demo(out: &Path, wallets: u32) {
    let demo = bin()
        .args([
            "demo",
            "--wallets",
            &wallets.to_string(),
            "--quiet",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
}

fn corpus(f: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ingest/tests/corpus")
        .join(f)
        .display()
        .to_string()
}

#[test]
fn every_subcommand_help_has_an_example() {
    let out = bin().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let cmds: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(cmds.len() >= 12, "{cmds:?}");
    for c in cmds {
        let h = bin().args([c, "--help"]).output().unwrap();
        let t = String::from_utf8_lossy(&h.stdout);
        assert!(
            t.contains("Example"),
            "`fairdrop {c} --help` has no example:\n{t}"
        );
    }
}

#[test]
fn ingest_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    // A readable file with one bad row: exit 0, and 1 with --strict.
    let ok = bin()
        .args(["ingest", &corpus("amount_negative.csv"), "--out"])
        .arg(d.path().join("a"))
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let strict = bin()
        .args([
            "ingest",
            &corpus("amount_negative.csv"),
            "--strict",
            "--quiet",
            "--out",
        ])
        .arg(d.path().join("b"))
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("quarantined"));
    // An unreadable file: exit 2 naming the file, nothing written.
    let bad = bin()
        .args(["ingest", &corpus("truncated.csv.gz"), "--quiet", "--out"])
        .arg(d.path().join("c"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("truncated.csv.gz") && err.contains("gzip"),
        "{err}"
    );
    assert!(!d.path().join("c/events.parquet").exists());
}

/// `ingest --preset` and `--mapping`: an export in another tool's columns, read as canonical
/// rows; an unknown preset or a mapping naming no canonical column exits 2 naming it.
#[test]
fn ingest_through_a_preset_or_a_mapping_file() {
    let d = tempfile::tempdir().unwrap();
    let a = "0xd8da6bf26964af9d7eed9e03e53415d37aa96045";
    let f = d.path().join("bq.csv");
    std::fs::write(
        &f,
        format!("hash,from_address,to_address,value,receipt_status,block_timestamp\n0xaa,{a},{a},5,1,2024-03-05 20:50:59 UTC\n0xbb,{a},{a},5,0,2024-03-05 20:50:59 UTC\n"),
    )
    .unwrap();
    let ingest = |extra: &[&str], out: &str| {
        bin()
            .arg("ingest")
            .arg(&f)
            .args(extra)
            .args(["--quiet", "--strict", "--out"])
            .arg(d.path().join(out))
            .output()
            .unwrap()
    };
    let r = ingest(&["--preset", "bigquery.crypto_ethereum.transactions"], "p");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("1 skipped by the mapping"));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("p/ingest-summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        (s["accepted"].as_u64(), s["skipped"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    let m = d.path().join("m.toml");
    std::fs::write(
        &m,
        "preset = \"bigquery.crypto_ethereum.transactions\"\ncolumns = { chain = \"=base\" }\n",
    )
    .unwrap();
    let r = ingest(&["--mapping", m.to_str().unwrap()], "m");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = ingest(&["--preset", "dune.nope"], "x");
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("unknown preset \"dune.nope\""));
    std::fs::write(&m, "columns = { wallet = \"from_address\" }\n").unwrap();
    let r = ingest(&["--mapping", m.to_str().unwrap()], "y");
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("m.toml") && err.contains("columns.wallet: not a canonical column"),
        "{err}"
    );
    let list = bin().args(["ingest", "--list-presets"]).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("cryo.erc20_transfers"));
}

#[test]
fn invalid_campaign_exits_2_with_key_and_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("c.toml");
    std::fs::write(&p, "[campaign]\nid = \"x\"\nname = \"x\"\naddress_kind = \"aleo\"\ntoken = \"ALEO\"\ndecimals = 6\npool = -1\nsnapshot = \"2024-06-01T00:00:00Z\"\nwindow_days = 30\n[allocation]\nmethod = \"linear\"\n").unwrap();
    let out = bin().args(["run", "--campaign"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("c.toml:7") && err.contains("campaign.pool"),
        "{err}"
    );
}

#[test]
fn tree_proof_verify_round_trip_and_tamper() {
    let d = tempfile::tempdir().unwrap();
    let alloc = d.path().join("allocations.csv");
    std::fs::write(&alloc, "address,amount\n0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f,100\n0x1111111111111111111111111111111111111111,7\n").unwrap();
    let t = bin()
        .args(["tree", "--profile", "oz", "--allocations"])
        .arg(&alloc)
        .arg("--out")
        .arg(d.path().join("oz"))
        .output()
        .unwrap();
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let p = bin()
        .args(["proof", "--profile", "oz", "--allocations"])
        .arg(&alloc)
        .arg("0x1111111111111111111111111111111111111111")
        .output()
        .unwrap();
    assert!(p.status.success());
    let proof = d.path().join("proof.json");
    std::fs::write(&proof, &p.stdout).unwrap();
    let v = bin().arg("verify").arg(&proof).output().unwrap();
    assert!(v.status.success() && String::from_utf8_lossy(&v.stdout).starts_with("ok"));
    let tampered =
        String::from_utf8_lossy(&p.stdout).replace("\"amount\": \"7\"", "\"amount\": \"8\"");
    assert_ne!(
        tampered,
        String::from_utf8_lossy(&p.stdout),
        "the amount field was found"
    );
    std::fs::write(&proof, tampered).unwrap();
    let v = bin().arg("verify").arg(&proof).output().unwrap();
    assert_eq!(v.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&v.stderr).contains("invalid"));
}

#[test]
fn zk_private_claim_flow_and_redirect_rejected() {
    let d = tempfile::tempdir().unwrap();
    let p = |f: &str| d.path().join(f);
    let secret = |f: &str| {
        let o = bin()
            .args(["zk", "secret", "--campaign-id", "t-1", "--out"])
            .arg(p(f))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    let (c1, c2) = (secret("a.secret"), secret("b.secret"));
    std::fs::write(
        p("notes.csv"),
        format!("commitment,denomination\n{c1},1000\n{c2},1000\n"),
    )
    .unwrap();
    assert!(bin()
        .args(["zk", "setup", "--campaign-id", "t-1", "--out"])
        .arg(p("keys"))
        .output()
        .unwrap()
        .status
        .success());
    assert!(bin()
        .args(["zk", "tree", "--campaign-id", "t-1", "--notes"])
        .arg(p("notes.csv"))
        .arg("--out")
        .arg(p("tree.json"))
        .output()
        .unwrap()
        .status
        .success());
    let recipient = "aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add";
    let o = bin()
        .args([
            "zk",
            "prove",
            "--denomination",
            "1000",
            "--recipient",
            recipient,
            "--pk",
        ])
        .arg(p("keys/claim.pk"))
        .arg("--tree")
        .arg(p("tree.json"))
        .arg("--secret")
        .arg(p("a.secret"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(p("claim.json"), &o.stdout).unwrap();
    let v = bin()
        .args(["zk", "verify", "--vk"])
        .arg(p("keys/claim.vk"))
        .arg("--claim")
        .arg(p("claim.json"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    // The same proof redirected to another recipient is rejected.
    let forged = String::from_utf8(o.stdout).unwrap().replace(
        recipient,
        "aleo1d5hg2z3ma00382pngntdp68e74zv54jdxy249qhaujhks9c72yrs33ddah",
    );
    std::fs::write(p("forged.json"), forged).unwrap();
    let v = bin()
        .args(["zk", "verify", "--vk"])
        .arg(p("keys/claim.vk"))
        .arg("--claim")
        .arg(p("forged.json"))
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(1));
}

fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The seed's campaign end to end through the binary: demo → serve → eligibility → claim with
/// the aleo (Poseidon) proof → same claim again → forged amount refused → payout exported once.
#[test]
fn demo_then_serve_and_claim_with_the_aleo_profile() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("dist");
    demo(&out, 1500);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .args(["serve", "--dist"])
        .arg(out.join("run"))
        .arg("--key")
        .arg(out.join("world/keys/campaign.key"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let result = std::panic::catch_unwind(|| {
        assert!(up, "server did not start");
        let allocs = std::fs::read_to_string(out.join("run/allocations.csv")).unwrap();
        let addr = allocs
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string();
        let (st, body) = http(port, "GET", &format!("/v1/eligibility/{addr}"), "");
        assert_eq!(st, 200, "{body}");
        let e: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(e["eligible"], true);
        // The on-chain claim's call, as `fairdrop proof --format aleo` prints it.
        let cli_call = bin()
            .args(["proof", "--profile", "aleo", "--format", "aleo", "--dist"])
            .arg(out.join("run"))
            .arg(&addr)
            .output()
            .unwrap();
        let want: serde_json::Value = serde_json::from_slice(&cli_call.stdout).unwrap();
        assert_eq!(e["proofs"]["aleo"]["call"], want, "{body}");
        assert_eq!(want["function"], "claim");
        // The participant page shows that call as a Leo command (headless Chromium).
        let dom = dump_dom(&format!("http://127.0.0.1:{port}/?address={addr}"));
        let leo = format!(
            "leo execute {}::claim '{}' '{}' --network mainnet --broadcast",
            want["program"].as_str().unwrap(),
            want["inputs"][0].as_str().unwrap(),
            want["inputs"][1].as_str().unwrap()
        );
        assert!(dom.contains(&leo), "no Leo command on the page:\n{dom}");
        assert!(
            !dom.contains(r#"<div id="onchain" class="hidden">"#),
            "{dom}"
        );
        // "Claim with Leo Wallet": the bundled adapter sends the wallet exactly that call, with
        // the fee the service offers, the fee paid publicly; without the extension the page
        // says so.
        let payer = allocs.lines().nth(2).unwrap().split(',').next().unwrap();
        let page = format!("http://127.0.0.1:{port}/?address={addr}");
        let got = leo_wallet_click(&page, payer);
        let fee = e["proofs"]["aleo"]["wallet_fee"]
            .as_u64()
            .expect("wallet_fee");
        let depth = want["inputs"][1].as_str().unwrap().matches("field").count();
        assert_eq!(Some(fee), fairdrop_zk::program::wallet_fee("claim", depth));
        assert_eq!(got["ok"], true, "{got}");
        assert_eq!(got["fee"], fee.to_string(), "{got}");
        assert_eq!(
            got["calls"][0]["connect"],
            serde_json::json!({"decryptPermission": "NO_DECRYPT", "network": "mainnetbeta", "programs": [want["program"]]}),
            "{got}"
        );
        assert_eq!(
            got["calls"][1]["requestTransaction"],
            serde_json::json!({
                "address": payer,
                "chainId": "mainnetbeta",
                "transitions": [{"program": want["program"], "functionName": "claim", "inputs": want["inputs"]}],
                "fee": fee,
                "feePrivate": false,
            }),
            "{got}"
        );
        let result = got["result"].as_str().unwrap();
        assert!(
            result.contains("at1standin") && result.contains(payer),
            "{got}"
        );
        let none = leo_wallet_click(&page, "--none");
        assert_eq!(none["ok"], false, "{none}");
        assert!(
            none["result"]
                .as_str()
                .unwrap()
                .contains("Leo Wallet is not installed"),
            "{none}"
        );
        let claim = serde_json::json!({"address": addr, "amount": e["amount"], "profile": "aleo", "proof": e["proofs"]["aleo"]["proof"]});
        let (st, first) = http(port, "POST", "/v1/claims", &claim.to_string());
        assert_eq!(st, 201, "{first}");
        let (st, again) = http(port, "POST", "/v1/claims", &claim.to_string());
        assert_eq!(st, 200, "{again}");
        let r1: serde_json::Value = serde_json::from_str(&first).unwrap();
        let r2: serde_json::Value = serde_json::from_str(&again).unwrap();
        assert_eq!(
            r1["receipt"], r2["receipt"],
            "the same claim gets the same receipt"
        );
        let amount: u128 = e["amount"].as_str().unwrap().parse().unwrap();
        let forged = serde_json::json!({"address": addr, "amount": (amount + 1).to_string(), "profile": "aleo", "proof": e["proofs"]["aleo"]["proof"]});
        let (st, body) = http(port, "POST", "/v1/claims", &forged.to_string());
        assert!((400..500).contains(&st), "{st} {body}");
        let (st, _) = http(port, "GET", "/v1/eligibility/aleo1notanaddress", "");
        assert_eq!(st, 400);
    });
    let _ = child.kill();
    let _ = child.wait();
    result.unwrap();
    let pay = d.path().join("payouts");
    let ex = bin()
        .args(["payouts", "export", "--chain", "aleo", "--db"])
        .arg(out.join("claims.db"))
        .arg("--out")
        .arg(&pay)
        .output()
        .unwrap();
    assert!(
        ex.status.success(),
        "{}",
        String::from_utf8_lossy(&ex.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(&pay).unwrap().collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    let pays: Vec<&str> = text.lines().filter(|l| l.starts_with("pay ")).collect();
    assert_eq!(pays.len(), 1, "one claim, one payout: {text}");
    assert!(pays[0].starts_with("pay 1 aleo1"), "{text}");
    // A second export finds nothing new.
    let ex = bin()
        .args(["payouts", "export", "--chain", "aleo", "--db"])
        .arg(out.join("claims.db"))
        .arg("--out")
        .arg(&pay)
        .output()
        .unwrap();
    assert!(ex.status.success());
    assert_eq!(std::fs::read_dir(&pay).unwrap().count(), 1);
}

#[test]
fn aleo_profile_tree_proof_verify() {
    let d = tempfile::tempdir().unwrap();
    let alloc = d.path().join("allocations.csv");
    std::fs::write(
        &alloc,
        "address,amount\naleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf,1000000\naleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add,2500000\n",
    )
    .unwrap();
    // Every leaf carries the campaign's tag: no campaign id, no tree.
    let no_id = bin()
        .args(["tree", "--profile", "aleo", "--allocations"])
        .arg(&alloc)
        .arg("--out")
        .arg(d.path().join("t0"))
        .output()
        .unwrap();
    assert_eq!(no_id.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_id.stderr).contains("--campaign-id"));
    let t = bin()
        .args([
            "tree",
            "--profile",
            "aleo",
            "--campaign-id",
            "c1",
            "--allocations",
        ])
        .arg(&alloc)
        .arg("--out")
        .arg(d.path().join("t"))
        .output()
        .unwrap();
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    // Leaves are taken in address order, so the file's row order does not change the root.
    let reversed = d.path().join("reversed.csv");
    std::fs::write(
        &reversed,
        "address,amount\naleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add,2500000\naleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf,1000000\n",
    )
    .unwrap();
    let t2 = bin()
        .args([
            "tree",
            "--profile",
            "aleo",
            "--campaign-id",
            "c1",
            "--allocations",
        ])
        .arg(&reversed)
        .arg("--out")
        .arg(d.path().join("t2"))
        .output()
        .unwrap();
    assert_eq!(t.stdout, t2.stdout);
    assert!(String::from_utf8_lossy(&t.stdout).trim().starts_with("0x"));
    assert_eq!(
        std::fs::read_to_string(d.path().join("t/proofs-aleo.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    let p = bin()
        .args([
            "proof",
            "--profile",
            "aleo",
            "--campaign-id",
            "c1",
            "--allocations",
        ])
        .arg(&alloc)
        .arg("aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add")
        .output()
        .unwrap();
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    std::fs::write(d.path().join("p.json"), &p.stdout).unwrap();
    assert!(bin()
        .arg("verify")
        .arg(d.path().join("p.json"))
        .output()
        .unwrap()
        .status
        .success());
    let forged = String::from_utf8_lossy(&p.stdout).replace("2500000", "2500001");
    std::fs::write(d.path().join("f.json"), forged).unwrap();
    assert_eq!(
        bin()
            .arg("verify")
            .arg(d.path().join("f.json"))
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    // The same proof from the run's folder, and as the claim program's call.
    let pd = bin()
        .args(["proof", "--profile", "aleo", "--dist"])
        .arg(d.path().join("t"))
        .arg("aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add")
        .output()
        .unwrap();
    assert!(
        pd.status.success(),
        "{}",
        String::from_utf8_lossy(&pd.stderr)
    );
    assert_eq!(pd.stdout, p.stdout);
    let call = bin()
        .args(["proof", "--profile", "aleo", "--format", "aleo", "--dist"])
        .arg(d.path().join("t"))
        .arg("aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add")
        .output()
        .unwrap();
    assert!(
        call.status.success(),
        "{}",
        String::from_utf8_lossy(&call.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&call.stdout).unwrap();
    let program = format!("{}.aleo", fairdrop_zk::program::program_name("c1"));
    assert_eq!(v["program"], program.as_str());
    assert_eq!(v["function"], "claim");
    let tag = fairdrop_zk::aleo::campaign_tag("c1");
    assert_eq!(
        v["inputs"][0],
        format!("{{ campaign: {tag}u128, index: 0u32, recipient: aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add, amount: 2500000u64 }}").as_str()
    );
    let sib = v["inputs"][1].as_str().unwrap();
    assert!(
        sib.starts_with('[') && sib.ends_with("field]") && !sib.contains(','),
        "depth 1: {sib}"
    );
    // The claim program for that tree, then the operator's plan.
    let prog = d.path().join("t/aleo/program");
    let g = bin()
        .args([
            "aleo",
            "program",
            "--admin",
            "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf",
            "--dist",
        ])
        .arg(d.path().join("t"))
        .arg("--out")
        .arg(&prog)
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    assert_eq!(String::from_utf8_lossy(&g.stdout).trim(), program);
    let main = std::fs::read_to_string(prog.join("build/main.aleo")).unwrap();
    assert!(main.starts_with(&format!("import credits.aleo;\nprogram {program};")));
    assert!(std::fs::read_to_string(prog.join("src/main.leo"))
        .unwrap()
        .contains("credits.aleo::transfer_public("));
    let plan = bin()
        .args(["aleo", "plan", "--start", "10", "--end", "20", "--dist"])
        .arg(d.path().join("t"))
        .output()
        .unwrap();
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let text = String::from_utf8_lossy(&plan.stdout);
    for want in [
        "leo deploy",
        "leo execute fund 3500000u64",
        "leo execute open 10u32 20u32",
        "leo execute reclaim",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    // A program that does not check this tree's root is refused.
    let stale = fairdrop_zk::psd2::field_plaintext(&fairdrop_zk::Fr::from(7u64));
    let edited = main.replace(
        &fairdrop_zk::psd2::field_plaintext(
            &fairdrop_zk::fe_from_hex(String::from_utf8_lossy(&t.stdout).trim()).unwrap(),
        ),
        &stale,
    );
    std::fs::write(prog.join("build/main.aleo"), edited).unwrap();
    let plan = bin()
        .args(["aleo", "plan", "--dist"])
        .arg(d.path().join("t"))
        .output()
        .unwrap();
    assert_eq!(
        plan.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
}

/// The auditor's check: the manifest's signature, then the whole run recomputed from the
/// inputs gives the same manifest; a changed input is named.
#[test]
fn verify_manifest_reproduces_and_names_a_changed_input() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("dist");
    demo(&out, 800);
    let check = || {
        bin()
            .args(["verify-manifest", "--manifest"])
            .arg(out.join("run/manifest.json"))
            .arg("--pubkey")
            .arg(out.join("world/keys/campaign.pub"))
            .arg("--campaign")
            .arg(out.join("world/campaign.toml"))
            .output()
            .unwrap()
    };
    let ok = check();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(said.contains("reproduced"), "{said}");
    // The seed campaign has [aleo]: the run wrote the claim program and the manifest binds it.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run/manifest.json")).unwrap()).unwrap();
    let program = format!(
        "{}.aleo",
        fairdrop_zk::program::program_name("aleo-airdrop-2024")
    );
    let main = out.join("run/aleo/program/build/main.aleo");
    let bound = manifest["inputs"][format!("aleo:{program}")]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        bound,
        fairdrop_merkle::manifest::sha256_file(&main).unwrap()
    );
    assert!(
        said.contains(&format!("aleo ok: {} is {program}", main.display())),
        "{said}"
    );
    // The participant's call names that program.
    let holder = std::fs::read_to_string(out.join("run/proofs-aleo.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(holder.lines().next().unwrap()).unwrap();
    let call = bin()
        .args(["proof", "--profile", "aleo", "--format", "aleo", "--dist"])
        .arg(out.join("run"))
        .arg(first["address"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(
        call.status.success(),
        "{}",
        String::from_utf8_lossy(&call.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&call.stdout).unwrap();
    assert_eq!(v["program"], program.as_str());
    // A program edited after signing is named.
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        text.replace("assert.eq self.caller", "assert.neq self.caller"),
    )
    .unwrap();
    let edited = check();
    assert_eq!(edited.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&edited.stderr).contains("the manifest binds"),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    std::fs::write(&main, text).unwrap();
    // Change the inputs: the team list gains a comment line (same addresses, different bytes).
    let team = out.join("world/lists/team.txt");
    let mut t = std::fs::read_to_string(&team).unwrap();
    t.push_str("# edited\n");
    std::fs::write(&team, t).unwrap();
    let bad = check();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("differs") && err.contains("lists/team.txt"),
        "{err}"
    );
}

/// `sybil-train` learns farms of 6 (below the rules' minimum of 8) from labels, `sybil
/// --model` flags them with reasons, and a model that does not fit the inputs exits 2.
#[test]
fn sybil_train_then_apply_a_model() {
    let d = tempfile::tempdir().unwrap();
    let p = |f: &str| d.path().join(f).display().to_string();
    let addr = |i: u32| format!("0x{i:040x}");
    let (mut transfers, mut cands, mut labels) = (
        String::from("from,to\n"),
        String::new(),
        String::from("address,label\n"),
    );
    let mut next = 1;
    for farm in 0..40 {
        for _ in 0..6 {
            transfers += &format!("{},{}\n", addr(900_000 + farm), addr(next));
            cands += &format!("{}\n", addr(next));
            labels += &format!("{},sybil\n", addr(next));
            next += 1;
        }
    }
    for i in 0..400 {
        if i % 2 == 0 {
            transfers += &format!("{},{}\n", addr(999_999), addr(next));
        }
        cands += &format!("{}\n", addr(next));
        labels += &format!("{},clean\n", addr(next));
        next += 1;
    }
    std::fs::write(p("transfers.csv"), transfers).unwrap();
    std::fs::write(p("candidates.txt"), cands).unwrap();
    std::fs::write(p("labels.csv"), labels).unwrap();
    std::fs::write(p("exchange.txt"), addr(999_999) + "\n").unwrap();
    std::fs::write(p("other.txt"), addr(999_999) + "\n").unwrap();
    let inputs = |hubs: &str| {
        vec![
            "--transfers".to_string(),
            p("transfers.csv"),
            "--hubs".into(),
            p(hubs),
            "--candidates".into(),
            p("candidates.txt"),
        ]
    };
    let train = bin()
        .arg("sybil-train")
        .args(inputs("exchange.txt"))
        .args(["--labels", &p("labels.csv"), "--model", &p("model.json")])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&train.stdout);
    assert_eq!(
        train.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&train.stderr)
    );
    assert!(
        out.contains("trained on 640 labelled candidates (240 sybil, 400 clean)"),
        "{out}"
    );
    assert!(out.contains("5-fold cross-validation"), "{out}");
    let apply = bin()
        .arg("sybil")
        .args(inputs("exchange.txt"))
        .args(["--model", &p("model.json"), "--reasons", &p("reasons.csv")])
        .args(["--out", &p("clusters.csv")])
        .output()
        .unwrap();
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    let clusters = std::fs::read_to_string(p("clusters.csv")).unwrap();
    assert_eq!(clusters.lines().count(), 241, "{clusters}");
    assert!(
        clusters.lines().skip(1).all(|l| l.contains(",6,learned,")),
        "{clusters}"
    );
    let reasons = std::fs::read_to_string(p("reasons.csv")).unwrap();
    assert_eq!(reasons.lines().count(), 241);

    // Hub lists under other names: other features, refused.
    let other = bin()
        .arg("sybil")
        .args(inputs("other.txt"))
        .args(["--model", &p("model.json"), "--out", &p("c2.csv")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(2), "{err}");
    assert!(
        err.contains("model.json") && err.contains("hub_share:exchange"),
        "{err}"
    );
    // A damaged model file: refused, naming it.
    std::fs::write(p("model.json"), "{\"format\":").unwrap();
    let bad = bin()
        .arg("sybil")
        .args(inputs("exchange.txt"))
        .args(["--model", &p("model.json"), "--out", &p("c3.csv")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(
        err.contains("model.json") && err.contains("not a model file"),
        "{err}"
    );
    assert!(!d.path().join("c2.csv").exists() && !d.path().join("c3.csv").exists());
}

/// The page's DOM after its scripts ran, from headless Chromium (scripts/test installs it).
#[path = "../../claim/tests/common/chromium.rs"]
mod chromium;
use chromium::dump_dom;

/// `crates/claim/wallet/test/claim.mjs`: the page in Chromium with a stand-in Leo Wallet
/// (`payer`'s account, or `--none`), after a click on "Claim with Leo Wallet".
fn leo_wallet_click(url: &str, payer: &str) -> serde_json::Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../claim/wallet");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "{}/node_modules is missing: run `npm ci` there (scripts/test does)",
        dir.display()
    );
    let out = std::process::Command::new("node")
        .arg("test/claim.mjs")
        .args([url, payer])
        .current_dir(&dir)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "claim.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "claim.mjs printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[path = "../../ingest/tests/common/node.rs"]
mod node;

/// Blocks around the real mainnet transactions of `../shared/aleo/transactions`.
fn real_blocks(n: u64) -> Vec<(u64, String)> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/aleo/transactions");
    let txs: Vec<String> = [
        "transaction_string.json",
        "deployment_transaction_string.json",
        "private_transaction_string.json",
    ]
    .iter()
    .map(|f| {
        std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| {
            panic!(
                "{}/{f} is missing ({e}): the tests need ../shared",
                dir.display()
            )
        })
    })
    .collect();
    (0..n)
        .map(|h| {
            (
                h,
                node::block(
                    h,
                    1_725_000_000 + h as i64 * 5,
                    &[("accepted", txs[(h % 3) as usize].as_str())],
                ),
            )
        })
        .collect()
}

/// SIGKILL in the middle of a node import, then the same command again: the output is byte
/// for byte an uninterrupted import's, and `ingest` takes it without a quarantined row.
#[test]
fn import_aleo_killed_then_resumed_is_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let blocks = real_blocks(600);
    // Every page takes 150 ms, one call at a time: 12 pages, about 2 s.
    let slow = node::Node::start(
        blocks.clone(),
        vec![],
        None,
        std::time::Duration::from_millis(150),
    );
    let args = |url: &str, out: &std::path::Path| {
        let mut c = bin();
        c.args([
            "import",
            "aleo",
            "--node",
            url,
            "--network",
            "mainnet",
            "--from",
            "0",
            "--to",
            "599",
            "--concurrency",
            "1",
            "--backoff-ms",
            "10",
            "--quiet",
            "--out",
        ])
        .arg(out);
        c
    };
    let out = tmp.path().join("killed");
    let mut child = args(&slow.url(), &out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once the checkpoint says some pages are in, well before the end.
    let cp = out.join("import.checkpoint");
    let t0 = std::time::Instant::now();
    loop {
        let next = std::fs::read(&cp)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["next"].as_u64())
            .unwrap_or(0);
        if next >= 150 {
            break;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(60),
            "no progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !out.join("activity.csv").exists(),
        "a killed import left a final file"
    );
    let resumed = args(&slow.url(), &out).output().unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        String::from_utf8_lossy(&resumed.stderr).contains("resumed"),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let fast = node::Node::start(blocks, vec![], None, std::time::Duration::ZERO);
    let whole = tmp.path().join("whole");
    let full = args(&fast.url(), &whole).output().unwrap();
    assert!(
        full.status.success(),
        "{}",
        String::from_utf8_lossy(&full.stderr)
    );
    for f in ["activity.csv", "quarantine.csv"] {
        let (a, b) = (
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(whole.join(f)).unwrap(),
        );
        assert!(a == b, "{f} differs after a resume");
    }
    // The summaries differ only in the node's address (two stand-in nodes, two ports).
    let summary = |d: &std::path::Path| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("import-summary.json")).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("source");
        v
    };
    assert_eq!(summary(&out), summary(&whole));
    // The resumed import did not fetch the pages it already had.
    assert!(
        slow.calls.load(std::sync::atomic::Ordering::SeqCst) < 12 + 12,
        "resume re-fetched everything"
    );
    // ingest reads it as it is.
    let ing = bin()
        .arg("ingest")
        .arg(out.join("activity.csv"))
        .arg("--quiet")
        .arg("--strict")
        .arg("--out")
        .arg(tmp.path().join("ing"))
        .output()
        .unwrap();
    assert!(
        ing.status.success(),
        "{}",
        String::from_utf8_lossy(&ing.stderr)
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("ing/ingest-summary.json")).unwrap())
            .unwrap();
    let imported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(whole.join("import-summary.json")).unwrap()).unwrap();
    assert_eq!(s["rows_read"], imported["rows"], "{s}");
    assert_eq!(s["quarantined"], 0, "{s}");
}

/// A node that never answers well: exit 2, a message naming the node, no final output.
#[test]
fn import_aleo_from_a_dead_node_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dead = node::Node::start(
        real_blocks(3),
        vec![],
        Some(node::Fault::ServerError),
        std::time::Duration::ZERO,
    );
    let out = tmp.path().join("o");
    let r = bin()
        .args([
            "import",
            "aleo",
            "--node",
            &dead.url(),
            "--to",
            "2",
            "--attempts",
            "2",
            "--backoff-ms",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains(&dead.url()) && err.contains("gave up after 2 attempts"),
        "{err}"
    );
    assert!(!out.join("activity.csv").exists());
}

/// `import aleo --campaign`: the campaign's `[[programs]]` map the ecosystem calls of a real
/// mainnet transaction (an Arcane swap through the token registry) to the seed's actions, and
/// a rule that points at a private input quarantines that transition with its rule.
#[test]
fn import_aleo_with_the_campaigns_programs() {
    let tmp = tempfile::tempdir().unwrap();
    let blocks = real_blocks(3); // height 2 holds the private multi-program transaction
    let file = tmp.path().join("blocks.jsonl");
    std::fs::write(
        &file,
        blocks
            .iter()
            .map(|b| format!("{}\n", b.1))
            .collect::<String>(),
    )
    .unwrap();
    let campaign = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../campaigns/aleo-airdrop-2024.toml");
    let import = |campaign: &std::path::Path, out: &std::path::Path| {
        bin()
            .args(["import", "aleo", "--quiet", "--blocks"])
            .arg(&file)
            .arg("--campaign")
            .arg(campaign)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let out = tmp.path().join("o");
    let r = import(&campaign, &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let activity = std::fs::read_to_string(out.join("activity.csv")).unwrap();
    let trader = "aleo1alc5gk6kq090zevzqk2mvj66kmxlm72rcdt37gxcqk6afzw4rcqqnr7n87";
    let rows: Vec<Vec<&str>> = activity
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .filter(|r: &Vec<&str>| r[0] == "1725000010")
        .collect();
    // columns: timestamp,chain,tx_id,address,action,counterparty,amount,asset,program
    let got: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[4], r[3], r[8])).collect();
    assert!(
        got.contains(&("swap", trader, "arcn_puc_out_helper_v2_2_3.aleo")),
        "{got:?}"
    );
    assert!(
        got.contains(&("token_transfer", trader, "token_registry.aleo")),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "token_transfer",
            "aleo1t74eg228rmmjuzwckhvh0mhfw2nfeqhtx4pt4jrkxalz8p7nyvzsqcq3cv",
            "token_registry.aleo"
        )),
        "{got:?}"
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("import-summary.json")).unwrap()).unwrap();
    let unmapped = s["unmapped"]
        .as_object()
        .expect("import-summary.json has `unmapped`");
    assert!(
        !unmapped.contains_key("token_registry.aleo/transfer_from_public_to_private")
            && !unmapped.contains_key("arcn_puc_out_helper_v2_2_3.aleo/swap_amm_credits_out"),
        "{s}"
    );
    // The helper's swap and the pool's swap_amm under it are one transaction: one swap row,
    // with the transaction's id (the pool's input 1 is private here: counted, not guessed).
    let swaps: Vec<&Vec<&str>> = rows.iter().filter(|r| r[4] == "swap").collect();
    assert_eq!(swaps.len(), 1, "{swaps:?}");
    assert!(swaps[0][2].starts_with("at1"), "{swaps:?}");
    let private = |s: &serde_json::Value| s["private_transitions"].as_u64().unwrap();
    // A rule whose wallet is a private input gives no row and counts the transition private;
    // one that reads an input the transition lacks quarantines it with its rule.
    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(&campaign).unwrap();
        assert!(text.contains(from), "{from}");
        text.replacen(from, to, 1)
    };
    let out_line = "function = \"swap_amm_credits_out\"\naction = \"swap\"\nwallet = \"in.1\"";
    let bad = tmp.path().join("c.toml");
    std::fs::write(&bad, edit(out_line, &out_line.replace("in.1", "in.2"))).unwrap();
    let out2 = tmp.path().join("o2");
    let r = import(&bad, &out2);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out2.join("import-summary.json")).unwrap()).unwrap();
    assert_eq!(private(&s2), private(&s) + 1, "{s2}");
    let a2 = std::fs::read_to_string(out2.join("activity.csv")).unwrap();
    assert!(!a2.contains(",swap,"), "{a2}");
    std::fs::write(&bad, edit(out_line, &out_line.replace("in.1", "in.9"))).unwrap();
    let out3 = tmp.path().join("o3");
    let r = import(&bad, &out3);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let q = std::fs::read_to_string(out3.join("quarantine.csv")).unwrap();
    assert!(
        q.lines()
            .any(|l| l.starts_with("2,au1") && l.contains("aleo.input.missing")),
        "{q}"
    );
    // A rule that names no argument: exit 2 with the key and line.
    let text = edit(out_line, &out_line.replace("in.1", "input1"));
    let line = 1 + text
        .lines()
        .position(|l| l.contains("\"arcn_puc_out_helper_v2_2_3.aleo\""))
        .unwrap();
    std::fs::write(&bad, text).unwrap();
    let r = import(&bad, &tmp.path().join("o4"));
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains(&format!("c.toml:{line}: programs[")) && err.contains("wallet \"input1\""),
        "{err}"
    );
    assert!(!tmp.path().join("o4").exists());
}

/// Warehouse mode from the command line: the queries written to a folder, the sybil tables
/// computed natively, a run from features and tables giving the demo's allocations; a bad
/// table value stops the run with exit 2 naming file, line and column.
#[test]
fn warehouse_mode_sql_dir_tables_and_a_run_from_them() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("dist");
    demo(&out, 800);
    let world = out.join("world");
    let events = out.join("run/ingest/events.parquet");
    let campaign = world.join("campaign.toml");
    let sql = bin()
        .args(["features", "--emit-sql", "duckdb", "--campaign"])
        .arg(&campaign)
        .arg("--events")
        .arg(&events)
        .arg("--sql-dir")
        .arg(world.join("sql"))
        .output()
        .unwrap();
    assert!(
        sql.status.success(),
        "{}",
        String::from_utf8_lossy(&sql.stderr)
    );
    for q in [
        "features",
        "sybil-wallets",
        "sybil-activity",
        "sybil-bridges",
    ] {
        let text = std::fs::read_to_string(world.join(format!("sql/{q}.sql"))).unwrap();
        assert!(text.starts_with("-- fairdrop"), "{q}: {text}");
    }
    let tables = bin()
        .args(["features", "--campaign"])
        .arg(&campaign)
        .arg("--events")
        .arg(&events)
        .arg("--out")
        .arg(world.join("wh/features.csv"))
        .arg("--sybil-tables")
        .arg(world.join("wh"))
        .output()
        .unwrap();
    assert!(
        tables.status.success(),
        "{}",
        String::from_utf8_lossy(&tables.stderr)
    );
    let text = std::fs::read_to_string(&campaign).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("events = "))
        .expect("the demo campaign names its events")
        .to_string();
    let wh = text.replacen(
        &line,
        "features = \"wh/features.csv\"\nsybil_tables = \"wh\"",
        1,
    );
    std::fs::write(world.join("wh.toml"), wh).unwrap();
    let run = |to: &str| {
        bin()
            .args(["run", "--quiet", "--campaign"])
            .arg(world.join("wh.toml"))
            .arg("--out")
            .arg(d.path().join(to))
            .output()
            .unwrap()
    };
    let ok = run("a");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for f in ["allocations.csv", "clusters.csv"] {
        assert!(
            std::fs::read(out.join("run").join(f)).unwrap()
                == std::fs::read(d.path().join("a").join(f)).unwrap(),
            "{f} differs from the demo run's"
        );
    }
    // An auditor recomputes the warehouse-mode run from the same files.
    let v = bin()
        .args(["verify-manifest", "--manifest"])
        .arg(d.path().join("a/manifest.json"))
        .arg("--pubkey")
        .arg(world.join("keys/campaign.pub"))
        .arg("--campaign")
        .arg(world.join("wh.toml"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert!(String::from_utf8_lossy(&v.stdout).contains("reproduced"));
    // Each bad value stops the run with exit 2, naming file, line and column, and writes
    // nothing; the table is put back after each case.
    let edit = |table: &str, line: usize, col: usize, value: &str| -> String {
        let p = world.join(format!("wh/{table}.csv"));
        let t = std::fs::read_to_string(&p).unwrap();
        let mut lines: Vec<String> = t.lines().map(String::from).collect();
        let mut f: Vec<String> = lines[line - 1].split(',').map(String::from).collect();
        f[col] = value.into();
        lines[line - 1] = f.join(",");
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        t
    };
    let wallet_2 = {
        let t = std::fs::read_to_string(world.join("wh/sybil-wallets.csv")).unwrap();
        t.lines()
            .nth(2)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string()
    };
    let cases = [
        (
            "sybil-activity",
            3,
            1,
            "soon",
            "sybil-activity.csv:3: timestamp",
            "\"soon\"",
        ),
        (
            "sybil-activity",
            1,
            5,
            "rows",
            "sybil-activity.csv:1: -",
            "the header must be",
        ),
        (
            "sybil-wallets",
            2,
            0,
            &wallet_2,
            "sybil-wallets.csv:3: address",
            "is not after",
        ),
        (
            "sybil-wallets",
            2,
            3,
            "-1",
            "sybil-wallets.csv:2: degree",
            "\"-1\"",
        ),
        (
            "sybil-wallets",
            2,
            1,
            "0xABC",
            "sybil-wallets.csv:2: funder",
            "\"0xABC\"",
        ),
        (
            "sybil-bridges",
            2,
            2,
            "swap",
            "sybil-bridges.csv:2: action",
            "not a bridge action",
        ),
    ];
    for (i, (table, line, col, value, at, what)) in cases.into_iter().enumerate() {
        let kept = edit(table, line, col, value);
        let to = format!("bad{i}");
        let bad = run(&to);
        std::fs::write(world.join(format!("wh/{table}.csv")), kept).unwrap();
        let err = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(bad.status.code(), Some(2), "{table} {value}: {err}");
        assert!(
            err.contains(at) && err.contains(what),
            "{table} {value}: {err}"
        );
        assert!(!d.path().join(&to).exists(), "nothing half-written: {to}");
    }
    assert!(
        run("again").status.success(),
        "the tables put back run again"
    );
}
