"""ttnn twin of `reference/attention.py`: the relative-position attention encoder on device.

All heads run at once ([1, H, T, d] from one split of the fused q|k|v projection), and the relative
terms are computed as a 9-diagonal band (offsets -4..4) stacked on a batch axis, [1, 9, T, T], built once
per call and shared by every layer and head: the keys' relative logits R[:, o] = q . Ek[o] (one
[H, T, d] x [d, 9] matmul) are placed on their diagonals j - i = o - 4 by one broadcast multiply with
the stack and one sum over the offset axis; the attention weights on each diagonal, summed per row (one
multiply with the stack and one row sum), multiply Ev (one [H, T, 9] x [9, d] matmul). The diagonals
are disjoint, so each sum has a single non-zero term and is exact: the same numbers as a loop over heads
and offsets, in 22 device programs per layer instead of about 160. The stack holds 9 T^2 values (and the
products H x 9 T^2): at 30 s of frames that fits both mock devices (tests/tt/test_mock_device.py).
Masked scores are set to -1e4 exactly as upstream's `masked_fill` (one `where` per layer).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from openvoice_tt.reference.attention import MASKED_SCORE
from openvoice_tt.reference.attention import RelativeAttentionEncoder as ReferenceEncoder
from openvoice_tt.reference.attention import RelativeMultiHeadAttention as ReferenceAttention
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import (
    Conv1d,
    Linear,
    Precision,
    compute_config,
    dtype_of,
    layer_norm_params,
    masked,
    masked_relu,
)

TILE = 32  # ttnn splits and joins heads only in whole tiles per head


def padded_heads(tensor: torch.Tensor, size: int, padded: int, dim: int) -> torch.Tensor:
    """Zero-pad every `size`-channel head along `dim` to `padded` channels (a tile multiple). The extra
    q/k/v channels are zero, so every score, weight and output is unchanged (MeloTTS's heads are 96 wide
    and need none; small test models do)."""
    if padded == size:
        return tensor
    shape = list(tensor.shape)
    heads = tensor.reshape([*shape[:dim], -1, size, *shape[dim + 1 :]])
    heads = F.pad(heads, [0, 0] * (heads.dim() - dim - 2) + [0, padded - size])
    return heads.reshape([*shape[:dim], -1, *shape[dim + 1 :]])


class RelativeBands:
    """The 2w+1 diagonals of a [T, T] score matrix stacked as [1, 2w+1, T, T], plus the padding masks.

    Built on device once per call from the resident positions and offsets, and shared by every layer and
    head of the encoders that run at this length.
    """

    def __init__(self, device: TtDevice, length: int, window: int, mask: Any | None, dtype: Any) -> None:
        ttnn = device.ttnn
        positions = device.resident.positions(length)  # [1, 1, T, 1]
        offsets = ttnn.subtract(ttnn.reshape(positions, (1, 1, 1, length)), positions)  # [1, 1, T, T]: j - i
        width = 2 * window + 1
        wanted = device.resident.pattern(
            ("relative_offsets", window),
            lambda: torch.arange(-window, window + 1, dtype=torch.float32).reshape(1, width, 1, 1),
            ttnn.float32,
        )
        self.stack = ttnn.eq(offsets, wanted, dtype=dtype)  # [1, 2w+1, T, T]: 1 on diagonal o - w
        self.mask = mask
        # [1, 1, T, T] 1 where both positions are valid (None: no padding)
        self.pair_mask = None if mask is None else ttnn.multiply(mask, ttnn.reshape(mask, (1, 1, 1, length)))


class RelativeMultiHeadAttention:
    def __init__(self, device: TtDevice, ref: ReferenceAttention, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.n_heads, self.k_channels = ref.n_heads, ref.k_channels
        d, width = ref.k_channels, -(-ref.k_channels // TILE) * TILE
        self.channels = ref.n_heads * width  # q, k and v each, heads padded to whole tiles
        w = device.weights
        qkv_weight = w.get(
            f"{name}.conv_qkv.weight", lambda: torch.cat([ref.conv_q.weight, ref.conv_k.weight, ref.conv_v.weight])
        )
        qkv_bias = w.get(
            f"{name}.conv_qkv.bias", lambda: torch.cat([ref.conv_q.bias, ref.conv_k.bias, ref.conv_v.bias])
        )
        self.qkv = Linear(device, padded_heads(qkv_weight, d, width, 0), padded_heads(qkv_bias, d, width, 0), precision)
        out_bias = w.get(f"{name}.conv_o.bias", lambda: ref.conv_o.bias)
        out_weight = padded_heads(w.get(f"{name}.conv_o.weight", lambda: ref.conv_o.weight), d, width, 1)
        self.out = Linear(device, out_weight, out_bias, precision)
        weights_dtype = dtype_of(device, precision.weights)
        rel_k = w.get(f"{name}.emb_rel_k.T", lambda: ref.emb_rel_k[0].t())  # [d, 9]
        rel_v = w.get(f"{name}.emb_rel_v", lambda: ref.emb_rel_v[0])  # [9, d]
        self.rel_k = device.constant(padded_heads(rel_k, d, width, 0), weights_dtype)
        self.rel_v = device.constant(padded_heads(rel_v, d, width, 1), weights_dtype)
        self.dtype = dtype_of(device, precision.activations)
        self.compute = compute_config(device, precision)
        self.scale = 1.0 / math.sqrt(self.k_channels)

    def _matmul(self, a: Any, b: Any) -> Any:
        return self.ttnn.matmul(a, b, dtype=self.dtype, compute_kernel_config=self.compute)

    def _sum(self, x: Any, dim: int) -> Any:
        return self.ttnn.sum(x, dim=dim, keepdim=True, compute_kernel_config=self.compute)

    def __call__(self, x: Any, length: int, bands: RelativeBands) -> Any:
        ttnn, heads = self.ttnn, self.n_heads
        qkv = ttnn.reshape(self.qkv(x), (1, length, 3 * self.channels))
        q, k_t, v = ttnn.transformer.split_query_key_value_and_split_heads(qkv, num_heads=heads, transpose_key=True)
        q = ttnn.multiply(q, self.scale)  # [1, H, T, d]
        scores = self._matmul(q, k_t)  # [1, H, T, T]
        relative = ttnn.permute(self._matmul(q, self.rel_k), (1, 3, 2, 0))  # [H, 2w+1, T, 1]
        on_diagonals = self._sum(ttnn.multiply(relative, bands.stack), dim=1)  # [H, 1, T, T]
        scores = ttnn.add(scores, ttnn.reshape(on_diagonals, (1, heads, length, length)))
        if bands.pair_mask is not None:  # masked_fill(mask == 0, -1e4)
            scores = ttnn.where(bands.pair_mask, scores, MASKED_SCORE)
        weights = ttnn.softmax(scores, dim=-1, compute_kernel_config=self.compute)
        out = self._matmul(weights, v)  # [1, H, T, d]
        per_row = ttnn.reshape(weights, (heads, 1, length, length))
        on_band = self._sum(ttnn.multiply(per_row, bands.stack), dim=-1)  # [H, 2w+1, T, 1]
        on_band = ttnn.permute(on_band, (3, 0, 2, 1))  # [1, H, T, 2w+1]
        out = ttnn.add(out, self._matmul(on_band, self.rel_v))
        out = ttnn.reshape(ttnn.transformer.concatenate_heads(out), (1, 1, length, self.channels))
        return self.out(out)


class FeedForward:
    def __init__(self, device: TtDevice, ref, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        k = ref.kernel_size
        padding = ((k - 1) // 2, k // 2)  # upstream pads explicitly ("same"; asymmetric for even k)
        self.conv_1 = Conv1d.of(device, ref.conv_1, f"{name}.conv_1", precision, padding=padding)
        self.conv_2 = Conv1d.of(device, ref.conv_2, f"{name}.conv_2", precision, padding=padding)

    def __call__(self, x: Any, length: int, mask: Any | None) -> Any:
        """Upstream masks conv_2's output too; here its padded rows stay as they come: every reader masks
        (a conv's input, the encoder's output) or never sees them (attention keys are masked), so the
        valid rows are the same. The ReLU is fused onto conv_2's input mask (one multiply).

        Where the length bucket fits each conv's input (`Conv1d.runs_in_l1`; conv_2's output is as wide as
        conv_1's input, and the rule only ever admits fewer rows for more channels, so this is the widest
        activation's rule), the two convs run as an L1 chain: the first copies its input into L1 shards,
        the ReLU-mask multiply keeps them there, the second reads them as they are; the output stays in L1
        for the caller's residual add (which writes DRAM)."""
        ttnn = self.ttnn
        l1 = all(conv.runs_in_l1(length, "convs") for conv in (self.conv_1, self.conv_2))
        x = self.conv_1(masked(ttnn, x, mask), length, l1=l1, keep_input=mask is None)
        x = masked_relu(ttnn, x, mask)
        return self.conv_2(x, length, l1=l1)


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
            ffn = self.ffn_layers[i](x, length, mask)
            x = self._norm(ttnn.add(x, ffn, memory_config=ttnn.DRAM_MEMORY_CONFIG), self.norms_2[i])
        return masked(ttnn, x, mask)
