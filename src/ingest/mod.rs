//! Raw input formats: IAM authorization details, credential reports, trail
//! configuration, CloudTrail records, the organization and its policies,
//! and resource policies.
//!
//! This layer knows the quirks of each AWS format and turns them into the
//! normalized `model`; nothing below it sees raw JSON.

pub mod cloudtrail;
pub mod credential_report;
pub mod iam;
pub mod identity_center;
pub mod last_accessed;
pub mod locate;
pub mod manifest;
pub mod org_snapshot;
pub mod organization;
pub mod policy_json;
pub mod resource_policies;
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
    #[error("`{path}` holds one snapshot per account ({}): audit each, e.g. `leastpriv audit {}`", accounts.join(", "), path.join(&accounts[0]).display())]
    SeveralAccounts {
        path: PathBuf,
        accounts: Vec<String>,
    },
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

/// Deserializes a JSON file into `T`; errors name the file and the line and
/// column (syntax) or the JSON path (shape).
pub(crate) fn deserialize<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    path: &std::path::Path,
) -> Result<T, IngestError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            IngestError::json(path, inner)
        } else {
            IngestError::Shape {
                path: path.to_path_buf(),
                location: format!("$.{}", e.path()),
                message: strip_position(&inner.to_string()),
            }
        }
    })
}

/// Reads a whole file, naming it on failure.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, IngestError> {
    std::fs::read(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })
}
