//! `recommend --check --policies DIR` end to end: the policy files `--out
//! DIR` wrote, edited as a reviewer would before merging, proved in place of
//! the generated documents. Unchanged files pass (exit 0); a dropped use, a
//! grant wider than today, a Deny on a used call and an account's use
//! dropped from a permission set fail (exit 1), each failure on stderr with
//! the file, the action and the resource; a file that cannot be proved is
//! an error naming it (exit 2).

use crate::common::{leastpriv, Run};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const DEMO: &str = "fixtures/demo";
const ORG: &str = "tests/fixtures/org";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-AbCdEf";
const KMS_KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// `recommend SNAPSHOT --out TMP/rec [args]`; returns TMP/rec.
fn write_recommendations(snapshot: &str, tmp: &Path, args: &[&str]) -> PathBuf {
    let dir = tmp.join("rec");
    leastpriv()
        .args(["recommend", snapshot, "--out"])
        .arg(&dir)
        .args(args)
        .run()
        .code(0);
    dir
}

/// `recommend SNAPSHOT --check --policies DIR [args]`, DIR scrubbed to `[TMP]`.
fn check(snapshot: &str, tmp: &Path, dir: &Path, args: &[&str]) -> Run {
    leastpriv()
        .args(["recommend", snapshot, "--check", "--policies"])
        .arg(dir)
        .args(args)
        .tmp(tmp)
        .run()
}

fn edit(path: &Path, f: impl FnOnce(&mut Vec<Value>)) {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let Some(Value::Array(st)) = doc.get_mut("Statement") else {
        panic!("{}: no statement list", path.display())
    };
    f(st);
    std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

/// The lines of `stderr` that report a failed proof.
fn failures(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("proof failed: "))
        .collect()
}

#[test]
fn unchanged_policy_files_pass_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(DEMO, tmp.path(), &[]);
    let before: Vec<_> = walk(&dir);
    let run = check(DEMO, tmp.path(), &dir, &[]);
    run.code(0);
    assert_eq!(
        run.stdout,
        "proof: 10 of 10 policy file(s) under [TMP]/rec passed\n"
    );
    assert_eq!(run.stderr, "");
    assert_eq!(walk(&dir), before, "--check --policies wrote something");
}

/// Every file under `dir` with its content, sorted.
fn walk(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_file_that_drops_a_used_action_fails_naming_file_action_and_resource() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(DEMO, tmp.path(), &[]);
    edit(&dir.join("role/orders-api.json"), |st| {
        st.retain(|s| s["Action"] != "secretsmanager:GetSecretValue");
    });
    let run = check(DEMO, tmp.path(), &dir, &[]);
    run.code(1);
    assert_eq!(
        failures(&run.stderr),
        [format!(
            "proof failed: `[TMP]/rec/role/orders-api.json` (role `orders-api`): used-not-allowed `secretsmanager:GetSecretValue` on `{SECRET}`: used and allowed today (allow); with the recommended policy: no statement allows it"
        )],
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stdout,
        "proof: 9 of 10 policy file(s) under [TMP]/rec passed, 1 failed (`role/orders-api.json`)\n"
    );
}

#[test]
fn a_file_wider_than_today_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(DEMO, tmp.path(), &[]);
    edit(&dir.join("role/orders-api.json"), |st| {
        st.push(json!({"Sid": "Admin", "Effect": "Allow", "Action": "iam:*", "Resource": "*"}));
        // A resource today's policies do not grant the action on.
        for s in st.iter_mut() {
            if s["Action"] == "kms:Decrypt" {
                s["Resource"] = json!("arn:aws:kms:us-east-1:111122223333:key/*");
            }
        }
    });
    let run = check(DEMO, tmp.path(), &dir, &[]);
    run.code(1);
    let lines = failures(&run.stderr);
    let file = "proof failed: `[TMP]/rec/role/orders-api.json` (role `orders-api`): ";
    assert!(
        lines.contains(&format!("{file}wider-than-today `iam:CreateUser` on `*`: statement `Admin` allows it; the replaced policies do not allow it").as_str()),
        "{}",
        run.stderr
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "{file}wider-than-today `kms:Decrypt` on `arn:aws:kms:us-east-1:111122223333:key/*`: statement `Used2` allows it; the replaced policies allow it on "
        ))),
        "{}",
        run.stderr
    );
    assert!(lines.iter().all(|l| l.starts_with(file)), "{}", run.stderr);
}

#[test]
fn a_deny_of_a_used_call_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(DEMO, tmp.path(), &[]);
    edit(&dir.join("role/orders-api.json"), |st| {
        st.push(json!({"Sid": "NoKms", "Effect": "Deny", "Action": "kms:*", "Resource": "*"}));
    });
    let run = check(DEMO, tmp.path(), &dir, &[]);
    run.code(1);
    assert_eq!(
        failures(&run.stderr),
        [format!(
            "proof failed: `[TMP]/rec/role/orders-api.json` (role `orders-api`): guardrail-denies-use `kms:Decrypt` on `{KMS_KEY}`: added guardrail `NoKms` may deny this used call"
        )],
        "{}",
        run.stderr
    );
    // A Deny of what was not used passes.
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(DEMO, tmp.path(), &[]);
    edit(&dir.join("role/orders-api.json"), |st| {
        st.push(json!({"Sid": "NoDelete", "Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}));
    });
    check(DEMO, tmp.path(), &dir, &[]).code(0);
}

#[test]
fn malformed_json_is_an_error_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(DEMO, tmp.path(), &[]);
    std::fs::write(
        dir.join("user/bob.json"),
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", }\n  ]\n}\n",
    )
    .unwrap();
    let run = check(DEMO, tmp.path(), &dir, &[]);
    run.code(2);
    assert!(
        run.stderr.contains(
            "error: `[TMP]/rec/user/bob.json`: invalid JSON at line 4, column 25: trailing comma\n"
        ),
        "{}",
        run.stderr
    );
    // The other files are proved all the same.
    assert_eq!(
        run.stdout,
        "proof: 9 of 9 policy file(s) under [TMP]/rec passed, 1 could not be proved\n"
    );
}

#[test]
fn an_invalid_policy_is_an_error_naming_file_line_and_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(DEMO, tmp.path(), &[]);
    std::fs::write(
        dir.join("role/orders-api.json"),
        r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": "*"},
    {"Effect": "Alow", "Action": "kms:Decrypt", "Resource": "*"}
  ]
}
"#,
    )
    .unwrap();
    let run = check(DEMO, tmp.path(), &dir, &[]);
    run.code(2);
    assert!(
        run.stderr.contains(
            "error: `[TMP]/rec/role/orders-api.json`: line 5, column 5: not a valid IAM policy: at `$.Statement[1].Effect`: must be `Allow` or `Deny`, found \"Alow\"\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn files_and_principals_that_do_not_match_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(DEMO, tmp.path(), &[]);
    // A file no principal of the snapshot has: an error.
    std::fs::copy(
        dir.join("role/orders-api.json"),
        dir.join("role/orders.json"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("role-group/reader")).unwrap();
    std::fs::write(dir.join("role-group/reader/reader.json"), "{}").unwrap();
    // A principal with no file: a warning (its policies stay as today).
    std::fs::remove_file(dir.join("user/alice.json")).unwrap();
    // The derived files are not read.
    std::fs::write(dir.join("user/bob.tf"), "not terraform").unwrap();
    let run = check(DEMO, tmp.path(), &dir, &[]);
    run.code(2);
    for line in [
        "error: `[TMP]/rec/role/orders.json`: no recommendation of this run is written to this file (no principal, group or unit of the snapshot has this name: renamed, removed since, or written from another snapshot)",
        "error: `[TMP]/rec/role-group/reader/reader.json`: no recommendation of this run is written to this file (role groups are recommended with `--group-by-name` only)",
        "warning: 1 recommendation(s) without a file under `[TMP]/rec`, not checked (their policies stay as they are today): `user/alice.json`",
    ] {
        assert!(run.stderr.contains(&format!("{line}\n")), "{line}\n{}", run.stderr);
    }
    assert_eq!(
        run.stdout,
        "proof: 9 of 9 policy file(s) under [TMP]/rec passed, 2 could not be proved, 1 recommendation(s) without a file\n"
    );
    // Only the missing file: a warning, exit 0; an error with --strict.
    std::fs::remove_file(dir.join("role/orders.json")).unwrap();
    std::fs::remove_dir_all(dir.join("role-group")).unwrap();
    check(DEMO, tmp.path(), &dir, &[]).code(0);
    let strict = check(DEMO, tmp.path(), &dir, &["--strict"]);
    strict.code(2);
    assert!(
        strict
            .stderr
            .contains("error: --strict: 1 recommendation(s) without a file"),
        "{}",
        strict.stderr
    );
}

#[test]
fn an_empty_or_missing_directory_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = check(DEMO, tmp.path(), tmp.path(), &[]);
    run.code(2);
    assert!(
        run.stderr.contains("error: no policy file under `[TMP]`"),
        "{}",
        run.stderr
    );
    let run = check(DEMO, tmp.path(), &tmp.path().join("nope"), &[]);
    run.code(2);
    assert!(
        run.stderr.contains("error: cannot read `[TMP]/nope`"),
        "{}",
        run.stderr
    );
    // `--policies` is a form of `--check`, and writes nothing.
    let run = leastpriv()
        .args(["recommend", DEMO, "--policies", "x"])
        .run();
    run.code(2);
    let run = leastpriv()
        .args([
            "recommend",
            DEMO,
            "--check",
            "--policies",
            "x",
            "--out",
            "y",
        ])
        .run();
    run.code(2);
}

#[test]
fn a_permission_set_file_that_drops_one_accounts_use_fails_naming_the_account() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(ORG, tmp.path(), &[]);
    check(ORG, tmp.path(), &dir, &[]).code(0);
    // Ops filtered log events in prod (333333333333) only; its records
    // name no log group, so the call is decided per action.
    let ops = dir.join("permission-set/Ops/Ops.json");
    edit(&ops, |st| {
        st.retain(|s| s["Action"] != "logs:FilterLogEvents");
    });
    let run = check(ORG, tmp.path(), &dir, &[]);
    run.code(1);
    assert_eq!(
        failures(&run.stderr),
        ["proof failed: `[TMP]/rec/permission-set/Ops/Ops.json` (permission set `Ops`): used-not-allowed `logs:FilterLogEvents`: used (account `333333333333`) and granted today; the records name no resource, and with the recommended policy no statement allows it"],
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains(", 1 failed (`permission-set/Ops/Ops.json`)"),
        "{}",
        run.stdout
    );
    // Dropping dev's (222222222222) use names dev.
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(ORG, tmp.path(), &[]);
    edit(&dir.join("permission-set/Ops/Ops.json"), |st| {
        st.retain(|s| s["Action"] != "logs:GetLogEvents");
    });
    let run = check(ORG, tmp.path(), &dir, &[]);
    run.code(1);
    assert_eq!(
        failures(&run.stderr),
        ["proof failed: `[TMP]/rec/permission-set/Ops/Ops.json` (permission set `Ops`): used-not-allowed `logs:GetLogEvents`: used (account `222222222222`) and granted today; the records name no resource, and with the recommended policy no statement allows it"],
        "{}",
        run.stderr
    );
}

/// `tests/fixtures/ci-artifacts`: role `ci-builder` wrote 304 objects, more
/// than the sample of 20 keeps (the smallest names, all under
/// `ci-artifacts/`); the others (`ci-cache/`, `ci-reports/`) only the
/// resource summary names.
const CI: &str = "tests/fixtures/ci-artifacts";

/// Regression: the proof decided the sample's 20 resources only, so a
/// policy that dropped a resource past the sample passed. Fires on a file
/// that drops `ci-reports/coverage/latest.json` (past the sample); quiet on
/// the file as written.
#[test]
fn a_file_that_drops_a_resource_past_the_sample_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(CI, tmp.path(), &[]);
    check(CI, tmp.path(), &dir, &[]).code(0);
    let report = "arn:aws:s3:::ci-reports/coverage/latest.json";
    edit(&dir.join("role/ci-builder.json"), |st| {
        for s in st.iter_mut() {
            if let Some(r) = s["Resource"].as_array_mut() {
                r.retain(|x| x != report);
            }
        }
    });
    let run = check(CI, tmp.path(), &dir, &[]);
    run.code(1);
    let lines = failures(&run.stderr);
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with(&format!(
            "proof failed: `[TMP]/rec/role/ci-builder.json` (role `ci-builder`): used-not-allowed `s3:PutObject` on `{report}`: used past the sample of 20 named (the summary of every resource used holds it), allowed today (allow); with the recommended policy: no statement allows it"
        )),
        "{}",
        run.stderr
    );
}

/// Regression: a Deny was checked against the sample only. Fires on a Deny
/// of `ci-cache/*` (every name of it past the sample); quiet on a Deny of a
/// bucket the role never wrote to.
#[test]
fn a_deny_of_a_use_past_the_sample_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(CI, tmp.path(), &[]);
    edit(&dir.join("role/ci-builder.json"), |st| {
        st.push(json!({"Sid": "NoCache", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::ci-cache/*"}));
    });
    let run = check(CI, tmp.path(), &dir, &[]);
    run.code(1);
    let lines = failures(&run.stderr);
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with(
            "proof failed: `[TMP]/rec/role/ci-builder.json` (role `ci-builder`): guardrail-denies-use `s3:PutObject` on `arn:aws:s3:::ci-cache/deps/cargo.tar`: added guardrail `NoCache` may deny this used call on a resource beyond the sample of 20 named"
        ),
        "{}",
        run.stderr
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_recommendations(CI, tmp.path(), &[]);
    edit(&dir.join("role/ci-builder.json"), |st| {
        st.push(json!({"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::ci-secrets/*"}));
    });
    check(CI, tmp.path(), &dir, &[]).code(0);
}
