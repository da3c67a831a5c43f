#!/usr/bin/env bash
# Run the test suite: bash scripts/test.sh [pytest args...]
#   - creates .venv if missing and installs requirements-dev.txt
#   - as root (or with passwordless sudo) and with SECURESPHERE_INSTALL_SYSTEM=1 or CI=true,
#     first installs Debian's chromium and postgresql if they are missing
#   - runs pytest; "no tests collected" (exit code 5) counts as a failure
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"

ensure_venv() {
    if [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        echo "error: $PYTHON not found; install Python >= 3.11 (apt-get install python3 python3-venv)" >&2
        exit 1
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
        echo "error: Python >= 3.11 required, found $("$PYTHON" -V 2>&1) (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    rm -rf .venv  # a half-created venv (e.g. without pip) is useless
    if ! "$PYTHON" -m venv .venv >/dev/null 2>.venv-error.log; then
        cat .venv-error.log >&2
        rm -rf .venv .venv-error.log
        echo "hint: python3 -m venv failed; install it with: apt-get install python3-venv" >&2
        exit 1
    fi
    rm -f .venv-error.log
}

have_chromium() { [ -x /usr/bin/chromium ]; }
have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

install_system_deps() {
    local pkgs=()
    have_chromium || pkgs+=(chromium fonts-liberation)
    have_postgres || pkgs+=(postgresql)
    [ ${#pkgs[@]} -eq 0 ] && return 0

    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            echo "note: missing ${pkgs[*]} and not root; browser/PostgreSQL tests will be skipped" \
                 "(install with: apt-get install -y ${pkgs[*]})" >&2
            return 0
        fi
    fi
    echo "==> installing system packages: ${pkgs[*]}" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

if [ "${SECURESPHERE_INSTALL_SYSTEM:-0}" = "1" ] || [ "${CI:-}" = "true" ]; then
    install_system_deps
fi

ensure_venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

rc=0
.venv/bin/python -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "error: pytest collected no tests (exit code 5) - treated as a failure" >&2
fi
exit "$rc"
