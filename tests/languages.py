"""Helpers for the multilingual tests: ES/FR packages made to look missing, a guard that no model loads,
and CLI commands run in one fresh process (for a mock device)."""

from __future__ import annotations

import importlib.util

import pytest

from openvoice_tt import backends

HELLO = {"ZH": "你好，我们走吧。", "JP": "こんにちは、元気ですか。", "KR": "안녕하세요, 반갑습니다."}
"""A short sentence in each language that is not read with Latin letters (others: `hello`)."""


def hello(code: str) -> str:
    """A short sentence `code`'s front end reads: its own script for ZH, JP, KR; "Hello there." else."""
    return HELLO.get(code, "Hello there.")


def run_commands(commands: list[list[str]]) -> None:
    """Run CLI commands in this process and print, per command, a JSON line {"exit_code", "output"}: for a
    test's fresh process, where a mock device is opened once for all of them
    (`python -c "from tests.languages import run_commands; run_commands([...])"`)."""
    import json

    from typer.testing import CliRunner

    from openvoice_tt.cli import app

    for args in commands:
        result = CliRunner().invoke(app, args)
        print(json.dumps({"exit_code": result.exit_code, "output": result.stdout}), flush=True)


@pytest.fixture
def without_gruut(monkeypatch: pytest.MonkeyPatch) -> None:
    """gruut (the ES/FR packages) looks uninstalled to `Language.require_packages`."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gruut" else real(name, *a))


@pytest.fixture
def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to load a MeloTTS model fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(backends, "open_synthesizer", refuse)
