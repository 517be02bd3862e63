//! From CloudTrail records to per-principal activity.
//!
//! `mapping` turns an event into IAM actions; `attribution` decides which
//! principal a record counts for; `aggregate` folds records into `Activity`,
//! whose size grows with principals × actions, never with events; `store`
//! keeps it in the snapshot as Parquet for later audits.

pub mod aggregate;
pub mod attribution;
pub mod mapping;
pub mod resources;
#[cfg(feature = "parquet")]
pub mod store;

pub use aggregate::{
    ingest, ActionStats, Activity, ActorActivity, IngestOptions, IngestStats, Outcome,
};
pub use attribution::{Actor, ActorKind};
