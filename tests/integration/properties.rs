//! Invariants checked on generated inputs (proptest): what examples miss.

use leastpriv::catalog::{ActionSet, Catalog};
use leastpriv::ingest::iam;
use leastpriv::policy::grants::{effective_grants, Expander};
use leastpriv::usage::mapping::EventMapper;
use leastpriv::usage::IngestOptions;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::Path;

const ACTIONS: &[&str] = &[
    "*",
    "s3:*",
    "s3:Get*",
    "s3:?etObject",
    "s3:PutObject",
    "iam:Pass*",
    "iam:*",
    "ec2:Describe*",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "sts:AssumeRole",
    "lambda:*",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/*",
    "arn:aws:kms:us-east-1:111122223333:key/k",
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:secretsmanager:*:*:secret:prod/*",
];

fn statement(effect: &'static str) -> impl Strategy<Value = Value> {
    (
        proptest::sample::subsequence(ACTIONS, 1..4),
        proptest::sample::subsequence(RESOURCES, 1..3),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            move |(actions, resources, not_action, not_resource, cond)| {
                let mut s = json!({ "Effect": effect });
                s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                s[if not_resource {
                    "NotResource"
                } else {
                    "Resource"
                }] = json!(resources);
                if cond {
                    s["Condition"] = json!({ "Bool": { "aws:SecureTransport": "true" } });
                }
                s
            },
        )
}

fn document(statements: Vec<Value>) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The granted set of a role with these identity statements and boundary.
fn granted(identity: &[Value], boundary: Option<&[Value]>) -> ActionSet {
    let mut role = json!({
        "RoleName": "r", "Arn": "arn:aws:iam::111122223333:role/r", "Path": "/",
        "RolePolicyList": [{ "PolicyName": "p", "PolicyDocument": document(identity.to_vec()) }],
        "AttachedManagedPolicies": []
    });
    let mut policies = Vec::new();
    if let Some(b) = boundary {
        let arn = "arn:aws:iam::111122223333:policy/boundary";
        role["PermissionsBoundary"] =
            json!({ "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn });
        policies.push(json!({
            "PolicyName": "boundary", "Arn": arn, "DefaultVersionId": "v1",
            "PolicyVersionList": [{ "VersionId": "v1", "IsDefaultVersion": true, "Document": document(b.to_vec()) }]
        }));
    }
    let file = json!({ "RoleDetailList": [role], "Policies": policies });
    let account = iam::parse(&serde_json::to_vec(&file).unwrap(), Path::new("gen.json"))
        .expect("generated iam.json parses");
    let cat = Catalog::embedded();
    let mut ex = Expander::new(cat);
    effective_grants(cat, &mut ex, &account.principals[0]).granted
}

/// An SCP statement: Allow or Deny, on actions or all but some, on every
/// resource or some, maybe under a condition the principal decides
/// (`aws:PrincipalArn`) or one only a request could (`aws:SecureTransport`).
fn scp_statement() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("Allow"), Just("Deny")],
        proptest::sample::subsequence(ACTIONS, 1..3),
        any::<bool>(),
        prop_oneof![
            Just("*"),
            Just("arn:aws:s3:::b/*"),
            Just("arn:aws:iam::111122223333:role/*")
        ],
        0u8..3,
    )
        .prop_map(|(effect, actions, not_action, resource, cond)| {
            let mut s = json!({ "Effect": effect, "Resource": resource });
            s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
            match cond {
                1 => {
                    s["Condition"] =
                        json!({ "ArnLike": { "aws:PrincipalArn": "arn:aws:iam::*:role/r" } })
                }
                2 => s["Condition"] = json!({ "Bool": { "aws:SecureTransport": "false" } }),
                _ => {}
            }
            s
        })
}

fn subset(a: &ActionSet, b: &ActionSet) -> Option<String> {
    a.iter()
        .find(|id| !b.contains(*id))
        .map(|id| Catalog::embedded().full_name(id))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn adding_a_deny_never_grants_more(
        allows in proptest::collection::vec(statement("Allow"), 1..4),
        deny in statement("Deny"),
    ) {
        let before = granted(&allows, None);
        let mut with_deny = allows.clone();
        with_deny.push(deny);
        let after = granted(&with_deny, None);
        prop_assert_eq!(subset(&after, &before), None);
    }

    #[test]
    fn a_boundary_never_grants_more(
        allows in proptest::collection::vec(statement("Allow"), 1..4),
        boundary in proptest::collection::vec(statement("Allow"), 1..3),
    ) {
        let without = granted(&allows, None);
        let within = granted(&allows, Some(&boundary));
        prop_assert_eq!(subset(&within, &without), None);
        // ...and never more than the boundary allows on its own.
        let boundary_alone = granted(&boundary, None);
        prop_assert_eq!(subset(&within, &boundary_alone), None);
    }

    /// SCPs never grant: what they leave is within the identity's grant;
    /// what they block, no request on any resource is allowed; what they
    /// neither block nor limit, a request is allowed.
    #[test]
    fn an_organization_never_grants_more_and_agrees_with_requests(
        allows in proptest::collection::vec(statement("Allow"), 1..4),
        scps in proptest::collection::vec(scp_statement(), 1..4),
    ) {
        use leastpriv::model::organization::{OrgAccount, OrgUnit, OrganizationParts};
        use leastpriv::model::{OrgPolicy, OrgPolicyKind, Organization};
        use leastpriv::policy::caller::Caller;
        use leastpriv::policy::organization::{evaluate_request, OrgEval};
        use leastpriv::policy::request::{Decision, Request};
        let cat = Catalog::embedded();
        let file = json!({ "RoleDetailList": [{
            "RoleName": "r", "Arn": "arn:aws:iam::111122223333:role/r", "Path": "/",
            "RolePolicyList": [{ "PolicyName": "p", "PolicyDocument": document(allows.clone()) }],
            "AttachedManagedPolicies": [] }] });
        let account = iam::parse(&serde_json::to_vec(&file).unwrap(), Path::new("gen.json")).unwrap();
        let p = &account.principals[0];
        let parse = |v: Value| std::sync::Arc::new(
            leastpriv::ingest::policy_json::parse_document(&v, "$").unwrap());
        let org = Organization::new(OrganizationParts {
            id: Some("o-1".into()),
            management_account: Some("999999999999".into()),
            units: vec![OrgUnit { id: "r-1".into(), name: None, parent: None },
                        OrgUnit { id: "ou-1".into(), name: None, parent: Some("r-1".into()) }],
            accounts: vec![OrgAccount { id: "111122223333".into(), name: None, status: None, parent: Some("ou-1".into()) }],
            policies: vec![
                OrgPolicy { id: "p-full".into(), arn: None, name: "FullAWSAccess".into(), kind: OrgPolicyKind::Scp,
                    aws_managed: true, document: parse(document(vec![json!({"Effect": "Allow", "Action": "*", "Resource": "*"})])),
                    targets: vec!["r-1".into(), "111122223333".into()], content_unknown: false },
                OrgPolicy { id: "p-gen".into(), arn: None, name: "generated".into(), kind: OrgPolicyKind::Scp,
                    aws_managed: false, document: parse(document(scps)), targets: vec!["ou-1".into()], content_unknown: false },
            ],
            scp_enabled: true,
            ..Default::default()
        });
        let base = effective_grants(cat, &mut Expander::new(cat), p);
        let eval = OrgEval::new(cat, &org);
        let g = leastpriv::policy::grants::apply_org(base.clone(), eval.grants_for(p));
        prop_assert_eq!(subset(&g.granted, &base.granted), None);
        prop_assert!(!g.granted.intersects(&g.blocked_by_org));
        let caller = Caller::of_principal(p, Some(&org));
        let ask = |id| evaluate_request(&org, OrgPolicyKind::Scp, &caller, None, &Request {
            action: cat.full_name(id), resource: "*".into(), context: Default::default() }, false).decision;
        for id in g.blocked_by_org.iter().take(40) {
            prop_assert_ne!(ask(id), Decision::Allow, "{} is blocked", cat.full_name(id));
        }
        let mut free = g.granted.clone();
        free.subtract(&g.org_limited);
        for id in free.iter().take(40) {
            prop_assert_eq!(ask(id), Decision::Allow, "{} is neither blocked nor limited", cat.full_name(id));
        }
    }

    #[test]
    fn ingesting_any_record_never_panics(
        source in "[a-z0-9.-]{0,30}",
        name in "[A-Za-z0-9]{0,30}",
        identity in prop_oneof![
            Just("IAMUser".to_string()), Just("AssumedRole".to_string()),
            Just("AWSService".to_string()), Just("Root".to_string()),
            Just("FederatedUser".to_string()), Just("AWSAccount".to_string()),
            Just(String::new()), "[A-Za-z]{1,12}"
        ],
        arn in "(arn:aws:[a-z]{0,6}:[a-z0-9-]{0,9}:[0-9]{0,12}:[a-z/:A-Z0-9*-]{0,40})?",
        time in prop_oneof![Just("2026-10-20T10:00:00Z".to_string()), "[0-9TZ:-]{0,25}"],
        error in proptest::option::of("[A-Za-z.]{0,20}"),
        garbage in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut r = json!({
            "eventVersion": "1.08", "eventTime": time, "eventSource": source,
            "eventName": name, "awsRegion": "us-east-1", "eventID": name.clone() + &source,
            "userIdentity": { "type": identity, "arn": arn, "accountId": "111122223333",
                              "sessionContext": { "sessionIssuer": { "type": "Role", "arn": arn } } },
            "resources": [{ "ARN": arn }],
            "requestParameters": { "bucketName": "b", "key": "k" },
        });
        if let Some(e) = error {
            r["errorCode"] = json!(e);
        }
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.json"), serde_json::to_vec(&json!({ "Records": [r] })).unwrap()).unwrap();
        std::fs::write(tmp.path().join("b.json"), &garbage).unwrap();
        let mapper = EventMapper::embedded(Catalog::embedded()).unwrap();
        let activity = leastpriv::usage::ingest(
            &[tmp.path().to_path_buf()],
            &mapper,
            IngestOptions::default(),
        );
        prop_assert!(activity.stats.records >= 1);
    }

    #[test]
    fn a_report_diffed_against_itself_is_empty(day in 0i64..40, span in 1i64..60) {
        let since = 1_788_220_800 + day * 86_400; // 2026-09-01 + day
        let paths = leastpriv::ingest::snapshot::SnapshotPaths::resolve(
            Some(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo"))),
            &Default::default(),
        ).unwrap();
        let audit = leastpriv::audit::run(&paths, &leastpriv::audit::AuditOptions {
            since: Some(since),
            until: Some(since + span * 86_400),
            now: Some(1_793_491_200),
            ..Default::default()
        }).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("r.json");
        std::fs::write(&f, leastpriv::report::json::render(&audit, leastpriv::report::json::Schema::V1)).unwrap();
        let d = leastpriv::drift::diff(&f, &f).unwrap();
        prop_assert!(d.is_empty());
        // The same audit as v2, against itself and against v1 either way.
        let f2 = tmp.path().join("r2.json");
        std::fs::write(&f2, leastpriv::report::json::render(&audit, leastpriv::report::json::Schema::V2)).unwrap();
        for (a, b) in [(&f2, &f2), (&f, &f2), (&f2, &f)] {
            let d = leastpriv::drift::diff(a, b).unwrap();
            prop_assert!(d.is_empty(), "{d:?}");
        }
    }
}
