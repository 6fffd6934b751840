"""The Korean front end: upstream MeloTTS's `melo/text/korean.py` (spec §4 for KR).

Upstream runs, per chunk: the mark replacements of its CJK sentence splitter (`split_sentences_zh`:
`。！？；` to `.`, `，` to `,`, whitespace runs to one space; its spaces after `,.!?;` are not inserted here:
BERT splits there anyway); `normalize` (hanja removed, `ko_dictionary`'s `etc_dictionary` and, for upper-case
words, `english_dictionary`: `KOREA` -> `코리아`, `A` -> `에이`; then lower-case); the kykim/bert-kor-base
WordPiece tokenizer (lower-cases, keeps accents, so Hangul syllables stay whole); words rebuilt from its
pieces (a piece starting with `#` joins the previous word); per word: `[UNK]` -> the phone `_`, one of
`!?…,.'-` -> itself, anything else -> g2pkk (`korean_g2p`, run offline) then `jamo.hangul_to_jamo`, each
jamo one phone, tone 0; a word's phones spread over its pieces (`distribute_phone`); pads for [CLS]/[SEP];
tone start 11, language id 4 (`sequence.assemble`).

Deviations from upstream, where it misreads or crashes (each tested in tests/text/test_frontend_kr.py;
`korean_g2p` lists the number and English ones):
  * `ㅋㅋㅋ`, `ㅎㅎ`, `ㅠㅠ`: a lone compatibility jamo is read as a syllable, a consonant with `ㅡ` (`ㅋ` ->
    `크`), a vowel with `ㅇ` (`ㅠ` -> `유`) (upstream: the phone `ㅋ`, which the symbol list lacks: KeyError);
  * currencies `$ € £ ¥ ₩ ￦` are read after their number (`$100` -> `100달러`, a particle right after the
    number fitted to the currency word: `$100을` -> `100달러를`; upstream: `$` is a phone the symbol list
    lacks, KeyError);
  * thousands separators are dropped (`1,000원` is `천원`; upstream: BERT splits at the comma, `일, 영영영원`)
    and decimals are read with `점` (`3.14` is `삼점일사`; upstream: `삼. 일사`);
  * clock times are read as hours and minutes: `10:30` is `10시 30분`, read by g2pkk as `열시 삼십분`
    (upstream: BERT splits at the colon, `일영 : 삼영`, digit by digit with the phone `:`);
  * units after a number are read as words (`5kg` -> `5킬로그램`, also g, km, m, cm, mm, ml, l, KB-TB;
    upstream: Latin letters left as phones of other languages);
  * `;` is a pause `,`; `+`, `&` and `@` are read `플러스`, `앤`, `앳` (upstream: KeyError on each; `1+1`
    and `2+1` keep upstream's `원플러스원`, `투플러스원`);
  * full-width ASCII (`１２３`, `ＡＢＣ`, `（`) is read as ASCII, and other scripts' decimal digits (`٣`, `३`)
    as ASCII digits (upstream: not a phone it knows, KeyError);
  * a phone that is not Korean (the symbols upstream's Korean set and its punctuation hold) is dropped and
    its word named in one SkippedTextWarning (upstream: a phone of another language, e.g. `"`, or KeyError);
  * a `[UNK]` word with Hangul, digits or Latin letters in it (a syllable the BERT vocabulary lacks, a word
    over 100 characters) is read (upstream: the phone `_`, the word dropped); other `[UNK]` words (emoji)
    keep upstream's `_` and are named in the warning;
  * a `#` piece first in the chunk is its own word (upstream: IndexError).
Without a BERT folder the pieces are whole words (`WordTokenizer` with kykim's settings), so phones, tones
and language ids are upstream's and word2ph gives each word all its phones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from openvoice_tt.bert.tokenizer import Casing
from openvoice_tt.languages import KR
from openvoice_tt.text.frontend import TextInputs
from openvoice_tt.text.language_front_end import LanguageFrontEnd
from openvoice_tt.text.latin import distribute_phone, group_pieces, is_silent_word
from openvoice_tt.text.symbols import PAD, UNK
from openvoice_tt.timing import NULL_TIMER, StageTimer

CASING = Casing(lowercase=True, strip_accents=False)
"""kykim/bert-kor-base's hub tokenizer_config.json: `do_lower_case: true`, `strip_accents: false` (an
accent-stripping tokenizer would NFD-split every Hangul syllable into jamo)."""

KOREAN_SYMBOLS = frozenset(
    "\u110c\u1165\u11ab\u1166\u110b\u1175\u1105\u1174\u1100\u1161\u110e\u116a\u1111\u1169\u1110\u1103\u1162"
    "\u116e\u11bc\u1173\u1112\u1106\u11af\u11b7\u1102\u1107\u1109\u11ae\u1101\u116c\u1163\u1104\u11a8\u110d"
    "\u1167\u110f\u11b8\u116d(\u110a)\u1172\u1168\u1108\u1171\u116f\u116b\u1170\u1164~\\[]/^:\u3138*"
)
"""Upstream's `kr_symbols` (symbols.py): the phones the Korean model was trained with."""

PUNCTUATION = ("!", "?", "…", ",", ".", "'", "-")
"""Upstream's `punctuation` list: a word that is one of these is that phone."""

REQUIRED = KOREAN_SYMBOLS | frozenset(PUNCTUATION) | {PAD, UNK}

SPEAKABLE = KOREAN_SYMBOLS | frozenset(PUNCTUATION) | {PAD}

SILENT = frozenset(PUNCTUATION) | frozenset("()~\\[]/^:*") | {PAD, UNK}
"""Phones that are not speech: a chunk with nothing else has nothing to speak."""

BERT_UNK = "[UNK]"

_HANJA = re.compile("[⺀-⺙⺛-⻳⼀-⿕々〇〡-〩〸-〺〻㐀-䶵一-鿃豈-鶴侮-頻並-龎]")
"""Upstream `normalize`'s hanja (and CJK radicals, marks) removal, its exact class."""

ETC_DICTIONARY = {"1+1": "원플러스원", "2+1": "투플러스원"}
"""ko_dictionary.py's `etc_dictionary`."""

ENGLISH_DICTIONARY = {
    "KOREA": "코리아", "IDOL": "아이돌", "IT": "아이티", "IQ": "아이큐", "UP": "업", "DOWN": "다운",
    "PC": "피씨", "CCTV": "씨씨티비", "SNS": "에스엔에스", "AI": "에이아이", "CEO": "씨이오",
    "A": "에이", "B": "비", "C": "씨", "D": "디", "E": "이", "F": "에프", "G": "지", "H": "에이치",
    "I": "아이", "J": "제이", "K": "케이", "L": "엘", "M": "엠", "N": "엔", "O": "오", "P": "피",
    "Q": "큐", "R": "알", "S": "에스", "T": "티", "U": "유", "V": "브이", "W": "더블유", "X": "엑스",
    "Y": "와이", "Z": "제트",
}  # fmt: skip
"""ko_dictionary.py's `english_dictionary`: upper-case words (matched whole, case-sensitive) to Hangul."""

_ETC_PATTERN = re.compile("|".join(re.escape(k) for k in ETC_DICTIONARY))
_ENGLISH_RUN = re.compile("[A-Za-z]+")

_SPLITTER_MARKS = ((re.compile("[。！？；]"), "."), (re.compile("[，]"), ","), (re.compile("[\n\t ]+"), " "))

_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_CURRENCY = {"$": "달러", "€": "유로", "£": "파운드", "¥": "엔", "₩": "원", "￦": "원"}
_AMOUNT = r"[0-9][0-9,]*(?:\.[0-9]+)?"
_UNITS = {
    "kg": "킬로그램", "km": "킬로미터", "cm": "센티미터", "mm": "밀리미터", "ml": "밀리리터", "g": "그램",
    "m": "미터", "l": "리터", "L": "리터", "KB": "킬로바이트", "MB": "메가바이트", "GB": "기가바이트",
    "TB": "테라바이트",
}  # fmt: skip

_OTHER_DIGITS = re.compile(r"[^\x00-\x7f]")


def _ascii_digit(m: re.Match[str]) -> str:
    """A decimal digit of another script (`٣`, `३`) as its ASCII digit; any other character as it is."""
    c = m.group()
    return str(unicodedata.digit(c)) if unicodedata.category(c) == "Nd" else c


def _sino(number: str) -> str:
    from openvoice_tt.text.korean_g2p import DIGIT_NAMES, MAX_NUMBER_DIGITS, g2p

    if len(number) > MAX_NUMBER_DIGITS:
        return "".join(DIGIT_NAMES[d] for d in number)
    return g2p().numerals.process_num(number, sino=True)


def _decimal(m: re.Match[str]) -> str:
    from openvoice_tt.text.korean_g2p import DIGIT_NAMES

    whole, fraction = m.group(1), m.group(2)
    return _sino(whole) + "점" + "".join(DIGIT_NAMES[d] for d in fraction)


_PARTICLE_PAIRS = {"을": "를", "를": "를", "은": "는", "는": "는", "이": "가", "가": "가"}
"""A particle after a vowel (`달러를`); after a consonant (`원을`) the first of each pair is the one."""


def _amount(m: re.Match[str]) -> str:
    """`$100` -> `100달러`, the particle the writer put after the number (`$100을`) fitted to the currency word
    (`100달러를`: 달러 ends in a vowel, 원 and 엔 in a consonant)."""
    word = _CURRENCY[m.group()[0]]
    particle = m.group(2) or ""
    if particle:
        vowel_final = (ord(word[-1]) - 0xAC00) % 28 == 0
        after_vowel = _PARTICLE_PAIRS[particle]
        after_consonant = next(k for k, v in _PARTICLE_PAIRS.items() if v == after_vowel)
        particle = after_vowel if vowel_final else after_consonant
    return m.group(1) + word + particle


def _clock(m: re.Match[str]) -> str:
    """`10:30` -> `10시 30분` (`:05` -> `5분`, `:00` dropped, seconds likewise); g2pkk then reads the hour
    with native numbers and the minutes with Sino-Korean ones, as it reads `10시 30분`."""
    hours, minutes, seconds = m.group(1), int(m.group(2)), int(m.group(3) or 0)
    return f"{int(hours)}시" + (f" {minutes}분" if minutes else "") + (f" {seconds}초" if seconds else "")


def _jamo_syllable(m: re.Match[str]) -> str:
    """A lone compatibility jamo as a syllable: consonant + ㅡ, ㅇ + vowel."""
    from jamo import j2h

    c = m.group()
    code = ord(c)
    if 0x3131 <= code <= 0x314E:  # consonants ㄱ..ㅎ
        lead = _COMPAT_LEADS.get(c)
        return j2h(lead, "ᅳ") if lead else ""
    if 0x314F <= code <= 0x3163:  # vowels ㅏ..ㅣ
        return j2h("ᄋ", chr(0x1161 + code - 0x314F))
    return ""


_COMPAT_LEADS = dict(
    zip("ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ", "ᄀᄁᄂᄃᄄᄅᄆᄇᄈᄉᄊᄋᄌᄍᄎᄏᄐᄑᄒ", strict=True)
)
"""Compatibility jamo consonants that can begin a syllable; the others (`ㄳ`, `ㄺ`, ...) are dropped."""

PRE_RULES: list[tuple[re.Pattern[str], object]] = [
    (re.compile(rf"[$€£¥₩￦]\s?({_AMOUNT})(?:(을|를|은|는|이|가)(?![가-힣]))?"), lambda m: _amount(m)),
    (re.compile(rf"({_AMOUNT})\s?([$€£¥₩￦])"), lambda m: m.group(1) + _CURRENCY[m.group(2)]),
    (re.compile("[$€£¥₩￦]"), lambda m: _CURRENCY[m.group()]),
    (re.compile(r"(?<![0-9,])([0-9]{1,3}(?:,[0-9]{3})+)(?![0-9,])"), lambda m: m.group(1).replace(",", "")),
    (re.compile(r"(?<![0-9.,])([0-9]+)\.([0-9]+)(?![.0-9])"), _decimal),
    (re.compile(r"(?<![0-9:])([01]?[0-9]|2[0-4]):([0-5][0-9])(?::([0-5][0-9]))?(?![0-9:])"), _clock),
    (
        re.compile(r"(?<=[0-9])\s?(kg|km|cm|mm|ml|KB|MB|GB|TB|g|m|l|L)(?![A-Za-z])"),
        lambda m: _UNITS[m.group(1)],
    ),
    (re.compile("[\u3131-\u3163]"), _jamo_syllable),
    (re.compile(";"), ","),
    (re.compile(r"\s+\+\s*|\+\s+|(?<![12])\+|\+(?!1)"), " 플러스 "),  # not the `+` of `1+1`, `2+1`
    (re.compile(r"\s?&\s?"), " 앤 "),
    (re.compile(r"@"), " 앳 "),
]
"""The deviations, applied before upstream's normalize (see the module docstring)."""


def splitter_marks(text: str) -> str:
    """Upstream's CJK sentence splitter's mark replacements (`split_sentences_zh`), without the spaces it
    adds after `,.!?;` (BERT splits there anyway)."""
    for pattern, replacement in _SPLITTER_MARKS:
        text = pattern.sub(replacement, text)
    return text


def upstream_normalize(text: str) -> str:
    """Upstream `korean.normalize`: strip, hanja out, etc_dictionary, english_dictionary, lower-case."""
    text = _HANJA.sub("", text.strip())
    text = _ETC_PATTERN.sub(lambda m: ETC_DICTIONARY[m.group()], text)
    text = _ENGLISH_RUN.sub(lambda m: ENGLISH_DICTIONARY.get(m.group(), m.group()), text)
    return text.lower()


def normalize_korean(text: str) -> str:
    """The text BERT and g2pkk see: splitter marks, full-width ASCII as ASCII, the deviations' rewrites,
    then upstream's normalize."""
    text = _OTHER_DIGITS.sub(_ascii_digit, splitter_marks(text).translate(_FULL_WIDTH))
    for pattern, replacement in PRE_RULES:
        text = pattern.sub(replacement, text)  # type: ignore[arg-type]
    return upstream_normalize(text)


_READABLE = re.compile("[가-힣0-9a-z]")


def _codes(words: Sequence[str]) -> list[bool]:
    """Which words are digit groups joined by `-` to another digit group (phone numbers `010-1234-5678`,
    dates `2024-03-15`): read digit by digit, as upstream."""
    out = [False] * len(words)
    for i, word in enumerate(words):
        if not word[:1].isdigit():
            continue
        before = i >= 2 and words[i - 1] == "-" and words[i - 2][-1:].isdigit()
        after = i + 2 < len(words) and words[i + 1] == "-" and words[i + 2][:1].isdigit()
        out[i] = before or after
    return out


def word_phones(word: str, code: bool = False) -> list[str]:
    """Upstream's phones of one rebuilt word: a punctuation word is itself, anything else is g2pkk's
    Hangul decomposed into jamo (`hangul_to_jamo`), every character one phone."""
    if word in PUNCTUATION:
        return [word]
    from jamo import hangul_to_jamo

    from openvoice_tt.text.korean_g2p import g2p

    return list(hangul_to_jamo(g2p()(word, code)))


class KoreanFrontEnd(LanguageFrontEnd):
    """Korean text -> MeloTTS-Korean's inputs; see `TextInputs` and the module docstring."""

    language = KR
    casing = CASING
    required = REQUIRED
    silent = SILENT
    bert_name = "kykim/bert-kor-base"
    phoneme_source = "g2pkk"

    def normalize(self, text: str) -> str:
        return normalize_korean(text)

    def g2p(self, text: str) -> tuple[list[str], list[int], list[str], tuple[tuple[str, int], ...]]:
        """Phones, word2ph (per BERT piece, no pads), the words left (partly) unspoken, and the words as
        `TextInputs.words` gives them (each rebuilt word, an eojeol or a mark, and its BERT pieces), for
        normalized `text`."""
        groups = group_pieces(self.tokenizer.pieces(text), text)  # type: ignore[attr-defined]
        codes = _codes([g.word for g in groups])
        phones: list[str] = []
        word2ph: list[int] = []
        skipped: list[str] = []
        for group, code in zip(groups, codes, strict=True):
            covered = text[group.start : group.end]
            if group.unknown:
                readable = covered if _READABLE.search(covered.lower()) else ""
                found = word_phones(readable.lower(), code) if readable else [PAD]
            else:
                found = word_phones(group.word, code)
            kept = [p for p in found if p in SPEAKABLE]
            if (len(kept) < len(found) or kept == [PAD]) and not is_silent_word(covered):
                skipped.append(covered)
            phones += kept
            word2ph += distribute_phone(len(kept), group.tokens)
        words = tuple((text[group.start : group.end], group.tokens) for group in groups)
        return phones, word2ph, skipped, words

    def __call__(self, text: str, timer: StageTimer = NULL_TIMER, defer_bert: bool = False) -> TextInputs:
        """Model inputs for one chunk; raises TextError if it has nothing to speak. Words it cannot speak
        are left out with one SkippedTextWarning. The BERT call is timed as stage "bert" on `timer`."""
        normalized = self.normalize(text)
        phones, word2ph, skipped, words = self.g2p(normalized)
        return self.finish(text, normalized, phones, None, word2ph, skipped, timer, defer_bert, words)
