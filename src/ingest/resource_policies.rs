//! `resource-policies.json`: resources with their resource-based policies
//! and KMS keys, into `model::resource::Resources`.
//!
//! ```text
//! {"ResourcePolicies": [{"ResourceArn": "...", "ResourceType": "AWS::SecretsManager::Secret",
//!                        "Policy": "<policy JSON as a string, or null when the resource has none>",
//!                        "KmsKeyId": "<key ARN, for encrypted resources>"}]}
//! ```
//!
//! Resource types leastpriv knows: `AWS::SecretsManager::Secret`,
//! `AWS::KMS::Key` (the key policy), `AWS::S3::Bucket`, `AWS::SSM::Parameter`,
//! `AWS::Lambda::Function`, `AWS::SQS::Queue`, `AWS::SNS::Topic`,
//! `AWS::ECR::Repository`, `AWS::DynamoDB::Table`; others are kept with their
//! policy and evaluated as ordinary resource policies.

use super::policy_json::parse_document_value;
use super::IngestError;
use crate::model::resource::{arn_account, ResourceKind, ResourcePolicy, Resources};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourcePoliciesFile {
    #[serde(default)]
    pub resource_policies: Vec<ResourcePolicyEntry>,
}

/// One resource.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourcePolicyEntry {
    pub resource_arn: String,
    pub resource_type: String,
    /// The policy document as JSON text; `None` (null) when there is none.
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub kms_key_id: Option<String>,
}

/// Reads and normalizes a resource-policies file. `account` is the
/// snapshot's account, the owner of resources whose ARN names none (S3).
pub fn load(path: &Path, account: Option<&str>) -> Result<Resources, IngestError> {
    let bytes = super::read_file(path)?;
    parse(&bytes, path, account)
}

/// Parses a resource-policies file; `path` only names errors.
pub fn parse(bytes: &[u8], path: &Path, account: Option<&str>) -> Result<Resources, IngestError> {
    let file: ResourcePoliciesFile = super::deserialize(bytes, path)?;
    normalize(file, path, account)
}

pub fn normalize(
    file: ResourcePoliciesFile,
    path: &Path,
    account: Option<&str>,
) -> Result<Resources, IngestError> {
    let mut list = Vec::with_capacity(file.resource_policies.len());
    for (i, r) in file.resource_policies.into_iter().enumerate() {
        if !r.resource_arn.starts_with("arn:") {
            return Err(IngestError::Shape {
                path: path.to_path_buf(),
                location: format!("$.ResourcePolicies[{i}].ResourceArn"),
                message: format!("`{}` is not an ARN", r.resource_arn),
            });
        }
        let document = match r.policy.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let at = format!("$.ResourcePolicies[{i}].Policy");
                let doc = parse_document_value(&serde_json::Value::String(text.to_string()), &at)
                    .map_err(|e| IngestError::Shape {
                    path: path.to_path_buf(),
                    location: e.location,
                    message: format!("policy of `{}`: {}", r.resource_arn, e.message),
                })?;
                Some(Arc::new(doc))
            }
        };
        let resource_account = arn_account(&r.resource_arn)
            .map(String::from)
            .or_else(|| account.map(String::from));
        list.push(ResourcePolicy {
            kind: ResourceKind::from_type(&r.resource_type),
            arn: r.resource_arn,
            resource_type: r.resource_type,
            document,
            kms_key: r.kms_key_id.filter(|k| !k.is_empty()),
            account: resource_account,
        });
    }
    Ok(Resources::new(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_policies_keys_and_owners() {
        let text = r#"{"ResourcePolicies": [
          {"ResourceArn": "arn:aws:secretsmanager:us-east-1:222:secret:a-AbCdEf", "ResourceType": "AWS::SecretsManager::Secret",
           "Policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::333:root\"},\"Action\":\"secretsmanager:GetSecretValue\",\"Resource\":\"*\"}]}",
           "KmsKeyId": "arn:aws:kms:us-east-1:222:key/k"},
          {"ResourceArn": "arn:aws:s3:::b", "ResourceType": "AWS::S3::Bucket", "Policy": null}
        ]}"#;
        let r = parse(text.as_bytes(), Path::new("rp.json"), Some("222")).unwrap();
        assert_eq!(r.list.len(), 2);
        assert_eq!(r.list[0].kind, ResourceKind::Secret);
        assert!(r.list[0].document.is_some());
        assert_eq!(r.list[1].account.as_deref(), Some("222"));
        assert!(r.list[1].document.is_none());
    }

    #[test]
    fn errors_name_the_file_and_the_resource() {
        let text = r#"{"ResourcePolicies": [{"ResourceArn": "arn:aws:sqs:us-east-1:2:q", "ResourceType": "AWS::SQS::Queue", "Policy": "{\"Statement\": 3}"}]}"#;
        let e = parse(text.as_bytes(), Path::new("rp.json"), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rp.json") && e.contains("$.ResourcePolicies[0].Policy.Statement"),
            "{e}"
        );
        assert!(e.contains("arn:aws:sqs:us-east-1:2:q"), "{e}");
        let e = parse(
            br#"{"ResourcePolicies": [{"ResourceType": "x"}]}"#,
            Path::new("rp.json"),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("ResourceArn"), "{e}");
    }
}
