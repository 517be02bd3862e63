//! leastpriv: a least-privilege auditor for AWS.
//!
//! The crate is a pipeline, and the module tree follows it: records →
//! mapped actions → activity → verdicts → findings → recommendations →
//! renderers. Each module may import only those listed before it here
//! (`tests/integration/layout.rs` fails when two top-level modules come to
//! import each other):
//!
//! - `util`, `output`, `progress`: leaves (time as text, the hash map of the
//!   hot paths; atomic file writes; progress reporting without printing);
//! - `catalog`: the AWS action catalog, embedded, and wildcard matching;
//! - `model`: the normalized account (principals, policies, statements, a
//!   principal's kind); `config`: the settings of `leastpriv.yaml`;
//! - `policy`: evaluation of grants as IAM does;
//! - `ingest`: the raw input formats (IAM, CloudTrail records, trails,
//!   credential report, Access Advisor, a pull's manifest);
//! - `usage`: CloudTrail records → mapped actions → per-principal activity;
//! - `pull`: a live account into a snapshot (its activity aggregated by `usage`);
//! - `verdict`: granted versus used, per principal and action;
//! - `rules`: findings (classification, risk, guardrails, the rule registry)
//!   and the rule files they read; `baseline`: accepted findings;
//! - `audit`: the pipeline end to end; its `Audit` carries the catalog it was
//!   made with, and everything after reads it;
//! - `accounts`: an audit of several accounts (an organization snapshot)
//!   summarized per account, and what crosses accounts;
//! - `who`: for one identity (a person, a role, an agent), what it did,
//!   was refused and can do across the audited accounts, and the session
//!   chains behind it;
//! - `who_can`: for one resource, who may act on it (identity, resource,
//!   key and trust policies, SCPs and RCPs), who did, who was refused;
//! - `secrets`, `recommend`: the secrets view (built on `who_can`) and
//!   right-sized policies;
//! - `alerts`: EventBridge rules and metric filters per principal, from the
//!   audit, its guardrails and the recommendations;
//! - `report`: one pure renderer per output format;
//! - `drift`: the `diff` command, reading what the renderers wrote.
//!
//! The library never prints and never exits: the binary (`src/bin/leastpriv/`)
//! does.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod baseline;
pub mod catalog;
pub mod config;
pub mod drift;
pub mod exclusions;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod model;
pub mod notices;
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
pub mod who;
pub mod who_can;
