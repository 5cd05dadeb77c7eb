//! Run the sybil detector on a simulated world and score it against the simulator's truth.
//!
//! ```text
//! fairdrop demo --wallets 100000 --seed 7 --out /tmp/d      # world + a campaign run
//! cargo run --release -p fairdrop-sybil --example sim_eval -- /tmp/d/world [/tmp/d/run]
//! ```
//!
//! With a run folder, candidates are the wallets that passed the campaign's gates (as in the
//! pipeline and the demo); the detector is also run with every wallet a candidate. Prints
//! precision and recall, the false-positive rate among honest wallets that share an exchange
//! funder, a friend group or an owner, and the share flagged per truth kind.

#[path = "../tests/common/simworld.rs"]
mod simworld;

use std::path::PathBuf;
use std::time::Instant;

use fairdrop_sybil::detect::{detect, Appeals, Config};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1).map(PathBuf::from) else {
        eprintln!("usage: sim_eval WORLD_DIR [RUN_DIR] [--edge-only] [--no-hubs]");
        std::process::exit(2);
    };
    let run = args
        .get(2)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from);
    let edge_only = args.iter().any(|a| a == "--edge-only");
    let no_hubs = args.iter().any(|a| a == "--no-hubs");
    let t = Instant::now();
    let mut world = simworld::load(&dir, run.as_deref());
    println!(
        "world {}: {} wallets, {} transfers, {} activity rows; load {:.2?}",
        dir.display(),
        world.input.n_wallets(),
        world.input.transfers.len(),
        world.input.activity.len(),
        t.elapsed()
    );
    if no_hubs {
        // Robustness: no hub list at all, automatic hubs only.
        world.input.hubs.clear();
    }
    let cfg = if edge_only {
        Config::default()
    } else {
        Config::for_events(8)
    };
    if let Some(g) = world.gated.clone() {
        world.input.candidates = g.clone();
        let t = Instant::now();
        let r = detect(&world.input, &cfg, &Appeals::default());
        let el = t.elapsed();
        let f = simworld::figures(&world, &r, &g);
        println!(
            "candidates = wallets past the gates ({}): detect {el:.2?}, {} clusters\n{f}",
            g.len(),
            r.clusters.len()
        );
    }
    let all = simworld::all_wallets(&world);
    world.input.candidates = all.clone();
    let t = Instant::now();
    let r = detect(&world.input, &cfg, &Appeals::default());
    let el = t.elapsed();
    let f = simworld::figures(&world, &r, &all);
    println!(
        "candidates = all wallets ({}): detect {el:.2?}, {} clusters\n{f}",
        all.len(),
        r.clusters.len()
    );
}
