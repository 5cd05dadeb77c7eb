//! Loaders and `clusters.csv`: gzip, `\x` addresses, errors naming file and line, atomic and
//! deterministic output that reads back.

use std::io::Write;

use fairdrop_core::Address;
use fairdrop_sybil::detect::{detect, Action, Config};
use fairdrop_sybil::eval::{evaluate, Split};
use fairdrop_sybil::load::{load_candidates, load_hubs, load_transfers, read_labels, Label};
use fairdrop_sybil::output::{read_appeals, read_clusters_csv, write_clusters_csv};
use fairdrop_sybil::{SybilError, SybilInput};

fn hex(i: u32) -> String {
    format!("{:040x}", i)
}

#[test]
fn reads_gzip_and_bytea_addresses_and_writes_clusters_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("t.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::fast(),
    );
    writeln!(enc, "from,to").expect("write");
    for i in 1..=9u32 {
        writeln!(enc, "\\x{},0x{}", hex(500), hex(i)).expect("write");
    }
    enc.finish().expect("finish");
    let plain = dir.path().join("t2.csv");
    std::fs::write(
        &plain,
        format!("amount,to,from\n5,0x{},0x{}\n", hex(3000), hex(600)),
    )
    .expect("write");
    let cands = dir.path().join("candidates.txt");
    std::fs::write(
        &cands,
        (1..=9)
            .map(|i| format!("0x{}\n", hex(i)))
            .collect::<String>(),
    )
    .expect("write");
    let hubs = dir.path().join("hubs.txt");
    std::fs::write(&hubs, format!("# exchanges\n0x{}\n\n", hex(600))).expect("write");

    let mut inp = SybilInput::new();
    load_transfers(&mut inp, &[gz, plain]).expect("transfers");
    load_candidates(&mut inp, &[cands]).expect("candidates");
    load_hubs(&mut inp, &[hubs]).expect("hubs");
    assert_eq!(inp.transfers.len(), 10);
    assert_eq!(inp.hubs.len(), 1);

    let appeal_file = dir.path().join("appeals.txt");
    std::fs::write(&appeal_file, format!("0x{}  # cleared by hand\n", hex(4))).expect("write");
    let appeals = read_appeals(&appeal_file).expect("appeals");
    let r = detect(&inp, &Config::hop_method(), &appeals);
    let out = dir.path().join("clusters.csv");
    write_clusters_csv(&out, &r, &inp.wallets).expect("write");
    let text = std::fs::read_to_string(&out).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "address,cluster_id,cluster_size,signals,score,action"
    );
    assert_eq!(lines.len(), 10);
    assert!(lines[1].starts_with(&format!("0x{},c", hex(1))));
    assert!(
        lines[1].ends_with(",9,transfer_graph|funder_star,0.800,exclude"),
        "{}",
        lines[1]
    );
    assert!(text.contains(&format!("0x{},", hex(4))) && text.contains("cleared"));
    // Same inputs, same bytes; no temp file left behind.
    write_clusters_csv(
        &out,
        &detect(&inp, &Config::hop_method(), &appeals),
        &inp.wallets,
    )
    .expect("write");
    assert_eq!(std::fs::read_to_string(&out).expect("read"), text);
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 6);

    let rows = read_clusters_csv(&out).expect("read back");
    assert_eq!(rows.len(), 9);
    assert_eq!(
        rows.iter().filter(|r| r.action == Action::Cleared).count(),
        1
    );
    let labels_file = dir.path().join("labels.csv");
    std::fs::write(
        &labels_file,
        format!(
            "address,label\n0x{},sybil\n0x{},clean\n0x{},sybil\n",
            hex(1),
            hex(4),
            hex(77)
        ),
    )
    .expect("write");
    let labels = read_labels(&labels_file).expect("labels");
    assert_eq!(labels[0].1, Label::Sybil);
    let (all, _, _) = fairdrop_sybil::eval::evaluate_files(&out, &labels_file).expect("eval");
    assert_eq!(
        (all.true_pos, all.false_pos, all.false_neg, all.true_neg),
        (1, 0, 1, 1)
    );
    let pred: Vec<Address> = rows
        .iter()
        .filter(|r| r.action.is_sybil())
        .map(|r| r.address)
        .collect();
    let s = evaluate(&labels, Split::All, |a| pred.contains(a));
    assert_eq!(
        (s.true_pos, s.false_pos, s.false_neg, s.true_neg),
        (1, 0, 1, 1)
    );
}

#[test]
fn errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("bad.csv");
    std::fs::write(
        &p,
        format!("from,to\n0x{},0x{}\n0xzz,0x{}\n", hex(1), hex(2), hex(3)),
    )
    .expect("write");
    let mut inp = SybilInput::new();
    let e = load_transfers(&mut inp, std::slice::from_ref(&p)).expect_err("bad address");
    let msg = e.to_string();
    assert!(msg.contains("bad.csv:3:"), "{msg}");
    assert!(matches!(e, SybilError::Line { line: 3, .. }));

    let h = dir.path().join("noheader.csv");
    std::fs::write(&h, format!("0x{},0x{}\n", hex(1), hex(2))).expect("write");
    let e = load_transfers(&mut inp, &[h]).expect_err("no header");
    assert!(e.to_string().contains("noheader.csv:1:"), "{e}");
    assert_eq!(e.rule(), "sybil.header");

    let cols = dir.path().join("cols.csv");
    std::fs::write(&cols, format!("from,to\n0x{}\n", hex(1))).expect("write");
    let e = load_transfers(&mut inp, &[cols]).expect_err("short row");
    assert!(e.to_string().contains("cols.csv:2:"), "{e}");

    let l = dir.path().join("labels.csv");
    std::fs::write(&l, format!("address,label\n0x{},maybe\n", hex(1))).expect("write");
    let e = read_labels(&l).expect_err("bad label");
    assert!(e.to_string().contains("labels.csv:2:"), "{e}");

    let missing = dir.path().join("missing.csv.gz");
    let e = load_transfers(&mut inp, &[missing]).expect_err("missing");
    assert!(e.to_string().contains("missing.csv.gz"), "{e}");

    let gz = dir.path().join("broken.csv.gz");
    std::fs::write(&gz, b"\x1f\x8b\x08\x00garbage").expect("write");
    assert!(load_transfers(&mut inp, &[gz]).is_err());
}
