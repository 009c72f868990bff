//! Indicator values into one canonical form, so the same indicator written two ways is one
//! record: defanged forms re-armed (`hxxp://`, `1.2.3[.]4`, `evil[.]com`, `a[at]b.com`), case
//! folded where it carries no meaning, trailing dots of domains dropped, IPv6 compressed
//! (RFC 5952), hashes in lower-case hex. A CIDR with host bits set is refused.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::net::{special_purpose, special_purpose_net};
use crate::{IndicatorKind, IocError};

/// The longest indicator value accepted (a long URL or user agent).
pub const MAX_VALUE_CHARS: usize = 4096;

/// A normalized indicator value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub kind: IndicatorKind,
    pub value: String,
    /// For `ip` and `cidr`: the special-purpose range it touches (private, reserved, …).
    pub special: Option<&'static str>,
}

impl Normalized {
    /// The network of an `ip` or `cidr` indicator.
    pub fn net(&self) -> Option<IpNet> {
        match self.kind {
            IndicatorKind::Ip => self.value.parse::<IpAddr>().ok().map(IpNet::from),
            IndicatorKind::Cidr => self.value.parse().ok(),
            _ => None,
        }
    }
}

/// Re-arms the common defanged spellings. Applied before parsing every kind but accounts and
/// user agents (where brackets may be meant).
pub fn refang(raw: &str) -> String {
    let mut s = raw.trim().to_owned();
    // schemes: hxxp, hXXp, hxxps, fxp
    let lower = s.to_ascii_lowercase();
    for (bad, good) in [("hxxps", "https"), ("hxxp", "http"), ("fxp", "ftp")] {
        if lower.starts_with(bad) && lower[bad.len()..].starts_with([':', '[']) {
            s = format!("{good}{}", &s[bad.len()..]);
            break;
        }
    }
    const PAIRS: [(&str, &str); 14] = [
        ("[://]", "://"),
        ("[:]", ":"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("{dot}", "."),
        ("[at]", "@"),
        ("(at)", "@"),
        ("{at}", "@"),
        ("[@]", "@"),
        ("[/]", "/"),
        ("\\.", "."),
    ];
    for (bad, good) in PAIRS {
        s = replace_ignore_ascii_case(&s, bad, good);
    }
    s
}

fn replace_ignore_ascii_case(s: &str, pat: &str, with: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(pat) {
        if i < last {
            continue;
        }
        out.push_str(&s[last..i]);
        out.push_str(with);
        last = i + pat.len();
    }
    out.push_str(&s[last..]);
    out
}

fn check_text(raw: &str) -> Result<&str, IocError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(IocError::invalid("the value is empty"));
    }
    if v.chars().count() > MAX_VALUE_CHARS {
        return Err(IocError::invalid(format!("longer than {MAX_VALUE_CHARS} characters")));
    }
    if let Some(why) = cordon_core::text::line_refusal(v) {
        return Err(IocError::invalid(why));
    }
    Ok(v)
}

/// Normalizes `raw` as an indicator of `kind`.
pub fn normalize(kind: IndicatorKind, raw: &str) -> Result<Normalized, IocError> {
    let raw = check_text(raw)?;
    let (value, special) = match kind {
        IndicatorKind::Account => (raw.to_owned(), None),
        IndicatorKind::UserAgent => (raw.split_whitespace().collect::<Vec<_>>().join(" "), None),
        _ => {
            let armed = refang(raw);
            match kind {
                IndicatorKind::Ip => {
                    let ip = parse_ip(&armed)?;
                    (ip.to_string(), special_purpose(ip))
                }
                IndicatorKind::Cidr => {
                    let net = parse_cidr(&armed)?;
                    (net.to_string(), special_purpose_net(net))
                }
                IndicatorKind::Domain => (domain(&armed)?, None),
                IndicatorKind::Url => (url(&armed)?, None),
                IndicatorKind::Sha256 => (hex_digest(&armed, 64, "SHA-256")?, None),
                IndicatorKind::Md5 => (hex_digest(&armed, 32, "MD5")?, None),
                IndicatorKind::Email => (email(&armed)?, None),
                IndicatorKind::Account | IndicatorKind::UserAgent => unreachable!("handled above"),
            }
        }
    };
    Ok(Normalized { kind, value, special })
}

/// The kind a bare value most likely is (for promoting a value out of an event): an address,
/// a network, a URL, an e-mail address, a hash, a domain, else an account.
pub fn guess_kind(raw: &str) -> IndicatorKind {
    let armed = refang(raw);
    let v = armed.trim();
    if parse_ip(v).is_ok() {
        IndicatorKind::Ip
    } else if v.parse::<IpNet>().is_ok() {
        IndicatorKind::Cidr
    } else if v.contains("://") {
        IndicatorKind::Url
    } else if v.contains('@') && email(v).is_ok() {
        IndicatorKind::Email
    } else if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        IndicatorKind::Sha256
    } else if v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        IndicatorKind::Md5
    } else if v.contains('.') && domain(v).is_ok() {
        IndicatorKind::Domain
    } else {
        IndicatorKind::Account
    }
}

fn parse_ip(v: &str) -> Result<IpAddr, IocError> {
    let inner = v.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(v);
    let ip: IpAddr = inner
        .parse()
        .map_err(|_| IocError::invalid(format!("`{v}` is not an IP address")))?;
    Ok(ip.to_canonical())
}

fn parse_cidr(v: &str) -> Result<IpNet, IocError> {
    if !v.contains('/') {
        return Err(IocError::invalid(format!(
            "`{v}` is not a CIDR (address/prefix); add it as kind `ip`"
        )));
    }
    let net: IpNet = v
        .parse()
        .map_err(|_| IocError::invalid(format!("`{v}` is not a CIDR (address/prefix)")))?;
    let net = match net {
        IpNet::V6(n) => match n.addr().to_ipv4_mapped() {
            Some(v4) if n.prefix_len() >= 96 => {
                IpNet::V4(ipnet::Ipv4Net::new(v4, n.prefix_len() - 96).expect("prefix within 32"))
            }
            _ => net,
        },
        IpNet::V4(_) => net,
    };
    if net.trunc() != net {
        return Err(IocError::HostBitsSet {
            given: v.to_owned(),
            network: net.trunc().to_string(),
        });
    }
    Ok(net)
}

fn hex_digest(v: &str, len: usize, what: &str) -> Result<String, IocError> {
    if v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(IocError::invalid(format!("a {what} is {len} hex digits")))
    }
}

fn domain(v: &str) -> Result<String, IocError> {
    let d = v.trim_end_matches('.').to_lowercase();
    let bad = || IocError::invalid(format!("`{v}` is not a domain name"));
    if d.is_empty() || d.len() > 253 || !d.contains('.') || parse_ip(&d).is_ok() {
        return Err(bad());
    }
    for label in d.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '*');
        if !ok {
            return Err(bad());
        }
    }
    Ok(d)
}

fn email(v: &str) -> Result<String, IocError> {
    let bad = || IocError::invalid(format!("`{v}` is not an e-mail address"));
    let (local, dom) = v.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty() || local.len() > 64 || local.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let dom = domain(dom).map_err(|_| bad())?;
    Ok(format!("{}@{dom}", local.to_lowercase()))
}

fn url(v: &str) -> Result<String, IocError> {
    let bad = |why: &str| IocError::invalid(format!("`{v}` is not a URL: {why}"));
    let (scheme, rest) = v.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Err(bad("bad scheme"));
    }
    if rest.chars().any(char::is_whitespace) {
        return Err(bad("contains spaces"));
    }
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(end) = hostport.strip_prefix('[').and_then(|h| h.find(']')) {
        let host = &hostport[1..=end];
        let ip = parse_ip(host).map_err(|_| bad("bad IPv6 host"))?;
        (format!("[{ip}]"), &hostport[end + 2..])
    } else {
        let (h, p) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, &hostport[h.len()..][..p.len() + 1]),
            None => (hostport, ""),
        };
        let h = h.trim_end_matches('.').to_lowercase();
        if h.is_empty() {
            return Err(bad("no host"));
        }
        let h = match parse_ip(&h) {
            Ok(ip) => ip.to_string(),
            Err(_) => h,
        };
        (h, p)
    };
    let port_ok = port.is_empty() || (port.starts_with(':') && port[1..].bytes().all(|b| b.is_ascii_digit()));
    if !port_ok {
        return Err(bad("bad port"));
    }
    let tail = if tail.is_empty() { "/" } else { tail };
    Ok(match userinfo {
        Some(u) => format!("{scheme}://{u}@{host}{port}{tail}"),
        None => format!("{scheme}://{host}{port}{tail}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind as K;

    fn n(kind: K, v: &str) -> String {
        normalize(kind, v).unwrap().value
    }

    #[test]
    fn defanged_forms_are_rearmed() {
        assert_eq!(n(K::Ip, "45.9.148[.]7"), "45.9.148.7");
        assert_eq!(n(K::Ip, " 45[.]9(.)148{.}7 "), "45.9.148.7");
        assert_eq!(n(K::Domain, "Evil-Example[.]COM."), "evil-example.com");
        assert_eq!(
            n(K::Url, "hxxp://Evil[.]Example.com./a/B?x=1"),
            "http://evil.example.com/a/B?x=1"
        );
        assert_eq!(n(K::Url, "hXXps[://]evil[.]com"), "https://evil.com/");
        assert_eq!(n(K::Email, "Mallory[at]Evil[.]com"), "mallory@evil.com");
        assert_eq!(n(K::Email, "mallory[@]evil[dot]com"), "mallory@evil.com");
    }

    #[test]
    fn ipv6_is_compressed_and_mapped_v4_unwrapped() {
        assert_eq!(n(K::Ip, "2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
        assert_eq!(n(K::Ip, "[2001:db8::1]"), "2001:db8::1");
        assert_eq!(n(K::Ip, "::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(n(K::Cidr, "2001:DB8:0:0::/32"), "2001:db8::/32");
    }

    #[test]
    fn bad_addresses_and_host_bits_are_refused() {
        assert!(normalize(K::Ip, "999.1.1.1").is_err());
        assert!(normalize(K::Ip, "1.2.3").is_err());
        assert!(normalize(K::Cidr, "10.0.0.0/33").is_err());
        assert!(normalize(K::Cidr, "10.0.0.0").is_err());
        assert_eq!(
            normalize(K::Cidr, "192.0.2.1/24"),
            Err(IocError::HostBitsSet {
                given: "192.0.2.1/24".into(),
                network: "192.0.2.0/24".into()
            })
        );
        assert!(matches!(
            normalize(K::Cidr, "2001:db8::1/32"),
            Err(IocError::HostBitsSet { .. })
        ));
    }

    #[test]
    fn private_and_reserved_are_flagged() {
        assert_eq!(
            normalize(K::Ip, "10.0.0.5").unwrap().special,
            Some("private-use (RFC 1918)")
        );
        assert!(normalize(K::Cidr, "fc00::/8").unwrap().special.is_some());
        assert_eq!(normalize(K::Ip, "45.9.148.7").unwrap().special, None);
    }

    #[test]
    fn hashes_domains_and_accounts() {
        let h = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(n(K::Sha256, h), h.to_lowercase());
        assert!(normalize(K::Sha256, &h[1..]).is_err());
        assert_eq!(
            n(K::Md5, "D41D8CD98F00B204E9800998ECF8427E"),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert!(normalize(K::Domain, "not a domain").is_err());
        assert!(normalize(K::Domain, "10.0.0.1").is_err());
        // accounts are case-sensitive on most systems: kept as given, trimmed
        assert_eq!(n(K::Account, "  Backup "), "Backup");
        assert_eq!(n(K::UserAgent, "curl/8.5.0   (x)"), "curl/8.5.0 (x)");
        assert!(normalize(K::Account, "a\u{7}b").is_err());
        assert!(normalize(K::Account, "   ").is_err());
    }

    #[test]
    fn kinds_are_guessed_from_values() {
        assert_eq!(guess_kind("45.9.148[.]7"), K::Ip);
        assert_eq!(guess_kind("2001:db8::1"), K::Ip);
        assert_eq!(guess_kind("10.0.0.0/8"), K::Cidr);
        assert_eq!(guess_kind("hxxp://evil.com/x"), K::Url);
        assert_eq!(guess_kind("a@evil.com"), K::Email);
        assert_eq!(guess_kind("evil.com"), K::Domain);
        assert_eq!(guess_kind("backup"), K::Account);
    }

    #[test]
    fn control_and_bidi_characters_are_refused_in_every_kind() {
        for k in K::ALL {
            for bad in [
                "evil\u{202E}gpj.exe",
                "a\u{1b}[2Jb",
                "x\0y",
                "ev\u{200B}il.com",
                "1.2.3.4\u{2066}",
            ] {
                let e = normalize(k, bad).unwrap_err().to_string();
                assert!(e.contains("U+"), "{k:?} {bad:?}: {e}");
            }
        }
        let e = normalize(K::UserAgent, "Mozilla/5.0 \u{202E}").unwrap_err().to_string();
        assert!(e.contains("U+202E"), "{e}");
    }

    proptest::proptest! {
        /// No accepted indicator value holds a control or bidirectional formatting character.
        #[test]
        fn accepted_values_hold_no_control_or_bidi_character(
            kind in proptest::sample::select(K::ALL.to_vec()),
            raw in "(\\PC|[\u{0}-\u{1f}\u{7f}-\u{9f}\u{200b}-\u{200f}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{feff}])*",
        ) {
            if let Ok(n) = normalize(kind, &raw) {
                proptest::prop_assert!(!n.value.chars().any(cordon_core::text::is_forbidden), "{:?}", n.value);
            }
        }

        /// Normalizing is idempotent, and any IPv4 address survives defanging.
        #[test]
        fn normalizing_twice_changes_nothing(a: u8, b: u8, c: u8, d: u8) {
            let ip = format!("{a}.{b}.{c}[.]{d}");
            let once = normalize(K::Ip, &ip).unwrap();
            proptest::prop_assert_eq!(&once.value, &format!("{a}.{b}.{c}.{d}"));
            let twice = normalize(K::Ip, &once.value).unwrap();
            proptest::prop_assert_eq!(once, twice);
        }

        #[test]
        fn ipv6_round_trips(x: u128) {
            let ip = std::net::Ipv6Addr::from(x);
            let once = normalize(K::Ip, &ip.to_string()).unwrap();
            let twice = normalize(K::Ip, &once.value).unwrap();
            proptest::prop_assert_eq!(once, twice);
        }
    }
}
