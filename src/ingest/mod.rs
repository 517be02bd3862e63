//! Raw input formats: IAM authorization details, credential reports, trail
//! configuration and CloudTrail records.
//!
//! This layer knows the quirks of each AWS format and turns them into the
//! normalized `model`; nothing below it sees raw JSON.

pub mod cloudtrail;
pub mod credential_report;
pub mod iam;
pub mod policy_json;
pub mod snapshot;
pub mod trails;

use std::path::PathBuf;

/// An input that cannot be read or understood. Every variant names the file
/// and, where there is one, the place in it.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}`: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{path}`: at `{location}`: {message}")]
    Shape {
        path: PathBuf,
        location: String,
        message: String,
    },
    #[error("`{path}`: line {line}: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("snapshot `{path}` has no `iam.json` (and no `--iam` was given)")]
    NoIam { path: PathBuf },
}

impl IngestError {
    pub(crate) fn json(path: &std::path::Path, e: &serde_json::Error) -> Self {
        IngestError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        }
    }
}

/// serde_json appends " at line L column C"; we report those as fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Reads a whole file, naming it on failure.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, IngestError> {
    std::fs::read(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })
}
