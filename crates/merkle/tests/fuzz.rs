//! Arbitrary input never panics: loaders, verifiers and parsers return errors.

use std::path::Path;

use fairdrop_merkle::manifest::Manifest;
use fairdrop_merkle::oz::{process_multi_proof, OzTree};
use fairdrop_merkle::profile::{parse_allocations, verify_record, Profile, ProofRecord};
use fairdrop_merkle::store::ProofStore;
use proptest::prelude::*;
use serde_json::{json, Value};

fn valid_dump() -> String {
    let vals: Vec<Vec<Value>> = (0..5)
        .map(|i| {
            vec![
                json!(format!("0x{:040x}", i + 1)),
                json!((i * 1000).to_string()),
            ]
        })
        .collect();
    String::from_utf8(
        OzTree::of(&vals, &["address", "uint256"])
            .unwrap()
            .dump_json(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn load_takes_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = OzTree::load(&bytes);
    }

    #[test]
    fn load_takes_mutated_dumps(pos in 0usize..10_000, s in "[0-9a-fxX\"\\[\\]{},:\\-.e ]{0,6}", cut in any::<bool>()) {
        let d = valid_dump();
        let pos = pos % d.len();
        let mut m = d[..pos].to_string();
        m.push_str(&s);
        if !cut {
            m.push_str(&d[(pos + 1).min(d.len())..]);
        }
        if let Ok(t) = OzTree::load(m.as_bytes()) {
            // whatever loads is internally consistent: every proof leads to the root
            for i in 0..t.len() {
                let p = t.proof(i).unwrap();
                prop_assert_eq!(fairdrop_merkle::oz::process_proof(&t.leaf_at(i).unwrap(), &p), t.root());
            }
        }
    }

    #[test]
    fn load_takes_arbitrary_json_shapes(
        format in prop_oneof![Just(json!("standard-v1")), Just(json!("x")), Just(json!(1)), Just(Value::Null)],
        tree in proptest::collection::vec("(0x)?[0-9a-f]{0,66}", 0..5),
        ti in proptest::collection::vec(any::<i64>(), 0..4),
        field in "[0-9a-zA-Z]{0,45}",
    ) {
        let values: Vec<Value> = ti.iter().map(|t| json!({"value": [field.clone(), field.clone()], "treeIndex": t})).collect();
        let v = json!({"format": format, "leafEncoding": ["address", "uint256"], "tree": tree, "values": values});
        let _ = OzTree::load_value(&v);
    }

    #[test]
    fn verify_takes_arbitrary_records(
        profile in prop_oneof![Just("oz".to_string()), Just("uniswap".to_string()), Just("jito".to_string()), Just("aleo".to_string()), "[a-z]{0,6}"],
        root in "(0x)?[0-9a-fA-F]{0,70}",
        address in prop_oneof![Just("0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f".to_string()), Just("11111111111111111111111111111111".to_string()), ".{0,70}"],
        amount in "[0-9]{0,45}|.{0,5}",
        index in any::<u64>(),
        leaves in proptest::option::of(any::<u64>()),
        proof in proptest::collection::vec("(0x)?[0-9a-f]{0,66}", 0..70),
        enc in proptest::option::of(proptest::collection::vec("[a-z0-9]{0,8}", 0..4)),
    ) {
        let rec = ProofRecord {
            profile, root: root.clone(), address, amount, index,
            leaf_encoding: enc, leaves, leaf: root, proof,
        };
        prop_assert!(verify_record(&rec).is_err() || rec.proof.len() <= 64);
    }

    #[test]
    fn multiproof_processing_never_panics(
        leaves in 0usize..6, proof in 0usize..6, flags in proptest::collection::vec(any::<bool>(), 0..12)
    ) {
        let l = vec![[1u8; 32]; leaves];
        let p = vec![[2u8; 32]; proof];
        let _ = process_multi_proof(&l, &p, &flags);
    }

    #[test]
    fn other_parsers_take_arbitrary_input(bytes in proptest::collection::vec(any::<u8>(), 0..300), text in ".{0,200}") {
        let _ = Manifest::from_bytes(&bytes);
        if let Ok(m) = Manifest::from_bytes(text.as_bytes()) {
            let _ = m.verify_signature(None);
        }
        for p in Profile::ALL {
            let _ = parse_allocations(bytes.as_slice(), Path::new("f.csv"), p);
            let csv = format!("address,amount\n{text}\n");
            let _ = parse_allocations(csv.as_bytes(), Path::new("f.csv"), p);
        }
        let _ = fairdrop_merkle::hash::parse_hex32(&text, "x");
        let _ = fairdrop_merkle::hash::parse_uint(&text, 256);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s");
        let mut b = b"FDPSTOR1".to_vec();
        b.extend_from_slice(&bytes);
        std::fs::write(&f, &b).unwrap();
        let _ = ProofStore::open(&f);
    }
}
