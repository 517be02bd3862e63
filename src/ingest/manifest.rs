//! `manifest.json`: what a pull fetched, from where, and what it could not.
//! The audit reads its problems into the report's coverage, so a region
//! that was denied or an object that could not be read is never silently
//! missing from the evidence.

use serde::{Deserialize, Serialize};
use std::path::Path;

pub const SCHEMA: &str = "leastpriv.snapshot/v1";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    pub tool_version: String,
    pub account_id: String,
    /// The identity the pull ran as (an ARN, never a credential).
    pub caller_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed_role: Option<String>,
    /// Unix seconds.
    pub pulled_at: i64,
    pub finished_at: i64,
    pub since: i64,
    pub until: i64,
    pub regions: Vec<String>,
    /// `s3`, `lookup`, `s3+lookup` or `none`.
    pub event_source: String,
    pub iam: IamCounts,
    /// Log objects in the snapshot, for resuming and for audit trails.
    pub objects: Vec<Object>,
    /// LookupEvents records per region.
    pub lookup: Vec<LookupCount>,
    pub downloaded: Counts,
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamCounts {
    pub users: usize,
    pub groups: usize,
    pub roles: usize,
    pub policies: usize,
    pub pages: usize,
    pub access_keys: usize,
    pub access_advisor_principals: usize,
    pub credential_report: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Objects fetched in this run.
    pub fetched: usize,
    /// Objects kept from an earlier run (same key and ETag).
    pub reused: usize,
    pub bytes: u64,
    pub failed: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Object {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub size: u64,
    /// Relative to the snapshot.
    pub path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupCount {
    pub region: String,
    pub events: usize,
    pub pages: usize,
}

/// A part of the account the pull could not read.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// `iam`, `credential-report`, `access-advisor`, `trails`, `s3`, `lookup`.
    pub stage: String,
    /// What it was about: a region, an object, a principal.
    pub target: String,
    pub message: String,
}

impl Problem {
    pub fn new(stage: &str, target: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            stage: stage.into(),
            target: target.into(),
            message: message.into(),
        }
    }
}

impl Manifest {
    pub fn new(
        account_id: String,
        caller_arn: String,
        assumed_role: Option<String>,
        since: i64,
        until: i64,
        now: i64,
    ) -> Manifest {
        Manifest {
            schema: SCHEMA.into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            account_id,
            caller_arn,
            assumed_role,
            pulled_at: now,
            finished_at: now,
            since,
            until,
            event_source: "none".into(),
            ..Manifest::default()
        }
    }
}

/// Reads a manifest; errors name the file and the JSON path.
pub fn read(path: &Path) -> Result<Manifest, crate::ingest::IngestError> {
    let bytes = crate::ingest::read_file(path)?;
    crate::ingest::deserialize(&bytes, path)
}
