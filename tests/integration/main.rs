//! The integration tests, as one test binary: each file of this directory
//! is a module. One binary links the library (with polars and the AWS SDK)
//! once; a binary per file linked it twenty times (ripgrep's `tests/tests.rs`,
//! zizmor's `tests/integration/main.rs`).
//!
//! The modules run as threads of one process: a test may not change the
//! process's environment or current directory (run the binary with
//! `common::leastpriv().env(..)` or `.current_dir(..)` instead).

/// `insta::assert_snapshot!` with the snapshot kept as
/// `tests/snapshots/<file>__<name>.snap`, the name it had when each file was
/// its own test binary.
macro_rules! assert_snapshot {
    ($name:expr, $($rest:tt)*) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($crate::snapshot_name(module_path!(), $name), $($rest)*);
        })
    };
}

/// `insta::assert_json_snapshot!`, named as [`assert_snapshot!`] names it.
macro_rules! assert_json_snapshot {
    ($name:expr, $($rest:tt)*) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_json_snapshot!($crate::snapshot_name(module_path!(), $name), $($rest)*);
        })
    };
}

#[path = "../common/mod.rs"]
mod common;

mod access;
mod alerts;
mod baseline;
mod check_policies;
mod ci_mode;
mod cli;
mod config;
mod corpus;
mod demo;
mod drift;
mod evaluator;
mod exports;
mod fuzz_regressions;
mod hostile;
mod layout;
mod mapping_rules;
mod organization;
mod proof;
mod properties;
mod pull;
mod pull_org;
mod recommend;
mod recommend_units;
mod recommend_volume;
mod record_kinds;
mod reports;
mod reviewable;
mod rules;
mod secrets;
mod session_tags;
mod store;
mod ux;
mod verdicts;
mod who_can;

/// `cli__help` for the snapshot `help` of `integration::cli` (or of a module
/// inside it).
fn snapshot_name(module_path: &str, name: &str) -> String {
    let file = module_path.split("::").nth(1).unwrap_or(module_path);
    format!("{file}__{name}")
}
