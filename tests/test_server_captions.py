"""`POST /v1/audio/speech/captioned` over HTTP (uvicorn on 127.0.0.1, tiny checkpoints, CPU): the speech
endpoint's request answered with its audio in base64 and the words' timings, which are the API's for the same
input and seed (exact, in samples), its audio the speech endpoint's bytes; streamed as NDJSON; the same
errors as the speech endpoint."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openvoice_tt.server import CAPTIONED_PATH, SPEECH_PATH, Limits, SpeechService
from tests.test_server import serving

pytestmark = pytest.mark.usefixtures("tool_environment")

TEXT = "Hello there, world. It is 3 cats."
LONG = (
    "Hello there, world. "
    + "The quick brown fox jumps over the lazy dog while the farmer watches from the fence, "
    + "and every morning she walks along the river, counting the boats that drift toward the sea. " * 3
)


@pytest.fixture(scope="module")
def server(
    multilingual_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, SpeechService]]:
    voices, cache = tmp_path_factory.mktemp("voices"), tmp_path_factory.mktemp("se-cache")
    ses = multilingual_checkpoints / "base_speakers" / "ses"
    shutil.copy(ses / "en-br.pth", voices / "alice.pth")
    shutil.copy(ses / "en-au.pth", voices / "bob.pth")
    with serving(multilingual_checkpoints, voices, cache, Limits(queue=2, max_input_chars=2000)) as served:
        yield served


def post(url: str, path: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}{path}", json={"model": "openvoice-tt", **body}, timeout=300)


def words_json(words: Any, rate: int, phones: bool = False) -> list[dict[str, Any]]:
    return [word.to_json(rate, phones) for word in words]


@pytest.mark.parametrize("fmt", ["wav", "pcm", "flac"])
def test_a_base_speakers_words_are_the_apis_and_its_audio_the_speech_endpoints(server, fmt: str) -> None:
    url, service = server
    request = {"voice": "EN-US", "input": TEXT, "response_format": fmt, "seed": 4}
    plain = post(url, SPEECH_PATH, **request)
    answer = post(url, CAPTIONED_PATH, **request)
    assert plain.status_code == answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-sample-rate"] == "44100" and answer.headers["x-openvoice-language"] == "en"
    body = answer.json()
    assert base64.b64decode(body["audio"]) == plain.content
    expected = service.cloner.tts.synth(TEXT, seed=4, words=True).words
    assert [w.text for w in expected] == ["Hello", "there", "world", "It", "is", "three", "cats"]
    assert body["words"] == words_json(expected, 44100)
    assert (body["format"], body["sample_rate"], body["language"], body["warnings"]) == (fmt, 44100, "en", [])
    assert "phones" not in body["words"][0]


@pytest.mark.parametrize(
    ("voice", "text", "first"),
    [
        ("ZH", "你好，我们走吧。", "你好"),
        ("JP", "こんにちは、元気ですか。", "こんにちは"),
        ("KR", "안녕하세요, 반갑습니다.", "안녕하세요"),
    ],
)
def test_every_language_has_its_words(server, voice: str, text: str, first: str) -> None:
    url, service = server
    answer = post(url, CAPTIONED_PATH, voice=voice, input=text, seed=2)
    assert answer.status_code == 200, answer.text
    tts = service.pool.get(service.base_speaker(voice).language)
    expected = tts.synth(text, seed=2, words=True).words
    assert answer.json()["words"] == words_json(expected, 44100) and len(expected) >= 2
    assert answer.json()["words"][0]["text"] == first and answer.json()["words"][0]["source"] == "text"


def test_phones_and_a_stored_voice_and_a_mix_are_the_clones_words(server) -> None:
    url, service = server
    for voice in ("alice", "alice*0.7+bob*0.3"):
        request = {"voice": voice, "input": LONG, "seed": 7, "language": "en"}
        plain = post(url, SPEECH_PATH, **request)
        answer = post(url, CAPTIONED_PATH, **request, phones=True)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert base64.b64decode(body["audio"]) == plain.content and body["sample_rate"] == 22050
        se = service.voices / "alice.pth" if voice == "alice" else service._mixed_voice(voice)
        expected = service.cloner.clone(LONG, se=se, seed=7, words=True).words
        assert len(expected) > 40 and body["words"] == words_json(expected, 22050, phones=True)
        assert all(w["phones"] for w in body["words"])


def test_stream_is_ndjson_whose_lines_join_into_the_whole_answer(server) -> None:
    url, service = server
    request = {"voice": "EN-US", "input": LONG, "seed": 5, "response_format": "pcm"}
    whole = post(url, CAPTIONED_PATH, **request).json()
    with httpx.stream("POST", f"{url}{CAPTIONED_PATH}", json={**request, "stream": True}, timeout=300) as response:
        assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert lines.pop() == {"done": True, "warnings": []}  # the end, so a cut stream cannot read as whole
    chunks = service.cloner.tts.prepare(LONG)
    assert len(lines) == len(chunks) >= 2  # one line per chunk, each with the words of its chunk
    audio = b"".join(base64.b64decode(line["audio"]) for line in lines)
    assert audio == base64.b64decode(whole["audio"])
    assert [w for line in lines for w in line["words"]] == whole["words"]
    so_far = 0
    for line in lines:  # every word of a line lies in the audio sent up to and with that line
        so_far += len(base64.b64decode(line["audio"])) // 2
        assert line["words"] and all(w["end_sample"] <= so_far for w in line["words"])
        assert (line["format"], line["sample_rate"]) == ("pcm", 44100)


@pytest.mark.parametrize(
    ("change", "status", "message", "param"),
    [
        ({"voice": "nobody"}, 400, "unknown voice 'nobody'", "voice"),
        ({"voice": "../../etc/passwd"}, 400, "invalid voice name", "voice"),
        ({"input": "   "}, 400, "input must be non-empty", "input"),
        ({"input": "x" * 2001}, 400, "limit 2000", "input"),
        ({"response_format": "mp3"}, 400, "'mp3' is not supported", "response_format"),
        ({"speed": 50}, 400, "speed must be between", None),
        ({"voice": "alice+nobody"}, 400, "unknown voice 'nobody' in the mix", "voice"),
        ({"language": "xx"}, 400, "xx", "language"),
    ],
)
def test_errors_are_the_speech_endpoints(server, change: dict, status: int, message: str, param: str | None) -> None:
    url, _ = server
    request = {"voice": "EN-US", "input": "Hello.", **change}
    plain, captioned = post(url, SPEECH_PATH, **request), post(url, CAPTIONED_PATH, **request)
    assert captioned.status_code == plain.status_code == status
    assert captioned.json() == plain.json()
    assert message in captioned.json()["error"]["message"] and captioned.json()["error"]["param"] == param


@pytest.mark.parametrize("field", ["stream", "phones"])
def test_a_flag_that_is_not_a_boolean_is_a_400(server, field: str) -> None:
    url, _ = server
    answer = post(url, CAPTIONED_PATH, voice="EN-US", input="Hello.", **{field: "maybe"})
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "message": f"{field} must be true or false, got 'maybe'",
        "type": "invalid_request_error",
        "param": field,
        "code": None,
    }


def test_an_answer_cut_by_a_failure_never_reads_as_complete(server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the status line was sent: the streamed answer ends with the error (OpenAI's shape, the
    speech endpoint's message for it), the whole one is not valid JSON (no closing brace)."""
    import numpy as np

    from openvoice_tt.errors import InputError

    url, service = server
    rate, speak, said = service.speech("Hello.", "EN-US", 1.0, 0)

    def broken(replica: Any, words: list | None = None) -> Iterator[np.ndarray]:
        pieces = speak(replica, words)
        yield next(pieces)
        raise InputError("the second chunk could not be read")

    monkeypatch.setattr(service, "speech", lambda *args: (rate, broken, said))
    request = {"voice": "EN-US", "input": "Hello.", "response_format": "pcm"}
    with httpx.stream("POST", f"{url}{CAPTIONED_PATH}", json={**request, "stream": True}, timeout=300) as response:
        assert response.status_code == 200
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert len(lines) == 2 and base64.b64decode(lines[0]["audio"])
    assert lines[1] == {
        "error": {
            "message": "the second chunk could not be read",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    whole = post(url, CAPTIONED_PATH, **request)
    assert whole.status_code == 200 and whole.text.startswith('{"format": "pcm", "sample_rate": 44100')
    with pytest.raises(json.JSONDecodeError):
        json.loads(whole.text)


def test_the_whole_answer_is_written_as_the_audio_comes(server) -> None:
    """The non-streamed answer is one JSON object whose base64 audio was sent piece by piece (whole 3-byte
    groups): it decodes to the speech endpoint's bytes for audio of every length modulo 3."""
    url, _ = server
    lengths = set()
    for text in ("Hi.", "Hello there.", "Good morning to you.", LONG):
        request = {"voice": "EN-US", "input": text, "seed": 2, "response_format": "pcm"}
        plain = post(url, SPEECH_PATH, **request).content
        body = post(url, CAPTIONED_PATH, **request).json()
        assert base64.b64decode(body["audio"], validate=True) == plain
        assert set(body) == {"format", "sample_rate", "language", "audio", "words", "warnings"}
        lengths.add(len(plain) % 3)
    assert lengths == {0, 1, 2}, lengths  # the last carry: none, 1 and 2 bytes
