//! Fuzz the handlers: arbitrary bodies, paths and headers never give a 5xx or a panic, and
//! every error is `{code, message}` JSON.

mod common;

use common::*;
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn check(r: &Resp) {
    assert!(
        r.status.as_u16() < 500,
        "status {} body {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    if r.status.as_u16() >= 400 {
        let v: serde_json::Value = serde_json::from_slice(&r.bytes).expect("error body is JSON");
        assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    }
}

/// Bodies near the real shape: right keys with odd values, and odd keys.
fn claimish() -> impl Strategy<Value = Vec<u8>> {
    let val = prop_oneof![
        any::<String>().prop_map(serde_json::Value::String),
        any::<i64>().prop_map(|i| serde_json::json!(i)),
        Just(serde_json::Value::Null),
        proptest::collection::vec("(0x)?[0-9a-fA-Fg]{0,70}", 0..40)
            .prop_map(|v| serde_json::json!(v)),
        "[0-9]{0,45}".prop_map(serde_json::Value::String),
        "(0x)?[0-9a-fA-F]{0,42}".prop_map(serde_json::Value::String),
        Just(serde_json::json!("oz")),
        Just(serde_json::json!("uniswap")),
        Just(serde_json::json!("jito")),
    ];
    proptest::collection::btree_map(
        prop_oneof![
            Just("address".to_string()),
            Just("amount".to_string()),
            Just("proof".to_string()),
            Just("profile".to_string()),
            "[a-z]{1,8}"
        ],
        val,
        0..6,
    )
    .prop_map(|m| serde_json::to_vec(&m).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies_and_paths_never_5xx(
        raw in proptest::collection::vec(any::<u8>(), 0..2048),
        shaped in claimish(),
        seg in "[ -~]{0,200}",
        bytes_seg in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        thread_local! {
            static E: Env = env_with(fairdrop_claim::fixture::FixtureOptions { eligible: 16, ineligible: 2, ..Default::default() }, |_| {});
        }
        let rt = runtime();
        E.with(|e| rt.block_on(async {
            check(&call(&e.router, "POST", "/v1/claims", Some(&raw)).await);
            check(&call(&e.router, "POST", "/v1/claims", Some(&shaped)).await);
            // Path segments: printable text percent-encoded, and raw bytes percent-encoded.
            let enc: String = seg.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
            let enc2: String = bytes_seg.iter().map(|b| format!("%{b:02X}")).collect();
            for p in [&enc, &enc2] {
                for route in ["/v1/eligibility/", "/v1/progress/", "/v1/claims/"] {
                    check(&call(&e.router, "GET", &format!("{route}{p}"), None).await);
                }
                check(&call(&e.router, "GET", &format!("/{p}"), None).await);
                check(&call(&e.router, "POST", &format!("/v1/admin/{p}"), Some(&raw)).await);
            }
        }));
    }
}
