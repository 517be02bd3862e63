//! Settings and rule files end to end: `--config FILE` (classification
//! overrides, `dormant_days`, `credential_max_age_days`, unknown fields) and
//! `--rules DIR` (replacement rule files that must fail loudly when wrong).
//! Snapshots come from `tests/rules/`; configuration files are written to a
//! temp directory, shown as `[TMP]` in the output.

use std::path::{Path, PathBuf};

use crate::common::{leastpriv, repo, Run};
use serde_json::Value;

const ACCOUNT_ARN: &str = "arn:aws:iam::111122223333:";

fn snapshot(rule: &str, case: &str) -> PathBuf {
    repo().join("tests").join("rules").join(rule).join(case)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("temp dir is writable");
    }
    std::fs::write(&p, text).expect("temp file is writable");
    p
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

/// `leastpriv audit SNAPSHOT --format json ARGS...`
fn audit(snap: &Path, tmp: &Path, args: &[&std::ffi::OsStr]) -> Run {
    leastpriv()
        .arg("audit")
        .arg(snap)
        .args(["--format", "json"])
        .args(args)
        .tmp(tmp)
        .run()
}

/// Audits with `leastpriv.yaml` text given as `--config`; expects success.
fn audit_with_config(snap: &Path, config: &str) -> Value {
    let tmp = tempdir();
    let cfg = write(tmp.path(), "leastpriv.yaml", config);
    let run = audit(snap, tmp.path(), &["--config".as_ref(), cfg.as_os_str()]);
    run.code(0);
    run.json()
}

fn principal<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["principals"]
        .as_array()
        .expect("principals is a list")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no principal `{name}`"))
}

fn rule_findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings is a list")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// Asserts a usage error: exit 2, nothing on stdout, and `needles` in stderr.
#[track_caller]
fn usage_error(run: &Run, needles: &[&str]) {
    run.code(2);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    for n in needles {
        assert!(
            run.stderr.contains(n),
            "stderr should contain `{n}`:\n{}",
            run.stderr
        );
    }
}

// ---------------------------------------------------------------- classification

#[test]
fn classify_override_changes_the_kind_and_says_why() {
    let snap = snapshot("stale-access-key", "fires");
    let before = leastpriv()
        .arg("audit")
        .arg(&snap)
        .args(["--format", "json"])
        .run();
    before.code(0);
    let before = before.json();
    assert_eq!(principal(&before, "batch")["kind"], "npe");

    let after = audit_with_config(
        &snap,
        "classify:\n  overrides:\n    - arn: \"arn:aws:iam::*:user/batch\"\n      kind: agent\n",
    );
    let batch = principal(&after, "batch");
    assert_eq!(batch["kind"], "agent", "{batch:#}");
    assert_eq!(
        batch["kind_reason"], "override: ARN matches `arn:aws:iam::*:user/batch`",
        "{batch:#}"
    );
}

#[test]
fn classify_override_wins_over_the_trust_policy_and_changes_the_rules() {
    // `support-bot` is an agent by its trust policy (bedrock); as an npe the
    // agent rules no longer apply to it.
    let snap = snapshot("agent-without-source-identity", "fires");
    let report = audit_with_config(
        &snap,
        &format!(
            "classify:\n  overrides:\n    - arn: {ACCOUNT_ARN}role/support-bot\n      kind: npe\n"
        ),
    );
    let bot = principal(&report, "support-bot");
    assert_eq!(bot["kind"], "npe", "{bot:#}");
    assert!(
        bot["kind_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("override:")),
        "{bot:#}"
    );
    assert!(rule_findings(&report, "agent-without-source-identity").is_empty());
    // The agent-only guardrail `agent-secrets-outside-path` no longer applies.
    assert!(rule_findings(&report, "missing-guardrail").is_empty());
}

#[test]
fn classify_override_with_an_unknown_kind_is_a_usage_error() {
    let tmp = tempdir();
    let cfg = write(
        tmp.path(),
        "leastpriv.yaml",
        "classify:\n  overrides:\n    - arn: \"*\"\n      kind: robot\n",
    );
    let run = audit(
        &snapshot("stale-access-key", "fires"),
        tmp.path(),
        &["--config".as_ref(), cfg.as_os_str()],
    );
    usage_error(&run, &["[TMP]/leastpriv.yaml", "robot"]);
}

// ---------------------------------------------------------------- leastpriv.yaml

#[test]
fn config_with_an_unknown_field_exits_2_naming_the_file_and_field() {
    let tmp = tempdir();
    let cfg = write(
        tmp.path(),
        "leastpriv.yaml",
        "dormant_days: 30\ncredential_max_age_dayz: 10\n",
    );
    let run = audit(
        &snapshot("stale-access-key", "fires"),
        tmp.path(),
        &["--config".as_ref(), cfg.as_os_str()],
    );
    usage_error(
        &run,
        &[
            "`[TMP]/leastpriv.yaml`",
            "credential_max_age_dayz",
            "line 2",
        ],
    );
}

#[test]
fn missing_config_file_exits_2_naming_it() {
    let tmp = tempdir();
    let cfg = tmp.path().join("nope.yaml");
    let run = audit(
        &snapshot("stale-access-key", "fires"),
        tmp.path(),
        &["--config".as_ref(), cfg.as_os_str()],
    );
    usage_error(&run, &["[TMP]/nope.yaml"]);
}

#[test]
fn leastpriv_yaml_in_the_working_directory_is_read() {
    let tmp = tempdir();
    write(
        tmp.path(),
        "leastpriv.yaml",
        "credential_max_age_days: 365\n",
    );
    let run = leastpriv()
        .arg("audit")
        .arg(snapshot("stale-access-key", "fires"))
        .args(["--format", "json"])
        .current_dir(tmp.path())
        .tmp(tmp.path())
        .run();
    run.code(0);
    assert!(rule_findings(&run.json(), "stale-access-key").is_empty());
}

// ---------------------------------------------------------------- ages

// The `fires` key was last used exactly 200 days before the report, the
// `quiet` key 1 day before; a key is stale when older than the limit.

#[test]
fn credential_max_age_days_decides_whether_stale_access_key_fires() {
    let old = snapshot("stale-access-key", "fires");
    let stale = |max: i64, snap: &Path| {
        let r = audit_with_config(snap, &format!("credential_max_age_days: {max}\n"));
        !rule_findings(&r, "stale-access-key").is_empty()
    };
    assert!(stale(90, &old), "default-like limit");
    assert!(stale(199, &old), "200 days is older than 199");
    assert!(!stale(200, &old), "200 days is not older than 200");
    assert!(!stale(365, &old));
    let recent = snapshot("stale-access-key", "quiet");
    assert!(!stale(90, &recent));
    assert!(stale(0, &recent), "1 day is older than 0");
}

#[test]
fn credential_max_age_days_also_governs_console_passwords() {
    let snap = snapshot("stale-console-password", "fires");
    let r = audit_with_config(&snap, "credential_max_age_days: 365\n");
    assert!(rule_findings(&r, "stale-console-password").is_empty());
    let r = audit_with_config(&snap, "credential_max_age_days: 30\n");
    assert_eq!(rule_findings(&r, "stale-console-password").len(), 1);
}

#[test]
fn dormant_days_does_not_change_stale_access_key() {
    // Key age is `credential_max_age_days` only (docs/rules.md); `dormant_days`
    // is about activity.
    for case in ["fires", "quiet"] {
        let snap = snapshot("stale-access-key", case);
        let short = audit_with_config(&snap, "dormant_days: 1\n");
        let long = audit_with_config(&snap, "dormant_days: 1000\n");
        assert_eq!(
            rule_findings(&short, "stale-access-key").len(),
            rule_findings(&long, "stale-access-key").len(),
            "{case}"
        );
        assert_eq!(
            rule_findings(&short, "stale-access-key").len(),
            usize::from(case == "fires")
        );
    }
}

#[test]
fn dormant_days_decides_whether_iam_last_use_softens_dormant_principal() {
    // `worker` did nothing in the window; IAM reports its last use 61 days
    // before the report. Within `dormant_days` that is recent use outside the
    // window (low); beyond it, the role is plainly dormant (medium: it can
    // reach data exfiltration).
    let snap = snapshot("dormant-principal", "last-used-before-window");
    let sev = |days: i64| {
        let r = audit_with_config(&snap, &format!("dormant_days: {days}\n"));
        let f = rule_findings(&r, "dormant-principal");
        assert_eq!(f.len(), 1, "dormant_days {days}");
        f[0]["severity"].as_str().unwrap_or("?").to_owned()
    };
    assert_eq!(sev(90), "low");
    assert_eq!(sev(30), "medium");
}

// ---------------------------------------------------------------- --rules DIR

#[test]
fn rules_dir_classify_typo_exits_2_naming_the_file() {
    let tmp = tempdir();
    let shipped =
        std::fs::read_to_string(repo().join("rules/classify.yaml")).expect("rules/classify.yaml");
    assert!(shipped.contains("\ntag_keys:"));
    write(
        tmp.path(),
        "rules/classify.yaml",
        &shipped.replace("\ntag_keys:", "\ntag_kyes:"),
    );
    let dir = tmp.path().join("rules");
    let run = audit(
        &snapshot("stale-access-key", "fires"),
        tmp.path(),
        &["--rules".as_ref(), dir.as_os_str()],
    );
    usage_error(&run, &["`[TMP]/rules/classify.yaml`", "tag_kyes"]);
}

#[test]
fn rules_dir_guardrail_with_an_unknown_action_exits_2_naming_it() {
    let tmp = tempdir();
    write(
        tmp.path(),
        "rules/guardrails.yaml",
        "kinds:\n  agent:\n    - id: agent-no-objects\n      title: Agents must not read objects\n      actions: [\"s3:GetObjekt\"]\n",
    );
    let dir = tmp.path().join("rules");
    let run = audit(
        &snapshot("stale-access-key", "fires"),
        tmp.path(),
        &["--rules".as_ref(), dir.as_os_str()],
    );
    usage_error(
        &run,
        &[
            "`[TMP]/rules/guardrails.yaml`",
            "agent-no-objects",
            "`s3:GetObjekt`",
        ],
    );
}

#[test]
fn rules_dir_guardrails_replace_the_shipped_ones() {
    // With a guardrails.yaml that has no agent audit-trail guardrail, the
    // agent that may stop the trail no longer lacks one.
    let tmp = tempdir();
    write(
        tmp.path(),
        "rules/guardrails.yaml",
        "kinds:\n  agent:\n    - id: agent-no-iam\n      title: Agents must not change IAM\n      actions: [\"iam:*\"]\n",
    );
    let dir = tmp.path().join("rules");
    let run = audit(
        &snapshot("missing-guardrail", "fires"),
        tmp.path(),
        &["--rules".as_ref(), dir.as_os_str()],
    );
    run.code(0);
    assert!(rule_findings(&run.json(), "missing-guardrail").is_empty());
}

#[test]
fn missing_rules_dir_exits_2_naming_it() {
    let tmp = tempdir();
    let dir = tmp.path().join("no-such-rules");
    let run = audit(
        &snapshot("stale-access-key", "fires"),
        tmp.path(),
        &["--rules".as_ref(), dir.as_os_str()],
    );
    usage_error(&run, &["[TMP]/no-such-rules"]);
}

#[test]
fn config_rules_dir_is_relative_to_the_config_file() {
    let tmp = tempdir();
    write(
        tmp.path(),
        "conf/my-rules/guardrails.yaml",
        "kinds:\n  npe:\n    - id: npe-bad\n      title: x\n      actions: [\"iam:CreateAccesKey\"]\n",
    );
    let cfg = write(tmp.path(), "conf/leastpriv.yaml", "rules: my-rules\n");
    let run = audit(
        &snapshot("stale-access-key", "fires"),
        tmp.path(),
        &["--config".as_ref(), cfg.as_os_str()],
    );
    usage_error(
        &run,
        &[
            "[TMP]/conf/my-rules/guardrails.yaml",
            "`iam:CreateAccesKey`",
        ],
    );
}
