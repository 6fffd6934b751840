"""Japanese numbers read in katakana, with the counters whose sound changes pykakasi gets wrong.

Upstream spells a number in kanji with num2words (`4` -> `四`) and lets pykakasi read the kanji, which reads
without context: `4` and the 4 of `24`, `400`, `40,000` as `シ` (`シマ` for 四万), `99` as `ツクモ`,
`6分` `ロクフン`, `8本` `ハチホン`, `10歳` `ジュウサイ`, `6時` `ロクトキ`, `365日` `...イツカ`,
`2千万` `ニセンバン`. Here a number is read directly (4 ヨン, 7 ナナ, 9 キュウ; 300 サンビャク, 600 ロッピャク,
800 ハッピャク, 3000 サンゼン, 8000 ハッセン; 万 億 兆 京 by groups of four digits; more than 20 digits digit
by digit), and a counter right after it is read with it (`COUNTERS`), where Japanese changes the sound:
1 本 イッポン, 3 本 サンボン, 6 分 ロップン, 4 時 ヨジ, 4 人 ヨニン, 20 歳 ハタチ, 1つ ヒトツ, dates 1-10, 14,
20, 24 日 (ツイタチ after 月, else イチニチ). A counter not listed is left to pykakasi (度 枚 番 台 倍 秒 号 曲
名 間). `3ヶ所` `5ヵ国` are サンカショ ゴカコク (upstream: サンヶトコロ, ゴヵクニ). Clock times `12:30` are
hours and minutes (upstream drops the colon); a digit run with a leading zero (`090`) is read digit by
digit (upstream: キュウジュウ).
"""

from __future__ import annotations

import re

DIGITS = ("ゼロ", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュウ")
_HUNDREDS = {1: "ヒャク", 3: "サンビャク", 6: "ロッピャク", 8: "ハッピャク"}
_THOUSANDS = {1: "セン", 3: "サンゼン", 8: "ハッセン"}
_UNITS = ("", "マン", "オク", "チョウ", "ケイ")
_GEMINATE = {1: "イッ", 6: "ロッ", 8: "ハッ", 10: "ジュッ", 100: "ヒャッ"}
MAX_DIGITS = 20
"""Up to 京 (10^16) groups; a longer digit run is read digit by digit."""


def _below_10000(n: int) -> str:
    thousands, rest = divmod(n, 1000)
    hundreds, rest = divmod(rest, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if thousands:
        out += _THOUSANDS.get(thousands, DIGITS[thousands] + "セン")
    if hundreds:
        out += _HUNDREDS.get(hundreds, DIGITS[hundreds] + "ヒャク")
    if tens:
        out += ("" if tens == 1 else DIGITS[tens]) + "ジュウ"
    if ones:
        out += DIGITS[ones]
    return out


def read_digits(digits: str) -> str:
    """Each digit on its own (`0` is ゼロ)."""
    return "".join(DIGITS[int(d)] for d in digits)


def read_integer(digits: str) -> str:
    """A run of ASCII digits as a cardinal number in katakana (`2024` ニセンニジュウヨン, `0` レイ)."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        return read_digits(digits)
    n = int(digits)
    if n == 0:
        return "レイ"  # upstream's 零 (a digit run read digit by digit says ゼロ)
    groups = []
    unit = 0
    while n:
        n, group = divmod(n, 10000)
        if group:
            text = _below_10000(group)
            if unit and group == 1000:
                text = "イッセン"  # 1000万 イッセンマン
            elif unit == 3 and (group % 10 in (1, 8) or group % 100 == 10):  # 1兆 イッチョウ, 10兆 ジュッチョウ
                last = group % 10
                text = text[: -len(DIGITS[last] if last else "ジュウ")] + _GEMINATE[last or 10]
            groups.append(text + _UNITS[unit])
        unit += 1
    return "".join(reversed(groups))


def read_decimal(integer: str, fraction: str) -> str:
    """`3.14` サンテンイチヨン: the integer part (0 is レイ, as upstream's 零), テン, then each digit after
    the point."""
    return read_integer(integer) + "テン" + read_digits(fraction)


def _final(digits: str) -> tuple[str, int | None]:
    """The number's reading without its last element, and that element: a digit 1-9, 10 (a final ジュウ),
    100 (a final ヒャク), or None (it ends in セン or a unit: no counter changes its sound)."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        return read_digits(digits), None
    n = int(digits)
    if n % 10:
        return (read_integer(str(n - n % 10)) if n >= 10 else ""), n % 10
    if n % 100:
        tens = (n % 100) // 10
        return (read_integer(str(n - n % 100)) if n >= 100 else "") + ("" if tens == 1 else DIGITS[tens]), 10
    if n % 1000 == 100:
        return (read_integer(str(n - 100)) if n >= 1000 else ""), 100
    return read_integer(digits), None


def _plain(last: int | None) -> str:
    if last is None:
        return ""
    return {10: "ジュウ", 100: "ヒャク"}.get(last, DIGITS[last] if last < 10 else "")


def _h_row(base: str, p: str, b: str, p_after: frozenset[int]):
    """本 杯 匹 分: p-sound after a geminated 1 6 8 10 100 (and after `p_after`), b-sound after 3."""

    def read(prefix: str, last: int | None) -> str:
        if last in _GEMINATE:
            return prefix + _GEMINATE[last] + p
        if last in p_after:
            return prefix + _plain(last) + p
        if last == 3 and b:
            return prefix + "サン" + b
        return prefix + _plain(last) + base

    return read


def _geminating(reading: str, after_three: str = "", geminate: frozenset[int] = frozenset(_GEMINATE)):
    """回 個 件 軒 冊 週 点 ヶ月 歳: 1 6 8 10 100 geminate (イッカイ); 階 after 3 is ガイ."""

    def read(prefix: str, last: int | None) -> str:
        if last in geminate:
            return prefix + _GEMINATE[last] + reading  # type: ignore[index]
        if last == 3 and after_three:
            return prefix + "サン" + after_three
        return prefix + _plain(last) + reading

    return read


def _special(reading: str, four: str = "ヨン", seven: str = "ナナ", nine: str = "キュウ"):
    """時 月 人 年 円: the digit before them read 4 ヨ / 7 シチ / 9 ク as the counter wants."""

    def read(prefix: str, last: int | None) -> str:
        word = {4: four, 7: seven, 9: nine}.get(last) if last is not None else None  # type: ignore[arg-type]
        return prefix + (word if word is not None else _plain(last)) + reading

    return read


_THINGS = ("ヒトツ", "フタツ", "ミッツ", "ヨッツ", "イツツ", "ムッツ", "ナナツ", "ヤッツ", "ココノツ")
"""1つ-9つ (upstream: num2words' 一つ read by pykakasi ヒトツ; a digit read alone would be イチツ)."""

_DAYS = {
    1: "ツイタチ",
    2: "フツカ",
    3: "ミッカ",
    4: "ヨッカ",
    5: "イツカ",
    6: "ムイカ",
    7: "ナノカ",
    8: "ヨウカ",
    9: "ココノカ",
    10: "トオカ",
    14: "ジュウヨッカ",
    20: "ハツカ",
    24: "ニジュウヨッカ",
}

COUNTERS = {
    "本": _h_row("ホン", "ポン", "ボン", frozenset()),
    "杯": _h_row("ハイ", "パイ", "バイ", frozenset()),
    "匹": _h_row("ヒキ", "ピキ", "ビキ", frozenset()),
    "分": _h_row("フン", "プン", "プン", frozenset({4})),
    "回": _geminating("カイ"),
    "階": _geminating("カイ", "ガイ"),
    "個": _geminating("コ"),
    "件": _geminating("ケン"),
    "軒": _geminating("ケン", "ゲン"),
    "冊": _geminating("サツ"),
    "週": _geminating("シュウ"),
    "点": _geminating("テン"),
    "ヶ月": _geminating("カゲツ"),
    "か月": _geminating("カゲツ"),
    "カ月": _geminating("カゲツ"),
    "ヵ月": _geminating("カゲツ"),
    **{place: _geminating("カショ") for place in ("ヶ所", "ヵ所", "か所", "カ所", "箇所")},
    **{country: _geminating("カコク") for country in ("ヶ国", "ヵ国", "か国", "カ国")},
    "歳": _geminating("サイ", geminate=frozenset({1, 8, 10})),
    "才": _geminating("サイ", geminate=frozenset({1, 8, 10})),
    "時": _special("ジ", four="ヨ", seven="シチ", nine="ク"),
    "月": _special("ガツ", four="シ", seven="シチ", nine="ク"),
    "人": _special("ニン", four="ヨ", seven="シチ"),
    "年": _special("ネン", four="ヨ"),
    "円": _special("エン", four="ヨ"),
    "位": _special("イ"),
    "通": _geminating("ツウ"),
}
"""Counters read together with the number before them."""

_COUNTER_RX = "|".join(sorted(map(re.escape, [*COUNTERS, "日", "つ"]), key=len, reverse=True))


def read_counted(digits: str, counter: str, before: str = "") -> str:
    """`digits` followed by `counter` (a key of COUNTERS or 日), in katakana; `before` is the text just
    before the number (日 after 月 is a date: 1日 ツイタチ)."""
    if counter == "日":
        n = int(digits) if len(digits.lstrip("0")) <= MAX_DIGITS else -1
        if n == 1 and not before.endswith(("月", "ガツ")):
            return "イチニチ"
        if n in _DAYS:
            return _DAYS[n]
        return read_integer(digits) + "ニチ"
    if counter == "つ":
        value = digits.lstrip("0")
        return _THINGS[int(value) - 1] if len(value) == 1 and value != "0" else read_integer(digits) + "ツ"
    if counter in ("人",) and digits.lstrip("0") in ("1", "2"):
        return "ヒトリ" if digits.lstrip("0") == "1" else "フタリ"
    if counter in ("歳", "才") and digits.lstrip("0") == "20":
        return "ハタチ"
    prefix, last = _final(digits)
    return COUNTERS[counter](prefix, last)


_CURRENCY = {"$": "ドル", "¥": "円", "£": "ポンド", "€": "ユーロ"}
_SEPARATED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+")
_CURRENCY_RX = re.compile(r"([$¥£€])([0-9.]*[0-9])")
_NUMBER_RX = re.compile(rf"([0-9]+)(?:\.([0-9]+))?(%|{_COUNTER_RX})?")
_CLOCK = re.compile(r"(?<![0-9:])([0-9]{1,2}):([0-5][0-9])(?![0-9:])")


def numbers_to_katakana(text: str) -> str:
    """Every digit run of `text` (NFKC-normalized) read in katakana, with a counter, `%` or a currency sign
    that goes with it: upstream's `japanese_convert_numbers_to_words` steps (thousands commas removed, a
    currency sign before a number moved after it), then our reading in place of num2words + pykakasi."""
    text = _SEPARATED.sub(lambda m: m.group().replace(",", ""), text)
    text = _CLOCK.sub(_clock, text)
    text = _CURRENCY_RX.sub(lambda m: m.group(2) + _CURRENCY[m.group(1)], text)

    def read(m: re.Match[str]) -> str:
        integer, fraction, counter = m.group(1), m.group(2), m.group(3)
        if fraction is not None:
            reading = read_decimal(integer, fraction)
            return reading + ("パーセント" if counter == "%" else counter or "")
        if counter == "%":
            return read_integer(integer) + "パーセント"
        if counter:
            return read_counted(integer, counter, m.string[: m.start()])
        if len(integer) > 1 and integer.startswith("0"):  # 090, 007: a code or phone number, digit by digit
            return read_digits(integer)
        return read_integer(integer)

    return _NUMBER_RX.sub(read, text)


def _clock(m: re.Match[str]) -> str:
    """`12:30` ジュウニジサンジュップン, `7:00` シチジ (upstream drops the colon: ジュウニサンジュウ)."""
    hours, minutes = m.group(1), m.group(2)
    return read_counted(hours, "時") + ("" if minutes == "00" else read_counted(minutes, "分"))


_KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_TIME = re.compile(r"(?<![一二三四五六七八九十百千万何])([一二三四五六七八九十]{1,3})(時(?![代計])|分(?!の))")


def kanji_number(text: str) -> int | None:
    """A kanji numeral below 100 (`十二`, `二十四`) as an int; None when it is not one."""
    if "十" not in text:
        return _KANJI_DIGITS[text] if len(text) == 1 and text in _KANJI_DIGITS else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    value = (_KANJI_DIGITS.get(tens, 0) if tens else 1) * 10 + (_KANJI_DIGITS.get(ones, 0) if ones else 0)
    if (tens and tens not in _KANJI_DIGITS) or (ones and ones not in _KANJI_DIGITS):
        return None
    return value


def kanji_times(text: str) -> str:
    """A kanji numeral before 時 or 分 read as o'clock / minutes (pykakasi: 十時 トトキ, 五分 ゴブ), except
    十分 (also "enough", ジュウブン), 五分五分 ("even"), a fraction (三分の一) and 時代 / 時計."""

    def read(m: re.Match[str]) -> str:
        numeral, counter = m.group(1), m.group(2)
        if counter == "分" and (numeral == "十" or m.string.startswith("五分", m.end())):
            return m.group()
        value = kanji_number(numeral)
        if value is None:
            return m.group()
        return read_counted(str(value), counter)

    return _KANJI_TIME.sub(read, text)
