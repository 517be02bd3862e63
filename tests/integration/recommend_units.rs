//! Issue 23, recommendations on the unit people change: an Identity Center
//! permission set recommended as the union of its use in every account it
//! is provisioned in, and (`--group-by-name`) roles of one name in several
//! accounts, on `tests/fixtures/org` (see its `generate.py`): Ops in dev and
//! prod (a customer managed policy of each account's own), ReadOnly in dev
//! and sandbox (no record of sandbox: no evidence), `reader` in dev and
//! prod (differing grants and use), `stack-exec` in three accounts.

use crate::common::leastpriv;
use leastpriv::audit::{run, AuditOptions};
use leastpriv::catalog::Catalog;
use leastpriv::ingest::policy_json::parse_document;
use leastpriv::ingest::snapshot::SnapshotPaths;
use leastpriv::model::{AttachedPolicy, PolicySource};
use leastpriv::policy::grants::{effective_grants, Expander};
use leastpriv::policy::request::{evaluate_request, Decision, Request};
use leastpriv::recommend::{recommend_with, Options, UnitKind};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ORG: &str = "tests/fixtures/org";
const DEV: &str = "222222222222";
const PROD: &str = "333333333333";
const SANDBOX: &str = "444444444444";

/// `recommend ORG --out DIR [args]`; returns DIR.
fn recommend_out(tmp: &Path, args: &[&str]) -> PathBuf {
    let dir = tmp.join("rec");
    leastpriv()
        .args(["recommend", ORG, "--out", dir.to_str().unwrap()])
        .args(args)
        .run()
        .code(0);
    dir
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn recommendations(args: &[&str]) -> Vec<Value> {
    let run = leastpriv()
        .args(["recommend", ORG, "--format", "json"])
        .args(args)
        .run();
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["schema"], "leastpriv.recommendations/v1");
    doc["recommendations"].as_array().unwrap().clone()
}

fn unit<'a>(recs: &'a [Value], unit: &str, name: &str) -> &'a Value {
    recs.iter()
        .find(|r| r["unit"] == unit && r["name"] == name)
        .unwrap_or_else(|| panic!("no {unit} `{name}`"))
}

fn account<'a>(rec: &'a Value, id: &str) -> &'a Value {
    rec["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == id)
        .unwrap_or_else(|| panic!("no account {id} in {}", rec["name"]))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// The actions of the document's Allow statements whose Sid starts with `sid`.
fn allowed(doc: &Value, sid: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in doc["Statement"].as_array().unwrap() {
        if s["Effect"] == "Allow" && s["Sid"].as_str().is_some_and(|x| x.starts_with(sid)) {
            match &s["Action"] {
                Value::String(a) => out.push(a.clone()),
                Value::Array(a) => {
                    out.extend(a.iter().filter_map(|x| x.as_str().map(String::from)))
                }
                _ => {}
            }
        }
    }
    out
}

/// Ops: one inline policy for the set, files under permission-set/Ops/,
/// what each account contributed, and the account roles pointing at it.
#[test]
fn a_permission_set_is_recommended_once_for_all_its_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = recommend_out(tmp.path(), &[]);
    let ps = dir.join("permission-set/Ops");
    let tf = read(ps.join("Ops.tf"));
    assert!(tf.contains("resource \"aws_ssoadmin_permission_set_inline_policy\""));
    assert!(tf.contains("instance_arn       = \"arn:aws:sso:::instance/ssoins-1\""));
    assert!(tf.contains("permission_set_arn = \"arn:aws:sso:::permissionSet/ssoins-1/ps-ops\""));
    assert_snapshot!("ops_tf", tf);
    assert_snapshot!("ops_json", read(ps.join("Ops.json")));
    assert_snapshot!("ops_diff", read(ps.join("Ops.diff.md")));
    // The account roles: nothing to apply there, the set instead.
    for (account, role) in [
        (DEV, "AWSReservedSSO_Ops_0123456789abcdef"),
        (PROD, "AWSReservedSSO_Ops_fedcba9876543210"),
    ] {
        let role_dir = dir.join(account).join("role");
        let tf = read(role_dir.join(format!("{role}.tf")));
        assert!(!tf.contains("resource "), "{tf}");
        assert!(tf.contains("permission-set/Ops/Ops.tf"), "{tf}");
        let diff = read(role_dir.join(format!("{role}.diff.md")));
        assert!(
            diff.contains("Edit permission set **`Ops`** instead")
                && diff.contains("`permission-set/Ops/`"),
            "{diff}"
        );
    }
    // Without the flag, no role group.
    assert!(!dir.join("role-group").exists());
}

#[test]
fn the_json_says_what_each_account_contributed() {
    let recs = recommendations(&[]);
    let ops = unit(&recs, "permission-set", "Ops");
    assert_eq!(ops["kind"], "role");
    assert_eq!(
        ops["principal"],
        "arn:aws:sso:::permissionSet/ssoins-1/ps-ops"
    );
    assert_eq!(ops["permission_set_arn"], ops["principal"]);
    assert_eq!(ops["instance_arn"], "arn:aws:sso:::instance/ssoins-1");
    assert_eq!(ops["evidence_complete"], true);
    assert_eq!(strings(&ops["customer_managed_policies"]), ["/ops-logs"]);
    assert_json_snapshot!("ops_accounts", ops["accounts"]);
    let dev = account(ops, DEV);
    assert_eq!(dev["evidence"], true);
    assert!(strings(&dev["used_actions"]).contains(&"logs:GetLogEvents"));
    assert!(strings(&dev["only_here"]).contains(&"sts:AssumeRole"));
    let prod = account(ops, PROD);
    assert_eq!(strings(&prod["only_here"]), ["logs:FilterLogEvents"]);
    assert!(prod["role_arn"]
        .as_str()
        .unwrap()
        .ends_with("AWSReservedSSO_Ops_fedcba9876543210"));
    // Each account's own log group, not generalized across accounts.
    let doc = ops["policy"].to_string();
    for a in [DEV, PROD] {
        assert!(doc.contains(&format!("log-group:/app/{a}:*")), "{doc}");
    }
    // Existing entries gain `unit` only; roles of a set gain `part_of`.
    let role = recs
        .iter()
        .find(|r| r["name"] == "AWSReservedSSO_Ops_0123456789abcdef")
        .unwrap();
    assert_eq!(role["unit"], "role");
    assert_eq!(role["part_of"]["unit"], "permission-set");
    assert_eq!(role["part_of"]["dir"], "permission-set/Ops");
    let deploy = recs.iter().find(|r| r["name"] == "deploy").unwrap();
    assert_eq!(deploy["unit"], "role");
    assert!(deploy.get("part_of").is_none() && deploy.get("accounts").is_none());
}

/// ReadOnly is provisioned in sandbox, whose trail holds no record: what it
/// uses there is unknown, so nothing granted is removed or narrowed.
#[test]
fn an_account_without_evidence_holds_the_permission_set_back() {
    let recs = recommendations(&[]);
    let ro = unit(&recs, "permission-set", "ReadOnly");
    assert_eq!(ro["evidence_complete"], false);
    let sandbox = account(ro, SANDBOX);
    assert_eq!(sandbox["evidence"], false);
    assert_eq!(sandbox["records"], 0);
    assert!(sandbox["no_evidence_reason"]
        .as_str()
        .unwrap()
        .contains("no CloudTrail record"));
    assert_eq!(
        allowed(&ro["policy"], "KeptNoEvidence"),
        ["s3:ListAllMyBuckets"]
    );
    // Used in dev, on today's resources: sandbox may use others.
    assert!(ro["diff_markdown"]
        .as_str()
        .unwrap()
        .contains("**Evidence incomplete**"));
    // The sandbox's own roles are not dormant for lack of a trail.
    for name in ["AWSReservedSSO_ReadOnly_5555666677778888", "stack-exec"] {
        let r = recs
            .iter()
            .find(|r| r["name"] == name && r["principal"].as_str().unwrap().contains(SANDBOX))
            .unwrap();
        let diff = r["diff_markdown"].as_str().unwrap();
        assert!(!diff.contains("**Dormant**"), "{diff}");
        assert!(
            !allowed(&r["policy"], "KeptNoEvidence").is_empty(),
            "{}",
            r["policy"]
        );
    }
}

/// `--group-by-name`: `reader` (dev, prod) as one policy, with what differs.
#[test]
fn group_by_name_recommends_roles_of_one_name_together() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = recommend_out(tmp.path(), &["--group-by-name"]);
    let g = dir.join("role-group/reader");
    assert_snapshot!("reader_json", read(g.join("reader.json")));
    assert_snapshot!("reader_tf", read(g.join("reader.tf")));
    assert_snapshot!("reader_diff", read(g.join("reader.diff.md")));
    // The per-account roles stay, and point at the group.
    let own = read(dir.join(DEV).join("role/reader.diff.md"));
    assert!(own.contains("`role-group/reader/`"), "{own}");
    // Identity Center roles are never grouped by name.
    assert!(!dir.join("role-group").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("AWSReserved")));

    let recs = recommendations(&["--group-by-name"]);
    let reader = unit(&recs, "role-group", "reader");
    assert_eq!(reader["principal"], "arn:aws:iam::*:role/reader");
    assert_eq!(reader["evidence_complete"], true);
    assert_eq!(
        strings(&account(reader, PROD)["only_here"]),
        ["ssm:GetParameter"]
    );
    // dev's role gains what prod used: shown, never hidden.
    assert_eq!(
        strings(&account(reader, DEV)["added_here"]),
        ["ssm:GetParameter"]
    );
    // Resources keep their account; s3:ListBucket (unused, but no data
    // events) is kept, and nothing used in either account is lost.
    let doc = reader["policy"].to_string();
    assert!(
        doc.contains("arn:aws:s3:::reports-222222222222/a.csv"),
        "{doc}"
    );
    assert!(
        doc.contains("arn:aws:s3:::reports-333333333333/b.csv"),
        "{doc}"
    );
    assert!(doc.contains("arn:aws:ssm:us-east-1:333333333333:parameter/app/db-host"));
    // dev's Deny ssm:* would deny what prod used: left out, and said so.
    assert!(!doc.contains("\"Deny\""), "{doc}");
    assert!(
        strings(&reader["warnings"])
            .iter()
            .any(|w| w.contains("Deny statement") && w.contains("`ssm:GetParameter`")),
        "{}",
        reader["warnings"]
    );
}

/// `stack-exec` is in three accounts, one without evidence: every account's
/// grant is kept, the account component of each ARN included.
#[test]
fn a_role_group_with_an_account_without_evidence_keeps_todays_grant() {
    let recs = recommendations(&["--group-by-name"]);
    let g = unit(&recs, "role-group", "stack-exec");
    assert_eq!(g["evidence_complete"], false);
    assert_eq!(
        strings(&account(g, PROD)["only_here"]),
        ["cloudformation:UpdateStack"]
    );
    assert_eq!(account(g, SANDBOX)["evidence"], false);
    let doc = g["policy"].to_string();
    for a in [DEV, PROD, SANDBOX] {
        assert!(
            doc.contains(&format!("arn:aws:s3:::artifacts-{a}/*")),
            "{doc}"
        );
    }
}

/// The organization fixture audited through the library, at a fixed time.
fn org_audit() -> leastpriv::audit::Audit {
    let paths =
        SnapshotPaths::resolve(Some(Path::new(ORG)), &Default::default()).expect("snapshot");
    run(
        &paths,
        &AuditOptions {
            now: Some(1_793_491_200),
            ..Default::default()
        },
    )
    .expect("audit")
}

/// The acceptance criterion of a unit: applied in place of each account's
/// role policies, the unit's document allows every action the role used
/// there on every resource it used it on (when today's policies did), and
/// in an account without evidence, everything the role is granted today.
#[test]
fn a_units_policy_covers_every_accounts_use() {
    let audit = org_audit();
    let recs = recommend_with(
        &audit,
        &Options {
            group_by_name: true,
        },
    );
    let cat = Catalog::embedded();
    let mut ex = Expander::new(cat);
    let mut checked = 0;
    let mut units = 0;
    for r in recs.iter().filter(|r| r.unit.is_some()) {
        units += 1;
        let u = r.unit.as_ref().unwrap();
        let doc = Arc::new(parse_document(&r.document, "unit").expect("parses"));
        for part in &u.accounts {
            let Some(arn) = &part.role_arn else { continue };
            let ap = audit
                .principals
                .iter()
                .find(|p| &p.verdicts.principal.arn == arn)
                .unwrap();
            let p = &ap.verdicts.principal;
            let mut new = p.clone();
            new.policies = vec![AttachedPolicy {
                source: PolicySource::Inline {
                    policy_name: "leastpriv".into(),
                },
                document: doc.clone(),
            }];
            let old: Vec<&AttachedPolicy> = p.policies.iter().collect();
            let newp: Vec<&AttachedPolicy> = new.policies.iter().collect();
            if part.no_evidence.is_some() {
                let granted = effective_grants(cat, &mut ex, &new).granted;
                for id in ap.verdicts.grants.granted.iter() {
                    assert!(
                        granted.contains(id),
                        "{}: `{}` granted today in {} (no evidence) is not kept",
                        r.name,
                        cat.full_name(id),
                        part.account
                    );
                }
            }
            for used in ap.verdicts.used.iter().filter(|u| u.granted()) {
                let action = cat.full_name(used.action);
                assert!(part.used_actions.contains(&action), "{action}");
                let resources: Vec<String> = if cat.action(used.action).resource_types.is_empty()
                    || used.stats.resources.is_empty()
                {
                    vec!["*".into()]
                } else {
                    used.stats.resources.to_vec()
                };
                for res in resources {
                    let req = Request {
                        action: action.clone(),
                        resource: res.clone(),
                        context: Default::default(),
                    };
                    if evaluate_request(&old, p.boundary.as_ref(), &req).decision != Decision::Allow
                    {
                        continue;
                    }
                    checked += 1;
                    let after = evaluate_request(&newp, p.boundary.as_ref(), &req).decision;
                    assert_eq!(
                        after,
                        Decision::Allow,
                        "{}: `{action}` on `{res}` used in {} is not allowed",
                        r.name,
                        part.account
                    );
                }
            }
        }
    }
    assert_eq!(units, 4, "Ops, ReadOnly, reader, stack-exec");
    assert!(checked >= 10, "only {checked} requests checked");
    assert!(recs.iter().any(|r| r
        .unit
        .as_ref()
        .is_some_and(|u| u.kind == UnitKind::RoleGroup)));
}

/// Issue 25's proof for units: each permission set and role group is
/// evaluated in every account it is deployed in, and `--check` counts it.
#[test]
fn units_are_proved_in_each_account_and_counted_by_check() {
    for args in [&[][..], &["--group-by-name"][..]] {
        let run = leastpriv()
            .args(["recommend", ORG, "--check"])
            .args(args)
            .run();
        run.code(0);
        assert!(run.stdout.starts_with("proof: "), "{}", run.stdout);
        assert!(
            !run.stdout.contains("without proof"),
            "{args:?}: {}",
            run.stdout
        );
        assert!(!run.stdout.contains("failed"), "{args:?}: {}", run.stdout);
    }
    let recs = recommendations(&["--group-by-name"]);
    for (kind, name, accounts) in [
        ("permission-set", "Ops", &[DEV, PROD][..]),
        ("permission-set", "ReadOnly", &[DEV, SANDBOX][..]),
        ("role-group", "reader", &[DEV, PROD][..]),
    ] {
        let p = &unit(&recs, kind, name)["proof"];
        assert_eq!(p["passed"], true, "{name}: {p:#}");
        let context = strings(&p["context"]);
        let evaluated = context
            .iter()
            .find(|c| c.starts_with("evaluated in each account"))
            .unwrap_or_else(|| panic!("{name}: {context:?}"));
        for a in accounts {
            assert!(evaluated.contains(a), "{name}: {evaluated}");
        }
    }
    // Every account's use is checked: Ops was used in dev and prod.
    let ops = &unit(&recs, "permission-set", "Ops")["proof"];
    assert!(ops["checked_resources"].as_u64().unwrap() > 0, "{ops:#}");
}

/// The unit's proof fails, naming the account, when its policy would refuse
/// an account's use or grant more than any account has today (constructed:
/// tampered documents through the library, since `recommend` produces
/// neither).
#[test]
fn a_units_proof_names_the_account_it_fails_in() {
    use leastpriv::recommend::proof::{prove, FailureKind, Index};
    let audit = org_audit();
    let recs = recommend_with(&audit, &Options::default());
    let mut ops = recs
        .into_iter()
        .find(|r| r.unit.as_ref().is_some_and(|u| u.name == "Ops"))
        .expect("Ops");
    assert!(ops.proof.as_ref().is_some_and(|p| p.passed), "{}", ops.diff);
    let index = Index::new(&audit);
    let mut ex = Expander::new(audit.catalog);
    // Nothing allowed: every account's use is refused.
    let original = ops.document.clone();
    ops.document = serde_json::json!({"Version": "2012-10-17", "Statement": []});
    let p = prove(&audit, &index, &mut ex, &ops).expect("a proof");
    assert!(!p.passed);
    for a in [DEV, PROD] {
        assert!(
            p.failures
                .iter()
                .any(|f| f.kind == FailureKind::UsedNotAllowed
                    && f.detail.contains(&format!("(account `{a}`)"))),
            "{a}: {:?}",
            p.failures
        );
    }
    // A grant no account has today.
    ops.document = original;
    ops.document["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"Sid": "Extra", "Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}));
    let p = prove(&audit, &index, &mut ex, &ops).expect("a proof");
    assert!(!p.passed);
    assert!(
        p.failures
            .iter()
            .any(|f| f.kind == FailureKind::WiderThanToday
                && f.action == "iam:CreateUser"
                && f.detail.contains("in every account of the unit")),
        "{:?}",
        p.failures
    );
}
