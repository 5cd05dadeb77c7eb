//! Times the allocation of the Aleo pool (150M ALEO in microcredits) over 1,000,000 wallets under
//! every method, with floor and cap, plus the CSV writer and the report statistics.
//!
//! ```text
//! cargo run --release -p fairdrop-allocate --example allocate_1m [-- WALLETS]
//! ```
//!
//! There is no peer engine for exact fixed-pool allocation to compare with; the figure printed
//! beside each timing is the throughput and the time per wallet.

use std::collections::BTreeMap;
use std::time::Instant;

use fairdrop_allocate::stats::Sorted;
use fairdrop_allocate::{
    allocate, allocate_owned, write_allocations_csv, AllocationPolicy, Method, Recipient, TierRule,
};

/// SplitMix64: a deterministic, dependency-free generator for the synthetic wallets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let pool: u128 = 150_000_000 * 1_000_000;
    let mut rng = Rng(2024);
    let charset = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let recipients: Vec<Recipient> = (0..n)
        .map(|_| {
            let mut key = String::with_capacity(63);
            key.push_str("aleo1");
            for _ in 0..58 {
                key.push(charset[(rng.next() % 32) as usize] as char);
            }
            // Heavy-tailed points: most wallets small, a few very large; ~5% zero.
            let r = rng.next();
            let points = if r.is_multiple_of(20) {
                0
            } else {
                let scale = 1u64 << (rng.next() % 24);
                1 + rng.next() % scale
            };
            let tier = ["bronze", "silver", "gold"][(points.min(2_000_000) / 700_000) as usize];
            Recipient {
                key,
                points,
                tier: Some(tier.to_string()),
            }
        })
        .collect();

    let mut tiers = BTreeMap::new();
    tiers.insert("bronze".to_string(), TierRule::Weight(1));
    tiers.insert("silver".to_string(), TierRule::Weight(3));
    tiers.insert("gold".to_string(), TierRule::Weight(10));

    let floor = 10 * 1_000_000; // 10 ALEO
    let cap = 5_000 * 1_000_000; // 5,000 ALEO
    println!("fairdrop-allocate: {n} wallets, pool {pool} microcredits, floor {floor}, cap {cap}");
    let mut last = Vec::new();
    for method in [
        Method::Linear,
        Method::Sqrt,
        Method::Log,
        Method::Equal,
        Method::TierTable(tiers),
    ] {
        for (label, policy) in [
            ("plain", AllocationPolicy::new(pool, method.clone())),
            (
                "floor+cap",
                AllocationPolicy::new(pool, method.clone())
                    .with_floor(floor)
                    .with_cap(cap),
            ),
        ] {
            let t = Instant::now();
            let out = allocate(&recipients, &policy).expect("feasible policy");
            let dt = t.elapsed().as_secs_f64();
            assert_eq!(out.iter().map(|a| a.amount).sum::<u128>(), pool);
            report(&format!("allocate {} {label}", method.name()), dt, n);
            last = out;
        }
    }

    // The scorer reads events sorted by address, so its wallets usually arrive in key order,
    // their strings allocated in that order too.
    let mut by_key: Vec<&Recipient> = recipients.iter().collect();
    by_key.sort_by(|a, b| a.key.cmp(&b.key));
    let sorted: Vec<Recipient> = by_key.into_iter().cloned().collect();
    let policy = AllocationPolicy::new(pool, Method::Sqrt)
        .with_floor(floor)
        .with_cap(cap);
    let expect = allocate(&recipients, &policy).expect("feasible policy");
    for (label, input) in [("random order", &recipients), ("key order", &sorted)] {
        let t = Instant::now();
        let out = allocate(input, &policy).expect("feasible policy");
        let dt = t.elapsed().as_secs_f64();
        report(&format!("allocate sqrt floor+cap, {label}"), dt, n);
        assert_eq!(out, expect);
        let copy = input.clone();
        let t = Instant::now();
        let out = allocate_owned(copy, &policy).expect("feasible policy");
        let dt = t.elapsed().as_secs_f64();
        report(&format!("allocate_owned sqrt floor+cap, {label}"), dt, n);
        assert_eq!(out, expect);
    }

    let t = Instant::now();
    let mut sink = std::io::sink();
    write_allocations_csv(&mut sink, &last).unwrap();
    report(
        "write allocations.csv (to a sink)",
        t.elapsed().as_secs_f64(),
        n,
    );

    let t = Instant::now();
    let d = Sorted::new(last.iter().map(|a| a.amount)).describe(100);
    let p = Sorted::new(recipients.iter().map(|r| r.points as u128)).describe(100);
    report("stats of amounts and points", t.elapsed().as_secs_f64(), n);
    println!(
        "  gini amounts {:.4}, gini points {:.4}, top 1% {:.4}, top 10% {:.4}",
        d.gini, p.gini, d.top_1pct_share, d.top_10pct_share
    );
}

fn report(what: &str, secs: f64, n: usize) {
    println!(
        "{what:<46} {secs:>7.3} s  {:>6.2} M wallets/s  {:>6.0} ns/wallet",
        n as f64 / secs / 1e6,
        secs * 1e9 / n as f64
    );
}
