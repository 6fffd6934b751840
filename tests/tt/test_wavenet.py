"""The ttnn WaveNet (`tt/wavenet.py`) conditioned through speaker channels of its convs, against the torch
reference (exact emulation, fp32 storage: the layout algebra), and its L1 rule counting those channels."""

from __future__ import annotations

import pytest
import torch

from openvoice_tt.reference.wavenet import WN as ReferenceWN
from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.layers import dtype_of, length_mask
from openvoice_tt.tt.settings import BlockPrecision
from openvoice_tt.tt.wavenet import WN, conditioned_in_weight
from scripts.tt_parity import from_tt, to_tt

FP32 = BlockPrecision("fp32", "fp32")
HIDDEN, GIN, FRAMES = 8, 16, 40


@pytest.mark.parametrize("valid", [FRAMES, 29])
def test_speaker_channels_give_the_reference_conditioning_on_every_valid_row(valid: int) -> None:
    """Kernel 5 at dilations 1, 2 and 4: the centre tap alone reads g on the row itself, so the gates are the
    reference's conv(h) + cond(g) on every valid frame, with and without padding (mask None: `add`)."""
    torch.manual_seed(valid)
    reference = ReferenceWN(HIDDEN, 5, 2, 3, GIN).eval()
    for parameter in reference.parameters():  # a torch default init leaves the gates near 0: widen them
        torch.nn.init.normal_(parameter, std=0.5)
    x, g = torch.randn(1, HIDDEN, FRAMES), torch.randn(1, GIN, 1)
    x_mask = (torch.arange(FRAMES) < valid).float().reshape(1, 1, -1)
    with torch.no_grad():
        expected = reference(x * x_mask, x_mask, g)

    device = open_emulated_device("exact")
    wavenet = WN(device, reference, "wn", FP32, zero_condition=False)
    assert wavenet.channels == HIDDEN + GIN
    identity = torch.eye(HIDDEN)
    pre = wavenet.projection("pre", identity, torch.zeros(HIDDEN))  # writes zeros in the speaker columns
    head = wavenet.head("out", identity, torch.zeros(HIDDEN))  # the sum of the skips
    mask = (
        None
        if valid == FRAMES
        else length_mask(device, device.upload_count(valid, "valid"), FRAMES, dtype_of(device, "fp32"))
    )
    speaker = device.constant(wavenet.speaker_row(g), dtype_of(device, "fp32"))
    out = head(wavenet.features(pre(to_tt(device, x)), FRAMES, mask, speaker))
    got = from_tt(device, out) * x_mask
    assert expected.abs().max() > 0.5  # the conditioning matters: a gate without g would be far off
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_the_speaker_rows_of_cond_layer_sit_at_the_centre_tap_only() -> None:
    in_weight, cond_weight = torch.randn(6, 3, 5), torch.randn(6, 4, 1)
    weight = conditioned_in_weight(in_weight, cond_weight)
    assert weight.shape == (6, 7, 5)
    assert torch.equal(weight[:, :3], in_weight) and torch.equal(weight[:, 3:, 2], cond_weight[:, :, 0])
    assert not weight[:, 3:, [0, 1, 3, 4]].any()
    with pytest.raises(ValueError, match="odd kernel"):
        conditioned_in_weight(torch.randn(6, 3, 4), cond_weight)


def test_the_l1_rule_counts_the_speaker_channels() -> None:
    """The converter's flow WaveNet reads x = [h | g], 192 + 256 = 448 channels, block-sharded on 8 x 8 cores:
    x with its halo copy, counted as [2T, 448] in bf16, takes the 96 KiB per core at 3,510 frames (the gates
    [T, 384] take less). Counting H alone would admit 6,144 frames."""
    device = open_emulated_device()
    wavenet = WN(device, ReferenceWN(192, 5, 1, 4, 256), "wn", BlockPrecision("bf16", "bfp8"), zero_condition=False)
    assert wavenet.channels == 448
    assert wavenet.gates_in_l1(3510) and not wavenet.gates_in_l1(3511)
