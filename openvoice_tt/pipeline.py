"""The one pipeline: text -> chunks -> audio, for synth, clone, batch, bench, streaming and the server.

Upstream's flow (spec §3.6): the text is split into chunks of whole sentences, each chunk goes through the
front end and the synthesizer and is followed by 50 ms / speed of silence; for a clone the take is
resampled to the converter's rate and converted. Everything that walks the chunks lives here, once:
`synthesized` is the chunk loop, `speak` and `clone` consume it whole, `clone_stream` chunk by chunk.

The backend is whatever `openvoice_tt.backends` opened, seen through `openvoice_tt.interfaces` only (the
pipeline never imports a backend); the pipeline asks it what it can do instead of asking what it is:
`keeps_audio_on_device` (synthesize without downloading, so a clone's take is joined, decimated and
converted on the device) and `chunking` (the longest input the converter takes in one pass).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from openvoice_tt.chunking import StreamChunking
from openvoice_tt.config import SynthesisDefaults
from openvoice_tt.errors import TextError, preview
from openvoice_tt.timing import NULL_TIMER, StageTimer
from openvoice_tt.word_timings import WordTiming, chunk_words

if TYPE_CHECKING:
    import torch

    from openvoice_tt.interfaces import Converter, Synthesized, Synthesizer
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.synthesizer import SynthesisParams
    from openvoice_tt.text import TextInputs

Progress = Callable[[int, int], None]
SYNTHESIS = SynthesisDefaults()
CONVERTER_STAGE_PREFIX = "converter."  # the converter's stages inside a clone (both networks have a "flow")


class Chunk(NamedTuple):
    """One piece of the text as the user wrote it and the model inputs the front end made of it."""

    text: str
    inputs: TextInputs


@dataclass(frozen=True)
class Voice:
    """How the synthesizer speaks: base speaker id, MeloTTS parameters and the pause after every chunk."""

    speaker_id: int
    params: SynthesisParams
    silence_samples: int


@dataclass(frozen=True)
class Conversion:
    """What the converter does to the take: from the base speaker's timbre to the target's, with `tau`."""

    source_se: torch.Tensor
    target_se: torch.Tensor
    tau: float


# -------------------------------------------------------------------------------------- text -> chunks


def split_chunks(
    front_end: Callable[[str, StageTimer], TextInputs],
    text: str,
    max_chars: int,
    timer: StageTimer = NULL_TIMER,
    first_chars: int | None = SYNTHESIS.first_chunk_chars,
    splitter: str = "latin",
) -> list[Chunk]:
    """Split `text` into chunks (at most `max_chars`, whole sentences) and run the front end on each.

    The first chunk of a text longer than `max_chars` is at most `first_chars` (usually its first sentence),
    so streamed audio starts after one sentence. It applies to every output, not only to streams, so that a
    stream stays the non-streamed audio sample for sample (and `--stream` to a file the same file); a text
    under `max_chars` stays one pass as upstream's does, so short-text parity is untouched. `splitter` is
    the language's family (`Language.splitter`: `latin`, or `cjk` where sentences end at `。！？` with no
    space after them; `text.split`).

    A chunk with nothing speakable is skipped with a warning; text with nothing speakable at all is a
    TextError. Runs before any synthesis, so bad text fails in milliseconds.
    """
    from openvoice_tt.text import split_text

    chunks: list[Chunk] = []
    skipped: list[TextError] = []
    for piece in split_text(text, max_chars, first_chars, splitter):
        try:
            chunks.append(Chunk(piece, front_end(piece, timer)))
        except TextError as e:
            skipped.append(e)
    if not chunks:
        raise skipped[0] if skipped else TextError(f"text has nothing to speak: {preview(text)}")
    for error in skipped:
        warnings.warn(f"skipped part of the text: {error}", UserWarning, stacklevel=3)
    return chunks


# ------------------------------------------------------------------------------------- chunks -> audio


def synthesized(
    synthesizer: Synthesizer,
    chunks: Sequence[Chunk],
    voice: Voice,
    noise: NoiseSource,
    timer: StageTimer = NULL_TIMER,
    progress: Progress | None = None,
    steps: int | None = None,
    on_device: bool = False,
    durations: bool = False,
) -> Iterator[Synthesized]:
    """The chunk loop: each chunk synthesized in order with one noise source, as soon as it is asked for.

    A chunk prepared with its BERT features deferred gets them here, just before it is synthesized (timed
    as "bert"), so only the chunk being spoken holds them; not for a synthesizer that `computes_bert` (the
    ttnn one with the BERT on the device), which reads the chunk's text and word2ph instead.
    `progress(done, steps)` after every chunk (`steps` defaults to the chunk count; a clone adds one for
    the conversion). `on_device` keeps each waveform on the device (backends that `keeps_audio_on_device`);
    `durations` asks the synthesizer for each chunk's durations (word timings; only then, as a ttnn
    synthesizer downloads them for it).
    """
    steps = len(chunks) if steps is None else steps
    run = synthesizer.synthesize_on_device if on_device else synthesizer.synthesize
    if progress is not None:
        progress(0, steps)
    for done, chunk in enumerate(chunks, start=1):
        inputs = chunk.inputs if synthesizer.computes_bert else _with_features(chunk.inputs, timer)  # host BERT now
        if durations:
            yield run(inputs, voice.speaker_id, voice.params, noise, timer, durations=True)
        else:
            yield run(inputs, voice.speaker_id, voice.params, noise, timer)
        if progress is not None:
            progress(done, steps)


def _with_features(inputs: Any, timer: StageTimer) -> Any:
    """A front end's chunk with its deferred BERT features computed; other model inputs (the harness's
    bare namespaces) as they are."""
    with_features = getattr(inputs, "with_features", None)
    return inputs if with_features is None else with_features(timer)


def speak(
    synthesizer: Synthesizer,
    chunks: Sequence[Chunk],
    voice: Voice,
    noise: NoiseSource,
    timer: StageTimer = NULL_TIMER,
    progress: Progress | None = None,
    steps: int | None = None,
    words: list[WordTiming] | None = None,
) -> Iterator[tuple[np.ndarray, int]]:
    """Per chunk, (its audio followed by the pause, its model frames), on the host. With `words` (a list),
    each chunk's word timings are appended to it, in samples of the whole take, before the chunk is yielded
    (the synthesizer is then asked for its durations: `synthesize(..., durations=True)`)."""
    silence = np.zeros(voice.silence_samples, dtype=np.float32)
    outs = synthesized(synthesizer, chunks, voice, noise, timer, progress, steps, durations=words is not None)
    for out in _timed(outs, chunks, synthesizer.config.data.hop_length, voice.silence_samples, words):
        yield np.concatenate([out.audio, silence]).astype(np.float32, copy=False), out.frames


def _timed(
    outs: Iterable[Synthesized], chunks: Sequence[Chunk], hop: int, silence: int, words: list[WordTiming] | None
) -> Iterator[Synthesized]:
    """`outs` as they come; with `words` (a list), each chunk's word timings appended to it first, in
    samples of the take: the chunks before it and their pauses of `silence` samples, then its frames."""
    offset = 0
    for out, chunk in zip(outs, chunks, strict=True):
        if words is not None:
            words.extend(timed_words(chunk, out, hop, offset))
        offset += out.samples + silence
        yield out


def timed_words(chunk: Chunk, out: Synthesized, hop: int, offset: int) -> list[WordTiming]:
    """One chunk's words and their samples in the take (`word_timings.chunk_words`)."""
    if out.durations is None:
        raise RuntimeError("word timings need the synthesizer's durations, and this one did not return them")
    inputs = chunk.inputs
    words, word_phones = getattr(inputs, "words", ()), getattr(inputs, "word_phones", ())
    durations = list(out.durations)
    return chunk_words(durations, inputs.word2ph, inputs.phones, words, chunk.text, hop, offset, word_phones)


def synthesize(
    synthesizer: Synthesizer,
    chunks: Sequence[Chunk],
    voice: Voice,
    noise: NoiseSource,
    timer: StageTimer = NULL_TIMER,
    progress: Progress | None = None,
    words: list[WordTiming] | None = None,
) -> tuple[np.ndarray, int]:
    """All chunks -> (the whole take, total model frames); `words` as in `speak`."""
    pieces = list(speak(synthesizer, chunks, voice, noise, timer, progress, words=words))
    return np.concatenate([audio for audio, _ in pieces]), sum(frames for _, frames in pieces)


def convert(
    converter: Converter,
    audio: Any,
    conversion: Conversion,
    noise: NoiseSource,
    timer: StageTimer = NULL_TIMER,
) -> np.ndarray:
    """Convert a take (host samples, or the device's when the converter keeps audio on the device); input
    longer than the converter's `chunking.max_seconds` goes in overlapping pieces (`chunking.py`)."""
    from openvoice_tt.chunking import convert_in_pieces

    def one_pass(piece: Any, piece_noise: NoiseSource) -> np.ndarray:
        return converter.convert(piece, conversion.source_se, conversion.target_se, conversion.tau, piece_noise, timer)

    chunking = converter.chunking
    if chunking is None or converter.samples(audio) <= chunking.max_seconds * converter.config.data.sampling_rate:
        return one_pass(audio, noise)
    return convert_in_pieces(one_pass, converter.to_host(audio), converter.config, noise, chunking)


def clone(
    synthesizer: Synthesizer,
    converter: Converter,
    chunks: Sequence[Chunk],
    voice: Voice,
    conversion: Conversion,
    noise: NoiseSource,
    timer: StageTimer = NULL_TIMER,
    progress: Progress | None = None,
    words: list[WordTiming] | None = None,
) -> np.ndarray:
    """Upstream's V2 flow: every chunk synthesized and followed by silence, the whole take converted once.

    When both networks keep audio on the device, chunks and pauses are joined and decimated 2:1 there and
    only the converted waveform is downloaded (and, with `words`, each chunk's durations); otherwise the take
    is resampled with soxr on the host.
    `progress(done, total)` after each chunk and after the conversion (total = chunks + 1). `words` (a
    list) receives the word timings at the converter's rate: the converter keeps the take's length (frame
    for frame), so a word's samples are its synthesized samples * rate_out / rate_in (`WordTiming.rescaled`).
    """
    from openvoice_tt.audio import resample

    steps = len(chunks) + 1
    rate_in, rate_out = synthesizer.config.data.sampling_rate, converter.config.data.sampling_rate
    limit = int(MAX_CLONE_SECONDS * rate_in)
    spoken_words: list[WordTiming] | None = None if words is None else []
    if synthesizer.keeps_audio_on_device and converter.keeps_audio_on_device:
        timed = words is not None  # the durations downloaded (only then), the take still joined on the device
        waves = synthesized(synthesizer, chunks, voice, noise, timer, progress, steps, on_device=True, durations=timed)
        waves = _timed(waves, chunks, synthesizer.config.data.hop_length, voice.silence_samples, spoken_words)
        pieces = [(wave.audio, wave.samples) for wave in _within(waves, limit, voice.silence_samples)]
        with timer("resample"):  # (all synthesized before the resample stage starts)
            take = converter.join_on_device(pieces, voice.silence_samples, rate_in)
    else:
        spoken = list(_within(speak(synthesizer, chunks, voice, noise, timer, progress, words=spoken_words), limit))
        take = np.concatenate([audio for audio, _ in spoken])
        del spoken
        with timer("resample"):
            take = resample(take, rate_in, rate_out)
    if words is not None and spoken_words is not None:
        words.extend(word.rescaled(rate_in, rate_out) for word in spoken_words)
    out = convert(converter, take, conversion, noise, timer.prefixed(CONVERTER_STAGE_PREFIX))
    if progress is not None:
        progress(steps, steps)
    return out


MAX_CLONE_SECONDS = 3600.0
"""Longest speech a non-streamed clone makes: it holds the whole take and converts it in one call (one
posterior-noise draw, upstream's flow), as `convert` does with a source of at most an hour
(`audio.MAX_AUDIO_SECONDS`). A longer text is refused (TextError, exit 3) as soon as its speech passes the
bound, before the take is joined; `clone_stream` converts as it goes and has no such bound."""


def _within(pieces: Iterable[Any], limit: int, silence: int = 0) -> Iterator[Any]:
    """`pieces` (a `Synthesized`, or `speak`'s (audio, frames)) until their samples, pauses included, pass
    `limit`: then a TextError, so the take is never joined or converted."""
    total = 0
    for piece in pieces:
        total += (piece.samples + silence) if hasattr(piece, "samples") else len(piece[0])
        if total > limit:
            raise TextError(
                f"text too long for one clone: its speech passes {MAX_CLONE_SECONDS:.0f} s, the most a clone "
                "holds and converts at once; stream it (clone --stream) or split it (batch)"
            )
        yield piece


# ------------------------------------------------------------------------------------------ streaming


def clone_stream(
    synthesizer: Synthesizer,
    converter: Converter,
    chunks: Sequence[Chunk],
    voice: Voice,
    conversion: Conversion,
    noise: NoiseSource,
    conversion_noise: NoiseSource,
    timer: StageTimer = NULL_TIMER,
    progress: Progress | None = None,
    chunking: StreamChunking = StreamChunking(),
    words: list[WordTiming] | None = None,
) -> Iterator[np.ndarray]:
    """A clone yielded piece by piece, each converted as soon as enough of the take exists to convert it
    exactly: soxr's streaming resampler gives the same samples as resampling the whole take, and the
    converter sees every output sample with at least `chunking.context_seconds` of real audio around it
    (`SeamJoiner`). The synthesizer draws from `noise` as in `clone`; the conversions draw from their own
    `conversion_noise`, so the synthesized take is the non-streamed one sample for sample. `words` (a list)
    receives each chunk's word timings at the converter's rate when the chunk is synthesized, as `clone`'s."""
    import soxr

    rate_in, rate_out = synthesizer.config.data.sampling_rate, converter.config.data.sampling_rate
    hop = converter.config.data.hop_length
    converter_timer = timer.prefixed(CONVERTER_STAGE_PREFIX)

    def convert_window(window: np.ndarray) -> np.ndarray:
        return convert(converter, window, conversion, conversion_noise, converter_timer)

    resampler = soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32", quality="HQ")
    joiner = SeamJoiner(convert_window, hop, chunking.samples(rate_out, hop), converter.config.data.filter_length)
    spoken_words: list[WordTiming] | None = None if words is None else []
    pieces = speak(synthesizer, chunks, voice, noise, timer, progress, len(chunks), words=spoken_words)
    told = 0
    for index, (audio, _) in enumerate(pieces):
        if words is not None and spoken_words is not None:
            words.extend(word.rescaled(rate_in, rate_out) for word in spoken_words[told:])
            told = len(spoken_words)
        last = index == len(chunks) - 1
        with timer("resample"):
            resampled = resampler.resample_chunk(audio, last=last) if rate_in != rate_out else audio
        out = joiner.push(resampled, last)
        if len(out):
            yield out


class SeamJoiner:
    """Converts a growing signal in overlapping windows whose outputs join without a seam.

    A window starts `context` samples (whole frames) before the first sample not yet final and ends at the
    newest sample; its output is final up to `context` before that end (less at the true end). So every
    sample is converted with at least `context` of real audio on both sides (the converter's receptive
    field is ~110 frames), on the same frame grid as a single pass; the last `fade` samples of a window's
    final part are held back and crossfaded linearly into the next window's, absorbing float rounding.
    """

    def __init__(self, convert: Callable[[np.ndarray], np.ndarray], hop: int, sizes: tuple[int, int], minimum: int):
        self.convert = convert
        self.hop = hop
        self.context, self.fade = sizes
        self.minimum = minimum  # the shortest window the converter accepts
        self.audio = np.zeros(0, dtype=np.float32)
        self.offset = 0  # absolute index of self.audio[0]
        self.done = 0  # samples yielded so far
        self.tail = np.zeros(0, dtype=np.float32)  # the previous window's output for [done, done + fade)

    def push(self, samples: np.ndarray, last: bool) -> np.ndarray:
        """Add samples; returns the output that became final (the rest at `last`)."""
        self.audio = np.concatenate([self.audio, samples.astype(np.float32, copy=False)])
        total = self.offset + len(self.audio)
        hop = self.hop
        end = total // hop * hop if last else (total - self.context) // hop * hop
        if not last and end - self.fade <= self.done + hop:
            return np.zeros(0, dtype=np.float32)  # too little would become final: wait for more audio
        left = min(max(0, self.done - self.context), max(0, total - self.minimum)) // hop * hop
        out = self.convert(self.audio[left - self.offset :])
        segment = out[self.done - left : end - left]
        fade = len(self.tail)
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            segment = np.concatenate([self.tail * (1 - ramp) + segment[:fade] * ramp, segment[fade:]])
        if last:
            self.tail = np.zeros(0, dtype=np.float32)
            self.done = end
            return segment
        final, self.tail = segment[: -self.fade], segment[-self.fade :]
        self.done += len(final)
        keep = max(0, self.done - self.context - hop) // hop * hop  # nothing before this is read again
        self.audio, self.offset = self.audio[keep - self.offset :], keep
        return final
