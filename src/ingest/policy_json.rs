//! Policy documents in IAM's JSON grammar, with its string-or-list fields,
//! parsed into `model::PolicyDocument`. Errors carry a JSON path.

use crate::model::{
    ActionSpec, Condition, Effect, PolicyDocument, PrincipalElement, ResourceSpec, Statement,
};
use serde_json::Value;

/// A policy grammar violation at a JSON path inside the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at `{}`: {}", self.location, self.message)
    }
}

fn err(location: &str, message: impl Into<String>) -> PolicyError {
    PolicyError {
        location: location.to_string(),
        message: message.into(),
    }
}

/// A document as IAM returns it: a JSON object, or (raw API form) a
/// URL-encoded JSON string. `base` is the JSON path of the document for errors.
pub fn parse_document_value(value: &Value, base: &str) -> Result<PolicyDocument, PolicyError> {
    match value {
        Value::Object(_) => parse_document(value, base),
        Value::String(s) => {
            let text = decode_document_text(s);
            let inner: Value = serde_json::from_str(&text).map_err(|e| {
                err(
                    base,
                    format!(
                        "policy document is not valid JSON (line {}, column {}): {e}",
                        e.line(),
                        e.column()
                    ),
                )
            })?;
            parse_document(&inner, base)
        }
        _ => Err(err(base, "policy document must be an object or a string")),
    }
}

/// Raw API answers URL-encode documents; CLI output and some SDKs do not.
/// A document that already parses as JSON is taken as it is.
pub fn decode_document_text(s: &str) -> String {
    let trimmed = s.trim_start();
    if trimmed.starts_with('{') {
        return s.to_string();
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Parses a policy document from its JSON value.
pub fn parse_document(value: &Value, base: &str) -> Result<PolicyDocument, PolicyError> {
    let obj = value
        .as_object()
        .ok_or_else(|| err(base, "policy document must be a JSON object"))?;
    let version = match obj.get("Version") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(err(&format!("{base}.Version"), "must be a string")),
    };
    let statements = match obj.get("Statement") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, s)| parse_statement(s, i, &format!("{base}.Statement[{i}]")))
            .collect::<Result<_, _>>()?,
        Some(single @ Value::Object(_)) => {
            vec![parse_statement(single, 0, &format!("{base}.Statement"))?]
        }
        Some(_) => {
            return Err(err(
                &format!("{base}.Statement"),
                "must be an object or a list of objects",
            ))
        }
    };
    Ok(PolicyDocument {
        version,
        statements,
    })
}

fn parse_statement(value: &Value, index: usize, at: &str) -> Result<Statement, PolicyError> {
    let obj = value
        .as_object()
        .ok_or_else(|| err(at, "statement must be a JSON object"))?;
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Principal"
                | "NotPrincipal"
                | "Condition"
        ) {
            return Err(err(
                &format!("{at}.{key}"),
                format!("unknown statement element `{key}`"),
            ));
        }
    }
    let sid = match obj.get("Sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(err(&format!("{at}.Sid"), "must be a string")),
    };
    let effect = match obj.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(err(
                &format!("{at}.Effect"),
                format!("must be `Allow` or `Deny`, found {other}"),
            ))
        }
        None => return Err(err(at, "statement has no `Effect`")),
    };
    let actions = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(a), None) => ActionSpec::Action(string_list(a, &format!("{at}.Action"))?),
        (None, Some(a)) => ActionSpec::NotAction(string_list(a, &format!("{at}.NotAction"))?),
        (Some(_), Some(_)) => return Err(err(at, "statement has both `Action` and `NotAction`")),
        (None, None) => return Err(err(at, "statement has neither `Action` nor `NotAction`")),
    };
    let resources = match (obj.get("Resource"), obj.get("NotResource")) {
        (Some(r), None) => ResourceSpec::Resource(string_list(r, &format!("{at}.Resource"))?),
        (None, Some(r)) => ResourceSpec::NotResource(string_list(r, &format!("{at}.NotResource"))?),
        (Some(_), Some(_)) => {
            return Err(err(at, "statement has both `Resource` and `NotResource`"))
        }
        (None, None) => ResourceSpec::None,
    };
    let not_principal = obj.get("Principal").is_none() && obj.get("NotPrincipal").is_some();
    let principal = obj
        .get("Principal")
        .or_else(|| obj.get("NotPrincipal"))
        .and_then(PrincipalElement::from_json);
    let conditions = match obj.get("Condition") {
        None | Some(Value::Null) => Vec::new(),
        Some(c) => parse_conditions(c, &format!("{at}.Condition"))?,
    };
    Ok(Statement {
        index,
        sid,
        effect,
        actions,
        resources,
        principal,
        not_principal,
        conditions,
    })
}

fn parse_conditions(value: &Value, at: &str) -> Result<Vec<Condition>, PolicyError> {
    let ops = value
        .as_object()
        .ok_or_else(|| err(at, "must be an object of operators"))?;
    let mut out = Vec::new();
    for (op, keys) in ops {
        let op_at = format!("{at}.{op}");
        let keys = keys
            .as_object()
            .ok_or_else(|| err(&op_at, "must be an object of condition keys"))?;
        for (key, values) in keys {
            out.push(Condition {
                operator: op.clone(),
                key: key.clone(),
                values: scalar_list(values, &format!("{op_at}.{key}"))?,
            });
        }
    }
    Ok(out)
}

/// IAM's string-or-list-of-strings.
fn string_list(value: &Value, at: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(err(&format!("{at}[{i}]"), "must be a string")),
            })
            .collect(),
        _ => Err(err(at, "must be a string or a list of strings")),
    }
}

/// Condition values may be strings, numbers or booleans; IAM compares them as text.
fn scalar_list(value: &Value, at: &str) -> Result<Vec<String>, PolicyError> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                scalar(v).ok_or_else(|| {
                    err(&format!("{at}[{i}]"), "must be a string, number or boolean")
                })
            })
            .collect(),
        v => scalar(v)
            .map(|s| vec![s])
            .ok_or_else(|| err(at, "must be a value or a list of values")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_statement_and_strings() {
        let d = parse_document(
            &json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}),
            "$",
        )
        .unwrap();
        assert_eq!(d.statements.len(), 1);
        assert_eq!(
            d.statements[0].actions,
            ActionSpec::Action(vec!["s3:GetObject".into()])
        );
    }

    /// A trust statement's `Principal` keeps the names of each kind (kinds
    /// sorted, names in document order); values that are not strings are
    /// left out, as IAM never writes them.
    #[test]
    fn trust_principals() {
        let d = parse_document(
            &json!({"Statement":[
                {"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"bedrock.amazonaws.com","AWS":["arn:aws:iam::1:root",7,"arn:aws:iam::2:role/x"]}},
                {"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"},
                {"Effect":"Allow","Action":"sts:AssumeRole","Principal":7}
            ]}),
            "$",
        )
        .unwrap();
        assert_eq!(
            d.statements[0].principal,
            Some(PrincipalElement::ByKind(vec![
                (
                    "AWS".into(),
                    vec!["arn:aws:iam::1:root".into(), "arn:aws:iam::2:role/x".into()]
                ),
                ("Service".into(), vec!["bedrock.amazonaws.com".into()]),
            ]))
        );
        assert_eq!(
            d.statements[1].principal,
            Some(PrincipalElement::Bare("*".into()))
        );
        assert_eq!(d.statements[2].principal, None);
    }

    #[test]
    fn url_encoded_document() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22NotAction%22%3A%5B%22iam%3A%2A%22%5D%2C%22NotResource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%22%7D%5D%7D";
        let d = parse_document_value(&json!(enc), "$").unwrap();
        assert_eq!(d.statements[0].effect, Effect::Deny);
        assert_eq!(
            d.statements[0].actions,
            ActionSpec::NotAction(vec!["iam:*".into()])
        );
        assert_eq!(
            d.statements[0].resources,
            ResourceSpec::NotResource(vec!["arn:aws:s3:::b".into()])
        );
    }

    #[test]
    fn conditions_with_scalars() {
        let d = parse_document(
            &json!({"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10}}}]}),
            "$",
        )
        .unwrap();
        let c = &d.statements[0].conditions;
        assert_eq!(c.len(), 2);
        assert!(c.iter().any(|c| c.values == vec!["true".to_string()]));
    }

    #[test]
    fn errors_name_the_place() {
        let e = parse_document(&json!({"Statement":[{"Effect":"Allow","Action":"s3:*"},{"Effect":"Maybe","Action":"s3:*"}]}), "$.Policies[0]").unwrap_err();
        assert_eq!(e.location, "$.Policies[0].Statement[1].Effect");
        let e = parse_document(&json!({"Statement":[{"Effect":"Allow","Action":[1]}]}), "$")
            .unwrap_err();
        assert_eq!(e.location, "$.Statement[0].Action[0]");
        let e = parse_document(
            &json!({"Statement":[{"Effect":"Allow","Actoin":"s3:*"}]}),
            "$",
        )
        .unwrap_err();
        assert_eq!(e.location, "$.Statement[0].Actoin");
    }
}
