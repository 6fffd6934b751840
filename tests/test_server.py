"""`openvoice-tt serve` driven over HTTP on 127.0.0.1 (uvicorn in this process, tiny checkpoints, CPU): the real
`openai` client and plain httpx get the CLI's samples for the same seed, JSON errors for bad requests, 413
for oversize uploads, 503 when the device queue is full, and a client that leaves mid-stream does not
stop the server from serving the next one."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from openvoice_tt import api
from openvoice_tt.cli import app as cli
from openvoice_tt.server import Limits, SpeechService, create_app
from openvoice_tt.streaming import UNKNOWN_SIZE, pcm16
from openvoice_tt.text import NoBertWarning
from tests.compare import WAVEFORM_FLOOR, Gate, assert_agrees

pytestmark = pytest.mark.usefixtures("tool_environment")

UPLOAD_LIMIT = 2 * 1024 * 1024
LONG_TEXT = " ".join(
    f"This is sentence number {n} of a text long enough to keep the device busy for a while." for n in range(12)
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(checkpoints: Path, voices: Path, cache: Path, limits: Limits) -> Iterator[tuple[str, SpeechService]]:
    """(base URL, service) of a server on 127.0.0.1 (uvicorn on a thread of this process, CPU), stopped at
    the end of the block. Shared with test_server_hostile.py."""
    import torch
    import uvicorn

    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        cloner = api.VoiceCloner(checkpoints, "cpu", cache_dir=cache)
    service = SpeechService(cloner, voices, limits)
    port = _free_port()
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    for _ in range(400):  # at most 20 s
        if runner.started:
            break
        time.sleep(0.05)
    assert runner.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}", service
    finally:
        runner.should_exit = True
        thread.join(30)
        service.queue.stop()


@pytest.fixture(scope="module")
def server(tiny_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SpeechService]]:
    limits = Limits(queue=1, max_upload_bytes=UPLOAD_LIMIT, max_input_chars=2000)
    voices, cache = tmp_path_factory.mktemp("voices"), tmp_path_factory.mktemp("se-cache")
    with serving(tiny_checkpoints, voices, cache, limits) as served:
        yield served


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="not-needed", max_retries=0, timeout=300)


def _cli_wav(checkpoints: Path, out: Path, text: str, seed: int) -> bytes:
    """The bytes `openvoice-tt synth` writes to `out` (its format from the extension)."""
    result = CliRunner().invoke(
        cli, ["synth", text, "-o", str(out), "-c", str(checkpoints), "-d", "cpu", "--seed", str(seed), "-q"]
    )
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_openai_client_gets_the_cli_samples(server, tiny_checkpoints: Path, tmp_path: Path) -> None:
    url, _ = server
    text = "Hello from the server."
    expected = _cli_wav(tiny_checkpoints, tmp_path / "cli.wav", text, seed=4)
    client = _client(url)
    whole = client.audio.speech.create(
        model="openvoice-tt", voice="EN-US", input=text, response_format="wav", extra_body={"seed": 4}
    )
    body = whole.content
    assert int.from_bytes(body[40:44], "little") == UNKNOWN_SIZE  # a streamed WAV: length unknown up front
    assert body[44:] == expected[44:]
    with client.audio.speech.with_streaming_response.create(
        model="openvoice-tt", voice="en-us", input=text, response_format="pcm", extra_body={"seed": 4}
    ) as response:
        assert response.headers["x-sample-rate"] == "44100"
        streamed = b"".join(response.iter_bytes())
    assert streamed == expected[44:]
    flac = client.audio.speech.create(
        model="tts-1", voice="EN-US", input=text, response_format="flac", extra_body={"seed": 4}
    )
    samples, rate = sf.read(io.BytesIO(flac.content), dtype="int16")
    cli_flac, _ = sf.read(io.BytesIO(_cli_wav(tiny_checkpoints, tmp_path / "cli.flac", text, seed=4)), dtype="int16")
    assert rate == 44100 and np.array_equal(samples, cli_flac)  # (libsndfile rounds FLAC, floors WAV)


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"voice": "nobody"}, 400, "unknown voice 'nobody'"),
        ({"voice": "../../etc/passwd"}, 400, "invalid voice name"),
        ({"input": "   "}, 400, "input must be non-empty"),
        ({"input": "x" * 2001}, 400, "limit 2000"),
        ({"response_format": "mp3"}, 400, "'mp3' is not supported"),
        ({"speed": 50}, 400, "speed must be between"),
    ],
)
def test_bad_requests_are_4xx_json(server, change: dict, status: int, words: str) -> None:
    url, _ = server
    request = {"model": "openvoice-tt", "voice": "EN-US", "input": "Hello.", **change}
    response = httpx.post(f"{url}/v1/audio/speech", json=request, timeout=120)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


def test_openai_client_sees_the_error(server) -> None:
    url, _ = server
    with pytest.raises(openai.BadRequestError) as caught:
        _client(url).audio.speech.create(model="openvoice-tt", voice="nobody", input="Hi.", response_format="wav")
    assert caught.value.status_code == 400 and "unknown voice" in caught.value.message


def test_register_a_voice_then_speak_with_it(server, voice: Path) -> None:
    url, service = server
    with open(voice, "rb") as file:
        response = httpx.post(f"{url}/v1/voices", data={"name": "me"}, files={"file": file}, timeout=300)
    assert response.status_code == 201, response.text
    assert (service.voices / "me.pth").is_file()
    names = {v["name"]: v for v in httpx.get(f"{url}/v1/voices").json()["voices"]}
    assert names["me"]["sample_rate"] == 22050 and names["EN-US"]["kind"] == "base speaker"
    request = {"model": "openvoice-tt", "voice": "me", "input": "Now in my voice.", "response_format": "wav"}
    audio = httpx.post(f"{url}/v1/audio/speech", json={**request, "seed": 1}, timeout=300)
    expected = np.concatenate(list(service.cloner.stream("Now in my voice.", se=service.voices / "me.pth", seed=1)))
    assert audio.headers["x-sample-rate"] == "22050" and audio.content[44:] == pcm16(expected)
    again = httpx.post(f"{url}/v1/voices", data={"name": "me"}, files={"file": b"x"}, timeout=60)
    assert again.status_code == 409


def test_uploads_are_bounded_and_names_checked(server) -> None:
    url, service = server
    before = sorted(service.voices.iterdir())
    big = httpx.post(f"{url}/v1/voices", data={"name": "big"}, files={"file": b"\0" * (UPLOAD_LIMIT + 1)}, timeout=60)
    assert big.status_code == 413 and "too large" in big.json()["error"]["message"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        for _ in range(UPLOAD_LIMIT // 65536 + 2):
            yield b"\0" * 65536

    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    streamed = httpx.post(f"{url}/v1/voices", content=chunked(), headers=headers, timeout=60)
    assert streamed.status_code == 413
    bad = httpx.post(f"{url}/v1/voices", data={"name": "../escape"}, files={"file": b"RIFF"}, timeout=60)
    assert bad.status_code == 400 and "invalid voice name" in bad.json()["error"]["message"]
    assert sorted(service.voices.iterdir()) == before and list(service.uploads.iterdir()) == []


def _pending(url: str) -> int:
    return httpx.get(f"{url}/health", timeout=10).json()["queue"]["pending"]


def _wait_for(url: str, pending: int) -> None:
    for _ in range(1200):  # at most 60 s
        if _pending(url) == pending:
            return
        time.sleep(0.05)
    raise AssertionError(f"the queue never reached {pending} pending")


def test_full_queue_is_503_and_a_client_leaving_mid_stream_frees_the_device(server) -> None:
    url, _ = server
    long = {"model": "openvoice-tt", "voice": "EN-US", "input": LONG_TEXT, "response_format": "pcm"}
    with httpx.Client(timeout=300) as first, first.stream("POST", f"{url}/v1/audio/speech", json=long) as response:
        assert response.status_code == 200
        piece = next(response.iter_raw())
        assert len(piece) > 0
        assert _pending(url) == 1  # the long request still holds the device
        busy = httpx.post(f"{url}/v1/audio/speech", json={**long, "input": "Me too."}, timeout=60)
        assert busy.status_code == 503 and "server busy" in busy.json()["error"]["message"]
    # the first client closed its connection mid-stream: the device must come free and serve the next one
    _wait_for(url, 0)
    short = {"model": "openvoice-tt", "voice": "EN-US", "input": "Next one.", "response_format": "wav", "seed": 2}
    response = httpx.post(f"{url}/v1/audio/speech", json=short, timeout=300)
    assert response.status_code == 200
    data, rate = sf.read(io.BytesIO(response.content), dtype="int16")
    _, service = server
    expected = service.cloner.tts.synth("Next one.", seed=2).audio
    assert rate == 44100 and len(data) == len(expected)


def test_health(server) -> None:
    url, _ = server
    _wait_for(url, 0)
    health = httpx.get(f"{url}/health").json()  # the whole document, as the fixture configured the server
    queue = {"pending": 0, "limit": 1}
    auto = api.resolve_precision("auto", "cpu").to_json()  # what the fixture's models run in, and why
    assert health == {
        "status": "ok",
        "device": "cpu",
        "devices": [0],
        "backend": "torch",
        "precision": {"synth": auto, "convert": auto},
        "queue": queue,
        "languages_loaded": ["EN"],
    }


def test_shutdown_stops_the_worker_and_closes_the_device(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's lifespan ends the device worker, then closes the Tenstorrent device (whatever backend the
    server ran: closing when none is open does nothing), rather than leaving it to the process's exit."""
    from openvoice_tt import backends

    closed: list[bool] = []
    monkeypatch.setattr(backends, "close_tt_device", lambda: closed.append(True))
    with serving(tiny_checkpoints, tmp_path / "voices", tmp_path / "cache", Limits()) as (url, service):
        assert httpx.get(f"{url}/health").status_code == 200
        assert closed == [] and all(worker.is_alive() for worker in service.queue.workers)
    assert closed == [True] and not any(worker.is_alive() for worker in service.queue.workers)


def test_serve_checks_the_checkpoints_before_loading(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "-c", str(tmp_path / "missing"), "--voices", str(tmp_path / "v")])
    assert result.exit_code == 4 and "checkpoint folder not found" in result.output


# --precision ------------------------------------------------------------------------------------------

# bf16 against fp32, the 16-bit samples served, tiny checkpoints: a base speaker (44.1 kHz) PCC 0.99991 /
# 0.99988 (native bf16 / oneDNN held to AVX2, ONEDNN_MAX_CPU_ISA=AVX2) and max abs error 0.025 / 0.028, a
# stored voice (the converter, 22.05 kHz) 0.99978 / 0.99976 and 0.023 / 0.030. Gates at about twice the
# deficit and the error, the same as tests/test_batch.py's for its synthesized and cloned lines.
PRECISION_GATES = {"EN-US": Gate(0.99975, 0.065, WAVEFORM_FLOOR), "stored": Gate(0.9995, 0.065, WAVEFORM_FLOOR)}
PRECISION_TEXT = "Good morning, how are you today?"


def served_by_cli(
    checkpoints: Path, voices: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[object, list[tuple[object, SpeechService]]]:
    """`openvoice-tt serve ...` with uvicorn replaced: (the CLI's result, [(the app, its service)])."""
    import uvicorn

    from openvoice_tt import server

    made: list[SpeechService] = []
    started: list[tuple[object, SpeechService]] = []
    monkeypatch.setattr(server, "create_app", lambda service: made.append(service) or create_app(service))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append((app, made[-1])))
    args = ["serve", "-c", str(checkpoints), "--voices", str(voices), "-d", "cpu", *extra]
    return CliRunner().invoke(cli, args), started


def _samples(wav: bytes) -> np.ndarray:
    return np.frombuffer(wav[44:], dtype="<i2").astype(np.float32) / 32768


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_serve_precision_loads_the_models_and_health_says_it(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, precision: str
) -> None:
    """`serve --precision` loads the server's models in it (the first language's and every later one's TTS,
    the converter) and /health says what each runs in and why; fp32 answers the reference's samples, bf16
    close to them but not the same, for a base speaker and for a stored voice (the converter)."""
    from fastapi.testclient import TestClient

    voices = tmp_path / "voices"
    voices.mkdir()
    stored = voices / "stored.pth"
    stored.write_bytes((tiny_checkpoints / "base_speakers" / "ses" / "en-br.pth").read_bytes())
    result, started = served_by_cli(tiny_checkpoints, voices, monkeypatch, "--precision", precision)
    assert result.exit_code == 0, result.output
    assert f"torch backend, precision {precision};" in result.stderr
    ((app, service),) = started
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
    assert service.cloner.tts.synthesizer.model.dec.conv_post.weight.dtype == dtype
    assert service.cloner.converter.converter.model.dec.conv_post.weight.dtype == dtype
    assert service.pool.precision == precision  # every language loaded later
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        reference = api.VoiceCloner(tiny_checkpoints, "cpu", precision="fp32")
    expected = {
        "EN-US": reference.tts.synth(PRECISION_TEXT, seed=4).audio,
        "stored": np.concatenate(list(reference.stream(PRECISION_TEXT, se=stored, seed=4))),
    }
    with TestClient(app) as client:
        ran = client.get("/health").json()["precision"]
        assert set(ran) == {"synth", "convert"}
        for model in ran.values():
            assert (model["requested"], model["mode"]) == (precision, precision)
            assert model["reason"].startswith(f"--precision {precision}")
        for voice, gate in PRECISION_GATES.items():
            body = {"model": "openvoice-tt", "voice": voice, "input": PRECISION_TEXT, "seed": 4}
            response = client.post("/v1/audio/speech", json=body)
            assert response.status_code == 200, response.text
            if precision == "fp32":
                assert response.content[44:] == pcm16(expected[voice])
                continue
            wanted = _samples(b"\0" * 44 + pcm16(expected[voice]))
            agreement = assert_agrees(wanted, _samples(response.content), gate, f"{voice} bf16 vs fp32")
            assert agreement.max_abs > 1e-3, f"{voice}: {agreement}: bf16 answered fp32's samples"


def test_serve_refuses_bad_precisions_before_listening(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown value is a usage error (exit 2); anything but auto with --device tt is refused as `synth`
    refuses it (exit 6), before the server listens."""
    result, started = served_by_cli(tiny_checkpoints, tmp_path / "v", monkeypatch, "--precision", "fp16")
    assert result.exit_code == 2 and "Invalid value for '--precision'" in result.stderr
    for precision in ("fp32", "bf16"):
        result, started = served_by_cli(
            tiny_checkpoints, tmp_path / "v", monkeypatch, "-d", "tt", "--precision", precision
        )
        assert result.exit_code == 6, result.output
        assert f"--precision {precision} is for the torch backend" in result.stderr
    assert started == []
