//! What a record's `errorCode` (and `errorMessage`) says about
//! authorization: the data of `rules/error-codes.yaml`, and the one function
//! that classifies a call into an [`Outcome`].
//!
//! A refusal's message may name the refused action (which can differ from
//! the event's: `iam:PassRole` on a `RunInstances` record) and the policy
//! type that refused it ([`PolicyType`]); both are read here, from phrases in
//! the rule file, never from the code alone. Unknown codes are an attempt,
//! never use: the fold counts them by name for the report's coverage.

use super::activity::Outcome;
use serde::Deserialize;
use std::collections::HashMap;

/// The rule file shipped in the binary.
pub const EMBEDDED: &str = include_str!("../../rules/error-codes.yaml");
const EMBEDDED_NAME: &str = "rules/error-codes.yaml";

/// A policy type that a refusal message (or a refusal code) names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyType {
    IdentityPolicy,
    PermissionsBoundary,
    SessionPolicy,
    ResourcePolicy,
    RoleTrustPolicy,
    VpcEndpointPolicy,
    ServiceControlPolicy,
    ResourceControlPolicy,
    S3BlockPublicAccess,
}

impl PolicyType {
    pub const ALL: [PolicyType; 9] = [
        PolicyType::IdentityPolicy,
        PolicyType::PermissionsBoundary,
        PolicyType::SessionPolicy,
        PolicyType::ResourcePolicy,
        PolicyType::RoleTrustPolicy,
        PolicyType::VpcEndpointPolicy,
        PolicyType::ServiceControlPolicy,
        PolicyType::ResourceControlPolicy,
        PolicyType::S3BlockPublicAccess,
    ];

    /// The kebab-case name: the key of `ActionStats::refused_by` and of the reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::IdentityPolicy => "identity-policy",
            PolicyType::PermissionsBoundary => "permissions-boundary",
            PolicyType::SessionPolicy => "session-policy",
            PolicyType::ResourcePolicy => "resource-policy",
            PolicyType::RoleTrustPolicy => "role-trust-policy",
            PolicyType::VpcEndpointPolicy => "vpc-endpoint-policy",
            PolicyType::ServiceControlPolicy => "service-control-policy",
            PolicyType::ResourceControlPolicy => "resource-control-policy",
            PolicyType::S3BlockPublicAccess => "s3-block-public-access",
        }
    }

    pub fn parse(s: &str) -> Option<PolicyType> {
        PolicyType::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Words for a reader: "a service control policy".
    pub fn describe(self) -> &'static str {
        match self {
            PolicyType::IdentityPolicy => "an identity-based policy",
            PolicyType::PermissionsBoundary => "a permissions boundary",
            PolicyType::SessionPolicy => "a session policy",
            PolicyType::ResourcePolicy => "a resource-based policy",
            PolicyType::RoleTrustPolicy => "the role trust policy",
            PolicyType::VpcEndpointPolicy => "a VPC endpoint policy",
            PolicyType::ServiceControlPolicy => "a service control policy",
            PolicyType::ResourceControlPolicy => "a resource control policy",
            PolicyType::S3BlockPublicAccess => "S3 Block Public Access",
        }
    }

    /// Types the snapshot holds (the principal's own policies); the others
    /// are outside it.
    pub fn is_own(self) -> bool {
        matches!(
            self,
            PolicyType::IdentityPolicy | PolicyType::PermissionsBoundary
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Meaning {
    Refused,
    AuthorizedThenFailed,
    DryRun,
    NotEvidence,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Confidence {
    High,
    Medium,
    Low,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    normalize: Normalize,
    #[serde(default)]
    overrides: Vec<RawOverride>,
    families: Vec<RawFamily>,
    messages: RawMessages,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Normalize {
    #[serde(default)]
    strip_prefixes: Vec<String>,
    #[serde(default)]
    prefix_families: Vec<PrefixFamily>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrefixFamily {
    prefix: String,
    family: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    source: String,
    code: String,
    family: String,
    #[serde(default)]
    confidence: Option<Confidence>,
    why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFamily {
    name: String,
    meaning: Meaning,
    #[serde(default)]
    confidence: Option<Confidence>,
    #[serde(default)]
    refused_by: Option<PolicyType>,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    patterns: Vec<RawPattern>,
    #[serde(default)]
    #[allow(dead_code)] // for the reader of the file
    rationale: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    suffix: Option<String>,
    #[serde(default)]
    contains: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessages {
    action_after: String,
    policy_types: Vec<Phrase>,
    #[serde(default)]
    not_refusals: Vec<NotRefusal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Phrase {
    contains: String,
    policy: PolicyType,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotRefusal {
    contains: String,
    #[allow(dead_code)] // for the reader of the file
    why: String,
}

/// A bad `error-codes.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum ErrorCodesError {
    #[error("invalid error-code rules `{file}`: {message}")]
    Yaml { file: String, message: String },
    #[error("`{file}`: {message}")]
    Invalid { file: String, message: String },
}

/// What one family of codes means for a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Class {
    outcome: Outcome,
    refused_by: Option<PolicyType>,
}

impl Class {
    fn of(
        meaning: Meaning,
        confidence: Option<Confidence>,
        refused_by: Option<PolicyType>,
    ) -> Self {
        let outcome = match (meaning, confidence) {
            (Meaning::Refused, _) => Outcome::Denied,
            (Meaning::DryRun, _) => Outcome::DryRun,
            (Meaning::AuthorizedThenFailed, Some(Confidence::High)) => Outcome::Failed,
            (Meaning::AuthorizedThenFailed, Some(Confidence::Medium)) => Outcome::FailedLikely,
            (Meaning::AuthorizedThenFailed, _) | (Meaning::NotEvidence, _) => Outcome::Error,
        };
        Class {
            outcome,
            refused_by,
        }
    }
}

/// A case-insensitive pattern over a normalized code (all parts must hold).
#[derive(Debug)]
struct Pattern {
    prefix: Option<String>,
    suffix: Option<String>,
    contains: Option<String>,
}

impl Pattern {
    fn matches(&self, code: &str) -> bool {
        self.prefix.as_deref().is_none_or(|p| code.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| code.ends_with(s))
            && self.contains.as_deref().is_none_or(|c| code.contains(c))
    }
}

/// How one call ended, as the error-code rules read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classified<'m> {
    pub outcome: Outcome,
    /// The policy type the code or the refusal message names.
    pub refused_by: Option<PolicyType>,
    /// The action a refusal message names (`service:Action`, as written).
    pub refused_action: Option<&'m str>,
    /// No rule knows the code: counted and named in the coverage.
    pub unknown: bool,
}

/// The error-code rules, loaded and checked.
#[derive(Debug)]
pub struct ErrorCodes {
    strip_prefixes: Vec<String>,
    /// Lowercase prefix to the class of its codes.
    prefix_families: Vec<(String, Class)>,
    /// (lowercase event source, lowercase code) to its class.
    overrides: HashMap<(String, String), Class>,
    /// Lowercase code to its class.
    exact: HashMap<String, Class>,
    patterns: Vec<(Pattern, Class)>,
    action_after: String,
    phrases: Vec<(String, PolicyType)>,
    not_refusals: Vec<String>,
    /// SHA-256 of the file's name and text.
    fingerprint: String,
}

impl ErrorCodes {
    /// The shipped rules.
    pub fn embedded() -> Result<ErrorCodes, ErrorCodesError> {
        ErrorCodes::from_yaml(EMBEDDED_NAME, EMBEDDED)
    }

    /// Rules from a file's text; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<ErrorCodes, ErrorCodesError> {
        let f: File = yaml_serde::from_str(text).map_err(|e| ErrorCodesError::Yaml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |message: String| ErrorCodesError::Invalid {
            file: file.to_string(),
            message,
        };
        let mut families: HashMap<&str, (Meaning, Option<Confidence>, Option<PolicyType>)> =
            HashMap::new();
        let mut exact: HashMap<String, Class> = HashMap::new();
        let mut patterns = Vec::new();
        for fam in &f.families {
            let needs_confidence = fam.meaning == Meaning::AuthorizedThenFailed;
            if needs_confidence != fam.confidence.is_some() {
                return Err(invalid(format!(
                    "family `{}`: `confidence` is {} for meaning `{:?}`",
                    fam.name,
                    if needs_confidence {
                        "required"
                    } else {
                        "not allowed"
                    },
                    fam.meaning
                )));
            }
            if fam.refused_by.is_some() && fam.meaning != Meaning::Refused {
                return Err(invalid(format!(
                    "family `{}`: `refused_by` needs meaning `refused`",
                    fam.name
                )));
            }
            if families
                .insert(&fam.name, (fam.meaning, fam.confidence, fam.refused_by))
                .is_some()
            {
                return Err(invalid(format!("family `{}` appears twice", fam.name)));
            }
            let class = Class::of(fam.meaning, fam.confidence, fam.refused_by);
            for code in &fam.codes {
                if exact.insert(code.to_ascii_lowercase(), class).is_some() {
                    return Err(invalid(format!(
                        "code `{code}` (family `{}`) is listed twice",
                        fam.name
                    )));
                }
            }
            for p in &fam.patterns {
                if p.prefix.is_none() && p.suffix.is_none() && p.contains.is_none() {
                    return Err(invalid(format!(
                        "family `{}`: a pattern needs `prefix`, `suffix` or `contains`",
                        fam.name
                    )));
                }
                let low = |s: &Option<String>| s.as_deref().map(str::to_ascii_lowercase);
                patterns.push((
                    Pattern {
                        prefix: low(&p.prefix),
                        suffix: low(&p.suffix),
                        contains: low(&p.contains),
                    },
                    class,
                ));
            }
        }
        let family = |name: &str, confidence: Option<Confidence>, at: &str| {
            let &(meaning, c, refused_by) = families
                .get(name)
                .ok_or_else(|| invalid(format!("{at}: unknown family `{name}`")))?;
            Ok(Class::of(meaning, confidence.or(c), refused_by))
        };
        let mut overrides = HashMap::new();
        for o in &f.overrides {
            let at = format!("override `{}` `{}`", o.source, o.code);
            if o.why.trim().is_empty() {
                return Err(invalid(format!("{at}: `why` is empty")));
            }
            let key = (o.source.to_ascii_lowercase(), o.code.to_ascii_lowercase());
            if overrides
                .insert(key, family(&o.family, o.confidence, &at)?)
                .is_some()
            {
                return Err(invalid(format!("{at} appears twice")));
            }
        }
        let prefix_families = f
            .normalize
            .prefix_families
            .iter()
            .map(|p| {
                let at = format!("prefix `{}`", p.prefix);
                Ok((p.prefix.to_ascii_lowercase(), family(&p.family, None, &at)?))
            })
            .collect::<Result<_, ErrorCodesError>>()?;
        if f.messages.action_after.is_empty() {
            return Err(invalid("`messages.action_after` is empty".into()));
        }
        if let Some(p) = f
            .messages
            .policy_types
            .iter()
            .find(|p| p.contains.is_empty())
        {
            return Err(invalid(format!(
                "`messages.policy_types`: an empty phrase for `{}`",
                p.policy.as_str()
            )));
        }
        let fingerprint = {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            h.update(file.as_bytes());
            h.update([0]);
            h.update(text.as_bytes());
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        };
        Ok(ErrorCodes {
            strip_prefixes: f
                .normalize
                .strip_prefixes
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
            prefix_families,
            overrides,
            exact,
            patterns,
            action_after: f.messages.action_after.to_ascii_lowercase(),
            phrases: f
                .messages
                .policy_types
                .into_iter()
                .map(|p| (p.contains.to_ascii_lowercase(), p.policy))
                .collect(),
            not_refusals: f
                .messages
                .not_refusals
                .into_iter()
                .map(|n| n.contains.to_ascii_lowercase())
                .collect(),
            fingerprint,
        })
    }

    /// Identifies the rules (hex SHA-256 of the file's name and text).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// How a call with `code` (and `message`) to `source` ended. No code
    /// (or an empty one) is a success.
    pub fn classify<'m>(
        &self,
        source: &str,
        code: Option<&str>,
        message: Option<&'m str>,
    ) -> Classified<'m> {
        let code = match code {
            None | Some("") => {
                return Classified {
                    outcome: Outcome::Success,
                    refused_by: None,
                    refused_action: None,
                    unknown: false,
                }
            }
            Some(c) => c.to_ascii_lowercase(),
        };
        let (class, unknown) = match self.class_of(source, &code) {
            Some(c) => (c, false),
            None => (
                Class {
                    outcome: Outcome::Error,
                    refused_by: None,
                },
                true,
            ),
        };
        let mut out = Classified {
            outcome: class.outcome,
            refused_by: class.refused_by,
            refused_action: None,
            unknown,
        };
        let Some(message) = message else {
            return out;
        };
        // Only refusals (and failed dependencies, whose message names what
        // was refused) are read further: other messages name no policy.
        if !matches!(class.outcome, Outcome::Denied | Outcome::FailedLikely) {
            return out;
        }
        let lower = message.to_ascii_lowercase();
        if class.outcome == Outcome::Denied && self.not_refusals.iter().any(|n| lower.contains(n)) {
            out.outcome = Outcome::Error;
            return out;
        }
        out.refused_action = self.named_action(message, &lower);
        if out.refused_by.is_none() {
            out.refused_by = self
                .phrases
                .iter()
                .find(|(p, _)| lower.contains(p.as_str()))
                .map(|(_, t)| *t);
        }
        out
    }

    /// The class of a lowercase code, if a rule knows it.
    fn class_of(&self, source: &str, code: &str) -> Option<Class> {
        for (p, class) in &self.prefix_families {
            if code.starts_with(p.as_str()) {
                return Some(*class);
            }
        }
        let code = self
            .strip_prefixes
            .iter()
            .find_map(|p| code.strip_prefix(p.as_str()))
            .unwrap_or(code);
        if !self.overrides.is_empty() {
            let key = (source.to_ascii_lowercase(), code.to_string());
            if let Some(c) = self.overrides.get(&key) {
                return Some(*c);
            }
        }
        if let Some(c) = self.exact.get(code) {
            return Some(*c);
        }
        self.patterns
            .iter()
            .find(|(p, _)| p.matches(code))
            .map(|(_, c)| *c)
    }

    /// The `service:Action` after the grammar's phrase, as the message
    /// writes it (`lower` is the message in lowercase, same offsets).
    fn named_action<'m>(&self, message: &'m str, lower: &str) -> Option<&'m str> {
        let at = lower.find(&self.action_after)? + self.action_after.len();
        let rest = message.get(at..)?;
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        let name = rest[..end].trim_end_matches(['.', ',', ';']);
        let (svc, action) = name.split_once(':')?;
        let ok = |s: &str, extra: &[char]| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
        };
        (ok(svc, &['-']) && ok(action, &['*'])).then_some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> ErrorCodes {
        ErrorCodes::embedded().expect("the shipped error-code rules load")
    }

    fn outcome(source: &str, code: &str) -> (Outcome, bool) {
        let c = codes().classify(source, Some(code), None);
        (c.outcome, c.unknown)
    }

    #[test]
    fn each_family_of_the_corpus_classifies_as_documented() {
        let known = |o| (o, false);
        for (source, code, want) in [
            (
                "ec2.amazonaws.com",
                "Client.UnauthorizedOperation",
                known(Outcome::Denied),
            ),
            ("s3.amazonaws.com", "AccessDenied", known(Outcome::Denied)),
            (
                "kms.amazonaws.com",
                "AccessDeniedException",
                known(Outcome::Denied),
            ),
            (
                "s3.amazonaws.com",
                "VpceAccessDenied",
                known(Outcome::Denied),
            ),
            (
                "ec2.amazonaws.com",
                "Client.DryRunOperation",
                known(Outcome::DryRun),
            ),
            (
                "dynamodb.amazonaws.com",
                "ConditionalCheckFailedException",
                known(Outcome::Failed),
            ),
            (
                "s3.amazonaws.com",
                "NoSuchKey",
                known(Outcome::FailedLikely),
            ),
            (
                "s3.amazonaws.com",
                "NoSuchBucketPolicy",
                known(Outcome::FailedLikely),
            ),
            (
                "s3.amazonaws.com",
                "NoSuchWebsiteConfiguration",
                known(Outcome::FailedLikely),
            ),
            (
                "dynamodb.amazonaws.com",
                "ResourceNotFoundException",
                known(Outcome::FailedLikely),
            ),
            (
                "iam.amazonaws.com",
                "NoSuchEntity",
                known(Outcome::FailedLikely),
            ),
            (
                "iam.amazonaws.com",
                "EntityAlreadyExists",
                known(Outcome::FailedLikely),
            ),
            (
                "iam.amazonaws.com",
                "LimitExceededException",
                known(Outcome::FailedLikely),
            ),
            (
                "lambda.amazonaws.com",
                "LimitExceededException",
                known(Outcome::Error),
            ),
            (
                "kms.amazonaws.com",
                "NotFoundException",
                known(Outcome::Error),
            ),
            (
                "glue.amazonaws.com",
                "NotFoundException",
                known(Outcome::FailedLikely),
            ),
            (
                "ec2.amazonaws.com",
                "Client.InvalidInstanceID.NotFound",
                known(Outcome::Error),
            ),
            (
                "rds.amazonaws.com",
                "InvalidDBClusterStateFault",
                known(Outcome::FailedLikely),
            ),
            ("s3.amazonaws.com", "NoSuchBucket", known(Outcome::Error)),
            (
                "cognito-idp.amazonaws.com",
                "NotAuthorizedException",
                known(Outcome::Error),
            ),
            (
                "ec2.amazonaws.com",
                "Client.RequestLimitExceeded",
                known(Outcome::Error),
            ),
            (
                "ec2.amazonaws.com",
                "Server.InternalError",
                known(Outcome::Error),
            ),
            (
                "dynamodb.amazonaws.com",
                "ThrottlingException",
                known(Outcome::Error),
            ),
            (
                "ec2.amazonaws.com",
                "Client.InvalidAMIID.Malformed",
                known(Outcome::Error),
            ),
            (
                "organizations.amazonaws.com",
                "AccessDeniedForDependencyException",
                known(Outcome::FailedLikely),
            ),
            (
                "s3.amazonaws.com",
                "KMS.AccessDeniedException",
                known(Outcome::FailedLikely),
            ),
            (
                "ec2.amazonaws.com",
                "Client.NetworkInterfaceNotSupported",
                (Outcome::Error, true),
            ),
            ("ec2.amazonaws.com", "SomeErrorCode", (Outcome::Error, true)),
        ] {
            assert_eq!(outcome(source, code), want, "{source} {code}");
        }
        assert_eq!(
            codes().classify("s3.amazonaws.com", Some(""), None).outcome,
            Outcome::Success
        );
    }

    #[test]
    fn refusal_messages_name_the_action_and_the_policy_type() {
        let c = codes();
        let m = "You are not authorized to perform this operation. User: arn:aws:iam::1:user/u is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/r because no identity-based policy allows the iam:PassRole action. Encoded authorization failure message: abc";
        let got = c.classify(
            "ec2.amazonaws.com",
            Some("Client.UnauthorizedOperation"),
            Some(m),
        );
        assert_eq!(got.refused_action, Some("iam:PassRole"));
        assert_eq!(got.refused_by, Some(PolicyType::IdentityPolicy));
        for (m, want) in [
            ("User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\" with an explicit deny in a service control policy", Some(PolicyType::ServiceControlPolicy)),
            ("User: a is not authorized to perform: s3:GetObject with an explicit deny in a VPC endpoint policy transitively through a service control policy", Some(PolicyType::ServiceControlPolicy)),
            ("User: a is not authorized to perform: s3:GetObject because no resource-based policy allows the s3:GetObject action", Some(PolicyType::ResourcePolicy)),
            ("User: a is not authorized to perform: kms:Decrypt with an explicit deny in a resource control policy: arn:aws:organizations::1:policy/o-x/resource_control_policy/p-1", Some(PolicyType::ResourceControlPolicy)),
            ("User: a is not authorized to perform: sts:AssumeRole on resource: r with an explicit deny in a sessions policy", Some(PolicyType::SessionPolicy)),
            ("User: a is not authorized to perform: s3:PutObject because no permissions boundary allows the s3:PutObject action", Some(PolicyType::PermissionsBoundary)),
            ("Access Denied", None),
        ] {
            assert_eq!(c.classify("s3.amazonaws.com", Some("AccessDenied"), Some(m)).refused_by, want, "{m}");
        }
        let vpce = c.classify("s3.amazonaws.com", Some("VpceAccessDenied"), None);
        assert_eq!(vpce.refused_by, Some(PolicyType::VpcEndpointPolicy));
        // A message that says the resource is missing is no refusal.
        let missing = c.classify(
            "kms.amazonaws.com",
            Some("AccessDeniedException"),
            Some("User: a is not authorized to perform: kms:Decrypt because the resource does not exist in this account"),
        );
        assert_eq!(missing.outcome, Outcome::Error);
        // Non-refusals' messages are not read.
        let nf = c.classify(
            "s3.amazonaws.com",
            Some("NoSuchKey"),
            Some("is not authorized to perform: s3:X"),
        );
        assert_eq!(nf.refused_action, Some("s3:X"));
        let thr = c.classify(
            "s3.amazonaws.com",
            Some("SlowDown"),
            Some("is not authorized to perform: s3:X"),
        );
        assert_eq!(thr.refused_action, None);
    }

    #[test]
    fn a_bad_file_is_an_error_naming_it() {
        let err = |text: &str| {
            ErrorCodes::from_yaml("x.yaml", text)
                .unwrap_err()
                .to_string()
        };
        let head = "normalize: {}\nmessages: {action_after: 'x ', policy_types: []}\n";
        assert!(err(&format!(
            "{head}families: [{{name: a, meaning: refused, typo: 1}}]"
        ))
        .contains("x.yaml"));
        assert!(err(&format!(
            "{head}families: [{{name: a, meaning: authorized_then_failed}}]"
        ))
        .contains("confidence"));
        assert!(err(&format!("{head}families: [{{name: a, meaning: refused, codes: [X]}}, {{name: b, meaning: not_evidence, codes: [x]}}]")).contains("listed twice"));
        assert!(err(&format!(
            "{head}overrides: [{{source: s, code: c, family: nope, why: w}}]\nfamilies: []"
        ))
        .contains("unknown family"));
        assert!(err(&format!(
            "{head}families: [{{name: a, meaning: refused, patterns: [{{}}]}}]"
        ))
        .contains("pattern"));
    }
}
