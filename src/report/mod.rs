//! Renderers: one pure function per output format, from an `Audit` to text.

pub mod catalog;
pub mod explain;
#[cfg(feature = "parquet")]
pub mod frames;
pub mod html;
pub mod json;
pub mod markdown;
#[cfg(feature = "aws")]
pub mod pull;
pub mod recommendations;
pub mod sarif;
pub mod secrets;
pub mod table;
