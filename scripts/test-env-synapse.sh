#!/usr/bin/env bash
# Installs the Matrix homeserver (Synapse, from PyPI) that cordon-channels' Matrix
# integration test starts on loopback. Idempotent and quiet: it does nothing when the
# pinned version is already installed. Prints the variable the test reads.
#
#   eval "$(scripts/test-env-synapse.sh)"
set -euo pipefail

version="1.163.2"
dir="${CORDON_SYNAPSE_VENV:-/var/tmp/cordon-it/synapse-venv}"

installed() {
    [ -x "$dir/bin/python" ] &&
        "$dir/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('matrix-synapse') != '$version')" 2>/dev/null
}

if ! installed; then
    mkdir -p "$(dirname "$dir")"
    [ -x "$dir/bin/pip" ] || python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse==$version" >&2
fi

echo "export CORDON_SYNAPSE_VENV=$dir"
