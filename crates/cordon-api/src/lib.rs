//! The wire model: the request and response bodies of Cordon's HTTP API, the query parameters
//! of its routes, and their OpenAPI schemas, defined once for both ends — the server's routes
//! read the requests and write the responses, the CLI writes the requests and reads the
//! responses — so neither can drift from the other without a compile error.
//!
//! Every body derives `Serialize`, `Deserialize` and `utoipa::ToSchema` (a query,
//! `utoipa::IntoParams`; the CLI writes one with `serde_urlencoded`). Requests refuse
//! unknown fields and read the domain's closed lists in any spelling `cordon_core::names`
//! accepts ([`fields::named`]), writing them in the canonical one. Responses read back into
//! the value that was written, field for field (optional fields left out stay left out), so a
//! client that prints one re-encoded prints what the server sent.
//!
//! No HTTP here — routes, statuses and headers are `cordon-server`'s, which also makes these
//! bodies from the service's answers (`cordon-server/src/wire.rs`: the orphan rule keeps a
//! `From` between the service's types and these out of both crates). This crate depends on the
//! domain only for the names of its closed lists and the on-call specs it takes as they are.

pub mod comms;
pub mod evidence;
pub mod fields;
pub mod incidents;
pub mod oidc;
pub mod paging;
pub mod problem;
pub mod registers;
pub mod room;
pub mod sessions;
pub mod timeline;
pub mod users;

pub use problem::Problem;
