//! The one error type of the crate. Every message says what was wrong and, where there is one,
//! which file and line.

use std::path::PathBuf;

/// Everything that can go wrong building, loading, proving or verifying.
#[derive(Debug, thiserror::Error)]
pub enum MerkleError {
    /// A row of an allocations CSV is invalid.
    #[error("{path}:{line}: {msg}")]
    Csv {
        path: PathBuf,
        line: u64,
        msg: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A dump's `format` is not one we know.
    #[error("unknown tree format '{0}' (expected 'standard-v1')")]
    UnknownFormat(String),
    /// A dump is not shaped like a `standard-v1` dump.
    #[error("invalid tree dump: {0}")]
    InvalidDump(String),
    /// A dump whose nodes or values do not hash to what it claims.
    #[error("tampered tree dump: {0}")]
    Tampered(String),
    /// A hex string that is not what it should be.
    #[error("bad hex in {what}: {detail}")]
    BadHex { what: String, detail: String },
    /// A leaf value that does not fit its ABI type.
    #[error("invalid leaf value: {0}")]
    InvalidValue(String),
    /// A leaf encoding we do not support.
    #[error("unsupported leaf encoding type {0:?} (supported: address, uint8..uint256, bytes32)")]
    UnsupportedType(String),
    /// A tree with no leaves.
    #[error("a Merkle tree needs at least one leaf")]
    Empty,
    /// An index or address not in the tree.
    #[error("{0}")]
    NotFound(String),
    /// A bad argument (duplicate index, wrong profile for an address, ...).
    #[error("{0}")]
    Invalid(String),
    /// A proof that does not check out; the message says which check failed.
    #[error("verification failed: {0}")]
    Verify(String),
    /// A proof store file that is not valid.
    #[error("proof store {path}: {msg}")]
    Store { path: PathBuf, msg: String },
}

impl MerkleError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MerkleError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`MerkleError`].
pub type Result<T, E = MerkleError> = std::result::Result<T, E>;
