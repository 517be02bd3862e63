//! `trails.json`: each DescribeTrails entry merged with its GetEventSelectors
//! answer. From it we learn which kinds of events the trails record, which
//! decides whether an unseen action is "unused" or "unobservable".

use super::IngestError;
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
    is_organization_trail: Option<bool>,
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
    name: Option<String>,
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
    pub arn_prefixes: Vec<String>,
    pub read_write: ReadWrite,
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
        }
    }

    /// Whether data events of `resource_type` on `arn` (if known) are recorded
    /// for a read (`read_only`) or write call.
    pub fn records_data(&self, resource_type: &str, arn: Option<&str>, read_only: bool) -> bool {
        self.data.iter().any(|d| {
            d.resource_type == resource_type
                && match d.read_write {
                    ReadWrite::All => true,
                    ReadWrite::ReadOnly => read_only,
                    ReadWrite::WriteOnly => !read_only,
                }
                && (d.arn_prefixes.is_empty()
                    || arn
                        .is_some_and(|a| d.arn_prefixes.iter().any(|p| a.starts_with(p.as_str()))))
        })
    }

    /// Whether any data events of `resource_type` are recorded anywhere.
    pub fn records_any_data(&self, resource_type: &str) -> bool {
        self.data.iter().any(|d| d.resource_type == resource_type)
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
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let file: TrailsFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            IngestError::json(path, inner)
        } else {
            IngestError::Shape {
                path: path.to_path_buf(),
                location: format!("$.{}", e.path()),
                message: super::strip_position(&inner.to_string()),
            }
        }
    })?;
    let mut cov = TrailCoverage::default();
    for t in file.trail_list {
        cov.trails.push(t.trail_arn.or(t.name).unwrap_or_default());
        if let Some(b) = t.s3_bucket_name {
            let prefix = t.s3_key_prefix.map(|p| format!("/{p}")).unwrap_or_default();
            cov.buckets.push(format!("s3://{b}{prefix}"));
        }
        let _ = (
            t.home_region,
            t.is_multi_region_trail,
            t.is_organization_trail,
        );
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
                // `arn:aws:s3` (or `arn:aws:s3:::`) alone means all buckets.
                let prefixes: Vec<String> = d
                    .values
                    .into_iter()
                    .filter(|v| {
                        !matches!(
                            v.as_str(),
                            "arn:aws:s3" | "arn:aws:s3:::" | "arn:aws:lambda" | "arn:aws:dynamodb"
                        )
                    })
                    .collect();
                cov.data.push(DataSelector {
                    resource_type: d.kind,
                    arn_prefixes: prefixes,
                    read_write: side,
                });
            }
        }
        for a in t.advanced_event_selectors {
            let _ = a.name;
            advanced(&a.field_selectors, &mut cov);
        }
    }
    cov.excluded_sources.sort();
    cov.excluded_sources.dedup();
    Ok(cov)
}

/// Advanced selectors: `eventCategory` decides management vs data, `resources.type`
/// the data resource type, `readOnly` the side, `resources.ARN` StartsWith/Equals
/// the scope. Negative operators widen what we must treat as unrecorded, so we
/// keep the selector but without a prefix only when it has no negative filter.
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
            let mut prefixes = Vec::new();
            if let Some(f) = get("resources.ARN") {
                prefixes.extend(f.starts_with.iter().cloned());
                prefixes.extend(f.equals.iter().cloned());
                let _ = (
                    &f.not_equals,
                    &f.not_starts_with,
                    &f.ends_with,
                    &f.not_ends_with,
                );
            }
            cov.data.push(DataSelector {
                resource_type: kind.clone(),
                arn_prefixes: prefixes,
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
        assert!(c.records_data("AWS::S3::Object", Some("arn:aws:s3:::data/x"), true));
        assert!(!c.records_data("AWS::S3::Object", Some("arn:aws:s3:::other/x"), true));
        assert!(c.records_data("AWS::Lambda::Function", None, false));
        assert!(!c.records_data("AWS::Lambda::Function", None, true));
        assert_eq!(c.excluded_sources, vec!["kms.amazonaws.com".to_string()]);
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
