//! Where outbound requests may go: the address policy every webhook, SMS gateway, Slack and
//! Matrix call passes through, and the DNS resolver that applies it.
//!
//! An address is refused when it is special-purpose — loopback, link-local, private (RFC 1918),
//! unique-local, CGNAT (100.64/10), unspecified, multicast, broadcast, documentation, reserved
//! (the IANA registries, [`cordon_ioc::special_purpose`]), an IPv6 address outside global
//! unicast (`2000::/3`), or a cloud metadata endpoint ([`METADATA_ADDRESSES`]) — unless a
//! network of the deployment's `outbound_allow` list contains it. A metadata endpoint is
//! allowed only by an entry naming exactly that address (`169.254.169.254/32`), never by a
//! wider network: allowing a link-local segment must not hand out the instance's credentials.
//!
//! IPv6 forms that carry an IPv4 address are judged by that address: IPv4-mapped
//! (`::ffff:127.0.0.1`), IPv4-compatible (`::127.0.0.1`) and NAT64 (`64:ff9b::7f00:1`). Odd
//! IPv4 spellings (`0x7f000001`, `2130706433`, `0177.0.0.1`, `127.1`) never reach this module
//! as text: the URL parser turns them into the address they mean, which is checked.
//!
//! The check happens after DNS resolution, and the connection is pinned to what was checked:
//! [`PinnedResolver`] is the HTTP client's only resolver; it resolves a name once, drops the
//! refused addresses, and hands the client only the allowed ones, so there is no second
//! lookup an attacker's DNS server could answer differently. Hosts written as IP literals never
//! reach a resolver, so [`OutboundPolicy::check_url_literal`] checks them before a request is
//! built.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use thiserror::Error;

use crate::error::ChannelError;

/// Cloud instance metadata endpoints (AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack:
/// 169.254.169.254; AWS ECS task and EKS pod identity: 169.254.170.2, 169.254.170.23,
/// fd00:ec2::23; AWS IMDS over IPv6: fd00:ec2::254; Alibaba: 100.100.100.200; Tencent:
/// 169.254.0.23).
pub const METADATA_ADDRESSES: [IpAddr; 7] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 23)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 0, 23)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x23)),
];

/// What kind of non-public address an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Special {
    /// The address judged: the embedded IPv4 address of a mapped, compatible or NAT64 form,
    /// else the address itself.
    pub judged: IpAddr,
    /// What it is, e.g. `loopback (RFC 1122)`.
    pub what: &'static str,
    /// A cloud metadata endpoint: only an allow entry naming exactly it permits it.
    pub metadata: bool,
}

/// Classifies an address: `None` for a public (globally routable) one.
pub fn classify(ip: IpAddr) -> Option<Special> {
    let judged = embedded_ipv4(ip).map_or(ip, IpAddr::V4);
    if METADATA_ADDRESSES.contains(&judged) {
        return Some(Special {
            judged,
            what: "a cloud metadata endpoint",
            metadata: true,
        });
    }
    let what = cordon_ioc::special_purpose(judged).or_else(|| match judged {
        IpAddr::V6(v6) if v6.segments()[0] & 0xe000 != 0x2000 => Some("reserved (outside global unicast 2000::/3)"),
        _ => None,
    })?;
    Some(Special {
        judged,
        what,
        metadata: false,
    })
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d` (deprecated; not `::` and `::1`) and the NAT64 well-known prefix
/// `64:ff9b::/96` (RFC 6052).
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else {
        return None;
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let low = Ipv4Addr::from(((u32::from(s[6])) << 16) | u32::from(s[7]));
    match s[..6] {
        [0, 0, 0, 0, 0, 0] if u32::from(low) > 1 => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0] => Some(low),
        _ => None,
    }
}

/// Why an outbound address was refused. Its text is safe to show to the caller: it names the
/// address the caller's own URL or name led to, and what kind of address that is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct Refused {
    pub address: IpAddr,
    pub special: Special,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused: {}", self.address)?;
        if self.special.judged != self.address {
            write!(f, " ({})", self.special.judged)?;
        }
        write!(f, " is {}", self.special.what)
    }
}

/// What can stop an outbound connection before it starts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OutboundError {
    /// The host is (or resolves only to) a refused address.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The name did not resolve.
    #[error("could not resolve the host")]
    Unresolved,
}

/// The deployment's outbound rule: refuse non-public addresses except the allowed networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allow: Vec<IpNet>,
}

impl OutboundPolicy {
    /// Refuses every non-public address.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Refuses non-public addresses except those in `allow`: networks in CIDR notation
    /// (`10.20.0.0/16`, `fd12:3456::/48`) or single addresses (`10.0.0.5`). A network with
    /// host bits set (`10.20.0.1/16`) is an error naming the network meant.
    pub fn allowing<S: AsRef<str>>(allow: impl IntoIterator<Item = S>) -> Result<Self, ChannelError> {
        let mut nets = Vec::new();
        for raw in allow {
            let raw = raw.as_ref().trim();
            if raw.is_empty() {
                continue;
            }
            let net = match raw.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => IpNet::from(raw.parse::<IpAddr>().map_err(|_| {
                    ChannelError::invalid(
                        "outbound_allow",
                        format!("`{raw}` is not a network (10.20.0.0/16) or an address"),
                    )
                })?),
            };
            if net.trunc() != net {
                return Err(ChannelError::invalid(
                    "outbound_allow",
                    format!("`{raw}` has host bits set; did you mean {}?", net.trunc()),
                ));
            }
            nets.push(net);
        }
        Ok(Self { allow: nets })
    }

    /// The allowed networks.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// Whether a connection to `ip` may be made.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let Some(special) = classify(ip) else {
            return Ok(());
        };
        let allowed = self.allow.iter().any(|net| {
            if special.metadata {
                net.prefix_len() == net.max_prefix_len() && (net.addr() == special.judged || net.addr() == ip)
            } else {
                net.contains(&special.judged) || net.contains(&ip)
            }
        });
        if allowed {
            Ok(())
        } else {
            Err(Refused { address: ip, special })
        }
    }

    /// Checks a URL whose host is an IP literal (a name is checked when it is resolved).
    pub fn check_url_literal(&self, url: &Url) -> Result<(), Refused> {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check(IpAddr::V6(ip)),
            // The URL parser turns anything that reads as IPv4 into `Ipv4`; this is a guard in
            // case a name still parses as an address somewhere further down.
            Some(url::Host::Domain(d)) => match d.trim_matches(['[', ']']).parse::<IpAddr>() {
                Ok(ip) => self.check(ip),
                Err(_) => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Resolves `host` once and returns the allowed addresses. When nothing is left, the
    /// first refusal (or [`OutboundError::Unresolved`]).
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, OutboundError> {
        let found = lookup(host).await?;
        let mut allowed = Vec::with_capacity(found.len());
        let mut first_refusal = None;
        for ip in found {
            match self.check(ip) {
                Ok(()) if !allowed.contains(&ip) => allowed.push(ip),
                Ok(()) => {}
                Err(r) => {
                    first_refusal.get_or_insert(r);
                }
            }
        }
        match (allowed.is_empty(), first_refusal) {
            (false, _) => Ok(allowed),
            (true, Some(r)) => Err(r.into()),
            (true, None) => Err(OutboundError::Unresolved),
        }
    }

    /// The check made when a target is configured (a webhook contact is added): the host's
    /// every address must be allowed — a name that resolves to a private address among public
    /// ones is refused outright, although a delivery would only use the public ones.
    pub async fn check_target(&self, url: &Url) -> Result<(), OutboundError> {
        self.check_url_literal(url)?;
        let Some(url::Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        for ip in lookup(name).await? {
            self.check(ip)?;
        }
        Ok(())
    }
}

async fn lookup(host: &str) -> Result<Vec<IpAddr>, OutboundError> {
    let found: Vec<IpAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|_| OutboundError::Unresolved)?
        .map(|a| a.ip())
        .collect();
    if found.is_empty() {
        return Err(OutboundError::Unresolved);
    }
    Ok(found)
}

/// The HTTP client's resolver: resolves once, filters through the policy, and returns only
/// allowed addresses, which are the ones the client then connects to.
#[derive(Debug, Clone)]
pub(crate) struct PinnedResolver(pub(crate) Arc<OutboundPolicy>);

impl Resolve for PinnedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let allowed = policy.resolve(&host).await?;
            let addrs: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn what(s: &str) -> Option<&'static str> {
        classify(ip(s)).map(|c| c.what)
    }

    #[test]
    fn every_special_range_is_refused_by_default() {
        let strict = OutboundPolicy::strict();
        for (addr, expect) in [
            ("0.0.0.0", "\"this network\""),
            ("0.1.2.3", "\"this network\""),
            ("10.0.0.1", "private-use (RFC 1918)"),
            ("10.255.255.255", "private-use"),
            ("172.16.0.1", "private-use"),
            ("172.31.255.254", "private-use"),
            ("192.168.1.1", "private-use"),
            ("100.64.0.1", "CGNAT"),
            ("100.127.255.254", "CGNAT"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("169.254.1.1", "link-local"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.1", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("192.88.99.1", "6to4 relay"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("2002:7f00:1::1", "6to4"),
            ("2001::1", "IETF protocol assignments"),
            ("100::1", "discard-only"),
            ("64:ff9b:1::1", "translation"),
            ("fec0::1", "outside global unicast"),
            ("4000::1", "outside global unicast"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.170.2", "cloud metadata"),
            ("100.100.100.200", "cloud metadata"),
            ("fd00:ec2::254", "cloud metadata"),
        ] {
            let w = what(addr).unwrap_or_else(|| panic!("{addr} is not classified"));
            assert!(w.contains(expect), "{addr}: {w}");
            assert!(strict.check(ip(addr)).is_err(), "{addr}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        let strict = OutboundPolicy::strict();
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.167.255.255",
            "223.255.255.255",
            "2a00:1450:4001::1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(classify(ip(addr)), None, "{addr}");
            assert!(strict.check(ip(addr)).is_ok(), "{addr}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_are_judged_by_the_ipv4_address() {
        for (addr, embedded, expect) in [
            ("::ffff:127.0.0.1", "127.0.0.1", "loopback"),
            ("::ffff:7f00:1", "127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "169.254.169.254", "cloud metadata"),
            ("::ffff:10.1.2.3", "10.1.2.3", "private-use"),
            ("::127.0.0.1", "127.0.0.1", "loopback"),
            ("::10.0.0.1", "10.0.0.1", "private-use"),
            ("::0.0.0.2", "0.0.0.2", "this network"),
            ("64:ff9b::7f00:1", "127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "169.254.169.254", "cloud metadata"),
        ] {
            let c = classify(ip(addr)).unwrap_or_else(|| panic!("{addr}"));
            assert_eq!(c.judged, ip(embedded), "{addr}");
            assert!(c.what.contains(expect), "{addr}: {}", c.what);
        }
        // `::` and `::1` are themselves, not IPv4-compatible forms of 0.0.0.0 and 0.0.0.1.
        assert_eq!(classify(ip("::1")).unwrap().judged, ip("::1"));
        assert_eq!(classify(ip("::")).unwrap().judged, ip("::"));
        // Public IPv4 behind NAT64 is public.
        assert_eq!(classify(ip("64:ff9b::808:808")), None);
        let r = OutboundPolicy::strict().check(ip("::ffff:127.0.0.1")).unwrap_err();
        assert_eq!(
            r.to_string(),
            "refused: ::ffff:127.0.0.1 (127.0.0.1) is loopback (RFC 1122)"
        );
    }

    #[test]
    fn allowed_networks_open_exactly_themselves() {
        let p =
            OutboundPolicy::allowing(["10.20.0.0/16", "127.0.0.0/8", " fd12:3456::/48 ", "", "192.168.7.7"]).unwrap();
        for ok in [
            "10.20.1.2",
            "127.0.0.1",
            "127.9.9.9",
            "::ffff:127.0.0.1",
            "::ffff:10.20.0.5",
            "fd12:3456::9",
            "192.168.7.7",
        ] {
            assert!(p.check(ip(ok)).is_ok(), "{ok}");
        }
        for refused in ["10.21.0.1", "::1", "fd12:3457::1", "192.168.7.8", "169.254.169.254"] {
            assert!(p.check(ip(refused)).is_err(), "{refused}");
        }
    }

    #[test]
    fn metadata_endpoints_need_an_entry_naming_them() {
        let wide = OutboundPolicy::allowing(["169.254.0.0/16", "fd00::/8", "100.64.0.0/10"]).unwrap();
        assert!(wide.check(ip("169.254.1.1")).is_ok());
        for m in [
            "169.254.169.254",
            "fd00:ec2::254",
            "100.100.100.200",
            "::ffff:169.254.169.254",
        ] {
            let r = wide.check(ip(m)).unwrap_err();
            assert!(r.to_string().contains("cloud metadata endpoint"), "{r}");
        }
        let exact = OutboundPolicy::allowing(["169.254.169.254/32", "fd00:ec2::254"]).unwrap();
        assert!(exact.check(ip("169.254.169.254")).is_ok());
        assert!(exact.check(ip("fd00:ec2::254")).is_ok());
        assert!(exact.check(ip("169.254.170.2")).is_err());
    }

    #[test]
    fn allow_entries_are_parsed_strictly() {
        let e = OutboundPolicy::allowing(["10.20.0.1/16"]).unwrap_err();
        assert!(e.to_string().contains("did you mean 10.20.0.0/16"), "{e}");
        for bad in ["ten", "10.0.0.0/33", "localhost", "10.0.0.0/8/8"] {
            assert!(OutboundPolicy::allowing([bad]).is_err(), "{bad}");
        }
        assert_eq!(
            OutboundPolicy::allowing(["::1"]).unwrap().allowed(),
            &["::1/128".parse::<IpNet>().unwrap()]
        );
    }

    #[test]
    fn url_literals_in_every_spelling_are_checked() {
        let strict = OutboundPolicy::strict();
        for raw in [
            "http://127.0.0.1/h",
            "http://0x7f000001/h",
            "http://2130706433/h",
            "http://0177.0.0.1/h",
            "http://127.1/h",
            "http://0x7f.1/h",
            "http://[::1]/h",
            "http://[::ffff:127.0.0.1]/h",
            "http://[::ffff:7f00:1]/h",
            "http://169.254.169.254/latest/meta-data/",
            "http://0xa9fea9fe/",
            "http://[fd00:ec2::254]/",
            "http://0.0.0.0:8080/",
            "http://10.1.2.3/",
            "https://[fe80::1%25eth0]/",
        ] {
            let Ok(url) = Url::parse(raw) else {
                // A form the URL parser itself refuses cannot be a target either.
                continue;
            };
            assert!(strict.check_url_literal(&url).is_err(), "{raw} → {url}");
        }
        assert!(
            strict
                .check_url_literal(&Url::parse("http://8.8.8.8/").unwrap())
                .is_ok()
        );
        assert!(
            strict
                .check_url_literal(&Url::parse("https://example.com/").unwrap())
                .is_ok()
        );
    }

    #[tokio::test]
    async fn names_are_judged_by_what_they_resolve_to() {
        let strict = OutboundPolicy::strict();
        let localhost = Url::parse("http://localhost:9/").unwrap();
        let e = strict.check_target(&localhost).await.unwrap_err();
        assert!(matches!(e, OutboundError::Refused(_)), "{e}");
        assert!(e.to_string().contains("loopback"), "{e}");
        assert!(matches!(
            strict.resolve("localhost").await,
            Err(OutboundError::Refused(_))
        ));
        let loopback = OutboundPolicy::allowing(["127.0.0.0/8", "::1/128"]).unwrap();
        assert!(loopback.check_target(&localhost).await.is_ok());
        let found = loopback.resolve("localhost").await.unwrap();
        assert!(found.iter().all(|a| a.is_loopback()), "{found:?}");
        // Only IPv4 loopback allowed: a `::1` answer is dropped, 127.0.0.1 kept.
        let v4 = OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap();
        assert!(v4.resolve("localhost").await.unwrap().iter().all(IpAddr::is_ipv4));
        assert_eq!(
            strict.resolve("no-such-host.invalid").await,
            Err(OutboundError::Unresolved)
        );
    }
}
