"""The server over every installed language: /v1/voices lists each base speaker with its language, a
speaker's name picks its language's model (loaded on its first request, on the device worker, and kept),
`language` picks between models that share a name and clones a stored voice from that language, and a
language that is not installed or lacks its packages is a clear JSON error."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from openvoice_tt import api
from openvoice_tt.api import tts as tts_module
from openvoice_tt.languages import Language
from openvoice_tt.server import Limits, SpeechService
from openvoice_tt.text import NoBertWarning
from tests.test_server import serving

pytestmark = pytest.mark.usefixtures("tool_environment")

LOADS: list[str] = []  # the language of every TTS the test process constructs, in order


@pytest.fixture(scope="module")
def server(
    multilingual_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, SpeechService]]:
    """A server over every language (only English loaded at start), counting the TTS loads."""
    real_init = tts_module.TTS.__init__

    def counted(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        real_init(self, *args, **kwargs)
        LOADS.append(self.language.code)

    patch = pytest.MonkeyPatch()
    patch.setattr(tts_module.TTS, "__init__", counted)
    voices, cache = tmp_path_factory.mktemp("voices"), tmp_path_factory.mktemp("se-cache")
    torch_se = multilingual_checkpoints / "base_speakers" / "ses" / "fr.pth"
    (voices / "stored.pth").write_bytes(torch_se.read_bytes())  # a stored voice: any embedding will do
    try:
        with serving(multilingual_checkpoints, voices, cache, Limits(queue=2)) as served:
            yield served
    finally:
        patch.undo()


def speech(url: str, **body: object) -> httpx.Response:
    return httpx.post(f"{url}/v1/audio/speech", json={"model": "openvoice-tt", "input": "Hello.", **body}, timeout=300)


def audio(response: httpx.Response) -> tuple[np.ndarray, int]:
    assert response.status_code == 200, response.text
    data, rate = sf.read(io.BytesIO(response.content), dtype="int16")
    return data, rate


def reference(checkpoints: Path, language: str, text: str, speaker: str, seed: int) -> np.ndarray:
    """What `api.TTS` of `language` makes, as the 16-bit samples the server sends."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        tts = api.TTS(checkpoints, "cpu", language=language)
    samples = tts.synth(text, speaker, seed=seed).audio
    return sf.read(io.BytesIO(_wav16(samples, tts.sample_rate)), dtype="int16")[0]


def same_audio(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to one 16-bit step: the server computes on its worker thread, whose torch thread count
    may differ from this one's, and float sums in another order can round a sample the other way."""
    return len(a) == len(b) and int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max()) <= 1


def _wav16(samples: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def test_voices_lists_every_installed_speaker_with_its_language(server) -> None:
    url, service = server
    listed = httpx.get(f"{url}/v1/voices").json()["voices"]
    base = [(v["name"], v["language"], v["language_key"]) for v in listed if v["kind"] == "base speaker"]
    expected = [(s.name, s.language.code, s.language.key) for s in api.installed_speakers(service.pool.checkpoints)]
    assert base == expected
    codes = {code for _, code, _ in base}
    assert codes == {"EN", "EN_V2", "EN_NEWEST", "ES", "FR", "ZH", "JP", "KR"}
    assert ("EN-Newest", "EN_NEWEST", "en-v3") in base and ("ES", "ES", "es") in base and ("FR", "FR", "fr") in base
    assert [v["name"] for v in listed if v["kind"] == "embedding"] == ["stored"]
    assert all(v["sample_rate"] == 44100 for v in listed if v["kind"] == "base speaker")


def test_a_speaker_name_picks_its_model_which_loads_once(server, multilingual_checkpoints: Path) -> None:
    url, _ = server
    before = list(LOADS)
    first = audio(speech(url, voice="EN-Newest", seed=3))
    again = audio(speech(url, voice="en_newest", seed=3, input="Hello again."))
    assert LOADS[len(before) :] == ["EN_NEWEST"]  # loaded on the first request, kept for the second
    assert "EN_NEWEST" in httpx.get(f"{url}/health").json()["languages_loaded"]
    data, rate = first
    expected = reference(multilingual_checkpoints, "EN_NEWEST", "Hello.", "EN-Newest", 3)
    assert rate == 44100 and same_audio(data, expected)
    assert len(again[0]) > 0


def test_language_picks_between_models_that_share_a_name(server, multilingual_checkpoints: Path) -> None:
    url, _ = server
    english, _ = audio(speech(url, voice="EN-US", seed=5))
    v2, _ = audio(speech(url, voice="EN-US", seed=5, language="en-v2"))
    assert same_audio(english, reference(multilingual_checkpoints, "EN", "Hello.", "EN-US", 5))
    assert same_audio(v2, reference(multilingual_checkpoints, "EN_V2", "Hello.", "EN-US", 5))
    assert not same_audio(english, v2)  # two checkpoints (different random weights)


def test_a_stored_voice_is_cloned_from_the_named_language(server) -> None:
    url, service = server
    stored = service.voices / "stored.pth"
    default, rate = audio(speech(url, voice="stored", seed=7))
    newest, _ = audio(speech(url, voice="stored", seed=7, language="en-v3"))
    cloner = api.VoiceCloner(tts=service.pool.get("EN_NEWEST"), converter=service.cloner.converter)
    expected = np.concatenate(list(cloner.stream("Hello.", se=stored, seed=7)))
    assert rate == service.cloner.sample_rate
    assert same_audio(newest, sf.read(io.BytesIO(_wav16(expected, rate)), dtype="int16")[0])
    assert not same_audio(default, newest)  # the default is cloned from English (EN-US)


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({"voice": "EN-US", "language": "klingon"}, "language", "unknown language 'klingon'"),
        ({"voice": "EN-US", "language": 5}, "language", "language must be a language name"),
        ({"voice": "ES", "language": "fr"}, "voice", "voice 'ES' is not a French speaker"),
        ({"voice": "Nobody"}, "voice", "unknown voice 'Nobody' (choose from EN-US, EN-BR"),
    ],
)
def test_bad_voice_or_language_is_400(server, body: dict, param: str, message: str) -> None:
    url, _ = server
    response = speech(url, **body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and message in error["message"]


def test_a_language_without_its_packages_is_503(server, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = server
    monkeypatch.setattr(Language, "missing_packages", lambda self: list(self.packages))
    response = speech(url, voice="FR")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "language_unavailable"
    assert (
        error["message"] == "French is unavailable on this server: it needs gruut, gruut_lang_fr, num2words "
        "(pip install 'openvoice-tt[fr]')"
    )
    assert audio(speech(url, voice="EN-US"))[1] == 44100  # English needs no extra package


def test_a_language_not_installed_is_400(tiny_checkpoints: Path, tmp_path: Path) -> None:
    with serving(tiny_checkpoints, tmp_path / "voices", tmp_path / "cache", Limits()) as (url, _):
        response = speech(url, voice="EN-US", language="es")
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "Spanish is not installed on this server (installed: en)"
        listed = httpx.get(f"{url}/v1/voices").json()["voices"]
        assert {v["language"] for v in listed if v["kind"] == "base speaker"} == {"EN"}
        for voice, name in (("ES", "Spanish"), ("fr", "French"), ("EN-Newest", "English (v3, EN-Newest)")):
            response = speech(url, voice=voice)  # a speaker of a language not installed: no "unknown voice"
            assert response.status_code == 400
            error = response.json()["error"]
            assert error["param"] == "voice"
            assert error["message"].startswith(f"voice '{voice}' speaks {name}, which is not installed"), error
            assert "(installed: en;" in error["message"]
        response = speech(url, voice="DE")
        assert response.json()["error"]["message"].startswith("unknown voice 'DE' (choose from EN-US, ")
        response = speech(url, voice="JP")
        assert response.json()["error"]["message"].startswith("voice 'JP' speaks Japanese, which is not installed")
        (tmp_path / "voices" / "stored.pth").write_bytes((tiny_checkpoints / "base_speakers/ses/jp.pth").read_bytes())
        response = speech(url, voice="stored", input="今日はいい天気ですね。")  # detected, not installed
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["param"] == "input"
        assert error["message"] == (
            "the text looks Japanese (kana in the text (6 kana, 4 Han characters)), which is not installed: "
            "'openvoice-tt download --languages jp' fetches it (on this server; or name a \"language\")"
        )


@pytest.mark.parametrize("name", ["EN-Newest", "es", "FR"])
def test_a_voice_cannot_take_a_base_speakers_name_in_any_language(server, voice: Path, name: str) -> None:
    url, service = server
    with voice.open("rb") as recording:
        response = httpx.post(
            f"{url}/v1/voices", data={"name": name}, files={"file": ("me.wav", recording, "audio/wav")}, timeout=300
        )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "voice_exists" and error["message"] == f"'{name}' is a base speaker"
    assert not (service.voices / f"{name}.pth").exists()


@pytest.mark.parametrize(
    ("voice", "code", "text"),
    [
        ("ES", "ES", "¿Dónde está la estación?"),
        ("fr", "FR", "Où est la gare ?"),
        ("zh", "ZH", "你好，我们走吧。"),
        ("JP", "JP", "こんにちは、元気ですか。"),
        ("KR", "KR", "안녕하세요, 반갑습니다."),
    ],
)
def test_each_languages_speakers_speak(
    server, multilingual_checkpoints: Path, voice: str, code: str, text: str
) -> None:
    url, _ = server
    response = speech(url, voice=voice, seed=2, input=text)
    data, rate = audio(response)
    assert rate == 44100 and same_audio(data, reference(multilingual_checkpoints, code, text, code, 2))
    assert code in httpx.get(f"{url}/health").json()["languages_loaded"]
    assert (
        response.headers["X-OpenVoice-Language"] == code.lower()
        and "X-OpenVoice-Language-Reason" not in response.headers
    )


def test_a_stored_voice_speaks_french(server) -> None:
    """Cross-lingual: a stored voice cloned from the French speaker."""
    url, service = server
    data, rate = audio(speech(url, voice="stored", seed=4, input="Bonjour.", language="fr"))
    cloner = api.VoiceCloner(tts=service.pool.get("FR"), converter=service.cloner.converter)
    expected = np.concatenate(list(cloner.stream("Bonjour.", se=service.voices / "stored.pth", seed=4)))
    assert same_audio(data, sf.read(io.BytesIO(_wav16(expected, rate)), dtype="int16")[0])


@pytest.mark.parametrize("language", [None, "auto"])
def test_a_stored_voice_speaks_the_language_detected_from_the_input(server, language: str | None) -> None:
    """No language (or "auto"): the input's script picks the model the stored voice is cloned from, and the
    headers say which and why."""
    url, service = server
    extra = {"language": language} if language else {}
    response = speech(url, voice="stored", seed=4, input="你好，我们走吧。", **extra)
    data, rate = audio(response)
    assert response.headers["X-OpenVoice-Language"] == "zh"
    assert json.loads(response.headers["X-OpenVoice-Language-Reason"]) == (
        "Han characters without kana or Hangul (6 Han characters)"
    )
    cloner = api.VoiceCloner(tts=service.pool.get("ZH"), converter=service.cloner.converter)
    expected = np.concatenate(list(cloner.stream("你好，我们走吧。", se=service.voices / "stored.pth", seed=4)))
    assert same_audio(data, sf.read(io.BytesIO(_wav16(expected, rate)), dtype="int16")[0])
    english = speech(url, voice="stored", seed=4, input="Hello.", **extra)
    assert english.headers["X-OpenVoice-Language"] == "en"


def test_serve_loads_the_first_language_and_lists_them_all(
    multilingual_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`openvoice-tt serve` (uvicorn replaced): English loads at start, the other languages wait."""
    import uvicorn
    from typer.testing import CliRunner

    from openvoice_tt.cli import app as cli

    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(app))
    loads: list[str] = []
    real_init = tts_module.TTS.__init__

    def counted(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        real_init(self, *args, **kwargs)
        loads.append(self.language.code)

    monkeypatch.setattr(tts_module.TTS, "__init__", counted)
    result = CliRunner().invoke(
        cli, ["serve", "-c", str(multilingual_checkpoints), "--voices", str(tmp_path / "v"), "-d", "cpu"]
    )
    assert result.exit_code == 0, result.output
    assert len(started) == 1
    assert "languages en, en-v2, en-v3, es, fr, zh, jp, kr, en loaded, the others on first use" in result.stderr
    assert loads == ["EN"]
