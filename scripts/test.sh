#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: builds .venv (with ttnn and the test tools), installs
# espeak-ng if missing, checks style and the package's import layers, then runs every test (fast and slow)
# in one pytest session on one worker per core (pytest-xdist; `--dist loadfile` keeps a module on one
# worker, so its fixtures and the mock acceptance plan of tests/tt/mock.py are built once).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$REPO_ROOT"
ensure_venv "tt,dev,serve,languages"
ensure_mock_sfpi
ensure_espeak
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/lint-imports"  # the layers of pyproject.toml's [tool.importlinter] (tests/test_architecture.py)
"$VENV/bin/python" -m pytest -n auto --dist loadfile -q "$@"
