from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvoice_tt.text import lts
from openvoice_tt.text.g2p import Source, distribute_phones, g2p, group_tokens, pronounce, refine_phone

# Outputs of the real g2p_en 2.1.0 `G2p.predict` for made-up words (none is in CMUdict), recorded by
# running g2p_en itself outside this repository.
G2P_EN_PREDICTIONS = {
    "activationist": "AE2 K T IH0 V EY1 SH AH0 N IH0 S T",
    "openvoice": "OW1 P AH0 N V AY2 Z",
    "zyxquist": "Z IH1 K S K W IH0 S T",
    "blorfing": "B L AO1 R F IH0 NG",
    "snarfle": "S N AA1 R F AH0 L",
    "glimbacious": "G L IH1 M B AH0 SH AH0 S",
    "tenstorrent": "T EH1 N S T ER0 AH0 N T",
    "melotts": "M EH1 L AH0 T S",
    "wobbleflux": "W AA1 B AH0 L K AH0 L F",
    "quizzaciously": "K W IH0 Z AH1 SH AH0 N IY0",
    "frumptastic": "F R AH0 M P T AE1 S T IH0 K",
    "grundleplex": "G R AH1 N D L EH2 K S AH0 L",
    "xylophonist": "Z AY1 L AH0 F AH0 N AH0 S T S",
    "plinketh": "P L IH1 NG K AH0 TH N",
    "zorbonian": "Z AO0 R B OW1 N IY0 AH0 N",
    "crumblewick": "K R AH1 M B L UH2 K",
    "fnord": "N AO1 R D",
    "yeetastic": "Y EH2 T AH0 S T IH1 K IH0 K",
    "squonkish": "S K W AA1 N S K IH0 NG",
    "trumbledore": "T R AH1 M B L AH0 D AO2 R",
    "vexillomancy": "V EH2 K S IH0 Z AO1 L AH0 N M IY0 Z",
    "glorptastic": "G L AO2 R P T AE1 S T IH0 K",
    "shmorgas": "SH AA1 R G AH0 M Z",
    "brillig": "B R IH1 L IH0 G",
    "slithy": "S L IH1 TH IY0",
    "mimsy": "M IH1 M Z IY0",
    "borogoves": "B AO1 R AH0 G OW2 V Z",
    "outgrabe": "AW1 T G R EY2 B",
    "frabjous": "F R AE1 B Y UW2 Z",
    "qwxz": "K W AA1 K S",
    "zzyzzx": "Z IY1 K S T",
    # longer than 20 phones: g2p_en stops decoding after 20 steps
    "supercalifragilisticexpialidocious": "S UW2 P ER0 K AH0 F L AH0 JH AO1 S IY0 AH0 P S",
    "pneumonoultramicroscopicsilicovolcanoconiosis": ("N IY2 M OW0 JH AE2 N K OW0 S EH2 R AH0 L AH0 N EY1 S IY0 OW0"),
}


def word_to_phones(word: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    pron = pronounce(word)
    return pron.phones, pron.tones


def test_vendored_checkpoint_is_g2p_en_2_1_0s():
    digest = hashlib.sha256(lts.CHECKPOINT.read_bytes()).hexdigest()
    assert digest == "b8af35e4596d8dd5836dfd3fe9b2ba4f97b9c311efe8879544cbcfcbd566d8c6"


@pytest.mark.parametrize(("word", "arpabet"), G2P_EN_PREDICTIONS.items())
def test_letter_to_sound_matches_g2p_en(word, arpabet):
    assert " ".join(lts.predict(word)) == arpabet


def test_oov_words_are_refined_like_upstream():
    pron = pronounce("openvoice")
    assert (pron.phones, pron.tones) == (("ow", "p", "ah", "n", "V", "ay", "z"), (2, 0, 1, 0, 0, 3, 0))
    assert pron.arpabet == ("OW1", "P", "AH0", "N", "V", "AY2", "Z")
    assert pron.source is Source.LETTER_TO_SOUND


@pytest.mark.parametrize(
    ("word", "phones", "tones"),
    [
        ("hello", "hh ah l ow", "0 1 0 2"),  # cmudict.rep: HELLO  HH AH0 - L OW1
        ("voice", "V oy s", "0 2 0"),  # /v/ is upper-case V
        ("the", "dh ah", "0 1"),
        ("read", "r eh d", "0 2 0"),
        ("t", "t iy", "0 2"),  # the "t" of "don ' t"
        ("cafe", "k ah f ey", "0 1 0 2"),
    ],
)
def test_dictionary_words(word, phones, tones):
    assert word_to_phones(word) == (tuple(phones.split()), tuple(int(t) for t in tones.split()))


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (",", ((",",), (0,))),
        (".", ((".",), (0,))),
        ("!", (("!",), (0,))),
        ("?", (("?",), (0,))),
        ("'", (("'",), (0,))),
        ("-", (("-",), (0,))),
        # g2p_en deletes everything outside [a-z'.,?!-]: these give no phones
        (";", ((), ())),
        (":", ((), ())),
        ("…", ((), ())),
        ("中", ((), ())),
        ("$", ((), ())),
        ("[UNK]", ((), ())),  # deviation: upstream pronounces the literal "[UNK]" as "unk"
    ],
)
def test_punctuation_and_unknown_characters(token, expected):
    assert word_to_phones(token) == expected


def test_non_ascii_letters_are_dropped_before_prediction_as_g2p_en_does():
    # "ørsted" -> "rsted" (ø has no decomposition), then CMUdict or the model
    assert word_to_phones("ørsted") == word_to_phones("rsted")
    assert word_to_phones("rsted")[0] == tuple(refine_phone(p)[0] for p in lts.predict("rsted"))


def test_refine_phone():
    assert refine_phone("AH0") == ("ah", 1)
    assert refine_phone("EY2") == ("ey", 3)
    assert refine_phone("V") == ("V", 0)
    assert refine_phone("UW") == ("uw", 0)


def test_grouping_joins_wordpieces_and_keeps_a_bare_hash_alone():
    assert group_tokens(["open", "##vo", "##ice", "cl", "##oning", "."]) == [
        ["open", "vo", "ice"],
        ["cl", "oning"],
        ["."],
    ]
    assert group_tokens(["#", "hash", "#", "#"]) == [["#"], ["hash"], ["#"], ["#"]]


def _upstream_distribute_phone(n_phone: int, n_word: int) -> list[int]:
    """MeloTTS `distribute_phone`, as the reference for the closed form."""
    phones_per_word = [0] * n_word
    for _ in range(n_phone):
        phones_per_word[phones_per_word.index(min(phones_per_word))] += 1
    return phones_per_word


@given(st.integers(0, 60), st.integers(1, 12))
def test_distribute_phones_matches_upstream_round_robin(n_phones, n_tokens):
    assert distribute_phones(n_phones, n_tokens) == _upstream_distribute_phone(n_phones, n_tokens)


def test_g2p_over_tokens():
    tokens = ["open", "##vo", "##ice", "cl", "##oning", ",", "zy", "##x", "[UNK]", ";"]
    phones, tones, word2ph = g2p(tokens)
    assert " ".join(phones) == "ow p ah n V ay z k l ow n ih ng , z ih k s"
    assert tones == [2, 0, 1, 0, 0, 3, 0, 0, 0, 2, 0, 1, 0, 0, 0, 2, 0, 0]
    # openvoice: 7 phones over 3 pieces; cloning: 6 over 2; ",": 1; zyx ("zy ##x"): 4 over 2; [UNK] and ";": 0
    assert word2ph == [3, 2, 2, 3, 3, 1, 2, 2, 0, 0]
