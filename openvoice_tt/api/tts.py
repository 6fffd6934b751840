"""`TTS`: one MeloTTS language's checkpoint, text -> 44.1 kHz speech with one of its base speakers."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from openvoice_tt.api.device import resolve_device, stage_timer
from openvoice_tt.api.pronunciation import load_lexicon
from openvoice_tt.api.speech import PathLike, Progress, Speech
from openvoice_tt.api.validation import (
    DEFAULT_SEED,
    SYNTHESIS,
    check_text,
    noise_source,
    synthesis_params,
)
from openvoice_tt.api.voices import find_speaker
from openvoice_tt.errors import ConfigError, LexiconError
from openvoice_tt.languages import Language, find_language
from openvoice_tt.layout import Layout, existing_checkpoint_dir

if TYPE_CHECKING:
    from openvoice_tt.backends import Synthesizer
    from openvoice_tt.config import MeloConfig
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.pipeline import Chunk, Voice
    from openvoice_tt.reference.precision import PrecisionChoice
    from openvoice_tt.reference.synthesizer import SynthesisParams
    from openvoice_tt.text import TextInputs
    from openvoice_tt.text.lexicon import Lexicon
    from openvoice_tt.timing import StageTimer
    from openvoice_tt.word_timings import WordTiming


class TTS:
    """One MeloTTS language: text -> speech at 44.1 kHz with one of its base speakers.

    `language` (a code or key of `openvoice_tt.languages`: EN, EN_V2, EN_NEWEST or en-v3, ES, FR, ZH, JP,
    KR; default English) picks the checkpoint folder (`<checkpoints>/melotts-english/`, `melotts-spanish/`, ...) and its
    BERT folder (`bert-base-uncased/`, ...). The language's front end is imported first, so missing packages
    are a MissingPackagesError (exit 7) before any model loads. Without the BERT folder the front end uses
    zero features (spec §4.7) and one `NoBertWarning` says so. `lexicon` (a file of `word  ARPABET` lines,
    or a loaded Lexicon) overrides English pronunciations; it is read before any model. `precision` (torch
    backend): "auto" (bf16 for the flow and vocoder where the processor computes bf16 natively, else
    fp32), "fp32" (the reference) or "bf16"; durations are the same in each (`reference.precision`).
    `device_index`: the chip (ttnn) or GPU (CUDA) the models run on, 0 unless a caller keeps one replica
    per chip or GPU (`--devices`).
    """

    def __init__(
        self,
        checkpoints: PathLike | None = None,
        device: str = "auto",
        lexicon: PathLike | Lexicon | None = None,
        language: str | Language = "EN",
        precision: str = "auto",
        device_index: int = 0,
    ) -> None:
        from openvoice_tt.backends import open_synthesizer
        from openvoice_tt.bert import BertFeatureExtractor
        from openvoice_tt.text import NoBertWarning

        self.language = language if isinstance(language, Language) else find_language(language)
        self.language.front_end_class()  # a missing package is exit 7 before any model loads
        self.lexicon = load_lexicon(lexicon)
        if self.lexicon is not None and not self.language.reads_english:
            raise LexiconError(f"a lexicon (ARPAbet) is English-only; {self.language.name} cannot use one")
        self.checkpoints = existing_checkpoint_dir(checkpoints)
        self.device = resolve_device(device)
        layout = Layout(self.checkpoints, self.language.model)
        self.device_index = device_index
        self.synthesizer: Synthesizer = open_synthesizer(
            layout.melo.require().path, self.device, precision, device_index
        )
        self.config = self.synthesizer.config
        check_language_fits(self.config, self.language)
        bert_folder = layout.bert
        bert_device = f"cuda:{device_index}" if self.device == "cuda" else "cpu"
        bert = BertFeatureExtractor.from_folder(bert_folder, device=bert_device, missing_ok=True)
        self._bert = bert
        # the ttnn backend runs the BERT on the device (the front end still tokenizes with `bert`); its device
        # weights prepared, the host encoder's copy is dropped (the pipeline never asks the host for features
        # when the synthesizer `computes_bert`; a call that did would be a RuntimeError, not a silent rerun)
        self.bert_on_device = bert is not None and self.synthesizer.use_bert(bert)
        if self.bert_on_device:
            bert.release_encoder()
        with warnings.catch_warnings():  # replaced by the shorter notice below, which names the folder
            warnings.simplefilter("ignore", NoBertWarning)
            self.front_end = self.language.make_front_end(
                self.config.symbols, self.config.data.add_blank, bert, self.lexicon
            )
        if bert is None:
            download = "openvoice-tt download" + (
                "" if self.language.code == "EN" else f" --languages {self.language.key}"
            )
            warnings.warn(
                f"no BERT model in {bert_folder}; using zero BERT features (flatter prosody). "
                f"Run '{download}' to get it.",
                NoBertWarning,
                stacklevel=2,
            )

    @property
    def backend(self) -> str:
        return self.synthesizer.name

    @property
    def precision(self) -> PrecisionChoice:
        """What `precision` ("auto", "fp32", "bf16") resolved to on this backend, and why."""
        return self.synthesizer.precision

    @property
    def has_bert(self) -> bool:
        return self._bert is not None

    @property
    def sample_rate(self) -> int:
        return self.config.data.sampling_rate

    @property
    def hop_length(self) -> int:
        return self.config.data.hop_length

    @property
    def speakers(self) -> tuple[str, ...]:
        """Base speakers in config order (`data.spk2id`), e.g. EN-US, EN-BR, EN_INDIA, EN-AU, EN-Default
        for English, ES for Spanish."""
        return tuple(self.config.speakers)

    def speaker(self, name: str | None = None) -> str:
        """The config's name for speaker `name` (see `find_speaker`); None gives the first speaker."""
        return find_speaker(self.speakers, name)

    def silence_samples(self, speed: float) -> int:
        """Upstream's pause after every chunk: int(rate * 0.05 / speed) zeros."""
        return int(self.sample_rate * SYNTHESIS.chunk_silence_seconds / speed)

    def voice(self, speaker: str, params: SynthesisParams, speed: float) -> Voice:
        """The pipeline's view of a base speaker (config name) with checked parameters."""
        from openvoice_tt.pipeline import Voice

        return Voice(self.config.speakers[speaker], params, self.silence_samples(speed))

    def prepare(self, text: str, timer: StageTimer | None = None) -> list[Chunk]:
        """Split `text` into chunks (whole sentences, at most 256 characters; 100 in Chinese, Japanese and
        Korean: `text.split.chunk_limits`) and run the front end on each.

        A chunk with nothing speakable is skipped with a warning; text with nothing speakable at all is a
        TextError. Runs before any synthesis, so bad text fails in milliseconds.
        """
        from openvoice_tt.pipeline import split_chunks
        from openvoice_tt.text.frontend import ForeignTextWarning, foreign_letters
        from openvoice_tt.text.split import chunk_limits

        check_text(text)
        notice = foreign_letters(text) if self.language.reads_english else None
        if notice is not None:
            warnings.warn(notice, ForeignTextWarning, stacklevel=2)
        timer = timer if timer is not None else stage_timer("cpu")
        max_chars, first_chars = chunk_limits(self.language.splitter)
        return split_chunks(self._front_end, text, max_chars, timer, first_chars, self.language.splitter)

    def _front_end(self, chunk: str, timer: StageTimer) -> TextInputs:
        """Front end for one chunk, timed as "front_end" with the BERT part split out as "bert"."""
        timer.seconds.setdefault("front_end", 0.0)  # listed before "bert", in pipeline order
        bert_before = timer.seconds.get("bert", 0.0)
        start = time.perf_counter()
        try:
            return self.front_end(chunk, timer, defer_bert=True)  # BERT when the chunk is spoken
        finally:
            elapsed = time.perf_counter() - start - (timer.seconds.get("bert", 0.0) - bert_before)
            timer.seconds["front_end"] = timer.seconds.get("front_end", 0.0) + elapsed

    def synth(
        self,
        text: str,
        speaker: str | None = None,
        speed: float = SYNTHESIS.speed,
        sdp_ratio: float = SYNTHESIS.sdp_ratio,
        noise_scale: float = SYNTHESIS.noise_scale,
        noise_scale_w: float = SYNTHESIS.noise_scale_w,
        seed: int = DEFAULT_SEED,
        progress: Progress | None = None,
        timer: StageTimer | None = None,
        words: bool = False,
    ) -> Speech:
        """Speak `text` with base speaker `speaker`; the same seed gives the same samples bit for bit.

        Long text is synthesized chunk by chunk, each followed by upstream's int(rate * 0.05 / speed) zeros.
        `timer` (default: a fresh StageTimer) receives the stage timings, e.g. a bench's program count.
        `words`: also time every word (`Speech.words`; on the ttnn backend the durations are then downloaded).
        """
        name, params, noise = self._checked(speaker, speed, sdp_ratio, noise_scale, noise_scale_w, seed)
        timer = timer if timer is not None else stage_timer(self.device, self.device_index)
        prepared = self.prepare(text, timer)
        timed: list[WordTiming] | None = [] if words else None
        audio, frames = self.render(prepared, name, params, speed, noise, timer, progress, timed)
        chunks = tuple(chunk.text for chunk in prepared)
        phases = {"synth": dict(timer.seconds)}
        return Speech(audio, self.sample_rate, frames, self.hop_length, seed, chunks, phases, tuple(timed or ()))

    def stream(
        self,
        text: str,
        speaker: str | None = None,
        speed: float = SYNTHESIS.speed,
        sdp_ratio: float = SYNTHESIS.sdp_ratio,
        noise_scale: float = SYNTHESIS.noise_scale,
        noise_scale_w: float = SYNTHESIS.noise_scale_w,
        seed: int = DEFAULT_SEED,
        progress: Progress | None = None,
        timer: StageTimer | None = None,
        words: list[WordTiming] | None = None,
    ) -> Iterator[np.ndarray]:
        """`synth`, yielded chunk by chunk (float32 at `sample_rate`, each chunk with its pause) as each is
        ready; joined, the pieces are `synth`'s audio sample for sample. Everything is checked, and the
        front end run, before this returns, so bad input fails here and not at the first `next()`. `timer`
        as in `synth` (the CLI writes a long take piece by piece from here and reports the timings). `words`
        (a list) receives each chunk's word timings before its piece is yielded."""
        from openvoice_tt.pipeline import speak

        name, params, noise = self._checked(speaker, speed, sdp_ratio, noise_scale, noise_scale_w, seed)
        timer = timer if timer is not None else stage_timer(self.device, self.device_index)
        prepared = self.prepare(text, timer)
        voice = self.voice(name, params, speed)
        pieces = speak(self.synthesizer, prepared, voice, noise, timer, progress, words=words)
        return (audio for audio, _ in pieces)

    def stream_words(
        self,
        text: str,
        speaker: str | None = None,
        speed: float = SYNTHESIS.speed,
        sdp_ratio: float = SYNTHESIS.sdp_ratio,
        noise_scale: float = SYNTHESIS.noise_scale,
        noise_scale_w: float = SYNTHESIS.noise_scale_w,
        seed: int = DEFAULT_SEED,
        progress: Progress | None = None,
        timer: StageTimer | None = None,
    ) -> Iterator[tuple[np.ndarray, tuple[WordTiming, ...]]]:
        """`stream`, each piece with its chunk's words (samples counted from the start of the whole take,
        as `synth(..., words=True).words`); checked before this returns, as `stream`."""
        words: list[WordTiming] = []
        pieces = self.stream(text, speaker, speed, sdp_ratio, noise_scale, noise_scale_w, seed, progress, timer, words)

        def paired() -> Iterator[tuple[np.ndarray, tuple[WordTiming, ...]]]:
            told = 0
            for piece in pieces:
                yield piece, tuple(words[told:])
                told = len(words)

        return paired()

    def _checked(
        self, speaker: str | None, speed: float, sdp_ratio: float, noise_scale: float, noise_scale_w: float, seed: int
    ) -> tuple[str, SynthesisParams, NoiseSource]:
        """A synthesis request's speaker name, parameters and noise source, checked."""
        return self.speaker(speaker), synthesis_params(speed, sdp_ratio, noise_scale, noise_scale_w), noise_source(seed)

    def render(
        self,
        prepared: Sequence[Chunk],
        speaker: str,
        params: SynthesisParams,
        speed: float,
        noise: NoiseSource,
        timer: StageTimer,
        progress: Progress | None = None,
        words: list[WordTiming] | None = None,
    ) -> tuple[np.ndarray, int]:
        """Synthesize prepared chunks in order with one noise source -> (audio, total model frames); `words`
        (a list) receives the word timings."""
        from openvoice_tt.pipeline import synthesize

        voice = self.voice(speaker, params, speed)
        return synthesize(self.synthesizer, prepared, voice, noise, timer, progress, words)


def check_language_fits(config: MeloConfig, language: Language) -> None:
    """A ConfigError unless the model has the tone and language rows `language`'s front end gives it (its
    tone 0 at `tone_start`, its `language_id`): a checkpoint of another language in this folder would
    otherwise fail at the first embedding lookup, far from the cause."""
    if config.num_tones <= language.tone_start:
        raise ConfigError(
            f"{config.source}: field 'num_tones' is {config.num_tones}, too few for {language.name} "
            f"(its tones start at {language.tone_start}): is this {language.name}'s checkpoint?"
        )
    if config.languages <= language.language_id:
        raise ConfigError(
            f"{config.source}: the model has {config.languages} language rows, too few for {language.name} "
            f"(language id {language.language_id}): is this {language.name}'s checkpoint?"
        )
