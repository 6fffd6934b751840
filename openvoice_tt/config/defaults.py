"""The values a user gets without asking: upstream's inference defaults, in one place.

The CLI shows them in `--help` and the API uses them as keyword defaults, so they must be importable without
torch (this module imports nothing heavy). They are upstream's values unless a comment says otherwise, so
that parity with upstream is the default behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SynthesisDefaults:
    """The values `TTS.tts_to_file` passes upstream (not `SynthesizerTrn.infer`'s own defaults)."""

    sdp_ratio: float = 0.2
    noise_scale: float = 0.6
    noise_scale_w: float = 0.8
    speed: float = 1.0
    chunk_silence_seconds: float = 0.05
    max_chunk_chars: int = 256
    # Not upstream's: the first chunk of a text longer than `max_chunk_chars` is packed to at most this many
    # characters (about one sentence of prose), so a stream's first audio waits for one sentence, not for a
    # full chunk (text/split.py). Shorter texts stay one pass, as upstream's are.
    first_chunk_chars: int = 100
    # Not upstream's (its Chinese, Japanese and Korean splitter cuts at every clause of 10+ characters): the
    # same two limits for CJK text, in characters of those scripts (text/split.py says why 100 and 40).
    cjk_max_chunk_chars: int = 100
    cjk_first_chunk_chars: int = 40


@dataclass(frozen=True)
class ConversionDefaults:
    """Upstream `ToneColorConverter.convert` defaults."""

    tau: float = 0.3
