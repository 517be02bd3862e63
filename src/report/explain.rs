//! `leastpriv explain`: why a principal holds an action, the evidence of
//! use, and the verdict.

use crate::audit::Audit;
use crate::model::Effect;
use crate::policy::grants::statement;
use crate::policy::PolicyRef;
use crate::util::time;
use crate::verdict::granted_resources;

/// A principal that `explain` could not find.
#[derive(Debug, thiserror::Error)]
#[error("no principal named `{0}` in the snapshot (give a user or role name, or its ARN)")]
pub struct UnknownPrincipal(pub String);

/// Renders the explanation for `principal` (name or ARN) and an optional action pattern.
pub fn render(
    audit: &Audit,
    principal: &str,
    action: Option<&str>,
) -> Result<String, UnknownPrincipal> {
    let cat = audit.catalog;
    let ap = audit
        .principals
        .iter()
        .find(|p| p.verdicts.principal.arn == principal || p.verdicts.principal.name == principal)
        .ok_or_else(|| UnknownPrincipal(principal.to_string()))?;
    let a = &ap.verdicts;
    let p = &a.principal;
    let mut out = format!(
        "{} ({}, {})\n  kind: {} — {}\n  granted {} actions ({} conditional); used {}, unused {}, unobservable {}, denied {}\n",
        p.arn,
        p.principal_type.as_str(),
        p.path,
        ap.kind.as_str(),
        ap.kind_reason,
        a.grants.granted.len(),
        a.grants.conditional.len(),
        a.used.len(),
        a.unused().len(),
        a.unobservable().len(),
        a.denied.len()
    );
    out.push_str("  policies:\n");
    for pol in &p.policies {
        out.push_str(&format!("    - {}\n", pol.source.label()));
    }
    if let Some(b) = &p.boundary {
        out.push_str(&format!(
            "    - {} (permissions boundary)\n",
            b.source.label()
        ));
    }
    // Who acted through the principal, beside its own use: the people of
    // Identity Center sessions, and the federation tokens a user issued.
    if let Some(act) = &a.activity {
        let list = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, n)| format!("{k} ({n} call(s))"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !act.identity_center_users.is_empty() {
            out.push_str(&format!(
                "  on behalf of Identity Center users: {}\n",
                list(&act.identity_center_users)
            ));
        }
        if !act.federated_users.is_empty() {
            out.push_str(&format!(
                "  through federation tokens it issued: {}\n",
                list(&act.federated_users)
            ));
        }
    }
    // Who can assume it, and what it can assume (trust policies, callers'
    // sts:AssumeRole grants, SCPs).
    if let Some(i) = audit.trust.index_of(&p.arn) {
        let name = |j: u32, certain: bool| {
            format!(
                "{}{}",
                audit.trust.arns[j as usize],
                if certain { "" } else { " (under conditions)" }
            )
        };
        let by: Vec<String> = audit
            .trust
            .assumers_of(i)
            .map(|e| name(e.from, e.certain))
            .chain(
                audit
                    .trust
                    .roles
                    .iter()
                    .filter(|r| r.role == i)
                    .flat_map(|r| r.outside.iter())
                    .map(|o| {
                        format!(
                            "{} ({}, {}{})",
                            o.who,
                            o.kind.as_str(),
                            o.action,
                            if o.conditions.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    " if {}",
                                    o.conditions
                                        .iter()
                                        .map(|c| c.to_string())
                                        .collect::<Vec<_>>()
                                        .join(" and ")
                                )
                            }
                        )
                    }),
            )
            .collect();
        if !by.is_empty() {
            out.push_str("  can be assumed by:\n");
            for b in by {
                out.push_str(&format!("    - {b}\n"));
            }
        }
        let can: Vec<String> = audit
            .trust
            .assumable_by(i)
            .map(|e| name(e.to, e.certain))
            .collect();
        if !can.is_empty() {
            out.push_str("  can assume:\n");
            for c in can {
                out.push_str(&format!("    - {c}\n"));
            }
        }
    }
    if !ap.advisor.is_empty() {
        out.push_str(
            "  Access Advisor (supporting evidence: it also counts refused attempts):
",
        );
        for n in &ap.advisor {
            out.push_str(&format!(
                "    - {} last accessed {}{}; trail verdict: {}
",
                n.action,
                time(n.last_accessed),
                n.region
                    .as_deref()
                    .map(|r| format!(" in {r}"))
                    .unwrap_or_default(),
                n.trail_verdict
            ));
        }
    }
    let Some(pattern) = action else {
        return Ok(out);
    };
    let set = cat.expand(pattern);
    if set.is_empty() {
        out.push_str(&format!("\nno catalog action matches `{pattern}`\n"));
        return Ok(out);
    }
    for id in set.iter() {
        let name = cat.full_name(id);
        let g = &a.grants;
        let verdict = if a.used.iter().any(|u| u.action == id) {
            "used".to_string()
        } else if a.denied.iter().any(|d| d.action == id) && !g.granted.contains(id) {
            "denied (not granted)".to_string()
        } else if let Some(why) = a.unobservable().get(id) {
            format!("unobservable: {}", why.describe())
        } else if a.unused().contains(id) {
            "unused".to_string()
        } else if g.denied.contains(id) {
            "not granted: removed by an explicit Deny".to_string()
        } else if g.outside_boundary.contains(id) {
            "not granted: outside the permissions boundary".to_string()
        } else if g.blocked_by_org.contains(id) {
            "not granted: blocked by the organization's SCPs".to_string()
        } else {
            "not granted".to_string()
        };
        let reasons: Vec<_> = g.reasons(id).collect();
        if reasons.is_empty() && !a.denied.iter().any(|d| d.action == id) && set.len() > 1 {
            continue;
        }
        out.push_str(&format!("\n{name}: {verdict}\n"));
        if g.conditional.contains(id) {
            out.push_str("  granted only under conditions\n");
        }
        if g.partially_denied.contains(id) {
            out.push_str("  a conditional or resource-limited Deny applies\n");
        }
        if g.blocked_by_org.contains(id) || g.org_limited.contains(id) {
            if let (Some(org), Some(og)) = (audit.organization.as_deref(), g.org.as_ref()) {
                let verb = if g.blocked_by_org.contains(id) {
                    "blocked"
                } else {
                    "limited"
                };
                for d in [&og.scp, &og.rcp] {
                    if let crate::policy::organization::Applies::Yes(d) = d {
                        if d.blocked.contains(id) || d.limited.contains(id) {
                            for r in d.reasons(org, id) {
                                let certain = matches!(
                                    r.what,
                                    crate::policy::organization::OrgReasonKind::Statement {
                                        certain: true,
                                        ..
                                    } | crate::policy::organization::OrgReasonKind::NoAllow { .. }
                                );
                                let verb = if certain { verb } else { "limited" };
                                out.push_str(&format!("  {verb}: {r}\n"));
                            }
                        }
                    }
                }
            }
        }
        for c in reasons {
            let Some(st) = statement(p, c.at) else {
                continue;
            };
            let pol = match c.at.policy {
                PolicyRef::Identity(i) => p.policies[i].source.label(),
                PolicyRef::Boundary => p
                    .boundary
                    .as_ref()
                    .map(|b| b.source.label())
                    .unwrap_or_default(),
            };
            let verb = match (c.effect, c.at.policy) {
                (Effect::Allow, PolicyRef::Boundary) => "boundary allows",
                (Effect::Allow, _) => "allowed by",
                (Effect::Deny, _) => "denied by",
            };
            out.push_str(&format!("  {verb} {pol}, statement {}\n", st.label()));
            if c.effect == Effect::Allow && c.at.policy != PolicyRef::Boundary {
                let res = crate::policy::grants::statement_resources(cat, st, id);
                out.push_str(&format!("    resources: {}\n", res.join(", ")));
            }
            for cond in &st.conditions {
                out.push_str(&format!("    condition: {cond}\n"));
            }
        }
        if g.granted.contains(id) {
            let res = granted_resources(cat, p, g, id);
            out.push_str(&format!("  effective resources: {}\n", res.join(", ")));
        }
        for u in a.used.iter().filter(|u| u.action == id) {
            out.push_str(&format!(
                "  evidence: {} successful call(s), {} .. {}\n",
                u.stats.count,
                time(u.stats.first),
                time(u.stats.last)
            ));
            for r in u.stats.resources.iter() {
                out.push_str(&format!("    resource: {r}\n"));
            }
            for (svc, n) in u.stats.invoked_by.iter() {
                out.push_str(&format!(
                    "    {n} made by {svc} on the principal's behalf\n"
                ));
            }
        }
        for d in a.denied.iter().filter(|d| d.action == id) {
            out.push_str(&format!(
                "  evidence: {} refused attempt(s), last {} ({})\n",
                d.stats.count,
                time(d.stats.last),
                d.stats.error_codes.keys().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(out)
}
