"""Shared fixtures: checkpoints generated in the official format, never downloaded."""

from __future__ import annotations

import sys
from collections.abc import Iterator
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


# Shared by the CLI, API and batch tests ---------------------------------------------------------------

VOICE_SENTENCES = [
    "The quick brown fox jumps over the lazy dog while the farmer watches from the fence.",
    "Every morning she walks along the river, counting the boats that drift toward the sea.",
]


@pytest.fixture
def tool_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A private embedding cache, no checkpoint folder or tt device from the environment, and one torch
    thread: the tiny models gain nothing from more, and on a busy 2-core machine extra threads wait on each
    other at every op (tens of times slower)."""
    import torch

    monkeypatch.setenv("OPENVOICE_TT_SE_CACHE", str(tmp_path / "se-cache"))
    monkeypatch.delenv("OPENVOICE_TT_HOME", raising=False)
    monkeypatch.delenv("OPENVOICE_TT_DEVICE", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # for subprocesses
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 9 s of espeak-ng speech in two sentences with a pause: a usable reference."""
    from tests.speech import make_passage

    return make_passage(tmp_path_factory.mktemp("voice") / "voice.wav", VOICE_SENTENCES, pause=1.0)
