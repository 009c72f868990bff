//! The firewall renderers' output, checked by the real tools: `nft -c -f`,
//! `iptables-restore --test`, `ip6tables-restore --test`, and `ipset restore` inside a private
//! network namespace (install them with `scripts/test-env-firewall.sh`; none of them changes
//! the host's rules or sets).

use std::io::Write;
use std::process::Command;

use cordon_ioc::{ExportContext, ExportFormat, ExportIndicator, IndicatorKind, normalize, render};
use jiff::Timestamp;
use uuid::Uuid;

fn indicators() -> Vec<ExportIndicator> {
    [
        (IndicatorKind::Ip, "45.9.148.0"),
        (IndicatorKind::Ip, "45.9.148.1"),
        (IndicatorKind::Cidr, "45.9.148.2/31"),
        (IndicatorKind::Cidr, "45.9.148.0/29"),
        (IndicatorKind::Ip, "192.168.7.7"),
        (IndicatorKind::Ip, "2001:db8::7"),
        (IndicatorKind::Cidr, "2a00:1450:4001::/48"),
        (IndicatorKind::Cidr, "2a00:1450:4001:1::/64"),
        (IndicatorKind::Domain, "evil.example"),
    ]
    .into_iter()
    .map(|(kind, v)| {
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
    })
    .collect()
}

fn check(tool: &str, args: &[&str], body: &str) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(body.as_bytes()).unwrap();
    let path = f.path().to_str().unwrap();
    let mut all: Vec<&str> = args.to_vec();
    all.push(path);
    let out = Command::new(tool)
        .args(&all)
        .output()
        .unwrap_or_else(|e| panic!("{tool} not runnable ({e}); run scripts/test-env-firewall.sh"));
    assert!(
        out.status.success(),
        "{tool} refused:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        body
    );
}

fn ctx() -> ExportContext<'static> {
    ExportContext {
        name: "sapphire-unicorn",
        generated_at: Timestamp::UNIX_EPOCH,
        bundle_id: Uuid::nil(),
        include_special: true,
    }
}

#[test]
fn nftables_output_passes_nft_check() {
    let r = render(ExportFormat::Nftables, &ctx(), &indicators());
    // overlapping ranges would make nft refuse the interval set: they were aggregated
    assert!(
        r.body.contains("elements = { 45.9.148.0/29, 192.168.7.7/32 }"),
        "{}",
        r.body
    );
    check("nft", &["-c", "-f"], &r.body);
    check("nft", &["-c", "-f"], &render(ExportFormat::Nftables, &ctx(), &[]).body);
}

#[test]
fn iptables_output_passes_restore_test() {
    let r = render(ExportFormat::Iptables, &ctx(), &indicators());
    check("iptables-restore", &["--test"], &r.body);
    let r6 = render(ExportFormat::Ip6tables, &ctx(), &indicators());
    assert!(r6.body.contains("-s 2a00:1450:4001::/48"));
    check("ip6tables-restore", &["--test"], &r6.body);
}

#[test]
fn ipset_output_loads_into_ipset_and_reads_back_every_network() {
    let r = render(ExportFormat::Ipset, &ctx(), &indicators());
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(r.body.as_bytes()).unwrap();
    // A network namespace of its own: the sets vanish with it, the host's are untouched.
    let script = format!("ipset restore -exist < '{}' && ipset save", f.path().display());
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("unshare not runnable ({e})"));
    let saved = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ipset refused:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        r.body
    );
    let added: Vec<&str> = r.body.lines().filter(|l| l.starts_with("add ")).collect();
    assert!(added.len() >= 4, "{}", r.body);
    for line in added {
        // `ipset save` writes host networks without /32 and /128.
        let wanted = line.trim_end_matches("/32").trim_end_matches("/128");
        assert!(
            saved.lines().any(|l| l == line || l == wanted),
            "{line} not in:\n{saved}"
        );
    }
    assert!(
        saved.contains("create cordon-sapphire-unicorn-v4 hash:net family inet"),
        "{saved}"
    );
    assert!(
        saved.contains("create cordon-sapphire-unicorn-v6 hash:net family inet6"),
        "{saved}"
    );
}
