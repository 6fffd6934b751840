"""The chip arithmetic the faithful emulation applies (`tt/numerics.py`), checked two ways:

- the source-register / fidelity model against values worked out by hand from the bit layout (the
  expected numbers below are written as binary fractions, not computed by the code under test);
- bf16 and bfloat8_b storage bit for bit against ttnn 0.81.1's own host conversion.
"""

from __future__ import annotations

import struct

import pytest
import torch

from openvoice_tt import backends
from openvoice_tt.tt import host_ttnn, numerics
from openvoice_tt.tt.device import MOCK_ENV, mock_descriptor, open_emulated_device

from .mock import requires_ttnn


def f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


ALMOST_TWO = f32(0x3FFFFFFF)  # 1.11111111111111111111111 (binary): every mantissa bit set


def test_tf32_drops_the_low_13_mantissa_bits_and_flushes_denormals() -> None:
    got = numerics.tf32(t(f32(0x3FAAAAAB), f32(0xBFAAAAAB), f32(0x00400000), 1.0, -0.0))
    assert got.tolist() == [f32(0x3FAAA000), f32(0xBFAAA000), 0.0, 1.0, -0.0]
    assert numerics.tf32(t(ALMOST_TWO)).item() == 1 + 1023 / 1024  # truncated, not rounded up to 2


def test_source_register_parts_per_fidelity_phase() -> None:
    a_high, a_low = numerics.srca_parts(t(ALMOST_TWO))
    assert (a_high.item(), a_low.item()) == (1 + 15 / 16, 31 / 512)  # hidden+4 bits; next 5 (10th ignored)
    b_high, b_low = numerics.srcb_parts(t(ALMOST_TWO))
    assert (b_high.item(), b_low.item()) == (1 + 63 / 64, 15 / 1024)  # hidden+6 bits; last 4 TF32 bits


@pytest.mark.parametrize(
    ("fidelity", "expected"),
    [
        ("LoFi", (1 + 15 / 16) * (1 + 63 / 64)),
        ("HiFi2", (1 + 511 / 512) * (1 + 63 / 64)),
        ("HiFi3", (1 + 511 / 512) * (1 + 63 / 64) + (1 + 15 / 16) * (15 / 1024)),
        ("HiFi4", (1 + 511 / 512) * (1 + 1023 / 1024)),
    ],
)
def test_products_per_math_fidelity(fidelity: str, expected: float) -> None:
    assert numerics.multiply(t(ALMOST_TWO), t(ALMOST_TWO), fidelity).item() == expected


def _config(fidelity: str, fp32: bool = True) -> host_ttnn.ComputeKernelConfig:
    return host_ttnn.init_device_compute_kernel_config(
        None, math_fidelity=getattr(host_ttnn.MathFidelity, fidelity), fp32_dest_acc_en=fp32
    )


def test_faithful_matmul_puts_activations_in_srcb_and_weights_in_srca() -> None:
    device = open_emulated_device().handle
    x = host_ttnn.from_torch(torch.full((1, 1, 1, 1), ALMOST_TWO), dtype=host_ttnn.float32, device=device)
    one = host_ttnn.from_torch(torch.ones(1, 1), dtype=host_ttnn.float32, device=device)
    # in0 in SrcB keeps 6 mantissa bits at HiFi2 (SrcA would keep 9); in1 in SrcA keeps 9 at HiFi4
    assert host_ttnn.matmul(x, one, compute_kernel_config=_config("HiFi2")).value.item() == 1 + 63 / 64
    one_row = host_ttnn.from_torch(torch.ones(1, 1, 1, 1), dtype=host_ttnn.float32, device=device)
    x_weight = host_ttnn.from_torch(torch.full((1, 1), ALMOST_TWO), dtype=host_ttnn.float32)
    assert host_ttnn.matmul(one_row, x_weight, compute_kernel_config=_config("HiFi4")).value.item() == 1 + 511 / 512
    exact = open_emulated_device("exact").handle
    x_exact = host_ttnn.from_torch(torch.full((1, 1, 1, 1), ALMOST_TWO), dtype=host_ttnn.float32, device=exact)
    assert host_ttnn.matmul(x_exact, one, compute_kernel_config=_config("LoFi")).value.item() == ALMOST_TWO
    with pytest.raises(ValueError, match="explicit compute kernel config"):
        host_ttnn.matmul(x, one)


def test_faithful_linear_adds_its_bias_on_the_matrix_unit() -> None:
    device = open_emulated_device().handle
    x = host_ttnn.from_torch(torch.ones(1, 1, 1, 1), dtype=host_ttnn.float32, device=device)
    w = host_ttnn.from_torch(torch.ones(1, 1), dtype=host_ttnn.float32)
    bias = host_ttnn.from_torch(torch.full((1, 1), ALMOST_TWO), dtype=host_ttnn.float32)
    got = host_ttnn.linear(x, w, bias=bias, compute_kernel_config=_config("HiFi3")).value.item()
    assert got == 1 + (1 + 1023 / 1024)  # the bias passes a source register: TF32


def test_packer_rounds_ties_away_from_zero_and_the_host_to_even() -> None:
    ties = t(f32(0x3F808000), f32(0xBF808000), f32(0x3F818000), f32(0x00008000), f32(0x3F80C000))
    assert numerics.round_bf16_packer(ties).tolist() == [
        f32(0x3F810000),
        f32(0xBF810000),
        f32(0x3F820000),
        0.0,
        f32(0x3F810000),
    ]
    assert numerics.round_bf16_host(ties).tolist()[:3] == [1.0, -1.0, f32(0x3F820000)]


def test_bfp8_by_hand() -> None:
    # one block whose largest value is in [1, 2): step 2^-6; 1 + 2^-7 is a tie (to even: 1.0);
    # 1 + 3 * 2^-8 is 0.75 of a step above 1 (up); 255/128 rounds to 128 steps, clamped at 127;
    # 2^-8 is a quarter step (0), 2^-7 half a step (a tie: to even, 0), 3 * 2^-8 three quarters (one step)
    block = t(1.0, 1 + 2**-7, 1 + 3 * 2**-8, 255 / 128, -(0.5 + 3 * 2**-9), 2**-8, 2**-7, 3 * 2**-8, *[0.0] * 8)
    expected = [1.0, 1.0, 1 + 2**-6, 127 / 64, -0.5, 0.0, 0.0, 2**-6, *[0.0] * 8]
    assert numerics.round_bfp8(block.reshape(1, 16)).flatten().tolist() == expected


def _ttnn_round_trip(monkeypatch: pytest.MonkeyPatch, x: torch.Tensor, dtype_name: str) -> torch.Tensor:
    monkeypatch.setenv(MOCK_ENV, str(mock_descriptor("wormhole_n150")))  # (restored afterwards) no chip lookup
    import ttnn

    dtype = getattr(ttnn, dtype_name)
    return ttnn.to_torch(ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT)).float()


def _hard_cases() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    bits = torch.randint(-(2**31), 2**31 - 1, (64, 64), dtype=torch.int64).to(torch.int32).view(torch.float32)
    near_two = torch.full((32, 32), ALMOST_TWO)
    near_two[:, 1::2] = 1 + 2**-7  # ties between two steps
    return {
        "normal": torch.randn(64, 64),
        "heavy tailed": torch.randn(3, 40, 50) * torch.exp(torch.randn(3, 40, 50) * 4),
        "random bits": torch.where(bits.isfinite() & (bits.abs() < 1e30), bits, torch.zeros_like(bits)),
        "denormals and zeros": torch.cat([torch.randn(16, 32) * 1e-39, torch.zeros(8, 32), -torch.zeros(8, 32)]),
        "rounding overflow and ties": near_two,
    }


@requires_ttnn
@pytest.mark.parametrize("case", list(_hard_cases()))
def test_bfp8_and_bf16_storage_equal_ttnns_host_conversion_bit_for_bit(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = _hard_cases()[case]
    for name, ours in (("bfloat8_b", numerics.round_bfp8), ("bfloat16", numerics.round_bf16_host)):
        expected = _ttnn_round_trip(monkeypatch, x, name)
        got = ours(x)
        mismatched = int((got.view(torch.int32) != expected.view(torch.int32)).sum())
        assert mismatched == 0, f"{name}: {mismatched} of {x.numel()} values differ"
        emulated = host_ttnn.from_torch(x, dtype=getattr(host_ttnn, name), layout=host_ttnn.TILE_LAYOUT)
        assert torch.equal(emulated.value.view(torch.int32), expected.view(torch.int32))


@pytest.mark.usefixtures("fresh_tt_device")
def test_emulation_mode_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for choice, mode in (("emulation", "faithful"), ("emulation:exact", "exact")):
        monkeypatch.setenv(backends.TT_DEVICE_ENV, choice)  # the open device follows the variable
        assert backends.tt_device().handle.mode == mode
    with pytest.raises(ValueError, match="unknown emulation mode"):
        open_emulated_device("approximate")
