"""Length regulation (spec §2.5): log-durations -> integer frame counts -> monotonic alignment path.

Frame indices are cumulative sums of durations; they are kept in float32/int (exact far beyond the
256 frames where bf16 stops representing integers). The path assigns frames C[i-1] <= j < C[i] to token
i, i.e. prefix sums (the earlier community port used suffix sums and aligned every frame to token 0).
"""

from __future__ import annotations

import math

import torch

from openvoice_tt.errors import InputError
from openvoice_tt.reference.commons import sequence_mask

MAX_FRAMES_PER_TOKEN = 100
"""The most frames a chunk may have per input token (phones and blanks): 1.16 s of audio per token at
MeloTTS's 44.1 kHz / 512-sample hop. Natural speech averages 3 to 4 frames per token at speed 1 and ten
times that at the slowest allowed speed (0.1), so only extreme duration noise (--noise-scale-w with a
high --sdp-ratio) reaches it. The flow's attention grows with frames squared: without this bound those
options asked for terabytes, with it a chunk's memory is bounded by its text whatever the options."""


def checked_frame_count(total: float, tokens: int) -> int:
    """A chunk's total frames from its predicted durations: at least 1 (upstream's clamp), and an
    InputError (before anything is allocated for the frames) beyond MAX_FRAMES_PER_TOKEN * tokens or when
    the durations overflowed. Both backends call this where durations become a frame count."""
    limit = MAX_FRAMES_PER_TOKEN * max(1, tokens)
    if not math.isfinite(total) or total > limit:
        asked = f"{total:.0f}" if math.isfinite(total) else "an unbounded number of"
        raise InputError(
            f"the predicted durations ask for {asked} frames for a chunk of {tokens} tokens, more than the "
            f"limit of {MAX_FRAMES_PER_TOKEN} per token ({limit}); lower --noise-scale-w or --sdp-ratio, or "
            "raise --speed"
        )
    return max(1, int(total))


def frame_durations(logw: torch.Tensor, x_mask: torch.Tensor, length_scale: float) -> torch.Tensor:
    """[B, 1, T] log-durations -> ceil(exp(logw) * length_scale) frames per token (0 on padding)."""
    return torch.ceil(torch.exp(logw) * x_mask * length_scale)


def output_lengths(durations: torch.Tensor) -> torch.Tensor:
    """Total frames per utterance, at least 1 (upstream clamps an empty result to one frame)."""
    return torch.clamp_min(torch.sum(durations, dim=[1, 2]), 1).long()


def generate_path(durations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """durations [B, 1, T_x], mask [B, 1, T_y, T_x] -> path [B, 1, T_y, T_x] (1 where frame j -> token i)."""
    batch, _, t_y, t_x = mask.shape
    ends = torch.cumsum(durations, dim=-1).reshape(batch * t_x)
    path = sequence_mask(ends, t_y).to(mask.dtype).view(batch, t_x, t_y)
    path = path - torch.nn.functional.pad(path, (0, 0, 1, 0))[:, :-1]
    return path.unsqueeze(1).transpose(2, 3) * mask


def expand_to_frames(stats: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """Token stats [B, C, T_x] -> frame stats [B, C, T_y] along the path."""
    return (path.squeeze(1) @ stats.transpose(1, 2)).transpose(1, 2)
