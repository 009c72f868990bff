//! Blocklist renderers. The firewall formats (nftables, iptables-restore, ip6tables-restore,
//! ipset, a CIDR list) take the `ip` and `cidr` indicators, aggregated so that adjacent and
//! overlapping ranges become one entry; CSV and STIX 2.1 take every indicator.
//!
//! Private and reserved ranges are never dropped silently: by default they stay in the rules
//! and each one gets a warning (a `#` comment line at the top of text formats, a `warning`
//! column in CSV, the `description` in STIX, and [`Rendered::warnings`] for the caller to put
//! in a header). With `include_special: false` they are left out, and the warning says so.

use std::fmt::Write as _;
use std::str::FromStr;

use ipnet::IpNet;
use jiff::Timestamp;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::net::aggregate;
use crate::{IndicatorKind, IocError};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Nftables,
    /// IPv4 rules for `iptables-restore` (IPv6 entries are named in a comment).
    Iptables,
    /// IPv6 rules for `ip6tables-restore`.
    Ip6tables,
    Ipset,
    Cidr,
    Csv,
    Stix,
}

impl ExportFormat {
    pub const ALL: [Self; 7] = [
        Self::Nftables,
        Self::Iptables,
        Self::Ip6tables,
        Self::Ipset,
        Self::Cidr,
        Self::Csv,
        Self::Stix,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nftables => "nftables",
            Self::Iptables => "iptables",
            Self::Ip6tables => "ip6tables",
            Self::Ipset => "ipset",
            Self::Cidr => "cidr",
            Self::Csv => "csv",
            Self::Stix => "stix",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Stix => "application/stix+json;version=2.1",
            _ => "text/plain; charset=utf-8",
        }
    }

    /// A file name extension for downloads.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Nftables => "nft",
            Self::Iptables => "rules.v4",
            Self::Ip6tables => "rules.v6",
            Self::Ipset => "ipset",
            Self::Cidr => "txt",
            Self::Csv => "csv",
            Self::Stix => "stix.json",
        }
    }
}

cordon_core::named!(ExportFormat, "format");

impl FromStr for ExportFormat {
    type Err = IocError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = cordon_core::names::key(s);
        Self::ALL
            .into_iter()
            .find(|f| cordon_core::names::key(f.as_str()) == key)
            .ok_or_else(|| {
                let names = Self::ALL.iter().map(|f| f.as_str());
                IocError::Unknown(cordon_core::names::not_one_of("format", s, names).to_string())
            })
    }
}

/// One indicator as the renderers see it (already normalized).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportIndicator {
    pub id: Uuid,
    pub kind: IndicatorKind,
    pub value: String,
    /// The special-purpose range an `ip`/`cidr` touches.
    pub special: Option<String>,
    pub note: String,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub sightings: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What an export is for.
#[derive(Debug, Clone)]
pub struct ExportContext<'a> {
    /// The incident's codename key (`sapphire-unicorn`): names the table, chain and sets.
    pub name: &'a str,
    pub generated_at: Timestamp,
    /// The STIX bundle's id.
    pub bundle_id: Uuid,
    /// Keep private and reserved ranges in the rules (with a warning); otherwise leave them
    /// out (with a warning).
    pub include_special: bool,
}

/// A rendered export.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub body: String,
    /// One line per private or reserved entry (and per IPv6 entry left out of `iptables`).
    pub warnings: Vec<String>,
    /// Network entries after aggregation (firewall formats), or indicators (CSV, STIX).
    pub entries: usize,
}

struct Nets {
    v4: Vec<IpNet>,
    v6: Vec<IpNet>,
    warnings: Vec<String>,
}

fn nets(ctx: &ExportContext<'_>, indicators: &[ExportIndicator]) -> Nets {
    let mut all = Vec::new();
    let mut warnings = Vec::new();
    for i in indicators {
        let net = match i.kind {
            IndicatorKind::Ip => i.value.parse::<std::net::IpAddr>().ok().map(IpNet::from),
            IndicatorKind::Cidr => i.value.parse::<IpNet>().ok(),
            _ => None,
        };
        let Some(net) = net else { continue };
        if let Some(what) = &i.special {
            if ctx.include_special {
                warnings.push(format!(
                    "{} is {what}: blocking it may cut off your own or upstream traffic",
                    i.value
                ));
            } else {
                warnings.push(format!("{} is {what}: left out of this export", i.value));
                continue;
            }
        }
        all.push(net);
    }
    let merged = aggregate(&all);
    let (v4, v6) = merged.into_iter().partition(|n| matches!(n, IpNet::V4(_)));
    Nets { v4, v6, warnings }
}

fn ident(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "incident".into() } else { s }
}

fn header(out: &mut String, what: &str, ctx: &ExportContext<'_>, n: &Nets) {
    let _ = writeln!(
        out,
        "# Cordon blocklist ({what}) for incident {}, generated {}",
        ctx.name, ctx.generated_at
    );
    let _ = writeln!(
        out,
        "# {} IPv4 and {} IPv6 entries, adjacent and overlapping ranges aggregated",
        n.v4.len(),
        n.v6.len()
    );
    for w in &n.warnings {
        let _ = writeln!(out, "# WARNING: {w}");
    }
}

/// Renders the indicators in `format`.
pub fn render(format: ExportFormat, ctx: &ExportContext<'_>, indicators: &[ExportIndicator]) -> Rendered {
    match format {
        ExportFormat::Nftables => nftables(ctx, indicators),
        ExportFormat::Iptables => iptables(ctx, indicators, false),
        ExportFormat::Ip6tables => iptables(ctx, indicators, true),
        ExportFormat::Ipset => ipset(ctx, indicators),
        ExportFormat::Cidr => cidr(ctx, indicators),
        ExportFormat::Csv => csv(ctx, indicators),
        ExportFormat::Stix => stix(ctx, indicators),
    }
}

fn elements(nets: &[IpNet]) -> String {
    nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn nftables(ctx: &ExportContext<'_>, indicators: &[ExportIndicator]) -> Rendered {
    let n = nets(ctx, indicators);
    let table = format!("cordon_{}", ident(ctx.name));
    let mut out = String::from("#!/usr/sbin/nft -f\n");
    header(&mut out, "nftables", ctx, &n);
    let _ = writeln!(out, "# Load with `nft -f FILE`; loading again replaces the table.");
    // Declaring the table before deleting it makes the delete succeed on the first load.
    let _ = writeln!(
        out,
        "table inet {table}\ndelete table inet {table}\ntable inet {table} {{"
    );
    for (set, ty, list) in [("blocked_v4", "ipv4_addr", &n.v4), ("blocked_v6", "ipv6_addr", &n.v6)] {
        let _ = writeln!(out, "\tset {set} {{\n\t\ttype {ty}\n\t\tflags interval");
        if !list.is_empty() {
            let _ = writeln!(out, "\t\telements = {{ {} }}", elements(list));
        }
        let _ = writeln!(out, "\t}}");
    }
    for (chain, hook, dirs) in [
        ("input", "input", &["saddr"][..]),
        ("forward", "forward", &["saddr", "daddr"][..]),
        ("output", "output", &["daddr"][..]),
    ] {
        let _ = writeln!(
            out,
            "\tchain {chain} {{\n\t\ttype filter hook {hook} priority filter - 10; policy accept;"
        );
        for d in dirs {
            let _ = writeln!(out, "\t\tip {d} @blocked_v4 counter drop");
            let _ = writeln!(out, "\t\tip6 {d} @blocked_v6 counter drop");
        }
        let _ = writeln!(out, "\t}}");
    }
    out.push_str("}\n");
    Rendered {
        body: out,
        entries: n.v4.len() + n.v6.len(),
        warnings: n.warnings,
    }
}

fn iptables(ctx: &ExportContext<'_>, indicators: &[ExportIndicator], v6: bool) -> Rendered {
    let mut n = nets(ctx, indicators);
    let (list, other, tool, other_format) = if v6 {
        (&n.v6, n.v4.len(), "ip6tables-restore", "iptables")
    } else {
        (&n.v4, n.v6.len(), "iptables-restore", "ip6tables")
    };
    let list = list.clone();
    if other > 0 {
        n.warnings.push(format!(
            "{other} {} entries are not in this file: export format={other_format} for them",
            if v6 { "IPv4" } else { "IPv6" }
        ));
    }
    let mut out = String::new();
    header(&mut out, tool, ctx, &n);
    let chain = "CORDON-BLOCK";
    let _ = writeln!(
        out,
        "# Load with `{tool} --noflush FILE`: the {chain} chain is (re)filled and jumped to from INPUT, FORWARD, OUTPUT."
    );
    let _ = writeln!(out, "*filter\n:{chain} - [0:0]");
    for hook in ["INPUT", "FORWARD", "OUTPUT"] {
        let _ = writeln!(out, "-A {hook} -j {chain}");
    }
    let comment = format!("cordon {}", ident(ctx.name));
    for net in &list {
        for flag in ["-s", "-d"] {
            let _ = writeln!(
                out,
                "-A {chain} {flag} {net} -m comment --comment \"{comment}\" -j DROP"
            );
        }
    }
    out.push_str("COMMIT\n");
    Rendered {
        body: out,
        entries: list.len(),
        warnings: n.warnings,
    }
}

fn ipset(ctx: &ExportContext<'_>, indicators: &[ExportIndicator]) -> Rendered {
    let n = nets(ctx, indicators);
    let mut out = String::new();
    header(&mut out, "ipset", ctx, &n);
    let _ = writeln!(out, "# Load with `ipset restore -exist < FILE`.");
    let base = format!("cordon-{}", ident(ctx.name).replace('_', "-"));
    // ipset names are at most 31 characters.
    let base: String = base.chars().take(28).collect();
    for (suffix, family, list) in [("-v4", "inet", &n.v4), ("-v6", "inet6", &n.v6)] {
        let set = format!("{base}{suffix}");
        let _ = writeln!(
            out,
            "create {set} hash:net family {family} maxelem {}",
            (list.len() * 2).max(65536)
        );
        for net in list.iter() {
            let _ = writeln!(out, "add {set} {net}");
        }
    }
    Rendered {
        body: out,
        entries: n.v4.len() + n.v6.len(),
        warnings: n.warnings,
    }
}

fn cidr(ctx: &ExportContext<'_>, indicators: &[ExportIndicator]) -> Rendered {
    let n = nets(ctx, indicators);
    let mut out = String::new();
    header(&mut out, "CIDR list", ctx, &n);
    for net in n.v4.iter().chain(&n.v6) {
        let _ = writeln!(out, "{net}");
    }
    Rendered {
        body: out,
        entries: n.v4.len() + n.v6.len(),
        warnings: n.warnings,
    }
}

fn csv_field(s: &str) -> String {
    // Cells that a spreadsheet would run as a formula are prefixed with a quote.
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn warning_of(i: &ExportIndicator) -> Option<String> {
    i.special.as_ref().map(|w| format!("{} is {w}", i.value))
}

fn csv(ctx: &ExportContext<'_>, indicators: &[ExportIndicator]) -> Rendered {
    let mut out = String::from("kind,value,first_seen,last_seen,sightings,note,warning\n");
    let mut warnings = Vec::new();
    let ts = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    for i in indicators {
        let warning = warning_of(i);
        if let Some(w) = &warning {
            warnings.push(w.clone());
        }
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            i.kind,
            csv_field(&i.value),
            ts(i.first_seen),
            ts(i.last_seen),
            i.sightings,
            csv_field(&i.note),
            csv_field(warning.as_deref().unwrap_or(""))
        );
    }
    let _ = ctx;
    Rendered {
        body: out,
        entries: indicators.len(),
        warnings,
    }
}

/// A STIX 2.1 pattern string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn pattern(i: &ExportIndicator) -> String {
    let v = lit(&i.value);
    let v6 = i.value.contains(':');
    match i.kind {
        IndicatorKind::Ip | IndicatorKind::Cidr if v6 => format!("[ipv6-addr:value = {v}]"),
        IndicatorKind::Ip | IndicatorKind::Cidr => format!("[ipv4-addr:value = {v}]"),
        IndicatorKind::Domain => format!("[domain-name:value = {v}]"),
        IndicatorKind::Url => format!("[url:value = {v}]"),
        IndicatorKind::Sha256 => format!("[file:hashes.'SHA-256' = {v}]"),
        IndicatorKind::Md5 => format!("[file:hashes.MD5 = {v}]"),
        IndicatorKind::Email => format!("[email-addr:value = {v}]"),
        IndicatorKind::Account => format!("[user-account:account_login = {v}]"),
        IndicatorKind::UserAgent => {
            format!("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = {v}]")
        }
    }
}

/// STIX timestamps: RFC 3339 in UTC with millisecond precision.
fn stix_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn stix(ctx: &ExportContext<'_>, indicators: &[ExportIndicator]) -> Rendered {
    let mut warnings = Vec::new();
    let objects: Vec<Value> = indicators
        .iter()
        .map(|i| {
            let mut o = json!({
                "type": "indicator",
                "spec_version": "2.1",
                "id": format!("indicator--{}", i.id),
                "created": stix_time(i.created_at),
                "modified": stix_time(i.updated_at),
                "name": format!("{} {}", i.kind, i.value),
                "indicator_types": ["malicious-activity"],
                "pattern": pattern(i),
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": stix_time(i.first_seen.unwrap_or(i.created_at)),
                "labels": [format!("cordon:{}", ctx.name)],
            });
            let mut description = i.note.clone();
            if let Some(w) = warning_of(i) {
                if !description.is_empty() {
                    description.push('\n');
                }
                description.push_str("WARNING: ");
                description.push_str(&w);
                warnings.push(w);
            }
            if !description.is_empty() {
                o["description"] = Value::String(description);
            }
            o
        })
        .collect();
    let body = json!({
        "type": "bundle",
        "id": format!("bundle--{}", ctx.bundle_id),
        "objects": objects,
    });
    Rendered {
        body: serde_json::to_string_pretty(&body).expect("JSON values serialize"),
        entries: indicators.len(),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize;

    fn ind(kind: IndicatorKind, v: &str) -> ExportIndicator {
        let n = normalize(kind, v).unwrap();
        ExportIndicator {
            id: Uuid::nil(),
            kind,
            value: n.value,
            special: n.special.map(str::to_owned),
            note: String::new(),
            first_seen: None,
            last_seen: None,
            sightings: 0,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn ctx(include_special: bool) -> ExportContext<'static> {
        ExportContext {
            name: "sapphire-unicorn",
            generated_at: Timestamp::UNIX_EPOCH,
            bundle_id: Uuid::nil(),
            include_special,
        }
    }

    fn sample() -> Vec<ExportIndicator> {
        vec![
            ind(IndicatorKind::Ip, "45.9.148.0"),
            ind(IndicatorKind::Ip, "45.9.148.1"),
            ind(IndicatorKind::Cidr, "45.9.148.2/31"),
            ind(IndicatorKind::Ip, "10.0.0.5"),
            ind(IndicatorKind::Cidr, "2a00:1450:4001::/48"),
            ind(IndicatorKind::Domain, "evil.example"),
        ]
    }

    #[test]
    fn cidr_list_is_aggregated_and_warns_about_private() {
        let r = render(ExportFormat::Cidr, &ctx(true), &sample());
        let lines: Vec<_> = r.body.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines, ["10.0.0.5/32", "45.9.148.0/30", "2a00:1450:4001::/48"]);
        assert!(r.body.contains("# WARNING: 10.0.0.5 is private-use"));
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn excluded_private_ranges_are_named() {
        let r = render(ExportFormat::Cidr, &ctx(false), &sample());
        assert!(!r.body.lines().any(|l| l == "10.0.0.5/32"));
        assert!(r.body.contains("10.0.0.5 is private-use (RFC 1918): left out"));
    }

    #[test]
    fn iptables_holds_one_family_and_names_the_other() {
        let r = render(ExportFormat::Iptables, &ctx(true), &sample());
        assert!(r.body.contains("-A CORDON-BLOCK -s 45.9.148.0/30"));
        assert!(!r.body.contains("2a00:"));
        assert!(r.warnings.iter().any(|w| w.contains("1 IPv6 entries")));
        let r6 = render(ExportFormat::Ip6tables, &ctx(true), &sample());
        assert!(r6.body.contains("-A CORDON-BLOCK -d 2a00:1450:4001::/48"));
        assert!(!r6.body.contains("45.9.148"));
    }

    #[test]
    fn empty_sets_stay_valid_nftables() {
        let r = render(ExportFormat::Nftables, &ctx(true), &[]);
        assert!(!r.body.contains("elements"));
        assert!(r.body.contains("table inet cordon_sapphire_unicorn {"));
    }

    #[test]
    fn stix_is_a_bundle_of_indicators_with_patterns() {
        let mut s = sample();
        s.push(ind(IndicatorKind::Account, "o'brien"));
        let r = render(ExportFormat::Stix, &ctx(true), &s);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["type"], "bundle");
        let objs = v["objects"].as_array().unwrap();
        assert_eq!(objs.len(), 7);
        assert!(
            objs.iter()
                .all(|o| o["type"] == "indicator" && o["spec_version"] == "2.1")
        );
        assert_eq!(objs[4]["pattern"], "[ipv6-addr:value = '2a00:1450:4001::/48']");
        assert_eq!(objs[6]["pattern"], "[user-account:account_login = 'o\\'brien']");
        assert_eq!(objs[0]["created"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut i = ind(IndicatorKind::Account, "=cmd|x");
        i.note = "said \"hi\", twice".into();
        let r = render(ExportFormat::Csv, &ctx(true), &[i]);
        assert_eq!(
            r.body.lines().nth(1).unwrap(),
            "account,'=cmd|x,,,0,\"said \"\"hi\"\", twice\","
        );
    }
}
