"""The suite's one way to hold an output to its reference: a gate on PCC and on max abs error.

Both numbers come from `scripts.tt_parity.compare`, which gives NaN for a constant or non-finite
output and refuses a shape mismatch; a gate is written as "passes when", so NaN always fails. Every
failure message shows both numbers next to the gate they missed.

A gate has two parts. Its `min_pcc` and `max_abs` are the measured ratchet (`scripts/tt_parity_gates.py`
sets them at twice what the code achieves and refuses to write a looser one without `--loosen`). Its
`floor` is the absolute promise of the README ("How the ttnn path is verified without a chip": PCC >=
0.999 per block and >= 0.99 per waveform), which no measurement moves: a gate below its floor cannot be
constructed, and every gate check asserts the floor too. Max abs error has no promised bound, so it is
held by the ratchet alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scripts.tt_parity import Agreement, compare

BLOCK_FLOOR = 0.999  # least PCC the README promises for any block against the torch reference
WAVEFORM_FLOOR = 0.99  # least PCC the README promises for a whole waveform (on the reference's durations)


def floor_of(name: str) -> float:
    """The promised floor of a gate named as the parity tables name their entries: "waveform" holds a
    whole waveform, every other name a block."""
    return WAVEFORM_FLOOR if name == "waveform" else BLOCK_FLOOR


@dataclass(frozen=True)
class Gate:
    """Least PCC and largest absolute error an output may show against its reference (the measured
    ratchet), and the least PCC it may ever be given (the promised floor; a block's by default)."""

    min_pcc: float
    max_abs: float
    floor: float = BLOCK_FLOOR

    def __post_init__(self) -> None:
        if not self.min_pcc >= self.floor:  # also refuses NaN
            raise ValueError(f"gate PCC >= {self.min_pcc} is below its floor {self.floor}")

    def admits(self, agreement: Agreement) -> bool:
        return agreement.pcc >= self.floor and agreement.within(self.min_pcc, self.max_abs)

    def __str__(self) -> str:
        return f"PCC >= {self.min_pcc} (floor {self.floor}), max abs error <= {self.max_abs:g}"


def assert_agrees(expected, actual, gate: Gate, what: str) -> Agreement:
    """Compare and gate in one step; returns the measured agreement (for reports)."""
    agreement = compare(expected, actual)
    assert gate.admits(agreement), f"{what}: {agreement}; gate: {gate}"
    return agreement


def assert_all_admitted(results: Mapping[str, Agreement], gates: Mapping[str, Gate], what: str) -> None:
    """Every named result passes its gate (a result without a gate is an error: gates must not lapse), and
    every gate keeps at least the floor its name promises (a block's gate may not pass as a waveform's)."""
    missing = set(results) ^ set(gates)
    assert not missing, f"{what}: results and gates name different blocks: {sorted(missing)}"
    floors = {n: (g.floor, floor_of(n)) for n, g in gates.items() if g.floor < floor_of(n)}
    assert not floors, f"{what}: gates below the floor their name promises (has, promised): {floors}"
    failures = {n: f"{results[n]}; gate: {gates[n]}" for n in results if not gates[n].admits(results[n])}
    assert not failures, f"{what}: {failures} (all: { {k: str(v) for k, v in results.items()} })"
