#!/usr/bin/env bash
# Run SecureSphere locally: bash scripts/run.sh
#   - creates .venv (python3 >= 3.11) if missing and installs requirements.txt
#   - initialises the database with demo data (idempotent)
#   - serves the Streamlit app on $SECURESPHERE_PORT (default 8501) at $SECURESPHERE_ADDRESS
#     (default localhost)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PORT="${SECURESPHERE_PORT:-8501}"
ADDRESS="${SECURESPHERE_ADDRESS:-localhost}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    echo "error: SECURESPHERE_PORT must be a port number from 1 to 65535, not '$PORT'" >&2
    exit 1
fi

. scripts/venv.sh

# The PDF reports need Debian's DejaVu fonts, and Chromium to draw their charts (without it a
# report says where its charts would be). As root (or with passwordless sudo) they are installed
# when missing; SECURESPHERE_INSTALL_SYSTEM=0 turns this off.
have_chromium() { [ -x /usr/bin/chromium ]; }
have_dejavu() { [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; }

install_system_deps() {
    local pkgs=()
    have_chromium || pkgs+=(chromium)
    have_dejavu || pkgs+=(fonts-dejavu-core)
    [ ${#pkgs[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            echo "note: missing ${pkgs[*]} and not root; PDF reports need them" \
                 "(install with: apt-get install -y ${pkgs[*]})" >&2
            return 0
        fi
    fi
    echo "installing… (system packages for the PDF reports: ${pkgs[*]})"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

if [ "${SECURESPHERE_INSTALL_SYSTEM:-1}" = "1" ]; then
    install_system_deps
fi

echo "installing… (Python environment in .venv, packages from requirements.txt)"
ensure_venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
echo "initialising… (database schema, question banks and demo data; nothing changes on a second run)"
.venv/bin/python -m core.cli init --demo
HOST="$ADDRESS"
[ "$HOST" = "0.0.0.0" ] && HOST=localhost  # every interface: this machine's browser uses localhost
echo "starting… open http://$HOST:$PORT in your browser (Ctrl+C stops the server)"

exec .venv/bin/python -m streamlit run app.py \
    --server.port "$PORT" \
    --server.address "$ADDRESS" \
    --server.headless true \
    --browser.gatherUsageStats false
