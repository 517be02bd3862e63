//! `last-accessed.json`: IAM Access Advisor per principal, as `pull` writes
//! it. Access Advisor counts attempts, denied ones included, so it can
//! support a verdict but never prove use.

use super::IngestError;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct File {
    principals: HashMap<String, RawPrincipal>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPrincipal {
    #[serde(default)]
    services_last_accessed: Vec<RawService>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawService {
    service_namespace: String,
    last_authenticated: Option<String>,
    last_authenticated_region: Option<String>,
    #[serde(default)]
    tracked_actions_last_accessed: Vec<RawAction>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAction {
    action_name: String,
    last_accessed_time: Option<String>,
    last_accessed_region: Option<String>,
}

/// One service's last access for a principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccess {
    pub namespace: String,
    /// Unix seconds; `None` = not accessed in the tracking period.
    pub last: Option<i64>,
    pub region: Option<String>,
    /// Action-level tracking (a subset of services); empty when untracked.
    pub actions: Vec<ActionAccess>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionAccess {
    /// `service:Action`.
    pub action: String,
    pub last: Option<i64>,
    pub region: Option<String>,
}

/// Access Advisor data by principal ARN.
#[derive(Clone, Debug, Default)]
pub struct AccessAdvisor {
    pub principals: HashMap<String, Vec<ServiceAccess>>,
}

pub fn load(path: &Path) -> Result<AccessAdvisor, IngestError> {
    let bytes = super::read_file(path)?;
    parse(&bytes, path)
}

pub fn parse(bytes: &[u8], path: &Path) -> Result<AccessAdvisor, IngestError> {
    let file: File = super::deserialize(bytes, path)?;
    let time = |s: Option<String>, at: &str| -> Result<Option<i64>, IngestError> {
        match s {
            None => Ok(None),
            Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
                .map(|t| Some(t.timestamp()))
                .map_err(|e| IngestError::Shape {
                    path: path.to_path_buf(),
                    location: at.to_string(),
                    message: format!("invalid time `{s}`: {e}"),
                }),
        }
    };
    let mut out = AccessAdvisor::default();
    for (arn, p) in file.principals {
        let mut services = Vec::new();
        for (i, s) in p.services_last_accessed.into_iter().enumerate() {
            let at = format!("$.Principals[{arn:?}].ServicesLastAccessed[{i}]");
            let mut actions = Vec::new();
            for (j, a) in s.tracked_actions_last_accessed.into_iter().enumerate() {
                actions.push(ActionAccess {
                    action: format!("{}:{}", s.service_namespace, a.action_name),
                    last: time(
                        a.last_accessed_time,
                        &format!("{at}.TrackedActionsLastAccessed[{j}].LastAccessedTime"),
                    )?,
                    region: a.last_accessed_region,
                });
            }
            services.push(ServiceAccess {
                last: time(s.last_authenticated, &format!("{at}.LastAuthenticated"))?,
                namespace: s.service_namespace,
                region: s.last_authenticated_region,
                actions,
            });
        }
        out.principals.insert(arn, services);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_bad_times() {
        let ok = br#"{"Principals":{"arn:aws:iam::1:role/r":{"ServicesLastAccessed":[
            {"ServiceNamespace":"s3","LastAuthenticated":"2026-10-20T10:00:00Z",
             "TrackedActionsLastAccessed":[{"ActionName":"GetObject","LastAccessedTime":"2026-10-20T10:00:00Z"},
                                           {"ActionName":"PutObject"}]}]}}}"#;
        let a = parse(ok, Path::new("la.json")).unwrap();
        let s = &a.principals["arn:aws:iam::1:role/r"][0];
        assert_eq!(s.actions[0].action, "s3:GetObject");
        assert!(s.actions[0].last.is_some() && s.actions[1].last.is_none());
        let bad = br#"{"Principals":{"r":{"ServicesLastAccessed":[{"ServiceNamespace":"s3","LastAuthenticated":"yesterday"}]}}}"#;
        let e = parse(bad, Path::new("la.json")).unwrap_err().to_string();
        assert!(
            e.contains("la.json") && e.contains("LastAuthenticated"),
            "{e}"
        );
    }
}
