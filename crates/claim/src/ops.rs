//! Operations: per-IP token-bucket rate limiting, Prometheus metrics, request ids.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

/// Token bucket per client IP: `rate` tokens per second, at most `burst`.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    shards: Vec<Mutex<HashMap<IpAddr, (f64, Instant)>>>,
}

/// A rate-limit decision.
#[derive(Clone, Copy, Debug)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until a token is available (when refused) or the bucket is full.
    pub retry_after: u64,
    pub reset: u64,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter {
            rate: rate.max(0.001),
            burst: burst.max(1) as f64,
            shards: (0..16).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Take one token for `ip`.
    pub fn check(&self, ip: IpAddr) -> Decision {
        let now = Instant::now();
        let shard = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            ip.hash(&mut h);
            (h.finish() as usize) % self.shards.len()
        };
        let mut m = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 100_000 {
            // Forget idle clients (full buckets) so the map does not grow without bound.
            let (rate, burst) = (self.rate, self.burst);
            m.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let e = m.entry(ip).or_insert((self.burst, now));
        let tokens = (e.0 + now.duration_since(e.1).as_secs_f64() * self.rate).min(self.burst);
        let allowed = tokens >= 1.0;
        let left = if allowed { tokens - 1.0 } else { tokens };
        *e = (left, now);
        let retry_after = if allowed {
            0
        } else {
            ((1.0 - left) / self.rate).ceil().max(1.0) as u64
        };
        Decision {
            allowed,
            limit: self.burst as u64,
            remaining: left.floor() as u64,
            retry_after,
            reset: ((self.burst - left) / self.rate).ceil() as u64,
        }
    }
}

const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Counters and a latency histogram, rendered as Prometheus text.
#[derive(Default)]
pub struct Metrics {
    requests: RwLock<HashMap<String, Vec<(u16, AtomicU64)>>>,
    latency: [AtomicU64; 13],
    latency_sum_us: AtomicU64,
    latency_count: AtomicU64,
    pub claims_accepted: AtomicU64,
    pub claims_duplicate: AtomicU64,
    pub claims_conflict: AtomicU64,
    pub claims_rejected: AtomicU64,
    pub rate_limited: AtomicU64,
    pub shed: AtomicU64,
    pub in_flight: AtomicU64,
}

impl Metrics {
    /// Count one request for `route` (the matched path pattern) with `status`.
    pub fn observe(&self, route: &str, status: u16, seconds: f64) {
        {
            let r = self.requests.read().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = r
                .get(route)
                .and_then(|v| v.iter().find(|(s, _)| *s == status))
            {
                c.1.fetch_add(1, Ordering::Relaxed);
            } else {
                drop(r);
                let mut w = self.requests.write().unwrap_or_else(|p| p.into_inner());
                let v = w.entry(route.to_string()).or_default();
                match v.iter().find(|(s, _)| *s == status) {
                    Some(c) => {
                        c.1.fetch_add(1, Ordering::Relaxed);
                    }
                    None => v.push((status, AtomicU64::new(1))),
                }
            }
        }
        let b = BUCKETS
            .iter()
            .position(|&x| seconds <= x)
            .unwrap_or(BUCKETS.len());
        self.latency[b].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition.
    pub fn render(&self, extra: &[(&str, &str, f64)]) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        s.push_str("# HELP fairdrop_http_requests_total HTTP requests by route and status.\n# TYPE fairdrop_http_requests_total counter\n");
        let r = self.requests.read().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<(&String, u16, &AtomicU64)> = r
            .iter()
            .flat_map(|(k, v)| v.iter().map(move |(s, c)| (k, *s, c)))
            .collect();
        keys.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        for (route, status, c) in keys {
            let _ = writeln!(
                s,
                "fairdrop_http_requests_total{{route=\"{}\",status=\"{status}\"}} {}",
                route.replace('\\', "\\\\").replace('"', "\\\""),
                c.load(Ordering::Relaxed)
            );
        }
        s.push_str("# HELP fairdrop_http_request_duration_seconds Request latency.\n# TYPE fairdrop_http_request_duration_seconds histogram\n");
        let mut cum = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cum += self.latency[i].load(Ordering::Relaxed);
            let _ = writeln!(
                s,
                "fairdrop_http_request_duration_seconds_bucket{{le=\"{b}\"}} {cum}"
            );
        }
        cum += self.latency[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "fairdrop_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cum}"
        );
        let _ = writeln!(
            s,
            "fairdrop_http_request_duration_seconds_sum {}",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            s,
            "fairdrop_http_request_duration_seconds_count {}",
            self.latency_count.load(Ordering::Relaxed)
        );
        let counters = [
            (
                "fairdrop_claims_accepted_total",
                "Claims recorded for the first time.",
                &self.claims_accepted,
            ),
            (
                "fairdrop_claims_duplicate_total",
                "Repeated claims answered with the existing receipt.",
                &self.claims_duplicate,
            ),
            (
                "fairdrop_claims_conflict_total",
                "Conflicting claims (409).",
                &self.claims_conflict,
            ),
            (
                "fairdrop_claims_rejected_total",
                "Claims that did not check out (4xx).",
                &self.claims_rejected,
            ),
            (
                "fairdrop_rate_limited_total",
                "Requests refused by the per-IP rate limit (429).",
                &self.rate_limited,
            ),
            (
                "fairdrop_shed_total",
                "Requests shed under load (503).",
                &self.shed,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP fairdrop_http_in_flight Requests being served.\n# TYPE fairdrop_http_in_flight gauge\nfairdrop_http_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        for (name, help, v) in extra {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        s
    }
}

/// Request ids: a per-process random prefix and a counter (`3f9a1c02-000000000042`).
#[derive(Clone)]
pub struct MakeId {
    prefix: String,
    next: std::sync::Arc<AtomicU64>,
}

impl MakeId {
    pub fn new() -> MakeId {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ (std::process::id() as u128) << 64;
        let h = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
            seed.to_le_bytes(),
        ));
        MakeId {
            prefix: hex::encode(&h[..4]),
            next: Default::default(),
        }
    }
}

impl Default for MakeId {
    fn default() -> Self {
        Self::new()
    }
}

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:012}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}
