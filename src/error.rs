//! Library errors. Every input error names the file and, where it applies,
//! the place in it (line, column, channel) and what was expected.

use std::path::{Path, PathBuf};

/// Result type used throughout the library.
pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The content of an input file is not what was expected.
    #[error("{}: {msg}", path.display())]
    Input { path: PathBuf, msg: String },

    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A configuration value is out of range or inconsistent.
    #[error("configuration: {0}")]
    Config(String),

    /// A signal handed to a DSP routine does not suit it (too short for the
    /// filter's padding, non-finite samples); callers that know the file
    /// and channel say so around it.
    #[error("signal: {0}")]
    Signal(String),

    /// An output file or folder could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An input error at `path` with a message that says where and what was expected.
    pub fn input(path: &Path, msg: impl Into<String>) -> Self {
        Error::Input {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn output(path: &Path, source: std::io::Error) -> Self {
        Error::Output {
            path: path.to_path_buf(),
            source,
        }
    }
}
