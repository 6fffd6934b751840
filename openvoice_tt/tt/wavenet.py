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
keep a resblock chain's activations sharded between convs. A layer's conditioning is its conv's bias,
computed on the device each call by one linear (the in_layer's bias folded into the cond rows' bias):
no add after the conv.
"""

from __future__ import annotations

from typing import Any

import torch

from openvoice_tt.reference.wavenet import WN as ReferenceWN
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d, Linear, Precision, halves, l1_conv_input


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


class WN:
    """With `zero_condition` (V2's zero_g) the conditioning is the cond layer's bias, folded into the convs."""

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
        self.zero_condition = zero_condition
        w, hidden = device.weights, self.hidden
        self.in_layers = []
        for i, layer in enumerate(ref.in_layers):
            weight = w.get(f"{name}.in_layers.{i}.weight", lambda layer=layer: layer.weight)
            if zero_condition:  # cond_layer(0) is its bias: fold each layer's slice into that layer's conv bias
                rows = cond_rows(hidden, i)
                bias = w.get(
                    f"{name}.in_layers.{i}.bias+cond",
                    lambda layer=layer, rows=rows: layer.bias + ref.cond_layer.bias[rows],
                )
            else:  # the bias comes per call from `condition`
                bias = None
            self.in_layers.append(Conv1d(device, weight, bias, precision, dilation=layer.dilation[0]))
        self.res_layers = [  # the res rows only: the last layer has none
            Linear(
                device,
                w.get(f"{name}.res_skip_layers.{i}.weight[res]", lambda layer=layer: layer.weight[:hidden]),
                w.get(f"{name}.res_skip_layers.{i}.bias[res]", lambda layer=layer: layer.bias[:hidden]),
                precision,
            )
            for i, layer in enumerate(ref.res_skip_layers[:-1])
        ]
        self.cond_layers = (  # each layer's conv bias: its rows of cond_layer, plus the in_layer's bias
            None
            if zero_condition
            else [
                Linear(
                    device,
                    w.get(f"{name}.cond_layer.weight[{i}]", lambda i=i: ref.cond_layer.weight[cond_rows(hidden, i)]),
                    w.get(
                        f"{name}.cond_layer.bias[{i}]+in_layers.{i}.bias",
                        lambda i=i, layer=layer: ref.cond_layer.bias[cond_rows(hidden, i)] + layer.bias,
                    ),
                    precision,
                    output=precision.weights,  # a conv bias is stored as the conv's weights are
                )
                for i, layer in enumerate(ref.in_layers)
            ]
        )
        unary = device.ttnn.UnaryWithParam
        self.gate_activations = (
            [unary(device.ttnn.UnaryOpType.TANH)],
            [unary(device.ttnn.UnaryOpType.SIGMOID)],
        )

    def gates_in_l1(self, length: int) -> bool:
        """The length-bucket rule of the dilated convs: in L1 (2 programs: halo, conv; x, which the residual
        reads again, stays in the convs' input sharding) when the gates fit, else in DRAM (5). The gates
        [T, 2H] are sharded on the grid of the conv's input (H channels): per core, as [2T, H]."""
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

    def condition(self, g: Any) -> list[Any] | None:
        """Per-layer conv biases [1, 1, 1, 2H] from g [1, 1, 1, gin] (None when folded into the convs)."""
        if self.cond_layers is None:
            return None
        return [cond_layer(g) for cond_layer in self.cond_layers]

    def features(self, h: Any, length: int, mask: Any | None, cond: list[Any] | None) -> Any:
        """h [1, 1, T, H], the caller's pre projection (unmasked: masking it stores x where the convs read
        it) -> every layer's gate output side by side [1, 1, T, n*H], for a `head`."""
        ttnn, hidden = self.ttnn, self.hidden
        tanh, sigmoid = self.gate_activations
        acts = []
        l1 = self.gates_in_l1(length)
        home = {"memory_config": l1_conv_input(self.device, length, hidden)} if l1 else {}
        x = h if mask is None else ttnn.multiply(h, mask, **home)
        for i, in_layer in enumerate(self.in_layers):
            last = i == self.n_layers - 1  # the last conv frees x (in L1): nothing reads it again
            gates = in_layer(x, length, l1=l1, keep_input=not last, bias=None if cond is None else cond[i])
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
