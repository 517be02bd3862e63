//! Evaluation of IAM policies as IAM does it.
//!
//! Three questions, one set of rules: `grants` answers "what can this
//! principal do, over the whole catalog?", `request` answers "is this one
//! request allowed, and why?", and `named` answers "do its own policies allow
//! this action on the resource a record named?" from the statements that
//! contribute to the action. All return their reasons, never a bare bool.

pub mod access;
pub mod arn_match;
pub mod caller;
pub mod condition;
pub mod grants;
pub mod named;
pub mod organization;
pub mod request;
pub mod trust;

pub use grants::{effective_grants, Contribution, EffectiveGrants, PolicyRef, StmtRef};
pub use request::{evaluate_request, Decision, Request, Response};
