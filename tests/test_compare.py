"""The suite's comparison fails on what a bare `pcc < threshold` let through: NaN, constants, shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scripts.tt_parity import compare

from .compare import Gate, assert_agrees

GATE = Gate(0.999, 1e-3)
SIGNAL = np.sin(np.linspace(0, 20, 1000))


def test_a_close_output_passes_and_reports_both_numbers() -> None:
    agreement = assert_agrees(SIGNAL, torch.from_numpy(SIGNAL + 1e-4)[None], GATE, "close")
    assert agreement.pcc > 0.9999 and agreement.max_abs == pytest.approx(1e-4, rel=1e-3)


@pytest.mark.parametrize(
    "actual",
    [
        np.zeros(1000),
        np.full(1000, 0.5),
        np.where(np.arange(1000) == 3, np.nan, SIGNAL),
        np.where(np.arange(1000) == 5, np.inf, SIGNAL),
    ],
    ids=["all zero", "constant", "one NaN", "inf"],
)
def test_constant_or_non_finite_output_fails(actual: np.ndarray) -> None:
    assert math.isnan(compare(SIGNAL, actual).pcc)
    with pytest.raises(AssertionError, match="PCC nan"):
        assert_agrees(SIGNAL, actual, GATE, "broken")


def test_a_gain_error_fails_on_max_abs_although_pcc_is_one() -> None:
    agreement = compare(SIGNAL, SIGNAL * 1.01)
    assert agreement.pcc == pytest.approx(1.0) and not GATE.admits(agreement)


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="shape mismatch"):
        compare(SIGNAL, SIGNAL[:-1])
