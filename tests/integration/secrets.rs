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
    // The agent can read every secret; bob is denied secretsmanager:* explicitly.
    assert!(
        readers.contains(&"support-agent".to_string()),
        "{readers:?}"
    );
    assert!(!readers.contains(&"bob".to_string()), "{readers:?}");

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
