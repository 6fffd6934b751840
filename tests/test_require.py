"""A missing requirement skips a test on a developer's machine and fails it in CI (`tests/require.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import require

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_outside_ci_a_missing_requirement_skips(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"^the widget is missing$"):
        require.require(False, "the widget is missing")
    assert require.require(True, "the widget is missing") is None


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_in_ci_a_missing_requirement_fails_in_one_line(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match=r"^the widget is missing \(CI is set") as failure:
        require.require(False, "the widget is missing")
    assert "\n" not in str(failure.value) and not failure.value.pytrace
    assert require.require(True, "the widget is missing") is None


def test_missing_espeak_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on it
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"^espeak-ng is not installed"):
        require.require_espeak()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"^espeak-ng is not installed"):
        require.require_espeak()


def test_missing_ttnn_fails_in_ci_only_where_a_wheel_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Python 3.10 / 3.12 a missing ttnn is a broken install; on 3.11 there is no wheel to install."""
    monkeypatch.setattr(require.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setenv("CI", "true")
    here = sys.version_info[:2]
    monkeypatch.setattr(require, "TTNN_PYTHONS", (here,))
    with pytest.raises(pytest.fail.Exception, match=r"^ttnn is not installed"):
        require.require_ttnn()
    monkeypatch.setattr(require, "TTNN_PYTHONS", ())
    with pytest.raises(pytest.skip.Exception, match=r"^ttnn has no wheel for Python"):
        require.require_ttnn()


def test_a_suite_without_espeak_fails_under_ci_and_skips_without(tmp_path: Path) -> None:
    """End to end through pytest: a test that makes speech, on a PATH without espeak-ng; a test that makes
    none still runs (the requirement sits on the speech, not on the module)."""
    (tmp_path / "test_speech.py").write_text(
        "from tests.speech import synthesize\n\n"
        "def test_speaks():\n    synthesize('hello')\n\n"
        "def test_needs_no_speech():\n    assert 1 + 1 == 2\n"
    )
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PATH": str(empty), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-rfs"]
    command += ["--rootdir", str(tmp_path), str(tmp_path / "test_speech.py")]
    local = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert local.returncode == 0 and "1 passed, 1 skipped" in local.stdout, local.stdout[-2000:]
    ci = subprocess.run(command, capture_output=True, text=True, env=env | {"CI": "true"}, cwd=tmp_path, timeout=300)
    assert ci.returncode == 1 and "1 failed, 1 passed" in ci.stdout, ci.stdout[-2000:]
    assert "FAILED test_speech.py::test_speaks - Failed: espeak-ng is not installed" in ci.stdout, ci.stdout[-2000:]
