//! Hostile and broken inputs: every bad file or record is skipped, named
//! (file, record index or byte offset) and counted, every good record still
//! counts, `--strict` turns problems into exit 2, and inputs that cannot be
//! audited at all exit 2 with the file and place, never a panic.

use crate::common::leastpriv;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

fn record(id: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                         "accountId": "111122223333", "userName": "alice"},
        "eventTime": "2026-10-20T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "us-east-1",
        "eventID": id,
        "recipientAccountId": "111122223333"
    })
}

fn envelope(records: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A log directory with one good file and one file of each kind of damage.
/// Returns the number of good records in it.
fn hostile_logs(dir: &Path) -> u64 {
    let w = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    w(
        "good.json",
        &envelope(vec![record("good-1"), record("good-2")]),
    );
    let full = gzip(&envelope(vec![record("lost-1")]));
    w("truncated.json.gz", &full[..full.len() / 2]);
    w("invalid.json", br#"{"Records": [ {"eventID": "#);
    w("records-not-a-list.json", br#"{"Records": {"a": 1}}"#);
    let mut wrong = record("wrong-type");
    wrong["eventTime"] = json!(12345);
    w("wrong-types.json", &envelope(vec![wrong, record("good-3")]));
    let mut missing = record("missing");
    missing.as_object_mut().unwrap().remove("eventName");
    w(
        "missing-field.json",
        &envelope(vec![missing, record("good-4")]),
    );
    // Deterministic "random" bytes.
    let mut x: u32 = 2463534242;
    let noise: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    w("random.json", &noise);
    let mut long = record("good-long");
    long["userAgent"] = json!("x".repeat(1 << 20));
    w("long-field.json", &envelope(vec![long]));
    w(
        "not-utf8.json",
        b"{\"Records\":[{\"eventID\":\"bad-utf8\",\"eventName\":\"\xff\xfe\"}]}",
    );
    let mut deep = b"{\"Records\":[".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    deep.extend(std::iter::repeat_n(b']', 100_000));
    deep.extend(b"]}");
    w("deeply-nested.json", &deep);
    #[cfg(unix)]
    std::os::unix::fs::symlink(".", dir.join("loop")).unwrap();
    5
}

#[test]
fn bad_files_and_records_are_named_counted_and_good_ones_still_count() {
    let tmp = tempfile::tempdir().unwrap();
    let good = hostile_logs(tmp.path());
    let run = leastpriv()
        .args([
            "audit",
            "--iam",
            "fixtures/demo/iam.json",
            "--format",
            "json",
            "--cloudtrail",
        ])
        .arg(tmp.path())
        .tmp(tmp.path())
        .run();
    run.code(0);
    let report = run.json();
    let cov = &report["coverage"];
    assert_eq!(cov["records_mapped"].as_u64(), Some(good), "{cov}");
    let problems = cov["problems"].as_array().unwrap();
    let named = |file: &str| {
        problems
            .iter()
            .filter(|p| p["file"].as_str().unwrap().ends_with(file))
            .collect::<Vec<_>>()
    };
    for (file, location) in [
        ("truncated.json.gz", ""),
        ("invalid.json", "byte 0"),
        ("records-not-a-list.json", "$.Records"),
        ("wrong-types.json", "record 0"),
        ("missing-field.json", "record 0"),
        ("not-utf8.json", "byte 0"),
        ("deeply-nested.json", "record 0"),
        ("loop", ""),
    ] {
        let found = named(file);
        assert!(
            found.iter().any(|p| p["location"] == location),
            "{file} at {location:?} not in {found:?}"
        );
    }
    // Random bytes: named, but not one line per garbage line.
    let random = named("random.json");
    assert!(!random.is_empty());
    assert!(random.len() <= 21, "{}", random.len());
    // Every problem is on stderr too.
    assert!(run.stderr.contains("truncated.json.gz"), "{}", run.stderr);

    // --strict: the same inputs are an error.
    let strict = leastpriv()
        .args([
            "audit",
            "--strict",
            "--iam",
            "fixtures/demo/iam.json",
            "--cloudtrail",
        ])
        .arg(tmp.path())
        .tmp(tmp.path())
        .run();
    strict.code(2);
    assert!(strict.stderr.contains("--strict"), "{}", strict.stderr);

    // A clean input passes --strict.
    leastpriv()
        .args(["audit", "fixtures/demo", "--strict"])
        .run()
        .code(0);
}

#[test]
fn inputs_that_cannot_be_audited_exit_2_with_file_and_place() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = leastpriv()
        .arg("audit")
        .arg(tmp.path().join("nope"))
        .tmp(tmp.path())
        .run();
    missing.code(2);
    assert!(missing.stderr.contains("[TMP]/nope"), "{}", missing.stderr);

    let cases: [(&str, &[u8], &str); 4] = [
        ("truncated", br#"{"UserDetailList": ["#, "line 1, column 20"),
        ("not-an-object", b"[1, 2]", "iam.json"),
        ("bad-statement", br#"{"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::1:role/r", "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}}]}]}"#, "Effect"),
        ("deep", &[b'['; 100_000], "iam.json"),
    ];
    for (name, bytes, expect) in cases {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("iam.json"), bytes).unwrap();
        let run = leastpriv().arg("audit").arg(&dir).tmp(tmp.path()).run();
        run.code(2);
        assert!(
            run.stderr.contains(&format!("[TMP]/{name}/iam.json")) && run.stderr.contains(expect),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }

    let rules = tmp.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    for (yaml, expect) in [
        ("categories: [unclosed\n", "line"),
        ("weights: {}\n", "unknown field `weights`"),
    ] {
        std::fs::write(rules.join("risk.yaml"), yaml).unwrap();
        let run = leastpriv()
            .args(["audit", "fixtures/demo", "--rules"])
            .arg(&rules)
            .tmp(tmp.path())
            .run();
        run.code(2);
        assert!(
            run.stderr.contains("[TMP]/rules/risk.yaml") && run.stderr.contains(expect),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn large_policies_evaluate() {
    // Thousands of statements, each a different wildcard over the catalog.
    let statements: Vec<Value> = (0..5000)
        .map(|i| {
            json!({
                "Effect": if i % 7 == 0 { "Deny" } else { "Allow" },
                "Action": format!("{}*", ["s3:Get", "ec2:Describe", "iam:List", "*"][i % 4]),
                "Resource": format!("arn:aws:s3:::bucket-{i}/*")
            })
        })
        .collect();
    let iam = json!({
        "RoleDetailList": [{
            "RoleName": "huge", "Arn": "arn:aws:iam::111122223333:role/huge", "Path": "/",
            "RolePolicyList": [{"PolicyName": "huge", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
            "AttachedManagedPolicies": []
        }]
    });
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("iam.json"),
        serde_json::to_vec(&iam).unwrap(),
    )
    .unwrap();
    let run = leastpriv()
        .args(["audit", "--format", "json"])
        .arg(tmp.path())
        .run();
    run.code(0);
    let granted = run.json()["principals"][0]["granted"].as_u64().unwrap();
    // Only actions that take an S3 object or bucket ARN apply, less the
    // ones every seventh statement denies.
    assert!((30..200).contains(&granted), "{granted}");
}

#[cfg(unix)]
#[test]
fn reports_are_written_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report.json");
    leastpriv()
        .args(["audit", "fixtures/demo", "--format", "json", "--output"])
        .arg(&out)
        .run()
        .code(0);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "report readable by others: {mode:o}");
}
