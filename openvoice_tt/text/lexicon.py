"""User pronunciations (`--lexicon FILE`): CMUdict-format lines that override every other source.

A line is a word, whitespace, then its ARPAbet phones, stress digits required on vowels and absent on
consonants, e.g. `tenstorrent  T EH1 N S T AO2 R AH0 N T`. Blank lines and lines starting with `;;;`
(CMUdict's comment) or `#` are skipped. Words match case-insensitively and without accents, as the
BERT tokenizer sees them; a word must be letters only, because the front end looks words up after the
tokenizer has split the text at spaces, punctuation and digits. Every problem is a LexiconError naming
the file and line, raised when the file is read, i.e. before any model loads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from openvoice_tt.errors import LexiconError
from openvoice_tt.text.normalize import strip_accents

VOWELS = frozenset(["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"])
CONSONANTS = frozenset([
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N",
    "NG", "P", "R", "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH",
])  # fmt: skip
STRESS_DIGITS = "012"
COMMENT_PREFIXES = (";;;", "#")


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
            with open(name, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as e:
            raise LexiconError(f"lexicon {name}: not UTF-8 text ({e.reason} at byte {e.start})") from e
        except OSError as e:
            raise LexiconError(f"lexicon {name}: cannot read it ({e.strerror or e})") from e
        return cls.parse(text, name)

    @classmethod
    def parse(cls, text: str, path: str = "<lexicon>") -> Lexicon:
        entries: dict[str, tuple[str, ...]] = {}
        first_line: dict[str, int] = {}
        for number, line in enumerate(text.split("\n"), start=1):  # numbered as editors do
            fields = line.split()
            if not fields or fields[0].startswith(COMMENT_PREFIXES):
                continue
            word, phones = fields[0], tuple(p.upper() for p in fields[1:])
            problem = _problem(word, phones)
            key = lexicon_key(word)
            if problem is None and key in first_line:
                problem = f"{word!r} is already given on line {first_line[key]}"
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
    if not lexicon_key(word).isalpha():
        return (
            f"{word!r} is not a single word of letters (the text is looked up word by word, split at "
            "spaces, punctuation and digits)"
        )
    if not phones:
        return f"{word!r} has no phones (expected e.g. '{word}  HH AH0 L OW1')"
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
