"""Spell out times, money, decimals, ordinals and integers in lower-case English (spec §4.1 steps 2–3).

Follows MeloTTS's `english_utils/{time_norm,number_norm}.py` (itself keithito/tacotron) and reuses its
`inflect` calls so the words match, with the fixes listed in `openvoice_tt.text.normalize`. Only ASCII
digits are numbers here, as upstream (`[0-9]`, not `\\d`, which would also match e.g. Arabic-Indic digits).
"""

from __future__ import annotations

import re
from functools import lru_cache

import inflect

_inflect = inflect.engine()

_MAX_DIGITS = 36
"""inflect names numbers below 10**36 ("decillion"); longer digit strings are read digit by digit."""

_DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# H:MM (hours 0-23) with an optional am/pm written "am", "a.m.", "a. m." or "a.m"; the optional
# suffix group also takes the whitespace before it, so a time without one keeps its trailing space.
_TIME_RE = re.compile(r"\b([01]?[0-9]|2[0-3]):([0-5][0-9])(?:\s*([ap])\.?\s?m\b(\.?)|\b)")
# Thousands separators only in well-formed groups ("10,000", "1,234,567"); "1,2,3" stays a list.
_THOUSANDS_RE = re.compile(r"(?<![0-9,])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9]|,[0-9])")
_CURRENCY_RE = re.compile(r"([$£€¥])([0-9]*\.?[0-9]+)")
# "$2.5 billion": the amount is a number of millions/billions, and the unit goes after the scale word.
_SCALED_CURRENCY_RE = re.compile(r"([$£€¥])([0-9]*\.?[0-9]+) (hundred|thousand|million|billion|trillion)\b")
_DECIMAL_RE = re.compile(r"(?<![0-9])([0-9]+)\.([0-9]+)")
_ORDINAL_RE = re.compile(r"(?<![0-9])([0-9]+)(st|nd|rd|th)")
# A "-" is a minus sign only when it does not follow a letter or digit: "1-2" is a range, "-5" is not.
_INTEGER_RE = re.compile(r"((?<!\w)-)?([0-9]+)")

_CURRENCIES = {
    # symbol: (one unit, units, one hundredth, hundredths) as in upstream's table
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound sterling", "pounds sterling", "penny", "pence"),
    "¥": ("yen", "yen", "sen", "sen"),
}


def _too_long(digits: str) -> bool:
    return len(digits.lstrip("0")) > _MAX_DIGITS


def _spell_digits(digits: str) -> str:
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits)


def expand_time(text: str) -> str:
    """`7:05 pm` -> `seven oh five p m`; without am/pm, the 24-hour clock decides."""
    return _TIME_RE.sub(_time_words, text)


def _time_words(m: re.Match[str]) -> str:
    hour, minute, ampm, final_dot = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    if ampm is None:
        ampm = "p" if hour >= 12 else "a"
    hour = hour - 12 if hour > 12 else hour or 12
    words = [_inflect.number_to_words(hour)]
    if minute:
        if minute < 10:
            words.append("oh")
        words.append(_inflect.number_to_words(minute))
    words += [ampm, "m"]
    # "... at 7 p.m." ends a sentence: keep that full stop; mid-sentence the dot was only the abbreviation's.
    end = "." if final_dot and m.end() == len(m.string) else ""
    return " ".join(words) + end


def expand_numbers(text: str) -> str:
    """Currency, decimals, ordinals and integers to words, in upstream's order."""
    text = _THOUSANDS_RE.sub(lambda m: m.group(0).replace(",", ""), text)
    text = _SCALED_CURRENCY_RE.sub(lambda m: f"{m.group(2)} {m.group(3)} {_CURRENCIES[m.group(1)][1]}", text)
    text = _CURRENCY_RE.sub(_currency_words, text)
    text = _DECIMAL_RE.sub(_decimal_words, text)
    text = _ORDINAL_RE.sub(_ordinal_words, text)
    return _INTEGER_RE.sub(_integer_words, text)


def _currency_words(m: re.Match[str]) -> str:
    one, many, one_cent, cents_name = _CURRENCIES[m.group(1)]
    whole, _, fraction = m.group(2).partition(".")
    whole = whole.lstrip("0")  # int() refuses strings over 4300 digits, even of zeros
    if len(fraction) > 2 or _too_long(whole):  # "$1.505" is not an amount of cents: read number, then unit
        return f"{whole or '0'}{'.' if fraction else ''}{fraction} {many}"
    units = int(whole) if whole else 0
    cents = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if units:
        parts.append(f"{whole} {one if units == 1 else many}")
    if cents:
        parts.append(f"{cents} {one_cent if cents == 1 else cents_name}")
    return " ".join(parts) if parts else f"zero {many}"


def _decimal_words(m: re.Match[str]) -> str:
    # Digits after the point are read one by one: "0.05" is "zero point zero five".
    return f"{m.group(1)} point {' '.join(m.group(2))}"


def _ordinal_words(m: re.Match[str]) -> str:
    digits = m.group(1)
    if _too_long(digits):
        return _inflect.ordinal(_spell_digits(digits))
    return _inflect.number_to_words((digits.lstrip("0") or "0") + m.group(2))


def _integer_words(m: re.Match[str]) -> str:
    sign, digits = m.group(1), m.group(2)
    if _too_long(digits):
        return ("minus " if sign else "") + _spell_digits(digits)
    value = int(digits.lstrip("0") or "0")  # no leading zeros: int() refuses strings over 4300 digits
    return _number_words(-value if sign else value)


@lru_cache(maxsize=4096)
def _number_words(num: int) -> str:
    if 1000 < num < 3000:  # read as a year
        if num == 2000:
            return "two thousand"
        if 2000 < num < 2010:
            return "two thousand " + _inflect.number_to_words(num % 100)
        if num % 100 == 0:
            return _inflect.number_to_words(num // 100) + " hundred"
        return _inflect.number_to_words(num, andword="", zero="oh", group=2).replace(", ", " ")
    return _inflect.number_to_words(num, andword="")
