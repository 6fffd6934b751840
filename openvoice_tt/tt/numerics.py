"""The arithmetic of a Tenstorrent chip, bit for bit where it is documented: what the faithful emulation
(`host_ttnn`, mode "faithful") applies so that it computes what the chip computes.

Matrix unit (FPU). Operands reach it through the SrcA/SrcB registers, 19 bits per datum: sign, 8-bit
exponent, 10-bit mantissa (TF32). float32 loses its low 13 mantissa bits on the way in (truncation, not
rounding) and denormals are flushed to zero; bf16 and bfp8 fit exactly. The multipliers take 5 bits of
SrcA (the hidden one and 4 mantissa bits) by 7 bits of SrcB (hidden one and 6) per fidelity phase:

    phase 0: SrcA hidden+m1..m4  x SrcB hidden+m1..m6      (LoFi runs phase 0)
    phase 1: SrcA m5..m9         x SrcB hidden+m1..m6      (HiFi2 runs phases 0-1)
    phase 2: SrcA hidden+m1..m4  x SrcB m7..m10            (HiFi3 runs phases 0-2)
    phase 3: SrcA m5..m9         x SrcB m7..m10            (HiFi4 runs phases 0-3)

SrcA's last TF32 mantissa bit (m10) is never used. Phase products are summed in Dst (float32 with
`fp32_dest_acc_en`). Sources: tt-isa-documentation, WormholeB0 TensixCoprocessor SrcASrcB.md (the
19-bit registers, fp32 -> TF32 truncation), MVMUL.md and ELWMUL.md (`SrcAFidelityBits`,
`SrcBFidelityBits`: masks 0xfff80000 / 0xfffe0000 and the phase bits); ttnn 0.81.1's `MathFidelity`
docstring states the same split. A matmul `a @ b` puts `a` (activations, in0) in SrcB and `b` (weights,
in1) in SrcA (MVMUL computes Dst += SrcB @ SrcA; tt-llk's matmul golden swaps its operands for the
same reason); convolutions are matmuls of the im2col'd activations by the weights.

Packer. Results leave Dst through the packer, which rounds float32 to bf16 to nearest with ties away
from zero and flushes denormals (tt-isa-documentation, Packers/FormatConversion.md). The host
conversion `ttnn.from_torch(..., bfloat16)` rounds to nearest even instead (measured: equals torch's
conversion). `ttnn.from_torch(..., bfloat8_b)` stores 16 consecutive values of a tile row with the
largest exponent among them and 7 magnitude bits each, rounded to nearest even from the full float32
mantissa and clamped at 127; a value that rounds to zero reads back as +0 (measured bit for bit against
ttnn: tests/tt/test_numerics.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FIDELITY_PHASES = {"LoFi": 1, "HiFi2": 2, "HiFi3": 3, "HiFi4": 4}

_EXPONENT = 0x7F800000
_TF32 = -0x2000  # 0xFFFFE000: sign, exponent, 10 mantissa bits
_SRCA_HIGH = -0x80000  # 0xFFF80000: sign, exponent, 4 mantissa bits
_SRCA_USED = -0x4000  # 0xFFFFC000: sign, exponent, 9 mantissa bits (SrcA ignores the 10th)
_SRCB_HIGH = -0x20000  # 0xFFFE0000: sign, exponent, 6 mantissa bits


def _bits(x: torch.Tensor) -> torch.Tensor:
    return x.float().contiguous().view(torch.int32)


def _normal(bits: torch.Tensor) -> torch.Tensor:
    """All ones where `bits` hold a normal float (or inf / NaN), 0 where a zero or denormal: a mask to `&`
    with. Integer arithmetic in place, not `torch.where` (several times slower, and this runs on every
    matrix operand and stored output of the emulation)."""
    flags = bits & _EXPONENT
    flags -= 1  # negative only for a zero exponent field
    flags >>= 31  # arithmetic shift: -1 (all ones) there, else 0
    return flags.bitwise_not_()


def _mask(x: torch.Tensor, mask: int) -> torch.Tensor:
    bits = _bits(x)
    kept = _normal(bits)  # denormals flush to zero (+0)
    kept &= mask
    kept &= bits
    return kept.view(torch.float32)


def tf32(x: torch.Tensor) -> torch.Tensor:
    """What a source register holds of a float32: the low 13 mantissa bits dropped, denormals zero."""
    return _mask(x, _TF32)


def srca_parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SrcA operand -> (phase-0 part: hidden + 4 mantissa bits, phase-1 part: the next 5 bits)."""
    x = x.float().contiguous()  # once for both masks (a conv's operands arrive transposed)
    high = _mask(x, _SRCA_HIGH)
    return high, _mask(x, _SRCA_USED) - high


def srcb_parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SrcB operand -> (phase-0 part: hidden + 6 mantissa bits, phase-2 part: the last 4 TF32 bits)."""
    x = x.float().contiguous()  # once for both masks (a conv's operands arrive transposed)
    high = _mask(x, _SRCB_HIGH)
    return high, tf32(x) - high


def fidelity_terms(srcb: torch.Tensor, srca: torch.Tensor, fidelity: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (SrcB part, SrcA part) pairs whose products the matrix unit sums at `fidelity`.

    Pairs sharing an operand part are merged (their sum is exact in float32), so a matmul needs at most
    two products: LoFi B6 x A4; HiFi2 B6 x A9; HiFi3 B6 x A9 + Blow x A4; HiFi4 B10 x A9.
    """
    phases = FIDELITY_PHASES[fidelity]
    b_high, b_low = srcb_parts(srcb)
    a_high, a_low = srca_parts(srca)
    if phases == 1:
        return [(b_high, a_high)]
    a_used = a_high + a_low
    if phases == 2:
        return [(b_high, a_used)]
    if phases == 3:
        return [(b_high, a_used), (b_low, a_high)]
    return [(b_high + b_low, a_used)]


def multiply(srca: torch.Tensor, srcb: torch.Tensor, fidelity: str) -> torch.Tensor:
    """Element-wise product on the matrix unit (ELWMUL) at `fidelity`, summed in float32."""
    terms = fidelity_terms(srcb, srca, fidelity)
    out = terms[0][0] * terms[0][1]
    for b, a in terms[1:]:
        out = out + b * a
    return out


def round_bf16_packer(x: torch.Tensor) -> torch.Tensor:
    """float32 -> bf16 as the packer rounds: to nearest, ties away from zero; denormals to zero."""
    bits = _bits(x)
    out = bits & 0x7FFFFFFF
    out += 0x8000
    out &= 0x7FFF0000
    out &= _normal(bits)
    out |= bits & -0x80000000  # the sign
    return out.view(torch.float32)


def round_bf16_host(x: torch.Tensor) -> torch.Tensor:
    """float32 -> bf16 as `ttnn.from_torch` converts on the host: to nearest even (torch's conversion)."""
    return x.float().to(torch.bfloat16).float()


def round_bfp8(value: torch.Tensor) -> torch.Tensor:
    """bfloat8_b as `ttnn.from_torch` packs it: per 16 consecutive values of the last axis (a tile face
    row; the tile's zero padding never raises a block's exponent) one shared exponent, the largest of
    the block, and 7 magnitude bits each, rounded to nearest even from the float32 mantissa, max 127."""
    if value.numel() == 0:
        return value.float()
    shape = value.shape
    last = shape[-1] if value.dim() else 1
    pad = (-last) % 16
    rows = value.float().reshape(-1, last)
    bits = (F.pad(rows, (0, pad)) if pad else rows.contiguous()).reshape(-1, 16).view(torch.int32)
    exponent = bits >> 23
    exponent &= 0xFF
    shared = exponent.amax(dim=1, keepdim=True)
    # magnitude in units of the block's step 2^(shared - 133): mantissa * 2^(exponent - shared - 17). In
    # float32 and exact: a 24-bit integer times a power of two of at least 2^-126 (built from its bits); a
    # smaller power leaves less than 2^-102, which rounds to 0 either way. Integer and float32 arithmetic
    # in place: float64 and torch.pow made this the emulation's slowest step.
    mantissa = bits & 0x7FFFFF
    mantissa |= 1 << 23  # the hidden one
    mantissa *= exponent.clamp(max=1)  # denormals zero
    power = exponent - shared
    power += 127 - 17
    power.clamp_(min=0)
    power <<= 23
    magnitude = mantissa.float()
    magnitude *= power.view(torch.float32)
    magnitude.round_().clamp_(max=127)  # to nearest even
    sign = bits >> 31  # -1 for a negative value, else 0
    sign *= 2
    sign += 1
    magnitude *= sign
    step = torch.where(shared >= 7, (shared - 6) << 23, 1 << (shared + 16).clamp_(max=22))  # 2^(shared - 133)
    magnitude *= step.view(torch.float32)  # a power of two times at most 127: exact, as a denormal too
    magnitude += 0.0  # a zero magnitude reads back as +0 (-0 + 0 is +0)
    return magnitude.reshape(-1, last + pad)[:, :last].reshape(shape)
