//! Grid search of the detector's main settings, choosing on half A of the dev labels and
//! reporting half B beside it (so a setting that only fits A shows up).
//!
//! `cargo run --release -p fairdrop-sybil --example tune` (about half a minute).
use std::path::PathBuf;

use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::eval::{evaluate, Split};
use fairdrop_sybil::load::{load_hop_dir, read_labels};

fn main() {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/eval/hop"
    ));
    let input = match load_hop_dir(&dir) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let labels = match read_labels(&dir.join("labels-dev.csv")) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let mut rows = Vec::new();
    for auto in [0usize, 50] {
        for loose in [false, true] {
            for res in [0.5, 1.0, 2.0] {
                for share in [0.08, 0.1, 0.12, 0.15] {
                    let cfg = Config {
                        auto_hub_min_degree: auto,
                        louvain_loose: loose,
                        louvain_resolution: res,
                        min_candidate_share: share,
                        ..Config::default()
                    };
                    let r = detect(&input, &cfg, &Appeals::default());
                    let m = r.sybil_mask(input.n_wallets());
                    let is = |a: &fairdrop_core::Address| {
                        input.wallets.get(a).map(|i| m[i as usize]).unwrap_or(false)
                    };
                    let a = evaluate(&labels, Split::A, is);
                    let b = evaluate(&labels, Split::B, is);
                    rows.push((
                        a.f1,
                        a.precision,
                        format!(
                            "auto {auto:3} loose {loose:5} res {res} share {share:.2}: \
                             A P {:.4} R {:.4} F1 {:.4} | B P {:.4} R {:.4} F1 {:.4}",
                            a.precision, a.recall, a.f1, b.precision, b.recall, b.f1
                        ),
                    ));
                }
            }
        }
    }
    rows.sort_by(|x, y| y.0.total_cmp(&x.0));
    println!("best on half A with precision >= 0.90 (half B beside):");
    for r in rows.iter().filter(|r| r.1 >= 0.9).take(15) {
        println!("  {}", r.2);
    }
}
