#!/usr/bin/env bash
# Runs inside `dbus-run-session` (see test.sh): starts a throwaway gnome-keyring, unlocked,
# proves the Secret Service works, then runs pytest ("$@") from the venv ($VPY) with
# SFCRED_TEST_SECRET_SERVICE=1. Stops the daemon and removes its folders on the way out;
# dbus-run-session then stops the bus.
set -euo pipefail
: "${VPY:?set VPY to the venv python}"
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "run me under dbus-run-session" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sfcred-keyring.XXXXXX")
keyring_pid=
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    if [ -n "$keyring_pid" ]; then kill "$keyring_pid" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT
# A new XDG_DATA_HOME means a new, empty login keyring, created with the password below.
mkdir -m 700 "$scratch/data" "$scratch/runtime"
export XDG_DATA_HOME=$scratch/data XDG_RUNTIME_DIR=$scratch/runtime

out=$(printf %s throwaway \
      | timeout 30 gnome-keyring-daemon --unlock --components=secrets 2>"$scratch/daemon.err") \
    || { cat "$scratch/daemon.err" >&2; echo "gnome-keyring-daemon did not start" >&2; exit 1; }
while IFS= read -r line; do # e.g. GNOME_KEYRING_CONTROL=/…/keyring
    case $line in
        [A-Z_]*=*) export "${line%%=*}=${line#*=}" ;;
    esac
done <<<"$out"

# --unlock returns before the daemon owns its bus name; wait for it (a call to the name before
# then could make D-Bus activate a second, locked daemon), then note its pid for cleanup.
bus() {
    timeout 10 dbus-send --session --print-reply --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus "org.freedesktop.DBus.$1" string:org.freedesktop.secrets
}
for _ in $(seq 100); do
    if bus NameHasOwner 2>/dev/null | grep -q 'boolean true'; then
        keyring_pid=$(bus GetConnectionUnixProcessID | awk '/uint32/ {print $2}')
        break
    fi
    sleep 0.1
done
if [ -z "$keyring_pid" ]; then
    cat "$scratch/daemon.err" >&2
    echo "gnome-keyring-daemon never appeared on the session bus" >&2
    exit 1
fi

timeout 60 "$VPY" - <<'PROBE' || { echo "Secret Service probe failed" >&2; exit 1; }
import secrets

from keyring.backends.SecretService import Keyring

backend = Keyring()
service, user, value = f"sfcred-probe-{secrets.token_hex(4)}", "probe", "x" * 3300
backend.set_password(service, user, value)
assert backend.get_password(service, user) == value, "read back a different secret"
backend.delete_password(service, user)
assert backend.get_password(service, user) is None, "delete did not delete"
PROBE
echo "Secret Service: set/get/delete of a 3,300-character secret ok" \
    "(gnome-keyring pid $keyring_pid)" >&2

export SFCRED_TEST_SECRET_SERVICE=1
export SFCRED_TEST_KEYRING_PID=$keyring_pid  # the fault tests stop and continue it
limit=${SFCRED_TEST_TIMEOUT:-1800}
rc=0
# PYTHONSAFEPATH: `python -m` must not put the checkout first on sys.path (tests import the
# installed sfcred). timeout: a hung test must not hang CI.
# The whole suite (no arguments) runs under coverage: this process, and every Python process
# the tests start (the installed sfcred above all), which coverage starts by itself when
# COVERAGE_PROCESS_START is set (its a1_coverage.pth; ours below does the same for a coverage
# without one). Tests that count a command's imports drop the variable for it
# (_support.counting_imports). The gate is [tool.coverage.report] fail_under in pyproject.toml.
# A chosen subset runs without any of it.
runner=("$VPY" -m pytest)
if [ $# -eq 0 ]; then
    site=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    pth=$site/sfcred-test-coverage.pth
    printf '%s\n' "import os; 'COVERAGE_PROCESS_START' in os.environ and __import__('coverage').process_startup()" >"$pth"
    trap 'rm -f "$pth"; cleanup' EXIT
    rm -f .coverage .coverage.*
    export COVERAGE_PROCESS_START=$PWD/pyproject.toml COVERAGE_FILE=$PWD/.coverage
fi
PYTHONSAFEPATH=1 timeout -k 10 "$limit" "${runner[@]}" "$@" </dev/null || rc=$?
case $rc in
    5) echo "pytest collected no tests (exit 5): check the arguments / the tests/ folder" >&2
       rc=1 ;;
    124|137) echo "pytest ran over ${limit}s (SFCRED_TEST_TIMEOUT) and was stopped" >&2 ;;
esac
if [ "$rc" -eq 0 ] && [ $# -eq 0 ]; then
    echo "coverage of sfcred by the tests and every process they started:" >&2
    "$VPY" -m coverage combine -q >&2 || true
    "$VPY" -m coverage report || { echo "coverage is under the gate (fail_under)" >&2; rc=1; }
fi
exit "$rc"
