//! A stand-in snarkOS REST node for import tests: serves `/{network}/blocks?start=&end=` and
//! `/{network}/block/height/latest` from a list of block JSON texts, and misbehaves on demand
//! (429 with Retry-After, 500, a slow answer, a truncated body) per call number.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

#[derive(Clone, Copy, Debug)]
#[allow(dead_code)]
pub enum Fault {
    TooMany,
    ServerError,
    Slow(Duration),
    Truncated,
}

pub struct Node {
    pub addr: SocketAddr,
    pub calls: Arc<AtomicUsize>,
    _thread: std::thread::JoinHandle<()>,
}

struct Inner {
    blocks: BTreeMap<u64, String>,
    /// Faults by call number (0-based, over `blocks` calls).
    faults: Mutex<BTreeMap<usize, Fault>>,
    /// A fault for every call (a node that never answers well).
    always: Option<Fault>,
    /// Delay of every good answer.
    delay: Duration,
    calls: Arc<AtomicUsize>,
}

#[derive(serde::Deserialize)]
struct Range {
    start: u64,
    end: u64,
}

async fn blocks_route(State(s): State<Arc<Inner>>, Query(r): Query<Range>) -> Response {
    let n = s.calls.fetch_add(1, Ordering::SeqCst);
    let fault = s.always.or_else(|| s.faults.lock().unwrap().remove(&n));
    if !s.delay.is_zero() {
        tokio::time::sleep(s.delay).await;
    }
    if r.end <= r.start || r.end - r.start > 50 {
        return (StatusCode::UNPROCESSABLE_ENTITY, "bad range").into_response();
    }
    let body = format!(
        "[{}]",
        (r.start..r.end)
            .filter_map(|h| s.blocks.get(&h).cloned())
            .collect::<Vec<_>>()
            .join(",")
    );
    match fault {
        Some(Fault::TooMany) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            "slow down",
        )
            .into_response(),
        Some(Fault::ServerError) => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            body.into_response()
        }
        Some(Fault::Truncated) => body[..body.len() / 2].to_string().into_response(),
        None => body.into_response(),
    }
}

async fn latest(State(s): State<Arc<Inner>>) -> String {
    s.blocks.keys().last().copied().unwrap_or(0).to_string()
}

impl Node {
    /// Serve `blocks` (JSON texts with their heights) under `/mainnet`.
    pub fn start(
        blocks: Vec<(u64, String)>,
        faults: Vec<(usize, Fault)>,
        always: Option<Fault>,
        delay: Duration,
    ) -> Node {
        let calls = Arc::new(AtomicUsize::new(0));
        let inner = Arc::new(Inner {
            blocks: blocks.into_iter().collect(),
            faults: Mutex::new(faults.into_iter().collect()),
            always,
            delay,
            calls: calls.clone(),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = Router::new()
                    .route("/mainnet/blocks", get(blocks_route))
                    .route("/mainnet/block/height/latest", get(latest))
                    .with_state(inner);
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(l.local_addr().unwrap()).unwrap();
                axum::serve(l, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        Node {
            addr,
            calls,
            _thread: thread,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A block around real confirmed transactions (`(status, transaction JSON)`), laid out as
/// snarkOS serialises a block (`block_hash`, `previous_hash`, `header{previous_state_root, …,
/// metadata{network, round, height, cumulative_weight, …, timestamp}}`, `authority`,
/// `ratifications`, `solutions`, `aborted_solution_ids`, `transactions`,
/// `aborted_transaction_ids`). The hashes are placeholders: the importer does not check them.
#[allow(dead_code)]
pub fn block(height: u64, timestamp: i64, txs: &[(&str, &str)]) -> String {
    let confirmed: Vec<String> = txs
        .iter()
        .enumerate()
        .map(|(i, (status, tx))| {
            let kind = if tx.contains(r#""type":"deploy""#) { "deploy" } else { "execute" };
            if *status == "rejected" {
                // A rejected execution: the transaction kept on chain is its fee alone.
                let fee = fee_only(tx);
                format!(r#"{{"status":"rejected","type":"{kind}","index":{i},"transaction":{fee},"rejected":{{}},"finalize":[]}}"#)
            } else {
                format!(r#"{{"status":"{status}","type":"{kind}","index":{i},"transaction":{tx},"finalize":[]}}"#)
            }
        })
        .collect();
    format!(
        r#"{{"block_hash":"ab1placeholder{height}","previous_hash":"ab1placeholder{}","header":{{"previous_state_root":"sr1x","transactions_root":"1field","finalize_root":"1field","ratifications_root":"1field","solutions_root":"0field","subdag_root":"1field","metadata":{{"network":0,"round":{},"height":{height},"cumulative_weight":"340282366920938463463374607431768211455","cumulative_proof_target":"0","coinbase_target":1,"proof_target":1,"last_coinbase_target":1,"last_coinbase_timestamp":{timestamp},"timestamp":{timestamp}}}}},"authority":{{"type":"beacon","signature":"sign1x"}},"ratifications":[],"solutions":{{"version":1}},"aborted_solution_ids":[],"transactions":[{}],"aborted_transaction_ids":[]}}"#,
        height.saturating_sub(1),
        height * 2,
        confirmed.join(",")
    )
}

/// `{"type":"fee","id":…,"fee":…}` of a transaction (what a rejected one keeps).
fn fee_only(tx: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(tx).unwrap();
    serde_json::json!({"type": "fee", "id": v["id"], "fee": v["fee"]}).to_string()
}
