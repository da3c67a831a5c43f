# Sourced by run.sh and test.sh: ensure_venv creates .venv with Python >= 3.11 when missing.
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
