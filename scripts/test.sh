#!/usr/bin/env bash
# Run the test suite: bash scripts/test.sh [pytest args...]
#   - creates .venv if missing and installs requirements-dev.txt
#   - as root (or with passwordless sudo) first installs Debian's chromium, postgresql, nginx and
#     openssl if they are missing (SECURESPHERE_INSTALL_SYSTEM=0 turns this off); otherwise those
#     layers skip
#   - installs Debian's nodejs and npm the same way, then the test OpenID provider (npm ci in tests/oidc)
#   - runs ruff (lint and format check) and mypy (strict, core/), then pytest; "no tests collected" (exit code 5) counts as a failure
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

. scripts/venv.sh

have_chromium() { [ -x /usr/bin/chromium ]; }
have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
have_nginx() { [ -x /usr/sbin/nginx ] && command -v openssl >/dev/null 2>&1; }
have_pdftoppm() { command -v pdftoppm >/dev/null 2>&1; }  # the report tests draw PDF pages
have_dejavu() { [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; }  # the reports' font
have_offsite() { [ -x /usr/sbin/sshd ] && command -v rclone >/dev/null 2>&1; }
have_node() { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }  # the OIDC provider

install_system_deps() {
    local pkgs=()
    have_chromium || pkgs+=(chromium fonts-liberation)
    have_postgres || pkgs+=(postgresql)
    have_nginx || pkgs+=(nginx openssl)
    have_pdftoppm || pkgs+=(poppler-utils)
    have_dejavu || pkgs+=(fonts-dejavu-core)
    have_offsite || pkgs+=(openssh-server rclone)
    have_node || pkgs+=(nodejs npm)
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

print_versions() {
    local pg_bin
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    echo "==> $(.venv/bin/python --version 2>&1)"
    echo "==> $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium: not installed')"
    echo "==> $("${pg_bin:-/nonexistent}/postgres" --version 2>/dev/null || echo 'postgres: not installed')"
    echo "==> $(/usr/sbin/nginx -v 2>&1 || echo 'nginx: not installed')"
}

if [ "${SECURESPHERE_INSTALL_SYSTEM:-1}" = "1" ]; then
    install_system_deps
fi

ensure_venv
if have_node && [ ! -d tests/oidc/node_modules/oidc-provider ]; then
    echo "==> npm ci --prefix tests/oidc" >&2
    npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
print_versions

# Lint, format and types first: any of them fails the run before the long suite starts.
echo "==> ruff check, ruff format --check, mypy (strict for core/)"
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy

rc=0
.venv/bin/python -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "error: pytest collected no tests (exit code 5) - treated as a failure" >&2
fi
exit "$rc"
