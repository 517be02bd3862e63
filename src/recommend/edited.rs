//! The policies a reviewer is about to merge: `recommend --check --policies
//! DIR` reads the `NAME.json` of every recommendation from the directory
//! `recommend --out DIR` wrote ([`super::layout`]), as edited since, and
//! proves each in place of the generated document ([`proof::prove_document`]):
//! same context, same use, same grant of today. Only the IAM policy JSON is
//! read: the `.tf` and `.diff.md` are derived from it.
//!
//! What cannot be proved is an error, never a silent pass: a file that is
//! not JSON (line and column), a document IAM would refuse (the JSON path,
//! and the line of its statement), a `.json` file no recommendation of this
//! run is written to (a renamed file or principal, another snapshot, other
//! options). A recommendation whose file is absent is reported apart: the
//! reviewer left the principal's policies as they are, which changes nothing.
//!
//! May not: print, exit or write; the caller decides what is an error.

use super::{layout, proof, Options, Recommendation, UnitKind};
use crate::audit::Audit;
use crate::ingest::policy_json::{parse_document, PolicyError};
use crate::model::{ActionSpec, PolicyDocument, ResourceSpec};
use crate::policy::grants::Expander;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A policy file that cannot be proved. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum PolicyFileError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}`: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{path}`: {}not a valid IAM policy: at `{location}`: {message}", place(*.line, *.column))]
    Policy {
        path: PathBuf,
        /// Where the statement in question starts, when the error is in one.
        line: Option<usize>,
        column: Option<usize>,
        location: String,
        message: String,
    },
    #[error("`{path}`: no recommendation of this run is written to this file ({hint})")]
    Unmatched { path: PathBuf, hint: String },
}

fn place(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        _ => String::new(),
    }
}

/// The proof of one policy file.
#[derive(Debug)]
pub struct FileProof {
    /// The file, under the directory given.
    pub path: PathBuf,
    /// Index of its recommendation in the list given.
    pub rec: usize,
    /// `None` when the audit does not hold the principal (as for the
    /// generated document: nothing to evaluate it against).
    pub proof: Option<proof::Proof>,
}

/// Every policy file of a directory, proved or refused.
#[derive(Debug, Default)]
pub struct Checked {
    /// Files read and proved, in the order of the recommendations.
    pub files: Vec<FileProof>,
    /// Files that could not be proved, by path.
    pub errors: Vec<PolicyFileError>,
    /// Recommendations with no file: (recommendation index, the file
    /// expected). Their principals' policies stay as they are today.
    pub missing: Vec<(usize, PathBuf)>,
}

impl Checked {
    pub fn failed(&self) -> impl Iterator<Item = &FileProof> {
        self.files
            .iter()
            .filter(|f| f.proof.as_ref().is_some_and(|p| !p.passed))
    }
}

/// Reads the policy files under `dir` and proves each against its
/// recommendation of `recs` (made by `recommend_with(audit, opts)`).
/// Errors only when `dir` itself cannot be read; a file's problem is in
/// [`Checked::errors`].
pub fn check_dir(
    audit: &Audit,
    recs: &[Recommendation],
    opts: &Options,
    dir: &Path,
) -> Result<Checked, PolicyFileError> {
    use rayon::prelude::*;
    let meta = std::fs::metadata(dir).map_err(|source| PolicyFileError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(PolicyFileError::Read {
            path: dir.to_path_buf(),
            source: std::io::Error::other("not a directory"),
        });
    }
    let expected: Vec<PathBuf> = layout(recs)
        .into_iter()
        .map(|stem| {
            let mut p = stem.into_os_string();
            p.push(".json");
            PathBuf::from(p)
        })
        .collect();
    let mut by_path: HashMap<&Path, usize> = HashMap::new();
    for (i, p) in expected.iter().enumerate() {
        by_path.insert(p.as_path(), i);
    }
    let mut checked = Checked::default();
    let mut found: Vec<(usize, PathBuf)> = Vec::new();
    let mut seen = vec![false; recs.len()];
    // Hidden entries (`.git`, `.terraform`) are not ours.
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        let entry = entry.map_err(|e| PolicyFileError::Read {
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e.into(),
        })?;
        if !entry.file_type().is_file()
            || entry.path().extension().and_then(|x| x.to_str()) != Some("json")
        {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        match by_path.get(rel) {
            Some(&i) => {
                seen[i] = true;
                found.push((i, entry.path().to_path_buf()));
            }
            None => checked.errors.push(PolicyFileError::Unmatched {
                path: entry.path().to_path_buf(),
                hint: unmatched_hint(audit, recs, opts, rel),
            }),
        }
    }
    for (i, s) in seen.iter().enumerate() {
        if !s {
            checked.missing.push((i, dir.join(&expected[i])));
        }
    }
    found.sort();
    let index = proof::Index::new(audit);
    let results: Vec<Result<FileProof, PolicyFileError>> = found
        .into_par_iter()
        .map_init(
            || Expander::new(audit.catalog),
            |ex, (i, path)| {
                let doc = read_policy(&path)?;
                Ok(FileProof {
                    proof: proof::prove_document(audit, &index, ex, &recs[i], &doc),
                    path,
                    rec: i,
                })
            },
        )
        .collect();
    for r in results {
        match r {
            Ok(f) => checked.files.push(f),
            Err(e) => checked.errors.push(e),
        }
    }
    checked
        .errors
        .sort_by(|a, b| error_path(a).cmp(error_path(b)));
    Ok(checked)
}

fn error_path(e: &PolicyFileError) -> &Path {
    match e {
        PolicyFileError::Read { path, .. }
        | PolicyFileError::Json { path, .. }
        | PolicyFileError::Policy { path, .. }
        | PolicyFileError::Unmatched { path, .. } => path,
    }
}

/// Why no recommendation is written to `rel`, as far as the path says.
fn unmatched_hint(audit: &Audit, recs: &[Recommendation], opts: &Options, rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let first = parts.first().map(String::as_str).unwrap_or("");
    if first == UnitKind::RoleGroup.as_str() && !opts.group_by_name {
        return "role groups are recommended with `--group-by-name` only".into();
    }
    if first == UnitKind::PermissionSet.as_str() && audit.identity_center.is_none() {
        return "permission sets are recommended with the snapshot's `identity-center.json` only"
            .into();
    }
    let per_account = super::per_account(recs);
    if first.len() == 12 && first.bytes().all(|b| b.is_ascii_digit()) {
        if !per_account {
            return format!(
                "the recommendations of this run are not per account: run with the snapshot and `--account` options that wrote `{first}/`"
            );
        }
        if !audit.accounts.contains(first) {
            return format!("account `{first}` is not in this audit");
        }
    } else if per_account && ["role", "user", "group"].contains(&first) {
        return "the recommendations of this run are per account (`ACCOUNT/role/NAME.json`): run with the snapshot and `--account` options that wrote this directory".into();
    }
    "no principal, group or unit of the snapshot has this name: renamed, removed since, or written from another snapshot".into()
}

/// Reads a policy file and checks it as IAM would before accepting it.
pub fn read_policy(path: &Path) -> Result<Value, PolicyFileError> {
    let bytes = std::fs::read(path).map_err(|source| PolicyFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        let message = e.to_string();
        PolicyFileError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: match message.rfind(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            },
        }
    })?;
    let invalid = |e: PolicyError| {
        let at = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| statement_position(text, &e.location));
        PolicyFileError::Policy {
            path: path.to_path_buf(),
            line: at.map(|p| p.0),
            column: at.map(|p| p.1),
            location: e.location,
            message: e.message,
        }
    };
    let doc = parse_document(&value, "$").map_err(invalid)?;
    identity_policy_rules(&value, &doc).map_err(invalid)?;
    Ok(value)
}

/// What IAM refuses in an identity-based policy that our parser, which
/// also reads resource policies, lets through (`MalformedPolicyDocument`).
fn identity_policy_rules(value: &Value, doc: &PolicyDocument) -> Result<(), PolicyError> {
    let err = |location: String, message: &str| PolicyError {
        location,
        message: message.to_string(),
    };
    if let Some(v) = doc.version.as_deref() {
        if v != "2012-10-17" && v != "2008-10-17" {
            return Err(err(
                "$.Version".into(),
                "must be `2012-10-17` (or the older `2008-10-17`)",
            ));
        }
    }
    let single = value.get("Statement").is_some_and(Value::is_object);
    for st in &doc.statements {
        let at = if single {
            "$.Statement".to_string()
        } else {
            format!("$.Statement[{}]", st.index)
        };
        let raw = if single {
            value.get("Statement")
        } else {
            value.get("Statement").and_then(|s| s.get(st.index))
        };
        if raw.is_some_and(|r| r.get("Principal").is_some() || r.get("NotPrincipal").is_some()) {
            return Err(err(
                at,
                "an identity-based policy may not name a `Principal` or `NotPrincipal`",
            ));
        }
        if matches!(st.resources, ResourceSpec::None) {
            return Err(err(
                at,
                "statement has neither `Resource` nor `NotResource`",
            ));
        }
        let actions = match &st.actions {
            ActionSpec::Action(a) | ActionSpec::NotAction(a) => a,
        };
        if let Some(a) = actions.iter().find(|a| *a != "*" && !a.contains(':')) {
            return Err(err(
                at,
                &format!("action `{a}` is not `service:action` (or `*`)"),
            ));
        }
    }
    Ok(())
}

/// The line and column (1-based) where the statement a JSON path such as
/// `$.Statement[2].Effect` points into starts, in the file's text.
fn statement_position(text: &str, location: &str) -> Option<(usize, usize)> {
    #[derive(Deserialize)]
    struct Doc<'a> {
        #[serde(borrow, rename = "Statement")]
        statement: Option<&'a RawValue>,
    }
    let rest = location.strip_prefix("$.Statement")?;
    let doc: Doc = serde_json::from_str(text).ok()?;
    let statement = doc.statement?;
    let raw = match rest.strip_prefix('[') {
        Some(idx) => {
            let i: usize = idx.split(']').next()?.parse().ok()?;
            let list: Vec<&RawValue> = serde_json::from_str(statement.get()).ok()?;
            *list.get(i)?
        }
        None => statement,
    };
    let offset = (raw.get().as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    if offset > text.len() {
        return None;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let (_d, p) = write("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}\n");
        let e = read_policy(&p).unwrap_err();
        let PolicyFileError::Json { line, column, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((*line, *column), (4, 24), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("x.json`: invalid JSON at line 4, column 24: "),
            "{msg}"
        );
        assert!(!msg.contains(" at line 4 column"), "{msg}");
    }

    #[test]
    fn an_invalid_statement_names_its_path_and_line() {
        let (_d, p) = write(
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"},\n    {\"Effect\": \"Perhaps\", \"Action\": \"s3:*\", \"Resource\": \"*\"}\n  ]\n}\n",
        );
        let e = read_policy(&p).unwrap_err().to_string();
        assert!(
            e.contains("line 5, column 5: not a valid IAM policy: at `$.Statement[1].Effect`: must be `Allow` or `Deny`"),
            "{e}"
        );
    }

    #[test]
    fn what_iam_refuses_in_an_identity_policy_is_invalid() {
        for (doc, want) in [
            (
                r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}}"#,
                "at `$.Statement`: an identity-based policy may not name a `Principal`",
            ),
            (
                r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}"#,
                "line 1, column 16: not a valid IAM policy: at `$.Statement[0]`: statement has neither `Resource` nor `NotResource`",
            ),
            (
                r#"{"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]}"#,
                "action `GetObject` is not `service:action`",
            ),
            (
                r#"{"Version": "2012-10-18", "Statement": []}"#,
                "at `$.Version`: must be `2012-10-17`",
            ),
            (r#"[]"#, "at `$`: policy document must be a JSON object"),
        ] {
            let (_d, p) = write(doc);
            let e = read_policy(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{doc}: {e}");
        }
        let (_d, p) = write(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotAction": "s3:*", "NotResource": "arn:aws:s3:::b/*"}, {"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
        );
        assert!(read_policy(&p).is_ok());
    }
}
