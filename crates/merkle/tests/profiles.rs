//! The CLI-facing API: allocations CSV → tree → files, proofs, verification.

use std::path::Path;

use fairdrop_merkle::hash::hex32;
use fairdrop_merkle::oz::OzTree;
use fairdrop_merkle::profile::{
    build, build_from_csv, parse_allocations, read_allocations, verify_record, BuiltTree, Profile,
};
use fairdrop_merkle::MerkleError;

const EVM_CSV: &str = "address,amount,tier\n\
0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f,100,gold\n\
0x0000000000000000000000000000000000000001,250,\n\
0xffffffffffffffffffffffffffffffffffffffff,7,silver\n\
0x1111111111111111111111111111111111111111,340282366920938463463374607431768211455,\n";

fn parse(csv: &str, p: Profile) -> Result<Vec<fairdrop_merkle::profile::Allocation>, MerkleError> {
    parse_allocations(csv.as_bytes(), Path::new("alloc.csv"), p)
}

#[test]
fn uniswap_issue_vector_from_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("a.csv");
    std::fs::write(
        &csv,
        "address,amount\n0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f,100\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let t = build_from_csv(&csv, Profile::Uniswap, &out).unwrap();
    assert_eq!(
        hex32(&t.root()),
        "0xdefa96435aec82d201dbd2e5f050fb4e1fef5edac90ce1e03953f916a5e1132d"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("uniswap.json")).unwrap()).unwrap();
    assert_eq!(json["tokenTotal"], "0x64");
    assert_eq!(
        json["claims"]["0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"]["index"],
        0
    );
}

#[test]
fn every_profile_proves_and_verifies_every_claim() {
    let jito_csv = "address,amount\n\
        4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T,5\n\
        So11111111111111111111111111111111111111112,6\n\
        11111111111111111111111111111111,7\n";
    for (p, csv) in [
        (Profile::Oz, EVM_CSV),
        (Profile::Uniswap, EVM_CSV),
        (Profile::Jito, jito_csv),
    ] {
        let rows = parse(csv, p).unwrap();
        let t = build(p, &rows).unwrap();
        for r in &rows {
            let rec = t.proof_record(&r.address.to_string()).unwrap();
            verify_record(&rec).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(rec.amount, r.amount.to_string());

            // Each failed check is named.
            let mut bad = rec.clone();
            bad.amount = (r.amount.wrapping_sub(1)).to_string();
            let e = verify_record(&bad).unwrap_err().to_string();
            assert!(e.contains("leaf check failed"), "{p}: {e}");

            let mut bad = rec.clone();
            bad.root = hex32(&[7u8; 32]);
            let e = verify_record(&bad).unwrap_err().to_string();
            assert!(e.contains("root check failed"), "{p}: {e}");

            let mut bad = rec.clone();
            bad.proof.push(hex32(&[1u8; 32]));
            let e = verify_record(&bad).unwrap_err().to_string();
            assert!(e.contains("proof length check failed"), "{p}: {e}");

            let mut bad = rec.clone();
            bad.proof.insert(0, "0xnothex".to_string());
            let e = verify_record(&bad).unwrap_err().to_string();
            assert!(e.contains("bad hex in proof[0]"), "{p}: {e}");
        }
        assert!(t.proof_for(&rows[0].address.to_string()).is_ok());
    }
}

#[test]
fn outputs_are_deterministic_and_independent_of_row_order() {
    let mut lines: Vec<&str> = EVM_CSV.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    let reversed = format!("{header}\n{}\n", lines.join("\n"));
    for p in [Profile::Oz, Profile::Uniswap] {
        let a = build(p, &parse(EVM_CSV, p).unwrap()).unwrap();
        let b = build(p, &parse(&reversed, p).unwrap()).unwrap();
        assert_eq!(a.output_bytes(), b.output_bytes(), "{p}");
    }
}

#[test]
fn oz_output_is_a_loadable_standard_v1_dump() {
    let dir = tempfile::tempdir().unwrap();
    let t = build(Profile::Oz, &parse(EVM_CSV, Profile::Oz).unwrap()).unwrap();
    let path = t.write_outputs(dir.path()).unwrap();
    assert_eq!(path.file_name().unwrap(), "tree.json");
    let loaded = OzTree::load(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(loaded.root(), t.root());
    let BuiltTree::Oz(oz) = &t else { panic!() };
    assert_eq!(loaded.dump_json(), oz.tree.dump_json());
    // `fairdrop proof` from tree.json alone gives the same record as from the allocations
    for a in [
        "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f",
        "0xffffffffffffffffffffffffffffffffffffffff",
    ] {
        let from_dump = fairdrop_merkle::profile::oz_proof_record(&loaded, a).unwrap();
        assert_eq!(from_dump, t.proof_record(a).unwrap());
        verify_record(&from_dump).unwrap();
    }
    let e = fairdrop_merkle::profile::oz_proof_record(
        &loaded,
        "0x0000000000000000000000000000000000000009",
    );
    assert!(e.unwrap_err().to_string().contains("no allocation"));
    // the (index, address, amount) encoding too
    let rows = parse(EVM_CSV, Profile::Oz).unwrap();
    let t3 = fairdrop_merkle::profile::build_with(
        Profile::Oz,
        &rows,
        fairdrop_merkle::profile::OzEncoding::IndexAddressAmount,
    )
    .unwrap();
    let BuiltTree::Oz(oz3) = &t3 else { panic!() };
    assert_eq!(oz3.tree.leaf_encoding(), ["uint256", "address", "uint256"]);
    let l3 = OzTree::load(&t3.output_bytes()).unwrap();
    for r in &rows {
        let rec = fairdrop_merkle::profile::oz_proof_record(&l3, &r.address.to_string()).unwrap();
        assert_eq!(rec, t3.proof_record(&r.address.to_string()).unwrap());
        verify_record(&rec).unwrap();
    }
    // no temp files left behind
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn jito_output_is_jitos_airdrop_merkle_tree_json() {
    let rows = parse(
        "address,amount\nSo11111111111111111111111111111111111111112,6\n11111111111111111111111111111111,7\n",
        Profile::Jito,
    )
    .unwrap();
    let t = build(Profile::Jito, &rows).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&t.output_bytes()).unwrap();
    assert_eq!(v["max_num_nodes"], 2);
    assert_eq!(v["max_total_claim"], 13);
    let root: Vec<u8> = serde_json::from_value(v["merkle_root"].clone()).unwrap();
    assert_eq!(root, t.root().to_vec());
    assert_eq!(v["tree_nodes"][0]["claimant"].as_array().unwrap().len(), 32);
    assert_eq!(v["tree_nodes"][0]["total_unlocked_staker"], 7);
}

#[test]
fn csv_errors_name_file_line_and_rule() {
    let cases: &[(Profile, &str, &str)] = &[
        (Profile::Oz, "addr,amount\n0x01,1\n", "alloc.csv:1: header"),
        (Profile::Oz, "address,amount\n0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f,1.5\n", "alloc.csv:2: amount"),
        (Profile::Oz, "address,amount\n0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f,-1\n", "alloc.csv:2: amount"),
        (
            Profile::Uniswap,
            "address,amount\n0x0000000000000000000000000000000000000001,1\naleo1rhgdu77hgyqd3xjj8ucu3jj9r2krwz6mnzyd80gncr5fxcwlh5rsvzp9px,5\n",
            "alloc.csv:3: aleo1rhgdu77hgyqd3xjj8ucu3jj9r2krwz6mnzyd80gncr5fxcwlh5rsvzp9px is an Aleo address",
        ),
        (Profile::Jito, "address,amount\n0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f,1\n", "alloc.csv:2: 0x5C69"),
        (Profile::Jito, "address,amount\n11111111111111111111111111111111,18446744073709551616\n", "u64"),
        (Profile::Uniswap, "address,amount\n0x0000000000000000000000000000000000000001,0\n", "greater than zero"),
        (
            Profile::Oz,
            "address,amount\n0x0000000000000000000000000000000000000001,1\n0x0000000000000000000000000000000000000001,2\n",
            "alloc.csv:3: duplicate address",
        ),
        (Profile::Oz, "address,amount\n", "no allocations"),
        (Profile::Oz, "address,amount\n0x0000000000000000000000000000000000000001\n", "alloc.csv:2: expected 2 fields"),
    ];
    for (p, csv, want) in cases {
        let e = parse(csv, *p).unwrap_err().to_string();
        assert!(e.contains(want), "{p} {csv:?}: got {e:?}, want {want:?}");
    }
    let e = read_allocations(Path::new("/nonexistent/alloc.csv"), Profile::Oz).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/alloc.csv"));
    assert!("aleo"
        .parse::<Profile>()
        .unwrap_err()
        .to_string()
        .contains("not implemented"));
    assert!("nope".parse::<Profile>().is_err());
}
