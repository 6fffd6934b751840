"""The suite's one way to hold an output to its reference: a gate on PCC and on max abs error.

Both numbers come from `scripts.tt_parity.compare`, which gives NaN for a constant or non-finite
output and refuses a shape mismatch; a gate is written as "passes when", so NaN always fails. Every
failure message shows both numbers next to the gate they missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scripts.tt_parity import Agreement, compare


@dataclass(frozen=True)
class Gate:
    """Least PCC and largest absolute error an output may show against its reference."""

    min_pcc: float
    max_abs: float

    def admits(self, agreement: Agreement) -> bool:
        return agreement.within(self.min_pcc, self.max_abs)

    def __str__(self) -> str:
        return f"PCC >= {self.min_pcc}, max abs error <= {self.max_abs:g}"


def assert_agrees(expected, actual, gate: Gate, what: str) -> Agreement:
    """Compare and gate in one step; returns the measured agreement (for reports)."""
    agreement = compare(expected, actual)
    assert gate.admits(agreement), f"{what}: {agreement}; gate: {gate}"
    return agreement


def assert_all_admitted(results: Mapping[str, Agreement], gates: Mapping[str, Gate], what: str) -> None:
    """Every named result passes its gate (a result without a gate is an error: gates must not lapse)."""
    missing = set(results) ^ set(gates)
    assert not missing, f"{what}: results and gates name different blocks: {sorted(missing)}"
    failures = {n: f"{results[n]}; gate: {gates[n]}" for n in results if not gates[n].admits(results[n])}
    assert not failures, f"{what}: {failures} (all: { {k: str(v) for k, v in results.items()} })"
