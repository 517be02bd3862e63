//! Normalized policy documents.

/// Allow or Deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// `Action` or `NotAction`, as written (patterns, not yet expanded).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActionSpec {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

/// `Resource`, `NotResource`, or neither (trust policies have no resource).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResourceSpec {
    Resource(Vec<String>),
    NotResource(Vec<String>),
    None,
}

/// One condition: `operator` (e.g. `StringLikeIfExists`), a key and its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {:?}", self.operator, self.key, self.values)
    }
}

/// A trust policy's `Principal` (or `NotPrincipal`) element: a bare string
/// (`"*"`) or a map from a kind of principal (`AWS`, `Service`,
/// `Federated`, ...) to one or more names. Held as strings, not as a JSON
/// tree: every role has one, and the tree of a one-entry map took some 600
/// bytes, 6 MB of an account of 10,000 roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalElement {
    Bare(String),
    /// Sorted by kind; names that are not strings are left out.
    ByKind(Vec<(String, Vec<String>)>),
}

impl PrincipalElement {
    /// The element as written in a policy, or `None` if it is neither a
    /// string nor an object (IAM rejects such a policy; nothing is trusted).
    pub fn from_json(v: &serde_json::Value) -> Option<PrincipalElement> {
        use serde_json::Value;
        match v {
            Value::String(s) => Some(PrincipalElement::Bare(s.clone())),
            Value::Object(m) => Some(PrincipalElement::ByKind(
                m.iter()
                    .map(|(k, v)| {
                        let names = match v {
                            Value::String(s) => vec![s.clone()],
                            Value::Array(a) => a
                                .iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect(),
                            _ => Vec::new(),
                        };
                        (k.clone(), names)
                    })
                    .collect(),
            )),
            _ => None,
        }
    }
}

/// One statement of a policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Position in the document, so a reason can point at it even without a Sid.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: ActionSpec,
    pub resources: ResourceSpec,
    /// Resource and trust policies: the `Principal` or `NotPrincipal` element.
    pub principal: Option<PrincipalElement>,
    /// The element above was `NotPrincipal`: the statement applies to every
    /// principal except those it names.
    pub not_principal: bool,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// `Sid` if present, else `#index`.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => s.clone(),
            _ => format!("#{}", self.index),
        }
    }
}

/// A policy document.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub statements: Vec<Statement>,
}
