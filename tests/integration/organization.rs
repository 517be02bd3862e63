//! Issue 23: an organization snapshot (`tests/fixtures/org`, written by its
//! `generate.py`) audited as one, and `leastpriv who` for a person through
//! Identity Center, a role chain with a source identity into another
//! account's deploy role, a broken chain, an agent, and a permission set
//! provisioned in two accounts.

use crate::common::{copy_dir, leastpriv, repo};
use serde_json::Value;

const ORG: &str = "tests/fixtures/org";
const MGMT: &str = "111111111111";
const DEV: &str = "222222222222";
const PROD: &str = "333333333333";

fn json(args: &[&str]) -> Value {
    let run = leastpriv().args(args).args(["--format", "json"]).run();
    run.code(0);
    run.json()
}

fn who(identity: &str) -> Value {
    let doc = json(&["who", ORG, identity]);
    assert_eq!(doc["schema"], "leastpriv.who/v1");
    doc
}

fn rows<'a>(doc: &'a Value, field: &str) -> &'a Vec<Value> {
    doc[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field}: {doc}"))
}

fn has_call(doc: &Value, field: &str, account: &str, role: &str, action: &str) -> bool {
    rows(doc, field).iter().any(|c| {
        c["account"] == account
            && c["principal"].as_str().is_some_and(|p| p.ends_with(role))
            && c["action"] == action
    })
}

/// alice signs in through Identity Center (permission set Ops in dev),
/// then assumes `deploy` in prod with source identity alice: the deploy
/// role's calls are hers, with the chain that says so.
#[test]
fn a_person_through_identity_center_and_a_chain_into_another_account() {
    let doc = who("alice");
    assert_eq!(doc["identity"]["kind"], "identity-center-user");
    assert_eq!(doc["identity"]["user_id"], "u-alice");
    assert!(has_call(
        &doc,
        "did",
        DEV,
        "AWSReservedSSO_Ops_0123456789abcdef",
        "s3:ListAllMyBuckets"
    ));
    assert!(has_call(
        &doc,
        "did",
        PROD,
        "role/deploy",
        "cloudformation:CreateStack"
    ));
    assert!(has_call(
        &doc,
        "refused",
        PROD,
        "role/deploy",
        "iam:CreateUser"
    ));
    let chain = rows(&doc, "sessions")
        .iter()
        .find(|s| {
            s["role"]
                .as_str()
                .is_some_and(|r| r.ends_with("role/deploy"))
        })
        .map(|s| &s["chain"])
        .expect("the deploy session");
    assert_eq!(chain["origin_kind"], "identity-center-user");
    assert_eq!(chain["origin"], "alice");
    assert_eq!(chain["permission_set"], "Ops");
    assert_eq!(chain["crosses_accounts"], true);
    assert_eq!(chain["breaks"], Value::Null);
    assert_eq!(chain["source_identity"], "alice");
    assert_eq!(chain["session_tags"], serde_json::json!(["ticket=CHG-42"]));
    let hops = chain["hops"].as_array().expect("hops");
    assert_eq!(hops.len(), 2);
    assert_eq!(hops[0]["account"], DEV);
    assert_eq!(hops[1]["account"], PROD);
    assert_eq!(hops[1]["issued_by"], "AssumeRole");
    assert_eq!(hops[1]["access_key_id"], "ASIADEPLOY000000001");
    // Identity Center's own record of her, in the management account.
    let notes = rows(&doc, "notes");
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains("sso.amazonaws.com:GetRoleCredentials"))),
        "{notes:?}"
    );
}

/// The permission set Ops is provisioned in dev and prod: alice reaches
/// both accounts' roles through her group, and `deploy` through trust.
#[test]
fn what_a_person_can_do_is_the_union_of_assignments_and_trusts() {
    let doc = who("alice@example.com");
    assert_eq!(doc["identity"]["name"], "alice");
    let can = rows(&doc["can"], "principals");
    let via = |suffix: &str| {
        can.iter()
            .find(|r| r["principal"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .map(|r| r["via"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(
        via("AWSReservedSSO_Ops_0123456789abcdef").as_deref(),
        Some("permission set Ops through group ops")
    );
    assert_eq!(
        via("AWSReservedSSO_Ops_fedcba9876543210").as_deref(),
        Some("permission set Ops through group ops")
    );
    assert!(
        via("role/deploy").is_some_and(|v| v.starts_with("assumes from ")),
        "{can:?}"
    );
    assert!(
        via("role/ci").is_none(),
        "ci trusts the management account only"
    );
    // s3:ListAllMyBuckets, ec2:DescribeInstances, 3 sts actions, 2 logs
    // actions of each account's `ops-logs` (Ops), 3 of deploy.
    assert_eq!(doc["can"]["actions"], 10);
}

/// A session of `ci` signed with a key no record issued: the chain says
/// where it breaks, and the audit lists it across accounts.
#[test]
fn a_broken_chain_says_where_it_breaks() {
    let doc = who("ci");
    assert_eq!(doc["identity"]["kind"], "role");
    let s = &rows(&doc, "sessions")[0];
    assert_eq!(s["chain"]["origin_kind"], "unknown");
    let why = s["chain"]["breaks"].as_str().expect("broken");
    assert!(
        why.contains("ASIAORPHAN000000001") && why.contains("role/ci"),
        "{why}"
    );
}

/// An agent: its end users (source identities) and the service that
/// assumed it for them.
#[test]
fn an_agent_and_the_end_users_it_served() {
    let doc = who("bot");
    assert_eq!(doc["identity"]["kind"], "agent");
    let served = doc["served"].as_object().expect("served");
    assert_eq!(served["source identity carol"], 1);
    assert_eq!(served["source identity dave"], 1);
    assert_eq!(served["workload bedrock.amazonaws.com"], 2);
    assert!(has_call(&doc, "did", DEV, "role/bot", "s3:GetObject"));
}

#[test]
fn who_without_a_known_identity_is_a_usage_error() {
    let run = leastpriv().args(["who", ORG, "nobody"]).run();
    run.code(2);
    assert!(run.stderr.contains("`nobody`"), "{}", run.stderr);
    let run = leastpriv().args(["who", ORG]).run();
    run.code(2);
    assert!(run.stderr.contains("IDENTITY"), "{}", run.stderr);
}

#[test]
fn who_table_shows_the_chain() {
    let run = leastpriv().args(["who", ORG, "alice"]).run();
    run.code(0);
    assert!(
        run.stdout.contains("identity-center-user `alice`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "identity-center-user alice → 222222222222:AWSReservedSSO_Ops_0123456789abcdef (alice) → 333333333333:deploy (alice-release) [source identity alice]"
        ),
        "{}",
        run.stdout
    );
}

/// One report for the organization: a summary per account first, the
/// principals by account, what crosses accounts; the document stays
/// `leastpriv.audit/v1` and only gains `organization`.
#[test]
fn audit_of_an_organization_snapshot() {
    let doc = json(&["audit", ORG]);
    assert_eq!(doc["schema"], "leastpriv.audit/v1");
    let org = &doc["organization"];
    assert_eq!(org["organization_id"], "o-abc123");
    assert_eq!(org["identity_center"], true);
    let accounts = rows(org, "accounts");
    assert_eq!(accounts.len(), 4);
    assert_eq!(accounts[0]["account"], MGMT);
    assert_eq!(
        accounts[0]["principals"], 0,
        "an account without principals is listed"
    );
    assert_eq!(accounts[1]["account"], DEV);
    assert_eq!(accounts[1]["name"], "dev");
    assert_eq!(accounts[2]["principals"], 5);
    assert_eq!(
        accounts[2]["scp_path"],
        serde_json::json!([
            "Root (r-root)",
            "workloads (ou-root-work)",
            "prod (333333333333)"
        ])
    );
    assert_eq!(rows(&org["principals_by_account"], DEV).len(), 5);
    let kinds: Vec<&str> = rows(org, "cross_account")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"session-chain") && kinds.contains(&"broken-chain"),
        "{kinds:?}"
    );
    assert_eq!(
        doc["coverage"]["audited_accounts"],
        serde_json::json!([MGMT, DEV, PROD, "444444444444"])
    );
    // The cross-account AssumeRole, delivered to both accounts, counts once.
    assert_eq!(doc["coverage"]["records_duplicate"], 1);
}

#[test]
fn account_narrows_the_organization_audit() {
    let doc = json(&["audit", ORG, "--account", PROD]);
    let accounts = rows(&doc["organization"], "accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["account"], PROD);
    assert_eq!(
        doc["coverage"]["audited_accounts"],
        serde_json::json!([PROD])
    );
    let run = leastpriv()
        .args(["audit", ORG, "--account", "999999999999"])
        .run();
    run.code(2);
    assert!(run.stderr.contains("999999999999"), "{}", run.stderr);
    let run = leastpriv()
        .args(["audit", "tests/fixtures/tiny", "--account", PROD])
        .run();
    run.code(2);
    assert!(
        run.stderr.contains("organization snapshot"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_format_puts_the_accounts_first() {
    let table = leastpriv().args(["audit", ORG]).run();
    table.code(0);
    assert!(
        table
            .stdout
            .starts_with("Accounts:\n  111111111111 (management): 0 principals"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("333333333333/deploy"),
        "{}",
        table.stdout
    );
    let md = leastpriv()
        .args(["audit", ORG, "--format", "markdown"])
        .run();
    md.code(0);
    let (acc, sum) = (md.stdout.find("## Accounts"), md.stdout.find("## Summary"));
    assert!(acc.is_some() && acc < sum, "{}", md.stdout);
    assert!(md.stdout.contains("## Across accounts"));
    let html = leastpriv().args(["audit", ORG, "--format", "html"]).run();
    html.code(0);
    assert!(html.stdout.contains("id=\"accounts\""));
    for f in ["sarif", "csv"] {
        leastpriv()
            .args(["audit", ORG, "--format", f])
            .run()
            .code(0);
    }
}

/// An account snapshot's document does not gain `organization`.
#[test]
fn an_account_snapshot_report_is_unchanged() {
    let doc = json(&["audit", "tests/fixtures/tiny"]);
    assert!(doc.get("organization").is_none());
}

#[test]
fn recommendations_of_an_organization_are_written_per_account() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("rec");
    leastpriv()
        .args(["recommend", ORG, "--out", dir.to_str().unwrap()])
        .run()
        .code(0);
    // Each account's roles under their own account: none overwrites another.
    for account in [DEV, PROD] {
        assert!(dir.join(account).join("role").is_dir(), "{account}");
    }
    assert!(!dir.join("role").exists());
}

/// Each principal's used actions with their counts, by ARN.
fn used_by_principal(doc: &Value) -> std::collections::BTreeMap<String, Vec<(String, u64)>> {
    rows(doc, "principals")
        .iter()
        .map(|p| {
            let used = p["used"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| {
                    (
                        u["action"].as_str().unwrap().to_string(),
                        u["count"].as_u64().unwrap(),
                    )
                })
                .collect();
            (p["arn"].as_str().unwrap().to_string(), used)
        })
        .collect()
}

/// An organization pulled with `--athena` has no log files, only each
/// account's activity store: `audit ORG` reads the stores of the accounts
/// without logs, and finds what their logs would have shown.
#[test]
fn accounts_without_log_files_are_read_from_their_activity_stores() {
    let t = tempfile::tempdir().unwrap();
    let org = t.path();
    copy_dir(&repo().join(ORG), org);
    let audit = |extra: &[&str]| {
        let run = leastpriv()
            .args(["audit", "--format", "json"])
            .arg(org)
            .args(extra)
            .tmp(org)
            .run();
        run.code(0);
        run.json()
    };
    let from_logs = used_by_principal(&audit(&[]));
    assert!(from_logs.values().any(|u| !u.is_empty()));

    // What an Athena pull writes: each account's store, and no log file.
    let trail = org.join("cloudtrail/s3/org-trail/AWSLogs/o-abc123");
    for a in [MGMT, DEV, PROD] {
        leastpriv()
            .arg("audit")
            .arg(org.join("accounts").join(a))
            .args(["--save-activity", "--cloudtrail"])
            .arg(trail.join(a))
            .tmp(org)
            .run()
            .code(0);
        assert!(org.join("accounts").join(a).join("activity.json").is_file());
    }
    std::fs::remove_dir_all(org.join("cloudtrail")).unwrap();
    let doc = audit(&[]);
    assert_eq!(used_by_principal(&doc), from_logs);
    let inputs = doc["coverage"]["inputs"].to_string();
    assert!(inputs.contains(&format!("{DEV}/activity.json")), "{inputs}");

    // Without the stores, nothing was used: the figures above are theirs.
    for a in [MGMT, DEV, PROD] {
        std::fs::remove_file(org.join("accounts").join(a).join("activity.json")).unwrap();
    }
    let none = used_by_principal(&audit(&[]));
    assert!(none.values().all(Vec::is_empty), "{none:?}");
}

/// SARIF carries the per-account summary in the run's property bag (one
/// run for every account: GitHub code scanning takes one run per tool and
/// category), and each result names its principal's account.
#[test]
fn sarif_has_the_per_account_summary() {
    let run = leastpriv().args(["audit", ORG, "--format", "sarif"]).run();
    run.code(0);
    let doc = run.json();
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let props = &runs[0]["properties"];
    assert_json_snapshot!("sarif_run_properties", props);
    let ids: Vec<&str> = props["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [MGMT, DEV, PROD, "444444444444"]);
    for r in runs[0]["results"].as_array().unwrap() {
        let principal = r["properties"]["principal"].as_str().unwrap();
        assert_eq!(
            r["properties"]["account"].as_str().unwrap(),
            principal.split(':').nth(4).unwrap(),
            "{r}"
        );
    }
    // An account snapshot's SARIF is unchanged.
    let one = leastpriv()
        .args(["audit", "tests/fixtures/tiny", "--format", "sarif"])
        .run();
    one.code(0);
    let one = one.json();
    assert!(one["runs"][0].get("properties").is_none());
    assert!(one["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["properties"].get("account").is_none()));
}

/// `--format csv --output FILE` (and parquet) writes the per-account
/// summary beside FILE as FILE.accounts.csv; an account audit does not.
#[test]
fn csv_export_writes_the_per_account_summary_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("audit.csv");
    leastpriv()
        .args(["audit", ORG, "--format", "csv", "--output"])
        .arg(&out)
        .run()
        .code(0);
    assert!(out.is_file());
    let accounts = std::fs::read_to_string(dir.path().join("audit.accounts.csv")).unwrap();
    assert_eq!(
        accounts
            .lines()
            .next()
            .unwrap()
            .split(',')
            .collect::<Vec<_>>(),
        leastpriv::report::frames::ACCOUNT_COLUMNS
    );
    assert_snapshot!("accounts_csv", accounts);
    // The same figures as the JSON report's summary.
    let doc = json(&["audit", ORG]);
    let mut rdr = csv::Reader::from_reader(accounts.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let json_accounts = doc["organization"]["accounts"].as_array().unwrap();
    assert_eq!(rows.len(), json_accounts.len());
    for (row, a) in rows.iter().zip(json_accounts) {
        assert_eq!(&row[0], a["account"].as_str().unwrap());
        assert_eq!(
            row[2].parse::<u64>().unwrap(),
            a["principals"].as_u64().unwrap()
        );
        assert_eq!(
            row[6].parse::<u64>().unwrap(),
            a["unused"].as_u64().unwrap()
        );
        assert_eq!(
            row[9].parse::<u64>().unwrap(),
            a["findings"]["high"].as_u64().unwrap_or(0)
        );
    }
    // Parquet, beside it too.
    let pq = dir.path().join("audit.parquet");
    leastpriv()
        .args(["audit", ORG, "--format", "parquet", "--output"])
        .arg(&pq)
        .run()
        .code(0);
    assert!(dir.path().join("audit.accounts.parquet").is_file());
    // Standard output: the rows only, and a warning says where the
    // summary goes.
    let run = leastpriv().args(["audit", ORG, "--format", "csv"]).run();
    run.code(0);
    assert!(run.stderr.contains("FILE.accounts.csv"), "{}", run.stderr);
    // An account audit writes no summary.
    let tiny = dir.path().join("tiny.csv");
    leastpriv()
        .args([
            "audit",
            "tests/fixtures/tiny",
            "--format",
            "csv",
            "--output",
        ])
        .arg(&tiny)
        .run()
        .code(0);
    assert!(!dir.path().join("tiny.accounts.csv").exists());
}
