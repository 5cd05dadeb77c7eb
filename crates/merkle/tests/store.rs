//! Proof store round trip: every claim found with the same proof as the tree, absent keys not
//! found, corrupt files rejected.

use std::path::Path;

use fairdrop_merkle::profile::{build, parse_allocations, ClaimAddress, Profile};
use fairdrop_merkle::store::{self, ProofStore};

fn evm_csv(n: usize) -> String {
    let mut s = String::from("address,amount\n");
    for i in 0..n {
        s.push_str(&format!(
            "0x{:040x},{}\n",
            (i as u128 + 1) * 0x9e37_79b9_7f4a_7c15,
            i * 3 + 1
        ));
    }
    s
}

fn solana_csv(n: usize) -> String {
    let mut s = String::from("address,amount\n");
    for i in 0..n {
        let mut k = [0u8; 32];
        k[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        k[31] = 0x42;
        s.push_str(&format!("{},{}\n", bs58::encode(k).into_string(), i + 1));
    }
    s
}

#[test]
fn round_trip_every_profile_and_size() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1usize, 2, 3, 5, 8, 13, 100, 1000] {
        for p in Profile::ALL {
            let csv = if p == Profile::Jito {
                solana_csv(n)
            } else {
                evm_csv(n)
            };
            let rows = parse_allocations(csv.as_bytes(), Path::new("a.csv"), p).unwrap();
            let t = build(p, &rows).unwrap();
            let path = dir.path().join(format!("{p}-{n}.store"));
            store::write(&t, &path).unwrap();
            let s = ProofStore::open(&path).unwrap();
            assert_eq!((s.len(), s.profile(), s.root()), (n, p, t.root()));
            for i in 0..n {
                let c = t.claim_at(i).unwrap();
                let got = s
                    .get(&c.address)
                    .unwrap_or_else(|| panic!("{p} {n}: {i} missing"));
                assert_eq!((got.amount, got.index), (c.amount, c.index), "{p} {n} {i}");
                assert_eq!(got.proof, c.proof, "{p} {n} {i}");
                assert_eq!(s.get_str(&c.address.to_string()).unwrap().unwrap(), got);
            }
            // absent keys
            for k in 0..200u64 {
                let absent = match p {
                    Profile::Jito => {
                        let mut b = [0u8; 32];
                        b[..8].copy_from_slice(&k.to_le_bytes());
                        b[31] = 0x43;
                        ClaimAddress::Solana(b)
                    }
                    _ => {
                        let mut b = [0u8; 20];
                        b[..8].copy_from_slice(&(k * 7 + 3).to_le_bytes());
                        ClaimAddress::Evm(b)
                    }
                };
                assert!(s.get(&absent).is_none(), "{p}: absent key found");
            }
            assert!(s.get_bytes(&[1, 2, 3]).is_none());
        }
    }
}

#[test]
fn corrupt_stores_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let rows = parse_allocations(evm_csv(50).as_bytes(), Path::new("a.csv"), Profile::Oz).unwrap();
    let t = build(Profile::Oz, &rows).unwrap();
    let path = dir.path().join("s");
    store::write(&t, &path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let bad_path = dir.path().join("bad");
    // truncations
    for cut in [0, 7, 100, 128, good.len() / 2, good.len() - 1] {
        std::fs::write(&bad_path, &good[..cut]).unwrap();
        let e = ProofStore::open(&bad_path).unwrap_err().to_string();
        assert!(e.contains("proof store"), "{e}");
    }
    // every header byte flipped
    for i in 0..128 {
        let mut b = good.clone();
        b[i] ^= 0x5a;
        std::fs::write(&bad_path, &b).unwrap();
        if let Ok(s) = ProofStore::open(&bad_path) {
            // root bytes (48..80) and reserved bytes do not affect the structure
            let _ = s.get(&t.claim_at(0).unwrap().address);
        }
    }
    // a record pointing outside the leaves
    let records_off = u64::from_le_bytes(good[96..104].try_into().unwrap()) as usize;
    let mut b = good.clone();
    b[records_off + 56..records_off + 64].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&bad_path, &b).unwrap();
    assert!(ProofStore::open(&bad_path)
        .unwrap_err()
        .to_string()
        .contains("record 0"));
}
