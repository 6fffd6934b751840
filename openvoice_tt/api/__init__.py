"""The Python API: load the models once, then synthesize, convert and clone as often as you like.

    from openvoice_tt.api import TTS, ToneColorConverter, VoiceCloner

    cloner = VoiceCloner("checkpoints", device="cpu")
    speech = cloner.clone("Hello there.", reference=["me.wav"], seed=1)
    speech.save("hello.wav")

`TTS` is MeloTTS English (text -> 44.1 kHz speech), `ToneColorConverter` the OpenVoice V2 converter (speaker
embeddings; speech -> 22.05 kHz speech with another timbre) and `VoiceCloner` the V2 demo flow of spec §3.6
(synthesize with a base speaker, resample in memory, convert to the reference's tone color).

Nothing here prints. Notices (no BERT model, a short reference, a skipped unspeakable chunk) are Python
warnings, which the CLI renders as one-line notes; every failure a user can cause is an
`openvoice_tt.errors.OpenVoiceError` with a one-line message. The compute backend (torch CPU/CUDA or ttnn)
is chosen by `device` and is invisible above `openvoice_tt.backends`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from openvoice_tt import audio as audio_io
from openvoice_tt.config import ConversionDefaults, SynthesisDefaults
from openvoice_tt.errors import AudioError, CheckpointError, InputError, TextError, preview
from openvoice_tt.pipeline import CONVERTER_STAGE_PREFIX

if TYPE_CHECKING:
    import torch

    from openvoice_tt.backends import Converter, Synthesizer
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.pipeline import Chunk, Conversion, Voice
    from openvoice_tt.reference.synthesizer import SynthesisParams
    from openvoice_tt.text import TextInputs
    from openvoice_tt.text.lexicon import Lexicon
    from openvoice_tt.text.phonemes import ChunkPhonemes
    from openvoice_tt.timing import StageTimer

HOME_ENV = "OPENVOICE_TT_HOME"
"""Environment variable naming the checkpoint folder (when --checkpoints is not given)."""

SE_CACHE_ENV = "OPENVOICE_TT_SE_CACHE"
"""Environment variable naming the speaker-embedding cache folder (default ~/.cache/openvoice-tt/se)."""

DEFAULT_CHECKPOINTS = Path("checkpoints")
MELO_DIR = "melotts-english"
CONVERTER_DIR = "converter"
SES_DIR = Path("base_speakers") / "ses"
BERT_DIR = "bert-base-uncased"

SYNTHESIS = SynthesisDefaults()
CONVERSION = ConversionDefaults()
DEFAULT_SEED = 0
SEGMENTATION_METHODS = ("silero", "energy")
SPEED_RANGE = (0.1, 10.0)  # beyond this the output is unusable and the flow's attention (T_y^2) explodes
MAX_SEED = 2**63 - 1
SE_CACHE_VERSION = 1  # bump when the embedding computation changes, so stale cache entries are not reused

Progress = Callable[[int, int], None]
"""Progress callback: (steps done, steps in total); called once with 0 before the first step."""

PathLike = str | os.PathLike[str]


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class Speech:
    """A waveform and how it was made.

    `frames` counts the frames of the model that produced the audio and `hop_length` its samples per frame
    (MeloTTS: 512 at 44.1 kHz; converter: 256 at 22.05 kHz). For synthesis, `len(audio) == frames *
    hop_length + len(chunks) * silence`, the silence being upstream's 50 ms / speed after every chunk; for
    conversion and cloning (converter output), `len(audio) == frames * hop_length`. `timings` holds seconds
    per stage, grouped by phase ("synth", "convert").
    """

    audio: np.ndarray
    sample_rate: int
    frames: int
    hop_length: int
    seed: int
    chunks: tuple[str, ...] = ()
    timings: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    def save(self, destination: PathLike, format: str | None = None) -> None:
        """Write atomically to a path or "-" (stdout); the format comes from `format` or the extension."""
        audio_io.write_audio(destination, self.audio, self.sample_rate, format)


# ---------------------------------------------------------------------------------- checkpoints & device


def checkpoint_dir(explicit: PathLike | None = None) -> Path:
    """The checkpoint folder: `explicit` (--checkpoints), else $OPENVOICE_TT_HOME, else ./checkpoints."""
    if explicit is not None:
        return Path(explicit)
    from_env = os.environ.get(HOME_ENV)
    return Path(from_env) if from_env else DEFAULT_CHECKPOINTS


def existing_checkpoint_dir(explicit: PathLike | None = None) -> Path:
    folder = checkpoint_dir(explicit)
    if not folder.is_dir():
        raise CheckpointError(
            f"{folder}: checkpoint folder not found (give --checkpoints or set {HOME_ENV}; "
            "'openvoice-tt download' fetches the files)"
        )
    return folder


def require_files(*paths: Path) -> None:
    for path in paths:
        if not path.is_file():
            raise CheckpointError(
                f"{path}: not found (layout: checkpoints/README.md; 'openvoice-tt download' fetches the files)"
            )


def resolve_device(device: str) -> str:
    """--device -> "cpu", "cuda" or "tt". Probing for a Tenstorrent chip ("auto") makes ttnn's native code
    log to stdout, which would corrupt audio written to stdout, so that probe runs with output silenced."""
    from openvoice_tt import backends

    if device != "auto":
        return backends.resolve_device(device)
    with silenced_native_output():
        return backends.resolve_device(device)


@contextlib.contextmanager
def silenced_native_output() -> Iterator[None]:
    """Point file descriptors 1 and 2 at /dev/null for a while (native libraries bypass sys.stdout)."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _timer(device: str) -> StageTimer:
    """A per-utterance stage timer; on CUDA it synchronizes at stage edges so seconds mean compute time."""
    from openvoice_tt.timing import StageTimer

    if device == "cuda":
        import torch

        return StageTimer(sync=torch.cuda.synchronize)
    return StageTimer()


# ------------------------------------------------------------------------------------- speakers & params


def speaker_key(name: str) -> str:
    """Upstream's base-speaker file naming (spec §1.2): lower-case, `_` -> `-` (EN_INDIA -> en-india)."""
    return name.strip().lower().replace("_", "-")


def find_speaker(speakers: Sequence[str], name: str | None) -> str:
    """The config's spelling of `name`, matched case-insensitively with `_`/`-` interchangeable; None gives
    the first speaker. An unknown name is an InputError listing the valid ones."""
    if name is None:
        return speakers[0]
    if not isinstance(name, str):
        raise InputError(f"speaker must be a name (a string), got {name!r}")
    for candidate in speakers:
        if speaker_key(candidate) == speaker_key(name):
            return candidate
    raise InputError(f"unknown speaker '{name}' (choose from {', '.join(speakers)})")


def synthesis_params(
    speed: float = SYNTHESIS.speed,
    sdp_ratio: float = SYNTHESIS.sdp_ratio,
    noise_scale: float = SYNTHESIS.noise_scale,
    noise_scale_w: float = SYNTHESIS.noise_scale_w,
) -> SynthesisParams:
    """Checked MeloTTS parameters; length_scale = 1 / speed as in upstream's tts_to_file."""
    from openvoice_tt.reference.synthesizer import SynthesisParams

    low, high = SPEED_RANGE
    _check_number("speed", speed, low, high)
    _check_number("sdp_ratio", sdp_ratio, 0.0, 1.0)
    _check_number("noise_scale", noise_scale, 0.0, 10.0)
    _check_number("noise_scale_w", noise_scale_w, 0.0, 10.0)
    return SynthesisParams(
        sdp_ratio=sdp_ratio, noise_scale=noise_scale, noise_scale_w=noise_scale_w, length_scale=1 / speed
    )


def _check_number(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}, got {value:g}")


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")


def check_text(text: object) -> str:
    """Text a request can use at all: a string with something besides spaces (whether it is speakable is
    the front end's to say)."""
    if not isinstance(text, str):
        raise TextError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise TextError(f"text has nothing to speak: {preview(text)}")
    return text


def _paths(references: Sequence[PathLike] | PathLike) -> list[PathLike]:
    """Reference files as a list: one path (str or Path) is taken as a list of one, not as its characters."""
    if isinstance(references, str | os.PathLike):
        references = [references]
    elif isinstance(references, bytes) or not isinstance(references, Sequence):
        raise InputError(f"references must be a path or a list of paths, got {type(references).__name__}")
    if not references:
        raise InputError("no reference audio given")
    bad = [r for r in references if not isinstance(r, str | os.PathLike)]
    if bad:
        raise InputError(f"references must be paths, got {bad[0]!r}")
    return list(references)


def base_speakers(checkpoints: PathLike | None = None) -> tuple[str, ...]:
    """The MeloTTS speaker names, read from melotts-english/config.json alone (no weights loaded)."""
    from openvoice_tt.config import MeloConfig

    config = existing_checkpoint_dir(checkpoints) / MELO_DIR / "config.json"
    require_files(config)
    return tuple(MeloConfig.from_file(config).speakers)


def check_request(
    checkpoints: PathLike | None = None,
    *,
    text: str | None = None,
    speakers: Sequence[str | None] = (),
    synthesis: Mapping[str, float] | None = None,
    tau: float | None = None,
    seed: int | None = None,
    audio: Sequence[PathLike] = (),
    embeddings: Sequence[PathLike] = (),
) -> None:
    """Check everything about a request that needs no model: the checkpoint folder, the text, option
    ranges, speaker names (from the config), input audio (headers) and embedding files. Loading models
    takes seconds; a mistake found here costs milliseconds. The methods check the same things again."""
    existing_checkpoint_dir(checkpoints)
    if text is not None:
        check_text(text)
    if synthesis is not None:
        synthesis_params(**synthesis)
    if tau is not None:
        _check_number("tau", tau, 0.0, 10.0)
    if seed is not None:
        _check_seed(seed)
    named = [name for name in speakers if name is not None]
    if named:
        known = base_speakers(checkpoints)
        for name in named:
            find_speaker(known, name)
    for path in audio:
        audio_io.check_readable(path)
    for path in embeddings:
        load_se(path)


def _noise(seed: int) -> NoiseSource:
    from openvoice_tt.noise import NoiseSource

    _check_seed(seed)
    return NoiseSource(seed)


# -------------------------------------------------------------------------------------------------- TTS


def load_lexicon(lexicon: PathLike | Lexicon | None) -> Lexicon | None:
    """A user lexicon from its file (a LexiconError names the file and line of a bad entry), as is, or None."""
    from openvoice_tt.text.lexicon import Lexicon

    if lexicon is None or isinstance(lexicon, Lexicon):
        return lexicon
    return Lexicon.load(lexicon)


def phonemes(text: str, lexicon: PathLike | Lexicon | None = None) -> list[ChunkPhonemes]:
    """Per synthesis chunk of `text`: the normalized text and, per word, its phones and their source.

    Loads no checkpoint. Text that gives no chunk at all (empty, only spaces) is a TextError.
    """
    from openvoice_tt.text.phonemes import describe

    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    chunks = describe(text, SYNTHESIS.max_chunk_chars, load_lexicon(lexicon))
    if not chunks:
        raise TextError(f"text has nothing to speak: {preview(text)}")
    return chunks


class TTS:
    """MeloTTS English: text -> speech at 44.1 kHz with one of the base speakers.

    Loads `<checkpoints>/melotts-english/` and, when present, `<checkpoints>/bert-base-uncased/`; without
    BERT the front end uses zero features (spec §4.7) and one `NoBertWarning` says so. `lexicon` (a file of
    `word  ARPABET` lines, or a loaded Lexicon) overrides the pronunciations; it is read before any model.
    """

    def __init__(
        self, checkpoints: PathLike | None = None, device: str = "auto", lexicon: PathLike | Lexicon | None = None
    ) -> None:
        from openvoice_tt.backends import open_synthesizer
        from openvoice_tt.bert import BertFeatureExtractor
        from openvoice_tt.text import EnglishFrontEnd, NoBertWarning

        self.lexicon = load_lexicon(lexicon)
        self.checkpoints = existing_checkpoint_dir(checkpoints)
        self.device = resolve_device(device)
        folder = self.checkpoints / MELO_DIR
        require_files(folder / "config.json", folder / "checkpoint.pth")
        self.synthesizer: Synthesizer = open_synthesizer(folder, self.device)
        self.config = self.synthesizer.config
        bert_folder = self.checkpoints / BERT_DIR
        bert_device = "cuda" if self.device == "cuda" else "cpu"
        bert = BertFeatureExtractor.from_folder(bert_folder, device=bert_device, missing_ok=True)
        self._bert = bert
        with warnings.catch_warnings():  # replaced by the shorter notice below, which names the folder
            warnings.simplefilter("ignore", NoBertWarning)
            self.front_end = EnglishFrontEnd(
                self.config.symbols, self.config.data.add_blank, bert, lexicon=self.lexicon
            )
        if bert is None:
            warnings.warn(
                f"no BERT model in {bert_folder}; using zero BERT features (flatter prosody). "
                "Run 'openvoice-tt download' to get it.",
                NoBertWarning,
                stacklevel=2,
            )

    @property
    def backend(self) -> str:
        return self.synthesizer.name

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
        """Base speakers in config order (`data.spk2id`), e.g. EN-US, EN-BR, EN_INDIA, EN-AU, EN-Default."""
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
        """Split `text` into chunks (at most 256 characters, whole sentences) and run the front end on each.

        A chunk with nothing speakable is skipped with a warning; text with nothing speakable at all is a
        TextError. Runs before any synthesis, so bad text fails in milliseconds.
        """
        from openvoice_tt.pipeline import split_chunks

        check_text(text)
        timer = timer if timer is not None else _timer("cpu")
        return split_chunks(self._front_end, text, SYNTHESIS.max_chunk_chars, timer)

    def _front_end(self, chunk: str, timer: StageTimer) -> TextInputs:
        """Front end for one chunk, timed as "front_end" with the BERT part split out as "bert"."""
        timer.seconds.setdefault("front_end", 0.0)  # listed before "bert", in pipeline order
        bert_before = timer.seconds.get("bert", 0.0)
        start = time.perf_counter()
        try:
            return self.front_end(chunk, timer)
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
    ) -> Speech:
        """Speak `text` with base speaker `speaker`; the same seed gives the same samples bit for bit.

        Long text is synthesized chunk by chunk, each followed by upstream's int(rate * 0.05 / speed) zeros.
        `timer` (default: a fresh StageTimer) receives the stage timings, e.g. a bench's program count.
        """
        name, params, noise = self._checked(speaker, speed, sdp_ratio, noise_scale, noise_scale_w, seed)
        timer = timer if timer is not None else _timer(self.device)
        prepared = self.prepare(text, timer)
        audio, frames = self.render(prepared, name, params, speed, noise, timer, progress)
        chunks = tuple(chunk.text for chunk in prepared)
        return Speech(audio, self.sample_rate, frames, self.hop_length, seed, chunks, {"synth": dict(timer.seconds)})

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
    ) -> Iterator[np.ndarray]:
        """`synth`, yielded chunk by chunk (float32 at `sample_rate`, each chunk with its pause) as each is
        ready; joined, the pieces are `synth`'s audio sample for sample. Everything is checked, and the
        front end run, before this returns, so bad input fails here and not at the first `next()`."""
        from openvoice_tt.pipeline import speak

        name, params, noise = self._checked(speaker, speed, sdp_ratio, noise_scale, noise_scale_w, seed)
        timer = _timer(self.device)
        prepared = self.prepare(text, timer)
        pieces = speak(self.synthesizer, prepared, self.voice(name, params, speed), noise, timer, progress)
        return (audio for audio, _ in pieces)

    def _checked(
        self, speaker: str | None, speed: float, sdp_ratio: float, noise_scale: float, noise_scale_w: float, seed: int
    ) -> tuple[str, SynthesisParams, NoiseSource]:
        """A synthesis request's speaker name, parameters and noise source, checked."""
        return self.speaker(speaker), synthesis_params(speed, sdp_ratio, noise_scale, noise_scale_w), _noise(seed)

    def render(
        self,
        prepared: Sequence[Chunk],
        speaker: str,
        params: SynthesisParams,
        speed: float,
        noise: NoiseSource,
        timer: StageTimer,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, int]:
        """Synthesize prepared chunks in order with one noise source -> (audio, total model frames)."""
        from openvoice_tt.pipeline import synthesize

        return synthesize(self.synthesizer, prepared, self.voice(speaker, params, speed), noise, timer, progress)


# ------------------------------------------------------------------------------- tone-color converter


class EmbeddingCache:
    """Speaker embeddings on disk, one `<key>.pth` per set of references (upstream's SE file format).

    A damaged entry is ignored (and overwritten); a cache that cannot be written costs only the time to
    recompute, so both are warnings, not errors.
    """

    def __init__(self, folder: PathLike | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.pth"

    def get(self, key: str) -> torch.Tensor | None:
        from openvoice_tt.checkpoints import load_tone_color_embedding

        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return load_tone_color_embedding(path)
        except CheckpointError as e:
            warnings.warn(f"ignoring a damaged cached voice embedding: {e}", UserWarning, stacklevel=3)
            return None

    def put(self, key: str, embedding: torch.Tensor) -> None:
        from openvoice_tt.checkpoints import save_tone_color_embedding

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            save_tone_color_embedding(embedding, self.path(key))
        except OSError as e:
            warnings.warn(
                f"could not cache the voice embedding in {self.folder} ({e.strerror or e})", UserWarning, stacklevel=3
            )


def default_cache_dir() -> Path:
    """$OPENVOICE_TT_SE_CACHE, else $XDG_CACHE_HOME/openvoice-tt/se, else ~/.cache/openvoice-tt/se."""
    explicit = os.environ.get(SE_CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "openvoice-tt" / "se"


class ToneColorConverter:
    """The OpenVoice V2 tone-color converter: speaker embeddings from references, and voice conversion.

    Works at the converter's rate (22.05 kHz); inputs at other rates are resampled with soxr.
    """

    def __init__(
        self, checkpoints: PathLike | None = None, device: str = "auto", cache_dir: PathLike | None = None
    ) -> None:
        from openvoice_tt.backends import open_converter

        self.checkpoints = existing_checkpoint_dir(checkpoints)
        self.device = resolve_device(device)
        folder = self.checkpoints / CONVERTER_DIR
        self.checkpoint_file = folder / "checkpoint.pth"
        require_files(folder / "config.json", self.checkpoint_file)
        self.converter: Converter = open_converter(folder, self.device)
        self.config = self.converter.config
        self.cache = EmbeddingCache(cache_dir)
        self._checkpoint_hash: str | None = None

    @property
    def backend(self) -> str:
        return self.converter.name

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
        path = self.checkpoints / SES_DIR / f"{speaker_key(speaker)}.pth"
        if not path.is_file():
            find_speaker(self._base_speakers(), speaker)
        require_files(path)
        return load_se(path)

    def _base_speakers(self) -> list[str]:
        from openvoice_tt.config import MeloConfig

        config = self.checkpoints / MELO_DIR / "config.json"
        if config.is_file():
            return list(MeloConfig.from_file(config).speakers)
        return sorted(p.stem for p in (self.checkpoints / SES_DIR).glob("*.pth"))

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
        references = _paths(references)
        steps = len(references) + 1
        if progress is not None:
            progress(0, steps)
        clips = []
        for path in references:
            clip = audio_io.read_audio(path, self.sample_rate)
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
        noise = _noise(seed)
        timer = _timer(self.device)
        source, target = _embedding(source_se, "source_se"), _embedding(target_se, "target_se")
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
        _check_number("tau", tau, 0.0, 10.0)
        minimum = self.config.data.filter_length
        if len(samples) < minimum:
            raise AudioError(
                f"{name}: too short to convert ({len(samples)} samples at {self.sample_rate} Hz; need {minimum})"
            )
        from openvoice_tt.pipeline import Conversion, convert

        return convert(self.converter, samples, Conversion(source_se, target_se, tau), noise, timer)


def load_se(path: PathLike) -> torch.Tensor:
    """Read a tone-color embedding file (upstream's format: a bare [1, 256, 1] tensor)."""
    from openvoice_tt.checkpoints import load_tone_color_embedding

    return load_tone_color_embedding(Path(path))


def save_se(embedding: torch.Tensor, path: PathLike) -> None:
    """Write a tone-color embedding atomically in upstream's format (loadable by upstream OpenVoice)."""
    from openvoice_tt.checkpoints import save_tone_color_embedding

    save_tone_color_embedding(embedding, Path(path))


def _embedding(value: torch.Tensor | PathLike, role: str = "voice embedding") -> torch.Tensor:
    """An embedding file (loaded) or tensor (checked: a [1, 128, 1] tensor is an InputError, not a torch
    shape error deep in the converter)."""
    from openvoice_tt.checkpoints import tone_color_embedding

    if isinstance(value, str | os.PathLike):
        return load_se(value)
    return tone_color_embedding(value, role, InputError)


# ------------------------------------------------------------------------------------------------ cloner


class VoiceCloner:
    """Text + a reference voice -> speech in that voice at 22.05 kHz (the OpenVoice V2 flow, spec §3.6).

    MeloTTS speaks the text with a base speaker; the 44.1 kHz result is resampled to 22.05 kHz with soxr in
    memory (upstream round-trips through a 16-bit temporary WAV) and converted from the base speaker's
    embedding (base_speakers/ses) to the reference's. One noise source per utterance, so a seed reproduces
    the output bit for bit. `lexicon` goes to the TTS it makes (see `TTS`).
    """

    def __init__(
        self,
        checkpoints: PathLike | None = None,
        device: str = "auto",
        cache_dir: PathLike | None = None,
        tts: TTS | None = None,
        converter: ToneColorConverter | None = None,
        lexicon: PathLike | Lexicon | None = None,
    ) -> None:
        if tts is not None and lexicon is not None:
            raise ValueError("give the lexicon to the TTS you pass in, not to VoiceCloner")
        self.tts = tts if tts is not None else TTS(checkpoints, device, lexicon)
        self.converter = converter if converter is not None else ToneColorConverter(checkpoints, device, cache_dir)

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
    ) -> Speech:
        """Speak `text` in the voice of `reference` files (or of the embedding `se`), starting from base
        speaker `speaker`. Everything cheap is checked before anything slow runs. `timer` (default: a
        fresh StageTimer) receives the stage timings, e.g. a placement report's."""
        from openvoice_tt.pipeline import clone

        request = locals()
        timer = timer if timer is not None else _timer(self.tts.device)
        prepared, voice, conversion, noise = self._plan(timer, **_cloning(request))
        out = clone(self.tts.synthesizer, self.converter.converter, prepared, voice, conversion, noise, timer, progress)
        hop = self.converter.hop_length
        chunks = tuple(chunk.text for chunk in prepared)
        return Speech(out, self.converter.sample_rate, len(out) // hop, hop, seed, chunks, clone_phases(timer.seconds))

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
    ) -> Iterator[np.ndarray]:
        """`clone`, yielded piece by piece (float32 at `sample_rate`) as soon as each piece can be converted
        exactly (`pipeline.clone_stream`): the first audio comes after the first chunk or two instead of the
        whole text. The synthesized take is `clone`'s; the conversions draw their posterior noise from a
        second generator, so with `tau` 0 the pieces join into `clone`'s audio up to float rounding at the
        joins. Checks, the front end and the embedding run before this returns."""
        from openvoice_tt.pipeline import clone_stream

        request = locals()
        timer = _timer(self.tts.device)
        prepared, voice, conversion, noise = self._plan(timer, **_cloning(request))
        conversion_noise = noise.derived()
        tts, converter = self.tts.synthesizer, self.converter.converter
        return clone_stream(tts, converter, prepared, voice, conversion, noise, conversion_noise, timer, progress)

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

        if (reference is None) == (se is None):
            raise InputError("give either reference audio or a voice embedding (se), not both and not neither")
        if reference is not None:
            reference = _paths(reference)
        name, params, noise = self.tts._checked(speaker, speed, sdp_ratio, noise_scale, noise_scale_w, seed)
        _check_number("tau", tau, 0.0, 10.0)
        prepared = self.tts.prepare(text, timer)
        source_se = self.converter.base_speaker_se(name)
        target_se = _embedding(se, "se") if se is not None else self.converter.extract_se(reference, method, use_cache)
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


# --------------------------------------------------------------------------------------------- placement


@dataclass
class Placement:
    """Where each stage of a clone (and of extracting the result's tone color) ran on the ttnn backend."""

    device: str
    audio_seconds: float
    rows: list[dict[str, Any]]
    transfers: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def placement(
    text: str, checkpoints: PathLike | None = None, speaker: str | None = None, seed: int = DEFAULT_SEED
) -> Placement:
    """Clone `text` (to the base speaker's own voice) and extract the result's embedding on the ttnn
    backend, recording per stage the ttnn ops, their FLOPs and any host<->device transfer."""
    from openvoice_tt.backends import tt_device
    from openvoice_tt.tt.placement import PlacementTimer

    cloner = VoiceCloner(checkpoints, "tt")
    name = cloner.tts.speaker(speaker)
    device = tt_device()
    timer = PlacementTimer(device)
    device.transfers.reset()
    with timer.recording():
        speech = cloner.clone(text, se=cloner.converter.base_speaker_se(name), speaker=name, seed=seed, timer=timer)
        cloner.converter.converter.tone_color([speech.audio], timer.prefixed("extract."))
    seconds = max(speech.seconds, 1e-9)
    rows = [
        {
            "stage": row.stage,
            "runs_on": row.where,
            "ttnn_ops": sum(row.ops.values()),
            "host_transfers": row.transfers,
            "gflop_per_audio_second": row.flops / seconds / 1e9,
            "most_used_ops": dict(row.ops.most_common(4)),
        }
        for row in timer.rows()
    ]
    transfers = {
        "uploads": list(device.transfers.uploads),
        "downloads": list(device.transfers.downloads),
        "scalar_reads": list(device.transfers.scalar_reads),
        "constants": list(device.transfers.constants),  # made once per device (first use of a bucket)
        "weights": len(device.transfers.weights),  # conv weights ttnn prepares for a new bucket
    }
    return Placement(f"{device.kind} {device.arch}", speech.seconds, rows, transfers)
