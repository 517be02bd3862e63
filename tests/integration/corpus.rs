//! Runs `leastpriv audit` on each part of the independent CloudTrail sample
//! corpus (`../shared/corpus/cloudtrail/<source>/`) against the demo's
//! `iam.json`: the run must not fail, whatever the publishers' quirks. Prints
//! records / mapped / unmapped / skipped per source (`--nocapture`).
//!
//! When the corpus is missing the test fails under `CI=true` and is skipped
//! with a note otherwise.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::leastpriv;
use serde_json::Value;

/// Panther's file is a JSON array of `{_panther_rule_file, _test_name,
/// _expected_result, event}`: the CloudTrail records are the `event` values.
/// Written as NDJSON, one record per line.
fn panther_as_ndjson(dir: &Path, out: &Path) -> PathBuf {
    let src = dir.join("panther_cloudtrail_rule_test_events.json");
    let text = fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let tests: Vec<Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let mut ndjson = String::new();
    for t in &tests {
        let event = t
            .get("event")
            .unwrap_or_else(|| panic!("{}: an entry without `event`", src.display()));
        ndjson.push_str(&event.to_string());
        ndjson.push('\n');
    }
    let path = out.join("panther.ndjson");
    fs::write(&path, ndjson).unwrap();
    path
}

#[test]
fn corpus_audits_without_crashing() {
    let Some(root) = crate::common::corpus_or_skip() else {
        return;
    };
    let mut sources: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    sources.sort();
    assert!(
        !sources.is_empty(),
        "no source directories in {}",
        root.display()
    );

    // An account without principals: the audited accounts are then unknown,
    // and every record counts as the account's (the corpus comes from many
    // accounts, none of them the demo's).
    let tmp = tempfile::tempdir().unwrap();
    let iam = tmp.path().join("iam.json");
    fs::write(
        &iam,
        r#"{"UserDetailList":[],"RoleDetailList":[],"GroupDetailList":[],"Policies":[]}"#,
    )
    .unwrap();
    let mut failures = Vec::new();
    println!(
        "{:<14} {:>7} {:>7} {:>8} {:>7} {:>9} {:>7} {:>6}",
        "source", "records", "mapped", "unmapped", "skipped", "not-iam", "service", "files"
    );
    for dir in &sources {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let input = if name == "panther" {
            panther_as_ndjson(dir, tmp.path())
        } else {
            dir.clone()
        };
        let run = leastpriv()
            .args(["audit", "--format", "json", "--iam"])
            .arg(&iam)
            .arg("--cloudtrail")
            .arg(&input)
            .tmp(tmp.path())
            .run();
        if run.code != Some(0) {
            failures.push(format!(
                "{name}: exit {:?}\n{}",
                run.code,
                run.stderr.lines().take(20).collect::<Vec<_>>().join("\n")
            ));
            continue;
        }
        let report = run.json();
        let c = &report["coverage"];
        let n = |f: &str| {
            c[f].as_u64()
                .unwrap_or_else(|| panic!("{name}: coverage.{f}"))
        };
        println!(
            "{:<14} {:>7} {:>7} {:>8} {:>7} {:>9} {:>7} {:>6}",
            name,
            n("records"),
            n("records_mapped"),
            n("records_unmapped"),
            n("records_skipped"),
            n("records_not_iam"),
            n("records_aws_service"),
            n("files"),
        );
        assert_eq!(n("records_other_account"), 0, "{name}: no audited account");
        if let Some(events) = c["unmapped_events"].as_object() {
            for (event, count) in events {
                println!("    unmapped {event} x{count}");
            }
        }
        if n("records") == 0 {
            failures.push(format!("{name}: no records read"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every file of the corpus (each Panther fixture record as NDJSON), read on
/// its own: every record lands in exactly one coverage bucket.
#[test]
fn coverage_adds_up_on_every_corpus_file() {
    let Some(root) = crate::common::corpus_or_skip() else {
        return;
    };
    let cat = leastpriv::catalog::Catalog::embedded();
    let mapper = leastpriv::usage::mapping::EventMapper::embedded(cat).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".json") || n.ends_with(".json.gz")
        })
        .collect();
    files.push(panther_as_ndjson(&root.join("panther"), tmp.path()));
    files.sort();
    let mut checked = 0;
    for f in &files {
        let bytes = fs::read(f).unwrap();
        let a = leastpriv::usage::read::ingest_bytes(
            f,
            bytes,
            &mapper,
            leastpriv::usage::IngestOptions::default(),
        );
        assert!(
            a.stats.adds_up(),
            "{}: {:?} do not add up to {} records",
            f.display(),
            a.stats.buckets(),
            a.stats.records
        );
        checked += 1;
    }
    assert!(checked > 30, "{checked} files");
}

/// Every event source in the corpus resolves to a service prefix of the
/// catalog (by the default rule, or a `sources` rule), and so does every
/// catalog prefix written as a host: an event source whose prefix differs
/// must be a rule, never a silent miss.
#[test]
fn every_event_source_resolves_to_a_catalog_prefix() {
    let Some(root) = crate::common::corpus_or_skip() else {
        return;
    };
    let cat = leastpriv::catalog::Catalog::embedded();
    let mapper = leastpriv::usage::mapping::EventMapper::embedded(cat).unwrap();
    fn sources(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(s)) = m.get("eventSource") {
                    out.insert(s.clone());
                }
                m.values().for_each(|v| sources(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| sources(v, out)),
            _ => {}
        }
    }
    let mut found = std::collections::BTreeSet::new();
    for e in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
    {
        let p = e.path();
        let name = p.to_string_lossy();
        if !(name.ends_with(".json") || name.ends_with(".json.gz")) {
            continue;
        }
        let bytes = leastpriv::ingest::cloudtrail::read_log_bytes(p).unwrap();
        let mut values = serde_json::Deserializer::from_slice(&bytes).into_iter::<Value>();
        while let Some(Ok(v)) = values.next() {
            sources(&v, &mut found);
        }
    }
    assert!(found.len() > 30, "{found:?}");
    let unresolved: Vec<&String> = found
        .iter()
        .filter(|s| cat.service(mapper.service_prefix(s)).is_none())
        .collect();
    assert!(unresolved.is_empty(), "{unresolved:?}");
    for svc in cat.services() {
        let host = format!("{}.amazonaws.com", svc.prefix);
        assert!(
            cat.service(mapper.service_prefix(&host)).is_some(),
            "{host}"
        );
    }
}
