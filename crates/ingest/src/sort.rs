//! External sort of accepted rows by (address, timestamp, then every other column), with
//! dedup on (chain, tx_id, action, address) while streaming the sorted rows out.
//!
//! Rows hold interned ids and an offset into a byte arena for `tx_id`, not strings, so a row
//! is a small fixed-size record and pushing one allocates nothing. Up to `batch_rows` rows sit
//! in memory; beyond that a sorted run is spilled to a temp folder and the runs are k-way
//! merged at the end. Ranks computed from the interned strings at spill time order a run
//! correctly because interning never reorders strings already seen.
//!
//! Sorting moves 16-byte keys (address rank, timestamp, row index), not rows; the full row is
//! compared only when address and timestamp tie. Dedup works per address group (rows of one
//! address arrive together): the group's rows with a tx_id are sorted by (chain, action,
//! tx_id) and all but the first in output order are duplicates. Memory for dedup is bounded by
//! the largest wallet.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::{self, File};
use std::hash::Hasher;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::source::Position;

/// "No value" for optional interned columns.
pub const NONE: u32 = u32::MAX;
const NO_TX: u16 = u16::MAX;

pub use fairdrop_core::hash::{FxHasher, FxMap};

/// Interned strings with ids in order of first appearance.
#[derive(Default, Clone)]
pub struct Interner {
    map: FxMap<Arc<str>, u32>,
    list: Vec<Arc<str>>,
    /// (length, id) of the string interned last.
    last: Option<(usize, u32)>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        // Consecutive rows often repeat a value (one wallet's chain, asset, program).
        if let Some(&(last, id)) = self.last.as_ref() {
            if last == s.len() && self.list[id as usize].as_ref() == s {
                return id;
            }
        }
        let id = match self.map.get(s) {
            Some(&i) => i,
            None => self.intern_owned(s.to_string()),
        };
        self.last = Some((s.len(), id));
        id
    }
    pub fn intern_owned(&mut self, s: String) -> u32 {
        if let Some(&i) = self.map.get(s.as_str()) {
            return i;
        }
        let rc: Arc<str> = s.into();
        let id = self.list.len() as u32;
        self.list.push(rc.clone());
        self.map.insert(rc, id);
        id
    }
    pub fn get(&self, id: u32) -> &str {
        &self.list[id as usize]
    }
    pub fn opt(&self, id: u32) -> Option<&str> {
        (id != NONE).then(|| self.get(id))
    }
    /// rank[id] = position of the string in sorted order.
    fn ranks(&self) -> Vec<u32> {
        let mut idx: Vec<u32> = (0..self.list.len() as u32).collect();
        idx.sort_unstable_by(|a, b| self.list[*a as usize].cmp(&self.list[*b as usize]));
        let mut r = vec![0u32; idx.len()];
        for (rank, id) in idx.into_iter().enumerate() {
            r[id as usize] = rank as u32;
        }
        r
    }
}

/// All interned columns.
#[derive(Default, Clone)]
pub struct Tables {
    pub names: Interner,
    pub chains: Interner,
    pub actions: Interner,
    pub assets: Interner,
    pub programs: Interner,
}

/// One accepted row; `tx_id` lives in an arena at `tx_off .. tx_off + tx_len`.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub addr: u32,
    pub ts: i64,
    pub chain: u32,
    pub action: u32,
    pub cp: u32,
    pub asset: u32,
    pub program: u32,
    pub amount: Option<u128>,
    pub tx_off: u32,
    pub tx_len: u16,
    pub src: u32,
    pub pos: Position,
}

impl Row {
    /// The tx_id, from the arena it was pushed to (tx_ids are printable ASCII, so any byte
    /// offset is a char boundary).
    pub fn tx<'a>(&self, arena: &'a str) -> Option<&'a str> {
        if self.tx_len == NO_TX {
            return None;
        }
        Some(&arena[self.tx_off as usize..self.tx_off as usize + self.tx_len as usize])
    }
}

struct Ranks {
    names: Vec<u32>,
    chains: Vec<u32>,
    actions: Vec<u32>,
    assets: Vec<u32>,
    programs: Vec<u32>,
}

impl Ranks {
    fn of(t: &Tables) -> Self {
        Ranks {
            names: t.names.ranks(),
            chains: t.chains.ranks(),
            actions: t.actions.ranks(),
            assets: t.assets.ranks(),
            programs: t.programs.ranks(),
        }
    }
    fn opt(v: &[u32], id: u32) -> u64 {
        if id == NONE {
            0
        } else {
            v[id as usize] as u64 + 1
        }
    }
    /// Everything after (address, timestamp).
    fn cmp_rest(&self, a: &Row, ta: Option<&str>, b: &Row, tb: Option<&str>) -> Ordering {
        self.chains[a.chain as usize]
            .cmp(&self.chains[b.chain as usize])
            .then_with(|| ta.cmp(&tb))
            .then_with(|| self.actions[a.action as usize].cmp(&self.actions[b.action as usize]))
            .then_with(|| Self::opt(&self.names, a.cp).cmp(&Self::opt(&self.names, b.cp)))
            .then_with(|| a.amount.cmp(&b.amount))
            .then_with(|| Self::opt(&self.assets, a.asset).cmp(&Self::opt(&self.assets, b.asset)))
            .then_with(|| {
                Self::opt(&self.programs, a.program).cmp(&Self::opt(&self.programs, b.program))
            })
            .then_with(|| (a.src, a.pos).cmp(&(b.src, b.pos)))
    }
    fn cmp(&self, a: &Row, ta: Option<&str>, b: &Row, tb: Option<&str>) -> Ordering {
        (self.names[a.addr as usize], a.ts)
            .cmp(&(self.names[b.addr as usize], b.ts))
            .then_with(|| self.cmp_rest(a, ta, b, tb))
    }
}

/// Emitted rows: (row, is_duplicate, tables, tx_id).
pub type Emit<'e> = dyn FnMut(&Row, bool, &Tables, Option<&str>) + 'e;

pub struct Sorter {
    /// Shared (read-only) with the thread that builds the output columns once rows are
    /// emitted; only this sorter writes to it, before then.
    pub tables: Arc<Tables>,
    rows: Vec<Row>,
    arena: String,
    batch_rows: usize,
    out_dir: PathBuf,
    tmp: Option<PathBuf>,
    runs: Vec<PathBuf>,
    /// The run being sorted and written on a background thread.
    pending: Option<std::thread::JoinHandle<io::Result<Buffers>>>,
    /// Buffers of the last run written, reused for the next batch.
    spare: Option<Buffers>,
}

/// A batch's rows and tx arena.
type Buffers = (Vec<Row>, String);

impl Sorter {
    pub fn new(batch_rows: usize, out_dir: &Path) -> io::Result<Self> {
        Ok(Self {
            tables: Arc::default(),
            rows: Vec::new(),
            arena: String::new(),
            batch_rows: batch_rows.max(1),
            out_dir: out_dir.to_path_buf(),
            tmp: None,
            runs: Vec::new(),
            pending: None,
            spare: None,
        })
    }

    /// Add a row; `tx` is copied into the arena.
    pub fn push(&mut self, mut r: Row, tx: Option<&str>) {
        match tx {
            Some(t) => {
                r.tx_off = self.arena.len() as u32;
                r.tx_len = t.len() as u16;
                self.arena.push_str(t);
            }
            None => {
                r.tx_off = 0;
                r.tx_len = NO_TX;
            }
        }
        self.rows.push(r);
    }

    pub fn maybe_spill(&mut self) -> io::Result<()> {
        // The arena's offsets are u32: spill before it could overflow.
        if self.rows.len() >= self.batch_rows || self.arena.len() > (u32::MAX as usize) - (1 << 16)
        {
            self.spill()?;
        }
        Ok(())
    }

    /// Row indices in output order.
    ///
    /// (address rank, timestamp) is packed into one u64 when both fit (always, for real
    /// timestamps), so the sort compares integers; rows that tie on it are then ordered by
    /// the rest of the row. Falls back to tuple comparison for extreme timestamp spans.
    fn sorted_order(&self, ranks: &Ranks) -> Vec<u32> {
        sorted_order(&self.rows, &self.arena, ranks)
    }

    /// Sort the rows in memory and write them as a run, on a background thread: reading
    /// goes on into a second buffer meanwhile (so up to two batches are in memory).
    fn spill(&mut self) -> io::Result<()> {
        self.wait_spill()?;
        // Ranks of the strings seen so far order this batch; later strings never reorder them.
        let ranks = Ranks::of(&self.tables);
        let dir = match &self.tmp {
            Some(d) => d.clone(),
            None => {
                let d = self
                    .out_dir
                    .join(format!(".ingest-tmp-{}", std::process::id()));
                fs::create_dir_all(&d)?;
                self.tmp = Some(d.clone());
                d
            }
        };
        let path = dir.join(format!("run-{:05}.bin", self.runs.len()));
        let (spare_rows, spare_arena) = self.spare.take().unwrap_or_default();
        let rows = std::mem::replace(&mut self.rows, spare_rows);
        let arena = std::mem::replace(&mut self.arena, spare_arena);
        self.runs.push(path.clone());
        let h = std::thread::Builder::new()
            .name("ingest-spill".into())
            .spawn(move || -> io::Result<(Vec<Row>, String)> {
                let order = sorted_order(&rows, &arena, &ranks);
                let mut w = BufWriter::with_capacity(1 << 20, File::create(&path)?);
                for i in order {
                    let r = &rows[i as usize];
                    encode(&mut w, r, r.tx(&arena))?;
                }
                w.flush()?;
                Ok((rows, arena))
            })?;
        self.pending = Some(h);
        Ok(())
    }

    /// Wait for the run being written, if any; its buffers become the spare ones.
    fn wait_spill(&mut self) -> io::Result<()> {
        if let Some(h) = self.pending.take() {
            let (mut rows, mut arena) = h
                .join()
                .map_err(|_| io::Error::other("the spill thread panicked"))??;
            rows.clear();
            arena.clear();
            self.spare = Some((rows, arena));
        }
        Ok(())
    }

    /// Emit every row in order.
    pub fn finish(mut self, emit: &mut Emit<'_>) -> io::Result<()> {
        self.wait_spill()?;
        let mut group = Group::default();
        if self.runs.is_empty() {
            let ranks = Ranks::of(&self.tables);
            let order = self.sorted_order(&ranks);
            for i in order {
                let r = self.rows[i as usize];
                group.add(r, r.tx(&self.arena), &ranks, &self.tables, emit);
            }
            group.flush(&ranks, &self.tables, emit);
            return Ok(());
        }
        if !self.rows.is_empty() {
            self.spill()?;
        }
        self.wait_spill()?;
        self.spare = None;
        let ranks = Ranks::of(&self.tables);
        let mut readers: Vec<BufReader<File>> = Vec::new();
        for p in &self.runs {
            readers.push(BufReader::with_capacity(1 << 18, File::open(p)?));
        }
        struct Item<'a> {
            row: Row,
            tx: Vec<u8>,
            run: usize,
            ranks: &'a Ranks,
        }
        impl Item<'_> {
            fn tx(&self) -> Option<&str> {
                (self.row.tx_len != NO_TX).then(|| std::str::from_utf8(&self.tx).expect("ASCII"))
            }
        }
        impl PartialEq for Item<'_> {
            fn eq(&self, o: &Self) -> bool {
                self.cmp(o) == Ordering::Equal
            }
        }
        impl Eq for Item<'_> {}
        impl PartialOrd for Item<'_> {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Item<'_> {
            fn cmp(&self, o: &Self) -> Ordering {
                // BinaryHeap is a max-heap: reverse.
                self.ranks.cmp(&o.row, o.tx(), &self.row, self.tx())
            }
        }
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            let mut tx = Vec::new();
            if let Some(row) = decode(r, &mut tx)? {
                heap.push(Item {
                    row,
                    tx,
                    run: i,
                    ranks: &ranks,
                });
            }
        }
        while let Some(mut it) = heap.pop() {
            group.add(it.row, it.tx(), &ranks, &self.tables, emit);
            if let Some(next) = decode(&mut readers[it.run], &mut it.tx)? {
                it.row = next;
                heap.push(it);
            }
        }
        group.flush(&ranks, &self.tables, emit);
        Ok(())
    }
}

/// Row indices in output order: see [`Sorter::sorted_order`].
fn sorted_order(rows: &[Row], arena: &str, ranks: &Ranks) -> Vec<u32> {
    let rest = |a: u32, b: u32| {
        let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
        ranks.cmp_rest(ra, ra.tx(arena), rb, rb.tx(arena))
    };
    let (tmin, tmax) = rows.iter().fold((i64::MAX, i64::MIN), |(lo, hi), r| {
        (lo.min(r.ts), hi.max(r.ts))
    });
    let span = (tmax as i128 - tmin as i128).max(0) as u128;
    let t_bits = 128 - span.leading_zeros();
    let r_bits = 32 - (ranks.names.len() as u32).leading_zeros();
    if rows.is_empty() || t_bits + r_bits > 64 {
        let mut keys: Vec<(u32, i64, u32)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (ranks.names[r.addr as usize], r.ts, i as u32))
            .collect();
        keys.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| rest(a.2, b.2)));
        return keys.into_iter().map(|k| k.2).collect();
    }
    let mut keys: Vec<(u64, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = (r.ts as i128 - tmin as i128) as u64;
            (
                ((ranks.names[r.addr as usize] as u64) << t_bits) | t,
                i as u32,
            )
        })
        .collect();
    radix_sort(&mut keys);
    // Ties on (address, timestamp): order by the rest of the row.
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() && keys[j].0 == keys[i].0 {
            j += 1;
        }
        if j - i > 1 {
            keys[i..j].sort_unstable_by(|a, b| rest(a.1, b.1));
        }
        i = j;
    }
    keys.into_iter().map(|k| k.1).collect()
}

/// LSD radix sort of (key, index) pairs by key, 8 bits a pass; passes whose byte is the same
/// in every key are skipped (the high bytes, usually). Stable, so equal keys keep index order.
fn radix_sort(v: &mut Vec<(u64, u32)>) {
    if v.len() < 256 {
        v.sort_unstable();
        return;
    }
    let (or, and) = v
        .iter()
        .fold((0u64, u64::MAX), |(o, a), k| (o | k.0, a & k.0));
    let varying = or ^ and;
    let mut tmp: Vec<(u64, u32)> = Vec::with_capacity(v.len());
    for pass in 0..8 {
        let shift = pass * 8;
        if (varying >> shift) & 0xff == 0 {
            continue;
        }
        let mut count = [0usize; 256];
        for k in v.iter() {
            count[((k.0 >> shift) & 0xff) as usize] += 1;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        // SAFETY-free version: fill `tmp` through indices.
        tmp.clear();
        tmp.resize(v.len(), (0, 0));
        for k in v.iter() {
            let b = ((k.0 >> shift) & 0xff) as usize;
            tmp[count[b]] = *k;
            count[b] += 1;
        }
        std::mem::swap(v, &mut tmp);
    }
}

impl Drop for Sorter {
    fn drop(&mut self) {
        let _ = self.wait_spill();
        if let Some(d) = &self.tmp {
            let _ = fs::remove_dir_all(d);
        }
    }
}

/// The rows of one address, in output order, with their own tx arena.
#[derive(Default)]
struct Group {
    rows: Vec<Row>,
    arena: String,
    dup: Vec<bool>,
    idx: Vec<u32>,
    hashes: Vec<u64>,
}

impl Group {
    fn add(
        &mut self,
        mut r: Row,
        tx: Option<&str>,
        ranks: &Ranks,
        t: &Tables,
        emit: &mut Emit<'_>,
    ) {
        if self.rows.last().is_some_and(|l| l.addr != r.addr) {
            self.flush(ranks, t, emit);
        }
        if let Some(tx) = tx {
            r.tx_off = self.arena.len() as u32;
            r.tx_len = tx.len() as u16;
            self.arena.push_str(tx);
        }
        self.rows.push(r);
    }

    fn flush(&mut self, ranks: &Ranks, t: &Tables, emit: &mut Emit<'_>) {
        let n = self.rows.len();
        self.dup.clear();
        self.dup.resize(n, false);
        self.idx.clear();
        self.idx
            .extend((0..n as u32).filter(|&i| self.rows[i as usize].tx_len != NO_TX));
        let maybe_dup = self.idx.len() > 1 && {
            // Fast path: hash (chain, action, tx_id) of each row; distinct hashes mean no
            // duplicates and no sort by strings. Equal hashes take the exact path below.
            let (rows, arena) = (&self.rows, &self.arena);
            self.hashes.clear();
            self.hashes.extend(self.idx.iter().map(|&i| {
                let r = &rows[i as usize];
                let mut h = FxHasher::default();
                h.write_u32(r.chain);
                h.write_u32(r.action);
                h.write(r.tx(arena).unwrap_or("").as_bytes());
                h.finish()
            }));
            self.hashes.sort_unstable();
            self.hashes.windows(2).any(|w| w[0] == w[1])
        };
        if maybe_dup {
            let (rows, arena) = (&self.rows, &self.arena);
            // Sort by (chain, action, tx_id), then output position: the first of each key is kept.
            self.idx.sort_unstable_by(|&a, &b| {
                let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
                (
                    ranks.chains[ra.chain as usize],
                    ranks.actions[ra.action as usize],
                    ra.tx(arena),
                    a,
                )
                    .cmp(&(
                        ranks.chains[rb.chain as usize],
                        ranks.actions[rb.action as usize],
                        rb.tx(arena),
                        b,
                    ))
            });
            for w in self.idx.windows(2) {
                let (ra, rb) = (&rows[w[0] as usize], &rows[w[1] as usize]);
                if ra.chain == rb.chain && ra.action == rb.action && ra.tx(arena) == rb.tx(arena) {
                    self.dup[w[1] as usize] = true;
                }
            }
        }
        for (i, r) in self.rows.iter().enumerate() {
            emit(r, self.dup[i], t, r.tx(&self.arena));
        }
        self.rows.clear();
        self.arena.clear();
    }
}

fn encode(w: &mut impl Write, r: &Row, tx: Option<&str>) -> io::Result<()> {
    let mut b = [0u8; 56];
    b[0..4].copy_from_slice(&r.addr.to_le_bytes());
    b[4..12].copy_from_slice(&r.ts.to_le_bytes());
    b[12..16].copy_from_slice(&r.chain.to_le_bytes());
    b[16..20].copy_from_slice(&r.action.to_le_bytes());
    b[20..24].copy_from_slice(&r.cp.to_le_bytes());
    b[24..28].copy_from_slice(&r.asset.to_le_bytes());
    b[28..32].copy_from_slice(&r.program.to_le_bytes());
    b[32..36].copy_from_slice(&r.src.to_le_bytes());
    match r.pos {
        Position::Line(l) => {
            b[36] = 0;
            b[40..48].copy_from_slice(&l.to_le_bytes());
        }
        Position::Parquet { group, row } => {
            b[36] = 1;
            b[48..52].copy_from_slice(&group.to_le_bytes());
            b[40..48].copy_from_slice(&row.to_le_bytes());
        }
    }
    b[37] = r.amount.is_some() as u8;
    b[52..54].copy_from_slice(&tx.map_or(NO_TX, |t| t.len() as u16).to_le_bytes());
    w.write_all(&b)?;
    if let Some(a) = r.amount {
        w.write_all(&a.to_le_bytes())?;
    }
    if let Some(t) = tx {
        w.write_all(t.as_bytes())?;
    }
    Ok(())
}

/// Read one row; its tx_id bytes go to `tx` (reused).
fn decode(r: &mut impl Read, tx: &mut Vec<u8>) -> io::Result<Option<Row>> {
    let mut b = [0u8; 56];
    match r.read_exact(&mut b) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4"));
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8"));
    let amount = if b[37] == 1 {
        let mut a = [0u8; 16];
        r.read_exact(&mut a)?;
        Some(u128::from_le_bytes(a))
    } else {
        None
    };
    let tx_len = u16::from_le_bytes([b[52], b[53]]);
    tx.clear();
    if tx_len != NO_TX {
        tx.resize(tx_len as usize, 0);
        r.read_exact(tx)?;
        if !tx.is_ascii() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "spill run corrupt",
            ));
        }
    }
    let pos = if b[36] == 0 {
        Position::Line(u64_at(40))
    } else {
        Position::Parquet {
            group: u32_at(48),
            row: u64_at(40),
        }
    };
    Ok(Some(Row {
        addr: u32_at(0),
        ts: u64_at(4) as i64,
        chain: u32_at(12),
        action: u32_at(16),
        cp: u32_at(20),
        asset: u32_at(24),
        program: u32_at(28),
        amount,
        tx_off: 0,
        tx_len,
        src: u32_at(32),
        pos,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference: every row compared with `Ranks::cmp`, duplicates found by exact keys.
    fn reference(sorter: &Sorter) -> Vec<(u32, i64, u64, bool)> {
        let ranks = Ranks::of(&sorter.tables);
        let (rows, arena) = (&sorter.rows, &sorter.arena);
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        idx.sort_by(|&a, &b| {
            let (ra, rb) = (&rows[a], &rows[b]);
            ranks.cmp(ra, ra.tx(arena), rb, rb.tx(arena))
        });
        let mut seen = std::collections::HashSet::new();
        idx.iter()
            .map(|&i| {
                let r = &rows[i];
                let dup = match r.tx(arena) {
                    Some(t) => !seen.insert((r.addr, r.chain, r.action, t.to_string())),
                    None => false,
                };
                let Position::Line(l) = r.pos else {
                    unreachable!()
                };
                (r.addr, r.ts, l, dup)
            })
            .collect()
    }

    fn run(
        rows: &[(u8, i64, u8, Option<u8>)],
        batch: usize,
    ) -> (Vec<(u32, i64, u64, bool)>, Vec<(u32, i64, u64, bool)>) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Sorter::new(batch, dir.path()).unwrap();
        let mut reference_sorter = Sorter::new(usize::MAX, dir.path()).unwrap();
        for (n, &(addr, ts, action, tx)) in rows.iter().enumerate() {
            for t in [&mut s, &mut reference_sorter] {
                // Names interned out of order so ranks differ from ids.
                let tables = Arc::make_mut(&mut t.tables);
                let a = tables.names.intern(&format!("addr{}", 255 - addr));
                let row = Row {
                    addr: a,
                    ts,
                    chain: tables.chains.intern("aleo"),
                    action: tables.actions.intern(&format!("act{action}")),
                    cp: NONE,
                    asset: NONE,
                    program: NONE,
                    amount: None,
                    tx_off: 0,
                    tx_len: 0,
                    src: 0,
                    pos: Position::Line(n as u64 + 2),
                };
                t.push(row, tx.map(|x| format!("tx{x}")).as_deref());
            }
            s.maybe_spill().unwrap();
        }
        let want = reference(&reference_sorter);
        let mut got = Vec::new();
        s.finish(&mut |r: &Row, dup: bool, _t: &Tables, _tx: Option<&str>| {
            let Position::Line(l) = r.pos else {
                unreachable!()
            };
            got.push((r.addr, r.ts, l, dup));
        })
        .unwrap();
        (got, want)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The packed-key radix sort and the hashed dedup agree with a plain comparison sort
        /// and exact dedup, in memory and across spilled runs, for near and extreme timestamps.
        #[test]
        fn order_and_dups_match_reference(
            rows in proptest::collection::vec(
                (0u8..6, prop_oneof![0i64..4, Just(i64::MIN), Just(i64::MAX), any::<i64>()], 0u8..3, proptest::option::of(0u8..4)),
                0..400),
            batch in prop_oneof![Just(usize::MAX), 1usize..100],
        ) {
            let (got, want) = run(&rows, batch);
            prop_assert_eq!(got, want);
        }

        #[test]
        fn order_matches_reference_many_rows(
            rows in proptest::collection::vec((any::<u8>(), 1_600_000_000i64..1_600_000_100, 0u8..3, proptest::option::of(0u8..50)), 300..2000),
        ) {
            let (got, want) = run(&rows, usize::MAX);
            prop_assert_eq!(got, want);
        }
    }
}
