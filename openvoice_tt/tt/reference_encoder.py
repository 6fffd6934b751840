"""ttnn twin of `reference/reference_encoder.py`: LayerNorm, six stride-2 Conv2d, GRU, Linear on device.

The GRU runs its ~T/64 steps as ttnn matmuls: three matmuls project every step's input (one per gate,
r and z with the hidden bias folded in), laid out [1, steps, 1, 128] so that a step's row is a slice
of the tile-aligned dim 1 (one program, where a row of a [steps, 128] matrix costs three). Each step
then runs three [1, 128] x [128, 128] matmuls (r and z take the step's input row as their bias) and
four element-wise ops with the gate sigmoids fused onto their multiplies. The convs' NHWC output flattens as
(freq, channel); upstream flattens (channel, freq), so the GRU input weight's columns are permuted
once on the host instead of transposing activations on the device.

The frequency axis (513 bins) is zero-padded to 576 before the first conv: for long pieces ttnn runs the
first two convs through DRAM in height slices (the first from ~10 s, the second at 30 s), and height
slicing with a width that is not tile-aligned gives wrong results on hardware (tt-metal #42667). 576 is
the smallest width >= 513 whose first two conv inputs (576, 288) are multiples of the tile width; the
graph of 2, 10 and 30 s pieces on both mock devices is checked for it (tests/tt/test_mock_device.py).
Zero columns become
ReLU(bias) after a conv, so every conv output whose padded width exceeds the exact computation's is
masked on those columns too: the result equals the unpadded computation exactly. Rows and columns are
masked together, with the ReLU fused in, by one multiply whose mask is one `lt` of a resident
per-bucket position pattern (`conv_positions`) against the valid rows (a device count).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch

from openvoice_tt.reference.reference_encoder import ReferenceEncoder as ReferenceReferenceEncoder
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import (
    Conv2d,
    Linear,
    Precision,
    compute_config,
    dtype_of,
    length_mask,
    masked,
    masked_relu,
)
from openvoice_tt.tt.settings import TtBuckets

TILE = 32
ALIGNED_CONVS = 2  # the convs whose input width is made tile-aligned (the ones ttnn height-slices)
COLUMN_MULTIPLE = TILE * 2 ** (ALIGNED_CONVS - 1)  # each stride-2 conv halves the width: 64 keeps two aligned


def conv_width(width: int) -> int:
    """Output width of a kernel-3, stride-2, padding-1 conv."""
    return (width + 1) // 2


def conv_positions(height: int, width: int, real: int) -> torch.Tensor:
    """[1, 1, height * width, 1]: the flattened position h * width + w where the column (fastest axis of
    the NHWC flatten) is < `real`, else height * width; `< valid rows * width` is then 1 exactly on the
    valid rows' real columns (float32 counts exactly to 2**24)."""
    positions = torch.arange(height * width, dtype=torch.float32)
    real_column = (torch.arange(width) < real).repeat(height)
    return torch.where(real_column, positions, float(height * width)).reshape(1, 1, height * width, 1)


def gru_input_weight(weight_ih: torch.Tensor, channels: int, freq: int) -> torch.Tensor:
    """Columns c*freq + f (upstream) -> f*channels + c (NHWC flatten)."""
    rows = weight_ih.shape[0]
    return weight_ih.reshape(rows, channels, freq).transpose(1, 2).reshape(rows, channels * freq)


class ReferenceEncoder:
    def __init__(
        self,
        device: TtDevice,
        ref: ReferenceReferenceEncoder,
        name: str,
        precision: Precision,
        column_multiple: int = COLUMN_MULTIPLE,
    ) -> None:
        """`column_multiple`: the frequency bins are zero-padded to a multiple of it (`COLUMN_MULTIPLE`; 1
        runs the unpadded computation, which the padded one must equal)."""
        self.device = device
        self.ttnn = device.ttnn
        self.spec_channels = ref.spec_channels
        w = device.weights
        weights_dtype = dtype_of(device, precision.weights)
        self.norm_weight = device.constant(
            w.get(f"{name}.layernorm.weight", lambda: ref.layernorm.weight).reshape(1, -1), weights_dtype
        )
        self.norm_bias = device.constant(
            w.get(f"{name}.layernorm.bias", lambda: ref.layernorm.bias).reshape(1, -1), weights_dtype
        )
        self.convs = [
            Conv2d(
                device,
                w.get(f"{name}.convs.{i}.weight", lambda c=conv: c.weight),
                w.get(f"{name}.convs.{i}.bias", lambda c=conv: c.bias),
                stride=2,
                padding=1,
                precision=precision,
            )
            for i, conv in enumerate(ref.convs)
        ]
        self.hidden = ref.gru.hidden_size
        channels = ref.convs[-1].out_channels
        freq = ref.gru.input_size // channels
        gru, hidden = ref.gru, self.hidden
        gates = {"r": slice(0, hidden), "z": slice(hidden, 2 * hidden), "n": slice(2 * hidden, None)}

        def input_bias(gate: str, rows: slice) -> torch.Tensor:
            """r, z: b_ih + b_hh (their hidden matmul takes the input row as its bias); n: b_ih."""
            return gru.bias_ih_l0[rows] + gru.bias_hh_l0[rows] if gate != "n" else gru.bias_ih_l0[rows]

        self.input_gates = {
            gate: Linear(
                device,
                w.get(
                    f"{name}.gru.weight_ih_l0.nhwc[{gate}]",
                    lambda rows=rows: gru_input_weight(gru.weight_ih_l0, channels, freq)[rows],
                ),
                w.get(f"{name}.gru.input_bias[{gate}]", lambda gate=gate, rows=rows: input_bias(gate, rows)),
                precision,
            )
            for gate, rows in gates.items()
        }
        self.hidden_gates = {
            gate: Linear(
                device,
                w.get(f"{name}.gru.weight_hh_l0[{gate}]", lambda rows=rows: gru.weight_hh_l0[rows]),
                w.get(f"{name}.gru.bias_hh_l0[n]", lambda rows=rows: gru.bias_hh_l0[rows]) if gate == "n" else None,
                precision,
            )
            for gate, rows in gates.items()
        }
        self.sigmoid = [device.ttnn.UnaryWithParam(device.ttnn.UnaryOpType.SIGMOID)]
        self.proj = Linear.of(device, ref.proj, f"{name}.proj", precision)
        self.dtype = dtype_of(device, precision.activations)
        self.compute = compute_config(device, precision)
        self.column_multiple = column_multiple

    def __call__(self, spec: Any, length: int, valid: Any | None = None, shortest: int = 1) -> Any:
        """spec [1, 1, T, F] (T = `length` rows, of which the first `valid` are real: a device count,
        `TtDevice.upload_count`; None when all are) -> embedding [1, 1, 1, gin]. `shortest` is the fewest
        real rows `valid` may hold (the bucket's lower end), a Python number: it says which GRU steps may
        fall past the real rows.

        Rows past the real frames are zeroed after the LayerNorm and after every conv, so each conv sees
        zeros there exactly as an exact-length run sees its zero padding. The GRU stops at the last real
        row: a step that may lie past it (from `shortest`) runs, and `where` keeps the state before it
        when it does, so the op graph is the bucket's whatever the count.
        """
        ttnn, h = self.ttnn, self.hidden
        resident, real = self.device.resident, self.spec_channels
        x = ttnn.layer_norm(
            spec, weight=self.norm_weight, bias=self.norm_bias, epsilon=1e-5, compute_kernel_config=self.compute
        )
        x = masked(ttnn, x, length_mask(self.device, valid, length, self.dtype))
        width = TtBuckets.round_up(real, self.column_multiple)
        if width > real:
            x = ttnn.concat([x, resident.filled((1, 1, length, width - real), 0.0, x.dtype)], dim=3)
        x = ttnn.reshape(x, (1, length, width, 1))
        height, surely_real = length, length if valid is None else shortest
        for halvings, conv in enumerate(self.convs, 1):
            x, height, width = conv(x, height, width)
            surely_real, real = conv_width(surely_real), conv_width(real)
            x = self._relu_masked(x, valid, height, width, real, halvings)
        x = ttnn.reshape(x, (1, height, 1, width * self.convs[-1].out_channels))  # one step per dim-1 row
        inputs = {gate: linear(x) for gate, linear in self.input_gates.items()}  # [1, steps, 1, h]
        state = self.device.resident.filled((1, 1, 1, h), 0.0, self.dtype)
        for t in range(height):
            x_r, x_z, x_n = (ttnn.slice(inputs[gate], [0, t, 0, 0], [1, t + 1, 1, h]) for gate in "rzn")
            r_pre, z_pre = (self._hidden(gate, state, row) for gate, row in (("r", x_r), ("z", x_z)))
            reset_n = ttnn.multiply(r_pre, self.hidden_gates["n"](state), input_tensor_a_activations=self.sigmoid)
            n = ttnn.tanh(ttnn.add(x_n, reset_n))
            update = ttnn.multiply(z_pre, ttnn.subtract(state, n), input_tensor_a_activations=self.sigmoid)
            stepped = ttnn.add(n, update)  # (1 - z) * n + z * h
            if t < surely_real:
                state = stepped
            else:  # row t is real iff t < ceil(valid / 2**convs), i.e. valid >= t * 2**convs + 1
                real_row = ttnn.ge(valid, float(t * 2 ** len(self.convs) + 1), dtype=self.dtype)
                state = ttnn.where(real_row, stepped, state)
        return self.proj(state)

    def _relu_masked(self, x: Any, valid: Any | None, height: int, width: int, real: int, halvings: int) -> Any:
        """relu(x) with the rows past the real frames and the columns that exist only for the tile padding
        zeroed: one multiply with the ReLU fused in (exact, the mask is 0/1), its mask one `lt` of a
        resident per-bucket position pattern against the valid rows."""
        ttnn, mask = self.ttnn, None
        if valid is not None or real < width:
            build = partial(conv_positions, height, width, real)  # runs on the bucket's first use only
            positions = self.device.resident.pattern(("conv_positions", height, width, real), build, ttnn.float32)
            if valid is None:  # the padding columns only
                mask = ttnn.lt(positions, float(height * width), dtype=self.dtype)
            else:
                mask = length_mask(self.device, valid, height * width, self.dtype, width, halvings, positions=positions)
        return masked_relu(ttnn, x, mask)

    def _hidden(self, gate: str, state: Any, row: Any) -> Any:
        """state @ W_h[gate] + (the step's input row, biases included), the row added as the matmul's bias."""
        linear = self.hidden_gates[gate]
        return self.ttnn.linear(
            state, linear.weight, bias=row, dtype=linear.dtype, compute_kernel_config=linear.compute
        )
