#!/usr/bin/env bash
# Run SecureSphere locally: bash scripts/run.sh
#   - creates .venv (python3 >= 3.11) if missing and installs requirements.txt
#   - initialises the database with demo data (idempotent)
#   - serves the Streamlit app on port 8501 (address: $SECURESPHERE_ADDRESS, default localhost)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

. scripts/venv.sh

ensure_venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
.venv/bin/python -m core.cli init --demo

exec .venv/bin/python -m streamlit run app.py \
    --server.port 8501 \
    --server.address "${SECURESPHERE_ADDRESS:-localhost}" \
    --server.headless true \
    --browser.gatherUsageStats false
