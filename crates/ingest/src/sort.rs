//! External sort of accepted rows by (address, timestamp, then every other column), with
//! dedup on (chain, tx_id, action, address) while streaming the sorted rows out.
//!
//! Rows hold interned ids, not strings. Up to `batch_rows` rows sit in memory; beyond that a
//! sorted run is spilled to a temp folder and the runs are k-way merged at the end. Ranks
//! computed from the interned strings at spill time order a run correctly because interning
//! never reorders strings already seen.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::source::Position;

/// "No value" for optional interned columns.
pub const NONE: u32 = u32::MAX;

/// Interned strings with ids in order of first appearance.
#[derive(Default)]
pub struct Interner {
    map: HashMap<Rc<str>, u32>,
    list: Vec<Rc<str>>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        self.intern_owned(s.to_string())
    }
    pub fn intern_owned(&mut self, s: String) -> u32 {
        if let Some(&i) = self.map.get(s.as_str()) {
            return i;
        }
        let rc: Rc<str> = s.into();
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
#[derive(Default)]
pub struct Tables {
    pub names: Interner,
    pub chains: Interner,
    pub actions: Interner,
    pub assets: Interner,
    pub programs: Interner,
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
    fn cmp(&self, a: &Row, b: &Row) -> Ordering {
        (self.names[a.addr as usize], a.ts)
            .cmp(&(self.names[b.addr as usize], b.ts))
            .then_with(|| self.chains[a.chain as usize].cmp(&self.chains[b.chain as usize]))
            .then_with(|| a.tx.cmp(&b.tx))
            .then_with(|| self.actions[a.action as usize].cmp(&self.actions[b.action as usize]))
            .then_with(|| Self::opt(&self.names, a.cp).cmp(&Self::opt(&self.names, b.cp)))
            .then_with(|| a.amount.cmp(&b.amount))
            .then_with(|| Self::opt(&self.assets, a.asset).cmp(&Self::opt(&self.assets, b.asset)))
            .then_with(|| {
                Self::opt(&self.programs, a.program).cmp(&Self::opt(&self.programs, b.program))
            })
            .then_with(|| (a.src, a.pos).cmp(&(b.src, b.pos)))
    }
}

/// One accepted row.
#[derive(Clone, Debug)]
pub struct Row {
    pub addr: u32,
    pub ts: i64,
    pub chain: u32,
    pub action: u32,
    pub cp: u32,
    pub asset: u32,
    pub program: u32,
    pub amount: Option<u128>,
    pub tx: Option<Box<str>>,
    pub src: u32,
    pub pos: Position,
}

pub struct Sorter {
    pub tables: Tables,
    rows: Vec<Row>,
    batch_rows: usize,
    out_dir: PathBuf,
    tmp: Option<PathBuf>,
    runs: Vec<PathBuf>,
}

impl Sorter {
    pub fn new(batch_rows: usize, out_dir: &Path) -> io::Result<Self> {
        Ok(Self {
            tables: Tables::default(),
            rows: Vec::new(),
            batch_rows: batch_rows.max(1),
            out_dir: out_dir.to_path_buf(),
            tmp: None,
            runs: Vec::new(),
        })
    }

    pub fn push(&mut self, r: Row) {
        self.rows.push(r);
    }

    pub fn maybe_spill(&mut self) -> io::Result<()> {
        if self.rows.len() >= self.batch_rows {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        let ranks = Ranks::of(&self.tables);
        self.rows.sort_unstable_by(|a, b| ranks.cmp(a, b));
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
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        for r in self.rows.drain(..) {
            encode(&mut w, &r)?;
        }
        w.flush()?;
        self.runs.push(path);
        Ok(())
    }

    /// Emit every row in order; `emit(row, is_duplicate, tables)`.
    pub fn finish(mut self, emit: &mut dyn FnMut(&Row, bool, &Tables)) -> io::Result<()> {
        let mut dedup = Dedup::default();
        if self.runs.is_empty() {
            let ranks = Ranks::of(&self.tables);
            let mut rows = std::mem::take(&mut self.rows);
            rows.sort_unstable_by(|a, b| ranks.cmp(a, b));
            for r in &rows {
                let dup = dedup.is_dup(r);
                emit(r, dup, &self.tables);
            }
            return Ok(());
        }
        if !self.rows.is_empty() {
            self.spill()?;
        }
        let ranks = Ranks::of(&self.tables);
        let mut readers: Vec<BufReader<File>> = Vec::new();
        for p in &self.runs {
            readers.push(BufReader::with_capacity(1 << 18, File::open(p)?));
        }
        struct Item<'a> {
            row: Row,
            run: usize,
            ranks: &'a Ranks,
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
                self.ranks.cmp(&o.row, &self.row)
            }
        }
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(row) = decode(r)? {
                heap.push(Item {
                    row,
                    run: i,
                    ranks: &ranks,
                });
            }
        }
        while let Some(Item { row, run, .. }) = heap.pop() {
            let dup = dedup.is_dup(&row);
            emit(&row, dup, &self.tables);
            if let Some(next) = decode(&mut readers[run])? {
                heap.push(Item {
                    row: next,
                    run,
                    ranks: &ranks,
                });
            }
        }
        Ok(())
    }
}

impl Drop for Sorter {
    fn drop(&mut self) {
        if let Some(d) = &self.tmp {
            let _ = fs::remove_dir_all(d);
        }
    }
}

/// Remembers (chain, action, tx_id) of the current address only: rows of one address arrive
/// together, so memory is bounded by the largest wallet.
#[derive(Default)]
struct Dedup {
    addr: Option<u32>,
    seen: HashSet<(u32, u32, Box<str>)>,
}

impl Dedup {
    fn is_dup(&mut self, r: &Row) -> bool {
        if self.addr != Some(r.addr) {
            self.addr = Some(r.addr);
            self.seen.clear();
        }
        match &r.tx {
            None => false,
            Some(tx) => !self.seen.insert((r.chain, r.action, tx.clone())),
        }
    }
}

fn encode(w: &mut impl Write, r: &Row) -> io::Result<()> {
    let mut b = [0u8; 64];
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
    let tx = r.tx.as_deref().map(str::as_bytes);
    b[52..54].copy_from_slice(&tx.map_or(u16::MAX, |t| t.len() as u16).to_le_bytes());
    w.write_all(&b)?;
    if let Some(a) = r.amount {
        w.write_all(&a.to_le_bytes())?;
    }
    if let Some(t) = tx {
        w.write_all(t)?;
    }
    Ok(())
}

fn decode(r: &mut impl Read) -> io::Result<Option<Row>> {
    let mut b = [0u8; 64];
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
    let txlen = u16::from_le_bytes([b[52], b[53]]);
    let tx = if txlen == u16::MAX {
        None
    } else {
        let mut t = vec![0u8; txlen as usize];
        r.read_exact(&mut t)?;
        Some(
            String::from_utf8(t)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
                .into_boxed_str(),
        )
    };
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
        tx,
        src: u32_at(32),
        pos,
    }))
}
