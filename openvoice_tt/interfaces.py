"""What the pipeline needs of a compute backend: the synthesizer and converter protocols and their result.

These types belong to their consumer, `pipeline.py`, yet `backends.py` implements them; kept in this leaf
module, both depend downward on it and neither imports the other (when the pipeline imported them from
backends.py, backends -> tt -> pipeline -> backends was a cycle). `[tool.importlinter]` in pyproject.toml
states where this module sits among the layers.

- a synthesizer: model inputs of one text chunk -> waveform at the MeloTTS rate + per-token frames;
- a converter: speech clips -> averaged tone-color embedding; waveform + two embeddings -> waveform.
Audio crosses this boundary as float32 numpy arrays; embeddings as [1, 256, 1] CPU tensors. Each says
what it can do instead of being asked what it is: `keeps_audio_on_device` (the ttnn pair can hand a
waveform from synthesizer to converter without downloading it) and the converter's `chunking` (the
longest input it takes in one pass; None: any).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from openvoice_tt.timing import NULL_TIMER, StageTimer

if TYPE_CHECKING:
    import numpy as np
    import torch

    from openvoice_tt.chunking import ConversionChunking
    from openvoice_tt.config import ConverterConfig, MeloConfig
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.precision import PrecisionChoice
    from openvoice_tt.reference.synthesizer import SynthesisParams


class ModelInputs(Protocol):
    """What the text front end produces for one chunk (see `openvoice_tt.text.TextInputs`)."""

    phone_ids: torch.Tensor
    tone_ids: torch.Tensor
    language_ids: torch.Tensor
    bert: torch.Tensor
    ja_bert: torch.Tensor


@dataclass
class Synthesized:
    audio: Any  # float32 [samples] at the MeloTTS rate (numpy; a device tensor from synthesize_on_device)
    durations: np.ndarray | None  # int [T_text] frames per token (None where reading them back would cost a transfer)
    frames: int
    samples: int


class Synthesizer(Protocol):
    name: str
    config: MeloConfig
    keeps_audio_on_device: bool
    precision: PrecisionChoice  # what runs and why (bench, doctor, --json say it)
    computes_bert: bool  # ja_bert computed by the synthesizer from the chunk's text (`use_bert`), not the host

    def use_bert(self, extractor: Any) -> bool:
        """Compute `ja_bert` with `extractor`'s BERT (a `BertFeatureExtractor`) inside the synthesizer from
        now on, where this backend can (the ttnn one: on the device); whether it does."""
        ...

    def synthesize(
        self,
        inputs: ModelInputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
        durations: bool = False,
    ) -> Synthesized:
        """One chunk on the host; with `durations` (word timings), `Synthesized.durations` is never None
        (a backend that keeps them on the device downloads them then, and only then)."""
        ...

    def synthesize_on_device(
        self,
        inputs: ModelInputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
        durations: bool = False,
    ) -> Synthesized:
        """Only where `keeps_audio_on_device`: `audio` stays a device tensor; `durations` as in `synthesize`."""
        ...


class Converter(Protocol):
    name: str
    config: ConverterConfig
    keeps_audio_on_device: bool
    precision: PrecisionChoice
    chunking: ConversionChunking | None

    def samples(self, audio: Any) -> int: ...

    def to_host(self, audio: Any) -> np.ndarray: ...

    def join_on_device(self, pieces: Iterable[tuple[Any, int]], silence_samples: int, rate_in: int) -> Any:
        """Only where `keeps_audio_on_device`: waveforms (each followed by silence) -> one take at this rate."""
        ...

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
