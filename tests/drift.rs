//! `leastpriv diff` over real `leastpriv.audit/v1` reports of the demo
//! account: a report against itself is empty; a copy with one finding removed
//! and one action moved from unused to used shows exactly those changes; a
//! finding whose actions shift is "changed"; other documents and broken JSON
//! are errors naming the file.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use leastpriv::audit::{self, AuditOptions};
use leastpriv::drift::{self, Denied, DriftError, Grant, Move, Status};
use leastpriv::ingest::snapshot::{Overrides, SnapshotPaths};
use serde_json::{json, Value};

/// 2026-11-01T00:00:00Z, as in `tests/common`.
const NOW: i64 = 1_793_491_200;

/// The demo report, as `leastpriv audit fixtures/demo --format json` writes it.
fn demo_report() -> &'static str {
    static REPORT: OnceLock<String> = OnceLock::new();
    REPORT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        let paths = SnapshotPaths::resolve(Some(&dir), &Overrides::default()).expect("demo paths");
        let opts = AuditOptions {
            now: Some(NOW),
            ..AuditOptions::default()
        };
        let result = audit::run(&paths, &opts).expect("demo audit");
        leastpriv::report::json::render(&result)
    })
}

fn demo_value() -> Value {
    serde_json::from_str(demo_report()).expect("the report is JSON")
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn json(&self, name: &str, v: &Value) -> PathBuf {
        self.write(name, &serde_json::to_string_pretty(v).expect("serialize"))
    }

    /// Replaces the temp dir in output, so snapshots do not depend on the machine.
    fn scrub(&self, s: &str) -> String {
        s.replace(&self.dir.path().display().to_string(), "[TMP]")
    }
}

fn principal_mut<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    doc["principals"]
        .as_array_mut()
        .expect("principals")
        .iter_mut()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no principal `{name}`"))
}

fn finding_index(doc: &Value, rule: &str, principal: &str) -> usize {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .position(|f| {
            f["rule"] == rule
                && f["principal"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(principal))
        })
        .unwrap_or_else(|| panic!("no `{rule}` finding on `{principal}`"))
}

/// Moves the first unused action of `name` to its used list; returns it.
fn use_first_unused(doc: &mut Value, name: &str) -> String {
    let p = principal_mut(doc, name);
    let action = p["unused"]
        .as_array_mut()
        .expect("unused")
        .remove(0)
        .as_str()
        .expect("an action")
        .to_string();
    p["used"].as_array_mut().expect("used").push(json!({
        "action": action,
        "count": 1,
        "first_seen": "2026-10-30T12:00:00Z",
        "last_seen": "2026-10-30T12:00:00Z",
        "resources": [],
        "resources_truncated": false,
        "granted": true,
        "conditional": false,
        "invoked_by": {}
    }));
    action
}

#[test]
fn a_report_against_itself_is_empty() {
    let files = Files::new();
    let a = files.write("a.json", demo_report());
    let d = drift::diff(&a, &a).expect("diff");
    assert!(d.is_empty(), "{d:?}");
    assert!(drift::render_text(&d).contains("no drift"));
    let j: Value = serde_json::from_str(&drift::render_json(&d)).expect("JSON");
    assert_eq!(j["schema"], "leastpriv.diff/v1");
    assert_eq!(j["summary"]["empty"], true);

    // A copy written by another run (same content, other file) is empty too.
    let b = files.write("b.json", demo_report());
    assert!(drift::diff(&a, &b).expect("diff").is_empty());
}

#[test]
fn removed_finding_and_moved_action_are_exactly_the_drift() {
    let files = Files::new();
    let old_path = files.write("old.json", demo_report());
    let mut new = demo_value();
    let gone = finding_index(&new, "guardrail-hit", "user/alice");
    let removed = new["findings"]
        .as_array_mut()
        .expect("findings")
        .remove(gone);
    let action = use_first_unused(&mut new, "alice");
    let new_path = files.json("new.json", &new);

    let d = drift::diff(&old_path, &new_path).expect("diff");
    assert!(d.findings_new.is_empty(), "{:?}", d.findings_new);
    assert!(d.findings_changed.is_empty(), "{:?}", d.findings_changed);
    assert_eq!(d.findings_resolved.len(), 1);
    assert_eq!(d.findings_resolved[0].rule, "guardrail-hit");
    assert_eq!(
        Value::from(d.findings_resolved[0].actions.clone()),
        removed["actions"]
    );
    assert!(d.principals_added.is_empty() && d.principals_removed.is_empty());
    assert_eq!(d.principals_changed.len(), 1);
    let p = &d.principals_changed[0];
    assert_eq!(p.arn, "arn:aws:iam::111122223333:user/alice");
    assert_eq!((p.granted_old, p.granted_new), (181, 181));
    assert!(p.grants_added.is_empty() && p.grants_removed.is_empty());
    assert_eq!(
        p.moved,
        vec![Move {
            action: action.clone(),
            from: Status::Unused,
            to: Status::Used
        }]
    );
    assert_eq!(p.newly_used().count(), 1);
    assert_eq!(p.newly_unused().count(), 0);
    assert!(p.denied_new.is_empty());

    insta::assert_snapshot!("drift_text", files.scrub(&drift::render_text(&d)));
    insta::assert_snapshot!("drift_json", files.scrub(&drift::render_json(&d)));

    // And back: the finding is new, the action newly unused.
    let back = drift::diff(&new_path, &old_path).expect("diff");
    assert_eq!(back.findings_new.len(), 1);
    assert!(back.findings_resolved.is_empty());
    assert_eq!(back.principals_changed[0].newly_unused().count(), 1);
}

#[test]
fn shifted_actions_of_a_category_finding_are_a_change() {
    let files = Files::new();
    let old_path = files.write("old.json", demo_report());
    let mut new = demo_value();
    let i = finding_index(&new, "data-exfiltration", "user/alice");
    let actions = new["findings"][i]["actions"]
        .as_array_mut()
        .expect("actions");
    let dropped = actions.remove(0);
    actions.push(json!("s3:ListBucket"));
    new["findings"][i]["severity"] = json!("high");
    let new_path = files.json("new.json", &new);

    let d = drift::diff(&old_path, &new_path).expect("diff");
    assert!(
        d.findings_new.is_empty() && d.findings_resolved.is_empty(),
        "{d:?}"
    );
    assert_eq!(d.findings_changed.len(), 1);
    let c = &d.findings_changed[0];
    assert_eq!(c.rule, "data-exfiltration");
    assert_eq!(c.actions_added, vec!["s3:ListBucket".to_string()]);
    assert_eq!(
        c.actions_removed,
        vec![dropped.as_str().expect("str").to_string()]
    );
    assert_eq!(
        (c.severity_old.as_str(), c.severity_new.as_str()),
        ("medium", "high")
    );
    assert!(d.worsened(leastpriv::rules::Severity::High));
    assert!(d.principals_changed.is_empty());
}

#[test]
fn shifted_actions_of_another_rule_are_resolved_and_new() {
    let files = Files::new();
    let old_path = files.write("old.json", demo_report());
    let mut new = demo_value();
    let i = finding_index(&new, "guardrail-hit", "user/alice");
    new["findings"][i]["actions"] = json!(["iam:ListRoles"]);
    let new_path = files.json("new.json", &new);
    let d = drift::diff(&old_path, &new_path).expect("diff");
    assert_eq!((d.findings_new.len(), d.findings_resolved.len()), (1, 1));
    assert!(d.findings_changed.is_empty());
}

#[test]
fn principals_added_removed_grants_and_denials() {
    let files = Files::new();
    let old_path = files.write("old.json", demo_report());
    let mut new = demo_value();
    // github-deploy disappears; a copy of it with another ARN appears.
    let principals = new["principals"].as_array_mut().expect("principals");
    let at = principals
        .iter()
        .position(|p| p["name"] == "github-deploy")
        .expect("github-deploy");
    let mut renamed = principals.remove(at);
    renamed["arn"] = json!("arn:aws:iam::111122223333:role/github-deploy-v2");
    renamed["name"] = json!("github-deploy-v2");
    principals.push(renamed);
    // orders-api gains a grant and a denied attempt; one unobservable action goes away.
    let p = principal_mut(&mut new, "orders-api");
    p["granted"] = json!(p["granted"].as_u64().expect("granted"));
    p["unused"]
        .as_array_mut()
        .expect("unused")
        .push(json!("sqs:SendMessage"));
    let lost = p["unobservable"]
        .as_array_mut()
        .expect("unobservable")
        .remove(0);
    p["denied"].as_array_mut().expect("denied").push(json!({
        "action": "s3:PutObject", "count": 3, "first_seen": "2026-10-30T12:00:00Z",
        "last_seen": "2026-10-30T13:00:00Z", "granted": false, "error_codes": {"AccessDenied": 3},
        "resources": []
    }));
    let new_path = files.json("new.json", &new);

    let d = drift::diff(&old_path, &new_path).expect("diff");
    assert_eq!(d.principals_added.len(), 1);
    assert_eq!(d.principals_added[0].name, "github-deploy-v2");
    assert_eq!(d.principals_removed.len(), 1);
    assert_eq!(d.principals_removed[0].name, "github-deploy");
    assert_eq!(d.principals_changed.len(), 1);
    let c = &d.principals_changed[0];
    assert_eq!(c.name, "orders-api");
    assert_eq!(
        c.grants_added,
        vec![Grant {
            action: "sqs:SendMessage".into(),
            status: Status::Unused
        }]
    );
    assert_eq!(
        c.grants_removed,
        vec![Grant {
            action: lost.as_str().expect("str").into(),
            status: Status::Unobservable
        }]
    );
    assert_eq!(
        c.denied_new,
        vec![Denied {
            action: "s3:PutObject".into(),
            count: 3
        }]
    );
    assert!(c.moved.is_empty());
    insta::assert_snapshot!(
        "drift_principals_text",
        files.scrub(&drift::render_text(&d))
    );
}

#[test]
fn another_schema_is_an_error_naming_the_file() {
    let files = Files::new();
    let old_path = files.write("old.json", demo_report());
    let other = files.write("other.json", "{\"schema\": \"leastpriv.diff/v1\"}");
    let e = drift::diff(&old_path, &other).expect_err("schema");
    assert!(matches!(e, DriftError::Schema { .. }), "{e:?}");
    let msg = files.scrub(&e.to_string());
    assert_eq!(
        msg,
        "`[TMP]/other.json` is not a `leastpriv.audit/v1` report (schema `leastpriv.diff/v1`)"
    );
    let none = files.write("none.json", "{\"principals\": []}");
    let msg = files.scrub(
        &drift::diff(&none, &old_path)
            .expect_err("no schema")
            .to_string(),
    );
    assert!(
        msg.contains("`[TMP]/none.json`") && msg.contains("schema missing"),
        "{msg}"
    );
}

#[test]
fn broken_json_is_an_error_with_file_line_and_column() {
    let files = Files::new();
    let good = files.write("good.json", demo_report());
    let broken = files.write(
        "broken.json",
        "{\n  \"schema\": \"leastpriv.audit/v1\",\n  oops\n}",
    );
    let msg = files.scrub(&drift::diff(&good, &broken).expect_err("broken").to_string());
    assert!(
        msg.starts_with("invalid report `[TMP]/broken.json` at line 3, column 3"),
        "{msg}"
    );

    // Right schema, wrong type: the place in the document is named too.
    let mut doc = demo_value();
    principal_mut(&mut doc, "alice")["granted"] = json!("many");
    let typed = files.json("typed.json", &doc);
    let msg = files.scrub(&drift::diff(&typed, &good).expect_err("typed").to_string());
    assert!(msg.contains("`[TMP]/typed.json`"), "{msg}");
    assert!(msg.contains("(`principals["), "{msg}");
    assert!(msg.contains("].granted`)"), "{msg}");

    let missing = files.dir.path().join("missing.json");
    let msg = files.scrub(
        &drift::diff(&missing, &good)
            .expect_err("missing")
            .to_string(),
    );
    assert!(
        msg.starts_with("cannot read report `[TMP]/missing.json`"),
        "{msg}"
    );
}
