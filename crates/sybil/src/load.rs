//! Loaders for Hop-style inputs: `from,to` transfer CSV(.gz) files, hub / allow / candidate
//! lists (one address a line) and `address,label` label files.
//!
//! Addresses are `0x…` or PostgreSQL `\x…` EVM hex, or Aleo `aleo1…`, parsed strictly by
//! [`fairdrop_core::Address`]. Every error names the file and the 1-based line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use fairdrop_core::Address;

use crate::error::SybilError;
use crate::input::{Interner, SybilInput, Transfer, WalletId};

/// Open a file, decompressing gzip when the name ends in `.gz`.
fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, SybilError> {
    let f = File::open(path).map_err(|e| SybilError::io(path, e))?;
    let gz = path
        .extension()
        .map(|e| e.eq_ignore_ascii_case("gz"))
        .unwrap_or(false);
    let r: Box<dyn Read + Send> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 20,
            f,
        )))
    } else {
        Box::new(f)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, r)))
}

/// Parse one address; a fast path for lowercase EVM hex, [`Address::parse`] otherwise.
pub fn parse_address(s: &str) -> Result<Address, fairdrop_core::address::AddressError> {
    let b = s.as_bytes();
    if b.len() == 42 && (b[0] == b'0' || b[0] == b'\\') && b[1] == b'x' {
        let mut out = [0u8; 20];
        let mut ok = true;
        for i in 0..20 {
            let hi = lower_hex(b[2 + 2 * i]);
            let lo = lower_hex(b[3 + 2 * i]);
            match (hi, lo) {
                (Some(h), Some(l)) => out[i] = (h << 4) | l,
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok(Address::Evm(out));
        }
    }
    Address::parse(s)
}

#[inline]
fn lower_hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
}

/// Read lines of `path`, calling `f(line_no, line)` for each non-empty one.
fn for_lines(
    path: &Path,
    mut f: impl FnMut(u64, &str) -> Result<(), SybilError>,
) -> Result<(), SybilError> {
    let mut r = open(path)?;
    let mut buf = String::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = r.read_line(&mut buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                SybilError::line(path, line_no + 1, "sybil.utf8", "line is not valid UTF-8")
            } else {
                SybilError::io(path, e)
            }
        })?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        let line = buf.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        f(line_no, line)?;
    }
}

/// The edges of one transfer file, interned locally (merged in file order afterwards so the
/// global ids do not depend on thread timing).
struct FileEdges {
    local: Interner,
    edges: Vec<(WalletId, WalletId)>,
}

fn read_transfer_file(path: &Path) -> Result<FileEdges, SybilError> {
    let mut local = Interner::new();
    let mut edges = Vec::new();
    let mut cols: Option<(usize, usize, usize)> = None; // (from, to, n_columns)
    for_lines(path, |line_no, line| {
        let Some((ci_from, ci_to, ncol)) = cols else {
            let names: Vec<String> = line
                .split(',')
                .map(|c| unquote(c).to_ascii_lowercase())
                .collect();
            let from = names.iter().position(|c| c == "from");
            let to = names.iter().position(|c| c == "to");
            match (from, to) {
                (Some(f), Some(t)) => {
                    cols = Some((f, t, names.len()));
                    return Ok(());
                }
                _ => {
                    return Err(SybilError::line(
                        path,
                        line_no,
                        "sybil.header",
                        format!("header must name columns `from` and `to`, got {line:?}"),
                    ))
                }
            }
        };
        let mut from = None;
        let mut to = None;
        let mut n = 0usize;
        for (i, c) in line.split(',').enumerate() {
            if i == ci_from {
                from = Some(c);
            }
            if i == ci_to {
                to = Some(c);
            }
            n = i + 1;
        }
        if n != ncol {
            return Err(SybilError::line(
                path,
                line_no,
                "sybil.columns",
                format!("expected {ncol} columns, got {n}"),
            ));
        }
        let (Some(f), Some(t)) = (from, to) else {
            return Err(SybilError::line(
                path,
                line_no,
                "sybil.columns",
                "missing from/to",
            ));
        };
        let fa = parse_address(unquote(f)).map_err(|e| {
            SybilError::line(
                path,
                line_no,
                e.rule(),
                format!("from {:?}: {e}", unquote(f)),
            )
        })?;
        let ta = parse_address(unquote(t)).map_err(|e| {
            SybilError::line(path, line_no, e.rule(), format!("to {:?}: {e}", unquote(t)))
        })?;
        edges.push((local.intern(fa), local.intern(ta)));
        Ok(())
    })?;
    if cols.is_none() {
        return Err(SybilError::line(
            path,
            1,
            "sybil.header",
            "file is empty: no `from,to` header",
        ));
    }
    Ok(FileEdges { local, edges })
}

/// A list or transfer file's name up to its first dot (`hubs/exchange.txt` → `exchange`).
pub fn source_name(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    name.split('.').next().unwrap_or("").to_string()
}

/// Read `from,to` transfer files (CSV or CSV.gz; other columns are ignored) into `input`,
/// in parallel across files. Row order within and across files is kept.
pub fn load_transfers(input: &mut SybilInput, paths: &[PathBuf]) -> Result<(), SybilError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    // Largest files first so that the threads finish together; results keep file order.
    let mut order: Vec<usize> = (0..paths.len()).collect();
    let size = |p: &PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    order.sort_by_key(|&i| (std::cmp::Reverse(size(&paths[i])), i));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Result<FileEdges, SybilError>>>> =
        paths.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads.min(paths.len()) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = order.get(k) else { break };
                let r = read_transfer_file(&paths[i]);
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    for (i, slot) in slots.into_iter().enumerate() {
        let r = slot.into_inner().ok().flatten().unwrap_or_else(|| {
            Err(SybilError::line(
                &paths[i],
                0,
                "sybil.io",
                "reader thread failed",
            ))
        })?;
        let map: Vec<WalletId> = r
            .local
            .addresses()
            .iter()
            .map(|a| input.wallets.intern(*a))
            .collect();
        input.transfers.reserve(r.edges.len());
        input
            .sources
            .push((input.transfers.len(), source_name(&paths[i])));
        for (f, t) in r.edges {
            input
                .transfers
                .push(Transfer::edge(map[f as usize], map[t as usize]));
        }
    }
    Ok(())
}

/// Read a list of addresses, one a line (blank lines, `#` comments and an `address` header
/// are skipped; with several columns the first is taken).
pub fn read_address_list(path: &Path) -> Result<Vec<Address>, SybilError> {
    let mut out = Vec::new();
    for_lines(path, |line_no, line| {
        let t = line.trim();
        if t.starts_with('#') {
            return Ok(());
        }
        let first = unquote(t.split(',').next().unwrap_or(""));
        if line_no == 1 && first.eq_ignore_ascii_case("address") {
            return Ok(());
        }
        let a = parse_address(first)
            .map_err(|e| SybilError::line(path, line_no, e.rule(), format!("{first:?}: {e}")))?;
        out.push(a);
        Ok(())
    })?;
    Ok(out)
}

/// Add every address of the hub files to `input.hubs`.
pub fn load_hubs(input: &mut SybilInput, paths: &[PathBuf]) -> Result<(), SybilError> {
    for p in paths {
        for a in read_address_list(p)? {
            input.add_hub(a);
        }
    }
    Ok(())
}

/// Add every address of the hub files to `input.hubs`, and return them as named lists (the
/// file name up to its first dot, e.g. `deposit_address` for `hubs/deposit_address.txt`),
/// sorted by name; files with the same name make one list.
pub fn load_hub_lists(
    input: &mut SybilInput,
    paths: &[PathBuf],
) -> Result<Vec<crate::features::HubList>, SybilError> {
    let mut by_name: std::collections::BTreeMap<String, Vec<crate::input::WalletId>> =
        std::collections::BTreeMap::new();
    for p in paths {
        let list = by_name.entry(source_name(p)).or_default();
        for a in read_address_list(p)? {
            let id = input.wallet(a);
            input.hubs.push(id);
            list.push(id);
        }
    }
    Ok(by_name
        .into_iter()
        .map(|(name, wallets)| crate::features::HubList { name, wallets })
        .collect())
}

/// Add every address of the allow file(s) to `input.allow`.
pub fn load_allow(input: &mut SybilInput, paths: &[PathBuf]) -> Result<(), SybilError> {
    for p in paths {
        for a in read_address_list(p)? {
            input.add_allow(a);
        }
    }
    Ok(())
}

/// Add every address of the candidate file(s) to `input.candidates`.
pub fn load_candidates(input: &mut SybilInput, paths: &[PathBuf]) -> Result<(), SybilError> {
    for p in paths {
        for a in read_address_list(p)? {
            input.add_candidate(a);
        }
    }
    Ok(())
}

/// A ground-truth label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    Sybil,
    Clean,
}

/// Read `address,label` (label `sybil`/`clean`, also `1`/`0`, `true`/`false`), header
/// required. Returned sorted by address; a repeated address must repeat the same label.
pub fn read_labels(path: &Path) -> Result<Vec<(Address, Label)>, SybilError> {
    let mut out: Vec<(Address, Label, u64)> = Vec::new();
    let mut header = false;
    for_lines(path, |line_no, line| {
        let mut it = line.split(',');
        let a = unquote(it.next().unwrap_or(""));
        let l = unquote(it.next().unwrap_or(""));
        if !header {
            header = true;
            if a.eq_ignore_ascii_case("address") {
                return Ok(());
            }
            return Err(SybilError::line(
                path,
                line_no,
                "sybil.header",
                format!("header must be `address,label`, got {line:?}"),
            ));
        }
        let addr = parse_address(a)
            .map_err(|e| SybilError::line(path, line_no, e.rule(), format!("{a:?}: {e}")))?;
        let label = match l.to_ascii_lowercase().as_str() {
            "sybil" | "1" | "true" => Label::Sybil,
            "clean" | "0" | "false" => Label::Clean,
            _ => {
                return Err(SybilError::line(
                    path,
                    line_no,
                    "sybil.label",
                    format!("label {l:?} is not sybil/clean"),
                ))
            }
        };
        out.push((addr, label, line_no));
        Ok(())
    })?;
    out.sort();
    let mut res: Vec<(Address, Label)> = Vec::with_capacity(out.len());
    for (a, l, line_no) in out {
        if let Some(&(pa, pl)) = res.last() {
            if pa == a {
                if pl != l {
                    return Err(SybilError::line(
                        path,
                        line_no,
                        "sybil.label_conflict",
                        format!("{a} is labelled both {pl:?} and {l:?}"),
                    ));
                }
                continue;
            }
        }
        res.push((a, l));
    }
    Ok(res)
}

/// Paths of a folder's files whose names end with `suffix`, sorted by name.
pub fn files_in(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, SybilError> {
    let rd = std::fs::read_dir(dir).map_err(|e| SybilError::io(dir, e))?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|e| SybilError::io(dir, e))?;
        let p = e.path();
        if p.file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.ends_with(suffix))
            .unwrap_or(false)
        {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Load a Hop-shaped folder: `transfers/*.csv(.gz)`, `hubs/*.txt` (all but `allow.txt`) as
/// hubs, `hubs/allow.txt` as the allow list, `candidates.txt`.
pub fn load_hop_dir(dir: &Path) -> Result<SybilInput, SybilError> {
    Ok(load_hop_dir_lists(dir)?.0)
}

/// [`load_hop_dir`], also returning the hub lists by name (for [`crate::features`]).
pub fn load_hop_dir_lists(
    dir: &Path,
) -> Result<(SybilInput, Vec<crate::features::HubList>), SybilError> {
    let mut input = SybilInput::new();
    let mut transfers = files_in(&dir.join("transfers"), ".csv.gz")?;
    transfers.extend(files_in(&dir.join("transfers"), ".csv")?);
    transfers.sort();
    load_transfers(&mut input, &transfers)?;
    let hubs: Vec<PathBuf> = files_in(&dir.join("hubs"), ".txt")?
        .into_iter()
        .filter(|p| p.file_name().map(|n| n != "allow.txt").unwrap_or(true))
        .collect();
    let lists = load_hub_lists(&mut input, &hubs)?;
    let allow = dir.join("hubs").join("allow.txt");
    if allow.exists() {
        load_allow(&mut input, &[allow])?;
    }
    load_candidates(&mut input, &[dir.join("candidates.txt")])?;
    Ok((input, lists))
}
