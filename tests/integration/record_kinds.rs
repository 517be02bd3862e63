//! Real CloudTrail as it arrives (issue 21): every record kind, every kind
//! of identity, the audited account, and coverage that adds up, on the
//! fixture `tests/fixtures/record-kinds/` (shapes from the AWS
//! documentation; `generate.py` writes it).

use crate::common::{fixture, leastpriv};
use serde_json::Value;

const A: &str = "111122223333";

fn audit(extra: &[&str]) -> (Option<i32>, Value, String) {
    let dir = fixture("record-kinds");
    let run = leastpriv()
        .args(["audit", "--format", "json", "--iam"])
        .arg(dir.join("iam.json"))
        .arg("--cloudtrail")
        .arg(dir.join("cloudtrail"))
        .args(extra)
        .run();
    let json = if run.code == Some(0) {
        run.json()
    } else {
        Value::Null
    };
    (run.code, json, run.stderr)
}

fn principal<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["principals"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no principal {name}"))
}

fn used<'a>(p: &'a Value, action: &str) -> Option<&'a Value> {
    p["used"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["action"] == action))
}

/// Every record lands in exactly one bucket, and each kind in its own.
#[test]
fn every_record_kind_is_counted_in_its_bucket_and_the_buckets_add_up() {
    let (code, r, stderr) = audit(&["--strict"]);
    assert_eq!(code, Some(0), "{stderr}");
    let c = &r["coverage"];
    let n = |f: &str| c[f].as_u64().unwrap_or_else(|| panic!("coverage.{f}"));
    let buckets = [
        "records_mapped",
        "records_no_permission",
        "records_not_iam",
        "records_unmapped",
        "records_aws_service",
        "records_network_activity",
        "records_insights",
        "records_duplicate",
        "records_outside_window",
        "records_other_account",
        "records_skipped",
    ];
    let sum: u64 = buckets.iter().map(|b| n(b)).sum();
    assert_eq!(sum, n("records"), "{c:#}");
    // 13 in the S3 file, 2 Insights, 2 in the lookup-events output.
    assert_eq!(n("records"), 17);
    assert_eq!(n("records_insights"), 2);
    assert_eq!(n("records_network_activity"), 1);
    assert_eq!(n("records_other_account"), 1);
    // The lookup-events event that the S3 file also holds.
    assert_eq!(n("records_duplicate"), 1);
    assert_eq!(n("records_aws_service"), 1);
    assert_eq!(
        n("digest_files_skipped"),
        1,
        "a digest recognized by content"
    );
    assert_eq!(n("lookup_events_files"), 1);
    assert_eq!(n("records_skipped"), 0);
    assert_eq!(n("records_unmapped"), 0, "{c:#}");
    assert_eq!(c["audited_accounts"], serde_json::json!([A]));
    assert!(r.get("warnings").is_none());
}

/// A network activity event is a second record of a call, not a second use;
/// one refused by the endpoint policy is the call's only record.
#[test]
fn network_activity_is_not_a_second_use_and_endpoint_refusals_are_refusals() {
    let (_, r, _) = audit(&[]);
    let w = principal(&r, "batch-worker");
    let secret = used(w, "secretsmanager:GetSecretValue").expect("used");
    assert_eq!(secret["count"], 1);
    let refused = w["denied"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["action"] == "kms:Decrypt"))
        .expect("kms:Decrypt refused");
    assert_eq!(refused["error_codes"]["VpceAccessDenied"], 1);
    // The lookup-events output's own event counts.
    assert!(used(w, "secretsmanager:ListSecrets").is_some());
}

/// A federation token acts with its issuer's permissions: the issuing IAM
/// user's use, with the federated name kept as evidence.
#[test]
fn federation_tokens_count_for_the_user_that_issued_them() {
    let (_, r, _) = audit(&[]);
    let u = principal(&r, "release-issuer");
    assert_eq!(used(u, "s3:ListAllMyBuckets").expect("used")["count"], 1);
    assert_eq!(u["on_behalf_of"]["federated_users"]["release-bot"], 1);
    assert!(u["unused"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a != "s3:ListAllMyBuckets"));
    let others: Vec<&str> = r["other_identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["arn"].as_str())
        .collect();
    assert!(
        !others.iter().any(|o| o.contains("federated-user")),
        "{others:?}"
    );
}

/// The person behind an identity-enhanced role session is kept with the
/// role's use; an Identity Center user without an ARN is named by its
/// identity store and user id, never dropped.
#[test]
fn identity_center_users_are_named() {
    let (_, r, _) = audit(&[]);
    let person = "d-0000000000/94000000-0000-4000-8000-000000000005";
    let role = principal(&r, "analyst-emr");
    assert!(used(role, "s3:ListAllMyBuckets").is_some());
    assert_eq!(role["on_behalf_of"]["identity_center_users"][person], 1);
    let others = r["other_identities"].as_array().unwrap();
    let user = others
        .iter()
        .find(|o| o["arn"] == format!("IdentityCenterUser/{person}"))
        .unwrap_or_else(|| panic!("{others:#?}"));
    assert_eq!(user["identity"], "federated");
    assert_eq!(user["records"], 1);
}

/// A role of the audited account that iam.json does not hold is "not in the
/// IAM snapshot", not another account's.
#[test]
fn principals_missing_from_the_snapshot_are_not_external() {
    let (_, r, _) = audit(&[]);
    let o = r["other_identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| {
            o["arn"].as_str().is_some_and(|a| {
                a.ends_with("role/aws-service-role/example.amazonaws.com/AWSServiceRoleForExample")
            })
        })
        .expect("the role is listed");
    assert_eq!(o["identity"], "not-in-snapshot");
}

/// CloudFront's versioned names map by the one suffix rule; a call that
/// passes a role is a use of iam:PassRole on that role (an instance
/// profile's role, for EC2).
#[test]
fn versioned_names_map_and_passed_roles_are_pass_role_use() {
    let (_, r, _) = audit(&[]);
    let d = principal(&r, "deployer");
    assert!(used(d, "cloudfront:CreateDistribution").is_some(), "{d:#}");
    let pass = used(d, "iam:PassRole").expect("iam:PassRole used");
    assert_eq!(pass["count"], 2);
    assert_eq!(
        pass["resources"],
        serde_json::json!([format!("arn:aws:iam::{A}:role/fn-exec")])
    );
    let passed = &d["on_behalf_of"]["passed_roles"][format!("arn:aws:iam::{A}:role/fn-exec")];
    assert_eq!(
        passed["services"],
        serde_json::json!(["ec2.amazonaws.com", "lambda.amazonaws.com"])
    );
    assert_eq!(
        passed["calls"],
        serde_json::json!(["ec2:RunInstances", "lambda:CreateFunction"])
    );
    assert!(d["unobservable"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a != "iam:PassRole"));
}

/// recommend scopes iam:PassRole to the roles seen passed, for the services
/// they were passed to.
#[test]
fn recommend_scopes_pass_role_to_the_roles_passed() {
    let dir = fixture("record-kinds");
    let run = leastpriv()
        .args(["recommend", "--format", "json", "--iam"])
        .arg(dir.join("iam.json"))
        .arg("--cloudtrail")
        .arg(dir.join("cloudtrail"))
        .run();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc = run.json();
    let rec = doc["recommendations"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "deployer"))
        .unwrap_or_else(|| panic!("{doc:#}"));
    let statements = rec["policy"]["Statement"].as_array().expect("statements");
    let pass: Vec<&Value> = statements
        .iter()
        .filter(|s| s.to_string().contains("iam:PassRole"))
        .collect();
    assert_eq!(pass.len(), 1, "{statements:#?}");
    assert_eq!(
        pass[0]["Resource"],
        format!("arn:aws:iam::{A}:role/fn-exec")
    );
    assert_eq!(
        pass[0]["Condition"]["StringEquals"]["iam:PassedToService"],
        serde_json::json!(["ec2.amazonaws.com", "lambda.amazonaws.com"])
    );
}

/// Logs with no record of the audited account: every report says so first,
/// `--strict` fails, and recommend removes nothing unless told to.
#[test]
fn logs_of_another_account_are_no_evidence() {
    let dir = fixture("record-kinds");
    let table = leastpriv()
        .arg("audit")
        .arg("--iam")
        .arg(dir.join("iam.json"))
        .arg("--cloudtrail")
        .arg(dir.join("other-account"))
        .run();
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    assert!(
        table.stdout.starts_with(
            "WARNING: no CloudTrail record in the window belongs to account 111122223333"
        ),
        "{}",
        table.stdout
    );
    let json = leastpriv()
        .args(["audit", "--format", "json", "--iam"])
        .arg(dir.join("iam.json"))
        .arg("--cloudtrail")
        .arg(dir.join("other-account"))
        .run()
        .json();
    let warning = json["warnings"][0].as_str().expect("a warning");
    assert!(
        warning.contains("1 record(s) belong to other accounts only"),
        "{warning}"
    );
    assert_eq!(json["coverage"]["records_audited_account"], 0);
    for format in ["markdown", "sarif"] {
        let out = leastpriv()
            .args(["audit", "--format", format, "--iam"])
            .arg(dir.join("iam.json"))
            .arg("--cloudtrail")
            .arg(dir.join("other-account"))
            .run();
        assert!(
            out.stdout.contains("no CloudTrail record in the window"),
            "{format}"
        );
    }
    let strict = leastpriv()
        .args(["audit", "--strict", "--iam"])
        .arg(dir.join("iam.json"))
        .arg("--cloudtrail")
        .arg(dir.join("other-account"))
        .run();
    assert_eq!(strict.code, Some(2), "{}", strict.stderr);
    let refused = leastpriv()
        .args(["recommend", "--format", "json", "--iam"])
        .arg(dir.join("iam.json"))
        .arg("--cloudtrail")
        .arg(dir.join("other-account"))
        .run();
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("refusing to recommend"),
        "{}",
        refused.stderr
    );
    let allowed = leastpriv()
        .args([
            "recommend",
            "--format",
            "json",
            "--allow-empty-evidence",
            "--iam",
        ])
        .arg(dir.join("iam.json"))
        .arg("--cloudtrail")
        .arg(dir.join("other-account"))
        .run();
    assert_eq!(allowed.code, Some(0), "{}", allowed.stderr);
}

/// An organization trail delivers a call across accounts to both accounts,
/// with one `sharedEventID`: counted once, as the caller's; the owner's copy
/// alone still counts.
#[test]
fn an_organization_trail_counts_a_call_across_accounts_once() {
    let dir = fixture("record-kinds");
    let run = |logs: std::path::PathBuf| {
        leastpriv()
            .args(["audit", "--format", "json", "--iam"])
            .arg(dir.join("iam.json"))
            .arg("--cloudtrail")
            .arg(logs)
            .run()
            .json()
    };
    let both = run(dir.join("org-trail"));
    let c = &both["coverage"];
    assert_eq!(c["records"], 2);
    assert_eq!(c["records_duplicate"], 1);
    assert_eq!(c["records_mapped"], 1);
    let decrypt = used(principal(&both, "batch-worker"), "kms:Decrypt").expect("used");
    assert_eq!(decrypt["count"], 1);
    let owner_only = run(dir.join("org-trail/AWSLogs/o-exampleorg1/444455556666"));
    assert_eq!(owner_only["coverage"]["records_duplicate"], 0);
    let decrypt = used(principal(&owner_only, "batch-worker"), "kms:Decrypt").expect("used");
    assert_eq!(decrypt["count"], 1);
}

/// A recorded use of iam:PassRole that names no role (an event mapped to
/// it, such as `PutBucketReplication`) keeps today's grant: never dropped,
/// never narrowed to nothing.
#[test]
fn pass_role_recorded_without_a_role_keeps_todays_grant() {
    let tmp = tempfile::tempdir().unwrap();
    let iam = serde_json::json!({
        "UserDetailList": [{
            "Path": "/", "UserName": "replicator", "UserId": "AIDAEXAMPLEREPL",
            "Arn": format!("arn:aws:iam::{A}:user/replicator"),
            "CreateDate": "2026-01-01T00:00:00Z", "GroupList": [], "AttachedManagedPolicies": [],
            "Tags": [],
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Resource": "*",
                    "Action": ["s3:PutReplicationConfiguration", "iam:PassRole"]}]}}]
        }],
        "RoleDetailList": [], "GroupDetailList": [], "Policies": []
    });
    let record = serde_json::json!({"Records": [{
        "eventVersion": "1.11", "eventTime": "2026-03-02T10:00:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "PutBucketReplication",
        "eventID": "e-1", "recipientAccountId": A, "eventType": "AwsApiCall",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{A}:user/replicator"),
            "accountId": A, "userName": "replicator"},
        "requestParameters": {"bucketName": "b"}
    }]});
    std::fs::write(tmp.path().join("iam.json"), iam.to_string()).unwrap();
    std::fs::write(tmp.path().join("logs.json"), record.to_string()).unwrap();
    let run = leastpriv()
        .args(["recommend", "--format", "json", "--iam"])
        .arg(tmp.path().join("iam.json"))
        .arg("--cloudtrail")
        .arg(tmp.path().join("logs.json"))
        .tmp(tmp.path())
        .run();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc = run.json();
    let policy = doc["recommendations"][0]["policy"].to_string();
    assert!(policy.contains("iam:PassRole"), "{policy}");
    let pass = doc["recommendations"][0]["policy"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s.to_string().contains("iam:PassRole"))
        .cloned()
        .unwrap();
    assert_eq!(pass["Resource"], "*", "{pass}");
}
