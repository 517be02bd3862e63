//! Findings a reviewer can act on, and the precision of the risk rules
//! (issue 25), end to end on the named cases of `tests/rules/`: every
//! finding names the policy and statement that grant its actions (JSON,
//! Markdown, SARIF at the statement's line and column), escalation names
//! its technique, read-only, AWS-managed and expired grants are not
//! escalation, public artifacts are not secrets, service-linked roles and
//! configured exclusions are reported apart with their reason.

use std::path::{Path, PathBuf};

use crate::common::{leastpriv, repo};
use serde_json::Value;

const ACCOUNT_ARN: &str = "arn:aws:iam::111122223333:";

fn snapshot(rule: &str, case: &str) -> PathBuf {
    repo().join("tests").join("rules").join(rule).join(case)
}

fn report(dir: &Path, format: &str, extra: &[&std::ffi::OsStr]) -> crate::common::Run {
    let run = leastpriv()
        .arg("audit")
        .arg(dir)
        .args(["--format", format])
        .args(extra)
        .run();
    run.code(0);
    run
}

fn json(rule: &str, case: &str) -> Value {
    report(&snapshot(rule, case), "json", &[]).json()
}

fn of_rule<'a>(r: &'a Value, rule: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .expect("findings is a list")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_str().expect("a string"))
        .collect()
}

#[test]
fn read_only_actions_are_never_escalation() {
    let r = json("privilege-escalation", "quiet-read-only");
    assert!(of_rule(&r, "privilege-escalation").is_empty(), "{r:#}");
    // `organizations:*` brings its writes, none of its reads.
    let r = json("privilege-escalation", "fires-org-wildcard");
    let f = of_rule(&r, "privilege-escalation");
    assert_eq!(f.len(), 1);
    let actions = names(&f[0]["actions"]);
    assert!(
        actions.contains(&"organizations:CreateAccount"),
        "{actions:?}"
    );
    for a in &actions {
        let name = a.split(':').nth(1).unwrap_or_default();
        assert!(
            !name.starts_with("Describe") && !name.starts_with("List"),
            "read-only `{a}` counted as escalation"
        );
    }
}

#[test]
fn grants_on_aws_managed_policies_and_service_linked_roles_are_not_escalation() {
    let r = json("privilege-escalation", "quiet-aws-managed");
    assert!(of_rule(&r, "privilege-escalation").is_empty(), "{r:#}");
}

#[test]
fn a_grant_whose_time_window_closed_does_not_count() {
    let r = json("privilege-escalation", "quiet-expired");
    assert!(of_rule(&r, "privilege-escalation").is_empty(), "{r:#}");
    // The same window still open: the finding shows the condition.
    let r = json("privilege-escalation", "fires-open-window");
    let f = of_rule(&r, "privilege-escalation");
    assert_eq!(f.len(), 1);
    let g = &f[0]["grants"][0];
    assert_eq!(g["conditions"][0]["operator"], "DateLessThan");
    assert_eq!(g["conditions"][0]["key"], "aws:CurrentTime");
    assert!(g.get("never_true").is_none());
    let evidence = names(&f[0]["evidence"]).join("\n");
    assert!(
        evidence.contains("DateLessThan aws:CurrentTime [\"2027-06-30T00:00:00Z\"]"),
        "{evidence}"
    );
}

#[test]
fn public_artifacts_are_not_secrets() {
    let r = json("secrets-access", "quiet-public-artifacts");
    assert!(of_rule(&r, "secrets-access").is_empty(), "{r:#}");
}

/// Rotation and new data keys return no existing secret (Secrets Manager
/// and KMS API references): not secrets access.
#[test]
fn write_side_kms_and_rotation_are_not_secrets_access() {
    let r = json("secrets-access", "quiet-write-side");
    assert!(of_rule(&r, "secrets-access").is_empty(), "{r:#}");
}

/// Service bearer tokens and GameLift's temporary credentials are minted
/// credentials.
#[test]
fn bearer_tokens_and_compute_access_mint_credentials() {
    let r = json("credential-minting", "fires-tokens");
    let f = of_rule(&r, "credential-minting");
    assert_eq!(f.len(), 1, "{r:#}");
    let actions = f[0]["actions"].to_string();
    for a in ["sts:GetServiceBearerToken", "gamelift:GetComputeAccess"] {
        assert!(actions.contains(a), "{actions}");
    }
}

#[test]
fn escalation_names_its_technique_and_the_statements_that_grant_it() {
    let r = json("privilege-escalation", "fires-technique");
    let f = of_rule(&r, "privilege-escalation");
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!(f["principal"], format!("{ACCOUNT_ARN}user/ivan"));
    let t = &f["techniques"][0];
    assert_eq!(t["id"], "passrole-lambda-create-invoke");
    assert_eq!(
        t["name"],
        "Pass an existing role to a new Lambda function and invoke it"
    );
    let sources: Vec<String> = t["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| format!("{} {}", s["url"], s["ids"]))
        .collect();
    assert!(
        sources
            .iter()
            .any(|s| s.contains("RhinoSecurityLabs") && s.contains("#15")),
        "{sources:?}"
    );
    assert!(
        sources
            .iter()
            .any(|s| s.contains("pathfinding.cloud") && s.contains("lambda-001")),
        "{sources:?}"
    );
    // Both statements of the group's managed policy, by Sid and by index.
    let grants = f["grants"].as_array().expect("grants");
    assert_eq!(grants.len(), 2, "{grants:#?}");
    for g in grants {
        assert_eq!(g["policy"], format!("{ACCOUNT_ARN}policy/lambda-deploy"));
        assert_eq!(g["policy_type"], "managed");
        assert_eq!(g["policy_version"], "v3");
        assert_eq!(g["attached_to"]["type"], "group");
        assert_eq!(g["attached_to"]["name"], "deployers");
    }
    assert_eq!(grants[0]["statement"], "Deploy");
    assert_eq!(grants[0]["statement_index"], 0);
    assert_eq!(grants[1]["statement"], "#1");
    assert_eq!(names(&grants[1]["actions"]), ["iam:PassRole"]);
    // PassRole only to EC2: the finding stays, the Lambda technique goes.
    let r = json("privilege-escalation", "technique-passed-to-ec2");
    let f = of_rule(&r, "privilege-escalation");
    assert_eq!(f.len(), 1);
    let ids: Vec<&Value> = f[0]["techniques"]
        .as_array()
        .map(|t| t.iter().map(|t| &t["id"]).collect())
        .unwrap_or_default();
    assert!(
        !ids.iter().any(|i| *i == "passrole-lambda-create-invoke"),
        "{ids:?}"
    );
}

/// The "PassRole together with" evidence line respects
/// `iam:PassedToService` as the techniques do: it names only the compute
/// actions whose service the PassRole grant may pass a role to.
#[test]
fn passrole_line_respects_passed_to_service() {
    let together = |case: &str| -> Vec<String> {
        let r = json("privilege-escalation", case);
        let f = of_rule(&r, "privilege-escalation");
        assert_eq!(f.len(), 1, "{case}: {r:#}");
        f[0]["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .filter_map(|e| e.as_str())
            .filter(|e| e.contains("together with"))
            .map(String::from)
            .collect()
    };
    let fires = together("passrole-line-passed-to-ec2");
    assert_eq!(fires.len(), 1, "{fires:?}");
    assert!(
        fires[0].contains("together with ec2:RunInstances:"),
        "{fires:?}"
    );
    assert!(!fires[0].contains("lambda:CreateFunction"), "{fires:?}");
    assert_eq!(together("technique-passed-to-ec2"), Vec::<String>::new());
}

#[test]
fn markdown_names_statements_links_actions_and_techniques() {
    let md = report(
        &snapshot("privilege-escalation", "fires-technique"),
        "markdown",
        &[],
    )
    .stdout;
    assert!(
        md.contains("granted by managed policy `arn:aws:iam::111122223333:policy/lambda-deploy` on group `deployers`, statement `#1`, no conditions: `iam:PassRole`"),
        "{md}"
    );
    assert!(
        md.contains("[`iam:PassRole`](https://docs.aws.amazon.com/service-authorization/latest/reference/list_iam.html#list_iam-action-PassRole)"),
        "{md}"
    );
    assert!(
        md.contains("Pass an existing role to a new Lambda function and invoke it"),
        "{md}"
    );
    assert!(md.contains("](https://github.com/RhinoSecurityLabs/AWS-IAM-Privilege-Escalation)"));
    assert!(md.contains("## Excluded from the findings"), "{md}");
}

/// The SARIF result sits at the statement that grants the riskiest action,
/// not at line 1; the other granting statement is a related location.
#[test]
fn sarif_points_at_the_granting_statement() {
    let dir = snapshot("privilege-escalation", "fires-technique");
    let text = std::fs::read_to_string(dir.join("iam.json")).expect("iam.json");
    let lines: Vec<&str> = text.lines().collect();
    let run = report(&dir, "sarif", &[]);
    let doc: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    let result = doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "privilege-escalation")
        .expect("a privilege-escalation result")
        .clone();
    let mut regions = vec![&result["locations"][0]["physicalLocation"]["region"]];
    for r in result["relatedLocations"].as_array().expect("related") {
        regions.push(&r["physicalLocation"]["region"]);
    }
    assert_eq!(regions.len(), 2);
    let mut seen = Vec::new();
    for region in regions {
        let line = region["startLine"].as_u64().expect("startLine") as usize;
        let column = region["startColumn"].as_u64().expect("startColumn") as usize;
        assert!(line > 1);
        // Each statement begins with `{` at that place; what follows is it.
        let rest: String = lines[line - 1..].join("\n");
        let rest = &rest[column - 1..];
        assert!(rest.starts_with('{'), "{rest}");
        let st: Value = serde_json::Deserializer::from_str(rest)
            .into_iter::<Value>()
            .next()
            .expect("a statement")
            .expect("a JSON statement");
        seen.push(st["Action"].to_string());
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "\"iam:PassRole\"",
            "[\"lambda:CreateFunction\",\"lambda:InvokeFunction\"]"
        ]
    );
}

#[test]
fn service_linked_roles_are_reported_apart() {
    let dir = snapshot("privilege-escalation", "service-linked-role");
    let r = json("privilege-escalation", "service-linked-role");
    let slr = format!(
        "{ACCOUNT_ARN}role/aws-service-role/example.amazonaws.com/AWSServiceRoleForExample"
    );
    assert!(
        r["findings"].as_array().expect("findings").is_empty(),
        "{r:#}"
    );
    assert_eq!(r["excluded"]["service_linked_roles"][0], slr.as_str());
    let apart = r["excluded"]["service_linked_findings"]
        .as_array()
        .expect("service_linked_findings");
    assert!(apart
        .iter()
        .any(|f| f["rule"] == "privilege-escalation" && f["principal"] == slr.as_str()));
    // Never counted for --fail-on.
    leastpriv()
        .arg("audit")
        .arg(&dir)
        .args(["--fail-on", "low"])
        .run()
        .code(0);
    let md = report(&dir, "markdown", &[]).stdout;
    assert!(md.contains("### Service-linked roles"), "{md}");
    assert!(md.contains("AWS service-linked role(s)"), "{md}");
}

#[test]
fn configured_exclusions_are_listed_with_their_reason() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let cfg = tmp.path().join("leastpriv.yaml");
    std::fs::write(
        &cfg,
        "exclude:\n  - principal: \"arn:aws:iam::111122223333:role/deploy*\"\n    rules: [privilege-escalation]\n    reason: break-glass deployer, reviewed quarterly\n",
    )
    .expect("write config");
    let dir = snapshot("privilege-escalation", "fires");
    let r = report(&dir, "json", &["--config".as_ref(), cfg.as_os_str()]).json();
    assert!(of_rule(&r, "privilege-escalation").is_empty(), "{r:#}");
    let c = &r["excluded"]["configured"][0];
    assert_eq!(c["reason"], "break-glass deployer, reviewed quarterly");
    assert_eq!(c["removed"][0]["rule"], "privilege-escalation");
    assert_eq!(
        c["removed"][0]["principal"],
        format!("{ACCOUNT_ARN}role/deployer")
    );
    let md = report(&dir, "markdown", &["--config".as_ref(), cfg.as_os_str()]).stdout;
    assert!(
        md.contains("break-glass deployer, reviewed quarterly; removed 1 finding(s)"),
        "{md}"
    );
    // A rule id that does not exist is an error, not an exclusion that never applies.
    std::fs::write(
        &cfg,
        "exclude:\n  - principal: \"*\"\n    rules: [privesc]\n    reason: typo\n",
    )
    .expect("write config");
    let run = leastpriv()
        .arg("audit")
        .arg(&dir)
        .arg("--config")
        .arg(&cfg)
        .tmp(tmp.path())
        .run();
    run.code(2);
    assert!(
        run.stderr.contains("exclude[0]") && run.stderr.contains("`privesc`"),
        "{}",
        run.stderr
    );
}
