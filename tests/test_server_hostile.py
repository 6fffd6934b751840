"""Hostile requests to `openvoice-tt serve` (issue 23), over HTTP on 127.0.0.1 like tests/test_server.py:
every error, the framework's own included, is OpenAI's JSON shape with the right status and names no
server path; one voice name registered by several clients at once is stored once (one 201, the others
409) and replaced only when asked; warnings about the request reach the client in a header."""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from openvoice_tt import api
from openvoice_tt.server import (
    MAX_WARNINGS_HEADER,
    WARNINGS_HEADER,
    ApiError,
    Limits,
    PathScrubber,
    SpeechService,
    warnings_header,
)
from tests.speech import make_speech
from tests.test_server import serving

pytestmark = pytest.mark.usefixtures("tool_environment")

UPLOAD_LIMIT = 1024 * 1024
SPEECH = "/v1/audio/speech"
VOICES = "/v1/voices"
MULTIPART_X = {"Content-Type": "multipart/form-data; boundary=x"}


@pytest.fixture(scope="module")
def server(tiny_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SpeechService]]:
    """A server whose queue takes several requests at once, so that concurrent registrations all get as
    far as the voices folder."""
    limits = Limits(queue=4, max_upload_bytes=UPLOAD_LIMIT, max_input_chars=2000)
    voices, cache = tmp_path_factory.mktemp("hostile-voices"), tmp_path_factory.mktemp("hostile-se-cache")
    with serving(tiny_checkpoints, voices, cache, limits) as served:
        yield served


@pytest.fixture(scope="module")
def short_voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 2 s of speech: registered with a ShortReferenceWarning (and a different voice from `voice`)."""
    return make_speech(tmp_path_factory.mktemp("short") / "short.wav", "Hello there, my friend.")


def _private(service: SpeechService) -> list[str]:
    """Every spelling of a server folder that no answer may contain."""
    folders = [service.voices, service.uploads, service.cloner.tts.checkpoints]
    folders += [service.cloner.converter.checkpoints, service.cloner.converter.cache.folder]
    spellings = {str(f) for f in folders} | {str(Path(f).resolve()) for f in folders}
    return sorted(spellings | {tempfile.gettempdir()})


def _no_server_path(response: httpx.Response, service: SpeechService) -> None:
    """No server folder in the headers, nor in the body unless it is audio (where any 4 bytes may occur)."""
    audio = response.headers.get("content-type", "").startswith("audio/")
    seen = repr(response.headers.raw) + ("" if audio else response.content.decode("latin-1"))
    leaked = [path for path in _private(service) if path in seen]
    assert not leaked, f"{leaked} in {seen[:500]}"


def _error(response: httpx.Response, status: int, service: SpeechService) -> dict[str, Any]:
    """The error of an OpenAI-shaped JSON answer with `status`, checked to name no server path."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"] and set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == ("server_error" if status >= 500 else "invalid_request_error")
    assert response.content.isascii()
    _no_server_path(response, service)
    return body["error"]


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _multipart(*parts: tuple[bytes, bytes]) -> bytes:
    """A multipart body (boundary x) of raw (headers, data) parts."""
    return b"".join(b"--x\r\n" + headers + b"\r\n\r\n" + data + b"\r\n" for headers, data in parts) + b"--x--\r\n"


HOSTILE: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    ("unknown path", "GET", "/v2/nothing", {}, 404, "unknown endpoint: GET /v2/nothing"),
    ("unknown path, POST", "POST", "/v1/audio/speech/x", {"json": {}}, 404, "unknown endpoint"),
    ("GET on speech", "GET", SPEECH, {}, 405, "allowed: POST"),
    ("DELETE on voices", "DELETE", VOICES, {}, 405, "method not allowed: DELETE /v1/voices"),
    ("PUT on health", "PUT", "/health", {}, 405, "method not allowed"),
    ("JSON 30,000 deep", "POST", SPEECH, {"content": _deep(30_000)}, 400, "nested too deeply"),
    ("deep under a key", "POST", SPEECH, {"content": b'{"input": ' + _deep(30_000) + b"}"}, 400, "nested too deeply"),
    ("JSON 500 deep", "POST", SPEECH, {"content": b'{"input": ' + _deep(500) + b"}"}, 400, "input must be"),
    ("5000-digit number", "POST", SPEECH, {"content": b'{"speed": ' + b"9" * 5000 + b"}"}, 400, "4300 digits"),
    ("not JSON", "POST", SPEECH, {"content": b"hello"}, 400, "must be a JSON object"),
    ("not UTF-8", "POST", SPEECH, {"content": b'{"input": "\xff\xfe"}'}, 400, "must be a JSON object"),
    ("a JSON list", "POST", SPEECH, {"json": ["input"]}, 400, "not list"),
    ("a nested format", "POST", SPEECH, {"json": {"input": "Hi.", "response_format": [[["x" * 5000]]]}}, 400, "..."),
    ("JSON over 64 kB", "POST", SPEECH, {"json": {"input": "x" * 70_000}}, 413, "too large (limit 65536 bytes)"),
    ("voice as a path", "POST", SPEECH, {"json": {"input": "Hi.", "voice": "/etc/passwd"}}, 400, "invalid voice"),
    (
        "no boundary",
        "POST",
        VOICES,
        {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data"}},
        400,
        "Missing boundary",
    ),
    ("garbage parts", "POST", VOICES, {"content": b"garbage\r\n--x\x00\xff", "headers": MULTIPART_X}, 400, "Invalid"),
    (
        "a part without a name",
        "POST",
        VOICES,
        {"content": _multipart((b"Content-Disposition: form-data", b"abc")), "headers": MULTIPART_X},
        400,
        '"name" must be provided',
    ),
    (
        "a file name not UTF-8",
        "POST",
        VOICES,
        {
            "content": _multipart(
                (b'Content-Disposition: form-data; name="name"', b"odd"),
                (b'Content-Disposition: form-data; name="file"; filename="\xff\xfe.wav"', b"RIFF"),
            ),
            "headers": MULTIPART_X,
        },
        400,
        "not a readable audio file",
    ),
    ("a 5 kB name", "POST", VOICES, {"data": {"name": "a" * 5000}, "files": {"file": b"x"}}, 400, "maximum size"),
    ("17 files", "POST", VOICES, {"data": {"name": "a"}, "files": [("file", b"x")] * 17}, 400, "Too many files"),
    ("name sent as a file", "POST", VOICES, {"files": {"name": b"me", "file": b"x"}}, 400, "give the voice a name"),
    ("no file", "POST", VOICES, {"data": {"name": "a"}}, 400, "upload at least one"),
    ("JSON to voices", "POST", VOICES, {"json": {"name": "a"}}, 400, "give the voice a name"),
    (
        "replace=maybe",
        "POST",
        VOICES,
        {"data": {"name": "a", "replace": "maybe"}, "files": {"file": b"x"}},
        400,
        "true",
    ),
    ("name with a path", "POST", VOICES, {"data": {"name": "../x"}, "files": {"file": b"x"}}, 400, "invalid voice"),
    (
        "upload over the limit",
        "POST",
        VOICES,
        {"data": {"name": "big"}, "files": {"file": b"\0" * (UPLOAD_LIMIT + 1)}},
        413,
        "too large",
    ),
    (
        "not audio",
        "POST",
        VOICES,
        {"data": {"name": "junk"}, "files": {"file": ("junk.wav", b"RIFF" + b"\0" * 64)}},
        400,
        "upload 1 (junk.wav): not a readable audio file",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "request_", "status", "words"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_every_error_is_openai_json_without_server_paths(
    server, method: str, path: str, request_: dict[str, Any], status: int, words: str
) -> None:
    url, service = server
    voices = sorted(service.voices.iterdir())
    response = httpx.request(method, f"{url}{path}", timeout=120, **request_)
    assert words in _error(response, status, service)["message"]
    assert sorted(service.voices.iterdir()) == voices and list(service.uploads.iterdir()) == []


def test_a_small_upload_that_decodes_to_hours_is_refused_from_its_header(server, tmp_path: Path) -> None:
    """700 s of FLAC silence is 16 kB: under the upload limit, over the 600 s a voice may decode to."""
    url, service = server
    long = tmp_path / "long.flac"
    sf.write(long, np.zeros(700 * 8000, dtype=np.int16), 8000)
    assert long.stat().st_size < UPLOAD_LIMIT // 10
    error = _error(_register(url, "long", long), 413, service)
    assert error["message"] == "upload 1 (long.flac): the recordings decode to more than 600 s of audio (the limit)"
    assert error["code"] == "request_too_large" and not (service.voices / "long.pth").exists()


def test_a_body_without_length_is_counted_as_it_arrives(server) -> None:
    url, service = server

    def pieces() -> Iterator[bytes]:  # no Content-Length: 80 kB of a JSON string, counted against 64 kB
        yield b'{"input": "'
        for _ in range(20):
            yield b"x" * 4096

    response = httpx.post(f"{url}{SPEECH}", content=pieces(), timeout=60)
    assert _error(response, 413, service)["code"] == "request_too_large"


def test_405_keeps_allow_and_head_answers_like_get(server) -> None:
    url, _ = server
    assert set(httpx.get(f"{url}{SPEECH}", timeout=30).headers["allow"].split(", ")) == {"POST"}
    for path in ("/health", VOICES):
        head, get = httpx.head(f"{url}{path}", timeout=30), httpx.get(f"{url}{path}", timeout=30)
        assert head.status_code == get.status_code == 200, head.text
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_unexpected_errors_are_500_json_naming_no_path(
    server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, service = server
    secret = f"{service.voices}/x.pth"

    def broken_handler(*_: Any) -> None:  # fails in the request handler, before any work is queued
        raise RuntimeError(f"cannot open {secret}")

    monkeypatch.setattr(service, "speech", broken_handler)
    request = {"model": "m", "input": "Hello.", "voice": "EN-US"}
    error = _error(httpx.post(f"{url}{SPEECH}", json=request, timeout=60), 500, service)
    assert error["message"] == "internal error: RuntimeError"
    monkeypatch.undo()

    def broken_work(*_: Any, **__: Any) -> None:  # fails on the device worker
        raise OSError(f"[Errno 5] Input/output error: '{secret}'")

    monkeypatch.setattr(service.cloner.tts, "stream", broken_work)
    with caplog.at_level(logging.ERROR, logger="openvoice_tt.server"):
        error = _error(httpx.post(f"{url}{SPEECH}", json=request, timeout=60), 500, service)
    assert error["message"] == "internal error: OSError"
    logged = [r for r in caplog.records if r.name == "openvoice_tt.server" and r.exc_info]
    assert [str(r.exc_info[1]) for r in logged] == [f"[Errno 5] Input/output error: '{secret}'"]  # for the admin


def test_a_damaged_voice_is_named_without_its_folder(server) -> None:
    url, service = server
    (service.voices / "broken.pth").write_bytes(b"not a tensor")
    try:
        request = {"model": "m", "input": "Hello.", "voice": "broken"}
        error = _error(httpx.post(f"{url}{SPEECH}", json=request, timeout=120), 400, service)
    finally:
        (service.voices / "broken.pth").unlink()
    assert error["message"].startswith("<voices>/broken.pth: ")


def _register(url: str, name: str, recording: Path, **fields: str) -> httpx.Response:
    with open(recording, "rb") as file:
        files = {"file": (recording.name, file)}
        return httpx.post(f"{url}{VOICES}", data={"name": name, **fields}, files=files, timeout=300)


def test_one_name_registered_at_once_is_stored_once(server, voice: Path, short_voice: Path) -> None:
    """Four clients register "twin" at the same moment: one 201, three 409, one whole file. The old check
    (exists? then compute and rename) let all four through, each replacing the one before."""
    url, service = server
    clients = 4
    start = threading.Barrier(clients, timeout=60)
    answers: list[httpx.Response] = []

    def client() -> None:
        start.wait()
        answers.append(_register(url, "twin", voice))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert len(answers) == clients, "a client did not finish in 300 s"
    assert sorted(a.status_code for a in answers) == [201] + [409] * (clients - 1), [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert _error(answer, 409, service)["code"] in ("voice_busy", "voice_exists")
    stored = api.load_se(service.voices / "twin.pth")
    assert [p.name for p in service.voices.iterdir() if "twin" in p.name] == ["twin.pth"]  # nothing half-made

    again = _register(url, "twin", short_voice)
    assert _error(again, 409, service)["message"] == "voice 'twin' already exists (send replace=true to replace it)"
    assert api.load_se(service.voices / "twin.pth").equal(stored)

    for _ in range(2):  # the same short reference again: told again (not skipped as an embedding cache hit)
        replaced = _register(url, "twin", short_voice, replace="true")
        assert replaced.status_code == 201, replaced.text
        assert not api.load_se(service.voices / "twin.pth").equal(stored)
        body = replaced.json()
        assert body["name"] == "twin" and body["sample_rate"] == 22050
        assert len(body["warnings"]) == 1 and body["warnings"][0].startswith("upload 1 (short.wav): only ")
        assert "s of speech" in body["warnings"][0]
        assert json.loads(replaced.headers[WARNINGS_HEADER]) == body["warnings"]
        _no_server_path(replaced, service)
    listed = [v["name"] for v in httpx.get(f"{url}{VOICES}", timeout=30).json()["voices"]]
    assert listed.count("twin") == 1


def test_the_file_appears_atomically_and_replaces_only_when_asked(server, voice: Path) -> None:
    """Past the claim (another server on the same folder, a file put there by hand): the finished file is
    hard-linked in, so an existing one is never overwritten without `replace`, and nothing half-made is
    left either way."""
    _, service = server
    target = service.voices / "byhand.pth"
    target.write_bytes(b"placed by hand")
    with pytest.raises(ApiError) as refused:
        list(service.register("byhand", target, [voice], replace=False)(service.replicas[0]))
    assert refused.value.status == 409 and target.read_bytes() == b"placed by hand"
    assert list(service.register("byhand", target, [voice], replace=True)(service.replicas[0])) == [
        {"name": "byhand", "kind": "embedding", "sample_rate": 22050}
    ]
    assert api.load_se(target).shape == (1, 256, 1)
    assert [p.name for p in service.voices.iterdir() if "byhand" in p.name] == ["byhand.pth"]
    target.unlink()


def test_a_name_is_claimed_by_one_request_at_a_time(server) -> None:
    _, service = server
    with service.claim("Claimed", replace=True):
        for name, replace in (("Claimed", True), ("claimed", False)):
            with pytest.raises(ApiError) as busy, service.claim(name, replace):
                pass
            assert busy.value.status == 409 and busy.value.code == "voice_busy"
    with service.claim("claimed", replace=False) as target:  # free again
        assert target == service.voices / "claimed.pth"
    with pytest.raises(ApiError) as base, service.claim("en-us", replace=True):
        pass
    assert base.value.status == 409 and "base speaker" in base.value.message


@pytest.mark.parametrize("fmt", ["pcm", "wav", "flac"])
def test_words_left_out_reach_the_client(server, fmt: str) -> None:
    """Chinese and an emoji are left out of English speech: the client is told in the header (JSON, ASCII),
    every time, before the first byte of a streamed answer."""
    url, service = server
    request = {"model": "m", "input": "Hello 你好 world 😀.", "voice": "EN-US", "response_format": fmt}
    for ignored in (False, True):  # the same warning again, and with the process ignoring warnings (-W ignore)
        with warnings.catch_warnings():
            if ignored:  # process-wide: the server's worker thread sees this filter too
                warnings.simplefilter("ignore")
            with httpx.stream("POST", f"{url}{SPEECH}", json=request, timeout=300) as response:
                assert response.status_code == 200
                raw = dict(response.headers.raw)[WARNINGS_HEADER.lower().encode()]
                assert raw.isascii()
                told = json.loads(raw)
                assert len(response.read()) > 0
        assert len(told) == 1 and told[0].startswith("left out what English cannot speak: ")
        assert all(word in told[0] for word in ("你", "好", "😀"))
    plain = httpx.post(f"{url}{SPEECH}", json={**request, "input": "Hello world."}, timeout=300)
    assert plain.status_code == 200 and WARNINGS_HEADER not in plain.headers
    _no_server_path(plain, service)


def test_warnings_header_is_latin1_one_line_and_bounded() -> None:
    assert warnings_header([]) == {}
    (value,) = warnings_header(["two\nlines", "ünïcödé 你 😀"]).values()
    assert value.isascii() and "\n" not in value
    assert json.loads(value) == ["two\nlines", "ünïcödé 你 😀"]
    many = [f"warning {n}: " + "x" * 600 for n in range(100)]
    (value,) = warnings_header(many).values()
    shown = json.loads(value)
    assert len(value) <= MAX_WARNINGS_HEADER and shown[0].endswith("...") and len(shown[0]) == 500
    assert shown[-1] == f"and {100 - (len(shown) - 1)} more warnings" and len(shown) > 2


def test_scrubber_replaces_folders_and_other_absolute_paths(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    scrub = PathScrubber({voices: "<voices>", Path("/srv/cache"): "<cache>"})
    named = {f"{tmp_path}/up/tmp1.audio": "upload 1 (me.wav)"}
    message = (
        f"{voices}/me.pth: bad; {tmp_path}/up/tmp1.audio: no speech; /srv/cache/ab.pth; /srv/cachex/y; "
        "'/usr/lib/python3/x.py'; see GET /v1/voices or /health; 3/4 of it; ../x/y"
    )
    assert scrub(message, named) == (
        "<voices>/me.pth: bad; upload 1 (me.wav): no speech; <cache>/ab.pth; <path>; '<path>'; "
        "see GET /v1/voices or /health; 3/4 of it; ../x/y"
    )


def test_unknown_voice_message_is_unchanged_by_scrubbing(server) -> None:
    """The scrubber leaves a message with no path alone (the routes it names included)."""
    url, service = server
    request = {"model": "m", "input": "Hi.", "voice": 3}
    error = _error(httpx.post(f"{url}{SPEECH}", json=request, timeout=60), 400, service)
    assert error["message"] == "voice must be a voice name (GET /v1/voices lists them)"
