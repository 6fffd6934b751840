"""tt/hifigan.py: a stage's merged resblock convs compute the separate ones, quantize as they did, and the
stage's L1 rule counts their 3C-wide activation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from openvoice_tt.reference.hifigan import ResBlock1
from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.hifigan import StageResBlocks, embedded
from openvoice_tt.tt.numerics import round_bfp8
from openvoice_tt.tt.settings import ConverterPrecision

KERNELS, DILATIONS = (3, 7, 11), (1, 3, 5)  # V2's vocoders


def blocks(channels: int) -> list[ResBlock1]:
    torch.manual_seed(0)
    return [ResBlock1(channels, k, DILATIONS) for k in KERNELS]


def test_embedded_kernels_compute_what_each_conv_did() -> None:
    """The first conv1s as one C -> 3C conv and the last conv2s as one 3C -> C conv (11 taps, zero-padded,
    centred) give the separate convs' outputs and their sum, to float32 summation order."""
    refs = blocks(16)
    x = torch.randn(1, 16, 50)
    firsts, lasts = [r.convs1[0] for r in refs], [r.convs2[-1] for r in refs]
    merged = F.conv1d(x, torch.cat(embedded(firsts)), torch.cat([c.bias for c in firsts]), padding=5)
    separate = torch.cat([c(x) for c in firsts], dim=1)
    assert (merged - separate).abs().max() < 1e-5
    inputs = [torch.randn(1, 16, 50) for _ in refs]
    summed = F.conv1d(
        torch.cat(inputs, dim=1), torch.cat(embedded(lasts), dim=1), sum(c.bias for c in lasts), padding=5
    )
    assert (summed - sum(c(t) for c, t in zip(lasts, inputs, strict=True))).abs().max() < 1e-5
    # a dilated kernel lands on every d-th tap: conv1 of the third pair (dilation 5, 11 taps -> 51)
    wide = embedded([refs[2].convs1[2]])[0]
    assert wide.shape[-1] == 51 and torch.equal(wide[..., ::5], refs[2].convs1[2].weight)
    assert int((wide != 0).sum()) == int((refs[2].convs1[2].weight != 0).sum())


def test_merged_weights_quantize_to_bfloat8_b_as_the_separate_ones() -> None:
    """bfloat8_b shares one exponent per 16 values: along a conv weight's output channels on a chip and in
    the emulation (the prepared [taps x C_in, C_out] matrix), and, as a second grouping for which it holds
    too, along the taps. Either way each block's values round as they did alone (C a multiple of 16; the
    padding zeros never raise an exponent)."""
    refs = blocks(16)
    firsts, lasts = [r.convs1[0] for r in refs], [r.convs2[-1] for r in refs]
    for merged, convs, axis in ((torch.cat(embedded(firsts)), firsts, 0), (torch.cat(embedded(lasts), 1), lasts, 1)):
        for layout in ((2, 1, 0), (0, 1, 2)):  # C_out last (chip, emulation); taps last
            rounded = round_bfp8(merged.permute(*layout)).permute(*layout)
            for b, own in enumerate(embedded(convs)):
                alone = round_bfp8(own.permute(*layout)).permute(*layout)
                assert torch.equal(rounded.narrow(axis, 16 * b, 16), alone)


def test_a_stage_runs_in_l1_where_its_merged_activation_fits_too() -> None:
    """The stage asks the C-wide chain's budget and the merged 3C-wide activation's: at 256 channels the
    wide one binds (768 x 13,653 rows: 320 KiB per core), at 128 the narrow one (16,384 rows)."""
    device = open_emulated_device()
    wide = StageResBlocks(
        device, blocks(256), ["dec.resblocks.0", "dec.resblocks.1", "dec.resblocks.2"], ConverterPrecision().vocoder
    )
    assert wide.runs_in_l1(13653) and not wide.runs_in_l1(13654)  # 13,653 x 768 x 2 bytes / 64 cores <= 320 KiB
    assert wide.first.runs_in_l1(16384, "resblocks")  # the C-wide chain alone would fit
