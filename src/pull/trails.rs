//! Trails and their event selectors, merged into `trails.json`.

use super::aws::{describe, Clients};
use super::manifest::{Gap, Manifest};
use super::PullError;
use serde_json::{json, Map, Value};
use std::path::Path;

/// What the event pull needs to know of a trail.
pub(super) struct Trail {
    pub bucket: Option<String>,
    pub prefix: Option<String>,
}

pub(super) async fn pull(
    c: &Clients,
    dir: &Path,
    m: &mut Manifest,
) -> Result<Vec<Trail>, PullError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut list = Vec::new();
    let mut out = Vec::new();
    for (region, ct) in &c.cloudtrail {
        let r = match ct
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                m.gaps
                    .push(Gap::new("trails", region.clone(), describe(&e)));
                continue;
            }
        };
        for t in r.trail_list() {
            let arn = t.trail_arn().or(t.name()).unwrap_or_default().to_string();
            if !seen.insert(arn.clone()) {
                continue;
            }
            let mut o = Map::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    o.insert(k.into(), v);
                }
            };
            put("Name", json!(t.name()));
            put("S3BucketName", json!(t.s3_bucket_name()));
            put("S3KeyPrefix", json!(t.s3_key_prefix()));
            put(
                "IncludeGlobalServiceEvents",
                json!(t.include_global_service_events()),
            );
            put("IsMultiRegionTrail", json!(t.is_multi_region_trail()));
            put("HomeRegion", json!(t.home_region()));
            put("TrailARN", json!(t.trail_arn()));
            put(
                "LogFileValidationEnabled",
                json!(t.log_file_validation_enabled()),
            );
            put("IsOrganizationTrail", json!(t.is_organization_trail()));
            // Selectors are read in the trail's home region, where they live.
            let home = t.home_region().unwrap_or(region);
            let client = c
                .cloudtrail
                .iter()
                .find(|(r, _)| r == home)
                .map(|(_, c)| c)
                .unwrap_or(ct);
            match client.get_event_selectors().trail_name(&arn).send().await {
                Ok(s) => {
                    o.insert("EventSelectors".into(), selectors(s.event_selectors()));
                    o.insert(
                        "AdvancedEventSelectors".into(),
                        advanced(s.advanced_event_selectors()),
                    );
                }
                Err(e) => m.gaps.push(Gap::new(
                    "trails",
                    format!("{arn} event selectors"),
                    format!(
                        "{}; the audit assumes this trail records management events only",
                        describe(&e)
                    ),
                )),
            }
            list.push(Trail {
                bucket: t.s3_bucket_name().map(str::to_string),
                prefix: t.s3_key_prefix().map(str::to_string),
            });
            out.push(Value::Object(o));
        }
    }
    let bytes =
        serde_json::to_vec_pretty(&json!({ "trailList": out })).map_err(|e| PullError::Write {
            path: dir.join("trails.json"),
            source: std::io::Error::other(e),
        })?;
    super::write_private(&dir.join("trails.json"), &bytes)?;
    Ok(list)
}

fn selectors(list: &[aws_sdk_cloudtrail::types::EventSelector]) -> Value {
    list.iter()
        .map(|s| {
            json!({
                "ReadWriteType": s.read_write_type().map(|r| r.as_str()),
                "IncludeManagementEvents": s.include_management_events(),
                "DataResources": s.data_resources().iter().map(|d| json!({
                    "Type": d.r#type(),
                    "Values": d.values(),
                })).collect::<Vec<_>>(),
                "ExcludeManagementEventSources": s.exclude_management_event_sources(),
            })
        })
        .collect()
}

fn advanced(list: &[aws_sdk_cloudtrail::types::AdvancedEventSelector]) -> Value {
    list.iter()
        .map(|s| {
            json!({
                "Name": s.name(),
                "FieldSelectors": s.field_selectors().iter().map(|f| json!({
                    "Field": f.field(),
                    "Equals": f.equals(),
                    "StartsWith": f.starts_with(),
                    "EndsWith": f.ends_with(),
                    "NotEquals": f.not_equals(),
                    "NotStartsWith": f.not_starts_with(),
                    "NotEndsWith": f.not_ends_with(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The organization trail's bucket and prefix, as the management account
/// (or the trail's delegated administrator) sees it: the first trail whose
/// `IsOrganizationTrail` is set and that delivers to S3.
pub(super) async fn organization_trail(c: &Clients) -> Option<(String, String)> {
    for (_, ct) in &c.cloudtrail {
        let Ok(r) = ct
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
        else {
            continue;
        };
        let found = r.trail_list().iter().find_map(|t| {
            if t.is_organization_trail() != Some(true) {
                return None;
            }
            let bucket = t.s3_bucket_name()?.to_string();
            Some((bucket, t.s3_key_prefix().unwrap_or_default().to_string()))
        });
        if found.is_some() {
            return found;
        }
    }
    None
}
