"""ttnn twin of `reference/wavenet.py`: the gated WaveNet stack on [1, 1, T, C] tensors.

Few device programs per layer: the gate is one multiply with tanh and sigmoid fused onto its inputs,
the residual update and its mask one `addcmul`, and no layer slices its res/skip output. Each layer's
res projection keeps only the res rows of its res_skip weight; the skip rows of all layers are
stacked into one weight, so the sum of the skips is a single matmul over the layers' gate outputs
side by side (`features`), and that matmul also absorbs the 1x1 projection that follows the stack in
every caller (`head`). The stack's final `* mask` is left to the caller, who masks after that 1x1
anyway (a 1x1 is row-wise, so masking before or after it gives the same valid rows).

Where the dilated convs run in L1, the hidden state x lives in the L1 sharding the convs read
(`layers.l1_conv_input`): the masking that makes x and every residual `addcmul` write it there, so a conv
runs halo + conv only (no interleaved-to-sharded copy of its input), as tt-metal's merged vocoder ports
keep a resblock chain's activations sharded between convs.

A layer's speaker conditioning (cond_layer's rows for it, W_i g + b_i, added to its gates) costs no
program: the speaker vector rides along as extra input channels of the dilated convs. x is
[T, H + gin] = [h | g]: the caller's input projection writes zeros in the g columns (`projection`), the
first op adds the uploaded speaker row [0..0 | g] (`speaker_row`) as it masks h (one `addcmul`, as the
masking was one multiply), and every res projection writes zeros there, so the residual `addcmul` keeps
g as it is. Each in_layer conv reads the g channels at its centre tap only (W_i there, zeros at the other
taps; the centre tap reads row t itself), so its gates are conv(h) + W_i g plus one static bias
(b_i + the in_layer's bias) on every row. With `zero_condition` (V2's zero_g) g = 0: the convs read H
channels and cond_layer's bias is folded into their biases.
"""

from __future__ import annotations

from typing import Any

import torch

from openvoice_tt.reference.wavenet import WN as ReferenceWN
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d, Linear, Precision, halves, l1_conv_input, placed


def stacked_skips(ref: ReferenceWN) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight [H, n*H], bias [H]): the skip rows of every res_skip layer side by side, biases summed."""
    hidden = ref.hidden_channels
    weights, bias = [], torch.zeros(hidden)
    for layer in ref.res_skip_layers:
        rows = slice(hidden, 2 * hidden) if layer.out_channels == 2 * hidden else slice(0, hidden)
        weights.append(layer.weight[rows, :, 0])
        bias = bias + layer.bias[rows]
    return torch.cat(weights, dim=1), bias


def cond_rows(hidden: int, layer: int) -> slice:
    """The rows of `cond_layer` (its output channels) that condition layer `layer`: its 2H gate inputs."""
    return slice(2 * hidden * layer, 2 * hidden * (layer + 1))


def conditioned_in_weight(in_weight: torch.Tensor, cond_weight: torch.Tensor) -> torch.Tensor:
    """in_layer weight [2H, H, k] (k odd) and its cond rows [2H, gin, 1] -> [2H, H + gin, k]: the g
    channels read at the centre tap only, which a same-padded conv of any dilation aligns with row t."""
    out_channels, hidden, kernel = in_weight.shape
    if kernel % 2 == 0:
        raise ValueError(f"WN: speaker channels need an odd kernel (a centre tap), got {kernel}")
    weight = torch.zeros(out_channels, hidden + cond_weight.shape[1], kernel)
    weight[:, :hidden] = in_weight
    weight[:, hidden:, kernel // 2] = cond_weight[:, :, 0]
    return weight


def with_zero_rows(tensor: torch.Tensor, rows: int) -> torch.Tensor:
    """A 1x1's weight [out, in] or bias [out] with `rows` zero output rows appended: it writes zeros in the
    speaker columns of x (exactly: every product there is 0 * x, its bias 0)."""
    return torch.cat([tensor, tensor.new_zeros(rows, *tensor.shape[1:])])


class WN:
    """Conditioned through speaker channels of its convs (module docstring), or with `zero_condition` (V2's
    zero_g) through the cond layer's bias folded into the convs."""

    def __init__(
        self, device: TtDevice, ref: ReferenceWN, name: str, precision: Precision, zero_condition: bool
    ) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.ref = ref
        self.name = name
        self.precision = precision
        self.hidden = ref.hidden_channels
        self.n_layers = ref.n_layers
        self.speaker_channels = 0 if zero_condition else ref.cond_layer.in_channels
        self.channels = self.hidden + self.speaker_channels  # of x, the convs' input
        w, hidden = device.weights, self.hidden
        self.in_layers = []
        for i, layer in enumerate(ref.in_layers):
            rows = cond_rows(hidden, i)
            if zero_condition:  # cond_layer(0) is its bias: its rows only
                weight = w.get(f"{name}.in_layers.{i}.weight", lambda layer=layer: layer.weight)
            else:
                weight = w.get(
                    f"{name}.in_layers.{i}.weight+cond",
                    lambda layer=layer, rows=rows: conditioned_in_weight(layer.weight, ref.cond_layer.weight[rows]),
                )
            bias = w.get(
                f"{name}.in_layers.{i}.bias+cond",
                lambda layer=layer, rows=rows: layer.bias + ref.cond_layer.bias[rows],
            )
            self.in_layers.append(Conv1d(device, weight, bias, precision, dilation=layer.dilation[0]))
        self.res_layers = [  # the res rows only (the last layer has none), zeros for the speaker columns
            self.projection(f"res_skip_layers.{i}[res]", layer.weight[:hidden], layer.bias[:hidden])
            for i, layer in enumerate(ref.res_skip_layers[:-1])
        ]
        unary = device.ttnn.UnaryWithParam
        self.gate_activations = (
            [unary(device.ttnn.UnaryOpType.TANH)],
            [unary(device.ttnn.UnaryOpType.SIGMOID)],
        )

    def projection(self, key: str, weight: torch.Tensor, bias: torch.Tensor) -> Linear:
        """A 1x1 into x (weight [H, in(, 1)], bias [H]: the caller's input projection, or a res projection) as a
        Linear writing all of x's columns: zeros in the speaker columns (`with_zero_rows`), so adding it leaves g."""
        w, rows = self.device.weights, self.speaker_channels
        return Linear(
            self.device,
            w.get(f"{self.name}.{key}.weight+{rows}", lambda: with_zero_rows(weight.reshape(len(weight), -1), rows)),
            w.get(f"{self.name}.{key}.bias+{rows}", lambda: with_zero_rows(bias, rows)),
            self.precision,
        )

    def speaker_row(self, embedding: torch.Tensor) -> torch.Tensor:
        """A speaker embedding [gin] (any shape) -> the row [1, 1, 1, H + gin] = [0..0 | g] a forward adds to x,
        uploaded as the forward's input (zeros in the first H columns: no concat on the device)."""
        row = torch.zeros(1, 1, 1, self.channels)
        row[..., self.hidden :] = embedding.reshape(-1)
        return row

    def gates_in_l1(self, length: int) -> bool:
        """The length-bucket rule of the dilated convs: in L1 (2 programs: halo, conv; x, which the residual
        reads again, stays in the convs' input sharding) when the chain fits, else in DRAM (5). Everything
        lives on the grid of the conv's input x [T, C] (C = `channels`), counted as one activation [2T, C]:
        with zero_condition (C = H) that is the gates [T, 2H] exactly; with speaker channels (C = H + gin)
        it is x with its halo copy, and bounds the gates [T, 2H]."""
        return self.in_layers[0].runs_in_l1(2 * length, "wavenet")

    def head(self, key: str, weight: torch.Tensor, bias: torch.Tensor) -> Linear:
        """The 1x1 (weight [out, H], bias [out]) applied to the sum of the skips, as one Linear over `features`.

        Folded on the host in float32: weight @ stacked skip weights, weight @ summed skip biases + bias.
        """
        w, weight = self.device.weights, weight.reshape(weight.shape[0], -1)
        skip_weight, skip_bias = stacked_skips(self.ref)
        return Linear(
            self.device,
            w.get(f"{self.name}.skips+{key}.weight", lambda: weight @ skip_weight),
            w.get(f"{self.name}.skips+{key}.bias", lambda: weight @ skip_bias + bias),
            self.precision,
        )

    def features(self, h: Any, length: int, mask: Any | None, speaker: Any | None) -> Any:
        """h [1, 1, T, channels], the caller's input projection (`projection`; unmasked: masking it stores x
        where the convs read it), `speaker` the uploaded [1, 1, 1, channels] `speaker_row` (None with
        `zero_condition`) -> every layer's gate output side by side [1, 1, T, n*H], for a `head`.

        x = speaker + h * mask in one `addcmul` (the row broadcast over T, the mask over the columns: ttnn's
        row/column-broadcast ternary reader). The padded rows of x carry g too, as the reference adds its
        conditioning on every row: g reaches only those rows' own gates (centre tap), never a valid row's,
        and every caller masks after the `head`."""
        ttnn, hidden = self.ttnn, self.hidden
        tanh, sigmoid = self.gate_activations
        acts = []
        l1 = self.gates_in_l1(length)
        home = placed(l1_conv_input(self.device, length, self.channels) if l1 else None)
        if speaker is None:
            x = h if mask is None else ttnn.multiply(h, mask, **home)
        else:
            x = ttnn.add(h, speaker, **home) if mask is None else ttnn.addcmul(speaker, h, mask, value=1.0, **home)
        for i, in_layer in enumerate(self.in_layers):
            last = i == self.n_layers - 1  # the last conv frees x (in L1): nothing reads it again
            gates = in_layer(x, length, l1=l1, keep_input=not last)
            filt, gate = halves(ttnn, gates, length, hidden)
            acts.append(
                ttnn.multiply(
                    filt,
                    gate,
                    input_tensor_a_activations=tanh,
                    input_tensor_b_activations=sigmoid,
                    # out of the gates' L1 shards in the same program: the matmuls after it take an
                    # interleaved input on every grid (a P150's block-sharded input has no matmul config)
                    memory_config=ttnn.DRAM_MEMORY_CONFIG,
                )
            )
            if not last:
                res = self.res_layers[i](acts[-1])
                x = ttnn.add(x, res, **home) if mask is None else ttnn.addcmul(x, res, mask, value=1.0, **home)
        return ttnn.concat(acts, dim=3)
