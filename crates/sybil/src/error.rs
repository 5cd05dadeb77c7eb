//! Errors of the sybil stage. Every input error names the file and the 1-based line.

use std::path::PathBuf;

/// Why a sybil run cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum SybilError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line of an input file breaks a rule (`rule` is a stable code).
    #[error("{path}:{line}: {message} [{rule}]")]
    Line {
        path: PathBuf,
        line: u64,
        rule: &'static str,
        message: String,
    },
    /// A model file is unreadable or does not fit the inputs, or training cannot run.
    #[error("{path}: {message}")]
    Model { path: PathBuf, message: String },
    /// Writing the output failed.
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SybilError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SybilError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn line(
        path: impl Into<PathBuf>,
        line: u64,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        SybilError::Line {
            path: path.into(),
            line,
            rule,
            message: message.into(),
        }
    }

    /// Stable rule code for line errors (`io` / `write` otherwise).
    pub fn rule(&self) -> &'static str {
        match self {
            SybilError::Io { .. } => "sybil.io",
            SybilError::Line { rule, .. } => rule,
            SybilError::Write { .. } => "sybil.write",
            SybilError::Model { .. } => "sybil.model",
        }
    }
}
