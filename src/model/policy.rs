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

/// One statement of a policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Position in the document, so a reason can point at it even without a Sid.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: ActionSpec,
    pub resources: ResourceSpec,
    /// Trust policies only: the `Principal` / `NotPrincipal` element, as JSON.
    pub principal: Option<serde_json::Value>,
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
