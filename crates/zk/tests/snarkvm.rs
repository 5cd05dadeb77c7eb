//! snarkVM itself checks fairdrop's `aleo` proofs: the generated claim program, run by the real
//! snarkVM (the `@provablehq/sdk` npm package, WebAssembly, offline; harness in `snarkvm/`),
//! accepts fairdrop's proofs for several leaves of a real tree and rejects a changed amount,
//! recipient, sibling, index or campaign.
//!
//! The functions are run by snarkVM's evaluator (`Stack::evaluate`, every instruction and
//! assertion of the call graph, `credits.aleo/transfer_public` included), not through the
//! circuit: the circuit of `verify`, even at depth 2, needs the 2^17 universal SRS, which no
//! registry package carries and this machine cannot download (`powers-of-beta-17.usrs`; the
//! 2^16 files in `../shared/aleo/params` hold circuits of about 12.5k constraints, a function
//! hashing one value). The circuit is checked where it fits: the leaf struct's `hash.psd2`
//! synthesised and executed from that SRS gives fairdrop's leaf. Finalize (window, `claimed`,
//! the payment) runs on a Leo devnode in `scripts/aleo-leo` (docs/aleo-leo-transcript.md).
//!
//! Needs `node` and `npm ci` in `tests/snarkvm` (scripts/test does both); fails loudly otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fairdrop_core::Address;
use fairdrop_zk::aleo::{aleo_leaf, campaign_tag, AleoProof, AleoTree};
use fairdrop_zk::program::{program_name, ClaimCall, ClaimProgram};
use fairdrop_zk::psd2::field_plaintext;
use serde_json::{json, Value};

fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snarkvm")
}

fn params_dir() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/aleo/params");
    for f in ["powers-of-beta-16.usrs", "shifted-powers-of-beta-16.usrs"] {
        assert!(
            p.join(f).is_file(),
            "{} is missing: snarkVM needs the SRS from ../shared/aleo/params",
            p.join(f).display()
        );
    }
    p
}

/// One request to the harness, one JSON answer.
fn snarkvm(req: &Value) -> Value {
    let dir = harness_dir();
    assert!(
        dir.join("node_modules/@provablehq/sdk").is_dir(),
        "{}/node_modules is missing: run `npm ci` there (scripts/test does)",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg(dir.join("run.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node is not installed (scripts/test installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "harness failed ({}): {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("harness answers JSON")
}

/// 40 leaves: the 7 distinct addresses of the real mainnet transactions in
/// `../shared/aleo/transactions`, then valid addresses derived from one of them. Depth 6, so
/// the last leaves' paths cross empty subtrees.
fn tree() -> (Vec<(Address, u64)>, AleoTree) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/aleo/transactions");
    let mut real = std::collections::BTreeSet::new();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (real Aleo transactions are needed)", dir.display()));
    for f in entries {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("aleo1") {
            let cand = &rest[i..(i + 63).min(rest.len())];
            if let Ok(a) = Address::parse(cand) {
                real.insert(a.to_string());
            }
            rest = &rest[i + 5..];
        }
    }
    assert!(
        real.len() >= 5,
        "expected real addresses in {}",
        dir.display()
    );
    let mut addrs: Vec<Address> = real.iter().map(|s| Address::parse(s).unwrap()).collect();
    let base = match addrs[0] {
        Address::Aleo(x) => x,
        _ => unreachable!(),
    };
    let mut k: u64 = 1;
    while addrs.len() < 40 {
        let mut x = base;
        x[..8].copy_from_slice(&k.to_le_bytes());
        if let Ok(a) = Address::aleo_from_x(x) {
            addrs.push(a);
        }
        k += 1;
    }
    addrs.sort_by_key(|a| a.to_string());
    let entries: Vec<(Address, u64)> = addrs
        .into_iter()
        .enumerate()
        .map(|(i, a)| (a, 1_000_000 * (i as u64 + 1) + 7))
        .collect();
    let t = AleoTree::build(campaign_tag("snarkvm-check"), &entries).unwrap();
    (entries, t)
}

fn inputs(p: &AleoProof, program: &str, function: &str) -> Vec<String> {
    ClaimCall::new(program, function, p).unwrap().inputs
}

#[test]
fn snarkvm_accepts_fairdrops_proofs_and_rejects_tampered_ones() {
    let (entries, t) = tree();
    assert_eq!(t.depth(), 6);
    let admin = entries[3].0;
    let prog =
        ClaimProgram::for_tree(&program_name("snarkvm-check"), "snarkvm-check", &t, admin).unwrap();
    let source = prog.aleo();
    let id = prog.id();

    // snarkVM parses the program and finds every function.
    let chk = snarkvm(&json!({"op": "program_check", "program": source}));
    assert_eq!(chk["ok"], true, "{chk}");
    assert_eq!(chk["id"], id.as_str());

    let leaves = [0usize, 1, 22, 39];
    let mut list: Vec<Vec<String>> = leaves
        .iter()
        .map(|&i| inputs(&t.proof(i).unwrap(), &id, "verify"))
        .collect();
    // Tampered: amount + 1, another leaf's recipient, one sibling changed, the index moved
    // (same path), the campaign tag changed.
    let p = t.proof(22).unwrap();
    let mut bad = Vec::new();
    let mut q = p.clone();
    q.amount += 1;
    bad.push(("amount", inputs(&q, &id, "verify")));
    let mut q = p.clone();
    q.address = entries[23].0.to_string();
    bad.push(("recipient", inputs(&q, &id, "verify")));
    let mut q = p.clone();
    q.path.siblings[2] += fairdrop_zk::Fr::from(1u64);
    bad.push(("sibling", inputs(&q, &id, "verify")));
    let mut q = p.clone();
    q.path.index = 23;
    bad.push(("index", inputs(&q, &id, "verify")));
    let mut q = p.clone();
    q.campaign = campaign_tag("another-campaign");
    bad.push(("campaign", inputs(&q, &id, "verify")));
    list.extend(bad.iter().map(|(_, i)| i.clone()));

    let r = snarkvm(&json!({
        "op": "execute_many",
        "mode": "evaluate",
        "program": source,
        "function": "verify",
        "inputs_list": list,
    }));
    let results = r["results"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(results.len(), leaves.len() + bad.len());
    for (k, &i) in leaves.iter().enumerate() {
        let res = &results[k];
        assert_eq!(
            res["ok"], true,
            "leaf {i}: snarkVM refused fairdrop's proof: {res}"
        );
        // The output is the leaf hash snarkVM computed: fairdrop's leaf, exactly.
        let (a, m) = entries[i];
        let want = aleo_leaf(t.campaign(), i as u32, &a, m).unwrap();
        assert_eq!(
            res["outputs"][0],
            field_plaintext(&want).as_str(),
            "leaf {i}"
        );
        assert_eq!(
            res["outputs"][0],
            field_plaintext(&t.tree().leaves()[i]).as_str()
        );
    }
    for (k, (what, _)) in bad.iter().enumerate() {
        let res = &results[leaves.len() + k];
        assert_eq!(res["ok"], false, "a changed {what} was accepted: {res}");
        let err = res["error"].as_str().unwrap_or("");
        assert!(
            err.contains("assert"),
            "a changed {what}: expected a failed assertion, got {err}"
        );
    }

    // The transitions that pay: evaluated by snarkVM over the call graph (credits.aleo too).
    let good = t.proof(39).unwrap();
    let mut worse = good.clone();
    worse.amount -= 1;
    for f in ["claim", "claim_private"] {
        let r = snarkvm(&json!({
            "op": "execute_many",
            "mode": "evaluate",
            "program": source,
            "function": f,
            "inputs_list": [inputs(&good, &id, f), inputs(&worse, &id, f)],
        }));
        let res = r["results"].as_array().unwrap_or_else(|| panic!("{r}"));
        assert_eq!(res[0]["ok"], true, "{f} of leaf 39: {}", res[0]);
        assert_eq!(res[1]["ok"], false, "{f} with a changed amount: {}", res[1]);
    }
}

/// Leaves and nodes as snarkVM hashes them: the leaf struct through the circuit (keys
/// synthesised from the 2^16 SRS, about 45 s here), a node (siblings in the order fairdrop
/// does not use at this level) by the evaluator.
#[test]
fn snarkvm_hashes_a_leaf_and_a_node_as_fairdrop_does() {
    let params = params_dir();
    let (entries, t) = tree();
    let p = t.proof(5).unwrap();
    let leaf = p.leaf_plaintext().unwrap();
    let decl = "struct Leaf:\n    campaign as u128;\n    index as u32;\n    recipient as address;\n    amount as u64;\n";
    let r = snarkvm(&json!({
        "op": "batch",
        "requests": [
            {"op": "psd2", "mode": "execute", "params_dir": params, "value": leaf, "type": "Leaf", "declarations": decl},
            {"op": "psd2", "value": format!("[{}, {}]", field_plaintext(&p.leaf), field_plaintext(&p.path.siblings[0]))},
        ]
    }));
    let res = r["results"].as_array().unwrap_or_else(|| panic!("{r}"));
    let (a, m) = entries[5];
    let want_leaf = aleo_leaf(t.campaign(), 5, &a, m).unwrap();
    assert_eq!(res[0]["ok"], true, "{}", res[0]);
    assert!(
        res[0]["constraints"].as_u64().unwrap_or(0) > 1000,
        "{}",
        res[0]
    );
    assert_eq!(
        res[0]["field"],
        field_plaintext(&want_leaf).trim_end_matches("field")
    );
    // Leaf 5 is a right child: its parent is hash.psd2([sibling, leaf]); here the order is
    // swapped on purpose, so the node is fairdrop_zk::psd2::node(leaf, sibling).
    let want_node = fairdrop_zk::psd2::node(p.leaf, p.path.siblings[0]);
    assert_eq!(res[1]["ok"], true, "{}", res[1]);
    assert_eq!(
        res[1]["field"],
        field_plaintext(&want_node).trim_end_matches("field")
    );
}
