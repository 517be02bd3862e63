//! Resources with their own policies: secrets, KMS keys, buckets,
//! parameters, functions, queues, topics, repositories and tables, each with
//! its resource-based policy (or none) and, for encrypted ones, its KMS key.
//!
//! Built by `ingest::resource_policies` from `resource-policies.json`.

use super::PolicyDocument;
use std::collections::HashMap;
use std::sync::Arc;

/// The kind of a resource, from its CloudFormation-style `ResourceType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    Secret,
    KmsKey,
    Bucket,
    Parameter,
    Function,
    Queue,
    Topic,
    Repository,
    Table,
    Other,
}

impl ResourceKind {
    pub fn from_type(t: &str) -> ResourceKind {
        match t {
            "AWS::SecretsManager::Secret" => ResourceKind::Secret,
            "AWS::KMS::Key" => ResourceKind::KmsKey,
            "AWS::S3::Bucket" => ResourceKind::Bucket,
            "AWS::SSM::Parameter" => ResourceKind::Parameter,
            "AWS::Lambda::Function" => ResourceKind::Function,
            "AWS::SQS::Queue" => ResourceKind::Queue,
            "AWS::SNS::Topic" => ResourceKind::Topic,
            "AWS::ECR::Repository" => ResourceKind::Repository,
            "AWS::DynamoDB::Table" => ResourceKind::Table,
            _ => ResourceKind::Other,
        }
    }

    /// How the resource's policy is combined with identity policies in its
    /// own account: a KMS key policy must allow (IAM policies count only when
    /// it trusts the account), like a role's trust policy; other resource
    /// policies are one more way to be allowed.
    pub fn policy_role(self) -> PolicyRole {
        match self {
            ResourceKind::KmsKey => PolicyRole::KeyPolicy,
            _ => PolicyRole::Ordinary,
        }
    }
}

/// How a resource-based policy takes part in a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyRole {
    /// Same account: identity **or** resource policy allows.
    Ordinary,
    /// A KMS key policy: it must allow, by naming the principal or by
    /// trusting the account (then IAM policies decide).
    KeyPolicy,
    /// A role trust policy: as a key policy.
    TrustPolicy,
}

/// One resource with its policy.
#[derive(Clone, Debug)]
pub struct ResourcePolicy {
    pub arn: String,
    pub resource_type: String,
    pub kind: ResourceKind,
    /// `None`: the resource has no policy of its own.
    pub document: Option<Arc<PolicyDocument>>,
    /// The KMS key encrypting the resource, as the service names it.
    pub kms_key: Option<String>,
    /// The account that owns the resource (from its ARN; S3 bucket ARNs
    /// carry none, so the snapshot's account).
    pub account: Option<String>,
}

impl ResourcePolicy {
    /// Whether `arn` names this resource or something inside it (an S3
    /// object of the bucket; a secret by its name without the random suffix).
    pub fn covers(&self, arn: &str) -> bool {
        if arn == self.arn {
            return true;
        }
        match self.kind {
            ResourceKind::Bucket => arn
                .strip_prefix(self.arn.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
            ResourceKind::Secret => secret_base(&self.arn) == secret_base(arn),
            _ => false,
        }
    }
}

/// A secret's ARN without the `-XXXXXX` suffix Secrets Manager appends.
pub fn secret_base(arn: &str) -> &str {
    if let Some((head, tail)) = arn.rsplit_once('-') {
        if tail.len() == 6
            && tail.chars().all(|c| c.is_ascii_alphanumeric())
            && head.contains(":secret:")
        {
            return head;
        }
    }
    arn
}

/// The account in an ARN (its fifth field), if it has one.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Every resource of `resource-policies.json`.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    pub list: Vec<ResourcePolicy>,
    by_arn: HashMap<String, usize>,
    /// Key id (the UUID) to its index, so `KmsKeyId` values given as ids resolve.
    keys_by_id: HashMap<String, usize>,
}

impl Resources {
    pub fn new(list: Vec<ResourcePolicy>) -> Resources {
        let mut by_arn = HashMap::new();
        let mut keys_by_id = HashMap::new();
        for (i, r) in list.iter().enumerate() {
            by_arn.entry(r.arn.clone()).or_insert(i);
            if r.kind == ResourceKind::KmsKey {
                if let Some((_, id)) = r.arn.rsplit_once(":key/") {
                    keys_by_id.entry(id.to_string()).or_insert(i);
                }
            }
        }
        Resources {
            list,
            by_arn,
            keys_by_id,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The resource `arn` names, or that holds it (a bucket for its objects).
    pub fn find(&self, arn: &str) -> Option<&ResourcePolicy> {
        if let Some(&i) = self.by_arn.get(arn) {
            return Some(&self.list[i]);
        }
        if let Some(bucket) = arn
            .strip_prefix("arn:aws:s3:::")
            .and_then(|rest| rest.split('/').next())
        {
            if let Some(&i) = self.by_arn.get(&format!("arn:aws:s3:::{bucket}")) {
                return Some(&self.list[i]);
            }
        }
        self.list.iter().find(|r| r.covers(arn))
    }

    /// The key a `KmsKeyId` value names: a key ARN or a key id. Aliases are
    /// not resolved (the snapshot has no alias list): `None`.
    pub fn key(&self, key_id: &str) -> Option<&ResourcePolicy> {
        if let Some(&i) = self.by_arn.get(key_id) {
            return Some(&self.list[i]).filter(|r| r.kind == ResourceKind::KmsKey);
        }
        let id = key_id.rsplit_once(":key/").map_or(key_id, |(_, id)| id);
        self.keys_by_id.get(id).map(|&i| &self.list[i])
    }
}

/// Whether a `KmsKeyId` names a key AWS manages for a service
/// (`alias/aws/...`): its policy lets the account use it through that service.
pub fn is_aws_managed_key(key_id: &str) -> bool {
    key_id.contains("alias/aws/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(arn: &str, t: &str) -> ResourcePolicy {
        ResourcePolicy {
            arn: arn.into(),
            resource_type: t.into(),
            kind: ResourceKind::from_type(t),
            document: None,
            kms_key: None,
            account: arn_account(arn).map(String::from),
        }
    }

    #[test]
    fn finds_objects_secrets_by_name_and_keys_by_id() {
        let r = Resources::new(vec![
            res("arn:aws:s3:::data", "AWS::S3::Bucket"),
            res(
                "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf",
                "AWS::SecretsManager::Secret",
            ),
            res("arn:aws:kms:us-east-1:1:key/0000-1111", "AWS::KMS::Key"),
        ]);
        assert_eq!(
            r.find("arn:aws:s3:::data/k/1").unwrap().arn,
            "arn:aws:s3:::data"
        );
        assert!(r.find("arn:aws:s3:::database").is_none());
        assert!(r
            .find("arn:aws:secretsmanager:us-east-1:1:secret:prod/db")
            .is_some());
        assert!(r.key("0000-1111").is_some());
        assert!(r.key("arn:aws:kms:us-east-1:1:key/0000-1111").is_some());
        assert!(r.key("alias/prod").is_none());
        assert!(is_aws_managed_key("alias/aws/secretsmanager"));
    }
}
