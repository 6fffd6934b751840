"""Streaming: synth streamed is synth sample for sample, a streamed clone joins without seams, and the
CLI's --stream writes WAV streams (unknown length), raw PCM, FIFOs and regular files (complete, atomic)."""

from __future__ import annotations

import io
import itertools
import os
import struct
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from openvoice_tt import api, backends, pipeline
from openvoice_tt.chunking import StreamChunking
from openvoice_tt.cli import app
from openvoice_tt.errors import OutputError
from openvoice_tt.noise import NoiseSource
from openvoice_tt.streaming import UNKNOWN_SIZE, pcm16, wav_header, write_stream
from openvoice_tt.text import NoBertWarning, split_text

pytestmark = pytest.mark.usefixtures("tool_environment")

# Two chunks: the first ends at the last clause mark within the first chunk's 100 characters (the first
# sentence is longer), the second is the rest (221 characters).
TWO_CHUNKS = (
    "The first part of this text is one long sentence that keeps going, so that the front end has to cut "
    "the text in two, and it goes on a little longer still. "
    "Here the second chunk starts, which the stream must join to the first one without a seam at all. "
    "This last sentence makes sure of it."
)
JOIN_BOUND = 1e-6  # measured: 3.1e-7 max |streamed - whole| on the tiny checkpoints (float rounding only)
# These tests hold joins to float32 rounding, so they run float32 (auto would pick bf16 on a CPU with native bf16,
# whose convolutions round differently at each length: tests/test_chunking.py bounds that case).
PRECISION = "fp32"


@pytest.fixture(scope="module")
def cloner(tiny_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory) -> api.VoiceCloner:
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        return api.VoiceCloner(
            tiny_checkpoints, "cpu", cache_dir=tmp_path_factory.mktemp("se-cache"), precision=PRECISION
        )


def test_streamed_synth_is_synth_sample_for_sample(cloner: api.VoiceCloner) -> None:
    whole = cloner.tts.synth(TWO_CHUNKS, seed=5)
    pieces = list(cloner.tts.stream(TWO_CHUNKS, seed=5))
    assert len(whole.chunks) == len(pieces) == 2
    np.testing.assert_array_equal(np.concatenate(pieces), whole.audio)


def test_the_first_streamed_piece_is_the_first_sentence_spoken_alone(cloner: api.VoiceCloner) -> None:
    # The first audio of a long text waits for its first sentence only: the first piece is exactly that
    # sentence synthesized on its own (the first noise draws are the same), followed by upstream's pause.
    first = "A short first sentence comes out at once."
    text = first + " " + "Then longer chunks follow, packed to the usual two hundred and fifty-six characters. " * 4
    pieces = list(cloner.tts.stream(text, seed=3))
    alone = cloner.tts.synth(first, seed=3)
    assert cloner.tts.synth(text, seed=3).chunks == (first, *split_text(text[len(first) + 1 :], 256))
    assert len(pieces) == 3
    np.testing.assert_array_equal(pieces[0], alone.audio)


def test_streamed_clone_matches_the_whole_clone_at_tau_0(cloner: api.VoiceCloner) -> None:
    se = cloner.converter.base_speaker_se("EN-BR")
    whole = cloner.clone(TWO_CHUNKS, se=se, tau=0.0, seed=2).audio
    pieces = list(cloner.stream(TWO_CHUNKS, se=se, tau=0.0, seed=2))
    streamed = np.concatenate(pieces)
    assert len(pieces) >= 2 and streamed.shape == whole.shape and len(cloner.tts.prepare(TWO_CHUNKS)) == 2
    assert np.corrcoef(streamed, whole)[0, 1] >= 0.99
    assert np.abs(streamed - whole).max() <= JOIN_BOUND  # no seam: every join is the one-pass audio


def _speechlike(seconds: float, rate: int = 22050) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    voiced = np.sin(2 * np.pi * (140 + 30 * np.sin(2 * np.pi * 0.4 * t)) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    return (0.3 * voiced + 0.01 * np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)


def _joined(converter, audio: np.ndarray, chunking: StreamChunking, cuts: list[int]) -> np.ndarray:
    conversion = pipeline.Conversion(torch.ones(1, 256, 1) * 0.1, torch.ones(1, 256, 1) * -0.1, 0.0)
    hop = converter.config.data.hop_length
    joiner = pipeline.SeamJoiner(
        lambda window: pipeline.convert(converter, window, conversion, NoiseSource(0)),
        hop,
        chunking.samples(converter.config.data.sampling_rate, hop),
        converter.config.data.filter_length,
    )
    edges = [0, *cuts, len(audio)]
    out = [joiner.push(audio[a:b], b == len(audio)) for a, b in itertools.pairwise(edges)]
    return np.concatenate(out)


def test_seam_joiner_joins_are_the_one_pass_audio_and_context_is_what_makes_them(tiny_checkpoints: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converter = backends.open_converter(tiny_checkpoints / "converter", "cpu", PRECISION)
    audio = _speechlike(9.0)
    conversion = pipeline.Conversion(torch.ones(1, 256, 1) * 0.1, torch.ones(1, 256, 1) * -0.1, 0.0)
    whole = pipeline.convert(converter, audio, conversion, NoiseSource(0))
    cuts = [30_001, 70_000, 70_500, 140_123]  # uneven pieces, one too short to release anything
    joined = _joined(converter, audio, StreamChunking(), cuts)
    assert joined.shape == whole.shape
    assert np.abs(joined - whole).max() <= JOIN_BOUND
    bare = _joined(converter, audio, StreamChunking(context_seconds=0.0, crossfade_seconds=0.0), cuts)
    assert np.abs(bare - whole).max() > 1e-3  # without context the joins are audibly different


# ------------------------------------------------------------------------------------------------ writer


def test_wav_stream_bytes_are_the_soundfile_bytes(tmp_path: Path) -> None:
    audio = np.random.default_rng(1).standard_normal(20_000).astype(np.float32) * 0.7  # some clip
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1, 1), 22050, format="WAV", subtype="PCM_16")
    assert wav_header(22050, 2 * len(audio)) + pcm16(audio) == buffer.getvalue()
    out = tmp_path / "streamed.wav"
    streamed = write_stream(out, [audio[:7000], audio[7000:]], 22050, "wav")
    assert out.read_bytes() == buffer.getvalue() and streamed.samples == len(audio)


def test_failed_stream_leaves_no_file(tmp_path: Path) -> None:
    def pieces():
        yield np.zeros(100, np.float32)
        raise RuntimeError("model failed")

    out = tmp_path / "broken.wav"
    with pytest.raises(RuntimeError, match="model failed"):
        write_stream(out, pieces(), 22050, "wav")
    assert list(tmp_path.iterdir()) == []


def test_stream_to_a_fifo_arrives_progressively_with_unknown_sizes(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    released = threading.Event()

    def reader() -> None:
        with open(fifo, "rb") as pipe:
            received.append(pipe.read(44 + 200))  # header + the first piece, while the writer waits
            released.set()
            received.append(pipe.read())

    thread = threading.Thread(target=reader)
    thread.start()

    def pieces():
        yield np.full(100, 0.5, np.float32)
        assert released.wait(30), "the first piece did not reach the reader before the second was made"
        yield np.full(50, -0.5, np.float32)

    write_stream(fifo, pieces(), 22050, "wav")
    thread.join(30)
    data = b"".join(received)
    riff, data_size = struct.unpack_from("<I", data, 4)[0], struct.unpack_from("<I", data, 40)[0]
    assert riff == data_size == UNKNOWN_SIZE and len(data) == 44 + 300
    assert fifo.exists() and not fifo.is_file()  # the node itself was written in place, not replaced


def test_stream_to_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_stream(tmp_path / "no" / "x.wav", [np.zeros(10, np.float32)], 22050, "wav")


# --------------------------------------------------------------------------------------------------- CLI


def _cli(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_stream_to_stdout_wav_and_pcm_and_file(tiny_checkpoints: Path, tmp_path: Path) -> None:
    common = ("Hello there. How are you?", "-c", tiny_checkpoints, "-d", "cpu", "--seed", "4", "-q")
    whole = _cli("synth", *common, "-o", tmp_path / "whole.wav")
    assert whole.exit_code == 0, whole.output
    expected = (tmp_path / "whole.wav").read_bytes()
    wav = _cli("synth", *common, "--stream", "-o", "-")
    assert wav.exit_code == 0, wav.output
    assert wav.stdout_bytes[:4] == b"RIFF" and struct.unpack_from("<I", wav.stdout_bytes, 40)[0] == UNKNOWN_SIZE
    assert wav.stdout_bytes[44:] == expected[44:]  # the same samples as the non-streamed file
    pcm = _cli("synth", *common, "--stream", "--format", "pcm", "-o", "-")
    assert pcm.exit_code == 0 and pcm.stdout_bytes == expected[44:]
    to_file = _cli("synth", *common, "--stream", "-o", tmp_path / "streamed.wav")
    assert to_file.exit_code == 0 and (tmp_path / "streamed.wav").read_bytes() == expected
    flac = _cli("synth", *common, "--stream", "-o", tmp_path / "x.flac")
    assert flac.exit_code == 2 and "--stream writes wav or pcm" in flac.output
