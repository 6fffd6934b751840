"""Fixtures for the multilingual tests: a stand-in ES/FR front end, ES/FR packages made to look missing,
and a guard that no model loads."""

from __future__ import annotations

import importlib.util

import pytest

from openvoice_tt import backends
from openvoice_tt.languages import Language
from openvoice_tt.text.frontend import EnglishFrontEnd


class StandInFrontEnd(EnglishFrontEnd):
    """The English front end standing in for a language's own (same constructor and call contract)."""


@pytest.fixture
def stand_in_front_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """ES and FR read with `StandInFrontEnd`, their packages checked as the real classes' would be."""
    real = Language.front_end_class

    def front_end_class(self: Language) -> type:
        if self.code in ("ES", "FR"):
            self.require_packages()
            return StandInFrontEnd
        return real(self)

    monkeypatch.setattr(Language, "front_end_class", front_end_class)


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
