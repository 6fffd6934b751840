"""ttnn twin of `reference/attention.py`: the relative-position attention encoder on device.

The relative terms are computed as a 9-diagonal band (offsets -4..4): for each offset o the keys'
relative logits R[:, o] = q . Ek[o] (one [T, 96] x [96, 9] matmul) are added to the scores on the
diagonal j - i = o - 4, and the attention weights on that diagonal, summed per row, multiply Ev[o]
(one [T, 9] x [9, 96] matmul). The band masks are built on device from the resident positions once per call and
shared by every layer and head. Masked scores are -1e4 exactly as upstream's `masked_fill`.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from openvoice_tt.reference.attention import MASKED_SCORE
from openvoice_tt.reference.attention import RelativeAttentionEncoder as ReferenceEncoder
from openvoice_tt.reference.attention import RelativeMultiHeadAttention as ReferenceAttention
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d, Linear, Precision, compute_config, dtype_of, layer_norm_params, masked


class RelativeBands:
    """The 2w+1 diagonal masks of a [T, T] score matrix plus the padding mask, built on device."""

    def __init__(self, device: TtDevice, length: int, window: int, mask: Any | None, dtype: Any) -> None:
        ttnn = device.ttnn
        positions = device.resident.positions(length)  # [1, 1, T, 1]
        offsets = ttnn.subtract(ttnn.reshape(positions, (1, 1, 1, length)), positions)
        self.bands = [ttnn.typecast(ttnn.eq(offsets, float(o - window)), dtype) for o in range(2 * window + 1)]
        self.mask = mask
        # [1, 1, T, T] 1 where both positions are valid (None: no padding)
        self.pair_mask = None if mask is None else ttnn.multiply(mask, ttnn.reshape(mask, (1, 1, 1, length)))


class RelativeMultiHeadAttention:
    def __init__(self, device: TtDevice, ref: ReferenceAttention, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.n_heads, self.k_channels = ref.n_heads, ref.k_channels
        self.channels = ref.n_heads * ref.k_channels
        w = device.weights
        qkv_weight = w.get(
            f"{name}.conv_qkv.weight", lambda: torch.cat([ref.conv_q.weight, ref.conv_k.weight, ref.conv_v.weight])
        )
        qkv_bias = w.get(
            f"{name}.conv_qkv.bias", lambda: torch.cat([ref.conv_q.bias, ref.conv_k.bias, ref.conv_v.bias])
        )
        self.qkv = Linear(device, qkv_weight, qkv_bias, precision)
        self.out = Linear.of(device, ref.conv_o, f"{name}.conv_o", precision)
        weights_dtype = dtype_of(device, precision.weights)
        self.rel_k = device.constant(
            w.get(f"{name}.emb_rel_k.T", lambda: ref.emb_rel_k[0].t()), weights_dtype
        )  # [d, 9]
        self.rel_v = device.constant(w.get(f"{name}.emb_rel_v", lambda: ref.emb_rel_v[0]), weights_dtype)  # [9, d]
        self.dtype = dtype_of(device, precision.activations)
        self.compute = compute_config(device, precision)
        self.scale = 1.0 / math.sqrt(self.k_channels)

    def _matmul(self, a: Any, b: Any) -> Any:
        return self.ttnn.matmul(a, b, dtype=self.dtype, compute_kernel_config=self.compute)

    def __call__(self, x: Any, length: int, bands: RelativeBands) -> Any:
        ttnn, d = self.ttnn, self.k_channels
        qkv = self.qkv(x)
        heads = []
        for h in range(self.n_heads):
            q = ttnn.multiply(ttnn.slice(qkv, [0, 0, 0, h * d], [1, 1, length, (h + 1) * d]), self.scale)
            k = ttnn.slice(qkv, [0, 0, 0, self.channels + h * d], [1, 1, length, self.channels + (h + 1) * d])
            v = ttnn.slice(qkv, [0, 0, 0, 2 * self.channels + h * d], [1, 1, length, 2 * self.channels + (h + 1) * d])
            scores = self._matmul(q, ttnn.transpose(k, -2, -1))
            relative = self._matmul(q, self.rel_k)  # [1, 1, T, 2w+1]
            for o, band in enumerate(bands.bands):
                scores = ttnn.add(
                    scores, ttnn.multiply(ttnn.slice(relative, [0, 0, 0, o], [1, 1, length, o + 1]), band)
                )
            if bands.pair_mask is not None:  # masked_fill(mask == 0, -1e4)
                scores = ttnn.add(
                    ttnn.multiply(scores, bands.pair_mask),
                    ttnn.multiply(ttnn.subtract(bands.pair_mask, 1.0), -MASKED_SCORE),
                )
            weights = ttnn.softmax(scores, dim=-1, compute_kernel_config=self.compute)
            out = self._matmul(weights, v)
            on_band = [
                ttnn.sum(ttnn.multiply(weights, band), dim=-1, keepdim=True, compute_kernel_config=self.compute)
                for band in bands.bands
            ]
            out = ttnn.add(out, self._matmul(ttnn.concat(on_band, dim=3), self.rel_v))
            heads.append(out)
        return self.out(ttnn.concat(heads, dim=3))


class FeedForward:
    def __init__(self, device: TtDevice, ref, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        k = ref.kernel_size
        padding = ((k - 1) // 2, k // 2)  # upstream pads explicitly ("same"; asymmetric for even k)
        self.conv_1 = Conv1d.of(device, ref.conv_1, f"{name}.conv_1", precision, padding=padding)
        self.conv_2 = Conv1d.of(device, ref.conv_2, f"{name}.conv_2", precision, padding=padding)

    def __call__(self, x: Any, length: int, mask: Any | None) -> Any:
        ttnn = self.ttnn
        x = ttnn.relu(self.conv_1(masked(ttnn, x, mask), length))
        return masked(ttnn, self.conv_2(masked(ttnn, x, mask), length), mask)


class RelativeAttentionEncoder:
    def __init__(self, device: TtDevice, ref: ReferenceEncoder, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.n_layers = ref.n_layers
        self.cond_layer_idx = ref.cond_layer_idx
        self.spk_emb_linear = None
        if hasattr(ref, "spk_emb_linear"):
            self.spk_emb_linear = Linear.of(device, ref.spk_emb_linear, f"{name}.spk_emb_linear", precision)
        self.attn_layers = [
            RelativeMultiHeadAttention(device, layer, f"{name}.attn_layers.{i}", precision)
            for i, layer in enumerate(ref.attn_layers)
        ]
        self.ffn_layers = [
            FeedForward(device, layer, f"{name}.ffn_layers.{i}", precision) for i, layer in enumerate(ref.ffn_layers)
        ]
        self.norms_1 = [
            layer_norm_params(device, n, f"{name}.norm_layers_1.{i}", precision)
            for i, n in enumerate(ref.norm_layers_1)
        ]
        self.norms_2 = [
            layer_norm_params(device, n, f"{name}.norm_layers_2.{i}", precision)
            for i, n in enumerate(ref.norm_layers_2)
        ]
        self.compute = compute_config(device, precision)

    def _norm(self, x: Any, params: tuple[Any, Any]) -> Any:
        return self.ttnn.layer_norm(
            x, weight=params[0], bias=params[1], epsilon=1e-5, compute_kernel_config=self.compute
        )

    def __call__(self, x: Any, length: int, bands: RelativeBands, g: Any | None) -> Any:
        """x [1, 1, T, C] (masked), g [1, 1, 1, gin] or None."""
        ttnn, mask = self.ttnn, bands.mask
        x = masked(ttnn, x, mask)
        for i in range(self.n_layers):
            if i == self.cond_layer_idx and g is not None:
                x = masked(ttnn, ttnn.add(x, self.spk_emb_linear(g)), mask)
            x = self._norm(ttnn.add(x, self.attn_layers[i](x, length, bands)), self.norms_1[i])
            x = self._norm(ttnn.add(x, self.ffn_layers[i](x, length, mask)), self.norms_2[i])
        return masked(ttnn, x, mask)
