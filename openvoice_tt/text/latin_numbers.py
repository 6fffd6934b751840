"""Rewrites of numbers and symbols that upstream's Spanish and French front ends misread (see the
deviations in `spanish` and `french`): done on the raw text, before upstream's cleaners, so that BERT
and gruut both see the words a reader would say.

gruut reads a whole number well (`10000` is `diez mil`, `dix mille`), but upstream never gives it one
with separators: BERT splits `1.000` and `2,5` at the punctuation, and gruut reads `%`, `€`, `$` as
letters or nothing. So separators of thousands are removed, a decimal comma becomes the language's
word, the symbols become words after their number, and ordinals are spelled out (num2words, a gruut
dependency).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Rule = tuple[re.Pattern[str], "str | Callable[[re.Match[str]], str]"]

NUMBER = r"\d+(?:[.,\u00a0\u202f\u2009 ]\d+)*"
"""A number as written, with any separators (what a currency sign stands next to)."""


def currency_rules(words: Mapping[str, object]) -> list[Rule]:
    """`%` -> the percent words; `€`/`$` before or after a number -> the number then the currency word
    (singular after `1`); a sign standing alone -> the plural word."""
    rules: list[Rule] = [
        (re.compile(r"(\d)\s*%"), rf"\1 {words['percent']}"),
        (re.compile(r"%"), f" {words['percent']} "),
    ]
    for sign, key in (("€", "euro"), ("$", "dollar")):
        singular, plural = words[key]  # type: ignore[misc]
        escaped = re.escape(sign)

        def name(match: re.Match[str], singular: str = singular, plural: str = plural) -> str:
            number = match.group(1)
            return f"{number} {singular if number == '1' else plural}"

        rules += [
            (re.compile(rf"{escaped}\s*({NUMBER})"), rf"\1 {sign}"),
            (re.compile(rf"({NUMBER})\s*{escaped}"), name),
            (re.compile(escaped), f" {plural} "),
        ]
    return rules


def number_rules(thousands: str, decimal_word: str) -> list[Rule]:
    """Separators of thousands (`thousands`, a character class) removed from 1-3 digits followed by
    groups of exactly 3; then a comma between digits read as `decimal_word`."""
    return [
        (
            re.compile(rf"(?<![\d.,])\d{{1,3}}(?:{thousands}\d{{3}})+(?!\d|[.,]\d{{3}})"),
            lambda m: re.sub(r"\D", "", m.group()),
        ),
        (re.compile(r"(\d),(?=\d)"), rf"\1 {decimal_word} "),
    ]


def _ordinal(number: str, lang: str, feminine: bool) -> str:
    from num2words import num2words

    words = num2words(int(number), lang=lang, to="ordinal")
    if feminine and lang == "es":
        words = " ".join(w[:-1] + "a" if w.endswith("o") else w + "a" if w == "primer" else w for w in words.split())
    if feminine and lang == "fr" and words == "premier":
        words = "première"
    return words


def ordinal_rule(lang: str) -> Rule:
    """Spanish `1º`, `2ª`, `3.º`; French `1re`, `2e`, `2ème`, `2ième`: spelled out (gruut reads French
    `1er` and `1ère` right, so they are left alone)."""
    if lang == "es":
        return (
            re.compile(r"(?<![\d.,])(\d{1,6})\.?([ºª])"),
            lambda m: _ordinal(m.group(1), "es", m.group(2) == "ª"),
        )
    return (
        re.compile(r"(?<![\d.,])(\d{1,6})(ième|ème|eme|re|e|è)\b"),
        lambda m: _ordinal(m.group(1), "fr", m.group(2) in ("re", "ère")),
    )
