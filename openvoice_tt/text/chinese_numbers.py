"""Numbers in Chinese text that upstream MeloTTS misreads, read as a person would (run before upstream's own
number pass, which reads every remaining digit run as a quantity with cn2an).

Each rule is a deviation from upstream, listed in openvoice_tt/text/chinese.py and the README:
years (`2024年` digit by digit), dates (`2024-01-15`, `2024/1/15`), phone numbers (digit by digit, 1 as
幺), clock times (`8:30` 八点三十分), percentages (`50%` 百分之五十), thousands separators (`1,000,000`),
decimals (`3.14` 三点一四, which upstream's splitter breaks into `三. 十四`), currency signs (`$`, `¥`,
`￥`, `€`, `£` read after the number), degrees (`25°C` 二十五摄氏度), digit strings with leading zeros (`007`
零零七) and numbers of more than 16 digits (digit by digit; cn2an raises on them), a minus sign before a
number (负). Digits of other scripts (full-width, Arabic-Indic, ...) are read as the digits they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

DIGITS = "零一二三四五六七八九"
PHONE_DIGITS = "零幺二三四五六七八九"
"""Phone numbers say 1 as 幺 (yāo), as people read them out."""

MAX_CN2AN_DIGITS = 16


def digit_by_digit(digits: str, phone: bool = False) -> str:
    table = PHONE_DIGITS if phone else DIGITS
    return "".join(table[int(d)] for d in digits if d.isdigit())


def quantity(number: str) -> str:
    """An integer or decimal as a quantity (cn2an, upstream's reader); a longer one than cn2an takes is read
    digit by digit (its decimal point as 点)."""
    import cn2an

    whole, _, fraction = number.partition(".")
    if len(whole) > MAX_CN2AN_DIGITS:
        out = digit_by_digit(whole)
        return out + ("点" + digit_by_digit(fraction) if fraction else "")
    if len(whole) > 1 and whole.startswith("0") and not fraction:
        return digit_by_digit(whole)
    return str(cn2an.an2cn(number))


def _ascii_digits(text: str) -> str:
    """Every Unicode decimal digit (full-width ０-９, Arabic-Indic, Devanagari, ...) as its ASCII digit."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)


def _year(match: re.Match[str]) -> str:
    return digit_by_digit(match.group(1))


def _date(match: re.Match[str]) -> str:
    year, month, day = match.group(1), match.group(2), match.group(3)
    return f"{digit_by_digit(year)}年{quantity(str(int(month)))}月{quantity(str(int(day)))}日"


def _phone(match: re.Match[str]) -> str:
    return digit_by_digit(match.group(), phone=True)


def _time(match: re.Match[str]) -> str:
    hour, minute, second = match.group(1), match.group(2), match.group(3)
    out = quantity(str(int(hour))) + "点"
    if minute != "00" or second:
        out += ("零" if minute.startswith("0") else "") + quantity(str(int(minute))) + "分"
    if second:
        out += ("零" if second.startswith("0") else "") + quantity(str(int(second))) + "秒"
    return out


def _percent(match: re.Match[str]) -> str:
    return ("千分之" if match.group(2) == "‰" else "百分之") + quantity(match.group(1).replace(",", ""))


def _thousands(match: re.Match[str]) -> str:
    return quantity(match.group().replace(",", ""))


def _decimal(match: re.Match[str]) -> str:
    return quantity(match.group())


_CURRENCY = {"$": "美元", "＄": "美元", "¥": "元", "￥": "元", "€": "欧元", "£": "英镑"}


def _currency(match: re.Match[str]) -> str:
    return quantity(match.group(2).replace(",", "")) + _CURRENCY[match.group(1)]


def _degrees(match: re.Match[str]) -> str:
    unit = {"C": "摄氏度", "c": "摄氏度", "F": "华氏度", "f": "华氏度"}.get(match.group(2) or "", "度")
    return quantity(match.group(1)) + unit


def _fraction(match: re.Match[str]) -> str:
    return quantity(match.group(2)) + "分之" + quantity(match.group(1))


def _leading_zeros(match: re.Match[str]) -> str:
    return digit_by_digit(match.group())


def _long(match: re.Match[str]) -> str:
    return digit_by_digit(match.group())


_NUMBER = r"\d+(?:\.\d+)?"
_GROUPED = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"

RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])"), _date),
    (re.compile(r"(?<![\d.])(?:1[3-9]\d{9}|0\d{2,3}-\d{7,8}|[48]00-?\d{3}-?\d{4})(?![\d])"), _phone),
    (re.compile(r"(?<![\d.:])([01]?\d|2[0-3])[:：]([0-5]\d)(?:[:：]([0-5]\d))?(?![\d])"), _time),
    (re.compile(r"(?<![\d.])(1\d{3}|20\d{2})(?=年)"), _year),
    (re.compile(rf"({_GROUPED}|{_NUMBER})\s*([%％‰])"), _percent),
    (re.compile(rf"([$＄¥￥€£])\s*({_GROUPED}|{_NUMBER})"), _currency),
    (re.compile(rf"({_NUMBER})\s*°\s*([CFcf])?"), _degrees),
    (re.compile(r"(?<![\d./])([1-9]\d{0,5})/([1-9]\d{0,5})(?![\d/])"), _fraction),
    (re.compile(rf"(?<![\d.,]){_GROUPED}(?![\d])"), _thousands),
    (re.compile(r"(?<![\d.])\d{17,}(?![\d])"), _long),
    (re.compile(r"(?<![\d.])\d+\.\d+(?![\d])"), _decimal),
    (re.compile(r"(?<![\d.])0\d+(?![\d.])"), _leading_zeros),
    (re.compile(r"(?<![0-9A-Za-z.\-])-(?=\d)"), lambda _: "负"),
)


def read_numbers(text: str) -> str:
    """`text` with the numbers upstream misreads written out in Chinese characters; other digit runs stay
    (upstream's own pass reads them)."""
    text = _ascii_digits(text)
    if not any(c.isdigit() for c in text):
        return text
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return text
