from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvoice_tt.errors import TextError
from openvoice_tt.text import EnglishFrontEnd, NoBertWarning, SkippedTextWarning, TextInputs
from tests.text.text_testdata import DATA, load_json

GOLDEN = load_json("frontend_golden.json")


@pytest.mark.parametrize("case", GOLDEN, ids=[c["text"] for c in GOLDEN])
def test_matches_upstream_front_end(front_end, case):
    out = front_end(case["text"])
    assert out.normalized == case["normalized"]
    assert " ".join(out.phones[1::2]) == case["phones"]  # the non-blank positions
    assert out.phone_ids.tolist() == case["phone_ids"]
    assert out.tone_ids.tolist() == case["tone_ids"]
    assert out.language_ids.tolist() == case["language_ids"]
    assert list(out.word2ph) == case["word2ph_blank"]
    assert sum(out.word2ph) == len(out.phones) == out.phone_ids.shape[0]


@pytest.mark.parametrize("case", GOLDEN, ids=[c["text"] for c in GOLDEN])
def test_without_blanks(symbols, case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        out = EnglishFrontEnd(symbols, add_blank=False)(case["text"])
    assert " ".join(out.phones) == case["phones"]
    assert out.phone_ids.tolist() == [symbols.index(p) for p in case["phones"].split()]
    assert out.tone_ids.tolist() == [int(t) + 7 for t in case["tones"].split()]
    assert out.language_ids.tolist() == [2] * len(out.phones)
    assert list(out.word2ph) == case["word2ph"]


def test_older_symbol_order_changes_only_punctuation_ids(front_end, older_symbols):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        older = EnglishFrontEnd(older_symbols)
    text = "Well, hello there! Are you sure? Yes."
    a, b = front_end(text), older(text)
    assert a.phones == b.phones
    punct = {",": (211, 213), "!": (208, 210), "?": (209, 211), ".": (212, 214)}
    for i, p in enumerate(a.phones):
        if p in punct:
            assert (a.phone_ids[i].item(), b.phone_ids[i].item()) == punct[p]
        else:
            assert a.phone_ids[i] == b.phone_ids[i]


def test_output_types_and_shapes(front_end):
    out = front_end("Hello world.")
    assert isinstance(out, TextInputs)
    t = len(out.phones)
    assert t == 2 * (4 + 4 + 1 + 2) + 1  # hh ah l ow, w er l d, ".", two pads; then interspersed
    for ids in (out.phone_ids, out.tone_ids, out.language_ids):
        assert ids.dtype == torch.long and ids.shape == (t,)
    assert out.bert.dtype == out.ja_bert.dtype == torch.float32
    assert out.bert.shape == (1024, t) and out.ja_bert.shape == (768, t)
    assert not out.bert.any() and not out.ja_bert.any()


def test_no_bert_mode_warns_once(symbols):
    with pytest.warns(NoBertWarning, match="zeros") as record:
        fe = EnglishFrontEnd(symbols)
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fe("First call.")
        fe("Second call.")


@pytest.mark.parametrize("text", ["", "   \n\t", "...", "!?!", "😀😀", "中文", "— –", "$", "\x00\x07"])
def test_nothing_to_speak_is_a_text_error(front_end, text):
    with pytest.raises(TextError, match=r"^text has nothing to speak: ") as info:
        front_end(text)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_unspeakable_words_are_left_out_with_a_warning_naming_them(front_end):
    """Reproduction: other scripts and over-long words vanished without a word; a chunk left empty by a
    long word was blamed on "normalization"."""
    long_word = "ab" * 60  # 120 characters: one [UNK] for the tokenizer, no phones
    with pytest.warns(UserWarning) as record:
        out = front_end(f"Hello ภาษาไทย world, 中文 ok {long_word} 😀 fine.")
    (warning,) = [w for w in record if isinstance(w.message, SkippedTextWarning)]
    assert str(warning.message) == (
        "left out what English cannot speak: 'ภาษาไทย', '中', '文', "
        f"'{long_word[:24]}…' (longer than 100 characters), '😀'"
    )
    assert front_end("Hello world, ok fine.").phones == out.phones  # what is left is spoken as before
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkippedTextWarning)  # punctuation upstream reads as silence says nothing
        front_end('A rainbow: "white" light; (many) colors.')
    with pytest.raises(TextError) as info:
        front_end("x" * 300)
    reason = f"(left out: '{'x' * 24}…' (longer than 100 characters))"
    assert str(info.value) == f"text has nothing to speak: '{'x' * 40}…' {reason}"


def test_error_message_truncates_long_text(front_end):
    with pytest.raises(TextError) as info:
        front_end("😀" * 1000)
    assert len(str(info.value)) < 150


def _check_valid(out: TextInputs, add_blank: bool = True) -> None:
    t = len(out.phones)
    assert out.phone_ids.shape == out.tone_ids.shape == out.language_ids.shape == (t,)
    assert sum(out.word2ph) == t and min(out.word2ph) >= 0
    assert out.bert.shape == (1024, t) and out.ja_bert.shape == (768, t)
    assert out.phone_ids.min() >= 0 and out.phone_ids.max() < 219
    blanks = slice(0, None, 2) if add_blank else slice(0, 0)
    assert not out.phone_ids[blanks].any() and not out.tone_ids[blanks].any()
    real = out.tone_ids[1::2] if add_blank else out.tone_ids
    assert ((real >= 7) & (real <= 10)).all()


UNICODE = st.text(alphabet=st.characters(codec=None), max_size=300)
MIXED = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,.!?'-:;$0123456789\n")),
        st.sampled_from(list("😀👍🏽🎉中文字日本語한국어éüßøçñ“”‘’—–…«»\u200b\u0000\u0007\u001b\ufeff\ud800\udfff")),
        st.characters(codec=None),
    ),
    max_size=300,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(UNICODE, MIXED))
def test_any_unicode_gives_a_valid_sequence_or_a_text_error(front_end, text):
    try:
        out = front_end(text)
    except TextError:
        return
    _check_valid(out)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec=None), min_size=1, max_size=40).filter(str.strip), st.booleans())
def test_hundred_thousand_character_inputs(symbols, text, add_blank):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        fe = EnglishFrontEnd(symbols, add_blank=add_blank)
    long_text = (text * (100_000 // len(text) + 1))[:100_000]
    try:
        out = fe(long_text)
    except TextError:
        return
    _check_valid(out, add_blank)


def test_hundred_thousand_characters_of_english(front_end):
    text = ("The 3 quick brown foxes, at 7:05 pm, paid $10,000 to Dr. Zyxquist! " * 1500)[:100_000]
    out = front_end(text)
    _check_valid(out)
    assert len(out.phones) > 200_000


def test_no_network_no_nltk_and_no_torch_at_import():
    """Run the front end in a fresh interpreter with sockets disabled and check what got imported."""
    code = textwrap.dedent(
        f"""
        import json, socket, sys, warnings
        def refuse(*a, **k):
            raise RuntimeError("network access attempted")
        socket.socket.connect = socket.create_connection = socket.getaddrinfo = refuse
        import openvoice_tt.text as text
        assert "torch" not in sys.modules and "numpy" not in sys.modules
        warnings.simplefilter("ignore")
        fe = text.EnglishFrontEnd(json.load(open({str(DATA / "melo_symbols.json")!r})))
        for chunk in text.split_text("Hello, Zyxquist! It's 7:05 pm and $10,000 is 3.14 times more."):
            fe(chunk)
        banned = {{"nltk", "g2p_en", "transformers", "huggingface_hub", "requests", "urllib3"}}
        print(sorted(banned & {{m.split(".")[0] for m in sys.modules}}))
        """
    )
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_hangul_word_left_out_is_named_once_not_once_per_jamo(front_end):
    """Reproduction (tryout): `synth "안녕하세요 123." --speaker EN-US` warned "left out what English cannot
    speak: '안안안녕녕녕하하세세요요'": the uncased tokenizer splits each syllable into its jamo, every piece
    covering the whole syllable, and the warning joined each piece's text."""
    with pytest.warns(SkippedTextWarning) as record:
        front_end("안녕하세요 ok, 안안 fine.")
    (warning,) = [w for w in record if isinstance(w.message, SkippedTextWarning)]
    assert str(warning.message) == "left out what English cannot speak: '안녕하세요', '안안'"
