"""openvoice_tt.audio: decoding, resampling, atomic writing and speech segmentation, on real espeak-ng speech."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from openvoice_tt import audio
from openvoice_tt.audio import (
    ShortReferenceWarning,
    audio_format_for,
    content_hash,
    detect_speech,
    read_audio,
    resample,
    speech_segments,
    write_audio,
)
from openvoice_tt.errors import AudioError, InputError, OutputError
from tests.speech import ESPEAK_RATE, make_passage, make_speech, synthesize

REPO = Path(__file__).resolve().parents[1]
RATE = 22_050
# one torch thread, whatever ran before: importing silero-vad sets torch to one thread for the process, and a
# test that restores the thread count afterwards (tool_environment) leaves silero's tiny steps on two
# threads, which on a busy 2-core machine spin on each other (measured: 35 s instead of 1.7 s CPU per run)
pytestmark = pytest.mark.usefixtures("tool_environment")

SENTENCES = [
    "The quick brown fox jumps over the lazy dog while the farmer watches from the fence.",
    "Every morning she walks along the river, counting the boats that drift toward the sea.",
    "Scientists have long wondered why some birds travel thousands of miles to one small island.",
    "When the rain finally stopped, the children ran outside and splashed through every puddle.",
]
PAUSE = 2.0


def tone(seconds: float, rate: int, frequency: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def one_line_naming(error: pytest.ExceptionInfo[BaseException], name: str) -> str:
    message = str(error.value)
    assert "\n" not in message and name in message, message
    return message


# ------------------------------------------------------------------------------------------------ reading


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_read_formats(tmp_path: Path, ext: str) -> None:
    speech = synthesize("Reading audio in every format.")
    got = read_audio(make_speech(tmp_path / f"ref.{ext}", "Reading audio in every format."), RATE)
    assert got.dtype == np.float32 and got.ndim == 1
    assert np.abs(got).max() <= 1.0
    if ext in ("wav", "flac"):  # lossless 16-bit: the samples themselves
        np.testing.assert_allclose(got, speech, atol=1 / 32768)
    else:  # lossy codecs add encoder delay/padding; the length and the loudness survive
        assert abs(len(got) - len(speech)) < 0.1 * RATE
        assert np.sqrt(np.mean(got**2)) == pytest.approx(np.sqrt(np.mean(speech**2)), rel=0.2)


def test_stereo_48k_mixes_to_mono_22050(tmp_path: Path) -> None:
    x = tone(1.0, 48_000)
    expected_length = len(x) * RATE / 48_000
    cases = {"opposite": (x, -x, np.zeros_like(x)), "same": (x, x, x), "left-only": (x, 0 * x, x / 2)}
    for label, (left, right, mono) in cases.items():
        path = tmp_path / f"{label}.wav"
        sf.write(path, np.stack([left, right], axis=1), 48_000, subtype="FLOAT")
        got = read_audio(path, RATE)
        assert abs(len(got) - expected_length) <= 1, label
        np.testing.assert_allclose(got, resample(mono, 48_000, RATE), atol=1e-6, err_msg=label)
    assert np.abs(read_audio(tmp_path / "opposite.wav", RATE)).max() < 1e-6


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_int16_and_float32_sources(tmp_path: Path, subtype: str) -> None:
    x = tone(0.5, RATE, amplitude=0.9)
    sf.write(tmp_path / "x.wav", x, RATE, subtype=subtype)
    np.testing.assert_allclose(read_audio(tmp_path / "x.wav", RATE), x, atol=1 / 32768 if subtype == "PCM_16" else 0)


def test_float_source_above_full_scale_is_scaled_not_clipped(tmp_path: Path) -> None:
    x = tone(0.5, RATE, amplitude=2.0)
    sf.write(tmp_path / "hot.wav", x, RATE, subtype="FLOAT")
    got = read_audio(tmp_path / "hot.wav", RATE)
    np.testing.assert_allclose(got, x / np.abs(x).max(), atol=1e-6)


def bad_inputs(tmp: Path) -> list[tuple[Path, str]]:
    """Files for every user mistake read_audio must explain, each with the start of its expected message."""
    (tmp / "folder.wav").mkdir()
    (tmp / "notes.wav").write_text("these are not samples\n")
    (tmp / "empty-file.wav").write_bytes(b"")
    header = io.BytesIO()
    sf.write(header, np.zeros(1000, np.float32), RATE, format="WAV")
    (tmp / "truncated.wav").write_bytes(header.getvalue()[:30])
    sf.write(tmp / "zero-frames.wav", np.zeros(0, np.float32), RATE)
    sf.write(tmp / "nan.wav", np.array([0.0, np.nan, 0.1], np.float32), RATE, subtype="FLOAT")
    sf.write(tmp / "inf.wav", np.array([0.0, np.inf, 0.1], np.float32), RATE, subtype="FLOAT")
    return [
        (tmp / "missing.wav", "no such file"),
        (tmp / "folder.wav", "is a directory, not an audio file"),
        (tmp / "notes.wav", "not a readable audio file (Format not recognised)"),
        (tmp / "empty-file.wav", "not a readable audio file (Format not recognised)"),
        (tmp / "truncated.wav", "not a readable audio file (Error in WAV file"),
        (tmp / "zero-frames.wav", "contains no audio"),
        (tmp / "nan.wav", "contains NaN or infinite samples"),
        (tmp / "inf.wav", "contains NaN or infinite samples"),
    ]


def test_bad_inputs_raise_one_line_audio_errors(tmp_path: Path) -> None:
    for path, expected in bad_inputs(tmp_path):
        with pytest.raises(AudioError) as error:
            read_audio(path, RATE)
        assert one_line_naming(error, str(path)).startswith(f"{path}: {expected}")
        assert isinstance(error.value, InputError) and error.value.exit_code == 3


# --------------------------------------------------------------------------------------------- resampling


def test_resample_identity_and_pitch() -> None:
    x = tone(1.0, 44_100, frequency=1000.0)
    assert resample(x, 44_100, 44_100) is x
    y = resample(x, 44_100, RATE)
    assert y.dtype == np.float32 and len(y) == RATE
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) * RATE / len(y) == pytest.approx(1000.0, abs=1.0)  # same pitch after resampling
    assert np.sqrt(np.mean(y[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)  # same level


def test_content_hash() -> None:
    """The documented key, computed here with hashlib: sha256 of "<rate>:" and the little-endian float32
    samples (a hex string was all the test asked before, and `int(h, 16) >= 0` holds for any)."""
    x = tone(0.1, RATE)
    h = content_hash(x, RATE)
    assert h == hashlib.sha256(f"{RATE}:".encode() + x.astype("<f4").tobytes()).hexdigest()
    assert content_hash(x.astype(np.float64), RATE) == h  # hashes the float32 samples, not the container
    assert content_hash(x, 44_100) != h
    changed = x.copy()
    changed[7] += 1e-6
    assert content_hash(changed, RATE) != h


# ------------------------------------------------------------------------------------------------ writing


@pytest.mark.parametrize(
    ("fmt", "container", "subtype"), [("wav", "WAV", "PCM_16"), ("flac", "FLAC", "PCM_16"), ("ogg", "OGG", "VORBIS")]
)
def test_write_round_trip(tmp_path: Path, fmt: str, container: str, subtype: str) -> None:
    x = tone(0.5, RATE)
    x[100], x[200] = 1.5, -2.0  # out of range: clipped to full scale
    path = tmp_path / f"out.{fmt}"
    write_audio(path, x, RATE)  # format from the extension
    write_audio(tmp_path / "explicit.data", x, RATE, fmt)
    assert sf.info(tmp_path / "explicit.data").format == container
    info = sf.info(path)
    assert (info.format, info.subtype, info.samplerate, info.channels) == (container, subtype, RATE, 1)
    got, _ = sf.read(path, dtype="float32")
    if fmt == "ogg":
        assert abs(len(got) - len(x)) < 0.05 * RATE
    else:
        np.testing.assert_allclose(got, np.clip(x, -1, 1), atol=1 / 32768)
        assert got[100] == pytest.approx(1.0, abs=1 / 32768) and got[200] == -1.0
    assert sorted(os.listdir(tmp_path)) == ["explicit.data", f"out.{fmt}"]  # no temp file left behind


def test_written_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_audio(tmp_path / "out.wav", tone(0.1, RATE), RATE)
    finally:
        os.umask(old)
    assert (tmp_path / "out.wav").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("target", "raised", "message"),
    [
        ("fsync", OSError(errno.ENOSPC, "No space left on device"), "disk full"),
        ("replace", PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
    ],
)
def test_failed_write_leaves_existing_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, raised: OSError, message: str
) -> None:
    existing = tmp_path / "out.wav"
    write_audio(existing, tone(0.2, RATE), RATE)
    before = existing.read_bytes()
    temps: list[str] = []

    def fail(*args: object) -> None:  # runs once the temp file exists and holds the new audio
        temps.extend(name for name in os.listdir(tmp_path) if name.endswith(".tmp"))
        raise raised

    monkeypatch.setattr(os, target, fail)
    with pytest.raises(OutputError) as error:
        write_audio(existing, tone(1.0, RATE, frequency=880.0), RATE)
    monkeypatch.undo()
    assert str(error.value) == f"{existing}: {message}" and error.value.exit_code == 5
    assert len(temps) == 1 and temps[0].startswith(".out.wav.")
    assert existing.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.wav"]


def test_unwritable_destinations(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "out.wav"
    with pytest.raises(OutputError) as error:
        write_audio(missing, tone(0.1, RATE), RATE)
    assert str(error.value) == f"{missing}: directory {missing.parent} does not exist"
    (tmp_path / "taken.wav").mkdir()
    with pytest.raises(OutputError, match=r"taken\.wav: is a directory$"):
        write_audio(tmp_path / "taken.wav", tone(0.1, RATE), RATE)
    assert sorted(os.listdir(tmp_path)) == ["taken.wav"]


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_write_to_stdout_pipe(fmt: str) -> None:
    code = (
        "import numpy as np; from openvoice_tt.audio import write_audio; print('text first', flush=False); "
        f"write_audio('-', np.linspace(-0.5, 0.5, 2205, dtype=np.float32), 22050, '{fmt}')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, check=True, timeout=60)
    text, data = result.stdout.split(b"\n", 1)
    assert text == b"text first"
    got, rate = sf.read(io.BytesIO(data), dtype="float32")
    assert rate == RATE and sf.info(io.BytesIO(data)).format == fmt.upper()
    np.testing.assert_allclose(got, np.linspace(-0.5, 0.5, 2205), atol=1 / 32768)


@pytest.mark.parametrize(
    ("path", "explicit", "expected"),
    [
        ("out.wav", None, "wav"),
        ("OUT.FLAC", None, "flac"),
        ("dir.v2/clip.ogg", None, "ogg"),
        ("out.wav", "flac", "flac"),
        ("out.data", "OGG", "ogg"),
        ("-", None, "wav"),
        ("-", "flac", "flac"),
    ],
)
def test_audio_format_for(path: str, explicit: str | None, expected: str) -> None:
    assert audio_format_for(path, explicit) == expected


@pytest.mark.parametrize(
    ("path", "explicit", "message"),
    [
        ("out.mp3", None, "out.mp3: unknown audio extension '.mp3' (use wav, flac, ogg or pcm"),
        ("out", None, "out: no file extension"),
        ("out.wav", "mp3", "unknown audio format 'mp3' (use wav, flac, ogg or pcm)"),
    ],
)
def test_audio_format_errors(tmp_path: Path, path: str, explicit: str | None, message: str) -> None:
    with pytest.raises(AudioError) as error:
        audio_format_for(path, explicit)
    assert str(error.value).startswith(message)
    with pytest.raises(AudioError):  # write_audio chooses the same way, before touching the disk
        write_audio(tmp_path / path, tone(0.1, RATE), RATE, explicit)
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------------------- segmentation


@pytest.fixture(scope="module")
def passage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float]]]:
    """A ~25 s reference: four sentences with 2 s silences, and where each sentence's sound starts and ends."""
    path = make_passage(tmp_path_factory.mktemp("passage") / "passage.wav", SENTENCES, pause=PAUSE)
    voiced, offset = [], 0.0
    for sentence in SENTENCES:
        speech = synthesize(sentence)
        loud = np.flatnonzero(np.abs(speech) > 0.01)
        voiced.append((offset + loud[0] / ESPEAK_RATE, offset + loud[-1] / ESPEAK_RATE))
        offset += len(speech) / ESPEAK_RATE + PAUSE
    return path, voiced


@pytest.mark.parametrize("rate", [RATE, 48_000])
@pytest.mark.parametrize("method", ["silero", "energy"])
def test_passage_segments(passage: tuple[Path, list[tuple[float, float]]], rate: int, method: str) -> None:
    path, voiced = passage
    samples = read_audio(path, rate)
    detection = detect_speech(samples, rate, method)
    assert detection.method == method
    spans = [(s / rate, e / rate) for s, e in detection.spans]
    assert len(spans) == len(SENTENCES)  # the 2 s pauses survive the 0.5 s widening on both sides
    for (start, end), (speech_start, speech_end) in zip(spans, voiced, strict=True):
        assert start <= speech_start and speech_end <= end  # every sentence lies inside its span...
        assert speech_start - start <= 0.8 and end - speech_end <= 0.8  # ...widened by about 0.5 s
    true_speech = sum(e - s for s, e in voiced)
    assert detection.speech_seconds == pytest.approx(true_speech, rel=0.15)

    segments = speech_segments(samples, rate, name="passage.wav", method=method)
    kept = sum(e - s for s, e in detection.spans)
    assert len(segments) == max(1, round(kept / rate / 10)) == 2
    np.testing.assert_array_equal(np.concatenate(segments), np.concatenate([samples[s:e] for s, e in detection.spans]))
    assert max(map(len, segments)) - min(map(len, segments)) <= 1


@pytest.mark.parametrize("method", ["silero", "energy"])
def test_short_reference_warns_and_works(tmp_path: Path, method: str) -> None:
    samples = read_audio(make_speech(tmp_path / "short.wav", "Hello there, this is a short test."), RATE)
    assert 2.0 < len(samples) / RATE < 4.0
    with pytest.warns(ShortReferenceWarning, match=r"^short\.wav: only \d\.\d s of speech"):
        segments = speech_segments(samples, RATE, name="short.wav", method=method)
    assert len(segments) == 1 and len(segments[0]) > RATE


@pytest.mark.parametrize("method", ["silero", "energy"])
def test_too_little_speech_is_refused(tmp_path: Path, method: str) -> None:
    samples = read_audio(make_speech(tmp_path / "blip.wav", "Hello there, this is a short test."), RATE)
    with pytest.raises(AudioError) as error:
        speech_segments(samples[: round(0.2 * RATE)], RATE, name="blip.wav", method=method)
    assert str(error.value).endswith("s of speech; need at least 1 s") and "only 0." in str(error.value)
    one_line_naming(error, "blip.wav")


@pytest.mark.parametrize("method", ["silero", "energy"])
def test_silence_and_hiss_have_no_speech(method: str) -> None:
    noise = np.random.default_rng(0).normal(0, 1e-4, 5 * RATE).astype(np.float32)  # about -80 dBFS
    for samples in (np.zeros(5 * RATE, np.float32), noise, np.zeros(0, np.float32)):
        with pytest.raises(AudioError, match=r"^quiet\.wav: no speech found$"):
            speech_segments(samples, RATE, name="quiet.wav", method=method)


def test_energy_fallback_when_silero_cannot_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples = read_audio(make_speech(tmp_path / "ref.wav", "Falling back to energy detection works too."), RATE)
    audio.SILERO.reset()  # a model loaded by an earlier test would be used
    monkeypatch.setitem(sys.modules, "silero_vad", None)  # import silero_vad now raises ImportError
    try:
        with pytest.warns(UserWarning, match="silero-vad unavailable") as caught:
            first = detect_speech(samples, RATE)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the second call (the same failure) must not warn again
            second = detect_speech(samples, RATE)
    finally:
        audio.SILERO.reset()
    assert len(caught) == 1
    assert first == second and first.method == "energy" and first.speech_seconds > 1.0


def test_a_failed_silero_load_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reproduction: a failed load was cached for the life of the process, so one transient error made a
    long-running server detect speech by energy forever."""
    silence = np.zeros(RATE, np.float32)
    audio.SILERO.reset()
    monkeypatch.setitem(sys.modules, "silero_vad", None)  # the first load fails
    with pytest.warns(UserWarning, match="silero-vad unavailable"):
        assert detect_speech(silence, RATE).method == "energy"
    assert audio.detector_for("silero") == "energy"
    monkeypatch.undo()  # silero can be loaded again: the next call loads it
    assert audio.detector_for("silero") == "silero"
    assert detect_speech(silence, RATE).method == "silero"


def test_loading_silero_keeps_torchs_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reproduction: silero_vad's import sets torch to one thread for the whole process, so a batch's items
    after its first clone ran on one thread and those before on torch's default, and an item's audio
    depended on whether a clone had run before it in the same process (a Ray worker's order is not the list's)."""
    import torch

    for name in [name for name in sys.modules if name.split(".")[0] == "silero_vad"]:
        monkeypatch.delitem(sys.modules, name)  # imported afresh, as in a new process
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        assert audio.SileroVad().load() is not None
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
