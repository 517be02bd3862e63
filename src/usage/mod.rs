//! From CloudTrail records to per-principal activity.
//!
//! `read` reads the log files, record by record; `dedup` counts a record that
//! arrives twice once; `attribution` decides which principal a record counts
//! for; `mapping` turns an event into IAM actions and `error_codes` says how the call ended
//! (`rules/error-codes.yaml`); `fold` adds one call to the
//! `activity`, whose size grows with principals × actions, never with events;
//! `store` keeps it in the snapshot as Parquet for later audits.
//!
//! This stage reads records (`ingest`) and the catalog; it knows nothing of
//! grants, verdicts or findings, which come after it.

pub mod activity;
pub mod attribution;
pub mod chain_store;
pub mod chains;
pub mod channel;
mod dedup;
pub mod error_codes;
pub mod fold;
pub mod mapping;
#[cfg(test)]
mod merge_test;
pub mod name_map;
pub mod passrole;
pub mod read;
pub mod resources;
#[cfg(feature = "parquet")]
pub mod store;
pub mod summary;

pub use activity::{
    ActionStats, Activity, ActorActivity, IngestStats, Outcome, ResourceSample, SessionsGranted,
};
pub use attribution::{Actor, ActorKind};
pub use error_codes::PolicyType;
pub use read::{ingest, IngestOptions};
pub use summary::ResourceSummary;
