//! Loading the dist folder: the signed manifest, proof stores, `wallets.csv`,
//! `progress.jsonl` and `campaign.json` (formats in the crate docs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::{SigningKey, VerifyingKey};
use fairdrop_merkle::manifest::{read_secret_key, Manifest};
use fairdrop_merkle::store::ProofStore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checker::{ProofChecker, StoreChecker};
use crate::error::{ClaimError, Result};

/// `campaign.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub token: String,
    pub decimals: u8,
    /// Pool in base units, decimal string.
    pub pool: String,
    pub snapshot: String,
    pub claim: ClaimWindow,
    #[serde(default)]
    pub steps: Vec<StepDef>,
    #[serde(default)]
    pub gates: Vec<GateDef>,
    #[serde(default)]
    pub points: Vec<PointRule>,
    #[serde(default)]
    pub tiers: Vec<TierDef>,
}

/// The claim window and vesting schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClaimWindow {
    /// RFC 3339.
    pub start: String,
    /// RFC 3339.
    pub deadline: String,
    /// Nothing vests before `start + cliff_days`.
    #[serde(default)]
    pub cliff_days: u32,
    /// Linear vesting from `start` over this many days; 0 = everything at once.
    #[serde(default)]
    pub vesting_days: u32,
}

/// One of the participation steps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepDef {
    pub key: String,
    pub number: u8,
    pub title: String,
    /// What counts (human text or the policy expression).
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub points_max: u64,
}

/// An activity gate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GateDef {
    pub id: String,
    #[serde(default)]
    pub expr: String,
    /// Sentence shown when the gate is not passed.
    #[serde(default)]
    pub reason: String,
}

/// A points rule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PointRule {
    pub id: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub expr: String,
    #[serde(default)]
    pub cap: Option<u64>,
    /// The step key this rule rewards, if any.
    #[serde(default)]
    pub step: Option<String>,
}

/// A tier threshold.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TierDef {
    pub name: String,
    pub min_points: u64,
}

/// One `wallets.csv` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WalletRow {
    pub address: String,
    pub eligible: bool,
    pub points: u64,
    pub tier: String,
    pub reasons: Vec<Reason>,
}

/// A reason code and its sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: String,
    pub sentence: String,
}

/// One `progress.jsonl` record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProgressRecord {
    pub address: String,
    #[serde(default)]
    pub steps: BTreeMap<String, bool>,
    #[serde(default)]
    pub gates: BTreeMap<String, bool>,
    #[serde(default)]
    pub points: BTreeMap<String, u64>,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub tier: String,
}

fn fnv(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // splitmix64 finaliser: the table uses the low bits.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A file held in memory with an open-addressing table (hash of address, byte offset of its
/// row): 32 bytes per row beside the file itself, one probe on a typical lookup, and a
/// lookup parses only the row it returns.
struct LineIndex {
    data: Vec<u8>,
    /// (hash, offset + 1); offset + 1 == 0 marks an empty slot. Power-of-two length.
    slots: Vec<(u64, u64)>,
    len: usize,
}

impl LineIndex {
    fn build(data: Vec<u8>, entries: &[(u64, u64)]) -> LineIndex {
        let n = (entries.len() * 2).next_power_of_two().max(2);
        let mut slots = vec![(0u64, 0u64); n];
        let mask = n - 1;
        for &(h, off) in entries {
            let mut i = h as usize & mask;
            while slots[i].1 != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = (h, off + 1);
        }
        LineIndex {
            data,
            slots,
            len: entries.len(),
        }
    }

    fn candidates(&self, address: &str) -> impl Iterator<Item = usize> + '_ {
        let h = fnv(address.as_bytes());
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        std::iter::from_fn(move || loop {
            let (sh, off) = self.slots[i];
            if off == 0 {
                return None;
            }
            i = (i + 1) & mask;
            if sh == h {
                return Some(off as usize - 1);
            }
        })
    }
}

/// `wallets.csv`, indexed by address.
pub struct Wallets {
    idx: LineIndex,
    path: PathBuf,
}

fn parse_wallet_record(r: &csv::StringRecord) -> std::result::Result<WalletRow, String> {
    if r.len() != 6 {
        return Err(format!("expected 6 fields, found {}", r.len()));
    }
    let eligible = match &r[1] {
        "true" => true,
        "false" => false,
        x => return Err(format!("eligible must be true or false, got {x:?}")),
    };
    let points = r[2]
        .parse::<u64>()
        .map_err(|_| format!("points must be a non-negative integer, got {:?}", &r[2]))?;
    let codes: Vec<&str> = r[4].split(';').filter(|s| !s.is_empty()).collect();
    let sentences: Vec<&str> = if r[5].is_empty() {
        vec![]
    } else {
        r[5].split(" | ").collect()
    };
    let reasons = codes
        .iter()
        .enumerate()
        .map(|(i, c)| Reason {
            code: c.to_string(),
            sentence: sentences.get(i).map(|s| s.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(WalletRow {
        address: r[0].to_string(),
        eligible,
        points,
        tier: r[3].to_string(),
        reasons,
    })
}

/// One CSV record (RFC 4180 quoting, as the `csv` crate writes) from the start of `b`. The
/// file was fully checked by the `csv` crate at load, so this only has to agree with it on
/// valid input.
fn read_record(b: &[u8]) -> Option<csv::StringRecord> {
    let mut rec = csv::StringRecord::new();
    let mut i = 0;
    loop {
        let mut field = Vec::new();
        if b.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match b.get(i)? {
                    b'"' if b.get(i + 1) == Some(&b'"') => {
                        field.push(b'"');
                        i += 2;
                    }
                    b'"' => {
                        i += 1;
                        break;
                    }
                    &c => {
                        field.push(c);
                        i += 1;
                    }
                }
            }
        }
        while let Some(&c) = b.get(i) {
            if c == b',' || c == b'\n' || c == b'\r' {
                break;
            }
            field.push(c);
            i += 1;
        }
        rec.push_field(std::str::from_utf8(&field).ok()?);
        match b.get(i) {
            Some(b',') => i += 1,
            _ => return Some(rec),
        }
    }
}

impl Wallets {
    /// Read and index `wallets.csv`; every row is checked here, so lookups cannot fail later.
    pub fn open(path: &Path) -> Result<Wallets> {
        let data = std::fs::read(path).map_err(|e| ClaimError::io(path, e))?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(&data[..]);
        let header = rdr
            .headers()
            .map_err(|e| ClaimError::dist(path, format!("line 1: {e}")))?
            .clone();
        let want = [
            "address",
            "eligible",
            "points",
            "tier",
            "reasons",
            "sentences",
        ];
        if header.iter().collect::<Vec<_>>() != want {
            return Err(ClaimError::dist(
                path,
                format!("line 1: header must be {}", want.join(",")),
            ));
        }
        let mut entries = Vec::new();
        let mut rec = csv::StringRecord::new();
        loop {
            let pos = rdr.position().clone();
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {
                    let line = pos.line();
                    let row = parse_wallet_record(&rec)
                        .map_err(|m| ClaimError::dist(path, format!("line {line}: {m}")))?;
                    entries.push((fnv(row.address.as_bytes()), pos.byte()));
                }
                Err(e) => return Err(ClaimError::dist(path, e.to_string())),
            }
        }
        Ok(Wallets {
            idx: LineIndex::build(data, &entries),
            path: path.to_path_buf(),
        })
    }

    /// Number of wallets.
    pub fn len(&self) -> usize {
        self.idx.len
    }

    pub fn is_empty(&self) -> bool {
        self.idx.len == 0
    }

    /// The row of `address` (exact, canonical string).
    pub fn get(&self, address: &str) -> Option<WalletRow> {
        for off in self.idx.candidates(address) {
            let rest = &self.idx.data[off..];
            // Cheap check of the first field before parsing the record.
            if !rest.starts_with(address.as_bytes()) || rest.get(address.len()) != Some(&b',') {
                continue;
            }
            let rec = read_record(rest)?;
            return parse_wallet_record(&rec).ok();
        }
        None
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `progress.jsonl`, indexed by address.
pub struct Progress {
    idx: LineIndex,
}

#[derive(Deserialize)]
struct AddrOnly<'a> {
    #[serde(borrow)]
    address: std::borrow::Cow<'a, str>,
}

impl Progress {
    /// Read and index `progress.jsonl`; every line is checked here.
    pub fn open(path: &Path) -> Result<Progress> {
        let data = std::fs::read(path).map_err(|e| ClaimError::io(path, e))?;
        let mut entries = Vec::new();
        let mut off = 0usize;
        let mut line = 0u64;
        while off < data.len() {
            line += 1;
            let end = data[off..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| off + p)
                .unwrap_or(data.len());
            let text = &data[off..end];
            if !text.iter().all(u8::is_ascii_whitespace) {
                serde_json::from_slice::<ProgressRecord>(text)
                    .map_err(|e| ClaimError::dist(path, format!("line {line}: {e}")))?;
                let a: AddrOnly = serde_json::from_slice(text)
                    .map_err(|e| ClaimError::dist(path, format!("line {line}: {e}")))?;
                entries.push((fnv(a.address.as_bytes()), off as u64));
            }
            off = end + 1;
        }
        Ok(Progress {
            idx: LineIndex::build(data, &entries),
        })
    }

    pub fn len(&self) -> usize {
        self.idx.len
    }

    pub fn is_empty(&self) -> bool {
        self.idx.len == 0
    }

    /// The record of `address` (exact, canonical string).
    pub fn get(&self, address: &str) -> Option<ProgressRecord> {
        for off in self.idx.candidates(address) {
            let rest = &self.idx.data[off..];
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            if let Ok(r) = serde_json::from_slice::<ProgressRecord>(&rest[..end]) {
                if r.address == address {
                    return Some(r);
                }
            }
        }
        None
    }
}

/// Everything the service serves from, loaded and checked.
pub struct Dist {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The key that signed the manifest (the campaign key).
    pub public_key: VerifyingKey,
    pub campaign: Campaign,
    /// Claim window in Unix seconds.
    pub start: i64,
    pub deadline: i64,
    pub checkers: Vec<Arc<dyn ProofChecker>>,
    pub wallets: Wallets,
    pub progress: Option<Progress>,
    /// Private claims (`zk/claim.vk`, optional `zk/root.txt`); `None` disables them.
    pub private: Option<PrivateClaims>,
}

/// What `POST /v1/private-claims` verifies against.
pub struct PrivateClaims {
    /// The campaign's Groth16 verifying key (its campaign is `CampaignId::from_name(campaign.id)`).
    pub vk: Arc<fairdrop_zk::VerifyingKey>,
    /// sha256 of `zk/claim.vk` (equal to the manifest's `inputs["zk:claim.vk"]`).
    pub vk_sha256: String,
    /// `CampaignId::from_name(campaign.id)`.
    pub campaign: fairdrop_zk::CampaignId,
    /// The private tree root proofs must use (`zk/root.txt` = the manifest's `roots["private"]`).
    pub root: Option<fairdrop_zk::Fr>,
}

impl PrivateClaims {
    /// Check the dist's `zk/` files against the signed manifest and load them.
    ///
    /// - The manifest commits to none (no `inputs["zk:claim.vk"]`, no `roots["private"]`):
    ///   private claims are off (`Ok(None)`), and any of `zk/claim.vk`, `zk/root.txt`,
    ///   `zk/tree.json` being present is an error (files nobody signed).
    /// - It commits: `zk/claim.vk` must exist with exactly that sha256 and be for this
    ///   campaign; `zk/root.txt` must exist and hold exactly `roots["private"]`; `zk/tree.json`,
    ///   when present, must have the sha256 of `inputs["zk:tree.json"]`.
    ///
    /// Every mismatch is an error naming the file: the service refuses to start.
    pub fn load(
        dir: &Path,
        campaign_id: &str,
        manifest: &Manifest,
    ) -> Result<Option<PrivateClaims>> {
        use fairdrop_zk::{
            MANIFEST_ROOT, MANIFEST_TREE, MANIFEST_VK, ROOT_FILE, TREE_FILE, VK_FILE,
        };
        let zk = dir.join("zk");
        let (vpath, rpath, tpath) = (zk.join(VK_FILE), zk.join(ROOT_FILE), zk.join(TREE_FILE));
        let mpath = dir.join("manifest.json");
        let want_vk = manifest.inputs.get(MANIFEST_VK);
        let want_root = manifest.roots.get(MANIFEST_ROOT);
        let want_tree = manifest.inputs.get(MANIFEST_TREE);
        if want_vk.is_none() && want_root.is_none() {
            if let Some(p) = [&vpath, &rpath, &tpath].into_iter().find(|p| p.exists()) {
                return Err(ClaimError::dist(
                    p,
                    format!(
                        "present, but the signed manifest commits to no private claims (no inputs[{MANIFEST_VK:?}], no roots[{MANIFEST_ROOT:?}]): run the campaign with a [zk] section, or remove {}",
                        zk.display()
                    ),
                ));
            }
            return Ok(None);
        }
        let (Some(want_vk), Some(want_root)) = (want_vk, want_root) else {
            return Err(ClaimError::dist(
                &mpath,
                format!("inputs[{MANIFEST_VK:?}] and roots[{MANIFEST_ROOT:?}] come together; this manifest has only one"),
            ));
        };
        let vbytes = std::fs::read(&vpath).map_err(|e| {
            ClaimError::dist(
                &vpath,
                format!(
                    "the signed manifest commits to a verifying key, but it cannot be read: {e}"
                ),
            )
        })?;
        let vk_sha256 = hex::encode(Sha256::digest(&vbytes));
        if !vk_sha256.eq_ignore_ascii_case(want_vk) {
            return Err(ClaimError::dist(
                &vpath,
                format!(
                    "sha256 {vk_sha256} is not the manifest's inputs[{MANIFEST_VK:?}] {want_vk}: this is not the verifying key the campaign committed to"
                ),
            ));
        }
        let vk = fairdrop_zk::VerifyingKey::from_bytes(&vbytes)
            .map_err(|e| ClaimError::dist(&vpath, e.to_string()))?;
        let campaign = fairdrop_zk::CampaignId::from_name(campaign_id);
        if vk.campaign != campaign {
            return Err(ClaimError::dist(
                &vpath,
                format!(
                    "the verifying key is for campaign id {}, not {} (campaign {campaign_id:?})",
                    vk.campaign.to_hex(),
                    campaign.to_hex()
                ),
            ));
        }
        let text = std::fs::read_to_string(&rpath).map_err(|e| {
            ClaimError::dist(
                &rpath,
                format!(
                    "the signed manifest commits to a private root, but it cannot be read: {e}"
                ),
            )
        })?;
        let line = text.trim().to_ascii_lowercase();
        if line != want_root.to_ascii_lowercase() {
            return Err(ClaimError::dist(
                &rpath,
                format!(
                    "root {} is not the manifest's roots[{MANIFEST_ROOT:?}] {want_root}",
                    line.chars().take(80).collect::<String>()
                ),
            ));
        }
        let root =
            fairdrop_zk::fe_from_hex(&line).map_err(|e| ClaimError::dist(&rpath, e.to_string()))?;
        if tpath.exists() {
            let Some(want_tree) = want_tree else {
                return Err(ClaimError::dist(
                    &tpath,
                    format!("present, but the signed manifest has no inputs[{MANIFEST_TREE:?}]"),
                ));
            };
            let tbytes = std::fs::read(&tpath).map_err(|e| ClaimError::io(&tpath, e))?;
            let got = hex::encode(Sha256::digest(&tbytes));
            if !got.eq_ignore_ascii_case(want_tree) {
                return Err(ClaimError::dist(
                    &tpath,
                    format!(
                        "sha256 {got} is not the manifest's inputs[{MANIFEST_TREE:?}] {want_tree}"
                    ),
                ));
            }
        }
        let gpath = zk.join(fairdrop_zk::REGISTRATIONS_FILE);
        if gpath.exists() {
            let Some(want) = manifest.inputs.get(fairdrop_zk::MANIFEST_REGISTRATIONS) else {
                return Err(ClaimError::dist(
                    &gpath,
                    format!(
                        "present, but the signed manifest has no inputs[{:?}]",
                        fairdrop_zk::MANIFEST_REGISTRATIONS
                    ),
                ));
            };
            let gbytes = std::fs::read(&gpath).map_err(|e| ClaimError::io(&gpath, e))?;
            let got = hex::encode(Sha256::digest(&gbytes));
            if !got.eq_ignore_ascii_case(want) {
                return Err(ClaimError::dist(
                    &gpath,
                    format!(
                        "sha256 {got} is not the manifest's inputs[{:?}] {want}",
                        fairdrop_zk::MANIFEST_REGISTRATIONS
                    ),
                ));
            }
        }
        Ok(Some(PrivateClaims {
            vk: Arc::new(vk),
            vk_sha256,
            campaign,
            root: Some(root),
        }))
    }
}

impl std::fmt::Debug for Dist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dist")
            .field("dir", &self.dir)
            .field("campaign", &self.campaign.id)
            .field("wallets", &self.wallets.len())
            .finish()
    }
}

/// Parse an RFC 3339 time (or Unix seconds) to Unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    fairdrop_core::parse_timestamp(s).ok()
}

/// Unix seconds as RFC 3339 UTC (`2026-01-31T12:00:00Z`).
pub fn format_time(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// sha256 of the raw 32-byte public key, lowercase hex: the fingerprint participants compare
/// with the official announcement.
pub fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl Dist {
    /// Load `dir`: check the manifest signature (and, with `expected_key`, that it is that
    /// key), open a proof store per profile in the manifest's `roots` and check each store's
    /// root against the manifest, index `wallets.csv` and `progress.jsonl` (optional), and read
    /// `campaign.json`.
    pub fn load(dir: &Path, expected_key: Option<&VerifyingKey>) -> Result<Dist> {
        let mpath = dir.join("manifest.json");
        let manifest =
            Manifest::read(&mpath).map_err(|e| ClaimError::dist(&mpath, e.to_string()))?;
        let public_key = manifest
            .verify_signature(expected_key)
            .map_err(|e| ClaimError::Signature(format!("{}: {e}", mpath.display())))?;
        let cpath = dir.join("campaign.json");
        let ctext = std::fs::read(&cpath).map_err(|e| ClaimError::io(&cpath, e))?;
        let campaign: Campaign = serde_json::from_slice(&ctext)
            .map_err(|e| ClaimError::dist(&cpath, format!("not a campaign file: {e}")))?;
        let start = parse_time(&campaign.claim.start).ok_or_else(|| {
            ClaimError::dist(&cpath, "claim.start is not an RFC 3339 time".to_string())
        })?;
        let deadline = parse_time(&campaign.claim.deadline).ok_or_else(|| {
            ClaimError::dist(&cpath, "claim.deadline is not an RFC 3339 time".to_string())
        })?;
        if deadline <= start {
            return Err(ClaimError::dist(
                &cpath,
                "claim.deadline must be after claim.start",
            ));
        }
        if fairdrop_core::parse_amount(&campaign.pool).is_err() {
            return Err(ClaimError::dist(
                &cpath,
                "pool must be a decimal integer string of base units",
            ));
        }
        let mut checkers: Vec<Arc<dyn ProofChecker>> = Vec::new();
        for (profile, root) in &manifest.roots {
            if profile == fairdrop_zk::MANIFEST_ROOT {
                // The private tree's root: checked by `PrivateClaims::load`.
                continue;
            }
            if profile == "aleo" {
                let apath = dir.join("proofs-aleo.jsonl");
                let program = aleo_program_id(dir, &campaign.id);
                let c = crate::checker::AleoChecker::load(&apath, root, &program)
                    .map_err(|m| ClaimError::dist(&apath, m))?;
                checkers.push(Arc::new(c));
                continue;
            }
            let spath = dir.join(format!("proofs-{profile}.bin"));
            let store =
                ProofStore::open(&spath).map_err(|e| ClaimError::dist(&spath, e.to_string()))?;
            let c = StoreChecker::new(store);
            if !c.root().eq_ignore_ascii_case(root) {
                return Err(ClaimError::dist(
                    &spath,
                    format!(
                        "root {} does not match the manifest's {profile} root {root}",
                        c.root()
                    ),
                ));
            }
            checkers.push(Arc::new(c));
        }
        if checkers.is_empty() {
            return Err(ClaimError::dist(
                &mpath,
                "the manifest has no roots with a proof store (proofs-<profile>.bin)",
            ));
        }
        let wallets = Wallets::open(&dir.join("wallets.csv"))?;
        let ppath = dir.join("progress.jsonl");
        let progress = if ppath.exists() {
            Some(Progress::open(&ppath)?)
        } else {
            None
        };
        let private = PrivateClaims::load(dir, &campaign.id, &manifest)?;
        Ok(Dist {
            dir: dir.to_path_buf(),
            manifest,
            public_key,
            campaign,
            start,
            deadline,
            checkers,
            wallets,
            progress,
            private,
        })
    }

    /// Plug in another profile's checker (e.g. `aleo`). Its root must be the manifest's.
    pub fn add_checker(&mut self, checker: Arc<dyn ProofChecker>) -> Result<()> {
        let p = checker.profile().to_string();
        match self.manifest.roots.get(&p) {
            Some(r) if r.eq_ignore_ascii_case(&checker.root()) => {
                self.checkers.retain(|c| c.profile() != p);
                self.checkers.push(checker);
                Ok(())
            }
            Some(r) => Err(ClaimError::Config(format!(
                "{p} checker root {} does not match the manifest's {r}",
                checker.root()
            ))),
            None => Err(ClaimError::Config(format!("the manifest has no {p} root"))),
        }
    }

    /// The checker of `profile`.
    pub fn checker(&self, profile: &str) -> Option<&Arc<dyn ProofChecker>> {
        self.checkers.iter().find(|c| c.profile() == profile)
    }

    /// sha256 fingerprint of the campaign key.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_key)
    }
}

/// Read the signing key and check it is the key that signed the manifest.
pub fn load_signing_key(path: &Path, campaign_key: &VerifyingKey) -> Result<SigningKey> {
    let sk = read_secret_key(path).map_err(|e| ClaimError::Config(e.to_string()))?;
    if &sk.verifying_key() != campaign_key {
        return Err(ClaimError::Signature(format!(
            "the signing key in {} is not the key that signed the manifest ({})",
            path.display(),
            hex::encode(campaign_key.as_bytes())
        )));
    }
    Ok(sk)
}

/// Amount vested at `now` of `amount` under the window's schedule.
pub fn vested(amount: u128, start: i64, cliff_days: u32, vesting_days: u32, now: i64) -> u128 {
    let cliff_end = start + cliff_days as i64 * 86_400;
    if now < start || now < cliff_end {
        return 0;
    }
    if vesting_days == 0 {
        return amount;
    }
    let d = vesting_days as u128 * 86_400;
    let e = (now - start) as u128;
    if e >= d {
        return amount;
    }
    // amount * e / d without overflow
    (amount / d) * e + (amount % d) * e / d
}

/// The id of the campaign's Aleo claim program: the name in `aleo/program/program.json` when
/// the run generated the program, else the default name (`fairdrop aleo program`'s).
fn aleo_program_id(dir: &Path, campaign_id: &str) -> String {
    std::fs::read_to_string(dir.join("aleo").join("program").join("program.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["program"].as_str().map(str::to_string))
        .filter(|p| {
            p.strip_suffix(".aleo")
                .is_some_and(fairdrop_zk::program::valid_program_name)
        })
        .unwrap_or_else(|| format!("{}.aleo", fairdrop_zk::program::program_name(campaign_id)))
}
