//! The `organization` member of the audit JSON (`leastpriv.audit/v1` and
//! `/v2` gain it when the audit covers several accounts): a summary per
//! account, the principals keyed by account, and what crosses accounts.
//! Frozen like the rest of the document: fields are only ever added.

use crate::accounts::{view, CrossAccount};
use crate::audit::Audit;
use crate::usage::chains::Crossing;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
pub struct OrganizationV1 {
    pub organization_id: Option<String>,
    /// One entry per audited account, by account id.
    pub accounts: Vec<AccountV1>,
    /// Principal ARNs by account id.
    pub principals_by_account: BTreeMap<String, Vec<String>>,
    pub cross_account: Vec<CrossAccountV1>,
    /// Whether `identity-center.json` was read.
    pub identity_center: bool,
}

#[derive(Serialize)]
pub struct AccountV1 {
    pub account: String,
    pub name: Option<String>,
    pub principals: usize,
    pub active_principals: usize,
    pub granted: usize,
    pub used: usize,
    pub unused: usize,
    pub denied: usize,
    /// Findings by severity.
    pub findings: BTreeMap<&'static str, usize>,
    /// Root, OUs and the account, as `Name (id)`.
    pub scp_path: Vec<String>,
}

#[derive(Serialize)]
pub struct CrossAccountV1 {
    /// `session-chain`, `broken-chain` or `finding`.
    pub kind: &'static str,
    pub text: String,
    /// `finding`: the index into `findings.items`... by rule and principal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Session chains: the roles from the first session on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Session chains: the session tags the last session holds,
    /// `key=value (where it was set)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub session_tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<u64>,
}

impl From<crate::accounts::AccountSummary> for AccountV1 {
    fn from(a: crate::accounts::AccountSummary) -> Self {
        AccountV1 {
            account: a.account,
            name: a.name,
            principals: a.principals,
            active_principals: a.active,
            granted: a.granted,
            used: a.used,
            unused: a.unused,
            denied: a.denied,
            findings: a.findings,
            scp_path: a.scp_path,
        }
    }
}

/// `None` for an audit of one account: its document is unchanged.
pub fn organization(audit: &Audit) -> Option<OrganizationV1> {
    if !crate::accounts::is_multi_account(audit) {
        return None;
    }
    let v = view(audit);
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &audit.principals {
        let arn = &p.verdicts.principal.arn;
        let account = arn.split(':').nth(4).unwrap_or_default().to_string();
        by.entry(account).or_default().push(arn.clone());
    }
    let cross_account = v
        .cross
        .iter()
        .map(|c| {
            let text = crate::accounts::cross_line(audit, c);
            let mut x = CrossAccountV1 {
                kind: "",
                text,
                rule: None,
                principal: None,
                hops: Vec::new(),
                origin: None,
                source_identity: None,
                session_tags: Vec::new(),
                calls: None,
            };
            match c {
                CrossAccount::Session(Crossing::Chain {
                    origin,
                    hops,
                    source_identity,
                    tags,
                    calls,
                }) => {
                    x.kind = "session-chain";
                    x.origin = Some(origin.clone());
                    x.hops = hops.clone();
                    x.source_identity = source_identity.clone();
                    x.session_tags = tags.clone();
                    x.calls = Some(*calls);
                }
                CrossAccount::Session(Crossing::Broken { role, calls, .. }) => {
                    x.kind = "broken-chain";
                    x.principal = Some(role.clone());
                    x.calls = Some(*calls);
                }
                CrossAccount::Finding(i) => {
                    x.kind = "finding";
                    x.rule = Some(audit.findings[*i].rule);
                    x.principal = Some(audit.findings[*i].principal.to_string());
                }
            }
            x
        })
        .collect();
    Some(OrganizationV1 {
        organization_id: audit.organization.as_ref().and_then(|o| o.id.clone()),
        accounts: v.accounts.into_iter().map(AccountV1::from).collect(),
        principals_by_account: by,
        cross_account,
        identity_center: audit.identity_center.is_some(),
    })
}
