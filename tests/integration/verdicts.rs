//! The data-driven verdict corpus, in the style of the evaluator corpus:
//! every `tests/verdicts/*.yaml` file holds cases, each a principal's
//! policies (identity policies and an optional boundary, as IAM JSON embedded
//! as YAML maps), the CloudTrail records it made (abbreviated), and the
//! verdict the audit must reach for each action, with who refused and the
//! grant decision for the resources the records named.
//!
//! Each case runs the whole pipeline (records → fold → verdicts) on a
//! snapshot written to a temporary directory, and checks the verdict as the
//! library decides it and as the JSON and CSV reports write it. Every case
//! of every file runs, and all failures are reported together, each with its
//! file and case name. The schema denies unknown fields.
//!
//! Schema, by example:
//!
//! ```yaml
//! cases:
//!   - name: unique-in-this-file
//!     description: optional free text
//!     identity: [{Statement: [...]}]     # inline policies of role `subject`
//!     boundary: {Statement: [...]}       # optional permissions boundary
//!     records:
//!       - source: s3.amazonaws.com
//!         name: GetObject
//!         resources: [arn:aws:s3:::b/k]  # the record's `resources` ARNs
//!         region: eu-west-1              # default us-east-1
//!         error_code: AccessDenied       # optional
//!         error_message: "..."           # optional
//!         parameters: {bucketName: b}    # optional requestParameters
//!         count: 2                       # copies of the record, default 1
//!     unknown_error_codes: {SomeCode: 1} # optional: the coverage's count
//!     expect:
//!       - action: s3:GetObject
//!         verdict: denied               # used | used-failed | attempted |
//!                                       # denied | unused | unobservable |
//!                                       # not-granted
//!         refused_by: own-deny          # optional (denied only)
//!         grant: no                     # optional: yes | conditional | partly | no,
//!                                       # of the records the verdict rests on
//!         not_granted: [arn:...]        # optional
//!         no_resource: false            # optional
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use leastpriv::audit::{run, Audit, AuditOptions};
use leastpriv::catalog::Catalog;
use leastpriv::ingest::snapshot::SnapshotPaths;
use leastpriv::verdict::{GrantCheck, PrincipalVerdicts, Verdict};
use serde::Deserialize;
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const ROLE: &str = "arn:aws:iam::111122223333:role/subject";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation for the reader of the YAML
    description: Option<String>,
    identity: Vec<Value>,
    #[serde(default)]
    boundary: Option<Value>,
    #[serde(default)]
    records: Vec<RecordCase>,
    #[serde(default)]
    unknown_error_codes: Option<BTreeMap<String, u64>>,
    expect: Vec<Expect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordCase {
    source: String,
    name: String,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default)]
    count: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    action: String,
    verdict: String,
    #[serde(default)]
    refused_by: Option<String>,
    #[serde(default)]
    grant: Option<String>,
    #[serde(default)]
    not_granted: Option<Vec<String>>,
    #[serde(default)]
    no_resource: Option<bool>,
}

/// Writes the case's snapshot: `iam.json` with role `subject`, its records
/// and a management-events trail.
fn snapshot(case: &Case, dir: &Path) {
    let inline: Vec<Value> = case
        .identity
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"PolicyName": format!("policy-{i}"), "PolicyDocument": d}))
        .collect();
    let mut role = json!({
        "RoleName": "subject", "RoleId": "AROASUBJECT", "Path": "/",
        "Arn": ROLE,
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]},
        "RolePolicyList": inline,
        "AttachedManagedPolicies": []
    });
    let mut policies = Vec::new();
    if let Some(b) = &case.boundary {
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy/boundary");
        role["PermissionsBoundary"] = json!({
            "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn});
        policies.push(json!({
            "PolicyName": "boundary", "Arn": arn, "DefaultVersionId": "v1",
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": b}]
        }));
    }
    let iam = json!({"RoleDetailList": [role], "UserDetailList": [],
                     "GroupDetailList": [], "Policies": policies});
    std::fs::write(dir.join("iam.json"), serde_json::to_vec(&iam).unwrap()).unwrap();
    let mut records = Vec::new();
    for (i, r) in case.records.iter().enumerate() {
        for n in 0..r.count.unwrap_or(1) {
            let mut rec = json!({
                "eventVersion": "1.09",
                "eventTime": format!("2026-10-{:02}T10:00:{:02}Z", 1 + i % 28, n % 60),
                "eventSource": r.source, "eventName": r.name,
                "awsRegion": r.region.as_deref().unwrap_or("us-east-1"),
                "eventID": format!("case-{i}-{n}"), "eventType": "AwsApiCall",
                "recipientAccountId": ACCOUNT,
                "userIdentity": {"type": "AssumedRole",
                    "arn": "arn:aws:sts::111122223333:assumed-role/subject/s",
                    "accountId": ACCOUNT,
                    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}}},
            });
            if !r.resources.is_empty() {
                rec["resources"] = r.resources.iter().map(|a| json!({"ARN": a})).collect();
            }
            if let Some(c) = &r.error_code {
                rec["errorCode"] = json!(c);
            }
            if let Some(m) = &r.error_message {
                rec["errorMessage"] = json!(m);
            }
            if let Some(p) = &r.parameters {
                rec["requestParameters"] = p.clone();
            }
            records.push(rec);
        }
    }
    std::fs::create_dir_all(dir.join("cloudtrail")).unwrap();
    std::fs::write(
        dir.join("cloudtrail/events.json"),
        serde_json::to_vec(&json!({"Records": records})).unwrap(),
    )
    .unwrap();
}

fn audit_of(dir: &Path) -> Audit {
    let paths = SnapshotPaths::resolve(Some(dir), &Default::default()).expect("snapshot");
    run(
        &paths,
        &AuditOptions {
            now: Some(1_793_491_200),
            ..Default::default()
        },
    )
    .expect("audit")
}

/// The grant decision the verdict of `id` rests on.
fn deciding_grant<'a>(
    p: &'a PrincipalVerdicts,
    id: leastpriv::catalog::ActionId,
) -> Option<&'a GrantCheck> {
    let find = |list: &'a [leastpriv::verdict::Attempt]| {
        list.iter().find(|a| a.action == id).map(|a| &a.grant)
    };
    match p.verdict(id) {
        Verdict::Used => p.used.iter().find(|u| u.action == id).map(|u| &u.grant),
        Verdict::UsedFailed | Verdict::Attempted => find(&p.failed),
        Verdict::Denied(_) => find(&p.denied),
        _ => None,
    }
}

fn check_case(cat: &Catalog, case: &Case, errors: &mut Vec<String>) {
    let tmp = tempfile::tempdir().expect("tempdir");
    snapshot(case, tmp.path());
    let audit = audit_of(tmp.path());
    let Some(ap) = audit
        .principals
        .iter()
        .find(|p| p.verdicts.principal.arn == ROLE)
    else {
        errors.push("role `subject` missing from the audit".into());
        return;
    };
    let p = &ap.verdicts;
    // The JSON and CSV reports, as a reader sees the verdicts.
    let json: Value =
        serde_json::from_str(&leastpriv::report::json::render(&audit, Default::default()))
            .expect("json report");
    let principal = &json["principals"][0];
    let mut df = leastpriv::report::frames::principal_actions(&audit).expect("frame");
    let csv = String::from_utf8(leastpriv::report::frames::csv(&mut df).expect("csv")).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (c_action, c_verdict, c_refused) = (col("action"), col("verdict"), col("refused_by"));
    let csv_rows: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    for e in &case.expect {
        let what = format!("`{}`", e.action);
        let Some(id) = cat.lookup(&e.action) else {
            errors.push(format!("{what}: not a catalog action"));
            continue;
        };
        let v = p.verdict(id);
        if v.as_str() != e.verdict {
            errors.push(format!(
                "{what}: verdict {}, expected {}",
                v.as_str(),
                e.verdict
            ));
        }
        let refused = match &v {
            Verdict::Denied(by) => Some(by.code()),
            _ => None,
        };
        if let Some(want) = &e.refused_by {
            if refused != Some(want.as_str()) {
                errors.push(format!(
                    "{what}: refused by {refused:?}, expected {want} ({})",
                    match &v {
                        Verdict::Denied(by) => by.describe(&p.principal),
                        _ => String::new(),
                    }
                ));
            }
        }
        let grant = deciding_grant(p, id);
        if let Some(want) = &e.grant {
            let got = grant.map(|g| g.granted.as_str());
            if got != Some(want.as_str()) {
                errors.push(format!("{what}: grant {got:?}, expected {want}"));
            }
        }
        if let Some(want) = &e.not_granted {
            let got = grant.map(|g| g.not_granted.to_vec()).unwrap_or_default();
            if &got != want {
                errors.push(format!("{what}: not granted on {got:?}, expected {want:?}"));
            }
        }
        if let Some(want) = e.no_resource {
            let got = grant.map(|g| g.no_resource);
            if got != Some(want) {
                errors.push(format!("{what}: no_resource {got:?}, expected {want}"));
            }
        }
        // The CSV: exactly one row for a granted or recorded action, with
        // the verdict; none for an action neither granted nor recorded.
        let mine: Vec<&csv::StringRecord> = csv_rows
            .iter()
            .filter(|r| r.get(c_action) == Some(e.action.as_str()))
            .collect();
        match (e.verdict.as_str(), mine.as_slice()) {
            ("not-granted", []) => {}
            ("not-granted", _) => {
                errors.push(format!("{what}: a CSV row for a not-granted action"))
            }
            (want, [row]) => {
                if row.get(c_verdict) != Some(want) {
                    errors.push(format!("{what}: CSV verdict {:?}", row.get(c_verdict)));
                }
                let csv_refused = row.get(c_refused).filter(|s| !s.is_empty());
                if csv_refused != refused {
                    errors.push(format!("{what}: CSV refused_by {csv_refused:?}"));
                }
            }
            (_, rows) => errors.push(format!("{what}: {} CSV rows", rows.len())),
        }
        // The JSON: listed where its verdict says, and nowhere it should not be.
        let listed = |field: &str| -> bool {
            principal[field].as_array().is_some_and(|l| {
                l.iter()
                    .any(|x| x == &json!(e.action) || x["action"] == json!(e.action))
            })
        };
        let entry_verdicts: Vec<&str> = ["used", "failed", "denied"]
            .iter()
            .filter_map(|f| principal[*f].as_array())
            .flatten()
            .filter(|x| x["action"] == json!(e.action))
            .filter_map(|x| x["verdict"].as_str())
            .collect();
        if entry_verdicts.iter().any(|x| *x != e.verdict) {
            errors.push(format!("{what}: JSON entries say {entry_verdicts:?}"));
        }
        let in_unused = listed("unused");
        let in_unobservable = listed("unobservable");
        let ok = match e.verdict.as_str() {
            "unused" => in_unused && !in_unobservable,
            "unobservable" => in_unobservable && !in_unused,
            "not-granted" => !in_unused && !in_unobservable && entry_verdicts.is_empty(),
            _ => !in_unused && !in_unobservable && !entry_verdicts.is_empty(),
        };
        if !ok {
            errors.push(format!(
                "{what}: JSON lists it in unused {in_unused}, unobservable {in_unobservable}, entries {entry_verdicts:?}"
            ));
        }
    }
    if let Some(want) = &case.unknown_error_codes {
        if &audit.stats.unknown_error_codes != want {
            errors.push(format!(
                "unknown error codes {:?}, expected {want:?}",
                audit.stats.unknown_error_codes
            ));
        }
        if json["coverage"]["unknown_error_codes"] != json!(want) {
            errors.push("the JSON coverage does not name the unknown codes".into());
        }
    }
}

#[test]
fn verdict_corpus() {
    let cat = Catalog::embedded();
    let mut files: Vec<_> = std::fs::read_dir("tests/verdicts")
        .expect("tests/verdicts")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files");
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut verdicts = std::collections::BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        let corpus: CorpusFile = match yaml_serde::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        let mut names = std::collections::BTreeSet::new();
        for case in &corpus.cases {
            if !names.insert(case.name.as_str()) {
                failures.push(format!("{}: case `{}` twice", f.display(), case.name));
            }
            let mut errors = Vec::new();
            check_case(cat, case, &mut errors);
            for e in errors {
                failures.push(format!("{} / {}: {e}", f.display(), case.name));
            }
            verdicts.extend(case.expect.iter().map(|e| e.verdict.clone()));
            cases += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every verdict has a case.
    for v in Verdict::NAMES {
        assert!(verdicts.contains(v), "no case expects `{v}`");
    }
    assert!(cases >= 20, "only {cases} cases");
}

mod formats {
    //! For random policies and records, every output format gives every
    //! (principal, action) the verdict the library decided: the JSON v1 and
    //! v2 reports (entries' `verdict`, and the `unused` / `unobservable`
    //! lists and sets), the CSV export (one row per action), `explain`, and
    //! the counts of the table and Markdown summaries.

    use super::*;
    use proptest::prelude::*;

    const ACTIONS: &[&str] = &[
        "*",
        "s3:*",
        "s3:Get*",
        "s3:GetObject",
        "s3:DeleteObject",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "kms:Decrypt",
        "ec2:RunInstances",
        "iam:PassRole",
        "sqs:ListQueues",
    ];
    const RESOURCES: &[&str] = &[
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b",
        "arn:aws:kms:us-east-1:111122223333:key/*",
        "arn:aws:dynamodb:us-east-1:111122223333:table/*",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
    ];
    /// Calls: source, name, resource ARN ("" for none), region.
    const CALLS: &[(&str, &str, &str, &str)] = &[
        (
            "s3.amazonaws.com",
            "GetObject",
            "arn:aws:s3:::b/k",
            "us-east-1",
        ),
        (
            "s3.amazonaws.com",
            "GetObject",
            "arn:aws:s3:::c/k",
            "us-east-1",
        ),
        (
            "s3.amazonaws.com",
            "DeleteObject",
            "arn:aws:s3:::b/k",
            "us-east-1",
        ),
        ("s3.amazonaws.com", "ListBuckets", "", "us-east-1"),
        (
            "dynamodb.amazonaws.com",
            "GetItem",
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
            "us-east-1",
        ),
        (
            "dynamodb.amazonaws.com",
            "PutItem",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
            "eu-west-1",
        ),
        (
            "kms.amazonaws.com",
            "Decrypt",
            "arn:aws:kms:us-east-1:444455556666:key/k",
            "us-east-1",
        ),
        ("ec2.amazonaws.com", "RunInstances", "", "us-east-1"),
        ("sqs.amazonaws.com", "ListQueues", "", "us-east-1"),
    ];
    /// Error codes and messages: success, refusals (with and without a
    /// policy type or another action named), each failure family, unknown.
    const ENDINGS: &[(&str, &str)] = &[
        ("", ""),
        ("", ""),
        ("AccessDenied", ""),
        ("AccessDenied", "User: a is not authorized to perform: s3:GetObject with an explicit deny in a service control policy"),
        ("Client.UnauthorizedOperation", "User: a is not authorized to perform: iam:PassRole on resource: r because no identity-based policy allows the iam:PassRole action"),
        ("VpceAccessDenied", "The request was denied due to a VPC endpoint policy"),
        ("ConditionalCheckFailedException", ""),
        ("Client.DryRunOperation", ""),
        ("NoSuchKey", ""),
        ("ResourceNotFoundException", ""),
        ("Client.InvalidInstanceID.NotFound", ""),
        ("ThrottlingException", ""),
        ("SomeUnknownCode", ""),
    ];

    fn statement() -> impl Strategy<Value = Value> {
        (
            proptest::sample::subsequence(ACTIONS, 1..4),
            proptest::sample::subsequence(RESOURCES, 1..3),
            proptest::bool::weighted(0.2),
            proptest::bool::weighted(0.2),
            proptest::bool::weighted(0.1),
        )
            .prop_map(|(actions, resources, deny, not_resource, cond)| {
                let mut s =
                    json!({ "Effect": if deny { "Deny" } else { "Allow" }, "Action": actions });
                s[if not_resource {
                    "NotResource"
                } else {
                    "Resource"
                }] = json!(resources);
                if cond {
                    s["Condition"] = json!({ "Bool": { "aws:SecureTransport": "true" } });
                }
                s
            })
    }

    fn case(statements: Vec<Value>, calls: &[(usize, usize)]) -> Case {
        Case {
            name: "generated".into(),
            description: None,
            identity: vec![json!({ "Version": "2012-10-17", "Statement": statements })],
            boundary: None,
            records: calls
                .iter()
                .map(|&(c, e)| {
                    let (source, name, arn, region) = CALLS[c];
                    let (code, message) = ENDINGS[e];
                    RecordCase {
                        source: source.into(),
                        name: name.into(),
                        resources: if arn.is_empty() {
                            vec![]
                        } else {
                            vec![arn.into()]
                        },
                        region: Some(region.into()),
                        error_code: (!code.is_empty()).then(|| code.into()),
                        error_message: (!message.is_empty()).then(|| message.into()),
                        parameters: None,
                        count: None,
                    }
                })
                .collect(),
            unknown_error_codes: None,
            expect: vec![],
        }
    }

    /// Whether a v2 action set (`{count, by_service}`) holds `action`.
    fn in_v2_set(set: &Value, action: &str) -> bool {
        let Some((svc, name)) = action.split_once(':') else {
            return false;
        };
        match &set["by_service"][svc] {
            Value::String(s) => s == "*",
            Value::Array(names) => names.iter().any(|n| n == name),
            Value::Object(o) => o["except"]
                .as_array()
                .is_some_and(|x| !x.iter().any(|n| n == name)),
            _ => false,
        }
    }

    /// The verdict name an `explain` line starts with.
    fn explained(text: &str, action: &str) -> Option<&'static str> {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{action}: ")))?;
        let v = &line[action.len() + 2..];
        [
            ("used-failed", "used-failed"),
            ("used", "used"),
            ("attempted", "attempted"),
            ("denied", "denied"),
            ("unobservable", "unobservable"),
            ("unused", "unused"),
            ("not granted", "not-granted"),
        ]
        .into_iter()
        .find(|(p, _)| v.starts_with(p))
        .map(|(_, n)| n)
    }

    fn mismatches(audit: &Audit) -> Vec<String> {
        let cat = audit.catalog;
        let mut bad = Vec::new();
        let v1: Value = serde_json::from_str(&leastpriv::report::json::render(
            audit,
            leastpriv::report::json::Schema::V1,
        ))
        .expect("v1");
        let v2: Value = serde_json::from_str(&leastpriv::report::json::render(
            audit,
            leastpriv::report::json::Schema::V2,
        ))
        .expect("v2");
        let mut df = leastpriv::report::frames::principal_actions(audit).expect("frame");
        let csv = String::from_utf8(leastpriv::report::frames::csv(&mut df).expect("csv")).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().expect("header").clone();
        let col = |n: &str| header.iter().position(|h| h == n).expect(n);
        let (c_arn, c_action, c_verdict) = (col("principal_arn"), col("action"), col("verdict"));
        let mut csv_verdicts: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for r in reader.records() {
            let r = r.expect("row");
            csv_verdicts
                .entry((r[c_arn].to_string(), r[c_action].to_string()))
                .or_default()
                .push(r[c_verdict].to_string());
        }
        for (i, ap) in audit.principals.iter().enumerate() {
            let a = &ap.verdicts;
            let arn = &a.principal.arn;
            let (p1, p2) = (&v1["principals"][i], &v2["principals"][i]);
            // Every action any format may mention: granted or recorded.
            let mut ids: Vec<_> = a.grants.granted.iter().collect();
            ids.extend(a.decided.iter().map(|d| d.action));
            ids.sort();
            ids.dedup();
            let n = a.counts();
            let mut tally = leastpriv::verdict::VerdictCounts::default();
            for id in ids {
                let name = cat.full_name(id);
                let want = a.verdict(id);
                let want = want.as_str();
                match want {
                    "used" => tally.used += 1,
                    "used-failed" => tally.used_failed += 1,
                    "attempted" => tally.attempted += 1,
                    "denied" => tally.denied += 1,
                    "unused" => tally.unused += 1,
                    "unobservable" => tally.unobservable += 1,
                    _ => {}
                }
                let mut say = |fmt: &str, got: &str| {
                    if got != want {
                        bad.push(format!(
                            "{arn} {name}: {fmt} says {got}, the verdict is {want}"
                        ));
                    }
                };
                // CSV: one row, with the verdict (none for not granted).
                match csv_verdicts
                    .get(&(arn.clone(), name.clone()))
                    .map(Vec::as_slice)
                {
                    Some([one]) => say("CSV", one),
                    None => say("CSV", "not-granted"),
                    Some(many) => say("CSV", &format!("{} rows", many.len())),
                }
                // JSON v1 and v2: the lists it is in.
                for (fmt, p, v2) in [("JSON v1", p1, false), ("JSON v2", p2, true)] {
                    let listed = |field: &str| {
                        if v2 {
                            in_v2_set(&p[field], &name)
                        } else {
                            p[field]
                                .as_array()
                                .is_some_and(|l| l.iter().any(|x| x == &json!(name)))
                        }
                    };
                    let entries: Vec<&str> = ["used", "failed", "denied"]
                        .iter()
                        .filter_map(|f| p[*f].as_array())
                        .flatten()
                        .filter(|x| x["action"] == json!(name))
                        .filter_map(|x| x["verdict"].as_str())
                        .collect();
                    for e in &entries {
                        say(fmt, e);
                    }
                    let got = match (listed("unused"), listed("unobservable"), entries.is_empty()) {
                        (true, false, true) => "unused",
                        (false, true, true) => "unobservable",
                        (false, false, true) => "not-granted",
                        (false, false, false) => entries[0],
                        _ => "listed twice",
                    };
                    say(fmt, got);
                }
                // explain, for the recorded actions and a sample of the rest.
                if want != "unused" || id.0 % 97 == 0 {
                    let text = leastpriv::report::explain::render(audit, arn, Some(&name))
                        .expect("explain");
                    say("explain", explained(&text, &name).unwrap_or("nothing"));
                }
            }
            // The summaries count what the verdicts say.
            if n != tally {
                bad.push(format!("{arn}: counts {n:?}, verdicts {tally:?}"));
            }
            let table = leastpriv::report::table::render(audit, 400);
            let row = table
                .lines()
                .find(|l| l.contains(&format!(" {} ", a.principal.name)))
                .unwrap_or_default();
            let cells: Vec<&str> = row.split(['│', '┆']).map(str::trim).collect();
            let counts = [n.used, n.unused, n.unobservable, n.denied].map(|c| c.to_string());
            if cells.len() < 9
                || cells[5..9] != counts.iter().map(String::as_str).collect::<Vec<_>>()[..]
            {
                bad.push(format!("{arn}: table row {row:?}, counts {n:?}"));
            }
        }
        bad
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn every_format_gives_every_action_the_same_verdict(
            statements in proptest::collection::vec(statement(), 1..4),
            calls in proptest::collection::vec((0..CALLS.len(), 0..ENDINGS.len()), 0..10),
        ) {
            let c = case(statements, &calls);
            let tmp = tempfile::tempdir().unwrap();
            snapshot(&c, tmp.path());
            let audit = audit_of(tmp.path());
            let bad = mismatches(&audit);
            prop_assert!(bad.is_empty(), "{}\n{:#?}", bad.join("\n"), c);
        }
    }

    /// The demo account, whole: every format agrees there too.
    #[test]
    fn every_format_agrees_on_the_demo() {
        let audit = audit_of(Path::new("fixtures/demo"));
        let bad = mismatches(&audit);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

mod regressions {
    //! The four bugs of issue 20's opening list, each as a case that fails
    //! if the bug came back, checked in every output that showed it.

    use super::*;

    /// The audit of a case given as YAML (the corpus schema), with its
    /// JSON v1 report and CSV export.
    fn run_case(
        yaml: &str,
    ) -> (
        tempfile::TempDir,
        Audit,
        Value,
        Vec<BTreeMap<String, String>>,
    ) {
        let case: Case = yaml_serde::from_str(yaml).expect("case");
        let tmp = tempfile::tempdir().unwrap();
        snapshot(&case, tmp.path());
        let audit = audit_of(tmp.path());
        let json: Value =
            serde_json::from_str(&leastpriv::report::json::render(&audit, Default::default()))
                .unwrap();
        let mut df = leastpriv::report::frames::principal_actions(&audit).unwrap();
        let csv = String::from_utf8(leastpriv::report::frames::csv(&mut df).unwrap()).unwrap();
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let header = r.headers().unwrap().clone();
        let rows = r
            .records()
            .map(|row| {
                header
                    .iter()
                    .zip(row.unwrap().iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect();
        (tmp, audit, json, rows)
    }

    fn csv_rows<'a>(
        rows: &'a [BTreeMap<String, String>],
        action: &str,
    ) -> Vec<&'a BTreeMap<String, String>> {
        rows.iter().filter(|r| r["action"] == action).collect()
    }

    fn entry<'a>(json: &'a Value, list: &str, action: &str) -> Option<&'a Value> {
        json["principals"][0][list]
            .as_array()?
            .iter()
            .find(|e| e["action"] == action)
    }

    fn listed(json: &Value, list: &str, action: &str) -> bool {
        json["principals"][0][list]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x == action))
    }

    fn explain(audit: &Audit, action: &str) -> String {
        leastpriv::report::explain::render(audit, ROLE, Some(action)).unwrap()
    }

    fn finding_actions(audit: &Audit, rule: &str) -> Vec<String> {
        audit
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .flat_map(|f| f.actions.iter().map(|&id| audit.catalog.full_name(id)))
            .collect()
    }

    /// Bug 1: a granted action, refused once and never successful, was
    /// "unused" in `explain` and the rules, "denied" in the Access Advisor
    /// notes, and two rows in the CSV export.
    #[test]
    fn regression_granted_action_refused_once_is_denied_everywhere() {
        let (_tmp, audit, json, rows) = run_case(
            r#"
name: granted-refused-once
identity:
  - Statement:
      - {Effect: Allow, Action: ["iam:ListUsers", "iam:ListRoles"], Resource: "*"}
records:
  - {source: iam.amazonaws.com, name: ListRoles}
  - {source: iam.amazonaws.com, name: ListUsers, error_code: AccessDenied, error_message: "User: arn:aws:sts::111122223333:assumed-role/subject/s is not authorized to perform: iam:ListUsers with an explicit deny in a service control policy"}
expect: []
"#,
        );
        let text = explain(&audit, "iam:ListUsers");
        assert!(
            text.contains(
                "iam:ListUsers: denied: refused by outside the snapshot: a service control policy"
            ),
            "{text}"
        );
        let mine = csv_rows(&rows, "iam:ListUsers");
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["verdict"], "denied");
        assert_eq!(mine[0]["refused_by"], "service-control-policy");
        assert!(!listed(&json, "unused", "iam:ListUsers"), "{json:#}");
        let d = entry(&json, "denied", "iam:ListUsers").expect("denied entry");
        assert_eq!(d["verdict"], "denied");
        assert_eq!(d["granted"], true);
        assert!(
            !finding_actions(&audit, "unused-permissions").contains(&"iam:ListUsers".to_string()),
            "unused-permissions lists a refused action"
        );
        assert_eq!(audit.principals[0].verdicts.counts().unused, 0);
    }

    /// Bug 2: a success on a table in a Region the grant does not cover was
    /// `granted: true`, `explain` credited the statement whose Resource does
    /// not match, and `used-without-grant` could not fire.
    #[test]
    fn regression_use_outside_the_granted_region_is_used_without_grant() {
        let (_tmp, audit, json, rows) = run_case(
            r#"
name: other-region
identity:
  - Statement:
      - {Sid: Tables, Effect: Allow, Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/*"}
records:
  - {source: dynamodb.amazonaws.com, name: GetItem, region: eu-west-1, resources: ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"]}
expect: []
"#,
        );
        let u = entry(&json, "used", "dynamodb:GetItem").expect("used entry");
        assert_eq!(u["granted"], false, "{u:#}");
        assert_eq!(
            u["not_granted"],
            json!(["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"])
        );
        assert_eq!(
            finding_actions(&audit, "used-without-grant"),
            ["dynamodb:GetItem"]
        );
        let text = explain(&audit, "dynamodb:GetItem");
        assert!(
            text.contains("dynamodb:GetItem: used without grant"),
            "{text}"
        );
        assert!(
            text.contains("not on the named resources: inline `policy-0`, statement Tables")
                && !text.contains("allowed by"),
            "explain credits a statement that does not match:\n{text}"
        );
        assert_eq!(csv_rows(&rows, "dynamodb:GetItem")[0]["granted"], "false");
    }

    /// Bug 3: a refusal that the principal's own Deny or NotResource
    /// explains showed `granted: true`, as if an SCP or a resource policy
    /// had refused it.
    #[test]
    fn regression_refusal_under_own_deny_or_not_resource_is_not_granted() {
        let (_tmp, _audit, json, rows) = run_case(
            r#"
name: own-refusals
identity:
  - Statement:
      - {Effect: Allow, Action: "s3:*", Resource: "*"}
      - {Effect: Deny, Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/*"}
      - {Effect: Allow, Action: "kms:Decrypt", NotResource: "arn:aws:kms:us-east-1:111122223333:key/secret"}
records:
  - {source: s3.amazonaws.com, name: DeleteObject, resources: ["arn:aws:s3:::b/k"], error_code: AccessDenied, error_message: "Access Denied"}
  - {source: kms.amazonaws.com, name: Decrypt, resources: ["arn:aws:kms:us-east-1:111122223333:key/secret"], error_code: AccessDeniedException}
expect: []
"#,
        );
        for (action, by) in [
            ("s3:DeleteObject", "own-deny"),
            ("kms:Decrypt", "not-resource"),
        ] {
            let d = entry(&json, "denied", action).expect(action);
            assert_eq!(d["granted"], false, "{d:#}");
            assert_eq!(d["refused_by"], by, "{d:#}");
            let row = csv_rows(&rows, action);
            assert_eq!(row.len(), 1);
            assert_eq!(row[0]["granted"], "false", "{row:?}");
            assert_eq!(row[0]["refused_by"], by);
        }
    }

    /// Bug 4: calls that passed authorization and then failed were listed
    /// as failed and counted unused, and `recommend` removed them (the next
    /// such call would be refused).
    #[test]
    fn regression_failed_after_authorization_is_kept_by_recommend() {
        let (_tmp, audit, json, rows) = run_case(
            r#"
name: failed-after-authorization
identity:
  - Statement:
      - {Effect: Allow, Action: ["s3:GetObject", "s3:GetBucketPolicy", "ec2:RunInstances", "dynamodb:GetItem", "iam:ListUsers"], Resource: "*"}
records:
  - {source: s3.amazonaws.com, name: GetObject, resources: ["arn:aws:s3:::b/missing"], error_code: NoSuchKey}
  - {source: s3.amazonaws.com, name: GetBucketPolicy, parameters: {bucketName: b}, resources: ["arn:aws:s3:::b"], error_code: NoSuchBucketPolicy}
  - {source: ec2.amazonaws.com, name: RunInstances, error_code: Client.DryRunOperation}
  - {source: dynamodb.amazonaws.com, name: GetItem, resources: ["arn:aws:dynamodb:us-east-1:111122223333:table/gone"], error_code: ResourceNotFoundException}
expect: []
"#,
        );
        let kept = [
            "s3:GetObject",
            "s3:GetBucketPolicy",
            "ec2:RunInstances",
            "dynamodb:GetItem",
        ];
        let recs = leastpriv::recommend::recommend(&audit);
        let doc = recs
            .iter()
            .find(|r| r.principal == ROLE)
            .map(|r| r.document.to_string())
            .expect("a recommendation");
        for action in kept {
            assert!(!listed(&json, "unused", action), "{action} listed unused");
            let f = entry(&json, "failed", action).expect(action);
            assert_eq!(f["verdict"], "used-failed", "{f:#}");
            assert_eq!(f["failed_after_authorization"], true, "{f:#}");
            let row = csv_rows(&rows, action);
            assert_eq!(row.len(), 1);
            assert_eq!(row[0]["verdict"], "used-failed");
            assert!(doc.contains(action), "recommend removes {action}: {doc}");
        }
        // Never used and never attempted: removed.
        assert!(listed(&json, "unused", "iam:ListUsers"));
        assert!(!doc.contains("iam:ListUsers"), "{doc}");
    }

    /// Issue 22's organization evaluation through the one verdict: a
    /// refusal the own policies do not explain and an SCP of the account's
    /// OU denies is denied, refused by that SCP, named, in every output.
    #[test]
    fn an_scp_refusal_is_denied_by_that_scp() {
        let audit = audit_of(Path::new("tests/rules/guardrail-hit/scp-refusal"));
        let ap = audit
            .principals
            .iter()
            .find(|p| p.verdicts.principal.name == "erin")
            .expect("erin");
        let id = audit.catalog.lookup("iam:ListUsers").unwrap();
        let v = ap.verdicts.verdict(id);
        let Verdict::Denied(by) = &v else {
            panic!("{v:?}");
        };
        assert_eq!(by.code(), "service-control-policy");
        let text = by.describe(&ap.verdicts.principal);
        assert!(text.contains("`no-iam-user-listing`"), "{text}");
        let mut df = leastpriv::report::frames::principal_actions(&audit).unwrap();
        let csv = String::from_utf8(leastpriv::report::frames::csv(&mut df).unwrap()).unwrap();
        let row = csv
            .lines()
            .find(|l| l.contains("user/erin") && l.contains("iam:ListUsers"))
            .expect("a CSV row");
        assert!(
            row.contains(",denied,") && row.contains("service-control-policy"),
            "{row}"
        );
        let out =
            leastpriv::report::explain::render(&audit, "erin", Some("iam:ListUsers")).unwrap();
        assert!(
            out.contains("iam:ListUsers: denied: refused by outside the snapshot: a service control policy `no-iam-user-listing`"),
            "{out}"
        );
    }

    /// `secrets` reads the verdict of (principal, action, secret): used on
    /// the secret it read, used-failed on the one that passed authorization
    /// and was not found, and no reader where its own Deny refuses it.
    #[test]
    fn secrets_read_the_verdict_per_secret() {
        let sm =
            |name: &str| format!("arn:aws:secretsmanager:us-east-1:111122223333:secret:{name}");
        let (_tmp, audit, _json, _rows) = run_case(&format!(
            r#"
name: secrets-per-resource
identity:
  - Statement:
      - {{Effect: Allow, Action: "secretsmanager:GetSecretValue", Resource: "*"}}
      - {{Effect: Deny, Action: "secretsmanager:GetSecretValue", Resource: "{locked}*"}}
records:
  - {{source: secretsmanager.amazonaws.com, name: GetSecretValue, resources: ["{read}"]}}
  - {{source: secretsmanager.amazonaws.com, name: GetSecretValue, resources: ["{gone}"], error_code: ResourceNotFoundException}}
  - {{source: secretsmanager.amazonaws.com, name: GetSecretValue, resources: ["{locked}"], error_code: AccessDeniedException}}
expect: []
"#,
            read = sm("app/read-AbCdEf"),
            gone = sm("app/gone-AbCdEf"),
            locked = sm("locked"),
        ));
        let view: Value = serde_json::from_str(&leastpriv::report::secrets::json(
            &leastpriv::secrets::build(&audit),
        ))
        .unwrap();
        let readers = |suffix: &str| -> Vec<(String, bool)> {
            let e = view["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["resource"].as_str().unwrap().ends_with(suffix))
                .unwrap_or_else(|| panic!("no entry {suffix}: {view:#}"));
            e["can_read"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["principal"] == ROLE)
                .map(|r| {
                    (
                        r["verdict"].as_str().unwrap().to_string(),
                        r["used"] == true,
                    )
                })
                .collect()
        };
        assert_eq!(readers(":secret:app/read"), [("used".to_string(), true)]);
        assert_eq!(
            readers(":secret:app/gone"),
            [("used-failed".to_string(), false)]
        );
        assert_eq!(readers(":secret:locked"), []);
    }
}
