"""Length regulation: prefix-sum alignment path, exact above 256 frames."""

from __future__ import annotations

import torch

from openvoice_tt.reference.alignment import expand_to_frames, frame_durations, generate_path, output_lengths


def _path(durations: list[int]) -> torch.Tensor:
    d = torch.tensor(durations, dtype=torch.float32).view(1, 1, -1)
    t_y = int(sum(durations))
    return generate_path(d, torch.ones(1, 1, t_y, len(durations)))[0, 0]


def test_known_durations_map_frames_to_tokens_in_order() -> None:
    path = _path([2, 3, 1])
    assert path.shape == (6, 3)
    assert path.argmax(dim=1).tolist() == [0, 0, 1, 1, 1, 2]
    assert torch.equal(path.sum(dim=1), torch.ones(6))  # every frame belongs to exactly one token


def test_long_utterance_above_256_frames_is_exact() -> None:
    durations = [97, 1, 130, 2, 255, 3, 77]  # 565 frames: beyond bf16's exact integers
    path = _path(durations)
    expected = torch.repeat_interleave(torch.arange(len(durations)), torch.tensor(durations))
    assert torch.equal(path.argmax(dim=1), expected)
    assert torch.equal(path.sum(dim=0), torch.tensor(durations, dtype=torch.float32))


def test_expand_equals_repeat_interleave() -> None:
    stats = torch.randn(1, 4, 5)
    durations = torch.tensor([3.0, 1, 4, 1, 5]).view(1, 1, 5)
    path = generate_path(durations, torch.ones(1, 1, 14, 5))
    expected = torch.repeat_interleave(stats, durations.flatten().long(), dim=2)
    assert torch.equal(expand_to_frames(stats, path), expected)


def test_durations_are_ceiled_scaled_and_masked() -> None:
    logw = torch.log(torch.tensor([[[0.2, 1.0, 2.5, 7.0]]]))
    mask = torch.tensor([[[1.0, 1.0, 1.0, 0.0]]])
    durations = frame_durations(logw, mask, length_scale=2.0)
    assert durations.flatten().tolist() == [1.0, 2.0, 5.0, 0.0]
    assert output_lengths(durations).tolist() == [8]
    assert output_lengths(torch.zeros(1, 1, 3)).tolist() == [1]  # upstream clamps to one frame
