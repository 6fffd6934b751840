"""`openvoice-tt bench`'s per audio second figures: host seconds, device programs, device seconds.

Programs exist only where ttnn launches them (a chip or a mock device): on the emulation and on torch
they are absent (None / null), never 0. The CLI's own bench tests (tests/test_cli.py) cover the seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from openvoice_tt import backends
from openvoice_tt.bench import PhaseTiming, StageCounts, run_bench

from .tt.mock import REPO, requires_ttnn

SENTENCE = ("Good morning.",)


def test_per_audio_second_divides_by_the_audio_of_its_own_pass() -> None:
    """Host seconds by the timed passes' audio, programs by the counting pass's audio (4 s and 2 s here)."""
    phase = PhaseTiming(
        stages={"front_end": 0.5, "flow": 1.0},
        total=2.0,
        audio_seconds=4.0,
        programs=StageCounts({"flow": 800}, total=1000, audio_seconds=2.0),
    )
    assert phase.per_audio_second() == {
        "front_end": {"host_seconds": 0.125, "programs": None, "device_seconds": None},  # never entered: absent
        "flow": {"host_seconds": 0.25, "programs": 400.0, "device_seconds": None},
    }
    assert phase.totals_per_audio_second() == {"host_seconds": 0.5, "programs": 500.0, "device_seconds": None}
    report = phase.to_json()
    assert report["programs"] == {"stages": {"flow": 800}, "total": 1000, "audio_seconds": 2.0}
    assert report["device_seconds"] is None


def test_stage_counts_accumulate_over_utterances() -> None:
    counts = StageCounts()
    counts.add({"flow": 10, "vocoder": 5}, 16, 0.5)
    counts.add({"flow": 30}, 31, 1.5)
    assert counts.stages == {"flow": 40, "vocoder": 5} and counts.total == 47 and counts.audio_seconds == 2.0
    assert counts.per_audio_second("flow") == 20.0 and counts.per_audio_second("alignment") is None


@pytest.fixture
def emulated_tt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv(backends.TT_DEVICE_ENV, "emulation:exact")  # as tests/test_cli_tt.py (one device a process)
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    monkeypatch.setenv("OPENVOICE_TT_SE_CACHE", str(tmp_path / "se-cache"))
    yield


@pytest.mark.usefixtures("emulated_tt")
def test_the_emulation_reports_no_programs(tiny_checkpoints: Path) -> None:
    report = run_bench(tiny_checkpoints, "tt", sentences=SENTENCE).to_json()
    assert report["tt_device"] == "emulation host"
    for phase in ("synth", "clone"):
        values = report[phase]
        assert values["programs"] is None and values["device_seconds"] is None
        assert values["total_per_audio_second"]["programs"] is None
        for stage, seconds in values["stages"].items():
            per_second = values["per_audio_second"][stage]
            assert per_second["programs"] is None and per_second["device_seconds"] is None
            assert per_second["host_seconds"] == pytest.approx(seconds / values["audio_seconds"], rel=0.01, abs=1e-4)


BENCH_ON_A_MOCK = """
import json, sys
from pathlib import Path
from openvoice_tt.bench import run_bench
print(json.dumps(run_bench(Path(sys.argv[1]), "tt", sentences=("Good morning.",)).to_json()))
"""


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.slow
def test_a_mock_device_reports_programs_per_stage(tiny_checkpoints: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK")}
    env |= {
        "PYTHONPATH": str(REPO),
        backends.TT_DEVICE_ENV: "mock:wormhole_n150",
        backends.TT_CACHE_ENV: str(tmp_path / "tt-weights"),
        "OPENVOICE_TT_SE_CACHE": str(tmp_path / "se-cache"),
        "TT_METAL_LOGGER_LEVEL": "ERROR",
        "LOGURU_LEVEL": "ERROR",
    }
    command = [sys.executable, "-c", BENCH_ON_A_MOCK, str(tiny_checkpoints)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-2000:]
    report = json.loads(lines[-1])
    assert report["tt_device"] == "mock wormhole_b0"
    device_stages = {"text_encoder", "duration", "alignment", "flow", "vocoder"}
    for phase, prefix in (("synth", ""), ("clone", "synth.")):
        values = report[phase]
        programs = values["programs"]
        assert values["device_seconds"] is None  # a mock computes nothing: no device seconds
        assert {prefix + s for s in device_stages} <= set(programs["stages"])
        assert all(programs["stages"][prefix + s] > 0 for s in device_stages)
        assert programs["total"] >= sum(programs["stages"].values())
        for stage, count in programs["stages"].items():
            expected = count / programs["audio_seconds"]
            assert values["per_audio_second"][stage]["programs"] == pytest.approx(expected, rel=0.01)
        assert values["per_audio_second"][prefix + "front_end"]["programs"] is None  # not a device stage block
    clone = report["clone"]["programs"]["stages"]
    assert {"convert.resample", "convert.spectrogram", "convert.posterior_encoder", "convert.vocoder"} <= set(clone)
