"""User pronunciations (`--lexicon FILE`): CMUdict-format lines that override every other source.

A line is a word, whitespace, then its ARPAbet phones, stress digits required on vowels and absent on
consonants, e.g. `tenstorrent  T EH1 N S T AO2 R AH0 N T`. Blank lines and lines starting with `;;;`
(CMUdict's comment) or `#` are skipped. Words match case-insensitively and without accents, as the
BERT tokenizer sees them; a word must be letters only, because the front end looks words up after the
tokenizer has split the text at spaces, punctuation and digits. Every problem is a LexiconError naming
the file and line, raised when the file is read, i.e. before any model loads.

Bounds, so that memory stays bounded by the text's length with a lexicon too: the file is read in chunks up
to `MAX_LEXICON_BYTES` (an endless input such as /dev/zero is refused at that point), at most
`MAX_ENTRIES` words, a word of at most `MAX_WORD_CHARS` letters (the tokenizer makes a longer one unknown)
and at most `MAX_PHONES_PER_LETTER` phones per letter of its word, `MAX_PHONES` in all. A UTF-8 BOM is
accepted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from openvoice_tt.errors import LexiconError
from openvoice_tt.reading import read_bounded
from openvoice_tt.text.normalize import strip_accents

VOWELS = frozenset(["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"])
CONSONANTS = frozenset([
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N",
    "NG", "P", "R", "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH",
])  # fmt: skip
STRESS_DIGITS = "012"
COMMENT_PREFIXES = (";;;", "#")
MAX_LEXICON_BYTES = 8 * 1024 * 1024  # CMUdict entire is 3.6 MB
MAX_ENTRIES = 200_000  # CMUdict entire is 134,000 words
MAX_WORD_CHARS = 100  # the BERT tokenizer turns a longer word into [UNK]: it could never be looked up
MAX_PHONES_PER_LETTER = 8  # "w" is D AH1 B AH0 L Y UW0
MAX_PHONES = 100


def lexicon_key(word: str) -> str:
    """What the front end sees of a word: lower-case, accents stripped (BERT uncased normalization)."""
    return strip_accents(word.lower())


class Lexicon:
    """Word (any case) -> ARPAbet phones; `path` names the file in messages."""

    def __init__(self, entries: Mapping[str, tuple[str, ...]], path: str = "<lexicon>") -> None:
        self._entries = {lexicon_key(w): tuple(p) for w, p in entries.items()}
        self.path = path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Lexicon:
        name = os.fspath(path)
        try:
            with open(name, "rb") as f:
                data = read_bounded(f, MAX_LEXICON_BYTES)
        except OSError as e:
            raise LexiconError(f"lexicon {name}: cannot read it ({e.strerror or e})") from None
        if data is None:
            raise LexiconError(f"lexicon {name}: over {MAX_LEXICON_BYTES // 2**20} MiB (the limit)")
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            raise LexiconError(f"lexicon {name}, line {line}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        if "\0" in text:
            line = text.count("\n", 0, text.index("\0")) + 1
            raise LexiconError(f"lexicon {name}, line {line}: binary data (a NUL byte), not a lexicon")
        return cls.parse(text, name)

    @classmethod
    def parse(cls, text: str, path: str = "<lexicon>") -> Lexicon:
        entries: dict[str, tuple[str, ...]] = {}
        first_line: dict[str, int] = {}
        text = text.removeprefix("\ufeff")
        for number, line in enumerate(text.split("\n"), start=1):  # numbered as editors do
            fields = line.split()
            if not fields or fields[0].startswith(COMMENT_PREFIXES):
                continue
            word, phones = fields[0], tuple(p.upper() for p in fields[1:])
            problem = _problem(word, phones)
            key = lexicon_key(word)
            if problem is None and key in first_line:
                problem = f"{word!r} is already given on line {first_line[key]}"
            if problem is None and key not in entries and len(entries) == MAX_ENTRIES:
                problem = f"more than {MAX_ENTRIES:,} words (the limit)"
            if problem is not None:
                raise LexiconError(f"lexicon {path}, line {number}: {problem}")
            entries[key] = phones
            first_line[key] = number
        return cls(entries, path)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, word: str) -> tuple[str, ...] | None:
        return self._entries.get(lexicon_key(word))


def _problem(word: str, phones: tuple[str, ...]) -> str | None:
    if len(word) > MAX_WORD_CHARS:
        return f"a word of {len(word):,} characters (at most {MAX_WORD_CHARS}: the tokenizer cannot see a longer one)"
    if not lexicon_key(word).isalpha():
        return (
            f"{word!r} is not a single word of letters (the text is looked up word by word, split at "
            "spaces, punctuation and digits)"
        )
    if not phones:
        return f"{word!r} has no phones (expected e.g. '{word}  HH AH0 L OW1')"
    most = min(MAX_PHONES, MAX_PHONES_PER_LETTER * len(word))
    if len(phones) > most:
        return (
            f"{word!r} has {len(phones):,} phones; at most {most} for a word of {len(word)} letters "
            f"({MAX_PHONES_PER_LETTER} a letter, {MAX_PHONES} in all)"
        )
    for phone in phones:
        base, digit = (phone[:-1], phone[-1]) if phone[-1:].isdigit() else (phone, "")
        if base in VOWELS and digit == "":
            return f"vowel {phone!r} needs a stress digit ({phone}0, {phone}1 or {phone}2)"
        if base in VOWELS and digit not in STRESS_DIGITS:
            return f"vowel {phone!r} has stress digit {digit}; use 0, 1 or 2"
        if base in CONSONANTS and digit:
            return f"consonant {phone!r} takes no stress digit (write {base})"
        if base not in VOWELS and base not in CONSONANTS:
            return f"{phone!r} is not an ARPAbet phone"
    return None
