//! Entry points of the fuzz targets (`fuzz/`), kept in the library so that
//! the regression test (`tests/integration/fuzz_regressions.rs`) runs every
//! input a fuzzer once crashed on through exactly the same code.
//!
//! Each takes arbitrary bytes and must return without panicking, whatever
//! they are; wrong input is an `Err` or a problem in the result, never a crash.

use crate::catalog::Catalog;
use crate::policy::grants::{effective_grants, Expander};
use crate::usage::mapping::EventMapper;
use std::path::Path;
use std::sync::OnceLock;

fn mapper() -> &'static EventMapper {
    static M: OnceLock<EventMapper> = OnceLock::new();
    // The shipped rules are checked by the tests; a failure here is a bug.
    M.get_or_init(|| EventMapper::embedded(Catalog::embedded()).expect("shipped mapping rules"))
}

/// A CloudTrail log file (any of the accepted layouts, gzip or not):
/// parsed, attributed, mapped and aggregated.
pub fn cloudtrail(data: &[u8]) {
    let activity = crate::usage::read::ingest_bytes(
        Path::new("fuzz.json"),
        data.to_vec(),
        mapper(),
        crate::usage::IngestOptions::default(),
    );
    // Every record read lands in exactly one coverage bucket.
    assert!(
        activity.stats.adds_up(),
        "coverage does not add up: {:?}",
        activity.stats
    );
    cloudtrail_ways_agree(data);
}

/// The hand-written fast path over a log file hands over exactly the
/// records, problems and count that serde's path does alone.
fn cloudtrail_ways_agree(data: &[u8]) {
    use crate::ingest::cloudtrail::{decode_log_bytes, read_both_ways};
    let Ok(text) = decode_log_bytes(data.to_vec()) else {
        return;
    };
    let [fast, serde] = read_both_ways(&text);
    assert_eq!(fast, serde);
}

/// A policy document: as an inline policy and as a boundary of a role,
/// evaluated over the whole catalog, and for one request.
pub fn policy(data: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let iam = serde_json::json!({
        "RoleDetailList": [{
            "RoleName": "fuzz", "Arn": "arn:aws:iam::111122223333:role/fuzz", "Path": "/",
            "RolePolicyList": [{ "PolicyName": "p", "PolicyDocument": doc }],
            "PermissionsBoundary": {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/b"
            },
            "AttachedManagedPolicies": []
        }],
        "Policies": [{
            "PolicyName": "b", "Arn": "arn:aws:iam::111122223333:policy/b",
            "DefaultVersionId": "v1",
            "PolicyVersionList": [{ "VersionId": "v1", "IsDefaultVersion": true, "Document": doc }]
        }]
    });
    iam_json(&serde_json::to_vec(&iam).unwrap_or_default());
}

/// An authorization details file: parsed, and every principal evaluated.
pub fn iam_json(data: &[u8]) {
    let Ok(account) = crate::ingest::iam::parse(data, Path::new("fuzz-iam.json")) else {
        return;
    };
    let cat = Catalog::embedded();
    let mut ex = Expander::new(cat);
    for p in account.principals.iter().take(8) {
        let g = effective_grants(cat, &mut ex, p);
        // A boundary or a Deny never grants what the identity policies do not.
        assert!(g.conditional.iter().all(|id| g.granted.contains(id)));
        let identity: Vec<_> = p.policies.iter().collect();
        for action in ["s3:GetObject", "iam:PassRole", "kms:Decrypt"] {
            let req = crate::policy::request::Request {
                action: action.into(),
                resource: "arn:aws:s3:::b/k".into(),
                context: Default::default(),
            };
            let _ = crate::policy::request::evaluate_request(&identity, p.boundary.as_ref(), &req);
        }
    }
}
