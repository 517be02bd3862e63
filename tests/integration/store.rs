//! The activity store: `audit --save-activity` (and `pull`) keep aggregated
//! activity as `activity.parquet` + `activity.json`; a later audit of the
//! same window reads it instead of the logs, and refuses or re-reads when it
//! does not fit.

use crate::common::{copy_dir, leastpriv, repo};
use polars::prelude::*;
use std::path::Path;

/// A copy of the demo snapshot in a temp directory.
fn demo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("fixtures/demo"), t.path());
    t
}

/// The report without its input list, which names the store when it is used.
fn report(dir: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let run = leastpriv()
        .arg("-v")
        .args(["audit", "--format", "json"])
        .arg(dir)
        .args(extra)
        .tmp(dir)
        .run();
    run.code(0);
    let mut v = run.json();
    v["coverage"].as_object_mut().unwrap().remove("inputs");
    (v, run.stderr.clone())
}

#[test]
fn a_saved_store_gives_the_same_report_without_the_logs() {
    let t = demo();
    let (from_logs, _) = report(t.path(), &[]);
    let (saved, stderr) = report(t.path(), &["--save-activity"]);
    assert!(stderr.contains("activity saved"), "{stderr}");
    assert_eq!(from_logs, saved);
    assert!(t.path().join("activity.parquet").is_file());
    assert!(t.path().join("activity.json").is_file());

    // Without the logs, the store alone must carry every figure.
    std::fs::remove_dir_all(t.path().join("cloudtrail")).unwrap();
    let (from_store, stderr) = report(t.path(), &[]);
    assert!(stderr.contains("logs not re-read"), "{stderr}");
    assert_eq!(from_logs, from_store);

    // And the store is named among the inputs, with its hash.
    let run = leastpriv()
        .args(["audit", "--format", "json"])
        .arg(t.path())
        .run();
    let inputs = run.json()["coverage"]["inputs"].to_string();
    assert!(inputs.contains("activity.json"), "{inputs}");
}

#[test]
fn the_parquet_file_has_the_documented_columns_and_the_evidence() {
    let t = demo();
    report(t.path(), &["--save-activity"]);
    let df = ParquetReader::new(std::fs::File::open(t.path().join("activity.parquet")).unwrap())
        .finish()
        .unwrap();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, leastpriv::usage::store::COLUMNS);
    let action = df.column("action").unwrap().str().unwrap().clone();
    let principal = df.column("principal").unwrap().str().unwrap().clone();
    let count = df.column("count").unwrap().u64().unwrap().clone();
    let outcome = df.column("outcome").unwrap().str().unwrap().clone();
    let row = (0..df.height())
        .find(|&i| {
            action.get(i) == Some("kms:Decrypt")
                && principal.get(i).unwrap().ends_with("/orders-api")
                && outcome.get(i) == Some("success")
        })
        .expect("a kms:Decrypt row for orders-api");
    // The same 60 calls the CSV export and the JSON report show.
    assert_eq!(count.get(row), Some(60));
}

#[test]
fn another_window_re_reads_the_logs_or_is_refused_without_them() {
    let t = demo();
    let window = ["--since", "2026-10-01", "--until", "2026-10-31"];
    report(t.path(), &["--save-activity"]);
    // The logs are there: a different window re-reads them.
    let (with_window, stderr) = report(t.path(), &window);
    assert!(stderr.contains("reading the logs instead"), "{stderr}");
    let (fresh, _) = report(t.path(), &[&window[..], &["--reread-logs"]].concat());
    assert_eq!(with_window, fresh);

    std::fs::remove_dir_all(t.path().join("cloudtrail")).unwrap();
    let run = leastpriv()
        .args(["audit"])
        .arg(t.path())
        .args(window)
        .tmp(t.path())
        .run();
    run.code(2);
    assert!(run.stderr.contains("activity.json"), "{}", run.stderr);
    assert!(run.stderr.contains("window"), "{}", run.stderr);
}

#[test]
fn changed_logs_make_the_store_stale() {
    let t = demo();
    report(t.path(), &["--save-activity"]);
    let (before, _) = report(t.path(), &[]);
    // One more event delivered after the store was written.
    let extra = serde_json::json!({"Records": [{
        "eventVersion": "1.08", "eventTime": "2026-10-20T10:00:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
        "eventID": "store-test-extra-event", "awsRegion": "us-east-1",
        "userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/orders-api/s1",
            "accountId": "123456789012",
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": "arn:aws:iam::123456789012:role/orders-api"}}}
    }]});
    std::fs::write(
        t.path().join("cloudtrail/late-delivery.json"),
        serde_json::to_vec(&extra).unwrap(),
    )
    .unwrap();
    let (after, stderr) = report(t.path(), &[]);
    assert!(stderr.contains("log files changed"), "{stderr}");
    assert_ne!(before, after);
    assert_eq!(
        after["coverage"]["records"].as_u64(),
        before["coverage"]["records"].as_u64().map(|n| n + 1),
        "the late event is counted"
    );
}

#[test]
fn a_damaged_store_is_an_error_naming_the_file() {
    let t = demo();
    report(t.path(), &["--save-activity"]);
    std::fs::remove_dir_all(t.path().join("cloudtrail")).unwrap();
    let parquet = t.path().join("activity.parquet");
    let bytes = std::fs::read(&parquet).unwrap();
    std::fs::write(&parquet, &bytes[..bytes.len() / 2]).unwrap();
    let run = leastpriv().arg("audit").arg(t.path()).tmp(t.path()).run();
    run.code(2);
    assert!(run.stderr.contains("activity.parquet"), "{}", run.stderr);
    assert!(run.stderr.contains("SHA-256"), "{}", run.stderr);

    std::fs::write(t.path().join("activity.json"), b"{\"schema\": 7").unwrap();
    let run = leastpriv().arg("audit").arg(t.path()).tmp(t.path()).run();
    run.code(2);
    assert!(run.stderr.contains("activity.json"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn save_activity_needs_a_snapshot_directory() {
    let demo = repo().join("fixtures/demo");
    let run = leastpriv()
        .args(["audit", "--save-activity", "--iam"])
        .arg(demo.join("iam.json"))
        .arg("--cloudtrail")
        .arg(demo.join("cloudtrail"))
        .run();
    run.code(2);
    assert!(run.stderr.contains("--save-activity"), "{}", run.stderr);
}
