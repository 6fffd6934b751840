"""Shared fixtures: checkpoints generated in the official format, never downloaded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # makes `scripts.make_test_checkpoints` importable

from scripts.make_test_checkpoints import write_all  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole checkpoint folder at tiny size (seed 0). Tests must not modify it: copy first."""
    return write_all(tmp_path_factory.mktemp("tiny_checkpoints"), "tiny", seed=0)


@pytest.fixture(scope="session")
def full_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole checkpoint folder at the published sizes (~330 MB on disk)."""
    return write_all(tmp_path_factory.mktemp("full_checkpoints"), "full", seed=0)
