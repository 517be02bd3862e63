//! Credentials, endpoints, retries and clients.
//!
//! aws-config's default chain does the credential work (environment, shared
//! files, profiles with SSO, web identity, instance metadata); nothing here
//! ever reads or prints a secret.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// Where and as whom to call AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    /// Regions for events and trails; empty = the configured region.
    pub regions: Vec<String>,
    /// Overrides AWS_ENDPOINT_URL (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Roles to assume, one account each.
    pub assume_roles: Vec<String>,
    /// Attempts per call, including the first (throttling and 5xx are retried).
    pub max_attempts: u32,
}

pub(crate) async fn load(o: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(o.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(200)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        );
    if let Some(p) = &o.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = o.regions.first() {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &o.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    let conf = loader.load().await;
    if conf.region().is_none() {
        // IAM and STS are global; a region is still needed to sign.
        conf.to_builder()
            .region(Region::from_static("us-east-1"))
            .build()
    } else {
        conf
    }
}

/// The same configuration with the credentials of an assumed role.
pub(crate) async fn assume(base: &SdkConfig, role_arn: &str) -> SdkConfig {
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("leastpriv-pull")
        .configure(base)
        .build()
        .await;
    base.to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build()
}

/// Clients for one account; one CloudTrail client per region.
pub(crate) struct Clients {
    pub(crate) conf: SdkConfig,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub s3: aws_sdk_s3::Client,
    pub regions: Vec<String>,
    pub cloudtrail: Vec<(String, aws_sdk_cloudtrail::Client)>,
}

impl Clients {
    pub(crate) fn new(conf: &SdkConfig, o: &AwsOptions) -> Clients {
        let regions: Vec<String> = if o.regions.is_empty() {
            conf.region()
                .map(|r| vec![r.to_string()])
                .unwrap_or_else(|| vec!["us-east-1".into()])
        } else {
            o.regions.clone()
        };
        let custom_endpoint = conf.endpoint_url().is_some();
        let s3 = aws_sdk_s3::config::Builder::from(conf)
            // Emulators and most private endpoints do not serve virtual-host
            // bucket names.
            .force_path_style(custom_endpoint)
            .build();
        let cloudtrail = regions
            .iter()
            .map(|r| {
                let c = aws_sdk_cloudtrail::config::Builder::from(conf)
                    .region(Region::new(r.clone()))
                    .build();
                (r.clone(), aws_sdk_cloudtrail::Client::from_conf(c))
            })
            .collect();
        Clients {
            conf: conf.clone(),
            iam: aws_sdk_iam::Client::new(conf),
            sts: aws_sdk_sts::Client::new(conf),
            s3: aws_sdk_s3::Client::from_conf(s3),
            regions,
            cloudtrail,
        }
    }
}

impl Clients {
    /// An S3 client for a bucket's region.
    pub(crate) fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let c = aws_sdk_s3::config::Builder::from(&self.conf)
            .force_path_style(self.conf.endpoint_url().is_some())
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_s3::Client::from_conf(c)
    }
}

/// An SDK error with its causes, on one line; never includes credentials
/// (the SDK's errors carry codes and messages, not request headers).
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !msg.contains(&s) {
            msg.push_str(": ");
            msg.push_str(&s);
        }
        cur = c.source();
    }
    msg
}
