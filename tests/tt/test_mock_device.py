"""Acceptance on a real ttnn mock device (N150 and P150): every op of the graph is validated.

A mock device runs ttnn's host side for each op (shape, layout and program-config checks, L1/DRAM
allocation, circular buffers) but computes nothing; values come from the emulation. The emulated and
mock runs must execute the same ops in the same order with the same output shapes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .mock import ARCHES, requires_ttnn, run_acceptance

pytestmark = [requires_ttnn, pytest.mark.tt_mock]


@pytest.fixture(scope="module")
def emulated_runs(full_checkpoints: Path) -> dict[str, dict]:
    return {
        job: run_acceptance(full_checkpoints, "emulation", "--job", job, "--seconds", "2")
        for job in ("convert", "extract")
    }


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("job", ["convert", "extract"])
def test_mock_device_runs_the_same_graph_as_the_emulation(
    full_checkpoints: Path, emulated_runs, arch: str, job: str
) -> None:
    mock = run_acceptance(full_checkpoints, f"mock:{arch}", "--job", job, "--seconds", "2")
    emulated = emulated_runs[job]
    assert (
        mock["kind"] == "mock" and mock["arch"] == {"wormhole_n150": "wormhole_b0", "blackhole_p150": "blackhole"}[arch]
    )
    assert mock["ops"] == emulated["ops"]
    assert mock["output_shape"] == emulated["output_shape"]
    assert mock["transfers"] == emulated["transfers"]
    if job == "convert":
        assert mock["transfers"]["uploads"] == ["waveform", "source_se", "target_se", "posterior_noise"]
        assert mock["transfers"]["downloads"] == ["waveform"]
        assert {"conv1d", "matmul", "linear", "reshape", "tanh"} <= {name for name, _ in mock["ops"]}
    else:
        assert mock["transfers"]["downloads"] == ["embedding"]
        assert "conv2d" in {name for name, _ in mock["ops"]}


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("job", ["convert", "extract"])
def test_mock_device_accepts_30_seconds(full_checkpoints: Path, arch: str, job: str) -> None:
    result = run_acceptance(full_checkpoints, f"mock:{arch}", "--job", job, "--seconds", "30")
    expected = [30 * 22050 // 256 * 256] if job == "convert" else [1, 256, 1]
    assert result["output_shape"] == expected
