//! The shipped CloudTrail mapping rules: they load against the embedded catalog, and they cover
//! the independent CloudTrail sample corpus in `../shared/corpus/cloudtrail`.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use leastpriv::catalog::Catalog;
use leastpriv::usage::mapping::{EventMapper, Mapped};
use serde_json::Value;

#[test]
fn every_shipped_target_exists_in_the_catalog() {
    // Loading checks every action target, source prefix and conflict, naming the file and entry.
    if let Err(err) = EventMapper::embedded(Catalog::embedded()) {
        panic!("shipped rules do not load: {err}");
    }
}

/// Records of one corpus file, in any of the formats the corpus uses.
fn records(path: &Path) -> Result<Vec<Value>, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut out)
            .map_err(|e| format!("{}: gzip: {e}", path.display()))?;
        out
    } else {
        String::from_utf8(bytes).map_err(|e| format!("{}: {e}", path.display()))?
    };
    let values = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(mut obj)) => match obj.remove("Records") {
            Some(Value::Array(records)) => records,
            _ => vec![Value::Object(obj)],
        },
        Ok(Value::Array(records)) => records,
        Ok(other) => vec![other],
        // Not one JSON document: NDJSON, one record per line (otrf).
        Err(_) => text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line)
                    .map_err(|e| format!("{}: line {}: {e}", path.display(), i + 1))
            })
            .collect::<Result<_, _>>()?,
    };
    // panther-analysis wraps each record as {_panther_rule_file, _test_name, ..., event}.
    Ok(values
        .into_iter()
        .map(|v| match v {
            Value::Object(mut obj) if obj.contains_key("_test_name") => {
                obj.remove("event").unwrap_or(Value::Null)
            }
            other => other,
        })
        .collect())
}

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.ends_with(".json") || name.ends_with(".json.gz")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn corpus_coverage() {
    let Some(dir) = crate::common::corpus_or_skip() else {
        return;
    };
    let mapper = EventMapper::embedded(Catalog::embedded()).unwrap_or_else(|e| panic!("{e}"));

    let (mut total, mut malformed) = (0usize, 0usize);
    let (mut actions, mut no_permission, mut not_iam, mut unmapped) = (0, 0, 0, 0);
    let mut unmapped_pairs: HashMap<(String, String), usize> = HashMap::new();
    let files = corpus_files(&dir);
    assert!(!files.is_empty(), "no corpus files in `{}`", dir.display());
    for file in &files {
        let records = records(file).unwrap_or_else(|e| panic!("{e}"));
        for record in records {
            total += 1;
            let (Some(source), Some(name)) = (
                record.get("eventSource").and_then(Value::as_str),
                record.get("eventName").and_then(Value::as_str),
            ) else {
                // Deliberately invalid fixtures (panther's negative tests).
                malformed += 1;
                continue;
            };
            match mapper.map(source, name) {
                Mapped::Actions(_) => actions += 1,
                Mapped::NoPermission(_) => no_permission += 1,
                Mapped::NotIam => not_iam += 1,
                Mapped::Unmapped => {
                    unmapped += 1;
                    *unmapped_pairs
                        .entry((source.to_owned(), name.to_owned()))
                        .or_default() += 1;
                }
            }
        }
    }

    println!("CloudTrail corpus coverage ({} files)", files.len());
    println!("  records          {total:>5}");
    println!("  malformed        {malformed:>5}  (no eventSource/eventName; skipped)");
    println!("  catalog actions  {actions:>5}");
    println!("  permissionless   {no_permission:>5}");
    println!("  non-IAM          {not_iam:>5}");
    println!("  unmapped         {unmapped:>5}");
    let mut top: Vec<_> = unmapped_pairs.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if !top.is_empty() {
        println!("  top unmapped (source, name):");
        for ((source, name), count) in top.iter().take(25) {
            println!("    {count:>4}  {source}  {name}");
        }
    }

    assert_eq!(
        total,
        malformed + actions + no_permission + not_iam + unmapped,
        "every record is counted once"
    );
    // The corpus is partly hand-edited fixtures with invented pairs (panther's EC2 "bucket" calls),
    // so some stay unmapped on purpose; guard against regressions, not for zero.
    let classified = total - malformed;
    assert!(
        unmapped * 20 <= classified,
        "more than 5% of corpus records are unmapped: {unmapped} of {classified}"
    );
}
