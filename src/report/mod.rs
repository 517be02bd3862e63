//! Renderers: one pure function per output format, from an `Audit` to text.
//!
//! The last stage of the audit: renderers read the audit (and the
//! recommendations and secrets view built from it), and nothing but `drift`,
//! which reads what they wrote, imports them. Actions are named through the
//! audit's own catalog (`Audit::catalog`), never a global one.

pub mod accounts;
pub mod catalog;
pub mod explain;
#[cfg(feature = "parquet")]
pub mod frames;
pub mod html;
pub mod json;
pub mod links;
pub mod markdown;
#[cfg(feature = "aws")]
pub mod pull;
pub mod recommendations;
pub mod sarif;
pub mod secrets;
pub mod table;
pub mod who;
pub mod who_can;
