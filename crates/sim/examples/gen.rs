//! Times the simulator:
//! `cargo run --release -p fairdrop-sim --example gen -- N [SEED] [OUT] [csv|parquet]`.
//! Writes into OUT and prints wall time, events/s and the output size. Without OUT it writes
//! to a folder under the temp dir and deletes it afterwards.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wallets: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let keep = args.get(2).is_some();
    let out = args
        .get(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("fairdrop-sim-{wallets}")));
    let format = match args.get(3) {
        Some(f) => f.parse().unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        }),
        None => fairdrop_sim::OutputFormat::Csv,
    };
    let cfg = fairdrop_sim::SimConfig {
        wallets,
        seed,
        format,
        ..Default::default()
    };
    let t = Instant::now();
    let s = match fairdrop_sim::simulate(&cfg, &out) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let size: u64 = [
        "events.csv",
        "events.parquet",
        "truth.csv",
        "hubs.txt",
        "sim-summary.json",
    ]
    .iter()
    .filter_map(|f| std::fs::metadata(out.join(f)).ok())
    .map(|m| m.len())
    .sum();
    let ev_size = std::fs::metadata(&s.files.events)
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "{wallets} wallets, {} events ({:.1}/wallet) in {secs:.1} s: {:.0} events/s; events file {:.2} GB, total {:.2} GB in {}",
        s.events,
        s.events as f64 / wallets as f64,
        s.events as f64 / secs,
        ev_size as f64 / 1e9,
        size as f64 / 1e9,
        out.display()
    );
    println!("by label: {:?}", s.by_label);
    println!("by kind: {:?}", s.by_kind);
    println!("by action: {:?}", s.events_by_action);
    println!("farms: {}", s.farms.len());
    if !keep {
        let _ = std::fs::remove_dir_all(&out);
    }
}
