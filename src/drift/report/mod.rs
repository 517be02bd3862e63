//! The drift's renderers: `text` for people, `json` for `leastpriv.diff/v1`.
//! Pure: from a [`Drift`](super::Drift) to text.

pub mod json;
pub mod text;
