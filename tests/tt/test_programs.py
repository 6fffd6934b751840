"""Counting device programs (`openvoice_tt/tt/programs.py`): known op sequences on a mock device.

The expected counts come from what ttnn documents for these ops, not from the counter: an element-wise
op, a unary op and a matmul on tiled device tensors are one device operation each, one program each; a
device tensor's `to_layout` to row-major is one untilize program; `from_torch` and `to_torch` tilize and
untilize on the host and only copy buffers, which launches no program.
"""

from __future__ import annotations

import sys

import pytest
import torch

from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.programs import counting

from .mock import requires_ttnn, run_json

SEQUENCE = """
import json, torch
from openvoice_tt.tt.device import configure_mock, open_ttnn_device
configure_mock("wormhole_n150")
import ttnn
from openvoice_tt.tt.programs import StagePrograms, counting
device = open_ttnn_device()
h = device.handle
a = ttnn.from_torch(torch.randn(64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=h)
stages = StagePrograms()
with counting(device) as total:
    with stages("outer"):
        b = ttnn.add(a, a)
        with stages("inner"):
            c = ttnn.matmul(ttnn.relu(b), a)
    with stages("layout"):
        ttnn.to_layout(c, ttnn.ROW_MAJOR_LAYOUT)
    with stages("host copies"):
        ttnn.to_torch(ttnn.from_torch(torch.randn(64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=h))
with stages("again"):
    ttnn.add(a, a)
device.close()
print(json.dumps({"total": total.programs, "stages": stages.programs, "seconds": sorted(stages.seconds)}))
"""


def test_the_emulation_counts_none_not_zero() -> None:
    """The emulation launches no programs: the count is absent (None), never a 0 that reads as "free"."""
    device = open_emulated_device()
    with counting(device) as total:
        device.ttnn.add(device.upload(torch.ones(1, 1, 32, 32), device.ttnn.bfloat16, "x"), 1.0)
    assert total.programs is None


@requires_ttnn
@pytest.mark.tt_mock
def test_a_known_op_sequence_counts_its_programs() -> None:
    result = run_json([sys.executable, "-c", SEQUENCE], timeout=300)
    # add, relu, matmul, untilize; the host copies none. Captures nest: "outer" includes "inner".
    assert result["total"] == 4
    assert result["stages"] == {"inner": 2, "outer": 3, "layout": 1, "host copies": 0, "again": 1}
    assert result["seconds"] == sorted(result["stages"])  # still a stage timer
