"""The shared ttnn building blocks equal their torch counterparts (exact emulation, fp32 storage: these
tests check the layout algebra; the chip's arithmetic is tests/tt/test_numerics.py's subject)."""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F

from openvoice_tt.reference.wavenet import WN as ReferenceWN
from openvoice_tt.tt import numerics
from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.layers import (
    Conv1d,
    ConvTranspose1d,
    Linear,
    fits_l1,
    leaky_relu_activation,
    length_mask,
    masked_leaky_relu,
    polyphase_weight,
)
from openvoice_tt.tt.program_budget import ProgramBudget
from openvoice_tt.tt.settings import BlockPrecision
from openvoice_tt.tt.wavenet import WN
from scripts.tt_parity import from_tt, to_tt

from .mock import ARCHES, REPO, requires_ttnn, run_json

FP32 = BlockPrecision("fp32", "fp32")


@pytest.mark.parametrize(("stride", "kernel"), [(8, 16), (2, 4), (2, 8), (2, 2), (4, 8), (3, 7)])
def test_polyphase_conv_transpose_equals_torch(stride: int, kernel: int) -> None:
    torch.manual_seed(stride * 100 + kernel)
    padding = (kernel - stride) // 2
    layer = torch.nn.ConvTranspose1d(6, 4, kernel, stride, padding=padding)
    x = torch.randn(1, 6, 23)
    expected = layer(x).detach()
    device = open_emulated_device("exact")
    tt = ConvTranspose1d(device, layer.weight.detach(), layer.bias.detach(), stride, padding, FP32)
    got = from_tt(device, tt(to_tt(device, x), 23))
    if (kernel - stride) % 2 == 0:
        assert got.shape == expected.shape == (1, 4, 23 * stride)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    else:  # odd k - s: torch's output is one sample shorter; the phases still agree where both exist
        torch.testing.assert_close(got[..., : expected.shape[-1]], expected, rtol=1e-5, atol=1e-5)


def test_polyphase_weight_has_one_tap_per_phase_for_kernel_equal_stride() -> None:
    weight = torch.randn(3, 5, 2)
    poly, left, right = polyphase_weight(weight, stride=2, padding=0)
    assert poly.shape == (10, 3, 1) and (left, right) == (0, 0)
    torch.testing.assert_close(poly[:5, :, 0], weight[:, :, 0].t())
    torch.testing.assert_close(poly[5:, :, 0], weight[:, :, 1].t())


@pytest.mark.parametrize(("kernel", "dilation"), [(3, 1), (7, 3), (11, 5), (5, 1)])
def test_conv1d_equals_torch(kernel: int, dilation: int) -> None:
    torch.manual_seed(kernel)
    layer = torch.nn.Conv1d(8, 6, kernel, dilation=dilation, padding=(kernel * dilation - dilation) // 2)
    x = torch.randn(1, 8, 40)
    device = open_emulated_device("exact")
    tt = Conv1d(device, layer.weight.detach(), layer.bias.detach(), FP32, dilation=dilation)
    torch.testing.assert_close(from_tt(device, tt(to_tt(device, x), 40)), layer(x).detach(), rtol=1e-5, atol=1e-5)


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.parametrize("arch", ARCHES)
def test_an_input_written_in_l1_conv_input_reaches_the_conv_without_a_copy(arch: str) -> None:
    """`l1_conv_input` is the sharding ttnn itself copies an interleaved input into, at the frame buckets of
    1, 2, 10 and 30 s and the largest L1 one, for height- and block-sharded widths (the speaker-conditioned
    WaveNet's 448 among them); an op writes it in place, and the conv then runs halo + conv only
    (`scripts/tt_conv_input.py` on the mock)."""
    report = run_json([sys.executable, str(REPO / "scripts" / "tt_conv_input.py"), "--device", f"mock:{arch}"], 600)
    assert len(report) == 20
    for case in report.values():
        assert case["same_config"] and case["written_in_place"]
        assert case["conv"] == ["HaloDeviceOperation", "Conv2dDeviceOperation"]


DRAM_SLICING = """
import json, sys, torch
from openvoice_tt.tt.device import configure_mock, open_ttnn_device
configure_mock("wormhole_n150")
import ttnn
from openvoice_tt.tt.settings import ConverterPrecision
from openvoice_tt.tt.layers import Conv1d
device = open_ttnn_device()
conv = Conv1d(device, torch.randn(128, 128, 11) * 0.01, torch.zeros(128), ConverterPrecision().vocoder)
report = {}
for length in (16384, 172032):
    x = ttnn.from_torch(torch.zeros(1, 1, length, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT,
                        device=device.handle, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    runs = []
    for _ in range(2):
        ttnn.graph.begin_graph_capture(ttnn.graph.RunMode.NORMAL)
        conv(x, length)
        nodes = ttnn.graph.end_graph_capture()
        runs.append({
            "programs": sum(1 for n in nodes if n["node_type"] == "program_execution"),
            "halos": sum(1 for n in nodes if n["node_type"] == "function_start"
                         and n["params"].get("name") == "HaloDeviceOperation"),
        })
    report[length] = {"runs": runs, "learned": conv.dram_slicing[length].num_slices}
device.close()
print(json.dumps(report))
"""


@requires_ttnn
@pytest.mark.tt_mock
def test_a_dram_conv_passes_the_slicing_ttnn_chose_on_its_first_call_at_that_length() -> None:
    """ttnn 0.81.1 width-slices a [L, 128] kernel-11 bf16 DRAM conv on the mock N150 into 1 slice at 16,384
    rows and 3 at 172,032 (its own choice, seen in a graph capture: one halo per slice). The first call at a
    length learns that number; the second passes it explicitly and runs the very same programs."""
    report = run_json([sys.executable, "-c", DRAM_SLICING], timeout=600)
    for length, slices in (("16384", 1), ("172032", 3)):
        first, second = report[length]["runs"]
        assert first["halos"] == slices and report[length]["learned"] == slices
        assert second == first and first["programs"] >= 2 * slices


def test_linear_equals_pointwise_conv_and_bf16_weights_are_rounded() -> None:
    torch.manual_seed(0)
    layer = torch.nn.Conv1d(8, 6, 1)
    x = torch.randn(1, 8, 10)
    device = open_emulated_device("exact")
    exact = Linear(device, layer.weight.detach(), layer.bias.detach(), FP32)
    torch.testing.assert_close(from_tt(device, exact(to_tt(device, x))), layer(x).detach(), rtol=1e-5, atol=1e-6)
    rounded = Linear(device, layer.weight.detach(), layer.bias.detach(), BlockPrecision("fp32", "bf16"))
    w16 = layer.weight.detach().to(torch.bfloat16).float()
    b16 = layer.bias.detach().to(torch.bfloat16).float()
    torch.testing.assert_close(from_tt(device, rounded(to_tt(device, x))), F.conv1d(x, w16, b16), rtol=1e-5, atol=1e-6)


def test_program_budget_clears_only_when_a_new_key_may_not_fit_and_convs_prepare_again() -> None:
    """A fake L1_SMALL of 100 units where each new key pins 30: three keys fit, the fourth clears."""
    device = open_emulated_device()
    l1 = {"allocated": 0}
    device.budget = ProgramBudget(meter=lambda: (l1["allocated"], 100), first_reserve=30, margin=1.0)

    def run(key: tuple) -> None:
        device.use_shape(key)
        if l1["allocated"] + 30 <= 100 and key not in ran:
            l1["allocated"] += 30  # the key's programs compile and pin their tables
        ran.add(key)

    ran: set[tuple] = set()
    conv = Conv1d(device, torch.randn(4, 4, 3), torch.zeros(4), FP32)
    conv(to_tt(device, torch.randn(1, 4, 10)), 10)
    assert set(conv.weights.prepared) == {(1, 10)}
    for i in range(3):
        run(("model", i))
    assert device.generation == 0 and device.budget.footprints == {("model", 0): 30, ("model", 1): 30}
    run(("model", 0))  # already compiled: nothing happens
    assert device.generation == 0 and len(device.budget.shapes) == 3
    device.use_shape(("model", 3))  # 10 free < 30 measured per key: the program cache is cleared first
    assert device.generation == 1 and device.budget.shapes == [("model", 3)]
    conv(to_tt(device, torch.randn(1, 4, 12)), 12)
    assert set(conv.weights.prepared) == {(1, 12)}  # weights prepared for the old programs were dropped


def test_the_emulation_never_clears_its_program_cache() -> None:
    device = open_emulated_device()
    for i in range(50):
        device.use_shape(("model", i))
    assert device.generation == 0 and len(device.budget.shapes) == 50


def test_fused_leaky_relu_acts_on_the_float32_sum_before_the_output_is_rounded() -> None:
    """tt-metal's conv kernel runs the fused activation on Dst (after the bias) and then packs: the bf16
    output is round(lrelu(sum)), which differs from lrelu applied to the rounded sum (a separate op)."""
    torch.manual_seed(1)
    device = open_emulated_device()  # faithful
    weight, bias = torch.randn(16, 16, 3) * 0.3, torch.randn(16) * 0.3
    x = to_tt(device, torch.randn(1, 16, 64), "bf16")
    fused = Conv1d(
        device, weight, bias, BlockPrecision("bf16", "bf16"), activation=leaky_relu_activation(device.ttnn, 0.1)
    )
    plain = Conv1d(device, weight, bias, BlockPrecision("fp32", "bf16"))  # the same sum, stored unrounded
    total = device.ttnn.to_torch(plain(x, 64)).float()
    got = device.ttnn.to_torch(fused(x, 64)).float()
    assert torch.equal(got, numerics.round_bf16_packer(F.leaky_relu(total, 0.1)))
    assert not torch.equal(got, numerics.round_bf16_packer(F.leaky_relu(numerics.round_bf16_packer(total), 0.1)))


def test_masked_leaky_relu_is_one_op_equal_to_leaky_relu_times_the_mask() -> None:
    device = open_emulated_device()
    ttnn = device.ttnn
    x = to_tt(device, torch.randn(1, 8, 40), "bf16")
    mask = length_mask(device, device.upload_count(30, "valid"), 40, ttnn.bfloat16)
    ttnn.recording, ttnn.calls = True, []
    got = from_tt(device, masked_leaky_relu(ttnn, x, mask, 0.1))
    assert [name for name, _ in ttnn.calls] == ["multiply"]
    activated = numerics.round_bf16_packer(F.leaky_relu(from_tt(device, x), 0.1))  # stored as bf16
    assert torch.equal(got, activated * (torch.arange(40) < 30))
    assert torch.equal(from_tt(device, masked_leaky_relu(ttnn, x, None, 0.1)), activated)


def test_length_masks_scale_and_halve_the_uploaded_count_inside_their_comparison() -> None:
    """The vocoder's masks (count x samples per frame) and the reference encoder's (ceil(count / 2**k) rows
    of `width` columns) come from one uploaded count, each a single comparison: no op of their own."""
    device = open_emulated_device()
    ttnn = device.ttnn
    valid = device.upload_count(45, "valid_frames")
    ttnn.recording, ttnn.calls = True, []
    samples = from_tt(device, length_mask(device, valid, 64 * 8, ttnn.float32, scale=8)).reshape(-1)
    rows = from_tt(device, length_mask(device, valid, 16 * 9, ttnn.float32, scale=9, halvings=2)).reshape(-1)
    assert {name for name, _ in ttnn.calls} == {"lt", "slice"} and [n for n, _ in ttnn.calls].count("lt") == 2
    assert torch.equal(samples, (torch.arange(64 * 8) < 45 * 8).float())
    assert torch.equal(rows, (torch.arange(16 * 9) < 12 * 9).float())  # ceil(45 / 4) = 12 rows, not 11
    assert length_mask(device, None, 64, ttnn.float32) is None  # no padding, no mask


def test_the_l1_rule_counts_bytes_per_core_of_the_chains_sharding() -> None:
    """On an N150's 8 x 8 cores the 2 s conversion's 128-channel vocoder stage (256 frames: 16,384 x 128)
    takes 128 KiB per core in bf16 (block sharding: 32 cores), the resblock chains' budget (it ran on both
    mocks), and 256 KiB in float32; up to 64 channels are height-sharded on 64 cores, and 16 channels
    occupy a whole 32-wide tile."""
    device = open_emulated_device()
    assert device.l1_grid == (8, 8) and device.l1_activation_bytes("resblocks") == 128 * 1024

    def fits(rows: int, channels: int, activations: str = "bf16") -> bool:
        return fits_l1(device, rows, channels, activations, "resblocks")

    assert fits(16384, 128) and not fits(16384 + 32, 128) and not fits(16384, 128, "fp32")
    assert fits(16384, 256) and not fits(16384 + 32, 256)  # 64 cores, twice the channels: 128 KiB too
    assert fits(65536, 64) and not fits(65536 + 32, 64)
    assert fits(131072, 16) and not fits(131072 + 32, 16)
    assert not fits_l1(device, 16384, 128, "bf16", "wavenet")  # the gates keep the first calibration's 96 KiB


def test_a_wider_chain_never_fits_where_a_narrower_one_does_not() -> None:
    """The rule admits fewer rows (never more) for more channels, across the height-to-block sharding
    switch at 128: a chain whose every conv input fits has its widest activation fit (`FeedForward`)."""
    device = open_emulated_device()
    for activations in ("bf16", "fp32"):
        longest = [
            max(rows for rows in range(32, 262144 + 1, 32) if fits_l1(device, rows, channels, activations, "convs"))
            for channels in range(16, 1024 + 1, 16)
        ]
        assert longest == sorted(longest, reverse=True) and longest[0] > longest[-1]


def test_the_wavenet_gates_fit_l1_up_to_a_30_second_bucket_in_float32() -> None:
    """H = 192 is block-sharded on 6 x 8 cores: 3,072 frames of float32 gates [T, 384] take exactly the
    96 KiB per core (a 30 s converter input is 2,584 frames); one tile row more falls back to DRAM."""
    device = open_emulated_device()
    assert device.l1_activation_bytes("wavenet") == 96 * 1024
    reference = ReferenceWN(192, 5, 1, 1, 256)
    for activations, frames in (("fp32", 3072), ("bf16", 6144)):
        wavenet = WN(device, reference, "wn", BlockPrecision(activations, "bf16"), zero_condition=True)
        assert wavenet.gates_in_l1(frames) and not wavenet.gates_in_l1(frames + 32)
