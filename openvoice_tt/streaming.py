"""Audio written while it is being made: a WAV stream or raw 16-bit PCM, chunk by chunk.

A WAV written to a pipe cannot go back to fill in its sizes, so, as streaming WAV writers do, its RIFF
and data sizes say 0xFFFFFFFF (unknown: read to the end). Written to a regular file the stream goes to a
temporary file whose header gets the real sizes at the end before it is renamed into place, so the file
is the same as a non-streamed one, byte for byte. Samples become 16-bit integers exactly as libsndfile
makes them for `write_audio` (clipped to [-1, 1], scaled by 32768, rounded down, kept within int16;
tests/test_streaming.py holds the two byte for byte).
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from openvoice_tt.outputs import progressive

STREAM_FORMATS = ("wav", "pcm")
UNKNOWN_SIZE = 0xFFFFFFFF
WAV_HEADER_BYTES = 44


def wav_header(sample_rate: int, data_bytes: int | None = None) -> bytes:
    """A 44-byte header of mono 16-bit PCM WAV; `data_bytes` None: a stream of unknown length."""
    riff = UNKNOWN_SIZE if data_bytes is None else 36 + data_bytes
    data = UNKNOWN_SIZE if data_bytes is None else data_bytes
    fmt = (16, 1, 1, sample_rate, 2 * sample_rate, 2, 16)  # PCM, mono, rate, bytes/s, block align, bits
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", riff, b"WAVE", b"fmt ", *fmt, b"data", data)


def pcm16(audio: np.ndarray) -> bytes:
    """Float samples -> 16-bit little-endian PCM bytes."""
    samples = np.asarray(audio, dtype=np.float32)
    if not np.isfinite(samples).all():  # a model bug, not a user error: keep the traceback
        raise ValueError("pcm16 got NaN or infinite samples")
    scaled = np.floor(np.clip(samples, -1.0, 1.0).astype(np.float64) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()


@dataclass(frozen=True)
class Streamed:
    samples: int
    first_audio_seconds: float  # from the call to the first audio bytes written
    seconds: float  # from the call to the last


def write_stream(
    destination: str | os.PathLike[str], pieces: Iterable[np.ndarray], sample_rate: int, fmt: str
) -> Streamed:
    """Write every piece as soon as it comes to `destination` ("-": stdout) as `fmt` (wav or pcm)."""
    if fmt not in STREAM_FORMATS:
        raise ValueError(f"cannot stream {fmt!r} (streamable: {', '.join(STREAM_FORMATS)})")
    start = time.perf_counter()
    first, total = None, 0
    with progressive(destination) as out:
        if fmt == "wav":
            out.write(wav_header(sample_rate))
        for piece in pieces:
            data = pcm16(piece)
            out.write(data)
            total += len(data)
            if first is None:
                first = time.perf_counter() - start
        if fmt == "wav" and out.seekable:
            out.patch(0, wav_header(sample_rate, total))
    end = time.perf_counter() - start
    return Streamed(total // 2, end if first is None else first, end)
