//! `trails.json`: each DescribeTrails entry merged with its GetEventSelectors
//! answer. From it we learn which kinds of events the trails record, which
//! decides whether an unseen action is "unused" or "unobservable".

use super::IngestError;
use crate::policy::arn_match::{pattern_covers, patterns_intersect};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrailsFile {
    #[serde(rename = "trailList", alias = "TrailList")]
    trail_list: Vec<RawTrail>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTrail {
    name: Option<String>,
    #[serde(rename = "TrailARN")]
    trail_arn: Option<String>,
    s3_bucket_name: Option<String>,
    s3_key_prefix: Option<String>,
    home_region: Option<String>,
    is_multi_region_trail: Option<bool>,
    #[serde(default)]
    event_selectors: Vec<RawSelector>,
    #[serde(default)]
    advanced_event_selectors: Vec<RawAdvanced>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawSelector {
    read_write_type: Option<String>,
    include_management_events: Option<bool>,
    #[serde(default)]
    data_resources: Vec<RawDataResource>,
    #[serde(default)]
    exclude_management_event_sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawDataResource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAdvanced {
    field_selectors: Vec<RawField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawField {
    field: String,
    #[serde(default)]
    equals: Vec<String>,
    #[serde(default)]
    starts_with: Vec<String>,
    #[serde(default)]
    not_equals: Vec<String>,
    #[serde(default)]
    not_starts_with: Vec<String>,
    #[serde(default)]
    ends_with: Vec<String>,
    #[serde(default)]
    not_ends_with: Vec<String>,
}

/// Which read/write side a selector records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadWrite {
    All,
    ReadOnly,
    WriteOnly,
}

/// Data events recorded for one resource type (e.g. `AWS::S3::Object`), with
/// the ARN prefixes it is limited to (empty = all resources of the type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSelector {
    pub resource_type: String,
    /// ARN patterns (IAM wildcards) the selector records; empty = every
    /// resource of the type. `StartsWith X` becomes `X*`, `Equals X` stays `X`.
    pub arn_patterns: Vec<String>,
    /// ARN patterns the selector leaves out (`NotStartsWith`, `NotEquals`,
    /// `NotEndsWith`).
    pub excluded: Vec<String>,
    pub read_write: ReadWrite,
}

impl DataSelector {
    /// Whether this selector records `resource_type` events on resources
    /// matching the granted `pattern`, for a read (`read_only`) or write call.
    /// Partly recorded counts as recorded: the trail would have shown a use
    /// on the recorded part.
    pub fn covers(&self, resource_type: &str, pattern: &str, read_only: bool) -> bool {
        if self.resource_type != resource_type {
            return false;
        }
        let side = match self.read_write {
            ReadWrite::All => true,
            ReadWrite::ReadOnly => read_only,
            ReadWrite::WriteOnly => !read_only,
        };
        // A bucket ARN is recorded when its objects are.
        let as_prefix = format!("{pattern}/*");
        let candidates = [pattern, as_prefix.as_str()];
        side && candidates.iter().any(|c| {
            (self.arn_patterns.is_empty()
                || self.arn_patterns.iter().any(|s| patterns_intersect(c, s)))
                && !self.excluded.iter().any(|x| pattern_covers(x, c))
        })
    }
}

/// What the account's trails record, merged over all trails.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrailCoverage {
    pub trails: Vec<String>,
    pub management_read: bool,
    pub management_write: bool,
    /// Event sources excluded from management events (e.g. `kms.amazonaws.com`).
    pub excluded_sources: Vec<String>,
    pub data: Vec<DataSelector>,
    /// Set when no `trails.json` was given and management events were assumed.
    pub assumed: bool,
    pub buckets: Vec<String>,
    /// Trails that record one region only, as `trail (region)`.
    pub single_region: Vec<String>,
}

impl TrailCoverage {
    /// Without trails.json we assume one trail recording all management events
    /// and no data events, and the report says so.
    pub fn assumed_management_only() -> Self {
        TrailCoverage {
            trails: Vec::new(),
            management_read: true,
            management_write: true,
            excluded_sources: Vec::new(),
            data: Vec::new(),
            assumed: true,
            buckets: Vec::new(),
            single_region: Vec::new(),
        }
    }

    /// Whether any trail records `resource_type` data events on resources
    /// matching one of the granted patterns.
    pub fn records_data(&self, resource_type: &str, granted: &[String], read_only: bool) -> bool {
        self.data.iter().any(|d| {
            granted
                .iter()
                .any(|g| d.covers(resource_type, g, read_only))
        })
    }
}

fn rw(s: Option<&str>) -> ReadWrite {
    match s {
        Some("ReadOnly") => ReadWrite::ReadOnly,
        Some("WriteOnly") => ReadWrite::WriteOnly,
        _ => ReadWrite::All,
    }
}

pub fn load(path: &Path) -> Result<TrailCoverage, IngestError> {
    let bytes = super::read_file(path)?;
    parse(&bytes, path)
}

pub fn parse(bytes: &[u8], path: &Path) -> Result<TrailCoverage, IngestError> {
    let file: TrailsFile = super::deserialize(bytes, path)?;
    let mut cov = TrailCoverage::default();
    for t in file.trail_list {
        let name = t.trail_arn.or(t.name).unwrap_or_default();
        // A single-region trail records only its home region: the report says so.
        if t.is_multi_region_trail == Some(false) {
            let region = t.home_region.unwrap_or_else(|| "unknown region".into());
            cov.single_region.push(format!("{name} ({region})"));
        }
        cov.trails.push(name);
        if let Some(b) = t.s3_bucket_name {
            let prefix = t.s3_key_prefix.map(|p| format!("/{p}")).unwrap_or_default();
            cov.buckets.push(format!("s3://{b}{prefix}"));
        }
        if t.event_selectors.is_empty() && t.advanced_event_selectors.is_empty() {
            // A trail with no selectors records all management events.
            cov.management_read = true;
            cov.management_write = true;
        }
        for s in t.event_selectors {
            let side = rw(s.read_write_type.as_deref());
            if s.include_management_events.unwrap_or(true) {
                cov.management_read |= side != ReadWrite::WriteOnly;
                cov.management_write |= side != ReadWrite::ReadOnly;
                cov.excluded_sources
                    .extend(s.exclude_management_event_sources);
            }
            for d in s.data_resources {
                // `arn:aws:s3` (or `arn:aws:s3:::`) alone means all buckets;
                // other values are prefixes.
                let patterns: Vec<String> = d
                    .values
                    .into_iter()
                    .filter(|v| {
                        !matches!(
                            v.as_str(),
                            "arn:aws:s3" | "arn:aws:s3:::" | "arn:aws:lambda" | "arn:aws:dynamodb"
                        )
                    })
                    .map(|v| format!("{v}*"))
                    .collect();
                cov.data.push(DataSelector {
                    resource_type: d.kind,
                    arn_patterns: patterns,
                    excluded: Vec::new(),
                    read_write: side,
                });
            }
        }
        for a in t.advanced_event_selectors {
            advanced(&a.field_selectors, &mut cov);
        }
    }
    cov.excluded_sources.sort();
    cov.excluded_sources.dedup();
    Ok(cov)
}

/// Advanced selectors: `eventCategory` decides management vs data, `resources.type`
/// the data resource type, `readOnly` the side, `resources.ARN` the scope
/// (positive operators) and what it leaves out (negative operators).
fn advanced(fields: &[RawField], cov: &mut TrailCoverage) {
    let get = |name: &str| fields.iter().find(|f| f.field == name);
    let category = get("eventCategory")
        .and_then(|f| f.equals.first())
        .map(String::as_str);
    let side = match get("readOnly")
        .and_then(|f| f.equals.first())
        .map(String::as_str)
    {
        Some("true") => ReadWrite::ReadOnly,
        Some("false") => ReadWrite::WriteOnly,
        _ => ReadWrite::All,
    };
    match category {
        Some("Management") => {
            cov.management_read |= side != ReadWrite::WriteOnly;
            cov.management_write |= side != ReadWrite::ReadOnly;
            if let Some(f) = get("eventSource") {
                cov.excluded_sources.extend(f.not_equals.iter().cloned());
            }
        }
        Some("Data") => {
            let Some(kind) = get("resources.type").and_then(|f| f.equals.first()) else {
                return;
            };
            let mut patterns = Vec::new();
            let mut excluded = Vec::new();
            if let Some(f) = get("resources.ARN") {
                patterns.extend(f.starts_with.iter().map(|p| format!("{p}*")));
                patterns.extend(f.equals.iter().cloned());
                patterns.extend(f.ends_with.iter().map(|p| format!("*{p}")));
                excluded.extend(f.not_starts_with.iter().map(|p| format!("{p}*")));
                excluded.extend(f.not_equals.iter().cloned());
                excluded.extend(f.not_ends_with.iter().map(|p| format!("*{p}")));
            }
            cov.data.push(DataSelector {
                resource_type: kind.clone(),
                arn_patterns: patterns,
                excluded,
                read_write: side,
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_and_advanced_selectors() {
        let j = br#"{"trailList":[{"Name":"main","TrailARN":"arn:aws:cloudtrail:us-east-1:1:trail/main","S3BucketName":"logs",
            "EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::data/"]}],"ExcludeManagementEventSources":["kms.amazonaws.com"]}]},
            {"Name":"adv","AdvancedEventSelectors":[{"Name":"lambda","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::Lambda::Function"]},{"Field":"readOnly","Equals":["false"]}]}]}]}"#;
        let c = parse(j, Path::new("trails.json")).unwrap();
        assert!(c.management_read && c.management_write);
        let g = |s: &str| vec![s.to_string()];
        assert!(c.records_data("AWS::S3::Object", &g("arn:aws:s3:::data/x"), true));
        assert!(
            c.records_data("AWS::S3::Object", &g("arn:aws:s3:::data"), true),
            "bucket of recorded objects"
        );
        assert!(
            c.records_data("AWS::S3::Object", &g("*"), true),
            "partly recorded counts"
        );
        assert!(!c.records_data("AWS::S3::Object", &g("arn:aws:s3:::other/x"), true));
        assert!(c.records_data("AWS::Lambda::Function", &g("*"), false));
        assert!(!c.records_data("AWS::Lambda::Function", &g("*"), true));
        assert_eq!(c.excluded_sources, vec!["kms.amazonaws.com".to_string()]);
    }

    #[test]
    fn advanced_negative_filters_leave_resources_out() {
        let j = br#"{"trailList":[{"Name":"adv","IsMultiRegionTrail":false,"HomeRegion":"eu-west-1","AdvancedEventSelectors":[{"Name":"s3","FieldSelectors":[
            {"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},
            {"Field":"resources.ARN","NotStartsWith":["arn:aws:s3:::noisy/"]}]}]}]}"#;
        let c = parse(j, Path::new("trails.json")).unwrap();
        let g = |s: &str| vec![s.to_string()];
        assert!(c.records_data("AWS::S3::Object", &g("arn:aws:s3:::data/*"), true));
        assert!(!c.records_data("AWS::S3::Object", &g("arn:aws:s3:::noisy/*"), true));
        assert!(!c.records_data("AWS::S3::Object", &g("arn:aws:s3:::noisy/a/b"), false));
        assert_eq!(c.single_region, vec!["adv (eu-west-1)".to_string()]);
    }

    #[test]
    fn shape_error_has_path() {
        let e = parse(
            br#"{"trailList":[{"EventSelectors":[{"DataResources":[{"Type":1}]}]}]}"#,
            Path::new("t.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("trailList[0].EventSelectors[0].DataResources[0].Type"),
            "{e}"
        );
    }
}
