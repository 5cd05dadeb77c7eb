//! Runs the real `@openzeppelin/merkle-tree` 1.0.8 (tests/npm, installed with `npm ci` when
//! `node_modules` is missing) on seeded random trees of random sizes and compares roots, dumps
//! (byte for byte) and proofs with ours.

use std::path::{Path, PathBuf};
use std::process::Command;

use fairdrop_merkle::hash::hex32;
use fairdrop_merkle::oz::OzTree;
use serde_json::{json, Value};

/// Make sure `tests/npm/node_modules` holds the package; run `npm ci` if not. Panics loudly.
pub fn npm_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/npm");
    if !dir
        .join("node_modules/@openzeppelin/merkle-tree/package.json")
        .exists()
    {
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `npm ci` in {}: {e} (node and npm are required)",
                    dir.display()
                )
            });
        assert!(st.success(), "`npm ci` failed in {} ({st})", dir.display());
    }
    dir
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn address(r: &mut Rng) -> String {
    let lower = hex::encode(r.bytes(20));
    match r.below(3) {
        0 => format!("0x{}", fairdrop_core::address::eip55(&lower)),
        _ => format!("0x{lower}"),
    }
}

fn uint(r: &mut Rng) -> String {
    match r.below(5) {
        0 => r.below(1000).to_string(),
        1 => {
            // up to 2^256 - 1, decimal
            let mut limbs = [r.next(), r.next(), r.next(), r.next()];
            let mut digits = Vec::new();
            while limbs.iter().any(|&l| l != 0) {
                let mut rem: u128 = 0;
                for l in limbs.iter_mut().rev() {
                    let cur = (rem << 64) | *l as u128;
                    *l = (cur / 10) as u64;
                    rem = cur % 10;
                }
                digits.push(b'0' + rem as u8);
            }
            if digits.is_empty() {
                digits.push(b'0');
            }
            digits.reverse();
            String::from_utf8(digits).unwrap()
        }
        2 => format!("0x{:x}", r.next()),
        _ => ((r.next() as u128) * (r.next() as u128)).to_string(),
    }
}

#[test]
fn random_trees_match_the_npm_package() {
    let dir = npm_dir();
    let mut r = Rng(0x5eed_f00d_cafe_d00d);
    let mut cases = Vec::new();
    let mut sizes: Vec<usize> = (0..36).map(|_| 1 + r.below(200) as usize).collect();
    sizes.extend([1, 2, 3, 4, 511, 512, 513, 1500]);
    for (k, &n) in sizes.iter().enumerate() {
        let three = k % 3 == 2;
        let enc: Vec<&str> = if three {
            vec!["uint256", "address", "uint256"]
        } else {
            vec!["address", "uint256"]
        };
        let mut values: Vec<Value> = (0..n)
            .map(|_| {
                if three {
                    json!([uint(&mut r), address(&mut r), uint(&mut r)])
                } else {
                    json!([address(&mut r), uint(&mut r)])
                }
            })
            .collect();
        if n > 4 && k % 4 == 0 {
            // an identical duplicate value: leaves with equal hashes keep input order
            values[n - 1] = values[1].clone();
        }
        let multi: Vec<usize> = if n > 4 && k % 4 != 0 {
            let mut m: Vec<usize> = (0..1 + r.below(6))
                .map(|_| r.below(n as u64) as usize)
                .collect();
            m.sort();
            m.dedup();
            m
        } else {
            vec![]
        };
        cases.push(json!({"leafEncoding": enc, "values": values, "multi": if multi.is_empty() { Value::Null } else { json!(multi) }}));
    }
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        input.path(),
        serde_json::to_vec(&json!({ "cases": cases })).unwrap(),
    )
    .unwrap();
    let out = Command::new("node")
        .arg(dir.join("oz.js"))
        .arg(input.path())
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node: {e} (node is required for this test)"));
    assert!(
        out.status.success(),
        "node oz.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("node printed JSON");
    assert_eq!(results.len(), cases.len());
    let mut leaves_checked = 0;
    for (k, (case, want)) in cases.iter().zip(&results).enumerate() {
        let values: Vec<Vec<Value>> = serde_json::from_value(case["values"].clone()).unwrap();
        let enc: Vec<String> = serde_json::from_value(case["leafEncoding"].clone()).unwrap();
        let t = OzTree::of(&values, &enc).unwrap();
        assert_eq!(
            hex32(&t.root()),
            want["root"],
            "case {k} (n={}): root",
            values.len()
        );
        let dump = String::from_utf8(t.dump_json()).unwrap();
        assert_eq!(dump, want["dump"].as_str().unwrap(), "case {k}: dump bytes");
        // and our loader takes npm's dump, re-dumping the same bytes
        let loaded = OzTree::load(want["dump"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(loaded.dump_json(), t.dump_json(), "case {k}: load");
        for (i, p) in want["proofs"].as_array().unwrap().iter().enumerate() {
            let ours: Vec<String> = t.proof(i).unwrap().iter().map(hex32).collect();
            assert_eq!(json!(ours), *p, "case {k}: proof {i}");
            leaves_checked += 1;
        }
        if let Some(m) = case["multi"].as_array() {
            let idx: Vec<usize> = m.iter().map(|x| x.as_u64().unwrap() as usize).collect();
            let mp = t.multi_proof(&idx).unwrap();
            let w = &want["multiproof"];
            let leaves: Vec<Value> = mp
                .leaves
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(json!(leaves), w["leaves"], "case {k}: multiproof leaves");
            let proof: Vec<String> = mp.proof.iter().map(hex32).collect();
            assert_eq!(json!(proof), w["proof"], "case {k}: multiproof proof");
            assert_eq!(
                json!(mp.proof_flags),
                w["proofFlags"],
                "case {k}: multiproof flags"
            );
        }
    }
    assert!(leaves_checked > 3000);
}
