//! Crash test: the real server as a child process, claim load from concurrent keep-alive
//! connections, SIGKILL five times mid-load, restart on the same ledger, finish. Every
//! acknowledged claim must be in the ledger, none twice, each with exactly one payout row.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fairdrop_claim::fixture::{build_dist, FixtureOptions};
use fairdrop_claim::http_client::Conn;
use fairdrop_claim::ProofChecker;

fn start(dist: &Path, db: &Path, key: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fairdrop-claim-testserver"))
        .arg(dist)
        .arg(db)
        .arg(key)
        .arg("127.0.0.1:0")
        .arg("--no-rate-limit")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the test server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no listening line from the server: {line:?}"));
    (child, addr)
}

#[test]
fn sigkill_under_claim_load_loses_no_acknowledged_claim_and_pays_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            eligible: 3000,
            ineligible: 0,
            profiles: vec![fairdrop_merkle::Profile::Uniswap],
            progress: false,
            ..Default::default()
        },
    )
    .unwrap();
    let db = dir.path().join("claims.db");
    let store =
        fairdrop_merkle::store::ProofStore::open(&fx.dist.join("proofs-uniswap.bin")).unwrap();
    let checker = fairdrop_claim::StoreChecker::new(store);
    let bodies: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
        fx.eligible
            .iter()
            .map(|(a, amount)| {
                let e = checker.lookup(a).unwrap();
                let b = serde_json::json!({"address": a, "amount": amount.to_string(), "proof": e.proof, "profile": "uniswap"});
                (a.clone(), serde_json::to_vec(&b).unwrap())
            })
            .collect(),
    );
    let acked: Arc<Mutex<BTreeSet<String>>> = Default::default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let kills = 5;
    let mut killed_mid_load = 0;
    for round in 0..=kills {
        let (mut child, addr) = start(&fx.dist, &db, &fx.secret_key);
        // Everything not yet acknowledged is submitted (again): a claim whose answer was lost
        // in a crash comes back as a duplicate with its receipt.
        let todo: Arc<Vec<usize>> = Arc::new({
            let a = acked.lock().unwrap();
            (0..bodies.len())
                .filter(|i| !a.contains(&bodies[*i].0))
                .collect()
        });
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (todo, next, bodies, acked) =
                (todo.clone(), next.clone(), bodies.clone(), acked.clone());
            tasks.push(rt.spawn(async move {
                let mut conn = match Conn::connect(addr).await {
                    Ok(c) => c,
                    Err(_) => return,
                };
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = todo.get(k) else { return };
                    let (a, body) = &bodies[i];
                    match conn.request("POST", "/v1/claims", Some(body)).await {
                        Ok(r) if r.status == 201 || r.status == 200 => {
                            assert_eq!(r.json()["receipt"]["address"], a.as_str());
                            acked.lock().unwrap().insert(a.clone());
                        }
                        Ok(r) => panic!(
                            "claim answered {}: {}",
                            r.status,
                            String::from_utf8_lossy(&r.body)
                        ),
                        Err(_) => return, // the server died
                    }
                }
            }));
        }
        if round < kills {
            // Kill once a few hundred more claims are in (a different number each round),
            // so every kill lands while claims are being committed.
            let target = bodies.len() - todo.len() + 300 + 53 * round;
            let t0 = Instant::now();
            while acked.lock().unwrap().len() < target && t0.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_millis(2));
            }
            let before = acked.lock().unwrap().len();
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            eprintln!(
                "round {round}: SIGKILL with {before} of {} claims acknowledged",
                bodies.len()
            );
            if before < bodies.len() {
                killed_mid_load += 1;
            }
            for t in tasks {
                let _ = rt.block_on(t);
            }
        } else {
            let t0 = Instant::now();
            for t in tasks {
                rt.block_on(t).unwrap();
            }
            assert!(t0.elapsed() < Duration::from_secs(60));
            // Graceful shutdown on SIGTERM: exit 0.
            let st = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(st.success());
            let code = child.wait().unwrap();
            assert!(
                code.success(),
                "SIGTERM should stop the server cleanly: {code:?}"
            );
        }
    }
    assert_eq!(killed_mid_load, kills, "every kill should land under load");
    let acked = acked.lock().unwrap();
    assert_eq!(
        acked.len(),
        bodies.len(),
        "the last round finishes every claim"
    );

    let ledger = fairdrop_claim::read_ledger(&db).unwrap();
    let claims = ledger["claims"].as_array().unwrap();
    let mut seen = BTreeSet::new();
    for c in claims {
        assert!(
            seen.insert(c["address"].as_str().unwrap().to_string()),
            "claimed twice: {c}"
        );
    }
    for a in acked.iter() {
        assert!(seen.contains(a), "acknowledged claim {a} is missing");
    }
    let mut paid: BTreeMap<String, u32> = BTreeMap::new();
    for p in ledger["payouts"].as_array().unwrap() {
        *paid
            .entry(p["address"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(paid.len(), seen.len());
    assert!(paid.values().all(|n| *n == 1), "a payout row twice");
    let amounts: BTreeMap<&str, u128> = fx.eligible.iter().map(|(a, m)| (a.as_str(), *m)).collect();
    for c in claims {
        let a = c["address"].as_str().unwrap();
        assert_eq!(c["amount"], amounts[a].to_string());
    }
    let integrity: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}
