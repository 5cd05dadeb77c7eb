//! A synthetic dist folder for tests, benchmarks and demos: `n` EVM wallets with allocations
//! committed under the chosen profiles, a signed manifest, `wallets.csv` (plus ineligible
//! wallets with reasons), `progress.jsonl` and `campaign.json` with the seed's eleven steps.

use std::io::Write;
use std::path::{Path, PathBuf};

use fairdrop_merkle::manifest::{keygen, Manifest};
use fairdrop_merkle::profile::{build, Allocation, ClaimAddress, Profile};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::dist::format_time;
use crate::error::{ClaimError, Result};

/// Options of [`build_dist`].
#[derive(Clone, Debug)]
pub struct FixtureOptions {
    /// Eligible wallets (each with an allocation).
    pub eligible: usize,
    /// Extra scored wallets that are not eligible.
    pub ineligible: usize,
    pub profiles: Vec<Profile>,
    /// Claim window relative to now, in seconds.
    pub start_offset: i64,
    pub deadline_offset: i64,
    pub cliff_days: u32,
    pub vesting_days: u32,
    /// Write `progress.jsonl`.
    pub progress: bool,
    /// More manifest roots (e.g. `aleo`, for a checker plugged in with `Dist::add_checker`; an
    /// `aleo` root gets an empty `proofs-aleo.jsonl`, so it must be the empty tree's root).
    pub extra_roots: Vec<(String, String)>,
    /// Private-claim files to write into `dist/zk/` and commit to in the manifest, as
    /// `fairdrop run` does for a campaign with `[zk]`.
    pub zk: Option<ZkFiles>,
}

/// `dist/zk/` contents for [`FixtureOptions::zk`].
#[derive(Clone, Debug)]
pub struct ZkFiles {
    /// `claim.vk` bytes (`VerifyingKey::to_bytes`).
    pub vk: Vec<u8>,
    /// The private root, `0x` + 64 hex digits (`root.txt` and `roots["private"]`).
    pub root: String,
    /// `tree.json` bytes, if any.
    pub tree: Option<Vec<u8>>,
    /// sha256 recorded for the proving key (`inputs["zk:claim.pk"]`).
    pub pk_sha256: String,
}

impl Default for FixtureOptions {
    fn default() -> Self {
        FixtureOptions {
            eligible: 64,
            ineligible: 8,
            profiles: vec![Profile::Oz, Profile::Uniswap],
            start_offset: -86_400,
            deadline_offset: 30 * 86_400,
            cliff_days: 0,
            vesting_days: 0,
            progress: true,
            extra_roots: vec![],
            zk: None,
        }
    }
}

/// What [`build_dist`] made.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub dist: PathBuf,
    /// Secret key file (mode 0600) of the campaign key.
    pub secret_key: PathBuf,
    pub public_key: PathBuf,
    /// Eligible wallets, lowercase `0x…`, with their amounts.
    pub eligible: Vec<(String, u128)>,
    /// Ineligible wallets, lowercase `0x…`.
    pub ineligible: Vec<String>,
}

/// The `i`-th synthetic address (lowercase hex).
pub fn address(i: u64) -> String {
    let h = Sha256::digest(i.to_le_bytes());
    format!("0x{}", hex::encode(&h[..20]))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ClaimError + '_ {
    move |e| ClaimError::io(path, e)
}

fn merkle(path: &Path) -> impl Fn(fairdrop_merkle::MerkleError) -> ClaimError + '_ {
    move |e| ClaimError::dist(path, e.to_string())
}

/// Build a dist folder at `dir/dist` and keys in `dir/keys`.
pub fn build_dist(dir: &Path, o: &FixtureOptions) -> Result<Fixture> {
    let dist = dir.join("dist");
    let keys = dir.join("keys");
    std::fs::create_dir_all(&dist).map_err(io(&dist))?;
    std::fs::create_dir_all(&keys).map_err(io(&keys))?;
    let (secret_key, public_key) = (keys.join("campaign.key"), keys.join("campaign.pub"));
    let sk_path = secret_key.clone();
    let _ = std::fs::remove_file(&sk_path);
    keygen(&secret_key, &public_key).map_err(merkle(&secret_key))?;
    let sk =
        fairdrop_merkle::manifest::read_secret_key(&secret_key).map_err(merkle(&secret_key))?;

    let mut eligible = Vec::with_capacity(o.eligible);
    let mut allocs = Vec::with_capacity(o.eligible);
    for i in 0..o.eligible as u64 {
        let a = address(i);
        let amount = 1_000_000 + (i as u128 % 977) * 1_000;
        let mut b = [0u8; 20];
        hex::decode_to_slice(&a[2..], &mut b).expect("40 hex digits");
        allocs.push(Allocation {
            address: ClaimAddress::Evm(b),
            amount,
            tier: None,
            line: i + 2,
        });
        eligible.push((a, amount));
    }
    allocs.sort_by_key(|x| x.address);
    let pool: u128 = eligible.iter().map(|e| e.1).sum();
    let mut roots = std::collections::BTreeMap::new();
    for p in &o.profiles {
        let t = build(*p, &allocs).map_err(merkle(&dist))?;
        let path = dist.join(format!("proofs-{p}.bin"));
        fairdrop_merkle::store::write(&t, &path).map_err(merkle(&path))?;
        roots.insert(
            p.name().to_string(),
            fairdrop_merkle::hash::hex32(&t.root()),
        );
    }
    drop(allocs);
    let ineligible: Vec<String> = (0..o.ineligible as u64)
        .map(|i| address(1_000_000_000 + i))
        .collect();

    // wallets.csv, sorted by address.
    let mut rows: Vec<(&str, bool)> = eligible
        .iter()
        .map(|e| (e.0.as_str(), true))
        .chain(ineligible.iter().map(|a| (a.as_str(), false)))
        .collect();
    rows.sort();
    let wpath = dist.join("wallets.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&wpath).map_err(io(&wpath))?);
    let mut p = if o.progress {
        let ppath = dist.join("progress.jsonl");
        Some(std::io::BufWriter::new(
            std::fs::File::create(&ppath).map_err(io(&ppath))?,
        ))
    } else {
        None
    };
    writeln!(w, "address,eligible,points,tier,reasons,sentences").map_err(io(&wpath))?;
    let steps = fairdrop_core::steps::STEPS;
    for (k, (a, ok)) in rows.iter().enumerate() {
        let done = if *ok { 4 + k % 8 } else { 1 };
        let points = done as u64 * 50;
        let tier = if points >= 400 { "silver" } else { "bronze" };
        if *ok {
            writeln!(w, "{a},true,{points},{tier},,").map_err(io(&wpath))?;
        } else {
            writeln!(
                w,
                "{a},false,{points},none,gate.min_active_days;sybil.cluster,\"Active on fewer than 3 days, the minimum is 3 | Part of cluster 17, funded by one hub\""
            )
            .map_err(io(&wpath))?;
        }
        if let Some(p) = &mut p {
            let steps_map: serde_json::Map<String, serde_json::Value> = steps
                .iter()
                .enumerate()
                .map(|(i, s)| (s.key.to_string(), json!(i < done)))
                .collect();
            let pts: serde_json::Map<String, serde_json::Value> = steps
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < done)
                .map(|(_, s)| (format!("step_{}", s.key), json!(50)))
                .collect();
            let rec = json!({"address": a, "steps": steps_map,
                "gates": {"min_active_days": *ok, "not_sybil": *ok},
                "points": pts, "total": points, "tier": tier});
            writeln!(p, "{rec}").map_err(io(&wpath))?;
        }
    }
    w.flush().map_err(io(&wpath))?;
    if let Some(mut p) = p {
        p.flush().map_err(io(&wpath))?;
    }

    let now = crate::ledger::now_secs();
    let campaign = json!({
        "id": "fixture-2026",
        "name": "Fixture Airdrop",
        "token": "FIX",
        "decimals": 6,
        "pool": pool.to_string(),
        "snapshot": "2026-01-01T00:00:00Z",
        "claim": {
            "start": format_time(now + o.start_offset),
            "deadline": format_time(now + o.deadline_offset),
            "cliff_days": o.cliff_days,
            "vesting_days": o.vesting_days,
        },
        "steps": steps.iter().map(|s| json!({"key": s.key, "number": s.number, "title": s.title,
            "rule": format!("step_{}", s.key), "points_max": 50})).collect::<Vec<_>>(),
        "gates": [
            {"id": "min_active_days", "expr": "active_days >= 3", "reason": "Active on fewer than 3 days, the minimum is 3"},
            {"id": "not_sybil", "expr": "!sybil", "reason": "Part of a sybil cluster"}
        ],
        "points": steps.iter().map(|s| json!({"id": format!("step_{}", s.key), "label": s.title,
            "expr": format!("step_{} ? 50 : 0", s.key), "cap": 50, "step": s.key})).collect::<Vec<_>>(),
        "tiers": [{"name": "bronze", "min_points": 0}, {"name": "silver", "min_points": 400}, {"name": "gold", "min_points": 550}],
    });
    let cpath = dist.join("campaign.json");
    let cbytes = serde_json::to_vec_pretty(&campaign).expect("json");
    std::fs::write(&cpath, &cbytes).map_err(io(&cpath))?;

    for (k, v) in &o.extra_roots {
        roots.insert(k.clone(), v.clone());
        if k == "aleo" {
            // `Dist::load` rebuilds the tree from `proofs-aleo.jsonl` for an `aleo` root: an
            // empty one loads under the empty tree's root (`0x0ef58c81…e379`); tests plug
            // their own checker with `Dist::add_checker`.
            let apath = dist.join("proofs-aleo.jsonl");
            if !apath.exists() {
                std::fs::write(&apath, b"").map_err(io(&apath))?;
            }
        }
    }
    let mut inputs = std::collections::BTreeMap::new();
    if let Some(z) = &o.zk {
        let zdir = dist.join("zk");
        std::fs::create_dir_all(&zdir).map_err(io(&zdir))?;
        let w = |name: &str, b: &[u8]| {
            let p = zdir.join(name);
            std::fs::write(&p, b).map_err(|e| ClaimError::io(&p, e))
        };
        w(fairdrop_zk::VK_FILE, &z.vk)?;
        w(fairdrop_zk::ROOT_FILE, format!("{}\n", z.root).as_bytes())?;
        inputs.insert(fairdrop_zk::MANIFEST_PK.to_string(), z.pk_sha256.clone());
        inputs.insert(
            fairdrop_zk::MANIFEST_VK.to_string(),
            hex::encode(Sha256::digest(&z.vk)),
        );
        if let Some(t) = &z.tree {
            w(fairdrop_zk::TREE_FILE, t)?;
            inputs.insert(
                fairdrop_zk::MANIFEST_TREE.to_string(),
                hex::encode(Sha256::digest(t)),
            );
        }
        roots.insert(fairdrop_zk::MANIFEST_ROOT.to_string(), z.root.clone());
    }
    let mut counts = std::collections::BTreeMap::new();
    counts.insert("claims".to_string(), o.eligible as u64);
    counts.insert("eligible".to_string(), o.eligible as u64);
    let mut m = Manifest {
        campaign: "fixture-2026".into(),
        token: "FIX".into(),
        decimals: 6,
        pool: pool.to_string(),
        counts,
        roots,
        inputs,
        campaign_sha256: hex::encode(Sha256::digest(&cbytes)),
        fairdrop_version: env!("CARGO_PKG_VERSION").into(),
        snapshot: "2026-01-01T00:00:00Z".into(),
        signature: None,
    };
    m.sign(&sk);
    let mpath = dist.join("manifest.json");
    m.write(&mpath).map_err(merkle(&mpath))?;
    Ok(Fixture {
        dist,
        secret_key: sk_path,
        public_key,
        eligible,
        ineligible,
    })
}
