//! Manifest: canonical bytes, ed25519 signing, key files, compare.

use std::collections::BTreeMap;

use fairdrop_merkle::manifest::{
    canonical_json, compare, keygen, read_public_key, read_secret_key, sha256_file, Manifest,
};

fn sample() -> Manifest {
    Manifest {
        campaign: "aleo-airdrop-2024".into(),
        token: "ALEO".into(),
        decimals: 6,
        pool: "150000000000000".into(),
        counts: BTreeMap::from([("claims".into(), 3), ("excluded".into(), 1)]),
        roots: BTreeMap::from([
            ("oz".into(), format!("0x{}", "11".repeat(32))),
            ("jito".into(), format!("0x{}", "22".repeat(32))),
        ]),
        inputs: BTreeMap::from([("activity.csv".into(), "ab".repeat(32))]),
        campaign_sha256: "cd".repeat(32),
        fairdrop_version: "0.1.0".into(),
        snapshot: "2024-06-01T00:00:00Z".into(),
        signature: None,
    }
}

#[test]
fn canonical_bytes_are_sorted_and_stable() {
    let m = sample();
    let c = String::from_utf8(m.canonical_bytes()).unwrap();
    assert!(
        c.starts_with("{\"campaign\":\"aleo-airdrop-2024\",\"campaign_sha256\":"),
        "{c}"
    );
    assert!(c.contains("\"roots\":{\"jito\":"));
    assert!(!c.contains(' ') && !c.contains('\n'));
    let v: serde_json::Value = serde_json::from_str(&c).unwrap();
    assert_eq!(canonical_json(&v, None), c);
    // file round trip keeps everything
    let back = Manifest::from_bytes(&m.to_file_bytes()).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.to_file_bytes(), m.to_file_bytes());
}

#[test]
fn sign_verify_tamper_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (sk_path, pk_path) = (
        dir.path().join("fairdrop.key"),
        dir.path().join("fairdrop.pub"),
    );
    let pk = keygen(&sk_path, &pk_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sk_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(
        keygen(&sk_path, &pk_path).is_err(),
        "never overwrite a secret key"
    );
    assert_eq!(read_public_key(&pk_path).unwrap(), pk);
    let sk = read_secret_key(&sk_path).unwrap();

    let mut m = sample();
    assert!(m
        .verify_signature(None)
        .unwrap_err()
        .to_string()
        .contains("not signed"));
    m.sign(&sk);
    assert_eq!(m.verify_signature(Some(&pk)).unwrap(), pk);
    let path = dir.path().join("manifest.json");
    m.write(&path).unwrap();
    let read = Manifest::read(&path).unwrap();
    read.verify_signature(Some(&pk)).unwrap();

    let mut t = read.clone();
    t.pool = "150000000000001".into();
    let e = t.verify_signature(None).unwrap_err().to_string();
    assert!(e.contains("does not match"), "{e}");

    let other = dir.path().join("o.key");
    let opk = keygen(&other, &dir.path().join("o.pub")).unwrap();
    let e = read.verify_signature(Some(&opk)).unwrap_err().to_string();
    assert!(e.contains("expected key"), "{e}");

    let mut t = read.clone();
    t.signature.as_mut().unwrap().signature = "zz".into();
    assert!(t.verify_signature(None).is_err());
}

#[test]
fn compare_names_the_first_difference() {
    let a = sample();
    assert_eq!(compare(&a, &a), None);
    let mut b = a.clone();
    b.roots
        .insert("oz".into(), format!("0x{}", "33".repeat(32)));
    b.snapshot = "later".into();
    let d = compare(&a, &b).unwrap();
    assert!(d.starts_with("roots.oz:"), "{d}");
    let mut c = a.clone();
    c.counts.remove("excluded");
    assert!(compare(&a, &c)
        .unwrap()
        .starts_with("counts.excluded: 1 vs (missing)"));
    let mut s = a.clone();
    s.sign(&ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
    assert_eq!(
        compare(&a, &s),
        None,
        "the signature is not part of the comparison"
    );
}

#[test]
fn file_digest() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x");
    std::fs::write(&p, b"abc").unwrap();
    assert_eq!(
        sha256_file(&p).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(sha256_file(&dir.path().join("missing")).is_err());
}
