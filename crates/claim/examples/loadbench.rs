//! Load benchmark of the claim service over loopback.
//!
//! `cargo run --release -p fairdrop-claim --example loadbench -- [--wallets 1000000]
//! [--conns 32] [--seconds 10] [--claims 20000] [--healthz 1]`
//!
//! Builds a synthetic dist of `--wallets` eligible wallets (uniswap profile), serves it
//! in-process (2 server threads, rate limiting off), and drives it from `--conns` keep-alive
//! connections (one client thread, a minimal HTTP/1.1 client): eligibility lookups of random
//! wallets for `--seconds`, then `--claims` durable claims of distinct wallets
//! (`synchronous=FULL`, acknowledged only after commit). Prints requests/s and latency
//! percentiles beside the targets and the named peer (Jito's claim API on launch
//! day: 10,000 requests/s).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fairdrop_claim::fixture::{build_dist, FixtureOptions};
use fairdrop_claim::http_client::Conn;
use fairdrop_claim::{Limits, ProofChecker, ServeConfig};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let wallets = arg("--wallets", 1_000_000) as usize;
    let conns = arg("--conns", 32) as usize;
    let seconds = arg("--seconds", 10);
    let n_claims = (arg("--claims", 20_000) as usize).min(wallets);
    let dir = tempfile::tempdir().expect("temp dir");

    let t = Instant::now();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            eligible: wallets,
            ineligible: 0,
            profiles: vec![fairdrop_merkle::Profile::Uniswap],
            progress: false,
            ..Default::default()
        },
    )
    .expect("build the synthetic dist");
    println!(
        "dist: {wallets} eligible wallets built in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let db = dir.path().join("claims.db");
    let mut cfg = ServeConfig::new(
        &fx.dist,
        &db,
        "127.0.0.1:0".parse().unwrap(),
        &fx.secret_key,
    );
    cfg.limits = Limits {
        rate_per_sec: 0.0,
        max_concurrency: 100_000,
        ..Limits::default()
    };
    let t = Instant::now();
    let app = fairdrop_claim::open_app(&cfg).expect("open the service");
    println!(
        "service: loaded and checked in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Server: its own 2-thread runtime.
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            axum::serve(
                l,
                fairdrop_claim::router(app).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
    });
    let addr = rx.recv().unwrap();

    // Claim bodies (distinct wallets), prepared before the clock starts.
    let store =
        fairdrop_merkle::store::ProofStore::open(&fx.dist.join("proofs-uniswap.bin")).unwrap();
    let checker = fairdrop_claim::StoreChecker::new(store);
    let step = (wallets / n_claims.max(1)).max(1);
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..n_claims)
            .map(|k| {
                let (a, amount) = &fx.eligible[k * step];
                let e = checker.lookup(a).unwrap();
                serde_json::to_vec(&serde_json::json!({"address": a, "amount": amount.to_string(), "proof": e.proof, "profile": "uniswap"})).unwrap()
            })
            .collect(),
    );
    let paths: Arc<Vec<String>> = Arc::new(
        fx.eligible
            .iter()
            .map(|(a, _)| format!("/v1/eligibility/{a}"))
            .collect(),
    );
    drop(fx.eligible);

    // Client: one thread.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // Warm-up.
    rt.block_on(async {
        let mut c = Conn::connect(addr).await.unwrap();
        for p in paths.iter().take(2000) {
            assert_eq!(c.request("GET", p, None).await.unwrap().status, 200);
        }
    });

    // 0. (--healthz 1) The framework's ceiling on this machine: GET /healthz, same clients.
    if arg("--healthz", 0) == 1 {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let t = Instant::now();
        let n: usize = rt.block_on(async {
            let mut tasks = Vec::new();
            for _ in 0..conns {
                tasks.push(tokio::spawn(async move {
                    let mut conn = Conn::connect(addr).await.unwrap();
                    let mut n = 0;
                    while Instant::now() < deadline {
                        conn.request("GET", "/healthz", None).await.unwrap();
                        n += 1;
                    }
                    n
                }));
            }
            let mut all = 0;
            for t in tasks {
                all += t.await.unwrap();
            }
            all
        });
        println!(
            "healthz: {:.0} req/s (the ceiling of server + client on this machine)",
            n as f64 / t.elapsed().as_secs_f64()
        );
    }

    // 1. Eligibility lookups.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let t = Instant::now();
    let lat: Vec<u32> = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..conns {
            let paths = paths.clone();
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::connect(addr).await.unwrap();
                let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1);
                let mut lat = Vec::with_capacity(1 << 16);
                while Instant::now() < deadline {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let p = &paths[(x % paths.len() as u64) as usize];
                    let t = Instant::now();
                    let r = conn.request("GET", p, None).await.unwrap();
                    assert_eq!(r.status, 200);
                    lat.push(t.elapsed().as_micros() as u32);
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let el = t.elapsed().as_secs_f64();
    let mut lat = lat;
    lat.sort_unstable();
    let rps = lat.len() as f64 / el;
    println!(
        "eligibility: {} lookups in {el:.1} s over {conns} connections: {rps:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms (target >= 30000 req/s, p99 <= 10 ms; peer: Jito launch day 10000 req/s)",
        lat.len(),
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        pct(&lat, 0.999)
    );

    // 2. Durable claims.
    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let lat: Vec<u32> = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let (bodies, next) = (bodies.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::connect(addr).await.unwrap();
                let mut lat = Vec::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(b) = bodies.get(k) else { break };
                    let t = Instant::now();
                    let r = conn.request("POST", "/v1/claims", Some(b)).await.unwrap();
                    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
                    lat.push(t.elapsed().as_micros() as u32);
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let el = t.elapsed().as_secs_f64();
    let mut lat = lat;
    lat.sort_unstable();
    println!(
        "claims: {} durable claims (synchronous=FULL, group commit) in {el:.1} s over {conns} connections: {:.0} claims/s, p50 {:.2} ms, p99 {:.2} ms (target >= 2000 claims/s)",
        lat.len(),
        lat.len() as f64 / el,
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    let rows = fairdrop_claim::read_ledger(&db).unwrap()["payouts"]
        .as_array()
        .map(|a| a.len())
        .unwrap_or(0);
    println!("ledger: {rows} payout rows for {} claims", lat.len());
}
