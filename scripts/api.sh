#!/usr/bin/env bash
# Run the SecureSphere REST API: bash scripts/api.sh
#   - creates .venv (python3 >= 3.11) if missing and installs requirements.txt
#   - upgrades the database schema if needed (init: idempotent, no demo data)
#   - serves uvicorn core.api:app on $SECURESPHERE_API_PORT (default 8600) at
#     $SECURESPHERE_API_ADDRESS (default 127.0.0.1); docs at /api/docs
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PORT="${SECURESPHERE_API_PORT:-8600}"
ADDRESS="${SECURESPHERE_API_ADDRESS:-127.0.0.1}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    echo "error: SECURESPHERE_API_PORT must be a port number from 1 to 65535, not '$PORT'" >&2
    exit 1
fi

. scripts/venv.sh

echo "installing… (Python environment in .venv, packages from requirements.txt)"
ensure_venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
echo "initialising… (database schema and question banks; nothing changes on a second run)"
.venv/bin/python -m core.cli init
echo "starting… the API answers at http://$ADDRESS:$PORT/api/v1 (docs: /api/docs; Ctrl+C stops it)"
echo "create a token on My profile, or: .venv/bin/python -m core.cli token create --user U --scope read --expires-days 30"

# FORWARDED_ALLOW_IPS empty: SECURESPHERE_TRUSTED_PROXIES alone decides whose X-Forwarded-For counts.
export FORWARDED_ALLOW_IPS="${FORWARDED_ALLOW_IPS:-}"
exec .venv/bin/python -m uvicorn core.api:app --host "$ADDRESS" --port "$PORT" --no-server-header
