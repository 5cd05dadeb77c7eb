//! A thin binary around [`fairdrop_claim::serve`] for the crash test and benchmarks.
//!
//! `fairdrop-claim-testserver DIST DB SIGNING_KEY [LISTEN] [--no-rate-limit]`

fn main() {
    fairdrop_claim::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!(
            "usage: fairdrop-claim-testserver DIST DB SIGNING_KEY [LISTEN] [--no-rate-limit]"
        );
        std::process::exit(2);
    }
    let listen = args
        .get(3)
        .filter(|a| !a.starts_with("--"))
        .map(|s| s.parse().expect("LISTEN must be host:port"))
        .unwrap_or_else(|| "127.0.0.1:0".parse().expect("address"));
    let mut cfg = fairdrop_claim::ServeConfig::new(&args[0], &args[1], listen, &args[2]);
    if args.iter().any(|a| a == "--no-rate-limit") {
        cfg.limits.rate_per_sec = 0.0;
    }
    if let Err(e) = fairdrop_claim::serve(cfg) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
