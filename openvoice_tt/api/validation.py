"""Checking a request before any model loads: option ranges, seeds, text, reference paths, speaker names.

Loading models takes seconds; a mistake found here costs milliseconds. Each is an `OpenVoiceError` with a
one-line message (mostly `InputError`), and the API's methods check the same things again.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from openvoice_tt import audio as audio_io
from openvoice_tt.api.embeddings import load_se
from openvoice_tt.api.speech import PathLike
from openvoice_tt.api.voices import find_base_speaker, require_speakers
from openvoice_tt.config import ConversionDefaults, SynthesisDefaults
from openvoice_tt.errors import InputError, TextError, preview
from openvoice_tt.layout import existing_checkpoint_dir

if TYPE_CHECKING:
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.synthesizer import SynthesisParams

_SURROGATE = re.compile("[\ud800-\udfff]")
SYNTHESIS = SynthesisDefaults()
CONVERSION = ConversionDefaults()
DEFAULT_SEED = 0
SEGMENTATION_METHODS = ("silero", "energy")
SPEED_RANGE = (0.1, 10.0)  # beyond this the output is unusable and the flow's attention (T_y^2) explodes
TAU_RANGE = (0.0, 10.0)
MAX_SEED = 2**63 - 1
MAX_TEXT_CHARS = 1024 * 1024
"""Longest text one request speaks (1,048,576 characters, about 20 hours of speech; stdin is read up to as
many bytes). Longer text, or an endless stdin such as /dev/zero, is refused (exit 3): split it, or use batch."""


def synthesis_params(
    speed: float = SYNTHESIS.speed,
    sdp_ratio: float = SYNTHESIS.sdp_ratio,
    noise_scale: float = SYNTHESIS.noise_scale,
    noise_scale_w: float = SYNTHESIS.noise_scale_w,
) -> SynthesisParams:
    """Checked MeloTTS parameters; length_scale = 1 / speed as in upstream's tts_to_file."""
    from openvoice_tt.reference.synthesizer import SynthesisParams

    low, high = SPEED_RANGE
    check_number("speed", speed, low, high)
    check_number("sdp_ratio", sdp_ratio, 0.0, 1.0)
    check_number("noise_scale", noise_scale, 0.0, 10.0)
    check_number("noise_scale_w", noise_scale_w, 0.0, 10.0)
    return SynthesisParams(
        sdp_ratio=sdp_ratio, noise_scale=noise_scale, noise_scale_w=noise_scale_w, length_scale=1 / speed
    )


def check_number(name: str, value: float, low: float, high: float) -> None:
    """An InputError unless `value` is a finite int or float (not a bool) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}, got {value:g}")


def check_tau(tau: float) -> None:
    check_number("tau", tau, *TAU_RANGE)


def check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")


def noise_source(seed: int) -> NoiseSource:
    """The seeded generator of all of an utterance's noise, after checking the seed."""
    from openvoice_tt.noise import NoiseSource

    check_seed(seed)
    return NoiseSource(seed)


def check_unicode(text: str, what: str) -> None:
    """TextError unless `text` is real Unicode: a lone surrogate is what Python makes of bytes that were not
    UTF-8 in argv (surrogateescape) and cannot be spoken or written; the message names its byte offset."""
    found = _SURROGATE.search(text)
    if found is None:
        return
    code = ord(found.group())
    byte = f"byte 0x{code - 0xDC00:02x} " if 0xDC80 <= code <= 0xDCFF else "a lone surrogate "
    offset = len(text[: found.start()].encode("utf-8"))
    raise TextError(f"{what} is not valid UTF-8 ({byte}at byte offset {offset})")


def check_text(text: object) -> str:
    """Text a request can use at all: a string with something besides spaces (whether it is speakable is
    the front end's to say)."""
    if not isinstance(text, str):
        raise TextError(f"text must be a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise TextError(f"text is over {MAX_TEXT_CHARS:,} characters (the limit; split it, or use batch)")
    check_unicode(text, "text")
    if not text.strip():
        raise TextError(f"text has nothing to speak: {preview(text)}")
    return text


def reference_paths(references: Sequence[PathLike] | PathLike) -> list[PathLike]:
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
    """Every installed base speaker's name, languages in registry order (EN's, then EN_V2's own, ES, ...),
    read from the MeloTTS configs alone (no weights loaded); a CheckpointError when none is installed."""
    return tuple(dict.fromkeys(speaker.name for speaker in require_speakers(checkpoints)))


def check_request(
    checkpoints: PathLike | None = None,
    *,
    text: str | None = None,
    speakers: Sequence[str | None] = (),
    synthesis: Mapping[str, float] | None = None,
    tau: float | None = None,
    seed: int | None = None,
    audio: Sequence[PathLike] = (),
    references: Sequence[PathLike] = (),
    embeddings: Sequence[PathLike] = (),
    language: str | None = None,
) -> None:
    """Check everything about a request that needs no model: the checkpoint folder, the text, option
    ranges, speaker names (from the installed configs; in `language` when given, which must be a known
    and installed language), input audio and reference recordings (headers, each at most
    `audio.MAX_AUDIO_SECONDS` or `MAX_REFERENCE_SECONDS` long) and embedding files. Loading models
    takes seconds; a mistake found here costs milliseconds. The methods check the same things again."""
    existing_checkpoint_dir(checkpoints)
    if text is not None:
        check_text(text)
    if synthesis is not None:
        synthesis_params(**synthesis)
    if tau is not None:
        check_tau(tau)
    if seed is not None:
        check_seed(seed)
    if language is not None:
        find_base_speaker(checkpoints, None, language, text if text is not None else "")
    for name in speakers:
        if name is not None:
            find_base_speaker(checkpoints, name, language)
    for path in audio:
        audio_io.check_readable(path)
    for path in references:
        audio_io.check_readable(path, audio_io.MAX_REFERENCE_SECONDS)
    for path in embeddings:
        load_se(path)
