//! `recommend`'s proof end to end: the `Proof` section of every `.diff.md`,
//! `proof` in `leastpriv.recommendations/v1`, the summary line, and
//! `recommend --check`'s exit status. The proof's failures (a dropped used
//! call, a grant wider than today, a guardrail on a use) are unit tests of
//! `recommend::proof`, on broken recommendations.

use crate::common::leastpriv;
use leastpriv::catalog::Catalog;
use serde_json::{json, Value};
use std::path::Path;

#[test]
fn every_demo_recommendation_passes_and_check_exits_0() {
    let run = leastpriv()
        .args(["recommend", "fixtures/demo", "--check"])
        .run();
    run.code(0);
    assert_eq!(run.stdout, "proof: 10 of 10 recommendation(s) passed\n");
    assert!(!run.stderr.contains("proof failed"), "{}", run.stderr);
}

#[test]
fn the_json_carries_each_proof() {
    let run = leastpriv()
        .args(["recommend", "fixtures/demo", "--format", "json"])
        .run();
    run.code(0);
    let doc = run.json();
    let recs = doc["recommendations"].as_array().expect("recommendations");
    assert_eq!(recs.len(), 10);
    let mut requests = 0;
    for r in recs {
        let p = &r["proof"];
        assert_eq!(p["passed"], true, "{r:#}");
        assert_eq!(p["failures"], json!([]));
        assert!(
            p["context"].as_array().is_some_and(|c| !c.is_empty()),
            "{p:#}"
        );
        requests += p["checked_resources"].as_u64().unwrap();
        assert!(r["diff_markdown"]
            .as_str()
            .unwrap()
            .contains("\n## Proof: passed\n"));
    }
    assert!(requests >= 15, "{requests}");
    let agent = recs.iter().find(|r| r["name"] == "support-agent").unwrap();
    let context = agent["proof"]["context"].to_string();
    for part in [
        "permissions boundary: boundary `arn:aws:iam::111122223333:policy/agent-boundary`",
        "SCPs of the account: `FullAWSAccess`, `protect-audit`, `region-lockdown`",
        "resource policies: `arn:aws:s3:::acme-customer-data`",
    ] {
        assert!(context.contains(part), "{context}");
    }
}

#[test]
fn the_diff_and_the_summary_show_the_proof() {
    let out = tempfile::tempdir().unwrap();
    let run = leastpriv()
        .args(["recommend", "fixtures/demo", "--out"])
        .arg(out.path())
        .tmp(out.path())
        .run();
    run.code(0);
    assert!(
        run.stdout
            .ends_with("proof: 10 of 10 recommendation(s) passed\n"),
        "{}",
        run.stdout
    );
    let diff = std::fs::read_to_string(out.path().join("role/orders-api.diff.md")).unwrap();
    let proof = &diff[diff.find("## Proof: passed").expect(&diff)..];
    assert!(proof.contains("every used action (4)"), "{proof}");
    assert!(
        proof.contains("- replaced by the recommended policy: inline `orders-api-runtime`"),
        "{proof}"
    );
}

/// Writes a snapshot of one user, `gina` (account 111122223333), with
/// `policies` and `boundary`, and the successful calls `records`.
fn snapshot(dir: &Path, user: Value, policies: Value, records: Vec<Value>) {
    let iam = json!({
        "UserDetailList": [user],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": policies,
        "IsTruncated": false
    });
    std::fs::write(dir.join("iam.json"), iam.to_string()).unwrap();
    std::fs::create_dir_all(dir.join("cloudtrail")).unwrap();
    std::fs::write(
        dir.join("cloudtrail/events.json"),
        json!({ "Records": records }).to_string(),
    )
    .unwrap();
    let trails = json!({"trailList": [{
        "Name": "main",
        "TrailARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
        "S3BucketName": "trail-logs",
        "HomeRegion": "us-east-1",
        "IsMultiRegionTrail": true,
        "IsOrganizationTrail": false,
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []}]
    }]});
    std::fs::write(dir.join("trails.json"), trails.to_string()).unwrap();
}

/// `recommend --format json --check` on `dir`, which must exit 0: the run
/// and its document.
fn check_json(dir: &Path) -> (crate::common::Run, Value) {
    let run = leastpriv()
        .args(["recommend", "--format", "json", "--check"])
        .arg(dir)
        .tmp(dir)
        .run();
    run.code(0);
    let doc = run.json();
    (run, doc)
}

fn user(statements: Value, boundary: Option<&str>) -> Value {
    let mut u = json!({
        "Path": "/",
        "UserName": "gina",
        "UserId": "AIDAEXAMPLEGINA",
        "Arn": "arn:aws:iam::111122223333:user/gina",
        "CreateDate": "2025-01-01T00:00:00+00:00",
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "UserPolicyList": [{
            "PolicyName": "gina-policy",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}
        }]
    });
    if let Some(b) = boundary {
        u["PermissionsBoundary"] =
            json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": b});
    }
    u
}

fn record(i: usize, source: &str, name: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEGINA",
            "arn": "arn:aws:iam::111122223333:user/gina",
            "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLE000000001",
            "userName": "gina"
        },
        "eventTime": "2026-10-10T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.18.4",
        "requestParameters": params,
        "responseElements": null,
        "requestID": format!("00000000-0000-4000-8000-{i:012}"),
        "eventID": format!("22222222-0000-4000-8000-{i:012}"),
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    })
}

/// Regression: a policy over the managed-policy limit was compacted with
/// `ec2:Describe*` although today's policy granted 193 of ec2's Describe
/// actions, not all: the recommendation granted one more than today, and
/// its proof said so (`wider-than-today`). Wildcards now add no action the
/// replaced policies do not grant.
#[test]
fn compaction_wider_than_today() {
    let cat = Catalog::embedded();
    let mut describe: Vec<String> = cat
        .ids()
        .map(|id| cat.full_name(id))
        .filter(|n| n.starts_with("ec2:Describe"))
        .collect();
    describe.sort();
    let granted = &describe[1..];
    let dir = tempfile::tempdir().unwrap();
    let records = granted
        .iter()
        .enumerate()
        .map(|(i, a)| record(i, "ec2.amazonaws.com", &a["ec2:".len()..], Value::Null))
        .collect();
    snapshot(
        dir.path(),
        user(
            json!([{"Effect": "Allow", "Action": granted, "Resource": "*"}]),
            None,
        ),
        json!([]),
        records,
    );
    let (run, doc) = check_json(dir.path());
    let rec = &doc["recommendations"][0];
    assert_eq!(rec["proof"]["passed"], true, "{:#}", rec["proof"]);
    assert!(
        !rec["policy"].to_string().contains("ec2:Describe*"),
        "{:#}",
        rec["policy"]
    );
    assert!(
        run.stderr.contains("over the 6144-character limit"),
        "{}",
        run.stderr
    );
}

/// A used call the permissions boundary denies today: AWS allowed it when
/// it was made, so the boundary (or the policies) changed since. No
/// recommended policy can make it allowed, and that is not the
/// recommendation's failure: the proof notes it and `--check` exits 0.
#[test]
fn a_use_the_boundary_denies_today_is_noted_not_failed() {
    let boundary = "arn:aws:iam::111122223333:policy/gina-boundary";
    let dir = tempfile::tempdir().unwrap();
    snapshot(
        dir.path(),
        user(
            json!([{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1:111122223333:parameter/app/*"}]),
            Some(boundary),
        ),
        json!([{
            "PolicyName": "gina-boundary",
            "PolicyId": "ANPAEXAMPLEGINABOUND",
            "Arn": boundary,
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 0,
            "PermissionsBoundaryUsageCount": 1,
            "IsAttachable": true,
            "CreateDate": "2025-01-01T00:00:00+00:00",
            "UpdateDate": "2025-01-01T00:00:00+00:00",
            "PolicyVersionList": [{
                "Document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"},
                    {"Sid": "NoSecret", "Effect": "Deny", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1:111122223333:parameter/app/secret"}
                ]},
                "VersionId": "v1",
                "IsDefaultVersion": true,
                "CreateDate": "2025-01-01T00:00:00+00:00"
            }]
        }]),
        vec![
            record(
                1,
                "ssm.amazonaws.com",
                "GetParameter",
                json!({"name": "/app/config"}),
            ),
            record(
                2,
                "ssm.amazonaws.com",
                "GetParameter",
                json!({"name": "/app/secret"}),
            ),
        ],
    );
    let (_, doc) = check_json(dir.path());
    let p = &doc["recommendations"][0]["proof"];
    assert_eq!(p["passed"], true, "{p:#}");
    assert_eq!(p["checked_resources"], 2, "{p:#}");
    let notes = p["notes"].to_string();
    assert!(notes.contains("not allowed today either"), "{notes}");
    assert!(notes.contains("NoSecret"), "{notes}");
}

/// Regression (was a real defect the proof caught, `--check` exiting 1):
/// group `readers` grants `ssm:GetParameter` on `*`; its member `carol` also
/// has her own grant of it, on `parameter/c/*` only, and read `parameter/d/y`
/// through the group. The group's recommendation was built from the members
/// whose own policies did not grant the action at all (decided per action),
/// so it narrowed to `alice`'s use, and carol's own recommendation kept her
/// own `c/*`: her use of `d/y` would have been refused. Uses now go to the
/// grant that covers their resource: `d/y` to the group.
#[test]
fn group_keeps_a_member_use_its_own_grant_does_not_cover() {
    let dir = tempfile::tempdir().unwrap();
    readers_snapshot(dir.path());
    let run = leastpriv()
        .args(["recommend", "--check"])
        .arg(dir.path())
        .tmp(dir.path())
        .run();
    run.code(0);
    assert_eq!(
        run.stdout, "proof: 3 of 3 recommendation(s) passed\n",
        "{}",
        run.stderr
    );
    let out = tempfile::tempdir().unwrap();
    let run = leastpriv()
        .args(["recommend", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .tmp(out.path())
        .tmp(dir.path())
        .run();
    run.code(0);
    let doc = std::fs::read_to_string(out.path().join("group/readers.json")).unwrap();
    // The group keeps both members' uses, carol's outside her own grant.
    for used in ["parameter/a/x", "parameter/d/y"] {
        assert!(doc.contains(used), "{used}: {doc}");
    }
    assert!(!doc.contains("parameter/c/"), "{doc}");
    let diff = std::fs::read_to_string(out.path().join("group/readers.diff.md")).unwrap();
    assert!(diff.contains("## Proof: passed"), "{diff}");
}

/// Group `readers` (`ssm:GetParameter` on `*`) with members `alice` (no
/// policy of her own; read `parameter/a/x`) and `carol` (her own grant on
/// `parameter/c/*`; read `parameter/d/y` through the group).
fn readers_snapshot(dir: &Path) {
    let member = |name: &str, own: Option<Value>| {
        let none = own.is_none();
        let mut u = user(own.unwrap_or(json!([])), None);
        u["UserName"] = json!(name);
        u["UserId"] = json!(format!("AIDAEXAMPLE{}", name.to_uppercase()));
        u["Arn"] = json!(format!("arn:aws:iam::111122223333:user/{name}"));
        u["GroupList"] = json!(["readers"]);
        if none {
            u["UserPolicyList"] = json!([]);
        }
        u
    };
    snapshot(dir, member("alice", None), json!([]), Vec::new());
    let mut iam: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("iam.json")).unwrap()).unwrap();
    iam["UserDetailList"] = json!([
        member("alice", None),
        member(
            "carol",
            Some(
                json!([{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1:111122223333:parameter/c/*"}])
            )
        ),
    ]);
    iam["GroupDetailList"] = json!([{
        "Path": "/",
        "GroupName": "readers",
        "GroupId": "AGPAEXAMPLEREADERS",
        "Arn": "arn:aws:iam::111122223333:group/readers",
        "CreateDate": "2025-01-01T00:00:00+00:00",
        "GroupPolicyList": [{
            "PolicyName": "readers-access",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}
            ]}
        }],
        "AttachedManagedPolicies": []
    }]);
    std::fs::write(dir.join("iam.json"), iam.to_string()).unwrap();
    let by = |i: usize, name: &str, param: &str| {
        let mut r = record(
            i,
            "ssm.amazonaws.com",
            "GetParameter",
            json!({"name": param}),
        );
        r["userIdentity"]["principalId"] = json!(format!("AIDAEXAMPLE{}", name.to_uppercase()));
        r["userIdentity"]["arn"] = json!(format!("arn:aws:iam::111122223333:user/{name}"));
        r["userIdentity"]["userName"] = json!(name);
        r
    };
    std::fs::write(
        dir.join("cloudtrail/events.json"),
        json!({"Records": [by(1, "alice", "/a/x"), by(2, "carol", "/d/y")]}).to_string(),
    )
    .unwrap();
}

/// `--check`'s failure path on a real failure, constructed: the proof is
/// computed on the recommendation the per-action defect produced (group
/// `readers` narrowed to `alice`'s use only), through the library, since
/// `recommend` no longer produces it; the proof names carol's refused use.
#[test]
fn the_proof_fails_a_group_recommendation_that_drops_a_member_use() {
    use leastpriv::audit::{run, AuditOptions};
    use leastpriv::ingest::snapshot::SnapshotPaths;
    use leastpriv::policy::grants::Expander;
    use leastpriv::recommend::proof::{prove, FailureKind, Index};
    use leastpriv::recommend::{recommend_with, Options};
    let dir = tempfile::tempdir().unwrap();
    readers_snapshot(dir.path());
    let paths = SnapshotPaths::resolve(Some(dir.path()), &Default::default()).expect("snapshot");
    let audit = run(&paths, &AuditOptions::default()).expect("audit");
    let recs = recommend_with(&audit, &Options::default());
    let mut group = recs
        .into_iter()
        .find(|r| r.name == "readers")
        .expect("group readers");
    assert!(
        group.proof.as_ref().is_some_and(|p| p.passed),
        "{}",
        group.diff
    );
    // The defect's output: the member's use outside her own grant left out.
    let doc = group.document.to_string();
    assert!(doc.contains("parameter/d/y"), "{doc}");
    group.document = serde_json::from_str(
        &doc.replace(",\"arn:aws:ssm:us-east-1:111122223333:parameter/d/y\"", "")
            .replace("\"arn:aws:ssm:us-east-1:111122223333:parameter/d/y\",", "")
            .replace(
                "\"arn:aws:ssm:us-east-1:111122223333:parameter/d/y\"",
                "\"arn:aws:ssm:us-east-1:111122223333:parameter/a/x\"",
            ),
    )
    .unwrap();
    assert!(!group.document.to_string().contains("parameter/d/y"));
    let index = Index::new(&audit);
    let mut ex = Expander::new(audit.catalog);
    let p = prove(&audit, &index, &mut ex, &group).expect("a proof");
    assert!(!p.passed);
    assert_eq!(p.failures.len(), 1, "{:?}", p.failures);
    let f = &p.failures[0];
    assert_eq!(f.kind, FailureKind::UsedNotAllowed);
    assert_eq!(f.action, "ssm:GetParameter");
    assert_eq!(
        f.resource.as_deref(),
        Some("arn:aws:ssm:us-east-1:111122223333:parameter/d/y")
    );
    assert!(f.detail.contains("member `carol`"), "{}", f.detail);
}
