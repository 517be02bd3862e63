//! End-to-end tests of the `leastpriv` command line: output snapshots of the
//! demo account, exit codes, input errors, `--output`, input overrides, the
//! time window, and damaged CloudTrail input.

use crate::common::{fixture, leastpriv};
use serde_json::Value;
use sha2::{Digest, Sha256};

// --- output snapshots -------------------------------------------------------

#[test]
fn help() {
    let run = leastpriv().arg("--help").run();
    run.code(0);
    assert_snapshot!("help", run.stdout);
}

#[test]
fn audit_help() {
    let run = leastpriv().args(["audit", "--help"]).run();
    run.code(0);
    assert_snapshot!("audit_help", run.stdout);
}

#[test]
fn demo_table() {
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--width", "160"])
        .run();
    run.code(0);
    assert_eq!(run.stderr, "", "a clean snapshot prints no warnings");
    assert_snapshot!("demo_table", run.stdout);
}

/// The demo report is about 4 MB, mostly lists of thousands of unused
/// actions. The snapshot keeps every field but shortens long lists to their
/// first items, their length and a digest of the whole list, so that any
/// change still shows up while the file stays reviewable.
#[test]
fn demo_json() {
    let mut report = demo_report(&[]);
    assert_eq!(report["schema"], "leastpriv.audit/v1");
    assert_eq!(report["generated_at"], "2026-11-01T00:00:00Z");
    abbreviate(&mut report);
    assert_json_snapshot!("demo_json", report);
}

/// `--json-schema v2`: the same audit with each unused and unobservable
/// list grouped by service (tests/integration/drift.rs checks that it expands to v1).
#[test]
fn demo_json_v2() {
    let mut report = demo_report(&["--json-schema", "v2"]);
    assert_eq!(report["schema"], "leastpriv.audit/v2");
    abbreviate_objects(&mut report);
    assert_json_snapshot!("demo_json_v2", report);
}

/// `leastpriv audit fixtures/demo --format json` with `extra` arguments,
/// which succeeds without a word on standard error.
fn demo_report(extra: &[&str]) -> Value {
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "json"])
        .args(extra)
        .run();
    run.code(0);
    assert_eq!(run.stderr, "");
    run.json()
}

#[test]
fn json_schema_needs_the_json_format() {
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--json-schema", "v2"])
        .run();
    run.code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("`--json-schema` applies to `--format json`, not `--format table`"),
        "{}",
        run.stderr
    );
}

/// A v1 report of millions of names suggests v2, unless v1 was asked for.
#[test]
fn a_huge_v1_report_suggests_v2() {
    let dir = tempfile::tempdir().unwrap();
    // 60 users with `*`: 60 × 22,000 names, over the note's million.
    let users: Vec<Value> = (0..60)
        .map(|i| {
            serde_json::json!({
                "Path": "/", "UserName": format!("admin{i}"), "UserId": format!("AIDA{i:017}"),
                "Arn": format!("arn:aws:iam::111122223333:user/admin{i}"),
                "CreateDate": "2024-01-01T00:00:00+00:00", "GroupList": [],
                "AttachedManagedPolicies": [],
                "UserPolicyList": [{"PolicyName": "all", "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]
            })
        })
        .collect();
    let iam = dir.path().join("iam.json");
    std::fs::write(
        &iam,
        serde_json::json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": [], "Policies": []})
            .to_string(),
    )
    .unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let run_with = |extra: &[&str]| {
        let mut args = vec!["audit", "--format", "json", "--iam"];
        args.push(iam.to_str().unwrap());
        args.extend(["--cloudtrail", logs.to_str().unwrap()]);
        args.extend(extra);
        let run = leastpriv().args(args).run();
        run.code(0);
        run
    };
    let run = run_with(&[]);
    assert!(
        run.stderr
            .contains("`--json-schema v2` groups them by service"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["schema"], "leastpriv.audit/v1");
    for v in ["v1", "v2"] {
        let run = run_with(&["--json-schema", v]);
        assert!(!run.stderr.contains("--json-schema"), "{v}: {}", run.stderr);
        assert_eq!(run.json()["schema"], format!("leastpriv.audit/{v}"));
    }
}

const KEEP: usize = 5;

fn abbreviate(v: &mut Value) {
    shorten(v, false);
}

/// As [`abbreviate`], and v2's `by_service` and `catalog_services` objects
/// too when they have many keys.
fn abbreviate_objects(v: &mut Value) {
    shorten(v, true);
}

fn digest(items: impl Iterator<Item = String>) -> String {
    let mut hash = Sha256::new();
    for item in items {
        hash.update(item.as_bytes());
        hash.update(b"\n");
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn shorten(v: &mut Value, objects: bool) {
    match v {
        Value::Array(items) => {
            if items.len() > 2 * KEEP {
                let digest = digest(items.iter().map(Value::to_string));
                let more = items.len() - KEEP;
                items.truncate(KEEP);
                items.push(Value::String(format!(
                    "... {more} more ({} in all, sha256 {digest})",
                    more + KEEP
                )));
            }
            items.iter_mut().for_each(|v| shorten(v, objects));
        }
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let Value::Object(m) = child else { continue };
                if !objects || !["by_service", "catalog_services"].contains(&key.as_str()) {
                    continue;
                }
                if m.len() > 2 * KEEP {
                    let digest = digest(m.iter().map(|(k, v)| format!("{k}={v}")));
                    let more = m.len() - KEEP;
                    let rest: Vec<String> = m.keys().skip(KEEP).cloned().collect();
                    for k in rest {
                        m.remove(&k);
                    }
                    m.insert(
                        "...".to_string(),
                        Value::String(format!(
                            "{more} more ({} in all, sha256 {digest})",
                            more + KEEP
                        )),
                    );
                }
            }
            map.values_mut().for_each(|v| shorten(v, objects));
        }
        _ => {}
    }
}

#[test]
fn catalog_summary() {
    let run = leastpriv().arg("catalog").run();
    run.code(0);
    assert_snapshot!("catalog_summary", run.stdout);
}

#[test]
fn catalog_lookup() {
    let run = leastpriv().args(["catalog", "s3:GetObjectT*"]).run();
    run.code(0);
    assert_snapshot!("catalog_lookup", run.stdout);
}

#[test]
fn catalog_lookup_without_match_exits_2() {
    let run = leastpriv().args(["catalog", "nope:Nothing"]).run();
    run.code(2);
    assert!(run.stderr.contains("`nope:Nothing`"), "{}", run.stderr);
}

#[test]
fn explain_support_agent_create_access_key() {
    let run = leastpriv()
        .args([
            "explain",
            "fixtures/demo",
            "-p",
            "support-agent",
            "-a",
            "iam:CreateAccessKey",
        ])
        .run();
    run.code(0);
    assert_snapshot!("explain_support_agent_create_access_key", run.stdout);
}

#[test]
fn explain_orders_api() {
    let run = leastpriv()
        .args(["explain", "fixtures/demo", "--principal", "orders-api"])
        .run();
    run.code(0);
    assert_snapshot!("explain_orders_api", run.stdout);
}

#[test]
fn explain_bob_secret_is_denied_by_policy() {
    let run = leastpriv()
        .args([
            "explain",
            "fixtures/demo",
            "-p",
            "arn:aws:iam::111122223333:user/bob",
            "-a",
            "secretsmanager:GetSecretValue",
        ])
        .run();
    run.code(0);
    assert_snapshot!("explain_bob_secret", run.stdout);
}

#[test]
fn explain_unknown_principal_exits_2() {
    let run = leastpriv()
        .args(["explain", "fixtures/demo", "-p", "nobody"])
        .run();
    run.code(2);
    assert!(run.stderr.contains("`nobody`"), "{}", run.stderr);
}

// --- exit codes and input errors --------------------------------------------

#[test]
fn demo_exits_0() {
    leastpriv().args(["audit", "fixtures/demo"]).run().code(0);
}

#[test]
fn missing_snapshot_dir_exits_2() {
    let run = leastpriv()
        .args(["audit", "fixtures/no-such-snapshot"])
        .run();
    run.code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("`fixtures/no-such-snapshot`"),
        "{}",
        run.stderr
    );
}

/// `error: cannot read `x`: snapshot directory not found: snapshot directory
/// not found`: the cause is printed twice.
#[test]
fn missing_snapshot_dir_error_says_it_once() {
    let run = leastpriv()
        .args(["audit", "fixtures/no-such-snapshot"])
        .run();
    run.code(2);
    assert_eq!(
        run.stderr.matches("not found").count(),
        1,
        "the cause is repeated: {}",
        run.stderr
    );
}

#[test]
fn snapshot_without_iam_json_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cloudtrail")).unwrap();
    let run = leastpriv()
        .arg("audit")
        .arg(dir.path())
        .tmp(dir.path())
        .run();
    run.code(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("`[TMP]`"), "{}", run.stderr);
    assert!(run.stderr.contains("iam.json"), "{}", run.stderr);
}

#[test]
fn malformed_iam_json_names_file_line_and_column() {
    let run = leastpriv()
        .args(["audit", "tests/fixtures/malformed-iam"])
        .run();
    run.code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("`tests/fixtures/malformed-iam/iam.json`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("line 3, column 24"), "{}", run.stderr);
}

#[test]
fn bad_effect_names_the_json_path() {
    let run = leastpriv()
        .args(["audit", "tests/fixtures/bad-effect"])
        .run();
    run.code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("tests/fixtures/bad-effect/iam.json"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("$.UserDetailList[0].UserPolicyList[0].PolicyDocument.Statement[0].Effect"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Alow"), "{}", run.stderr);
}

#[test]
fn bad_since_exits_2() {
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--since", "last-tuesday"])
        .run();
    run.code(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("`last-tuesday`"), "{}", run.stderr);
}

#[test]
fn unknown_flag_exits_2() {
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--no-such-flag"])
        .run();
    run.code(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("--no-such-flag"), "{}", run.stderr);
}

const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

fn rank(severity: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|s| *s == severity)
        .unwrap_or_else(|| panic!("unknown severity `{severity}`"))
}

/// The highest severity among the demo's findings.
fn demo_max_severity() -> usize {
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "json"])
        .run();
    run.code(0);
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| rank(f["severity"].as_str().unwrap()))
        .max()
        .expect("the demo has findings")
}

#[test]
fn fail_on_high_exits_1_on_the_demo() {
    // README: bob, the SSO administrator and legacy-batch are massive over-grants.
    assert!(demo_max_severity() >= rank("high"));
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--fail-on", "high"])
        .run();
    run.code(1);
    // The report is still printed.
    assert!(run.stdout.contains("Findings: "), "{}", run.stdout);
}

/// Exit 1 exactly when a finding is at or above the threshold.
#[test]
fn fail_on_follows_the_highest_finding() {
    let max = demo_max_severity();
    for threshold in SEVERITIES {
        let run = leastpriv()
            .args(["audit", "fixtures/demo", "--fail-on", threshold])
            .run();
        run.code(if rank(threshold) <= max { 1 } else { 0 });
    }
}

// --- --output ---------------------------------------------------------------

#[test]
fn output_writes_the_file_and_nothing_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let run = leastpriv()
        .args(["audit", "tests/fixtures/tiny", "--format", "json", "-o"])
        .arg(&out)
        .tmp(dir.path())
        .run();
    run.code(0);
    assert_eq!(run.stdout, "");
    let written = std::fs::read(&out).expect("the report file exists");
    let direct = leastpriv()
        .args(["audit", "tests/fixtures/tiny", "--format", "json"])
        .run();
    direct.code(0);
    assert_eq!(written, direct.raw_stdout);
}

#[test]
fn failed_run_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let run = leastpriv()
        .args(["audit", "tests/fixtures/malformed-iam", "--output"])
        .arg(&out)
        .tmp(dir.path())
        .run();
    run.code(2);
    assert!(!out.exists(), "a failed run wrote {}", out.display());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

// --- input overrides and the window -----------------------------------------

fn coverage(report: &Value, field: &str) -> u64 {
    report["coverage"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("coverage.{field} is not a number"))
}

fn principal_names(report: &Value) -> Vec<&str> {
    report["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

/// `(action, count)` of a principal's used actions.
fn used(report: &Value, name: &str) -> Vec<(String, u64)> {
    let p = report["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no principal `{name}`"));
    p["used"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["action"].as_str().unwrap().to_owned(),
                u["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(a, n)| (a.to_string(), *n)).collect()
}

#[test]
fn iam_and_cloudtrail_overrides_without_a_snapshot() {
    let tiny = fixture("tiny");
    let run = leastpriv()
        .args(["audit", "--format", "json", "--iam"])
        .arg(tiny.join("iam.json"))
        .arg("--cloudtrail")
        .arg(tiny.join("cloudtrail"))
        .run();
    run.code(0);
    let report = run.json();
    assert_eq!(principal_names(&report), ["dev"]);
    assert_eq!(coverage(&report, "records"), 4);
    assert_eq!(
        used(&report, "dev"),
        pairs(&[
            ("ec2:DescribeInstances", 2),
            ("ec2:DescribeVpcs", 1),
            ("s3:ListAllMyBuckets", 1)
        ])
    );
}

#[test]
fn iam_override_replaces_the_snapshot_iam_json() {
    let run = leastpriv()
        .args([
            "audit",
            "fixtures/demo",
            "--format",
            "json",
            "--iam",
            "tests/fixtures/tiny/iam.json",
        ])
        .run();
    run.code(0);
    let report = run.json();
    assert_eq!(principal_names(&report), ["dev"]);
    // The demo's CloudTrail is still read.
    assert_eq!(coverage(&report, "records"), 277);
}

#[test]
fn cloudtrail_override_replaces_the_snapshot_cloudtrail_dir() {
    let run = leastpriv()
        .args([
            "audit",
            "fixtures/demo",
            "--format",
            "json",
            "--cloudtrail",
            "tests/fixtures/tiny/cloudtrail/events.json",
        ])
        .run();
    run.code(0);
    let report = run.json();
    assert!(principal_names(&report).contains(&"orders-api"));
    assert_eq!(coverage(&report, "files"), 1);
    assert_eq!(coverage(&report, "records"), 4);
    assert!(used(&report, "orders-api").is_empty());
}

#[test]
fn since_until_narrow_the_window() {
    let run = leastpriv()
        .args([
            "audit",
            "tests/fixtures/tiny",
            "--format",
            "json",
            "--since",
            "2026-10-03",
            "--until",
            "2026-10-05",
        ])
        .run();
    run.code(0);
    let report = run.json();
    assert_eq!(report["window"]["start"], "2026-10-03T00:00:00Z");
    assert_eq!(report["window"]["end"], "2026-10-05T23:59:59Z");
    assert_eq!(report["window"]["source"], "options");
    assert_eq!(coverage(&report, "records"), 4);
    assert_eq!(coverage(&report, "records_outside_window"), 2);
    assert_eq!(coverage(&report, "records_mapped"), 2);
    assert_eq!(
        used(&report, "dev"),
        pairs(&[("ec2:DescribeInstances", 1), ("s3:ListAllMyBuckets", 1)])
    );
}

#[test]
fn since_drops_demo_counts() {
    let all = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "json"])
        .run();
    all.code(0);
    let all = all.json();
    let late = leastpriv()
        .args([
            "audit",
            "fixtures/demo",
            "--format",
            "json",
            "--since",
            "2026-10-15T00:00:00Z",
        ])
        .run();
    late.code(0);
    let late = late.json();
    assert_eq!(all["window"]["source"], "records");
    assert_eq!(late["window"]["source"], "options");
    assert_eq!(late["window"]["start"], "2026-10-15T00:00:00Z");
    assert_eq!(coverage(&all, "records_outside_window"), 0);
    assert!(coverage(&late, "records_outside_window") > 0);
    assert!(coverage(&late, "records_mapped") < coverage(&all, "records_mapped"));
    let count = |r: &Value| -> u64 { used(r, "orders-api").iter().map(|(_, n)| n).sum() };
    assert!(count(&late) < count(&all));
}

// --- damaged CloudTrail input -----------------------------------------------

/// `tests/fixtures/bad-cloudtrail`: one good file (1 record), a gzip file cut
/// in half, a `{"Records"}` file whose record 1 has a number for `eventTime`,
/// and an NDJSON file whose line 2 (byte 722) is cut short. The run goes on;
/// each bad file and record is named once, and the good records count.
#[test]
fn damaged_cloudtrail_is_skipped_with_warnings() {
    let run = leastpriv()
        .args([
            "audit",
            "--iam",
            "tests/fixtures/tiny/iam.json",
            "--cloudtrail",
            "tests/fixtures/bad-cloudtrail",
            "--format",
            "json",
        ])
        .run();
    run.code(0);
    let report = run.json();
    let gz = "tests/fixtures/bad-cloudtrail/111122223333_CloudTrail_us-east-1_20261006T0000Z_corrupt0000000000.json.gz";
    let stderr = &run.stderr;
    assert!(stderr.contains(&format!("`{gz}`")), "{stderr}");
    assert!(
        stderr.contains("`tests/fixtures/bad-cloudtrail/wrong-type.json`: record 1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`tests/fixtures/bad-cloudtrail/stream.ndjson`: byte "),
        "{stderr}"
    );
    assert_eq!(coverage(&report, "files"), 4);
    assert_eq!(coverage(&report, "files_failed"), 1);
    assert_eq!(coverage(&report, "records_mapped"), 4);
    assert_eq!(
        used(&report, "dev"),
        pairs(&[
            ("ec2:DescribeInstances", 1),
            ("ec2:DescribeVpcs", 1),
            ("s3:ListAllMyBuckets", 2)
        ])
    );
}

/// The broken NDJSON line is one record: it is reported once and skipped once.
#[test]
fn broken_ndjson_line_counts_once() {
    let run = leastpriv()
        .args([
            "audit",
            "--iam",
            "tests/fixtures/tiny/iam.json",
            "--cloudtrail",
            "tests/fixtures/bad-cloudtrail",
            "--format",
            "json",
        ])
        .run();
    run.code(0);
    let report = run.json();
    let problems = report["coverage"]["problems"].as_array().unwrap();
    let ndjson: Vec<&Value> = problems
        .iter()
        .filter(|p| p["file"].as_str().unwrap().ends_with("stream.ndjson"))
        .collect();
    assert_eq!(ndjson.len(), 1, "{ndjson:#?}");
    assert_eq!(
        run.stderr.matches("stream.ndjson").count(),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(
        ndjson[0]["location"], "byte 722",
        "the problem should point at the start of line 2"
    );
    // 1 (good.json) + 2 (wrong-type.json) + 3 (stream.ndjson) records.
    assert_eq!(coverage(&report, "records"), 6);
    // wrong-type.json record 1 and stream.ndjson line 2.
    assert_eq!(coverage(&report, "records_skipped"), 2);
}

/// One `ec2:DescribeInstances` record by `dev` of the tiny fixture.
fn tiny_record(event_id: &str, time: &str) -> Value {
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEDEV0000000",
            "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333",
            "userName": "dev"},
        "eventTime": time, "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances", "awsRegion": "us-east-1",
        "eventID": event_id, "readOnly": true, "eventType": "AwsApiCall",
        "managementEvent": true, "recipientAccountId": "111122223333"
    })
}

#[test]
fn duplicates_are_counted_once_within_a_day_of_delivery_and_late_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("AWSLogs");
    std::fs::create_dir_all(&logs).unwrap();
    let write = |name: &str, records: Vec<Value>| {
        let text = serde_json::json!({ "Records": records }).to_string();
        std::fs::write(logs.join(name), text).unwrap();
    };
    let delivered = |stamp: &str| format!("111122223333_CloudTrail_us-east-1_{stamp}_x.json");
    // Two deliveries of one event ten minutes apart, and a copy of another
    // delivered three days late: by then its hour has been let go.
    write(
        &delivered("20261002T1005Z"),
        vec![
            tiny_record("e-1", "2026-10-02T10:00:00Z"),
            tiny_record("e-2", "2026-10-02T10:01:00Z"),
        ],
    );
    write(
        &delivered("20261002T1015Z"),
        vec![tiny_record("e-1", "2026-10-02T10:00:00Z")],
    );
    write(
        &delivered("20261005T1000Z"),
        vec![tiny_record("e-2", "2026-10-02T10:01:00Z")],
    );
    let run = leastpriv()
        .args(["audit", "--format", "json", "--iam"])
        .arg(fixture("tiny").join("iam.json"))
        .arg("--cloudtrail")
        .arg(&logs)
        // One reader: files are finished in delivery order, so the hour of
        // `e-2` is surely let go before its late copy is read.
        .env("RAYON_NUM_THREADS", "1")
        .run();
    run.code(0);
    let report = run.json();
    assert_eq!(coverage(&report, "records"), 4);
    assert_eq!(coverage(&report, "records_duplicate"), 1);
    assert_eq!(used(&report, "dev"), pairs(&[("ec2:DescribeInstances", 3)]));
    let problems = report["coverage"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert!(p["file"]
        .as_str()
        .unwrap()
        .ends_with(&delivered("20261005T1000Z")));
    assert_eq!(p["location"], "1 record(s)");
    assert!(p["message"]
        .as_str()
        .unwrap()
        .contains("more than 24 hours"));
}
