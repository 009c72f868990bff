//! The browser's side of Cordon: pages and the sign-in flows.

pub(crate) mod oidc;
