//! Dormant principals and stale credentials.

use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};
use crate::util::time;

const DAY: i64 = 86_400;

fn parse(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp())
}

/// Severity from what the principal can reach: the heaviest risk category
/// among its grants.
fn reach(ctx: &RuleContext, s: &Subject) -> (Severity, String) {
    let best = ctx
        .risk
        .categories
        .iter()
        .find(|c| c.actions.intersects(&s.verdicts.grants.granted));
    match best {
        Some(c) if c.weight >= 90.0 => (
            Severity::High,
            format!("can reach {}", c.title.to_lowercase()),
        ),
        Some(c) if c.weight >= 60.0 => (
            Severity::Medium,
            format!("can reach {}", c.title.to_lowercase()),
        ),
        Some(c) => (
            Severity::Low,
            format!("can reach {}", c.title.to_lowercase()),
        ),
        None if s.verdicts.grants.granted.is_empty() => {
            (Severity::Info, "holds no permissions".into())
        }
        None => (
            Severity::Low,
            format!("holds {} permissions", s.verdicts.grants.granted.len()),
        ),
    }
}

pub struct DormantPrincipal;

static DORMANT: RuleMeta = RuleMeta {
    id: "dormant-principal",
    title: "No activity in the window",
    default_severity: Severity::Medium,
    rationale: "A role or user that did nothing in the evidence window still holds its permissions and credentials: pure risk. Its severity rises with what it can reach.",
    remediation: "Delete the principal, or remove its policies and credentials until it is needed again.",
};

impl Rule for DormantPrincipal {
    fn meta(&self) -> &RuleMeta {
        &DORMANT
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        if s.verdicts.activity.as_ref().is_some_and(|a| a.records > 0) {
            return;
        }
        let Some((start, end)) = ctx.window else {
            return;
        };
        let (mut severity, why) = reach(ctx, s);
        let mut evidence = vec![
            format!(
                "no CloudTrail record between {} and {}",
                time(start),
                time(end)
            ),
            why,
        ];
        // IAM's own last-used data can show use outside the window.
        let p = &s.verdicts.principal;
        let mut last: Option<i64> = p.role_last_used.as_deref().and_then(parse);
        if let Some(c) = s.credentials {
            for t in c
                .password_last_used
                .iter()
                .chain(c.access_keys.iter().filter_map(|k| k.last_used.as_ref()))
            {
                last = last.max(parse(t));
            }
        }
        match last {
            Some(t) => {
                evidence.push(format!("IAM reports last use {}", time(t)));
                if ctx.now - t < ctx.settings.dormant_days * DAY {
                    severity = severity.min(Severity::Low);
                    evidence.push(format!(
                        "within {} days: used outside the window",
                        ctx.settings.dormant_days
                    ));
                }
            }
            None => evidence.push("IAM reports no last use".to_string()),
        }
        if severity == Severity::Info {
            return;
        }
        out.push(Finding {
            rule: DORMANT.id,
            severity,
            score: s.verdicts.grants.granted.len() as f64 / 1000.0,
            principal: p.arn.as_str().into(),
            kind: s.kind,
            actions: [].into(),
            message: format!(
                "{} `{}` did nothing in the window but holds {} permissions",
                p.principal_type.as_str(),
                p.name,
                s.verdicts.grants.granted.len()
            ),
            evidence: evidence.into(),
            remediation: DORMANT.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

pub struct StaleAccessKey;

static KEY: RuleMeta = RuleMeta {
    id: "stale-access-key",
    title: "Active access key unused for too long",
    default_severity: Severity::Medium,
    rationale: "Long-lived access keys leak through laptops, CI logs and repositories; an active key that nobody uses is only a liability. The age limit is `credential_max_age_days` (default 90).",
    remediation: "Deactivate the key (`aws iam update-access-key --status Inactive`), then delete it once nothing breaks.",
};

impl Rule for StaleAccessKey {
    fn meta(&self) -> &RuleMeta {
        &KEY
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let Some(c) = s.credentials else { return };
        let max = ctx.settings.credential_max_age_days;
        for k in c.active_keys() {
            let (since, what) = match (&k.last_used, &k.last_rotated) {
                (Some(u), _) => (parse(u), "last used"),
                (None, Some(r)) => (parse(r), "never used; created"),
                (None, None) => (None, "never used"),
            };
            let Some(t) = since else { continue };
            let days = (ctx.now - t) / DAY;
            if days <= max {
                continue;
            }
            let (reach_sev, why) = reach(ctx, s);
            out.push(Finding {
                rule: KEY.id,
                severity: reach_sev.max(Severity::Medium),
                score: days as f64 / 10.0,
                principal: s.arn().into(),
                kind: s.kind,
                actions: [].into(),
                message: format!(
                    "access key {} of `{}` is active and {what} {days} days ago",
                    k.slot,
                    s.name()
                ),
                evidence: vec![
                    format!(
                        "credential report: access_key_{}_active=true, {what} {}",
                        k.slot,
                        time(t)
                    ),
                    format!("older than {max} days"),
                    why,
                ]
                .into(),
                remediation: KEY.remediation.into(),
                fix: None,
                grants: Vec::new(),
                techniques: Vec::new(),
            });
        }
    }
}

pub struct StaleConsolePassword;

static PASSWORD: RuleMeta = RuleMeta {
    id: "stale-console-password",
    title: "Console password unused for too long",
    default_severity: Severity::Medium,
    rationale: "A console password that is not used is an unmonitored way in, often without MFA. The age limit is `credential_max_age_days` (default 90).",
    remediation: "Delete the login profile (`aws iam delete-login-profile`), or move the person to Identity Center.",
};

impl Rule for StaleConsolePassword {
    fn meta(&self) -> &RuleMeta {
        &PASSWORD
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let Some(c) = s.credentials else { return };
        if !c.password_enabled {
            return;
        }
        let (since, what) = match (&c.password_last_used, &c.created) {
            (Some(u), _) => (parse(u), "last used"),
            (None, Some(cr)) => (parse(cr), "never used; user created"),
            (None, None) => (None, "never used"),
        };
        let Some(t) = since else { return };
        let days = (ctx.now - t) / DAY;
        let max = ctx.settings.credential_max_age_days;
        if days <= max {
            return;
        }
        let mut evidence = vec![format!(
            "credential report: password_enabled=true, {what} {}",
            time(t)
        )];
        if !c.mfa_active {
            evidence.push("no MFA device".to_string());
        }
        out.push(Finding {
            rule: PASSWORD.id,
            severity: if c.mfa_active {
                Severity::Medium
            } else {
                Severity::High
            },
            score: days as f64 / 10.0,
            principal: s.arn().into(),
            kind: s.kind,
            actions: [].into(),
            message: format!("console password of `{}` {what} {days} days ago", s.name()),
            evidence: evidence.into(),
            remediation: PASSWORD.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}
