//! The session chains of an account whose activity Amazon Athena
//! aggregated (`pull --athena`): `sessions.json` beside the activity store.
//!
//! The activity store keeps calls per principal, not per session key, so it
//! cannot link sessions. `pull --athena` runs two more queries, and this
//! file keeps what they return, as evidence rather than as conclusions:
//!
//! - `issued`: each successful `AssumeRole*` call, as a CloudTrail record
//!   reduced to the fields the chain reads (the caller's identity and key,
//!   the request's role, session name, source identity and session tags,
//!   the response's issued access key id and subject). Never the request's
//!   `externalId`, `tokenCode` or `policy`, never the response's
//!   `sessionToken`: the query selects named JSON paths only. The audit
//!   reads each one through [`SessionChains::note_issue`], as a record of a
//!   log file.
//! - `used`: what each role session did, one row per session key × event ×
//!   error code, with its count and first and last times. The audit maps
//!   events to actions and error codes to outcomes with its own rules, so
//!   the file does not go stale when the mapping rules change.
//!
//! This module reads and writes the file; it knows nothing of Athena or of
//! the audit that merges the chains.

use super::attribution::attribute;
use super::chains::SessionChains;
use super::mapping::EventMapper;
use crate::ingest::cloudtrail::{RawIdentity, RawIssuer, RawOnBehalfOf, RawRecord, RawSession};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The file's name in an account snapshot.
pub const FILE: &str = "sessions.json";
/// The version of its layout (fields are only ever added).
pub const FORMAT: &str = "leastpriv.sessions/v1";

/// What one role session (one access key) did with one event and error
/// code, from the records signed with its key.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UseRow {
    /// `userIdentity.accessKeyId`.
    pub access_key_id: String,
    /// `userIdentity.arn`: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// `userIdentity.sessionContext.sessionIssuer.arn`: the role, with its path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// `userIdentity.onBehalfOf.userId` and `.identityStoreArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_store_arn: Option<String>,
    pub event_source: String,
    pub event_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub count: u64,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub first_seen: String,
    pub last_seen: String,
}

/// `sessions.json` as the pull writes it.
#[derive(Debug, serde::Serialize)]
pub struct SessionsOut {
    pub format: &'static str,
    pub account: String,
    /// The window of `used` (the activity store's).
    pub since: String,
    pub until: String,
    /// `issued` starts this much earlier: a key issued before the window
    /// (a role session lasts up to 12 hours) still signs calls in it.
    pub issued_since: String,
    /// CloudTrail records reduced to the fields the chain reads.
    pub issued: Vec<serde_json::Value>,
    pub used: Vec<UseRow>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsIn {
    format: String,
    account: String,
    since: String,
    until: String,
    issued_since: String,
    issued: Vec<Box<RawValue>>,
    used: Vec<UseRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChainStoreError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A `sessions.json`, checked: its window, and chains ready to merge.
#[derive(Debug, Default)]
pub struct Loaded {
    pub account: String,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub chains: SessionChains,
}

/// Reads `path` into session chains: the `issued` records through the same
/// parser as log files, the `used` rows mapped by `mapper` (events to
/// actions, error codes to outcomes). `keep` says which sessions' use to
/// take, by the role's ARN: an organization audit takes each member
/// account's sessions from that account's file only, as it does their
/// activity, so that a call across accounts (delivered to both) counts once.
pub fn load(
    path: &Path,
    mapper: &EventMapper,
    keep: impl Fn(&str) -> bool,
) -> Result<Loaded, ChainStoreError> {
    let invalid = |message: String| ChainStoreError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| ChainStoreError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: SessionsIn = serde_json::from_str(&text)
        .map_err(|e| invalid(format!("line {}, column {}: {e}", e.line(), e.column())))?;
    if file.format != FORMAT {
        return Err(invalid(format!(
            "`format` is `{}`, this version reads `{FORMAT}`",
            file.format
        )));
    }
    let time = |what: &str, v: &str| {
        crate::util::parse_time(v).ok_or_else(|| invalid(format!("`{what}`: `{v}` is not a time")))
    };
    let since = time("since", &file.since)?;
    let until = time("until", &file.until)?;
    time("issued_since", &file.issued_since)?;
    let mut chains = SessionChains::default();
    for (i, raw) in file.issued.iter().enumerate() {
        let rec: RawRecord<'_> =
            serde_json::from_str(raw.get()).map_err(|e| invalid(format!("`issued[{i}]`: {e}")))?;
        let t = rec.event_time.as_deref().unwrap_or_default();
        let t = crate::util::parse_time(t)
            .ok_or_else(|| invalid(format!("`issued[{i}].eventTime`: `{t}` is not a time")))?;
        chains.note_issue(&rec, t);
    }
    for (i, u) in file.used.iter().enumerate() {
        let at = |what: &str, v: &str| {
            crate::util::parse_time(v)
                .ok_or_else(|| invalid(format!("`used[{i}].{what}`: `{v}` is not a time")))
        };
        let (first, last) = (
            at("firstSeen", &u.first_seen)?,
            at("lastSeen", &u.last_seen)?,
        );
        if u.access_key_id.is_empty() || !u.arn.contains(":assumed-role/") {
            return Err(invalid(format!(
                "`used[{i}]`: a role session's call needs its `accessKeyId` and its \
                 `assumed-role` ARN (found `{}`)",
                u.arn
            )));
        }
        fn c(v: &Option<String>) -> Option<Cow<'_, str>> {
            v.as_deref().map(Cow::Borrowed)
        }
        // Attributed as the record would be, so the session's role (with
        // its path), name and person are those of the log files' chains.
        let id = RawIdentity {
            kind: Some(Cow::Borrowed("AssumedRole")),
            arn: Some(Cow::Borrowed(&u.arn)),
            access_key_id: Some(Cow::Borrowed(&u.access_key_id)),
            session_context: Some(RawSession {
                session_issuer: Some(RawIssuer {
                    kind: Some(Cow::Borrowed("Role")),
                    arn: c(&u.issuer),
                    user_name: None,
                }),
                source_identity: c(&u.source_identity),
            }),
            on_behalf_of: u.on_behalf_of_user_id.as_ref().map(|user| RawOnBehalfOf {
                user_id: Some(Cow::Borrowed(user)),
                identity_store_arn: c(&u.identity_store_arn),
                ..RawOnBehalfOf::default()
            }),
            ..RawIdentity::default()
        };
        let Some(actor) = attribute(&id) else {
            continue;
        };
        if !keep(&actor.arn) {
            continue;
        }
        let mapped = mapper.map_ref(&u.event_source, &u.event_name);
        let outcome = mapper
            .error_codes()
            .classify(&u.event_source, u.error_code.as_deref(), None)
            .outcome;
        chains.note_uses(
            &u.access_key_id,
            &actor,
            mapped,
            outcome,
            u.count,
            first,
            last,
            // Rows Athena already aggregated per session × action: small
            // beside the log path's maps, and `who` reads them.
            true,
        );
    }
    Ok(Loaded {
        account: file.account,
        since: Some(since),
        until: Some(until),
        chains,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Loaded, ChainStoreError> {
        let cat = crate::catalog::Catalog::embedded();
        let mapper = EventMapper::embedded(cat).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(FILE);
        std::fs::write(&path, text).unwrap();
        load(&path, &mapper, |_| true)
    }

    fn file(issued: &str, used: &str) -> String {
        format!(
            r#"{{"format":"{FORMAT}","account":"111122223333","since":"2026-10-01T00:00:00Z",
            "until":"2026-10-31T23:59:59Z","issued_since":"2026-09-30T12:00:00Z",
            "issued":[{issued}],"used":[{used}]}}"#
        )
    }

    const USE: &str = r#"{"accessKeyId":"ASIAX","arn":"arn:aws:sts::111122223333:assumed-role/app/s1",
        "issuer":"arn:aws:iam::111122223333:role/app","eventSource":"s3.amazonaws.com",
        "eventName":"ListBuckets","errorCode":"AccessDenied","count":2,
        "firstSeen":"2026-10-02T00:00:00Z","lastSeen":"2026-10-03T00:00:00Z"}"#;

    #[test]
    fn a_use_row_is_mapped_with_its_outcome() {
        let l = load_text(&file("", USE)).unwrap();
        let u = &l.chains.used["ASIAX"];
        assert_eq!(&*u.role, "arn:aws:iam::111122223333:role/app");
        assert_eq!(&*u.session, "s1");
        assert_eq!(u.records, 2);
        assert_eq!(u.actions.len(), 1);
        assert_eq!(u.actions[0].outcome, crate::usage::Outcome::Denied);
    }

    #[test]
    fn bad_input_names_the_file_and_the_place() {
        let err = |text: &str| load_text(text).unwrap_err().to_string();
        let e = err("{\"format\": 3");
        assert!(e.contains("sessions.json`: line 1, column"), "{e}");
        let e = err(&file("", USE).replace(FORMAT, "leastpriv.sessions/v9"));
        assert!(e.contains("`format` is `leastpriv.sessions/v9`"), "{e}");
        let e = err(&file("", &USE.replace("2026-10-03T00:00:00Z", "yesterday")));
        assert!(
            e.contains("`used[0].lastSeen`: `yesterday` is not a time"),
            "{e}"
        );
        let e = err(&file(
            r#"{"eventTime":"later","eventName":"AssumeRole"}"#,
            "",
        ));
        assert!(
            e.contains("`issued[0].eventTime`: `later` is not a time"),
            "{e}"
        );
        let e = err(&file("", &USE.replace("\"count\"", "\"cuont\"")));
        assert!(e.contains("unknown field `cuont`"), "{e}");
        let e = err(&file("", &USE.replace("assumed-role/app/s1", "user/bob")));
        assert!(e.contains("`used[0]`: a role session's call"), "{e}");
    }
}
