"""Word timings in Chinese, Japanese and Korean (tiny checkpoints of every language, no BERT folders): each
word's span is exactly the frames the synthesizer gave its phones, chunk offsets and pauses included, and
the words are the text's, in order (jieba's words, pykakasi's words, Korean's space-separated words)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvoice_tt import api
from openvoice_tt.text import NoBertWarning
from openvoice_tt.word_timings import PAD_PHONE, WordTiming
from tests.test_word_timings import recorded

pytestmark = pytest.mark.usefixtures("tool_environment")


def is_mark(phone: str) -> bool:
    """A punctuation phone (`,`, `.`, `(`...): a gap between words."""
    return not any(c.isalnum() for c in phone)


TEXTS = {
    "zh": "你好，我们走吧。" + "今天天气很好，我们一起去公园散步吧。" * 6,
    "jp": "こんにちは、元気ですか。" + "明日は良い天気ですね、公園を散歩しましょう。" * 5,
    "kr": "안녕하세요, 반갑습니다. " + "오늘은 날씨가 좋아서 공원에 산책하러 갑니다. " * 4,
}
FIRST_WORDS = {
    "zh": ["你好", "我们", "走", "吧"],
    "jp": ["こんにちは", "元気", "ですか"],
    "kr": ["안녕하세요", "반갑습니다"],
}


@pytest.fixture(scope="module")
def voices(multilingual_checkpoints: Path) -> dict[str, api.TTS]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        return {key: api.TTS(multilingual_checkpoints, "cpu", language=key) for key in TEXTS}


def phone_tokens(outs: list[Any], chunks: list[Any], hop: int, silence: int) -> list[tuple[str, int, int, int]]:
    """Every phone token of the take, in order, recounted from the durations the synthesizer returned: (its
    name, its first sample, its last sample + 1, the end of the blank after it)."""
    tokens, offset = [], 0
    for out, chunk in zip(outs, chunks, strict=True):
        edges = offset + np.concatenate([[0], np.cumsum(out.durations)]) * hop
        names = chunk.phones
        inner = range(chunk.word2ph[0], len(names) - chunk.word2ph[-1])
        tokens += [(names[t], int(edges[t]), int(edges[t + 1]), int(edges[t + 2])) for t in inner if names[t] != "_"]
        offset += out.samples + silence
    return tokens


def assert_each_word_is_its_phones_frames(words: tuple[WordTiming, ...], tokens: list[tuple[str, int, int, int]]):
    """The words' phones are the take's phone tokens in order, every token in a word but punctuation; each
    phone's samples are its token's, and a word runs from its first phone to the blank after its last."""
    at = 0
    for word in words:
        assert word.phones, word
        while tokens[at][0] != word.phones[0].phone or tokens[at][1] != word.phones[0].start:
            assert is_mark(tokens[at][0]), f"{tokens[at]} is in no word (before {word.text})"
            at += 1
        mine = tokens[at : at + len(word.phones)]
        assert [(p.phone, p.start, p.end) for p in word.phones] == [(name, a, b) for name, a, b, _ in mine]
        assert (word.start, word.end) == (mine[0][1], mine[-1][3])
        at += len(word.phones)
    assert all(is_mark(name) for name, *_ in tokens[at:])


@pytest.mark.parametrize("key", list(TEXTS))
def test_each_words_span_is_the_frames_of_its_phones(
    voices: dict[str, api.TTS], monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    tts, text = voices[key], TEXTS[key]
    plain = tts.synth(text, seed=3, speed=1.25)
    outs = recorded(monkeypatch, tts)
    speech = tts.synth(text, seed=3, speed=1.25, words=True)
    np.testing.assert_array_equal(speech.audio, plain.audio)
    chunks = [tts.front_end(chunk) for chunk in speech.chunks]
    assert len(chunks) == len(outs) >= 2  # the offsets of later chunks and the pauses are counted too
    assert_each_word_is_its_phones_frames(
        speech.words, phone_tokens(outs, chunks, tts.hop_length, tts.silence_samples(1.25))
    )
    assert all(p.phone != PAD_PHONE for w in speech.words for p in w.phones)
    assert speech.words[-1].end <= len(speech.audio)
    assert [w.text for w in speech.words[: len(FIRST_WORDS[key])]] == FIRST_WORDS[key]


@pytest.mark.parametrize("key", list(TEXTS))
def test_the_words_are_the_text_as_written_in_order(voices: dict[str, api.TTS], key: str) -> None:
    words = voices[key].synth(TEXTS[key], seed=1, words=True).words
    assert {w.source for w in words} == {"text"}
    spoken = "".join(c for c in TEXTS[key] if c.isalnum() or (key == "kr" and c == " "))
    if key == "kr":  # words between the spaces
        assert [w.text for w in words] == spoken.split()
    else:  # words without spaces: they join into the text
        assert "".join(w.text for w in words) == spoken


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("zh", "我有3个苹果。", [("我有", "text"), ("三个", "normalized"), ("苹果", "text")]),
        (
            "jp",
            "コーヒーを3杯ください。",
            [("コーヒー", "text"), ("を", "text"), ("サンバイ", "normalized"), ("ください", "text")],
        ),
        ("kr", "$100을 주세요.", [("100달러를", "normalized"), ("주세요", "text")]),
    ],
)
def test_a_word_the_front_end_rewrote_is_its_reading(
    voices: dict[str, api.TTS], key: str, text: str, expected: list[tuple[str, str]]
) -> None:
    """A number read as words (and Japanese's words whose katakana was substituted before pykakasi) is the
    normalized word, marked so; the words after it are found in the text again."""
    words = voices[key].synth(text, seed=1, words=True).words
    assert [(w.text, w.source) for w in words] == expected


FRONT_ENDS = {"zh": "chinese:ChineseFrontEnd", "jp": "japanese:JapaneseFrontEnd", "kr": "korean:KoreanFrontEnd"}


@pytest.mark.parametrize("key", list(FRONT_ENDS))
def test_every_golden_sentences_words_are_its_phones_with_the_bert_tokenizer(key: str) -> None:
    """Over the goldens' sentences (numbers, Latin letters, marks, iteration marks...) and the BERT's
    WordPiece pieces (the goldens' vocabulary), every phone but punctuation is in exactly one word, in
    order, with the frames of its token: durations 1, 2, 3, ... per token."""
    import importlib

    from openvoice_tt.word_timings import chunk_words
    from tests.text.latin_helpers import front_end, run
    from tests.text.text_testdata import load_json

    module, cls = FRONT_ENDS[key].split(":")
    fe = front_end(getattr(importlib.import_module(f"openvoice_tt.text.{module}"), cls), key)
    for case in load_json(f"golden_{key}.json"):
        inputs = run(fe, case["text"])
        durations = list(range(1, len(inputs.phones) + 1))
        words = chunk_words(
            durations, inputs.word2ph, inputs.phones, inputs.words, case["text"], 1, 0, inputs.word_phones
        )
        assert inputs.words or inputs.word_phones
        edges = np.concatenate([[0], np.cumsum(durations)])
        inner = range(inputs.word2ph[0], len(inputs.phones) - inputs.word2ph[-1])
        tokens = [(inputs.phones[t], int(edges[t]), int(edges[t + 1]), int(edges[t + 2])) for t in inner]
        assert_each_word_is_its_phones_frames(tuple(words), [t for t in tokens if t[0] != "_"])


@pytest.mark.usefixtures("ttnn_installed", "fresh_tt_device")
def test_the_ttnn_emulation_gives_the_same_words(
    voices: dict[str, api.TTS], multilingual_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the exact emulation (which reproduces torch's durations) every language's words are torch's, to
    the sample, and the durations are downloaded only when words are asked for."""
    from openvoice_tt import backends

    monkeypatch.setenv(backends.TT_DEVICE_ENV, "emulation:exact")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    for key, text in TEXTS.items():
        text = text[:60]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoBertWarning)
            tt = api.TTS(multilingual_checkpoints, "tt", language=key)
        assert tt.backend == "tt"
        transfers = backends.tt_device().transfers
        transfers.reset()
        plain = tt.synth(text, seed=2)
        assert "durations" not in transfers.downloads
        timed = tt.synth(text, seed=2, words=True)
        np.testing.assert_array_equal(timed.audio, plain.audio)
        assert timed.words == voices[key].synth(text, seed=2, words=True).words and len(timed.words) >= 3


@pytest.mark.parametrize("key", list(TEXTS))
def test_srt_and_vtt_files_parse_with_the_words(
    voices: dict[str, api.TTS], multilingual_checkpoints: Path, tmp_path: Path, key: str
) -> None:
    """`synth --timestamps` in each language: the SRT and WebVTT files parse (srt, webvtt-py) into one cue
    per word, the API's words, at their times to the millisecond."""
    import srt
    import webvtt

    from tests.test_word_timings import cli, seconds_of

    text = TEXTS[key][:60]
    spans = [(w.text, w.start / 44100, w.end / 44100) for w in voices[key].synth(text, seed=3, words=True).words]
    for ext in ("srt", "vtt"):
        out = tmp_path / f"t.{ext}"
        args = ("synth", text, "-o", tmp_path / "a.wav", "--language", key, "--seed", 3, "--timestamps", out)
        result = cli(*args, "--checkpoints", multilingual_checkpoints, "--device", "cpu")
        assert result.exit_code == 0, result.output
        if ext == "srt":
            cues = [(s.content, s.start.total_seconds(), s.end.total_seconds()) for s in srt.parse(out.read_text())]
        else:
            cues = [(c.text, seconds_of(c.start), seconds_of(c.end)) for c in webvtt.from_string(out.read_text())]
        assert [c[0] for c in cues] == [w for w, _, _ in spans] and len(spans) >= 3
        for (_, start, end), (_, a, b) in zip(cues, spans, strict=True):
            assert abs(start - a) <= 0.0005 and abs(end - b) <= 0.0005


def test_each_word_has_its_own_phones(voices: dict[str, api.TTS]) -> None:
    """Which phones belong to which word, checked by hand: pinyin and opencpop, the kana table, g2pkk's
    pronunciation (반갑습니다 is said 반갑씀니다)."""
    from jamo import hangul_to_jamo

    expected = {
        "zh": ("你好，我们走吧。", [("你好", "n i h ao"), ("我们", "w o m en"), ("走", "z ou"), ("吧", "b a")]),
        "jp": (
            "こんにちは、元気ですか。",
            [("こんにちは", "k o N n i ch i h a"), ("元気", "g e N k i"), ("ですか", "d e s u k a")],
        ),
        "kr": (
            "안녕하세요, 반갑습니다.",
            [
                ("안녕하세요", " ".join(hangul_to_jamo("안녕하세요"))),
                ("반갑습니다", " ".join(hangul_to_jamo("반갑씀니다"))),
            ],
        ),
    }
    for key, (text, words) in expected.items():
        timed = voices[key].synth(text, seed=1, words=True).words
        assert [(w.text, " ".join(p.phone for p in w.phones)) for w in timed] == words, key
