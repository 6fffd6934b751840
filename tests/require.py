"""What a test needs from the machine, and what its absence means.

On a developer's machine a missing tool skips the tests that need it, with the reason shown. In CI (the
`CI` environment variable set, as CI services set it) the same absence fails them: CI installs every
tool (`scripts/test.sh`), so a missing one is a broken install, and a skip there would let the suite pass
with the tests that need it never run. Every such check goes through `require`; a chip's absence is not
one of them (CI has no chip: `tests/tt/test_hardware.py` skips by its own marker).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import pytest

TTNN_PYTHONS = ((3, 10), (3, 12))  # ttnn publishes wheels for cp310 and cp312 only


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(condition: bool, reason: str) -> None:
    """Go on when `condition` holds; otherwise skip the test, or fail it in CI (one line, no traceback)."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI is set: a missing requirement fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def require_espeak() -> None:
    """espeak-ng, which makes the suite's speech (`tests/speech.py`)."""
    require(shutil.which("espeak-ng") is not None, "espeak-ng is not installed (sudo apt-get install espeak-ng)")


def require_ttnn() -> None:
    """ttnn, where a wheel exists for this Python. On Python 3.11, which has none, the ttnn tier is skipped
    even in CI; `scripts/lib/env.sh` refuses to run CI on 3.11 instead."""
    if importlib.util.find_spec("ttnn") is not None:
        return
    version = "{}.{}".format(*sys.version_info[:2])
    if sys.version_info[:2] not in TTNN_PYTHONS:
        pytest.skip(f"ttnn has no wheel for Python {version} (it needs 3.10 or 3.12)")
    require(False, f"ttnn is not installed in this Python {version} (pip install -e '.[tt]')")
