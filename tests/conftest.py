"""Shared fixtures: checkpoints generated in the official format, never downloaded."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # makes `scripts.make_test_checkpoints` importable

from scripts.make_test_checkpoints import write_all  # noqa: E402
from tests.require import require_ttnn  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole checkpoint folder at tiny size (seed 0). Tests must not modify it: copy first."""
    return write_all(tmp_path_factory.mktemp("tiny_checkpoints"), "tiny", seed=0)


@pytest.fixture(scope="session")
def multilingual_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tiny_checkpoints` with a MeloTTS folder for every language (en, en-v2, en-v3, es, fr; the English
    one the same as tiny_checkpoints'). Tests must not modify it: copy first."""
    from openvoice_tt.languages import LANGUAGES

    return write_all(tmp_path_factory.mktemp("multilingual_checkpoints"), "tiny", seed=0, languages=LANGUAGES)


@pytest.fixture(scope="session")
def full_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole checkpoint folder at the published sizes (~330 MB on disk). Built once per run, also
    when pytest-xdist workers share the run (the first one to ask builds it)."""
    return built_once(tmp_path_factory, "full_checkpoints", lambda out: write_all(out, "full", seed=0))


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path]) -> Path:
    """`build(folder)` once per test run. Under pytest-xdist every worker has its own session: the folder
    then lives in the run's temporary root, which the workers share, and a lock makes the others wait for
    the first one's build instead of each spending its own (a full-size checkpoint set takes tens of
    seconds of a 2-core machine)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build(tmp_path_factory.mktemp(name))
    folder = tmp_path_factory.getbasetemp().parent / name
    with FileLock(f"{folder}.lock"):
        done = folder / ".built"
        if not done.exists():
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def ttnn_installed() -> None:
    """ttnn importable, for the tests that load it (`tests/tt/mock.py` `requires_ttnn`): skipped without
    it, failed in CI where a wheel exists for this Python (`tests/require.py`)."""
    require_ttnn()


# Parallel runs (pytest-xdist, `-n auto --dist loadfile` in scripts/test.sh) ------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """An xdist worker shares the cores with the others: one torch thread each (two threads per worker on
    a 2-core machine wait on each other at every op), and its own ttnn JIT cache folder, so that two
    workers' mock devices never build the same firmware files at once."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return
    import torch

    os.environ["OMP_NUM_THREADS"] = "1"  # for subprocesses
    torch.set_num_threads(1)
    os.environ.setdefault("TT_METAL_CACHE", str(Path.home() / ".cache" / f"ttnn-jit-{worker}") + "/")


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


@pytest.fixture
def fresh_tt_device() -> Iterator[None]:
    """No Tenstorrent device left open by an earlier test, and none left open for a later one (through the
    backend's public `close_tt_device`)."""
    from openvoice_tt.backends import close_tt_device

    close_tt_device()
    yield
    close_tt_device()


@pytest.fixture(scope="session")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 9 s of espeak-ng speech in two sentences with a pause: a usable reference."""
    from tests.speech import make_passage

    return make_passage(tmp_path_factory.mktemp("voice") / "voice.wav", VOICE_SENTENCES, pause=1.0)
