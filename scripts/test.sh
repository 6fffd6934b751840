#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: builds .venv (with ttnn and the test tools), installs
# espeak-ng if missing, checks style, then runs the fast tests and the slow full-size tests.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$REPO_ROOT"
ensure_venv "tt,dev,serve"
ensure_mock_sfpi
ensure_espeak
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/python" -m pytest -m "not slow" -q "$@"
"$VENV/bin/python" -m pytest -m slow -q "$@"
