//! `wallets.csv`: one line per scored wallet, sorted by address.
//!
//! Columns: `address,eligible,points,tier,reasons,sentences` — `reasons` is the `;`-joined
//! reason codes, `sentences` the matching human sentences joined by ` | `.

use std::path::Path;

use fairdrop_core::fsutil::AtomicFile;

use crate::{io, RunError, WalletState};

pub fn write_wallets_csv(path: &Path, wallets: &[WalletState]) -> Result<(), RunError> {
    use rayon::prelude::*;
    use std::io::Write;
    // Large and written once, start to end: around the page cache.
    let mut f = AtomicFile::create_direct(path).map_err(io(path))?;
    let e = |e: csv::Error| RunError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    };
    // Chunks of lines are formatted in parallel and appended in wallet order; every chunk uses
    // the same writer settings, so the bytes are those of one writer.
    let chunk = |ws: &[WalletState], header: bool| -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::with_capacity(ws.len() * 200));
        if header {
            w.write_record([
                "address",
                "eligible",
                "points",
                "tier",
                "reasons",
                "sentences",
            ])?;
        }
        for s in ws {
            let sc = &s.score;
            let codes: Vec<&str> = sc.reasons.iter().map(|r| r.code.as_str()).collect();
            let sentences: Vec<&str> = sc.reasons.iter().map(|r| r.sentence.as_str()).collect();
            w.write_record([
                sc.address.as_str(),
                if sc.eligible { "true" } else { "false" },
                &sc.points.to_string(),
                &sc.tier,
                &codes.join(";"),
                &sentences.join(" | "),
            ])?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    };
    f.write_all(&chunk(&[], true).map_err(e)?)
        .map_err(io(path))?;
    for group in wallets.chunks(8192 * 8) {
        let parts: Vec<Vec<u8>> = group
            .par_chunks(8192)
            .map(|ws| chunk(ws, false))
            .collect::<Result<_, _>>()
            .map_err(e)?;
        for p in parts {
            f.write_all(&p).map_err(io(path))?;
        }
    }
    f.commit().map_err(io(path))
}
