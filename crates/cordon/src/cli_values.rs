//! Flag values from the domain's closed lists: `--severity`, `--status`, `--kind`, `--role`, …
//! take the values `cordon_core::names` reads (so `in-progress` and `IN_PROGRESS` name
//! `in_progress`, as on the API), list the canonical ones in `--help` and in shell
//! completions, and hand the canonical spelling on to the request.

use std::ffi::OsStr;
use std::marker::PhantomData;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use cordon_core::DomainError;
use cordon_core::names::Named;

/// A clap value parser for one of the domain's named lists; its value is the canonical name.
#[derive(Debug)]
pub struct NamedParser<T>(PhantomData<fn() -> T>);

impl<T> Clone for NamedParser<T> {
    fn clone(&self) -> Self {
        Self(PhantomData)
    }
}

/// The parser of `T`'s names, for `#[arg(value_parser = named::<T>())]`.
pub fn named<T: Named>() -> NamedParser<T> {
    NamedParser(PhantomData)
}

impl<T: Named> TypedValueParser for NamedParser<T> {
    type Value = String;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<String, clap::Error> {
        let flag = arg
            .and_then(|a| a.get_long().map(|l| format!("--{l}")))
            .or_else(|| arg.map(|a| a.get_id().to_string().to_uppercase()))
            .unwrap_or_else(|| T::FIELD.to_owned());
        let Some(raw) = value.to_str() else {
            return Err(clap::Error::raw(ErrorKind::InvalidUtf8, format!("{flag}: not UTF-8\n")).with_cmd(cmd));
        };
        T::parse_name(raw).map(|v| v.name().to_owned()).map_err(|e| {
            let message = match e {
                DomainError::Invalid { message, .. } => message,
                other => other.to_string(),
            };
            clap::Error::raw(ErrorKind::InvalidValue, format!("{flag}: {message}\n")).with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::all().iter().map(|v| PossibleValue::new(v.name()))))
    }
}

/// An RFC 3339 instant a flag gives for the request field `field`, read as the server reads
/// that field (a refusal names it, as the server's would).
pub fn instant(field: &str, raw: &str) -> anyhow::Result<cordon_core::Timestamp> {
    raw.parse().map_err(|e| anyhow::anyhow!("{field}: {e}"))
}

/// The parser of `timeline ingest --format`: `auto` or a log format by its name or an alias
/// (`cordon_timeline::Format::from_name`); the names are listed.
#[derive(Debug, Clone)]
pub struct LogFormatParser;

impl TypedValueParser for LogFormatParser {
    type Value = String;

    fn parse_ref(&self, cmd: &clap::Command, _arg: Option<&clap::Arg>, value: &OsStr) -> Result<String, clap::Error> {
        let raw = value.to_string_lossy();
        if raw.trim().eq_ignore_ascii_case("auto") {
            return Ok("auto".into());
        }
        cordon_timeline::Format::from_name(&raw)
            .map(|f| f.name().to_owned())
            .ok_or_else(|| {
                let names: Vec<&str> = std::iter::once("auto")
                    .chain(cordon_timeline::Format::ALL.iter().map(|f| f.name()))
                    .collect();
                let message = cordon_core::names::not_one_of("format", &raw, names).to_string();
                clap::Error::raw(ErrorKind::InvalidValue, format!("--{message}\n")).with_cmd(cmd)
            })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            std::iter::once("auto")
                .chain(cordon_timeline::Format::ALL.iter().map(|f| f.name()))
                .map(PossibleValue::new),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use cordon_core::task::TaskStatus;

    #[derive(Debug, Parser)]
    struct Probe {
        #[arg(long, value_parser = named::<TaskStatus>())]
        status: String,
    }

    #[test]
    fn any_spelling_becomes_the_canonical_name_and_a_wrong_one_lists_the_allowed() {
        for raw in ["in_progress", "in-progress", "IN-PROGRESS"] {
            let p = Probe::try_parse_from(["probe", "--status", raw]).unwrap();
            assert_eq!(p.status, "in_progress");
        }
        let e = Probe::try_parse_from(["probe", "--status", "started"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--status: \"started\" is not one of todo, in_progress, done, skipped"),
            "{e}"
        );
    }
}
