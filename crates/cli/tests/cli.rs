//! The binary as a user runs it: exit codes, messages, --help examples.

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fairdrop"))
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
