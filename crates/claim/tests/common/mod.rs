#![allow(dead_code)]

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fairdrop_claim::fixture::{build_dist, Fixture, FixtureOptions};
use fairdrop_claim::{open_app, open_app_with, App, Dist, Limits, ServeConfig};
use serde_json::Value;
use tower::ServiceExt;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub fx: Fixture,
    pub app: App,
    pub router: axum::Router,
    pub db: std::path::PathBuf,
}

pub fn config(fx: &Fixture, db: &Path) -> ServeConfig {
    let mut c = ServeConfig::new(&fx.dist, db, "127.0.0.1:0".parse().unwrap(), &fx.secret_key);
    c.admin_token = Some("s3cret-admin-token".into());
    c.limits = Limits {
        rate_per_sec: 0.0,
        ..Limits::default()
    };
    c
}

pub fn env_with(o: FixtureOptions, tweak: impl FnOnce(&mut ServeConfig)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(dir.path(), &o).unwrap();
    let db = dir.path().join("claims.db");
    let mut cfg = config(&fx, &db);
    tweak(&mut cfg);
    let app = open_app(&cfg).unwrap();
    let router = fairdrop_claim::router(app.clone());
    Env {
        dir,
        fx,
        app,
        router,
        db,
    }
}

pub fn env_with_dist(o: FixtureOptions, plug: impl FnOnce(&mut Dist)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(dir.path(), &o).unwrap();
    let db = dir.path().join("claims.db");
    let cfg = config(&fx, &db);
    let mut dist = Dist::load(&fx.dist, None).unwrap();
    plug(&mut dist);
    let app = open_app_with(&cfg, dist).unwrap();
    let router = fairdrop_claim::router(app.clone());
    Env {
        dir,
        fx,
        app,
        router,
        db,
    }
}

pub fn env() -> Env {
    env_with(FixtureOptions::default(), |_| {})
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }
    /// An error answer must be {code, message}.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        let v = self.json();
        assert_eq!(self.status.as_u16(), status, "body: {v}");
        assert_eq!(v["code"], code, "body: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        v
    }
}

pub async fn call(router: &axum::Router, method: &str, uri: &str, body: Option<&[u8]>) -> Resp {
    call_h(router, method, uri, body, &[]).await
}

pub async fn call_h(
    router: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<&[u8]>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut b = Request::builder().method(method).uri(uri);
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b
        .body(
            body.map(|b| Body::from(b.to_vec()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let r = router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 24)
        .await
        .unwrap()
        .to_vec();
    Resp {
        status,
        headers,
        bytes,
    }
}

/// The claim body for `address` under `profile`, from the eligibility endpoint.
pub async fn claim_body(router: &axum::Router, address: &str, profile: &str) -> Value {
    let e = call(router, "GET", &format!("/v1/eligibility/{address}"), None)
        .await
        .json();
    let p = &e["proofs"][profile];
    serde_json::json!({
        "address": address,
        "amount": p["amount"],
        "proof": p["proof"],
        "profile": profile,
    })
}

pub fn payout_rows(db: &Path) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT address, amount FROM payouts ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}
