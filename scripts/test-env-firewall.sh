#!/usr/bin/env bash
# Installs the firewall tools the blocklist tests validate their output with: `nft` (nftables),
# `iptables-restore`/`ip6tables-restore` (iptables) and `ipset`. They are only run in check
# mode (`nft -c -f`, `iptables-restore --test`) or in a private network namespace (`unshare -n
# ipset restore`): the host's rules and sets are never changed. This needs root
# (CAP_NET_ADMIN); the test environment runs as root.
#
# Idempotent and quiet. Prints nothing on standard output (no environment to export), so a
# caller can `eval "$(scripts/test-env-firewall.sh)"` like the other test-env scripts.
set -euo pipefail

log() { printf 'test-env-firewall: %s\n' "$*" >&2; }

if command -v nft >/dev/null 2>&1 && command -v iptables-restore >/dev/null 2>&1 \
    && command -v ip6tables-restore >/dev/null 2>&1 && command -v ipset >/dev/null 2>&1; then
    exit 0
fi
log "installing nftables, iptables and ipset"
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables iptables ipset >/dev/null
