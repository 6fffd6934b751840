"""The Japanese front end: upstream MeloTTS's `melo/text/japanese.py` (JP), reading right where it misreads.

Upstream's `text_normalize` NFKC-normalizes the chunk, spells digits in kanji (num2words), keeps only
kana and kanji (so punctuation and Latin letters are dropped) and turns everything into katakana with
pykakasi; `g2p` tokenizes that katakana with bert-base-japanese-v3's tokenizer (MeCab with unidic-lite,
then WordPiece), rebuilds words from the pieces (a `#` piece joins the previous word), reads each word with
`kata2phoneme` (the Julius-style kana table, `data/ja_kana_phones.txt`), spreads a word's phones over its
pieces (`distribute_phone`) and pads. Tones are all 0 (JP's tone 6), language id 1. BERT features are
computed on the katakana text. We do the same, and the model inputs are upstream's exactly wherever
upstream reads right (tests/text/test_frontend_jp.py, goldens from upstream's own code).

For word timings only (nothing the model sees): MeCab reads a run of katakana as one word, so the words
timed are pykakasi's (`pykakasi_segments`: its dictionary's words of the text it reads, a kanji word with
its kana ending or a run of kana), each phone counted to the word whose kana it was read from
(`kana_phones`), given as `TextInputs.word_phones`.

Deviations, where upstream misreads or crashes (each tested):
  * the long-vowel mark ー repeats the vowel before it (`コーヒー` k o o h i i; upstream's rule `ー/:` gives
    nothing, so it was `k o h i`), and after hiragana it is kept as ー (pykakasi turns `すごーい` into
    `スゴゴイ`);
  * numbers are read by `japanese_numbers` (4 ヨン, 99 キュウジュウキュウ, 400 ヨンヒャク, counters with their
    sound changes: 6分 ロップン, 8本 ハッポン, 6時 ロクジ, 10歳 ジュッサイ, 365日 ...ゴニチ), `%` is
    パーセント (upstream drops it); kanji numerals before 時 / 分 are o'clock and minutes (十時 ジュウジ);
  * iteration marks: ゝ ゞ ヽ ヾ repeat the kana before them (`いすゞ` イスズ; upstream fails an assertion),
    々 is read (upstream's filter drops it: `人々` was `ニン`);
  * pykakasi's misreadings of common words are corrected before it runs (`WORD_READINGS`: 今日は, 今年,
    行方, お腹, 開け(る), 難し(い), ご飯, 緑色, 小さい, 可愛い; 月 and 人 on their own are ツキ and ヒト, not
    ガツ and ニン; 入る / 入った are ハイル / ハイッタ, not イル / イッッタ, except in 気に入る; 一日 before a
    number is イチニチ, not ツイタチ);
  * Latin letters and the symbols `# % & + = @` and Greek letters are read by upstream's own (unused)
    `_ALPHASYMBOL_YOMI` table, letter by letter (`NHK` エヌエイチケー; upstream drops them);
  * a character with no reading (an emoji, a rare kanji pykakasi leaves as it is, a lone combining mark)
    gives no phone and is named in one SkippedTextWarning (upstream fails its symbol assertion);
  * an `[UNK]` word (a character the vocabulary lacks, a word of over 100 characters) is read from its text
    (upstream gives the whole word one pad phone: silence); only a word with nothing readable is a pad
    phone, named in the warning;
  * without a BERT folder the pieces are MeCab's whole words (`MecabWordTokenizer`), so phone, tone and
    language ids are upstream's but word2ph gives each word all its phones.
Upstream readings we keep although one might argue: the particles は and へ are read `h a` / `h e`
(pykakasi has no grammar; the model was trained on exactly these labels), and 十分 is ジュウブン.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from openvoice_tt.languages import JP
from openvoice_tt.text.frontend import TextInputs
from openvoice_tt.text.japanese_numbers import kanji_times, numbers_to_katakana
from openvoice_tt.text.language_front_end import LanguageFrontEnd
from openvoice_tt.text.latin import distribute_phone
from openvoice_tt.text.symbols import PAD, UNK
from openvoice_tt.timing import NULL_TIMER, StageTimer

KANA_TABLE = Path(__file__).with_name("data") / "ja_kana_phones.txt"

JAPANESE_PHONES = frozenset(
    [
        "N",
        "a",
        "a:",
        "b",
        "by",
        "ch",
        "d",
        "dy",
        "e",
        "e:",
        "f",
        "g",
        "gy",
        "h",
        "hy",
        "i",
        "i:",
        "j",
        "k",
        "ky",
        "m",
        "my",
        "n",
        "ny",
        "o",
        "o:",
        "p",
        "py",
        "q",
        "r",
        "ry",
        "s",
        "sh",
        "t",
        "ts",
        "ty",
        "u",
        "u:",
        "w",
        "y",
        "z",
        "zy",
    ]
)
"""The phones `kata2phoneme` gives (MeloTTS's `ja_symbols`)."""

PUNCTUATION = ("!", "?", "…", ",", ".", "'", "-")
"""Upstream's `punctuation`: a word that is one of these is its own phone."""

REQUIRED = JAPANESE_PHONES | frozenset(PUNCTUATION) | {PAD, UNK}

SILENT = frozenset(PUNCTUATION) | {PAD, UNK}

BERT_UNK = "[UNK]"

_EXTRA_KANA = {"ヵ": ["k", "a"], "ヷ": ["b", "a"], "ヸ": ["b", "i"], "ヹ": ["b", "e"], "ヺ": ["b", "o"]}
"""Kana upstream's table lacks (it fails its assertion on them), read as the table reads their neighbours
(ヶ is `k e` there; ヴァ is `b a`)."""

_VOWELS = {"a": "a", "i": "i", "u": "u", "e": "e", "o": "o", "a:": "a", "i:": "i", "u:": "u", "e:": "e", "o:": "o"}


@lru_cache(maxsize=1)
def kana_rules() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Upstream's kana -> phones rules (one- and two-character keys)."""
    one: dict[str, list[str]] = {}
    two: dict[str, list[str]] = {}
    for line in KANA_TABLE.read_text(encoding="utf-8").splitlines():
        if not line:
            continue
        kana, _, phones = line.partition("\t")
        (one if len(kana) == 1 else two)[kana] = phones.split()
    return one, two


def kata2phoneme(text: str, previous: str | None = None) -> tuple[list[str], list[str]]:
    """Upstream's `kata2phoneme` (two-character rules first, then one), with ー repeating the vowel before
    it (in this word or, as `previous`, the last phone of the words before); characters with no rule are
    returned apart (the second list) instead of becoming phones."""
    phones, unread, _ = kana_phones(text, previous)
    return phones, unread


def kana_phones(text: str, previous: str | None = None) -> tuple[list[str], list[str], list[int]]:
    """`kata2phoneme`, and for each phone the position in `text` of the kana it was read from (the first
    of a two-kana rule): what the word timings count a word's phones by."""
    one, two = kana_rules()
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    phones: list[str] = []
    unread: list[str] = []
    origins: list[int] = []
    i = 0
    while i < len(text):
        at = lead + i
        pair = two.get(text[i : i + 2]) if i + 1 < len(text) else None
        if pair is not None:
            phones += pair
            origins += [at] * len(pair)
            i += 2
            continue
        ch = text[i]
        i += 1
        if ch == "ー":
            last = phones[-1] if phones else previous
            if last in _VOWELS:
                phones.append(_VOWELS[last])
                origins.append(at)
            continue
        rule = one.get(ch) or _EXTRA_KANA.get(ch)
        if rule is not None:
            phones += rule
            origins += [at] * len(rule)
        else:
            unread.append(ch)
    return phones, unread, origins


_ALPHASYMBOL_YOMI = {
    "#": "シャープ",
    "%": "パーセント",
    "&": "アンド",
    "+": "プラス",
    "=": "イコール",
    "@": "アット",
    "a": "エー",
    "b": "ビー",
    "c": "シー",
    "d": "ディー",
    "e": "イー",
    "f": "エフ",
    "g": "ジー",
    "h": "エイチ",
    "i": "アイ",
    "j": "ジェー",
    "k": "ケー",
    "l": "エル",
    "m": "エム",
    "n": "エヌ",
    "o": "オー",
    "p": "ピー",
    "q": "キュー",
    "r": "アール",
    "s": "エス",
    "t": "ティー",
    "u": "ユー",
    "v": "ブイ",
    "w": "ダブリュー",
    "x": "エックス",
    "y": "ワイ",
    "z": "ゼット",
    "α": "アルファ",
    "β": "ベータ",
    "γ": "ガンマ",
    "δ": "デルタ",
    "ε": "イプシロン",
    "ζ": "ゼータ",
    "η": "イータ",
    "θ": "シータ",
    "ι": "イオタ",
    "κ": "カッパ",
    "λ": "ラムダ",
    "μ": "ミュー",
    "ν": "ニュー",
    "ξ": "クサイ",
    "ο": "オミクロン",
    "π": "パイ",
    "ρ": "ロー",
    "σ": "シグマ",
    "τ": "タウ",
    "υ": "ウプシロン",
    "φ": "ファイ",
    "χ": "カイ",
    "ψ": "プサイ",
    "ω": "オメガ",
}
"""Upstream's `_ALPHASYMBOL_YOMI` (defined there, never called by its front end), less `-` `:` `;` `<` `>`
(hyphens, times and brackets are not minus, colon, "less than"): letters and symbols in katakana."""

_YOMI = _ALPHASYMBOL_YOMI | {k.upper(): v for k, v in _ALPHASYMBOL_YOMI.items() if k.upper() != k}
_ALPHASYMBOL_RX = re.compile("[" + re.escape("".join(_YOMI)) + "]")

WORD_READINGS = (
    ("今日は", "キョウハ"),  # pykakasi: コンニチハ (the greeting, which is written こんにちは)
    ("今年", "コトシ"),  # コンネン
    ("行方", "ユクエ"),  # ナメガタ (a place name)
    ("お腹", "オナカ"),  # オハラ
    ("開け", "アケ"),  # 開ける 開けて: ヒラケ
    ("難し", "ムズカシ"),  # 難しすぎる: ムツカシ
    ("ご飯", "ゴハン"),  # ゴメシ
    ("緑色", "ミドリイロ"),  # リョクショク
    ("小さい", "チイサイ"),  # チサイ
    ("可愛", "カワイ"),  # 可愛い犬: カワイイヌ (one イ lost)
)
"""pykakasi's misreadings of common words (found running it over the goldens' sentences and checked by
hand), replaced by katakana before pykakasi runs."""

_WORD_RX = re.compile("|".join(re.escape(word) for word, _ in WORD_READINGS))
_WORDS = dict(WORD_READINGS)
_LONE_MOON = re.compile(r"(?<![一-龯々〇0-9ヶヵかカ])月(?![一-龯々])")
_LONE_PERSON = re.compile(r"(?<![一-龯々〇0-9])人(?![一-龯々])")
_ENTER = re.compile(r"(?<!気に)入(?=る|っ|ら|りま)")
_ONE_DAY = re.compile(r"一日(?=[0-9一二三四五六七八九十何])")
_HIRAGANA_LONG = re.compile("([ぁ-ゖ])(?=ー)")

_JAPANESE = "\u3040-\u309f\u30a0-\u30ff\u4e00-\u9fff\u3400-\u4dbf"
_NOT_JAPANESE = re.compile(f"[^{_JAPANESE}々]+")
"""The ranges upstream keeps (`is_japanese_character`, then `replace_punctuation`'s filter, which also drops
the CJK extension B kanji the first one keeps), and 々 (which upstream drops)."""


def _iterate(text: str) -> str:
    """ゝ / ヽ repeat the kana before them; ゞ / ヾ (or ゝ / ヽ with a combining voicing mark U+3099) the
    voiced kana (`いすゞ` いすず). With no kana before them they are dropped."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        i += 1
        if ch not in "ゝゞヽヾ":
            out.append(ch)
            continue
        voiced = ch in "ゞヾ"
        if i < len(text) and text[i] == "\u3099":
            voiced = True
            i += 1
        before = out[-1] if out else ""
        if "\u3041" <= before <= "\u30fa":
            repeated = unicodedata.normalize("NFC", before + "\u3099") if voiced else before
            out.append(repeated if len(repeated) == 1 else before)
    return "".join(out)


def _spoken_chars(removed: str) -> list[str]:
    """What the Japanese-characters filter removed that is more than punctuation and spaces (emoji,
    letters of other scripts, combining marks): it is left out, and the warning says so."""
    kept = [c for c in removed if not unicodedata.category(c).startswith(("P", "Z", "C"))]
    return ["".join(kept)] if kept else []


_KAKASI: Any = None
_SEGMENTER: Any = None
_KAKASI_LOCK = threading.Lock()


def pykakasi_katakana(text: str) -> str:
    """pykakasi with upstream's settings (kanji and hiragana to katakana, `getConverter().do`)."""
    global _KAKASI
    with _KAKASI_LOCK:
        if _KAKASI is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pykakasi 2.x calls the v1 API (setMode) deprecated
                from pykakasi import kakasi

                converter = kakasi()
                converter.setMode("J", "K")
                converter.setMode("H", "K")
                _KAKASI = converter.getConverter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _KAKASI.do(text)


def pykakasi_segments(text: str) -> list[tuple[str, str]]:
    """pykakasi's words of `text` (its dictionary's: a kanji word with its kana ending, a run of kana), each
    as (its text, its katakana): new API `convert`, whose readings `pykakasi_katakana` gives joined."""
    global _SEGMENTER
    with _KAKASI_LOCK:
        if _SEGMENTER is None:
            from pykakasi import kakasi

            _SEGMENTER = kakasi()
        return [(part["orig"], part["kana"]) for part in _SEGMENTER.convert(text)]


def normalize_japanese(text: str) -> str:
    """The text BERT and the phonemizer see (katakana): upstream's `text_normalize` with the deviations
    listed in the module docstring."""
    return _normalize(text)[0]


def _normalize(text: str) -> tuple[str, list[str]]:
    """`normalize_japanese`'s text, and what its filter removed that could have been speech."""
    katakana, removed, _ = _read(text)
    return katakana, removed


def _read(text: str) -> tuple[str, list[str], tuple[tuple[str, str], ...]]:
    """`_normalize`'s katakana and what was removed, and the katakana cut into pykakasi's words, each with
    the text it was read from ((): pykakasi's words do not join into the katakana; then the word timings
    take MeCab's words of the katakana)."""
    text = unicodedata.normalize("NFKC", text)
    text = _WORD_RX.sub(lambda m: _WORDS[m.group()], text)
    text = _ONE_DAY.sub("イチニチ", text)
    text = numbers_to_katakana(text)
    text = kanji_times(text)
    text = _LONE_MOON.sub("ツキ", text)
    text = _LONE_PERSON.sub("ヒト", text)
    text = _ENTER.sub("ハイ", text)
    text = _ALPHASYMBOL_RX.sub(lambda m: _YOMI[m.group()], text)
    text = _iterate(text)
    removed = _spoken_chars("".join(_NOT_JAPANESE.findall(text)))
    text = _NOT_JAPANESE.sub("", text)
    text = _HIRAGANA_LONG.sub(lambda m: chr(ord(m.group(1)) + 0x60), text)
    if not text:
        return "", removed, ()
    katakana = pykakasi_katakana(text)
    if "々" in katakana:  # pykakasi does not know the word: repeat the kanji before it
        text = re.sub("(.)々", r"\1\1", text)
        katakana = pykakasi_katakana(text).replace("々", "")
    segments = tuple((orig, kana.replace("々", "")) for orig, kana in pykakasi_segments(text))
    return katakana, removed, segments if "".join(kana for _, kana in segments) == katakana else ()


class JapaneseFrontEnd(LanguageFrontEnd):
    """Japanese text -> MeloTTS-Japanese's inputs; see the module docstring and `TextInputs`."""

    language = JP
    required = REQUIRED
    silent = SILENT
    phoneme_source = "pykakasi"  # MeCab's and pykakasi's readings through upstream's kana table
    bert_name = "tohoku-nlp/bert-base-japanese-v3"

    def word_tokenizer(self) -> Any:
        """Without a BERT folder: MeCab's words, one piece each."""
        from openvoice_tt.bert.mecab import MecabWordTokenizer

        return MecabWordTokenizer()

    def normalize(self, text: str) -> str:
        return normalize_japanese(text)

    def g2p(self, text: str) -> tuple[list[str], list[int], list[str], list[int], list[tuple[str, int]]]:
        """Phones, word2ph (per BERT piece, no pads), what was left unspoken, for normalized `text`; and for
        the word timings each phone's position in `text` (`kana_phones`) and MeCab's words (each group of
        pieces' text and its phones)."""
        groups: list[tuple[str, int, str, int]] = []  # (word, pieces, covered text, its start in `text`)
        cursor = 0
        for token, covered in self.tokenizer.pieces(text):
            found = text.find(covered, cursor) if covered else -1
            start = found if found >= 0 else cursor
            cursor = max(cursor, start + len(covered))
            if token.startswith("#") and groups:
                word, count, span, first = groups[-1]
                groups[-1] = (word + token.replace("#", ""), count + 1, span + covered, first)
            else:
                groups.append((token if token == BERT_UNK else token.replace("#", ""), 1, covered, start))
        phones: list[str] = []
        word2ph: list[int] = []
        skipped: list[str] = []
        origins: list[int] = []
        mecab_words: list[tuple[str, int]] = []
        for word, count, covered, start in groups:
            before = len(phones)
            if word == BERT_UNK:  # upstream: a pad phone for the whole word; we read its text when we can
                found, unread, at = kana_phones(covered, phones[-1] if phones else None)
                if not found:
                    found, unread, at = [PAD], [covered], [0]
                skipped += ["".join(unread)] if unread else []
                phones += found
                word2ph += distribute_phone(len(found), count)
            elif word in PUNCTUATION:
                found, at = [word], [0]
                phones.append(word)
                word2ph.append(1)
            else:
                found, unread, at = kana_phones(word, phones[-1] if phones else None)
                if unread:
                    skipped.append("".join(unread))
                phones += found
                word2ph += distribute_phone(len(found), count)
                if len(word) != len(covered):  # (the tokenizer changed the text: the phones to its start)
                    at = [0] * len(found)
            origins += [start + a for a in at]
            mecab_words.append((covered, len(phones) - before))
        return phones, word2ph, skipped, origins, mecab_words

    def __call__(self, text: str, timer: StageTimer = NULL_TIMER, defer_bert: bool = False) -> TextInputs:
        """Model inputs for one chunk; raises TextError if it has nothing to speak. What it cannot speak is
        left out with one SkippedTextWarning. The BERT call is timed as stage "bert" on `timer`."""
        normalized, removed, segments = _read(text)
        phones, word2ph, skipped, origins, mecab_words = self.g2p(normalized) if normalized else ([], [], [], [], [])
        skipped = removed + skipped
        words = segment_phones(segments, origins) if segments else tuple(mecab_words)
        return self.finish(text, normalized, phones, None, word2ph, skipped, timer, defer_bert, word_phones=words)


def segment_phones(segments: Sequence[tuple[str, str]], origins: Sequence[int]) -> tuple[tuple[str, int], ...]:
    """pykakasi's words (their text, their katakana: consecutive parts of the chunk's katakana) with the
    number of phones read from each: a phone belongs to the word its kana (`origins`, positions in the
    katakana, in order) is in."""
    out: list[tuple[str, int]] = []
    end, phone = 0, 0
    for written, kana in segments:
        end += len(kana)
        first = phone
        while phone < len(origins) and origins[phone] < end:
            phone += 1
        out.append((written, phone - first))
    return tuple(out)
