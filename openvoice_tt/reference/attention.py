"""The relative-position self-attention encoder of VITS/MeloTTS (upstream `attentions.Encoder`).

Post-norm transformer layers whose attention adds learned relative-position terms for offsets within
±window (one table shared by all heads) to both the scores and the values. This reference keeps
upstream's pad/reshape "relative <-> absolute" formulation; the ttnn twin uses the equivalent 9-diagonal
band, and the parity tests check the two agree.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from openvoice_tt.config import ENCODER_COND_LAYER_INDEX, RELATIVE_ATTENTION_WINDOW
from openvoice_tt.reference.layer_norm import ChannelLayerNorm

MASKED_SCORE = -1e4  # upstream's masked_fill value (not -inf)
BLOCKED_LENGTH = 2048
"""Above this many positions the encoder attends in blocks of query rows (`blocked`): the same numbers,
but memory grows with length x BLOCK_ROWS instead of length squared (40 000 frames would take tens of GB
in upstream's formulation). Below it, upstream's pad/reshape formulation runs unchanged."""
BLOCK_ROWS = 512


def relative_embeddings(table: torch.Tensor, length: int, window: int) -> torch.Tensor:
    """Table [1, 2w+1, d] -> [1, 2L-1, d] covering offsets -(L-1)..L-1, zeros beyond the window."""
    pad = max(length - (window + 1), 0)
    start = max((window + 1) - length, 0)
    padded = F.pad(table, (0, 0, pad, pad)) if pad > 0 else table
    return padded[:, start : start + 2 * length - 1]


def relative_to_absolute(x: torch.Tensor) -> torch.Tensor:
    """[b, h, L, 2L-1] logits by relative offset -> [b, h, L, L] by absolute key position."""
    batch, heads, length, _ = x.shape
    x = F.pad(x, (0, 1))
    flat = F.pad(x.reshape(batch, heads, length * 2 * length), (0, length - 1))
    return flat.view(batch, heads, length + 1, 2 * length - 1)[:, :, :length, length - 1 :]


def absolute_to_relative(x: torch.Tensor) -> torch.Tensor:
    """[b, h, L, L] weights by absolute key position -> [b, h, L, 2L-1] by relative offset."""
    batch, heads, length, _ = x.shape
    x = F.pad(x, (0, length - 1))
    flat = F.pad(x.reshape(batch, heads, length * (2 * length - 1)), (length, 0))
    return flat.view(batch, heads, length, 2 * length)[:, :, :, 1:]


class RelativeMultiHeadAttention(nn.Module):
    def __init__(self, channels: int, n_heads: int, window_size: int = RELATIVE_ATTENTION_WINDOW) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.k_channels = channels // n_heads
        self.window_size = window_size
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, channels, 1)
        self.emb_rel_k = nn.Parameter(torch.zeros(1, 2 * window_size + 1, self.k_channels))
        self.emb_rel_v = nn.Parameter(torch.zeros(1, 2 * window_size + 1, self.k_channels))

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, length = x.shape
        return x.view(batch, self.n_heads, self.k_channels, length).transpose(2, 3)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        batch, channels, length = x.shape
        query = self._heads(self.conv_q(x)) / math.sqrt(self.k_channels)
        key = self._heads(self.conv_k(x))
        value = self._heads(self.conv_v(x))

        scores = query @ key.transpose(-2, -1)
        rel_k = relative_embeddings(self.emb_rel_k, length, self.window_size)
        scores = scores + relative_to_absolute(query @ rel_k.unsqueeze(0).transpose(-2, -1))
        scores = scores.masked_fill(attn_mask == 0, MASKED_SCORE)
        weights = F.softmax(scores, dim=-1)

        out = weights @ value
        rel_v = relative_embeddings(self.emb_rel_v, length, self.window_size)
        out = out + absolute_to_relative(weights) @ rel_v.unsqueeze(0)
        out = out.transpose(2, 3).reshape(batch, channels, length)
        return self.conv_o(out)

    def blocked(self, x: torch.Tensor, x_mask: torch.Tensor, rows: int = BLOCK_ROWS) -> torch.Tensor:
        """`forward(x, x_mask.unsqueeze(2) * x_mask.unsqueeze(-1))` computed `rows` query rows at a time.

        The relative terms are read off the band |j - i| <= window directly (upstream's relative <->
        absolute reshapes need the whole [L, 2L-1] matrix): score (i, i + d) gains q_i . emb_rel_k[d + w]
        and output i gains sum_d weight(i, i + d) * emb_rel_v[d + w], as spec §2.1 writes them.
        """
        batch, channels, length = x.shape
        w = self.window_size
        query = self._heads(self.conv_q(x)) / math.sqrt(self.k_channels)
        key = self._heads(self.conv_k(x))
        value = self._heads(self.conv_v(x))
        emb_k, emb_v = self.emb_rel_k[0], self.emb_rel_v[0]  # [2w+1, d]
        keys_valid = x_mask[:, :, None, :] != 0  # [b, 1, 1, L]
        out = torch.empty_like(query)
        for start in range(0, length, rows):
            stop = min(start + rows, length)
            q = query[:, :, start:stop]
            columns = torch.arange(start, stop, device=x.device)[:, None] + torch.arange(-w, w + 1, device=x.device)
            inside = (columns >= 0) & (columns < length)  # [B, 2w+1]
            columns = columns.clamp(0, length - 1)
            scores = q @ key.transpose(-2, -1)  # [b, h, B, L]
            band = (q @ emb_k.t()) * inside  # [b, h, B, 2w+1]
            scores = scores.scatter_add(-1, columns.expand(*scores.shape[:2], -1, -1), band)
            rows_valid = x_mask[:, :, start:stop, None] != 0  # [b, 1, B, 1]
            scores = scores.masked_fill(~(rows_valid & keys_valid), MASKED_SCORE)
            weights = F.softmax(scores, dim=-1)
            band_weights = weights.gather(-1, columns.expand(*weights.shape[:2], -1, -1)) * inside
            out[:, :, start:stop] = weights @ value + band_weights @ emb_v
        return self.conv_o(out.transpose(2, 3).reshape(batch, channels, length))


class FeedForward(nn.Module):
    """conv -> ReLU -> conv with "same" padding and masking (kernel 3 in the text encoder, 5 in the flow)."""

    def __init__(self, channels: int, filter_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, channels, kernel_size)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, ((self.kernel_size - 1) // 2, self.kernel_size // 2))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv_1(self._pad(x * x_mask)))
        x = self.conv_2(self._pad(x * x_mask))
        return x * x_mask


class RelativeAttentionEncoder(nn.Module):
    """`n_layers` post-norm layers; the speaker embedding is added before layer 2 (spec §2.1)."""

    def __init__(
        self,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        gin_channels: int = 0,
        window_size: int = RELATIVE_ATTENTION_WINDOW,
    ) -> None:
        super().__init__()
        self.n_layers = n_layers
        self.cond_layer_idx = ENCODER_COND_LAYER_INDEX if gin_channels else n_layers
        if gin_channels:
            self.spk_emb_linear = nn.Linear(gin_channels, hidden_channels)
        self.attn_layers = nn.ModuleList(
            RelativeMultiHeadAttention(hidden_channels, n_heads, window_size) for _ in range(n_layers)
        )
        self.norm_layers_1 = nn.ModuleList(ChannelLayerNorm(hidden_channels) for _ in range(n_layers))
        self.ffn_layers = nn.ModuleList(
            FeedForward(hidden_channels, filter_channels, kernel_size) for _ in range(n_layers)
        )
        self.norm_layers_2 = nn.ModuleList(ChannelLayerNorm(hidden_channels) for _ in range(n_layers))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        blocked = x.shape[-1] > BLOCKED_LENGTH  # long inputs: never build an [L, L] matrix
        attn_mask = None if blocked else x_mask.unsqueeze(2) * x_mask.unsqueeze(-1)
        x = x * x_mask
        for i in range(self.n_layers):
            if i == self.cond_layer_idx and g is not None:
                x = (x + self.spk_emb_linear(g.transpose(1, 2)).transpose(1, 2)) * x_mask
            layer = self.attn_layers[i]
            attended = layer.blocked(x, x_mask) if attn_mask is None else layer(x, attn_mask)
            x = self.norm_layers_1[i](x + attended)
            x = self.norm_layers_2[i](x + self.ffn_layers[i](x, x_mask))
        return x * x_mask
