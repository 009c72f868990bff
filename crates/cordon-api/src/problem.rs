//! The error document every API error answers with: `application/problem+json` (RFC 9457)
//! with a stable machine `code`. Which status and code an error gets is the server's
//! (`cordon-server/src/problem.rs`); this is only the document.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine code, e.g. `not_found`, `gate_unmet`, `invalid_body`.
    pub code: String,
    /// Extra members for some problems (e.g. `gates` for `gate_unmet`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub extra: Option<serde_json::Map<String, Value>>,
}
