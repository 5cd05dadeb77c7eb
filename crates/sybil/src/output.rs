//! `clusters.csv`: `address,cluster_id,cluster_size,signals,score,action`, one row per
//! flagged candidate, sorted by cluster id then address, written atomically. Also the
//! readers used by `sybil-eval` and the appeals file.

use std::io::Write;
use std::path::Path;

use fairdrop_core::fsutil::AtomicFile;
use fairdrop_core::Address;

use crate::detect::{Action, Appeals, Report};
use crate::error::SybilError;
use crate::input::Interner;
use crate::load::parse_address;

/// Header of `clusters.csv`.
pub const HEADER: &str = "address,cluster_id,cluster_size,signals,score,action";

/// The CSV text of a report (deterministic: same report, same bytes).
pub fn clusters_csv(report: &Report, wallets: &Interner) -> String {
    let mut rows: Vec<(&str, String, String)> = Vec::with_capacity(report.verdicts.len());
    for v in &report.verdicts {
        let c = &report.clusters[v.cluster];
        let addr = wallets.address(v.wallet).to_string();
        let signals: Vec<&str> = v.signals.iter().map(|s| s.code()).collect();
        let line = format!(
            "{addr},{},{},{},{:.3},{}\n",
            c.id,
            c.members.len(),
            signals.join("|"),
            c.score,
            v.action.code()
        );
        rows.push((c.id.as_str(), addr, line));
    }
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut out = String::with_capacity(rows.len() * 120 + HEADER.len() + 1);
    out.push_str(HEADER);
    out.push('\n');
    for (_, _, line) in rows {
        out.push_str(&line);
    }
    out
}

/// Write `clusters.csv` atomically (temp file + rename).
pub fn write_clusters_csv(
    path: &Path,
    report: &Report,
    wallets: &Interner,
) -> Result<(), SybilError> {
    let text = clusters_csv(report, wallets);
    let werr = |e| SybilError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = AtomicFile::create(path).map_err(werr)?;
    f.write_all(text.as_bytes()).map_err(werr)?;
    f.commit().map_err(werr)
}

/// One row of a `clusters.csv` read back.
#[derive(Clone, Debug, PartialEq)]
pub struct PredictedRow {
    pub address: Address,
    pub cluster_id: String,
    pub action: Action,
}

/// Read a `clusters.csv` (columns found by header name; `address` required, `cluster_id`
/// and `action` optional: without `action` every row is a predicted sybil).
pub fn read_clusters_csv(path: &Path) -> Result<Vec<PredictedRow>, SybilError> {
    let text = std::fs::read_to_string(path).map_err(|e| SybilError::io(path, e))?;
    let mut lines = text.lines().enumerate();
    let (ia, ic, iact) = match lines.next() {
        Some((_, h)) => {
            let cols: Vec<&str> = h.split(',').map(|c| c.trim()).collect();
            let find = |n: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(n));
            match find("address") {
                Some(a) => (a, find("cluster_id"), find("action")),
                None => {
                    return Err(SybilError::line(
                        path,
                        1,
                        "sybil.header",
                        "header has no `address` column",
                    ))
                }
            }
        }
        None => return Err(SybilError::line(path, 1, "sybil.header", "file is empty")),
    };
    let mut out = Vec::new();
    for (i, line) in lines {
        let ln = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(|c| c.trim()).collect();
        let a = cols.get(ia).copied().unwrap_or("");
        let address = parse_address(a)
            .map_err(|e| SybilError::line(path, ln, e.rule(), format!("{a:?}: {e}")))?;
        let cluster_id = ic
            .and_then(|c| cols.get(c))
            .map(|s| s.to_string())
            .unwrap_or_default();
        let action = match iact.and_then(|c| cols.get(c)) {
            None => Action::Exclude,
            Some(s) => Action::parse(s).ok_or_else(|| {
                SybilError::line(path, ln, "sybil.action", format!("unknown action {s:?}"))
            })?,
        };
        out.push(PredictedRow {
            address,
            cluster_id,
            action,
        });
    }
    Ok(out)
}

/// Read an appeals file: one entry a line, either an address or a cluster id (`c` + 16 hex
/// digits); blank lines and `#` comments skipped.
pub fn read_appeals(path: &Path) -> Result<Appeals, SybilError> {
    let text = std::fs::read_to_string(path).map_err(|e| SybilError::io(path, e))?;
    let mut ap = Appeals::default();
    for (i, line) in text.lines().enumerate() {
        let t = line.split('#').next().unwrap_or("").trim();
        let t = t.split(',').next().unwrap_or("").trim();
        if t.is_empty() || (i == 0 && (t == "address" || t == "appeal")) {
            continue;
        }
        if t.len() == 17 && t.starts_with('c') && t[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
            ap.cluster_ids.push(t.to_ascii_lowercase());
            continue;
        }
        let a = parse_address(t).map_err(|e| {
            SybilError::line(
                path,
                i as u64 + 1,
                e.rule(),
                format!("{t:?} is neither an address nor a cluster id: {e}"),
            )
        })?;
        ap.addresses.push(a);
    }
    Ok(ap)
}
