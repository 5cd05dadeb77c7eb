//! Column mappings: exports laid out by other tools (Dune, BigQuery, cryo, quest boards,
//! greenlists, faucet logs) read as canonical rows, by one mechanism.
//!
//! A [`Mapping`] says, for each canonical column, where its value comes from: a source column
//! (`"from"`), a constant (`"=ethereum"`) or a template of columns (`"{evt_tx_hash}:{evt_index}"`).
//! Values are normalised on the way: timestamps in the forms those tools write (RFC 3339,
//! `2024-01-31 12:00:00.000 UTC`, naive date-times taken as UTC, Unix seconds, Parquet
//! timestamps), amounts as decimal, `0x` hex or 32-byte big-endian binary (cryo's
//! `value_binary`), or in whole tokens with `amount_decimals`; binary addresses become `0x` hex.
//! A value that does not normalise is passed on as it is, so the validator quarantines it
//! with its own rule. Rows a `skip_when` names (failed transactions) are counted, not read.
//!
//! Built-in presets ([`Mapping::preset`], [`PRESETS`]) are mappings like any other; a source's
//! own `columns` override a preset's.
//!
//! ```
//! use fairdrop_ingest::mapped::{Mapping, MappingSpec};
//! let spec = MappingSpec { preset: Some("dune.erc20.evt_Transfer".into()), ..Default::default() };
//! let m = Mapping::from_spec(&spec).unwrap();
//! assert!(m.source_columns().contains(&"evt_block_time"));
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::source::{FileError, FileInfo, Format, Position, RawRow, Tap, KNOWN};

/// Where one canonical column's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A source column, by name.
    Column(String),
    /// A constant (`"=ethereum"` in a mapping).
    Const(String),
    /// Text with `{column}` holes (`"{hash}:{log_index}"`); absent if any hole is empty.
    Template(Vec<Part>),
    /// The time of the block this column numbers, from the source's `block_times` file.
    BlockTime(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Col(String),
}

impl Value {
    /// `name`, `=constant` or a template with `{name}` holes.
    pub fn parse(s: &str) -> Result<Value, String> {
        if let Some(c) = s.strip_prefix('=') {
            return Ok(Value::Const(c.to_string()));
        }
        if !s.contains('{') && !s.contains('}') {
            if s.is_empty() {
                return Err("empty column name (a constant is written \"=value\")".into());
            }
            return Ok(Value::Column(s.to_string()));
        }
        let mut parts = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest
                        .find('}')
                        .ok_or_else(|| format!("{s:?}: `{{` without `}}`"))?;
                    let name = &rest[1..end];
                    if name.is_empty() || name.contains('{') {
                        return Err(format!("{s:?}: a hole names one column, as `{{hash}}`"));
                    }
                    parts.push(Part::Col(name.to_string()));
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    if rest[..i].contains('}') {
                        return Err(format!("{s:?}: `}}` without `{{`"));
                    }
                    parts.push(Part::Lit(rest[..i].to_string()));
                    rest = &rest[i..];
                }
                None => {
                    if rest.contains('}') {
                        return Err(format!("{s:?}: `}}` without `{{`"));
                    }
                    parts.push(Part::Lit(rest.to_string()));
                    rest = "";
                }
            }
        }
        Ok(Value::Template(parts))
    }

    fn columns(&self) -> Vec<&str> {
        match self {
            Value::Column(c) => vec![c.as_str()],
            Value::Const(_) => vec![],
            Value::BlockTime(c) => vec![c.as_str()],
            Value::Template(p) => p
                .iter()
                .filter_map(|p| match p {
                    Part::Col(c) => Some(c.as_str()),
                    Part::Lit(_) => None,
                })
                .collect(),
        }
    }
}

/// A mapping as written in a campaign's `[[inputs.sources]]` (or `fairdrop ingest --mapping`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    /// A built-in preset ([`PRESETS`]) to start from.
    #[serde(default)]
    pub preset: Option<String>,
    /// Canonical column → `source_column`, `=constant` or `{a}:{b}` template.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Source column → values: a row whose column holds one of them is skipped and counted
    /// (e.g. `success = ["false"]`).
    #[serde(default)]
    pub skip_when: BTreeMap<String, Vec<String>>,
    /// The action of a row without a counterparty (contract creations in a transactions table).
    #[serde(default)]
    pub no_counterparty_action: Option<String>,
    /// Amounts are in whole tokens with this many decimals (`"1.5"` → 1.5 × 10^decimals base
    /// units); without it amounts are base units already.
    #[serde(default)]
    pub amount_decimals: Option<u32>,
    /// A file of block times (`block_number`, `timestamp` columns: cryo's `blocks` dataset, CSV
    /// or Parquet): `timestamp` becomes the time of the row's `block_number`. For exports that
    /// carry no time of their own (cryo's `erc20_transfers`, `native_transfers`).
    #[serde(default)]
    pub block_times: Option<std::path::PathBuf>,
}

/// A checked mapping (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The preset's name, or `custom`.
    pub name: String,
    fields: [Option<Value>; 9],
    skip_when: Vec<(String, Vec<String>)>,
    no_counterparty_action: Option<String>,
    amount_decimals: Option<u32>,
    /// `block_times`: read once per file by [`read`].
    pub block_times: Option<std::path::PathBuf>,
}

/// Block number → UTC seconds.
pub type BlockTimes = HashMap<u64, i64>;

const TIMESTAMP: usize = 0;
const ADDRESS: usize = 3;
const ACTION: usize = 4;
const COUNTERPARTY: usize = 5;
const AMOUNT: usize = 6;

/// The built-in presets: name, what it reads, and its mapping.
pub const PRESETS: [(&str, &str); 9] = [
    (
        "dune.ethereum.transactions",
        "Dune `ethereum.transactions` (CSV download): one transfer of ETH per successful transaction",
    ),
    (
        "dune.erc20.evt_Transfer",
        "Dune `erc20_ethereum.evt_Transfer`: one transfer per ERC-20 Transfer event, asset = token contract",
    ),
    (
        "bigquery.crypto_ethereum.transactions",
        "BigQuery `bigquery-public-data.crypto_ethereum.transactions` (CSV, JSON or Parquet export)",
    ),
    (
        "bigquery.crypto_ethereum.token_transfers",
        "BigQuery `bigquery-public-data.crypto_ethereum.token_transfers`",
    ),
    (
        "cryo.transactions",
        "cryo `transactions` Parquet (times from `--include-columns timestamp`, or `block_times`)",
    ),
    (
        "cryo.erc20_transfers",
        "cryo `erc20_transfers` Parquet (token column `erc20`; times from `block_times`, cryo `blocks`)",
    ),
    (
        "cryo.native_transfers",
        "cryo `native_transfers` Parquet (times from `block_times`, cryo `blocks`; block rewards skipped)",
    ),
    (
        "quests",
        "a quest-board export (Zealy, Galxe) of one completed quest per row: `timestamp`, `address`, `quest` (rename with `columns`)",
    ),
    (
        "list",
        "a list of wallets with a time (greenlist, faucet log): set `action` (and `chain`) as constants",
    ),
];

/// The EVM presets: name, the source of (timestamp, tx_id, address, counterparty, amount,
/// asset), the failed-transaction marker to skip, and whether a row without counterparty is a
/// contract creation (transactions tables).
type EvmPreset = (
    &'static str,
    [&'static str; 6],
    Option<(&'static str, &'static str)>,
    bool,
);
const EVM_PRESETS: [EvmPreset; 7] = [
    (
        "dune.ethereum.transactions",
        ["block_time", "hash", "from", "to", "value", "=ETH"],
        Some(("success", "false")),
        true,
    ),
    (
        "dune.erc20.evt_Transfer",
        [
            "evt_block_time",
            "{evt_tx_hash}:{evt_index}",
            "from",
            "to",
            "value",
            "contract_address",
        ],
        None,
        false,
    ),
    (
        "bigquery.crypto_ethereum.transactions",
        [
            "block_timestamp",
            "hash",
            "from_address",
            "to_address",
            "value",
            "=ETH",
        ],
        Some(("receipt_status", "0")),
        true,
    ),
    (
        "bigquery.crypto_ethereum.token_transfers",
        [
            "block_timestamp",
            "{transaction_hash}:{log_index}",
            "from_address",
            "to_address",
            "value",
            "token_address",
        ],
        None,
        false,
    ),
    (
        "cryo.transactions",
        [
            "timestamp",
            "transaction_hash",
            "from_address",
            "to_address",
            "value_binary",
            "=ETH",
        ],
        Some(("success", "false")),
        true,
    ),
    (
        "cryo.erc20_transfers",
        [
            "timestamp",
            "{transaction_hash}:{log_index}",
            "from_address",
            "to_address",
            "value_binary",
            "erc20",
        ],
        None,
        false,
    ),
    (
        "cryo.native_transfers",
        [
            "timestamp",
            "{transaction_hash}:{transfer_index}",
            "from_address",
            "to_address",
            "value_binary",
            "=ETH",
        ],
        // Block and uncle rewards: cryo writes them from 20 zero bytes, with no transaction.
        Some(("from_address", "0x0000000000000000000000000000000000000000")),
        false,
    ),
];

/// A preset's (canonical column, value) pairs, skip_when and no_counterparty_action.
#[allow(clippy::type_complexity)]
fn preset_columns(
    name: &str,
) -> Option<(
    Vec<(&'static str, &'static str)>,
    Vec<(&'static str, &'static str)>,
    Option<&'static str>,
)> {
    if let Some((_, [ts, tx, from, to, value, asset], skip, creation)) =
        EVM_PRESETS.iter().find(|p| p.0 == name)
    {
        let cols = vec![
            ("timestamp", *ts),
            ("chain", "=ethereum"),
            ("tx_id", *tx),
            ("address", *from),
            ("action", "=transfer"),
            ("counterparty", *to),
            ("amount", *value),
            ("asset", *asset),
        ];
        let creation = creation.then_some("deploy_program");
        return Some((cols, skip.iter().copied().collect(), creation));
    }
    Some(match name {
        "quests" => (
            vec![
                ("timestamp", "timestamp"),
                ("chain", "=offchain"),
                ("tx_id", "{quest}:{address}"),
                ("address", "address"),
                ("action", "=quest"),
                ("program", "quest"),
            ],
            vec![],
            None,
        ),
        "list" => (
            vec![("timestamp", "timestamp"), ("address", "address")],
            vec![],
            None,
        ),
        _ => return None,
    })
}

impl Mapping {
    /// A built-in preset by name.
    pub fn preset(name: &str) -> Option<Mapping> {
        Mapping::from_spec(&MappingSpec {
            preset: Some(name.to_string()),
            ..Default::default()
        })
        .ok()
    }

    /// Check a spec: its preset exists, its keys are canonical columns, its values parse, and
    /// the required columns (`timestamp`, `chain`, `address`, `action`) all have a source.
    pub fn from_spec(spec: &MappingSpec) -> Result<Mapping, String> {
        let mut fields: [Option<Value>; 9] = Default::default();
        let mut skip_when: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut no_cp = None;
        let name = match &spec.preset {
            Some(p) => {
                let (cols, skip, nc) = preset_columns(p).ok_or_else(|| {
                    format!(
                        "unknown preset {p:?}; the presets are {}",
                        PRESETS.map(|p| p.0).join(", ")
                    )
                })?;
                for (k, v) in cols {
                    let i = KNOWN.iter().position(|c| *c == k).expect("preset columns");
                    fields[i] = Some(Value::parse(v).expect("preset values parse"));
                }
                for (k, v) in skip {
                    skip_when.insert(k.into(), vec![v.to_string()]);
                }
                no_cp = nc.map(str::to_string);
                p.clone()
            }
            None => "custom".to_string(),
        };
        for (k, v) in &spec.columns {
            let i = KNOWN.iter().position(|c| c == k).ok_or_else(|| {
                format!(
                    "columns.{k}: not a canonical column (they are {})",
                    KNOWN.join(", ")
                )
            })?;
            fields[i] = if v.is_empty() {
                None // `""` removes a preset's column
            } else {
                Some(Value::parse(v).map_err(|e| format!("columns.{k}: {e}"))?)
            };
        }
        for (k, v) in &spec.skip_when {
            skip_when.insert(k.clone(), v.clone());
        }
        if let Some(a) = &spec.no_counterparty_action {
            if !fairdrop_core::actions::is_valid_action(a) {
                return Err(format!(
                    "no_counterparty_action: {a:?} is not an action ([a-z][a-z0-9_]{{0,31}})"
                ));
            }
            no_cp = Some(a.clone());
        }
        if spec.block_times.is_some() {
            fields[TIMESTAMP] = Some(Value::BlockTime("block_number".into()));
        }
        if let Some(d) = spec.amount_decimals {
            if d > 38 {
                return Err(format!("amount_decimals: {d} is more than 38"));
            }
        }
        let missing: Vec<&str> = crate::source::REQUIRED
            .iter()
            .filter(|r| fields[KNOWN.iter().position(|c| c == *r).unwrap()].is_none())
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "no source for required column(s) {}: map each to a source column or a constant (\"=value\")",
                missing.join(", ")
            ));
        }
        Ok(Mapping {
            name,
            fields,
            skip_when: skip_when.into_iter().collect(),
            no_counterparty_action: no_cp,
            amount_decimals: spec.amount_decimals,
            block_times: spec.block_times.clone(),
        })
    }

    /// Every source column the mapping reads, sorted.
    pub fn source_columns(&self) -> Vec<&str> {
        let mut s: BTreeSet<&str> = self
            .fields
            .iter()
            .flatten()
            .flat_map(Value::columns)
            .collect();
        s.extend(self.skip_when.iter().map(|(c, _)| c.as_str()));
        s.into_iter().collect()
    }

    /// The missing source columns of a file whose header is `names`, as an error naming them.
    fn check_header(&self, path: &Path, names: &[String]) -> Result<(), FileError> {
        let missing: Vec<&str> = self
            .source_columns()
            .into_iter()
            .filter(|c| !names.iter().any(|n| n == c))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let shown: Vec<String> = names
            .iter()
            .take(16)
            .map(|n| n.chars().take(40).collect())
            .collect();
        Err(FileError::new(
            path,
            format!(
                "mapping `{}` reads column(s) {} that the file lacks; found [{}]",
                self.name,
                missing.join(", "),
                shown.join(", ")
            ),
        ))
    }

    /// The canonical values of one source row (`get` looks a source column up), or `None`
    /// when a `skip_when` matches.
    pub fn apply<'s>(
        &self,
        get: &dyn Fn(&str) -> Option<Cow<'s, str>>,
        times: Option<&BlockTimes>,
    ) -> Option<[Option<String>; 9]> {
        for (col, vals) in &self.skip_when {
            if let Some(v) = get(col) {
                if vals.iter().any(|x| x == v.trim()) {
                    return None;
                }
            }
        }
        let mut out: [Option<String>; 9] = std::array::from_fn(|i| {
            let v = match self.fields[i].as_ref()? {
                Value::Const(c) => c.clone(),
                Value::Column(c) => get(c)?.trim().to_string(),
                Value::BlockTime(c) => {
                    let v = get(c)?;
                    let n: u64 = v.trim().parse().ok()?;
                    times?.get(&n)?.to_string()
                }
                Value::Template(parts) => {
                    let mut s = String::new();
                    for p in parts {
                        match p {
                            Part::Lit(l) => s.push_str(l),
                            Part::Col(c) => {
                                let v = get(c)?;
                                let v = v.trim();
                                if v.is_empty() {
                                    return None;
                                }
                                s.push_str(v);
                            }
                        }
                    }
                    s
                }
            };
            (!v.is_empty()).then_some(v)
        });
        if let Some(t) = &out[TIMESTAMP] {
            if let Some(n) = normalize_timestamp(t) {
                out[TIMESTAMP] = Some(n.to_string());
            }
        }
        if let Some(a) = &out[AMOUNT] {
            if let Some(n) = normalize_amount(a, self.amount_decimals) {
                out[AMOUNT] = Some(n);
            }
        }
        for i in [ADDRESS, COUNTERPARTY] {
            if let Some(a) = &out[i] {
                // Dune and BigQuery may render a NULL address as text.
                if a.eq_ignore_ascii_case("null") {
                    out[i] = None;
                }
            }
        }
        if out[COUNTERPARTY].is_none() {
            if let Some(a) = &self.no_counterparty_action {
                out[ACTION] = Some(a.clone());
            }
        }
        Some(out)
    }
}

/// UTC seconds of a timestamp in any of the forms exports use: integer Unix seconds, RFC 3339,
/// `YYYY-MM-DD HH:MM:SS[.fff]` followed by nothing (UTC), ` UTC`, `Z`, `±HH`, `±HHMM` or
/// `±HH:MM`, or a date `YYYY-MM-DD` (midnight UTC). `None` if none fits.
pub fn normalize_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(v) = fairdrop_core::event::parse_timestamp(s) {
        return Some(v);
    }
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        return fairdrop_core::event::parse_timestamp(&format!("{s}T00:00:00Z")).ok();
    }
    if b.len() < 19 {
        return None;
    }
    // The date-time part, up to the fraction or zone.
    let (dt, mut rest) = s.split_at(19);
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        rest = &r[n..];
    }
    let rest = rest.trim();
    let zone = match rest {
        "" | "UTC" | "Z" | "z" | "+00" | "+0000" | "+00:00" => "Z".to_string(),
        z if (z.starts_with('+') || z.starts_with('-')) => {
            let d = &z[1..];
            match d.len() {
                2 => format!("{z}:00"),
                4 if d.bytes().all(|c| c.is_ascii_digit()) => format!("{}:{}", &z[..3], &z[3..]),
                _ => z.to_string(),
            }
        }
        _ => return None,
    };
    fairdrop_core::event::parse_timestamp(&format!("{dt}{zone}")).ok()
}

/// Base units (decimal text) of an amount written as decimal, `0x` hex, a decimal with an
/// exponent (`1.5e18`) when the result is whole, or — with `decimals` — whole tokens. `None`
/// if it is none of these, or would need digits beyond the point.
pub fn normalize_amount(s: &str, decimals: Option<u32>) -> Option<String> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if h.is_empty() || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let units = hex_to_decimal(h);
        return scale(&units, "", decimals.unwrap_or(0));
    }
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let shift = exp.checked_add(decimals.unwrap_or(0) as i32)?;
    if !(-80..=80).contains(&shift) {
        return None;
    }
    if shift >= 0 {
        scale(int, frac, shift as u32)
    } else {
        // Move the point left: only whole results.
        let digits = format!("{int}{frac}");
        let point = int.len() as i64 + shift as i64;
        let (i, f) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat((-point) as usize)),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        scale(&i, &f, 0)
    }
}

/// `int.frac × 10^shift` as a whole decimal, `None` if digits remain after the point.
fn scale(int: &str, frac: &str, shift: u32) -> Option<String> {
    let shift = shift as usize;
    let (taken, left) = if frac.len() > shift {
        (&frac[..shift], &frac[shift..])
    } else {
        (frac, "")
    };
    if left.bytes().any(|c| c != b'0') {
        return None;
    }
    let mut d = format!("{int}{taken}{}", "0".repeat(shift - taken.len()));
    let nz = d.bytes().position(|c| c != b'0').unwrap_or(d.len());
    d.drain(..nz);
    if d.is_empty() {
        d.push('0');
    }
    Some(d)
}

/// Decimal digits of a hex number of any length.
fn hex_to_decimal(h: &str) -> String {
    // Little-endian base-10^9 limbs.
    let mut limbs: Vec<u64> = vec![0];
    for c in h.bytes() {
        let mut carry = (c as char).to_digit(16).unwrap_or(0) as u64;
        for l in limbs.iter_mut() {
            let v = *l * 16 + carry;
            *l = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    let mut s = limbs.last().unwrap().to_string();
    for l in limbs.iter().rev().skip(1) {
        s.push_str(&format!("{l:09}"));
    }
    s
}

/// Read `path` through `mapping`, calling `visit` with canonical fields for every row that is
/// not skipped. Returns what the reader learned and the number of rows skipped.
pub(crate) fn read(
    path: &Path,
    fmt: Format,
    gz: bool,
    tap: Tap,
    mapping: &Mapping,
    visit: &mut dyn FnMut(RawRow<'_>) -> Result<(), FileError>,
) -> Result<(FileInfo, u64), FileError> {
    let mut skipped = 0u64;
    let mut each = |pos: Position,
                    vals: Result<Option<[Option<String>; 9]>, &'static str>,
                    raw: &dyn Fn() -> String|
     -> Result<(), FileError> {
        let fields = match vals {
            Err(r) => Err(r),
            Ok(None) => {
                skipped += 1;
                return Ok(());
            }
            Ok(Some(v)) => Ok(v),
        };
        let f;
        let fields = match &fields {
            Err(r) => Err(*r),
            Ok(v) => {
                f = std::array::from_fn::<Option<&str>, 9, _>(|i| v[i].as_deref());
                Ok(crate::source::fields_from(f))
            }
        };
        visit(RawRow {
            pos,
            fields,
            raw,
            pre: None,
            ahead: [None; 2],
        })
    };
    let times = match &mapping.block_times {
        Some(p) => Some(read_block_times(p)?),
        None => None,
    };
    let t = times.as_ref();
    let info = match fmt {
        Format::Csv => read_csv(path, gz, tap, mapping, t, &mut each)?,
        Format::Jsonl => read_jsonl(path, gz, tap, mapping, t, &mut each)?,
        Format::Parquet => read_parquet(path, tap.counter, mapping, t, &mut each)?,
    };
    Ok((info, skipped))
}

type Each<'e> = dyn FnMut(
        Position,
        Result<Option<[Option<String>; 9]>, &'static str>,
        &dyn Fn() -> String,
    ) -> Result<(), FileError>
    + 'e;

fn ignored(names: &[String], m: &Mapping) -> Vec<String> {
    let used = m.source_columns();
    names
        .iter()
        .filter(|n| !used.contains(&n.as_str()))
        .cloned()
        .collect()
}

fn read_csv(
    path: &Path,
    gz: bool,
    tap: Tap,
    m: &Mapping,
    times: Option<&BlockTimes>,
    each: &mut Each<'_>,
) -> Result<FileInfo, FileError> {
    let r = crate::source::open(path, gz, tap)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(r);
    let mut rec = csv::ByteRecord::new();
    let err = |e: csv::Error| crate::source::csv_err(path, gz, e);
    if !rdr.read_byte_record(&mut rec).map_err(err)? {
        return Err(FileError::new(path, "empty file: no header line"));
    }
    let names: Vec<String> = crate::source::header_names(path, &rec)?
        .into_iter()
        .map(|n| n.trim().to_string())
        .collect();
    m.check_header(path, &names)?;
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    while rdr.read_byte_record(&mut rec).map_err(err)? {
        let line = rec.position().map_or(0, |p| p.line());
        let raw = || {
            rec.iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        let vals = if rec.len() != names.len() {
            Err("csv.field_count")
        } else {
            match std::str::from_utf8(rec.as_slice()) {
                Err(_) => Err("encoding.utf8"),
                Ok(_) => {
                    let get = |c: &str| -> Option<Cow<'_, str>> {
                        let f = rec.get(*index.get(c)?)?;
                        std::str::from_utf8(f).ok().map(Cow::Borrowed)
                    };
                    Ok(m.apply(&get, times))
                }
            }
        };
        each(Position::Line(line), vals, &raw)?;
    }
    Ok(FileInfo {
        ignored_columns: ignored(&names, m),
    })
}

fn read_jsonl(
    path: &Path,
    gz: bool,
    tap: Tap,
    m: &Mapping,
    times: Option<&BlockTimes>,
    each: &mut Each<'_>,
) -> Result<FileInfo, FileError> {
    let mut r = BufReader::with_capacity(1 << 20, crate::source::open(path, gz, tap)?);
    let mut buf = Vec::with_capacity(1024);
    let mut line = 0u64;
    let mut any = false;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    loop {
        buf.clear();
        let n = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| crate::source::io_err(path, gz, e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        any = true;
        let raw = || String::from_utf8_lossy(text).into_owned();
        let obj: Result<serde_json::Map<String, serde_json::Value>, &'static str> =
            match std::str::from_utf8(text) {
                Err(_) => Err("encoding.utf8"),
                Ok(s) => serde_json::from_str(s).map_err(|e| {
                    if e.is_data() {
                        "json.not_object"
                    } else {
                        "json.syntax"
                    }
                }),
            };
        let vals = match &obj {
            Err(r) => Err(*r),
            Ok(o) => {
                if seen.len() < 64 {
                    seen.extend(o.keys().take(64).cloned());
                }
                let get = |c: &str| -> Option<Cow<'_, str>> {
                    match o.get(c)? {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                        serde_json::Value::Bool(b) => Some(Cow::Owned(b.to_string())),
                        v => Some(Cow::Owned(v.to_string())),
                    }
                };
                Ok(m.apply(&get, times))
            }
        };
        each(Position::Line(line), vals, &raw)?;
    }
    if !any {
        return Err(FileError::new(path, "empty file: no JSON lines"));
    }
    let names: Vec<String> = seen.into_iter().collect();
    Ok(FileInfo {
        ignored_columns: ignored(&names, m),
    })
}

/// `block_number` → `timestamp` of a block-times file (CSV with a header, or Parquet).
pub fn read_block_times(path: &Path) -> Result<BlockTimes, FileError> {
    let bad = |m: String| FileError::new(path, format!("block_times: {m}"));
    let mut out = BlockTimes::new();
    let mut add = |n: Option<Cow<'_, str>>, t: Option<Cow<'_, str>>, at: String| {
        let (Some(n), Some(t)) = (n, t) else {
            return Err(bad(format!("{at}: block_number or timestamp is empty")));
        };
        let num: u64 = n
            .trim()
            .parse()
            .map_err(|_| bad(format!("{at}: block_number {n:?} is not a number")))?;
        let ts = normalize_timestamp(&t)
            .ok_or_else(|| bad(format!("{at}: timestamp {t:?} is not a time")))?;
        match out.insert(num, ts) {
            Some(o) if o != ts => Err(bad(format!("{at}: block {num} has two times"))),
            _ => Ok(()),
        }
    };
    let is_parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if is_parquet {
        let f = File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.build())
            .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
        for (k, batch) in reader.enumerate() {
            let batch = batch.map_err(|e| bad(format!("corrupt Parquet data: {e}")))?;
            let (Some(n), Some(t)) = (
                batch.column_by_name("block_number"),
                batch.column_by_name("timestamp"),
            ) else {
                return Err(bad("needs columns block_number and timestamp".into()));
            };
            for i in 0..batch.num_rows() {
                add(cell(n, i), cell(t, i), format!("batch {k} row {i}"))?;
            }
        }
    } else {
        let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
        let h = r.headers().map_err(|e| bad(e.to_string()))?.clone();
        let (Some(ni), Some(ti)) = (
            h.iter().position(|c| c == "block_number"),
            h.iter().position(|c| c == "timestamp"),
        ) else {
            return Err(bad("needs columns block_number and timestamp".into()));
        };
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            add(
                rec.get(ni).map(Cow::Borrowed),
                rec.get(ti).map(Cow::Borrowed),
                format!("line {line}"),
            )?;
        }
    }
    Ok(out)
}

/// The text of a Parquet cell as an export would write it: strings as they are, binary as
/// `0x` hex, integers and decimals in decimal, timestamps and dates as UTC seconds, booleans
/// as `true` / `false`.
fn cell(a: &ArrayRef, i: usize) -> Option<Cow<'_, str>> {
    if a.is_null(i) {
        return None;
    }
    let hex0x = |b: &[u8]| Cow::Owned(format!("0x{}", hex::encode(b)));
    Some(match a.data_type() {
        DataType::Utf8 => Cow::Borrowed(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Cow::Borrowed(a.as_string::<i64>().value(i)),
        DataType::Utf8View => Cow::Borrowed(a.as_string_view().value(i)),
        DataType::Binary => hex0x(a.as_binary::<i32>().value(i)),
        DataType::LargeBinary => hex0x(a.as_binary::<i64>().value(i)),
        DataType::BinaryView => hex0x(a.as_binary_view().value(i)),
        DataType::FixedSizeBinary(_) => hex0x(a.as_fixed_size_binary().value(i)),
        DataType::Boolean => Cow::Borrowed(if a.as_boolean().value(i) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8 => Cow::Owned(a.as_primitive::<Int8Type>().value(i).to_string()),
        DataType::Int16 => Cow::Owned(a.as_primitive::<Int16Type>().value(i).to_string()),
        DataType::Int32 => Cow::Owned(a.as_primitive::<Int32Type>().value(i).to_string()),
        DataType::Int64 => Cow::Owned(a.as_primitive::<Int64Type>().value(i).to_string()),
        DataType::UInt8 => Cow::Owned(a.as_primitive::<UInt8Type>().value(i).to_string()),
        DataType::UInt16 => Cow::Owned(a.as_primitive::<UInt16Type>().value(i).to_string()),
        DataType::UInt32 => Cow::Owned(a.as_primitive::<UInt32Type>().value(i).to_string()),
        DataType::UInt64 => Cow::Owned(a.as_primitive::<UInt64Type>().value(i).to_string()),
        DataType::Float32 => Cow::Owned(a.as_primitive::<Float32Type>().value(i).to_string()),
        DataType::Float64 => Cow::Owned(a.as_primitive::<Float64Type>().value(i).to_string()),
        DataType::Decimal128(_, s) => Cow::Owned(decimal_text(
            &a.as_primitive::<Decimal128Type>().value(i).to_string(),
            *s,
        )),
        DataType::Decimal256(_, s) => Cow::Owned(decimal_text(
            &a.as_primitive::<Decimal256Type>().value(i).to_string(),
            *s,
        )),
        DataType::Timestamp(unit, _) => {
            let (v, div) = match unit {
                TimeUnit::Second => (a.as_primitive::<TimestampSecondType>().value(i), 1),
                TimeUnit::Millisecond => {
                    (a.as_primitive::<TimestampMillisecondType>().value(i), 1_000)
                }
                TimeUnit::Microsecond => (
                    a.as_primitive::<TimestampMicrosecondType>().value(i),
                    1_000_000,
                ),
                TimeUnit::Nanosecond => (
                    a.as_primitive::<TimestampNanosecondType>().value(i),
                    1_000_000_000,
                ),
            };
            Cow::Owned(v.div_euclid(div).to_string())
        }
        DataType::Date32 => {
            Cow::Owned((a.as_primitive::<Date32Type>().value(i) as i64 * 86_400).to_string())
        }
        _ => return None,
    })
}

/// Decimal text of an unscaled integer with `scale` digits after the point.
fn decimal_text(unscaled: &str, scale: i8) -> String {
    if scale <= 0 {
        return format!("{unscaled}{}", "0".repeat((-scale) as usize));
    }
    let (neg, d) = match unscaled.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", unscaled),
    };
    let s = scale as usize;
    let d = format!("{}{d}", "0".repeat((s + 1).saturating_sub(d.len())));
    format!("{neg}{}.{}", &d[..d.len() - s], &d[d.len() - s..])
}

fn supported(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _)
            | DataType::Timestamp(_, _)
            | DataType::Date32
    )
}

fn read_parquet(
    path: &Path,
    counter: Arc<AtomicU64>,
    m: &Mapping,
    times: Option<&BlockTimes>,
    each: &mut Each<'_>,
) -> Result<FileInfo, FileError> {
    let (b, size) = crate::source::open_parquet(path)?;
    let schema = b.schema().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    m.check_header(path, &names)?;
    let used = m.source_columns();
    for f in schema.fields() {
        if used.contains(&f.name().as_str()) && !supported(f.data_type()) {
            return Err(FileError::new(
                path,
                format!(
                    "column `{}` has type {}, which a mapping cannot read (strings, binary, integers, decimals, floats, booleans, timestamps, dates)",
                    f.name(),
                    f.data_type()
                ),
            ));
        }
    }
    let groups: Vec<u64> = b
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows() as u64)
        .collect();
    let per_row = size / groups.iter().sum::<u64>().max(1);
    let reader = b
        .with_batch_size(65_536)
        .build()
        .map_err(|e| FileError::new(path, e.to_string()))?;
    let (mut group, mut in_group) = (0usize, 0u64);
    for batch in reader {
        let batch =
            batch.map_err(|e| FileError::new(path, format!("corrupt Parquet data: {e}")))?;
        let cols: HashMap<&str, &ArrayRef> = used
            .iter()
            .filter_map(|c| Some((*c, batch.column_by_name(c)?)))
            .collect();
        for i in 0..batch.num_rows() {
            while group < groups.len() && in_group >= groups[group] {
                group += 1;
                in_group = 0;
            }
            let get = |c: &str| -> Option<Cow<'_, str>> { cell(cols.get(c)?, i) };
            let raw = || {
                let mut o = serde_json::Map::new();
                for c in &used {
                    if let Some(v) = get(c) {
                        o.insert(c.to_string(), serde_json::Value::String(v.into_owned()));
                    }
                }
                serde_json::Value::Object(o).to_string()
            };
            each(
                Position::Parquet {
                    group: group as u32,
                    row: in_group,
                },
                Ok(m.apply(&get, times)),
                &raw,
            )?;
            in_group += 1;
        }
        counter.fetch_add(per_row * batch.num_rows() as u64, Ordering::Relaxed);
    }
    Ok(FileInfo {
        ignored_columns: ignored(&names, m),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_the_forms_exports_write() {
        let t = 1_706_702_400; // 2024-01-31T12:00:00Z
        for s in [
            "1706702400",
            "2024-01-31T12:00:00Z",
            "2024-01-31T13:00:00+01:00",
            "2024-01-31 12:00:00.000 UTC", // Dune
            "2024-01-31 12:00:00 UTC",     // BigQuery CSV / JSON
            "2024-01-31 12:00:00",         // naive: UTC
            "2024-01-31T12:00:00.123456",
            "2024-01-31 12:00:00+00", // PostgreSQL
            "2024-01-31 14:00:00+0200",
        ] {
            assert_eq!(normalize_timestamp(s), Some(t), "{s}");
        }
        assert_eq!(normalize_timestamp("2024-01-31"), Some(1_706_659_200));
        for s in [
            "yesterday",
            "2024-13-01 00:00:00",
            "2024-01-31 12:00:00 PST",
            "",
        ] {
            assert_eq!(normalize_timestamp(s), None, "{s}");
        }
    }

    #[test]
    fn amounts_in_the_forms_exports_write() {
        let n = |s: &str, d| normalize_amount(s, d);
        assert_eq!(
            n("1000000000000000000", None).as_deref(),
            Some("1000000000000000000")
        );
        assert_eq!(
            n("0x0de0b6b3a7640000", None).as_deref(),
            Some("1000000000000000000")
        );
        assert_eq!(
            n(&format!("0x{}", "0".repeat(63) + "1"), None).as_deref(),
            Some("1")
        );
        assert_eq!(n("0x", None), None);
        assert_eq!(n("1.5e18", None).as_deref(), Some("1500000000000000000"));
        assert_eq!(n("1.5E+18", None).as_deref(), Some("1500000000000000000"));
        assert_eq!(n("1.5", Some(18)).as_deref(), Some("1500000000000000000"));
        assert_eq!(n("2", Some(6)).as_deref(), Some("2000000"));
        assert_eq!(n("0.000001", Some(6)).as_deref(), Some("1"));
        assert_eq!(n("0.0000015", Some(6)), None, "a fraction of a base unit");
        assert_eq!(n("1.5", None), None);
        assert_eq!(n("15e-1", None), None);
        assert_eq!(n("150e-1", None).as_deref(), Some("15"));
        assert_eq!(n("-1", None), None);
        assert_eq!(n("000", None).as_deref(), Some("0"));
        // 2^256 - 1: normalised, then refused by the validator as over 2^128 - 1.
        assert_eq!(
            n(&format!("0x{}", "f".repeat(64)), None).as_deref(),
            Some("115792089237316195423570985008687907853269984665640564039457584007913129639935")
        );
    }

    #[test]
    fn values_parse() {
        assert_eq!(Value::parse("from"), Ok(Value::Column("from".into())));
        assert_eq!(Value::parse("=zealy"), Ok(Value::Const("zealy".into())));
        assert_eq!(
            Value::parse("{hash}:{log_index}"),
            Ok(Value::Template(vec![
                Part::Col("hash".into()),
                Part::Lit(":".into()),
                Part::Col("log_index".into())
            ]))
        );
        assert!(Value::parse("{hash").is_err());
        assert!(Value::parse("hash}").is_err());
        assert!(Value::parse("{}").is_err());
        assert!(Value::parse("").is_err());
    }

    #[test]
    fn specs_are_checked() {
        let spec = |cols: &[(&str, &str)]| MappingSpec {
            columns: cols
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..Default::default()
        };
        let e = Mapping::from_spec(&spec(&[("timestamp", "t"), ("address", "a")])).unwrap_err();
        assert!(e.contains("chain, action"), "{e}");
        let e = Mapping::from_spec(&spec(&[("wallet", "a")])).unwrap_err();
        assert!(e.contains("columns.wallet: not a canonical column"), "{e}");
        let e = Mapping::from_spec(&MappingSpec {
            preset: Some("dune.nope".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            e.contains("unknown preset") && e.contains("cryo.erc20_transfers"),
            "{e}"
        );
        for (p, _) in PRESETS {
            if p != "list" {
                assert!(Mapping::preset(p).is_some(), "{p}");
            }
        }
        // `list` needs its action and chain from the source.
        let m = Mapping::from_spec(&MappingSpec {
            preset: Some("list".into()),
            columns: [("action", "=greenlist"), ("chain", "=aleo")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(m.source_columns(), vec!["address", "timestamp"]);
    }

    #[test]
    fn skip_and_contract_creation() {
        let m = Mapping::preset("dune.ethereum.transactions").unwrap();
        let row = |success: &'static str, to: &'static str| {
            move |c: &str| -> Option<Cow<'static, str>> {
                Some(Cow::Borrowed(match c {
                    "block_time" => "2024-01-31 12:00:00.000 UTC",
                    "hash" => "0xab",
                    "from" => "0x1111111111111111111111111111111111111111",
                    "to" => to,
                    "value" => "7",
                    "success" => success,
                    _ => return None,
                }))
            }
        };
        assert_eq!(m.apply(&row("false", "0x22"), None), None);
        let v = m.apply(&row("true", ""), None).unwrap();
        assert_eq!(v[ACTION].as_deref(), Some("deploy_program"));
        assert_eq!(v[TIMESTAMP].as_deref(), Some("1706702400"));
        let v = m.apply(&row("true", "0x22"), None).unwrap();
        assert_eq!(v[ACTION].as_deref(), Some("transfer"));
        assert_eq!(v[COUNTERPARTY].as_deref(), Some("0x22"));
    }
}
