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

/// Unix seconds as RFC 3339 UTC (`2026-10-15T12:05:00Z`).
pub fn time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}
