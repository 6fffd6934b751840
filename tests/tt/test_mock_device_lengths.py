"""Long mock-device runs (N150 and P150), each in its own subprocess: 10 minutes converted in pieces, and
many lengths in one process. Apart from tests/tt/test_mock_device.py so that a parallel run
(`pytest -n auto --dist loadfile`, scripts/test.sh) can run them beside its planned acceptance jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from .mock import ARCHES, requires_ttnn, run_acceptance

pytestmark = [requires_ttnn, pytest.mark.tt_mock]


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
def test_mock_device_converts_ten_minutes_in_pieces(full_checkpoints: Path, arch: str) -> None:
    """600 s do not fit one pass on a mock N150 (DRAM); pieces of 120 s (+ context) do."""
    result = run_acceptance(full_checkpoints, f"mock:{arch}", "--job", "convert", "--seconds", "600", timeout=900)
    samples, piece = 600 * 22050 // 256 * 256, (120 * 22050) // 256 * 256
    assert result["output_shape"] == [samples]
    assert result["transfers"]["downloads"] == ["waveform"] * -(-samples // piece)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
def test_mock_device_survives_many_lengths_in_one_process(full_checkpoints: Path, arch: str) -> None:
    """Conv config tables stay in L1_SMALL with their cached programs: without bucketing and the program
    budget a mock P150 ran out after 4 converter lengths. 14 lengths of both networks must pass and every
    (model, bucket) key be measured: conversion and extraction of 8 clips in 5 frame buckets each (256,
    384, 512, 640, 768), MeloTTS 6 token buckets (64 to 384) and 6 frame buckets (128 to 1152)."""
    result = run_acceptance(full_checkpoints, f"mock:{arch}", "--job", "sweep", timeout=1500)
    keys = result["l1_small_per_key"]
    assert len(keys) == 5 + 5 + 6 + 6
