"""Relative-position attention: the reference's pad/reshape trick equals the spec's banded formula."""

from __future__ import annotations

import math

import pytest
import torch

from openvoice_tt.reference.attention import RelativeAttentionEncoder, RelativeMultiHeadAttention

SPEC_WINDOW = 4  # spec §2.1 / trap 10: relative offsets -4..4, one table shared by the heads


def banded_attention(attn: RelativeMultiHeadAttention, x: torch.Tensor) -> torch.Tensor:
    """Spec §2.1 written element by element: relative terms only for |j - i| <= 4 (the spec's window, not
    the module's, so a wrong window in the module fails the comparison)."""
    w, heads, d = SPEC_WINDOW, attn.n_heads, attn.k_channels
    length = x.shape[-1]
    q = attn.conv_q(x)[0].view(heads, d, length) / math.sqrt(d)
    k = attn.conv_k(x)[0].view(heads, d, length)
    v = attn.conv_v(x)[0].view(heads, d, length)
    ek, ev = attn.emb_rel_k[0], attn.emb_rel_v[0]
    out = torch.zeros(heads, d, length)
    for h in range(heads):
        scores = torch.empty(length, length)
        for i in range(length):
            for j in range(length):
                scores[i, j] = q[h, :, i] @ k[h, :, j]
                if abs(j - i) <= w:
                    scores[i, j] += q[h, :, i] @ ek[j - i + w]
        p = torch.softmax(scores, dim=-1)
        for i in range(length):
            acc = v[h] @ p[i]
            for j in range(max(0, i - w), min(length, i + w + 1)):
                acc = acc + p[i, j] * ev[j - i + w]
            out[h, :, i] = acc
    return attn.conv_o(out.reshape(1, heads * d, length))


@pytest.mark.parametrize("length", [1, 3, 5, 9, 17])
def test_reference_attention_equals_banded_formula(length: int) -> None:
    torch.manual_seed(length)
    attn = RelativeMultiHeadAttention(channels=8, n_heads=2)
    with torch.no_grad():
        attn.emb_rel_k.normal_()
        attn.emb_rel_v.normal_()
        x = torch.randn(1, 8, length)
        got = attn(x, torch.ones(1, 1, length, length))
        torch.testing.assert_close(got, banded_attention(attn, x), rtol=1e-5, atol=1e-5)


def test_relative_terms_change_the_output() -> None:
    torch.manual_seed(0)
    attn = RelativeMultiHeadAttention(channels=8, n_heads=2)
    x = torch.randn(1, 8, 12)
    mask = torch.ones(1, 1, 12, 12)
    with torch.no_grad():
        before = attn(x, mask)
        attn.emb_rel_v.normal_()
        assert not torch.allclose(attn(x, mask), before)


def test_speaker_conditioning_enters_before_layer_two() -> None:
    """Layers 0 and 1 must not see g; layer 2's input must (spec trap 9)."""
    torch.manual_seed(0)
    encoder = RelativeAttentionEncoder(16, 32, 2, n_layers=4, kernel_size=3, gin_channels=6).eval()
    x, mask = torch.randn(1, 16, 10), torch.ones(1, 1, 10)
    seen: dict[int, torch.Tensor] = {}
    for i, layer in enumerate(encoder.attn_layers):
        layer.register_forward_hook(lambda _m, inputs, _out, i=i: seen.__setitem__(i, inputs[0].clone()))
    with torch.no_grad():
        encoder(x, mask, torch.zeros(1, 6, 1))
        first = dict(seen)
        encoder(x, mask, torch.randn(1, 6, 1) * 3)
    assert torch.equal(seen[0], first[0]) and torch.equal(seen[1], first[1])
    assert not torch.allclose(seen[2], first[2])


def test_ffn_kernels_text_encoder_three_flow_five() -> None:
    from openvoice_tt.config import MeloConfig
    from openvoice_tt.reference.synthesizer import MeloSynthesizer
    from scripts.make_test_checkpoints import SIZES, melo_config

    model = MeloSynthesizer(MeloConfig.from_dict(melo_config(SIZES["tiny"])))
    assert {f.conv_1.kernel_size[0] for f in model.enc_p.encoder.ffn_layers} == {3}
    assert {f.conv_1.kernel_size[0] for layer in model.flow.flows.values() for f in layer.enc.ffn_layers} == {5}
    x = torch.randn(1, 32, 7)
    assert model.flow.flows["0"].enc.ffn_layers[0](x, torch.ones(1, 1, 7)).shape == x.shape  # "same" padding


@pytest.mark.parametrize("rows", [1, 7, 64])
def test_blocked_attention_equals_the_full_formulation(rows: int) -> None:
    """Long inputs attend `rows` query rows at a time (no [L, L] matrix): the same outputs, padded keys and
    rows included, to float32 rounding (measured at most 1.3e-7 on unit-scale inputs)."""
    torch.manual_seed(rows)
    attn = RelativeMultiHeadAttention(channels=8, n_heads=2)
    with torch.no_grad():
        attn.emb_rel_k.normal_()
        attn.emb_rel_v.normal_()
        for length in (1, 3, 9, 50, 300):
            x = torch.randn(2, 8, length)
            mask = torch.ones(2, 1, length)
            mask[1, :, length * 2 // 3 :] = 0
            full = attn(x, mask.unsqueeze(2) * mask.unsqueeze(-1))
            torch.testing.assert_close(attn.blocked(x, mask, rows=rows), full, rtol=0, atol=5e-7)


def test_encoder_attends_in_blocks_only_above_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above BLOCKED_LENGTH the encoder never builds the [L, L] relative matrices (what made extreme
    durations ask for terabytes); below it upstream's formulation runs unchanged."""
    from openvoice_tt.reference import attention

    torch.manual_seed(0)
    encoder = RelativeAttentionEncoder(8, 16, 2, 2, 3)
    x, mask = torch.randn(1, 8, 40), torch.ones(1, 1, 40)
    mask[..., 33:] = 0
    with torch.no_grad():
        full = encoder(x, mask)
        monkeypatch.setattr(attention, "BLOCKED_LENGTH", 39)
        monkeypatch.setattr(attention, "relative_to_absolute", lambda *a: pytest.fail("built an [L, 2L-1] matrix"))
        torch.testing.assert_close(encoder(x, mask), full, rtol=0, atol=5e-7)
