//! Comparing two reports: findings matched on rule, principal and actions
//! (a changeable rule's finding also on rule and principal alone), and each
//! principal's actions service by service.

use super::read::{read, ActionsIn, FindingIn, FormIn, PrincipalIn};
use super::{
    Denied, Drift, DriftError, FindingChange, FindingRef, Grant, Move, PrincipalDrift,
    PrincipalRef, ReportRef, Status,
};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

/// Rules whose action lists shift from run to run (a category gains or loses
/// an action): an unmatched old and new finding of one of these rules on the
/// same principal are one finding that changed, not a resolved and a new one.
const CHANGEABLE_RULES: &[&str] = &[
    "unused-permissions",
    "secrets-access",
    "credential-minting",
    "privilege-escalation",
    "data-exfiltration",
    "resource-exposure",
];

/// `service:Action` as (service, Action); a name without a colon (only in a
/// hand-edited report) as ("", name), which no service prefix is.
fn split_name(n: &str) -> (&str, &str) {
    n.split_once(':').unwrap_or(("", n))
}

fn join_name(svc: &str, name: &str) -> String {
    if svc.is_empty() {
        name.to_string()
    } else {
        format!("{svc}:{name}")
    }
}

/// One service's part of an unused or unobservable set.
#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    /// From a v1 list, in the report's order.
    Names(Vec<&'a str>),
    /// From a v2 set.
    Form(&'a FormIn),
}

impl<'a> Part<'a> {
    /// The names (without prefix) of the part; `all` is the service's
    /// actions from the report's `catalog_services`.
    fn names(&self, all: &'a [String]) -> Vec<&'a str> {
        match self {
            Part::Names(v) => v.clone(),
            Part::Form(FormIn::Names(v)) => v.iter().map(String::as_str).collect(),
            Part::Form(FormIn::All) => all.iter().map(String::as_str).collect(),
            Part::Form(FormIn::Except(except)) => {
                let except: BTreeSet<&str> = except.iter().map(String::as_str).collect();
                all.iter()
                    .map(String::as_str)
                    .filter(|n| !except.contains(n))
                    .collect()
            }
        }
    }
}

/// One principal's actions of one service in one report.
#[derive(Debug, Default, PartialEq, Eq)]
struct ServiceActions<'a> {
    /// Unobservable, then unused: the order in which a later status wins.
    sets: [Option<Part<'a>>; 2],
    /// Used actions (name without prefix) and whether each was granted.
    used: Vec<(&'a str, bool)>,
    /// Failed, attempted and denied actions with the verdict the report
    /// wrote for them, and whether granted.
    recorded: Vec<(&'a str, Status, bool)>,
}

impl ActionsIn {
    /// Adds the set, split by service, to `into[..][slot]`: a v1 list by
    /// the prefix of each name, a v2 set as it is written.
    fn split<'a>(&'a self, into: &mut BTreeMap<&'a str, ServiceActions<'a>>, slot: usize) {
        match self {
            ActionsIn::Names(v) => {
                for n in v {
                    let (svc, name) = split_name(n);
                    let part = &mut into.entry(svc).or_default().sets[slot];
                    match part {
                        Some(Part::Names(names)) => names.push(name),
                        _ => *part = Some(Part::Names(vec![name])),
                    }
                }
            }
            ActionsIn::Set { by_service, .. } => {
                for (svc, form) in by_service {
                    into.entry(svc.as_str()).or_default().sets[slot] = Some(Part::Form(form));
                }
            }
        }
    }
}

fn finding_ref(f: &FindingIn) -> FindingRef {
    FindingRef {
        rule: f.rule.clone(),
        severity: f.severity.clone(),
        principal: f.principal.clone(),
        actions: f.actions.clone(),
        message: f.message.clone(),
    }
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut s: Vec<&str> = v.iter().map(String::as_str).collect();
    s.sort_unstable();
    s.dedup();
    s
}

fn diff_findings(old: &[FindingIn], new: &[FindingIn], d: &mut Drift) {
    // Identity: rule, principal and the sorted actions; duplicates match one to one.
    let key = |f: &'_ FindingIn| -> (String, String, Vec<String>) {
        (
            f.rule.clone(),
            f.principal.clone(),
            sorted(&f.actions).into_iter().map(str::to_string).collect(),
        )
    };
    let mut pool: BTreeMap<(String, String, Vec<String>), Vec<usize>> = BTreeMap::new();
    for (i, f) in old.iter().enumerate().rev() {
        pool.entry(key(f)).or_default().push(i);
    }
    let mut old_matched = vec![false; old.len()];
    let mut new_unmatched = Vec::new();
    let mut exact: Vec<(usize, usize)> = Vec::new();
    for (j, f) in new.iter().enumerate() {
        match pool.get_mut(&key(f)).and_then(Vec::pop) {
            Some(i) => {
                old_matched[i] = true;
                exact.push((i, j));
            }
            None => new_unmatched.push(j),
        }
    }
    let old_unmatched: Vec<usize> = (0..old.len()).filter(|&i| !old_matched[i]).collect();

    // Changeable rules: pair what is left on rule and principal, when that pair
    // is unambiguous on both sides.
    let count = |idx: &[usize], list: &[FindingIn], r: &str, p: &str| {
        idx.iter()
            .filter(|&&k| list[k].rule == r && list[k].principal == p)
            .count()
    };
    let mut paired: Vec<(usize, usize)> = Vec::new();
    for &j in &new_unmatched {
        let f = &new[j];
        if !CHANGEABLE_RULES.contains(&f.rule.as_str()) {
            continue;
        }
        if count(&new_unmatched, new, &f.rule, &f.principal) != 1
            || count(&old_unmatched, old, &f.rule, &f.principal) != 1
        {
            continue;
        }
        if let Some(&i) = old_unmatched
            .iter()
            .find(|&&i| old[i].rule == f.rule && old[i].principal == f.principal)
        {
            paired.push((i, j));
        }
    }
    let paired_old: BTreeSet<usize> = paired.iter().map(|p| p.0).collect();
    let paired_new: BTreeSet<usize> = paired.iter().map(|p| p.1).collect();

    let mut changes: Vec<(usize, FindingChange)> = Vec::new();
    for &(i, j) in exact.iter().chain(&paired) {
        let (o, n) = (&old[i], &new[j]);
        let (so, sn) = (sorted(&o.actions), sorted(&n.actions));
        let added: Vec<String> = sn
            .iter()
            .filter(|a| so.binary_search(a).is_err())
            .map(|a| a.to_string())
            .collect();
        let removed: Vec<String> = so
            .iter()
            .filter(|a| sn.binary_search(a).is_err())
            .map(|a| a.to_string())
            .collect();
        if added.is_empty() && removed.is_empty() && o.severity == n.severity {
            continue;
        }
        changes.push((
            j,
            FindingChange {
                rule: n.rule.clone(),
                principal: n.principal.clone(),
                severity_old: o.severity.clone(),
                severity_new: n.severity.clone(),
                actions_added: added,
                actions_removed: removed,
                message: n.message.clone(),
            },
        ));
    }
    changes.sort_by_key(|c| c.0);
    d.findings_changed = changes.into_iter().map(|c| c.1).collect();
    d.findings_new = new_unmatched
        .iter()
        .filter(|j| !paired_new.contains(j))
        .map(|&j| finding_ref(&new[j]))
        .collect();
    d.findings_resolved = old_unmatched
        .iter()
        .filter(|i| !paired_old.contains(i))
        .map(|&i| finding_ref(&old[i]))
        .collect();
}

/// One principal's actions in one report, by service.
type Side<'a> = BTreeMap<&'a str, ServiceActions<'a>>;

fn side(p: &PrincipalIn) -> Side<'_> {
    let mut by_service = BTreeMap::new();
    p.unobservable.split(&mut by_service, 0);
    p.unused.split(&mut by_service, 1);
    for u in &p.used {
        let (svc, name) = split_name(&u.action);
        by_service
            .entry(svc)
            .or_default()
            .used
            .push((name, u.granted));
    }
    for a in p.failed.iter().chain(&p.denied) {
        let Some(status) = a.verdict.as_deref().and_then(Status::of_verdict) else {
            continue;
        };
        let (svc, name) = split_name(&a.action);
        by_service
            .entry(svc)
            .or_default()
            .recorded
            .push((name, status, a.granted));
    }
    by_service
}

/// Each action of one service, with its status and whether it is granted.
fn statuses<'a>(
    s: Option<&ServiceActions<'a>>,
    all: &'a [String],
) -> BTreeMap<&'a str, (Status, bool)> {
    let mut status = BTreeMap::new();
    let Some(s) = s else {
        return status;
    };
    for (part, st) in s.sets.iter().zip([Status::Unobservable, Status::Unused]) {
        for name in part.iter().flat_map(|p| p.names(all)) {
            status.insert(name, (st, true));
        }
    }
    // The verdict of a failed, attempted or refused action (the report
    // wrote the same one on each of its entries), then used, which wins.
    for &(name, st, granted) in &s.recorded {
        let e = status.entry(name).or_insert((st, false));
        *e = (st, e.1 || granted);
    }
    for &(name, granted) in &s.used {
        let e = status.entry(name).or_insert((Status::Used, false));
        *e = (Status::Used, e.1 || granted);
    }
    status
}

/// The catalogs of two reports, and the services whose actions they list
/// alike: where both reports write a service the same way, and that way
/// means the same actions, nothing of it changed.
struct Catalogs<'a> {
    old: &'a BTreeMap<String, Vec<String>>,
    new: &'a BTreeMap<String, Vec<String>>,
    same: HashSet<&'a str>,
}

impl<'a> Catalogs<'a> {
    fn new(old: &'a BTreeMap<String, Vec<String>>, new: &'a BTreeMap<String, Vec<String>>) -> Self {
        let same = old
            .iter()
            .filter(|(k, v)| new.get(*k) == Some(v))
            .map(|(k, _)| k.as_str())
            .collect();
        Catalogs { old, new, same }
    }

    /// Whether a service's actions are the same in both reports without
    /// listing them: written alike, and `"*"` and `except` standing for
    /// the same actions.
    fn unchanged(&self, svc: &str, o: &ServiceActions, n: &ServiceActions) -> bool {
        let by_catalog = |s: &ServiceActions| {
            s.sets
                .iter()
                .flatten()
                .any(|p| matches!(p, Part::Form(FormIn::All) | Part::Form(FormIn::Except(_))))
        };
        o == n && (!by_catalog(o) || self.same.contains(svc))
    }

    /// Whether a principal's used, unused and unobservable actions are the
    /// same in both reports without splitting them by service: written
    /// alike, with every `"*"` and `except` standing for the same actions.
    /// Most principals of a nightly diff are.
    fn principal_unchanged(&self, o: &PrincipalIn, n: &PrincipalIn) -> bool {
        let same_catalog = |a: &ActionsIn| match a {
            ActionsIn::Names(_) => true,
            ActionsIn::Set { by_service, .. } => by_service
                .iter()
                .all(|(svc, f)| matches!(f, FormIn::Names(_)) || self.same.contains(svc.as_str())),
        };
        o.used == n.used
            && o.unused == n.unused
            && o.unobservable == n.unobservable
            && o.failed == n.failed
            && o.denied == n.denied
            && same_catalog(&n.unused)
            && same_catalog(&n.unobservable)
    }
}

/// `o` and `n`, compared service by service.
fn diff_principal<'a>(
    o: &'a PrincipalIn,
    n: &'a PrincipalIn,
    catalogs: &Catalogs<'a>,
) -> PrincipalDrift {
    let (so, sn) = if catalogs.principal_unchanged(o, n) {
        (Side::new(), Side::new())
    } else {
        (side(o), side(n))
    };
    let mut drift = PrincipalDrift {
        arn: n.arn.clone(),
        name: n.name.clone(),
        granted_old: o.granted,
        granted_new: n.granted,
        grants_added: vec![],
        grants_removed: vec![],
        moved: vec![],
        denied_new: vec![],
    };
    let services: BTreeSet<&str> = so.keys().chain(sn.keys()).copied().collect();
    for svc in services {
        let (os, ns) = (so.get(svc), sn.get(svc));
        if let (Some(os), Some(ns)) = (os, ns) {
            if catalogs.unchanged(svc, os, ns) {
                continue;
            }
        }
        let all = |c: &'a BTreeMap<String, Vec<String>>| c.get(svc).map_or(&[][..], Vec::as_slice);
        let (mo, mn) = (
            statuses(os, all(catalogs.old)),
            statuses(ns, all(catalogs.new)),
        );
        let granted_only = |a: &BTreeMap<&str, (Status, bool)>,
                            b: &BTreeMap<&str, (Status, bool)>| {
            a.iter()
                .filter(|(k, (_, g))| *g && !b.get(*k).is_some_and(|x| x.1))
                .map(|(k, &(status, _))| Grant {
                    action: join_name(svc, k),
                    status,
                })
                .collect::<Vec<_>>()
        };
        drift.grants_added.extend(granted_only(&mn, &mo));
        drift.grants_removed.extend(granted_only(&mo, &mn));
        drift
            .moved
            .extend(mn.iter().filter_map(|(a, &(to, _))| match mo.get(a) {
                Some(&(from, _)) if from != to => Some(Move {
                    action: join_name(svc, a),
                    from,
                    to,
                }),
                _ => None,
            }));
    }
    // By name, as a list of whole names sorts ("s3-outposts:" before "s3:").
    drift.grants_added.sort_by(|a, b| a.action.cmp(&b.action));
    drift.grants_removed.sort_by(|a, b| a.action.cmp(&b.action));
    drift.moved.sort_by(|a, b| a.action.cmp(&b.action));
    let old_denied: BTreeSet<&str> = o.denied.iter().map(|x| x.action.as_str()).collect();
    drift.denied_new = n
        .denied
        .iter()
        .filter(|x| !old_denied.contains(x.action.as_str()))
        .map(|x| Denied {
            action: x.action.clone(),
            count: x.count,
        })
        .collect();
    drift
}

fn principal_ref(p: &PrincipalIn) -> PrincipalRef {
    PrincipalRef {
        arn: p.arn.clone(),
        name: p.name.clone(),
        granted: p.granted,
        used: p.used.len(),
    }
}

/// Reads two `leastpriv.audit/v1` reports and computes what changed from `old` to `new`.
pub fn diff(old: &Path, new: &Path) -> Result<Drift, DriftError> {
    let o = read(old)?;
    let n = read(new)?;
    let mut d = Drift {
        old: ReportRef {
            path: old.to_path_buf(),
            generated_at: o.generated_at.clone(),
            export: o.export,
        },
        new: ReportRef {
            path: new.to_path_buf(),
            generated_at: n.generated_at.clone(),
            export: n.export,
        },
        findings_new: vec![],
        findings_resolved: vec![],
        findings_changed: vec![],
        principals_added: vec![],
        principals_removed: vec![],
        principals_changed: vec![],
    };
    if d.findings_compared() {
        diff_findings(&o.findings, &n.findings, &mut d);
    }
    let catalogs = Catalogs::new(&o.catalog_services, &n.catalog_services);
    // An ARN listed twice is a broken report; the first one counts.
    let mut old_by_arn: BTreeMap<&str, &PrincipalIn> = BTreeMap::new();
    for p in o.principals.iter().rev() {
        old_by_arn.insert(&p.arn, p);
    }
    let new_arns: BTreeSet<&str> = n.principals.iter().map(|p| p.arn.as_str()).collect();
    let mut seen = BTreeSet::new();
    for p in &n.principals {
        if !seen.insert(p.arn.as_str()) {
            continue;
        }
        match old_by_arn.get(p.arn.as_str()) {
            None => d.principals_added.push(principal_ref(p)),
            Some(op) => {
                let pd = diff_principal(op, p, &catalogs);
                if !pd.is_empty() {
                    d.principals_changed.push(pd);
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    d.principals_removed = o
        .principals
        .iter()
        .filter(|p| !new_arns.contains(p.arn.as_str()) && seen.insert(p.arn.as_str()))
        .map(principal_ref)
        .collect();
    Ok(d)
}
