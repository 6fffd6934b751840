"""How the torch path runs: a precision per block (fp32 or bf16), and which one `--precision auto` picks.

The torch twin of `tt/settings.py`'s `MeloPrecision` / `ConverterPrecision`: one frozen dataclass per model
naming each block's dtype. float32 is the reference (always selectable: `all_fp32`); bfloat16 goes to the
blocks whose measured parity against float32 holds (README "Precision per block", CPU rows;
`scripts/cpu_precision_gates.py`), the two HiFi-GAN vocoders first (nine tenths of a CPU's work). A bf16
block holds its weights in bf16 (converted once, at load) and takes its inputs cast to bf16 at its edge; its
output is cast back to float32, so every block between runs as in the reference.

The blocks that decide lengths (text encoder, both duration predictors, and the ceil and frame sum after
them) are float32 in every configuration: a duration `ceil`ed from a value near an integer would move by a
frame and shift everything after it, so no setting can put them in bf16 (`__post_init__` refuses it), and
durations are identical in every precision. The converter's reference encoder (tone-color extraction) and
spectrogram stay float32 too: embeddings are cached across runs without a precision in their key.

`choose_precision` resolves `--precision auto|fp32|bf16`: bf16 only where the processor computes bf16
natively (x86: `avx512_bf16` or `amx_bf16` among /proc/cpuinfo's flags, Intel since Sapphire Rapids and
AMD since Zen 4; Arm: `bf16` among its Features, or `hw.optional.arm.FEAT_BF16` on macOS; CUDA: compute
capability 8.0 or later), fp32 everywhere else: without native support torch emulates bf16 and the
vocoders run several times slower than in fp32. The flags are the whole decision (no micro-benchmark):
they are what oneDNN itself checks before it takes its bf16 kernels.
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch

from openvoice_tt.errors import InputError

FP32, BF16 = "fp32", "bf16"
DTYPES = {FP32: torch.float32, BF16: torch.bfloat16}
PRECISION_CHOICES = ("auto", FP32, BF16)
X86_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo "flags"
ARM_BF16_FEATURES = ("bf16",)  # /proc/cpuinfo "Features" (FEAT_BF16, Armv8.6; Graviton 3, Neoverse V1/N2)
CPUINFO = Path("/proc/cpuinfo")


def dtype_of(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ValueError(f"unknown block precision {name!r} (choose from {', '.join(DTYPES)})")
    return DTYPES[name]


def _checked(config: object, fixed_fp32: tuple[str, ...], why: str) -> None:
    for field in fields(config):  # type: ignore[arg-type]
        dtype_of(getattr(config, field.name))
    for name in fixed_fp32:
        if getattr(config, name) != FP32:
            raise ValueError(f"{type(config).__name__}.{name} must be fp32: {why}")


@dataclass(frozen=True)
class MeloTorchPrecision:
    """The MeloTTS synthesizer's blocks on torch, each "fp32" or "bf16"."""

    # Durations are ceil()ed from the text encoder's and the predictors' output: fp32, always.
    text_encoder: str = FP32
    duration: str = FP32
    flow: str = BF16
    vocoder: str = BF16

    def __post_init__(self) -> None:
        _checked(self, ("text_encoder", "duration"), "they decide the durations")

    @classmethod
    def all_fp32(cls) -> MeloTorchPrecision:
        """The reference: every block in float32."""
        return cls(FP32, FP32, FP32, FP32)

    @classmethod
    def for_mode(cls, mode: str) -> MeloTorchPrecision:
        """The configuration a resolved `--precision` ("fp32" or "bf16") runs."""
        return cls.all_fp32() if mode == FP32 else cls()

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class ConverterTorchPrecision:
    """The tone-color converter's blocks on torch, each "fp32" or "bf16"."""

    # The spectrogram is the exact DFT of the input; the reference encoder makes the embeddings that are
    # cached across runs (their cache key names no precision): both fp32, always.
    spectrogram: str = FP32
    reference_encoder: str = FP32
    posterior_encoder: str = BF16
    flow: str = BF16
    vocoder: str = BF16

    def __post_init__(self) -> None:
        _checked(self, ("spectrogram", "reference_encoder"), "embeddings and spectrograms are kept in float32")

    @classmethod
    def all_fp32(cls) -> ConverterTorchPrecision:
        return cls(FP32, FP32, FP32, FP32, FP32)

    @classmethod
    def for_mode(cls, mode: str) -> ConverterTorchPrecision:
        return cls.all_fp32() if mode == FP32 else cls()

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class PrecisionChoice:
    """What `--precision` resolved to on one device: `mode` ("fp32" or "bf16"; the ttnn backend says
    "ttnn per block") and why, in words a user can act on."""

    requested: str
    mode: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.mode} ({self.reason})"


@dataclass(frozen=True)
class NativeBf16:
    """Whether a processor computes bf16 natively, and the evidence (a flag's name, or what was missing)."""

    native: bool
    evidence: str


def cpu_native_bf16(cpuinfo: str | None = None, system: str | None = None) -> NativeBf16:
    """Read the CPU's flags: /proc/cpuinfo on Linux (`cpuinfo` replaces its text, for tests), sysctl on
    macOS. Unreadable flags count as no native bf16 (fp32 is never slow)."""
    system = platform.system() if system is None else system
    if cpuinfo is None and system == "Darwin":
        return _darwin_bf16()
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text(errors="replace")
        except OSError as e:
            return NativeBf16(False, f"CPU flags unreadable ({CPUINFO}: {e.strerror})")
    flags: set[str] = set()
    features: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "flags":
            flags.update(value.split())
        elif key == "features":
            features.update(value.split())
    found = [flag for flag in X86_BF16_FLAGS if flag in flags] + [f for f in ARM_BF16_FEATURES if f in features]
    if found:
        return NativeBf16(True, f"{'/'.join(found)} in {CPUINFO}")
    if flags:
        return NativeBf16(False, f"no {' or '.join(X86_BF16_FLAGS)} among the CPU flags")
    if features:
        return NativeBf16(False, f"no {' or '.join(ARM_BF16_FEATURES)} among the CPU features")
    return NativeBf16(False, f"no CPU flags in {CPUINFO}")


def _darwin_bf16() -> NativeBf16:
    try:
        out = subprocess.run(
            ["sysctl", "-n", "hw.optional.arm.FEAT_BF16"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return NativeBf16(False, f"sysctl unavailable ({e})")
    if out == "1":
        return NativeBf16(True, "hw.optional.arm.FEAT_BF16 = 1")
    return NativeBf16(False, "no hw.optional.arm.FEAT_BF16")


def cuda_native_bf16(index: int = 0) -> NativeBf16:
    major, minor = torch.cuda.get_device_capability(index)
    name = torch.cuda.get_device_name(index)
    if major >= 8:
        return NativeBf16(True, f"{name}, compute capability {major}.{minor}")
    return NativeBf16(False, f"{name}, compute capability {major}.{minor} (bf16 needs 8.0 or later)")


def choose_precision(requested: str, device: torch.device | str, cpuinfo: str | None = None) -> PrecisionChoice:
    """Resolve `--precision` on a torch device ("cpu" or "cuda"); `cpuinfo` replaces /proc/cpuinfo (tests)."""
    if requested not in PRECISION_CHOICES:
        raise InputError(f"--precision {requested!r}: choose one of {', '.join(PRECISION_CHOICES)}")
    kind = torch.device(device).type
    if requested == FP32:
        return PrecisionChoice(requested, FP32, "--precision fp32: the reference")
    native = cuda_native_bf16() if kind == "cuda" else cpu_native_bf16(cpuinfo)
    if requested == BF16:
        if native.native:
            return PrecisionChoice(requested, BF16, f"--precision bf16 (native: {native.evidence})")
        return PrecisionChoice(
            requested, BF16, f"--precision bf16, not native here ({native.evidence}): emulated, slower than fp32"
        )
    if native.native:
        return PrecisionChoice(requested, BF16, f"auto: native bf16 on this {kind.upper()} ({native.evidence})")
    return PrecisionChoice(requested, FP32, f"auto: {native.evidence}, so fp32 (bf16 would be emulated, slower)")


def cast(dtype: torch.dtype, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Tensors as a block of `dtype` takes them (no copy when they already are)."""
    return tuple(t.to(dtype) for t in tensors)
