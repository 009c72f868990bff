//! How fields of the closed lists and of patches are read and written: `#[serde(with = …)]`
//! modules shared by the bodies.

use cordon_core::DomainError;
use cordon_core::names::Named;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

fn named_error<E: serde::de::Error>(e: DomainError) -> E {
    match e {
        DomainError::Invalid { message, .. } => E::custom(message),
        other => E::custom(other),
    }
}

/// One of the domain's named values (kinds, severities, statuses): read in any spelling
/// `cordon_core::names` accepts (`in-progress`, `In_Progress`), written in the canonical one. A
/// value that names nothing is refused with the allowed ones, which the server's problem puts
/// after the field's name.
pub mod named {
    use super::*;

    pub fn serialize<S: Serializer, T: Named>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Named>(d: D) -> Result<T, D::Error> {
        let raw = String::deserialize(d)?;
        T::parse_name(&raw).map_err(named_error)
    }
}

/// [`named`] for an optional field (with `#[serde(default)]`).
pub mod named_opt {
    use super::*;

    pub fn serialize<S: Serializer, T: Named>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_some(v.name()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Named>(d: D) -> Result<Option<T>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|raw| T::parse_name(&raw).map_err(named_error))
            .transpose()
    }
}

/// A field of a patch that tells an absent field (`None`: leave it) from an explicit `null`
/// (`Some(None)`: clear it). Use with `#[serde(default, skip_serializing_if =
/// "Option::is_none")]`, so that `None` is written by leaving the field out.
pub mod double_option {
    use super::*;

    pub fn serialize<S: Serializer, T: Serialize>(value: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}
