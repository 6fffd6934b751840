"""Bench passes on a mock device (N150 and P150): the second pass never clears the program cache.
Apart from tests/tt/test_mock_device.py so that a parallel run (`pytest -n auto --dist loadfile`,
scripts/test.sh) can run them beside its planned acceptance jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .mock import ARCHES, REPO, requires_ttnn, run_acceptance

pytestmark = [requires_ttnn, pytest.mark.tt_mock]


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
def test_bench_sentences_twice_the_second_pass_never_clears(full_checkpoints: Path, arch: str) -> None:
    """`openvoice-tt bench`'s sentences as clones at ~3 frames per token: every key of the first pass
    stays compiled (within L1_SMALL), so the second pass reuses them all."""
    result = run_acceptance(full_checkpoints, f"mock:{arch}", "--job", "bench", "--repeat", "2", timeout=1500)
    assert result["program_cache_clears_per_run"][1] == 0
    assert len(result["l1_small_per_key"]) >= 8  # the pass really spans many (model, bucket) keys


@pytest.mark.slow
def test_openvoice_tt_bench_second_pass_never_clears(full_checkpoints: Path, tmp_path: Path) -> None:
    """The bench command itself on a mock device (whose frame counts read back as 0, so short clones). One
    mock: the command's path is the same on both, and the test above runs the bench sentences at their real
    lengths on each."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK")}
    env |= {"OPENVOICE_TT_DEVICE": f"mock:{ARCHES[0]}", "OPENVOICE_TT_CACHE": str(tmp_path / "weights")}
    command = [sys.executable, "-m", "openvoice_tt", "bench", "-d", "tt", "-c", str(full_checkpoints)]
    done = subprocess.run(
        [*command, "--repeat", "2", "--json"], capture_output=True, text=True, env=env, timeout=1500, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["backend"] == "tt" and len(report["program_cache_clears"]) == 3
    assert report["program_cache_clears"][2] == 0  # warm-up, first pass, second pass
