"""The ttnn relative-position attention encoder (tt/attention.py) on the host emulation.

All heads run at once and the nine relative offsets are one stacked band tensor, so the op graph of a
layer is the same whatever the number of heads, and has no per-offset column slices; with float32
arithmetic ("exact" emulation) it matches the torch reference to float32 rounding, padding included.
"""

from __future__ import annotations

import torch

from openvoice_tt.reference.attention import RelativeAttentionEncoder as ReferenceEncoder
from openvoice_tt.tt.attention import RelativeAttentionEncoder, RelativeBands
from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.layers import length_mask
from openvoice_tt.tt.settings import BlockPrecision

CHANNELS, GIN, WINDOW = 64, 16, 4
FLOAT32_STEP = 2.0**-23
# Measured: 5.0 float32 steps of the output's largest magnitude (2 layers, 2 heads, 64 channels)
ULPS = 6


def reference_encoder(n_heads: int) -> ReferenceEncoder:
    torch.manual_seed(0)
    ref = ReferenceEncoder(CHANNELS, 128, n_heads, 2, 3, gin_channels=GIN)
    for p in ref.parameters():  # the relative tables start at zero upstream: give every term weight
        p.data.normal_(0, 0.3)
    return ref.eval()


def run(ref: ReferenceEncoder, valid: int, length: int, mode: str = "exact", record: bool = False):
    """Channels-first torch in and out; returns (output [1, C, T], the ops the forward ran)."""
    device = open_emulated_device(mode)
    ttnn = device.ttnn
    encoder = RelativeAttentionEncoder(device, ref, "enc", BlockPrecision("fp32", "fp32"))
    x = torch.randn(1, CHANNELS, length, generator=torch.Generator().manual_seed(1))
    g = torch.randn(1, GIN, 1, generator=torch.Generator().manual_seed(2))
    ttnn.recording = record
    mask = length_mask(device, device.upload_count(valid, "valid"), length, ttnn.float32)
    bands = RelativeBands(device, length, WINDOW, mask, ttnn.float32)
    y = encoder(
        device.upload(x.transpose(1, 2)[None], ttnn.float32, "x"),
        length,
        bands,
        device.upload(g.transpose(1, 2)[None], ttnn.float32, "g"),
    )
    return ttnn.to_torch(y)[0].transpose(1, 2), [name for name, _ in ttnn.calls]


def test_matches_the_reference_to_float32_rounding_with_and_without_padding() -> None:
    ref = reference_encoder(2)
    for valid, length in ((40, 64), (64, 64), (5, 32)):
        x = torch.randn(1, CHANNELS, length, generator=torch.Generator().manual_seed(1))
        g = torch.randn(1, GIN, 1, generator=torch.Generator().manual_seed(2))
        x_mask = (torch.arange(length) < valid).float()[None, None]
        with torch.no_grad():
            expected = ref(x, x_mask, g)
        got, _ = run(ref, valid, length)
        error = (got - expected).abs().max()
        assert error <= ULPS * FLOAT32_STEP * expected.abs().max(), (valid, length, float(error))
        assert torch.equal(got[..., valid:], torch.zeros_like(got[..., valid:]))


def test_op_graph_is_the_same_for_any_number_of_heads_and_has_no_slices() -> None:
    _, two = run(reference_encoder(2), 40, 64, record=True)
    _, four = run(reference_encoder(4), 40, 64, record=True)
    assert two == four
    assert "slice" not in two and "concat" not in two
    # the band stack is built once per call: one comparison for all nine offsets
    assert two.count("eq") == 1
