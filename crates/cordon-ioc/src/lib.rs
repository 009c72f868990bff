//! Indicators of compromise, pure: parsing and normalizing indicator values (defanged forms
//! accepted), strict CIDR parsing, special-purpose (private, reserved) address detection,
//! aggregation of adjacent ranges, and the blocklist renderers (nftables, iptables-restore,
//! ipset, a CIDR list, CSV, STIX 2.1).
//!
//! No IO, no clock: renderers take the instant they stamp into their output.

mod error;
mod kind;
mod net;
mod normalize;
mod render;

pub use error::IocError;
pub use kind::IndicatorKind;
pub use net::{BlockEntry, aggregate, special_purpose, special_purpose_net};
pub use normalize::{Normalized, guess_kind, normalize, refang};
pub use render::{ExportContext, ExportFormat, ExportIndicator, Rendered, render};
