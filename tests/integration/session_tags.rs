//! Transitive session tags along a role chain across accounts
//! (`tests/fixtures/transitive-tags`, written by its `generate.py`): what
//! the last session of a chain holds, and where each tag was set, in `who`
//! (table and JSON) and in the organization audit's cross-account chains.
//! STS: a tag passed with `TransitiveTagKeys` persists along the chain and
//! a later call cannot change it; any other tag stays on its session.

use crate::common::leastpriv;
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/transitive-tags";

fn who(identity: &str, format: &[&str]) -> crate::common::Run {
    let run = leastpriv()
        .args(["who", FIXTURE, identity])
        .args(format)
        .run();
    run.code(0);
    run
}

/// The lines under the table's session line that ends with `last_hop`.
fn session_block(table: &str, last_hop: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in table.lines() {
        if !line.starts_with("    ") {
            inside = line.ends_with(last_hop);
            continue;
        }
        if inside {
            out.push_str(line.trim());
            out.push('\n');
        }
    }
    out
}

/// The chain of `identity`'s session of role `deploy`.
fn deploy_chain(identity: &str) -> Value {
    let doc = who(identity, &["--format", "json"]).json();
    doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["role"].as_str().unwrap().ends_with(":role/deploy"))
        .unwrap_or_else(|| panic!("no deploy session: {doc}"))["chain"]
        .clone()
}

#[test]
fn a_transitive_tag_set_at_the_first_hop_is_held_by_the_third_session() {
    let chain = deploy_chain("alice");
    assert_eq!(chain["origin_kind"], "iam-user");
    assert_eq!(chain["breaks"], Value::Null);
    assert_eq!(chain["crosses_accounts"], true);
    let accounts: Vec<&str> = chain["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["account"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, ["222222222222", "333333333333", "111111111111"]);
    assert_eq!(
        chain["held_tags"],
        serde_json::json!([{
            "key": "project",
            "value": "apollo",
            "transitive": true,
            "set_at_hop": 0,
            "set_by": "set by the call that started 222222222222:entry (alice)"
        }])
    );
    // The table says the same under the chain; the first session also
    // holds cost-center, the second team (neither transitive).
    let table = who("alice", &[]).stdout.clone();
    assert_eq!(
        session_block(&table, "111111111111:deploy (alice)"),
        "tag project=apollo, transitive: set by the call that started 222222222222:entry (alice)\n",
        "{table}"
    );
    assert!(
        session_block(&table, "222222222222:entry (alice)").contains("tag cost-center=42: "),
        "{table}"
    );
}

/// Quiet: bob's first hop sets project=hermes without making it
/// transitive; his third session holds no tag.
#[test]
fn a_tag_that_is_not_transitive_is_not_held_further_down() {
    let chain = deploy_chain("bob");
    assert_eq!(chain["breaks"], Value::Null);
    assert_eq!(chain["hops"].as_array().unwrap().len(), 3);
    assert_eq!(chain["held_tags"], serde_json::json!([]));
    // Still shown among the tags set along the chain.
    assert!(chain["session_tags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("project=hermes")));
    let table = who("bob", &[]).stdout.clone();
    assert_eq!(
        session_block(&table, "111111111111:deploy (bob)"),
        "",
        "{table}"
    );
    assert!(
        session_block(&table, "222222222222:entry (bob)").contains("tag project=hermes: "),
        "{table}"
    );
}

/// A chain whose first links are not in the logs: the last recorded call
/// says what it inherited.
#[test]
fn a_broken_chain_still_shows_the_inherited_tags() {
    let doc = who("deploy", &["--format", "json"]).json();
    let chain = &doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session"] == "nightly")
        .unwrap_or_else(|| panic!("no nightly session: {doc}"))["chain"];
    assert!(chain["breaks"].is_string(), "{chain}");
    assert_eq!(chain["held_tags"][0]["key"], "project");
    assert_eq!(chain["held_tags"][0]["value"], "zeus");
    assert_eq!(chain["held_tags"][0]["set_at_hop"], Value::Null);
    assert!(chain["held_tags"][0]["set_by"]
        .as_str()
        .unwrap()
        .contains("set before the chain's first recorded link"));
}

/// The organization audit's cross-account chains name the tags too.
#[test]
fn the_organization_audit_lists_the_tags_of_a_chain() {
    let run = leastpriv()
        .args(["audit", FIXTURE, "--format", "json"])
        .run();
    run.code(0);
    let doc = run.json();
    let chains: Vec<&Value> = doc["organization"]["cross_account"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "session-chain")
        .collect();
    let alice = chains
        .iter()
        .find(|c| c["origin"].as_str().unwrap().ends_with("user/alice"))
        .unwrap_or_else(|| panic!("{chains:?}"));
    let last = alice["hops"].as_array().unwrap().last().unwrap();
    assert!(last.as_str().unwrap().contains(":role/deploy"), "{alice}");
    // alice's deploy session holds project=apollo; her other sessions
    // (entry, relay) are chains of their own.
    let tags: Vec<&Value> = chains
        .iter()
        .filter(|c| c["hops"].as_array().unwrap().len() == 3)
        .map(|c| &c["session_tags"])
        .collect();
    assert!(
        tags.contains(&&serde_json::json!([
            "project=apollo (set by the call that started 222222222222:entry (alice))"
        ])),
        "{tags:?}"
    );
    assert!(
        chains
            .iter()
            .any(|c| c["origin"].as_str().unwrap().ends_with("user/bob")
                && c.get("session_tags").is_none()),
        "{chains:?}"
    );
    assert!(alice["text"].as_str().unwrap().contains("[session tags"));
}
