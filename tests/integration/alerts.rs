//! `alerts`: the EventBridge patterns match the demo's CloudTrail records
//! they should and no others. What "should" means is decided here without
//! the alerts code: the refusal test of the fold (`is_access_denied`), the
//! forward CloudTrail mapping, the guardrails of the principal's kind and
//! the actions of its recommended policy. The matcher (`alerts::eventbridge`)
//! is compared with the research oracle `tests/support/eb_match.py` on the
//! same cases.

use crate::common::{leastpriv, repo};
use leastpriv::alerts::{self, eventbridge, PrincipalAlerts, Purpose};
use leastpriv::audit::{run_with, Audit, AuditOptions};
use leastpriv::catalog::{ActionSet, Catalog};
use leastpriv::config::Settings;
use leastpriv::ingest::snapshot::SnapshotPaths;
use leastpriv::recommend::{recommend, Recommendation};
use leastpriv::rules::files::RuleFiles;
use leastpriv::usage::mapping::Mapped;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::OnceLock;

struct Demo {
    audit: Audit,
    recs: Vec<Recommendation>,
    rules: RuleFiles,
    alerts: Vec<PrincipalAlerts>,
    records: Vec<Value>,
}

fn demo() -> &'static Demo {
    static D: OnceLock<Demo> = OnceLock::new();
    D.get_or_init(|| build(&repo().join("fixtures/demo"), None))
}

/// Audits the snapshot `dir` (with these guardrails instead of the shipped
/// ones, if given), recommends, and builds the alerts.
fn build(dir: &Path, guardrails: Option<&str>) -> Demo {
    {
        let cat = Catalog::embedded();
        let settings = Settings::default();
        let mut rules = RuleFiles::load(cat, None, &settings).expect("shipped rules");
        if let Some(text) = guardrails {
            rules.guardrails =
                leastpriv::rules::guardrails::Guardrails::from_yaml(cat, "test", text)
                    .expect("guardrails");
        }
        let dir = dir.to_path_buf();
        let paths = SnapshotPaths::resolve(Some(&dir), &Default::default()).expect("snapshot");
        let audit = run_with(
            cat,
            &rules,
            &settings,
            &paths,
            &AuditOptions {
                now: Some(1_793_491_200),
                ..Default::default()
            },
        )
        .expect("audit");
        let recs = recommend(&audit);
        let alerts = alerts::alerts(
            &audit,
            alerts::Outside::Policies(&recs),
            &rules.guardrails,
            &rules.mapper,
        );
        let records = records(&dir.join("cloudtrail"));
        Demo {
            audit,
            recs,
            rules,
            alerts,
            records,
        }
    }
}

/// Every record under `dir` (S3 envelopes, gzip or not, and JSON arrays).
fn records(dir: &Path) -> Vec<Value> {
    let found = leastpriv::ingest::cloudtrail::discover(&[dir.to_path_buf()]);
    let mut out = Vec::new();
    for f in found.files {
        let bytes = leastpriv::ingest::cloudtrail::read_log_bytes(&f).expect("log file");
        // One document, or one record per line (NDJSON).
        for v in serde_json::Deserializer::from_slice(&bytes).into_iter::<Value>() {
            match v.expect("JSON log file") {
                Value::Object(mut o) => match o.remove("Records") {
                    Some(Value::Array(r)) => out.extend(r),
                    Some(_) => {}
                    None => out.push(Value::Object(o)),
                },
                Value::Array(r) => out.extend(r),
                _ => {}
            }
        }
    }
    // The same event delivered twice counts once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert(r["eventID"].as_str().unwrap_or("").to_string()));
    out
}

/// A record as EventBridge delivers it.
fn envelope(r: &Value) -> Value {
    let dt = match r["eventType"].as_str() {
        Some("AwsApiCall") => "AWS API Call via CloudTrail",
        Some("AwsConsoleSignIn") => "AWS Console Signin via CloudTrail",
        Some("AwsConsoleAction") => "AWS Console Action via CloudTrail",
        _ => "AWS Service Event via CloudTrail",
    };
    json!({"version": "0", "detail-type": dt, "source": "aws.cloudtrail",
           "region": r["awsRegion"], "detail": r})
}

/// The IAM user or role a record is by, as the alerts name it.
fn by(r: &Value) -> Option<&str> {
    let u = &r["userIdentity"];
    match u["type"].as_str()? {
        "IAMUser" => u["arn"].as_str(),
        "AssumedRole" => u["sessionContext"]["sessionIssuer"]["arn"].as_str(),
        _ => None,
    }
}

fn allowed(cat: &Catalog, rec: &Recommendation) -> ActionSet {
    let mut set = ActionSet::empty(cat);
    for st in rec.document["Statement"].as_array().into_iter().flatten() {
        if st["Effect"] != "Allow" {
            continue;
        }
        let acts: Vec<&str> = match &st["Action"] {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        for a in acts {
            set.union_with(&cat.expand(a));
        }
    }
    set
}

/// Whether a rule of `purpose` for principal `p` should match record `r`.
fn expected(d: &Demo, p: &PrincipalAlerts, purpose: Purpose, r: &Value) -> bool {
    if by(r) != Some(p.principal.as_str()) || r["eventType"] != "AwsApiCall" {
        return false;
    }
    let cat = d.audit.catalog;
    let mapped = d.rules.mapper.map(
        r["eventSource"].as_str().unwrap_or(""),
        r["eventName"].as_str().unwrap_or(""),
    );
    match purpose {
        Purpose::Refused => r["errorCode"]
            .as_str()
            .is_some_and(leastpriv::alerts::refused_code),
        Purpose::Guardrail => {
            let mut guarded = ActionSet::empty(cat);
            for g in d.rules.guardrails.for_kind(p.kind) {
                if g.resources_except.is_empty() {
                    guarded.union_with(&g.actions);
                }
            }
            matches!(&mapped, Mapped::Actions(ids) if ids.iter().any(|&id| guarded.contains(id)))
        }
        Purpose::OutsidePolicy => {
            let Some(rec) = d.recs.iter().find(|x| x.principal == p.principal) else {
                return false;
            };
            let set = allowed(cat, rec);
            match &mapped {
                Mapped::Actions(ids) => !ids.iter().all(|&id| set.contains(id)),
                Mapped::NoPermission(_) | Mapped::NotIam => false,
                Mapped::Unmapped => true,
            }
        }
    }
}

#[test]
fn demo_patterns_match_the_records_they_should_and_no_others() {
    let d = demo();
    assert!(d.records.len() > 100, "{} demo records", d.records.len());
    let mut hits = std::collections::BTreeMap::new();
    let mut wrong = Vec::new();
    for p in &d.alerts {
        for purpose in [Purpose::Refused, Purpose::Guardrail, Purpose::OutsidePolicy] {
            let rules: Vec<_> = p.rules.iter().filter(|r| r.purpose == purpose).collect();
            if rules.is_empty() {
                continue;
            }
            for r in &d.records {
                let ev = envelope(r);
                let got = rules
                    .iter()
                    .map(|x| eventbridge::matches(&x.pattern, &ev).expect("valid pattern"))
                    .filter(|&m| m)
                    .count();
                assert!(got <= 1, "parts of one alert overlap on {}", r["eventID"]);
                let want = expected(d, p, purpose, r);
                if (got == 1) != want {
                    wrong.push(format!(
                        "{} {}: {} {}:{} {:?} matched={} expected={want}",
                        p.principal,
                        purpose.as_str(),
                        r["eventID"],
                        r["eventSource"],
                        r["eventName"],
                        r["errorCode"],
                        got == 1
                    ));
                }
                if got == 1 {
                    *hits.entry(purpose.as_str()).or_insert(0) += 1;
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    for purpose in ["refused", "guardrail", "outside-policy"] {
        assert!(
            hits.get(purpose).copied().unwrap_or(0) > 0,
            "no demo record exercises `{purpose}`: {hits:?}"
        );
    }
}

#[test]
fn patterns_and_names_respect_the_service_limits() {
    let d = demo();
    for p in &d.alerts {
        for r in &p.rules {
            assert!(
                eventbridge::size(&r.pattern) <= eventbridge::PATTERN_LIMIT,
                "{}",
                r.name
            );
            assert!(r.name.len() <= 64, "{}", r.name);
            assert!(
                r.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
                "{}",
                r.name
            );
        }
        for f in &p.filters {
            assert!(
                f.pattern.chars().count() <= alerts::FILTER_LIMIT,
                "{}",
                f.name
            );
            assert!(f.name.len() <= 512, "{}", f.name);
        }
    }
}

/// The Rust matcher and the Python oracle agree on every alert pattern
/// against every demo record (and the oracle runs: under CI a missing
/// python3 is a failure).
#[test]
fn the_matcher_agrees_with_the_python_oracle() {
    let d = demo();
    let records: Vec<&Value> = d.records.iter().step_by(3).collect();
    agree_with_oracle(d, &records);
}

/// Every rule of `d` against `records`: the Rust matcher and the Python
/// oracle give the same answers, and both sides occur.
fn agree_with_oracle(d: &Demo, records: &[&Value]) {
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for p in &d.alerts {
        for r in &p.rules {
            for rec in records {
                let ev = envelope(rec);
                ours.push(eventbridge::matches(&r.pattern, &ev).expect("valid"));
                cases.push(json!([r.pattern, ev]));
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("cases.json");
    std::fs::write(&input, serde_json::to_vec(&cases).expect("json")).expect("write");
    let script = format!(
        "import json,sys; sys.path.insert(0, {:?}); import eb_match as m; \
         print(json.dumps([m.matches(p, e) for p, e in json.load(open({:?}))]))",
        repo().join("tests/support").display().to_string(),
        input.display().to_string()
    );
    let out = match std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "python3 is needed under CI: {e}"
            );
            eprintln!("skipped: no python3 ({e})");
            return;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<bool> = serde_json::from_slice(&out.stdout).expect("oracle output");
    assert_eq!(theirs.len(), ours.len());
    let differ: Vec<usize> = (0..ours.len()).filter(|&i| ours[i] != theirs[i]).collect();
    assert!(
        differ.is_empty(),
        "{} disagreements, first: {}",
        differ.len(),
        cases[differ[0]]
    );
    assert!(ours.iter().any(|&m| m) && ours.iter().any(|&m| !m));
}

/// The command writes one set: README, variables and two files per principal.
#[test]
fn alerts_command_writes_terraform_and_patterns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("alerts");
    let run = leastpriv()
        .args(["alerts", "fixtures/demo", "--out"])
        .arg(&out)
        .run();
    run.code(0);
    let readme = std::fs::read_to_string(out.join("README.md")).expect("README");
    assert!(readme.contains("us-east-1"), "{readme}");
    let vars = std::fs::read_to_string(out.join("variables.tf")).expect("variables");
    assert!(vars.contains("variable \"alert_target_arn\""));
    let d = demo();
    for p in &d.alerts {
        let stem = format!("{}-{}", p.identity_type, p.name);
        let tf = std::fs::read_to_string(out.join(format!("{stem}.tf"))).expect("tf");
        assert!(tf.contains("aws_cloudwatch_event_rule"), "{stem}");
        assert!(tf.contains("aws_cloudwatch_log_metric_filter"), "{stem}");
        let doc: Value =
            serde_json::from_slice(&std::fs::read(out.join(format!("{stem}.json"))).expect("json"))
                .expect("valid json");
        assert_eq!(doc["schema"], alerts::SCHEMA);
        assert_eq!(doc["principal"], p.principal.as_str());
        for (r, want) in doc["event_rules"]
            .as_array()
            .expect("rules")
            .iter()
            .zip(&p.rules)
        {
            assert_eq!(r["event_pattern"], want.pattern);
            // The Terraform holds the same pattern text.
            let text = serde_json::to_string(&want.pattern.to_string()).expect("string");
            assert!(tf.contains(&text), "{stem}: {}", want.name);
        }
    }
    // A rerun changes nothing.
    let again = leastpriv()
        .args(["alerts", "fixtures/demo", "--out"])
        .arg(&out)
        .run();
    again.code(0);
    assert!(again.stdout.contains(" 0 written"), "{}", again.stdout);
}

/// A reader of the CloudWatch Logs JSON filter syntax the alerts write
/// (`{ ... }` with `&&`, `||`, parentheses, `$.a.b = "v"` and `!=`, `*` as
/// a wildcard inside values), from "Using filter patterns to match terms in
/// JSON log events" (CloudWatch Logs User Guide).
mod logs_filter {
    use serde_json::Value;

    #[derive(Debug, PartialEq)]
    enum Tok {
        Open,
        Close,
        And,
        Or,
        Eq,
        Ne,
        Path(Vec<String>),
        Str(String),
    }

    fn lex(s: &str) -> Vec<Tok> {
        let b: Vec<char> = s.chars().collect();
        let mut i = 0;
        let mut out = Vec::new();
        while i < b.len() {
            match b[i] {
                ' ' | '{' | '}' => i += 1,
                '(' => {
                    out.push(Tok::Open);
                    i += 1
                }
                ')' => {
                    out.push(Tok::Close);
                    i += 1
                }
                '&' => {
                    out.push(Tok::And);
                    i += 2
                }
                '|' => {
                    out.push(Tok::Or);
                    i += 2
                }
                '=' => {
                    out.push(Tok::Eq);
                    i += 1
                }
                '!' => {
                    out.push(Tok::Ne);
                    i += 2
                }
                '$' => {
                    let start = i + 2;
                    i = start;
                    while i < b.len() && !" )=!".contains(b[i]) {
                        i += 1;
                    }
                    let p: String = b[start..i].iter().collect();
                    out.push(Tok::Path(p.split('.').map(String::from).collect()));
                }
                '"' => {
                    let mut v = String::new();
                    i += 1;
                    while b[i] != '"' {
                        if b[i] == '\\' {
                            i += 1;
                        }
                        v.push(b[i]);
                        i += 1;
                    }
                    i += 1;
                    out.push(Tok::Str(v));
                }
                c => panic!("unexpected `{c}` in filter {s}"),
            }
        }
        out
    }

    fn wild(p: &str, s: &str) -> bool {
        let parts: Vec<&str> = p.split('*').collect();
        if parts.len() == 1 {
            return p == s;
        }
        let (first, last) = (parts[0], parts[parts.len() - 1]);
        if !s.starts_with(first) || !s[first.len()..].ends_with(last) {
            return false;
        }
        let mut rest = &s[first.len()..s.len() - last.len()];
        for mid in &parts[1..parts.len() - 1] {
            match rest.find(mid) {
                Some(k) => rest = &rest[k + mid.len()..],
                None => return false,
            }
        }
        true
    }

    struct P<'a> {
        t: &'a [Tok],
        i: usize,
        ev: &'a Value,
    }

    impl P<'_> {
        fn or(&mut self) -> bool {
            let mut v = self.and();
            while self.t.get(self.i) == Some(&Tok::Or) {
                self.i += 1;
                v |= self.and();
            }
            v
        }
        fn and(&mut self) -> bool {
            let mut v = self.atom();
            while self.t.get(self.i) == Some(&Tok::And) {
                self.i += 1;
                v &= self.atom();
            }
            v
        }
        fn atom(&mut self) -> bool {
            if self.t[self.i] == Tok::Open {
                self.i += 1;
                let v = self.or();
                assert_eq!(self.t[self.i], Tok::Close);
                self.i += 1;
                return v;
            }
            let (Tok::Path(p), op, Tok::Str(want)) =
                (&self.t[self.i], &self.t[self.i + 1], &self.t[self.i + 2])
            else {
                panic!("bad comparison at {}", self.i)
            };
            self.i += 3;
            let got = p
                .iter()
                .try_fold(self.ev, |v, k| v.get(k))
                .and_then(Value::as_str);
            match (op, got) {
                (Tok::Eq, Some(g)) => wild(want, g),
                (Tok::Ne, Some(g)) => !wild(want, g),
                _ => false,
            }
        }
    }

    /// Whether the filter matches the log event (a CloudTrail record).
    pub fn matches(filter: &str, record: &Value) -> bool {
        let t = lex(filter);
        let mut p = P {
            t: &t,
            i: 0,
            ev: record,
        };
        let v = p.or();
        assert_eq!(p.i, t.len(), "trailing tokens in {filter}");
        v
    }
}

/// The metric filters count what the EventBridge rules match: per record,
/// the refused and guardrail metrics add 1 exactly when the rule matches,
/// and `calls - covered` is 1 exactly for calls outside the policy.
#[test]
fn metric_filters_count_the_records_the_rules_match() {
    let d = demo();
    let mut wrong = Vec::new();
    let mut counted = 0;
    for p in &d.alerts {
        let sum = |metric: &str, r: &Value| {
            p.filters
                .iter()
                .filter(|f| f.metric == metric)
                .filter(|f| logs_filter::matches(&f.pattern, r))
                .count()
        };
        for r in &d.records {
            for purpose in [Purpose::Refused, Purpose::Guardrail, Purpose::OutsidePolicy] {
                if !p.rules.iter().any(|x| x.purpose == purpose) {
                    continue;
                }
                let want = usize::from(expected(d, p, purpose, r));
                let got = match purpose {
                    Purpose::Refused | Purpose::Guardrail => {
                        sum(&format!("{}-{}", p.stem, purpose.as_str()), r)
                    }
                    Purpose::OutsidePolicy => {
                        let calls = sum(&format!("{}-calls", p.stem), r);
                        let covered = sum(&format!("{}-covered", p.stem), r);
                        assert!(covered <= calls, "{} covered but not counted", r["eventID"]);
                        calls - covered
                    }
                };
                counted += got;
                if got != want {
                    wrong.push(format!(
                        "{} {}: {} {}:{} got {got} want {want}",
                        p.principal,
                        purpose.as_str(),
                        r["eventID"],
                        r["eventSource"],
                        r["eventName"]
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(counted > 0);
}

/// The refused alert and the fold agree on which error codes are refusals,
/// over the codes AWS services return for refusals and other failures.
#[test]
fn refused_alerts_use_the_folds_refusal_codes() {
    let d = demo();
    let p = d
        .alerts
        .iter()
        .find(|p| p.identity_type == "user")
        .expect("a user");
    let rule = p
        .rules
        .iter()
        .find(|r| r.purpose == Purpose::Refused)
        .expect("rule");
    let filter = p
        .filters
        .iter()
        .find(|f| f.purpose == Purpose::Refused)
        .expect("filter");
    let codes = [
        "AccessDenied",
        "AccessDeniedException",
        "Client.UnauthorizedOperation",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "UnauthorizedException",
        "Forbidden",
        "ForbiddenException",
        "NotAuthorizedException",
        "VpceAccessDenied",
        "KMS.AccessDeniedException",
        "ThrottlingException",
        "NoSuchKey",
        "ResourceNotFoundException",
        "ValidationException",
        "ExpiredToken",
        "Client.DryRunOperation",
    ];
    for code in codes {
        let r = json!({"eventType": "AwsApiCall", "errorCode": code,
                       "userIdentity": {"type": "IAMUser", "arn": p.principal}});
        let want = leastpriv::alerts::refused_code(code);
        assert_eq!(
            eventbridge::matches(&rule.pattern, &envelope(&r)).expect("valid"),
            want,
            "event pattern, {code}"
        );
        assert_eq!(
            logs_filter::matches(&filter.pattern, &r),
            want,
            "metric filter, {code}"
        );
    }
}

/// Regression: with logs that hold nothing of the audited account, `alerts`
/// wrote outside-policy alerts from recommendations that allow nothing (they
/// would fire on every call). It applies `recommend`'s guard: the refused
/// and guardrail alerts (which need no evidence) are written, the
/// outside-policy ones only with `--allow-empty-evidence`.
#[test]
fn alerts_write_no_outside_policy_alert_on_no_evidence() {
    use std::collections::BTreeSet;
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("no-logs");
    std::fs::create_dir(&empty).expect("mkdir");
    let purposes = |out: &Path| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        for e in std::fs::read_dir(out).expect("read_dir") {
            let path = e.expect("entry").path();
            if path.extension().is_some_and(|x| x == "json") {
                let doc: Value =
                    serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
                for r in doc["event_rules"].as_array().into_iter().flatten() {
                    seen.insert(r["purpose"].as_str().unwrap_or("?").to_string());
                }
            }
        }
        seen
    };
    let run = |out: &Path, extra: &[&str]| {
        leastpriv()
            .args(["alerts", "--iam", "fixtures/demo/iam.json", "--cloudtrail"])
            .arg(&empty)
            .arg("--out")
            .arg(out)
            .args(extra)
            .run()
    };
    let guarded = dir.path().join("guarded");
    let r = run(&guarded, &[]);
    r.code(0);
    assert!(
        r.stdout
            .contains("refusing to write outside-policy alerts: no CloudTrail record")
            && r.stdout
                .contains("`--allow-empty-evidence` writes them anyway")
            && r.stdout.contains("the refused and guardrail alerts only"),
        "{}",
        r.stdout
    );
    let got = purposes(&guarded);
    assert!(
        got.contains("refused") && got.contains("guardrail"),
        "{got:?}"
    );
    assert!(!got.contains("outside-policy"), "{got:?}");
    let readme = std::fs::read_to_string(guarded.join("README.md")).expect("README");
    assert!(readme.contains("no outside-policy alert"), "{readme}");

    let allowed = dir.path().join("allowed");
    run(&allowed, &["--allow-empty-evidence"]).code(0);
    assert!(purposes(&allowed).contains("outside-policy"));
}

/// Regression: the patterns spelled out Lambda's versioned event names only,
/// so CloudFront's `CreateDistribution2020_05_31` was counted as outside a
/// policy that allows `cloudfront:CreateDistribution` (and missed by a
/// guardrail on it). The names now come from the mapping's
/// `api_version_suffixes`: checked with both matchers and the forward
/// mapping, on records of both services, used and not.
#[test]
fn versioned_event_names_of_cloudfront_and_lambda() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path();
    let arn = "arn:aws:iam::111122223333:role/cdn-deployer";
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
        "Action": ["cloudfront:CreateDistribution", "cloudfront:CreateDistributionWithTags",
                   "cloudfront:GetDistribution", "lambda:GetFunction", "lambda:UpdateFunctionCode",
                   "lambda:GetFunctionConfiguration"]}]});
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let iam = json!({"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [{
        "Path": "/", "RoleName": "cdn-deployer", "RoleId": "AROAEXAMPLECDN", "Arn": arn,
        "CreateDate": "2025-01-01T00:00:00Z", "AssumeRolePolicyDocument": trust,
        "InstanceProfileList": [], "AttachedManagedPolicies": [],
        "RolePolicyList": [{"PolicyName": "cdn", "PolicyDocument": policy}]}]});
    std::fs::write(snap.join("iam.json"), iam.to_string()).expect("iam");
    let rec = |i: usize, source: &str, name: &str, error: Option<&str>| {
        let mut r = json!({"eventVersion": "1.09", "eventTime": format!("2026-10-0{}T10:00:00Z", 1 + i % 9),
            "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
            "eventType": "AwsApiCall", "eventCategory": "Management", "managementEvent": true,
            "readOnly": name.starts_with("Get"), "eventID": format!("00000000-0000-0000-0000-{i:012}"),
            "recipientAccountId": "111122223333", "sourceIPAddress": "codebuild.amazonaws.com",
            "userAgent": "aws-sdk-go-v2/1.30.0",
            "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLECDN:build-1",
                "arn": "arn:aws:sts::111122223333:assumed-role/cdn-deployer/build-1",
                "accountId": "111122223333",
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLECDN",
                    "arn": arn, "accountId": "111122223333", "userName": "cdn-deployer"}}}});
        if let Some(e) = error {
            r["errorCode"] = json!(e);
        }
        r
    };
    let cf = "cloudfront.amazonaws.com";
    let lambda = "lambda.amazonaws.com";
    // In the trail: what the role did, so its recommended policy allows
    // cloudfront:CreateDistribution and lambda:GetFunction.
    let used = vec![
        rec(1, cf, "CreateDistribution2020_05_31", None),
        rec(2, lambda, "GetFunction20150331v2", None),
    ];
    std::fs::create_dir(snap.join("cloudtrail")).expect("mkdir");
    std::fs::write(
        snap.join("cloudtrail/records.json"),
        json!({"Records": used}).to_string(),
    )
    .expect("records");
    // Probed, not in the trail: versions and names the policy allows or not.
    let mut probes = used.clone();
    probes.extend([
        rec(3, cf, "CreateDistribution2019_03_26", None),
        rec(4, cf, "CreateDistribution", None),
        rec(5, cf, "CreateDistributionWithTags2020_05_31", None),
        rec(6, cf, "GetDistribution2020_05_31", None),
        rec(7, lambda, "GetFunction20150331", None),
        rec(8, lambda, "GetFunctionConfiguration20150331v2", None),
        rec(9, lambda, "UpdateFunctionCode20150331v2", None),
        rec(10, cf, "UpdateDistribution2020_05_31", Some("AccessDenied")),
    ]);
    let guardrails = "kinds:\n  npe:\n    - id: no-cdn-or-code\n      title: test\n      actions: [\"cloudfront:CreateDistribution\", \"lambda:UpdateFunctionCode\"]\n";
    let d = build(snap, Some(guardrails));
    let p = d
        .alerts
        .iter()
        .find(|a| a.principal == arn)
        .expect("the role's alerts");
    assert_eq!(p.kind, leastpriv::model::Kind::Npe);
    let hits = |purpose: Purpose| -> Vec<String> {
        probes
            .iter()
            .filter(|r| {
                let ev = envelope(r);
                let got = p
                    .rules
                    .iter()
                    .filter(|x| x.purpose == purpose)
                    .any(|x| eventbridge::matches(&x.pattern, &ev).expect("valid"));
                assert_eq!(
                    got,
                    expected(&d, p, purpose, r),
                    "{} {}: {}",
                    purpose.as_str(),
                    r["eventName"],
                    serde_json::to_string(
                        &p.rules
                            .iter()
                            .filter(|x| x.purpose == purpose)
                            .map(|x| &x.pattern)
                            .collect::<Vec<_>>()
                    )
                    .unwrap_or_default()
                );
                got
            })
            .map(|r| r["eventName"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        hits(Purpose::OutsidePolicy),
        [
            "CreateDistributionWithTags2020_05_31",
            "GetDistribution2020_05_31",
            "GetFunctionConfiguration20150331v2",
            "UpdateFunctionCode20150331v2",
            "UpdateDistribution2020_05_31",
        ]
    );
    // CreateDistributionWithTags needs cloudfront:CreateDistribution (and
    // cloudfront:TagResource, which the policy does not allow: outside too).
    assert_eq!(
        hits(Purpose::Guardrail),
        [
            "CreateDistribution2020_05_31",
            "CreateDistribution2019_03_26",
            "CreateDistribution",
            "CreateDistributionWithTags2020_05_31",
            "UpdateFunctionCode20150331v2",
        ]
    );
    let probes_ref: Vec<&Value> = probes.iter().collect();
    agree_with_oracle(&d, &probes_ref);
}
