"""Issue 23, memory that grew with the audio: a non-streamed `synth` held its whole take (float32 at
44.1 kHz, joined, clipped and encoded in memory: about 1 MiB of peak RSS per second of audio on the tiny
checkpoints), so a 1 MiB text could mean hours of audio in memory. It is now written piece by piece into
the atomic writer's temporary file (`streaming.write_take`, fed by the one chunk loop `TTS.stream` runs):
the same file as before, nothing half-written on failure, and a peak that does not follow the audio.
A non-streamed `clone` converts its whole take in one pass, so its take is bounded (`MAX_CLONE_SECONDS`).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from openvoice_tt import api
from openvoice_tt.audio import FORMATS, encode_audio
from openvoice_tt.errors import OutputError
from openvoice_tt.streaming import pcm16, write_take

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": "1"}
RATE = 44100
SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "


def pieces(seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)  # over full scale now and then: the clipping must match too
    return [(rng.standard_normal(n) * 0.5).astype(np.float32) for n in (1000, 3 * RATE + 17, 5000, 70_000)]


def decoded(data: bytes, fmt: str) -> np.ndarray:
    if fmt == "pcm":
        return np.frombuffer(data, "<i2")
    return sf.read(io.BytesIO(data), dtype="int16")[0]


# ---------------------------------------------------------------------------------------- the writer


def test_pcm16_is_libsndfiles_conversion_at_every_step_edge() -> None:
    """Every 16-bit step, its half, and the floats just beside them: a float just below a step (2.9999998 /
    32768) is where rounding x * 32768 down differed from libsndfile (1 LSB in ~1e-4 of real samples)."""
    steps = np.arange(-32768, 32768, dtype=np.float64)
    marks = np.concatenate([steps / 32768, (steps + 0.5) / 32768]).astype(np.float32)
    edges = [marks, *(np.nextafter(marks, np.float32(to)) for to in (-2, 0, 2)), np.float32([1, -1, 1.5, -7])]
    rng = np.random.default_rng(0)
    samples = np.concatenate([*edges, rng.uniform(-1.2, 1.2, 200_000).astype(np.float32)])
    assert pcm16(samples) == encode_audio(samples, RATE, "pcm")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_take_written_piece_by_piece_is_the_file_written_whole(fmt: str, tmp_path: Path) -> None:
    parts = pieces()
    whole = encode_audio(np.concatenate(parts), RATE, fmt)
    out = tmp_path / f"take.{fmt}"
    take = write_take(out, iter(parts), RATE, fmt)
    assert (take.samples, take.pieces) == (sum(map(len, parts)), len(parts))
    if fmt == "ogg":  # Vorbis pages may break elsewhere; the decoded samples are the same
        assert np.array_equal(decoded(out.read_bytes(), fmt), decoded(whole, fmt))
    else:
        assert out.read_bytes() == whole
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_a_fifo_gets_the_whole_file_with_its_real_sizes(fmt: str, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=open(tmp_path / "got", "wb"))  # noqa: SIM115
    write_take(fifo, iter(pieces()), RATE, fmt)
    assert reader.wait(timeout=30) == 0
    assert (tmp_path / "got").read_bytes() == encode_audio(np.concatenate(pieces()), RATE, fmt)


def test_a_failure_midway_leaves_the_old_file_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "keep.wav"
    out.write_bytes(b"the old take")

    def failing() -> object:
        yield np.zeros(RATE, np.float32)
        raise KeyboardInterrupt  # Ctrl-C between two chunks

    with pytest.raises(KeyboardInterrupt):
        write_take(out, failing(), RATE, "wav")
    assert out.read_bytes() == b"the old take"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.wav"]
    with pytest.raises(OutputError, match="directory"):
        write_take(tmp_path / "no" / "x.flac", iter(pieces()), RATE, "flac")


# ------------------------------------------------------------------------------------ the command


@pytest.mark.filterwarnings("ignore:no BERT model")  # the tiny checkpoints have none
def test_synth_writes_what_the_api_synthesizes_and_reports_it(tiny_checkpoints: Path, tmp_path: Path) -> None:
    text = SENTENCE * 6  # several chunks (the first packed to one sentence)
    out = tmp_path / "cli.flac"
    args = ["synth", text, "-o", out, "--checkpoints", tiny_checkpoints, "--device", "cpu", "--seed", "5", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "openvoice_tt", *map(str, args)], capture_output=True, env=ENV, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the command ran (OMP_NUM_THREADS=1): float sums depend on the thread count
    try:
        speech = api.TTS(tiny_checkpoints, "cpu").synth(text, seed=5)
    finally:
        torch.set_num_threads(threads)
    assert out.read_bytes() == encode_audio(speech.audio, speech.sample_rate, "flac")
    expected = (len(speech.audio), speech.frames, len(speech.chunks), round(speech.seconds, 4))
    assert (report["samples"], report["frames"], report["chunks"], report["seconds"]) == expected
    assert len(speech.chunks) > 2 and set(report["timings"]["synth"]) >= {"front_end", "flow", "vocoder"}


# A synthesizer that returns `SECONDS` of audio per chunk at once: the whole command runs as it does (text,
# front end, chunk loop, writer), only the network is skipped, so audio hours long costs seconds.
MEASURED = """
import json, resource, sys
import numpy as np
from openvoice_tt import backends
from openvoice_tt.interfaces import Synthesized

SECONDS = float(sys.argv[1])

def synthesize(self, inputs, speaker_id, params, noise, timer=None):
    hop = self.config.data.hop_length
    frames = int(SECONDS * self.config.data.sampling_rate) // hop
    audio = np.sin(np.arange(frames * hop, dtype=np.float32) * 0.01) * 0.5
    return Synthesized(audio, None, frames, len(audio))

backends.TorchSynthesizer.synthesize = synthesize
from openvoice_tt.cli import main
sys.argv = ["openvoice-tt", *sys.argv[2:]]
try:
    main()
except SystemExit as e:
    code = e.code
print(json.dumps({"rc": code, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def synth_peak(seconds_per_chunk: float, text: str, out: Path, checkpoints: Path) -> tuple[float, dict]:
    args = ["synth", "-", "-o", out, "--checkpoints", checkpoints, "--device", "cpu", "--json", "-q"]
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, str(seconds_per_chunk), *map(str, args)],
        input=text.encode(),
        capture_output=True,
        env=ENV,
        timeout=300,
    )
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    *report, measured = done.stdout.decode().strip().splitlines()
    result = json.loads(measured)
    assert result["rc"] == 0, done.stderr
    return result["peak_mib"], json.loads("\n".join(report))


CHUNKS = 24
LONG_SECONDS = 30.0  # per chunk: ~30 chunks x 30 s = 15 min of audio, ~160 MiB as float32 at 44.1 kHz
PIECE_MIB = LONG_SECONDS * RATE * 4 / 2**20  # one chunk's audio as float32
# A piece costs about 10 times its float32 size while it is written (the fake's arrays, the pause-joined copy,
# pcm16's float64 working copies, the int16 bytes): measured 47 MiB of growth for 30 s pieces, and none of it
# kept from one piece to the next. Holding the take cost ~6x its float32 size (~1 GiB here).
PIECE_BOUND_MIB = 12 * PIECE_MIB


def test_synth_memory_does_not_follow_the_audio(tiny_checkpoints: Path, tmp_path: Path) -> None:
    text = SENTENCE * (CHUNKS * 4)  # 4 sentences per 256-character chunk
    short_peak, short = synth_peak(1.0, text, tmp_path / "short.wav", tiny_checkpoints)
    long_peak, long = synth_peak(LONG_SECONDS, text, tmp_path / "long.wav", tiny_checkpoints)
    assert short["chunks"] == long["chunks"] >= CHUNKS
    audio_mib = long["samples"] * 4 / 2**20  # the take as float32
    assert audio_mib > 2.5 * PIECE_BOUND_MIB and (tmp_path / "long.wav").stat().st_size == 44 + 2 * long["samples"]
    growth = long_peak - short_peak  # the same text and front end: only the audio differs
    assert growth < PIECE_BOUND_MIB, (short_peak, long_peak, audio_mib)


# ------------------------------------------------------------------------------------------ clone


PATCHED = """
import sys
from openvoice_tt import pipeline
pipeline.MAX_CLONE_SECONDS = float(sys.argv[1])
from openvoice_tt.cli import main
sys.argv = ["openvoice-tt", *sys.argv[2:]]
main()
"""


def test_a_clone_longer_than_its_bound_is_refused_before_the_take_is_converted(
    tiny_checkpoints: Path, tmp_path: Path
) -> None:
    """The bound is an hour of speech; lowered to 5 s here, the same code path refuses a ~25 s clone with
    one line and exit 3, writes nothing, and `--stream` (converted as it goes) is not bounded."""
    se = tiny_checkpoints / "base_speakers" / "ses" / "en-br.pth"
    common = ["--se", se, "--checkpoints", tiny_checkpoints, "--device", "cpu", "-q"]
    runs = {}
    for name, more in (("plain", []), ("streamed", ["--stream"])):
        out = tmp_path / f"{name}.wav"
        args = ["clone", SENTENCE * 6, "-o", out, *common, *more]
        runs[name] = subprocess.run(
            [sys.executable, "-c", PATCHED, "5", *map(str, args)], capture_output=True, env=ENV, timeout=300
        )
    plain, streamed = runs["plain"], runs["streamed"]
    lines = plain.stderr.decode().splitlines()
    assert plain.returncode == 3 and len(lines) == 1, plain.stderr
    assert lines[0].startswith("error: text too long for one clone: its speech passes 5 s"), lines
    assert "clone --stream" in lines[0] and not (tmp_path / "plain.wav").exists()
    assert streamed.returncode == 0, streamed.stderr
    assert sf.info(tmp_path / "streamed.wav").duration > 10
