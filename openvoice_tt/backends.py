"""The compute backends behind the API: torch (CPU/CUDA, the reference) and ttnn (Tenstorrent).

Both expose the same two objects, so `api.py` never knows which one runs:
- a synthesizer: model inputs of one text chunk -> waveform at the MeloTTS rate + per-token frames;
- a converter: speech clips -> averaged tone-color embedding; waveform + two embeddings -> waveform.
Audio crosses this boundary as float32 numpy arrays; embeddings as [1, 256, 1] CPU tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from openvoice_tt.config import ConversionChunking, ConverterConfig, MeloConfig
from openvoice_tt.errors import DeviceError
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.synthesizer import SynthesisParams
from openvoice_tt.timing import NULL_TIMER, StageTimer

DEVICE_CHOICES = ("auto", "cpu", "cuda", "tt")


class ModelInputs(Protocol):
    """What the text front end produces for one chunk (see `openvoice_tt.text.TextInputs`)."""

    phone_ids: torch.Tensor
    tone_ids: torch.Tensor
    language_ids: torch.Tensor
    bert: torch.Tensor
    ja_bert: torch.Tensor


@dataclass
class Synthesized:
    audio: np.ndarray  # float32 [samples] at the MeloTTS rate
    durations: np.ndarray | None  # int [T_text] frames per token (None where reading them back would cost a transfer)
    frames: int


class Synthesizer(Protocol):
    name: str
    config: MeloConfig

    def synthesize(
        self,
        inputs: ModelInputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> Synthesized: ...


class Converter(Protocol):
    name: str
    config: ConverterConfig

    def tone_color(self, clips: Sequence[np.ndarray], timer: StageTimer = NULL_TIMER) -> torch.Tensor: ...

    def convert(
        self,
        audio: np.ndarray,
        source_se: torch.Tensor,
        target_se: torch.Tensor,
        tau: float,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> np.ndarray: ...


# --------------------------------------------------------------------------------------------------
# torch


def torch_device(choice: str) -> torch.device:
    """Resolve --device for the torch backend ("auto" prefers CUDA, then CPU)."""
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise DeviceError("--device cuda: no CUDA device is available (torch sees none)")
        return torch.device("cuda")
    return torch.device("cpu")


class TorchSynthesizer:
    name = "torch"

    def __init__(self, folder: Path, device: torch.device) -> None:
        from openvoice_tt.reference.synthesizer import load_melo_synthesizer

        self.device = device
        self.model = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth").to(device)
        self.config = self.model.config

    def synthesize(
        self,
        inputs: ModelInputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> Synthesized:
        d = self.device
        out = self.model.infer(
            inputs.phone_ids.unsqueeze(0).to(d),
            inputs.tone_ids.unsqueeze(0).to(d),
            inputs.language_ids.unsqueeze(0).to(d),
            inputs.bert.unsqueeze(0).to(d),
            inputs.ja_bert.unsqueeze(0).to(d),
            speaker_id,
            noise,
            params,
            timer,
        )
        durations = out.durations.flatten().long().cpu().numpy()
        return Synthesized(out.audio.flatten().float().cpu().numpy(), durations, out.frames)


class TorchConverter:
    name = "torch"

    def __init__(self, folder: Path, device: torch.device) -> None:
        from openvoice_tt.reference.converter import load_converter_model

        self.device = device
        self.model = load_converter_model(folder / "config.json", folder / "checkpoint.pth").to(device)
        self.config = self.model.config

    def _spectrogram(self, audio: np.ndarray) -> torch.Tensor:
        return self.model.spectrogram(
            torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None].to(self.device)
        )

    def tone_color(self, clips: Sequence[np.ndarray], timer: StageTimer = NULL_TIMER) -> torch.Tensor:
        """Mean of the per-clip embeddings (upstream averages embeddings, not spectrogram frames)."""
        embeddings = []
        for clip in clips:
            with timer("spectrogram"):
                spec = self._spectrogram(clip)
            with timer("reference_encoder"):
                embeddings.append(self.model.tone_color(spec))
        return torch.stack(embeddings).mean(0).cpu()

    def convert(
        self,
        audio: np.ndarray,
        source_se: torch.Tensor,
        target_se: torch.Tensor,
        tau: float,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> np.ndarray:
        with timer("spectrogram"):
            spec = self._spectrogram(audio)
        out = self.model.convert(spec, source_se.to(self.device), target_se.to(self.device), noise, tau, timer)
        return out.flatten().float().cpu().numpy()


# --------------------------------------------------------------------------------------------------
# ttnn


# "hardware" (default), "emulation" (faithful), "emulation:exact", "mock:wormhole_n150", "mock:blackhole_p150"
TT_DEVICE_ENV = "OPENVOICE_TT_DEVICE"
TT_CACHE_ENV = "OPENVOICE_TT_CACHE"
_tt_device = None


def tt_device():
    """The process's one Tenstorrent device (opened on first use): hardware, or what OPENVOICE_TT_DEVICE names."""
    global _tt_device
    if _tt_device is None:
        import os

        from openvoice_tt.tt.device import configure_mock, open_emulated_device, open_ttnn_device

        choice = os.environ.get(TT_DEVICE_ENV, "hardware")
        if choice in ("emulation", "emulation:faithful", "emulation:exact"):
            _tt_device = open_emulated_device(choice.partition(":")[2] or "faithful")
        elif choice.startswith("mock:"):
            configure_mock(choice.split(":", 1)[1])
            _tt_device = open_ttnn_device()
        elif choice == "hardware":
            from openvoice_tt.tt.device import MOCK_ENV

            if os.environ.get(MOCK_ENV):  # a mock computes nothing: never let it stand in silently for a chip
                raise DeviceError(
                    f"{MOCK_ENV} is set, which makes ttnn open a mock device (it computes nothing); unset it, "
                    f"or ask for a mock explicitly with {TT_DEVICE_ENV}=mock:wormhole_n150"
                )
            _tt_device = open_ttnn_device()
        else:
            raise DeviceError(
                f"{TT_DEVICE_ENV}={choice!r}: use hardware, emulation, emulation:exact, mock:wormhole_n150 or "
                "mock:blackhole_p150"
            )
    return _tt_device


def weight_cache_path(checkpoint: Path, arch: str, precision: object) -> Path:
    import os

    from openvoice_tt.checkpoints import file_sha256
    from openvoice_tt.tt.weights import cache_key

    root = Path(os.environ.get(TT_CACHE_ENV, Path.home() / ".cache" / "openvoice-tt" / "weights"))
    return root / f"{checkpoint.parent.name}-{cache_key(file_sha256(checkpoint), arch, precision)}.safetensors"


def _tt_model(folder: Path, precision: object, load_reference, build):
    """Load the reference model, then build its ttnn twin with weights prepared once per checkpoint and arch."""
    from openvoice_tt.tt.weights import WeightCache

    device = tt_device()
    device.weights = WeightCache(weight_cache_path(folder / "checkpoint.pth", device.arch, precision))
    ref = load_reference(folder / "config.json", folder / "checkpoint.pth")
    return device, ref.config, build(device, ref, precision)


class TtConverter:
    name = "tt"

    def __init__(self, folder: Path) -> None:
        from openvoice_tt.config import ConverterPrecision
        from openvoice_tt.reference.converter import load_converter_model
        from openvoice_tt.tt.converter import ToneColorConverter

        self.device, self.config, self.model = _tt_model(
            folder, ConverterPrecision(), load_converter_model, ToneColorConverter
        )

    def tone_color(self, clips: Sequence[np.ndarray], timer: StageTimer = NULL_TIMER) -> torch.Tensor:
        return self.model.tone_color(clips, timer)

    def convert(
        self,
        audio: np.ndarray,
        source_se: torch.Tensor,
        target_se: torch.Tensor,
        tau: float,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> np.ndarray:
        return self.model.convert(audio, source_se, target_se, tau, noise, timer)


class TtSynthesizer:
    name = "tt"

    def __init__(self, folder: Path) -> None:
        from openvoice_tt.config import MeloPrecision
        from openvoice_tt.reference.synthesizer import load_melo_synthesizer
        from openvoice_tt.tt.synthesizer import MeloSynthesizer

        self.device, self.config, self.model = _tt_model(
            folder, MeloPrecision(), load_melo_synthesizer, MeloSynthesizer
        )

    def synthesize(
        self,
        inputs: ModelInputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> Synthesized:
        audio, frames = self.model.synthesize(inputs, speaker_id, params, noise, timer)
        return Synthesized(audio.numpy(), None, frames)


# --------------------------------------------------------------------------------------------------
# Long audio


def convert_speech(
    converter: Converter,
    audio: np.ndarray,
    source_se: torch.Tensor,
    target_se: torch.Tensor,
    tau: float,
    noise: NoiseSource,
    timer: StageTimer = NULL_TIMER,
    chunking: ConversionChunking | None = None,
) -> np.ndarray:
    """Convert `audio`; on the ttnn backend, inputs longer than `chunking.max_seconds` go in pieces."""
    from openvoice_tt.chunking import convert_in_pieces

    chunking = chunking or (ConversionChunking() if converter.name == "tt" else None)
    if chunking is None or len(audio) <= chunking.max_seconds * converter.config.data.sampling_rate:
        return converter.convert(audio, source_se, target_se, tau, noise, timer)
    return convert_in_pieces(
        lambda piece, piece_noise: converter.convert(piece, source_se, target_se, tau, piece_noise, timer),
        audio,
        converter.config,
        noise,
        chunking,
    )


# --------------------------------------------------------------------------------------------------
# Text + reference voice -> cloned speech


def clone_speech(
    synthesizer: Synthesizer,
    converter: Converter,
    chunks: Sequence[ModelInputs],
    speaker_id: int,
    params: SynthesisParams,
    noise: NoiseSource,
    silence_samples: int,
    source_se: torch.Tensor,
    target_se: torch.Tensor,
    tau: float,
    timer: StageTimer = NULL_TIMER,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Upstream's V2 flow: every chunk synthesized and followed by silence, the whole take converted once.

    On the torch backend the MeloTTS audio is resampled to the converter rate with soxr on the host. When
    both networks run on ttnn the audio never leaves the device: chunks and silences are concatenated,
    decimated 2:1 by an FIR and converted there, and only the converted waveform is downloaded.
    `progress(done, total)` is called after each chunk and after the conversion (total = chunks + 1).
    """
    if isinstance(synthesizer, TtSynthesizer) and isinstance(converter, TtConverter):
        from openvoice_tt.tt.clone import clone_on_device

        return clone_on_device(
            synthesizer.model,
            converter.model,
            chunks,
            speaker_id,
            params,
            noise,
            silence_samples,
            source_se,
            target_se,
            tau,
            timer,
            progress=progress,
        )
    from openvoice_tt.audio import resample

    report = progress or (lambda done, total: None)
    pieces = []
    for done, inputs in enumerate(chunks, start=1):
        pieces += [
            synthesizer.synthesize(inputs, speaker_id, params, noise, timer).audio,
            np.zeros(silence_samples, dtype=np.float32),
        ]
        report(done, len(chunks) + 1)
    speech = np.concatenate(pieces)
    with timer("resample"):
        speech = resample(speech, synthesizer.config.data.sampling_rate, converter.config.data.sampling_rate)
    out = convert_speech(converter, speech, source_se, target_se, tau, noise, timer.prefixed("converter."))
    report(len(chunks) + 1, len(chunks) + 1)
    return out


# --------------------------------------------------------------------------------------------------
# Selection


def resolve_device(choice: str) -> str:
    """--device -> "tt", "cuda" or "cpu" ("auto": a Tenstorrent chip if present, else CUDA, else CPU)."""
    import os

    if choice not in DEVICE_CHOICES:
        raise DeviceError(f"--device {choice!r}: choose one of {', '.join(DEVICE_CHOICES)}")
    if choice != "auto":
        return choice
    from openvoice_tt.tt.device import hardware_available

    if os.environ.get(TT_DEVICE_ENV, "hardware") != "hardware" or hardware_available():
        return "tt"
    return "cuda" if torch.cuda.is_available() else "cpu"


def open_synthesizer(folder: Path, device: str) -> Synthesizer:
    kind = resolve_device(device)
    if kind == "tt":
        return TtSynthesizer(folder)
    return TorchSynthesizer(folder, torch_device(kind))


def open_converter(folder: Path, device: str) -> Converter:
    kind = resolve_device(device)
    if kind == "tt":
        return TtConverter(folder)
    return TorchConverter(folder, torch_device(kind))
