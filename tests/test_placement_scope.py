"""`PlacementTimer` records ttnn ops only inside the call that asked for them (the trace must not grow for
the life of a process that once made a placement report)."""

from __future__ import annotations

from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.placement import PlacementTimer


def _one_op(device) -> None:
    """One traced op (`exp`) on a tensor put on the device outside the trace."""
    import torch

    ttnn = device.ttnn
    x = ttnn.from_torch(torch.ones(1, 1, 32, 32), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device.handle)
    ttnn.exp(x)


def test_recording_is_scoped_to_the_block() -> None:
    device = open_emulated_device()
    timer = PlacementTimer(device)
    assert not device.ttnn.recording
    with timer.recording():
        with timer("stage"):
            _one_op(device)
        assert device.ttnn.recording and len(device.ttnn.calls) == 1
    assert not device.ttnn.recording and device.ttnn.calls == []
    assert timer.stages["stage"].ops["exp"] == 1  # the report keeps what it counted
    _one_op(device)
    assert device.ttnn.calls == []  # nothing recorded after the report


def test_an_outer_recorder_keeps_its_ops() -> None:
    device = open_emulated_device()
    device.ttnn.recording = True
    with PlacementTimer(device).recording():
        _one_op(device)
    assert device.ttnn.recording and [name for name, _ in device.ttnn.calls] == ["exp"]
