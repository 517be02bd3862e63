//! `leastpriv explain`: why a principal holds an action, the evidence of
//! use, and the verdict.

use crate::audit::Audit;
use crate::model::Effect;
use crate::policy::grants::{statement, StmtRef};
use crate::policy::PolicyRef;
use crate::util::time;
use crate::verdict::{granted_resources, GrantCheck, Verdict};

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
    let n = a.counts();
    let mut out = format!(
        "{} ({}, {})\n  kind: {} — {}\n  granted {} actions ({} conditional); used {}, used-failed {}, attempted {}, unused {}, unobservable {}, denied {}\n",
        p.arn,
        p.principal_type.as_str(),
        p.path,
        ap.kind.as_str(),
        ap.kind_reason,
        a.grants.granted.len(),
        a.grants.conditional.len(),
        n.used,
        n.used_failed,
        n.attempted,
        n.unused,
        n.unobservable,
        n.denied
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
        let list = |m: &crate::usage::name_map::NameMap<u64>| {
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
        let v = a.verdict(id);
        let used = a.used_entry(id);
        let (failed, denied) = (a.failed_entry(id), a.denied_entry(id));
        let reasons: Vec<_> = g.reasons(id).collect();
        if reasons.is_empty() && !v.is_recorded() && set.len() > 1 {
            continue;
        }
        let verdict = match &v {
            Verdict::Used if used.is_some_and(|u| !u.granted()) => {
                "used without grant (its own policies do not allow it on the named resources)"
                    .to_string()
            }
            Verdict::Used => "used".to_string(),
            Verdict::UsedFailed
                if failed.is_some_and(|f| f.failures.failed + f.failures.failed_likely == 0) =>
            {
                "used-failed: dry run only (proves the grant, not the need)".to_string()
            }
            Verdict::UsedFailed => {
                "used-failed: calls passed authorization, then failed".to_string()
            }
            Verdict::Attempted => {
                "attempted: no call succeeded, and the errors say nothing about authorization"
                    .to_string()
            }
            Verdict::Denied(by) => format!("denied: refused by {}", by.describe(p)),
            Verdict::Unobservable(why) => format!("unobservable: {}", why.describe()),
            Verdict::Unused => "unused".to_string(),
            Verdict::NotGranted if g.denied.contains(id) => {
                "not granted: removed by an explicit Deny".to_string()
            }
            Verdict::NotGranted if g.outside_boundary.contains(id) => {
                "not granted: outside the permissions boundary".to_string()
            }
            Verdict::NotGranted if g.blocked_by_org.contains(id) => {
                "not granted: blocked by the organization's SCPs".to_string()
            }
            Verdict::NotGranted => "not granted".to_string(),
        };
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
        // The grant decision for the resources the records named: only the
        // Allow statements that match them are credited.
        let checks: Vec<(&str, &GrantCheck)> = [
            used.map(|u| ("successful calls", &u.grant)),
            failed.map(|f| ("failed calls", &f.grant)),
            denied.map(|d| ("refused calls", &d.grant)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let credited: Option<Vec<StmtRef>> = (!checks.is_empty()).then(|| {
            let mut all: Vec<StmtRef> = Vec::new();
            for (_, c) in &checks {
                for s in &c.statements {
                    if !all.contains(s) {
                        all.push(*s);
                    }
                }
            }
            all
        });
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
            let own_allow = c.effect == Effect::Allow && c.at.policy != PolicyRef::Boundary;
            let matches = credited.as_ref().is_none_or(|s| s.contains(&c.at));
            let verb = match (c.effect, c.at.policy) {
                (Effect::Allow, PolicyRef::Boundary) => "boundary allows",
                (Effect::Allow, _) if matches => "allowed by",
                (Effect::Allow, _) => "not on the named resources:",
                (Effect::Deny, _) => "denied by",
            };
            out.push_str(&format!("  {verb} {pol}, statement {}\n", st.label()));
            if own_allow {
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
        for (what, c) in &checks {
            if c.no_resource {
                out.push_str(&format!(
                    "  {what}: granted {} (the records name no resource of it: decided per action)\n",
                    c.granted.as_str()
                ));
            } else if c.not_granted.is_empty() {
                out.push_str(&format!(
                    "  {what}: granted {} on the named resources\n",
                    c.granted.as_str()
                ));
            } else {
                out.push_str(&format!(
                    "  {what}: granted {}; not on {}\n",
                    c.granted.as_str(),
                    c.not_granted.join(", ")
                ));
            }
        }
        if let Some(u) = used {
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
        if let Some(f) = failed {
            let how: Vec<String> = f
                .failures
                .iter()
                .map(|(o, n)| format!("{o} ×{n}"))
                .collect();
            out.push_str(&format!(
                "  evidence: {} failed call(s), last {} ({}; {})\n",
                f.stats.count,
                time(f.stats.last),
                f.stats.error_codes.keys().collect::<Vec<_>>().join(", "),
                how.join(", ")
            ));
        }
        if let Some(d) = denied {
            out.push_str(&format!(
                "  evidence: {} refused attempt(s), last {} ({})\n",
                d.stats.count,
                time(d.stats.last),
                d.stats.error_codes.keys().collect::<Vec<_>>().join(", ")
            ));
            if let (Some(by), false) = (&d.refused_by, matches!(v, Verdict::Denied(_))) {
                out.push_str(&format!("    refused by {}\n", by.describe(p)));
            }
            for (t, n) in d.stats.refused_by.iter() {
                out.push_str(&format!("    {n} message(s) name {t}\n"));
            }
        }
    }
    Ok(out)
}
