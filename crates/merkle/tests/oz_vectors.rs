//! Byte-exact against every case of `../shared/spec/vectors/openzeppelin-standard-v1.json`
//! (produced by `@openzeppelin/merkle-tree` 1.0.8).

use fairdrop_merkle::hash::{hex32, parse_hex32};
use fairdrop_merkle::oz::OzTree;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Deserialize)]
struct File {
    generator: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    leaf_encoding: Vec<String>,
    values: Vec<Vec<Value>>,
    root: String,
    dump: Box<RawValue>,
    proofs: Vec<Vec<String>>,
    multiproof: Option<MultiProof>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MultiProof {
    indices: Vec<usize>,
    leaves: Vec<Vec<Value>>,
    proof: Vec<String>,
    proof_flags: Vec<bool>,
}

/// Remove JSON whitespace outside strings (keeps key order, unlike a parse + re-serialise).
fn minify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut in_str, mut esc) = (false, false);
    for c in s.chars() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

fn load_vectors() -> File {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/spec/vectors/openzeppelin-standard-v1.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("the OpenZeppelin test vectors are required at {path} (../shared from the project root): {e}")
    });
    serde_json::from_str(&text).expect("vectors file parses")
}

#[test]
fn every_vector_case_is_byte_exact() {
    let f = load_vectors();
    assert!(f.generator.contains("1.0.8"), "{}", f.generator);
    assert!(f.cases.len() >= 8, "expected the full vector set");
    let mut multiproofs = 0;
    for (c, case) in f.cases.iter().enumerate() {
        let tree = OzTree::of(&case.values, &case.leaf_encoding).unwrap();
        assert_eq!(hex32(&tree.root()), case.root, "case {c}: root");

        // Dump: byte-exact against the vector's dump with its whitespace removed.
        let ours = String::from_utf8(tree.dump_json()).unwrap();
        assert_eq!(ours, minify(case.dump.get()), "case {c}: dump bytes");

        // Load the vector's dump and re-dump it: identical bytes, same root.
        let loaded = OzTree::load(case.dump.get().as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(loaded.dump_json()).unwrap(),
            ours,
            "case {c}: load/dump"
        );

        assert_eq!(case.proofs.len(), case.values.len());
        for (i, want) in case.proofs.iter().enumerate() {
            let got: Vec<String> = tree.proof(i).unwrap().iter().map(hex32).collect();
            assert_eq!(&got, want, "case {c}: proof {i}");
            let proof: Vec<_> = want
                .iter()
                .map(|h| parse_hex32(h, "proof").unwrap())
                .collect();
            OzTree::verify(&tree.root(), &case.leaf_encoding, &case.values[i], &proof).unwrap();
            assert_eq!(tree.proof_for_value(&case.values[i]).unwrap(), proof);
        }

        if let Some(mp) = &case.multiproof {
            multiproofs += 1;
            let got = tree.multi_proof(&mp.indices).unwrap();
            let want_leaves: Vec<String> = mp
                .leaves
                .iter()
                .map(|v| Value::Array(v.clone()).to_string())
                .collect();
            assert_eq!(got.leaves, want_leaves, "case {c}: multiproof leaves");
            let got_proof: Vec<String> = got.proof.iter().map(hex32).collect();
            assert_eq!(got_proof, mp.proof, "case {c}: multiproof proof");
            assert_eq!(
                got.proof_flags, mp.proof_flags,
                "case {c}: multiproof flags"
            );
            let proof: Vec<_> = mp
                .proof
                .iter()
                .map(|h| parse_hex32(h, "p").unwrap())
                .collect();
            OzTree::verify_multi_proof(
                &tree.root(),
                &case.leaf_encoding,
                &mp.leaves,
                &proof,
                &mp.proof_flags,
            )
            .unwrap();
        }
    }
    assert!(multiproofs >= 5, "vectors carry multiproofs");
}

#[test]
fn tampering_with_a_vector_dump_is_caught() {
    let f = load_vectors();
    let case = f.cases.iter().find(|c| c.values.len() == 13).unwrap();
    let dump: Value = serde_json::from_str(case.dump.get()).unwrap();

    let mut bad = dump.clone();
    bad["format"] = Value::from("standard-v2");
    let e = OzTree::load_value(&bad).unwrap_err().to_string();
    assert!(e.contains("unknown tree format 'standard-v2'"), "{e}");

    let mut bad = dump.clone();
    bad["tree"][3] = Value::from(format!("0x{}", "ab".repeat(32)));
    let e = OzTree::load_value(&bad).unwrap_err().to_string();
    assert!(e.contains("tampered") && e.contains("tree[3]"), "{e}");

    let mut bad = dump.clone();
    bad["values"][0]["value"][1] = Value::from("1");
    let e = OzTree::load_value(&bad).unwrap_err().to_string();
    assert!(e.contains("tampered") && e.contains("values[0]"), "{e}");

    let mut bad = dump.clone();
    bad["tree"][0] = Value::from("0x1234");
    let e = OzTree::load_value(&bad).unwrap_err().to_string();
    assert!(e.contains("bad hex in tree[0]"), "{e}");

    let mut bad = dump.clone();
    bad["values"].as_array_mut().unwrap().pop();
    let e = OzTree::load_value(&bad).unwrap_err().to_string();
    assert!(e.contains("has no value"), "{e}");

    let mut bad = dump.clone();
    bad["leafEncoding"][1] = Value::from("string");
    let e = OzTree::load_value(&bad).unwrap_err().to_string();
    assert!(e.contains("unsupported leaf encoding"), "{e}");

    // wrong proof length / wrong proof: verification names the failure
    let tree = OzTree::load_value(&dump).unwrap();
    let mut p = tree.proof(0).unwrap();
    p.pop();
    let e = OzTree::verify(&tree.root(), &case.leaf_encoding, &case.values[0], &p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected root"), "{e}");
}
