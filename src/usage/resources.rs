//! The resources a record touched, as ARNs: from its `resources` list when
//! CloudTrail gives one, else from a few well-known request parameters.
//! Only identifiers are read, never values (no secret or parameter values).

use crate::ingest::cloudtrail::RawRecord;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Params<'a> {
    #[serde(borrow)]
    bucket_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    secret_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    names: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    key_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    function_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    table_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    role_arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    role_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    policy_arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    queue_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    topic_arn: Option<Cow<'a, str>>,
}

/// Resource ARNs of a record (possibly empty), pushed into `out`.
pub fn extract(rec: &RawRecord<'_>, prefix: &str, out: &mut Vec<String>) {
    if let Some(list) = &rec.resources {
        for r in list {
            if let Some(a) = &r.arn {
                if a.starts_with("arn:") {
                    out.push(a.to_string());
                }
            }
        }
        if !out.is_empty() {
            // S3 data events list the bucket beside the object; the object is
            // what the action touched.
            let all = out.clone();
            out.retain(|r| {
                !all.iter().any(|o| {
                    o.len() > r.len() && o.starts_with(r.as_str()) && o.as_bytes()[r.len()] == b'/'
                })
            });
            return;
        }
    }
    let Some(raw) = rec.request_parameters else {
        return;
    };
    // Parameters of other shapes (lists, strings) simply carry no identifiers we know.
    let p: Params = serde_json::from_str(raw).unwrap_or_default();
    let region = rec.aws_region.as_deref().unwrap_or("*");
    let account = rec
        .recipient_account_id
        .as_deref()
        .or_else(|| {
            rec.user_identity
                .as_ref()
                .and_then(|u| u.account_id.as_deref())
        })
        .unwrap_or("*");
    let arn_or = |id: &str, build: &dyn Fn(&str) -> String| {
        if id.starts_with("arn:") {
            id.to_string()
        } else {
            build(id)
        }
    };
    match prefix {
        "s3" => {
            if let Some(b) = &p.bucket_name {
                out.push(match &p.key {
                    Some(k) => format!("arn:aws:s3:::{b}/{k}"),
                    None => format!("arn:aws:s3:::{b}"),
                });
            }
        }
        "secretsmanager" => {
            if let Some(s) = &p.secret_id {
                out.push(arn_or(s, &|s| {
                    format!("arn:aws:secretsmanager:{region}:{account}:secret:{s}")
                }));
            }
        }
        "ssm" => {
            let one = p.name.iter();
            let many = p.names.iter().flatten();
            for n in one.chain(many) {
                out.push(arn_or(n, &|n| {
                    format!(
                        "arn:aws:ssm:{region}:{account}:parameter/{}",
                        n.trim_start_matches('/')
                    )
                }));
            }
        }
        "kms" => {
            if let Some(k) = &p.key_id {
                out.push(arn_or(k, &|k| {
                    if k.starts_with("alias/") {
                        format!("arn:aws:kms:{region}:{account}:{k}")
                    } else {
                        format!("arn:aws:kms:{region}:{account}:key/{k}")
                    }
                }));
            }
        }
        "lambda" => {
            if let Some(f) = &p.function_name {
                out.push(arn_or(f, &|f| {
                    format!("arn:aws:lambda:{region}:{account}:function:{f}")
                }));
            }
        }
        "dynamodb" => {
            if let Some(t) = &p.table_name {
                out.push(arn_or(t, &|t| {
                    format!("arn:aws:dynamodb:{region}:{account}:table/{t}")
                }));
            }
        }
        "iam" => {
            if let Some(r) = &p.role_name {
                out.push(format!("arn:aws:iam::{account}:role/{r}"));
            }
            if let Some(u) = &p.user_name {
                out.push(format!("arn:aws:iam::{account}:user/{u}"));
            }
            if let Some(a) = &p.policy_arn {
                out.push(a.to_string());
            }
        }
        "sts" => {
            if let Some(r) = &p.role_arn {
                out.push(r.to_string());
            }
        }
        "sqs" => {
            if let Some(q) = &p.queue_url {
                if let Some(name) = q.rsplit('/').next() {
                    out.push(format!("arn:aws:sqs:{region}:{account}:{name}"));
                }
            }
        }
        "sns" => {
            if let Some(t) = &p.topic_arn {
                out.push(t.to_string());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str, prefix: &str) -> Vec<String> {
        let r: RawRecord = serde_json::from_str(json).unwrap();
        let mut out = Vec::new();
        extract(&r, prefix, &mut out);
        out
    }

    #[test]
    fn from_resources_and_parameters() {
        assert_eq!(
            res(
                r#"{"resources":[{"ARN":"arn:aws:s3:::b/k","type":"AWS::S3::Object"}],"requestParameters":{"bucketName":"x"}}"#,
                "s3"
            ),
            ["arn:aws:s3:::b/k"]
        );
        assert_eq!(
            res(
                r#"{"resources":[{"ARN":"arn:aws:s3:::b/k"},{"ARN":"arn:aws:s3:::b"}]}"#,
                "s3"
            ),
            ["arn:aws:s3:::b/k"]
        );
        assert_eq!(
            res(
                r#"{"requestParameters":{"bucketName":"b","key":"k/1"}}"#,
                "s3"
            ),
            ["arn:aws:s3:::b/k/1"]
        );
        assert_eq!(
            res(
                r#"{"awsRegion":"us-east-1","recipientAccountId":"1","requestParameters":{"name":"/prod/db","withDecryption":true}}"#,
                "ssm"
            ),
            ["arn:aws:ssm:us-east-1:1:parameter/prod/db"]
        );
        assert_eq!(
            res(
                r#"{"awsRegion":"us-east-1","recipientAccountId":"1","requestParameters":{"secretId":"prod/x"}}"#,
                "secretsmanager"
            ),
            ["arn:aws:secretsmanager:us-east-1:1:secret:prod/x"]
        );
        assert!(res(r#"{"requestParameters":["odd"]}"#, "s3").is_empty());
    }
}
