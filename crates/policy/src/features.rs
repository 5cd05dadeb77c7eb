//! Per-wallet features, computed natively in one streaming pass over `events.parquet` (sorted
//! by address, then time) after a pre-pass over transfers that gathers what each wallet
//! *received* (funder, incoming value). Memory holds one wallet's working set plus one small
//! record per recipient.
//!
//! Every feature is defined here once, with its type and meaning; `sql.rs` emits the same
//! definitions as SQL, and a test checks DuckDB's answers equal these.
//!
//! Only events with `window_start <= timestamp <= snapshot` count.

use std::path::Path;

use fairdrop_core::actions::BUILTIN;
use fairdrop_core::hash::{FxMap, FxSet, InlineKey, U64Map};
use fairdrop_core::steps::{steps_of, STEPS};
use fairdrop_table::{DictMemo, EventReader, TableError};

/// Type of a feature as seen by policy expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Bool,
    Str,
}

/// Plural count-feature names of the built-in actions, in `BUILTIN` order.
pub const ACTION_COUNT_NAMES: [&str; 17] = [
    "transfers",
    "stakes",
    "unstakes",
    "votes",
    "faucet_claims",
    "greenlists",
    "bridge_ins",
    "bridge_outs",
    "swaps",
    "liquidity_adds",
    "liquidity_removes",
    "domains",
    "token_launches",
    "trades",
    "quests",
    "deployments",
    "nft_mints",
];

/// A named feature.
#[derive(Clone, Debug)]
pub struct FeatureDef {
    pub name: String,
    pub kind: Kind,
    pub doc: String,
}

/// Indexes of the fixed features (the per-action ones follow `ACTION_BASE`).
pub mod ix {
    pub const FIRST_SEEN: usize = 0;
    pub const LAST_SEEN: usize = 1;
    pub const WALLET_AGE_DAYS: usize = 2;
    pub const TX_COUNT: usize = 3;
    pub const ACTIVE_DAYS: usize = 4;
    pub const ACTIVE_MONTHS: usize = 5;
    pub const DISTINCT_ACTIONS: usize = 6;
    pub const DISTINCT_PROGRAMS: usize = 7;
    pub const ACTIVITY_SPAN_HOURS: usize = 8;
    /// counts at ACTION_BASE + 2k, volumes at ACTION_BASE + 2k + 1
    pub const ACTION_BASE: usize = 9;
    pub const RECEIVED_COUNT: usize = ACTION_BASE + 34;
    pub const RECEIVED_VOLUME: usize = RECEIVED_COUNT + 1;
    pub const STAKE_CREDIT_DAYS: usize = RECEIVED_COUNT + 2;
    pub const STAKED_NOW: usize = RECEIVED_COUNT + 3;
    pub const AVG_BALANCE: usize = RECEIVED_COUNT + 4;
    pub const STEPS_DONE: usize = RECEIVED_COUNT + 5;
    /// 11 booleans
    pub const STEP_BASE: usize = RECEIVED_COUNT + 6;
    pub const N_INT: usize = STEP_BASE + 11;
    /// string features come after the numeric ones
    pub const FUNDER: usize = N_INT;
    pub const SWEEP_TARGET: usize = N_INT + 1;
    pub const N: usize = N_INT + 2;
}

/// All features in index order.
pub fn definitions() -> Vec<FeatureDef> {
    let d = |n: &str, k: Kind, doc: &str| FeatureDef {
        name: n.into(),
        kind: k,
        doc: doc.into(),
    };
    let mut v = vec![
        d(
            "first_seen",
            Kind::Int,
            "first activity or incoming transfer (Unix seconds)",
        ),
        d(
            "last_seen",
            Kind::Int,
            "last activity or incoming transfer (Unix seconds)",
        ),
        d(
            "wallet_age_days",
            Kind::Int,
            "whole days from first_seen to the snapshot",
        ),
        d("tx_count", Kind::Int, "events the wallet made"),
        d("active_days", Kind::Int, "distinct UTC days with an event"),
        d(
            "active_months",
            Kind::Int,
            "distinct UTC calendar months with an event",
        ),
        d("distinct_actions", Kind::Int, "distinct actions"),
        d("distinct_programs", Kind::Int, "distinct programs touched"),
        d(
            "activity_span_hours",
            Kind::Int,
            "whole hours between the wallet's first and last event",
        ),
    ];
    for (a, n) in BUILTIN.iter().zip(ACTION_COUNT_NAMES) {
        v.push(d(n, Kind::Int, &format!("`{a}` events")));
        v.push(d(
            &format!("{a}_volume"),
            Kind::Int,
            &format!("sum of `{a}` amounts (base units, saturating)"),
        ));
    }
    v.extend([
        d("received_count", Kind::Int, "transfers received"),
        d("received_volume", Kind::Int, "value received by transfer (base units, saturating)"),
        d("stake_credit_days", Kind::Int, "stake × time: staked base units × seconds held, / (86400 · 10^decimals)"),
        d("staked_now", Kind::Int, "staked base units at the snapshot (stake − unstake replayed)"),
        d("avg_balance", Kind::Int, "time-weighted average balance over the window from transfers, bridges and Aleo faucet claims (base units)"),
        d("steps_done", Kind::Int, "how many of the eleven participation steps were done"),
    ]);
    for s in STEPS {
        v.push(d(
            &format!("step_{}", s.key),
            Kind::Bool,
            &format!("step {}: {}", s.number, s.title),
        ));
    }
    v.push(d(
        "funder",
        Kind::Str,
        "sender of the first transfer received (empty if none)",
    ));
    v.push(d(
        "sweep_target",
        Kind::Str,
        "recipient of the last transfer sent (empty if none)",
    ));
    debug_assert_eq!(v.len(), ix::N);
    v
}

/// One wallet's features.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    pub address: String,
    /// Numeric features (booleans as 0/1), indexed by `ix`.
    pub ints: [i64; ix::N_INT],
    pub funder: String,
    pub sweep_target: String,
}

impl Features {
    pub fn get_int(&self, i: usize) -> i64 {
        self.ints[i]
    }
    pub fn get_str(&self, i: usize) -> &str {
        if i == ix::FUNDER {
            &self.funder
        } else {
            &self.sweep_target
        }
    }
    pub fn step(&self, k: usize) -> bool {
        self.ints[ix::STEP_BASE + k] != 0
    }
}

/// Settings the features depend on.
#[derive(Clone, Copy, Debug)]
pub struct FeatureParams {
    pub snapshot: i64,
    pub window_start: i64,
    pub decimals: u32,
}

#[derive(Clone)]
struct Incoming {
    /// The address (a placeholder for one too long to inline: those are found by string).
    key: InlineKey,
    first_ts: i64,
    last_ts: i64,
    funder: String,
    count: i64,
    volume: u128,
    /// Σ amount × (snapshot − t)
    weighted: i128,
}

impl Incoming {
    fn new(key: InlineKey) -> Self {
        Incoming {
            key,
            first_ts: i64::MAX,
            last_ts: i64::MIN,
            funder: String::new(),
            count: 0,
            volume: 0,
            weighted: 0,
        }
    }
}

/// An amount's value; 0 if it does not parse (the canonical table holds plain decimals).
/// The validator's parser (a u64 path for up to 19 digits): `str::parse::<u128>`'s
/// 128-bit steps were a third of the per-row work of pass 2 at 1M wallets.
#[inline]
fn amount_value(a: &str) -> u128 {
    match fairdrop_core::event::parse_amount(a) {
        Ok(v) => v,
        // What the validator refuses but `str::parse` takes ("+5"), for tables not written
        // by ingest.
        Err(_) => a.parse().unwrap_or(0),
    }
}

fn sat(v: u128) -> i64 {
    v.min(i64::MAX as u128) as i64
}

/// Compute every wallet's features, calling `emit` in address order.
pub fn extract(
    events: &Path,
    p: &FeatureParams,
    emit: &mut dyn FnMut(Features),
) -> Result<u64, TableError> {
    extract_filtered(events, p, None, Pass1::Overlap, emit)
}

/// When pass 2 takes the result of pass 1 (tests pin each path; the output is the same).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass1 {
    /// As soon as it is ready (what [`extract`] does).
    Overlap,
    /// Before the first wallet is emitted: nothing waits.
    JoinFirst,
    /// Only at the end: every wallet waits.
    JoinLast,
}

/// [`extract`] with the join point of pass 1 pinned.
#[doc(hidden)]
pub fn extract_pinned(
    events: &Path,
    p: &FeatureParams,
    when: Pass1,
    emit: &mut dyn FnMut(Features),
) -> Result<u64, TableError> {
    extract_filtered(events, p, None, when, emit)
}

/// The features of one wallet (None if it made no event in the window).
pub fn extract_one(
    events: &Path,
    p: &FeatureParams,
    address: &str,
) -> Result<Option<Features>, TableError> {
    let mut out = None;
    extract_filtered(events, p, Some(address), Pass1::Overlap, &mut |f| {
        out = Some(f)
    })?;
    Ok(out)
}

/// Columns the transfers pre-pass reads.
const PASS1_COLUMNS: [&str; 5] = ["timestamp", "address", "action", "counterparty", "amount"];
/// Columns the per-wallet pass reads.
const PASS2_COLUMNS: [&str; 7] = [
    "timestamp",
    "chain",
    "address",
    "action",
    "counterparty",
    "amount",
    "program",
];

/// What each wallet received, by address. The index maps a 64-bit hash of the address to
/// its record's slot, and the record holds the address inline, checked on every hit: the
/// index is 16 bytes an entry (a table of 1.7M addresses keyed by the 64-byte inline strings
/// was 120 MB), and the check reads the record the caller is about to update anyway (8% less
/// time on this thread at 1M wallets). An address whose hash another took, or too long to
/// hold inline, goes to a string-keyed map.
struct IncomingMap {
    index: U64Map,
    other: FxMap<String, u32>,
    slots: Vec<Incoming>,
    hash: fn(&str) -> u64,
}

impl Default for IncomingMap {
    fn default() -> Self {
        IncomingMap {
            index: U64Map::default(),
            other: FxMap::default(),
            slots: Vec::new(),
            hash: address_hash,
        }
    }
}

fn address_hash(s: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = fairdrop_core::hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

impl IncomingMap {
    /// The slot of `address`, made empty on first sight.
    fn slot(&mut self, address: &str) -> u32 {
        let next = self.slots.len() as u32;
        if let Some(key) = InlineKey::new(address) {
            let h = (self.hash)(address);
            match self.index.get(h) {
                None => {
                    self.index.insert(h, next);
                    self.slots.push(Incoming::new(key));
                    return next;
                }
                Some(i) => {
                    if self.slots[i as usize].key.is(address) {
                        return i;
                    }
                }
            }
        }
        if let Some(&i) = self.other.get(address) {
            return i;
        }
        self.other.insert(address.to_string(), next);
        let key = InlineKey::new(address).unwrap_or_else(|| InlineKey::new("").expect("short"));
        self.slots.push(Incoming::new(key));
        next
    }

    /// The slot `address` already has (`h` = its hash), without making one.
    fn find(&self, address: &str, h: u64) -> Option<u32> {
        if address.len() < 64 {
            if let Some(i) = self.index.get(h) {
                if self.slots[i as usize].key.is(address) {
                    return Some(i);
                }
            }
        }
        self.other.get(address).copied()
    }

    fn get(&self, address: &str) -> Option<&Incoming> {
        if address.len() < 64 {
            if let Some(i) = self.index.get((self.hash)(address)) {
                let e = &self.slots[i as usize];
                if e.key.is(address) {
                    return Some(e);
                }
            }
        }
        self.other.get(address).map(|&i| &self.slots[i as usize])
    }
}

/// Pass 1: what each wallet received. Text columns come as dictionaries: whether an action
/// is `transfer`, and a counterparty's slot, are worked out once per distinct value and row
/// group rather than per row (the per-row lookups of counterparties, in a table of every
/// wallet, and the decoding of strings were most of this pass).
fn incoming_pass(
    events: &Path,
    p: &FeatureParams,
    only: Option<&str>,
) -> Result<IncomingMap, TableError> {
    const SKIP: u32 = u32::MAX;
    let in_window = |t: i64| t >= p.window_start && t <= p.snapshot;
    let mut incoming = IncomingMap::default();
    let mut transfer = DictMemo::<bool>::default();
    let mut slots = DictMemo::<u32>::default();
    let mut hashes: Vec<u64> = Vec::new();
    for b in EventReader::open_dict(events, &PASS1_COLUMNS)?.prefetch(2) {
        let b = b?;
        transfer.start(&b.action);
        if slots.start(&b.counterparty) {
            // Find the slots this dictionary's addresses already have, in order, with the
            // index 16 values ahead and the record 8 ahead prefetched (one cache miss after
            // another was most of this pass). New addresses get their slot at their first
            // transfer below, so slots keep the order per-row resolution gave.
            let n = b.counterparty.n_values();
            hashes.clear();
            hashes.extend((0..n).map(|k| (incoming.hash)(slots.value(k))));
            for k in 0..n {
                if let Some(&h) = hashes.get(k + 16) {
                    incoming.index.prefetch(h);
                }
                if let Some(i) = hashes.get(k + 8).and_then(|&h| incoming.index.get(h)) {
                    fairdrop_core::hash::prefetch(&incoming.slots[i as usize].key);
                }
                let cp = slots.value(k);
                if only.is_some_and(|o| o != cp) {
                    slots.set(k, SKIP);
                } else if let Some(i) = incoming.find(cp, hashes[k]) {
                    slots.set(k, i);
                }
            }
        }
        // The recipient's record is a cache miss at a random place (rows come by sender):
        // its lines are asked for this many rows ahead, where the slot is already known.
        const AHEAD: usize = 12;
        let n = b.len();
        for i in 0..n {
            if let Some(s) = (i + AHEAD < n)
                .then(|| b.counterparty.key(i + AHEAD))
                .flatten()
                .and_then(|k| slots.get(k))
            {
                if let Some(e) = incoming.slots.get(s as usize) {
                    fairdrop_core::hash::prefetch_all(e);
                }
            }
            let ts = b.timestamp.value(i);
            let Some(ak) = b.action.key(i) else { continue };
            if !transfer.resolve(ak, |a| a == "transfer") || !in_window(ts) {
                continue;
            }
            let Some(ck) = b.counterparty.key(i) else {
                continue;
            };
            let slot = slots.resolve(ck, |cp| {
                if only.is_some_and(|o| o != cp) {
                    SKIP
                } else {
                    incoming.slot(cp)
                }
            });
            if slot == SKIP {
                continue;
            }
            let amt = b.amount(i).map_or(0, amount_value);
            let e = &mut incoming.slots[slot as usize];
            if ts <= e.first_ts {
                let address = b
                    .address
                    .key(i)
                    .and_then(|k| b.address.value(k))
                    .unwrap_or("");
                if ts < e.first_ts || address < e.funder.as_str() {
                    e.first_ts = ts;
                    e.funder.clear();
                    e.funder.push_str(address);
                }
            }
            e.last_ts = e.last_ts.max(ts);
            e.count += 1;
            e.volume = e.volume.saturating_add(amt);
            e.weighted += amt as i128 * (p.snapshot - ts) as i128;
        }
    }
    Ok(incoming)
}

/// Wallets a chunk of the backlog holds (see [`extract_filtered`]): 16 KB. Small enough that
/// the test worlds span several chunks.
const BACKLOG_CHUNK: usize = 32;

/// Pass 1 (what each wallet received) runs on a second thread while pass 2 walks the wallets
/// in address order; wallets finished before pass 1 is done wait, partially computed, and
/// are completed and emitted, in order, as soon as it is.
fn extract_filtered(
    events: &Path,
    p: &FeatureParams,
    only: Option<&str>,
    when: Pass1,
    emit: &mut dyn FnMut(Features),
) -> Result<u64, TableError> {
    let in_window = |t: i64| t >= p.window_start && t <= p.snapshot;
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("features-incoming".into())
            .spawn_scoped(scope, || incoming_pass(events, p, only))
            .map_err(|source| TableError::Io {
                path: events.to_path_buf(),
                source,
            })?;
        let mut pass1 = Some(handle);
        let mut incoming: Option<IncomingMap> = None;
        // Wallets waiting for pass 1, in chunks: one growing `Vec` of them copied the whole
        // backlog at every doubling, into fresh memory (hundreds of MB at 1M wallets).
        let mut backlog: Vec<Vec<Partial>> = Vec::new();
        let mut n = 0u64;
        let join = |h: std::thread::ScopedJoinHandle<'_, Result<IncomingMap, TableError>>| {
            h.join().unwrap_or_else(|_| {
                Err(TableError::Io {
                    path: events.to_path_buf(),
                    source: std::io::Error::other("the transfers pass panicked"),
                })
            })
        };
        let mut deliver = |part: Option<Partial>,
                           incoming: &mut Option<IncomingMap>,
                           pass1: &mut Option<std::thread::ScopedJoinHandle<'_, _>>,
                           wait: bool|
         -> Result<(), TableError> {
            let ready = match when {
                Pass1::Overlap => pass1.as_ref().is_some_and(|h| h.is_finished()),
                Pass1::JoinFirst => true,
                Pass1::JoinLast => false,
            };
            if incoming.is_none() && (wait || ready) {
                if let Some(h) = pass1.take() {
                    *incoming = Some(join(h)?);
                }
            }
            match incoming {
                Some(inc) => {
                    for b in backlog.drain(..).flatten().chain(part) {
                        let i = inc.get(&b.f.address);
                        n += 1;
                        emit(b.complete(p, i));
                    }
                }
                None => {
                    if let Some(part) = part {
                        match backlog.last_mut() {
                            Some(c) if c.len() < BACKLOG_CHUNK => c.push(part),
                            _ => {
                                let mut c = Vec::with_capacity(BACKLOG_CHUNK);
                                c.push(part);
                                backlog.push(c);
                            }
                        }
                    }
                }
            }
            Ok(())
        };
        // Text columns come as dictionaries: each distinct chain, action and program of a row
        // group is worked out once (what it counts toward, its id), not once per row; a new
        // wallet is noticed by its address key, and its string compared only when the key
        // changes.
        let mut ids = Ids::default();
        let mut only_memo = DictMemo::<bool>::default();
        let mut chains = DictMemo::<bool>::default();
        let mut actions = DictMemo::<ActionInfo>::default();
        let mut programs = DictMemo::<u32>::default();
        let mut cur: Option<Acc> = None;
        // The address key of `cur` in the current address dictionary.
        let mut cur_key: Option<usize> = None;
        for b in EventReader::open_dict(events, &PASS2_COLUMNS)?.prefetch(2) {
            let b = b?;
            if only_memo.start(&b.address) {
                cur_key = None;
            }
            chains.start(&b.chain);
            actions.start(&b.action);
            programs.start(&b.program);
            for i in 0..b.len() {
                let ts = b.timestamp.value(i);
                if !in_window(ts) {
                    continue;
                }
                let ak = b.address.key(i);
                if let Some(o) = only {
                    let hit = match ak {
                        Some(k) => only_memo.resolve(k, |a| a == o),
                        None => o.is_empty(),
                    };
                    if !hit {
                        continue;
                    }
                }
                if ak.is_none() || cur_key != ak {
                    let a = ak.and_then(|k| b.address.value(k)).unwrap_or("");
                    if cur.as_ref().map(|c| c.address.as_str()) != Some(a) {
                        if let Some(c) = cur.take() {
                            deliver(Some(c.partial(p)), &mut incoming, &mut pass1, false)?;
                        }
                        cur = Some(Acc::new(a));
                    }
                    cur_key = ak;
                }
                let aleo = b
                    .chain
                    .key(i)
                    .is_some_and(|k| chains.resolve(k, |c| c == "aleo"));
                let action = match b.action.key(i) {
                    Some(k) => actions.resolve(k, |a| ActionInfo::of(a, &mut ids)),
                    None => ActionInfo::of("", &mut ids),
                };
                let program = b
                    .program
                    .key(i)
                    .map(|k| programs.resolve(k, |pg| ids.program(pg)));
                let cp = b.counterparty.key(i).and_then(|k| b.counterparty.value(k));
                cur.as_mut()
                    .expect("set above")
                    .add(ts, aleo, action, program, b.amount(i), cp, p);
            }
        }
        let last = cur.take().map(|c| c.partial(p));
        deliver(last, &mut incoming, &mut pass1, true)?;
        Ok(n)
    })
}

/// Ids of the programs and custom actions met, in order of first appearance (a wallet's
/// distinct ones are counted as ids).
#[derive(Default)]
struct Ids {
    programs: FxMap<String, u32>,
    actions: FxMap<String, u32>,
}

impl Ids {
    fn id(map: &mut FxMap<String, u32>, s: &str) -> u32 {
        if let Some(&i) = map.get(s) {
            return i;
        }
        let i = map.len() as u32;
        map.insert(s.to_string(), i);
        i
    }
    fn program(&mut self, s: &str) -> u32 {
        Self::id(&mut self.programs, s)
    }
}

/// The actions whose rows do more than count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Stake,
    Unstake,
    Transfer,
    BridgeOut,
    BridgeIn,
    FaucetClaim,
    Other,
}

/// What an action string means for the features, worked out once per distinct value.
#[derive(Clone, Copy, Debug)]
struct ActionInfo {
    /// Index in `BUILTIN`, if built in.
    builtin: Option<u8>,
    /// Id among the custom actions (when not built in).
    custom: u32,
    kind: Role,
    /// `steps_of(chain, action)` on the `aleo` chain and on any other (`steps_of` looks at
    /// the chain only to tell `aleo` from the rest).
    steps_aleo: u16,
    steps_other: u16,
}

impl ActionInfo {
    fn of(a: &str, ids: &mut Ids) -> Self {
        let builtin = BUILTIN.iter().position(|b| *b == a).map(|k| k as u8);
        let kind = match a {
            "stake" => Role::Stake,
            "unstake" => Role::Unstake,
            "transfer" => Role::Transfer,
            "bridge_out" => Role::BridgeOut,
            "bridge_in" => Role::BridgeIn,
            "faucet_claim" => Role::FaucetClaim,
            _ => Role::Other,
        };
        ActionInfo {
            builtin,
            custom: if builtin.is_none() {
                Ids::id(&mut ids.actions, a)
            } else {
                0
            },
            kind,
            steps_aleo: steps_of("aleo", a),
            steps_other: steps_of("", a),
        }
    }
}

struct Acc {
    address: String,
    first: i64,
    last: i64,
    tx: i64,
    days: i64,
    last_day: i64,
    months: i64,
    last_month: i64,
    actions: u32,
    /// Ids (from [`Ids`]) of the actions outside `BUILTIN` and of the programs used.
    custom_actions: FxSet<u32>,
    programs: FxSet<u32>,
    counts: [i64; 17],
    volumes: [u128; 17],
    steps: u16,
    staked: u128,
    stake_since: i64,
    stake_seconds: u128,
    out_weighted: i128,
    in_weighted: i128,
    /// Recipient of the last transfer sent ("" if none); reused, not reallocated per row.
    sweep: String,
}

impl Acc {
    fn new(address: &str) -> Self {
        Acc {
            address: address.to_string(),
            first: i64::MAX,
            last: i64::MIN,
            tx: 0,
            days: 0,
            last_day: i64::MIN,
            months: 0,
            last_month: i64::MIN,
            actions: 0,
            custom_actions: FxSet::default(),
            programs: FxSet::default(),
            counts: [0; 17],
            volumes: [0; 17],
            steps: 0,
            staked: 0,
            stake_since: 0,
            stake_seconds: 0,
            out_weighted: 0,
            in_weighted: 0,
            sweep: String::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        t: i64,
        aleo: bool,
        action: ActionInfo,
        program: Option<u32>,
        amount: Option<&str>,
        counterparty: Option<&str>,
        p: &FeatureParams,
    ) {
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        self.tx += 1;
        let day = t.div_euclid(86400);
        if day != self.last_day {
            self.days += 1;
            self.last_day = day;
            // The same day is the same month: the calendar is worked out once a day.
            let (y, m, _) = fairdrop_core::event::civil_from_days(day);
            let month = y * 12 + m;
            if month != self.last_month {
                self.months += 1;
                self.last_month = month;
            }
        }
        if let Some(pg) = program {
            self.programs.insert(pg);
        }
        let amt = amount.map_or(0, amount_value);
        match action.builtin {
            Some(k) => {
                let k = k as usize;
                self.actions |= 1 << k;
                self.counts[k] += 1;
                self.volumes[k] = self.volumes[k].saturating_add(amt);
            }
            None => {
                self.custom_actions.insert(action.custom);
            }
        }
        self.steps |= if aleo {
            action.steps_aleo
        } else {
            action.steps_other
        };
        let weight = amt as i128 * (p.snapshot - t) as i128;
        match action.kind {
            Role::Stake | Role::Unstake => {
                self.stake_seconds += self.staked * (t - self.stake_since) as u128;
                self.stake_since = t;
                if action.kind == Role::Stake {
                    self.staked = self.staked.saturating_add(amt);
                } else {
                    self.staked -= self.staked.min(amt);
                }
            }
            Role::Transfer => {
                self.out_weighted += weight;
                if let Some(cp) = counterparty {
                    self.sweep.clear();
                    self.sweep.push_str(cp);
                }
            }
            Role::BridgeOut => self.out_weighted += weight,
            Role::BridgeIn => self.in_weighted += weight,
            Role::FaucetClaim if aleo => self.in_weighted += weight,
            _ => {}
        }
    }

    /// Everything that does not depend on what the wallet received.
    fn partial(mut self, p: &FeatureParams) -> Partial {
        let mut f = [0i64; ix::N_INT];
        self.stake_seconds += self.staked * (p.snapshot - self.stake_since) as u128;
        f[ix::TX_COUNT] = self.tx;
        f[ix::ACTIVE_DAYS] = self.days;
        f[ix::ACTIVE_MONTHS] = self.months;
        f[ix::DISTINCT_ACTIONS] =
            self.actions.count_ones() as i64 + self.custom_actions.len() as i64;
        f[ix::DISTINCT_PROGRAMS] = self.programs.len() as i64;
        f[ix::ACTIVITY_SPAN_HOURS] = (self.last - self.first).div_euclid(3600);
        for k in 0..17 {
            f[ix::ACTION_BASE + 2 * k] = self.counts[k];
            f[ix::ACTION_BASE + 2 * k + 1] = sat(self.volumes[k]);
        }
        let unit = 86_400u128 * 10u128.pow(p.decimals.min(30));
        f[ix::STAKE_CREDIT_DAYS] = sat(self.stake_seconds / unit);
        f[ix::STAKED_NOW] = sat(self.staked);
        f[ix::STEPS_DONE] = self.steps.count_ones() as i64;
        for k in 0..11 {
            f[ix::STEP_BASE + k] = ((self.steps >> k) & 1) as i64;
        }
        Partial {
            f: Features {
                address: self.address,
                ints: f,
                funder: String::new(),
                sweep_target: self.sweep,
            },
            first: self.first,
            last: self.last,
            in_weighted: self.in_weighted,
            out_weighted: self.out_weighted,
        }
    }
}

/// A wallet's features before what it received is known.
struct Partial {
    f: Features,
    first: i64,
    last: i64,
    in_weighted: i128,
    out_weighted: i128,
}

impl Partial {
    fn complete(mut self, p: &FeatureParams, inc: Option<&Incoming>) -> Features {
        let (mut first, mut last) = (self.first, self.last);
        if let Some(i) = inc {
            first = first.min(i.first_ts);
            last = last.max(i.last_ts);
            self.in_weighted += i.weighted;
        }
        let f = &mut self.f.ints;
        f[ix::FIRST_SEEN] = first;
        f[ix::LAST_SEEN] = last;
        f[ix::WALLET_AGE_DAYS] = (p.snapshot - first).div_euclid(86400);
        f[ix::RECEIVED_COUNT] = inc.map_or(0, |i| i.count);
        f[ix::RECEIVED_VOLUME] = inc.map_or(0, |i| sat(i.volume));
        let window = (p.snapshot - p.window_start).max(1) as i128;
        let bal = (self.in_weighted - self.out_weighted).max(0) / window;
        f[ix::AVG_BALANCE] = bal.min(i64::MAX as i128) as i64;
        if let Some(i) = inc {
            self.f.funder = i.funder.clone();
        }
        self.f
    }
}

/// Write features as CSV (header = feature names), one wallet per line in address order.
pub fn csv_header() -> Vec<String> {
    let mut h = vec!["address".to_string()];
    h.extend(definitions().into_iter().map(|d| d.name));
    h
}

pub fn csv_record(f: &Features) -> Vec<String> {
    let mut r = Vec::with_capacity(ix::N + 1);
    r.push(f.address.clone());
    let defs_bool = |i: usize| (ix::STEP_BASE..ix::STEP_BASE + 11).contains(&i);
    for (i, v) in f.ints.iter().enumerate() {
        r.push(if defs_bool(i) {
            (if *v != 0 { "true" } else { "false" }).to_string()
        } else {
            v.to_string()
        });
    }
    r.push(f.funder.clone());
    r.push(f.sweep_target.clone());
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Slots are given in order of first sight and found again, whatever the hash does:
        /// the real one, one that collides often, one that always collides. Long strings
        /// (not inlined) and absent ones included.
        #[test]
        fn incoming_slots_survive_hash_collisions(
            names in proptest::collection::vec(
                prop_oneof![
                    4 => "aleo1[a-c]{0,3}",
                    1 => "x{60,70}",
                ],
                1..200,
            ),
            absent in "zz[a-z]{0,5}",
        ) {
            let hashes: [fn(&str) -> u64; 3] = [address_hash, |s| s.len() as u64 % 3, |_| 7];
            for hash in hashes {
                let mut m = IncomingMap { hash, ..Default::default() };
                let mut want: Vec<&str> = Vec::new();
                for n in &names {
                    let expect = match want.iter().position(|w| w == n) {
                        Some(i) => i,
                        None => {
                            want.push(n);
                            want.len() - 1
                        }
                    };
                    let got = m.slot(n) as usize;
                    prop_assert_eq!(got, expect, "{:?}", n);
                    m.slots[got].count += 1;
                }
                prop_assert_eq!(m.slots.len(), want.len());
                for (i, w) in want.iter().enumerate() {
                    let seen = names.iter().filter(|n| n == w).count() as i64;
                    let e = m.get(w).expect("inserted");
                    prop_assert_eq!(e.count, seen, "{:?} slot {}", w, i);
                    prop_assert_eq!(m.find(w, hash(w)), Some(i as u32), "{:?}", w);
                }
                prop_assert!(m.get(&absent).is_none());
                prop_assert_eq!(m.find(&absent, hash(&absent)), None);
            }
        }
    }

    proptest! {
        /// The fast amount path gives what `str::parse::<u128>` gives (0 where it fails),
        /// around the 19-digit switch and for text that is not a plain decimal.
        #[test]
        fn amount_value_is_parse(a in "[+-]?[0-9]{0,42}|[0-9]{1,25}[.e][0-9]{0,3}| ?[0-9]{1,21}") {
            prop_assert_eq!(amount_value(&a), a.parse::<u128>().unwrap_or(0), "{:?}", a);
        }
    }

    #[test]
    fn amount_value_edges() {
        for a in [
            "",
            "0",
            "007",
            "+5",
            "-1",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "340282366920938463463374607431768211455",
            "340282366920938463463374607431768211456",
            "1.5",
            "1e3",
            "１",
        ] {
            assert_eq!(amount_value(a), a.parse::<u128>().unwrap_or(0), "{a:?}");
        }
    }
}

/// A features file that cannot be read as `fairdrop features --out` writes it.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {column}: {msg}")]
pub struct FeaturesFileError {
    pub file: std::path::PathBuf,
    pub line: u64,
    pub column: String,
    pub msg: String,
}

/// Read per-wallet features computed elsewhere (a warehouse running
/// [`crate::sql::emit`]'s query, or `fairdrop features --out`): CSV with the header of
/// [`csv_header`], one wallet a row in strictly increasing address order, every value checked
/// (integers, `true` / `false`, canonical addresses). Calls `emit` for each wallet, in order.
pub fn read_csv(path: &Path, emit: &mut dyn FnMut(Features)) -> Result<u64, FeaturesFileError> {
    let err = |line: u64, column: &str, msg: String| FeaturesFileError {
        file: path.to_path_buf(),
        line,
        column: column.to_string(),
        msg,
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| err(0, "-", format!("cannot read: {e}")))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| err(1, "-", e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let want = csv_header();
    if header != want {
        let at = want
            .iter()
            .zip(header.iter().chain(std::iter::repeat(&String::new())))
            .position(|(a, b)| a != b)
            .unwrap_or(want.len().min(header.len()));
        return Err(err(
            1,
            want.get(at).map_or("-", |s| s.as_str()),
            format!(
                "the header must be `fairdrop features --list`'s columns in order ({} columns); column {} is {:?}",
                want.len(),
                at + 1,
                header.get(at).map_or("missing", |s| s.as_str())
            ),
        ));
    }
    let canonical = |line: u64, col: &str, s: &str| -> Result<String, FeaturesFileError> {
        let a = fairdrop_core::Address::parse(s)
            .map_err(|e| err(line, col, format!("{s:?}: {e}")))?
            .to_string();
        if a != s {
            return Err(err(
                line,
                col,
                format!("{s:?} is not in canonical form ({a})"),
            ));
        }
        Ok(a)
    };
    let bool_at = |i: usize| (ix::STEP_BASE..ix::STEP_BASE + 11).contains(&i);
    let mut last: Option<String> = None;
    let mut n = 0u64;
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, "-", e.to_string())
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let address = canonical(line, "address", &rec[0])?;
        if last.as_deref().is_some_and(|l| l >= address.as_str()) {
            return Err(err(
                line,
                "address",
                format!("{address} is not after {} (rows must be in increasing address order, each wallet once)", last.unwrap()),
            ));
        }
        let mut ints = [0i64; ix::N_INT];
        for (i, v) in ints.iter_mut().enumerate() {
            let (col, s) = (&want[i + 1], &rec[i + 1]);
            *v = if bool_at(i) {
                match s {
                    "true" => 1,
                    "false" => 0,
                    _ => return Err(err(line, col, format!("{s:?} is not true or false"))),
                }
            } else {
                s.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                    err(
                        line,
                        col,
                        format!("{s:?} is not a non-negative 64-bit integer"),
                    )
                })?
            };
        }
        let opt_addr = |i: usize| -> Result<String, FeaturesFileError> {
            match &rec[i] {
                "" => Ok(String::new()),
                s => canonical(line, &want[i], s),
            }
        };
        let funder = opt_addr(ix::FUNDER + 1)?;
        let sweep_target = opt_addr(ix::SWEEP_TARGET + 1)?;
        emit(Features {
            address: address.clone(),
            ints,
            funder,
            sweep_target,
        });
        last = Some(address);
        n += 1;
    }
    Ok(n)
}
