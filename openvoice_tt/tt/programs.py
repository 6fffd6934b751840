"""Counting the device programs a block of work launches, from ttnn's graph capture.

Every ttnn device operation runs as a device program (a conv as several: halo, conv, DRAM slices), and
issuing each one costs the host dispatch time whether the chip is busy or not, so programs per second of
audio is what the fast path (issue 13) is measured by. ttnn's graph capture records one
`program_execution` node per program it launches, cached programs included, on a chip and on a mock
device alike (a mock runs ttnn's host side of every op, then computes nothing).

The capture is started through ttnn's C++ binding, not the `ttnn.graph` wrapper: the wrapper also records
every op's Python arguments for graph reports (slow) and logs a warning per capture in fast-runtime mode;
the program nodes are the same either way. Capturing costs host time, so a count is taken in a pass of
its own, never in a timed one. The host emulation launches no programs: there, counts are None.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from openvoice_tt.timing import StageTimer

PROGRAM_NODE = "program_execution"


def _capture() -> Any:
    """ttnn's C++ graph capture (begin_graph_capture / end_graph_capture)."""
    from ttnn._ttnn import graph

    return graph


def _begin() -> None:
    graph = _capture()
    graph.begin_graph_capture(graph.RunMode.NORMAL)


def _end() -> int:
    """End the innermost capture -> the programs it saw."""
    return sum(1 for node in _capture().end_graph_capture() if node["node_type"] == PROGRAM_NODE)


class ProgramCount:
    """The result of `counting`: `programs` is filled in when the block ends (None on the emulation)."""

    programs: int | None = None


@contextmanager
def counting(device: Any) -> Iterator[ProgramCount]:
    """Count the device programs launched inside the block on `device` (a TtDevice)."""
    count = ProgramCount()
    if device.is_emulation:
        yield count
        return
    _begin()
    try:
        yield count
    finally:
        count.programs = _end()


class StagePrograms(StageTimer):
    """A stage timer that also counts each stage's device programs (on a chip or a mock device only).

    Its seconds include the capture's own cost, so time stages in another pass. Captures nest (an outer
    capture sees the programs of an inner one), so a stage inside another counts in both, as its seconds do.
    """

    def __init__(self) -> None:
        super().__init__()
        self.programs: dict[str, int] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        _begin()
        try:
            with super().__call__(stage):
                yield
        finally:
            self.programs[stage] = self.programs.get(stage, 0) + _end()


def operation_runs(nodes: list[dict[str, Any]], name: str) -> int:
    """How many times the device operation `name` (e.g. "Conv2dDeviceOperation") ran in a captured graph."""
    return sum(1 for node in nodes if node["node_type"] == "function_start" and node["params"].get("name") == name)


@contextmanager
def capturing() -> Iterator[list[dict[str, Any]]]:
    """The nodes of ttnn's graph capture of the block (a chip or a mock device only), filled in when it ends."""
    nodes: list[dict[str, Any]] = []
    _begin()
    try:
        yield nodes
    finally:
        nodes.extend(_capture().end_graph_capture())
