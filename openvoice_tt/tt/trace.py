"""Recording which ttnn ops a forward pass runs, with their output shapes.

The emulation and a mock device must run the same graph: same ops, same order, same output shapes.
Wrapping `device.ttnn` in `OpTrace` records that sequence so the acceptance tests can compare a mock
run (which validates every op but computes nothing) with the emulated run (which computes the values).
"""

from __future__ import annotations

from typing import Any

# Not ops: tensor movement at the host boundary and configuration helpers.
UNTRACED = {
    "from_torch",
    "to_torch",
    "open_device",
    "close_device",
    "init_device_compute_kernel_config",
    "Conv1dConfig",
    "Conv2dConfig",
}


def _shape(value: Any) -> Any:
    if hasattr(value, "shape") and not isinstance(value, int | float):
        return [int(d) for d in value.shape]
    if isinstance(value, tuple | list) and value:
        return _shape(value[0])
    return None


def _dims(value: Any) -> list[int]:
    return [int(d) for d in value.shape]


def matmul_flops(name: str, args: tuple, kwargs: dict, out: Any) -> int:
    """Multiply-adds x 2 of the matrix and convolution ops (element-wise ops are not counted)."""
    if name in ("matmul", "linear"):
        a, b = args[0], args[1]  # the project always passes both operands positionally
        rows = 1
        for d in _dims(a)[:-1]:
            rows *= d
        return 2 * rows * _dims(a)[-1] * _dims(b)[-1]
    if name in ("conv1d", "conv2d"):
        result = out[0] if isinstance(out, tuple) else out
        kernel = kwargs["kernel_size"]
        taps = kernel if isinstance(kernel, int) else kernel[0] * kernel[1]
        positions = _dims(result)[-2]  # outputs are [1, 1, N * positions, C_out]
        return 2 * positions * kwargs["out_channels"] * (kwargs["in_channels"] // kwargs.get("groups", 1)) * taps
    return 0


class OpTrace:
    """A transparent proxy of a ttnn namespace that records (op, output shape) for each call.

    Every TtDevice's `ttnn` is one of these, so modules built at any time are traced; recording is off
    until someone (acceptance runs, placement reports) turns it on.
    """

    def __init__(self, namespace: Any, recording: bool = False) -> None:
        self._namespace = namespace
        self.recording = recording
        self.calls: list[tuple[str, Any]] = []
        self.flops = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._namespace, name)
        if name in UNTRACED or isinstance(attr, type) or not callable(attr):
            return attr

        def traced(*args: Any, **kwargs: Any) -> Any:
            out = attr(*args, **kwargs)
            if self.recording:
                self.calls.append((name, _shape(out)))
                self.flops += matmul_flops(name, args, kwargs, out)
            return out

        return traced
