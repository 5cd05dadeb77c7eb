//! Run the sybil detector on the Hop airdrop data and score it on the dev labels.
//!
//! `cargo run --release -p fairdrop-sybil --example hop_eval [-- HOP_DIR [OUT.csv]]`

use std::path::PathBuf;
use std::time::Instant;

use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::eval::{evaluate, Split};
use fairdrop_sybil::load::{load_hop_dir, read_labels};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/eval/hop"
        ))
    });
    let t0 = Instant::now();
    let input = match load_hop_dir(&dir) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let t_load = t0.elapsed();
    let labels = match read_labels(&dir.join("labels-dev.csv")) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "Hop: {} wallets, {} transfer rows, {} hub entries, {} allowed, {} candidates, {} dev labels; load {:.2?}",
        input.n_wallets(),
        input.transfers.len(),
        input.hubs.len(),
        input.allow.len(),
        input.candidates.len(),
        labels.len(),
        t_load
    );
    for (name, cfg) in [
        ("hop method (reproduction)", Config::hop_method()),
        ("fairdrop (default)", Config::default()),
    ] {
        let t = Instant::now();
        let report = detect(&input, &cfg, &Appeals::default());
        let dt = t.elapsed();
        let mask = report.sybil_mask(input.n_wallets());
        let is = |a: &fairdrop_core::Address| {
            input
                .wallets
                .get(a)
                .map(|i| mask[i as usize])
                .unwrap_or(false)
        };
        println!(
            "\n== {name}: detect {:.2?} (load + detect {:.2?})",
            dt,
            t_load + dt
        );
        println!("  dev all : {}", evaluate(&labels, Split::All, is));
        println!("  dev A   : {}", evaluate(&labels, Split::A, is));
        println!("  dev B   : {}", evaluate(&labels, Split::B, is));
        let sizes: Vec<usize> = report.clusters.iter().map(|c| c.members.len()).collect();
        let flagged = report.verdicts.len();
        println!(
            "  clusters {} (largest {}, median {}), flagged wallets {}, {:?}",
            sizes.len(),
            sizes.iter().max().copied().unwrap_or(0),
            {
                let mut s = sizes.clone();
                s.sort();
                s.get(s.len() / 2).copied().unwrap_or(0)
            },
            flagged,
            report.stats
        );
        if let Some(out) = args.get(2) {
            if name.starts_with("fairdrop") {
                if let Err(e) = fairdrop_sybil::output::write_clusters_csv(
                    std::path::Path::new(out),
                    &report,
                    &input.wallets,
                ) {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            }
        }
    }
}
