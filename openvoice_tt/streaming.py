"""Audio written while it is being made: a WAV stream or raw 16-bit PCM, chunk by chunk.

A WAV written to a pipe cannot go back to fill in its sizes, so, as streaming WAV writers do, its RIFF
and data sizes say 0xFFFFFFFF (unknown: read to the end). Written to a regular file the stream goes to a
temporary file whose header gets the real sizes at the end before it is renamed into place, so the file
is the same as a non-streamed one, byte for byte. Samples become 16-bit integers exactly as libsndfile
makes them for `write_audio` (clipped to [-1, 1], to 32 bits rounded to nearest, top 16 bits kept;
tests/test_streaming.py and tests/test_hostile_memory.py hold the two byte for byte, edge values included).

`write_take` writes a non-streamed take the same way, piece by piece, so a long text never holds its whole
audio in memory: the file is the one `audio.write_audio` makes of the joined pieces (wav, pcm and flac byte
for byte, ogg the same samples), only one piece is in memory at a time, and a destination that is not a
regular file gets the audio only once it is complete, as before.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from openvoice_tt.audio import FORMATS
from openvoice_tt.errors import OutputError
from openvoice_tt.outputs import Progressive, is_special, output_error, progressive

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
    # libsndfile's float -> PCM_16: to a 32-bit integer (x * 2^31 rounded to nearest, exact in float64,
    # 1.0 kept within int32), then its top 16 bits (a shift: rounded down). Rounding down x * 32768 instead
    # differs by one step for a float just below a step (e.g. 2.9999998 / 32768), about 1 in 10,000 samples.
    wide = np.minimum(np.rint(np.clip(samples, -1.0, 1.0).astype(np.float64) * 2.0**31), 2.0**31 - 1)
    return np.floor(wide / 65536.0).astype("<i2").tobytes()


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


SPOOL_BLOCK = 1 << 20  # bytes copied at a time from a take's spool to a pipe or device


@dataclass(frozen=True)
class Take:
    """What `write_take` wrote: the samples and how many pieces (chunks) they came in."""

    samples: int
    pieces: int


def write_take(destination: str | os.PathLike[str], pieces: Iterable[np.ndarray], sample_rate: int, fmt: str) -> Take:
    """Write the joined `pieces` to `destination` ("-": stdout) as `fmt`, one piece in memory at a time.

    The result is `audio.write_audio(destination, np.concatenate(pieces), ...)`'s: wav, pcm and flac byte
    for byte, ogg (Vorbis) the same decoded samples (its pages may break elsewhere). A regular file is
    encoded into the atomic writer's temporary file and renamed over the destination at the end, so a
    failure or Ctrl-C leaves nothing behind; stdout, a FIFO or a device gets the file only when it is
    complete (it is spooled in an anonymous temporary file, then copied), so a WAV there has its real sizes.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown audio format {fmt!r}")
    name = os.fspath(destination)
    if not is_special(destination):
        with progressive(destination) as out:
            return _encode(out, pieces, sample_rate, fmt)
    try:
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed below; opening it is what may fail)
    except OSError as e:
        raise output_error(f"temporary file for {name}", e) from None
    with spool:
        take = _encode(Progressive(f"temporary file for {name}", spool.fileno(), True), pieces, sample_rate, fmt)
        with progressive(destination) as out:
            offset = 0
            while block := os.pread(spool.fileno(), SPOOL_BLOCK, offset):
                out.write(block)
                offset += len(block)
    return take


def _encode(out: Progressive, pieces: Iterable[np.ndarray], sample_rate: int, fmt: str) -> Take:
    """Encode the pieces into `out` (a temporary file, empty) as `audio.encode_audio` encodes their join."""
    count = total = 0
    if fmt in STREAM_FORMATS:  # the 16-bit samples libsndfile writes, under the header it writes
        if fmt == "wav":
            out.write(wav_header(sample_rate, 0))
        for piece in pieces:
            data = pcm16(_mono(piece))
            out.write(data)
            count, total = count + 1, total + len(data) // 2
        if fmt == "wav":
            out.patch(0, wav_header(sample_rate, 2 * total))
        return Take(total, count)
    import soundfile as sf

    container, subtype = FORMATS[fmt]
    try:  # libsndfile writes the file descriptor itself (no Python callbacks), and seeks back to finish it
        with sf.SoundFile(out.fd, "w", sample_rate, 1, subtype, "FILE", container, closefd=False) as encoder:
            for piece in pieces:
                samples = _mono(piece)
                if not np.isfinite(samples).all():  # a model bug, not a user error: keep the traceback
                    raise ValueError("write_take got NaN or infinite samples")
                encoder.write(np.clip(samples, -1.0, 1.0))
                count, total = count + 1, total + len(samples)
    except sf.LibsndfileError as e:  # a full disk, seen by libsndfile
        raise OutputError(f"{out.name}: cannot write ({' '.join(str(e).split())})") from None
    return Take(total, count)


def _mono(piece: np.ndarray) -> np.ndarray:
    samples = np.asarray(piece, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"write_take expects mono (1-D) pieces, got shape {samples.shape}")
    return samples
