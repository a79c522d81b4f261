#!/usr/bin/env bash
# MSAL Python against `mock-entra --tls`: creates a venv (pip install msal from
# PyPI), starts the mock on a free port, runs check_msal.py, stops the mock.
#
#   MOCK_ENTRA_BIN=target/debug/mock-entra crates/entra-testkit/tests/msal/run.sh
#
# Environment: MOCK_ENTRA_BIN (the binary, required), MSAL_VENV (default
# target/msal-venv next to the binary), PYTHON (default python3).
# Exit codes: 0 passed, 1 a check failed, 3 no usable python3, 4 the venv or
# the pip install failed (no PyPI?), 5 the mock did not start.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${MOCK_ENTRA_BIN:?set MOCK_ENTRA_BIN to the mock-entra binary}
python=${PYTHON:-python3}
venv=${MSAL_VENV:-$(dirname "$bin")/../msal-venv}

if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "run.sh: $python with the venv and ensurepip modules is needed" >&2
    exit 3
fi
stamp="$venv/.requirements"
if ! cmp -s "$here/requirements.txt" "$stamp" 2>/dev/null || [ ! -x "$venv/bin/python" ]; then
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >&2; then
        echo "run.sh: cannot create a venv at $venv" >&2
        exit 4
    fi
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$here/requirements.txt" >&2; then
        echo "run.sh: pip install -r requirements.txt failed (is PyPI reachable?)" >&2
        rm -rf "$venv"
        exit 4
    fi
    cp "$here/requirements.txt" "$stamp"
fi

state=$(mktemp -d)
"$bin" serve --tls --port 0 --json --state-dir "$state" >"$state/settings.json" 2>"$state/stderr" &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$state"
}
trap cleanup EXIT

for _ in $(seq 1 200); do
    [ -s "$state/settings.json" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "run.sh: mock-entra exited:" >&2
        cat "$state/stderr" >&2
        exit 5
    fi
    sleep 0.05
done
if [ ! -s "$state/settings.json" ]; then
    echo "run.sh: mock-entra printed no settings in 10 s" >&2
    exit 5
fi

# requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override the `verify=` that
# MSAL sets on its session: unset them so that the mock's CA is what is trusted.
env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE \
    "$venv/bin/python" "$here/check_msal.py" "$state/settings.json"
