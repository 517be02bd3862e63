//! `recommend`: right-sized policies. The acceptance test evaluates every
//! recommended document with the project's own evaluator: each used action
//! stays allowed on each resource it was used on.

use leastpriv::audit::{run, Audit, AuditOptions};
use leastpriv::catalog::Catalog;
use leastpriv::ingest::policy_json::parse_document;
use leastpriv::ingest::snapshot::SnapshotPaths;
use leastpriv::model::{AttachedPolicy, Effect, PolicySource};
use leastpriv::output::Fate;
use leastpriv::policy::grants::{effective_grants, Expander};
use leastpriv::policy::request::{evaluate_request, Decision, Request};
use leastpriv::recommend::{document_json, recommend, write_all, IdentityType, Recommendation};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const NOW: i64 = 1_793_491_200;

fn audit_of(dir: &Path) -> Audit {
    let paths = SnapshotPaths::resolve(Some(dir), &Default::default()).expect("snapshot");
    run(
        &paths,
        &AuditOptions {
            now: Some(NOW),
            ..Default::default()
        },
    )
    .expect("audit")
}

fn demo() -> &'static (Audit, Vec<Recommendation>) {
    static DEMO: OnceLock<(Audit, Vec<Recommendation>)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let audit = audit_of(Path::new("fixtures/demo"));
        let recs = recommend(&audit);
        (audit, recs)
    })
}

fn rec<'a>(
    recs: &'a [Recommendation],
    identity_type: IdentityType,
    name: &str,
) -> &'a Recommendation {
    recs.iter()
        .find(|r| r.identity_type == identity_type && r.name == name)
        .unwrap_or_else(|| panic!("no recommendation for {} `{name}`", identity_type.as_str()))
}

fn attached(source: PolicySource, r: &Recommendation) -> AttachedPolicy {
    let doc = parse_document(&r.document, "recommended")
        .unwrap_or_else(|e| panic!("`{}`: recommended document does not parse: {e}", r.name));
    AttachedPolicy {
        source,
        document: Arc::new(doc),
    }
}

/// Every failure of the acceptance criterion in one audit, and how many
/// requests were allowed today (and so checked).
fn acceptance_failures(audit: &Audit, recs: &[Recommendation]) -> (Vec<String>, usize) {
    let cat = Catalog::embedded();
    let mut ex = Expander::new(cat);
    let mut failures = Vec::new();
    let mut checked = 0;
    for ap in &audit.principals {
        let p = &ap.verdicts.principal;
        let Some(own) = recs
            .iter()
            .find(|r| r.principal == p.arn && r.identity_type != IdentityType::Group)
        else {
            failures.push(format!("`{}`: no recommendation", p.name));
            continue;
        };
        // The recommended principal: its own recommendation, those of its
        // groups, and the original permissions boundary.
        let mut new = p.clone();
        new.policies = vec![attached(
            PolicySource::Inline {
                policy_name: "leastpriv".into(),
            },
            own,
        )];
        for g in &p.groups {
            if let Some(gr) = recs
                .iter()
                .find(|r| r.identity_type == IdentityType::Group && &r.name == g)
            {
                new.policies.push(attached(
                    PolicySource::GroupInline {
                        group: g.clone(),
                        policy_name: "leastpriv".into(),
                    },
                    gr,
                ));
            }
        }
        let granted = effective_grants(cat, &mut ex, &new).granted;
        let old: Vec<&AttachedPolicy> = p.policies.iter().collect();
        let newp: Vec<&AttachedPolicy> = new.policies.iter().collect();
        for u in ap.verdicts.used.iter().filter(|u| u.granted()) {
            let action = cat.full_name(u.action);
            let resources: Vec<String> =
                if cat.action(u.action).resource_types.is_empty() || u.stats.resources.is_empty() {
                    vec!["*".into()]
                } else {
                    u.stats.resources.to_vec()
                };
            // Not granted at all: a failure unless no resource it was used on
            // is allowed today either (a Deny on exactly those resources).
            let allowed_today = |r: &String| {
                let req = Request {
                    action: action.clone(),
                    resource: r.clone(),
                    context: Default::default(),
                };
                matches!(
                    evaluate_request(&old, p.boundary.as_ref(), &req).decision,
                    Decision::Allow | Decision::Unknown
                )
            };
            if !granted.contains(u.action) {
                if resources.iter().any(allowed_today) {
                    failures.push(format!("`{}`: used `{action}` is not granted", p.name));
                }
                continue;
            }
            for r in resources {
                let req = Request {
                    action: action.clone(),
                    resource: r.clone(),
                    context: Default::default(),
                };
                let before = evaluate_request(&old, p.boundary.as_ref(), &req).decision;
                let after = evaluate_request(&newp, p.boundary.as_ref(), &req).decision;
                let ok = match before {
                    Decision::Allow => {
                        checked += 1;
                        after == Decision::Allow
                    }
                    // A kept condition that needs the request's context.
                    Decision::Unknown => matches!(after, Decision::Allow | Decision::Unknown),
                    // Today's policies do not name this spelling of the
                    // resource either (a name, not the ARN; a resource policy).
                    Decision::ImplicitDeny | Decision::ExplicitDeny => true,
                };
                if !ok {
                    failures.push(format!(
                        "`{}`: `{action}` on `{r}`: {} today, {} recommended",
                        p.name,
                        before.as_str(),
                        after.as_str()
                    ));
                }
            }
        }
        // Never an action that was only refused, never more than today.
        for d in &ap.verdicts.denied {
            let refused_only = matches!(
                ap.verdicts.verdict(d.action),
                leastpriv::verdict::Verdict::Denied(_)
            );
            if refused_only
                && granted.contains(d.action)
                && !ap.verdicts.grants.granted.contains(d.action)
            {
                failures.push(format!(
                    "`{}`: refused `{}` is now granted",
                    p.name,
                    cat.full_name(d.action)
                ));
            }
        }
        // Every used-failed action (the principal needs it) and every
        // attempted one that is granted today stays granted.
        for f in &ap.verdicts.failed {
            let v = ap.verdicts.verdict(f.action);
            let keep = matches!(
                v,
                leastpriv::verdict::Verdict::UsedFailed | leastpriv::verdict::Verdict::Attempted
            );
            if keep && ap.verdicts.grants.granted.contains(f.action) && !granted.contains(f.action)
            {
                failures.push(format!(
                    "`{}`: {} `{}` is removed",
                    p.name,
                    v.as_str(),
                    cat.full_name(f.action)
                ));
            }
        }
        let mut wider = granted.clone();
        wider.subtract(&ap.verdicts.grants.granted);
        if !wider.is_empty() {
            failures.push(format!(
                "`{}`: recommended grants {} action(s) not granted today, e.g. `{}`",
                p.name,
                wider.len(),
                wider
                    .iter()
                    .next()
                    .map(|id| cat.full_name(id))
                    .unwrap_or_default()
            ));
        }
    }
    (failures, checked)
}

#[test]
fn every_used_action_stays_allowed_in_the_demo() {
    let (audit, recs) = demo();
    let (failures, checked) = acceptance_failures(audit, recs);
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked >= 25, "only {checked} requests checked");
}

fn rule_snapshots() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = Path::new("tests/rules");
    for rule in std::fs::read_dir(root).expect("tests/rules").flatten() {
        let Ok(cases) = std::fs::read_dir(rule.path()) else {
            continue;
        };
        for case in cases.flatten() {
            if case.path().join("cloudtrail").is_dir() {
                out.push(case.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_used_action_stays_allowed_in_the_rule_snapshots() {
    let dirs = rule_snapshots();
    assert!(dirs.len() > 10, "found only {dirs:?}");
    let mut failures = Vec::new();
    let mut checked = 0;
    for d in dirs {
        let audit = audit_of(&d);
        let recs = recommend(&audit);
        let (f, c) = acceptance_failures(&audit, &recs);
        checked += c;
        failures.extend(f.into_iter().map(|f| format!("{}: {f}", d.display())));
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked > 0, "no request checked");
}

#[test]
fn every_principal_and_the_granting_group_get_one() {
    let (audit, recs) = demo();
    for ap in &audit.principals {
        assert_eq!(
            recs.iter()
                .filter(|r| r.principal == ap.verdicts.principal.arn)
                .count(),
            1
        );
    }
    let dev = rec(recs, IdentityType::Group, "developers");
    assert_eq!(dev.principal, "arn:aws:iam::111122223333:group/developers");
    assert!(dev.diff.contains("Members: `alice`"), "{}", dev.diff);
    let text = dev.document.to_string();
    assert!(text.contains("logs:DescribeLogGroups"), "{text}");
    assert!(text.contains("KeptUnobservable"), "{text}");
    let alice = rec(recs, IdentityType::User, "alice");
    assert!(
        alice.diff.contains("group(s) `developers`"),
        "{}",
        alice.diff
    );
}

fn statements(r: &Recommendation) -> &Vec<serde_json::Value> {
    r.document["Statement"].as_array().expect("Statement list")
}

#[test]
fn pass_role_is_inferred_from_run_instances_and_dropped_without() {
    let (_, recs) = demo();
    let bob = rec(recs, IdentityType::User, "bob");
    // Recorded now (issue 21): RunInstances named the instance profile of
    // legacy-batch, so iam:PassRole is used on that role, kept for it alone.
    let pr = statements(bob)
        .iter()
        .find(|s| s["Action"] == "iam:PassRole")
        .expect("bob keeps iam:PassRole");
    assert!(
        pr["Sid"].as_str().unwrap_or_default().starts_with("Used"),
        "{pr}"
    );
    assert_eq!(pr["Action"], "iam:PassRole");
    assert_eq!(
        pr["Resource"],
        "arn:aws:iam::111122223333:role/legacy-batch"
    );
    assert_eq!(
        pr["Condition"]["StringEquals"]["iam:PassedToService"],
        "ec2.amazonaws.com"
    );
    let ci = rec(recs, IdentityType::User, "ci-deploy");
    assert!(!ci.document.to_string().contains("iam:PassRole"));
    assert!(ci.diff.contains("`iam:PassRole` removed"), "{}", ci.diff);
}

#[test]
fn denies_and_guardrails_are_kept_unless_they_hit_used_actions() {
    let (_, recs) = demo();
    let bob = rec(recs, IdentityType::User, "bob");
    let denies: Vec<&str> = statements(bob)
        .iter()
        .filter(|s| s["Effect"] == Effect::Deny.as_str())
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert!(denies.contains(&"NoSecrets"), "{denies:?}");
    assert!(denies.contains(&"NoTerminateOutsideHome"), "{denies:?}");
    // bob's audit-trail guardrail is the organization's SCP `protect-audit`
    // (fixtures/demo/organization.json): nothing to add to his policy.
    assert!(
        !denies.iter().any(|s| s.starts_with("LeastprivGuardrail")),
        "{denies:?}"
    );
    // The SSO administrators are exempt from that SCP: theirs is added.
    let admin = recs
        .iter()
        .find(|r| r.name.starts_with("AWSReservedSSO_AdministratorAccess"))
        .expect("the SSO administrator role");
    assert!(
        statements(admin)
            .iter()
            .filter(|s| s["Effect"] == Effect::Deny.as_str())
            .filter_map(|s| s["Sid"].as_str())
            .any(|s| s.starts_with("LeastprivGuardrail")),
        "{}",
        admin.document
    );
    let agent = rec(recs, IdentityType::Role, "support-agent");
    assert!(
        agent.warnings.iter().any(|w| w.contains("not added")),
        "{:?}",
        agent.warnings
    );
}

#[test]
fn identity_center_dormant_and_stale_keys_are_addressed() {
    let (_, recs) = demo();
    let sso = rec(
        recs,
        IdentityType::Role,
        "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
    );
    assert!(
        sso.diff
            .contains("permission set **`AdministratorAccess`**"),
        "{}",
        sso.diff
    );
    assert!(sso
        .terraform
        .contains("aws_ssoadmin_permission_set_inline_policy"));
    let legacy = rec(recs, IdentityType::Role, "legacy-batch");
    assert!(legacy.diff.contains("**Dormant**"), "{}", legacy.diff);
    assert!(statements(legacy).iter().all(|s| s["Effect"] == "Deny"));
    let ci = rec(recs, IdentityType::User, "ci-deploy");
    assert!(
        ci.diff.contains("access key 2 of `ci-deploy`"),
        "{}",
        ci.diff
    );
}

#[test]
fn documents_fit_the_managed_policy_limit() {
    let (_, recs) = demo();
    for r in recs {
        assert!(
            leastpriv::recommend::size(&r.document) <= leastpriv::recommend::MANAGED_POLICY_LIMIT,
            "{}",
            r.name
        );
    }
}

#[test]
fn write_all_writes_three_files_per_recommendation() {
    let (_, recs) = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_all(recs, dir.path()).expect("write");
    assert_eq!(written.len(), recs.len() * 3);
    assert!(written.iter().all(|(_, f)| *f == Fate::Written));
    // A rerun over the same account leaves every file alone; one whose
    // content changed is written again.
    let again = write_all(recs, dir.path()).expect("rewrite");
    assert!(again.iter().all(|(_, f)| *f == Fate::Unchanged));
    assert_eq!(
        again.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        written.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    let tf_path = dir.path().join("role/orders-api.tf");
    std::fs::write(&tf_path, "edited by hand").expect("edit");
    let third = write_all(recs, dir.path()).expect("third");
    let changed: Vec<_> = third
        .iter()
        .filter(|(_, f)| *f == Fate::Written)
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(changed, [tf_path]);
    let json = dir.path().join("role/orders-api.json");
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).expect("json");
    assert_eq!(back, rec(recs, IdentityType::Role, "orders-api").document);
    for f in [
        "role/orders-api.tf",
        "role/orders-api.diff.md",
        "user/bob.json",
        "group/developers.json",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let tf = std::fs::read_to_string(dir.path().join("role/orders-api.tf")).expect("tf");
    assert!(tf.contains("resource \"aws_iam_policy\" \"orders_api_least_privilege\""));
    assert!(tf.contains("aws_iam_role_policy_attachment"));
    // The policy a reviewer edits (and `--check --policies` proves) is the
    // one Terraform applies.
    assert!(
        tf.contains("policy = file(\"${path.module}/orders-api.json\")"),
        "{tf}"
    );
    assert_eq!(tf.matches('{').count(), tf.matches('}').count());
}

/// The removed actions not listed are counted per service, and the counts
/// add up: checked on every diff of the demo, including an administrator's
/// (some 22,000 actions over 400 services).
#[test]
fn removed_actions_per_service_add_up() {
    let (_, recs) = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_all(recs, dir.path()).expect("write");
    let mut lines = 0;
    for (f, _) in written
        .iter()
        .filter(|(f, _)| f.to_string_lossy().ends_with(".diff.md"))
    {
        let text = std::fs::read_to_string(f).expect("diff written");
        for l in text.lines().filter(|l| l.contains(" more, per service: ")) {
            let (more, per) = l.split_once(" more, per service: ").expect("split");
            let more: usize = more.trim_start_matches("- ").parse().expect("count");
            let mut services = std::collections::BTreeSet::new();
            let sum: usize = per
                .split(", ")
                .map(|p| {
                    let (svc, n) = p.rsplit_once(' ').expect("`svc` n");
                    assert!(services.insert(svc), "{svc} counted twice in {f:?}");
                    n.parse::<usize>().expect("n")
                })
                .sum();
            assert_eq!(sum, more, "{f:?}: {l}");
            lines += 1;
        }
    }
    assert!(
        lines >= 3,
        "the demo has at least three such lines, found {lines}"
    );
}

#[test]
fn snapshot_orders_api() {
    let (_, recs) = demo();
    let r = rec(recs, IdentityType::Role, "orders-api");
    assert_snapshot!("orders_api_document", document_json(&r.document));
    assert_snapshot!("orders_api_diff", r.diff);
}

#[test]
fn snapshot_support_agent() {
    let (_, recs) = demo();
    let r = rec(recs, IdentityType::Role, "support-agent");
    assert_snapshot!("support_agent_document", document_json(&r.document));
    assert_snapshot!("support_agent_diff", r.diff);
}

mod generated {
    //! The acceptance criterion on generated roles and activity (proptest):
    //! whatever the policies and whatever was used, refused or failed, the
    //! recommended policy grants every used action that is granted today,
    //! every used-failed one and every attempted one, never one that was
    //! only refused, and nothing more than today.

    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    const ACTIONS: &[&str] = &[
        "*",
        "s3:*",
        "s3:Get*",
        "s3:PutObject",
        "kms:Decrypt",
        "kms:*",
        "secretsmanager:GetSecretValue",
        "ec2:Describe*",
        "iam:PassRole",
        "lambda:*",
    ];
    const RESOURCES: &[&str] = &[
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b",
        "arn:aws:kms:us-east-1:111122223333:key/k",
        "arn:aws:secretsmanager:*:*:secret:prod/*",
        "arn:aws:lambda:us-east-1:111122223333:function:f",
    ];
    /// Calls the role may have made: source, name, resource ARN.
    const CALLS: &[(&str, &str, &str)] = &[
        ("s3.amazonaws.com", "GetObject", "arn:aws:s3:::b/k"),
        ("s3.amazonaws.com", "PutObject", "arn:aws:s3:::b/k"),
        ("s3.amazonaws.com", "ListBuckets", ""),
        (
            "kms.amazonaws.com",
            "Decrypt",
            "arn:aws:kms:us-east-1:111122223333:key/k",
        ),
        (
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf",
        ),
        ("ec2.amazonaws.com", "DescribeInstances", ""),
        (
            "lambda.amazonaws.com",
            "GetFunction20150331v2",
            "arn:aws:lambda:us-east-1:111122223333:function:f",
        ),
    ];

    fn statement() -> impl Strategy<Value = Value> {
        (
            proptest::sample::subsequence(ACTIONS, 1..4),
            proptest::sample::subsequence(RESOURCES, 1..3),
            any::<bool>(),
            proptest::bool::weighted(0.15),
        )
            .prop_map(|(actions, resources, not_action, deny)| {
                let mut s = json!({ "Effect": if deny { "Deny" } else { "Allow" } });
                s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                s["Resource"] = json!(resources);
                s
            })
    }

    /// How a call ended: error code and message (success, refusals, each
    /// family of failures after authorization, and errors that say nothing).
    const ENDINGS: &[(&str, &str)] = &[
        ("", ""),
        ("", ""),
        ("", ""),
        ("AccessDenied", ""),
        ("AccessDenied", "User: a is not authorized to perform: s3:GetObject with an explicit deny in a service control policy"),
        ("NoSuchKey", ""),
        ("ResourceNotFoundException", ""),
        ("ConditionalCheckFailedException", ""),
        ("Client.DryRunOperation", ""),
        ("ThrottlingException", ""),
        ("SomeUnknownCode", ""),
    ];

    fn snapshot(statements: &[Value], calls: &[(usize, usize)], dir: &Path) {
        let role = json!({
            "RoleName": "gen", "RoleId": "AROAGEN", "Path": "/",
            "Arn": "arn:aws:iam::111122223333:role/gen",
            "AssumeRolePolicyDocument": { "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": { "Service": "lambda.amazonaws.com" },
                "Action": "sts:AssumeRole" }] },
            "RolePolicyList": [{ "PolicyName": "p", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": statements } }],
            "AttachedManagedPolicies": []
        });
        let iam = json!({ "RoleDetailList": [role], "UserDetailList": [],
                          "GroupDetailList": [], "Policies": [] });
        std::fs::write(dir.join("iam.json"), serde_json::to_vec(&iam).unwrap()).unwrap();
        let records: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(i, &(c, e))| {
                let (source, name, arn) = CALLS[c];
                let (code, message) = ENDINGS[e];
                let mut r = json!({
                    "eventVersion": "1.09", "eventTime": format!("2026-10-{:02}T10:00:00Z", 1 + i % 28),
                    "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
                    "eventID": format!("gen-{i}"), "eventType": "AwsApiCall",
                    "recipientAccountId": "111122223333",
                    "userIdentity": { "type": "AssumedRole",
                        "arn": "arn:aws:sts::111122223333:assumed-role/gen/s",
                        "accountId": "111122223333",
                        "sessionContext": { "sessionIssuer": { "type": "Role",
                            "arn": "arn:aws:iam::111122223333:role/gen" } } },
                });
                if !arn.is_empty() {
                    r["resources"] = json!([{ "ARN": arn }]);
                }
                if !code.is_empty() {
                    r["errorCode"] = json!(code);
                }
                if !message.is_empty() {
                    r["errorMessage"] = json!(message);
                }
                r
            })
            .collect();
        std::fs::create_dir_all(dir.join("cloudtrail")).unwrap();
        std::fs::write(
            dir.join("cloudtrail/gen.json"),
            serde_json::to_vec(&json!({ "Records": records })).unwrap(),
        )
        .unwrap();
        // Data events recorded too, so S3 object calls are observable.
        std::fs::write(
            dir.join("trails.json"),
            serde_json::to_vec(&json!({ "trailList": [{ "Name": "t", "IsMultiRegionTrail": true,
                "EventSelectors": [{ "ReadWriteType": "All", "IncludeManagementEvents": true,
                    "DataResources": [{ "Type": "AWS::S3::Object", "Values": ["arn:aws:s3"] }] }] }] }))
            .unwrap(),
        )
        .unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        #[test]
        fn a_recommended_policy_grants_every_used_action(
            statements in proptest::collection::vec(statement(), 1..5),
            calls in proptest::collection::vec((0..CALLS.len(), 0..ENDINGS.len()), 0..12),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            snapshot(&statements, &calls, tmp.path());
            let audit = audit_of(tmp.path());
            let recs = recommend(&audit);
            let (failures, _) = acceptance_failures(&audit, &recs);
            prop_assert!(failures.is_empty(), "{:#?}\n{}", failures, serde_json::to_string(&statements).unwrap());
            // The proof that comes with each recommendation agrees.
            for r in &recs {
                let proof = r.proof.as_ref().expect("a proof");
                prop_assert!(proof.passed, "{:#?}\n{}", proof.failures, serde_json::to_string(&statements).unwrap());
            }
        }
    }
}
