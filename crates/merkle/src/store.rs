//! A proof store for the claim service: one file, memory-mapped, O(1) lookup by address.
//!
//! Instead of a proof per claim (24 × 32 bytes each at 10M claims: 7.7 GB) the file holds the
//! tree's nodes once and derives a proof on lookup by walking them (≤ 32 reads from the map).
//!
//! Layout (little-endian; every section 8-byte aligned):
//!
//! | offset | what |
//! | --- | --- |
//! | 0 | header, 128 bytes: magic `FDPSTOR1`, profile, layout, address length, counts, root, section offsets, file length |
//! | `layers_off` | layer table: (start node, node count) u64 pairs, leaves first (one entry for the oz heap) |
//! | `nodes_off` | all nodes, 32 bytes each |
//! | `records_off` | one 64-byte record per claim: address (32, zero-padded), amount u128, index u64, leaf position u64 |
//! | `slots_off` | open-addressing table (linear probing, load ≤ 1/2, power-of-two size) of u32 record number + 1 (0 = empty) |
//!
//! Layouts: 0 = OpenZeppelin heap array (sibling of i is i±1, parent (i−1)/2); 1 = layers with
//! the lone node promoted (Uniswap); 2 = layers with the odd node paired with itself (Jito).
//! `open` checks the header, every section bound and every record, so a corrupt or truncated
//! file is an error, and `get` never reads out of bounds.

use std::io::Write;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{MerkleError, Result};
use crate::hash::Hash32;
use crate::profile::{BuiltTree, ClaimAddress, Profile};

const MAGIC: &[u8; 8] = b"FDPSTOR1";
const HEADER: usize = 128;
const RECORD: usize = 64;

/// What `get` returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredClaim {
    pub amount: u128,
    pub index: u64,
    pub proof: Vec<Hash32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Heap = 0,
    Promote = 1,
    Duplicate = 2,
}

fn slot_hash(addr: &[u8]) -> u64 {
    // FNV-1a then a splitmix64 finaliser: every byte counts, so vanity prefixes do not cluster.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in addr {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn profile_code(p: Profile) -> u8 {
    match p {
        Profile::Oz => 1,
        Profile::Uniswap => 2,
        Profile::Jito => 3,
    }
}

fn profile_from(c: u8) -> Option<Profile> {
    match c {
        1 => Some(Profile::Oz),
        2 => Some(Profile::Uniswap),
        3 => Some(Profile::Jito),
        _ => None,
    }
}

/// Layout, layer table (start, len) and the node slices to write.
type Sections<'a> = (Layout, Vec<(u64, u64)>, Vec<&'a [Hash32]>);

/// Write the proof store of `tree` to `path` atomically.
pub fn write(tree: &BuiltTree, path: &Path) -> Result<()> {
    let io = |e| MerkleError::io(path, e);
    let profile = tree.profile();
    // Layers (node ranges) and the node data.
    let (layout, layers, node_slices): Sections<'_> = match tree {
        BuiltTree::Oz(t) => (
            Layout::Heap,
            vec![(0, t.tree.tree().len() as u64)],
            vec![t.tree.tree()],
        ),
        BuiltTree::Uniswap(t) => layered(Layout::Promote, t.layers()),
        BuiltTree::Jito(t) => layered(Layout::Duplicate, t.levels()),
    };
    let n_nodes: u64 = layers.iter().map(|l| l.1).sum();
    let n = tree.len();
    if n >= u32::MAX as usize {
        return Err(MerkleError::Invalid(
            "too many claims for a proof store".to_string(),
        ));
    }
    // Records: (address, amount, index, position).
    let records: Vec<([u8; 32], u128, u64, u64)> = (0..n)
        .map(|i| record_of(tree, i))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| MerkleError::Invalid("tree has a claim without a leaf".to_string()))?;
    let n_slots = (2 * n).next_power_of_two().max(2);
    let mask = n_slots - 1;
    let mut slots = vec![0u32; n_slots];
    let addr_len = match profile {
        Profile::Oz | Profile::Uniswap => 20usize,
        Profile::Jito => 32,
    };
    for (r, rec) in records.iter().enumerate() {
        let mut s = slot_hash(&rec.0[..addr_len]) as usize & mask;
        while slots[s] != 0 {
            s = (s + 1) & mask;
        }
        slots[s] = r as u32 + 1;
    }
    let layers_off = HEADER as u64;
    let nodes_off = layers_off + 16 * layers.len() as u64;
    let records_off = nodes_off + 32 * n_nodes;
    let slots_off = records_off + (RECORD * n) as u64;
    let file_len = slots_off + 4 * n_slots as u64 + ((8 - (4 * n_slots as u64) % 8) % 8);

    let mut h = [0u8; HEADER];
    h[..8].copy_from_slice(MAGIC);
    h[8] = profile_code(profile);
    h[9] = layout as u8;
    h[10] = addr_len as u8;
    let put = |h: &mut [u8; HEADER], off: usize, v: u64| {
        h[off..off + 8].copy_from_slice(&v.to_le_bytes())
    };
    put(&mut h, 16, n as u64);
    put(&mut h, 24, n_slots as u64);
    put(&mut h, 32, n_nodes);
    put(&mut h, 40, layers.len() as u64);
    h[48..80].copy_from_slice(&tree.root());
    put(&mut h, 80, layers_off);
    put(&mut h, 88, nodes_off);
    put(&mut h, 96, records_off);
    put(&mut h, 104, slots_off);
    put(&mut h, 112, file_len);

    let mut f = fairdrop_core::fsutil::AtomicFile::create(path).map_err(io)?;
    f.write_all(&h).map_err(io)?;
    for (start, len) in &layers {
        f.write_all(&start.to_le_bytes()).map_err(io)?;
        f.write_all(&len.to_le_bytes()).map_err(io)?;
    }
    for s in node_slices {
        f.write_all(s.as_flattened()).map_err(io)?;
    }
    let mut buf = Vec::with_capacity(RECORD * 4096);
    for chunk in records.chunks(4096) {
        buf.clear();
        for (a, amount, index, pos) in chunk {
            buf.extend_from_slice(a);
            buf.extend_from_slice(&amount.to_le_bytes());
            buf.extend_from_slice(&index.to_le_bytes());
            buf.extend_from_slice(&pos.to_le_bytes());
        }
        f.write_all(&buf).map_err(io)?;
    }
    let mut sb = Vec::with_capacity(4 * n_slots + 8);
    for s in &slots {
        sb.extend_from_slice(&s.to_le_bytes());
    }
    while sb.len() % 8 != 0 {
        sb.push(0);
    }
    f.write_all(&sb).map_err(io)?;
    f.commit().map_err(io)
}

fn layered(layout: Layout, layers: &[Vec<Hash32>]) -> Sections<'_> {
    let mut start = 0u64;
    let mut table = Vec::with_capacity(layers.len());
    for l in layers {
        table.push((start, l.len() as u64));
        start += l.len() as u64;
    }
    (layout, table, layers.iter().map(Vec::as_slice).collect())
}

fn record_of(tree: &BuiltTree, i: usize) -> Option<([u8; 32], u128, u64, u64)> {
    let mut a = [0u8; 32];
    match tree {
        BuiltTree::Oz(t) => {
            let (acc, amount) = t.claims.get(i)?;
            a[..20].copy_from_slice(acc);
            Some((
                a,
                *amount,
                i as u64,
                t.tree.values().get(i)?.tree_index as u64,
            ))
        }
        BuiltTree::Uniswap(t) => {
            let c = t.claims().get(i)?;
            a[..20].copy_from_slice(&c.account);
            Some((a, c.amount, c.index, c.position as u64))
        }
        BuiltTree::Jito(t) => {
            let c = t.claims().get(i)?;
            a.copy_from_slice(&c.claimant);
            Some((a, c.unlocked as u128 + c.locked as u128, i as u64, i as u64))
        }
    }
}

/// An open proof store.
pub struct ProofStore {
    map: Mmap,
    path: PathBuf,
    profile: Profile,
    layout: Layout,
    addr_len: usize,
    n: usize,
    n_slots: usize,
    layers: Vec<(usize, usize)>,
    nodes_off: usize,
    records_off: usize,
    slots_off: usize,
}

impl std::fmt::Debug for ProofStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofStore")
            .field("path", &self.path)
            .field("profile", &self.profile)
            .field("claims", &self.n)
            .finish()
    }
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    b.get(off..off + 8)
        .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")))
}

impl ProofStore {
    /// Open and check a store written by [`write`].
    pub fn open(path: &Path) -> Result<ProofStore> {
        let bad = |msg: String| MerkleError::Store {
            path: path.to_path_buf(),
            msg,
        };
        let f = std::fs::File::open(path).map_err(|e| MerkleError::io(path, e))?;
        // SAFETY: the file is opened read-only; fairdrop writes stores atomically (temp file +
        // rename) and never modifies one in place, so the mapping does not change under us.
        let map = unsafe { Mmap::map(&f) }.map_err(|e| MerkleError::io(path, e))?;
        let b = &map[..];
        if b.len() < HEADER || &b[..8] != MAGIC {
            return Err(bad(
                "not a fairdrop proof store (bad magic or too short)".to_string()
            ));
        }
        let profile =
            profile_from(b[8]).ok_or_else(|| bad(format!("unknown profile code {}", b[8])))?;
        let layout = match b[9] {
            0 => Layout::Heap,
            1 => Layout::Promote,
            2 => Layout::Duplicate,
            x => return Err(bad(format!("unknown layout {x}"))),
        };
        let addr_len = b[10] as usize;
        let want_len = if profile == Profile::Jito { 32 } else { 20 };
        if addr_len != want_len {
            return Err(bad(format!(
                "address length {addr_len} does not match profile {profile}"
            )));
        }
        let g = |off| u64_at(b, off).unwrap_or(u64::MAX);
        let (n, n_slots, n_nodes, n_layers) = (g(16), g(24), g(32), g(40));
        let (layers_off, nodes_off, records_off, slots_off, file_len) =
            (g(80), g(88), g(96), g(104), g(112));
        if file_len != b.len() as u64 {
            return Err(bad(format!(
                "file is {} bytes, header says {file_len} (truncated?)",
                b.len()
            )));
        }
        let ok = n >= 1
            && n < u32::MAX as u64
            && n_slots.is_power_of_two()
            && n_slots >= 2 * n
            && (1..=64).contains(&n_layers)
            && layers_off == HEADER as u64
            && nodes_off == layers_off + 16 * n_layers
            && n_nodes
                .checked_mul(32)
                .and_then(|x| x.checked_add(nodes_off))
                == Some(records_off)
            && n.checked_mul(RECORD as u64)
                .and_then(|x| x.checked_add(records_off))
                == Some(slots_off)
            && n_slots
                .checked_mul(4)
                .and_then(|x| x.checked_add(slots_off))
                .is_some_and(|end| end <= file_len);
        if !ok {
            return Err(bad("header sections are inconsistent".to_string()));
        }
        let mut layers = Vec::with_capacity(n_layers as usize);
        let mut expect_start = 0u64;
        for k in 0..n_layers as usize {
            let (s, l) = (g(HEADER + 16 * k), g(HEADER + 16 * k + 8));
            if s != expect_start || l == 0 {
                return Err(bad(format!("layer {k} is out of place")));
            }
            expect_start = s + l;
            layers.push((s as usize, l as usize));
        }
        if expect_start != n_nodes {
            return Err(bad("layers do not cover the nodes".to_string()));
        }
        let leaf_count = match layout {
            Layout::Heap => (n_nodes as usize).div_ceil(2),
            _ => layers[0].1,
        };
        if leaf_count as u64 != n
            || (layout == Layout::Heap && (n_layers != 1 || n_nodes != 2 * n - 1))
        {
            return Err(bad("node count does not match the claim count".to_string()));
        }
        let store = ProofStore {
            path: path.to_path_buf(),
            profile,
            layout,
            addr_len,
            n: n as usize,
            n_slots: n_slots as usize,
            layers,
            nodes_off: nodes_off as usize,
            records_off: records_off as usize,
            slots_off: slots_off as usize,
            map,
        };
        for r in 0..store.n {
            let pos = store.record(r).map(|x| x.3);
            let valid = match (store.layout, pos) {
                (Layout::Heap, Some(p)) => p >= n_nodes as usize - store.n && p < n_nodes as usize,
                (_, Some(p)) => p < store.n,
                (_, None) => false,
            };
            if !valid {
                return Err(bad(format!("record {r} points outside the leaves")));
            }
        }
        Ok(store)
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Number of claims.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false for a valid store.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The root the store was written for.
    pub fn root(&self) -> Hash32 {
        self.map[48..80].try_into().expect("32 bytes")
    }

    fn node(&self, i: usize) -> Option<Hash32> {
        let off = self.nodes_off + 32 * i;
        self.map
            .get(off..off + 32)
            .map(|s| s.try_into().expect("32 bytes"))
    }

    fn record(&self, r: usize) -> Option<(&[u8], u128, u64, usize)> {
        let off = self.records_off + RECORD * r;
        let b = self.map.get(off..off + RECORD)?;
        Some((
            &b[..self.addr_len],
            u128::from_le_bytes(b[32..48].try_into().ok()?),
            u64::from_le_bytes(b[48..56].try_into().ok()?),
            usize::try_from(u64::from_le_bytes(b[56..64].try_into().ok()?)).ok()?,
        ))
    }

    /// Look up `address` (raw 20- or 32-byte form).
    pub fn get_bytes(&self, address: &[u8]) -> Option<StoredClaim> {
        if address.len() != self.addr_len {
            return None;
        }
        let mask = self.n_slots - 1;
        let mut s = slot_hash(address) as usize & mask;
        for _ in 0..self.n_slots {
            let off = self.slots_off + 4 * s;
            let v = u32::from_le_bytes(self.map.get(off..off + 4)?.try_into().ok()?);
            if v == 0 {
                return None;
            }
            let (a, amount, index, pos) = self.record(v as usize - 1)?;
            if a == address {
                return Some(StoredClaim {
                    amount,
                    index,
                    proof: self.proof(pos)?,
                });
            }
            s = (s + 1) & mask;
        }
        None
    }

    /// Look up a parsed address.
    pub fn get(&self, address: &ClaimAddress) -> Option<StoredClaim> {
        self.get_bytes(address.as_bytes())
    }

    /// Look up an address string in the form the store's profile uses.
    pub fn get_str(&self, address: &str) -> Result<Option<StoredClaim>> {
        let a = ClaimAddress::parse_for(self.profile, address).map_err(MerkleError::Invalid)?;
        Ok(self.get(&a))
    }

    fn proof(&self, mut pos: usize) -> Option<Vec<Hash32>> {
        let mut proof = Vec::with_capacity(32);
        match self.layout {
            Layout::Heap => {
                while pos > 0 {
                    let s = if pos % 2 == 1 { pos + 1 } else { pos - 1 };
                    proof.push(self.node(s)?);
                    pos = (pos - 1) / 2;
                }
            }
            Layout::Promote | Layout::Duplicate => {
                for &(start, len) in &self.layers[..self.layers.len() - 1] {
                    let pair = pos ^ 1;
                    if pair < len {
                        proof.push(self.node(start + pair)?);
                    } else if self.layout == Layout::Duplicate {
                        proof.push(self.node(start + pos)?);
                    }
                    pos /= 2;
                }
            }
        }
        Some(proof)
    }
}
