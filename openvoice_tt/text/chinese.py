"""The Chinese front end: upstream MeloTTS's ZH_MIX_EN (`melo/text/chinese_mix.py`, g2p impl v2), Chinese with
English words, which is what upstream runs when a Chinese model is loaded (spec §4 for the shared parts).

Upstream, step by step (all kept): the sentence splitter's marks (`split_sentences_zh`: `。！？；` to `.`, `，` to
`,`, whitespace runs to one space, a space after `,.!?;`) and `tts_to_file`'s camel-case split (`iPhone` ->
`i Phone`); `text_normalize`: every digit run read as a quantity by cn2an, `嗯`/`呣` to `恩`/`母`, the
punctuation map (full-width marks, quotes and brackets to `'`, `…`), everything but CJK ideographs U+4E00-9FA5,
ASCII letters, whitespace and `!?…,.'-` deleted; `g2p`: sentences cut after each punctuation mark, each cut into
English runs (letters and spaces: the BERT tokenizer's pieces, grouped into words, read by the English front end,
tones offset by English's tone start 7) and Chinese runs (jieba posseg words, tone sandhi merges and rules
(`chinese_sandhi`), pypinyin initials and finals (neutral tone 5), the syllable spelled as upstream does and looked
up in opencpop-strict.txt, one phone and tone 0 for a punctuation mark); word2ph counts phones per Chinese
character and per English BERT piece. The BERT is bert-base-multilingual-uncased (lower-cases, strips accents,
each CJK character one token); `sequence.assemble` adds pads and blanks with tone start 0 and language id 3
(English words included, as upstream).

Deviations from upstream, where it misreads or crashes (each tested in tests/text/test_frontend_zh.py):
  * numbers (`chinese_numbers`): years `2024年` digit by digit (upstream: 二千零二十四年), dates `2024-01-15`,
    phone numbers digit by digit with 幺 (upstream: one quantity, 一百三十八亿...), times `8:30` 八点三十分
    (upstream: 八三十), percentages `50%` 百分之五十 (upstream deletes `%`), decimals `3.14` 三点一四 (upstream's
    splitter makes it `三. 十四`), thousands separators `1,000,000` (upstream: 一, 零, 零), `$ ¥ ￥ € £` read as
    美元/元/欧元/英镑 after the number (upstream: `$` is a pause, the others are deleted), `25°C` 二十五摄氏度
    (upstream: 二十五 and the letter c), fractions `3/4` 四分之三 (upstream: 三四), leading zeros `007` 零零七
    (upstream: 七), a minus sign 负, numbers of more than 16 digits digit by digit (upstream: cn2an ValueError),
    digits of other scripts (upstream: cn2an ValueError on Arabic-Indic digits);
  * `_` is a space (upstream keeps it and fails an assertion); `〇` is 零 (upstream deletes it); full-width
    Latin letters are read as letters and accented Latin letters as their base letter (`café` is `cafe`;
    upstream deletes both kinds: `caf`);
  * a character pypinyin has no reading for, or whose syllable opencpop-strict lacks, is left out and named in
    one SkippedTextWarning (upstream: AssertionError), as are emoji and other scripts (upstream deletes them
    silently) and English words the BERT vocabulary cannot cover ([UNK]: upstream reads the letters `unk`);
  * the spaces upstream's splitter puts after `,.!?;` are not inserted where they would split a number (the
    number rules run first); elsewhere they are, as upstream;
  * without a BERT folder the pieces are whole words (as the Latin front ends), so an English word's phones all
    go to its one piece; phone, tone and language ids are upstream's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from openvoice_tt.bert.tokenizer import Casing
from openvoice_tt.errors import MissingPackagesError
from openvoice_tt.languages import ZH
from openvoice_tt.text.frontend import TextInputs
from openvoice_tt.text.language_front_end import LanguageFrontEnd
from openvoice_tt.text.symbols import PAD, UNK
from openvoice_tt.timing import NULL_TIMER, StageTimer

CASING = Casing(lowercase=True, strip_accents=None)
"""bert-base-multilingual-uncased's hub tokenizer_config.json: `do_lower_case: true` (accents stripped with it)."""

OPENCPOP = Path(__file__).with_name("data") / "opencpop-strict.txt"
PUNCTUATION = "!?…,.'-"
"""chinese_mix's `punctuation`: kept as phones (tone 0); sentences are cut after each."""
EN_TONE_START = 7
BERT_UNK = "[UNK]"
CACHE_ENV = "OPENVOICE_TT_JIEBA_CACHE"

SILENT = frozenset(PUNCTUATION) | {PAD, UNK}

_REP_MAP = {
    "：": ",",
    "；": ",",
    "，": ",",
    "。": ".",
    "！": "!",
    "？": "?",
    "\n": ".",
    "·": ",",
    "、": ",",
    "...": "…",
    "$": ".",
    "“": "'",
    "”": "'",
    "‘": "'",
    "’": "'",
    "（": "'",
    "）": "'",
    "(": "'",
    ")": "'",
    "《": "'",
    "》": "'",
    "【": "'",
    "】": "'",
    "[": "'",
    "]": "'",
    "—": "-",
    "～": "-",
    "~": "-",
    "「": "'",
    "」": "'",
}
"""chinese_mix.py `rep_map`, in its order."""
_REP_PATTERN = re.compile("|".join(re.escape(p) for p in _REP_MAP))
_NOT_KEPT = re.compile(r"[^\u4e00-\u9fa5a-zA-Z\s" + re.escape(PUNCTUATION) + r"]+")
_SENTENCE_END = re.compile(r"(?<=[" + re.escape(PUNCTUATION) + r"])\s*")
_ENGLISH_RUN = re.compile(r"[a-zA-Z\s]+")
_FULLWIDTH_LETTERS = {c: chr(c - 0xFEE0) for c in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}

_REQUIRED_CHINESE = frozenset(
    re.findall(
        r"\S+",
        "AA E EE En OO a ai an ang ao b c ch d e ei en eng er f g h i i0 ia ian iang iao ie in ing iong ir iu j k l m "
        "n o ong ou p q r s sh t u ua uai uan uang ui un uo v van ve vn w x y z zh",
    )
)
"""Every phone of opencpop-strict.txt (a checkpoint's symbol list must hold them)."""
REQUIRED = _REQUIRED_CHINESE | frozenset(PUNCTUATION) | {PAD, UNK}

_JIEBA_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Where jieba keeps its dictionary cache: $OPENVOICE_TT_JIEBA_CACHE, else $XDG_CACHE_HOME/openvoice-tt/jieba,
    else ~/.cache/openvoice-tt/jieba (never the working directory; named like the embeddings' cache, `se/`)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openvoice-tt" / "jieba"


def jieba_cache_folder() -> Path:
    """`cache_dir()`, made if need be; the system's temporary folder when it cannot be made or written."""
    folder = cache_dir()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    if folder.is_dir() and os.access(folder, os.W_OK):
        return folder
    import tempfile

    return Path(tempfile.gettempdir())


@lru_cache(maxsize=1)
def import_packages() -> None:
    """jieba, pypinyin and cn2an, imported on the first chunk; an install that is there but broken is a
    MissingPackagesError (exit 7) naming the import error, not a traceback in the middle of synthesis."""
    import importlib

    for name in ("cn2an", "pypinyin", "jieba", "jieba.posseg"):
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise MissingPackagesError(
                f"Chinese needs {name.partition('.')[0]}, which is installed but does not import ({e}): reinstall "
                "it with pip install --force-reinstall 'openvoice-tt[zh]' (or run ./setup_and_run.sh)"
            ) from e


@lru_cache(maxsize=1)
def _posseg() -> object:
    """jieba.posseg, initialized once with its cache under `cache_dir()` and its log lines silenced."""
    with _JIEBA_LOCK:
        import jieba
        import jieba.posseg

        # its "Building prefix dict" lines, and a cache it cannot write (harmless: built again next time)
        jieba.setLogLevel(logging.CRITICAL)
        jieba.dt.tmp_dir = str(jieba_cache_folder())
        jieba.dt.initialize()
        return jieba.posseg


@lru_cache(maxsize=1)
def syllable_phones() -> dict[str, tuple[str, ...]]:
    """opencpop-strict.txt: pinyin syllable (no tone) -> its phones."""
    table: dict[str, tuple[str, ...]] = {}
    for line in OPENCPOP.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            syllable, phones = line.split("\t", 1)
            table[syllable] = tuple(phones.strip().split(" "))
    return table


_AFTER_INITIAL = {"uei": "ui", "iou": "iu", "uen": "un"}
_ALONE = {"ing": "ying", "i": "yi", "in": "yin", "u": "wu"}
_ALONE_FIRST = {"v": "yu", "e": "e", "i": "y", "u": "w"}


def syllable(initial: str, final: str) -> tuple[tuple[str, ...], int] | None:
    """Phones and tone of one pypinyin (initial, FINALS_TONE3 final), spelled as upstream spells it before the
    table lookup; None where upstream fails its assertions (no tone digit, a syllable the table lacks)."""
    tone = final[-1:]
    if not final or tone not in "12345":
        return None
    bare = final[:-1]
    if initial:
        pinyin = initial + _AFTER_INITIAL.get(bare, bare)
    elif bare in _ALONE:
        pinyin = _ALONE[bare]
    elif bare and bare[0] in _ALONE_FIRST:
        pinyin = _ALONE_FIRST[bare[0]] + bare[1:]
    else:
        pinyin = bare
    phones = syllable_phones().get(pinyin)
    if phones is None:
        return None
    return phones, int(tone)


def splitter_marks(text: str) -> str:
    """What upstream's `split_sentences_zh` does to a chunk's text (its cut points are spaces here), then
    `tts_to_file`'s camel-case split."""
    text = re.sub("[。！？；]", ".", text)
    text = re.sub("[，]", ",", text)
    text = re.sub("[\n\t ]+", " ", text)
    text = re.sub("([,.!?;])", r"\1 ", text).strip()
    text = re.sub(" +", " ", text)
    return re.sub(r"([a-z])([A-Z])", r"\1 \2", text)


def replace_punctuation(text: str) -> tuple[str, list[str]]:
    """Upstream's `replace_punctuation`, and what it deletes that is not punctuation or a space (left out)."""
    text = text.replace("嗯", "恩").replace("呣", "母")
    text = _REP_PATTERN.sub(lambda m: _REP_MAP[m.group()], text)
    dropped = [run for run in _NOT_KEPT.findall(text) if not _silent(run)]
    text = _NOT_KEPT.sub("", text)
    return re.sub(r"\s+", " ", text), dropped


def _silent(run: str) -> bool:
    return all(unicodedata.category(c)[0] in "PZCM" or c.isspace() for c in run)  # M: combining marks


def _plain_latin(text: str) -> str:
    """Latin letters with diacritics as their base letter (`café` -> `cafe`; upstream deletes `é`: `caf`)."""
    if text.isascii():
        return text
    out = []
    for c in text:
        if not c.isascii() and c.isalpha() and "LATIN" in unicodedata.name(c, ""):
            base = unicodedata.normalize("NFKD", c)[0]
            out.append(base if base.isascii() and base.isalpha() else c)
        else:
            out.append(c)
    return "".join(out)


def normalize(text: str) -> tuple[str, list[str]]:
    """The chunk as upstream's front end reads it (with the number deviations), and what was deleted."""
    from openvoice_tt.text.chinese_numbers import quantity, read_numbers

    text = _plain_latin(text.translate(_FULLWIDTH_LETTERS)).replace("_", " ").replace("〇", "零")
    text = read_numbers(text)
    text = splitter_marks(text)
    text = re.sub(r"\d+(?:\.?\d+)?", lambda m: quantity(m.group()), text)
    return replace_punctuation(text)


@dataclass
class _Char:
    phones: tuple[str, ...]
    tones: tuple[int, ...]


def chinese_readings(text: str) -> tuple[dict[int, _Char | None], dict[int, int]]:
    """For each Chinese character and punctuation mark of normalized `text`, by position: its phones and tones
    as upstream's `chinese._g2p` gives them (None: no reading; upstream fails an assertion there), and the
    number of the word it belongs to (jieba's words after the tone-sandhi merges, counted through the text:
    the words of the word timings)."""
    from pypinyin import Style, lazy_pinyin

    from openvoice_tt.text.chinese_sandhi import modified_tone, pre_merge

    posseg = _posseg()
    readings: dict[int, _Char | None] = {}
    word_of: dict[int, int] = {}
    words = 0
    for start, segment in _chinese_segments(text):
        pairs = [(p.word, p.flag) for p in posseg.lcut(segment)]  # type: ignore[attr-defined]
        position = start
        for word, pos in pre_merge(pairs):
            word_of.update((position + offset, words) for offset in range(len(word)))
            words += 1
            initials = lazy_pinyin(word, neutral_tone_with_five=True, style=Style.INITIALS)
            finals = lazy_pinyin(word, neutral_tone_with_five=True, style=Style.FINALS_TONE3)
            if len(initials) == len(finals) == len(word):
                finals = modified_tone(word, pos, finals)
            else:  # pypinyin kept a run of characters it cannot read together: each on its own
                initials = [lazy_pinyin(c, style=Style.INITIALS)[0] for c in word]
                finals = [lazy_pinyin(c, neutral_tone_with_five=True, style=Style.FINALS_TONE3)[0] for c in word]
            for offset, (initial, final) in enumerate(zip(initials, finals, strict=True)):
                char = word[offset]
                if initial == final:
                    readings[position + offset] = _Char((char,), (0,)) if char in PUNCTUATION else None
                    continue
                found = syllable(initial, final)
                readings[position + offset] = _Char(found[0], (found[1],) * len(found[0])) if found else None
            position += len(word)
    return readings, word_of


def _chinese_segments(text: str) -> list[tuple[int, str]]:
    """Upstream's cuts (after each punctuation mark, then English runs apart): the non-English pieces, each
    with its start in `text`."""
    out: list[tuple[int, str]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        sentence = text[start : match.start()]
        _add_segments(sentence, start, out)
        start = match.end()
    _add_segments(text[start:], start, out)
    return out


def _add_segments(sentence: str, start: int, out: list[tuple[int, str]]) -> None:
    if not sentence.strip():
        return
    last = 0
    for match in _ENGLISH_RUN.finditer(sentence):
        if match.start() > last:
            out.append((start + last, sentence[last : match.start()]))
        last = match.end()
    if last < len(sentence):
        out.append((start + last, sentence[last:]))


class ChineseFrontEnd(LanguageFrontEnd):
    """Normalize, tokenize, read Chinese and English and assemble one chunk; see `TextInputs`."""

    language = ZH
    casing = CASING
    required = REQUIRED
    silent = SILENT
    bert_name = "bert-base-multilingual-uncased"
    phoneme_source = "pypinyin"  # English words inside: the English dictionary, as in English

    def g2p(self, text: str) -> tuple[list[str], list[int], list[int], list[str], tuple[tuple[str, int], ...]]:
        """Phones, tones (final: Chinese 0-5, English 7-10), word2ph (per BERT piece, no pads), the words
        left unspoken, and the words as `TextInputs.words` gives them, for normalized `text`: an English
        word (its pieces), a jieba word (the pieces of its characters; a piece that covers more than one
        word belongs to the word its first character is in), a punctuation mark."""
        from openvoice_tt.text.g2p import distribute_phones, upstream_pronunciation

        readings, word_of = chinese_readings(text)
        pieces = self.tokenizer.pieces(text)  # type: ignore[attr-defined]
        phones: list[str] = []
        tones: list[int] = []
        word2ph: list[int] = []
        skipped: list[str] = []
        words: list[tuple[str, int]] = []
        last_word: int | None = None  # the jieba word of the piece before (None: not a Chinese piece)
        cursor = 0
        i = 0
        while i < len(pieces):
            token, covered = pieces[i]
            found = text.find(covered, cursor) if covered else -1
            start = found if found >= 0 else cursor
            cursor = max(cursor, start + len(covered))
            if covered and covered[0].isascii() and covered[0].isalpha():
                # an English word: this piece and the `#` pieces after it
                group = [token]
                j = i + 1
                while j < len(pieces) and pieces[j][0].startswith("#"):
                    group.append(pieces[j][0])
                    nxt = text.find(pieces[j][1], cursor)
                    cursor = max(cursor, (nxt if nxt >= 0 else cursor) + len(pieces[j][1]))
                    j += 1
                if BERT_UNK in group:
                    word_phones: tuple[str, ...] = ()
                    word_tones: tuple[int, ...] = ()
                    skipped.append(covered if len(group) == 1 else text[start:cursor])
                else:
                    pron = upstream_pronunciation("".join(g.replace("#", "") for g in group))
                    word_phones, word_tones = pron.phones, pron.tones
                    if not word_phones:
                        skipped.append(text[start:cursor])
                phones += word_phones
                tones += [t + EN_TONE_START for t in word_tones]
                word2ph += distribute_phones(len(word_phones), len(group))
                words.append((text[start:cursor], len(group)))
                last_word = None
                i = j
                continue
            number = word_of.get(start)
            if number is not None and number == last_word:
                words[-1] = (words[-1][0] + covered, words[-1][1] + 1)
            else:
                words.append((covered, 1))
            last_word = number
            count = 0
            for offset, char in enumerate(covered):
                reading = readings.get(start + offset)
                if reading is None:
                    if not char.isspace() and char not in PUNCTUATION:
                        skipped.append(char)
                    continue
                phones += reading.phones
                tones += reading.tones
                count += len(reading.phones)
            word2ph.append(count)
            i += 1
        return phones, tones, word2ph, skipped, tuple(words)

    def __call__(self, text: str, timer: StageTimer = NULL_TIMER, defer_bert: bool = False) -> TextInputs:
        """Model inputs for one chunk; raises TextError if it has nothing to speak. What it cannot speak is left
        out with one SkippedTextWarning. The BERT call is timed as stage "bert" on `timer`."""
        import_packages()
        normalized, dropped = normalize(text)
        phones, tones, word2ph, skipped, words = self.g2p(normalized)
        skipped = dropped + skipped
        return self.finish(text, normalized, phones, tones, word2ph, skipped, timer, defer_bert, words)
