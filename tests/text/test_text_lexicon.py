"""User lexicons: parsing, every kind of bad line, and their effect on the front end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvoice_tt.errors import InputError, LexiconError
from openvoice_tt.text.g2p import Source, pronounce
from openvoice_tt.text.lexicon import Lexicon

GOOD = """\
;;; names and products
# a comment line too
Tenstorrent  T EH1 N S T AO2 R AH0 N T

READ  R IY1 D
zoë   Z OW1 IY0
"""


@pytest.fixture
def lexicon(tmp_path: Path) -> Lexicon:
    path = tmp_path / "names.txt"
    path.write_text(GOOD, encoding="utf-8")
    return Lexicon.load(path)


def test_entries_and_case_insensitivity(lexicon):
    assert len(lexicon) == 3
    expected = ("T", "EH1", "N", "S", "T", "AO2", "R", "AH0", "N", "T")
    for word in ("tenstorrent", "TENSTORRENT", "TensTorrent"):
        assert lexicon.get(word) == expected
    assert lexicon.get("read") == ("R", "IY1", "D")
    assert lexicon.get("zoe") == lexicon.get("Zoë") == ("Z", "OW1", "IY0")  # as the uncased tokenizer sees it
    assert lexicon.get("hello") is None


def test_lexicon_overrides_the_training_dictionary(lexicon):
    assert pronounce("read").arpabet == ("R", "EH1", "D")  # cmudict.rep: READ  R EH1 D
    pron = pronounce("read", lexicon)
    assert pron.source is Source.LEXICON
    assert (pron.arpabet, pron.phones, pron.tones) == (("R", "IY1", "D"), ("r", "iy", "d"), (0, 2, 0))


def test_a_word_only_the_lexicon_knows(lexicon):
    assert pronounce("tenstorrent").source is Source.LETTER_TO_SOUND
    pron = pronounce("tenstorrent", lexicon)
    assert pron.source is Source.LEXICON
    assert pron.phones == ("t", "eh", "n", "s", "t", "ao", "r", "ah", "n", "t")
    assert pron.tones == (0, 2, 0, 0, 0, 3, 0, 1, 0, 0)


def test_front_end_uses_the_lexicon(symbols, lexicon):
    import warnings

    from openvoice_tt.text import EnglishFrontEnd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain, custom = EnglishFrontEnd(symbols), EnglishFrontEnd(symbols, lexicon=lexicon)
    text = "TENSTORRENT can read."
    a, b = plain(text), custom(text)
    assert " ".join(b.phones[1::2]) == "_ t eh n s t ao r ah n t k ae n r iy d . _"
    # without it: g2p_en's prediction (T EH1 N S T ER0 AH0 N T, tests/text/test_text_g2p.py) and READ  R EH1 D
    assert " ".join(a.phones[1::2]) == "_ t eh n s t er ah n t k ae n r eh d . _"
    assert b.tone_ids[1::2].tolist() == [7, 7, 9, 7, 7, 7, 10, 7, 8, 7, 7, 7, 9, 7, 7, 9, 7, 7, 7]
    # "tenstorrent" is three WordPiece tokens: its 10 phones spread 4/3/3, doubled by the blanks
    assert sum(b.word2ph) == len(b.phones) and list(b.word2ph[1:4]) == [8, 6, 6]


BAD_LINES = [
    ("hello  HH AH L OW1", "vowel 'AH' needs a stress digit (AH0, AH1 or AH2)"),
    ("hello  HH AH3 L OW1", "vowel 'AH3' has stress digit 3; use 0, 1 or 2"),
    ("hello  HH1 AH0 L OW1", "consonant 'HH1' takes no stress digit (write HH)"),
    ("hello  HH AH0 LL OW1", "'LL' is not an ARPAbet phone"),
    ("hello", "'hello' has no phones"),
    ("o'neil  OW0 N IY1 L", '"o\'neil" is not a single word of letters'),
    ("HELLO(1)  HH EH0 L OW1", "'HELLO(1)' is not a single word of letters"),
    ("Hello  HH EH0 L OW1", "'Hello' is already given on line 1"),
]


@pytest.mark.parametrize(("line", "problem"), BAD_LINES, ids=[b[1][:30] for b in BAD_LINES])
def test_bad_line_names_file_and_line(tmp_path, line, problem):
    path = tmp_path / "lex.txt"
    path.write_text(f"hello  HH AH0 L OW1\n;;; comment\n\n{line}\nworld  W ER1 L D\n", encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        Lexicon.load(path)
    message = str(info.value)
    assert message.startswith(f"lexicon {path}, line 4: {problem}")
    assert "\n" not in message
    assert isinstance(info.value, InputError) and info.value.exit_code == 3


def test_unreadable_files(tmp_path):
    with pytest.raises(LexiconError, match=r"^lexicon .*missing\.txt: cannot read it \(No such file or directory\)$"):
        Lexicon.load(tmp_path / "missing.txt")
    with pytest.raises(LexiconError, match=r"^lexicon .*: cannot read it \(Is a directory\)$"):
        Lexicon.load(tmp_path)
    (tmp_path / "latin1.txt").write_bytes("zoë  Z OW1 IY0\n".encode("latin-1"))
    with pytest.raises(LexiconError, match=r"^lexicon .*latin1\.txt, line 1: not UTF-8 text \(invalid .* at byte 2\)$"):
        Lexicon.load(tmp_path / "latin1.txt")


def test_lower_case_phones_and_tabs_are_accepted(tmp_path):
    lexicon = Lexicon.parse("gif\tjh ih1 f\n", "x")
    assert lexicon.get("GIF") == ("JH", "IH1", "F")


LEXICON_LIKE = st.text("ABCDEHIKLNORSTUWYZ012 \n\t;#'", max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=200) | LEXICON_LIKE)
def test_any_file_content_parses_or_is_one_lexicon_error(text):
    try:
        lexicon = Lexicon.parse(text, "x.txt")
    except LexiconError as e:
        assert re.fullmatch(r"lexicon x\.txt, line [0-9]+: [^\n]+", str(e)), str(e)
    else:
        assert len(lexicon) <= text.count("\n") + 1
