"""Running `scripts/tt_acceptance.py` in a subprocess (a mock device must be chosen before ttnn loads)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARCHES = ["wormhole_n150", "blackhole_p150"]

requires_ttnn = pytest.mark.skipif(
    importlib.util.find_spec("ttnn") is None, reason="ttnn is not installed (it needs Python 3.10 or 3.12)"
)


def run_acceptance(checkpoints: Path, device: str, *args: str, timeout: int = 600) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK")}
    command = [sys.executable, str(REPO / "scripts" / "tt_acceptance.py"), str(checkpoints), "--device", device, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        errors = [line for line in (done.stderr + done.stdout).splitlines() if "TT_FATAL" in line or "Error" in line]
        raise AssertionError(f"{device} {' '.join(args)} failed (exit {done.returncode}): {errors[-3:]}")
    result = json.loads(lines[-1])
    # ttnn's log, warnings included (tt-metal logs to stdout): tests/tt/test_compute_config.py reads it
    result["log"] = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if not line.startswith("{"))
    return result
