"""`batch` over items of several languages: each item's speaker (and `language`) picks its model, the
models of the languages the items speak load once before the first item and stay loaded, and `--resume`
hashes the item's own language's checkpoint files. Tiny checkpoints of every language."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvoice_tt import api
from openvoice_tt import batch as batching
from openvoice_tt.api import pool
from openvoice_tt.cli import app
from openvoice_tt.languages import EN, EN_NEWEST, EN_V2, ES, FR, JP, KR, ZH
from tests.languages import without_gruut  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("tool_environment")

ITEMS = [
    {"text": "Hello there.", "speaker": "EN-Newest", "output": "newest.wav"},
    {"text": "Hola amigo.", "speaker": "es", "output": "es.wav"},
    {"text": "Hi again.", "speaker": "EN-US", "language": "en-v2", "output": "v2.wav"},
    {"text": "Bonjour.", "language": "fr", "output": "fr.wav"},
    {"text": "Good day.", "output": "default.wav"},
    {"text": "Hello twice.", "speaker": "EN-Newest", "output": "newest2.wav"},
]
"""What each item speaks with, with `batch --speaker EN-AU`: (language, speaker)."""
VOICES = {
    "newest.wav": (EN_NEWEST, "EN-Newest"),
    "es.wav": (ES, "ES"),
    "v2.wav": (EN_V2, "EN-US"),
    "fr.wav": (FR, "FR"),
    "default.wav": (EN, "EN-AU"),
    "newest2.wav": (EN_NEWEST, "EN-Newest"),
}


def write_list(folder: Path, items: list[dict]) -> Path:
    path = folder / "list.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def batch(checkpoints: Path, listing: Path, out: Path, *args: object) -> dict:
    command = ["batch", listing, "-o", out, "-c", checkpoints, "-d", "cpu", "--speaker", "EN-AU", "--json", *args]
    result = CliRunner().invoke(app, [str(a) for a in command])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The language codes the pool loads a TTS for, in order."""
    seen: list[str] = []

    class CountingTTS(api.TTS):
        def __init__(self, *args: object, language: object = "EN", **kwargs: object) -> None:
            seen.append(getattr(language, "code", language))
            super().__init__(*args, language=language, **kwargs)

    monkeypatch.setattr(pool, "TTS", CountingTTS)
    return seen


def test_each_item_speaks_with_its_speakers_model(
    multilingual_checkpoints: Path, tmp_path: Path, loads: list[str]
) -> None:
    out = tmp_path / "out"
    report = batch(multilingual_checkpoints, write_list(tmp_path, ITEMS), out)
    assert report["counts"]["done"] == len(ITEMS), report
    assert loads == ["EN_NEWEST", "ES", "EN_V2", "FR", "EN"]  # each at its first item, once
    for item in ITEMS:  # the API's audio for that language and speaker, byte for byte
        language, speaker = VOICES[item["output"]]
        expected = tmp_path / f"api-{item['output']}"
        api.TTS(multilingual_checkpoints, "cpu", language=language).synth(item["text"], speaker).save(expected)
        assert sha(out / item["output"]) == sha(expected), item


def test_the_languages_items_speak_load_before_the_first_item_and_no_other(
    multilingual_checkpoints: Path, tmp_path: Path, loads: list[str]
) -> None:
    voices = [("One.", "EN-Newest"), ("Two.", "EN-Newest"), ("Tres.", "ES"), ("Four.", "DE")]
    items = [
        batching.Item(n, n, text, f"{n}.wav", options=batching.Options(speaker=speaker, seed=0))
        for n, (text, speaker) in enumerate(voices, start=1)
    ]
    engine = batching.Engine(multilingual_checkpoints, "cpu")
    (tmp_path / "out").mkdir()
    seen: list[list[str]] = []
    result = batching.run_batch(
        items, tmp_path / "out", engine, batching.Options(), on_item=lambda *_: seen.append(list(loads))
    )
    assert [o.status for o in result.outcomes] == ["done", "done", "done", "failed"], result.outcomes
    assert seen == [["EN_NEWEST", "ES"]] * 5  # before item 1, in order of first use; never EN


@pytest.mark.usefixtures("without_gruut")
def test_a_language_that_cannot_load_stops_the_batch_at_once(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    """Spanish packages missing, with English first in the list: exit 7 before any item is made, rather
    than English done and every Spanish item failed hours later."""
    items = [{"text": "Hi.", "speaker": "EN-Newest"}, {"text": "Hola.", "speaker": "ES"}]
    command = ["batch", write_list(tmp_path, items), "-o", tmp_path / "out", "-c", multilingual_checkpoints]
    result = CliRunner().invoke(app, [str(a) for a in [*command, "-d", "cpu"]])
    assert result.exit_code == 7, result.output
    assert "error: Spanish needs gruut: install it with pip install 'openvoice-tt[es]'" in result.stderr
    assert not list((tmp_path / "out").glob("*.wav"))


def test_an_item_with_an_unknown_speaker_or_language_fails_alone(
    multilingual_checkpoints: Path, tmp_path: Path
) -> None:
    items = [{"text": "Hi.", "speaker": "DE"}, {"text": "Hi.", "language": "xx"}, {"text": "Hi.", "speaker": "FR"}]
    report = batch(multilingual_checkpoints, write_list(tmp_path, items), tmp_path / "out")
    assert [i["status"] for i in report["items"]] == ["failed", "failed", "done"]
    assert report["items"][0]["error"].startswith("unknown speaker 'DE' (choose from EN-US")
    assert report["items"][1]["error"].startswith("unknown language 'xx'")


def test_batch_language_option_is_checked_before_anything_runs(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    listing = write_list(tmp_path, [{"text": "Hi."}])
    command = ["batch", listing, "-o", tmp_path / "out", "-c", multilingual_checkpoints, "--language", "xx"]
    result = CliRunner().invoke(app, [str(a) for a in command])
    assert result.exit_code == 3 and "unknown language 'xx'" in result.stderr
    assert not list((tmp_path / "out").glob("*.wav"))


def test_an_items_voice_is_taken_whole(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    """Item `language: es` with batch `--speaker EN-AU --language en`: the item speaks ES (its language's
    first speaker), not the batch's speaker in the item's language."""
    defaults = batching.Options(speaker="EN-AU", language="en", seed=0)
    assert batching.Options(language="es").over(defaults) == batching.Options(language="es", seed=0)
    assert batching.Options(speaker="FR").over(defaults) == batching.Options(speaker="FR", seed=0)
    assert batching.Options(speed=2.0).over(defaults) == batching.Options("EN-AU", "en", 2.0, 0)


def test_resume_hashes_the_items_own_language(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    checkpoints = tmp_path / "ckpt"
    shutil.copytree(multilingual_checkpoints, checkpoints)
    listing = write_list(tmp_path, ITEMS[:3])
    out = tmp_path / "out"
    assert batch(checkpoints, listing, out)["counts"]["done"] == 3
    again = batch(checkpoints, listing, out, "--resume")
    assert again["counts"] == {"done": 0, "skipped": 3, "failed": 0, "not run": 0}
    config = checkpoints / "melotts-spanish" / "config.json"
    config.write_text(config.read_text() + "\n")  # the same model, other bytes: a changed checkpoint file
    third = batch(checkpoints, listing, out, "--resume")
    assert [(i["output"], i["status"], i["redone"]) for i in third["items"]] == [
        ("newest.wav", "skipped", None),
        ("es.wav", "done", "checkpoint files changed"),
        ("v2.wav", "skipped", None),
    ]


def test_checkpoint_parts_are_the_languages_folders() -> None:
    assert batching.checkpoint_parts("synth", ES) == ("melotts-spanish", "bert-base-spanish-wwm-uncased")
    assert batching.checkpoint_parts("clone", EN_NEWEST) == (
        "melotts-english-v3",
        "bert-base-uncased",
        "converter",
        "base_speakers/ses",
    )
    assert batching.CHECKPOINT_PARTS["synth"] == ("melotts-english", "bert-base-uncased")  # English as before


def test_options_fingerprint_is_unchanged_without_a_language() -> None:
    """Records written before the language option match: without one, the hashed options are as before."""
    assert "language" not in batching.Options(speaker="EN-US").fingerprint()
    assert batching.Options(language="es").fingerprint()["language"] == "es"


def test_items_in_chinese_japanese_and_korean(multilingual_checkpoints: Path, tmp_path: Path, loads: list[str]) -> None:
    """A `language` column or a speaker names the model; an item naming neither (with no --speaker) speaks
    the language detected from its text, and `language: auto` asks for the same."""
    items = [
        {"text": "你好，我们走吧。", "language": "zh", "output": "zh.wav"},
        {"text": "こんにちは、元気ですか。", "speaker": "JP", "output": "jp.wav"},
        {"text": "안녕하세요, 반갑습니다.", "output": "kr.wav"},
        {"text": "今日はいい天気ですね。", "language": "auto", "output": "jp-auto.wav"},
        {"text": "Good day.", "output": "en.wav"},
    ]
    expected = {"zh.wav": ZH, "jp.wav": JP, "kr.wav": KR, "jp-auto.wav": JP, "en.wav": EN}
    out = tmp_path / "out"
    command = ["batch", write_list(tmp_path, items), "-o", out, "-c", multilingual_checkpoints, "-d", "cpu", "--json"]
    result = CliRunner().invoke(app, [str(a) for a in command])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["done"] == len(items)
    assert loads == ["ZH", "JP", "KR", "EN"]  # each once, before the first item, in order of first use
    for item in items:
        language = expected[item["output"]]
        api.TTS(multilingual_checkpoints, "cpu", language=language).synth(item["text"]).save(tmp_path / "api.wav")
        assert sha(out / item["output"]) == sha(tmp_path / "api.wav"), item
    # the report says who spoke each item and, where the language was detected, why
    said = {i["output"]: i for i in report["items"]}
    assert [(said[name]["speaker"], said[name]["language_key"]) for name in expected] == [
        ("ZH", "zh"),
        ("JP", "jp"),
        ("KR", "kr"),
        ("JP", "jp"),
        ("EN-US", "en"),
    ]
    assert "language_detected" not in said["zh.wav"] and "language_detected" not in said["jp.wav"]
    assert said["kr.wav"]["language_detected"] == {
        "language": "kr",
        "code": "KR",
        "reason": "Hangul script (10 Hangul of 10 CJK characters)",
    }
    assert said["jp-auto.wav"]["language_detected"]["reason"].startswith("kana in the text (")
    assert said["en.wav"]["language_detected"]["language"] == "en"
