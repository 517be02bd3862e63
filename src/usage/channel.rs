//! How a call was made (console, CLI, SDK, infrastructure as code, a service,
//! the AWS MCP server): one channel per record, from the data of
//! `rules/channels.yaml`.
//!
//! Only classifies records; the fold counts the channels per identity, and
//! the rules decide what a channel means for a principal.

use crate::ingest::cloudtrail::RawRecord;
use serde::Deserialize;

pub const EMBEDDED: &str = include_str!("../../rules/channels.yaml");

/// The channel of records that match no rule.
pub const OTHER: &str = "other";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    manual: Vec<String>,
    channels: Vec<RawChannel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    id: String,
    #[serde(default)]
    invoked_by: Vec<String>,
    #[serde(default)]
    invoked_by_any: bool,
    #[serde(default)]
    event_sources: Vec<String>,
    #[serde(default)]
    event_types: Vec<String>,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    from_console: bool,
    #[serde(default)]
    user_agent_exact: Vec<String>,
    #[serde(default)]
    user_agent_prefix: Vec<String>,
    #[serde(default)]
    user_agent_contains: Vec<String>,
}

/// A bad `channels.yaml`.
#[derive(Debug, thiserror::Error)]
#[error("`{file}`: {message}")]
pub struct ChannelError {
    pub file: String,
    pub message: String,
}

/// The channel rules, in order.
#[derive(Debug)]
pub struct Channels {
    rules: Vec<RawChannel>,
    manual: Vec<String>,
    /// The file's text, for the activity store's fingerprint.
    text: String,
}

impl Channels {
    pub fn embedded() -> Self {
        // The shipped file is checked by a unit test; an error here would
        // fail every test run, never a user's.
        Self::from_yaml("rules/channels.yaml", EMBEDDED).unwrap_or_else(|_| Channels {
            rules: Vec::new(),
            manual: Vec::new(),
            text: String::new(),
        })
    }

    pub fn from_yaml(file: &str, text: &str) -> Result<Self, ChannelError> {
        let f: File = yaml_serde::from_str(text).map_err(|e| ChannelError {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let ids: Vec<&str> = f.channels.iter().map(|c| c.id.as_str()).collect();
        for (i, id) in ids.iter().enumerate() {
            if ids[..i].contains(id) || *id == OTHER {
                return Err(ChannelError {
                    file: file.to_string(),
                    message: format!("channel `{id}` is given twice or is reserved"),
                });
            }
        }
        if let Some(m) = f.manual.iter().find(|m| !ids.contains(&m.as_str())) {
            return Err(ChannelError {
                file: file.to_string(),
                message: format!("`manual` names `{m}`, which no channel defines"),
            });
        }
        Ok(Channels {
            rules: f.channels,
            manual: f.manual,
            text: text.to_string(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether calls of this channel are a person's, at a console or a shell.
    pub fn is_manual(&self, channel: &str) -> bool {
        self.manual.iter().any(|m| m == channel)
    }

    /// The channel of one record.
    pub fn of(&self, rec: &RawRecord<'_>) -> &str {
        let invoked_by = rec
            .user_identity
            .as_ref()
            .and_then(|u| u.invoked_by.as_deref());
        let ua = rec.user_agent.as_deref();
        let source = rec.event_source.as_deref().unwrap_or("");
        let name = rec.event_name.as_deref().unwrap_or("");
        let console = rec
            .session_credential_from_console
            .is_some_and(|v| v.trim_matches('"').eq_ignore_ascii_case("true"));
        for c in &self.rules {
            let hit = invoked_by.is_some_and(|i| c.invoked_by.iter().any(|x| x == i))
                || (c.invoked_by_any && invoked_by.is_some())
                || c.event_sources.iter().any(|x| x == source)
                || rec
                    .event_type
                    .as_deref()
                    .is_some_and(|t| c.event_types.iter().any(|x| x == t))
                || c.events.iter().any(|e| {
                    e.split_once(':')
                        .is_some_and(|(s, n)| s == source && n == name)
                })
                || (c.from_console && console)
                || ua.is_some_and(|ua| {
                    c.user_agent_exact.iter().any(|x| x == ua)
                        || c.user_agent_prefix
                            .iter()
                            .any(|x| ua.starts_with(x.as_str()))
                        || c.user_agent_contains
                            .iter()
                            .any(|x| ua.contains(x.as_str()))
                });
            if hit {
                return &c.id;
            }
        }
        OTHER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(json: &str) -> String {
        let r: RawRecord = serde_json::from_str(json).unwrap();
        Channels::embedded().of(&r).to_string()
    }

    #[test]
    fn the_shipped_rules_parse_and_name_the_usual_channels() {
        Channels::from_yaml("rules/channels.yaml", EMBEDDED).unwrap();
        assert_eq!(
            channel(r#"{"userAgent":"aws-cli/2.18.4 md/Botocore#1.35 ua/2.0"}"#),
            "cli"
        );
        assert_eq!(
            channel(r#"{"userAgent":"aws-cli/2.18.4","sessionCredentialFromConsole":"true"}"#),
            "console"
        );
        assert_eq!(
            channel(r#"{"userAgent":"console.amazonaws.com"}"#),
            "console"
        );
        assert_eq!(
            channel(
                r#"{"userAgent":"aws-cli/2.17.50 md/awscrt#0.21.2 ua/2.0 exec-env/Jenkins command/s3.cp"}"#
            ),
            "ci"
        );
        assert_eq!(
            channel(
                r#"{"userAgent":"APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) aws-sdk-go-v2/1.32"}"#
            ),
            "iac"
        );
        assert_eq!(
            channel(r#"{"userAgent":"Boto3/1.35.0 md/Botocore#1.35.0"}"#),
            "sdk"
        );
        assert_eq!(
            channel(
                r#"{"userIdentity":{"invokedBy":"aws-mcp.amazonaws.com"},"userAgent":"aws-mcp.amazonaws.com"}"#
            ),
            "mcp"
        );
        assert_eq!(
            channel(r#"{"eventSource":"signin.amazonaws.com","eventName":"CreateOAuth2Token"}"#),
            "mcp"
        );
        assert_eq!(
            channel(r#"{"userIdentity":{"invokedBy":"secretsmanager.amazonaws.com"}}"#),
            "service"
        );
        assert_eq!(channel(r#"{"userAgent":"curl/8"}"#), OTHER);
        assert_eq!(channel("{}"), OTHER);
        assert!(Channels::embedded().is_manual("console"));
        assert!(!Channels::embedded().is_manual("iac"));
    }

    #[test]
    fn unknown_fields_and_unknown_manual_channels_are_errors() {
        let typo = EMBEDDED.replace("user_agent_prefix:", "user_agent_prefx:");
        assert!(Channels::from_yaml("c.yaml", &typo)
            .unwrap_err()
            .to_string()
            .contains("c.yaml"));
        let bad = EMBEDDED.replace("manual: [console, cli]", "manual: [console, shell]");
        assert!(Channels::from_yaml("c.yaml", &bad)
            .unwrap_err()
            .to_string()
            .contains("shell"));
    }
}
