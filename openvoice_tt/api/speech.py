"""`Speech`, what every synthesis, conversion and clone returns, and the small types the API's signatures share."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from openvoice_tt import audio as audio_io
from openvoice_tt.word_timings import WordTiming

Progress = Callable[[int, int], None]
"""Progress callback: (steps done, steps in total); called once with 0 before the first step."""

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, eq=False)
class Speech:
    """A waveform and how it was made.

    `frames` counts the frames of the model that produced the audio and `hop_length` its samples per frame
    (MeloTTS: 512 at 44.1 kHz; converter: 256 at 22.05 kHz). For synthesis, `len(audio) == frames *
    hop_length + len(chunks) * silence`, the silence being upstream's 50 ms / speed after every chunk; for
    conversion and cloning (converter output), `len(audio) == frames * hop_length`. `timings` holds seconds
    per stage, grouped by phase ("synth", "convert"). `words`, when asked for (`words=True`), holds each
    word's samples [start, end) in `audio` (`openvoice_tt.word_timings`).
    """

    audio: np.ndarray
    sample_rate: int
    frames: int
    hop_length: int
    seed: int
    chunks: tuple[str, ...] = ()
    timings: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    words: tuple[WordTiming, ...] = ()

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    def save(self, destination: PathLike, format: str | None = None) -> None:
        """Write atomically to a path or "-" (stdout); the format comes from `format` or the extension."""
        audio_io.write_audio(destination, self.audio, self.sample_rate, format)
