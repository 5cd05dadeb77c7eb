//! The crate's error type (start-up, ledger and export errors). HTTP errors are
//! [`crate::api::ApiError`].

use std::path::PathBuf;

/// Everything that can stop the service from starting, or an export/report from running.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// A dist file is missing or malformed; the message names the file (and line).
    #[error("{path}: {msg}")]
    Dist { path: PathBuf, msg: String },
    /// The manifest signature does not verify, or the signing key is not the campaign key.
    #[error("refusing to serve: {0}")]
    Signature(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The SQLite ledger failed.
    #[error("ledger {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The ledger is newer than this binary, or otherwise not one we can use.
    #[error("ledger {path}: {msg}")]
    Ledger { path: PathBuf, msg: String },
    /// A bad configuration or argument.
    #[error("{0}")]
    Config(String),
}

impl ClaimError {
    pub(crate) fn dist(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        ClaimError::Dist {
            path: path.into(),
            msg: msg.into(),
        }
    }
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ClaimError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`ClaimError`].
pub type Result<T, E = ClaimError> = std::result::Result<T, E>;
