"""`ToneColorConverter`: the OpenVoice V2 converter, i.e. speaker embeddings from references, and voice
conversion from one embedding's timbre to another's."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from openvoice_tt import audio as audio_io
from openvoice_tt.api.device import resolve_device, stage_timer
from openvoice_tt.api.embeddings import SE_CACHE_VERSION, EmbeddingCache, as_embedding, load_se
from openvoice_tt.api.speech import PathLike, Progress, Speech
from openvoice_tt.api.validation import (
    CONVERSION,
    DEFAULT_SEED,
    SEGMENTATION_METHODS,
    check_tau,
    noise_source,
    reference_paths,
)
from openvoice_tt.api.voices import find_speaker
from openvoice_tt.errors import AudioError, InputError, name_problem
from openvoice_tt.layout import Layout, existing_checkpoint_dir, require_files

if TYPE_CHECKING:
    import torch

    from openvoice_tt.backends import Converter
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.precision import PrecisionChoice
    from openvoice_tt.timing import StageTimer


class ToneColorConverter:
    """The OpenVoice V2 tone-color converter: speaker embeddings from references, and voice conversion.

    Works at the converter's rate (22.05 kHz); inputs at other rates are resampled with soxr. `precision`
    as `TTS`'s (the posterior encoder, flow and vocoder in bf16 where "auto" finds it native);
    `device_index` as `TTS`'s (the chip or GPU).
    """

    def __init__(
        self,
        checkpoints: PathLike | None = None,
        device: str = "auto",
        cache_dir: PathLike | None = None,
        precision: str = "auto",
        device_index: int = 0,
    ) -> None:
        from openvoice_tt.backends import open_converter

        self.checkpoints = existing_checkpoint_dir(checkpoints)
        self.device = resolve_device(device)
        self.layout = Layout(self.checkpoints)
        folder = self.layout.converter.require()
        self.checkpoint_file = folder.weights
        self.device_index = device_index
        self.converter: Converter = open_converter(folder.path, self.device, precision, device_index)
        self.config = self.converter.config
        self.cache = EmbeddingCache(cache_dir)
        self._checkpoint_hash: str | None = None

    @property
    def backend(self) -> str:
        return self.converter.name

    @property
    def precision(self) -> PrecisionChoice:
        """What `precision` resolved to (as `TTS.precision`; embeddings are float32 in every precision)."""
        return self.converter.precision

    @property
    def sample_rate(self) -> int:
        return self.config.data.sampling_rate

    @property
    def hop_length(self) -> int:
        return self.config.data.hop_length

    def base_speaker_se(self, speaker: str) -> torch.Tensor:
        """The tone-color embedding of a MeloTTS base speaker: base_speakers/ses/<en-us>.pth (spec §1.2).

        A name that is not a speaker of the MeloTTS config (or, without one, of the embedding folder) is an
        InputError listing the valid names; a speaker whose file is missing is a CheckpointError."""
        if name_problem(speaker) is not None:  # no file name: an InputError unless the config names it
            find_speaker(self._base_speakers(), speaker)
        path = self.layout.speaker_se(speaker)
        if not path.is_file():
            find_speaker(self._base_speakers(), speaker)
        require_files(path)
        return load_se(path)

    def _base_speakers(self) -> list[str]:
        """Every installed language's speaker names (EN and EN_V2 share theirs), or, with no MeloTTS config
        at all, the embedding files' stems."""
        from openvoice_tt.api.voices import installed_speakers

        names = list(dict.fromkeys(speaker.name for speaker in installed_speakers(self.checkpoints)))
        return names or sorted(p.stem for p in self.layout.speaker_embeddings.glob("*.pth"))

    def extract_se(
        self,
        references: Sequence[PathLike],
        method: str = "silero",
        use_cache: bool = True,
        progress: Progress | None = None,
    ) -> torch.Tensor:
        """The tone-color embedding [1, 256, 1] of the voice in `references` (spec §3.4, upstream get_se).

        Each file is read at 22.05 kHz (mono), its speech found (`method`: "silero" VAD or "energy") and cut
        into ~10 s pieces; the pieces of all files are pooled and their embeddings averaged. References are
        ordered by audio content first, so the order they are given in does not change the result. Under 1 s
        of speech in a file is an AudioError, under 5 s a ShortReferenceWarning.

        Cached (unless `use_cache` is False) under sha256 of: the sorted content hashes of the references'
        22.05 kHz audio, the converter checkpoint's sha256 and the detector that actually runs (energy when
        silero cannot be loaded, so such an embedding is never served later as a silero one). A cache hit
        skips segmentation, so it repeats no warning.
        """
        if method not in SEGMENTATION_METHODS:
            raise InputError(f"unknown speech detection method '{method}' (use {' or '.join(SEGMENTATION_METHODS)})")
        references = reference_paths(references)
        steps = len(references) + 1
        if progress is not None:
            progress(0, steps)
        clips = []
        for path in references:
            clip = audio_io.read_audio(path, self.sample_rate, audio_io.MAX_REFERENCE_SECONDS)
            clips.append((audio_io.content_hash(clip, self.sample_rate), os.fspath(path), clip))
        clips.sort(key=lambda item: item[0])
        method = audio_io.detector_for(method)
        key = self._cache_key([digest for digest, _, _ in clips], method)
        cached = self.cache.get(key) if use_cache else None
        if cached is not None:
            if progress is not None:
                progress(steps, steps)
            return cached
        segments: list[np.ndarray] = []
        for done, (_, name, clip) in enumerate(clips, start=1):
            segments += audio_io.speech_segments(clip, self.sample_rate, name=name, method=method)
            if progress is not None:
                progress(done, steps)
        embedding = self.converter.tone_color(segments)
        if progress is not None:
            progress(steps, steps)
        if use_cache:
            self.cache.put(key, embedding)
        return embedding

    def _cache_key(self, content_hashes: list[str], method: str) -> str:
        from openvoice_tt.checkpoints import file_sha256

        if self._checkpoint_hash is None:
            self._checkpoint_hash = file_sha256(self.checkpoint_file)
        material = {
            "version": SE_CACHE_VERSION,
            "converter": self._checkpoint_hash,
            "method": method,
            "audio": content_hashes,
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def convert(
        self,
        audio: np.ndarray | PathLike,
        source_se: torch.Tensor | PathLike,
        target_se: torch.Tensor | PathLike,
        tau: float = CONVERSION.tau,
        seed: int = DEFAULT_SEED,
        sample_rate: int | None = None,
        progress: Progress | None = None,
    ) -> Speech:
        """Re-voice speech from the `source_se` timbre to `target_se` (spec §3.3) -> 22.05 kHz Speech.

        `audio` is a file (any format, any rate) or a mono float array at `sample_rate` (default: the
        converter's). Embeddings are tensors or `.pth` files. `tau` scales the posterior noise (0: none).
        """
        noise = noise_source(seed)
        timer = stage_timer(self.device, self.device_index)
        source, target = as_embedding(source_se, "source_se"), as_embedding(target_se, "target_se")
        if not isinstance(audio, str | os.PathLike):
            name = "audio"
            rate = self.sample_rate if sample_rate is None else sample_rate
            samples = audio_io.mono_samples(audio, rate, name)
            with timer("resample"):
                samples = audio_io.resample(samples, rate, self.sample_rate)
        else:
            name = os.fspath(audio)
            samples = audio_io.read_audio(audio, self.sample_rate)
        if progress is not None:
            progress(0, 1)
        out = self.render(samples, source, target, tau, noise, timer, name)
        if progress is not None:
            progress(1, 1)
        frames = len(out) // self.hop_length
        return Speech(out, self.sample_rate, frames, self.hop_length, seed, (), {"convert": dict(timer.seconds)})

    def render(
        self,
        samples: np.ndarray,
        source_se: torch.Tensor,
        target_se: torch.Tensor,
        tau: float,
        noise: NoiseSource,
        timer: StageTimer,
        name: str = "audio",
    ) -> np.ndarray:
        """Convert mono audio already at the converter's rate with a given noise source."""
        check_tau(tau)
        minimum = self.config.data.filter_length
        if len(samples) < minimum:
            raise AudioError(
                f"{name}: too short to convert ({len(samples)} samples at {self.sample_rate} Hz; need {minimum})"
            )
        from openvoice_tt.pipeline import Conversion, convert

        return convert(self.converter, samples, Conversion(source_se, target_se, tau), noise, timer)
