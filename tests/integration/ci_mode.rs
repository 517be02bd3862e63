//! The nightly CI mode end to end from the CLI: `--baseline`, `diff`, and
//! `recommend` writing reviewable files.

use crate::common::leastpriv;
use serde_json::Value;

fn write_baseline(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    let p = dir.join("baseline.yaml");
    std::fs::write(&p, body).unwrap();
    p
}

/// A baseline accepting every high-or-worse demo finding, so `--fail-on high`
/// passes only because of it.
fn accept_all(findings: &[Value], expires: &str) -> String {
    let mut out = String::from("accepted:\n");
    for f in findings {
        if ["critical", "high"].contains(&f["severity"].as_str().unwrap()) {
            out.push_str(&format!(
                "  - rule: {}\n    principal: \"{}\"\n    justification: reviewed\n    owner: sec@example.com\n    expires: {expires}\n",
                f["rule"].as_str().unwrap(),
                f["principal"].as_str().unwrap()
            ));
        }
    }
    out
}

#[test]
fn baseline_accepts_findings_and_expired_entries_fail_again() {
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "json"])
        .run();
    let findings = run.json()["findings"].as_array().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();

    let live = write_baseline(dir.path(), &accept_all(&findings, "2026-12-31"));
    let ok = leastpriv()
        .args([
            "audit",
            "fixtures/demo",
            "--format",
            "json",
            "--fail-on",
            "high",
            "--baseline",
        ])
        .arg(&live)
        .run();
    ok.code(0);
    let report = ok.json();
    let accepted = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("accepted").is_some())
        .count();
    assert!(accepted > 0);
    assert_eq!(report["baseline"]["accepted"], accepted);
    // Accepted findings stay in the report.
    assert_eq!(report["findings"].as_array().unwrap().len(), findings.len());

    // SOURCE_DATE_EPOCH is 2026-11-01: an entry that expired in October no longer accepts.
    let expired = write_baseline(dir.path(), &accept_all(&findings, "2026-10-31"));
    let fail = leastpriv()
        .args([
            "audit",
            "fixtures/demo",
            "--format",
            "json",
            "--fail-on",
            "high",
            "--baseline",
        ])
        .arg(&expired)
        .run();
    fail.code(1);
    assert!(fail.stderr.contains("baseline: "), "{}", fail.stderr);
    assert!(!fail.json()["baseline"]["expired_entries"]
        .as_array()
        .unwrap()
        .is_empty());

    let bad = write_baseline(
        dir.path(),
        "accepted:\n  - rule: unused-permissions\n    principal: x\n",
    );
    let err = leastpriv()
        .args(["audit", "fixtures/demo", "--baseline"])
        .arg(&bad)
        .run();
    err.code(2);
    assert!(err.stderr.contains("baseline.yaml"), "{}", err.stderr);
}

#[test]
fn diff_of_a_report_with_itself_is_empty_and_drift_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.json");
    leastpriv()
        .args(["audit", "fixtures/demo", "--format", "json", "--output"])
        .arg(&full)
        .run()
        .code(0);
    let same = leastpriv()
        .arg("diff")
        .arg(&full)
        .arg(&full)
        .args(["--format", "json"])
        .run();
    same.code(0);
    let d = same.json();
    assert_eq!(d["schema"], "leastpriv.diff/v1");
    assert_eq!(d["summary"]["empty"], true);

    // A later window with fewer events: some findings resolve or change.
    let narrow = dir.path().join("narrow.json");
    leastpriv()
        .args([
            "audit",
            "fixtures/demo",
            "--format",
            "json",
            "--until",
            "2026-10-10",
            "--output",
        ])
        .arg(&narrow)
        .run()
        .code(0);
    let drift = leastpriv().arg("diff").arg(&full).arg(&narrow).run();
    drift.code(0);
    assert!(!drift.stdout.trim().is_empty());
    let gate = leastpriv()
        .arg("diff")
        .arg(&full)
        .arg(&narrow)
        .args(["--fail-on", "info"])
        .run();
    let worse = leastpriv()
        .arg("diff")
        .arg(&full)
        .arg(&narrow)
        .args(["--format", "json"])
        .run()
        .json();
    let s = &worse["summary"];
    assert_eq!(s["empty"], false);
    let expected = if s["findings_new"] == 0 && s["findings_changed"] == 0 {
        0
    } else {
        1
    };
    gate.code(expected);

    let err = leastpriv()
        .arg("diff")
        .arg(&full)
        .arg("fixtures/demo/iam.json")
        .run();
    err.code(2);
    assert!(
        err.stderr.contains("fixtures/demo/iam.json"),
        "{}",
        err.stderr
    );
}

#[test]
fn recommend_writes_policy_terraform_and_diff_per_principal() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec");
    let run = leastpriv()
        .args(["recommend", "fixtures/demo", "--out"])
        .arg(&out)
        .run();
    run.code(0);
    for f in [
        "role/orders-api.json",
        "role/orders-api.tf",
        "role/orders-api.diff.md",
        "user/ci-deploy.json",
        "group/developers.json",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("role/orders-api.json")).unwrap())
            .unwrap();
    let text = doc.to_string();
    assert!(text.contains("secretsmanager:GetSecretValue"));
    assert!(
        !text.contains("dynamodb:DeleteTable"),
        "unused action dropped"
    );
    let diff = std::fs::read_to_string(out.join("role/orders-api.diff.md")).unwrap();
    assert!(
        diff.contains("dynamodb:DeleteTable"),
        "the diff names what is removed"
    );
}

/// `--format json` gives the same recommendations as `--out`, in one
/// document: each policy is the file's document, in the file's key order.
#[test]
fn recommend_as_one_json_document_matches_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec");
    leastpriv()
        .args(["recommend", "fixtures/demo", "--out"])
        .arg(&out)
        .run()
        .code(0);
    let doc_path = dir.path().join("recs.json");
    let run = leastpriv()
        .args(["recommend", "fixtures/demo", "--format", "json", "-o"])
        .arg(&doc_path)
        .run();
    run.code(0);
    let text = std::fs::read_to_string(&doc_path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema"], "leastpriv.recommendations/v1");
    assert!(doc["tool"]["catalog_actions"].as_u64().unwrap() > 15_000);
    let recs = doc["recommendations"].as_array().unwrap();
    let files = walkdir_count(&out);
    assert_eq!(recs.len() * 3, files, "three files per recommendation");
    for r in recs {
        let kind = r["kind"].as_str().unwrap();
        let name = r["name"].as_str().unwrap();
        let base = out.join(kind).join(name);
        let file = std::fs::read_to_string(base.with_extension("json")).unwrap();
        assert_eq!(
            r["policy"],
            serde_json::from_str::<Value>(&file).unwrap(),
            "{kind}/{name}"
        );
        assert_eq!(
            r["policy_size"].as_u64().unwrap() as usize,
            r["policy"].to_string().chars().count()
        );
        let tf = std::fs::read_to_string(base.with_extension("tf")).unwrap();
        // The document's Terraform embeds the policy; the file beside
        // NAME.json reads it (what a reviewer edits is what is applied).
        let embedded = r["terraform"].as_str().unwrap();
        match embedded.split_once("jsonencode(") {
            Some((head, _)) => {
                assert!(tf.starts_with(head), "{kind}/{name}");
                let read = format!("file(\"${{path.module}}/{name}.json\")");
                assert!(tf.contains(&read), "{kind}/{name}: {tf}");
                assert!(!tf.contains("jsonencode("), "{kind}/{name}");
            }
            None => assert_eq!(embedded, tf, "{kind}/{name}"),
        }
        let diff = std::fs::read_to_string(format!("{}.diff.md", base.display())).unwrap();
        assert_eq!(r["diff_markdown"].as_str().unwrap(), diff, "{kind}/{name}");
    }
    // IAM's key order, not serde's alphabetical one.
    let version = text.find("\"Version\"").unwrap();
    assert!(version < text.find("\"Statement\"").unwrap());

    // To standard output by default; `--out` and `--format` exclude each other.
    let stdout = leastpriv()
        .args(["recommend", "fixtures/demo", "--format", "json"])
        .run();
    stdout.code(0);
    let again: Value = serde_json::from_str(&stdout.stdout).unwrap();
    assert_eq!(again["recommendations"], doc["recommendations"]);
    leastpriv()
        .args(["recommend", "fixtures/demo", "--format", "json", "--out"])
        .arg(&out)
        .run()
        .code(2);
    leastpriv()
        .args(["recommend", "fixtures/demo"])
        .run()
        .code(2);
}

fn walkdir_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|kind| std::fs::read_dir(kind.unwrap().path()).unwrap().count())
        .sum()
}

#[test]
fn report_formats_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    for (format, marker) in [
        ("markdown", "# "),
        ("html", "<!DOCTYPE html>"),
        ("sarif", "\"version\": \"2.1.0\""),
    ] {
        let out = dir.path().join(format!("report.{format}"));
        let run = leastpriv()
            .args(["audit", "fixtures/demo", "--format", format, "--output"])
            .arg(&out)
            .run();
        run.code(0);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains(marker),
            "{format}: {}",
            &text[..text.len().min(200)]
        );
    }
    // Each command offers only the formats it writes: the command line is
    // rejected (exit 2, listing them) before any input is read.
    for args in [
        &["secrets", "fixtures/demo", "--format", "sarif"][..],
        &["catalog", "--format", "markdown"],
        &["diff", "old.json", "new.json", "--format", "html"],
    ] {
        let run = leastpriv().args(args).run();
        run.code(2);
        let format = args[args.len() - 1];
        assert!(
            run.stderr
                .contains(&format!("invalid value '{format}' for '--format <FORMAT>'"))
                && run.stderr.contains("[possible values: table, json]"),
            "{args:?}: {}",
            run.stderr
        );
    }
}
