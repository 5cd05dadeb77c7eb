//! Aleo blocks → canonical activity rows (`fairdrop import aleo`).
//!
//! Input: blocks as the snarkOS REST API returns them (`GET /{network}/block/{height}`, one
//! object; `GET /{network}/blocks?start=&end=`, an array) or as explorers save them (one block
//! per line). Each accepted transaction becomes rows by [`Rules`]: a table of (program,
//! function) → action, with the wallet, counterparty, amount and asset taken from the
//! transition's public inputs (`in.N`) or from the arguments of its future output (`fut.N`).
//!
//! **The acting wallet of a public `credits.aleo` call is not an input**: `transfer_public(to,
//! amount)` carries the sender only as the first argument of its future
//! (`{ program_id: credits.aleo, function_name: transfer_public, arguments: [sender, to,
//! amount] }`). The built-in table ([`Rules::credits`]):
//!
//! | function | action | wallet | counterparty | amount |
//! |---|---|---|---|---|
//! | `transfer_public`, `transfer_public_as_signer` | `transfer` | `fut.0` | `fut.1` | `fut.2` |
//! | `transfer_public_to_private` | `transfer_to_private` | `fut.0` | (private) | `fut.1` |
//! | `transfer_private_to_public` | `transfer_from_private` (the receiver) | `fut.0` | (private) | `fut.1` |
//! | `bond_public` | `stake` | `fut.0` | `fut.1` (validator) | `fut.3` |
//! | `bond_validator` | `stake` | `fut.0` | | `fut.2` |
//! | `unbond_public` | `unstake` | `fut.1` (staker) | | `fut.2` |
//! | `claim_unbond_public` | `claim_unbond` | `fut.0` | | |
//! | `fee_public` (every transaction's fee) | `fee` | `fut.0` (payer) | | `fut.1` (base + priority fee) |
//!
//! plus `deploy_program` for each deployment (by `owner.address`, `program` = the deployed
//! program). A fee row's `program` is the transaction's root call (its last transition), so a
//! wallet's fully private call of a program still shows that it paid to call it. Rows of
//! `credits.aleo` have asset `credits` (microcredits). `tx_id` is the transition id (`au1…`; the
//! transaction id `at1…` for a deployment), so two calls in one transaction stay two rows.
//!
//! What a private transition cannot show: `transfer_private`, `join`, `split`, `fee_private`
//! and any function whose wallet argument is private have no public wallet; they are counted
//! (`private_transitions`), not guessed. Rejected transactions contribute nothing (counted);
//! transitions with no rule are counted per program and function (`unmapped`).
//!
//! A transaction that does not have the shape of a confirmed transaction, or a value that does
//! not parse (an address not on the curve, an amount that is not an integer literal), goes to
//! the quarantine with its block height, transaction id and rule; the rest of the block is kept.

use std::borrow::Cow;
use std::collections::BTreeMap;

use fairdrop_core::Address;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The canonical columns the importer writes, in this order (the table's).
pub use fairdrop_table::COLUMNS;

/// An Aleo network as the block header numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    Mainnet,
    Testnet,
    Canary,
}

impl Network {
    pub fn parse(s: &str) -> Option<Network> {
        match s {
            "mainnet" => Some(Network::Mainnet),
            "testnet" => Some(Network::Testnet),
            "canary" => Some(Network::Canary),
            _ => None,
        }
    }
    /// The REST path segment (`/mainnet/…`).
    pub fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet => "testnet",
            Network::Canary => "canary",
        }
    }
    /// `header.metadata.network`.
    pub fn id(self) -> u64 {
        match self {
            Network::Mainnet => 0,
            Network::Testnet => 1,
            Network::Canary => 2,
        }
    }
    /// The `chain` column: `aleo` for mainnet, `aleo_testnet`, `aleo_canary`.
    pub fn chain(self) -> &'static str {
        match self {
            Network::Mainnet => "aleo",
            Network::Testnet => "aleo_testnet",
            Network::Canary => "aleo_canary",
        }
    }
}

/// Where a column's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// The value of public input `N` (`in.N`).
    Input(usize),
    /// Argument `N` of the transition's future output (`fut.N`).
    Future(usize),
    /// A member of the struct that is future argument `N` (`fut.0.admin`).
    FutureField(usize, String),
    /// A fixed text (`=credits`).
    Const(String),
}

impl Arg {
    /// `in.N`, `fut.N`, `fut.N.member` or `=TEXT`.
    pub fn parse(s: &str) -> Option<Arg> {
        if let Some(c) = s.strip_prefix('=') {
            return (!c.is_empty()).then(|| Arg::Const(c.to_string()));
        }
        let (kind, rest) = s.split_once('.')?;
        let (n, field) = match rest.split_once('.') {
            Some((n, f)) => (n, Some(f)),
            None => (rest, None),
        };
        let n: usize = n.parse().ok()?;
        match (kind, field) {
            ("in", None) => Some(Arg::Input(n)),
            ("fut", None) => Some(Arg::Future(n)),
            ("fut", Some(f))
                if !f.is_empty() && f.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') =>
            {
                Some(Arg::FutureField(n, f.to_string()))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Arg {
    /// The form [`Arg::parse`] reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Input(n) => write!(f, "in.{n}"),
            Arg::Future(n) => write!(f, "fut.{n}"),
            Arg::FutureField(n, m) => write!(f, "fut.{n}.{m}"),
            Arg::Const(c) => write!(f, "={c}"),
        }
    }
}

/// One (program, function) → action rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub action: String,
    pub wallet: Arg,
    pub counterparty: Option<Arg>,
    /// Summed when more than one (`fee_public`: base fee + priority fee).
    pub amount: Vec<Arg>,
    pub asset: Option<Arg>,
    /// `tx_id` is the transaction's id, not the transition's: the nested calls of one
    /// transaction that the rule matches (a helper and the pool it calls) are one action of the
    /// wallet, and ingest keeps one row of it. The campaign's `[[programs]]` rules are so.
    pub per_transaction: bool,
}

/// The mapping table: program → function → rule.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    map: BTreeMap<String, BTreeMap<String, Rule>>,
}

impl Rules {
    /// The built-in `credits.aleo` table (module docs).
    pub fn credits() -> Rules {
        use Arg::*;
        let credits = || Some(Const("credits".into()));
        let mut r = Rules::default();
        let mut add = |f: &str, action: &str, wallet, cp, amount: Vec<Arg>| {
            r.insert(
                "credits.aleo",
                f,
                Rule {
                    action: action.into(),
                    wallet,
                    counterparty: cp,
                    amount,
                    asset: credits(),
                    per_transaction: false,
                },
            );
        };
        add(
            "transfer_public",
            "transfer",
            Future(0),
            Some(Future(1)),
            vec![Future(2)],
        );
        add(
            "transfer_public_as_signer",
            "transfer",
            Future(0),
            Some(Future(1)),
            vec![Future(2)],
        );
        add(
            "transfer_public_to_private",
            "transfer_to_private",
            Future(0),
            None,
            vec![Future(1)],
        );
        add(
            "transfer_private_to_public",
            "transfer_from_private",
            Future(0),
            None,
            vec![Future(1)],
        );
        add(
            "bond_public",
            "stake",
            Future(0),
            Some(Future(1)),
            vec![Future(3)],
        );
        add("bond_validator", "stake", Future(0), None, vec![Future(2)]);
        add("unbond_public", "unstake", Future(1), None, vec![Future(2)]);
        add(
            "claim_unbond_public",
            "claim_unbond",
            Future(0),
            None,
            vec![],
        );
        add("fee_public", "fee", Future(0), None, vec![Future(1)]);
        r
    }

    /// Add or replace the rule of `program`/`function`.
    pub fn insert(&mut self, program: &str, function: &str, rule: Rule) {
        self.map
            .entry(program.to_string())
            .or_default()
            .insert(function.to_string(), rule);
    }

    fn get(&self, program: &str, function: &str) -> Option<&Rule> {
        self.map.get(program)?.get(function)
    }

    /// A short hash of the whole table: an import's checkpoint is only resumed under the
    /// rules it was written with.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (p, fs) in &self.map {
            for (f, r) in fs {
                let opt = |a: &Option<Arg>| a.as_ref().map(|a| a.to_string()).unwrap_or_default();
                let amount: Vec<String> = r.amount.iter().map(|a| a.to_string()).collect();
                h.update(format!(
                    "{p}\t{f}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    r.action,
                    r.wallet,
                    opt(&r.counterparty),
                    amount.join("+"),
                    opt(&r.asset),
                    r.per_transaction
                ));
            }
        }
        hex::encode(&h.finalize()[..8])
    }
}

/// One activity row (canonical columns; empty = absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRow {
    pub timestamp: i64,
    pub chain: &'static str,
    pub tx_id: String,
    pub address: String,
    pub action: String,
    pub counterparty: String,
    pub amount: String,
    pub asset: String,
    pub program: String,
}

/// A transaction or value that could not be mapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    pub height: Option<u64>,
    /// The transaction id (or transition id), when it could be read.
    pub tx_id: String,
    pub rule: &'static str,
    pub detail: String,
    /// The offending text, at most 512 bytes.
    pub raw: String,
}

/// Counts of what blocks contributed and what they did not (`import-summary.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockCounts {
    pub blocks: u64,
    pub transactions: u64,
    pub rejected_transactions: u64,
    pub aborted_transactions: u64,
    pub transitions: u64,
    pub private_transitions: u64,
    pub deployments: u64,
    pub rows: u64,
    pub quarantined: u64,
    /// Transitions without a rule, per `program/function`.
    pub unmapped: BTreeMap<String, u64>,
}

impl BlockCounts {
    pub fn add(&mut self, o: &BlockCounts) {
        self.blocks += o.blocks;
        self.transactions += o.transactions;
        self.rejected_transactions += o.rejected_transactions;
        self.aborted_transactions += o.aborted_transactions;
        self.transitions += o.transitions;
        self.private_transitions += o.private_transitions;
        self.deployments += o.deployments;
        self.rows += o.rows;
        self.quarantined += o.quarantined;
        for (k, v) in &o.unmapped {
            *self.unmapped.entry(k.clone()).or_default() += v;
        }
    }
}

/// What one block gave.
#[derive(Debug, Default)]
pub struct BlockOut {
    pub height: u64,
    pub rows: Vec<ActivityRow>,
    pub quarantined: Vec<Quarantined>,
    pub counts: BlockCounts,
}

#[derive(Deserialize)]
struct BlockShape<'a> {
    header: Header,
    #[serde(borrow, default)]
    transactions: Vec<&'a RawValue>,
    #[serde(default)]
    aborted_transaction_ids: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Header {
    metadata: Metadata,
}

#[derive(Deserialize)]
struct Metadata {
    network: u64,
    height: u64,
    timestamp: i64,
}

#[derive(Deserialize)]
struct Confirmed<'a> {
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(borrow)]
    transaction: Transaction<'a>,
}

#[derive(Deserialize)]
struct Transaction<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    execution: Option<Execution<'a>>,
    #[serde(borrow, default)]
    deployment: Option<Deployment<'a>>,
    #[serde(borrow, default)]
    owner: Option<Owner<'a>>,
    #[serde(borrow, default)]
    fee: Option<Fee<'a>>,
}

#[derive(Deserialize)]
struct Execution<'a> {
    #[serde(borrow)]
    transitions: Vec<Transition<'a>>,
}

#[derive(Deserialize)]
struct Fee<'a> {
    #[serde(borrow)]
    transition: Transition<'a>,
}

#[derive(Deserialize)]
struct Deployment<'a> {
    #[serde(borrow)]
    program: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Owner<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Transition<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    program: Cow<'a, str>,
    #[serde(borrow)]
    function: Cow<'a, str>,
    #[serde(borrow, default)]
    inputs: Vec<Io<'a>>,
    #[serde(borrow, default)]
    outputs: Vec<Io<'a>>,
}

#[derive(Deserialize)]
struct Io<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    value: Option<Cow<'a, str>>,
}

fn clip(s: &str) -> String {
    let mut end = s.len().min(512);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The height of a block's JSON, if it has one where a block keeps it.
pub fn block_height(json: &str) -> Option<u64> {
    #[derive(Deserialize)]
    struct H {
        header: Header,
    }
    serde_json::from_str::<H>(json)
        .ok()
        .map(|h| h.header.metadata.height)
}

/// Map one block (JSON text of a block object). `Err` when the text is not a block at all
/// (the caller quarantines or retries it); a bad transaction inside is quarantined in the
/// result.
pub fn map_block(json: &str, network: Network, rules: &Rules) -> Result<BlockOut, Quarantined> {
    let b: BlockShape = serde_json::from_str(json).map_err(|e| Quarantined {
        height: block_height(json),
        tx_id: String::new(),
        rule: "aleo.block.shape",
        detail: e.to_string(),
        raw: clip(json),
    })?;
    let m = &b.header.metadata;
    if m.network != network.id() {
        return Err(Quarantined {
            height: Some(m.height),
            tx_id: String::new(),
            rule: "aleo.block.network",
            detail: format!(
                "block of network {} where {} ({}) was asked for",
                m.network,
                network.name(),
                network.id()
            ),
            raw: String::new(),
        });
    }
    let mut out = BlockOut {
        height: m.height,
        ..Default::default()
    };
    out.counts.blocks = 1;
    out.counts.aborted_transactions = b.aborted_transaction_ids.len() as u64;
    let ctx = Ctx {
        height: m.height,
        timestamp: m.timestamp,
        chain: network.chain(),
        rules,
    };
    for raw in &b.transactions {
        out.counts.transactions += 1;
        match serde_json::from_str::<Confirmed>(raw.get()) {
            Ok(c) => ctx.transaction(&c, &mut out),
            Err(e) => {
                out.counts.quarantined += 1;
                out.quarantined.push(Quarantined {
                    height: Some(m.height),
                    tx_id: tx_id_of(raw.get()),
                    rule: "aleo.transaction.shape",
                    detail: e.to_string(),
                    raw: clip(raw.get()),
                });
            }
        }
    }
    out.counts.rows = out.rows.len() as u64;
    Ok(out)
}

fn tx_id_of(json: &str) -> String {
    #[derive(Deserialize)]
    struct T {
        transaction: Id,
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    serde_json::from_str::<T>(json)
        .map(|t| t.transaction.id)
        .unwrap_or_default()
}

struct Ctx<'r> {
    height: u64,
    timestamp: i64,
    chain: &'static str,
    rules: &'r Rules,
}

impl Ctx<'_> {
    fn transaction(&self, c: &Confirmed, out: &mut BlockOut) {
        if c.status != "accepted" {
            out.counts.rejected_transactions += 1;
            return;
        }
        let t = &c.transaction;
        let mut root_program = None;
        match t.kind.as_ref() {
            "execute" => {
                let Some(ex) = &t.execution else {
                    return self.bad(
                        out,
                        &t.id,
                        "aleo.transaction.shape",
                        "execute without execution".into(),
                        "",
                    );
                };
                for tr in &ex.transitions {
                    self.transition(tr, &t.id, None, out);
                }
                root_program = ex.transitions.last().map(|tr| tr.program.to_string());
            }
            "deploy" => {
                out.counts.deployments += 1;
                let (Some(d), Some(owner)) = (&t.deployment, &t.owner) else {
                    return self.bad(
                        out,
                        &t.id,
                        "aleo.transaction.shape",
                        "deploy without deployment or owner".into(),
                        "",
                    );
                };
                let Some(id) = deployed_program(&d.program) else {
                    return self.bad(
                        out,
                        &t.id,
                        "aleo.deployment.program",
                        "no `program NAME.aleo;` line".into(),
                        &d.program,
                    );
                };
                match Address::parse(&owner.address) {
                    Ok(a) => out.rows.push(ActivityRow {
                        timestamp: self.timestamp,
                        chain: self.chain,
                        tx_id: t.id.to_string(),
                        address: a.to_string(),
                        action: "deploy_program".into(),
                        counterparty: String::new(),
                        amount: String::new(),
                        asset: String::new(),
                        program: id.to_string(),
                    }),
                    Err(e) => return self.bad(out, &t.id, e.rule(), e.to_string(), &owner.address),
                }
                root_program = Some(id.to_string());
            }
            "fee" => {}
            other => {
                return self.bad(
                    out,
                    &t.id,
                    "aleo.transaction.type",
                    format!("unknown transaction type {other:?}"),
                    "",
                );
            }
        }
        if let Some(f) = &t.fee {
            self.transition(&f.transition, &t.id, root_program.as_deref(), out);
        }
    }

    fn bad(&self, out: &mut BlockOut, tx: &str, rule: &'static str, detail: String, raw: &str) {
        out.counts.quarantined += 1;
        out.quarantined.push(Quarantined {
            height: Some(self.height),
            tx_id: tx.to_string(),
            rule,
            detail,
            raw: clip(raw),
        });
    }

    /// `fee_program`: for a fee transition, the program its transaction called.
    fn transition(
        &self,
        tr: &Transition,
        tx_id: &str,
        fee_program: Option<&str>,
        out: &mut BlockOut,
    ) {
        out.counts.transitions += 1;
        let Some(rule) = self.rules.get(&tr.program, &tr.function) else {
            if is_private_only(tr)
                || PRIVATE_CREDITS.contains(&(tr.program.as_ref(), tr.function.as_ref()))
            {
                out.counts.private_transitions += 1;
            } else {
                *out.counts
                    .unmapped
                    .entry(format!("{}/{}", tr.program, tr.function))
                    .or_default() += 1;
            }
            return;
        };
        let future = tr
            .outputs
            .iter()
            .find(|o| o.kind == "future")
            .and_then(|o| o.value.as_deref());
        let args = future.map(future_arguments).unwrap_or_default();
        let get = |a: &Arg| -> Result<String, (&'static str, String)> {
            match a {
                Arg::Const(c) => Ok(c.clone()),
                Arg::Future(n) => args
                    .get(*n)
                    .map(|s| s.to_string())
                    .ok_or(("aleo.future.argument", format!("no future argument {n}"))),
                Arg::FutureField(n, m) => {
                    let a = args
                        .get(*n)
                        .ok_or(("aleo.future.argument", format!("no future argument {n}")))?;
                    struct_member(a, m).map(str::to_string).ok_or((
                        "aleo.future.member",
                        format!("future argument {n} has no member `{m}`"),
                    ))
                }
                Arg::Input(n) => match tr.inputs.get(*n) {
                    Some(i) if i.kind == "public" || i.kind == "constant" => i
                        .value
                        .as_deref()
                        .map(str::to_string)
                        .ok_or(("aleo.input.value", format!("input {n} has no value"))),
                    Some(_) => Err(("aleo.input.private", format!("input {n} is not public"))),
                    None => Err(("aleo.input.missing", format!("no input {n}"))),
                },
            }
        };
        // A value the rule reads from a private input is unknown, not wrong: without the
        // wallet there is no row (a private transition, counted); an unknown counterparty,
        // amount or asset is left empty.
        const PRIVATE: &str = "aleo.input.private";
        let optional = |a: &Arg| match get(a) {
            Err((PRIVATE, _)) => Ok(None),
            r => r.map(Some),
        };
        let wallet = match get(&rule.wallet) {
            Err((PRIVATE, _)) => {
                out.counts.private_transitions += 1;
                return;
            }
            w => w,
        };
        let row = (|| {
            let wallet = wallet?;
            let address = Address::parse(&wallet)
                .map_err(|e| (e.rule(), format!("wallet {wallet:?}: {e}")))?;
            let counterparty = match rule
                .counterparty
                .as_ref()
                .map(optional)
                .transpose()?
                .flatten()
            {
                Some(v) => Address::parse(&v)
                    .map_err(|e| (e.rule(), format!("counterparty {v:?}: {e}")))?
                    .to_string(),
                None => String::new(),
            };
            let mut amount: Option<u128> = None;
            let mut amount_known = true;
            for a in &rule.amount {
                let Some(v) = optional(a)? else {
                    amount_known = false;
                    continue;
                };
                let n = integer_literal(&v).ok_or((
                    "aleo.amount.literal",
                    format!("amount {v:?} is not an unsigned integer literal"),
                ))?;
                amount = Some(
                    amount
                        .unwrap_or(0)
                        .checked_add(n)
                        .ok_or(("aleo.amount.overflow", "amounts overflow u128".to_string()))?,
                );
            }
            let amount = amount.filter(|_| amount_known);
            let asset = match &rule.asset {
                Some(a) => optional(a)?.unwrap_or_default(),
                None => String::new(),
            };
            Ok(ActivityRow {
                timestamp: self.timestamp,
                chain: self.chain,
                tx_id: if rule.per_transaction { tx_id } else { &tr.id }.to_string(),
                address: address.to_string(),
                action: rule.action.clone(),
                counterparty,
                amount: amount.map(|a| a.to_string()).unwrap_or_default(),
                asset,
                program: fee_program.unwrap_or(&tr.program).to_string(),
            })
        })();
        match row {
            Ok(r) => out.rows.push(r),
            Err((rule, detail)) => self.bad(out, &tr.id, rule, detail, future.unwrap_or("")),
        }
    }
}

/// `credits.aleo` functions whose wallet is private (a record's owner): nothing to attribute.
const PRIVATE_CREDITS: [(&str, &str); 5] = [
    ("credits.aleo", "transfer_private"),
    ("credits.aleo", "join"),
    ("credits.aleo", "split"),
    ("credits.aleo", "fee_private"),
    ("credits.aleo", "upgrade"),
];

/// A transition whose inputs and outputs show nothing public (all private, records).
fn is_private_only(tr: &Transition) -> bool {
    tr.inputs
        .iter()
        .chain(tr.outputs.iter())
        .all(|i| !(i.kind == "public" || i.kind == "future" || i.kind == "constant"))
}

/// `program NAME.aleo;` of a deployed program's source.
fn deployed_program(src: &str) -> Option<&str> {
    src.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("program ")?;
        let id = rest.trim().strip_suffix(';')?.trim();
        (id.ends_with(".aleo") && id.len() <= 64).then_some(id)
    })
}

/// The value of an unsigned integer literal (`925201u64`, `5u8`; no sign, no visibility).
pub fn integer_literal(s: &str) -> Option<u128> {
    let s = s.trim();
    let digits_end = s.find(|c: char| !c.is_ascii_digit())?;
    let (digits, ty) = s.split_at(digits_end);
    if digits.is_empty() || !matches!(ty, "u8" | "u16" | "u32" | "u64" | "u128") {
        return None;
    }
    digits.parse().ok()
}

/// The value of member `name` of a struct plaintext (`{ token_id: 1field, admin: aleo1… }`),
/// trimmed; nested structs and arrays stay whole.
pub fn struct_member<'a>(v: &'a str, name: &str) -> Option<&'a str> {
    let body = v.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut depth = 0i32;
    let mut from = 0;
    let member = |part: &'a str| {
        let (k, val) = part.split_once(':')?;
        (k.trim() == name).then(|| val.trim())
    };
    for (i, c) in body.char_indices() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                if let Some(x) = member(&body[from..i]) {
                    return Some(x);
                }
                from = i + 1;
            }
            _ => {}
        }
    }
    member(&body[from..])
}

/// The top-level `arguments` of a future's plaintext (`{ program_id: …, function_name: …,
/// arguments: [ a, b, { … } ] }`): each argument's text, trimmed; nested futures and structs
/// stay whole.
pub fn future_arguments(v: &str) -> Vec<&str> {
    let Some(start) = v.find("arguments:") else {
        return Vec::new();
    };
    let rest = &v[start + "arguments:".len()..];
    let Some(open) = rest.find('[') else {
        return Vec::new();
    };
    let body = &rest[open + 1..];
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    for (i, c) in body.char_indices() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' if depth > 0 => depth -= 1,
            ']' => {
                let last = body[from..i].trim();
                if !last.is_empty() {
                    out.push(last);
                }
                return out;
            }
            ',' if depth == 0 => {
                out.push(body[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    Vec::new() // no closing bracket: not a future's text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn future_arguments_split_at_the_top_level() {
        let v = "{\n  program_id: credits.aleo,\n  function_name: transfer_public,\n  arguments: [\n    aleo1a,\n    aleo1b,\n    925201u64\n  ]\n}";
        assert_eq!(future_arguments(v), ["aleo1a", "aleo1b", "925201u64"]);
        let nested = "{ program_id: p.aleo, function_name: f, arguments: [ { program_id: credits.aleo, function_name: g, arguments: [ x, y ] }, [1u8, 2u8], z ] }";
        assert_eq!(
            future_arguments(nested),
            [
                "{ program_id: credits.aleo, function_name: g, arguments: [ x, y ] }",
                "[1u8, 2u8]",
                "z"
            ]
        );
        assert_eq!(future_arguments("{ arguments: [ ] }"), Vec::<&str>::new());
        assert_eq!(future_arguments("{ arguments: [ a, b"), Vec::<&str>::new());
        assert_eq!(future_arguments("garbage"), Vec::<&str>::new());
    }

    #[test]
    fn struct_members_and_args() {
        let m = "{\n  token_id: 7field,\n  name: 1u128,\n  inner: { admin: aleo1x },\n  admin: aleo1a\n}";
        assert_eq!(struct_member(m, "token_id"), Some("7field"));
        assert_eq!(struct_member(m, "admin"), Some("aleo1a"));
        assert_eq!(struct_member(m, "inner"), Some("{ admin: aleo1x }"));
        assert_eq!(struct_member(m, "nope"), None);
        assert_eq!(struct_member("7field", "admin"), None);
        for s in ["in.3", "fut.0", "fut.0.admin", "=credits"] {
            assert_eq!(Arg::parse(s).unwrap().to_string(), s);
        }
        for s in [
            "in.0.x",
            "fut.",
            "fut.0.",
            "fut.0.a-b",
            "out.1",
            "=",
            "fut.x",
        ] {
            assert_eq!(Arg::parse(s), None, "{s}");
        }
        let mut r = Rules::credits();
        let before = r.fingerprint();
        assert_eq!(before, Rules::credits().fingerprint());
        r.insert(
            "a.aleo",
            "f",
            r.get("credits.aleo", "fee_public").unwrap().clone(),
        );
        assert_ne!(r.fingerprint(), before);
    }

    #[test]
    fn integer_literals() {
        assert_eq!(integer_literal("925201u64"), Some(925201));
        assert_eq!(integer_literal(" 5u8 "), Some(5));
        assert_eq!(integer_literal("5i64"), None);
        assert_eq!(integer_literal("-5u64"), None);
        assert_eq!(integer_literal("u64"), None);
        assert_eq!(integer_literal("5field"), None);
        assert_eq!(integer_literal("5u64.public"), None);
        assert_eq!(
            integer_literal(&format!("{}u128", u128::MAX)),
            Some(u128::MAX)
        );
    }

    #[test]
    fn args_parse() {
        assert_eq!(Arg::parse("fut.2"), Some(Arg::Future(2)));
        assert_eq!(Arg::parse("in.0"), Some(Arg::Input(0)));
        assert_eq!(Arg::parse("=credits"), Some(Arg::Const("credits".into())));
        assert_eq!(Arg::parse("="), None);
        assert_eq!(Arg::parse("out.1"), None);
        assert_eq!(Arg::parse("fut.x"), None);
    }
}
