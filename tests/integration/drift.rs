//! `leastpriv diff` over real `leastpriv.audit/v1` reports of the demo
//! account: a report against itself is empty; a copy with one finding removed
//! and one action moved from unused to used shows exactly those changes; a
//! finding whose actions shift is "changed"; other documents and broken JSON
//! are errors naming the file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use leastpriv::audit::{self, AuditOptions};
use leastpriv::drift::{self, Denied, DriftError, Grant, Move, Status};
use leastpriv::ingest::snapshot::{Overrides, SnapshotPaths};
use leastpriv::report::json::{self, Schema};
use serde_json::{json, Value};

/// 2026-11-01T00:00:00Z, as in `tests/common`.
const NOW: i64 = 1_793_491_200;

fn demo_audit() -> &'static audit::Audit {
    static AUDIT: OnceLock<audit::Audit> = OnceLock::new();
    AUDIT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        let paths = SnapshotPaths::resolve(Some(&dir), &Overrides::default()).expect("demo paths");
        let opts = AuditOptions {
            now: Some(NOW),
            ..AuditOptions::default()
        };
        audit::run(&paths, &opts).expect("demo audit")
    })
}

/// The demo report, as `leastpriv audit fixtures/demo --format json` writes it.
fn demo_report() -> &'static str {
    static REPORT: OnceLock<String> = OnceLock::new();
    REPORT.get_or_init(|| json::render(demo_audit(), Schema::V1))
}

/// The same with `--json-schema v2`.
fn demo_report_v2() -> &'static str {
    static REPORT: OnceLock<String> = OnceLock::new();
    REPORT.get_or_init(|| json::render(demo_audit(), Schema::V2))
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
    push_used(p, &action);
    action
}

/// Adds `action` to the used list of principal `p`, called once.
fn push_used(p: &mut Value, action: &str) {
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
}

#[test]
fn a_report_against_itself_is_empty() {
    let files = Files::new();
    let a = files.write("a.json", demo_report());
    let d = drift::diff(&a, &a).expect("diff");
    assert!(d.is_empty(), "{d:?}");
    assert!(drift::report::text::render(&d).contains("no drift"));
    let j: Value = serde_json::from_str(&drift::report::json::render(&d)).expect("JSON");
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

    assert_snapshot!("drift_text", files.scrub(&drift::report::text::render(&d)));
    assert_snapshot!("drift_json", files.scrub(&drift::report::json::render(&d)));

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
    assert_snapshot!(
        "drift_principals_text",
        files.scrub(&drift::report::text::render(&d))
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
        "`[TMP]/other.json` is not a `leastpriv.audit/v1` or `leastpriv.audit/v2` report (schema `leastpriv.diff/v1`)"
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

// ---- leastpriv.audit/v2 ----

fn demo_value_v2() -> Value {
    serde_json::from_str(demo_report_v2()).expect("the v2 report is JSON")
}

/// The names of a v2 action set, read with the document's own
/// `catalog_services` (not leastpriv's reader), in the document's order.
/// Checks `count` and that each service is written in its shortest form.
fn expand(doc: &Value, set: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (svc, form) in set["by_service"].as_object().expect("by_service") {
        let all: Vec<&str> = doc["catalog_services"][svc]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().expect("a name")).collect())
            .unwrap_or_default();
        let names: Vec<&str> = match form {
            Value::String(s) => {
                assert_eq!(s, "*");
                assert!(
                    !all.is_empty(),
                    "`{svc}` is `*` but not in catalog_services"
                );
                all.clone()
            }
            Value::Array(a) => {
                let names: Vec<&str> = a.iter().map(|v| v.as_str().expect("a name")).collect();
                assert!(
                    all.is_empty() || 2 * names.len() <= all.len(),
                    "`{svc}`: a list of {} where `except` is shorter",
                    names.len()
                );
                names
            }
            Value::Object(o) => {
                let except: Vec<&str> = o["except"]
                    .as_array()
                    .expect("except")
                    .iter()
                    .map(|v| v.as_str().expect("a name"))
                    .collect();
                assert!(
                    !except.is_empty() && 2 * except.len() < all.len(),
                    "`{svc}`"
                );
                assert!(except.iter().all(|n| all.contains(n)), "`{svc}`");
                all.iter()
                    .copied()
                    .filter(|n| !except.contains(n))
                    .collect()
            }
            other => panic!("`{svc}`: {other}"),
        };
        out.extend(names.into_iter().map(|n| format!("{svc}:{n}")));
    }
    assert_eq!(Some(out.len() as u64), set["count"].as_u64(), "count");
    out
}

/// Every set of a v2 document, as (principal index, field, set).
fn sets(doc: &Value) -> Vec<(usize, String, &Value)> {
    let mut out = Vec::new();
    for (i, p) in doc["principals"]
        .as_array()
        .expect("principals")
        .iter()
        .enumerate()
    {
        out.push((i, "unused".to_string(), &p["unused"]));
        out.push((i, "unobservable".to_string(), &p["unobservable"]));
        if p.get("blocked_by_scp").is_some() {
            out.push((i, "blocked_by_scp".to_string(), &p["blocked_by_scp"]));
        }
        for (why, set) in p["unobservable_reasons"].as_object().expect("reasons") {
            out.push((i, format!("unobservable_reasons.{why}"), set));
        }
    }
    out
}

#[test]
fn v2_names_exactly_the_actions_of_v1() {
    let v1 = demo_value();
    let v2 = demo_value_v2();
    assert_eq!(v2["schema"], "leastpriv.audit/v2");

    // Every form is exercised, and `catalog_services` lists exactly the
    // services that a `*` or an `except` stands for.
    let mut forms = BTreeSet::new();
    let mut by_catalog = BTreeSet::new();
    for (_, _, set) in sets(&v2) {
        for (svc, form) in set["by_service"].as_object().expect("by_service") {
            let kind = match form {
                Value::String(_) => "all",
                Value::Object(_) => "except",
                _ => "list",
            };
            forms.insert(kind);
            if kind != "list" {
                by_catalog.insert(svc.clone());
            }
        }
    }
    assert_eq!(forms, BTreeSet::from(["all", "except", "list"]));
    let listed: BTreeSet<String> = v2["catalog_services"]
        .as_object()
        .expect("catalog_services")
        .keys()
        .cloned()
        .collect();
    assert_eq!(listed, by_catalog);

    // With each set expanded, v2 is v1, field for field and in order.
    let mut back = v2.clone();
    for (i, field, set) in sets(&v2) {
        let names = json!(expand(&v2, set));
        let p = &mut back["principals"][i];
        match field.split_once('.') {
            Some((_, why)) => p["unobservable_reasons"][why] = names,
            None => p[field.as_str()] = names,
        }
    }
    back.as_object_mut()
        .expect("object")
        .remove("catalog_services");
    back["schema"] = json!("leastpriv.audit/v1");
    assert_eq!(back, v1);
}

#[test]
fn v1_and_v2_of_one_audit_have_no_drift_either_way() {
    let files = Files::new();
    let a = files.write("a.json", demo_report());
    let b = files.write("b.json", demo_report_v2());
    for (old, new) in [(&a, &b), (&b, &a), (&b, &b)] {
        let d = drift::diff(old, new).expect("diff");
        assert!(d.is_empty(), "{d:?}");
    }
}

/// Moves `action` of principal `i` from its v2 unused set to its used list.
fn use_unused_v2(doc: &mut Value, i: usize, action: &str) {
    let (svc, name) = action.split_once(':').expect("service:Action");
    let p = &mut doc["principals"][i];
    let set = &mut p["unused"];
    let form = &mut set["by_service"][svc];
    match form {
        Value::String(_) => *form = json!({ "except": [name] }),
        Value::Object(o) => o["except"]
            .as_array_mut()
            .expect("except")
            .push(json!(name)),
        Value::Array(a) => {
            a.retain(|n| n != name);
            if a.is_empty() {
                set["by_service"]
                    .as_object_mut()
                    .expect("by_service")
                    .remove(svc);
            }
        }
        other => panic!("{other}"),
    }
    let count = set["count"].as_u64().expect("count");
    set["count"] = json!(count - 1);
    push_used(p, action);
}

#[test]
fn an_edit_to_a_v2_set_drifts_as_the_same_edit_to_v1() {
    let files = Files::new();
    let (old1, old2) = (demo_value(), demo_value_v2());
    let mut edited = 0;
    for (i, p) in old1["principals"]
        .as_array()
        .expect("principals")
        .iter()
        .enumerate()
    {
        let Some(action) = p["unused"][0].as_str().map(str::to_string) else {
            continue;
        };
        let name = p["name"].as_str().expect("name").to_string();
        let (mut new1, mut new2) = (old1.clone(), old2.clone());
        assert_eq!(use_first_unused(&mut new1, &name), action);
        use_unused_v2(&mut new2, i, &action);
        let paths = [
            files.json("old1.json", &old1),
            files.json("old2.json", &old2),
            files.json("new1.json", &new1),
            files.json("new2.json", &new2),
        ];
        let want = drift::diff(&paths[0], &paths[2]).expect("v1 diff");
        assert_eq!(want.principals_changed.len(), 1, "{name}");
        let moved = &want.principals_changed[0].moved;
        assert_eq!(
            moved,
            &[Move {
                action: action.clone(),
                from: Status::Unused,
                to: Status::Used,
            }],
            "{name}"
        );
        for (o, n) in [(1, 3), (0, 3), (1, 2)] {
            let got = drift::diff(&paths[o], &paths[n]).expect("diff");
            assert_eq!(
                got.principals_changed, want.principals_changed,
                "{name} {o}→{n}"
            );
        }
        edited += 1;
    }
    assert!(edited >= 5, "only {edited} principals with unused actions");
}

#[test]
fn an_action_added_to_the_catalog_is_a_grant_where_a_set_says_all() {
    let files = Files::new();
    let old = demo_value_v2();
    let mut new = old.clone();
    // A service that some principal has whole and another in part.
    let (mut whole, mut part) = (BTreeSet::new(), BTreeSet::new());
    for (i, field, set) in sets(&old) {
        if field != "unused" {
            continue;
        }
        for (svc, form) in set["by_service"].as_object().expect("by_service") {
            match form {
                Value::String(_) => whole.insert((svc.clone(), i)),
                Value::Array(_) => part.insert((svc.clone(), i)),
                _ => false,
            };
        }
    }
    let (svc, whole_at) = whole
        .iter()
        .find(|(s, _)| part.iter().any(|(p, _)| p == s))
        .cloned()
        .expect("a service held whole by one principal and in part by another");
    new["catalog_services"][&svc]
        .as_array_mut()
        .expect("the service's actions")
        .push(json!("ZzNewAction"));
    // Each set that stands for it counts it, as a newer catalog's report would.
    for (i, field, set) in sets(&old) {
        if matches!(set["by_service"][&svc], Value::String(_) | Value::Object(_)) {
            let p = &mut new["principals"][i];
            let set = match field.split_once('.') {
                Some((_, why)) => &mut p["unobservable_reasons"][why],
                None => &mut p[field.as_str()],
            };
            let count = set["count"].as_u64().expect("count");
            set["count"] = json!(count + 1);
        }
    }
    let d =
        drift::diff(&files.json("old.json", &old), &files.json("new.json", &new)).expect("diff");
    let added = format!("{svc}:ZzNewAction");
    let arn = old["principals"][whole_at]["arn"].as_str().expect("arn");
    let changed: BTreeSet<&str> = d
        .principals_changed
        .iter()
        .map(|p| p.arn.as_str())
        .collect();
    assert!(changed.contains(arn), "{d:?}");
    for p in &d.principals_changed {
        assert_eq!(
            p.grants_added,
            vec![Grant {
                action: added.clone(),
                status: Status::Unused,
            }],
            "{}",
            p.arn
        );
        assert!(p.grants_removed.is_empty() && p.moved.is_empty());
    }
    // A principal that lists the service's actions did not gain it.
    for (_, i) in part.iter().filter(|(s, _)| *s == svc) {
        let listed = old["principals"][*i]["arn"].as_str().expect("arn");
        let whole_too = whole.iter().any(|(s, j)| *s == svc && j == i);
        assert!(whole_too || !changed.contains(listed), "{listed}");
    }
}

#[test]
fn a_v2_set_that_does_not_add_up_is_an_error_naming_the_place() {
    let files = Files::new();
    let good = files.write("good.json", demo_report_v2());
    let base = demo_value_v2();
    let (i, field, svc) = sets(&base)
        .into_iter()
        .filter(|(_, f, _)| f == "unused")
        .find_map(|(i, f, set)| {
            set["by_service"]
                .as_object()
                .expect("by_service")
                .iter()
                .find(|(_, form)| form.is_string())
                .map(|(svc, _)| (i, f, svc.clone()))
        })
        .expect("a service written as `*`");
    let at = format!("`principals[{i}].{field}`");
    let check = |name: &str, doc: &Value, want: &str| {
        let path = files.json(name, doc);
        let e = drift::diff(&good, &path).expect_err(name);
        let msg = files.scrub(&e.to_string());
        assert!(msg.contains(&format!("`[TMP]/{name}`")), "{msg}");
        assert!(msg.contains(want), "{name}: {msg}");
    };

    let mut doc = base.clone();
    doc["catalog_services"]
        .as_object_mut()
        .expect("catalog_services")
        .remove(&svc);
    check(
        "uncatalogued.json",
        &doc,
        &format!("{at}: service `{svc}` is written as `*` or `except`, but `catalog_services` does not list its actions"),
    );

    let mut doc = base.clone();
    let count = doc["principals"][i][&field]["count"]
        .as_u64()
        .expect("count");
    doc["principals"][i][&field]["count"] = json!(count + 1);
    check(
        "count.json",
        &doc,
        &format!(
            "{at}: `count` is {}, but the set names {count} actions",
            count + 1
        ),
    );

    let mut doc = base.clone();
    doc["principals"][i][&field]["by_service"][&svc] = json!({ "except": ["NoSuchAction"] });
    check(
        "except.json",
        &doc,
        &format!("{at}: `{svc}` excepts `NoSuchAction`, which `catalog_services` does not list for `{svc}`"),
    );

    // Text, so that the key can appear twice: the set is replaced by a
    // marker no other value holds, and the marker by the edited text.
    let mut doc = base.clone();
    doc["principals"][i][&field] = json!("@@the set@@");
    let one = base["principals"][i][&field].to_string();
    let key = format!("\"{svc}\":\"*\"");
    let twice = one.replacen(&key, &format!("{key},{key}"), 1);
    assert_ne!(one, twice);
    let text = doc.to_string().replacen("\"@@the set@@\"", &twice, 1);
    let path = files.write("twice.json", &text);
    let msg = files.scrub(&drift::diff(&good, &path).expect_err("twice").to_string());
    assert!(
        msg.contains(&format!("{at}: service `{svc}` appears twice")),
        "{msg}"
    );

    let mut doc = base.clone();
    doc["principals"][i][&field]["by_service"][&svc] = json!("all");
    check(
        "form.json",
        &doc,
        &format!("(`principals[{i}].{field}.by_service.{svc}`)"),
    );
}
