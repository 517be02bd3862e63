//! Where each policy statement sits in an authorization-details file (line
//! and column), so that SARIF results point at the statement that grants a
//! finding's actions.
//!
//! Built only when a SARIF report is written, from the file's text: the
//! document is read once more with every policy document kept as raw text
//! borrowed from the file, and a borrowed slice's address gives its offset.
//! A URL-encoded document (the raw API form) is one JSON string: its
//! statements have no place of their own, so they point at the document.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// Which policy a statement belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKey {
    /// An inline policy of a `user`, `role` or `group`.
    Inline {
        holder_kind: &'static str,
        holder: String,
        policy: String,
    },
    /// A version of a managed policy.
    Managed { arn: String, version: String },
}

/// A 1-based line and column (UTF-16 code units, SARIF's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// The statements' offsets of one file.
pub struct StatementIndex<'t> {
    text: &'t str,
    /// Per policy: the offset of each statement, or of the whole document
    /// when it has no statement list of its own in the file.
    policies: HashMap<PolicyKey, Located>,
    /// Offsets at which lines start.
    line_starts: Vec<usize>,
}

enum Located {
    Statements(Vec<usize>),
    Document(usize),
}

#[derive(Deserialize)]
struct Root<'a> {
    #[serde(borrow, default, rename = "UserDetailList")]
    users: Vec<Entity<'a>>,
    #[serde(borrow, default, rename = "RoleDetailList")]
    roles: Vec<Entity<'a>>,
    #[serde(borrow, default, rename = "GroupDetailList")]
    groups: Vec<Entity<'a>>,
    #[serde(borrow, default, rename = "Policies")]
    policies: Vec<Managed<'a>>,
}

#[derive(Deserialize)]
struct Entity<'a> {
    #[serde(default, alias = "UserName", alias = "RoleName", alias = "GroupName")]
    name: Option<String>,
    #[serde(
        borrow,
        default,
        alias = "UserPolicyList",
        alias = "RolePolicyList",
        alias = "GroupPolicyList"
    )]
    inline: Vec<Inline<'a>>,
}

#[derive(Deserialize)]
struct Inline<'a> {
    #[serde(rename = "PolicyName")]
    name: String,
    #[serde(borrow, rename = "PolicyDocument")]
    document: &'a RawValue,
}

#[derive(Deserialize)]
struct Managed<'a> {
    #[serde(rename = "Arn")]
    arn: String,
    #[serde(borrow, default, rename = "PolicyVersionList")]
    versions: Vec<Version<'a>>,
}

#[derive(Deserialize)]
struct Version<'a> {
    #[serde(default, rename = "VersionId")]
    id: Option<String>,
    #[serde(borrow, rename = "Document")]
    document: &'a RawValue,
}

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow, default, rename = "Statement")]
    statement: Option<&'a RawValue>,
}

impl<'t> StatementIndex<'t> {
    /// Indexes a file the audit has already read; `None` if it does not parse
    /// (the audit would have stopped on it: nothing to point at).
    pub fn new(text: &'t str) -> Option<StatementIndex<'t>> {
        let root: Root = serde_json::from_str(text).ok()?;
        let offset = |raw: &RawValue| raw.get().as_ptr() as usize - text.as_ptr() as usize;
        let locate = |doc: &RawValue| -> Located {
            let start = offset(doc);
            let Ok(d) = serde_json::from_str::<Document>(doc.get()) else {
                return Located::Document(start);
            };
            let Some(st) = d.statement else {
                return Located::Document(start);
            };
            match serde_json::from_str::<Vec<&RawValue>>(st.get()) {
                Ok(list) => Located::Statements(list.iter().map(|r| offset(r)).collect()),
                Err(_) => Located::Statements(vec![offset(st)]),
            }
        };
        let mut policies = HashMap::new();
        for (kind, list) in [
            ("user", &root.users),
            ("role", &root.roles),
            ("group", &root.groups),
        ] {
            for e in list {
                let Some(holder) = &e.name else { continue };
                for p in &e.inline {
                    policies.insert(
                        PolicyKey::Inline {
                            holder_kind: kind,
                            holder: holder.clone(),
                            policy: p.name.clone(),
                        },
                        locate(p.document),
                    );
                }
            }
        }
        for m in &root.policies {
            for v in &m.versions {
                policies.insert(
                    PolicyKey::Managed {
                        arn: m.arn.clone(),
                        version: v.id.clone().unwrap_or_default(),
                    },
                    locate(v.document),
                );
            }
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Some(StatementIndex {
            text,
            policies,
            line_starts,
        })
    }

    /// Where statement `index` of the policy starts.
    pub fn position(&self, key: &PolicyKey, index: usize) -> Option<Position> {
        let at = match self.policies.get(key)? {
            Located::Statements(v) => *v.get(index)?,
            Located::Document(d) => *d,
        };
        let line = self.line_starts.partition_point(|&s| s <= at);
        let start = self.line_starts.get(line.checked_sub(1)?).copied()?;
        let column = self.text.get(start..at)?.encode_utf16().count() + 1;
        Some(Position {
            line: u32::try_from(line).ok()?,
            column: u32::try_from(column).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_found_where_they_are_written() {
        let text = r#"{
  "UserDetailList": [{"UserName": "alice", "UserPolicyList": [
    {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
      {"Sid": "First", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Sid": "Ünï", "Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}}]}],
  "RoleDetailList": [{"RoleName": "r", "RolePolicyList": [
    {"PolicyName": "one", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}}]}],
  "Policies": [{"Arn": "arn:aws:iam::1:policy/m", "PolicyVersionList": [
    {"VersionId": "v1", "Document": "%7B%22Statement%22%3A%5B%5D%7D"}]}]
}"#;
        let idx = StatementIndex::new(text).unwrap();
        let inline = |kind, holder: &str, policy: &str| PolicyKey::Inline {
            holder_kind: kind,
            holder: holder.into(),
            policy: policy.into(),
        };
        assert_eq!(
            idx.position(&inline("user", "alice", "p"), 0),
            Some(Position { line: 4, column: 7 })
        );
        assert_eq!(
            idx.position(&inline("user", "alice", "p"), 1),
            Some(Position { line: 5, column: 7 })
        );
        assert_eq!(idx.position(&inline("user", "alice", "p"), 2), None);
        // A single statement object.
        assert_eq!(
            idx.position(&inline("role", "r", "one"), 0),
            Some(Position {
                line: 7,
                column: 59
            })
        );
        // URL-encoded: the document itself.
        let m = PolicyKey::Managed {
            arn: "arn:aws:iam::1:policy/m".into(),
            version: "v1".into(),
        };
        assert_eq!(
            idx.position(&m, 3),
            Some(Position {
                line: 9,
                column: 37
            })
        );
        assert_eq!(idx.position(&inline("group", "g", "x"), 0), None);
    }
}
