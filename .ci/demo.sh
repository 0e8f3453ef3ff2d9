#!/usr/bin/env bash
# Install sfcred into a virtualenv and run its main job against the embedded Salesforce
# stand-in:  bash .ci/demo.sh
# On a fresh Debian machine it first installs python3-venv (as root, or through `sudo -n`).
# Knobs: SFCRED_VENV (default .venv), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${SFCRED_VENV:-.venv}
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

if ! command -v "$PY" >/dev/null || { [ ! -x "$VENV/bin/python" ] \
        && ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; }; then
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends python3 python3-venv </dev/null
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
rm -rf build  # setuptools would carry stale modules from an older build into the wheel
"$VENV/bin/python" -m pip install -q --upgrade .
echo "installed: $VENV/bin/sfcred ($("$VENV/bin/sfcred" --version))" >&2
exec "$VENV/bin/sfcred" demo
