"""Helpers for comparing ttnn blocks with their torch twins."""

from __future__ import annotations

import numpy as np
import torch

from openvoice_tt.tt.device import TtDevice


def pcc(expected, actual) -> float:
    """Pearson correlation of two arrays (1.0 for identical; the tt-metal convention for parity)."""
    a = np.asarray(expected, dtype=np.float64).ravel()
    b = np.asarray(actual, dtype=np.float64).ravel()
    assert a.shape == b.shape, (a.shape, b.shape)
    if np.allclose(a, b, rtol=0, atol=0):
        return 1.0
    return float(np.corrcoef(a, b)[0, 1])


def to_tt(device: TtDevice, x_bct: torch.Tensor, dtype: str = "fp32"):
    """Reference layout [1, C, T] -> ttnn channels-last [1, 1, T, C]."""
    from openvoice_tt.tt.layers import dtype_of

    return device.constant(x_bct[0].t().unsqueeze(0).unsqueeze(0), dtype_of(device, dtype))


def from_tt(device: TtDevice, x) -> torch.Tensor:
    """ttnn [1, 1, T, C] -> reference layout [1, C, T]."""
    return device.ttnn.to_torch(x).float()[0, 0].t().unsqueeze(0)
