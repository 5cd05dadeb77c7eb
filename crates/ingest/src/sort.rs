//! External sort of accepted rows by (address, timestamp, then every other column), and
//! [`Dedup`], which finds duplicates on (chain, tx_id, action, address) in the sorted stream.
//! The two are separate so that dedup can run on the thread that consumes the sorted rows:
//! the merge is the critical path of ingest's second phase, and dedup was a fifth of it.
//!
//! Rows hold interned ids and an offset into a byte arena for `tx_id`, not strings, so a row
//! is a small fixed-size record and pushing one allocates nothing. Up to `batch_rows` rows sit
//! in memory; beyond that a sorted run is spilled to a temp folder and the runs are k-way
//! merged at the end. Ranks computed from the interned strings at spill time order a run
//! correctly because interning never reorders strings already seen.
//!
//! Sorting moves 16-byte keys (address rank, timestamp, row index), not rows; the full row is
//! compared only when address and timestamp tie. Dedup streams: rows of one address arrive
//! together, and a row with a tx_id is a duplicate when an earlier row of its address had the
//! same (chain, action, tx_id), kept in an exact hash table cleared at each new address.
//! Memory for dedup is bounded by the tx_ids of the largest wallet.

use std::cmp::Ordering;
use std::fs::{self, File};
use std::hash::Hasher;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// "No value" for optional interned columns.
pub const NONE: u32 = fairdrop_table::NO_ID;
const NO_TX: u16 = u16::MAX;

use fairdrop_core::hash::InlineMap;
pub use fairdrop_core::hash::{FxHasher, FxMap};

/// Interned strings with ids in order of first appearance.
#[derive(Default, Clone)]
pub struct Interner {
    /// Strings under 64 bytes, inline in the table: a lookup compares in place instead of
    /// following a pointer and calling `memcmp` (the four small columns are interned on
    /// every row, which made this map the validating thread's second cost).
    small: InlineMap,
    /// The rest.
    long: FxMap<Arc<str>, u32>,
    list: Vec<Arc<str>>,
    /// The id of the string interned last.
    last: Option<u32>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        // Consecutive rows often repeat a value (one wallet's chain, asset, program): compare
        // with the last one, held inline.
        // (Compared in place: copying each string into an inline buffer for this was a
        // variable-length `memcpy` call per row and column, read back at once.)
        let b = s.as_bytes();
        if let Some(id) = self.last {
            let held = self.list[id as usize].as_bytes();
            if held.len() == b.len() && fairdrop_core::hash::eq_prefix(held, b) {
                return id;
            }
        }
        let h = InlineMap::hash(s);
        let id = match self.get(s, h) {
            Some(i) => i,
            None => self.insert(s.into(), h),
        };
        self.last = Some(id);
        id
    }

    /// Add a string the caller knows is new (the validator's canonical addresses, already
    /// deduplicated by value): no lookup, and no table entry, since it is never looked up.
    pub fn push_new(&mut self, s: String) -> u32 {
        let id = self.list.len() as u32;
        self.list.push(s.into());
        id
    }

    fn get(&self, s: &str, h: u64) -> Option<u32> {
        match s.len() < 64 {
            true => self.small.get(s, h),
            false => self.long.get(s).copied(),
        }
    }

    fn insert(&mut self, rc: Arc<str>, h: u64) -> u32 {
        let id = self.list.len() as u32;
        if !self.small.insert(&rc, h, id) {
            self.long.insert(rc.clone(), id);
        }
        self.list.push(rc);
        id
    }

    /// Every string, by id.
    pub fn list(&self) -> &[Arc<str>] {
        &self.list
    }
    /// rank[id] = position of the string in sorted order.
    fn ranks(&self) -> Vec<u32> {
        let idx = sort_by_text(self.list.iter().enumerate().map(|(i, s)| (i as u32, &**s)));
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
    /// The amount as two words, low first, when `has_amount` (see [`Row::amount`]):
    /// `Option<u128>` is 32 bytes aligned to 16, which made a row 80 bytes instead of 64.
    /// Batches are a million rows, and fresh pages cost here.
    pub amount_words: [u64; 2],
    pub has_amount: bool,
    pub tx_off: u32,
    pub tx_len: u16,
    /// The input file, by index. Rows of one batch are in input order, and so are the runs;
    /// rows are told apart by that order (batch index, then run), not by a stored line:
    /// rows equal in every field but their line are equal in every output too.
    pub src: u32,
}

impl Row {
    pub fn amount(&self) -> Option<u128> {
        self.has_amount
            .then(|| self.amount_words[0] as u128 | (self.amount_words[1] as u128) << 64)
    }

    /// The two amount fields of a row holding `a`.
    pub fn amount_fields(a: Option<u128>) -> ([u64; 2], bool) {
        let v = a.unwrap_or(0);
        ([v as u64, (v >> 64) as u64], a.is_some())
    }

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
    /// Ranks of every table but the addresses (left empty).
    fn of_small(t: &Tables) -> Self {
        Ranks {
            names: Vec::new(),
            chains: t.chains.ranks(),
            actions: t.actions.ranks(),
            assets: t.assets.ranks(),
            programs: t.programs.ranks(),
        }
    }

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
            .then_with(|| a.amount().cmp(&b.amount()))
            .then_with(|| Self::opt(&self.assets, a.asset).cmp(&Self::opt(&self.assets, b.asset)))
            .then_with(|| {
                Self::opt(&self.programs, a.program).cmp(&Self::opt(&self.programs, b.program))
            })
            .then_with(|| a.src.cmp(&b.src))
    }
    /// The whole-row order (the merge and the sort compare packed keys, then `cmp_rest`).
    #[cfg(test)]
    fn cmp(&self, a: &Row, ta: Option<&str>, b: &Row, tb: Option<&str>) -> Ordering {
        (self.names[a.addr as usize], a.ts)
            .cmp(&(self.names[b.addr as usize], b.ts))
            .then_with(|| self.cmp_rest(a, ta, b, tb))
    }
}

/// Emitted rows: (row, tables, tx_id), in output order, duplicates included.
pub type Emit<'e> = dyn FnMut(&Row, &Tables, Option<&str>) + 'e;

pub struct Sorter {
    /// The interned strings. Owned, not shared: it was an `Arc` no one else held, and
    /// `Arc::make_mut` on every row was a locked instruction each.
    pub tables: Tables,
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
    /// The address strings as of the last spill, in chunks by id (each spill adds the names
    /// interned since the one before): what a spill thread reads them from while this thread
    /// goes on interning. Cloning each name a batch mentions (an `Arc` count in the string's
    /// own cache line) was most of the main thread's work at a spill.
    frozen: Vec<Arc<[Arc<str>]>>,
    frozen_len: usize,
}

/// Rows reserved up front for a batch (a larger `batch_rows` grows past it as needed).
const MAX_RESERVE: usize = 1 << 23;

/// A batch's rows and tx arena, and the sort's key buffers.
type Buffers = (Vec<Row>, String, Scratch);

/// Key buffers of [`sorted_order`], kept from run to run.
#[derive(Default)]
struct Scratch {
    keys: Vec<(u64, u32)>,
    tmp: Vec<(u64, u32)>,
}

impl Sorter {
    pub fn new(batch_rows: usize, out_dir: &Path) -> io::Result<Self> {
        Ok(Self {
            tables: Tables::default(),
            rows: Vec::new(),
            arena: String::new(),
            batch_rows: batch_rows.max(1),
            out_dir: out_dir.to_path_buf(),
            tmp: None,
            runs: Vec::new(),
            pending: None,
            spare: None,
            frozen: Vec::new(),
            frozen_len: 0,
        })
    }

    /// Add a row; `tx` is copied into the arena.
    pub fn push(&mut self, mut r: Row, tx: Option<&str>) {
        if self.rows.capacity() == 0 {
            // One allocation for the whole batch: growing by doubling copied every row and
            // touched twice the memory (fresh pages are zeroed by the kernel, which showed).
            self.rows.reserve_exact(self.batch_rows.min(MAX_RESERVE));
        }
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
        sorted_order(&self.rows, &self.arena, ranks, &mut Scratch::default())
    }

    /// Sort the rows in memory and write them as a run, on a background thread: reading
    /// goes on into a second buffer meanwhile (so up to two batches are in memory).
    fn spill(&mut self) -> io::Result<()> {
        self.wait_spill()?;
        // The batch is ordered by ranks among the addresses it mentions (as actor or
        // counterparty), sorted on the spill thread: ranking every address seen so far at
        // every spill cost the main thread a sort of up to all addresses per batch (1.7M
        // strings, 50 times, in the 1M-wallet world). The small tables are ranked whole.
        let mut ranks = Ranks::of_small(&self.tables);
        let list = &self.tables.names.list;
        if list.len() > self.frozen_len {
            self.frozen
                .push(list[self.frozen_len..].iter().cloned().collect());
            self.frozen_len = list.len();
        }
        let names = Frozen::new(self.frozen.clone());
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
        let (spare_rows, spare_arena, mut scratch) = match self.spare.take() {
            Some(b) => b,
            None => (
                Vec::with_capacity(self.rows.capacity()),
                String::with_capacity(self.arena.capacity()),
                Scratch::default(),
            ),
        };
        let rows = std::mem::replace(&mut self.rows, spare_rows);
        let arena = std::mem::replace(&mut self.arena, spare_arena);
        self.runs.push(path.clone());
        let h = std::thread::Builder::new()
            .name("ingest-spill".into())
            .spawn(move || -> io::Result<Buffers> {
                let used = names.used_by(&rows);
                ranks.names = vec![0; names.len()];
                for (rank, id) in sort_by_text(used.iter().map(|&id| (id, names.get(id))))
                    .into_iter()
                    .enumerate()
                {
                    ranks.names[id as usize] = rank as u32;
                }
                drop(used);
                drop(names);
                let order = sorted_order(&rows, &arena, &ranks, &mut scratch);
                let mut w = RunWriter::new(BufWriter::with_capacity(1 << 20, File::create(&path)?));
                // Rows are read in sorted order, scattered over the batch: a cache miss per
                // row unless it is asked for some rows ahead. Their tx_ids are scattered over
                // the arena too: each is asked for once its row (asked for 8 rows earlier)
                // is likely at hand (reading it unasked was most of this loop's time).
                for (k, &i) in order.iter().enumerate() {
                    if let Some(&j) = order.get(k + 16) {
                        fairdrop_core::hash::prefetch(&rows[j as usize]);
                    }
                    if let Some(&j) = order.get(k + 8) {
                        let r = &rows[j as usize];
                        if r.tx_len != NO_TX {
                            if let Some(b) = arena.as_bytes().get(r.tx_off as usize) {
                                fairdrop_core::hash::prefetch(b);
                            }
                        }
                    }
                    let r = &rows[i as usize];
                    w.write(r, r.tx(&arena))?;
                }
                w.finish()?;
                Ok((rows, arena, scratch))
            })?;
        self.pending = Some(h);
        Ok(())
    }

    /// Wait for the run being written, if any; its buffers become the spare ones.
    fn wait_spill(&mut self) -> io::Result<()> {
        if let Some(h) = self.pending.take() {
            let (mut rows, mut arena, scratch) = h
                .join()
                .map_err(|_| io::Error::other("the spill thread panicked"))??;
            rows.clear();
            arena.clear();
            self.spare = Some((rows, arena, scratch));
        }
        Ok(())
    }

    /// Emit every row in order (duplicates too: see [`Dedup`]).
    pub fn finish(mut self, emit: &mut Emit<'_>) -> io::Result<()> {
        // Rank every address and sort the last batch while the last run is still being
        // written on the spill thread (neither reads what it writes): the two overlapped
        // used to run one after the other, on one core.
        let ranks = Ranks::of(&self.tables);
        let order = self.sorted_order(&ranks);
        self.wait_spill()?;
        self.frozen = Vec::new();
        if self.runs.is_empty() {
            for i in order {
                let r = &self.rows[i as usize];
                emit(r, &self.tables, r.tx(&self.arena));
            }
            return Ok(());
        }
        // The last batch is not written: it is merged from memory as one more run.
        self.spare = None;
        let mut sources: Vec<Source> = Vec::new();
        for p in &self.runs {
            sources.push(Source::File(RunReader::new(File::open(p)?)));
        }
        if !self.rows.is_empty() {
            sources.push(Source::Mem {
                rows: &self.rows,
                arena: &self.arena,
                order: order.into_iter(),
            });
        }
        // Each run's current row sits in `heads`, with its (address rank, timestamp) key, so
        // the merge compares two integers per step and reads a rank only when a run moves to
        // a new address; the rest of the row is compared only on ties. The heap holds indices
        // into `heads`: sifting moves 4-byte entries, not 130-byte ones (with 50 runs at 1M
        // wallets a step goes six levels down).
        struct Head {
            key: (u32, i64),
            row: Row,
            tx: Vec<u8>,
            run: usize,
        }
        impl Head {
            fn tx(&self) -> Option<&str> {
                (self.row.tx_len != NO_TX).then(|| std::str::from_utf8(&self.tx).expect("ASCII"))
            }
        }
        let mut heads: Vec<Head> = Vec::with_capacity(sources.len());
        for (run, src) in sources.iter_mut().enumerate() {
            let mut tx = Vec::new();
            if let Some(row) = src.next(&mut tx)? {
                heads.push(Head {
                    key: (ranks.names[row.addr as usize], row.ts),
                    row,
                    tx,
                    run,
                });
            }
        }
        // Whether head `a`'s row comes before head `b`'s (a total order: rows equal in every
        // field come in input order, which is run order).
        let before = |heads: &[Head], a: u32, b: u32| -> bool {
            let (x, y) = (&heads[a as usize], &heads[b as usize]);
            x.key
                .cmp(&y.key)
                .then_with(|| ranks.cmp_rest(&x.row, x.tx(), &y.row, y.tx()))
                .then(x.run.cmp(&y.run))
                == Ordering::Less
        };
        let sift_down = |heap: &mut [u32], heads: &[Head], mut i: usize| {
            let n = heap.len();
            loop {
                let l = 2 * i + 1;
                if l >= n {
                    return;
                }
                let r = l + 1;
                let c = if r < n && before(heads, heap[r], heap[l]) {
                    r
                } else {
                    l
                };
                if !before(heads, heap[c], heap[i]) {
                    return;
                }
                heap.swap(i, c);
                i = c;
            }
        };
        let mut heap: Vec<u32> = (0..heads.len() as u32).collect();
        for i in (0..heap.len() / 2).rev() {
            sift_down(&mut heap, &heads, i);
        }
        while let Some(&top) = heap.first() {
            let h = &mut heads[top as usize];
            let tx = h.tx();
            emit(&h.row, &self.tables, tx);
            match sources[h.run].next(&mut h.tx)? {
                Some(next) => {
                    let rank = if next.addr == h.row.addr {
                        h.key.0
                    } else {
                        ranks.names[next.addr as usize]
                    };
                    h.key = (rank, next.ts);
                    h.row = next;
                }
                None => {
                    let last = heap.pop().expect("the heap has a top");
                    if heap.is_empty() {
                        break;
                    }
                    heap[0] = last;
                }
            }
            sift_down(&mut heap, &heads, 0);
        }
        Ok(())
    }
}

/// The address strings by id, as of a spill: chunks of consecutive ids.
struct Frozen {
    chunks: Vec<Arc<[Arc<str>]>>,
    /// The first id of each chunk.
    starts: Vec<u32>,
    len: usize,
}

impl Frozen {
    fn new(chunks: Vec<Arc<[Arc<str>]>>) -> Self {
        let mut starts = Vec::with_capacity(chunks.len());
        let mut len = 0;
        for c in &chunks {
            starts.push(len as u32);
            len += c.len();
        }
        Self {
            chunks,
            starts,
            len,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, id: u32) -> &str {
        let c = self.starts.partition_point(|&s| s <= id) - 1;
        &self.chunks[c][(id - self.starts[c]) as usize]
    }

    /// The ids `rows` mention (as actor or counterparty), each once.
    fn used_by(&self, rows: &[Row]) -> Vec<u32> {
        let mut seen = vec![false; self.len];
        let mut used = Vec::new();
        for r in rows {
            for id in [r.addr, r.cp] {
                if id != NONE && !seen[id as usize] {
                    seen[id as usize] = true;
                    used.push(id);
                }
            }
        }
        used
    }
}

/// The ids of `names` in the order of their strings. Sorted by each string's first 16
/// bytes as an integer, computed once per name, and by the whole string only where those
/// tie: comparing the strings themselves followed two pointers into scattered memory per
/// comparison, most of the cost of ranking a batch's addresses.
fn sort_by_text<'a>(names: impl Iterator<Item = (u32, &'a str)>) -> Vec<u32> {
    let mut keyed: Vec<(u128, u32, &str)> = names
        .map(|(id, s)| {
            let mut k = [0u8; 16];
            let n = s.len().min(16);
            k[..n].copy_from_slice(&s.as_bytes()[..n]);
            (u128::from_be_bytes(k), id, s)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(b.2)));
    keyed.into_iter().map(|(_, id, _)| id).collect()
}

/// Row indices in output order: see [`Sorter::sorted_order`].
fn sorted_order(rows: &[Row], arena: &str, ranks: &Ranks, s: &mut Scratch) -> Vec<u32> {
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
        keys.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| rest(a.2, b.2))
                .then(a.2.cmp(&b.2))
        });
        return keys.into_iter().map(|k| k.2).collect();
    }
    let keys = &mut s.keys;
    keys.clear();
    keys.extend(rows.iter().enumerate().map(|(i, r)| {
        let t = (r.ts as i128 - tmin as i128) as u64;
        (
            ((ranks.names[r.addr as usize] as u64) << t_bits) | t,
            i as u32,
        )
    }));
    radix_sort(keys, &mut s.tmp);
    // Ties on (address, timestamp): order by the rest of the row.
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() && keys[j].0 == keys[i].0 {
            j += 1;
        }
        if j - i > 1 {
            keys[i..j].sort_unstable_by(|a, b| rest(a.1, b.1).then(a.1.cmp(&b.1)));
        }
        i = j;
    }
    keys.iter().map(|k| k.1).collect()
}

/// LSD radix sort of (key, index) pairs by key, 11 bits a pass (four passes for the usual
/// 42-bit keys, where bytes took six); passes whose digit is the same in every key are
/// skipped. Stable, so equal keys keep index order. `tmp` is scratch space.
fn radix_sort(v: &mut Vec<(u64, u32)>, tmp: &mut Vec<(u64, u32)>) {
    const BITS: u32 = 11;
    const MASK: u64 = (1 << BITS) - 1;
    if v.len() < 256 {
        v.sort_unstable();
        return;
    }
    let (or, and) = v
        .iter()
        .fold((0u64, u64::MAX), |(o, a), k| (o | k.0, a & k.0));
    let varying = or ^ and;
    // Every pass overwrites all of `tmp`: it is sized once.
    tmp.clear();
    tmp.resize(v.len(), (0, 0));
    let mut shift = 0;
    while shift < 64 {
        if (varying >> shift) & MASK != 0 {
            let mut count = vec![0usize; 1 << BITS];
            for k in v.iter() {
                count[((k.0 >> shift) & MASK) as usize] += 1;
            }
            let mut sum = 0;
            for c in count.iter_mut() {
                let n = *c;
                *c = sum;
                sum += n;
            }
            for k in v.iter() {
                let b = ((k.0 >> shift) & MASK) as usize;
                tmp[count[b]] = *k;
                count[b] += 1;
            }
            std::mem::swap(v, tmp);
        }
        shift += BITS;
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

/// Dedup of rows in output order ([`Sorter::finish`]'s): per address, the (chain, action,
/// tx_id) keys its rows had so far. A row is a duplicate when an earlier row in output order
/// had its key, so rows are judged as they come. (Holding each address's rows until its last one, to dedup them as a group,
/// copied every row once more, stalled the writer threads behind the busiest wallets, and
/// the largest groups cost their size in freshly zeroed pages.)
///
/// Exact: keys with the same hash are chained and compared in full.
#[derive(Default)]
pub struct Dedup {
    addr: Option<u32>,
    /// Hash of a key → its latest entry in `keys`.
    heads: FxMap<u64, u32>,
    /// The table a wallet with more than [`Dedup::BIG`] keys moves to, kept (dirty) between
    /// such wallets: freed and regrown for each, its fresh pages were zeroed every time.
    big: FxMap<u64, u32>,
    /// `heads` is the big table (the small one is in `big`).
    in_big: bool,
    keys: Vec<Key>,
    arena: String,
}

struct Key {
    chain: u32,
    action: u32,
    tx: std::ops::Range<usize>,
    /// The previous entry with the same hash (`u32::MAX`: none).
    next: u32,
}

impl Dedup {
    /// Keys at which a wallet's table moves to `big` (tests, whose hashes keep 2 bits, move
    /// at 2 distinct hashes).
    const BIG: usize = if cfg!(test) { 2 } else { 4096 };

    /// Whether `r` (with its tx_id `tx`) repeats the key of an earlier row of its address;
    /// rows must come in output order (those of an address together).
    pub fn is_dup(&mut self, r: &Row, tx: Option<&str>) -> bool {
        if self.addr != Some(r.addr) {
            self.addr = Some(r.addr);
            if self.in_big {
                self.in_big = false;
                // Back to the small table (emptied when the big one took over). The big
                // one is not cleared now: a clear costs the capacity, and the next wallet
                // this large pays it once.
                std::mem::swap(&mut self.heads, &mut self.big);
            }
            self.heads.clear();
            self.keys.clear();
            self.arena.clear();
        }
        if !self.in_big && self.heads.len() >= Self::BIG {
            self.in_big = true;
            // This wallet is large: move its keys to the big table. The small one is
            // shrunk back so clearing it stays cheap for every small wallet after.
            self.big.clear();
            self.big.extend(self.heads.drain());
            self.heads.shrink_to(64);
            std::mem::swap(&mut self.heads, &mut self.big);
        }
        let Some(tx) = tx else {
            return false; // no tx_id: never a duplicate
        };
        let mut h = FxHasher::default();
        h.write_u32(r.chain);
        h.write_u32(r.action);
        h.write(tx.as_bytes());
        let h = h.finish();
        // Tests keep two bits of the hash: every key collides, so the chains are walked.
        #[cfg(test)]
        let h = h & 3;
        // One probe: the slot found is the one the new key's entry goes to.
        let new = self.keys.len() as u32;
        let head = match self.heads.entry(h) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(new);
                u32::MAX
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let mut i = *o.get();
                while i != u32::MAX {
                    let k = &self.keys[i as usize];
                    if k.chain == r.chain && k.action == r.action && &self.arena[k.tx.clone()] == tx
                    {
                        return true;
                    }
                    i = k.next;
                }
                o.insert(new)
            }
        };
        let start = self.arena.len();
        self.arena.push_str(tx);
        self.keys.push(Key {
            chain: r.chain,
            action: r.action,
            tx: start..self.arena.len(),
            next: head,
        });
        false
    }
}

/// One sorted run being merged: a spilled file, or the last batch still in memory.
enum Source<'a> {
    File(RunReader<File>),
    Mem {
        rows: &'a [Row],
        arena: &'a str,
        order: std::vec::IntoIter<u32>,
    },
}

impl Source<'_> {
    /// The next row; its tx_id bytes go to `tx` (reused).
    fn next(&mut self, tx: &mut Vec<u8>) -> io::Result<Option<Row>> {
        match self {
            Source::File(r) => r.next(tx),
            Source::Mem { rows, arena, order } => Ok(order.next().map(|i| {
                // Scattered reads, as in the spill loop: ask for rows and tx_ids ahead.
                let ahead = order.as_slice();
                if let Some(&j) = ahead.get(15) {
                    fairdrop_core::hash::prefetch(&rows[j as usize]);
                }
                if let Some(&j) = ahead.get(7) {
                    let r = &rows[j as usize];
                    if r.tx_len != NO_TX {
                        if let Some(b) = arena.as_bytes().get(r.tx_off as usize) {
                            fairdrop_core::hash::prefetch(b);
                        }
                    }
                }
                let r = rows[i as usize];
                tx.clear();
                if let Some(t) = r.tx(arena) {
                    tx.extend_from_slice(t.as_bytes());
                }
                r
            })),
        }
    }
}

// Spill run format: rows in run order, each a flags byte then LEB128 varints. Runs are sorted
// by (address, time), so the address is usually the previous row's (flag, no bytes) and the
// time a small delta: a row takes ~30 bytes instead of 56 + amount + tx_id, and the spill
// thread writes (and the merge reads back) a third of the bytes.
const F_SAME_ADDR: u8 = 1;
const F_AMOUNT: u8 = 2;
const F_TX: u8 = 4;

fn put_varint(buf: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Optional interned id as a varint: 0 = none.
fn opt_id(id: u32) -> u128 {
    if id == NONE {
        0
    } else {
        id as u128 + 1
    }
}

struct RunWriter<W: Write> {
    w: W,
    buf: Vec<u8>,
    prev: Option<(u32, i64)>,
}

impl<W: Write> RunWriter<W> {
    fn new(w: W) -> Self {
        Self {
            w,
            buf: Vec::with_capacity(1 << 16),
            prev: None,
        }
    }

    fn write(&mut self, r: &Row, tx: Option<&str>) -> io::Result<()> {
        let b = &mut self.buf;
        let same = self.prev.is_some_and(|(a, _)| a == r.addr);
        // Time is a delta within one address, absolute at the first row of one.
        let prev_ts = match self.prev {
            Some((_, t)) if same => t,
            _ => 0,
        };
        let mut flags = 0u8;
        if same {
            flags |= F_SAME_ADDR;
        }
        if r.has_amount {
            flags |= F_AMOUNT;
        }
        if tx.is_some() {
            flags |= F_TX;
        }
        b.push(flags);
        if !same {
            put_varint(b, r.addr as u128);
        }
        put_varint(b, zigzag(r.ts.wrapping_sub(prev_ts)) as u128);
        put_varint(b, r.chain as u128);
        put_varint(b, r.action as u128);
        put_varint(b, opt_id(r.cp));
        put_varint(b, opt_id(r.asset));
        put_varint(b, opt_id(r.program));
        put_varint(b, r.src as u128);
        if let Some(a) = r.amount() {
            put_varint(b, a);
        }
        if let Some(t) = tx {
            put_varint(b, t.len() as u128);
            b.extend_from_slice(t.as_bytes());
        }
        self.prev = Some((r.addr, r.ts));
        if b.len() >= 1 << 16 {
            self.w.write_all(b)?;
            b.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.w.flush()
    }
}

fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "spill run corrupt")
}

/// Reads a run written by [`RunWriter`] through its own buffer.
struct RunReader<R: Read> {
    r: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    prev: Option<(u32, i64)>,
}

/// A row is at most this many bytes before its tx_id: flags, 13 varints of ≤ 10 bytes (the
/// amount ≤ 19), so refilling to this before decoding a row means the decoder never runs dry
/// in the middle of one.
const MAX_HEAD: usize = 1 + 12 * 10 + 19 + 3;

impl<R: Read> RunReader<R> {
    fn new(r: R) -> Self {
        Self {
            r,
            buf: vec![0; 1 << 18],
            pos: 0,
            end: 0,
            eof: false,
            prev: None,
        }
    }

    /// Make at least `n` bytes available (fewer only at the end of the file).
    fn fill(&mut self, n: usize) -> io::Result<()> {
        if self.end - self.pos >= n || self.eof {
            return Ok(());
        }
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        while self.end < n {
            let k = self.r.read(&mut self.buf[self.end..])?;
            if k == 0 {
                self.eof = true;
                break;
            }
            self.end += k;
        }
        Ok(())
    }

    fn byte(&mut self) -> io::Result<u8> {
        if self.pos >= self.end {
            return Err(corrupt());
        }
        let v = self.buf[self.pos];
        self.pos += 1;
        Ok(v)
    }

    fn varint(&mut self) -> io::Result<u128> {
        let mut v: u128 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift >= 128 {
                return Err(corrupt());
            }
            v |= ((b & 0x7f) as u128) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// A varint that must fit a u64 (every field but the amount): decoded in u64 arithmetic
    /// from the buffered bytes, one bounds check per value rather than per byte (the merge
    /// decodes ten of these a row).
    #[inline]
    fn varint64(&mut self) -> io::Result<u64> {
        let bytes = &self.buf[self.pos..self.end];
        let mut v = 0u64;
        for (i, &b) in bytes.iter().enumerate().take(10) {
            let part = (b & 0x7f) as u64;
            // The tenth byte holds bit 63 only.
            if i == 9 && (part > 1 || b >= 0x80) {
                return Err(corrupt());
            }
            v |= part << (7 * i);
            if b < 0x80 {
                self.pos += i + 1;
                return Ok(v);
            }
        }
        Err(corrupt())
    }

    fn u32(&mut self) -> io::Result<u32> {
        u32::try_from(self.varint64()?).map_err(|_| corrupt())
    }

    fn u64(&mut self) -> io::Result<u64> {
        self.varint64()
    }

    fn opt_id(&mut self) -> io::Result<u32> {
        match self.varint64()? {
            0 => Ok(NONE),
            v => u32::try_from(v - 1).map_err(|_| corrupt()),
        }
    }

    /// Read one row; its tx_id bytes go to `tx` (reused).
    fn next(&mut self, tx: &mut Vec<u8>) -> io::Result<Option<Row>> {
        self.fill(MAX_HEAD)?;
        if self.pos == self.end {
            return Ok(None);
        }
        let flags = self.byte()?;
        if flags & !(F_SAME_ADDR | F_AMOUNT | F_TX) != 0 {
            return Err(corrupt());
        }
        let (addr, prev_ts) = match (flags & F_SAME_ADDR != 0, self.prev) {
            (true, Some((a, t))) => (a, t),
            (true, None) => return Err(corrupt()),
            (false, _) => (self.u32()?, 0),
        };
        let ts = prev_ts.wrapping_add(unzigzag(self.u64()?));
        let chain = self.u32()?;
        let action = self.u32()?;
        let cp = self.opt_id()?;
        let asset = self.opt_id()?;
        let program = self.opt_id()?;
        let src = self.u32()?;
        let amount = if flags & F_AMOUNT != 0 {
            Some(self.varint()?)
        } else {
            None
        };
        tx.clear();
        let tx_len = if flags & F_TX != 0 {
            let n = self.u32()?;
            let n16 = u16::try_from(n)
                .ok()
                .filter(|&n| n != NO_TX)
                .ok_or_else(corrupt)?;
            self.fill(n as usize)?;
            if self.end - self.pos < n as usize {
                return Err(corrupt());
            }
            tx.extend_from_slice(&self.buf[self.pos..self.pos + n as usize]);
            self.pos += n as usize;
            if !tx.is_ascii() {
                return Err(corrupt());
            }
            n16
        } else {
            NO_TX
        };
        self.prev = Some((addr, ts));
        let (amount_words, has_amount) = Row::amount_fields(amount);
        Ok(Some(Row {
            addr,
            ts,
            chain,
            action,
            cp,
            asset,
            program,
            amount_words,
            has_amount,
            tx_off: 0,
            tx_len,
            src,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference: every row compared with `Ranks::cmp` (a stable sort: rows equal in every
    /// field keep input order), duplicates found by exact keys.
    fn reference(sorter: &Sorter) -> Emitted {
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
                (
                    r.addr,
                    r.ts,
                    r.src,
                    r.action,
                    r.cp,
                    r.tx(arena).map(str::to_string),
                    dup,
                )
            })
            .collect()
    }

    /// (address id, timestamp, source, action, counterparty, tx_id, duplicate) per emitted
    /// row: every field the rows of these tests differ in.
    type Emitted = Vec<(u32, i64, u32, u32, u32, Option<String>, bool)>;

    fn run(rows: &[(u8, i64, u8, Option<u8>)], batch: usize) -> (Emitted, Emitted) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Sorter::new(batch, dir.path()).unwrap();
        let mut reference_sorter = Sorter::new(usize::MAX, dir.path()).unwrap();
        for (n, &(addr, ts, action, tx)) in rows.iter().enumerate() {
            for t in [&mut s, &mut reference_sorter] {
                // Names interned out of order so ranks differ from ids.
                let tables = &mut t.tables;
                let a = tables.names.intern(&format!("addr{}", 255 - addr));
                // Counterparties from the same table, some never an actor, so ranks of
                // names seen only as counterparties order ties too.
                let cp = match tx {
                    Some(x) if x % 2 == 0 => tables
                        .names
                        .intern(&format!("addr{}", (x as usize * 37 + n) % 256)),
                    _ => NONE,
                };
                let row = Row {
                    addr: a,
                    ts,
                    chain: tables.chains.intern("aleo"),
                    action: tables.actions.intern(&format!("act{action}")),
                    cp,
                    asset: NONE,
                    program: NONE,
                    amount_words: [0; 2],
                    has_amount: false,
                    tx_off: 0,
                    tx_len: 0,
                    // A few rows per input file: rows equal but for their file are
                    // ordered by it, and counted for it.
                    src: (n / 5) as u32,
                };
                t.push(row, tx.map(|x| format!("tx{x}")).as_deref());
            }
            s.maybe_spill().unwrap();
        }
        let want = reference(&reference_sorter);
        let mut got = Vec::new();
        let mut dedup = Dedup::default();
        s.finish(&mut |r: &Row, _t: &Tables, tx: Option<&str>| {
            let dup = dedup.is_dup(r, tx);
            got.push((
                r.addr,
                r.ts,
                r.src,
                r.action,
                r.cp,
                tx.map(str::to_string),
                dup,
            ));
        })
        .unwrap();
        (got, want)
    }

    fn arb_row() -> impl Strategy<Value = (Row, Option<String>)> {
        (
            (0u32..4, any::<u32>()),
            prop_oneof![any::<i64>(), 1_600_000_000i64..1_600_000_100],
            (any::<u32>(), any::<u32>()),
            proptest::array::uniform3(prop_oneof![Just(NONE), any::<u32>()]),
            proptest::option::of(any::<u128>()),
            any::<u32>(),
            proptest::option::of("[ -~]{1,128}"),
        )
            .prop_map(
                |((small, big), ts, (chain, action), [cp, asset, program], amount, src, tx)| {
                    let (amount_words, has_amount) = Row::amount_fields(amount);
                    let row = Row {
                        addr: if small == 3 { big } else { small },
                        ts,
                        chain,
                        action,
                        cp,
                        asset,
                        program,
                        amount_words,
                        has_amount,
                        tx_off: 0,
                        tx_len: tx.as_ref().map_or(NO_TX, |t| t.len() as u16),
                        src,
                    };
                    (row, tx)
                },
            )
    }

    proptest! {
        /// Interning gives one id per distinct string, in order of first appearance, whatever
        /// mix of repeats, near-misses (same length, one byte apart) and long strings comes.
        /// Ranking by 16-byte prefixes gives the string order, ties past 16 bytes and NUL
        /// bytes (the prefix's zero padding) included.
        #[test]
        fn sort_by_text_is_string_order(words in proptest::collection::vec("[ab\\x00]{0,20}", 0..60)) {
            let got = sort_by_text(words.iter().enumerate().map(|(i, w)| (i as u32, w.as_str())));
            let mut want: Vec<u32> = (0..words.len() as u32).collect();
            want.sort_by(|a, b| words[*a as usize].cmp(&words[*b as usize]));
            let text = |v: &[u32]| v.iter().map(|i| words[*i as usize].clone()).collect::<Vec<_>>();
            prop_assert_eq!(text(&got), text(&want));
        }

        #[test]
        fn intern_ids_are_first_appearance_order(
            words in proptest::collection::vec(
                prop_oneof![
                    "[ab]{0,3}",
                    "[ab]{7,9}",
                    "[ab]{15,17}",
                    "[ab]{31,34}",
                    "[ab]{62,66}",
                ],
                0..200,
            ),
        ) {
            let mut it = Interner::default();
            let mut first: Vec<String> = Vec::new();
            for w in &words {
                let want = match first.iter().position(|f| f == w) {
                    Some(i) => i,
                    None => {
                        first.push(w.clone());
                        first.len() - 1
                    }
                };
                prop_assert_eq!(it.intern(w) as usize, want, "{:?}", w);
                prop_assert_eq!(&*it.list()[want], w.as_str());
            }
        }
    }

    /// The u64 varint decoder takes every value up to u64::MAX the writer can write, and
    /// calls anything larger, or unterminated, corrupt.
    #[test]
    fn varint64_bounds() {
        for (v, ok) in [
            (0u128, true),
            (127, true),
            (128, true),
            (u32::MAX as u128, true),
            (u64::MAX as u128 - 1, true),
            (u64::MAX as u128, true),
            (u64::MAX as u128 + 1, false),
            (u128::MAX, false),
        ] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut r = RunReader::new(std::io::Cursor::new(b.clone()));
            r.fill(64).unwrap();
            let got = r.varint64();
            assert_eq!(
                got.as_ref().ok().copied().map(u128::from),
                ok.then_some(v),
                "{v}"
            );
            // Cut short: never a value.
            let mut r = RunReader::new(std::io::Cursor::new(b[..b.len() - 1].to_vec()));
            r.fill(64).unwrap();
            assert!(r.varint64().is_err(), "{v} truncated");
        }
    }

    /// A batch is a million rows: keep a row small.
    #[test]
    fn row_is_64_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 64);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every field of every row survives the spill format, whatever its value, including
        /// rows of one address in a row (the delta-coded path) and reads across buffer refills.
        #[test]
        fn spill_codec_round_trips(rows in proptest::collection::vec(arb_row(), 0..3000)) {
            let mut bytes = Vec::new();
            let mut w = RunWriter::new(&mut bytes);
            for (r, tx) in &rows {
                w.write(r, tx.as_deref()).unwrap();
            }
            w.finish().unwrap();
            let mut rd = RunReader::new(&bytes[..]);
            let mut tx = Vec::new();
            for (want, want_tx) in &rows {
                let got = rd.next(&mut tx).unwrap().expect("a row");
                prop_assert_eq!(format!("{got:?}"), format!("{want:?}"));
                prop_assert_eq!(want_tx.as_deref().map(str::as_bytes), got.tx_len.ne(&NO_TX).then_some(&tx[..]));
            }
            prop_assert!(rd.next(&mut tx).unwrap().is_none());
        }

        /// A truncated run is an error, never a panic or a made-up row.
        #[test]
        fn truncated_spill_is_an_error(rows in proptest::collection::vec(arb_row(), 1..50), cut in any::<prop::sample::Index>()) {
            let mut bytes = Vec::new();
            let mut w = RunWriter::new(&mut bytes);
            for (r, tx) in &rows {
                w.write(r, tx.as_deref()).unwrap();
            }
            w.finish().unwrap();
            let cut = cut.index(bytes.len());
            let mut rd = RunReader::new(&bytes[..cut]);
            let mut tx = Vec::new();
            let mut n = 0;
            let res = loop {
                match rd.next(&mut tx) {
                    Ok(Some(_)) => n += 1,
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            // Cutting at a row boundary reads the rows before it; anywhere else is an error.
            prop_assert!(n < rows.len());
            if res.is_ok() {
                let mut again = Vec::new();
                let mut w = RunWriter::new(&mut again);
                for (r, tx) in &rows[..n] {
                    w.write(r, tx.as_deref()).unwrap();
                }
                w.finish().unwrap();
                prop_assert_eq!(again.len(), cut);
            }
        }
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
