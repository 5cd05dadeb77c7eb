//! The campaign file (TOML). See `docs/campaign.md` for every key, and
//! `campaigns/aleo-airdrop-2024.toml` for the seed's airdrop, fully commented.
//!
//! Loading checks everything that can be checked before a run: unknown keys, types, amounts
//! (positive pool, cap not below floor, floor not above pool), dates, expressions (syntax,
//! unknown features, type errors) and list files. Every error names the key and its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::expr::{compile, Compiled, Ty};

/// A campaign error: what is wrong, where.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {key}: {msg}")]
pub struct CampaignError {
    pub file: PathBuf,
    pub line: usize,
    pub key: String,
    pub msg: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Raw {
    campaign: RawCampaign,
    #[serde(default)]
    inputs: RawInputs,
    #[serde(default)]
    exclusions: Vec<RawExclusion>,
    #[serde(default)]
    gates: Vec<RawGate>,
    #[serde(default)]
    points: Vec<RawPoints>,
    #[serde(default)]
    penalties: Vec<RawPenalty>,
    #[serde(default)]
    tiers: Vec<RawTier>,
    allocation: RawAllocation,
    #[serde(default)]
    sybil: Sybil,
    #[serde(default)]
    outputs: Outputs,
    #[serde(default)]
    signing: Signing,
    #[serde(default)]
    claim: Claim,
    #[serde(default)]
    zk: Option<RawZk>,
}

/// `[zk]`: private claims committed by the run.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawZk {
    /// Folder written by `fairdrop zk setup` (`claim.pk`, `claim.vk`).
    keys: Spanned<String>,
    /// Private-tree file written by `fairdrop zk tree --out`.
    tree: Spanned<String>,
    /// The registrations file the tree was built from (`fairdrop zk tree --notes`), optional.
    #[serde(default)]
    registrations: Option<Spanned<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    id: Spanned<String>,
    name: String,
    #[serde(default)]
    description: String,
    /// Which addresses are scored: "aleo" or "evm".
    address_kind: Spanned<String>,
    token: String,
    decimals: Spanned<i64>,
    pool: Spanned<toml::Value>,
    snapshot: Spanned<String>,
    window_days: Spanned<i64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawInputs {
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    hubs: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawExclusion {
    id: String,
    file: Spanned<String>,
    reason: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawGate {
    id: String,
    expr: Spanned<String>,
    reason: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawPoints {
    id: String,
    label: String,
    expr: Spanned<String>,
    #[serde(default)]
    cap: Option<Spanned<i64>>,
    /// Optional link to one of the eleven steps (for the progress view).
    #[serde(default)]
    step: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawPenalty {
    id: String,
    when: Spanned<String>,
    /// Percent of points kept (0..=100).
    keep_percent: Spanned<i64>,
    reason: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawTier {
    name: String,
    min_points: Spanned<i64>,
    #[serde(default)]
    weight: Option<Spanned<i64>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawAllocation {
    method: Spanned<String>,
    #[serde(default)]
    floor: Option<Spanned<toml::Value>>,
    #[serde(default)]
    cap: Option<Spanned<toml::Value>>,
}

/// Sybil stage settings.
#[derive(Deserialize, Debug, Clone, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sybil {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// exclude | collapse | fraction
    #[serde(default = "exclude")]
    pub action: String,
    /// For `fraction`: percent of the allocation kept.
    #[serde(default)]
    pub keep_percent: u8,
    /// Minimum cluster size, counted on scored wallets.
    #[serde(default = "eight")]
    pub min_cluster_size: usize,
    /// File of addresses or cluster ids cleared by hand (always wins).
    #[serde(default)]
    pub appeals: Option<String>,
    /// A model from `fairdrop sybil-train`: wallets it scores at or above its threshold are
    /// flagged (on top of, and refining, the rule detector). Relative to the campaign file.
    #[serde(default)]
    pub model: Option<String>,
}

fn yes() -> bool {
    true
}
fn exclude() -> String {
    "exclude".into()
}
fn eight() -> usize {
    8
}

impl Default for Sybil {
    fn default() -> Self {
        Sybil {
            enabled: true,
            action: exclude(),
            keep_percent: 0,
            min_cluster_size: 8,
            appeals: None,
            model: None,
        }
    }
}

/// Output settings.
#[derive(Deserialize, Debug, Clone, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    #[serde(default = "dist")]
    pub dir: String,
    /// Merkle profiles to commit to: aleo, oz, uniswap, jito.
    #[serde(default)]
    pub profiles: Vec<String>,
}

fn dist() -> String {
    "dist".into()
}

impl Default for Outputs {
    fn default() -> Self {
        Outputs {
            dir: dist(),
            profiles: vec![],
        }
    }
}

/// Signing key settings.
#[derive(Deserialize, Debug, Clone, Default, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    /// ed25519 secret key file (made by `fairdrop keygen`).
    #[serde(default)]
    pub key: Option<String>,
}

/// Claim window settings.
#[derive(Deserialize, Debug, Clone, Default, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    pub cliff_days: Option<u32>,
    #[serde(default)]
    pub vesting_days: Option<u32>,
}

/// `[zk]`: the private-claim keys and tree the run copies into `dist/zk/` and commits to in
/// the manifest (the files themselves are checked by the commit stage).
#[derive(Debug, Clone)]
pub struct Zk {
    /// Keys folder (`fairdrop zk setup --out`): holds `claim.pk` and `claim.vk`.
    pub keys: PathBuf,
    /// Private-tree file (`fairdrop zk tree --out`).
    pub tree: PathBuf,
    /// The registrations file the tree was built from (`fairdrop zk tree --notes`): when
    /// given, the run re-checks it, copies it to `dist/zk/` and commits to its sha256.
    pub registrations: Option<PathBuf>,
    /// Lines of `zk.keys` and `zk.tree`, for errors found later.
    pub keys_line: usize,
    pub tree_line: usize,
}

/// A list of addresses that are never eligible.
#[derive(Debug, Clone)]
pub struct Exclusion {
    pub id: String,
    pub file: PathBuf,
    pub reason: String,
    /// Canonical addresses, sorted.
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Gate {
    pub id: String,
    pub expr: Compiled,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct PointsRule {
    pub id: String,
    pub label: String,
    pub expr: Compiled,
    pub cap: Option<i64>,
    pub step: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Penalty {
    pub id: String,
    pub when: Compiled,
    pub keep_percent: i64,
    pub reason: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Tier {
    pub name: String,
    pub min_points: i64,
    pub weight: Option<i64>,
}

/// How the pool is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Linear,
    Sqrt,
    Log,
    Tier,
    Equal,
}

#[derive(Debug, Clone)]
pub struct Allocation {
    pub method: Method,
    pub floor: Option<u128>,
    pub cap: Option<u128>,
    /// Lines of the keys, for errors found when the wallet count is known.
    pub floor_line: usize,
    pub cap_line: usize,
    pub pool_line: usize,
}

/// A loaded, validated campaign.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub path: PathBuf,
    /// Folder paths in the file are relative to.
    pub base: PathBuf,
    pub id: String,
    pub name: String,
    pub description: String,
    pub address_kind: fairdrop_core::AddressKind,
    pub token: String,
    pub decimals: u32,
    pub pool: u128,
    pub snapshot: i64,
    pub window_start: i64,
    pub events: Vec<PathBuf>,
    pub hubs: Vec<PathBuf>,
    pub exclusions: Vec<Exclusion>,
    pub gates: Vec<Gate>,
    pub points: Vec<PointsRule>,
    pub penalties: Vec<Penalty>,
    /// Highest `min_points` first.
    pub tiers: Vec<Tier>,
    pub allocation: Allocation,
    pub sybil: Sybil,
    pub outputs: Outputs,
    pub signing: Signing,
    pub claim: Claim,
    /// `[zk]` (optional): private claims.
    pub zk: Option<Zk>,
}

fn line_of(src: &str, span: std::ops::Range<usize>) -> usize {
    src[..span.start.min(src.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// Parse an amount: an integer (base units), a string of base units (`"150000000000000"`,
/// underscores allowed), or a string with the token symbol (`"150_000_000 ALEO"`, up to
/// `decimals` fraction digits).
pub fn parse_amount(v: &toml::Value, token: &str, decimals: u32) -> Result<u128, String> {
    match v {
        toml::Value::Integer(i) if *i >= 0 => Ok(*i as u128),
        toml::Value::Integer(i) => Err(format!("{i} is negative")),
        toml::Value::String(s) => {
            let s = s.trim();
            let (num, scaled) = match s.strip_suffix(token) {
                Some(n) if !token.is_empty() => (n.trim(), true),
                _ => (s, false),
            };
            let num = num.replace('_', "");
            if num.starts_with('-') {
                return Err(format!("{s:?} is negative"));
            }
            let (int, frac) = num.split_once('.').unwrap_or((&num, ""));
            if !scaled && !frac.is_empty() {
                return Err(format!(
                    "{s:?}: base units are whole numbers (or write \"… {token}\")"
                ));
            }
            if int.is_empty()
                || !int.bytes().all(|c| c.is_ascii_digit())
                || !frac.bytes().all(|c| c.is_ascii_digit())
            {
                return Err(format!(
                    "{s:?} is not an amount (base units, or \"<number> {token}\")"
                ));
            }
            if frac.len() > decimals as usize {
                return Err(format!("{s:?} has more than {decimals} decimals"));
            }
            let scale = if scaled {
                10u128.checked_pow(decimals).ok_or("decimals too large")?
            } else {
                1
            };
            let i: u128 = int.parse().map_err(|_| format!("{s:?} is too large"))?;
            let f: u128 = if frac.is_empty() {
                0
            } else {
                frac.parse::<u128>().map_err(|_| "bad fraction")?
            };
            let fscale = 10u128.pow(decimals.saturating_sub(frac.len() as u32));
            i.checked_mul(scale)
                .and_then(|x| x.checked_add(if scaled { f * fscale } else { 0 }))
                .ok_or_else(|| format!("{s:?} is too large"))
        }
        other => Err(format!("expected an amount, got {}", other.type_str())),
    }
}

/// Read an address list: one address per line, `#` comments and blank lines ignored.
pub fn read_address_list(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        let a = fairdrop_core::Address::parse(l)
            .map_err(|e| format!("{}:{}: {l:?}: {e} ({})", path.display(), i + 1, e.rule()))?;
        out.push(a.to_string());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl Campaign {
    /// Load and validate a campaign file.
    pub fn load(path: &Path) -> Result<Campaign, CampaignError> {
        let src = std::fs::read_to_string(path).map_err(|e| CampaignError {
            file: path.to_path_buf(),
            line: 0,
            key: "-".into(),
            msg: format!("cannot read: {e}"),
        })?;
        Self::from_str(&src, path)
    }

    /// Validate campaign text; `path` names it in errors and anchors relative paths.
    pub fn from_str(src: &str, path: &Path) -> Result<Campaign, CampaignError> {
        let file = path.to_path_buf();
        let err = |line: usize, key: &str, msg: String| CampaignError {
            file: file.clone(),
            line,
            key: key.into(),
            msg,
        };
        let raw: Raw = toml::from_str(src).map_err(|e| {
            let line = e.span().map(|s| line_of(src, s)).unwrap_or(0);
            let msg = e.message().to_string();
            // Name the key when the parser tells which.
            let key = e
                .span()
                .map(|s| {
                    src[s]
                        .split(['=', '\n'])
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string()
                })
                .filter(|k| !k.is_empty() && k.len() < 64)
                .unwrap_or_else(|| "-".into());
            err(line, &key, msg)
        })?;
        let sp = |s: std::ops::Range<usize>| line_of(src, s);
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let rel = |p: &str| -> PathBuf {
            let pb = PathBuf::from(p);
            if pb.is_absolute() {
                pb
            } else {
                base.join(pb)
            }
        };
        let c = &raw.campaign;
        if c.id.get_ref().is_empty()
            || !c
                .id
                .get_ref()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(err(
                sp(c.id.span()),
                "campaign.id",
                "must be 1+ characters of [A-Za-z0-9_-]".into(),
            ));
        }
        let address_kind = match c.address_kind.get_ref().as_str() {
            "aleo" => fairdrop_core::AddressKind::Aleo,
            "evm" => fairdrop_core::AddressKind::Evm,
            o => {
                return Err(err(
                    sp(c.address_kind.span()),
                    "campaign.address_kind",
                    format!("{o:?}: expected \"aleo\" or \"evm\""),
                ))
            }
        };
        let decimals = *c.decimals.get_ref();
        if !(0..=30).contains(&decimals) {
            return Err(err(
                sp(c.decimals.span()),
                "campaign.decimals",
                format!("{decimals} is not in 0..=30"),
            ));
        }
        let decimals = decimals as u32;
        let pool_line = sp(c.pool.span());
        let pool = parse_amount(c.pool.get_ref(), &c.token, decimals)
            .map_err(|m| err(pool_line, "campaign.pool", m))?;
        if pool == 0 {
            return Err(err(
                pool_line,
                "campaign.pool",
                "the pool must be positive".into(),
            ));
        }
        let snapshot = fairdrop_core::parse_timestamp(c.snapshot.get_ref())
            .map_err(|e| err(sp(c.snapshot.span()), "campaign.snapshot", e.to_string()))?;
        let wd = *c.window_days.get_ref();
        if !(1..=3650).contains(&wd) {
            return Err(err(
                sp(c.window_days.span()),
                "campaign.window_days",
                format!("{wd} is not in 1..=3650"),
            ));
        }
        let window_start = snapshot - wd * 86400;

        let cexpr = |s: &Spanned<String>, key: &str, ty: Ty| -> Result<Compiled, CampaignError> {
            compile(s.get_ref(), ty).map_err(|e| err(sp(s.span()), key, e.to_string()))
        };
        let mut ids = std::collections::HashSet::new();
        let mut uniq = |id: &str, key: &str, line: usize| -> Result<(), CampaignError> {
            if !ids.insert(format!("{key}:{id}")) {
                return Err(err(line, key, format!("id {id:?} is used twice")));
            }
            Ok(())
        };
        let mut gates = Vec::new();
        for g in &raw.gates {
            uniq(&g.id, "gates.id", sp(g.expr.span()))?;
            gates.push(Gate {
                id: g.id.clone(),
                expr: cexpr(&g.expr, &format!("gates.{}.expr", g.id), Ty::Bool)?,
                reason: g.reason.clone(),
            });
        }
        let mut points = Vec::new();
        for p in &raw.points {
            uniq(&p.id, "points.id", sp(p.expr.span()))?;
            if let Some(cap) = &p.cap {
                if *cap.get_ref() < 0 {
                    return Err(err(
                        sp(cap.span()),
                        &format!("points.{}.cap", p.id),
                        "must not be negative".into(),
                    ));
                }
            }
            if let Some(s) = &p.step {
                if !fairdrop_core::steps::STEPS.iter().any(|x| x.key == s) {
                    return Err(err(
                        sp(p.expr.span()),
                        &format!("points.{}.step", p.id),
                        format!("{s:?} is not one of the eleven step keys"),
                    ));
                }
            }
            points.push(PointsRule {
                id: p.id.clone(),
                label: p.label.clone(),
                expr: cexpr(&p.expr, &format!("points.{}.expr", p.id), Ty::Int)?,
                cap: p.cap.as_ref().map(|c| *c.get_ref()),
                step: p.step.clone(),
            });
        }
        let mut penalties = Vec::new();
        for p in &raw.penalties {
            uniq(&p.id, "penalties.id", sp(p.when.span()))?;
            let k = *p.keep_percent.get_ref();
            if !(0..=100).contains(&k) {
                return Err(err(
                    sp(p.keep_percent.span()),
                    &format!("penalties.{}.keep_percent", p.id),
                    format!("{k} is not in 0..=100"),
                ));
            }
            penalties.push(Penalty {
                id: p.id.clone(),
                when: cexpr(&p.when, &format!("penalties.{}.when", p.id), Ty::Bool)?,
                keep_percent: k,
                reason: p.reason.clone(),
            });
        }
        let mut tiers: Vec<Tier> = raw
            .tiers
            .iter()
            .map(|t| Tier {
                name: t.name.clone(),
                min_points: *t.min_points.get_ref(),
                weight: t.weight.as_ref().map(|w| *w.get_ref()),
            })
            .collect();
        for t in &raw.tiers {
            if *t.min_points.get_ref() < 0 {
                return Err(err(
                    sp(t.min_points.span()),
                    &format!("tiers.{}.min_points", t.name),
                    "must not be negative".into(),
                ));
            }
        }
        tiers.sort_by(|a, b| b.min_points.cmp(&a.min_points).then(a.name.cmp(&b.name)));
        let a = &raw.allocation;
        let method = match a.method.get_ref().as_str() {
            "linear" => Method::Linear,
            "sqrt" => Method::Sqrt,
            "log" => Method::Log,
            "tier" => Method::Tier,
            "equal" => Method::Equal,
            o => {
                return Err(err(
                    sp(a.method.span()),
                    "allocation.method",
                    format!("{o:?}: expected linear, sqrt, log, tier or equal"),
                ))
            }
        };
        if method == Method::Tier {
            if tiers.is_empty() {
                return Err(err(
                    sp(a.method.span()),
                    "allocation.method",
                    "\"tier\" needs [[tiers]] with weights".into(),
                ));
            }
            for (rt, t) in raw.tiers.iter().zip(tiers.iter()) {
                let _ = t;
                match &rt.weight {
                    Some(w) if *w.get_ref() >= 0 => {}
                    Some(w) => {
                        return Err(err(
                            sp(w.span()),
                            &format!("tiers.{}.weight", rt.name),
                            "must not be negative".into(),
                        ))
                    }
                    None => {
                        return Err(err(
                            sp(rt.min_points.span()),
                            &format!("tiers.{}.weight", rt.name),
                            "method \"tier\" needs a weight for every tier".into(),
                        ))
                    }
                }
            }
        }
        let amount = |v: &Option<Spanned<toml::Value>>,
                      key: &str|
         -> Result<(Option<u128>, usize), CampaignError> {
            match v {
                None => Ok((None, 0)),
                Some(s) => {
                    let line = sp(s.span());
                    parse_amount(s.get_ref(), &c.token, decimals)
                        .map(|x| (Some(x), line))
                        .map_err(|m| err(line, key, m))
                }
            }
        };
        let (floor, floor_line) = amount(&a.floor, "allocation.floor")?;
        let (cap, cap_line) = amount(&a.cap, "allocation.cap")?;
        if let (Some(f), Some(cp)) = (floor, cap) {
            if cp < f {
                return Err(err(
                    cap_line,
                    "allocation.cap",
                    format!("cap {cp} is below the floor {f}"),
                ));
            }
        }
        if let Some(f) = floor {
            if f > pool {
                return Err(err(
                    floor_line,
                    "allocation.floor",
                    format!("floor {f} is above the whole pool {pool}"),
                ));
            }
        }
        if cap == Some(0) {
            return Err(err(
                cap_line,
                "allocation.cap",
                "cap 0 would give nothing to anyone".into(),
            ));
        }
        if !matches!(
            raw.sybil.action.as_str(),
            "exclude" | "collapse" | "fraction"
        ) {
            return Err(err(
                0,
                "sybil.action",
                format!(
                    "{:?}: expected exclude, collapse or fraction",
                    raw.sybil.action
                ),
            ));
        }
        if raw.sybil.keep_percent > 100 {
            return Err(err(0, "sybil.keep_percent", "must be in 0..=100".into()));
        }
        for p in &raw.outputs.profiles {
            if !matches!(p.as_str(), "aleo" | "oz" | "uniswap" | "jito") {
                return Err(err(
                    0,
                    "outputs.profiles",
                    format!("{p:?}: expected aleo, oz, uniswap or jito"),
                ));
            }
        }
        let mut exclusions = Vec::new();
        for x in &raw.exclusions {
            let fp = rel(x.file.get_ref());
            let addresses = read_address_list(&fp)
                .map_err(|m| err(sp(x.file.span()), &format!("exclusions.{}.file", x.id), m))?;
            exclusions.push(Exclusion {
                id: x.id.clone(),
                file: fp,
                reason: x.reason.clone(),
                addresses,
            });
        }
        let zk = match &raw.zk {
            None => None,
            Some(z) => {
                let (keys_line, tree_line) = (sp(z.keys.span()), sp(z.tree.span()));
                let keys = rel(z.keys.get_ref());
                for f in ["claim.pk", "claim.vk"] {
                    if !keys.join(f).is_file() {
                        return Err(err(
                            keys_line,
                            "zk.keys",
                            format!(
                                "{} has no {f} (make the keys with `fairdrop zk setup --out`)",
                                keys.display()
                            ),
                        ));
                    }
                }
                let tree = rel(z.tree.get_ref());
                if !tree.is_file() {
                    return Err(err(
                        tree_line,
                        "zk.tree",
                        format!(
                            "{} is not a file (make it with `fairdrop zk tree --out`)",
                            tree.display()
                        ),
                    ));
                }
                let registrations = match &z.registrations {
                    None => None,
                    Some(r) => {
                        let rp = rel(r.get_ref());
                        if !rp.is_file() {
                            return Err(err(
                                sp(r.span()),
                                "zk.registrations",
                                format!(
                                    "{} is not a file (the CSV given to `fairdrop zk tree --notes`)",
                                    rp.display()
                                ),
                            ));
                        }
                        Some(rp)
                    }
                };
                Some(Zk {
                    keys,
                    tree,
                    registrations,
                    keys_line,
                    tree_line,
                })
            }
        };
        let _ = BTreeMap::<u8, u8>::new();
        Ok(Campaign {
            path: path.to_path_buf(),
            base: base.clone(),
            id: c.id.get_ref().clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            address_kind,
            token: c.token.clone(),
            decimals,
            pool,
            snapshot,
            window_start,
            events: raw.inputs.events.iter().map(|p| rel(p)).collect(),
            hubs: raw.inputs.hubs.iter().map(|p| rel(p)).collect(),
            exclusions,
            gates,
            points,
            penalties,
            tiers,
            allocation: Allocation {
                method,
                floor,
                cap,
                floor_line,
                cap_line,
                pool_line,
            },
            sybil: raw.sybil,
            outputs: raw.outputs,
            signing: raw.signing,
            claim: raw.claim,
            zk,
        })
    }

    pub fn feature_params(&self) -> crate::features::FeatureParams {
        crate::features::FeatureParams {
            snapshot: self.snapshot,
            window_start: self.window_start,
            decimals: self.decimals,
        }
    }
}

#[cfg(test)]
mod zk_section {
    use super::*;

    const BASE: &str = r#"[campaign]
id = "z"
name = "Z"
address_kind = "evm"
token = "T"
decimals = 0
pool = 100
snapshot = "2026-01-01T00:00:00Z"
window_days = 30

[allocation]
method = "equal"
"#;

    fn load(extra: &str) -> (tempfile::TempDir, Result<Campaign, CampaignError>) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("keys")).unwrap();
        std::fs::write(d.path().join("keys/claim.pk"), b"pk").unwrap();
        std::fs::write(d.path().join("keys/claim.vk"), b"vk").unwrap();
        std::fs::write(d.path().join("tree.json"), b"{}").unwrap();
        let p = d.path().join("campaign.toml");
        let text = format!("{BASE}{extra}");
        std::fs::write(&p, &text).unwrap();
        let r = Campaign::load(&p);
        (d, r)
    }

    #[test]
    fn absent_is_none_and_present_resolves_paths() {
        let (_d, r) = load("");
        assert!(r.unwrap().zk.is_none());
        let (d, r) = load("\n[zk]\nkeys = \"keys\"\ntree = \"tree.json\"\n");
        let z = r.unwrap().zk.unwrap();
        assert_eq!(z.keys, d.path().join("keys"));
        assert_eq!(z.tree, d.path().join("tree.json"));
        assert_eq!((z.keys_line, z.tree_line), (15, 16));
    }

    #[test]
    fn errors_name_key_and_line() {
        let (_d, r) = load("\n[zk]\nkeys = \"nope\"\ntree = \"tree.json\"\n");
        let e = r.unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (15, "zk.keys"), "{e}");
        assert!(e.msg.contains("claim.pk"), "{e}");
        let (_d, r) =
            load("\n[zk]\nkeys = \"keys\"\ntree = \"tree.json\"\nregistrations = \"nope.csv\"\n");
        let e = r.unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (17, "zk.registrations"), "{e}");
        let (_d, r) = load("\n[zk]\nkeys = \"keys\"\ntree = \"missing.json\"\n");
        let e = r.unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (16, "zk.tree"), "{e}");
        let (_d, r) = load("\n[zk]\nkeys = \"keys\"\ntree = \"tree.json\"\nroot = \"0x1\"\n");
        let e = r.unwrap_err();
        assert_eq!(e.line, 17, "{e}");
        assert!(e.msg.contains("unknown field `root`"), "{e}");
        let (_d, r) = load("\n[zk]\nkeys = \"keys\"\n");
        let e = r.unwrap_err();
        assert!(e.msg.contains("missing field `tree`"), "{e}");
    }
}
