//! leastpriv: a least-privilege auditor for AWS.
//!
//! The crate is a pipeline, and the module tree follows it: `ingest` reads raw
//! inputs, `model` holds the normalized account, `policy` evaluates grants as IAM
//! does, `usage` turns CloudTrail records into per-principal activity, `verdict`
//! compares granted against used, `rules` turns that into findings and `report`
//! renders them. The library never prints and never exits: the binary does.
#![forbid(unsafe_code)]

pub mod audit;
pub mod baseline;
pub mod catalog;
pub mod config;
pub mod drift;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod model;
pub mod output;
pub mod policy;
pub mod progress;
#[cfg(feature = "aws")]
pub mod pull;
pub mod recommend;
pub mod report;
pub mod rules;
pub mod secrets;
pub mod usage;
pub mod util;
pub mod verdict;
