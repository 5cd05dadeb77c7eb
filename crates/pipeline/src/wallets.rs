//! `wallets.csv`: one line per scored wallet, sorted by address.
//!
//! Columns: `address,eligible,points,tier,reasons,sentences` — `reasons` is the `;`-joined
//! reason codes, `sentences` the matching human sentences joined by ` | `.

use std::path::Path;

use fairdrop_core::fsutil::AtomicFile;

use crate::{io, RunError, WalletState};

pub fn write_wallets_csv(path: &Path, wallets: &[WalletState]) -> Result<(), RunError> {
    let f = AtomicFile::create(path).map_err(io(path))?;
    let mut w = csv::Writer::from_writer(f);
    let e = |e: csv::Error| RunError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    };
    w.write_record([
        "address",
        "eligible",
        "points",
        "tier",
        "reasons",
        "sentences",
    ])
    .map_err(e)?;
    for s in wallets {
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
        ])
        .map_err(e)?;
    }
    let f = w.into_inner().map_err(|e| RunError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    f.commit().map_err(io(path))
}
