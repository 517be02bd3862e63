//! Human, NPE or agent: which kind of identity a principal is, and why.
//! The signals and their order are data (`rules/classify.yaml`).

use crate::catalog::wildcard_match;
use crate::config::Override;
use crate::ingest::credential_report::CredentialRow;
use crate::model::{Effect, Kind, Principal, PrincipalElement, PrincipalType};
use crate::usage::ActorActivity;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trust {
    agent_services: Vec<String>,
    npe_services: Vec<String>,
    npe_oidc_providers: Vec<String>,
    saml_is_human: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityCenter {
    role_name_patterns: Vec<String>,
    path_patterns: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    user: Kind,
    role: Kind,
}

/// The classification rules.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classifier {
    pub overrides: Vec<Override>,
    tag_keys: Vec<String>,
    trust: Trust,
    identity_center: IdentityCenter,
    signin_events: Vec<String>,
    /// Condition keys of agent and workload identity: a trust or identity
    /// policy that conditions on one is written for agents.
    agent_condition_keys: Vec<String>,
    /// Channels (`rules/channels.yaml`) whose share of a principal's calls
    /// makes it an agent when no structural signal decides.
    agent_channels: Vec<AgentChannel>,
    default: Defaults,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentChannel {
    channel: String,
    min_share: f64,
}

/// A bad classification file.
#[derive(Debug, thiserror::Error)]
#[error("`{file}`: {message}")]
pub struct ClassifyError {
    pub file: String,
    pub message: String,
}

pub const EMBEDDED: &str = include_str!("../../rules/classify.yaml");

/// Everything known about a principal that can tell its kind.
pub struct Facts<'a> {
    pub principal: &'a Principal,
    pub credentials: Option<&'a CredentialRow>,
    pub activity: Option<&'a ActorActivity>,
    /// Roles: what the AssumeRole calls for it asked for.
    pub sessions: Option<&'a crate::usage::SessionsGranted>,
}

impl Classifier {
    pub fn embedded() -> Result<Classifier, ClassifyError> {
        Self::from_yaml("rules/classify.yaml", EMBEDDED)
    }

    pub fn from_yaml(file: &str, text: &str) -> Result<Classifier, ClassifyError> {
        yaml_serde::from_str(text).map_err(|e| ClassifyError {
            file: file.to_string(),
            message: e.to_string(),
        })
    }

    /// The kind of a principal and the evidence for it, in words. When the
    /// kind is not agent but some of its calls came through an agent
    /// channel, the reason says so.
    pub fn classify(&self, ev: &Facts) -> (Kind, String) {
        let (kind, mut why) = self.kind_of(ev);
        if kind != Kind::Agent {
            if let Some(a) = ev.activity {
                for c in &self.agent_channels {
                    if let Some(&n) = a.channels.get(&c.channel) {
                        why.push_str(&format!(
                            "; {n} of {} call(s) through channel `{}` (agent-driven sessions)",
                            a.records, c.channel
                        ));
                    }
                }
            }
        }
        (kind, why)
    }

    fn kind_of(&self, ev: &Facts) -> (Kind, String) {
        let p = ev.principal;
        if let Some(o) = self
            .overrides
            .iter()
            .find(|o| wildcard_match(&o.arn, &p.arn))
        {
            return (o.kind, format!("override: ARN matches `{}`", o.arn));
        }
        for key in &self.tag_keys {
            if let Some((k, v)) = p.tags.iter().find(|(k, _)| k == key) {
                if let Some(kind) = Kind::parse(v) {
                    return (kind, format!("tag `{k}` = `{v}`"));
                }
            }
        }
        if let Some(trust) = &p.trust_policy {
            let trusted = trusted_principals(trust);
            if let Some(s) = trusted.services.iter().find(|s| {
                self.trust
                    .agent_services
                    .iter()
                    .any(|a| wildcard_match(a, s))
            }) {
                return (
                    Kind::Agent,
                    format!("trust policy lets `{s}` assume the role"),
                );
            }
            if let Some((key, at)) = self.agent_condition(p) {
                return (
                    Kind::Agent,
                    format!("{at} conditions on the agent identity key `{key}`"),
                );
            }
            if self.trust.saml_is_human {
                if let Some(f) = trusted
                    .federated
                    .iter()
                    .find(|f| f.contains(":saml-provider/"))
                {
                    return (
                        Kind::Human,
                        format!("trust policy allows SAML federation through `{f}`"),
                    );
                }
            }
            if let Some(f) = trusted.federated.iter().find(|f| {
                let host = f.split(":oidc-provider/").nth(1).unwrap_or(f);
                self.trust
                    .npe_oidc_providers
                    .iter()
                    .any(|p| wildcard_match(p, host))
            }) {
                return (
                    Kind::Npe,
                    format!("trust policy allows the workload identity provider `{f}`"),
                );
            }
            if let Some(s) = trusted
                .services
                .iter()
                .find(|s| self.trust.npe_services.iter().any(|a| wildcard_match(a, s)))
            {
                return (
                    Kind::Npe,
                    format!("trust policy lets the compute service `{s}` assume the role"),
                );
            }
        }
        if p.trust_policy.is_none() {
            if let Some((key, at)) = self.agent_condition(p) {
                return (
                    Kind::Agent,
                    format!("{at} conditions on the agent identity key `{key}`"),
                );
            }
        }
        if let Some(w) = ev.sessions.filter(|s| !s.workloads.is_empty()) {
            return (
                Kind::Agent,
                format!(
                    "AssumeRole started its sessions on behalf of workload identit(y/ies) {}",
                    w.workloads
                        .keys()
                        .take(3)
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if p.principal_type == PrincipalType::Role {
            if let Some(pat) = self
                .identity_center
                .role_name_patterns
                .iter()
                .find(|pat| wildcard_match(pat, &p.name))
            {
                return (
                    Kind::Human,
                    format!("Identity Center role (name matches `{pat}`)"),
                );
            }
            if let Some(pat) = self
                .identity_center
                .path_patterns
                .iter()
                .find(|pat| wildcard_match(pat, &p.path))
            {
                return (
                    Kind::Human,
                    format!("Identity Center role (path matches `{pat}`)"),
                );
            }
        }
        if let Some(a) = ev.activity.filter(|a| a.records > 0) {
            for c in &self.agent_channels {
                let n = a.channels.get(&c.channel).copied().unwrap_or(0);
                if n > 0 && n as f64 >= c.min_share * a.records as f64 {
                    return (
                        Kind::Agent,
                        format!(
                            "{n} of {} call(s) in the window through channel `{}`",
                            a.records, c.channel
                        ),
                    );
                }
            }
        }
        if let Some(a) = ev.activity {
            for e in &self.signin_events {
                if let Some(n) = a.non_iam.get(e) {
                    return (
                        Kind::Human,
                        format!("{n} console sign-in event(s) `{e}` in the window"),
                    );
                }
            }
        }
        if let Some(c) = ev.credentials {
            if c.password_enabled {
                return (
                    Kind::Human,
                    "credential report: console password enabled".into(),
                );
            }
            if c.active_keys().next().is_some() {
                return (
                    Kind::Npe,
                    "credential report: access keys only, no console password".into(),
                );
            }
        }
        match p.principal_type {
            PrincipalType::User => (
                self.default.user,
                "default for IAM users (no stronger signal)".into(),
            ),
            PrincipalType::Role => (
                self.default.role,
                "default for IAM roles (no stronger signal)".into(),
            ),
        }
    }
}

impl Classifier {
    /// The first agent identity condition key in the trust policy, then in
    /// the identity policies, and where it was found.
    fn agent_condition(&self, p: &Principal) -> Option<(String, String)> {
        let matches = |k: &str| {
            self.agent_condition_keys
                .iter()
                .any(|pat| wildcard_match(&pat.to_ascii_lowercase(), &k.to_ascii_lowercase()))
        };
        let in_doc = |d: &crate::model::PolicyDocument| {
            d.statements
                .iter()
                .flat_map(|s| &s.conditions)
                .find(|c| matches(&c.key))
                .map(|c| c.key.clone())
        };
        if let Some(k) = p.trust_policy.as_ref().and_then(in_doc) {
            return Some((k, "the trust policy".into()));
        }
        p.policies.iter().find_map(|a| {
            in_doc(&a.document).map(|k| (k, format!("identity policy {}", a.source.label())))
        })
    }
}

/// Who a trust policy lets assume the role (Allow statements only).
#[derive(Default, Debug)]
pub struct Trusted {
    pub services: Vec<String>,
    pub federated: Vec<String>,
    pub aws: Vec<String>,
}

pub fn trusted_principals(doc: &crate::model::PolicyDocument) -> Trusted {
    let mut t = Trusted::default();
    // `NotPrincipal` names who is *not* trusted: none of its names are.
    for st in doc
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow && !s.not_principal)
    {
        let by_kind = match &st.principal {
            Some(PrincipalElement::ByKind(m)) => m,
            Some(PrincipalElement::Bare(s)) => {
                t.aws.push(s.clone());
                continue;
            }
            None => continue,
        };
        for (k, vals) in by_kind {
            let vals = vals.iter().cloned();
            match k.as_str() {
                "Service" => t.services.extend(vals),
                "Federated" => t.federated.extend(vals),
                "AWS" => t.aws.extend(vals),
                _ => {}
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_parse() {
        Classifier::embedded().unwrap();
    }

    fn role(name: &str, trust: &str, policy: &str) -> Principal {
        let text = format!(
            r#"{{"RoleDetailList":[{{"RoleName":"{name}","Arn":"arn:aws:iam::1:role/{name}","AssumeRolePolicyDocument":{trust},
               "RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{policy}}}]}}]}}"#
        );
        crate::ingest::iam::parse(text.as_bytes(), std::path::Path::new("iam.json"))
            .unwrap()
            .principals
            .remove(0)
    }

    const ACCOUNT_TRUST: &str = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole"}]}"#;
    const ANY: &str =
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;

    fn facts<'a>(
        p: &'a Principal,
        activity: Option<&'a ActorActivity>,
        sessions: Option<&'a crate::usage::SessionsGranted>,
    ) -> Facts<'a> {
        Facts {
            principal: p,
            credentials: None,
            activity,
            sessions,
        }
    }

    /// The agent signals of issue 24, each with its reason.
    #[test]
    fn agents_by_identity_keys_workload_sessions_and_the_mcp_channel() {
        let c = Classifier::embedded().unwrap();
        // `aws:OriginIdentity/*` in an identity policy's condition.
        let keyed = role(
            "keyed",
            ACCOUNT_TRUST,
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:OriginIdentity/Subject":"spiffe://example.org/*"}}}]}"#,
        );
        let (k, why) = c.classify(&facts(&keyed, None, None));
        assert_eq!(k, Kind::Agent, "{why}");
        assert!(why.contains("aws:OriginIdentity/Subject"), "{why}");
        // AssumeRole on behalf of a workload identity.
        let plain = role("plain", ACCOUNT_TRUST, ANY);
        let mut s = crate::usage::SessionsGranted::default();
        s.workloads
            .insert("spiffe://example.org/agents/triage".into(), 2);
        let (k, why) = c.classify(&facts(&plain, None, Some(&s)));
        assert_eq!(k, Kind::Agent, "{why}");
        assert!(why.contains("spiffe://example.org/agents/triage"), "{why}");
        // Most calls through the AWS MCP server: an agent; a few: the kind
        // stays, and the reason counts them.
        let mut a = ActorActivity::empty(crate::usage::ActorKind::Principal);
        a.records = 10;
        a.channels.insert("mcp".into(), 6);
        let (k, why) = c.classify(&facts(&plain, Some(&a), None));
        assert_eq!(k, Kind::Agent, "{why}");
        a.channels.insert("mcp".into(), 2);
        let (k, why) = c.classify(&facts(&plain, Some(&a), None));
        assert_eq!(k, Kind::Npe, "{why}");
        assert!(
            why.contains("2 of 10 call(s) through channel `mcp`"),
            "{why}"
        );
        // A structural signal wins over the channel.
        let sso = role("AWSReservedSSO_Admin_0123", ACCOUNT_TRUST, ANY);
        a.channels.insert("mcp".into(), 10);
        let (k, why) = c.classify(&facts(&sso, Some(&a), None));
        assert_eq!(k, Kind::Human, "{why}");
        assert!(why.contains("channel `mcp`"), "{why}");
    }

    #[test]
    fn unknown_fields_are_errors() {
        let text = EMBEDDED.replace("tag_keys:", "tag_kyes:");
        assert!(Classifier::from_yaml("c.yaml", &text)
            .unwrap_err()
            .to_string()
            .contains("c.yaml"));
    }
}
