//! Registrations (which commitment is whose) and the private-tree file.
//!
//! **Registrations CSV** (`fairdrop zk tree --notes FILE`), columns by header name:
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `commitment` | yes | `0x` + 64 hex digits (`fairdrop zk secret` prints it) |
//! | `denomination` | yes | base units, a positive integer (one note, one bucket) |
//! | `address` | with `signature` | the eligible address the note belongs to |
//! | `signature` | no | EVM: `personal_sign` by `address` over [`evm_registration_message`](crate::evm_registration_message) (`0x` + 130 hex digits) |
//!
//! When the file has a `signature` column, every EVM row must carry a signature that recovers
//! to its `address` ([`crate::evm::verify_evm_registration`]); Aleo rows must leave it empty
//! (their binding is the on-chain registration transaction, see `docs/privacy.md`). Without
//! `address`/`signature` columns the file is taken as already bound (operator-issued claim
//! codes). Every error names the file, the line and a rule, and no tree is built.
//!
//! **Tree file** (`fairdrop zk tree --out`, [`TreeFile`]): JSON `{format:
//! "fairdrop-private-tree-v1", campaign_id, root, notes: [[commitment, denomination]…] in tree
//! order, bucket_sizes: [[denomination, count]…]}`. [`TreeFile::rebuild`] checks the notes hash
//! to the stated root.

use std::collections::HashMap;
use std::path::Path;

use fairdrop_core::Address;
use serde::{Deserialize, Serialize};

use crate::evm::{parse_evm_signature, verify_evm_registration};
use crate::private::{CampaignId, Commitment, Note, PrivateTree};
use crate::{fe_to_hex, ZkError};

/// Format tag of the tree file.
pub const TREE_FORMAT: &str = "fairdrop-private-tree-v1";

/// A registrations file that failed a rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {rule}: {msg}")]
pub struct RegistrationError {
    pub file: String,
    pub line: u64,
    pub rule: String,
    pub msg: String,
}

/// What [`read_registrations`] found.
#[derive(Clone, Debug, Default)]
pub struct Registrations {
    pub notes: Vec<Note>,
    /// Rows whose EIP-191 signature was checked.
    pub evm_signed: usize,
    /// Aleo rows (bound by their registration transaction, not checked here).
    pub aleo_rows: usize,
    /// Rows without an address (claim codes / bound elsewhere).
    pub unbound: usize,
}

/// Read and check a registrations CSV (see the module docs) for `campaign`.
pub fn read_registrations(
    path: &Path,
    campaign: &CampaignId,
) -> Result<Registrations, RegistrationError> {
    let file = path.display().to_string();
    let err = |line: u64, rule: &str, msg: String| RegistrationError {
        file: file.clone(),
        line,
        rule: rule.to_string(),
        msg,
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_path(path)
        .map_err(|e| err(0, "registration.read", e.to_string()))?;
    let header = r
        .headers()
        .map_err(|e| err(1, "registration.csv", e.to_string()))?
        .clone();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(ci), Some(di)) = (col("commitment"), col("denomination")) else {
        return Err(err(
            1,
            "registration.header",
            "the header must name `commitment` and `denomination` (optional: `address`, `signature`)".into(),
        ));
    };
    let (ai, si) = (col("address"), col("signature"));
    if si.is_some() && ai.is_none() {
        return Err(err(
            1,
            "registration.header",
            "a `signature` column needs an `address` column (the signer to check)".into(),
        ));
    }
    let mut out = Registrations::default();
    let mut seen: HashMap<Commitment, u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let line = r.position().line();
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let l = e.position().map_or(line, |p| p.line());
                return Err(err(l, "registration.csv", e.to_string()));
            }
        }
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let c = Commitment::from_hex(&get(ci).to_ascii_lowercase())
            .map_err(|e| err(line, "registration.commitment", e.to_string()))?;
        let d: u64 = get(di).parse().ok().filter(|d| *d > 0).ok_or_else(|| {
            err(
                line,
                "registration.denomination",
                format!("{:?} is not a positive integer of base units", get(di)),
            )
        })?;
        if let Some(prev) = seen.insert(c, line) {
            return Err(err(
                line,
                "registration.commitment.duplicate",
                format!(
                    "commitment {} is already on line {prev} (one secret per note)",
                    c.to_hex()
                ),
            ));
        }
        let addr = ai.map(get).filter(|a| !a.is_empty());
        let sig = si.map(get).filter(|s| !s.is_empty());
        match (addr, sig) {
            (None, None) if ai.is_some() && si.is_some() => {
                return Err(err(
                    line,
                    "registration.address",
                    "missing: a file with a signature column binds every row to an address".into(),
                ))
            }
            (None, None) => out.unbound += 1,
            (None, Some(_)) => {
                return Err(err(
                    line,
                    "registration.address",
                    "a signature without an address".into(),
                ))
            }
            (Some(a), s) => {
                let address = Address::parse(a)
                    .map_err(|e| err(line, e.rule(), format!("address {a:?}: {e}")))?;
                match (&address, s) {
                    (Address::Evm(_), Some(s)) => {
                        let sig = parse_evm_signature(s)
                            .map_err(|e| err(line, e.rule(), e.to_string()))?;
                        verify_evm_registration(&address, campaign, &c, &sig)
                            .map_err(|e| err(line, e.rule(), e.to_string()))?;
                        out.evm_signed += 1;
                    }
                    (Address::Evm(_), None) if si.is_some() => {
                        return Err(err(
                            line,
                            "registration.signature.missing",
                            format!("{address} is an EVM address: its row needs its EIP-191 signature"),
                        ))
                    }
                    (Address::Evm(_), None) => out.unbound += 1,
                    (Address::Aleo(_), Some(_)) => {
                        return Err(err(
                            line,
                            "registration.signature.not_evm",
                            format!("{address} is an Aleo address: an EIP-191 signature cannot bind it (Aleo binds by the registration transaction; leave the signature empty)"),
                        ))
                    }
                    (Address::Aleo(_), None) => out.aleo_rows += 1,
                }
            }
        }
        out.notes.push(Note {
            commitment: c,
            denomination: d,
        });
    }
    Ok(out)
}

/// The private-tree file (`fairdrop zk tree --out`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeFile {
    pub format: String,
    pub campaign_id: String,
    pub root: String,
    /// (commitment, denomination) in tree order.
    pub notes: Vec<(String, u64)>,
    /// Anonymity set per denomination.
    pub bucket_sizes: Vec<(u64, usize)>,
}

impl TreeFile {
    /// The file for a built tree.
    pub fn new(tree: &PrivateTree, campaign: &CampaignId) -> TreeFile {
        TreeFile {
            format: TREE_FORMAT.into(),
            campaign_id: campaign.to_hex(),
            root: fe_to_hex(&tree.root()),
            notes: tree
                .notes()
                .iter()
                .map(|n| (n.commitment.to_hex(), n.denomination))
                .collect(),
            bucket_sizes: tree.bucket_sizes(),
        }
    }

    /// Read a tree file (format checked).
    pub fn read(path: &Path) -> Result<TreeFile, ZkError> {
        let b = std::fs::read(path).map_err(|e| ZkError::Io(format!("{}: {e}", path.display())))?;
        Self::from_bytes(&b, path)
    }

    /// Parse a tree file's bytes (format checked); `path` names it in errors.
    pub fn from_bytes(b: &[u8], path: &Path) -> Result<TreeFile, ZkError> {
        let t: TreeFile = serde_json::from_slice(b).map_err(|e| {
            ZkError::Format(format!("{}: not a private-tree file: {e}", path.display()))
        })?;
        if t.format != TREE_FORMAT {
            return Err(ZkError::Format(format!(
                "{}: format {:?}, expected {TREE_FORMAT:?}",
                path.display(),
                t.format.chars().take(40).collect::<String>()
            )));
        }
        Ok(t)
    }

    /// Rebuild the tree from the notes and check it hashes to the stated root.
    pub fn rebuild(&self) -> Result<(PrivateTree, CampaignId), ZkError> {
        let campaign = CampaignId::from_hex(&self.campaign_id)?;
        let mut notes = Vec::with_capacity(self.notes.len());
        for (c, d) in &self.notes {
            notes.push(Note {
                commitment: Commitment::from_hex(c)?,
                denomination: *d,
            });
        }
        let t = PrivateTree::build(notes)?;
        if fe_to_hex(&t.root()) != self.root {
            return Err(ZkError::Format(format!(
                "the notes hash to {}, not to the stated root {}",
                fe_to_hex(&t.root()),
                self.root.chars().take(80).collect::<String>()
            )));
        }
        Ok((t, campaign))
    }
}

// ---------------------------------------------------------------------------------------------

/// Manifest `inputs` key of the proving key's sha256.
pub const MANIFEST_PK: &str = "zk:claim.pk";
/// Manifest `inputs` key of the verifying key's sha256 (the file `dist/zk/claim.vk`).
pub const MANIFEST_VK: &str = "zk:claim.vk";
/// Manifest `inputs` key of the private-tree file's sha256 (the file `dist/zk/tree.json`).
pub const MANIFEST_TREE: &str = "zk:tree.json";
/// Manifest `inputs` key of the registrations file's sha256 (`dist/zk/registrations.csv`), when
/// the campaign's `[zk]` names the file the tree was built from.
pub const MANIFEST_REGISTRATIONS: &str = "zk:registrations.csv";
/// The registrations file in a dist's `zk/` folder.
pub const REGISTRATIONS_FILE: &str = "registrations.csv";
/// Manifest `roots` key of the private tree's root (the line in `dist/zk/root.txt`).
pub const MANIFEST_ROOT: &str = "private";
/// The root file in a dist's `zk/` folder.
pub const ROOT_FILE: &str = "root.txt";
/// The tree file in a dist's `zk/` folder.
pub const TREE_FILE: &str = "tree.json";

/// What [`commit_private`] committed: the manifest entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateCommit {
    pub proving_key_sha256: String,
    pub verifying_key_sha256: String,
    pub tree_sha256: String,
    /// sha256 of the registrations file, when one was given.
    pub registrations_sha256: Option<String>,
    /// `0x` + 64 hex digits.
    pub root: String,
    /// Anonymity set per denomination.
    pub bucket_sizes: Vec<(u64, usize)>,
}

/// The commit stage's part for private claims: check that the keys in `keys` (`claim.pk`,
/// `claim.vk` from `fairdrop zk setup`) and the tree file `tree` (from `fairdrop zk tree`)
/// belong to campaign `campaign` and that the tree's notes hash to its root; with
/// `registrations` (the `fairdrop zk tree --notes` input), also re-check every registration
/// (EIP-191 signatures included) and that they build exactly this tree. Then write
/// `out/claim.vk`, `out/tree.json`, `out/registrations.csv` (byte copies) and `out/root.txt`
/// (the root and a newline) atomically, and return the files' sha256 and the root for the
/// manifest.
pub fn commit_private(
    keys: &Path,
    tree: &Path,
    registrations: Option<&Path>,
    campaign: &str,
    out: &Path,
) -> Result<PrivateCommit, ZkError> {
    use crate::circuit::{key_hash, proving_key_campaign, VerifyingKey, PK_FILE, VK_FILE};
    let id = CampaignId::from_name(campaign);
    let io = |p: &Path, e: std::io::Error| ZkError::Io(format!("{}: {e}", p.display()));
    let mismatch = |p: &Path, what: &str, got: &CampaignId| {
        ZkError::Format(format!(
            "{}: {what} is for campaign id {}, not {} (campaign {campaign:?})",
            p.display(),
            got.to_hex(),
            id.to_hex()
        ))
    };
    let pp = keys.join(PK_FILE);
    let pkb = std::fs::read(&pp).map_err(|e| io(&pp, e))?;
    let pc = proving_key_campaign(&pkb)
        .map_err(|e| ZkError::Format(format!("{}: {e}", pp.display())))?;
    if pc != id {
        return Err(mismatch(&pp, "the proving key", &pc));
    }
    let vp = keys.join(VK_FILE);
    let vkb = std::fs::read(&vp).map_err(|e| io(&vp, e))?;
    let vk = VerifyingKey::from_bytes(&vkb)
        .map_err(|e| ZkError::Format(format!("{}: {e}", vp.display())))?;
    if vk.campaign != id {
        return Err(mismatch(&vp, "the verifying key", &vk.campaign));
    }
    let tb = std::fs::read(tree).map_err(|e| io(tree, e))?;
    let tf = TreeFile::from_bytes(&tb, tree)?;
    let (t, tc) = tf
        .rebuild()
        .map_err(|e| ZkError::Format(format!("{}: {e}", tree.display())))?;
    if tc != id {
        return Err(mismatch(tree, "the private tree", &tc));
    }
    let reg_bytes = match registrations {
        None => None,
        Some(rp) => {
            let rb = std::fs::read(rp).map_err(|e| io(rp, e))?;
            let reg = read_registrations(rp, &id).map_err(|e| ZkError::Format(e.to_string()))?;
            let rebuilt = fe_to_hex(&PrivateTree::build(reg.notes)?.root());
            if !rebuilt.eq_ignore_ascii_case(&tf.root) {
                return Err(ZkError::Format(format!(
                    "{}: these registrations build the root {rebuilt}, not the root {} of {}: the tree was not made from this file",
                    rp.display(),
                    tf.root,
                    tree.display()
                )));
            }
            Some(rb)
        }
    };
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let w = |name: &str, bytes: &[u8]| {
        let p = out.join(name);
        fairdrop_core::fsutil::write_atomic(&p, bytes).map_err(|e| io(&p, e))
    };
    w(VK_FILE, &vkb)?;
    w(TREE_FILE, &tb)?;
    if let Some(rb) = &reg_bytes {
        w(REGISTRATIONS_FILE, rb)?;
    }
    w(ROOT_FILE, format!("{}\n", tf.root).as_bytes())?;
    Ok(PrivateCommit {
        proving_key_sha256: key_hash(&pkb),
        verifying_key_sha256: key_hash(&vkb),
        tree_sha256: key_hash(&tb),
        registrations_sha256: reg_bytes.as_deref().map(key_hash),
        root: tf.root.clone(),
        bucket_sizes: t.bucket_sizes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evm::{evm_address_of, personal_sign};
    use crate::{evm_registration_message, Secret};
    use k256::ecdsa::SigningKey;

    const ALEO: &str = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";

    struct Fx {
        dir: tempfile::TempDir,
        campaign: CampaignId,
        rows: Vec<(String, String)>, // (address, commitment) of two signers
        sigs: Vec<String>,
    }

    fn fx() -> Fx {
        let campaign = CampaignId::from_name("t-evm");
        let mut rows = Vec::new();
        let mut sigs = Vec::new();
        for i in 1..=2u8 {
            let sk = SigningKey::from_slice(&[i; 32]).unwrap();
            let addr = Address::Evm(evm_address_of(sk.verifying_key()));
            let c = Commitment::new(&Secret::from_random_bytes([i; 32]), &campaign);
            let sig = personal_sign(&sk, &evm_registration_message(&campaign, &c));
            rows.push((addr.to_string(), c.to_hex()));
            sigs.push(format!("0x{}", hex::encode(sig)));
        }
        Fx {
            dir: tempfile::tempdir().unwrap(),
            campaign,
            rows,
            sigs,
        }
    }

    fn write(f: &Fx, text: &str) -> std::path::PathBuf {
        let p = f.dir.path().join("notes.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn signed_rows_are_accepted() {
        let f = fx();
        let aleo_c = Commitment::new(&Secret::from_random_bytes([9; 32]), &f.campaign);
        let text = format!(
            "address,commitment,denomination,signature\n{},{},1000,{}\n{},{},100,{}\n{ALEO},{},100,\n",
            f.rows[0].0, f.rows[0].1, f.sigs[0], f.rows[1].0, f.rows[1].1, f.sigs[1],
            aleo_c.to_hex()
        );
        let r = read_registrations(&write(&f, &text), &f.campaign).unwrap();
        assert_eq!(r.notes.len(), 3);
        assert_eq!((r.evm_signed, r.aleo_rows, r.unbound), (2, 1, 0));
        assert_eq!(r.notes[0].denomination, 1000);
        // Without binding columns: claim codes.
        let text = format!("commitment,denomination\n{},5\n", f.rows[0].1);
        let r = read_registrations(&write(&f, &text), &f.campaign).unwrap();
        assert_eq!((r.notes.len(), r.unbound), (1, 1));
    }

    fn rule_of(f: &Fx, text: &str) -> (u64, String) {
        let e = read_registrations(&write(f, text), &f.campaign).unwrap_err();
        assert!(e.to_string().starts_with(&format!("{}:", e.file)), "{e}");
        (e.line, e.rule)
    }

    #[test]
    fn bad_rows_name_line_and_rule() {
        let f = fx();
        let h = "address,commitment,denomination,signature\n";
        let ok0 = format!("{},{},1000,{}\n", f.rows[0].0, f.rows[0].1, f.sigs[0]);
        // Row 1's signature on row 0's note: another signer.
        let swapped = format!(
            "{h}{ok0}{},{},1000,{}\n",
            f.rows[1].0, f.rows[1].1, f.sigs[0]
        );
        assert_eq!(
            rule_of(&f, &swapped),
            (3, "registration.signature.signer".into())
        );
        // Same signer but the commitment changed.
        let other_c = format!("{h}{},{},1000,{}\n", f.rows[0].0, f.rows[1].1, f.sigs[0]);
        assert_eq!(
            rule_of(&f, &other_c),
            (2, "registration.signature.signer".into())
        );
        // Another campaign's registration.
        let e = read_registrations(
            &write(&f, &format!("{h}{ok0}")),
            &CampaignId::from_name("other"),
        )
        .unwrap_err();
        assert_eq!(e.rule, "registration.signature.signer");
        let cases = [
            (
                format!("{h}{ok0}{},{},1000,\n", f.rows[1].0, f.rows[1].1),
                3,
                "registration.signature.missing",
            ),
            (
                format!("{h}{},{},1000,0x12\n", f.rows[0].0, f.rows[0].1),
                2,
                "registration.signature.format",
            ),
            (
                format!("{h}{ALEO},{},1000,{}\n", f.rows[0].1, f.sigs[0]),
                2,
                "registration.signature.not_evm",
            ),
            (
                format!("{h}0x12,{},1000,{}\n", f.rows[0].1, f.sigs[0]),
                2,
                "address.evm.length",
            ),
            (
                format!("{h},{},1000,\n", f.rows[0].1),
                2,
                "registration.address",
            ),
            (
                format!("{h}{},0x12,1000,{}\n", f.rows[0].0, f.sigs[0]),
                2,
                "registration.commitment",
            ),
            (
                format!("{h}{},{},0,{}\n", f.rows[0].0, f.rows[0].1, f.sigs[0]),
                2,
                "registration.denomination",
            ),
            (
                format!("{h}{},{},-1,{}\n", f.rows[0].0, f.rows[0].1, f.sigs[0]),
                2,
                "registration.denomination",
            ),
            (
                format!("{h}{ok0}{ok0}"),
                3,
                "registration.commitment.duplicate",
            ),
            (
                format!("{h}{},{},1000\n", f.rows[0].0, f.rows[0].1),
                2,
                "registration.csv",
            ),
            (
                "commitment,signature\n".to_string(),
                1,
                "registration.header",
            ),
            (
                format!(
                    "commitment,denomination,signature\n{},1,{}\n",
                    f.rows[0].1, f.sigs[0]
                ),
                1,
                "registration.header",
            ),
        ];
        for (text, line, rule) in cases {
            let (l, r) = rule_of(&f, &text);
            assert_eq!((l, r.as_str()), (line, rule), "{text}");
        }
    }

    #[test]
    fn tree_file_round_trip_and_tamper() {
        let campaign = CampaignId::from_name("t");
        let notes = (0..4u8)
            .map(|i| Note {
                commitment: Commitment::new(&Secret::from_random_bytes([i; 32]), &campaign),
                denomination: 10,
            })
            .collect();
        let t = PrivateTree::build(notes).unwrap();
        let tf = TreeFile::new(&t, &campaign);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tree.json");
        std::fs::write(&p, serde_json::to_vec(&tf).unwrap()).unwrap();
        let back = TreeFile::read(&p).unwrap();
        let (t2, c2) = back.rebuild().unwrap();
        assert_eq!((t2.root(), c2), (t.root(), campaign));
        let mut bad = back.clone();
        bad.notes[0].1 = 11;
        assert!(bad.rebuild().is_err());
        let mut fmt = back;
        fmt.format = "x".into();
        std::fs::write(&p, serde_json::to_vec(&fmt).unwrap()).unwrap();
        assert!(TreeFile::read(&p).is_err());
    }

    #[test]
    fn commit_private_checks_campaign_and_copies() {
        use crate::circuit::{setup, write_keys};
        let dir = tempfile::tempdir().unwrap();
        let p = |f: &str| dir.path().join(f);
        let camp = CampaignId::from_name("c-1");
        let (pk, vk) = setup(&camp, &mut crate::os_rng().unwrap()).unwrap();
        let hashes = write_keys(&p("keys"), &pk, &vk).unwrap();
        let notes = vec![Note {
            commitment: Commitment::new(&Secret::from_random_bytes([3; 32]), &camp),
            denomination: 7,
        }];
        let t = PrivateTree::build(notes.clone()).unwrap();
        std::fs::write(
            p("tree.json"),
            serde_json::to_vec(&TreeFile::new(&t, &camp)).unwrap(),
        )
        .unwrap();
        let got = commit_private(&p("keys"), &p("tree.json"), None, "c-1", &p("out")).unwrap();
        assert_eq!(got.proving_key_sha256, hashes.proving_key_sha256);
        assert_eq!(got.verifying_key_sha256, hashes.verifying_key_sha256);
        assert_eq!(got.root, fe_to_hex(&t.root()));
        assert_eq!(got.bucket_sizes, vec![(7, 1)]);
        assert_eq!(
            std::fs::read(p("out/claim.vk")).unwrap(),
            std::fs::read(p("keys/claim.vk")).unwrap()
        );
        assert_eq!(
            crate::key_hash(&std::fs::read(p("out/tree.json")).unwrap()),
            got.tree_sha256
        );
        assert_eq!(
            std::fs::read_to_string(p("out/root.txt")).unwrap(),
            format!("{}\n", got.root)
        );
        // The keys are for c-1: another campaign name is refused.
        let e = commit_private(&p("keys"), &p("tree.json"), None, "c-2", &p("out2")).unwrap_err();
        assert!(e.to_string().contains("claim.pk"), "{e}");
        assert!(!p("out2").exists(), "nothing written on error");
        // A tree of another campaign under the right keys is refused.
        let other = CampaignId::from_name("c-2");
        std::fs::write(
            p("t2.json"),
            serde_json::to_vec(&TreeFile::new(&t, &other)).unwrap(),
        )
        .unwrap();
        let e = commit_private(&p("keys"), &p("t2.json"), None, "c-1", &p("out3")).unwrap_err();
        assert!(e.to_string().contains("private tree"), "{e}");
        // A tree whose notes do not hash to its root is refused.
        let mut bad = TreeFile::new(&t, &camp);
        bad.notes[0].1 = 8;
        std::fs::write(p("t3.json"), serde_json::to_vec(&bad).unwrap()).unwrap();
        assert!(commit_private(&p("keys"), &p("t3.json"), None, "c-1", &p("out4")).is_err());
        // With the registrations the tree was built from: re-checked, copied and hashed.
        let c = notes[0].commitment.to_hex();
        std::fs::write(p("notes.csv"), format!("commitment,denomination\n{c},7\n")).unwrap();
        let got = commit_private(
            &p("keys"),
            &p("tree.json"),
            Some(&p("notes.csv")),
            "c-1",
            &p("out5"),
        )
        .unwrap();
        assert_eq!(
            got.registrations_sha256.as_deref(),
            Some(crate::key_hash(&std::fs::read(p("notes.csv")).unwrap()).as_str())
        );
        assert_eq!(
            std::fs::read(p("out5/registrations.csv")).unwrap(),
            std::fs::read(p("notes.csv")).unwrap()
        );
        // Registrations that build another tree are refused, and nothing is written.
        std::fs::write(p("other.csv"), format!("commitment,denomination\n{c},8\n")).unwrap();
        let e = commit_private(
            &p("keys"),
            &p("tree.json"),
            Some(&p("other.csv")),
            "c-1",
            &p("out6"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("was not made from this file"), "{e}");
        assert!(!p("out6").exists());
    }
}
