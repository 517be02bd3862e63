//! `leastpriv secrets`: who can read each secret, who did, who was refused.

use crate::common::leastpriv;
use serde_json::Value;

fn entry<'a>(doc: &'a Value, resource_suffix: &str) -> &'a Value {
    doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"].as_str().unwrap().ends_with(resource_suffix))
        .unwrap_or_else(|| panic!("no entry ending in `{resource_suffix}`"))
}

fn principals(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["principal"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn demo_secrets_json() {
    let run = leastpriv()
        .args(["secrets", "fixtures/demo", "--format", "json"])
        .run();
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["schema"], "leastpriv.secrets/v1");

    // Calls by name and by full ARN (with the random suffix) are one secret.
    let db = entry(&doc, ":secret:prod/orders/db");
    assert_eq!(db["kind"], "secret");
    let reads = db["did_read"].as_array().unwrap();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["count"], 60);
    let readers = principals(&db["can_read"]);
    assert!(readers.contains(&"orders-api".to_string()), "{readers:?}");
    // The agent may read every secret, but this one is encrypted with a
    // customer managed key it may not decrypt with; bob is denied
    // secretsmanager:* explicitly.
    assert!(
        !readers.contains(&"support-agent".to_string()),
        "{readers:?}"
    );
    assert!(!readers.contains(&"bob".to_string()), "{readers:?}");
    // The secret's policy lets a role of another account in (its key too).
    assert!(readers.contains(&"reporting".to_string()), "{readers:?}");
    assert_eq!(db["other_accounts"], serde_json::json!(["444455556666"]));
    let reporting = db["can_read"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["principal"] == "arn:aws:iam::444455556666:role/reporting")
        .unwrap();
    assert_eq!(
        reporting["via"], "identity and resource policy",
        "{reporting:#}"
    );
    assert_eq!(reporting["decision"], "conditional", "{reporting:#}");
    // Through Secrets Manager, its key lets the role decrypt, if its own
    // account's policies allow it too.
    assert_eq!(reporting["key"], "conditional", "{reporting:#}");
    assert!(
        reporting["statements"].as_array().unwrap().iter().any(|s| s
            .as_str()
            .unwrap()
            .contains("AnalyticsThroughSecretsManager")),
        "{reporting:#}"
    );
    // The helpdesk token uses the AWS managed key: the agent reads it.
    let helpdesk = entry(&doc, ":secret:prod/support/helpdesk-token");
    assert!(principals(&helpdesk["can_read"]).contains(&"support-agent".to_string()));
    // The payments key trusts only orders-api, not the account: IAM is
    // locked out, and nobody can read the parameter it encrypts.
    let key = entry(&doc, ":key/9f8e7d6c-5b4a-3210-fedc-ba9876543210");
    assert_eq!(key["iam_locked_out"], true, "{key:#}");
    assert_eq!(principals(&key["can_read"]), ["orders-api"]);
    let param = entry(&doc, ":parameter/prod/payments/api-key");
    assert_eq!(param["can_read"], serde_json::json!([]), "{param:#}");
    assert!(
        param["notes"][0]
            .as_str()
            .unwrap()
            .contains("does not trust account"),
        "{param:#}"
    );

    // kms:Decrypt made by Secrets Manager on the role's behalf counts for the role.
    let key = entry(&doc, ":key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let reads = &key["did_read"][0];
    assert_eq!(reads["count"], 60);
    assert_eq!(reads["invoked_by"][0], "secretsmanager.amazonaws.com");

    let param = entry(&doc, ":parameter/prod/orders/db-host");
    assert_eq!(param["did_read"][0]["count"], 12);
}

#[test]
fn demo_secrets_table() {
    let run = leastpriv().args(["secrets", "fixtures/demo"]).run();
    run.code(0);
    assert_snapshot!("demo_secrets_table", run.stdout);
}

#[test]
fn secrets_output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("secrets.json");
    let run = leastpriv()
        .args(["secrets", "fixtures/demo", "--format", "json", "--output"])
        .arg(&out)
        .run();
    run.code(0);
    assert_eq!(run.stdout, "");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(!doc["resources"].as_array().unwrap().is_empty());
}

#[test]
fn refused_reads_are_listed() {
    let run = leastpriv()
        .args([
            "secrets",
            "tests/fixtures/secret-denied",
            "--format",
            "json",
        ])
        .run();
    run.code(0);
    let doc = run.json();
    let e = entry(&doc, ":secret:prod/payments/api-key");
    assert_eq!(principals(&e["denied"]), ["batch"]);
    assert_eq!(e["denied"][0]["count"], 1);
    assert!(e["can_read"].as_array().unwrap().is_empty());
    assert!(e["did_read"].as_array().unwrap().is_empty());
}
