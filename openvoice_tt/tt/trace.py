"""Recording which ttnn ops a forward pass runs, with their output shapes and compute configs.

The emulation and a mock device must run the same graph: same ops, same order, same output shapes.
Wrapping `device.ttnn` in `OpTrace` records that sequence so the acceptance tests can compare a mock
run (which validates every op but computes nothing) with the emulated run (which computes the values).
It also records the compute kernel config each op was given, so a test can check from the real graph
that every op which takes one got one, and that none asks for HiFi4 with fp32 accumulation on Wormhole.
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
    "Op2DSliceConfig",
    # writes into preallocated inputs, and trace capture/replay with its queue events (tt/traced.py)
    "copy_host_to_device_tensor",
    "begin_trace_capture",
    "end_trace_capture",
    "execute_trace",
    "execute_tape",
    "release_trace",
    "record_event",
    "wait_for_event",
}
HOST_TRANSFERS = {"from_torch", "to_torch", "copy_host_to_device_tensor"}


OP_NAMESPACES = {"transformer"}  # sub-namespaces of ttnn whose functions are ops


# The ops used here that take a compute kernel config in ttnn 0.81.1, and the keyword each takes it by.
COMPUTE_CONFIG_KWARG = {
    "matmul": "compute_kernel_config",
    "linear": "compute_kernel_config",
    "softmax": "compute_kernel_config",
    "layer_norm": "compute_kernel_config",
    "sum": "compute_kernel_config",
    "conv1d": "compute_config",
    "conv2d": "compute_config",
}


def describe_compute_config(config: Any) -> dict[str, Any] | None:
    """{math_fidelity: "HiFi3", fp32_dest_acc_en: True} of a ttnn (or emulated) config; None if absent."""
    if config is None:
        return None
    return {
        "math_fidelity": str(config.math_fidelity).split(".")[-1],
        "fp32_dest_acc_en": bool(config.fp32_dest_acc_en),
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
        self.compute_configs: list[tuple[str, dict[str, Any] | None]] = []  # per op that takes one
        self.flops = 0
        self.tape: list[tuple[Any, tuple, dict, Any]] | None = None  # (op, args, kwargs, output) while taping
        self.tape_keeps = True

    def start_tape(self, keep: bool = True) -> None:
        """Record every op call with its arguments and output, the emulation's trace capture (`traced.py`).
        With `keep` False only the op is noted (args and output as empty/None): a device tensor the tape
        held would stay allocated to the tape's end, which a forward that frees as it goes never sees
        (on a mock device, a chain of L1 activations then fills L1)."""
        self.tape, self.tape_keeps = [], keep

    def stop_tape(self) -> list[tuple[Any, tuple, dict, Any]]:
        tape, self.tape = self.tape or [], None
        return tape

    def __getattr__(self, name: str) -> Any:
        """Called only for a name not yet looked up: the result (a traced op, an op namespace, a constant)
        is kept on the instance, so a forward's later uses of it cost a plain attribute read, not a new
        wrapper per call (what the wrapper does is decided when it is called: recording, taping). The host
        transfers are never kept: each use checks that no trace capture is under way."""
        attr = getattr(self._namespace, name)
        if name in HOST_TRANSFERS:
            if self.tape is not None:
                raise RuntimeError(f"ttnn.{name} inside a trace capture: a trace cannot move data to or from the host")
            return attr
        if name in OP_NAMESPACES:
            found = _OpNamespace(self, attr, name)
        elif name in UNTRACED or isinstance(attr, type) or not callable(attr):
            found = attr
        else:
            found = self._traced(name, attr)
        self.__dict__[name] = found
        return found

    def _traced(self, name: str, attr: Any) -> Any:
        def traced(*args: Any, **kwargs: Any) -> Any:
            out = attr(*args, **kwargs)
            if self.tape is not None:
                self.tape.append((attr, args, kwargs, out) if self.tape_keeps else (attr, (), {}, None))
            if self.recording:
                self.calls.append((name, _shape(out)))
                self.flops += matmul_flops(name, args, kwargs, out)
                if name in COMPUTE_CONFIG_KWARG:
                    self.compute_configs.append((name, describe_compute_config(kwargs.get(COMPUTE_CONFIG_KWARG[name]))))
            return out

        return traced


class _OpNamespace:
    """`ttnn.transformer` and the like: their functions are device ops too, recorded (and taped) by the
    parent trace as "transformer.NAME"; a trace replay that skipped them would reuse stale outputs."""

    def __init__(self, trace: OpTrace, namespace: Any, prefix: str) -> None:
        self._trace, self._namespace, self._prefix = trace, namespace, prefix

    def __getattr__(self, name: str) -> Any:
        found = self._trace._traced(f"{self._prefix}.{name}", getattr(self._namespace, name))
        self.__dict__[name] = found  # kept, as OpTrace keeps its ops
        return found
