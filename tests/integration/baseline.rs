//! Baselines (`--baseline FILE`) over the demo account's findings: what an
//! entry accepts (rule, principal with wildcards, every action matching),
//! what an expired entry does (the finding fails again), entries that match
//! nothing, and the errors of a bad file (named file and line, or entry).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use leastpriv::audit::{self, Audit, AuditOptions};
use leastpriv::baseline::{Applied, Baseline, BaselineError};
use leastpriv::catalog::Catalog;
use leastpriv::ingest::snapshot::{Overrides, SnapshotPaths};
use leastpriv::rules::{Finding, Severity};

/// 2026-11-01T00:00:00Z, the demo report's time (as in `tests/common`).
const NOW: i64 = 1_793_491_200;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/baseline")
        .join(name)
}

fn demo() -> &'static Audit {
    static AUDIT: OnceLock<Audit> = OnceLock::new();
    AUDIT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        let paths = SnapshotPaths::resolve(Some(&dir), &Overrides::default()).expect("demo paths");
        let opts = AuditOptions {
            now: Some(NOW),
            ..AuditOptions::default()
        };
        audit::run(&paths, &opts).expect("demo audit")
    })
}

fn find(findings: &[Finding], rule: &str, principal: &str) -> usize {
    findings
        .iter()
        .position(|f| f.rule == rule && f.principal.ends_with(principal))
        .unwrap_or_else(|| panic!("no `{rule}` finding on `{principal}` in the demo"))
}

fn load(name: &str) -> Baseline {
    Baseline::load(&fixture(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn error(name: &str) -> String {
    match Baseline::load(&fixture(name)) {
        Ok(b) => panic!("`{name}` loaded: {b:?}"),
        Err(e) => e.to_string(),
    }
}

/// The exit status the CLI computes: only kept findings count.
fn fails(applied: &Applied, findings: &[Finding], min: Severity) -> bool {
    applied.kept_findings(findings).any(|f| f.severity >= min)
}

#[test]
fn accepted_finding_is_no_longer_kept() {
    let f = &demo().findings;
    let b = load("accepted.yaml");
    let a = b.apply(Catalog::embedded(), f, today());
    let unused = find(f, "unused-permissions", "role/legacy-batch");
    assert!(a.accepted.contains(&(unused, 0)), "{a:?}");
    assert!(!a.kept.contains(&unused));
    // Every finding is either kept or accepted, once.
    let mut all: Vec<usize> = a
        .kept
        .iter()
        .copied()
        .chain(a.accepted.iter().map(|x| x.0))
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..f.len()).collect::<Vec<_>>());
    // The other findings on legacy-batch are other rules: still kept.
    let priv_esc = find(f, "privilege-escalation", "role/legacy-batch");
    assert!(a.kept.contains(&priv_esc));
}

#[test]
fn entry_whose_actions_do_not_cover_the_finding_accepts_nothing() {
    let f = &demo().findings;
    let mut b = load("accepted.yaml");
    // The legacy-batch finding also lists S3 actions: `ec2:*` alone does not cover it.
    b.accepted[0].actions = Some(vec!["ec2:*".into()]);
    let a = b.apply(Catalog::embedded(), f, today());
    let unused = find(f, "unused-permissions", "role/legacy-batch");
    assert!(a.kept.contains(&unused));
    assert!(!a.accepted.iter().any(|x| x.1 == 0));
    assert!(a.unused_entries.contains(&0), "{a:?}");
}

#[test]
fn wildcard_principal_accepts() {
    let f = &demo().findings;
    let a = load("accepted.yaml").apply(Catalog::embedded(), f, today());
    let dormant = find(f, "dormant-principal", "role/legacy-batch");
    assert!(a.accepted.contains(&(dormant, 1)), "{a:?}");
}

#[test]
fn expired_entry_fails_again_and_is_reported() {
    let f = &demo().findings;
    let b = load("accepted.yaml");
    let stale = find(f, "stale-access-key", "user/ci-deploy");

    // On its last day the entry still accepts.
    let on_the_day = b.apply(
        Catalog::embedded(),
        f,
        NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"),
    );
    assert!(on_the_day.accepted.contains(&(stale, 2)));
    assert!(on_the_day.expired_entries.is_empty());

    // The day after, the finding is kept again and the entry is reported.
    let a = b.apply(Catalog::embedded(), f, today());
    assert!(a.kept.contains(&stale));
    assert_eq!(a.expired_entries, vec![2]);
    assert_eq!(a.reopened, vec![(stale, 2)]);
    assert!(!a.unused_entries.contains(&2), "expired is not unused");
    assert!(fails(&a, f, Severity::High), "a high finding fails again");
    let notes = a.notes(&b, f).join("\n");
    assert!(
        notes.contains("expired: baseline entry 2 `stale-access-key` on `arn:aws:iam::111122223333:user/ci-deploy` (owner team-ci@example.com) expired on 2026-06-30"),
        "{notes}"
    );
}

#[test]
fn entry_matching_nothing_is_reported_unused() {
    let a = load("accepted.yaml").apply(Catalog::embedded(), &demo().findings, today());
    assert_eq!(a.unused_entries, vec![3]);
}

#[test]
fn exit_status_counts_kept_findings_only() {
    let f = vec![
        demo().findings[find(&demo().findings, "dormant-principal", "role/legacy-batch")].clone(),
    ];
    let b = load("accepted.yaml");
    let a = b.apply(Catalog::embedded(), &f, today());
    assert!(a.kept.is_empty());
    assert!(!fails(&a, &f, Severity::Info));
    // Without the baseline the same finding fails `--fail-on high`.
    assert!(f.iter().any(|x| x.severity >= Severity::High));
}

#[test]
fn unknown_field_is_an_error_naming_file_and_line() {
    let e = error("unknown-field.yaml");
    assert!(e.contains("unknown-field.yaml`"), "{e}");
    assert!(e.contains("expiry"), "{e}");
    assert!(e.contains("line 7"), "{e}");
    let Err(BaselineError::Yaml { line, .. }) = Baseline::load(&fixture("unknown-field.yaml"))
    else {
        panic!("not a YAML error");
    };
    assert_eq!(line, Some(7));
}

#[test]
fn missing_owner_is_an_error() {
    let e = error("missing-owner.yaml");
    assert!(e.contains("missing-owner.yaml`"), "{e}");
    assert!(e.contains("owner"), "{e}");
}

#[test]
fn empty_owner_and_justification_are_errors_naming_the_entry() {
    let e = error("empty-owner.yaml");
    assert!(
        e.contains("empty-owner.yaml`: `accepted[1]`: `owner` is empty"),
        "{e}"
    );
    let e = error("empty-justification.yaml");
    assert!(e.contains("`accepted[0]`: `justification` is empty"), "{e}");
}

#[test]
fn unknown_rule_and_bad_date_are_errors() {
    let e = error("unknown-rule.yaml");
    assert!(
        e.contains("`accepted[0]`: unknown rule `unused-permission`"),
        "{e}"
    );
    let e = error("bad-date.yaml");
    assert!(e.contains("bad-date.yaml`"), "{e}");
    assert!(e.contains("line 6"), "{e}");
}

#[test]
fn empty_actions_list_is_an_error() {
    let text = "accepted:\n  - {rule: unused-permissions, principal: '*', actions: [], justification: j, owner: o, expires: 2026-12-31}\n";
    let e = Baseline::parse(Path::new("inline.yaml"), text)
        .expect_err("empty actions")
        .to_string();
    assert!(e.contains("`actions` is empty"), "{e}");
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let e = error("no-such-baseline.yaml");
    assert!(e.contains("cannot read baseline"), "{e}");
    assert!(e.contains("no-such-baseline.yaml`"), "{e}");
}
