//! Address ranges: special-purpose (private, reserved) detection after the IANA registries,
//! and aggregation of adjacent and overlapping ranges.

use std::net::IpAddr;
use std::sync::OnceLock;

use ipnet::IpNet;

/// One network entry of a blocklist: the range, and the warning that goes with it (a
/// private or reserved range is never dropped silently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEntry {
    pub net: IpNet,
    pub warning: Option<String>,
}

/// The special-purpose ranges (IANA IPv4 and IPv6 Special-Purpose Address Registries, plus
/// multicast), each with what it is.
fn special_ranges() -> &'static [(IpNet, &'static str)] {
    static RANGES: OnceLock<Vec<(IpNet, &'static str)>> = OnceLock::new();
    RANGES.get_or_init(|| {
        [
            ("0.0.0.0/8", "\"this network\" (RFC 791)"),
            ("10.0.0.0/8", "private-use (RFC 1918)"),
            ("100.64.0.0/10", "shared address space / CGNAT (RFC 6598)"),
            ("127.0.0.0/8", "loopback (RFC 1122)"),
            ("169.254.0.0/16", "link-local (RFC 3927)"),
            ("172.16.0.0/12", "private-use (RFC 1918)"),
            ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
            ("192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"),
            ("192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"),
            ("192.168.0.0/16", "private-use (RFC 1918)"),
            ("198.18.0.0/15", "benchmarking (RFC 2544)"),
            ("198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"),
            ("203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"),
            ("224.0.0.0/4", "multicast (RFC 5771)"),
            ("240.0.0.0/4", "reserved (RFC 1112)"),
            ("255.255.255.255/32", "limited broadcast (RFC 919)"),
            ("::/128", "unspecified address (RFC 4291)"),
            ("::1/128", "loopback (RFC 4291)"),
            ("::ffff:0:0/96", "IPv4-mapped (RFC 4291)"),
            ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"),
            ("100::/64", "discard-only (RFC 6666)"),
            ("2001::/23", "IETF protocol assignments (RFC 2928)"),
            ("2001:db8::/32", "documentation (RFC 3849)"),
            ("2002::/16", "6to4 (RFC 3056)"),
            ("3fff::/20", "documentation (RFC 9637)"),
            ("fc00::/7", "unique-local (RFC 4193)"),
            ("fe80::/10", "link-local (RFC 4291)"),
            ("ff00::/8", "multicast (RFC 4291)"),
        ]
        .into_iter()
        .map(|(n, what)| (n.parse().expect("a valid built-in range"), what))
        .collect()
    })
}

/// What special-purpose range an address is in, if any (`private-use (RFC 1918)`, …).
/// The most specific range wins (`255.255.255.255` is the limited broadcast address, not
/// just reserved).
pub fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    special_ranges()
        .iter()
        .filter(|(n, _)| n.contains(&ip))
        .max_by_key(|(n, _)| n.prefix_len())
        .map(|(_, what)| *what)
}

/// What special-purpose range a network overlaps (contains, or lies in), if any.
pub fn special_purpose_net(net: IpNet) -> Option<&'static str> {
    special_ranges()
        .iter()
        .find(|(n, _)| n.contains(&net) || net.contains(n))
        .map(|(_, what)| *what)
}

/// Merges overlapping and adjacent ranges into the fewest covering networks, IPv4 first,
/// each family in address order.
pub fn aggregate(nets: &[IpNet]) -> Vec<IpNet> {
    let mut out = IpNet::aggregate(&nets.to_vec());
    out.sort_by(|a, b| match (a, b) {
        (IpNet::V4(_), IpNet::V6(_)) => std::cmp::Ordering::Less,
        (IpNet::V6(_), IpNet::V4(_)) => std::cmp::Ordering::Greater,
        _ => a.network().cmp(&b.network()).then(a.prefix_len().cmp(&b.prefix_len())),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(v: &[&str]) -> Vec<IpNet> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn adjacent_ranges_merge() {
        let got = aggregate(&nets(&["198.51.100.0/25", "198.51.100.128/25", "203.0.113.7/32"]));
        assert_eq!(got, nets(&["198.51.100.0/24", "203.0.113.7/32"]));
    }

    #[test]
    fn contained_ranges_disappear_and_families_stay_apart() {
        let got = aggregate(&nets(&[
            "2001:db8::/48",
            "10.0.0.0/8",
            "10.1.2.0/24",
            "2001:db8:0:1::/64",
        ]));
        assert_eq!(got, nets(&["10.0.0.0/8", "2001:db8::/48"]));
    }

    #[test]
    fn four_adjacent_hosts_become_a_slash_30() {
        let got = aggregate(&nets(&[
            "45.9.148.1/32",
            "45.9.148.0/32",
            "45.9.148.3/32",
            "45.9.148.2/32",
        ]));
        assert_eq!(got, nets(&["45.9.148.0/30"]));
    }

    #[test]
    fn special_purpose_addresses_are_named() {
        assert_eq!(
            special_purpose("10.1.2.3".parse().unwrap()),
            Some("private-use (RFC 1918)")
        );
        assert_eq!(
            special_purpose("fe80::1".parse().unwrap()),
            Some("link-local (RFC 4291)")
        );
        assert_eq!(special_purpose("8.8.8.8".parse().unwrap()), None);
        assert_eq!(special_purpose("2a00:1450::1".parse().unwrap()), None);
        // a range that contains a private one is flagged too
        assert!(special_purpose_net("8.0.0.0/4".parse().unwrap()).is_some());
        assert!(special_purpose_net("45.9.148.0/24".parse().unwrap()).is_none());
    }

    proptest::proptest! {
        /// Aggregation covers exactly the same addresses as its input, with no overlaps.
        #[test]
        fn aggregation_keeps_coverage(raw in proptest::collection::vec((0u32..256, 24u8..=32), 1..40)) {
            let input: Vec<IpNet> = raw
                .iter()
                .map(|(a, p)| IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(0x2d00_0000 + a * 16), *p).unwrap().trunc()))
                .collect();
            let out = aggregate(&input);
            for pair in out.windows(2) {
                proptest::prop_assert!(!pair[0].contains(&pair[1]) && !pair[1].contains(&pair[0]));
                proptest::prop_assert!(pair[0].broadcast() < pair[1].network());
            }
            for probe in 0u32..(256 * 16 + 256) {
                let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x2d00_0000 + probe));
                let a = input.iter().any(|n| n.contains(&ip));
                let b = out.iter().any(|n| n.contains(&ip));
                proptest::prop_assert_eq!(a, b);
            }
        }
    }
}
