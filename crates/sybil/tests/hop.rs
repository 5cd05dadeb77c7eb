//! The detector on the real Hop airdrop data (`../shared/eval/hop`), scored on the dev labels.
//!
//! Floors sit a little below the measured figures so that a regression fails. Measured
//! (dev labels, all / half A / half B by address hash):
//! - Hop's method reproduced: P 0.812 R 0.713 F1 0.759
//! - fairdrop default:        P 0.916 R 0.694 F1 0.790 (A: 0.921 / 0.694 / 0.791,
//!   B: 0.912 / 0.694 / 0.788)

use std::path::PathBuf;

use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::eval::{evaluate, Scores, Split};
use fairdrop_sybil::load::{load_hop_dir, read_labels, Label};
use fairdrop_sybil::output::clusters_csv;
use fairdrop_sybil::SybilInput;

fn hop_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/eval/hop"
    ));
    if !dir.join("labels-dev.csv").is_file() || !dir.join("transfers").is_dir() {
        panic!(
            "Hop evaluation data missing: expected {} with transfers/, hubs/, candidates.txt and \
             labels-dev.csv (the shared folder beside the repository)",
            dir.display()
        );
    }
    dir
}

fn score(
    input: &SybilInput,
    labels: &[(fairdrop_core::Address, Label)],
    cfg: &Config,
) -> (Scores, Scores, Scores, String) {
    let r = detect(input, cfg, &Appeals::default());
    let m = r.sybil_mask(input.n_wallets());
    let is =
        |a: &fairdrop_core::Address| input.wallets.get(a).map(|i| m[i as usize]).unwrap_or(false);
    (
        evaluate(labels, Split::All, is),
        evaluate(labels, Split::A, is),
        evaluate(labels, Split::B, is),
        clusters_csv(&r, &input.wallets),
    )
}

#[test]
fn hop_dev_labels() {
    let dir = hop_dir();
    let input = load_hop_dir(&dir).unwrap_or_else(|e| panic!("loading Hop data: {e}"));
    let labels = read_labels(&dir.join("labels-dev.csv")).unwrap_or_else(|e| panic!("labels: {e}"));
    assert_eq!(input.candidates.len(), 43_052);
    assert_eq!(input.transfers.len(), 1_736_921);
    assert!(labels.len() > 21_000);

    let (hop, _, _, _) = score(&input, &labels, &Config::hop_method());
    eprintln!("hop method: {hop}");
    assert!((hop.precision - 0.812).abs() < 0.01, "{hop}");
    assert!((hop.recall - 0.713).abs() < 0.01, "{hop}");

    let (all, a, b, csv) = score(&input, &labels, &Config::default());
    eprintln!("fairdrop: {all}\n  A {a}\n  B {b}");
    for s in [&all, &a, &b] {
        assert!(s.precision >= 0.905, "precision regressed: {s}");
        assert!(s.recall >= 0.685, "recall regressed: {s}");
        assert!(s.f1 >= 0.783, "F1 regressed: {s}");
    }
    assert!(all.f1 > hop.f1 + 0.02);
    // Deterministic output.
    let (_, _, _, csv2) = score(&input, &labels, &Config::default());
    assert_eq!(csv, csv2);
}
