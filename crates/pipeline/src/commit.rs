//! The commit stage: Merkle trees per profile, the proof stores, the claim service's data
//! (`progress.jsonl`, `campaign.json`) and the signed `manifest.json`.
//!
//! Layout in the output folder:
//!
//! | file | what |
//! |---|---|
//! | `<profile>/tree.json` \| `uniswap.json` \| `jito.json` | the profile's own format |
//! | `proofs-<profile>.bin` | proof store, O(1) lookup by address |
//! | `progress.jsonl` | per wallet: steps, gates, points per rule, total, tier |
//! | `campaign.json` | what the claim service shows: steps, gates, points rules, tiers, window |
//! | `manifest.json` | campaign, pool, counts, roots, sha256 of every input and of the campaign file; ed25519-signed when `signing.key` is set |
//! | `aleo/tree.json`, `proofs-aleo.jsonl` | the `aleo` profile: tree facts (campaign id and tag, root, depth, leaves) and one proof per claim, in leaf order |
//! | `aleo/program/` | with `[aleo]`: the claim program (`program.json`, `src/main.leo`, `build/main.aleo`); the manifest records `inputs["aleo:<name>.aleo"]` = sha256 of `build/main.aleo` |
//! | `zk/claim.vk`, `zk/tree.json`, `zk/root.txt` | with `[zk]`: copies of the verifying key and private tree, and the tree's root; the manifest records `inputs["zk:claim.pk"]`, `inputs["zk:claim.vk"]`, `inputs["zk:tree.json"]` (sha256) and `roots["private"]` (the root) |

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use fairdrop_core::steps::STEPS;
use fairdrop_merkle::manifest::{sha256_file, Manifest};
use fairdrop_merkle::profile::{build, Allocation as MAlloc, ClaimAddress, Profile};
use fairdrop_policy::campaign::Campaign;
use serde_json::json;

use crate::{io, RunError, RunSummary, WalletState};

fn merr(e: fairdrop_merkle::MerkleError) -> RunError {
    RunError::Commit(e.to_string())
}

/// Build every profile's tree and store; returns roots by profile name.
pub fn trees(
    c: &Campaign,
    allocs: &[fairdrop_allocate::Allocation],
    dir: &Path,
) -> Result<BTreeMap<String, String>, RunError> {
    let mut roots = BTreeMap::new();
    for name in &c.outputs.profiles {
        if name == "aleo" {
            roots.insert(name.clone(), aleo_tree(c, allocs, dir)?);
            continue;
        }
        let profile: Profile = name.parse().map_err(merr)?;
        let mut rows = Vec::with_capacity(allocs.len());
        for (i, a) in allocs.iter().enumerate() {
            let address = ClaimAddress::parse_for(profile, &a.key).map_err(|m| {
                RunError::Commit(format!(
                    "allocations.csv:{}: {}: {m} (profile {name} needs matching addresses)",
                    i + 2,
                    a.key
                ))
            })?;
            rows.push(MAlloc {
                address,
                amount: a.amount,
                tier: a.tier.clone(),
                line: i as u64 + 2,
            });
        }
        let t = build(profile, &rows).map_err(merr)?;
        let pdir = dir.join(name);
        t.write_outputs(&pdir).map_err(merr)?;
        fairdrop_merkle::store::write(&t, &dir.join(format!("proofs-{name}.bin"))).map_err(merr)?;
        roots.insert(name.clone(), fairdrop_merkle::hash::hex32(&t.root()));
    }
    Ok(roots)
}

/// The `aleo` profile (snarkVM's `hash.psd2`, depth from the size, `fairdrop_zk::aleo`):
/// writes `aleo/tree.json` (root, depth, leaf count, campaign tag, encoding) and
/// `proofs-aleo.jsonl` (one `AleoProof` per claim, in leaf order = address order). Returns
/// the root.
fn aleo_tree(
    c: &Campaign,
    allocs: &[fairdrop_allocate::Allocation],
    dir: &Path,
) -> Result<String, RunError> {
    let mut entries = Vec::with_capacity(allocs.len());
    for (i, a) in allocs.iter().enumerate() {
        let addr = fairdrop_core::Address::parse_trusted(&a.key)
            .map_err(|e| RunError::Commit(format!("allocations.csv:{}: {}: {e}", i + 2, a.key)))?;
        let amount = u64::try_from(a.amount).map_err(|_| {
            RunError::Commit(format!(
                "allocations.csv:{}: {} exceeds u64 microcredits",
                i + 2,
                a.amount
            ))
        })?;
        entries.push((addr, amount));
    }
    let tree = write_aleo_tree(&c.id, &entries, dir)?;
    if let Some(a) = &c.aleo {
        aleo_program(c, a, &tree, dir)?;
    }
    Ok(tree.root_hex())
}

/// The manifest's key for the claim program: `aleo:<name>.aleo`, whose value is the sha256 of
/// `aleo/program/build/main.aleo`.
pub fn aleo_program_key(c: &Campaign, a: &fairdrop_policy::campaign::AleoProgram) -> String {
    format!("aleo:{}.aleo", aleo_program_name(c, a))
}

fn aleo_program_name(c: &Campaign, a: &fairdrop_policy::campaign::AleoProgram) -> String {
    a.program
        .clone()
        .unwrap_or_else(|| fairdrop_zk::program::program_name(&c.id))
}

/// `[aleo]`: the claim program of the tree (`fairdrop_zk::program`) into `dir/aleo/program/`.
fn aleo_program(
    c: &Campaign,
    a: &fairdrop_policy::campaign::AleoProgram,
    tree: &fairdrop_zk::aleo::AleoTree,
    dir: &Path,
) -> Result<(), RunError> {
    let at = |e: fairdrop_zk::ZkError| {
        RunError::Commit(format!("{}:{}: aleo: {e}", c.path.display(), a.line))
    };
    let p = fairdrop_zk::program::ClaimProgram::for_tree(
        &aleo_program_name(c, a),
        &c.id,
        tree,
        a.admin,
    )
    .map_err(at)?;
    p.write(&dir.join("aleo").join("program")).map_err(at)?;
    Ok(())
}

/// Build the `aleo` tree of `(address, microcredits)` pairs (in address order) and write
/// `proofs-aleo.jsonl` and `aleo/tree.json` into `dir`. Returns the root. Also used by
/// `fairdrop tree --profile aleo`.
pub fn write_aleo(
    campaign_id: &str,
    entries: &[(fairdrop_core::Address, u64)],
    dir: &Path,
) -> Result<String, RunError> {
    Ok(write_aleo_tree(campaign_id, entries, dir)?.root_hex())
}

/// [`write_aleo`], returning the tree.
pub fn write_aleo_tree(
    campaign_id: &str,
    entries: &[(fairdrop_core::Address, u64)],
    dir: &Path,
) -> Result<fairdrop_zk::aleo::AleoTree, RunError> {
    let zerr = |e: fairdrop_zk::ZkError| RunError::Commit(format!("aleo profile: {e}"));
    let campaign = fairdrop_zk::aleo::campaign_tag(campaign_id);
    let tree = fairdrop_zk::aleo::AleoTree::build(campaign, entries).map_err(zerr)?;
    let root = tree.root_hex();
    // Proofs are independent: serialise them in parallel chunks, written in leaf order a
    // group of chunks at a time (the whole file is 0.9 GB at 1M wallets: holding it, and a
    // concatenated copy, was the commit stage's memory peak).
    use rayon::prelude::*;
    let path = dir.join("proofs-aleo.jsonl");
    let mut file = fairdrop_core::fsutil::AtomicFile::create_direct(&path).map_err(io(dir))?;
    let leaves: Vec<usize> = (0..tree.len()).collect();
    for group in leaves.chunks(8192 * 8) {
        let chunks: Vec<Vec<u8>> = group
            .par_chunks(8192)
            .map(|ix| -> Result<Vec<u8>, RunError> {
                let mut out = Vec::with_capacity(ix.len() * 1800);
                for &i in ix {
                    serde_json::to_writer(&mut out, &tree.proof(i).map_err(zerr)?).expect("json");
                    out.push(b'\n');
                }
                Ok(out)
            })
            .collect::<Result<_, _>>()?;
        for c in chunks {
            file.write_all(&c).map_err(io(dir))?;
        }
    }
    file.commit().map_err(io(dir))?;
    let adir = dir.join("aleo");
    std::fs::create_dir_all(&adir).map_err(io(&adir))?;
    let meta = json!({
        "format": "fairdrop-aleo-v2",
        "campaign_id": campaign_id,
        "campaign": tree.campaign().to_string(),
        "root": root,
        "root_field": fairdrop_zk::psd2::field_plaintext(&tree.root()),
        "depth": tree.depth(),
        "leaves": tree.len(),
        "leaf": "hash.psd2 of struct Leaf { campaign: u128, index: u32, recipient: address, amount: u64 }",
        "node": "hash.psd2 of [left, right] as [field; 2]; empty positions hold 0field",
        "order": "allocations sorted by address",
    });
    fairdrop_core::fsutil::write_atomic(
        adir.join("tree.json"),
        &serde_json::to_vec_pretty(&meta).expect("json"),
    )
    .map_err(io(&adir))?;
    Ok(tree)
}

/// `progress.jsonl`: one line per scored wallet, sorted by address.
///
/// Each line is the JSON object `{"address", "gates", "points", "steps", "tier", "total"}`
/// with every object's keys in sorted order (what `serde_json`'s map gives; a name given
/// twice keeps its last value). Written directly rather than through `serde_json::Value`
/// maps (a tree of allocations per wallet: 631 MB of lines at 1M wallets took one core 5 s),
/// in parallel chunks appended in wallet order.
pub fn write_progress(c: &Campaign, wallets: &[WalletState], dir: &Path) -> Result<(), RunError> {
    use rayon::prelude::*;
    let _ = c;
    let mut steps: Vec<(usize, &str)> = STEPS.iter().enumerate().map(|(k, s)| (k, s.key)).collect();
    steps.sort_by(|a, b| a.1.cmp(b.1));
    let path = dir.join("progress.jsonl");
    let mut file = fairdrop_core::fsutil::AtomicFile::create_direct(&path).map_err(io(dir))?;
    for group in wallets.chunks(8192 * 8) {
        let chunks: Vec<Vec<u8>> = group
            .par_chunks(8192)
            .map(|ws| {
                let mut out = Vec::with_capacity(ws.len() * 700);
                for w in ws {
                    progress_line(&mut out, w, &steps);
                }
                out
            })
            .collect();
        for c in chunks {
            file.write_all(&c).map_err(io(dir))?;
        }
    }
    file.commit().map_err(io(dir))
}

/// One `progress.jsonl` line (see [`write_progress`]).
fn progress_line(out: &mut Vec<u8>, w: &WalletState, steps: &[(usize, &str)]) {
    let sc = &w.score;
    out.extend_from_slice(b"{\"address\":");
    json_str(out, &sc.address);
    out.extend_from_slice(b",\"gates\":");
    json_object(out, sc.gates.iter().map(|(g, ok)| (&**g, *ok as i64)), true);
    out.extend_from_slice(b",\"points\":");
    json_object(out, sc.breakdown.iter().map(|(p, v)| (&**p, *v)), false);
    out.extend_from_slice(b",\"steps\":{");
    for (n, (k, key)) in steps.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        json_str(out, key);
        out.extend_from_slice(if w.steps >> k & 1 == 1 {
            b":true"
        } else {
            b":false"
        });
    }
    out.extend_from_slice(b"},\"tier\":");
    json_str(out, &sc.tier);
    let _ = writeln!(out, ",\"total\":{}}}", sc.points);
}

/// A JSON string exactly as `serde_json` writes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// A JSON object of `(name, value)` pairs with its keys sorted and a repeated name keeping
/// its last value (as a `serde_json` map built from them would); values are booleans
/// (`bools`: 0 / 1) or integers.
fn json_object<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = (&'a str, i64)>, bools: bool) {
    let mut v: Vec<(&str, i64)> = items.collect();
    // Stable: equal names keep their order, so the last of a run is the last given.
    v.sort_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    let mut first = true;
    for (i, (name, value)) in v.iter().enumerate() {
        if v.get(i + 1).is_some_and(|next| next.0 == *name) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        json_str(out, name);
        out.push(b':');
        if bools {
            out.extend_from_slice(if *value != 0 { b"true" } else { b"false" });
        } else {
            let _ = write!(out, "{value}");
        }
    }
    out.push(b'}');
}

/// `campaign.json`: what the claim service shows participants.
pub fn write_campaign_json(c: &Campaign, dir: &Path) -> Result<(), RunError> {
    let ts = fairdrop_core::event::format_timestamp;
    let steps: Vec<serde_json::Value> = STEPS
        .iter()
        .map(|s| {
            let rule = c.points.iter().find(|p| p.step.as_deref() == Some(s.key));
            json!({
                "key": s.key, "number": s.number, "title": s.title,
                "rule": rule.map(|r| r.id.clone()),
                "points_max": rule.and_then(|r| r.cap.or_else(|| max_of_flag(&r.expr.source))),
            })
        })
        .collect();
    let v = json!({
        "id": c.id, "name": c.name, "description": c.description, "token": c.token, "decimals": c.decimals,
        "pool": c.pool.to_string(), "snapshot": ts(c.snapshot), "window_start": ts(c.window_start),
        "claim": {
            "start": c.claim.start, "deadline": c.claim.deadline,
            "cliff_days": c.claim.cliff_days.unwrap_or(0), "vesting_days": c.claim.vesting_days.unwrap_or(0),
        },
        "steps": steps,
        "gates": c.gates.iter().map(|g| json!({"id": g.id, "expr": g.expr.source, "reason": g.reason})).collect::<Vec<_>>(),
        "points": c.points.iter().map(|p| json!({"id": p.id, "label": p.label, "expr": p.expr.source, "cap": p.cap, "step": p.step})).collect::<Vec<_>>(),
        "tiers": c.tiers.iter().map(|t| json!({"name": t.name, "min_points": t.min_points})).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec_pretty(&v).expect("json");
    fairdrop_core::fsutil::write_atomic(dir.join("campaign.json"), &bytes).map_err(io(dir))
}

/// `step_x ? 50 : 0` → 50: the most a flag rule gives, for the progress view.
fn max_of_flag(src: &str) -> Option<i64> {
    let (_, rest) = src.split_once('?')?;
    let (a, b) = rest.split_once(':')?;
    let (a, b) = (a.trim().parse::<i64>().ok()?, b.trim().parse::<i64>().ok()?);
    Some(a.max(b))
}

/// The manifest: hashes of every input and of the campaign file, roots, counts. Signed when
/// the campaign names a key. With `[zk]`, also the private-claim files (checked against the
/// campaign id and copied into `dir/zk/` by `fairdrop_zk::commit_private`): the sha256 of
/// `claim.pk`, `claim.vk` and the tree file under `inputs["zk:…"]`, the root as
/// `roots["private"]`.
/// The campaign's input files whose sha256 the manifest records.
pub fn input_files(c: &Campaign) -> Vec<std::path::PathBuf> {
    let mut v: Vec<std::path::PathBuf> = c.inputs().into_iter().map(|i| i.path).collect();
    // A mapped source's block times decide its rows' timestamps.
    v.extend(
        c.sources
            .iter()
            .filter_map(|s| s.mapping.as_ref()?.block_times.clone()),
    );
    v.extend(c.features.iter().cloned());
    if let Some(t) = &c.sybil_tables {
        v.extend(crate::warehouse::table_paths(t));
    }
    v.extend(c.hubs.iter().cloned());
    v.extend(c.exclusions.iter().map(|x| x.file.clone()));
    // The sybil stage's appeals and model change who is flagged: bind them too.
    for f in [&c.sybil.appeals, &c.sybil.model].into_iter().flatten() {
        v.push(c.base.join(f));
    }
    v
}

/// sha256 of each input file (see [`input_files`]), as the manifest records them. A run
/// computes this on a background thread while the stages run.
pub fn hash_inputs(c: &Campaign) -> Result<BTreeMap<String, String>, RunError> {
    hash_inputs_but(c, &[])
}

/// The manifest's name for an input file.
pub fn input_key(c: &Campaign, p: &Path) -> String {
    p.strip_prefix(&c.base).unwrap_or(p).display().to_string()
}

/// [`hash_inputs`] without the files in `skip` (hashed elsewhere: ingest hashes the CSV and
/// JSONL event files as it reads them).
pub fn hash_inputs_but(
    c: &Campaign,
    skip: &[std::path::PathBuf],
) -> Result<BTreeMap<String, String>, RunError> {
    let mut inputs = BTreeMap::new();
    for p in input_files(c) {
        if skip.contains(&p) {
            continue;
        }
        inputs.insert(input_key(c, &p), sha256_file(&p).map_err(merr)?);
    }
    Ok(inputs)
}

pub fn manifest(
    c: &Campaign,
    roots: BTreeMap<String, String>,
    inputs: BTreeMap<String, String>,
    s: &RunSummary,
    dir: &Path,
) -> Result<Manifest, RunError> {
    let mut inputs = inputs;
    let mut roots = roots;
    if let Some(z) = &c.zk {
        let pc = fairdrop_zk::commit_private(
            &z.keys,
            &z.tree,
            z.registrations.as_deref(),
            &c.id,
            &dir.join("zk"),
        )
        .map_err(|e| {
            RunError::Commit(format!(
                "{}:{}: zk: {e}",
                c.path.display(),
                z.keys_line.min(z.tree_line)
            ))
        })?;
        inputs.insert(fairdrop_zk::MANIFEST_PK.into(), pc.proving_key_sha256);
        inputs.insert(fairdrop_zk::MANIFEST_VK.into(), pc.verifying_key_sha256);
        inputs.insert(fairdrop_zk::MANIFEST_TREE.into(), pc.tree_sha256);
        if let Some(h) = pc.registrations_sha256 {
            inputs.insert(fairdrop_zk::MANIFEST_REGISTRATIONS.into(), h);
        }
        roots.insert(fairdrop_zk::MANIFEST_ROOT.into(), pc.root);
    }
    if let Some(a) = &c.aleo {
        let main = dir
            .join("aleo")
            .join("program")
            .join("build")
            .join("main.aleo");
        inputs.insert(aleo_program_key(c, a), sha256_file(&main).map_err(merr)?);
    }
    let counts: BTreeMap<String, u64> = [
        ("claims", s.allocated_wallets),
        ("eligible", s.eligible),
        ("wallets_scored", s.wallets_scored),
        ("passed_gates", s.passed_gates),
        ("sybil_flagged", s.sybil_flagged),
        ("events", s.rows_accepted),
        ("events_quarantined", s.rows_quarantined),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut m = Manifest {
        campaign: c.id.clone(),
        token: c.token.clone(),
        decimals: c.decimals as u8,
        pool: c.pool.to_string(),
        counts,
        roots,
        inputs,
        campaign_sha256: sha256_file(&c.path).map_err(merr)?,
        fairdrop_version: env!("CARGO_PKG_VERSION").to_string(),
        snapshot: fairdrop_core::event::format_timestamp(c.snapshot),
        signature: None,
    };
    if let Some(k) = &c.signing.key {
        let key = fairdrop_merkle::manifest::read_secret_key(&c.base.join(k)).map_err(merr)?;
        m.sign(&key);
    }
    m.write(&dir.join("manifest.json")).map_err(merr)?;
    Ok(m)
}

#[cfg(test)]
mod progress_tests {
    use super::*;
    use crate::WalletState;
    use fairdrop_policy::score::WalletScore;
    use proptest::prelude::*;
    use std::sync::Arc;

    /// The `serde_json::Value` construction `progress_line` replaced, kept as its reference.
    fn reference_line(w: &WalletState) -> Vec<u8> {
        let steps: serde_json::Map<String, serde_json::Value> = STEPS
            .iter()
            .enumerate()
            .map(|(k, s)| (s.key.to_string(), json!(w.steps >> k & 1 == 1)))
            .collect();
        let gates: serde_json::Map<String, serde_json::Value> = w
            .score
            .gates
            .iter()
            .map(|(g, ok)| (g.to_string(), json!(ok)))
            .collect();
        let points: serde_json::Map<String, serde_json::Value> = w
            .score
            .breakdown
            .iter()
            .map(|(p, v)| (p.to_string(), json!(v)))
            .collect();
        let line = json!({
            "address": w.score.address,
            "steps": steps,
            "gates": gates,
            "points": points,
            "total": w.score.points,
            "tier": w.score.tier,
        });
        let mut out = serde_json::to_vec(&line).unwrap();
        out.push(b'\n');
        out
    }

    fn names() -> impl Strategy<Value = String> {
        // Short names from a small alphabet (so repeats happen), with characters JSON escapes.
        proptest::string::string_regex("[ab\"\\\u{1}\n\té]{0,3}").unwrap()
    }

    proptest! {
        #[test]
        fn progress_line_equals_serde_json(
            address in names(),
            tier in names(),
            points in any::<u64>(),
            steps in any::<u16>(),
            gates in proptest::collection::vec((names(), any::<bool>()), 0..6),
            breakdown in proptest::collection::vec((names(), any::<i64>()), 0..6),
        ) {
            let w = WalletState {
                score: WalletScore {
                    address,
                    eligible: true,
                    points,
                    tier,
                    reasons: vec![],
                    breakdown: breakdown.into_iter().map(|(n, v)| (Arc::from(n), v)).collect(),
                    gates: gates.into_iter().map(|(n, v)| (Arc::from(n), v)).collect(),
                },
                steps,
                passed_gates: true,
                cluster: None,
            };
            let mut steps_sorted: Vec<(usize, &str)> =
                STEPS.iter().enumerate().map(|(k, s)| (k, s.key)).collect();
            steps_sorted.sort_by(|a, b| a.1.cmp(b.1));
            let mut got = Vec::new();
            progress_line(&mut got, &w, &steps_sorted);
            prop_assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(reference_line(&w)).unwrap());
        }
    }
}

#[cfg(test)]
mod zk_tests {
    use fairdrop_merkle::manifest::{compare, sha256_file, Manifest};
    use fairdrop_policy::campaign::Campaign;
    use fairdrop_zk::*;

    fn run_to(c: &Campaign, out: &std::path::Path) -> Result<crate::RunSummary, crate::RunError> {
        crate::run(
            c,
            &crate::RunOptions {
                out: Some(out.to_path_buf()),
                progress: false,
                batch_rows: None,
            },
        )
    }

    /// `[zk]` in the campaign: the run copies the verifying key, tree and root into `dist/zk/`
    /// and the signed manifest commits to all of them (and to the proving key); a changed key or
    /// tree changes the manifest, and keys of another campaign stop the run.
    #[test]
    fn run_commits_private_claim_files() {
        let d = tempfile::tempdir().unwrap();
        let w = d.path().join("world");
        crate::world::world(&w, 400, 5, fairdrop_sim::OutputFormat::Csv).unwrap();
        let base = Campaign::load(&w.join("campaign.toml")).unwrap();
        let id = CampaignId::from_name(&base.id);
        let (pk, vk) = setup(&id, &mut os_rng().unwrap()).unwrap();
        let hashes = write_keys(&w.join("zk-keys"), &pk, &vk).unwrap();
        let notes: Vec<Note> = (1..=3u8)
            .map(|i| Note {
                commitment: Commitment::new(&Secret::from_random_bytes([i; 32]), &id),
                denomination: 1_000_000,
            })
            .collect();
        let tree = PrivateTree::build(notes.clone()).unwrap();
        let tf = TreeFile::new(&tree, &id);
        std::fs::write(w.join("tree.json"), serde_json::to_vec(&tf).unwrap()).unwrap();
        let text = std::fs::read_to_string(w.join("campaign.toml"))
            .unwrap()
            .replace("cap = \"500_000 ALEO\"", "cap = \"5_000_000 ALEO\"");
        std::fs::write(
            w.join("campaign.toml"),
            format!("{text}\n[zk]\nkeys = \"zk-keys\"\ntree = \"tree.json\"\n"),
        )
        .unwrap();
        let c = Campaign::load(&w.join("campaign.toml")).unwrap();
        let out = d.path().join("out");
        let s = run_to(&c, &out).unwrap();
        assert_eq!(s.roots.get(MANIFEST_ROOT), Some(&tf.root));
        let m = Manifest::read(&out.join("manifest.json")).unwrap();
        m.verify_signature(None).unwrap();
        assert_eq!(m.roots[MANIFEST_ROOT], tf.root);
        assert_eq!(m.inputs[MANIFEST_PK], hashes.proving_key_sha256);
        assert_eq!(m.inputs[MANIFEST_VK], hashes.verifying_key_sha256);
        assert_eq!(
            m.inputs[MANIFEST_VK],
            sha256_file(&out.join("zk/claim.vk")).unwrap()
        );
        assert_eq!(
            m.inputs[MANIFEST_TREE],
            sha256_file(&out.join("zk/tree.json")).unwrap()
        );
        assert_eq!(
            std::fs::read_to_string(out.join("zk/root.txt")).unwrap(),
            format!("{}\n", tf.root)
        );

        // Another tree (one note more): the manifest names what changed.
        let mut more = notes.clone();
        more.push(Note {
            commitment: Commitment::new(&Secret::from_random_bytes([9; 32]), &id),
            denomination: 1_000_000,
        });
        let tf2 = TreeFile::new(&PrivateTree::build(more).unwrap(), &id);
        std::fs::write(w.join("tree.json"), serde_json::to_vec(&tf2).unwrap()).unwrap();
        let out2 = d.path().join("out2");
        run_to(&c, &out2).unwrap();
        let m2 = Manifest::read(&out2.join("manifest.json")).unwrap();
        let diff = compare(&m, &m2).unwrap();
        assert!(diff.starts_with("inputs.zk:tree.json"), "{diff}");
        assert_ne!(m2.roots[MANIFEST_ROOT], m.roots[MANIFEST_ROOT]);

        // Keys of another campaign: the run stops, naming the campaign file and the key file.
        let other = CampaignId::from_name("another-campaign");
        let (pk2, vk2) = setup(&other, &mut os_rng().unwrap()).unwrap();
        write_keys(&w.join("zk-keys"), &pk2, &vk2).unwrap();
        let out3 = d.path().join("out3");
        let e = run_to(&c, &out3).unwrap_err().to_string();
        assert!(
            e.contains("campaign.toml:") && e.contains("claim.pk"),
            "{e}"
        );
        assert!(!out3.exists(), "no output on failure");
    }
}
