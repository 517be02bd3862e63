//! `leastpriv pull` and `audit --live` against a real emulator: moto server
//! with tests/support/moto_leastpriv.py, seeded by tests/support/seed.py
//! through the AWS APIs. Each test has its own server.

use crate::common::moto::Moto;
use crate::common::{leastpriv, Leastpriv};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const WINDOW: [&str; 4] = ["--since", "2026-10-01", "--until", "2026-10-31"];

fn with_env(mut cmd: Leastpriv, moto: &Moto) -> Leastpriv {
    for (k, v) in moto.env() {
        cmd = cmd.env(k, &v);
    }
    cmd
}

fn pull(moto: &Moto, out: &Path, extra: &[&str]) -> crate::common::Run {
    with_env(leastpriv(), moto)
        .arg("pull")
        .arg("--out")
        .arg(out)
        .args(WINDOW)
        .args(["--iam-page-size", "2"])
        .args(extra)
        .tmp(out.parent().unwrap())
        .run()
}

/// A started emulator with the demo account seeded, and where its snapshot
/// goes (`snap` in a temporary directory that lives as long as this).
struct Seeded {
    moto: Moto,
    account: String,
    out: std::path::PathBuf,
    _tmp: tempfile::TempDir,
}

fn seeded() -> Option<Seeded> {
    let moto = Moto::start()?;
    let account = moto.seed(None);
    let tmp = tempfile::tempdir().unwrap();
    Some(Seeded {
        moto,
        account,
        out: tmp.path().join("snap"),
        _tmp: tmp,
    })
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn audit_json(dir: &Path) -> Value {
    let run = leastpriv()
        .arg("audit")
        .arg(dir)
        .args(WINDOW)
        .args(["--format", "json"])
        .run();
    run.code(0);
    run.json()
}

fn principal<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no principal {name}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn used(p: &Value) -> Vec<String> {
    p["used"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pull_writes_a_snapshot_that_audits_offline() {
    let Some(Seeded {
        moto,
        account,
        out,
        _tmp: tmp,
    }) = seeded()
    else {
        return;
    };
    let run = pull(&moto, &out, &[]);
    run.code(0);
    assert!(
        run.stdout.contains(&format!("Account {account}")),
        "{}",
        run.stdout
    );

    let m = manifest(&out);
    assert_eq!(m["schema"], "leastpriv.snapshot/v1");
    assert_eq!(m["account_id"], account.as_str());
    assert_eq!(m["event_source"], "s3");
    let iam = &m["iam"];
    assert_eq!(
        (iam["users"].as_u64(), iam["groups"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (iam["roles"].as_u64(), iam["policies"].as_u64()),
        (Some(2), Some(3))
    );
    // Eight entities in pages of two: the client followed the markers.
    assert!(iam["pages"].as_u64().unwrap() >= 4, "{iam}");
    assert_eq!(iam["credential_report"], true);
    assert_eq!(iam["access_keys"], 1);
    assert_eq!(iam["access_advisor_principals"], 5);
    assert_eq!(m["problems"], serde_json::json!([]), "{m}");

    // Only the day prefixes of the window were fetched: not August, not
    // the digest.
    let keys: Vec<String> = m["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| k.contains("/2026/10/2")), "{keys:?}");
    for o in m["objects"].as_array().unwrap() {
        assert!(out.join(o["path"].as_str().unwrap()).is_file());
    }
    for f in [
        "iam.json",
        "credential-report.csv",
        "trails.json",
        "access-keys.json",
        "last-accessed.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(
        !tmp.path().join("snap.partial").exists(),
        "work directory left behind"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("iam.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "iam.json is readable by others: {mode:o}");
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "snapshot dir is open to others: {mode:o}");
    }
    // Access key ids are masked in the snapshot.
    let keys = std::fs::read_to_string(out.join("access-keys.json")).unwrap();
    assert!(keys.contains("****") && !keys.contains("\"AKIA"), "{keys}");
    // No key id or secret anywhere in what the pull wrote itself (log files
    // are AWS's, kept as delivered), nor in the reports made from it.
    for f in crate::common::files_under(&out) {
        if f.starts_with(out.join("cloudtrail")) {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert_no_credentials(&f.display().to_string(), &text);
    }
    for format in ["json", "markdown", "html", "sarif", "table"] {
        let run = leastpriv()
            .arg("audit")
            .arg(&out)
            .args(WINDOW)
            .args(["--format", format])
            .run();
        assert_no_credentials(format, &run.stdout);
    }
    for args in [
        vec!["explain", "--principal", "app-role"],
        vec![
            "explain",
            "--principal",
            "ci-deployer",
            "--action",
            "iam:CreateAccessKey",
        ],
        vec!["secrets", "--format", "json"],
    ] {
        let run = leastpriv().args(&args).arg(&out).args(WINDOW).run();
        assert_no_credentials(&args.join(" "), &run.stdout);
        assert_no_credentials(&args.join(" "), &run.stderr);
    }
    let rec = tmp.path().join("recommend");
    leastpriv()
        .arg("recommend")
        .arg(&out)
        .args(WINDOW)
        .arg("--out")
        .arg(&rec)
        .run()
        .code(0);
    for f in crate::common::files_under(&rec) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert_no_credentials(&f.display().to_string(), &text);
    }

    let explain = leastpriv()
        .args(["explain", "--principal", "app-role"])
        .arg(&out)
        .args(WINDOW)
        .run();
    explain.code(0);
    assert!(
        explain.stdout.contains(
            "kms:* last accessed 2026-10-22T11:00:00Z in us-east-1; trail verdict: not granted"
        ),
        "{}",
        explain.stdout
    );

    let report = audit_json(&out);
    // Inline, group and boundary policies survived the round trip.
    let app = principal(&report, "app-role");
    assert!(used(app).contains(&"secretsmanager:GetSecretValue".to_string()));
    assert!(used(app).contains(&"s3:GetObject".to_string()));
    assert!(
        !strings(&app["unused"]).contains(&"kms:Decrypt".to_string()),
        "boundary ignored"
    );
    let advisor = app["access_advisor"].as_array().expect("advisor notes");
    let note = |a: &str| advisor.iter().find(|n| n["action"] == a).cloned();
    assert_eq!(note("s3:GetObject").unwrap()["trail_verdict"], "used");
    // KMS was attempted (Access Advisor) but the boundary forbids it.
    assert_eq!(note("kms:*").unwrap()["trail_verdict"], "not granted");

    let alice = principal(&report, "alice");
    assert_eq!(alice["kind"], "human");
    assert!(used(alice).contains(&"secretsmanager:GetSecretValue".to_string()));
    // S3 data events are recorded for lp-data/: alice's unused read is unused.
    assert!(strings(&alice["unused"]).contains(&"s3:GetObject".to_string()));

    let ci = principal(&report, "ci-deployer");
    // The records with secret values in their parameters were read (and
    // their secrets never repeated: see assert_no_credentials above).
    assert!(
        ci["denied"].to_string().contains("iam:CreateAccessKey"),
        "{ci}"
    );
    assert!(
        used(ci).contains(&"lambda:UpdateFunctionCode".to_string()),
        "{ci}"
    );
    // The us-west-2 file (a second region of the multi-region trail) was
    // pulled too.
    assert!(used(ci).contains(&"s3:PutObject".to_string()), "{ci}");

    // The August event is outside the window: never fetched, never counted.
    let agent = principal(&report, "agent-role");
    assert_eq!(agent["kind"], "agent");
    assert!(strings(&agent["unused"]).contains(&"secretsmanager:GetSecretValue".to_string()));

    // The pull aggregated the logs into the activity store, which the audits
    // above read; re-reading the logs gives the same report.
    assert!(out.join("activity.parquet").is_file());
    let verbose = leastpriv()
        .args(["-v", "audit"])
        .arg(&out)
        .args(WINDOW)
        .args(["--format", "json"])
        .run();
    assert!(
        verbose.stderr.contains("logs not re-read"),
        "{}",
        verbose.stderr
    );
    let reread = leastpriv()
        .arg("audit")
        .arg(&out)
        .args(WINDOW)
        .args(["--format", "json", "--reread-logs"])
        .run();
    let without_inputs = |mut v: Value| {
        v["coverage"].as_object_mut().unwrap().remove("inputs");
        v
    };
    assert_eq!(without_inputs(report), without_inputs(reread.json()));
}

#[test]
fn lookup_events_source_paces_itself_and_audits() {
    let Some(Seeded {
        moto, out, _tmp, ..
    }) = seeded()
    else {
        return;
    };
    pull(&moto, &out, &["--source", "lookup", "--no-access-advisor"]).code(0);
    let m = manifest(&out);
    assert_eq!(m["event_source"], "lookup");
    assert_eq!(m["lookup"][0]["events"], 8, "{m}");
    assert!(!out.join("last-accessed.json").exists());
    let lines = std::fs::read_to_string(out.join("cloudtrail/lookup/us-east-1.ndjson")).unwrap();
    assert_eq!(lines.lines().count(), 8);
    let report = audit_json(&out);
    let alice = principal(&report, "alice");
    assert!(used(alice).contains(&"secretsmanager:GetSecretValue".to_string()));
    // The plugin throttles more than 2 calls per second: none was needed.
    let throttled = moto
        .calls()
        .iter()
        .filter(|c| c["operation"] == "LookupEvents" && c["status"] != 200)
        .count();
    assert_eq!(throttled, 0);
}

#[test]
fn partial_failures_are_reported_and_a_rerun_resumes() {
    let Some(Seeded {
        moto, out, _tmp, ..
    }) = seeded()
    else {
        return;
    };
    // The first object download fails on both attempts.
    moto.fault("GetObject", 2, 500, "InternalError");
    let run = pull(
        &moto,
        &out,
        &[
            "--concurrency",
            "1",
            "--max-attempts",
            "2",
            "--no-access-advisor",
        ],
    );
    run.code(0);
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("s3"),
        "{}",
        run.stderr
    );
    let m = manifest(&out);
    assert_eq!(m["downloaded"]["failed"], 1, "{m}");
    assert_eq!(m["downloaded"]["fetched"], 1, "{m}");
    assert_eq!(m["problems"].as_array().unwrap().len(), 1, "{m}");

    // The audit names what is missing in its coverage.
    let report = audit_json(&out);
    let problems = report["coverage"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["location"].as_str().unwrap().starts_with("pull s3 s3://")),
        "{problems:?}"
    );

    // --strict makes the gap an error, for the audit and for the pull.
    leastpriv()
        .arg("audit")
        .arg(&out)
        .args(WINDOW)
        .arg("--strict")
        .run()
        .code(2);

    // A re-run reuses the fetched object and fetches only the missing one.
    let gets_before = count(&moto, "GetObject");
    pull(&moto, &out, &["--no-access-advisor"]).code(0);
    let m = manifest(&out);
    assert_eq!(m["downloaded"]["reused"], 1, "{m}");
    assert_eq!(m["downloaded"]["fetched"], 1, "{m}");
    assert_eq!(m["problems"], serde_json::json!([]));
    assert_eq!(count(&moto, "GetObject") - gets_before, 1);
}

fn count(moto: &Moto, op: &str) -> usize {
    moto.calls().iter().filter(|c| c["operation"] == op).count()
}

#[test]
fn a_failed_pull_keeps_the_previous_snapshot_whole() {
    let Some(Seeded {
        moto, out, _tmp, ..
    }) = seeded()
    else {
        return;
    };
    pull(&moto, &out, &["--no-access-advisor"]).code(0);
    let before = std::fs::read(out.join("manifest.json")).unwrap();

    moto.fault(
        "GetAccountAuthorizationDetails",
        2,
        503,
        "ServiceUnavailable",
    );
    let run = pull(&moto, &out, &["--no-access-advisor", "--max-attempts", "2"]);
    run.code(2);
    assert!(
        run.stderr.contains("iam:GetAccountAuthorizationDetails"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
    assert!(out.join("iam.json").is_file());

    // Throttling is retried with backoff: two throttled answers, then success.
    moto.fault("GetAccountAuthorizationDetails", 2, 400, "Throttling");
    pull(&moto, &out, &["--no-access-advisor", "--max-attempts", "3"]).code(0);
}

#[test]
fn assume_role_pulls_one_snapshot_per_account_and_stays_within_its_policy() {
    let Some(moto) = Moto::start() else { return };
    let first = moto.seed(None);
    let second = moto.seed(Some("arn:aws:iam::210987654321:role/audit"));
    assert_eq!(second, "210987654321");
    // An organization beside them (its own accounts), so that every read
    // of the organization, Identity Center and resource policies is made.
    let org = moto.seed_org();
    moto.clear_calls();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("org");
    pull(
        &moto,
        &out,
        &[
            "--assume-role",
            &format!("arn:aws:iam::{first}:role/audit"),
            "--assume-role",
            "arn:aws:iam::210987654321:role/audit",
        ],
    )
    .code(0);
    for acct in [&first, &second] {
        let m = manifest(&out.join(acct));
        assert_eq!(&m["account_id"], acct.as_str());
        assert_eq!(m["downloaded"]["fetched"], 2, "{m}");
        assert!(m["assumed_role"].as_str().unwrap().ends_with(":role/audit"));
    }
    // The parent directory is not one snapshot: the audit says what to do.
    let run = leastpriv().arg("audit").arg(&out).run();
    run.code(2);
    assert!(
        run.stderr.contains("one snapshot per account"),
        "{}",
        run.stderr
    );

    // LookupEvents too, so that every read the tool can make is made once.
    pull(&moto, &tmp.path().join("lookup"), &["--source", "lookup"]).code(0);
    // The organization, from its management account.
    with_env(leastpriv(), &moto)
        .env("AWS_ACCESS_KEY_ID", org["access_key_id"].as_str().unwrap())
        .args([
            "pull",
            "--organization",
            "--role-name",
            "OrganizationAccountAccessRole",
        ])
        .arg("--out")
        .arg(tmp.path().join("organization"))
        .args(WINDOW)
        .run()
        .code(0);

    // The auditor's own least privilege: every call it made is in
    // docs/leastpriv-policy.json, and every action there was needed.
    let policy: Value = serde_json::from_slice(
        &std::fs::read(crate::common::repo().join("docs/leastpriv-policy.json")).unwrap(),
    )
    .unwrap();
    let allowed: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            v => strings(v),
        })
        .collect();
    let called: BTreeSet<String> = moto
        .calls()
        .iter()
        .filter_map(|c| {
            iam_action(
                c["service"].as_str().unwrap(),
                c["operation"].as_str().unwrap(),
            )
        })
        .collect();
    let beyond: Vec<_> = called.difference(&allowed).collect();
    assert!(beyond.is_empty(), "calls outside the policy: {beyond:?}");
    let unneeded: Vec<_> = allowed.difference(&called).collect();
    assert!(
        unneeded.is_empty(),
        "policy actions never called: {unneeded:?}"
    );
}

/// The IAM action an API call needs; `None` for calls that need none.
fn iam_action(service: &str, operation: &str) -> Option<String> {
    let action = match (service, operation) {
        ("sts", "GetCallerIdentity") => return None,
        ("s3", "ListObjectsV2" | "ListObjects") => "ListBucket",
        ("s3", "HeadObject") => "GetObject",
        ("s3", "ListBuckets") => "ListAllMyBuckets",
        ("s3", "GetBucketEncryption") => "GetEncryptionConfiguration",
        (_, op) => op,
    };
    Some(format!("{service}:{action}"))
}

#[test]
fn audit_live_pulls_then_audits() {
    let Some(moto) = Moto::start() else { return };
    moto.seed(None);
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("kept");
    let run = with_env(leastpriv(), &moto)
        .args(["audit", "--live", "--no-access-advisor", "--format", "json"])
        .args([
            "--source",
            "s3",
            "--trail-bucket",
            "s3://lp-trail-logs-123456789012/",
        ])
        .args(WINDOW)
        .arg("--snapshot-dir")
        .arg(&keep)
        .run();
    run.code(0);
    let report = run.json();
    let app = principal(&report, "app-role");
    assert!(used(app).contains(&"secretsmanager:GetSecretValue".to_string()));
    assert!(keep.join("manifest.json").is_file());

    // A SNAPSHOT and --live together are a usage error.
    leastpriv()
        .args(["audit", "fixtures/demo", "--live"])
        .run()
        .code(2);
}

#[test]
fn expired_credentials_and_vanished_objects_are_gaps_not_crashes() {
    let Some(Seeded {
        moto, out, _tmp, ..
    }) = seeded()
    else {
        return;
    };
    // One object is gone between list and get, the other download meets
    // credentials that expired mid-pull; Access Advisor is refused once.
    moto.fault("GetObject", 1, 404, "NoSuchKey");
    moto.fault("GetObject", 1, 400, "ExpiredToken");
    moto.fault("GenerateServiceLastAccessedDetails", 1, 403, "AccessDenied");
    let run = pull(&moto, &out, &["--concurrency", "1", "--max-attempts", "1"]);
    run.code(0);
    let m = manifest(&out);
    assert_eq!(m["downloaded"]["failed"], 2, "{m}");
    let stages: Vec<&str> = m["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages.iter().filter(|s| **s == "s3").count(), 2, "{m}");
    assert!(stages.contains(&"access-advisor"), "{m}");
    assert!(
        run.stderr.contains("NoSuchKey") && run.stderr.contains("ExpiredToken"),
        "{}",
        run.stderr
    );
    // Nothing in the snapshot is a half file.
    for o in m["objects"].as_array().unwrap() {
        assert!(out.join(o["path"].as_str().unwrap()).is_file());
    }
    let leftovers: Vec<_> = crate::common::files_under(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "part" || e == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn connection_resets_are_retried() {
    let Some(Seeded {
        moto, out, _tmp, ..
    }) = seeded()
    else {
        return;
    };
    // The connection is reset (no answer at all) on an IAM page and on a
    // log download: both are retried and the snapshot is whole.
    moto.fault("GetAccountAuthorizationDetails", 1, 0, "reset");
    moto.fault("GetObject", 2, 0, "reset");
    moto.clear_calls();
    let run = pull(&moto, &out, &["--concurrency", "1", "--no-access-advisor"]);
    run.code(0);
    let m = manifest(&out);
    assert_eq!(m["problems"], serde_json::json!([]), "{m}");
    assert_eq!(m["downloaded"]["fetched"], 2, "{m}");
    let resets = moto.calls().iter().filter(|c| c["status"] == 0).count();
    assert_eq!(resets, 3, "the resets happened");
    let report = audit_json(&out);
    assert!(used(principal(&report, "app-role")).contains(&"s3:GetObject".to_string()));
}

#[test]
fn an_unreachable_account_does_not_stop_the_others() {
    let Some(moto) = Moto::start() else { return };
    let first = moto.seed(None);
    moto.fault("AssumeRole", 1, 403, "AccessDenied");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("org");
    let run = pull(
        &moto,
        &out,
        &[
            "--no-access-advisor",
            "--assume-role",
            "arn:aws:iam::210987654321:role/audit",
            "--assume-role",
            &format!("arn:aws:iam::{first}:role/audit"),
        ],
    );
    run.code(2);
    assert!(
        run.stderr.contains("1 of 2 account(s) could not be pulled")
            && run.stderr.contains("arn:aws:iam::210987654321:role/audit"),
        "{}",
        run.stderr
    );
    assert_eq!(manifest(&out.join(&first))["account_id"], first.as_str());
    assert!(!out.join("210987654321").exists());
}

/// Fails on an access key id (`AKIA`/`ASIA` + 16 characters) or the test
/// secret in `text`.
fn assert_no_credentials(what: &str, text: &str) {
    assert!(
        !text.contains("leastpriv-test"),
        "{what} holds the secret key"
    );
    // Secret values the seeded logs carry in request parameters and responses.
    assert!(
        !text.contains("LEASTPRIV-CANARY"),
        "{what} repeats a secret value from a log record"
    );
    let b = text.as_bytes();
    for i in 0..b.len().saturating_sub(20) {
        if (&b[i..i + 4] == b"AKIA" || &b[i..i + 4] == b"ASIA")
            && b[i + 4..i + 20]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            panic!("{what} holds an access key id at byte {i}");
        }
    }
}

#[test]
fn athena_aggregates_where_the_logs_are_and_feeds_the_activity_store() {
    let Some(moto) = Moto::start() else { return };
    let account = moto.seed(None);
    let columns = leastpriv::pull::athena::COLUMNS;
    let role = format!("arn:aws:iam::{account}:role/app-role");
    let agent = format!("arn:aws:iam::{account}:role/agent-role");
    let s = |v: &str| Some(v.to_string());
    let row =
        |who: &str, si: Option<String>, source: &str, name: &str, err: Option<&str>, n: u32| {
            vec![
                s(&account),
                s("AssumedRole"),
                s(who),
                None,
                None,
                s(&account),
                None,
                si,
                s(source),
                s(name),
                err.map(str::to_string),
                s(&n.to_string()),
                s("2026-10-03T08:00:00Z"),
                s("2026-10-29T17:30:00Z"),
                s(&format!(
                    "arn:aws:secretsmanager:us-east-1:{account}:secret:prod/db-AbCdEf"
                )),
                s("1"),
                s(&format!(
                    "arn:aws:secretsmanager:us-east-1:{account}:secret:prod/db-AbCdEf"
                )),
                s("1"),
            ]
        };
    let mut rows = vec![
        row(
            &role,
            None,
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            None,
            7,
        ),
        row(
            &role,
            None,
            "s3.amazonaws.com",
            "ListBuckets",
            Some("AccessDenied"),
            2,
        ),
    ];
    // An agent acting for 1,100 end users: more rows than one result page.
    for u in 0..1100 {
        rows.push(row(
            &agent,
            s(&format!("user-{u:04}@example.com")),
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            None,
            1,
        ));
    }
    moto.athena_results(&account, columns, &rows);
    // The links and uses queries (session chains): no role session here.
    moto.athena_results(&account, leastpriv::pull::athena::LINK_COLUMNS, &[]);
    moto.athena_results(&account, leastpriv::pull::athena::USE_COLUMNS, &[]);
    moto.clear_calls();

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap");
    let run = pull(
        &moto,
        &out,
        &[
            "--athena",
            "--trail-bucket",
            &format!("s3://lp-trail-logs-{account}"),
            "--athena-output",
            "s3://lp-athena-results/leastpriv/",
            "--no-access-advisor",
        ],
    );
    run.code(0);
    let m = manifest(&out);
    assert_eq!(m["event_source"], "athena", "{m}");
    assert_eq!(m["problems"], serde_json::json!([]), "{m}");
    assert!(!out.join("cloudtrail").exists(), "no log was downloaded");
    let calls = moto.calls();
    assert!(
        !calls.iter().any(|c| c["operation"] == "GetObject"),
        "log objects were fetched: {calls:?}"
    );
    let pages = calls
        .iter()
        .filter(|c| c["operation"] == "GetQueryResults")
        .count();
    assert_eq!(
        pages, 4,
        "1,103 rows are two pages of 1,000; the links and uses queries one each"
    );
    // The Athena calls are exactly those of docs/leastpriv-athena-policy.json.
    let policy: Value = serde_json::from_slice(
        &std::fs::read(crate::common::repo().join("docs/leastpriv-athena-policy.json")).unwrap(),
    )
    .unwrap();
    let allowed: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .filter(|a| a.starts_with("athena:"))
        .collect();
    let called: BTreeSet<String> = calls
        .iter()
        .filter(|c| c["service"] == "athena")
        .map(|c| format!("athena:{}", c["operation"].as_str().unwrap()))
        .collect();
    assert_eq!(called, allowed);

    // What the tool sent: the database, a projected table over the trail
    // bucket for this account, one aggregation query over the window's days.
    let queries = moto.athena_queries();
    let sql: Vec<&str> = queries
        .iter()
        .map(|q| q["query"].as_str().unwrap())
        .collect();
    assert_eq!(sql.len(), 5, "{sql:?}");
    assert_eq!(sql[0], "CREATE DATABASE IF NOT EXISTS leastpriv");
    assert!(sql[1].starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS leastpriv.cloudtrail_"));
    assert!(sql[1].contains(&format!("LOCATION 's3://lp-trail-logs-{account}/AWSLogs/'")));
    assert!(sql[1].contains(&format!("'projection.account.values' = '{account}'")));
    assert!(
        sql[2].contains("day BETWEEN '2026/10/01' AND '2026/11/01'"),
        "{}",
        sql[2]
    );
    assert!(sql[2].contains(&format!("account IN ('{account}')")));
    assert_eq!(queries[2]["database"], "leastpriv");
    // Then the session chains' links and uses, written beside the store.
    assert!(
        sql[3].contains("eventname LIKE 'AssumeRole%'"),
        "{}",
        sql[3]
    );
    assert!(
        sql[4].contains("useridentity.accesskeyid AS access_key"),
        "{}",
        sql[4]
    );
    let sessions: Value =
        serde_json::from_slice(&std::fs::read(out.join("sessions.json")).unwrap()).unwrap();
    assert_eq!(sessions["format"], "leastpriv.sessions/v1");
    assert_eq!(sessions["used"], serde_json::json!([]));

    // The rows feed the same store and audit as downloaded logs.
    let store: Value =
        serde_json::from_slice(&std::fs::read(out.join("activity.json")).unwrap()).unwrap();
    assert_eq!(store["source"], "athena");
    let report = audit_json(&out);
    assert_eq!(report["coverage"]["records"], 1109);
    let app = principal(&report, "app-role");
    let used_app = app["used"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["action"] == "secretsmanager:GetSecretValue")
        .expect("GetSecretValue used");
    assert_eq!(used_app["count"], 7);
    assert!(
        used_app.to_string().contains("secret:prod/db-AbCdEf"),
        "{used_app}"
    );
    assert!(
        app["denied"].to_string().contains("s3:ListAllMyBuckets"),
        "{app}"
    );
    let agent_report = principal(&report, "agent-role");
    assert_eq!(agent_report["source_identities"], 1100);
    assert_eq!(agent_report["kind"], "agent");

    // A refused query stops the pull and leaves the snapshot as it was.
    let before = std::fs::read(out.join("activity.json")).unwrap();
    moto.fault("StartQueryExecution", 1, 400, "InvalidRequestException");
    let run = pull(
        &moto,
        &out,
        &[
            "--athena",
            "--trail-bucket",
            &format!("s3://lp-trail-logs-{account}"),
            "--no-access-advisor",
        ],
    );
    assert_ne!(run.code, Some(0));
    assert!(
        run.stderr.contains("athena:StartQueryExecution"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(out.join("activity.json")).unwrap(), before);

    // Without --trail-bucket there is nothing to query.
    let run = pull(&moto, &tmp.path().join("x"), &["--athena"]);
    run.code(2);
    assert!(run.stderr.contains("--trail-bucket"), "{}", run.stderr);
}
