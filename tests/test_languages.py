"""Every installed language through the API and the CLI: a speaker name picks its MeloTTS checkpoint,
`--language` settles names two models share, `speakers` lists them all, and a language whose packages are
missing fails with one line (exit 7) before any model loads.

Runs on tiny random-weight checkpoints of every language (`multilingual_checkpoints`, no BERT folders:
zero features), with each language's own front end.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from openvoice_tt import api
from openvoice_tt.cli import app
from openvoice_tt.errors import CheckpointError, ConfigError, InputError, LexiconError, MissingPackagesError
from openvoice_tt.languages import EN, EN_NEWEST, EN_V2, ES, FR, JP, KR, LANGUAGES, ZH
from scripts.make_test_checkpoints import LANGUAGE_SPEAKERS, write_all
from tests.languages import hello, no_model_loads, without_gruut  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("tool_environment")

REPO = Path(__file__).resolve().parents[1]
ENGLISH_NAMES = ["EN-US", "EN-BR", "EN_INDIA", "EN-AU", "EN-Default"]
ALL_NAMES = [*ENGLISH_NAMES, *ENGLISH_NAMES, "EN-Newest", "ES", "FR", "ZH", "JP", "KR"]
FOLDERS = {
    "EN": "melotts-english",
    "EN_V2": "melotts-english-v2",
    "EN_NEWEST": "melotts-english-v3",
    "ES": "melotts-spanish",
    "FR": "melotts-french",
    "ZH": "melotts-chinese",
    "JP": "melotts-japanese",
    "KR": "melotts-korean",
}


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def ok(*args: object) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# The installed speakers ------------------------------------------------------------------------------------


def test_installed_speakers_are_every_language_in_registry_then_config_order(multilingual_checkpoints: Path) -> None:
    speakers = api.installed_speakers(multilingual_checkpoints)
    assert [s.name for s in speakers] == ALL_NAMES
    assert [s.language.code for s in speakers] == ["EN"] * 5 + ["EN_V2"] * 5 + [
        "EN_NEWEST",
        "ES",
        "FR",
        "ZH",
        "JP",
        "KR",
    ]
    assert all(s.model_folder == multilingual_checkpoints / FOLDERS[s.language.code] for s in speakers)
    assert [s.speaker_id for s in speakers[:5]] == [0, 1, 2, 3, 4] and speakers[-1].speaker_id == 0
    assert api.installed_languages(multilingual_checkpoints) == list(LANGUAGES)


def test_a_language_without_its_folder_is_skipped(tiny_checkpoints: Path) -> None:
    assert [s.name for s in api.installed_speakers(tiny_checkpoints)] == ENGLISH_NAMES
    assert api.installed_languages(tiny_checkpoints) == [EN]


def test_no_language_installed_names_the_english_config(tmp_path: Path) -> None:
    assert api.installed_speakers(tmp_path) == []
    with pytest.raises(CheckpointError, match=r"melotts-english/config\.json: not found"):
        api.find_base_speaker(tmp_path, None)


@pytest.mark.parametrize(
    ("name", "language", "speaker", "code"),
    [
        ("ES", None, "ES", "ES"),
        ("es", None, "ES", "ES"),
        ("fr", None, "FR", "FR"),
        ("EN-Newest", None, "EN-Newest", "EN_NEWEST"),
        ("en_newest", None, "EN-Newest", "EN_NEWEST"),
        ("EN-US", None, "EN-US", "EN"),  # a name in EN and EN_V2 goes to EN, the first
        ("en-india", None, "EN_INDIA", "EN"),
        ("EN-US", "en-v2", "EN-US", "EN_V2"),
        ("EN_INDIA", "EN_V2", "EN_INDIA", "EN_V2"),
        ("EN-BR", "EN", "EN-BR", "EN"),
        (None, None, "EN-US", "EN"),  # the first installed speaker
        (None, "fr", "FR", "FR"),  # a language alone: its first speaker
        (None, "en-v3", "EN-Newest", "EN_NEWEST"),
        (None, "sp", "ES", "ES"),  # upstream's alias
    ],
)
def test_a_speaker_name_picks_its_language(
    multilingual_checkpoints: Path, name: str | None, language: str | None, speaker: str, code: str
) -> None:
    found = api.find_base_speaker(multilingual_checkpoints, name, language)
    assert (found.name, found.language.code) == (speaker, code)
    assert found.model_folder.name == FOLDERS[code]


def test_an_unknown_speaker_lists_every_installed_one(multilingual_checkpoints: Path) -> None:
    with pytest.raises(InputError) as caught:
        api.find_base_speaker(multilingual_checkpoints, "DE")
    assert caught.value.exit_code == 3
    assert str(caught.value) == (
        "unknown speaker 'DE' (choose from EN-US, EN-BR, EN_INDIA, EN-AU, EN-Default, EN-Newest, ES, FR, ZH, JP, KR)"
    )


def test_a_speaker_of_another_language_lists_that_languages_speakers(multilingual_checkpoints: Path) -> None:
    with pytest.raises(InputError, match=r"^unknown speaker 'ES' \(choose from FR\)$"):
        api.find_base_speaker(multilingual_checkpoints, "ES", "fr")


def test_an_unknown_language_lists_the_languages(multilingual_checkpoints: Path) -> None:
    with pytest.raises(
        InputError, match=r"unknown language 'de' \(known: en, en-v2, en-v3, es, fr, zh, jp, kr\)"
    ) as caught:
        api.find_base_speaker(multilingual_checkpoints, None, "de")
    assert caught.value.exit_code == 3


def test_a_named_language_that_is_not_installed_says_how_to_get_it(tiny_checkpoints: Path) -> None:
    with pytest.raises(CheckpointError) as caught:
        api.find_base_speaker(tiny_checkpoints, None, "es")
    message = str(caught.value)
    assert caught.value.exit_code == 4
    assert "melotts-spanish/config.json: not found" in message and "download --languages es" in message


@pytest.mark.parametrize(
    ("name", "key", "folder"), [("ES", "es", "spanish"), ("fr", "fr", "french"), ("EN-Newest", "en-v3", "english-v3")]
)
def test_a_speaker_whose_language_is_not_installed_says_how_to_get_it(
    tiny_checkpoints: Path, name: str, key: str, folder: str
) -> None:
    # tiny_checkpoints holds English alone: ES is no typo, it needs Spanish installed (not exit 3 "unknown")
    with pytest.raises(CheckpointError) as caught:
        api.find_base_speaker(tiny_checkpoints, name)
    message = str(caught.value)
    assert caught.value.exit_code == 4
    assert f"melotts-{folder}/config.json: not found" in message and f"download --languages {key}" in message
    with pytest.raises(InputError, match=r"^unknown speaker 'DE' \(choose from EN-US, "):
        api.find_base_speaker(tiny_checkpoints, "DE")


def test_check_request_checks_speakers_in_every_language(multilingual_checkpoints: Path) -> None:
    api.check_request(multilingual_checkpoints, speakers=["ES", "EN-Newest", "fr"])
    api.check_request(multilingual_checkpoints, speakers=["EN-US"], language="en-v2")
    with pytest.raises(InputError, match="unknown speaker 'EN-Newest'"):
        api.check_request(multilingual_checkpoints, speakers=["EN-Newest"], language="en-v2")
    with pytest.raises(InputError, match="unknown language"):
        api.check_request(multilingual_checkpoints, language="xx")
    assert api.base_speakers(multilingual_checkpoints) == (*ENGLISH_NAMES, "EN-Newest", "ES", "FR", "ZH", "JP", "KR")


# Loading a language ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("without_gruut", "no_model_loads")
def test_missing_packages_stop_before_any_model_loads(multilingual_checkpoints: Path) -> None:
    for language, extra in ((ES, "es"), (FR, "fr")):
        with pytest.raises(MissingPackagesError, match=rf"pip install 'openvoice-tt\[{extra}\]'") as caught:
            api.TTS(multilingual_checkpoints, "cpu", language=language)
        assert caught.value.exit_code == 7


@pytest.mark.usefixtures("without_gruut")
def test_english_needs_no_language_package(multilingual_checkpoints: Path) -> None:
    tts = api.TTS(multilingual_checkpoints, "cpu", language="en-v3")
    assert tts.language is EN_NEWEST and tts.speakers == ("EN-Newest",)


@pytest.mark.usefixtures("no_model_loads")
def test_a_lexicon_is_refused_for_a_language_without_arpabet(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    lexicon = tmp_path / "names.txt"
    lexicon.write_text("tenstorrent  T EH1 N S T AO2 R AH0 N T\n")
    with pytest.raises(LexiconError, match="English-only; Spanish") as caught:
        api.TTS(multilingual_checkpoints, "cpu", lexicon, language="es")
    assert caught.value.exit_code == 3


def test_each_language_loads_its_own_model(multilingual_checkpoints: Path) -> None:
    """Same text, seed and speaker id 0: each language's (differently drawn) weights speak differently,
    so each TTS really loaded its own folder; the synthesizer's config is that folder's."""
    audio = {}
    for language in LANGUAGES:
        tts = api.TTS(multilingual_checkpoints, "cpu", language=language)
        assert tts.language is language
        assert list(tts.speakers) == list(LANGUAGE_SPEAKERS[language.code])
        audio[language.code] = tts.synth(hello(language.code), seed=3).audio
    assert len({hashlib.sha256(a.tobytes()).hexdigest() for a in audio.values()}) == len(LANGUAGES)


def test_the_pool_loads_each_language_once_and_only_when_asked(multilingual_checkpoints: Path) -> None:
    pool = api.TTSPool(multilingual_checkpoints, "cpu")
    assert pool.loaded == ()
    tts, name = pool.speaker("es")
    assert (name, tts.language, pool.loaded) == ("ES", ES, (ES,))
    again, name = pool.speaker(None, "sp")
    assert again is tts and name == "ES"
    v2, name = pool.speaker("en-us", "en-v2")
    assert (name, v2.language, pool.loaded) == ("EN-US", EN_V2, (ES, EN_V2))
    assert pool.get("EN_V2") is v2


# The CLI ---------------------------------------------------------------------------------------------------


def test_speakers_lists_every_installed_language(multilingual_checkpoints: Path) -> None:
    rows = ok("speakers", "-c", multilingual_checkpoints)
    assert [r["name"] for r in rows] == ALL_NAMES
    assert [r["language_key"] for r in rows] == ["en"] * 5 + ["en-v2"] * 5 + ["en-v3", "es", "fr", "zh", "jp", "kr"]
    assert [r["id"] for r in rows[-3:]] == [1, 0, 0]  # the published Chinese config numbers its speaker 1
    assert all(Path(r["model"]).name == FOLDERS[r["language"]] for r in rows)
    last = {r["name"]: r for r in rows}
    assert last["ES"]["se"].endswith("base_speakers/ses/es.pth") and last["ES"]["se_present"]
    assert last["EN-Newest"]["se"].endswith("base_speakers/ses/en-newest.pth")
    assert last["FR"]["se"].endswith("base_speakers/ses/fr.pth")
    table = run("speakers", "-c", multilingual_checkpoints)
    assert table.exit_code == 0
    lines = {line.split()[0] + " " + line.split()[1]: line for line in table.stdout.splitlines()[1:]}
    assert "melotts-spanish" in lines["ES es"] and "es.pth" in lines["ES es"]
    assert "melotts-english-v2" in lines["EN-US en-v2"] and "melotts-english-v3" in lines["EN-Newest en-v3"]


def test_the_top_level_help_names_every_spoken_language() -> None:
    shown = run("--help")
    assert shown.exit_code == 0
    text = " ".join(shown.stdout.split())
    assert "MeloTTS English, Spanish, French" in text, text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speaker", "DE"], "error: unknown speaker 'DE' (choose from EN-US, EN-BR, EN_INDIA, EN-AU, EN-Default, "),
        (["--language", "de"], "error: unknown language 'de' (known: en, en-v2, en-v3, es, fr, zh, jp, kr)"),
        (["--speaker", "EN-Newest", "--language", "en"], "error: unknown speaker 'EN-Newest' (choose from EN-US,"),
    ],
)
@pytest.mark.usefixtures("no_model_loads")
def test_synth_refuses_a_bad_speaker_or_language_in_one_line(
    multilingual_checkpoints: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "x.wav"
    result = run("synth", "Hello.", "-o", out, "-c", multilingual_checkpoints, "-d", "cpu", *args)
    assert result.exit_code == 3, result.output
    assert result.stderr.strip().startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("command", ["synth", "clone"])
@pytest.mark.usefixtures("without_gruut", "no_model_loads")
def test_missing_packages_are_exit_7_in_one_line(multilingual_checkpoints: Path, tmp_path: Path, command: str) -> None:
    target = ("--se", multilingual_checkpoints / "base_speakers/ses/en-br.pth") if command == "clone" else ()
    out = tmp_path / "x.wav"
    result = run(command, "Bonjour.", *target, "--speaker", "FR", "-o", out, "-c", multilingual_checkpoints)
    assert result.exit_code == 7, result.output
    assert result.stderr.strip() == (
        "error: French needs gruut: install it with pip install 'openvoice-tt[fr]' (or run ./setup_and_run.sh)"
    )
    assert not out.exists()


def test_a_gruut_that_does_not_import_is_exit_7_in_one_line(
    multilingual_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # installed (find_spec sees it) but broken: a dependency missing or of the wrong version
    broken = tmp_path / "site" / "gruut"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError(\"No module named 'dateparser'\")\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    for name in [name for name in sys.modules if name == "gruut" or name.startswith("gruut.")]:
        monkeypatch.delitem(sys.modules, name)
    out = tmp_path / "x.wav"
    text = "Zarzaparrilla inédita de Gruutlandia."  # a text no other test phonemized (gruut's results are cached)
    result = run("synth", text, "--speaker", "ES", "-o", out, "-c", multilingual_checkpoints)
    assert result.exit_code == 7, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        "error: Spanish needs gruut, which is installed but does not import (No module named 'dateparser'): "
        "reinstall it with pip install --force-reinstall 'openvoice-tt[es]' (or run ./setup_and_run.sh)"
    )
    assert not out.exists()


@pytest.mark.usefixtures("no_model_loads")
def test_a_missing_num2words_is_exit_7(multilingual_checkpoints: Path, tmp_path: Path, monkeypatch) -> None:
    # num2words spells out ordinals (1º, 1er); without it synthesis would fail in the middle of a text
    monkeypatch.setitem(sys.modules, "num2words", None)
    result = run(
        "synth", "Llegó en 1º lugar.", "--speaker", "ES", "-o", tmp_path / "x.wav", "-c", multilingual_checkpoints
    )
    assert result.exit_code == 7, result.output
    assert result.stderr.strip() == (
        "error: Spanish needs num2words: install it with pip install 'openvoice-tt[es]' (or run ./setup_and_run.sh)"
    )


def test_synth_with_the_newest_english_speaker(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    """`--speaker EN-Newest` speaks with melotts-english-v3: its audio is the API's for that language and
    differs from the first English model's with the same seed."""
    newest = ok("synth", "Hello there.", "--speaker", "en-newest", "-o", tmp_path / "v3.wav",
                "-c", multilingual_checkpoints, "-d", "cpu", "--seed", 5)  # fmt: skip
    assert newest["speaker"] == "EN-Newest" and newest["sample_rate"] == 44_100
    first = ok("synth", "Hello there.", "-o", tmp_path / "en.wav", "-c", multilingual_checkpoints, "-d", "cpu",
               "--seed", 5)  # fmt: skip
    assert first["speaker"] == "EN-US"
    api.TTS(multilingual_checkpoints, "cpu", language=EN_NEWEST).synth("Hello there.", seed=5).save(
        tmp_path / "api.wav"
    )
    assert sha(tmp_path / "v3.wav") == sha(tmp_path / "api.wav")
    assert sha(tmp_path / "v3.wav") != sha(tmp_path / "en.wav")


def test_language_picks_between_models_that_share_a_name(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    common = ("-c", multilingual_checkpoints, "-d", "cpu", "--seed", 2)
    ok("synth", "Hi there.", "--speaker", "EN-US", "-o", tmp_path / "v1.wav", *common)
    v2 = ok("synth", "Hi there.", "--speaker", "EN-US", "--language", "en-v2", "-o", tmp_path / "v2.wav", *common)
    assert v2["speaker"] == "EN-US"
    assert sha(tmp_path / "v1.wav") != sha(tmp_path / "v2.wav")
    ok("synth", "Hi there.", "--language", "EN_V2", "-o", tmp_path / "v2-first.wav", *common)
    assert sha(tmp_path / "v2-first.wav") == sha(tmp_path / "v2.wav")  # EN-US is EN_V2's first speaker


@pytest.mark.parametrize(
    ("speaker", "embedding"),
    [("EN-Newest", "en-newest"), ("ES", "es"), ("FR", "fr"), ("ZH", "zh"), ("JP", "jp"), ("KR", "kr")],
)
def test_clone_starts_from_the_speakers_own_embedding(
    multilingual_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, speaker: str, embedding: str
) -> None:
    """Cross-lingual clone: the base speaker's language model speaks, and the conversion starts from that
    speaker's embedding (es.pth, fr.pth, en-newest.pth)."""
    loaded: list[str] = []
    load_se = api.converter.load_se
    monkeypatch.setattr(api.converter, "load_se", lambda path: (loaded.append(Path(path).name), load_se(path))[1])
    target = multilingual_checkpoints / "base_speakers/ses/en-br.pth"
    out = tmp_path / "clone.wav"
    result = ok("clone", hello(speaker), "--se", target, "--speaker", speaker, "-o", out,
                "-c", multilingual_checkpoints, "-d", "cpu", "--seed", 1)  # fmt: skip
    assert result["speaker"] == speaker and result["sample_rate"] == 22_050
    assert result["language_key"] == {"en-newest": "en-v3"}.get(embedding, embedding)
    assert loaded == [f"{embedding}.pth"]
    assert sf.info(out).frames > 0


def test_convert_knows_the_speakers_of_every_language(multilingual_checkpoints: Path) -> None:
    converter = api.ToneColorConverter(multilingual_checkpoints, "cpu")
    fr = converter.base_speaker_se("FR")
    assert torch.equal(fr, api.load_se(multilingual_checkpoints / "base_speakers/ses/fr.pth"))
    with pytest.raises(InputError, match=r"unknown speaker 'DE' \(choose from .*EN-Newest, ES, FR, ZH, JP, KR\)"):
        converter.base_speaker_se("DE")


# make_test_checkpoints.py ----------------------------------------------------------------------------------


def test_test_checkpoints_have_each_languages_config_shape(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    english = json.loads((multilingual_checkpoints / "melotts-english/config.json").read_text())
    for language in LANGUAGES:
        config = json.loads((multilingual_checkpoints / language.model.folder / "config.json").read_text())
        assert config["data"]["spk2id"] == LANGUAGE_SPEAKERS[language.code]
        assert config["symbols"] == english["symbols"] and len(config["symbols"]) == 219
        assert (config["num_tones"], config["num_languages"]) == (16, english["num_languages"])
        assert config["model"] == english["model"]
        for name in config["data"]["spk2id"]:
            assert (multilingual_checkpoints / "base_speakers/ses" / f"{api.speaker_key(name)}.pth").is_file()
    assert LANGUAGE_SPEAKERS["ES"] == {"ES": 0} and LANGUAGE_SPEAKERS["FR"] == {"FR": 0}
    assert LANGUAGE_SPEAKERS["EN_NEWEST"] == {"EN-Newest": 0}
    assert (LANGUAGE_SPEAKERS["ZH"], LANGUAGE_SPEAKERS["JP"], LANGUAGE_SPEAKERS["KR"]) == (
        {"ZH": 1},
        {"JP": 0},
        {"KR": 0},
    )


def test_english_test_checkpoints_do_not_change_with_other_languages(
    multilingual_checkpoints: Path, tiny_checkpoints: Path, tmp_path: Path
) -> None:
    for name in ("config.json", "checkpoint.pth"):
        assert sha(multilingual_checkpoints / "melotts-english" / name) == sha(
            tiny_checkpoints / "melotts-english" / name
        )
    spanish = write_all(tmp_path / "es", "tiny", seed=0, languages=(ES,))
    assert sorted(p.name for p in spanish.iterdir()) == ["base_speakers", "converter", "melotts-spanish"]
    assert sha(spanish / "melotts-spanish/checkpoint.pth") == sha(
        multilingual_checkpoints / "melotts-spanish/checkpoint.pth"
    )


def test_a_broken_config_of_another_language_is_read_only_when_needed(
    multilingual_checkpoints: Path, tmp_path: Path
) -> None:
    """Finding EN-Newest reads the configs up to its own; a broken French config matters only to a name
    that has to be looked for everywhere (and is then named, exit 4)."""
    for language in LANGUAGES:
        folder = tmp_path / language.model.folder
        folder.mkdir()
        shutil.copy(multilingual_checkpoints / language.model.folder / "config.json", folder)
    (tmp_path / "melotts-french" / "config.json").write_text("{")
    assert api.find_base_speaker(tmp_path, "EN-Newest").language is EN_NEWEST
    assert api.find_base_speaker(tmp_path, None).name == "EN-US"
    with pytest.raises(ConfigError, match=r"melotts-french/config\.json") as caught:
        api.find_base_speaker(tmp_path, "DE")
    assert caught.value.exit_code == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"tone_start": 16},
            r"field 'num_tones' is 16, too few for English \(v3, EN-Newest\) \(its tones start at 16\)",
        ),
        ({"language_id": 8}, r"the model has 8 language rows, too few for English \(v3, EN-Newest\) \(language id 8\)"),
    ],
)
def test_a_model_without_the_languages_tone_or_language_rows_is_refused(
    multilingual_checkpoints: Path, change: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=r"melotts-english-v3/config\.json: " + message) as caught:
        api.TTS(multilingual_checkpoints, "cpu", language=dataclasses.replace(EN_NEWEST, **change))
    assert caught.value.exit_code == 4


def test_the_pools_lexicon_goes_to_the_english_models_only(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    lexicon = tmp_path / "names.txt"
    lexicon.write_text("tenstorrent  T EH1 N S T AO2 R AH0 N T\n")
    pool = api.TTSPool(multilingual_checkpoints, "cpu", lexicon)
    assert pool.get("en-v3").lexicon is pool.lexicon is not None
    assert pool.get("es").lexicon is None


def test_make_test_checkpoints_writes_the_languages_asked_for(tmp_path: Path) -> None:
    script = [sys.executable, str(REPO / "scripts" / "make_test_checkpoints.py")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [*script, str(tmp_path / "ck"), "--languages", "es", "EN_NEWEST", "zh", "jp", "kr"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    folders = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert folders == [
        "base_speakers", "converter", "melotts-chinese", "melotts-english-v3", "melotts-japanese",
        "melotts-korean", "melotts-spanish",
    ]  # fmt: skip
    bad = subprocess.run([*script, str(tmp_path / "bad"), "--languages", "de"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown language 'de' (known: en, en-v2, en-v3, es, fr, zh, jp, kr)" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "bad").exists()


# Chinese, Japanese and Korean --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ZH", "JP", "KR"])
def test_synth_in_chinese_japanese_and_korean(multilingual_checkpoints: Path, tmp_path: Path, code: str) -> None:
    """`--speaker ZH|JP|KR` speaks with that language's folder and front end: the CLI's file is the API's
    audio, and the text reached the model as the language's own ids (its language id on every phone)."""
    language = {"ZH": ZH, "JP": JP, "KR": KR}[code]
    out = tmp_path / "cli.wav"
    said = ok("synth", hello(code), "--speaker", code.lower(), "-o", out,
              "-c", multilingual_checkpoints, "-d", "cpu", "--seed", 4)  # fmt: skip
    assert (said["speaker"], said["language"], said["language_key"]) == (code, code, language.key)
    assert "language_detected" not in said  # a speaker named it
    tts = api.TTS(multilingual_checkpoints, "cpu", language=language)
    tts.synth(hello(code), seed=4).save(tmp_path / "api.wav")
    assert sha(out) == sha(tmp_path / "api.wav")
    (chunk,) = tts.prepare(hello(code))
    ids = chunk.inputs.language_ids.tolist()
    assert set(ids[1::2]) == {language.language_id} and set(ids[::2]) == {0}  # blanks between phones: 0
    voice = tts.voice(code, api.synthesis_params(1.0, 0.2, 0.6, 0.8), 1.0)
    assert voice.speaker_id == LANGUAGE_SPEAKERS[code][code]  # 1 for ZH, as published


@pytest.mark.parametrize(
    ("text", "code", "why"),
    [
        ("今天天气很好，我们去公园散步吧。", "ZH", "Han characters without kana"),
        ("今日はいい天気ですね。", "JP", "kana"),
        ("오늘 날씨가 좋네요.", "KR", "Hangul"),
        ("¿Dónde está la estación?", "ES", "Spanish"),
        ("Hello there.", "EN", "not clearly Spanish or French"),
    ],
)
def test_a_speakerless_synth_detects_the_language_and_says_why(
    multilingual_checkpoints: Path, tmp_path: Path, text: str, code: str, why: str
) -> None:
    for extra in ((), ("--language", "auto")):
        said = ok("synth", text, *extra, "-o", tmp_path / "x.wav", "-c", multilingual_checkpoints, "-d", "cpu")
        assert said["language"] == code and said["language_detected"]["code"] == code
        assert why in said["language_detected"]["reason"]
        assert said["speaker"] == LANGUAGE_SPEAKERS_FIRST[code]


LANGUAGE_SPEAKERS_FIRST = {code: next(iter(speakers)) for code, speakers in LANGUAGE_SPEAKERS.items()}


def test_auto_with_a_speaker_is_the_speaker_and_a_missing_language_is_named(
    multilingual_checkpoints: Path, tmp_path: Path
) -> None:
    said = ok("synth", "你好。", "--speaker", "ZH", "--language", "auto", "-o", tmp_path / "x.wav",
              "-c", multilingual_checkpoints, "-d", "cpu")  # fmt: skip
    assert said["language"] == "ZH" and "language_detected" not in said
    english_only = tmp_path / "en"
    shutil.copytree(multilingual_checkpoints, english_only)
    for folder in ("melotts-chinese", "melotts-japanese", "melotts-korean"):
        shutil.rmtree(english_only / folder)
    out = tmp_path / "y.wav"
    result = run("synth", "今天天气很好。", "-o", out, "-c", english_only, "-d", "cpu")
    assert result.exit_code == 4, result.output
    assert result.stderr.strip() == (
        "error: the text looks Chinese (with English) (Han characters without kana or Hangul (6 Han characters)), "
        "which is not installed: 'openvoice-tt download --languages zh' fetches it"
    )
    assert not out.exists()
    # Spanish text with Spanish missing: the first English model reads it, and says so.
    shutil.rmtree(english_only / "melotts-spanish")
    said = ok("synth", "¿Dónde está?", "-o", out, "-c", english_only, "-d", "cpu")
    assert said["language"] == "EN" and "Spanish is not installed, so English" in said["language_detected"]["reason"]


def test_phonemes_auto_says_which_language_read_the_text(multilingual_checkpoints: Path) -> None:
    said = ok("phonemes", "오늘 날씨가 좋네요.", "--language", "auto", "-c", multilingual_checkpoints)
    assert said["language"] == "KR" and said["language_detected"]["language"] == "kr"
    assert {i for c in said["chunks"] for i in c["model_inputs"]["language_ids"][1::2]} == {KR.language_id}


PARAGRAPHS = {
    "ZH": "我们今天下午一起去公园散步看看花草树木",
    "JP": "きょうはみんなでこうえんにさんぽにいきます",
    "KR": "오늘 우리는 함께 공원에 산책하러 갑니다 ",
}


@pytest.mark.parametrize("code", ["ZH", "JP", "KR"])
def test_ten_thousand_characters_without_punctuation_are_chunked_and_read(
    multilingual_checkpoints: Path, code: str
) -> None:
    """No sentence end in 10,000 characters: chunks of at most 100 characters (the first 40), every one
    read by the front end, nothing lost (the issue's hostile paragraph; no traceback)."""
    language = {"ZH": ZH, "JP": JP, "KR": KR}[code]
    text = (PARAGRAPHS[code] * 600)[:10_000]
    tts = api.TTS(multilingual_checkpoints, "cpu", language=language)
    chunks = tts.prepare(text)
    assert len(chunks[0].text) <= 40 and all(len(chunk.text) <= 100 for chunk in chunks)
    assert len(chunks) >= 100 and "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")
    assert all(len(chunk.inputs.phones) > 2 for chunk in chunks)


@pytest.mark.parametrize("code", ["ZH", "JP"])
def test_a_long_texts_first_chunk_is_its_first_sentence(multilingual_checkpoints: Path, code: str) -> None:
    """What synth and a stream speak first: sentences end at 。！？ with no space after them."""
    sentences = {
        "ZH": ["今天下午我们去公园散步的时候遇到了老朋友。", "公园里有很多人在锻炼身体，还有人在跳舞！"],
        "JP": ["東京は日本の首都で、人口がとても多い大きな町です。", "毎日たくさんの人が電車で会社に行きます！"],
    }[code]
    tts = api.TTS(multilingual_checkpoints, "cpu", language={"ZH": ZH, "JP": JP}[code])
    chunks = [chunk.text for chunk in tts.prepare("".join(sentences * 4))]
    assert chunks[0] == sentences[0] and all(chunk.endswith(("。", "！")) for chunk in chunks)


def test_a_detected_language_is_said_on_stderr_unless_english(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    common = ("-o", tmp_path / "x.wav", "-c", multilingual_checkpoints, "-d", "cpu")
    chinese = run("synth", "你好。", *common)
    assert chinese.exit_code == 0, chinese.output
    assert "language: zh (Han characters without kana or Hangul (2 Han characters))" in chinese.stderr.splitlines()
    english = run("synth", "Hello.", *common)
    assert english.exit_code == 0 and "language:" not in english.stderr
