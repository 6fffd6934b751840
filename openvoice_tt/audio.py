"""Audio in and out, and splitting a reference recording into speech pieces.

Everything runs offline: soundfile (bundled libsndfile) decodes and encodes, soxr resamples (librosa's
default resampler, so `read_audio` stands in for upstream's `librosa.load(path, sr=22050)`), and the
silero-vad package's bundled model finds speech. torch is imported only when silero actually runs, so
importing this module stays cheap for commands that never segment audio.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from openvoice_tt.errors import AudioError
from openvoice_tt.outputs import STDOUT, write_file

FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"), "pcm": ("RAW", "PCM_16")}
"""Output formats: name -> (libsndfile container, subtype); pcm is headerless 16-bit little-endian."""

VAD_RATE = 16_000  # silero's rate; upstream decodes to 16 kHz mono for detection too
DILATION_SECONDS = 0.5  # upstream (whisper-timestamped) widens every speech span by this much on both sides
SPLIT_SECONDS = 10.0  # upstream cuts the concatenated speech into pieces of about this length
MAX_AUDIO_SECONDS = 3600.0  # longest audio file decoded (a convert source); decoded, at most 1.4 GB of float32
MAX_REFERENCE_SECONDS = 600.0  # longest reference recording: a voice needs seconds, not hours
MIN_SPEECH_SECONDS = 1.0  # below this there is too little voice to embed; refuse
SHORT_SPEECH_SECONDS = 5.0  # upstream refuses below this (round(duration / 10) == 0); here: warn and go on
ENERGY_FRAME = 320  # 20 ms at VAD_RATE
ENERGY_THRESHOLD_DB = -40.0  # a frame is speech if its RMS is within 40 dB of the loudest frame...
ENERGY_FLOOR_DB = -60.0  # ...and above -60 dBFS, so dither or hum in a silent file is not "speech"
MIN_SPEECH_SPAN = 0.1  # seconds; shorter detections are clicks (silero's min_speech_duration_ms=100 upstream)


class ShortReferenceWarning(UserWarning):
    """Under 5 s of speech: upstream refuses such references; here they work but clone the voice less well."""


def read_audio(path: str | os.PathLike[str], sample_rate: int, max_seconds: float = MAX_AUDIO_SECONDS) -> np.ndarray:
    """Decode any file libsndfile reads to float32 mono in [-1, 1] at `sample_rate` (upstream's librosa.load).

    Channels are averaged; float files that exceed full scale are scaled down by their peak (clipping would
    distort the voice the embedding is taken from). Raises AudioError naming the file for anything a user
    can get wrong: missing file, directory, pipe or device, not audio, no samples, NaN/inf samples, longer
    than `max_seconds` (judged from the header before anything is decoded; no more is decoded than it says).
    """
    name, info = _checked_header(path, max_seconds)
    try:
        data, rate = sf.read(name, frames=info.frames, dtype="float32", always_2d=True)
    except sf.LibsndfileError as e:
        raise AudioError(f"{name}: not a readable audio file ({e.error_string.rstrip('.')})") from None
    except (RuntimeError, OSError) as e:
        raise AudioError(f"{name}: cannot read ({_one_line(e)})") from None
    if data.size == 0:
        raise AudioError(f"{name}: contains no audio")
    if not np.isfinite(data).all():
        raise AudioError(f"{name}: contains NaN or infinite samples")
    audio = resample(data.mean(axis=1), rate, sample_rate)
    if audio.size == 0:  # a few samples can resample to none
        raise AudioError(f"{name}: contains no audio")
    peak = float(np.abs(audio).max())
    if peak > 1.0:  # float sources above full scale, or resampler overshoot on full-scale int sources
        audio /= peak
    return audio


def check_readable(path: str | os.PathLike[str], max_seconds: float = MAX_AUDIO_SECONDS) -> Any:
    """Fail (AudioError, the same messages as `read_audio`) unless `path` is an audio file with samples and
    at most `max_seconds` long; reads only the header, so every input of a command is checked before any
    model loads. Returns that header (soundfile's info: frames, samplerate, channels)."""
    return _checked_header(path, max_seconds)[1]


def _checked_header(path: str | os.PathLike[str], max_seconds: float) -> tuple[str, Any]:
    """The file's name and its header (soundfile's info), checked: an existing regular file (a pipe or device
    is refused, not opened: it could be read only once, or never end), audio, not empty, at most
    `max_seconds` long and at most that long at 48 kHz stereo in samples (a header can claim 8 channels)."""
    name = _existing_file(path)
    try:
        info = sf.info(name)
    except sf.LibsndfileError as e:
        raise AudioError(f"{name}: not a readable audio file ({e.error_string.rstrip('.')})") from None
    except (RuntimeError, OSError) as e:
        raise AudioError(f"{name}: cannot read ({_one_line(e)})") from None
    if info.frames == 0:
        raise AudioError(f"{name}: contains no audio")
    if info.frames / info.samplerate > max_seconds or info.frames * info.channels > max_seconds * 48_000 * 2:
        raise AudioError(f"{name}: decodes to more than {max_seconds:g} s of audio (the limit; cut it shorter)")
    return name, info


def _existing_file(path: str | os.PathLike[str]) -> str:
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
    except FileNotFoundError:
        raise AudioError(f"{name}: no such file") from None
    except OSError as e:
        raise AudioError(f"{name}: cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(mode):
        raise AudioError(f"{name}: is a directory, not an audio file")
    if not stat.S_ISREG(mode):
        raise AudioError(f"{name}: not a regular file (a pipe or device); give an audio file")
    return name


def mono_samples(audio: object, sample_rate: object, name: str = "audio") -> np.ndarray:
    """Audio handed to the API as an array: 1-D, numeric, finite, not empty, at a positive integer rate.
    Anything else is an AudioError saying what to change (a stereo array is not guessed at: [2, N] and
    [N, 2] are both plausible)."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer) or sample_rate <= 0:
        raise AudioError(f"{name}: sample_rate must be a positive whole number of Hz, got {sample_rate!r}")
    samples = np.asarray(audio)
    if samples.dtype.kind not in "fiu":
        raise AudioError(f"{name}: expected an array of numbers, got dtype {samples.dtype}")
    if samples.ndim != 1:
        raise AudioError(
            f"{name}: expected mono audio (a 1-D array), got shape {list(samples.shape)}; "
            "average the channels first, e.g. audio.mean(axis=1) for [samples, channels]"
        )
    if samples.size == 0:
        raise AudioError(f"{name}: contains no audio")
    if not np.isfinite(samples).all():
        raise AudioError(f"{name}: contains NaN or infinite samples")
    return samples.astype(np.float32, copy=False)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Mono float32 audio resampled with soxr (high quality); the input itself when the rates are equal."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if from_rate == to_rate:
        return audio
    return soxr.resample(audio, from_rate, to_rate, quality="HQ")


def content_hash(audio: np.ndarray, sample_rate: int) -> str:
    """sha256 (hex) of the rate and the little-endian float32 samples: a cache key for speaker embeddings
    that changes when the audio does, whatever the file is called."""
    digest = hashlib.sha256(f"{int(sample_rate)}:".encode())
    digest.update(np.ascontiguousarray(audio, dtype="<f4").tobytes())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------ output


def audio_format_for(path: str | os.PathLike[str], explicit: str | None = None) -> str:
    """The output format: `explicit` (--format) if given, else the extension; stdout ("-") defaults to wav."""
    if explicit is not None:
        fmt = explicit.lower().lstrip(".")
        if fmt not in FORMATS:
            raise AudioError(f"unknown audio format '{explicit}' (use {_format_list()})")
        return fmt
    name = os.fspath(path)
    if name == STDOUT:
        return "wav"
    suffix = Path(name).suffix
    if suffix.lower().lstrip(".") not in FORMATS:
        problem = f"unknown audio extension '{suffix}'" if suffix else "no file extension"
        raise AudioError(f"{name}: {problem} (use {_format_list()}, or choose a format explicitly)")
    return suffix.lower().lstrip(".")


def write_audio(
    destination: str | os.PathLike[str], audio: np.ndarray, sample_rate: int, format: str | None = None
) -> None:
    """Write mono float audio, clipped to [-1, 1], as wav/flac/pcm (16-bit) or ogg (Vorbis) to a path or "-".

    `format` defaults to the destination's extension (wav for stdout), so "out.flac" never holds WAV bytes.
    The file is encoded in memory, then written by `outputs.write_file`: atomically for a regular file
    (an existing one is replaced whole or not at all), in place for a FIFO or device, through a symlink.
    OS failures become OutputError naming the destination (e.g. "out.wav: disk full").
    """
    fmt = audio_format_for(destination, format)
    write_file(destination, encode_audio(audio, sample_rate, fmt))


def encode_audio(audio: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """Mono float audio -> the bytes of a `fmt` file (see `write_audio`)."""
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"write_audio expects mono (1-D) audio, got shape {samples.shape}")
    if not np.isfinite(samples).all():  # a model bug, not a user error: keep the traceback
        raise ValueError("write_audio got NaN or infinite samples")
    container, subtype = FORMATS[fmt]
    buffer = io.BytesIO()
    endian = "LITTLE" if container == "RAW" else "FILE"
    sf.write(buffer, np.clip(samples, -1.0, 1.0), sample_rate, format=container, subtype=subtype, endian=endian)
    return buffer.getvalue()


def _format_list() -> str:
    names = list(FORMATS)
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def _one_line(error: BaseException) -> str:
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return " ".join(text.split()) or type(error).__name__


# ------------------------------------------------------------------------------------------ segmentation


@dataclass(frozen=True)
class SpeechDetection:
    """Where the speech in a recording is.

    `spans` are [start, end) sample ranges of the original audio, widened by 0.5 s and merged as upstream
    does; `speech_seconds` is the speech actually detected (before widening), which is what the 1 s / 5 s
    limits apply to, so a lone click in silence cannot pass as a second of speech; `method` is the detector
    that ran ("energy" when silero was asked for but could not be loaded).
    """

    spans: list[tuple[int, int]]
    speech_seconds: float
    method: str


def detect_speech(audio: np.ndarray, sample_rate: int, method: str = "silero") -> SpeechDetection:
    """Find speech like upstream's get_vad_segments: detection on a peak-normalized 16 kHz copy
    (`audio / max(0.1, peak)`), silero with threshold 0.5, min speech 100 ms, min silence 1 s, then every
    span widened by 0.5 s (clipped) and overlapping spans merged. `method="energy"` uses frame RMS instead;
    it is also used, with one warning, when the silero model cannot be loaded."""
    if method not in ("silero", "energy"):
        raise ValueError(f"unknown speech detection method {method!r} (use 'silero' or 'energy')")
    if len(audio) == 0:
        return SpeechDetection([], 0.0, method)
    probe = resample(audio, sample_rate, VAD_RATE)
    probe = probe / max(0.1, float(np.abs(probe).max()))
    silero = SILERO.load() if method == "silero" else None
    if silero is not None:
        raw = _silero_spans(probe, *silero)
    else:
        method = "energy"
        raw = _energy_spans(probe)
    widened = _dilate_and_merge(raw, round(DILATION_SECONDS * VAD_RATE), len(probe))
    scale = sample_rate / VAD_RATE
    spans = [(min(len(audio), round(s * scale)), min(len(audio), round(e * scale))) for s, e in widened]
    return SpeechDetection(spans, sum(e - s for s, e in raw) / VAD_RATE, method)


def detector_for(method: str) -> str:
    """The detector `detect_speech(..., method)` actually runs: "energy" when silero is asked for but
    cannot be loaded (tried again on the next call). Embeddings are cached under this name, never under the
    one asked for."""
    if method not in ("silero", "energy"):
        raise ValueError(f"unknown speech detection method {method!r} (use 'silero' or 'energy')")
    return "silero" if method == "silero" and SILERO.load() is not None else "energy"


def speech_segments(
    audio: np.ndarray,
    sample_rate: int,
    *,
    name: str = "audio",
    method: str = "silero",
    split_seconds: float = SPLIT_SECONDS,
) -> list[np.ndarray]:
    """Upstream's split_audio_vad in memory: the detected speech of `audio`, concatenated and cut into
    max(1, round(duration / 10)) equal pieces at the original rate, for one speaker embedding each.

    Unlike upstream (which asserts on < 5 s), 1-5 s of speech works with a ShortReferenceWarning; less
    than 1 s raises AudioError naming `name`.
    """
    detection = detect_speech(audio, sample_rate, method)
    seconds = detection.speech_seconds
    if not detection.spans:
        raise AudioError(f"{name}: no speech found")
    if seconds < MIN_SPEECH_SECONDS:
        raise AudioError(f"{name}: only {seconds:.2f} s of speech; need at least {MIN_SPEECH_SECONDS:g} s")
    if seconds < SHORT_SPEECH_SECONDS:
        warnings.warn(
            f"{name}: only {seconds:.1f} s of speech; {SHORT_SPEECH_SECONDS:g} s or more clones the voice better",
            ShortReferenceWarning,
            stacklevel=2,
        )
    speech = np.concatenate([audio[s:e] for s, e in detection.spans])
    pieces = max(1, round(len(speech) / sample_rate / split_seconds))
    return np.array_split(speech, pieces)


class SileroVad:
    """The bundled silero model and its timestamp function, loaded on first use and kept.

    Only a success is kept: a failed load returns None (speech is then detected by energy) and the next
    call tries again, so one transient error (a file briefly unreadable, memory short) does not turn a
    long-running server to the energy detector for the rest of its life. Each distinct failure warns once,
    so a server retrying on every request does not repeat the same warning. `SILERO` below is the
    process's one instance; `reset()` forgets the model and the warnings given (the next call loads afresh).
    """

    def __init__(self) -> None:
        self._loaded: tuple[Any, Callable[..., list[dict[str, int]]]] | None = None
        self._warned: set[str] = set()

    def load(self) -> tuple[Any, Callable[..., list[dict[str, int]]]] | None:
        """(model, get_speech_timestamps), or None (warned once per distinct reason) if silero cannot load."""
        if self._loaded is not None:
            return self._loaded
        import torch

        threads = torch.get_num_threads()
        try:
            from silero_vad import get_speech_timestamps, load_silero_vad

            with warnings.catch_warnings():  # silero loads a TorchScript file; torch calls jit.load deprecated
                warnings.filterwarnings("ignore", message=r".*torch\.jit\.load", category=FutureWarning)
                self._loaded = load_silero_vad(), get_speech_timestamps
        except (ImportError, OSError, RuntimeError) as e:
            reason = _one_line(e)
            if reason not in self._warned:
                self._warned.add(reason)
                warnings.warn(f"silero-vad unavailable ({reason}); detecting speech by energy instead", stacklevel=3)
        finally:  # silero_vad's import sets torch to one thread for the whole process: a batch's items after
            # its first clone would run on another thread count than those before (and round otherwise)
            torch.set_num_threads(threads)
        return self._loaded

    def reset(self) -> None:
        self._loaded = None
        self._warned.clear()


SILERO = SileroVad()


def _silero_spans(probe: np.ndarray, model: Any, get_speech_timestamps: Callable[..., Any]) -> list[tuple[int, int]]:
    import torch

    stamps = get_speech_timestamps(
        torch.from_numpy(probe),
        model,
        threshold=0.5,
        sampling_rate=VAD_RATE,
        min_speech_duration_ms=round(MIN_SPEECH_SPAN * 1000),
        min_silence_duration_ms=1000,
    )
    return [(int(t["start"]), int(t["end"])) for t in stamps]


def _energy_spans(probe: np.ndarray) -> list[tuple[int, int]]:
    frames = -(-len(probe) // ENERGY_FRAME)
    padded = np.zeros(frames * ENERGY_FRAME, dtype=np.float32)
    padded[: len(probe)] = probe
    rms = np.sqrt(np.mean(np.square(padded.reshape(frames, ENERGY_FRAME)), axis=1))
    level = 20 * np.log10(np.maximum(rms, 1e-10))
    voiced = level > max(level.max() + ENERGY_THRESHOLD_DB, ENERGY_FLOOR_DB)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], voiced.astype(np.int8), [0]))))
    min_frames = MIN_SPEECH_SPAN * VAD_RATE / ENERGY_FRAME
    return [
        (int(start) * ENERGY_FRAME, min(len(probe), int(end) * ENERGY_FRAME))
        for start, end in zip(edges[0::2], edges[1::2], strict=True)
        if end - start >= min_frames
    ]


def _dilate_and_merge(spans: list[tuple[int, int]], pad: int, length: int) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in spans:
        start, end = max(0, start - pad), min(length, end + pad)
        if merged and merged[-1][1] >= start:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]
