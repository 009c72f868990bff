#!/usr/bin/env bash
# Creates the Python virtual environment with Plaso (log2timeline + psort, from PyPI; older
# releases name them log2timeline.py and psort.py)
# that `bench-timeline` runs beside Cordon on the same files. Idempotent and quiet: nothing
# happens when the pinned version is already installed. Prints the variable the bench reads.
#
#   eval "$(bench/plaso-env.sh)"
set -euo pipefail

version="${PLASO_VERSION:-20260720}"
dir="${CORDON_PLASO_VENV:-/var/tmp/cordon-bench/plaso-venv}"

installed() {
    { [ -x "$dir/bin/log2timeline" ] || [ -x "$dir/bin/log2timeline.py" ]; } &&
        "$dir/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('plaso') != '$version')" 2>/dev/null
}

if ! installed; then
    mkdir -p "$(dirname "$dir")"
    [ -x "$dir/bin/pip" ] || python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check --upgrade pip wheel setuptools >&2
    "$dir/bin/pip" install --quiet --disable-pip-version-check "plaso==$version" >&2
fi

echo "export CORDON_PLASO_VENV=$dir"
