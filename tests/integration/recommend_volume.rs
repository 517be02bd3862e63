//! Right-sizing at volume (issue 25): a CI role that wrote 300 build
//! artifacts, more distinct resources than the sample keeps, is narrowed
//! through the resource summary to the artifacts' prefix, never left at
//! `*`; whatever the file split, the thread count, or whether the activity
//! came from the logs or the activity store. Fixture:
//! `tests/fixtures/ci-artifacts` (`generate.py`).

use crate::common::{fixture, leastpriv};
use leastpriv::catalog::wildcard_match_case_sensitive;
use serde_json::Value;
use std::path::Path;

const PREFIX: &str = "arn:aws:s3:::ci-artifacts/artifacts/builds/*";

/// `recommend --format json` of a snapshot directory, the role's entry.
fn recommend(dir: &Path, threads: &str) -> Value {
    let run = leastpriv()
        .args(["recommend", "--format", "json"])
        .arg(dir)
        .env("RAYON_NUM_THREADS", threads)
        .tmp(dir)
        .run();
    run.code(0);
    let v = run.json();
    let recs = v["recommendations"].as_array().expect("recommendations");
    recs.iter()
        .find(|r| r["name"] == "ci-builder")
        .cloned()
        .expect("a recommendation for ci-builder")
}

fn statement_for<'a>(rec: &'a Value, action: &str) -> &'a Value {
    rec["policy"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["Action"] == action
                || s["Action"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == action))
        })
        .unwrap_or_else(|| panic!("no statement for {action}: {}", rec["policy"]))
}

fn resources(st: &Value) -> Vec<String> {
    match &st["Resource"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        other => panic!("no Resource: {other}"),
    }
}

/// Every object ARN the role wrote, from the fixture's records.
fn written() -> Vec<String> {
    let text =
        std::fs::read_to_string(fixture("ci-artifacts").join("cloudtrail/events.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["Records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["eventName"] == "PutObject")
        .map(|r| r["resources"][0]["ARN"].as_str().unwrap().to_string())
        .collect()
}

/// The fixture's trail as the snapshot's `cloudtrail/`; its path.
fn copy_logs(to: &Path) -> std::path::PathBuf {
    let logs = to.join("cloudtrail");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::copy(
        fixture("ci-artifacts").join("cloudtrail/events.json"),
        logs.join("events.json"),
    )
    .unwrap();
    logs
}

fn copy_iam(to: &Path) {
    std::fs::copy(
        fixture("ci-artifacts").join("iam.json"),
        to.join("iam.json"),
    )
    .unwrap();
}

#[test]
fn a_ci_role_writing_hundreds_of_artifacts_is_narrowed_to_their_prefix() {
    let rec = recommend(&fixture("ci-artifacts"), "2");
    let put = resources(statement_for(&rec, "s3:PutObject"));
    assert!(put.contains(&PREFIX.to_string()), "{put:?}");
    assert!(
        !put.iter().any(|p| p == "*" || p == "arn:aws:s3:::*"),
        "{put:?}"
    );
    // Never narrower than the use: every object written stays allowed.
    let arns = written();
    assert_eq!(arns.len(), 304);
    for a in &arns {
        assert!(
            put.iter().any(|p| wildcard_match_case_sensitive(p, a)),
            "`{a}` is no longer allowed by {put:?}"
        );
    }
    // The read of one file stays literal.
    assert_eq!(
        resources(statement_for(&rec, "s3:GetObject")),
        ["arn:aws:s3:::ci-config/pipeline.yml"]
    );
    // The widening is said, in JSON and in the diff.
    let widened = rec["widened"].as_array().unwrap();
    assert_eq!(widened.len(), 1, "{widened:?}");
    assert_eq!(widened[0]["action"], "s3:PutObject");
    assert_eq!(widened[0]["prefixes"], serde_json::json!([PREFIX]));
    assert_eq!(widened[0]["estimated"], true);
    let n = widened[0]["distinct_resources"].as_u64().unwrap();
    assert!((240..=380).contains(&n), "an estimate of 304: {n}");
    let diff = rec["diff_markdown"].as_str().unwrap();
    assert!(diff.contains(&format!("widened to `{PREFIX}`")), "{diff}");
}

#[test]
fn the_narrowing_does_not_depend_on_file_split_order_or_threads() {
    let whole = recommend(&fixture("ci-artifacts"), "1");
    // The same records in seven files, dealt out of order.
    let t = tempfile::tempdir().unwrap();
    copy_iam(t.path());
    let text =
        std::fs::read_to_string(fixture("ci-artifacts").join("cloudtrail/events.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let records = v["Records"].as_array().unwrap();
    let dir = t.path().join("cloudtrail");
    std::fs::create_dir_all(&dir).unwrap();
    for f in 0..7 {
        let part: Vec<&Value> = records
            .iter()
            .enumerate()
            .filter(|(i, _)| (i * 31 + 5) % 7 == f)
            .map(|(_, r)| r)
            .rev()
            .collect();
        std::fs::write(
            dir.join(format!("part-{f}.json")),
            serde_json::to_string(&serde_json::json!({ "Records": part })).unwrap(),
        )
        .unwrap();
    }
    for threads in ["1", "2", "4"] {
        let split = recommend(t.path(), threads);
        assert_eq!(split["policy"], whole["policy"], "{threads} thread(s)");
        assert_eq!(split["widened"], whole["widened"], "{threads} thread(s)");
    }
}

#[test]
fn the_activity_store_keeps_the_summary() {
    let t = tempfile::tempdir().unwrap();
    copy_iam(t.path());
    let logs = copy_logs(t.path());
    let from_logs = recommend(t.path(), "2");
    leastpriv()
        .args(["audit", "--save-activity"])
        .arg(t.path())
        .tmp(t.path())
        .run()
        .code(0);
    // Without the logs, the store alone must carry the summary.
    std::fs::remove_dir_all(&logs).unwrap();
    let from_store = recommend(t.path(), "2");
    assert_eq!(from_store["policy"], from_logs["policy"]);
    assert_eq!(from_store["widened"], from_logs["widened"]);
    let sidecar: Value =
        serde_json::from_slice(&std::fs::read(t.path().join("activity.json")).unwrap()).unwrap();
    assert_eq!(sidecar["schema"], "leastpriv.activity/v3");
}

#[test]
fn a_store_older_than_summaries_keeps_todays_grant() {
    let t = tempfile::tempdir().unwrap();
    copy_iam(t.path());
    let logs = copy_logs(t.path());
    leastpriv()
        .args(["audit", "--save-activity"])
        .arg(t.path())
        .tmp(t.path())
        .run()
        .code(0);
    std::fs::remove_dir_all(&logs).unwrap();
    // The sidecar of a v2 store: its rows carry no summary.
    let path = t.path().join("activity.json");
    let mut sidecar: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    sidecar["schema"] = "leastpriv.activity/v2".into();
    std::fs::write(&path, serde_json::to_vec(&sidecar).unwrap()).unwrap();
    let rec = recommend(t.path(), "2");
    assert_eq!(resources(statement_for(&rec, "s3:PutObject")), ["*"]);
    assert!(
        rec["diff_markdown"]
            .as_str()
            .unwrap()
            .contains("not all of them named"),
        "{}",
        rec["diff_markdown"]
    );
    assert!(rec.get("widened").is_none(), "{}", rec["widened"]);
}
