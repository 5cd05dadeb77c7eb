//! The sybil stage from a warehouse's tables instead of events.
//!
//! The detector's event rules ([`Config::for_events`]) read three things of the events, and
//! each is a table a warehouse can compute ([`fairdrop_policy::sql::emit_sybil`], columns in
//! `docs/warehouse.md`):
//!
//! - `sybil-wallets`: every transfer wallet's funder, sweep target and degree ([`Roles`]),
//!   in place of the transfers;
//! - `sybil-activity`: each wallet's rows reduced to one per lockstep shingle, with its
//!   earliest time and row count, in place of its activity rows;
//! - `sybil-bridges`: the bridge actions' rows, whose signal compares exact amounts.
//!
//! [`write_tables`] computes them natively from `events.parquet` (what the parity tests
//! compare the engines' results with); [`read_tables`] loads them, checking every value, into
//! the detector's input, which then flags exactly the wallets the events would
//! (`tests/run.rs`: a run from Spark's tables gives the native run's outputs).

use std::io::Write;
use std::path::{Path, PathBuf};

use fairdrop_core::Address;
use fairdrop_policy::campaign::Campaign;
use fairdrop_policy::sql::{SybilSqlParams, SYBIL_TABLES};
use fairdrop_sybil::behaviour::amount_bucket;
use fairdrop_sybil::detect::Config;
use fairdrop_sybil::graph::Roles;
use fairdrop_sybil::input::{Activity, FxMap, SybilInput, Symbols};
use fairdrop_table::EventReader;

use crate::RunError;

/// Columns of `sybil-wallets`.
pub const WALLETS_HEADER: [&str; 4] = ["address", "funder", "sweep", "degree"];
/// Columns of `sybil-activity`.
pub const ACTIVITY_HEADER: [&str; 6] = [
    "address",
    "timestamp",
    "action",
    "program",
    "amount_bucket",
    "row_count",
];
/// Columns of `sybil-bridges`.
pub const BRIDGES_HEADER: [&str; 5] = ["address", "timestamp", "action", "program", "amount"];

/// The settings the tables depend on: the campaign's window and the detector's.
pub fn sql_params(c: &Campaign) -> SybilSqlParams {
    let cfg = Config::for_events(c.sybil.min_cluster_size);
    SybilSqlParams {
        window_start: c.window_start,
        snapshot: c.snapshot,
        lockstep_window: cfg.behaviour.lockstep_window,
        bridge_actions: cfg.behaviour.bridge_actions.clone(),
    }
}

/// The three files in `dir`, in [`SYBIL_TABLES`] order.
pub fn table_paths(dir: &Path) -> [PathBuf; 3] {
    SYBIL_TABLES.map(|t| dir.join(format!("{t}.csv")))
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Sybil(format!("{}: {e}", path.display()))
}

/// A CSV writer whose file appears only when complete.
struct Out {
    path: PathBuf,
    w: csv::Writer<fairdrop_core::fsutil::AtomicFile>,
}

impl Out {
    fn create(path: PathBuf, header: &[&str]) -> Result<Out, RunError> {
        let f = fairdrop_core::fsutil::AtomicFile::create(&path).map_err(|e| io_err(&path, e))?;
        let mut w = csv::WriterBuilder::new()
            .buffer_capacity(1 << 20)
            .from_writer(f);
        w.write_record(header).map_err(|e| io_err(&path, e))?;
        Ok(Out { path, w })
    }
    fn row<I, T>(&mut self, r: I) -> Result<(), RunError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.w.write_record(r).map_err(|e| io_err(&self.path, e))
    }
    fn commit(self) -> Result<(), RunError> {
        let Out { path, w } = self;
        let mut f = w.into_inner().map_err(|e| io_err(&path, e.error()))?;
        f.flush().map_err(|e| io_err(&path, e))?;
        f.commit().map_err(|e| io_err(&path, e))
    }
}

/// One wallet's bridge rows: (time, action, program, amount, amount as written).
type BridgeRows = Vec<(i64, Box<str>, Option<Box<str>>, u128, Box<str>)>;

/// One wallet's shingles: (b0, b1, action, program or `u32::MAX`, amount bucket), names as
/// [`Symbols`] ids → (earliest time, rows).
type Shingles = FxMap<(i64, i64, u32, u32, u32), (i64, u64)>;

/// Compute the three tables natively from `events` (address-sorted, as ingest writes them)
/// into `dir`, as the emitted SQL computes them with the same settings ([`sql_params`]): rows
/// outside the window are not read. Returns the rows written per table.
pub fn write_tables(p: &SybilSqlParams, events: &Path, dir: &Path) -> Result<[u64; 3], RunError> {
    let [wp, ap, bp] = table_paths(dir);
    let mut activity = Out::create(ap, &ACTIVITY_HEADER)?;
    let mut bridges = Out::create(bp, &BRIDGES_HEADER)?;
    let mut counts = [0u64; 3];
    // Transfers only, for the roles (in the events' order: ties on time follow it).
    let mut input = SybilInput::new();
    let mut ids: FxMap<Box<str>, u32> = FxMap::default();
    let mut id = |input: &mut SybilInput, s: &str| -> Result<u32, RunError> {
        if let Some(&i) = ids.get(s) {
            return Ok(i);
        }
        let a = Address::parse_trusted(s).map_err(|e| io_err(events, format!("{s:?}: {e}")))?;
        let i = input.wallet(a);
        ids.insert(s.into(), i);
        Ok(i)
    };
    let w = p.lockstep_window.max(1);
    let mut current: Option<Box<str>> = None;
    let mut shingles: Shingles = FxMap::default();
    let mut bridge_rows: BridgeRows = Vec::new();
    let mut names = Symbols::default();
    let mut flush = |addr: &str,
                     names: &Symbols,
                     shingles: &mut Shingles,
                     bridge_rows: &mut BridgeRows,
                     counts: &mut [u64; 3]|
     -> Result<(), RunError> {
        let name = |s: u32| (s != u32::MAX).then(|| names.name(s));
        let mut rows: Vec<_> = shingles.drain().collect();
        rows.sort_by(|a, b| {
            (a.1 .0, name(a.0 .2), name(a.0 .3), a.0 .4).cmp(&(
                b.1 .0,
                name(b.0 .2),
                name(b.0 .3),
                b.0 .4,
            ))
        });
        for ((_, _, action, program, bucket), (ts, n)) in rows {
            activity.row([
                addr,
                &ts.to_string(),
                names.name(action),
                name(program).unwrap_or(""),
                &bucket.to_string(),
                &n.to_string(),
            ])?;
            counts[1] += 1;
        }
        bridge_rows.sort();
        for (ts, action, program, _, amount) in bridge_rows.drain(..) {
            bridges.row([
                addr,
                &ts.to_string(),
                &action,
                program.as_deref().unwrap_or(""),
                &amount,
            ])?;
            counts[2] += 1;
        }
        Ok(())
    };
    let transfer = fairdrop_core::actions::TRANSFER;
    for b in EventReader::open(events)? {
        let b = b?;
        for i in 0..b.len() {
            let r = b.row(i);
            if r.timestamp < p.window_start || r.timestamp > p.snapshot {
                continue;
            }
            if current.as_deref() != Some(r.address) {
                if let Some(a) = current.take() {
                    flush(&a, &names, &mut shingles, &mut bridge_rows, &mut counts)?;
                }
                current = Some(r.address.into());
            }
            let amount = r
                .amount
                .map(|a| {
                    fairdrop_core::event::parse_amount(a)
                        .map_err(|e| io_err(events, format!("amount {a:?}: {e}")))
                })
                .transpose()?;
            let ts = r.timestamp;
            let key = (
                ts.div_euclid(w),
                (ts + w / 2).div_euclid(w),
                names.intern(r.action),
                r.program.map_or(u32::MAX, |p| names.intern(p)),
                amount_bucket(amount),
            );
            let e = shingles.entry(key).or_insert((ts, 0));
            e.0 = e.0.min(ts);
            e.1 += 1;
            if let Some(a) = amount {
                if p.bridge_actions.iter().any(|x| x == r.action) {
                    bridge_rows.push((
                        ts,
                        r.action.into(),
                        r.program.map(Box::from),
                        a,
                        r.amount.unwrap_or_default().into(),
                    ));
                }
            }
            if let (true, Some(cp)) = (r.action == transfer, r.counterparty) {
                let from = id(&mut input, r.address)?;
                let to = id(&mut input, cp)?;
                input.push_transfer(from, to, ts, amount, None);
            }
        }
    }
    if let Some(a) = current.take() {
        flush(&a, &names, &mut shingles, &mut bridge_rows, &mut counts)?;
    }
    let roles = Roles::of_transfers(&input);
    let text = |w: Option<u32>| w.map(|w| input.wallets.address(w).to_string());
    let mut rows: Vec<(String, String, String, u32)> = (0..input.n_wallets())
        .filter(|&i| roles.degree[i] > 0)
        .map(|i| {
            (
                input.wallets.address(i as u32).to_string(),
                text(roles.funder[i]).unwrap_or_default(),
                text(roles.sweep[i]).unwrap_or_default(),
                roles.degree[i],
            )
        })
        .collect();
    rows.sort_unstable();
    let mut wallets = Out::create(wp, &WALLETS_HEADER)?;
    for (a, f, s, d) in &rows {
        wallets.row([a.as_str(), f, s, &d.to_string()])?;
    }
    counts[0] = rows.len() as u64;
    wallets.commit()?;
    activity.commit()?;
    bridges.commit()?;
    Ok(counts)
}

/// Where a table's value is wrong: `file:line: column: what`.
fn bad(path: &Path, line: u64, column: &str, msg: impl std::fmt::Display) -> RunError {
    RunError::Sybil(format!("{}:{line}: {column}: {msg}", path.display()))
}

/// Open a table, checking its header is `want`.
fn open(path: &Path, want: &[&str]) -> Result<csv::Reader<std::fs::File>, RunError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| bad(path, 0, "-", format!("cannot read: {e}")))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(path, 1, "-", e))?
        .iter()
        .map(str::to_string)
        .collect();
    if header != want {
        return Err(bad(
            path,
            1,
            "-",
            format!(
                "the header must be {:?} (the columns of the emitted query), found {header:?}",
                want.join(",")
            ),
        ));
    }
    Ok(r)
}

/// Reads the rows of one table with their line numbers, every row in increasing address
/// order (`strict`: each address once).
struct Rows {
    path: PathBuf,
    r: csv::Reader<std::fs::File>,
    rec: csv::StringRecord,
    last: String,
    strict: bool,
    line: u64,
}

impl Rows {
    fn open(path: &Path, want: &[&str], strict: bool) -> Result<Rows, RunError> {
        Ok(Rows {
            path: path.to_path_buf(),
            r: open(path, want)?,
            rec: csv::StringRecord::new(),
            last: String::new(),
            strict,
            line: 1,
        })
    }
    /// The next row, its address in order (checked by [`resolve`]); false at the end.
    fn next(&mut self) -> Result<bool, RunError> {
        let more = self.r.read_record(&mut self.rec).map_err(|e| {
            let line = e.position().map_or(self.line + 1, |p| p.line());
            bad(&self.path, line, "-", e)
        })?;
        if !more {
            return Ok(false);
        }
        self.line = self.rec.position().map_or(self.line + 1, |p| p.line());
        // Most rows repeat the previous row's wallet.
        if !self.strict && !self.last.is_empty() && self.field(0) == self.last {
            return Ok(true);
        }
        let a = self.field(0).to_string();
        let ord = self.last.as_str().cmp(a.as_str());
        if !self.last.is_empty()
            && (ord == std::cmp::Ordering::Greater
                || self.strict && ord == std::cmp::Ordering::Equal)
        {
            return Err(self.bad(
                "address",
                format!(
                    "{a} is not after {} (rows must be in increasing address order{})",
                    self.last,
                    if self.strict {
                        ", each wallet once"
                    } else {
                        ""
                    }
                ),
            ));
        }
        self.last = a;
        Ok(true)
    }
    fn bad(&self, column: &str, msg: impl std::fmt::Display) -> RunError {
        bad(&self.path, self.line, column, msg)
    }
    fn field(&self, i: usize) -> &str {
        self.rec.get(i).unwrap_or("")
    }
    fn int<T: std::str::FromStr>(&self, i: usize, column: &str, what: &str) -> Result<T, RunError> {
        let s = self.field(i);
        s.parse::<T>()
            .map_err(|_| self.bad(column, format!("{s:?} is not {what}")))
    }
    fn text(&self, i: usize, column: &str) -> Result<&str, RunError> {
        match self.field(i) {
            "" => Err(self.bad(column, "is empty")),
            s => Ok(s),
        }
    }
}

/// The wallet id of column `i`'s address, checked (strictly: on the curve for Aleo, canonical
/// form) once per distinct text.
fn resolve(
    input: &mut SybilInput,
    ids: &mut FxMap<Box<str>, u32>,
    r: &Rows,
    i: usize,
    column: &str,
) -> Result<u32, RunError> {
    let s = r.field(i);
    if let Some(&id) = ids.get(s) {
        return Ok(id);
    }
    let a = Address::parse(s).map_err(|e| r.bad(column, format!("{s:?}: {e}")))?;
    let text = a.to_string();
    if text != s {
        return Err(r.bad(column, format!("{s:?} is not in canonical form ({text})")));
    }
    let id = input.wallet(a);
    ids.insert(s.into(), id);
    Ok(id)
}

/// [`resolve`] for a column that may be empty.
fn optional(
    input: &mut SybilInput,
    ids: &mut FxMap<Box<str>, u32>,
    r: &Rows,
    i: usize,
    column: &str,
) -> Result<Option<u32>, RunError> {
    match r.field(i) {
        "" => Ok(None),
        _ => resolve(input, ids, r, i, column).map(Some),
    }
}

/// Load the three tables into the detector's input: every wallet of `sybil-wallets` with
/// its roles (in place of transfers), and the activity and bridge rows of the `candidates`
/// (addresses in increasing order; the others' rows are only checked). Every value is
/// checked: header, canonical addresses in increasing order, integers, names; an error
/// names the file, line and column.
pub fn read_tables(
    c: &Campaign,
    paths: &[PathBuf; 3],
    candidates: &[&str],
) -> Result<SybilInput, RunError> {
    let p = sql_params(c);
    let mut input = SybilInput::new();
    let mut ids: FxMap<Box<str>, u32> = FxMap::default();
    let is_candidate = |a: &str| candidates.binary_search(&a).is_ok();

    // sybil-wallets: the roles.
    let mut roles = Roles::default();
    let set = |v: &mut Vec<Option<u32>>, at: u32, x: Option<u32>| {
        if v.len() <= at as usize {
            v.resize(at as usize + 1, None);
        }
        v[at as usize] = x;
    };
    let mut r = Rows::open(&paths[0], &WALLETS_HEADER, true)?;
    while r.next()? {
        let w = resolve(&mut input, &mut ids, &r, 0, "address")?;
        let f = optional(&mut input, &mut ids, &r, 1, "funder")?;
        let s = optional(&mut input, &mut ids, &r, 2, "sweep")?;
        let d: u32 = r.int(3, "degree", "a count of counterparties (0 to 2^32 - 1)")?;
        if d == 0 {
            return Err(r.bad(
                "degree",
                "0: a wallet of the table has a counterparty other than itself (1 or more)",
            ));
        }
        for (col, x) in [("funder", f), ("sweep", s)] {
            if x == Some(w) {
                return Err(r.bad(
                    col,
                    format!(
                        "{} is the wallet itself (self transfers are not counted)",
                        r.field(0)
                    ),
                ));
            }
        }
        set(&mut roles.funder, w, f);
        set(&mut roles.sweep, w, s);
        if roles.degree.len() <= w as usize {
            roles.degree.resize(w as usize + 1, 0);
        }
        roles.degree[w as usize] = d;
    }
    input.roles = Some(roles);

    // sybil-activity: a candidate's shingles, each repeated up to the lockstep signal's
    // minimum (only whether a wallet has that many rows matters: repeats change no set and
    // no least row).
    let min_events = Config::for_events(c.sybil.min_cluster_size)
        .behaviour
        .lockstep_min_events
        .max(1) as u64;
    let w = p.lockstep_window.max(1);
    let mut seen: FxMap<(i64, i64, u32, u32, u32), ()> = FxMap::default();
    // The current wallet: its address, and its id if it is a candidate.
    let mut at = String::new();
    let mut id: Option<u32> = None;
    let mut r = Rows::open(&paths[1], &ACTIVITY_HEADER, false)?;
    while r.next()? {
        if r.field(0) != at {
            seen.clear();
            at = r.field(0).to_string();
            let w = resolve(&mut input, &mut ids, &r, 0, "address")?;
            id = is_candidate(&at).then_some(w);
        }
        let ts: i64 = r.int(1, "timestamp", "Unix seconds")?;
        if ts < p.window_start || ts > p.snapshot {
            return Err(r.bad(
                "timestamp",
                format!(
                    "{ts} is outside the campaign's window [{}, {}]",
                    p.window_start, p.snapshot
                ),
            ));
        }
        let action = r.text(2, "action")?;
        let program = Some(r.field(3)).filter(|s| !s.is_empty());
        let bucket: u32 = r.int(4, "amount_bucket", "an amount bucket (0 to 2^32 - 1)")?;
        let n: u64 = r.int(5, "row_count", "a row count (1 or more)")?;
        if n == 0 {
            return Err(r.bad("row_count", "0 is not a row count (1 or more)"));
        }
        let Some(id) = id else {
            continue;
        };
        let act = input.symbol(action);
        let prog = program.map(|s| input.symbol(s));
        let key = (
            ts.div_euclid(w),
            (ts + w / 2).div_euclid(w),
            act,
            prog.unwrap_or(u32::MAX),
            bucket,
        );
        if seen.insert(key, ()).is_some() {
            return Err(r.bad(
                "timestamp",
                "a second row for the same shingle (time buckets, action, program, amount bucket): the query groups them",
            ));
        }
        for _ in 0..n.min(min_events) {
            input.compact.push(fairdrop_sybil::behaviour::Row {
                wallet: id,
                timestamp: ts,
                action: act,
                program: prog.unwrap_or(u32::MAX),
                amount: bucket,
            });
        }
    }

    // sybil-bridges: exact rows.
    let mut r = Rows::open(&paths[2], &BRIDGES_HEADER, false)?;
    while r.next()? {
        let a = r.field(0).to_string();
        let ts: i64 = r.int(1, "timestamp", "Unix seconds")?;
        let action = r.text(2, "action")?.to_string();
        if !p.bridge_actions.contains(&action) {
            return Err(r.bad(
                "action",
                format!(
                    "{action:?} is not a bridge action ({})",
                    p.bridge_actions.join(", ")
                ),
            ));
        }
        let program = Some(r.field(3))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let amount = fairdrop_core::event::parse_amount(r.field(4))
            .map_err(|e| r.bad("amount", format!("{:?}: {e}", r.field(4))))?;
        let id = resolve(&mut input, &mut ids, &r, 0, "address")?;
        if !is_candidate(&a) {
            continue;
        }
        let act = input.symbol(&action);
        let prog = program.as_deref().map(|s| input.symbol(s));
        input.add_activity(Activity::new(id, ts, act, prog, Some(amount)));
    }
    Ok(input)
}
