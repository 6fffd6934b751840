"""Real test audio made on the spot: speech from espeak-ng, plus silence and tones.

Tests never download or commit speech recordings; espeak-ng (Debian package, installed in CI) synthesizes a
sentence in a few milliseconds, which keeps the fixtures honest (real speech for the VAD and the encoders)
and reproducible. These helpers deliberately use soundfile and soxr directly rather than
`openvoice_tt.audio`, so fixtures do not depend on the code under test.

Every piece of speech comes from `synthesize`, which requires espeak-ng (`tests/require.py`: a skip, a
failure in CI); so only the tests and fixtures that make speech depend on it, never a whole module.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from tests.require import require_espeak

ESPEAK_RATE = 22_050  # espeak-ng always writes 16-bit mono WAV at this rate


def synthesize(text: str, voice: str = "en-us+m3", speed: int = 160) -> np.ndarray:
    """espeak-ng speech as float32 mono at ESPEAK_RATE (espeak-ng run without a shell)."""
    require_espeak()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        audio, rate = sf.read(wav, dtype="float32")
    assert rate == ESPEAK_RATE, rate
    return audio


def save(path: str | Path, audio: np.ndarray, rate: int, *, from_rate: int | None = None) -> Path:
    """Write `audio` (mono or [frames, channels]) to `path`; the format comes from the extension.

    With `from_rate`, the audio is first resampled from that rate to `rate`.
    """
    path = Path(path)
    if from_rate is not None and from_rate != rate:
        audio = soxr.resample(audio, from_rate, rate, quality="HQ")
    sf.write(path, audio, rate, format=path.suffix.lstrip(".").upper())
    return path


def make_speech(
    path: str | Path, text: str, voice: str = "en-us+m3", speed: int = 160, rate: int | None = None
) -> Path:
    """Speak `text` into `path` (wav/flac/ogg/mp3 by extension) at `rate` (default: espeak's 22,050 Hz)."""
    return save(path, synthesize(text, voice, speed), rate or ESPEAK_RATE, from_rate=ESPEAK_RATE)


def make_passage(
    path: str | Path, sentences: list[str], pause: float = 2.0, voice: str = "en-us+m3", rate: int | None = None
) -> Path:
    """Several sentences separated by `pause` seconds of digital silence: a reference with known gaps."""
    gap = np.zeros(round(pause * ESPEAK_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    for i, sentence in enumerate(sentences):
        if i:
            parts.append(gap)
        parts.append(synthesize(sentence, voice))
    return save(path, np.concatenate(parts), rate or ESPEAK_RATE, from_rate=ESPEAK_RATE)


def make_silence(path: str | Path, seconds: float, rate: int = ESPEAK_RATE) -> Path:
    return save(path, np.zeros(round(seconds * rate), dtype=np.float32), rate)


def make_tone(
    path: str | Path, seconds: float, rate: int = ESPEAK_RATE, frequency: float = 440.0, amplitude: float = 0.5
) -> Path:
    t = np.arange(round(seconds * rate)) / rate
    return save(path, (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32), rate)
