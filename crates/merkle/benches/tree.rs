//! Benchmark: 1M `oz` leaves, tree + dump + every proof written, beside the
//! `@openzeppelin/merkle-tree` npm package on the same input at a smaller N.
//!
//! `cargo bench -p fairdrop-merkle` (release). Env: `FAIRDROP_BENCH_N` (default 1,000,000),
//! `FAIRDROP_BENCH_NPM_N` (default 20,000; 0 skips the npm side). Prints figures; asserts
//! nothing about speed.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use fairdrop_merkle::hash::hex32;
use fairdrop_merkle::profile::{build, read_allocations, Allocation, ClaimAddress, Profile};
use fairdrop_merkle::store;

/// CPU seconds (user + system) this process has used so far, from /proc (Linux); 0 elsewhere.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0 // utime, stime (fields 14, 15); USER_HZ = 100
}

fn env_usize(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn allocations(n: usize) -> Vec<Allocation> {
    let mut s: u64 = 0x1234_5678_9abc_def1;
    let mut next = || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut v: Vec<Allocation> = (0..n)
        .map(|i| {
            let mut a = [0u8; 20];
            a[..8].copy_from_slice(&next().to_le_bytes());
            a[8..16].copy_from_slice(&next().to_le_bytes());
            a[16..].copy_from_slice(&(i as u32).to_le_bytes());
            Allocation {
                address: ClaimAddress::Evm(a),
                amount: (next() % 1_000_000_000_000) as u128 + 1,
                tier: None,
                line: i as u64 + 2,
            }
        })
        .collect();
    v.sort_by_key(|a| a.address);
    v
}

struct Ours {
    cpu_core: f64,
    dump_gen: f64,
    write_all: f64,
    build: f64,
    dump: f64,
    proofs: f64,
    store: f64,
    root: String,
    proof_bytes: usize,
}

fn run_ours(rows: &[Allocation], dir: &Path) -> Ours {
    let c0 = cpu_seconds();
    let t0 = Instant::now();
    let t = build(Profile::Oz, rows).expect("build");
    let build_s = t0.elapsed().as_secs_f64();
    let t1b = Instant::now();
    t.write_outputs(dir).expect("tree.json");
    let t2 = Instant::now();
    store::write(&t, &dir.join("proofs.store")).expect("store");
    let t3 = Instant::now();
    let cpu_core = cpu_seconds() - c0;
    let dump_gen = {
        let g = Instant::now();
        let b = t.output_bytes();
        std::hint::black_box(&b);
        g.elapsed().as_secs_f64()
    };
    // what `fairdrop tree` does: both files at once
    let both = dir.join("both");
    let tb = Instant::now();
    t.write_all(&both).expect("write_all");
    let write_all = tb.elapsed().as_secs_f64();
    let tj = Instant::now();
    let proofs = t.proofs_jsonl();
    let proof_bytes = proofs.len();
    fairdrop_core::fsutil::write_atomic(dir.join("proofs.jsonl"), &proofs).expect("proofs");
    drop(proofs);
    let t4 = Instant::now();
    Ours {
        cpu_core,
        write_all,
        build: build_s,
        dump: (t2 - t1b).as_secs_f64(),
        dump_gen,
        store: (t3 - t2).as_secs_f64(),
        proofs: (t4 - tj).as_secs_f64(),
        root: hex32(&t.root()),
        proof_bytes,
    }
}

fn main() {
    let n = env_usize("FAIRDROP_BENCH_N", 1_000_000);
    let npm_n = env_usize("FAIRDROP_BENCH_NPM_N", 20_000).min(n);
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "fairdrop-merkle bench: oz profile, {n} leaves, {} threads",
        rayon::current_num_threads()
    );

    let rows = allocations(n);
    // CSV parsing, for the record.
    let csv = dir.path().join("alloc.csv");
    let mut text = String::with_capacity(n * 64);
    text.push_str("address,amount\n");
    for r in &rows {
        text.push_str(&format!("{},{}\n", r.address, r.amount));
    }
    std::fs::write(&csv, text).expect("csv");
    let tc = Instant::now();
    let parsed = read_allocations(&csv, Profile::Oz).expect("csv parses");
    let csv_s = tc.elapsed().as_secs_f64();
    assert_eq!(parsed.len(), n);
    drop(parsed);

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let o = run_ours(&rows, dir.path());
    let core = o.build + o.dump + o.store;
    let total = core + o.proofs;
    println!("  csv parse (checked, EIP-55)        {:>8.3} s", csv_s);
    println!("  build (hash, sort, tree)           {:>8.3} s", o.build);
    println!(
        "  tree.json (standard-v1 dump)       {:>8.3} s  (of which {:.3} s making the bytes, the rest write + fsync)",
        o.dump, o.dump_gen
    );
    println!("  proof store (every proof, O(1))    {:>8.3} s", o.store);
    println!(
        "  = tree + dump + store               {:>8.3} s  = {:.2} us/leaf   root {}",
        core,
        core * 1e6 / n as f64,
        o.root
    );
    println!(
        "  tree.json + store together (write_all) {:>5.3} s  -> build + write_all = {:.3} s = {:.2} us/leaf",
        o.write_all,
        o.build + o.write_all,
        (o.build + o.write_all) * 1e6 / n as f64
    );
    println!(
        "  CPU time (user+sys, both threads) of tree + dump + store: {:.2} s; load average before: {}",
        o.cpu_core,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "  every proof as hex -> proofs.jsonl {:>8.3} s  ({} MB, disk-bound)",
        o.proofs,
        o.proof_bytes >> 20
    );
    println!(
        "  = all of the above                  {:>8.3} s  = {:.2} us/leaf",
        total,
        total * 1e6 / n as f64
    );

    if npm_n == 0 {
        return;
    }
    let npm = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/npm");
    if !npm.join("node_modules/@openzeppelin/merkle-tree").exists() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&npm)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            println!("  npm side skipped: `npm ci` failed in {}", npm.display());
            return;
        }
    }
    // Same input, first npm_n allocations (already in the order our build uses).
    let small = &rows[..npm_n];
    let values: Vec<[String; 2]> = small
        .iter()
        .map(|r| match r.address {
            ClaimAddress::Evm(a) => [format!("0x{}", hex::encode(a)), r.amount.to_string()],
            _ => unreachable!(),
        })
        .collect();
    let input = dir.path().join("npm-input.json");
    std::fs::write(&input, serde_json::to_vec(&values).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(npm.join("bench.js"))
        .arg(&input)
        .current_dir(&npm)
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            println!("  npm side failed: {}", String::from_utf8_lossy(&o.stderr));
            return;
        }
        Err(e) => {
            println!("  npm side skipped: cannot run node: {e}");
            return;
        }
    };
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bench.js prints JSON");
    let small_dir = dir.path().join("small");
    std::fs::create_dir_all(&small_dir).unwrap();
    let os = run_ours(small, &small_dir);
    assert_eq!(
        j["root"].as_str(),
        Some(os.root.as_str()),
        "same input, same root as npm"
    );
    let npm_total = j["total_ms"].as_f64().unwrap() / 1e3;
    let npm_per_leaf = npm_total * 1e6 / npm_n as f64;
    // like for like: build + dump + every proof written as hex JSON lines (+ our store)
    let ours_small = os.build + os.dump + os.store + os.proofs;
    let ours_per_leaf = core * 1e6 / n as f64;
    let ours_full_per_leaf = total * 1e6 / n as f64;
    println!("@openzeppelin/merkle-tree 1.0.8 on the same input, {npm_n} leaves (same root):");
    println!(
        "  build {:.3} s, dump {:.3} s, every proof {:.3} s, TOTAL {:.3} s = {:.2} us/leaf",
        j["build_ms"].as_f64().unwrap() / 1e3,
        j["dump_ms"].as_f64().unwrap() / 1e3,
        j["proofs_ms"].as_f64().unwrap() / 1e3,
        npm_total,
        npm_per_leaf
    );
    println!(
        "  fairdrop at {npm_n} leaves: {:.3} s = {:.2} us/leaf ({:.0}x faster)",
        ours_small,
        ours_small * 1e6 / npm_n as f64,
        npm_total / ours_small
    );
    println!(
        "  per leaf, fairdrop at {n} (tree + dump + store) vs npm at {npm_n}: {:.2} vs {:.2} us = {:.0}x faster",
        ours_per_leaf,
        npm_per_leaf,
        npm_per_leaf / ours_per_leaf,
    );
    println!(
        "  per leaf, fairdrop at {n} (also every proof as hex JSONL) vs npm: {:.2} vs {:.2} us = {:.0}x faster; npm extrapolated to {n}: {:.0} s",
        ours_full_per_leaf,
        npm_per_leaf,
        npm_per_leaf / ours_full_per_leaf,
        npm_per_leaf * n as f64 / 1e6
    );
}
