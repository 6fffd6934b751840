"""`VoiceCloner`: text + a reference voice -> speech in that voice (the OpenVoice V2 flow, spec §3.6)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from openvoice_tt.api.converter import ToneColorConverter
from openvoice_tt.api.device import stage_timer
from openvoice_tt.api.embeddings import as_embedding
from openvoice_tt.api.speech import PathLike, Progress, Speech
from openvoice_tt.api.tts import TTS
from openvoice_tt.api.validation import CONVERSION, DEFAULT_SEED, SYNTHESIS, check_tau, reference_paths
from openvoice_tt.errors import InputError
from openvoice_tt.languages import Language
from openvoice_tt.pipeline import CONVERTER_STAGE_PREFIX

if TYPE_CHECKING:
    import torch

    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.pipeline import Chunk, Conversion, Voice
    from openvoice_tt.text.lexicon import Lexicon
    from openvoice_tt.timing import StageTimer
    from openvoice_tt.word_timings import WordTiming


class VoiceCloner:
    """Text + a reference voice -> speech in that voice at 22.05 kHz (the OpenVoice V2 flow, spec §3.6).

    MeloTTS speaks the text with a base speaker; the 44.1 kHz result is resampled to 22.05 kHz with soxr in
    memory (upstream round-trips through a 16-bit temporary WAV) and converted from the base speaker's
    embedding (base_speakers/ses: es.pth for ES, en-newest.pth for EN-Newest, ...) to the reference's. One
    noise source per utterance, so a seed reproduces the output bit for bit. `lexicon` and `language` go to
    the TTS it makes (see `TTS`); the base speaker is one of that language's. `precision` goes to both models
    it makes (see `TTS`).
    """

    def __init__(
        self,
        checkpoints: PathLike | None = None,
        device: str = "auto",
        cache_dir: PathLike | None = None,
        tts: TTS | None = None,
        converter: ToneColorConverter | None = None,
        lexicon: PathLike | Lexicon | None = None,
        language: str | Language = "EN",
        precision: str = "auto",
    ) -> None:
        if tts is not None and lexicon is not None:
            raise ValueError("give the lexicon to the TTS you pass in, not to VoiceCloner")
        self.tts = tts if tts is not None else TTS(checkpoints, device, lexicon, language, precision)
        self.converter = (
            converter if converter is not None else ToneColorConverter(checkpoints, device, cache_dir, precision)
        )

    @property
    def sample_rate(self) -> int:
        return self.converter.sample_rate

    def clone(
        self,
        text: str,
        reference: Sequence[PathLike] | None = None,
        se: torch.Tensor | PathLike | None = None,
        speaker: str | None = None,
        speed: float = SYNTHESIS.speed,
        sdp_ratio: float = SYNTHESIS.sdp_ratio,
        noise_scale: float = SYNTHESIS.noise_scale,
        noise_scale_w: float = SYNTHESIS.noise_scale_w,
        tau: float = CONVERSION.tau,
        seed: int = DEFAULT_SEED,
        method: str = "silero",
        use_cache: bool = True,
        progress: Progress | None = None,
        timer: StageTimer | None = None,
        words: bool = False,
    ) -> Speech:
        """Speak `text` in the voice of `reference` files (or of the embedding `se`), starting from base
        speaker `speaker`. Everything cheap is checked before anything slow runs. `timer` (default: a
        fresh StageTimer) receives the stage timings, e.g. a placement report's. `words`: also time every
        word, in samples of the clone (`Speech.words`; on the ttnn backend each chunk's durations are then
        downloaded, the take still joined and converted on the device)."""
        from openvoice_tt.pipeline import clone

        request = locals()
        timer = timer if timer is not None else stage_timer(self.tts.device, self.tts.device_index)
        prepared, voice, conversion, noise = self._plan(timer, **_cloning(request))
        timed: list[WordTiming] | None = [] if words else None
        synthesizer, converter = self.tts.synthesizer, self.converter.converter
        out = clone(synthesizer, converter, prepared, voice, conversion, noise, timer, progress, timed)
        hop = self.converter.hop_length
        chunks = tuple(chunk.text for chunk in prepared)
        phases = clone_phases(timer.seconds)
        return Speech(out, self.converter.sample_rate, len(out) // hop, hop, seed, chunks, phases, tuple(timed or ()))

    def stream(
        self,
        text: str,
        reference: Sequence[PathLike] | None = None,
        se: torch.Tensor | PathLike | None = None,
        speaker: str | None = None,
        speed: float = SYNTHESIS.speed,
        sdp_ratio: float = SYNTHESIS.sdp_ratio,
        noise_scale: float = SYNTHESIS.noise_scale,
        noise_scale_w: float = SYNTHESIS.noise_scale_w,
        tau: float = CONVERSION.tau,
        seed: int = DEFAULT_SEED,
        method: str = "silero",
        use_cache: bool = True,
        progress: Progress | None = None,
        words: list[WordTiming] | None = None,
    ) -> Iterator[np.ndarray]:
        """`clone`, yielded piece by piece (float32 at `sample_rate`) as soon as each piece can be converted
        exactly (`pipeline.clone_stream`): the first audio comes after the first chunk or two instead of the
        whole text. The synthesized take is `clone`'s; the conversions draw their posterior noise from a
        second generator, so with `tau` 0 the pieces join into `clone`'s audio up to float rounding at the
        joins. Checks, the front end and the embedding run before this returns. `words` (a list) receives
        each chunk's word timings at the clone's rate as it is synthesized."""
        from openvoice_tt.pipeline import clone_stream

        request = locals()
        timer = stage_timer(self.tts.device, self.tts.device_index)
        prepared, voice, conversion, noise = self._plan(timer, **_cloning(request))
        conversion_noise = noise.derived()
        tts, converter = self.tts.synthesizer, self.converter.converter
        return clone_stream(
            tts, converter, prepared, voice, conversion, noise, conversion_noise, timer, progress, words=words
        )

    def _plan(
        self,
        timer: StageTimer,
        text: str,
        reference: Sequence[PathLike] | None,
        se: torch.Tensor | PathLike | None,
        speaker: str | None,
        speed: float,
        sdp_ratio: float,
        noise_scale: float,
        noise_scale_w: float,
        tau: float,
        seed: int,
        method: str,
        use_cache: bool,
    ) -> tuple[list[Chunk], Voice, Conversion, NoiseSource]:
        """A clone request checked and made ready for the pipeline: chunks, voice, conversion, noise."""
        from openvoice_tt.pipeline import Conversion

        if reference is not None and se is not None:
            raise InputError("give either reference audio or a voice embedding (se), not both")
        if reference is None and se is None:
            raise InputError("give reference audio or a voice embedding (se)")
        if reference is not None:
            reference = reference_paths(reference)
        name, params, noise = self.tts._checked(speaker, speed, sdp_ratio, noise_scale, noise_scale_w, seed)
        check_tau(tau)
        prepared = self.tts.prepare(text, timer)
        source_se = self.converter.base_speaker_se(name)
        target_se = (
            as_embedding(se, "se") if se is not None else self.converter.extract_se(reference, method, use_cache)
        )
        return prepared, self.tts.voice(name, params, speed), Conversion(source_se, target_se, tau), noise


def _cloning(request: dict[str, Any]) -> dict[str, Any]:
    """The arguments of `VoiceCloner._plan` out of a clone/stream call's locals()."""
    names = ("text", "reference", "se", "speaker", "speed", "sdp_ratio", "noise_scale", "noise_scale_w")
    return {name: request[name] for name in (*names, "tau", "seed", "method", "use_cache")}


def clone_phases(seconds: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Split a clone's stage timings into phases: the backends time the converter's stages as
    "converter.<stage>" (both networks have a "flow" and a "vocoder") and the step between them as "resample"."""
    phases: dict[str, dict[str, float]] = {"synth": {}, "convert": {}}
    for stage, value in seconds.items():
        if stage == "resample" or stage.startswith(CONVERTER_STAGE_PREFIX):
            phases["convert"][stage.removeprefix(CONVERTER_STAGE_PREFIX)] = value
        else:
            phases["synth"][stage] = value
    return phases
