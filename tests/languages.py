"""Fixtures for the multilingual tests: a stand-in ES/FR front end, ES/FR packages made to look missing,
and a guard that no model loads."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest

from openvoice_tt import backends
from openvoice_tt.languages import Language
from openvoice_tt.text.frontend import EnglishFrontEnd


class StandInFrontEnd(EnglishFrontEnd):
    """The English front end standing in for a language's own (same constructor and call contract)."""


def stand_in_front_end_class(real: Callable[[Language], type]) -> Callable[[Language], type]:
    """`Language.front_end_class` with ES and FR reading through `StandInFrontEnd` (their packages
    checked as the real classes' would be)."""

    def front_end_class(self: Language) -> type:
        if self.code in ("ES", "FR"):
            self.require_packages()
            return StandInFrontEnd
        return real(self)

    return front_end_class


@pytest.fixture
def stand_in_front_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """ES and FR read with `StandInFrontEnd` for the test."""
    monkeypatch.setattr(Language, "front_end_class", stand_in_front_end_class(Language.front_end_class))


def run_with_stand_ins(commands: list[list[str]]) -> None:
    """Run CLI commands in this process with the stand-in ES/FR front ends and print, per command, a JSON
    line {"exit_code", "output"}: for a test's fresh process, where a mock device is opened once for all
    of them (`python -c "from tests.languages import run_with_stand_ins; run_with_stand_ins([...])"`)."""
    import json

    from typer.testing import CliRunner

    from openvoice_tt.cli import app

    Language.front_end_class = stand_in_front_end_class(Language.front_end_class)  # type: ignore[method-assign]
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
