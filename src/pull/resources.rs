//! Resource policies and the KMS keys of encrypted resources, as
//! `resource-policies.json`:
//!
//! ```text
//! {"ResourcePolicies": [{"ResourceArn": "...", "ResourceType": "AWS::SecretsManager::Secret",
//!                        "Policy": "<policy JSON as a string>" | null,
//!                        "KmsKeyId": "<key ARN>"}]}
//! ```
//!
//! Secrets Manager secrets, KMS keys (the key policy), SSM parameters,
//! Lambda functions, SQS queues, SNS topics, ECR repositories and DynamoDB
//! tables in every Region of the pull; S3 buckets (one account-wide list)
//! each in its own Region. `Policy` is `null` only when the service said
//! the resource has none; a resource whose policy could not be read is left
//! out and named in the manifest's problems. Never a secret value or a
//! parameter value: only list and describe calls and the policy reads.

use super::aws::{describe, Clients};
use super::manifest::Gap;
use super::PullOptions;
use aws_config::{Region, SdkConfig};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// Every page's `$field` items, for paginators without an item stream.
macro_rules! pages {
    ($req:expr, $field:ident) => {
        $req.into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.$field().to_vec())
                    .collect::<Vec<_>>()
            })
            .map_err(|e| describe(&e))
    };
}

macro_rules! all {
    ($req:expr) => {
        $req.into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| describe(&e))
    };
}

const SECRET: &str = "AWS::SecretsManager::Secret";
const KEY: &str = "AWS::KMS::Key";
const BUCKET: &str = "AWS::S3::Bucket";
const PARAMETER: &str = "AWS::SSM::Parameter";
const FUNCTION: &str = "AWS::Lambda::Function";
const QUEUE: &str = "AWS::SQS::Queue";
const TOPIC: &str = "AWS::SNS::Topic";
const REPOSITORY: &str = "AWS::ECR::Repository";
const TABLE: &str = "AWS::DynamoDB::Table";

/// One resource of `resource-policies.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    arn: String,
    kind: &'static str,
    policy: Option<String>,
    kms: Option<String>,
}

impl Entry {
    fn json(&self) -> Value {
        let mut v = json!({
            "ResourceArn": self.arn,
            "ResourceType": self.kind,
            "Policy": self.policy,
        });
        if let Some(k) = &self.kms {
            v["KmsKeyId"] = json!(k);
        }
        v
    }
}

/// What was read: the file, resources per type, and what could not be.
pub(crate) struct ResourcePolicies {
    pub file: Value,
    pub counts: BTreeMap<String, usize>,
    pub gaps: Vec<Gap>,
}

/// One Region of one account.
struct Ctx<'a> {
    conf: &'a SdkConfig,
    opts: &'a PullOptions,
    region: String,
    account: String,
    partition: String,
    keys: Keys,
}

/// The Region's KMS keys and aliases, to name each resource's key by its ARN.
#[derive(Default)]
struct Keys {
    partition: String,
    region: String,
    account: String,
    /// key id -> key ARN
    ids: HashMap<String, String>,
    /// `alias/NAME` -> key ARN
    aliases: HashMap<String, String>,
}

impl Keys {
    /// A key as a resource names it (key id, key ARN, `alias/NAME`, alias
    /// ARN) as the key's ARN when the key is in this account and Region and
    /// known; an alias that names no key stays an alias ARN, and a key of
    /// another account stays as given.
    fn arn(&self, given: &str) -> String {
        let local_alias = format!(
            "arn:{}:kms:{}:{}:alias/",
            self.partition, self.region, self.account
        );
        if let Some(name) = given.strip_prefix(&local_alias) {
            let alias = format!("alias/{name}");
            return self
                .aliases
                .get(&alias)
                .cloned()
                .unwrap_or_else(|| given.to_string());
        }
        if given.starts_with("arn:") {
            return given.to_string();
        }
        if let Some(name) = given.strip_prefix("alias/") {
            return self
                .aliases
                .get(given)
                .cloned()
                .unwrap_or_else(|| format!("{local_alias}{name}"));
        }
        self.ids.get(given).cloned().unwrap_or_else(|| {
            format!(
                "arn:{}:kms:{}:{}:key/{given}",
                self.partition, self.region, self.account
            )
        })
    }
}

impl Ctx<'_> {
    fn key_arn(&self, given: &str) -> String {
        self.keys.arn(given)
    }

    fn gap(&self, kind: &str, msg: impl Into<String>) -> Gap {
        Gap::new("resource-policies", format!("{kind} {}", self.region), msg)
    }
}

type Read = (Vec<Entry>, Vec<Gap>);

/// Reads every resource type in each of the pull's Regions, and S3 once.
pub(crate) async fn pull(
    c: &Clients,
    opts: &PullOptions,
    account: &str,
    partition: &str,
) -> ResourcePolicies {
    let mut entries = Vec::new();
    let mut gaps = Vec::new();
    let mut add = |(e, g): Read| {
        entries.extend(e);
        gaps.extend(g);
    };
    for region in &c.regions {
        let mut x = Ctx {
            conf: &c.conf,
            opts,
            region: region.clone(),
            account: account.to_string(),
            partition: partition.to_string(),
            keys: Keys {
                partition: partition.to_string(),
                region: region.clone(),
                account: account.to_string(),
                ..Keys::default()
            },
        };
        // Keys first: the other resources name theirs.
        add(kms(&mut x).await);
        add(secrets(&x).await);
        add(parameters(&x).await);
        add(functions(&x).await);
        add(queues(&x).await);
        add(topics(&x).await);
        add(repositories(&x).await);
        add(tables(&x).await);
    }
    add(buckets(c, opts, account, partition).await);
    entries.sort_by(|a, b| (a.kind, &a.arn).cmp(&(b.kind, &b.arn)));
    entries.dedup_by(|a, b| a.arn == b.arn);
    let mut counts = BTreeMap::new();
    for e in &entries {
        *counts.entry(e.kind.to_string()).or_insert(0) += 1;
    }
    ResourcePolicies {
        file: json!({ "ResourcePolicies": entries.iter().map(Entry::json).collect::<Vec<_>>() }),
        counts,
        gaps,
    }
}

async fn kms(x: &mut Ctx<'_>) -> Read {
    let c = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(x.conf)
            .region(Region::new(x.region.clone()))
            .build(),
    );
    let keys = match all!(c.list_keys()) {
        Ok(k) => k,
        Err(e) => return (Vec::new(), vec![x.gap(KEY, e)]),
    };
    let mut gaps = Vec::new();
    for k in &keys {
        if let (Some(id), Some(arn)) = (k.key_id(), k.key_arn()) {
            x.keys.ids.insert(id.to_string(), arn.to_string());
        }
    }
    match all!(c.list_aliases()) {
        Ok(aliases) => {
            for a in aliases {
                if let (Some(name), Some(target)) = (a.alias_name(), a.target_key_id()) {
                    let arn = x.keys.ids.get(target).cloned().unwrap_or_else(|| {
                        format!(
                            "arn:{}:kms:{}:{}:key/{target}",
                            x.partition, x.region, x.account
                        )
                    });
                    x.keys.aliases.insert(name.to_string(), arn);
                }
            }
        }
        Err(e) => gaps.push(x.gap("KMS aliases", e)),
    }
    let ids: Vec<(String, String)> = keys
        .iter()
        .filter_map(|k| Some((k.key_id()?.to_string(), k.key_arn()?.to_string())))
        .collect();
    let read = super::iam::each_bounded(x.opts, "KMS key policies", &ids, |(id, arn)| {
        let c = c.clone();
        async move {
            // Every key has exactly one key policy, named "default".
            match c
                .get_key_policy()
                .key_id(id)
                .policy_name("default")
                .send()
                .await
            {
                Ok(p) => Ok(Entry {
                    arn: arn.clone(),
                    kind: KEY,
                    policy: p.policy().map(str::to_string),
                    kms: None,
                }),
                Err(e) => Err(Gap::new("resource-policies", arn.clone(), describe(&e))),
            }
        }
    })
    .await;
    split(read, gaps)
}

fn split(read: Vec<Result<Entry, Gap>>, mut gaps: Vec<Gap>) -> Read {
    let mut entries = Vec::new();
    for r in read {
        match r {
            Ok(e) => entries.push(e),
            Err(g) => gaps.push(g),
        }
    }
    (entries, gaps)
}

async fn secrets(x: &Ctx<'_>) -> Read {
    let c = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(x.conf)
            .region(Region::new(x.region.clone()))
            .build(),
    );
    let list = match pages!(c.list_secrets(), secret_list) {
        Ok(l) => l,
        Err(e) => return (Vec::new(), vec![x.gap(SECRET, e)]),
    };
    // ListSecrets names each secret's key (absent: the AWS managed
    // aws/secretsmanager key); GetResourcePolicy never returns the value.
    let items: Vec<(String, Option<String>)> = list
        .iter()
        .filter_map(|s| Some((s.arn()?.to_string(), s.kms_key_id().map(|k| x.key_arn(k)))))
        .collect();
    let read = super::iam::each_bounded(x.opts, "secret policies", &items, |(arn, kms)| {
        let c = c.clone();
        async move {
            match c.get_resource_policy().secret_id(arn).send().await {
                Ok(p) => Ok(Entry {
                    arn: arn.clone(),
                    kind: SECRET,
                    policy: p.resource_policy().map(str::to_string),
                    kms: kms.clone(),
                }),
                Err(e) => Err(Gap::new("resource-policies", arn.clone(), describe(&e))),
            }
        }
    })
    .await;
    split(read, Vec::new())
}

async fn parameters(x: &Ctx<'_>) -> Read {
    let c = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(x.conf)
            .region(Region::new(x.region.clone()))
            .build(),
    );
    let list = match pages!(c.describe_parameters(), parameters) {
        Ok(l) => l,
        Err(e) => return (Vec::new(), vec![x.gap(PARAMETER, e)]),
    };
    let items: Vec<(String, Option<String>, bool)> = list
        .iter()
        .filter_map(|p| {
            let name = p.name()?;
            let arn = p.arn().map(str::to_string).unwrap_or_else(|| {
                format!(
                    "arn:{}:ssm:{}:{}:parameter/{}",
                    x.partition,
                    x.region,
                    x.account,
                    name.trim_start_matches('/')
                )
            });
            let secure = p
                .r#type()
                .is_some_and(|t| *t == aws_sdk_ssm::types::ParameterType::SecureString);
            let kms = secure.then(|| p.key_id().map(|k| x.key_arn(k))).flatten();
            // Only advanced-tier parameters can have a resource policy
            // (sharing through AWS RAM); a standard one has none to read.
            let advanced = p
                .tier()
                .is_some_and(|t| *t == aws_sdk_ssm::types::ParameterTier::Advanced);
            Some((arn, kms, advanced))
        })
        .collect();
    let read = super::iam::each_bounded(
        x.opts,
        "parameter policies",
        &items,
        |(arn, kms, advanced)| {
            let c = c.clone();
            async move {
                let policy = if *advanced {
                    match all!(c.get_resource_policies().resource_arn(arn)) {
                        Ok(list) => merge(list.iter().filter_map(|p| p.policy())),
                        Err(e) => return Err(Gap::new("resource-policies", arn.clone(), e)),
                    }
                } else {
                    None
                };
                Ok(Entry {
                    arn: arn.clone(),
                    kind: PARAMETER,
                    policy,
                    kms: kms.clone(),
                })
            }
        },
    )
    .await;
    split(read, Vec::new())
}

/// Several policies of one resource as one document: their statements
/// together (a resource's policies apply as a union). One is kept as given.
fn merge<'a>(policies: impl Iterator<Item = &'a str>) -> Option<String> {
    let list: Vec<&str> = policies.collect();
    match list.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        many => {
            let mut statements = Vec::new();
            for p in many {
                match serde_json::from_str::<Value>(p) {
                    Ok(v) => match &v["Statement"] {
                        Value::Array(a) => statements.extend(a.iter().cloned()),
                        Value::Null => {}
                        s => statements.push(s.clone()),
                    },
                    // Not JSON: kept whole, so the reader names it.
                    Err(_) => return Some(many.join("\n")),
                }
            }
            Some(json!({ "Version": "2012-10-17", "Statement": statements }).to_string())
        }
    }
}

async fn functions(x: &Ctx<'_>) -> Read {
    let c = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(x.conf)
            .region(Region::new(x.region.clone()))
            .build(),
    );
    let list = match all!(c.list_functions()) {
        Ok(l) => l,
        Err(e) => return (Vec::new(), vec![x.gap(FUNCTION, e)]),
    };
    let items: Vec<(String, Option<String>)> = list
        .iter()
        .filter_map(|f| {
            Some((
                f.function_arn()?.to_string(),
                f.kms_key_arn().map(|k| x.key_arn(k)),
            ))
        })
        .collect();
    let read = super::iam::each_bounded(x.opts, "function policies", &items, |(arn, kms)| {
        let c = c.clone();
        async move {
            let policy = match c.get_policy().function_name(arn).send().await {
                Ok(p) => p.policy().map(str::to_string),
                // Lambda's answer for a function without a policy.
                Err(e) if e.code() == Some("ResourceNotFoundException") => None,
                Err(e) => return Err(Gap::new("resource-policies", arn.clone(), describe(&e))),
            };
            Ok(Entry {
                arn: arn.clone(),
                kind: FUNCTION,
                policy,
                kms: kms.clone(),
            })
        }
    })
    .await;
    split(read, Vec::new())
}

async fn queues(x: &Ctx<'_>) -> Read {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let c = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(x.conf)
            .region(Region::new(x.region.clone()))
            .build(),
    );
    // ListQueues pages only when MaxResults is set.
    let urls = match all!(c.list_queues().max_results(1000)) {
        Ok(l) => l,
        Err(e) => return (Vec::new(), vec![x.gap(QUEUE, e)]),
    };
    let read = super::iam::each_bounded(x.opts, "queue policies", &urls, |url| {
        let c = c.clone();
        async move {
            let r = c
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(A::QueueArn)
                .attribute_names(A::Policy)
                .attribute_names(A::KmsMasterKeyId)
                .send()
                .await
                .map_err(|e| Gap::new("resource-policies", url.clone(), describe(&e)))?;
            let attrs = r.attributes();
            let get = |k: A| attrs.and_then(|a| a.get(&k)).cloned();
            Ok(Entry {
                arn: get(A::QueueArn).unwrap_or_else(|| url.clone()),
                kind: QUEUE,
                policy: get(A::Policy),
                kms: get(A::KmsMasterKeyId).map(|k| x.key_arn(&k)),
            })
        }
    })
    .await;
    split(read, Vec::new())
}

async fn topics(x: &Ctx<'_>) -> Read {
    let c = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(x.conf)
            .region(Region::new(x.region.clone()))
            .build(),
    );
    let list = match all!(c.list_topics()) {
        Ok(l) => l,
        Err(e) => return (Vec::new(), vec![x.gap(TOPIC, e)]),
    };
    let arns: Vec<String> = list
        .iter()
        .filter_map(|t| t.topic_arn().map(String::from))
        .collect();
    let read = super::iam::each_bounded(x.opts, "topic policies", &arns, |arn| {
        let c = c.clone();
        async move {
            let r = c
                .get_topic_attributes()
                .topic_arn(arn)
                .send()
                .await
                .map_err(|e| Gap::new("resource-policies", arn.clone(), describe(&e)))?;
            let attrs = r.attributes();
            let get = |k: &str| attrs.and_then(|a| a.get(k)).cloned();
            Ok(Entry {
                arn: arn.clone(),
                kind: TOPIC,
                policy: get("Policy"),
                kms: get("KmsMasterKeyId").map(|k| x.key_arn(&k)),
            })
        }
    })
    .await;
    split(read, Vec::new())
}

async fn repositories(x: &Ctx<'_>) -> Read {
    let c = aws_sdk_ecr::Client::from_conf(
        aws_sdk_ecr::config::Builder::from(x.conf)
            .region(Region::new(x.region.clone()))
            .build(),
    );
    let list = match all!(c.describe_repositories()) {
        Ok(l) => l,
        Err(e) => return (Vec::new(), vec![x.gap(REPOSITORY, e)]),
    };
    let items: Vec<(String, String, Option<String>)> = list
        .iter()
        .filter_map(|r| {
            let kms = r
                .encryption_configuration()
                .and_then(|e| e.kms_key())
                .map(|k| x.key_arn(k));
            Some((
                r.repository_arn()?.to_string(),
                r.repository_name()?.to_string(),
                kms,
            ))
        })
        .collect();
    let read =
        super::iam::each_bounded(x.opts, "repository policies", &items, |(arn, name, kms)| {
            let c = c.clone();
            async move {
                let policy = match c.get_repository_policy().repository_name(name).send().await {
                    Ok(p) => p.policy_text().map(str::to_string),
                    Err(e) if e.code() == Some("RepositoryPolicyNotFoundException") => None,
                    Err(e) => return Err(Gap::new("resource-policies", arn.clone(), describe(&e))),
                };
                Ok(Entry {
                    arn: arn.clone(),
                    kind: REPOSITORY,
                    policy,
                    kms: kms.clone(),
                })
            }
        })
        .await;
    split(read, Vec::new())
}

async fn tables(x: &Ctx<'_>) -> Read {
    let c = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(x.conf)
            .region(Region::new(x.region.clone()))
            .build(),
    );
    let names = match all!(c.list_tables()) {
        Ok(l) => l,
        Err(e) => return (Vec::new(), vec![x.gap(TABLE, e)]),
    };
    let read = super::iam::each_bounded(x.opts, "table policies", &names, |name| {
        let c = c.clone();
        let arn = format!(
            "arn:{}:dynamodb:{}:{}:table/{name}",
            x.partition, x.region, x.account
        );
        async move {
            let gap = |e: String| Gap::new("resource-policies", arn.clone(), e);
            let policy = match c.get_resource_policy().resource_arn(&arn).send().await {
                Ok(p) => p.policy().map(str::to_string),
                Err(e) if e.code() == Some("PolicyNotFoundException") => None,
                Err(e) => return Err(gap(describe(&e))),
            };
            // The key is only in DescribeTable (absent: an AWS owned key).
            let d = c
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map_err(|e| gap(describe(&e)))?;
            let kms = d
                .table()
                .and_then(|t| t.sse_description())
                .and_then(|s| s.kms_master_key_arn())
                .map(|k| x.key_arn(k));
            Ok(Entry {
                arn: arn.clone(),
                kind: TABLE,
                policy,
                kms,
            })
        }
    })
    .await;
    split(read, Vec::new())
}

/// Every bucket of the account (ListBuckets is account-wide), each read in
/// its own Region.
async fn buckets(c: &Clients, opts: &PullOptions, account: &str, partition: &str) -> Read {
    let list = match all!(c.s3.list_buckets().max_buckets(1000)) {
        Ok(l) => l,
        Err(e) => {
            return (
                Vec::new(),
                vec![Gap::new(
                    "resource-policies",
                    format!("{BUCKET} (all Regions)"),
                    e,
                )],
            )
        }
    };
    let items: Vec<(String, Option<String>)> = list
        .iter()
        .filter_map(|b| Some((b.name()?.to_string(), b.bucket_region().map(String::from))))
        .collect();
    let read = super::iam::each_bounded(
        opts,
        "bucket policies",
        &items,
        |(name, region)| async move {
            let arn = format!("arn:{partition}:s3:::{name}");
            let gap = |e: String| Gap::new("resource-policies", arn.clone(), e);
            let client = match region {
                Some(r) => c.s3_in(r),
                // ListBuckets names the Region when asked with parameters, as
                // here; GetBucketLocation is the fallback.
                None => super::s3::bucket_client(c, name).await,
            };
            let region = client
                .config()
                .region()
                .map(|r| r.to_string())
                .unwrap_or_default();
            let policy = match client.get_bucket_policy().bucket(name).send().await {
                Ok(p) => p.policy().map(str::to_string),
                Err(e) if e.code() == Some("NoSuchBucketPolicy") => None,
                Err(e) => return Err(gap(describe(&e))),
            };
            let kms = match client.get_bucket_encryption().bucket(name).send().await {
                Ok(enc) => enc
                    .server_side_encryption_configuration()
                    .and_then(|c| {
                        c.rules()
                            .iter()
                            .find_map(|r| r.apply_server_side_encryption_by_default())
                    })
                    .filter(|d| d.sse_algorithm().as_str().starts_with("aws:kms"))
                    .and_then(|d| d.kms_master_key_id())
                    .map(|k| bucket_key_arn(k, partition, &region, account)),
                // Buckets without a configuration of their own use SSE-S3.
                Err(e) if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => {
                    None
                }
                Err(e) => return Err(gap(describe(&e))),
            };
            Ok(Entry {
                arn,
                kind: BUCKET,
                policy,
                kms,
            })
        },
    )
    .await;
    split(read, Vec::new())
}

/// A bucket's default key as its ARN (S3 accepts a key id, key ARN or
/// alias ARN there).
fn bucket_key_arn(given: &str, partition: &str, region: &str, account: &str) -> String {
    if given.starts_with("arn:") {
        given.to_string()
    } else if given.starts_with("alias/") {
        format!("arn:{partition}:kms:{region}:{account}:{given}")
    } else {
        format!("arn:{partition}:kms:{region}:{account}:key/{given}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_policies_merge_into_one_document() {
        assert_eq!(merge([].into_iter()), None);
        let a = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A"}]}"#;
        let b = r#"{"Version":"2012-10-17","Statement":{"Sid":"B"}}"#;
        assert_eq!(merge([a].into_iter()).as_deref(), Some(a));
        let m: Value = serde_json::from_str(&merge([a, b].into_iter()).unwrap()).unwrap();
        assert_eq!(m["Statement"], json!([{"Sid": "A"}, {"Sid": "B"}]));
    }

    #[test]
    fn keys_are_named_by_their_arn() {
        let mut k = Keys {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "222222222222".into(),
            ..Keys::default()
        };
        let arn = "arn:aws:kms:us-east-1:222222222222:key/k1";
        k.ids.insert("k1".into(), arn.into());
        k.aliases.insert("alias/prod".into(), arn.into());
        assert_eq!(k.arn("k1"), arn);
        assert_eq!(k.arn("alias/prod"), arn);
        assert_eq!(k.arn("arn:aws:kms:us-east-1:222222222222:alias/prod"), arn);
        assert_eq!(k.arn(arn), arn);
        // An alias with no key yet (AWS creates aws/* keys on first use).
        assert_eq!(
            k.arn("alias/aws/ssm"),
            "arn:aws:kms:us-east-1:222222222222:alias/aws/ssm"
        );
        // Another account's key, as given.
        assert_eq!(
            k.arn("arn:aws:kms:us-east-1:333333333333:key/k9"),
            "arn:aws:kms:us-east-1:333333333333:key/k9"
        );
        assert_eq!(k.arn("k2"), "arn:aws:kms:us-east-1:222222222222:key/k2");
    }

    #[test]
    fn bucket_keys_are_arns() {
        assert_eq!(
            bucket_key_arn("1234", "aws", "us-east-1", "111122223333"),
            "arn:aws:kms:us-east-1:111122223333:key/1234"
        );
        assert_eq!(
            bucket_key_arn("arn:aws:kms:eu-west-1:1:key/x", "aws", "us-east-1", "2"),
            "arn:aws:kms:eu-west-1:1:key/x"
        );
    }
}
