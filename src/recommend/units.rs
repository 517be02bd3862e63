//! Recommendations on the unit people change when it spans accounts.
//!
//! - An IAM Identity Center permission set: Identity Center provisions it
//!   into every account it is assigned in as a role
//!   `AWSReservedSSO_<set>_<suffix>`, which cannot be edited in the account.
//!   One recommendation per set (with `identity-center.json`), written as
//!   the set's inline policy.
//! - On request (`Options::group_by_name`), the roles of one name deployed
//!   into several accounts (StackSets, a shared module): one policy for all.
//!
//! A unit's policy is the union of its roles' use, built by the same
//! `collect` and `build` as every recommendation: used actions narrowed to
//! the resources used within each account's grant (ARNs keep their account:
//! nothing is generalized across accounts), what no trail can show kept on
//! the union of today's grants. An account the unit is deployed in without
//! evidence (no record of the window from that account, or the role not in
//! the snapshot) may use anything it is granted: then nothing granted is
//! removed and nothing used is narrowed (statements `KeptNoEvidence*`), and
//! the recommendation says which accounts hold it back.
//!
//! May not: read input or write files (`write_all` does), decide verdicts
//! (the audit's), or print.

use super::{
    collect, empty_subject, file_stem, grant_groups, merge_groups, refusals, render,
    sso_permission_set, IdentityType, Scope, Subject, ROLE_INLINE_LIMIT,
};
use crate::audit::{Audit, AuditedPrincipal};
use crate::catalog::{ActionSet, Catalog};
use crate::model::PrincipalType;
use crate::rules::Finding;
use crate::verdict::Verdict;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::Arc;

/// What `recommend` groups beyond principals.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Roles of one name in several accounts, recommended together.
    pub group_by_name: bool,
}

/// The kind of a unit of several accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnitKind {
    PermissionSet,
    RoleGroup,
}

impl UnitKind {
    /// The directory under `--out`, and the JSON `unit`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::PermissionSet => "permission-set",
            UnitKind::RoleGroup => "role-group",
        }
    }
}

/// The unit a role belongs to, as its own recommendation names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartOf {
    pub kind: UnitKind,
    pub name: String,
    /// The accounts the unit is deployed in.
    pub accounts: Vec<String>,
}

impl PartOf {
    /// The unit's directory under `--out`.
    pub fn dir(&self) -> String {
        format!("{}/{}", self.kind.as_str(), file_stem(&self.name))
    }
}

/// One account of a unit: its role, its evidence, what it contributed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountPart {
    pub account: String,
    /// From `organization.json`.
    pub account_name: Option<String>,
    /// The role in the snapshot, if any.
    pub role_arn: Option<String>,
    /// Why this account's use is unknown: no record of the window from the
    /// account, or the role is not in the snapshot. `None`: evidence.
    pub no_evidence: Option<String>,
    /// Records of the window from the account.
    pub records: u64,
    /// Actions the role used there (used, or failed after authorization).
    pub used_actions: Vec<String>,
    /// Of those, the ones no other account of the unit used.
    pub only_here: Vec<String>,
    /// The role's policies there.
    pub policies: Vec<String>,
    /// How many actions the role is granted there today.
    pub granted: usize,
    /// Actions the unit's policy keeps that the role is not granted there
    /// today: applying the policy adds them in this account.
    pub added_here: Vec<String>,
}

/// A permission set or a role group, with what each account contributed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub kind: UnitKind,
    /// The permission set's or the roles' name.
    pub name: String,
    pub permission_set_arn: Option<String>,
    pub instance_arn: Option<String>,
    pub accounts: Vec<AccountPart>,
    /// The permission set's policies (from `identity-center.json`).
    pub has_inline_policy: bool,
    pub managed_policies: Vec<String>,
    /// `PATH NAME`: each account's own policy of that name.
    pub customer_managed_policies: Vec<String>,
    pub permissions_boundary: Option<String>,
    /// Whether the roles are granted different actions or hold different
    /// policies across accounts.
    pub grants_differ: bool,
    /// What the one policy could not carry to every account (a Deny of some
    /// accounts' roles that would deny another account's use).
    pub notes: Vec<String>,
}

impl Unit {
    /// Whether every account the unit is deployed in has evidence.
    pub fn evidence_complete(&self) -> bool {
        self.accounts.iter().all(|a| a.no_evidence.is_none())
    }

    pub fn without_evidence(&self) -> Vec<&str> {
        self.accounts
            .iter()
            .filter(|a| a.no_evidence.is_some())
            .map(|a| a.account.as_str())
            .collect()
    }

    pub fn part_of(&self) -> PartOf {
        PartOf {
            kind: self.kind,
            name: self.name.clone(),
            accounts: self.accounts.iter().map(|a| a.account.clone()).collect(),
        }
    }

    /// The heading of its diff.
    pub fn title(&self) -> String {
        match self.kind {
            UnitKind::PermissionSet => format!("permission set `{}`", self.name),
            UnitKind::RoleGroup => {
                format!("role `{}` in {} accounts", self.name, self.accounts.len())
            }
        }
    }

    /// The inline limit that applies: Identity Center writes the set's
    /// inline policy onto each account's role, where IAM's role limit holds.
    pub fn inline_limit(&self) -> (&'static str, usize) {
        ("role", ROLE_INLINE_LIMIT)
    }

    /// What the JSON and the files call the unit: the permission set's ARN,
    /// or `arn:aws:iam::*:role/NAME` for a role group.
    fn principal(&self) -> String {
        match (&self.permission_set_arn, self.kind) {
            (Some(arn), _) => arn.clone(),
            (None, UnitKind::PermissionSet) => format!("permission-set/{}", self.name),
            (None, UnitKind::RoleGroup) => format!("arn:aws:iam::*:role/{}", self.name),
        }
    }
}

/// A unit and the audited roles it covers.
pub(super) struct Planned<'a> {
    unit: Unit,
    members: Vec<&'a AuditedPrincipal>,
}

/// The units of an audit, and which principal belongs to which.
pub(super) struct Plan<'a> {
    pub units: Vec<Planned<'a>>,
    member: HashMap<&'a str, PartOf>,
}

impl Plan<'_> {
    pub fn part_of(&self, arn: &str) -> Option<PartOf> {
        self.member.get(arn).cloned()
    }
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// Records of the window from `account`, if the audit counted them per
/// account; `None` when it could not (activity from Athena or an older
/// store with several accounts): then no account counts as evidenced.
fn account_records(audit: &Audit, account: &str) -> Option<u64> {
    if !audit.accounts.contains(account) {
        return Some(0);
    }
    let by = &audit.stats.account_records_by;
    if !by.is_empty() {
        return Some(by.get(account).copied().unwrap_or(0));
    }
    // One audited account: all its records are its own.
    (audit.accounts.len() == 1).then_some(audit.stats.account_records)
}

/// Why a principal's own recommendation must not remove what its account
/// may use: in an audit of several accounts whose logs hold records, none
/// came from its account (a trail that does not cover it). Its roles would
/// otherwise look dormant and be removed on no evidence.
pub(super) fn account_without_evidence(audit: &Audit, arn: &str) -> Option<String> {
    let account = account_of(arn);
    (audit.accounts.len() > 1
        && audit.stats.account_records > 0
        && account_records(audit, account) == Some(0))
    .then(|| format!("no CloudTrail record of the window from account `{account}`"))
}

fn used_actions(cat: &Catalog, ap: &AuditedPrincipal) -> BTreeSet<String> {
    ap.verdicts
        .decided
        .iter()
        .filter(|d| matches!(d.verdict, Verdict::Used | Verdict::UsedFailed))
        .map(|d| cat.full_name(d.action))
        .collect()
}

/// The parts of a unit deployed in `accounts`, from its audited `members`.
fn parts(
    audit: &Audit,
    accounts: &BTreeSet<String>,
    members: &[&AuditedPrincipal],
) -> Vec<AccountPart> {
    let cat = audit.catalog;
    let mut out: Vec<AccountPart> = accounts
        .iter()
        .map(|account| {
            let here: Vec<&&AuditedPrincipal> = members
                .iter()
                .filter(|ap| account_of(&ap.verdicts.principal.arn) == account)
                .collect();
            let records = account_records(audit, account);
            let no_evidence = if here.is_empty() {
                Some(if audit.accounts.contains(account) {
                    "the role is not in the snapshot".to_string()
                } else {
                    "the account is not in the audit".to_string()
                })
            } else {
                match records {
                    Some(0) => Some("no CloudTrail record of the window from the account".into()),
                    None => Some(
                        "records were not counted per account (activity not from log files)".into(),
                    ),
                    Some(_) => None,
                }
            };
            let mut used = BTreeSet::new();
            let mut policies = Vec::new();
            let mut granted = ActionSet::empty(cat);
            for ap in &here {
                used.extend(used_actions(cat, ap));
                for x in &ap.verdicts.principal.policies {
                    let l = x.source.label();
                    if !policies.contains(&l) {
                        policies.push(l);
                    }
                }
                granted.union_with(&ap.verdicts.grants.granted);
            }
            AccountPart {
                account: account.clone(),
                account_name: audit
                    .organization
                    .as_ref()
                    .and_then(|o| o.accounts.get(account))
                    .and_then(|a| a.name.clone()),
                role_arn: here.first().map(|ap| ap.verdicts.principal.arn.clone()),
                no_evidence,
                records: records.unwrap_or(0),
                used_actions: used.into_iter().collect(),
                only_here: Vec::new(),
                policies,
                granted: granted.len(),
                added_here: Vec::new(),
            }
        })
        .collect();
    for i in 0..out.len() {
        let elsewhere: BTreeSet<&String> = out
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, p)| p.used_actions.iter())
            .collect();
        let only: Vec<String> = out[i]
            .used_actions
            .iter()
            .filter(|a| !elsewhere.contains(a))
            .cloned()
            .collect();
        out[i].only_here = only;
    }
    out
}

/// A role's policies with its own account id taken out: the same policy
/// deployed into two accounts (a StackSet's, an Identity Center set's
/// customer managed policy naming the account's own log group) compares
/// equal; a different policy does not.
/// Per policy: its label without the account, its statements as written,
/// and with the account taken out.
fn grant_fingerprint(ap: &AuditedPrincipal) -> Vec<(String, String, String)> {
    let p = &ap.verdicts.principal;
    let account = account_of(&p.arn);
    let generic = |t: &str| {
        if account.is_empty() {
            t.to_string()
        } else {
            t.replace(account, "ACCOUNT")
        }
    };
    let mut out: Vec<(String, String, String)> = p
        .policies
        .iter()
        .map(|x| {
            let statements: Vec<String> = x
                .document
                .statements
                .iter()
                .map(|st| super::statement_json(st).to_string())
                .collect();
            let raw = statements.join(",");
            (generic(&x.source.label()), generic(&raw), raw)
        })
        .collect();
    out.sort();
    out
}

/// Whether the members' grants differ beyond their account ids: a policy
/// is the same when its statements are identical (an ARN of one fixed
/// account) or identical once each role's own account id is taken out.
fn grants_differ(members: &[&AuditedPrincipal]) -> bool {
    let mut prints = members.iter().map(|ap| grant_fingerprint(ap));
    let Some(first) = prints.next() else {
        return false;
    };
    prints.any(|p| {
        p.len() != first.len()
            || p.iter()
                .zip(&first)
                .any(|(a, b)| a.0 != b.0 || (a.1 != b.1 && a.2 != b.2))
    })
}

/// Finds the units: permission sets (with `identity-center.json`) and,
/// with `opts.group_by_name`, role groups.
pub(super) fn plan<'a>(audit: &'a Audit, opts: &Options) -> Plan<'a> {
    let mut units = Vec::new();
    if let Some(ic) = audit.identity_center.as_deref() {
        let mut by_set: BTreeMap<&str, Vec<&AuditedPrincipal>> = BTreeMap::new();
        for ap in &audit.principals {
            let p = &ap.verdicts.principal;
            if p.principal_type != PrincipalType::Role {
                continue;
            }
            if let Some(ps) = sso_permission_set(p).and_then(|n| ic.permission_set_by_name(&n)) {
                by_set.entry(ps.arn.as_str()).or_default().push(ap);
            }
        }
        for ps in &ic.permission_sets {
            // A set none of whose roles is audited has no use to recommend.
            let Some(members) = by_set.remove(ps.arn.as_str()) else {
                continue;
            };
            let mut accounts: BTreeSet<String> = ic
                .assignments
                .iter()
                .filter(|a| a.permission_set_arn == ps.arn)
                .map(|a| a.account.clone())
                .collect();
            accounts.extend(
                members
                    .iter()
                    .map(|ap| account_of(&ap.verdicts.principal.arn).to_string()),
            );
            let parts = parts(audit, &accounts, &members);
            units.push(Planned {
                unit: Unit {
                    kind: UnitKind::PermissionSet,
                    name: ps.name.clone(),
                    permission_set_arn: Some(ps.arn.clone()),
                    instance_arn: ic.instance_arn.clone(),
                    grants_differ: grants_differ(&members),
                    accounts: parts,
                    has_inline_policy: ps.has_inline_policy,
                    managed_policies: ps.managed_policies.clone(),
                    customer_managed_policies: ps.customer_managed_policies.clone(),
                    permissions_boundary: ps.permissions_boundary.clone(),
                    notes: Vec::new(),
                },
                members,
            });
        }
    }
    if opts.group_by_name {
        let mut by_name: BTreeMap<&str, Vec<&AuditedPrincipal>> = BTreeMap::new();
        for ap in &audit.principals {
            let p = &ap.verdicts.principal;
            // Identity Center's and service-linked roles cannot be edited
            // in the account: no policy is applied to them.
            if p.principal_type == PrincipalType::Role
                && !p.is_service_linked()
                && sso_permission_set(p).is_none()
            {
                by_name.entry(p.name.as_str()).or_default().push(ap);
            }
        }
        for (name, members) in by_name {
            let accounts: BTreeSet<String> = members
                .iter()
                .map(|ap| account_of(&ap.verdicts.principal.arn).to_string())
                .collect();
            if accounts.len() < 2 {
                continue;
            }
            let parts = parts(audit, &accounts, &members);
            units.push(Planned {
                unit: Unit {
                    kind: UnitKind::RoleGroup,
                    name: name.to_string(),
                    permission_set_arn: None,
                    instance_arn: None,
                    grants_differ: grants_differ(&members),
                    accounts: parts,
                    has_inline_policy: false,
                    managed_policies: Vec::new(),
                    customer_managed_policies: Vec::new(),
                    permissions_boundary: None,
                    notes: Vec::new(),
                },
                members,
            });
        }
    }
    let mut member = HashMap::new();
    for u in &units {
        for ap in &u.members {
            member.insert(ap.verdicts.principal.arn.as_str(), u.unit.part_of());
        }
    }
    Plan { units, member }
}

/// The evidence of a unit: the union of its roles' use, held back where an
/// account has no evidence.
pub(super) fn subject<'a>(
    cat: &Catalog,
    audit: &Audit,
    planned: &Planned<'a>,
    findings: &HashMap<&str, Vec<&Finding>>,
) -> Subject<'a> {
    let mut unit = planned.unit.clone();
    let mut s = empty_subject(cat, unit.principal(), IdentityType::Role, unit.name.clone());
    let mut boundaries: Vec<String> = Vec::new();
    for ap in &planned.members {
        let p = &ap.verdicts.principal;
        let account = account_of(&p.arn);
        collect(cat, audit, ap, Scope::Own, &mut s);
        let (refused, without_grant) = refusals(cat, ap);
        s.refused.extend(
            refused
                .into_iter()
                .map(|r| format!("{r} in account `{account}`")),
        );
        s.without_grant.extend(
            without_grant
                .into_iter()
                .map(|r| format!("{r} in account `{account}`")),
        );
        for f in findings.get(p.arn.as_str()).into_iter().flatten() {
            if let ("missing-guardrail", Some(fix)) = (f.rule, &f.fix) {
                if !s.guardrails.contains(fix) {
                    s.guardrails.push((**fix).clone());
                }
            }
        }
        if let Some(b) = &p.boundary {
            let l = format!("{} in `{account}`", b.source.label());
            if !boundaries.contains(&l) {
                boundaries.push(l);
            }
        }
    }
    carry_denies(cat, &mut s, &planned.members, &mut unit.notes);
    s.boundary = match (&unit.permissions_boundary, boundaries.is_empty()) {
        (Some(b), _) => Some(format!("permission set's `{b}`")),
        (None, false) => Some(boundaries.join(", ")),
        (None, true) => None,
    };
    let missing = unit.without_evidence();
    if !missing.is_empty() {
        let why = format!(
            "no evidence from {}: its use there is unknown",
            accounts_list(&missing.iter().map(|a| a.to_string()).collect::<Vec<_>>())
        );
        hold(cat, audit, &mut s, &planned.members, Scope::Own, &why);
    }
    // What applying the policy adds to each account's role.
    let mut kept = ActionSet::empty(cat);
    kept.extend(s.used.iter().map(|e| e.id));
    kept.extend(s.unobservable.iter().map(|x| x.0));
    kept.extend(s.attempted.iter().map(|x| x.0));
    kept.extend(s.kept_no_evidence.iter().map(|x| x.0));
    if let (Some(pr), Some((_, compute))) = (audit.risk.passrole, &s.passrole) {
        if !compute.is_empty() {
            kept.insert(pr);
        }
    }
    for part in &mut unit.accounts {
        let here: Vec<&&AuditedPrincipal> = planned
            .members
            .iter()
            .filter(|ap| account_of(&ap.verdicts.principal.arn) == part.account)
            .collect();
        if here.is_empty() {
            continue;
        }
        let mut added: Vec<String> = kept
            .iter()
            .filter(|id| {
                !here
                    .iter()
                    .any(|ap| ap.verdicts.grants.granted.contains(*id))
            })
            .map(|id| cat.full_name(id))
            .collect();
        added.sort();
        part.added_here = added;
    }
    s.unit = Some(Arc::new(unit));
    s
}

/// One policy carries every account's Deny statements to all of them: a
/// Deny that only some accounts' roles hold stays only if it denies
/// nothing any account used (conditions aside); otherwise it is left out,
/// with a note, rather than remove a used permission elsewhere.
fn carry_denies(
    cat: &Catalog,
    s: &mut Subject,
    members: &[&AuditedPrincipal],
    notes: &mut Vec<String>,
) {
    let per_member: Vec<(String, Vec<Value>)> = members
        .iter()
        .map(|ap| {
            let p = &ap.verdicts.principal;
            let mut v = Vec::new();
            super::scope_denies(p, Scope::Own, &mut v);
            (account_of(&p.arn).to_string(), v)
        })
        .collect();
    let used = &s.used;
    s.denies.retain(|d| {
        if per_member.iter().all(|(_, v)| v.contains(d)) {
            return true;
        }
        let parsed = crate::ingest::policy_json::parse_document(
            &serde_json::json!({ "Statement": [d] }),
            "deny",
        )
        .ok()
        .and_then(|doc| doc.statements.into_iter().next());
        let Some(st) = parsed else {
            return true;
        };
        let hits: Vec<String> = used
            .iter()
            .filter(|e| e.requested(cat).may_match(&st, &cat.full_name(e.id)))
            .map(|e| format!("`{}`", cat.full_name(e.id)))
            .collect();
        if hits.is_empty() {
            return true;
        }
        let holders: Vec<String> = per_member
            .iter()
            .filter(|(_, v)| v.contains(d))
            .map(|(a, _)| a.clone())
            .collect();
        notes.push(format!(
            "a Deny statement of the role in {} only (`{d}`) is not in this policy: it would deny {} used in another account; keep it there on its own",
            accounts_list(&holders),
            hits.join(", ")
        ));
        false
    });
}

/// An account without evidence may use anything its role is granted: keep
/// today's grant for everything not shown used, and used actions on
/// today's resources (the account may use others).
pub(super) fn hold(
    cat: &Catalog,
    audit: &Audit,
    s: &mut Subject,
    members: &[&AuditedPrincipal],
    scope: Scope,
    why: &str,
) {
    // Today's grant of an action in every account: an account without
    // evidence (whose role `collect` saw as dormant) keeps its resources.
    let today = |id| {
        let mut groups = Vec::new();
        for ap in members {
            let a = &ap.verdicts;
            merge_groups(
                &mut groups,
                grant_groups(cat, &a.principal, &a.grants, scope, id),
            );
        }
        groups
    };
    for e in &mut s.used {
        if e.keep_granted.is_none() {
            e.keep_granted = Some(format!("{why}: granted resources kept"));
        }
        merge_groups(&mut e.groups, today(e.id));
    }
    for x in s.unobservable.iter_mut().chain(s.attempted.iter_mut()) {
        merge_groups(&mut x.2, today(x.0));
    }
    // Used in one account, unobservable or attempted in another: the used
    // statement now keeps today's grant everywhere, which covers them.
    let used: BTreeSet<_> = s.used.iter().map(|e| e.id).collect();
    s.unobservable.retain(|x| !used.contains(&x.0));
    s.attempted.retain(|x| !used.contains(&x.0));
    // Nothing is dormant while an account may be using it.
    s.dormant = false;
    let mut kept = ActionSet::empty(cat);
    kept.extend(s.used.iter().map(|e| e.id));
    kept.extend(s.unobservable.iter().map(|x| x.0));
    kept.extend(s.attempted.iter().map(|x| x.0));
    // PassRole that no used action needs would be removed: keep it too.
    if s.passrole.as_ref().is_some_and(|(_, c)| c.is_empty()) {
        s.passrole = None;
    } else if let Some(pr) = audit.risk.passrole.filter(|_| s.passrole.is_some()) {
        kept.insert(pr);
    }
    if let (Some(pr), Some((groups, _))) = (audit.risk.passrole, &mut s.passrole) {
        merge_groups(groups, today(pr));
    }
    let held: Vec<_> = s.granted.iter().filter(|id| !kept.contains(*id)).collect();
    for id in held {
        let groups = today(id);
        if !groups.is_empty() {
            s.kept_no_evidence.push((id, why.to_string(), groups));
        }
    }
}

/// `` `A` (name), `B` `` for a list of accounts.
pub fn accounts_list(accounts: &[String]) -> String {
    accounts
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn account_label(p: &AccountPart) -> String {
    match &p.account_name {
        Some(n) => format!("`{}` ({n})", p.account),
        None => format!("`{}`", p.account),
    }
}

fn code_list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What to do with a unit no account used.
pub(super) fn dormant_advice(u: &Unit) -> &'static str {
    match u.kind {
        UnitKind::PermissionSet => {
            "remove the permission set's account assignments (Identity Center then removes its roles)"
        }
        UnitKind::RoleGroup => {
            "remove the role where it is deployed (the StackSet or module), or detach its policies"
        }
    }
}

/// The diff's "How to apply" for a unit.
pub(super) fn how_to_apply(u: &Unit) -> String {
    let mut o = String::new();
    let accounts: Vec<String> = u.accounts.iter().map(account_label).collect();
    if !u.evidence_complete() {
        let _ = writeln!(
            o,
            "**Evidence incomplete**: {} ha{} no evidence, and may use anything the role is granted there. Nothing granted is removed and nothing used is narrowed on that account's behalf (statements `KeptNoEvidence*`, resources kept); bring its trail into the snapshot to narrow further.\n",
            u.accounts
                .iter()
                .filter_map(|a| a.no_evidence.as_ref().map(|why| format!("{} ({why})", account_label(a))))
                .collect::<Vec<_>>()
                .join(", "),
            if u.without_evidence().len() == 1 { "s" } else { "ve" }
        );
    }
    match u.kind {
        UnitKind::PermissionSet => {
            let _ = writeln!(
                o,
                "IAM Identity Center provisions permission set **`{}`** into its accounts as roles `AWSReservedSSO_{}_*`: edit the permission set, never the roles. This document is the union of the set's use in every account where it is provisioned: {}.\n",
                u.name,
                u.name,
                accounts.join(", ")
            );
            let _ = writeln!(
                o,
                "Set it as the permission set's inline policy (`{}.tf`, `aws_ssoadmin_permission_set_inline_policy`, provisions it; with the CLI, `aws sso-admin put-inline-policy-to-permission-set`, then `provision-permission-set` for its accounts), and remove what it replaces:\n",
                file_stem(&u.name)
            );
            if u.has_inline_policy {
                o.push_str("- the set's inline policy today (replaced by this one)\n");
            }
            for m in &u.managed_policies {
                let _ = writeln!(o, "- AWS managed policy `{m}`: detach it from the set");
            }
            let unknown: Vec<&AccountPart> =
                u.accounts.iter().filter(|a| a.role_arn.is_none()).collect();
            for c in &u.customer_managed_policies {
                if unknown.is_empty() {
                    let _ = writeln!(
                        o,
                        "- customer managed policy reference `{c}` (each account's own policy of that name; its grants are in this union): remove the reference"
                    );
                } else {
                    let _ = writeln!(
                        o,
                        "- customer managed policy reference `{c}`: **keep it**: what it grants in {} is unknown (the role is not in the snapshot)",
                        unknown.iter().map(|a| account_label(a)).collect::<Vec<_>>().join(", ")
                    );
                }
            }
            if !u.has_inline_policy
                && u.managed_policies.is_empty()
                && u.customer_managed_policies.is_empty()
            {
                o.push_str("- nothing: the set has no policy today\n");
            }
            o.push('\n');
        }
        UnitKind::RoleGroup => {
            let _ = writeln!(
                o,
                "Role **`{}`** is deployed under one name in {}. This document is the union of their use: apply it to the role in each of these accounts in one change (the StackSet or module that deploys it), replacing the role's policies there (see \"Per account\"). Where an account's role is granted less today, the policy adds what another account used (\"added here\").\n",
                u.name,
                accounts.join(", ")
            );
        }
    }
    let _ = writeln!(
        o,
        "Resources keep their account: an ARN used in one account is not generalized to the others. An action is kept on the resources it was used on, within the grant of the account that used it: another account's grant of the same action on its own resources goes unless that account used it too.\n"
    );
    o
}

/// The diff's "Per account" section of a unit.
pub(super) fn accounts_markdown(u: &Unit) -> String {
    let mut o = String::new();
    if !u.notes.is_empty() {
        o.push_str("## Not carried to every account\n\n");
        for n in &u.notes {
            let _ = writeln!(o, "- {n}");
        }
        o.push('\n');
    }
    o.push_str("## Per account\n\n");
    o.push_str("| account | role | evidence | used there | only used there | added there by this policy |\n");
    o.push_str("|---|---|---|---|---|---|\n");
    for a in &u.accounts {
        let role = a
            .role_arn
            .as_deref()
            .map_or("not in the snapshot".to_string(), |r| format!("`{r}`"));
        let evidence = match &a.no_evidence {
            None => format!("{} record(s)", a.records),
            Some(why) => format!("**none**: {why}"),
        };
        let _ = writeln!(
            o,
            "| {} | {role} | {evidence} | {} | {} | {} |",
            account_label(a),
            code_list(&a.used_actions),
            code_list(&a.only_here),
            if a.role_arn.is_none() {
                "unknown".to_string()
            } else {
                code_list(&a.added_here)
            }
        );
    }
    o.push('\n');
    if u.grants_differ {
        o.push_str("## Grants differ across accounts\n\n");
        for a in u.accounts.iter().filter(|a| a.role_arn.is_some()) {
            let _ = writeln!(
                o,
                "- {}: {} action(s) granted, by {}",
                account_label(a),
                a.granted,
                if a.policies.is_empty() {
                    "no policy".to_string()
                } else {
                    a.policies.join(", ")
                }
            );
        }
        o.push('\n');
    }
    o
}

/// The Terraform of a unit.
pub(super) fn terraform(u: &Unit, doc: &Value) -> String {
    let id = render::tf_ident(&u.name);
    let accounts: Vec<String> = u.accounts.iter().map(|a| a.account.clone()).collect();
    let mut out = String::new();
    match u.kind {
        UnitKind::PermissionSet => {
            let _ = writeln!(
                out,
                "# Generated by leastpriv: right-sized inline policy for permission set `{}`,\n# the union of its use in accounts {}.",
                u.name,
                accounts.join(", ")
            );
            if !u.evidence_complete() {
                let _ = writeln!(
                    out,
                    "# Evidence incomplete: no evidence from {}; today's grant is kept for them\n# (statements KeptNoEvidence*).",
                    u.without_evidence().join(", ")
                );
            }
            for m in &u.managed_policies {
                let _ = writeln!(out, "# Detach AWS managed policy {m} from the set (aws_ssoadmin_managed_policy_attachment).");
            }
            for c in &u.customer_managed_policies {
                let _ = writeln!(out, "# Customer managed policy reference {c}: see the diff (.diff.md) before removing it (aws_ssoadmin_customer_managed_policy_attachment).");
            }
            let instance = match &u.instance_arn {
                Some(a) => render::hcl_string(a),
                None => {
                    out.push_str("\nvariable \"identity_center_instance_arn\" {\n  type        = string\n  description = \"IAM Identity Center instance ARN (not in identity-center.json)\"\n}\n");
                    "var.identity_center_instance_arn".to_string()
                }
            };
            let ps = match &u.permission_set_arn {
                Some(a) => render::hcl_string(a),
                None => render::hcl_string(&format!("<ARN of permission set {}>", u.name)),
            };
            let _ = write!(
                out,
                "\nresource \"aws_ssoadmin_permission_set_inline_policy\" \"{id}\" {{\n  instance_arn       = {instance}\n  permission_set_arn = {ps}\n  inline_policy      = jsonencode({})\n}}\n",
                render::hcl_expression(doc)
            );
        }
        UnitKind::RoleGroup => {
            let _ = writeln!(
                out,
                "# Generated by leastpriv: one right-sized policy for role `{}` in accounts\n# {}: apply it in each of them (one provider per account, or the StackSet\n# that deploys the role).",
                u.name,
                accounts.join(", ")
            );
            if !u.evidence_complete() {
                let _ = writeln!(
                    out,
                    "# Evidence incomplete: no evidence from {}; today's grant is kept for them\n# (statements KeptNoEvidence*).",
                    u.without_evidence().join(", ")
                );
            }
            let body = render::terraform(IdentityType::Role, &u.name, None, doc);
            // The generic header names one role; ours names the accounts.
            out.push_str(
                body.split_once('\n')
                    .map_or(body.as_str(), |(_, rest)| rest),
            );
        }
    }
    out
}

/// The Terraform of an Identity Center role whose permission set has a
/// recommendation: nothing to apply in the account.
pub(super) fn pointer_terraform(role: &str, p: &PartOf) -> String {
    format!(
        "# Generated by leastpriv: role `{role}` is managed by IAM Identity Center.\n\
         # Nothing to apply in the account: edit permission set `{}` with\n\
         # {}/{}.tf (the union of its use in accounts {}).\n",
        p.name,
        p.dir(),
        file_stem(&p.name),
        p.accounts.join(", ")
    )
}
