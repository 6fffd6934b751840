"""The compute backends behind the API: torch (CPU/CUDA, the reference) and ttnn (Tenstorrent).

Both implement the synthesizer and converter of `openvoice_tt.interfaces` (what the pipeline asks of a
backend), so `api.py` and `pipeline.py` never know which one runs; the ttnn pair adapts the models of
`openvoice_tt.tt`, which know nothing of the pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from openvoice_tt.chunking import ConversionChunking
from openvoice_tt.errors import DeviceError
from openvoice_tt.interfaces import Converter, ModelInputs, Synthesized, Synthesizer
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.precision import (
    ConverterTorchPrecision,
    MeloTorchPrecision,
    PrecisionChoice,
    choose_precision,
)
from openvoice_tt.reference.synthesizer import SynthesisParams
from openvoice_tt.timing import NULL_TIMER, StageTimer
from openvoice_tt.tt.device_choice import TT_DEVICE_ENV as TT_DEVICE_ENV  # re-exported: tests and scripts use it

if TYPE_CHECKING:
    from openvoice_tt.tt.card import Card
    from openvoice_tt.tt.device import TtDevice
    from openvoice_tt.tt.device_choice import ChipSelection, DeviceChoice

DEVICE_CHOICES = ("auto", "cpu", "cuda", "tt")
# The ttnn path's precision is its own, measured per block (`tt.settings`); --precision is the torch path's.
TT_PRECISION = PrecisionChoice("auto", "ttnn per block", "the ttnn path's measured choice per block (tt.settings)")


# --------------------------------------------------------------------------------------------------
# torch


def torch_device(choice: str, index: int = 0) -> torch.device:
    """Resolve --device for the torch backend ("auto" prefers CUDA, then CPU); `index` the GPU (`--devices`:
    one replica per GPU). The CPU is one device: an index other than 0 is a DeviceError there."""
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise DeviceError("--device cuda: no CUDA device is available (torch sees none)")
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceError(f"--devices: no GPU {index} here (torch sees {count}: ids 0 to {count - 1})")
        return torch.device("cuda", index)
    if index != 0:
        raise DeviceError(f"--devices {index}: the CPU is one device (--devices picks chips or GPUs)")
    return torch.device("cpu")


class HostAudio:
    """What every converter that works on host arrays shares."""

    keeps_audio_on_device = False
    chunking: ConversionChunking | None = None

    def samples(self, audio: np.ndarray) -> int:
        return len(audio)

    def to_host(self, audio: np.ndarray) -> np.ndarray:
        return audio


class TorchSynthesizer:
    name = "torch"
    keeps_audio_on_device = False
    computes_bert = False  # the front end's host BERT gives this path its features

    def __init__(self, folder: Path, device: torch.device, precision: str = "fp32") -> None:
        """`precision`: "fp32" (the reference), "bf16" or "auto" (`reference.precision.choose_precision`);
        the blocks that decide durations are float32 in every one."""
        from openvoice_tt.reference.synthesizer import load_melo_synthesizer

        self.device = device
        self.precision = choose_precision(precision, device)
        self.model = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth").to(device)
        self.model.set_precision(MeloTorchPrecision.for_mode(self.precision.mode))
        self.config = self.model.config

    def use_bert(self, extractor: Any) -> bool:
        return False

    def synthesize(
        self,
        inputs: ModelInputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
        durations: bool = False,
    ) -> Synthesized:
        """One chunk; its durations are always on the host here, so `durations` (asked for word timings)
        changes nothing."""
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
        audio = out.audio.flatten().float().cpu().numpy()
        return Synthesized(audio, durations, out.frames, len(audio))


class TorchConverter(HostAudio):
    name = "torch"
    chunking = ConversionChunking()
    """Passes of at most 120 s (+ 3 s context each side): one pass costs ~18 MiB per second of audio, so a
    non-streamed clone/convert needs ~2.3 GB of working memory for any length, not ~65 GB for an hour
    (issue 23). Shorter inputs are one pass, as upstream's; longer ones differ only by float rounding."""

    def __init__(self, folder: Path, device: torch.device, precision: str = "fp32") -> None:
        """`precision` as `TorchSynthesizer`'s; embeddings (the reference encoder) are float32 in every one."""
        from openvoice_tt.reference.converter import load_converter_model

        self.device = device
        self.precision = choose_precision(precision, device)
        self.model = load_converter_model(folder / "config.json", folder / "checkpoint.pth").to(device)
        self.model.set_precision(ConverterTorchPrecision.for_mode(self.precision.mode))
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


TT_CACHE_ENV = "OPENVOICE_TT_CACHE"


class TtDeviceOwner:
    """The process's Tenstorrent chips: opened on first use as OPENVOICE_TT_DEVICE names them
    (`tt.device_choice`, the one parser of that variable), kept open for every later model, closed by `close`.

    Chip 0 alone unless `open_chips` opened others first (`--devices`: one pipeline replica per chip, each
    model built on its chip's own device, `tt.card`). Held once per process because a chip is opened once (a
    second open fails) and every model on a chip shares its program cache and weights. `TT_DEVICE` below is
    the one instance: explicit process state, closed and reset through `close_tt_device()`, never by
    assigning to it. If the variable names another device than the open one (a test, or a notebook that
    changes it), `get` closes the open chips and opens the named one; models built on the closed chips must
    not be used afterwards."""

    def __init__(self) -> None:
        self._card: Card | None = None
        self._choice: DeviceChoice | None = None
        self._lock = threading.RLock()  # replicas' threads load models (so ask for their chip) at once

    @property
    def opened(self) -> TtDevice | None:
        """The first open chip's device, or None (nothing opened yet, or closed since)."""
        card = self._card
        return next(iter(card.devices.values())) if card is not None and card.devices else None

    @property
    def card(self) -> Card | None:
        """Every open chip (None: none open)."""
        return self._card

    def open_chips(self, chips: ChipSelection) -> tuple[int, ...]:
        """Open the chips `chips` names (closing any others open) and return their ids: before the models of
        several replicas are built, one per chip (DeviceError: a bad OPENVOICE_TT_DEVICE, or a chip that
        is not there)."""
        from openvoice_tt.tt.card import open_card
        from openvoice_tt.tt.device_choice import device_choice

        choice = device_choice()
        with self._lock:
            card = self._card
            if card is not None and choice == self._choice:
                every = tuple(range(card.chips_on_card)) if choice.kind != "emulation" else (0,)
                if (chips.ids if chips.ids is not None else every) == card.ids:
                    return card.ids  # already open: models built on these chips stay usable
            self.close()
            self._card, self._choice = open_card(choice, chips), choice
            return self._card.ids

    def get(self, chip: int = 0) -> TtDevice:
        """The open device of `chip` (chip 0 unless `open_chips` opened others) on the choice
        OPENVOICE_TT_DEVICE names, opening chip 0 if nothing is open (DeviceError: a bad value, a device
        that cannot be opened, or a chip not open)."""
        from openvoice_tt.tt.device_choice import ChipSelection, device_choice

        choice = device_choice()
        with self._lock:
            if self._card is not None and choice != self._choice:
                self.close()
            if self._card is None:
                self.open_chips(ChipSelection((chip,)))
            assert self._card is not None
            return self._card.device(chip)

    def close(self) -> None:
        """Close the open chips (a chip or mock is released through ttnn; the emulation holds nothing) and
        forget them: the next `get` opens afresh. Closing when nothing is open does nothing."""
        with self._lock:
            card, self._card, self._choice = self._card, None, None
        if card is not None:
            card.close()


TT_DEVICE = TtDeviceOwner()


def tt_device(chip: int = 0) -> TtDevice:
    """The device of `chip` (opened on first use, chip 0 by default): hardware, or what OPENVOICE_TT_DEVICE names."""
    return TT_DEVICE.get(chip)


def open_tt_chips(chips: ChipSelection) -> tuple[int, ...]:
    """Open the chips `--devices` names (one pipeline replica each) and return their ids."""
    return TT_DEVICE.open_chips(chips)


def close_tt_device() -> None:
    """Close the process's Tenstorrent chips, if any is open; the next `tt_device()` opens chip 0 again."""
    TT_DEVICE.close()


def weight_cache_path(checkpoint: Path, arch: str, precision: object) -> Path:
    import os

    from openvoice_tt.checkpoints import file_sha256
    from openvoice_tt.tt.weights import cache_key

    root = Path(os.environ.get(TT_CACHE_ENV, Path.home() / ".cache" / "openvoice-tt" / "weights"))
    return root / f"{checkpoint.parent.name}-{cache_key(file_sha256(checkpoint), arch, precision)}.safetensors"


def _tt_model(folder: Path, precision: object, load_reference, build, chip: int = 0):
    """Load the reference model, then build its ttnn twin on `chip` with weights prepared once per checkpoint
    and arch (every chip of a card reads the same prepared file)."""
    from openvoice_tt.tt.weights import WeightCache

    device = tt_device(chip)
    ref = load_reference(folder / "config.json", folder / "checkpoint.pth")
    with device.preparing(WeightCache(weight_cache_path(folder / "checkpoint.pth", device.arch, precision))):
        return build(device, ref, precision)


class TtConverter:
    name = "tt"
    keeps_audio_on_device = True
    precision = TT_PRECISION
    chunking = ConversionChunking()  # a mock N150 fits 300 s in one pass, not 600 s

    def __init__(self, model: Any) -> None:
        """Around a built tt ToneColorConverter (`load` builds one from a checkpoint folder)."""
        self.device, self.config, self.model = model.device, model.config, model

    @classmethod
    def load(cls, folder: Path, chip: int = 0) -> TtConverter:
        from openvoice_tt.reference.converter import load_converter_model
        from openvoice_tt.tt.converter import ToneColorConverter
        from openvoice_tt.tt.settings import ConverterPrecision

        return cls(_tt_model(folder, ConverterPrecision(), load_converter_model, ToneColorConverter, chip))

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
        """`audio`: host samples, or a take from `join_on_device` (converted without leaving the device)."""
        if isinstance(audio, np.ndarray):
            return self.model.convert(audio, source_se, target_se, tau, noise, timer)
        handle, samples = audio
        return self.model.convert_on_device(handle, samples, source_se, target_se, tau, noise, timer)

    def samples(self, audio: Any) -> int:
        return len(audio) if isinstance(audio, np.ndarray) else audio[1]

    def to_host(self, audio: Any) -> np.ndarray:
        if isinstance(audio, np.ndarray):
            return audio
        handle, samples = audio
        return self.device.download(handle, "speech").reshape(-1)[:samples].numpy()

    def join_on_device(self, pieces: Iterable[tuple[Any, int]], silence_samples: int, rate_in: int) -> Any:
        from openvoice_tt.tt.take import join_on_device

        return join_on_device(self.model, pieces, silence_samples, rate_in)


class TtSynthesizer:
    name = "tt"
    keeps_audio_on_device = True
    precision = TT_PRECISION

    def __init__(self, model: Any) -> None:
        """Around a built tt MeloSynthesizer (`load` builds one from a checkpoint folder)."""
        self.device, self.config, self.model = model.device, model.config, model
        self.computes_bert = False

    def use_bert(self, extractor: Any) -> bool:
        """Run the BERT on the device (`tt/bert.py`): chunks then upload BERT token ids, not features."""
        self.model.use_bert(extractor)
        self.computes_bert = True
        return True

    @classmethod
    def load(cls, folder: Path, chip: int = 0) -> TtSynthesizer:
        from openvoice_tt.reference.synthesizer import load_melo_synthesizer
        from openvoice_tt.tt.settings import MeloPrecision
        from openvoice_tt.tt.synthesizer import MeloSynthesizer

        return cls(_tt_model(folder, MeloPrecision(), load_melo_synthesizer, MeloSynthesizer, chip))

    def synthesize(
        self,
        inputs: ModelInputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
        durations: bool = False,
    ) -> Synthesized:
        """`durations`: also download the chunk's durations (word timings only: one small extra transfer)."""
        wave, samples, frames, per_token = self.model.synthesize_on_device(
            inputs, speaker_id, params, noise, timer, durations
        )
        audio = self.model.download_wave(wave, samples).numpy()
        return Synthesized(audio, _on_host(per_token), frames, len(audio))

    def synthesize_on_device(
        self,
        inputs: ModelInputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
        durations: bool = False,
    ) -> Synthesized:
        """`durations`: also download the chunk's durations (a clone's word timings only)."""
        wave, samples, frames, per_token = self.model.synthesize_on_device(
            inputs, speaker_id, params, noise, timer, durations
        )
        return Synthesized(wave, _on_host(per_token), frames, samples)


def _on_host(per_token: torch.Tensor | None) -> np.ndarray | None:
    """A chunk's downloaded durations as the pipeline takes them (None: not asked for)."""
    return None if per_token is None else per_token.numpy()


# --------------------------------------------------------------------------------------------------
# Selection


def resolve_device(choice: str) -> str:
    """--device -> "tt", "cuda" or "cpu" ("auto": a Tenstorrent chip if present, or the emulation or mock
    device OPENVOICE_TT_DEVICE names, else CUDA, else CPU; a bad OPENVOICE_TT_DEVICE is a DeviceError)."""
    if choice not in DEVICE_CHOICES:
        raise DeviceError(f"--device {choice!r}: choose one of {', '.join(DEVICE_CHOICES)}")
    if choice != "auto":
        return choice
    from openvoice_tt.tt.device import hardware_available
    from openvoice_tt.tt.device_choice import device_choice

    if device_choice().kind != "hardware" or hardware_available():
        return "tt"
    return "cuda" if torch.cuda.is_available() else "cpu"


def check_precision(precision: str, kind: str) -> None:
    """--precision is the torch path's: the ttnn path takes only "auto" (its own choice per block)."""
    if kind == "tt" and precision != "auto":
        raise DeviceError(
            f"--precision {precision} is for the torch backend (--device cpu or cuda); the ttnn path's "
            "precision is chosen per block (README 'Precision per block'): leave --precision auto"
        )


def precision_choice(precision: str, kind: str) -> PrecisionChoice:
    """What `precision` resolves to on device `kind` ("cpu", "cuda", "tt"), known before any model loads: the
    `precision` of the models `open_synthesizer` and `open_converter` would open there (`check_precision`'s
    refusal included)."""
    check_precision(precision, kind)
    if kind == "tt":
        return TT_PRECISION
    return choose_precision(precision, torch_device(kind))


def open_synthesizer(folder: Path, device: str, precision: str = "auto", device_index: int = 0) -> Synthesizer:
    """The synthesizer of `folder` on `device` ("auto", "cpu", "cuda", "tt"); `device_index` the chip or GPU
    (one pipeline replica per chip or GPU: `--devices`)."""
    kind = resolve_device(device)
    check_precision(precision, kind)
    if kind == "tt":
        return TtSynthesizer.load(folder, device_index)
    return TorchSynthesizer(folder, torch_device(kind, device_index), precision)


def open_converter(folder: Path, device: str, precision: str = "auto", device_index: int = 0) -> Converter:
    """The converter of `folder` on `device`, chip or GPU `device_index` (as `open_synthesizer`)."""
    kind = resolve_device(device)
    check_precision(precision, kind)
    if kind == "tt":
        return TtConverter.load(folder, device_index)
    return TorchConverter(folder, torch_device(kind, device_index), precision)
