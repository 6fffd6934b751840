"""The mutation check's trap list stays applicable: every mutant still finds its one piece of source.

The check itself (`python scripts/mutation_check.py`) is a release check: it runs the parity tests
once per trap, which takes too long for every CI run (README "Tests").
"""

from __future__ import annotations

import pytest

from scripts.mutation_check import MUTANTS, REPO


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_applies_to_exactly_one_place_and_names_existing_tests(mutant) -> None:
    source = (REPO / mutant.path).read_text()
    assert source.count(mutant.original) == 1, f"{mutant.path}: the trap's original text must occur once"
    assert mutant.mutated != mutant.original and mutant.tests
    assert all((REPO / test).is_file() for test in mutant.tests)


def test_mutant_names_are_unique() -> None:
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
