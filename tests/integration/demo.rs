//! The conclusions that `fixtures/demo/README.md` says a correct audit of the
//! demo account must reach, checked on the `leastpriv.audit/v1` JSON report:
//! per principal, which key actions are used, unused, unobservable or denied,
//! the principal kinds, the identities that must not become principals, and
//! the coverage counters (duplicates, digest files).

use std::sync::OnceLock;

use crate::common::leastpriv;
use serde_json::Value;

fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        let run = leastpriv()
            .args(["audit", "fixtures/demo", "--format", "json"])
            .run();
        run.code(0);
        run.json()
    })
}

struct P(&'static Value);

fn principal(name: &str) -> P {
    let found = report()["principals"]
        .as_array()
        .expect("principals is a list")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no principal `{name}` in the demo report"));
    P(found)
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

impl P {
    fn name(&self) -> &str {
        self.0["name"].as_str().unwrap_or("?")
    }

    fn used_entry(&self, action: &str) -> Option<&Value> {
        self.0["used"]
            .as_array()?
            .iter()
            .find(|u| u["action"] == action)
    }

    fn denied_entry(&self, action: &str) -> Option<&Value> {
        self.0["denied"]
            .as_array()?
            .iter()
            .find(|u| u["action"] == action)
    }

    fn used_actions(&self) -> Vec<&str> {
        self.0["used"]
            .as_array()
            .map(|a| a.iter().filter_map(|u| u["action"].as_str()).collect())
            .unwrap_or_default()
    }

    fn unused(&self) -> Vec<&str> {
        strings(&self.0["unused"])
    }

    fn unobservable(&self) -> Vec<&str> {
        strings(&self.0["unobservable"])
    }

    /// Where `action` appears: `used`, `unused`, `unobservable`, `denied`.
    fn lists(&self, action: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.used_entry(action).is_some() {
            out.push("used");
        }
        if self.unused().contains(&action) {
            out.push("unused");
        }
        if self.unobservable().contains(&action) {
            out.push("unobservable");
        }
        if self.denied_entry(action).is_some() {
            out.push("denied");
        }
        out
    }

    #[track_caller]
    fn used(&self, action: &str) -> &Value {
        assert_eq!(self.lists(action), ["used"], "{}: {action}", self.name());
        let u = self.used_entry(action).unwrap();
        assert_eq!(
            u["granted"],
            true,
            "{}: {action} used but not granted",
            self.name()
        );
        u
    }

    #[track_caller]
    fn is_unused(&self, action: &str) {
        assert_eq!(self.lists(action), ["unused"], "{}: {action}", self.name());
    }

    #[track_caller]
    fn is_unobservable(&self, action: &str) {
        assert_eq!(
            self.lists(action),
            ["unobservable"],
            "{}: {action}",
            self.name()
        );
    }

    /// Refused by AWS, and not granted (so in none of the granted lists).
    #[track_caller]
    fn denied_not_granted(&self, action: &str) -> &Value {
        assert_eq!(self.lists(action), ["denied"], "{}: {action}", self.name());
        let d = self.denied_entry(action).unwrap();
        assert_eq!(d["granted"], false, "{}: {action}", self.name());
        d
    }

    /// Not effective: in no list at all.
    #[track_caller]
    fn not_granted(&self, action: &str) {
        assert!(
            self.lists(action).is_empty(),
            "{}: {action} is not granted but appears in {:?}",
            self.name(),
            self.lists(action)
        );
    }

    #[track_caller]
    fn kind(&self, kind: &str) {
        assert_eq!(self.0["kind"], kind, "{}: kind", self.name());
    }

    fn count(&self, field: &str) -> u64 {
        self.0[field].as_u64().unwrap_or(u64::MAX)
    }
}

#[test]
fn principals_are_the_snapshot_users_and_roles() {
    let mut names: Vec<&str> = report()["principals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
            "alice",
            "bob",
            "ci-deploy",
            "github-deploy",
            "legacy-batch",
            "orders-api",
            "support-agent",
            "triage-agent",
        ]
    );
}

#[test]
fn kinds() {
    for (name, kind) in [
        ("alice", "human"),
        ("bob", "human"),
        ("ci-deploy", "npe"),
        ("orders-api", "npe"),
        ("support-agent", "agent"),
        (
            "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
            "human",
        ),
        ("github-deploy", "npe"),
        ("legacy-batch", "npe"),
        ("triage-agent", "agent"),
    ] {
        principal(name).kind(kind);
    }
}

#[test]
fn record_counts_per_principal() {
    for (name, records) in [
        ("alice", 29),
        // 2 of them made with a federation token bob issued (issue 21).
        ("bob", 23),
        ("ci-deploy", 23),
        ("orders-api", 138),
        ("support-agent", 25),
        ("AWSReservedSSO_AdministratorAccess_0123456789abcdef", 6),
        ("github-deploy", 8),
        ("legacy-batch", 0),
        ("triage-agent", 3),
    ] {
        assert_eq!(principal(name).count("records"), records, "{name}");
    }
}

#[test]
fn alice() {
    let p = principal("alice");
    p.used("logs:DescribeLogGroups");
    // eventSource monitoring.amazonaws.com
    p.used("cloudwatch:GetMetricData");
    assert_eq!(p.used_actions().len(), 2, "{:?}", p.used_actions());
    // acme-app-assets is not in the trail's data selectors.
    for a in [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:ListMultipartUploadParts",
    ] {
        p.is_unobservable(a);
    }
    // Bucket-configuration reads are management events.
    for a in ["s3:GetBucketPolicy", "s3:GetBucketAcl"] {
        p.is_unused(a);
    }
    p.is_unused("logs:DeleteLogGroup");
    p.is_unused("logs:CreateLogGroup");
    p.denied_not_granted("iam:ListUsers");
    // A sign-in, not a granted IAM action.
    p.not_granted("signin:ConsoleLogin");
}

#[test]
fn bob() {
    let p = principal("bob");
    for a in [
        "ec2:DescribeInstances",
        "ec2:RunInstances",
        // event ListBuckets
        "s3:ListAllMyBuckets",
        "sts:GetFederationToken",
    ] {
        p.used(a);
    }
    // The explicit Deny wins over the NotAction allow.
    p.not_granted("secretsmanager:GetSecretValue");
    p.not_granted("secretsmanager:DeleteSecret");
    // The Deny applies only outside us-east-1: still granted, and unused.
    p.is_unused("ec2:TerminateInstances");
    // NotAction excludes iam:*.
    p.not_granted("iam:ListUsers");
    p.not_granted("iam:CreateAccessKey");
    // S3 objects: recorded for acme-customer-data, so unused (the grant is on *).
    p.is_unused("s3:GetObject");
    p.is_unused("s3:DeleteObject");
    // Data plane that the trail does not record.
    p.is_unobservable("dynamodb:GetItem");
    p.is_unobservable("lambda:InvokeFunction");
    assert!(p.denied_entry("ec2:TerminateInstances").is_none());
    assert_eq!(p.0["denied"].as_array().map(Vec::len), Some(0));
}

/// README: bob used `sts:GetCallerIdentity` (4 records). It needs no Allow,
/// but an action the principal called must not be reported as unused.
#[test]
fn bob_get_caller_identity_is_used() {
    let p = principal("bob");
    let u = p.used("sts:GetCallerIdentity");
    assert_eq!(u["count"], 4);
}

#[test]
fn ci_deploy() {
    let p = principal("ci-deploy");
    for a in [
        "lambda:UpdateFunctionCode",
        "lambda:GetFunction",
        "cloudformation:DescribeStacks",
    ] {
        p.used(a);
    }
    assert_eq!(p.used_actions().len(), 3, "{:?}", p.used_actions());
    // acme-artifacts is not in the data selectors.
    p.is_unobservable("s3:PutObject");
    p.is_unused("lambda:CreateFunction");
    p.is_unused("cloudformation:CreateStack");
    // Only the default version v2 counts; v1 (lambda:*) is ignored.
    p.not_granted("lambda:DeleteFunction");
    p.not_granted("lambda:InvokeFunction");
    // README: "unused" (no call that would have needed it); the brief for
    // these tests: "unobservable" (CloudTrail never logs PassRole). Either
    // way it is granted and not used.
    let lists = p.lists("iam:PassRole");
    assert!(
        lists == ["unobservable"] || lists == ["unused"],
        "ci-deploy: iam:PassRole in {lists:?}"
    );
    let d = p.denied_not_granted("sts:AssumeRole");
    assert_eq!(
        strings(&d["resources"]),
        ["arn:aws:iam::444455556666:role/prod-deployer"]
    );
}

#[test]
fn orders_api() {
    let p = principal("orders-api");
    assert_eq!(p.0["path"], "/service/");
    assert_eq!(
        p.0["arn"],
        "arn:aws:iam::111122223333:role/service/orders-api"
    );
    let secret = p.used("secretsmanager:GetSecretValue");
    assert_eq!(secret["count"], 60, "duplicates are counted once");
    let decrypt = p.used("kms:Decrypt");
    assert_eq!(decrypt["count"], 60);
    assert_eq!(decrypt["invoked_by"]["secretsmanager.amazonaws.com"], 60);
    p.used("ssm:GetParameter");
    p.used("logs:CreateLogStream");
    assert_eq!(p.used_actions().len(), 4, "{:?}", p.used_actions());
    for a in [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "logs:PutLogEvents",
    ] {
        p.is_unobservable(a);
    }
    p.is_unused("dynamodb:DeleteTable");
    p.is_unused("logs:CreateLogGroup");
}

#[test]
fn support_agent() {
    let p = principal("support-agent");
    for a in [
        "s3:GetObject",
        "s3:ListBucket",
        "bedrock:InvokeModel",
        "secretsmanager:GetSecretValue",
    ] {
        p.used(a);
    }
    assert_eq!(p.count("granted"), 4, "identity policy ∩ boundary");
    // Granted by the identity policy, not by the boundary.
    p.not_granted("secretsmanager:DeleteSecret");
    p.not_granted("s3:PutObject");
    p.not_granted("sts:AssumeRole");
    // In the boundary, not in the identity policy.
    p.not_granted("kms:Decrypt");
    p.denied_not_granted("iam:CreateAccessKey");
    let d = p.denied_not_granted("s3:DeleteObject");
    assert_eq!(
        strings(&d["resources"]),
        ["arn:aws:s3:::acme-customer-data/customers/1002/notes.txt"]
    );
    assert_eq!(p.count("sessions"), 5);
    assert_eq!(p.count("source_identities"), 3);
}

#[test]
fn sso_administrator() {
    let p = principal("AWSReservedSSO_AdministratorAccess_0123456789abcdef");
    assert_eq!(p.0["path"], "/aws-reserved/sso.amazonaws.com/");
    p.used("iam:ListRoles");
    p.used("ec2:DescribeVpcs");
    // The console change of issue 24: carol opens a security group.
    p.used("ec2:AuthorizeSecurityGroupIngress");
    assert_eq!(p.used_actions().len(), 3);
    p.is_unused("iam:CreateUser");
}

/// The AgentCore agent (issue 24): an execution role shared by two
/// runtimes, reaching AWS as itself, holding credential actions on `*`, with
/// AgentCore data events the trail does not record; and the console change.
#[test]
fn agentcore_agent_and_console_change() {
    let p = principal("triage-agent");
    p.used("bedrock:InvokeModel");
    p.used("dynamodb:Query");
    let findings = report()["findings"].as_array().unwrap();
    let of = |rule: &str, who: &str| {
        findings
            .iter()
            .filter(|f| f["rule"] == rule && f["principal"].as_str().unwrap_or("").ends_with(who))
            .count()
    };
    for rule in [
        "agent-role-shared",
        "agent-calls-as-execution-role",
        "agent-use-unobservable",
    ] {
        assert_eq!(of(rule, "/triage-agent"), 1, "{rule}");
    }
    let secrets = findings
        .iter()
        .find(|f| {
            f["rule"] == "secrets-access"
                && f["principal"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("/triage-agent")
        })
        .expect("secrets-access on triage-agent");
    assert_eq!(secrets["severity"], "critical", "{secrets:#}");
    assert!(
        secrets["actions"]
            .to_string()
            .contains("GetResourceOauth2Token"),
        "{secrets:#}"
    );
    assert_eq!(
        of("change-outside-pipeline", "role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef"),
        1
    );
    assert_eq!(of("change-outside-pipeline", "role/github-deploy"), 0);
    assert_eq!(of("change-outside-pipeline", "user/ci-deploy"), 0);
    let notices = report()["coverage"]["notices"].to_string();
    assert!(notices.contains("triage-agent"), "{notices}");
}

#[test]
fn github_deploy() {
    let p = principal("github-deploy");
    p.used("ecr:GetAuthorizationToken");
    p.used("ecr:PutImage");
    p.is_unused("ecr:BatchGetImage");
    assert_eq!(p.count("granted"), 3);
}

#[test]
fn legacy_batch_is_dormant() {
    let p = principal("legacy-batch");
    assert!(p.used_actions().is_empty(), "{:?}", p.used_actions());
    assert_eq!(p.count("records"), 0);
    p.is_unused("ec2:RunInstances");
    p.is_unused("s3:GetObject");
    assert!(p.0["last_activity"].is_null(), "{}", p.0["last_activity"]);
}

#[test]
fn aws_services_never_become_principals() {
    for p in report()["principals"].as_array().unwrap() {
        let arn = p["arn"].as_str().unwrap_or_default();
        assert!(arn.starts_with("arn:aws:iam::111122223333:"), "{arn}");
    }
    for o in report()["other_identities"].as_array().unwrap() {
        let arn = o["arn"].as_str().unwrap_or_default();
        assert!(!arn.contains("amazonaws.com"), "service as identity: {arn}");
    }
    assert_eq!(report()["coverage"]["records_aws_service"], 13);
}

#[test]
fn root_and_federated_users_are_other_identities() {
    let others = report()["other_identities"].as_array().unwrap();
    let find = |arn: &str| {
        others
            .iter()
            .find(|o| o["arn"] == arn)
            .unwrap_or_else(|| panic!("`{arn}` not in other_identities: {others:#?}"))
    };
    let root = find("arn:aws:iam::111122223333:root");
    assert_eq!(root["identity"], "root");
    assert_eq!(root["records"], 1);
    // A federation token acts with its issuer's permissions: the
    // contractor's calls are bob's, the federated name kept as evidence.
    assert!(others
        .iter()
        .all(|o| o["arn"] != "arn:aws:sts::111122223333:federated-user/contractor"));
    let bob = report()["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "bob")
        .unwrap();
    assert_eq!(bob["on_behalf_of"]["federated_users"]["contractor"], 2);
    let saml = find("SAMLUser/carol@example.com");
    assert_eq!(saml["identity"], "federated");
    assert_eq!(saml["records"], 2);
    let web = others
        .iter()
        .find(|o| {
            o["arn"]
                .as_str()
                .unwrap_or("")
                .starts_with("WebIdentityUser/")
        })
        .expect("the web identity user");
    assert_eq!(web["records"], 4);
    // None of them is a principal.
    for p in report()["principals"].as_array().unwrap() {
        let arn = p["arn"].as_str().unwrap_or_default();
        assert!(
            !arn.ends_with(":root") && !arn.contains("federated-user"),
            "{arn}"
        );
    }
}

#[test]
fn duplicates_and_digest_files() {
    let c = &report()["coverage"];
    assert_eq!(c["records_duplicate"], 2);
    assert_eq!(c["digest_files_skipped"], 1);
    assert_eq!(c["files_failed"], 0);
    assert_eq!(c["records_skipped"], 0);
    assert_eq!(c["records_unmapped"], 0);
    assert_eq!(c["problems"].as_array().map(Vec::len), Some(0));
    // 275 unique records + 2 duplicates.
    assert_eq!(c["records"], 277);
}

#[test]
fn window_comes_from_the_records() {
    let w = &report()["window"];
    assert_eq!(w["source"], "records");
    let start = w["start"].as_str().unwrap();
    let end = w["end"].as_str().unwrap();
    assert!(start >= "2026-10-01T00:00:00Z", "{start}");
    assert!(end <= "2026-10-30T23:59:59Z", "{end}");
}

#[test]
fn support_agent_acts_on_behalf_of_end_users() {
    let p = principal("support-agent");
    let obo = &p.0["on_behalf_of"];
    let users: Vec<&String> = obo["source_identities"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(users, ["user-1001", "user-1002", "user-1003"]);
    assert_eq!(obo["session_names"].as_object().unwrap().len(), 5);
    // Session tags come from the AssumeRole calls Bedrock made for the role.
    assert_eq!(obo["session_tags"]["tenant"][0], "acme");
    assert_eq!(obo["session_tags"]["channel"][0], "helpdesk");
    let r1001 = strings(&obo["resources_by_source_identity"]["user-1001"]);
    assert!(
        r1001.iter().all(|r| !r.contains("/customers/1002/")),
        "{r1001:?}"
    );
    assert!(obo["calls_without_source_identity"].as_u64().unwrap() > 0);
}

/// Regression: `pull` writes `"Content": null` for a policy DescribePolicy
/// returned no content for, and the reader failed on it. The policy is kept
/// as unknown: what it could block reads as limited (never cleared, never
/// blocked), no guardrail is taken from it, and the gap is said first (JSON
/// `coverage.notices`, a coverage problem naming the policy).
#[test]
fn an_organization_policy_without_content_is_unknown_not_absent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("demo");
    let status = std::process::Command::new("cp")
        .args(["-r", "fixtures/demo"])
        .arg(&snap)
        .current_dir(crate::common::repo())
        .status()
        .expect("cp");
    assert!(status.success());
    let org_path = snap.join("organization.json");
    let mut org: Value =
        serde_json::from_slice(&std::fs::read(&org_path).expect("read")).expect("json");
    for p in org["Policies"].as_array_mut().expect("policies") {
        if p["PolicySummary"]["Id"] == "p-protectaudit" {
            p["Content"] = Value::Null;
        }
    }
    std::fs::write(&org_path, serde_json::to_vec(&org).expect("json")).expect("write");
    let run = leastpriv()
        .args(["audit", "--format", "json"])
        .arg(&snap)
        .run();
    run.code(0);
    let got = run.json();
    let notices = got["coverage"]["notices"].to_string();
    assert!(
        notices.contains("protect-audit") && notices.contains("unknown"),
        "{notices}"
    );
    let problems = got["coverage"]["problems"].to_string();
    assert!(problems.contains("p-protectaudit"), "{problems}");
    let by_name = |doc: &'static Value, name: &str| -> Value {
        doc["principals"]
            .as_array()
            .expect("principals")
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no `{name}`"))
    };
    let leaked: &'static Value = Box::leak(Box::new(got));
    let (known, unknown) = (by_name(report(), "bob"), by_name(leaked, "bob"));
    // Known, `protect-audit` blocks bob's trail tampering; unknown, it
    // neither blocks it nor clears it: it limits it.
    assert!(
        known["blocked_by_scp"]
            .to_string()
            .contains("cloudtrail:StopLogging"),
        "{}",
        known["blocked_by_scp"]
    );
    assert!(
        !unknown["blocked_by_scp"]
            .to_string()
            .contains("cloudtrail:StopLogging"),
        "{}",
        unknown["blocked_by_scp"]
    );
    assert!(
        unknown["limited_by_organization"].as_u64().unwrap_or(0)
            > known["limited_by_organization"].as_u64().unwrap_or(0),
        "{} vs {}",
        unknown["limited_by_organization"],
        known["limited_by_organization"]
    );
    // And `missing-guardrail` does not take an unknown policy for bob's
    // audit-trail guardrail: known, the SCP provides it; unknown, it fires.
    let missing_guardrail = |doc: &Value| {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| {
                f["rule"] == "missing-guardrail" && f["principal"].to_string().contains("bob")
            })
            .count()
    };
    assert_eq!(missing_guardrail(report()), 0);
    assert_eq!(missing_guardrail(leaked), 1);
}
