//! `leastpriv who-can` on the demo account, whose `organization.json` and
//! `resource-policies.json` share the orders secret with another account,
//! lock IAM out of one key, and protect the trail with an SCP.

use crate::common::leastpriv;
use serde_json::Value;

const SECRET: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-AbCdEf";

fn who_can(args: &[&str]) -> Value {
    let run = leastpriv()
        .args(["who-can", "fixtures/demo", "--format", "json"])
        .args(args)
        .run();
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["schema"], "leastpriv.who-can/v1");
    doc
}

fn principal<'a>(doc: &'a Value, arn_suffix: &str) -> Option<&'a Value> {
    doc["principals"]
        .as_array()
        .expect("principals")
        .iter()
        .find(|p| {
            p["principal"]
                .as_str()
                .is_some_and(|a| a.ends_with(arn_suffix))
        })
}

/// The orders secret: its readers in this account, the role of the
/// analytics account its policy names (allowed if that account's own
/// policies allow it: both sides are needed across accounts), and who read
/// it in the window.
#[test]
fn a_secret_shared_with_another_account() {
    let doc = who_can(&[
        "--resource",
        SECRET,
        "--action",
        "secretsmanager:GetSecretValue",
    ]);
    assert_eq!(doc["policy"], "resource-policy");
    assert_eq!(doc["resource_type"], "AWS::SecretsManager::Secret");
    assert_eq!(
        doc["kms_key"],
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    );
    let reporting = principal(&doc, ":role/reporting").expect("the other account's role");
    assert_eq!(reporting["in_snapshot"], false);
    assert_eq!(reporting["account"], "444455556666");
    let can = &reporting["can"][0];
    assert_eq!(can["decision"], "conditional", "{reporting:#}");
    assert_eq!(can["via"], "identity and resource policy");
    assert!(
        can["notes"][0]
            .as_str()
            .unwrap()
            .contains("identity policies of account 444455556666 are not in the snapshot"),
        "{can:#}"
    );
    assert_eq!(can["key"]["decision"], "conditional", "{can:#}");
    let orders = principal(&doc, ":role/service/orders-api").expect("orders-api");
    assert_eq!(orders["kind"], "npe");
    assert_eq!(orders["can"][0]["decision"], "allowed", "{orders:#}");
    assert_eq!(orders["can"][0]["key"]["decision"], "allowed", "{orders:#}");
    assert_eq!(orders["did"][0]["count"], 60);
    // Allowed by its grant on every secret, refused by the key it may not use.
    assert!(principal(&doc, ":role/support-agent").is_none(), "{doc:#}");
    // bob is denied secretsmanager:* by his own policy.
    assert!(principal(&doc, ":user/bob").is_none(), "{doc:#}");
}

/// The payments key trusts only orders-api: an administrator's IAM grant
/// does not reach it.
#[test]
fn a_key_that_locks_iam_out() {
    let doc = who_can(&[
        "--resource",
        "arn:aws:kms:us-east-1:111122223333:key/9f8e7d6c-5b4a-3210-fedc-ba9876543210",
        "--action",
        "kms:Decrypt",
    ]);
    let names: Vec<&str> = doc["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders-api"], "{doc:#}");
    assert_eq!(
        principal(&doc, "orders-api").unwrap()["can"][0]["via"],
        "resource policy"
    );
    assert!(
        doc["notes"][0]
            .as_str()
            .unwrap()
            .contains("does not trust account 111122223333"),
        "{doc:#}"
    );
}

/// A role's trust policy is its resource policy for assuming it: GitHub's
/// provider may, under the trust's conditions, and the web identity that
/// did it in the window is listed.
#[test]
fn who_can_assume_a_role() {
    let doc = who_can(&[
        "--resource",
        "arn:aws:iam::111122223333:role/github-deploy",
        "--action",
        "sts:AssumeRoleWithWebIdentity",
    ]);
    assert_eq!(doc["policy"], "trust-policy");
    let gh = principal(&doc, ":oidc-provider/token.actions.githubusercontent.com")
        .expect("the provider");
    assert_eq!(gh["principal_type"], "federated");
    let can = &gh["can"][0];
    assert_eq!(can["decision"], "conditional");
    assert!(
        can["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("repo:acme/orders-api:*")),
        "{can:#}"
    );
    let did = doc["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["did"].as_array().is_some_and(|d| !d.is_empty()))
        .expect("the web identity that assumed it");
    assert_eq!(did["did"][0]["count"], 4);
}

/// Without --action: every action that can name the resource.
#[test]
fn every_action_by_default_and_a_table() {
    let doc = who_can(&["--resource", SECRET]);
    let actions = doc["actions"].as_array().unwrap();
    assert!(actions.len() > 5, "{actions:?}");
    assert!(actions.contains(&Value::from("secretsmanager:GetSecretValue")));
    let run = leastpriv()
        .args(["who-can", "fixtures/demo", "--resource", SECRET])
        .args(["--action", "secretsmanager:GetSecretValue"])
        .run();
    run.code(0);
    assert_snapshot!("who_can_secret_table", run.stdout);
}

#[test]
fn a_resource_that_is_not_an_arn_or_an_unknown_action_is_a_usage_error() {
    let run = leastpriv()
        .args(["who-can", "fixtures/demo", "--resource", "prod/orders/db"])
        .run();
    run.code(2);
    assert!(
        run.stderr.contains("`prod/orders/db` is not an ARN"),
        "{}",
        run.stderr
    );
    let run = leastpriv()
        .args([
            "who-can",
            "fixtures/demo",
            "--resource",
            SECRET,
            "--action",
            "nope:Nothing",
        ])
        .run();
    run.code(2);
    assert!(
        run.stderr
            .contains("no catalog action matches `nope:Nothing`"),
        "{}",
        run.stderr
    );
}
