"""What the Spanish and French front ends share: upstream MeloTTS's gruut word phonemization, its
grouping of BERT pieces into words, and the model-input assembly (spec §4, for ES and FR).

Upstream (`melo/text/spanish.py`, `french.py`, behind `split_utils.split_sentences_latin`, whose mark
replacements `splitter_marks` repeats) cleans the text (each language's `cleaner.py`), tokenizes
it with the language's BERT tokenizer, rebuilds words from the pieces (a token starting with `#` joins
the previous word, all `#` removed), and phonemizes each word on its own with gruut 2.2.3 (we install
2.4.0, which ttnn's networkx allows and which gives the same goldens; pyproject.toml says why)
(`es-es` / `fr-fr`, `espeak=True`, stress kept, `g` written `ɡ`) through Coqui's phonemizer wrapper,
which keeps punctuation (`;:,.!?¡¿—…"«»“”`) as itself. Every character of the IPA string except spaces
is one phone, with tone 0; French also drops runs of three or more `t` (`remove_consecutive_t`). A
word's phones are spread over its pieces by `distribute_phone` (round robin), [CLS]/[SEP] get a pad,
and `sequence.assemble` offsets tones and language ids (ES 12 and 5, FR 13 and 6). We do all of that
the same way, with gruut imported only when the first Spanish or French chunk is converted.

Shared deviations from upstream (each language module lists its own):
  * a `[UNK]` piece (emoji, scripts the vocabulary lacks) gives no phone, and such words and those gruut
    gives no phones are named in one SkippedTextWarning, as in English (upstream speaks an `UNK` phone);
  * a `#` piece at the very start of a chunk is its own silent word (upstream crashes on it: IndexError);
  * a word with neither a Latin letter nor a digit 0-9 (emoji, `Ⅻ`, Arabic digits, `½` when the vocabulary
    has them) gets no phone and is named in that warning (gruut's guesser reads them as stray letters);
  * a number gruut cannot read (over 27 digits, `1e308`: upstream crashes in gruut's number parsing) is
    read digit by digit;
  * a phone the checkpoint's symbol list lacks becomes `UNK` (upstream raises KeyError);
  * without a BERT folder the pieces are BERT's whole words (no vocabulary ships for these BERTs), so
    phone, tone and language ids are upstream's but word2ph gives each word all its phones.
"""

from __future__ import annotations

import decimal
import os
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from openvoice_tt.errors import MissingPackagesError
from openvoice_tt.text.frontend import TextInputs
from openvoice_tt.text.language_front_end import LanguageFrontEnd
from openvoice_tt.text.symbols import PAD, UNK
from openvoice_tt.timing import NULL_TIMER, StageTimer

UPSTREAM_PUNCTUATION = ';:,.!?¡¿—…"«»“”'
"""The phonemizer wrapper's `Punctuation.default_puncs()`: kept as phones, never sent to gruut."""

SILENT = frozenset(UPSTREAM_PUNCTUATION) | frozenset("'-~") | {PAD, UNK, " "}
"""Phones that are not speech: a chunk with nothing else has nothing to speak."""

BERT_UNK = "[UNK]"

_GRUUT_LOCK = threading.Lock()


_SPLITTER_MARKS = (
    (re.compile("[。！？；]"), "."),
    (re.compile("[，]"), ","),
    (re.compile("[“”]"), '"'),
    (re.compile("[‘’]"), "'"),
    (re.compile(r"[\<\>\(\)\[\]\"\«\»]+"), ""),
)


def splitter_marks(text: str) -> str:
    """What upstream's sentence splitter (`split_utils.split_sentences_latin`, run by `TTS.tts_to_file`
    before the front end) does to the text's marks: CJK sentence marks to `.`, `，` to `,`, curly quotes
    to straight ones (so `l’école` reaches the cleaner as `l'école`), brackets and quotes removed. Its
    spaces after every `,.!?` are not inserted (they break numbers; BERT splits there anyway)."""
    for pattern, replacement in _SPLITTER_MARKS:
        text = pattern.sub(replacement, text)
    return text


def distribute_phone(n_phone: int, n_word: int) -> list[int]:
    """Upstream's round robin: each of the `n_word` pieces gets `n_phone // n_word` phones, the first
    `n_phone % n_word` one more."""
    share, extra = divmod(n_phone, n_word)
    return [share + (i < extra) for i in range(n_word)]


@dataclass
class WordGroup:
    """One word as upstream rebuilds it from BERT pieces."""

    word: str
    """The pieces joined, `#` removed (what gruut reads), e.g. `estación`."""
    tokens: int
    """How many BERT pieces it covers (word2ph entries)."""
    start: int
    end: int
    """Its span in the normalized text (from the first piece's start to the last piece's end)."""
    unknown: bool = False
    """A `[UNK]` piece is part of it."""
    pieces: list[str] = field(default_factory=list)


def group_pieces(pieces: Sequence[tuple[str, str]], text: str) -> list[WordGroup]:
    """Upstream's grouping: a token that starts with `#` joins the previous word (every `#` removed from
    it); any other token starts a word. A `#` token first in the chunk starts its own (empty) word."""
    groups: list[WordGroup] = []
    cursor = 0
    for token, covered in pieces:
        found = text.find(covered, cursor) if covered else -1
        start = found if found >= 0 else cursor
        end = start + len(covered)
        cursor = max(cursor, end)
        if token.startswith("#") and groups:
            group = groups[-1]
            group.word += token.replace("#", "")
            group.tokens += 1
            group.end = end
            group.pieces.append(token)
        else:
            word = token if token == BERT_UNK else token.replace("#", "")
            groups.append(WordGroup(word, 1, start, end, token == BERT_UNK, [token]))
        if token == BERT_UNK:
            groups[-1].unknown = True
    return groups


def gruut_ipa(text: str, lang: str) -> str:
    """Coqui's gruut wrapper `phonemize_gruut(text, separator="")` with upstream's settings: each word's
    phonemes (stress kept, `g` -> `ɡ`), a break (punctuation gruut met) glued to the word before, words
    joined by one space. Remembered per (text, lang)."""
    return _gruut_ipa(text, lang)


_G_TO_IPA = str.maketrans("g", "ɡ")

_GRUUT_THREAD: ThreadPoolExecutor | None = None
_INDEXED: set[str] = set()


def _gruut_thread() -> ThreadPoolExecutor:
    """The one thread gruut runs on. gruut keeps its language data per thread (lexicon connections,
    models: hundreds of MB for Spanish), so a server answering from many threads would load it many
    times; one thread loads it once, and calls are serialized anyway."""
    global _GRUUT_THREAD
    with _GRUUT_LOCK:
        if _GRUUT_THREAD is None:
            _GRUUT_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gruut")
        return _GRUUT_THREAD


def _forget_gruut_thread() -> None:
    """In a forked child the gruut thread does not exist (and its data is per thread): start anew."""
    global _GRUUT_THREAD
    _GRUUT_THREAD = None
    _INDEXED.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_gruut_thread)


@lru_cache(maxsize=8192)
def _gruut_ipa(text: str, lang: str) -> str:
    return _gruut_thread().submit(_run_gruut, text, lang).result()


def _import_gruut(lang: str) -> Any:
    """gruut, imported; an install that is there but broken (a dependency missing or of the wrong version)
    is a MissingPackagesError (exit 7) naming the import error, not a traceback in the middle of synthesis.
    Imported on first use only (a front end's constructor leaves it alone)."""
    try:
        with warnings.catch_warnings():
            # dateparser, a gruut dependency, calls the deprecated datetime.utcnow() when imported
            warnings.simplefilter("ignore", DeprecationWarning)
            import gruut
    except ImportError as e:
        from openvoice_tt.languages import find_language

        language = find_language(lang.partition("-")[0])
        raise MissingPackagesError(
            f"{language.name} needs gruut, which is installed but does not import ({e}): reinstall it with "
            f"pip install --force-reinstall 'openvoice-tt[{language.extra}]' (or run ./setup_and_run.sh)"
        ) from e
    return gruut


def _run_gruut(text: str, lang: str) -> str:
    gruut = _import_gruut(lang)

    words: list[str] = []
    for sentence in gruut.sentences(text, lang=lang, espeak=True):
        for word in sentence:
            if word.is_break:
                if words:
                    words[-1] += word.text
                else:
                    words.append(word.text)
            elif word.phonemes:
                chars = "".join(phoneme.translate(_G_TO_IPA) for phoneme in word.phonemes)
                if chars:
                    words.append(chars)
    if lang not in _INDEXED:
        _INDEXED.add(lang)
        _index_lexicon(lang)
    return " ".join(words)


def _index_lexicon(lang: str) -> None:
    """Put gruut's eSpeak lexicon for `lang` in memory with an index on `word`.

    The databases gruut_lang_es/fr ship have no index, so every lookup (two per word) scans the table:
    about 45 ms for Spanish's 597,000 rows, 8 ms for French's 91,000. An in-memory copy with an index
    answers the same query (`WHERE word = ? ORDER BY pron_order`, rows in the same order) in microseconds.
    Runs on the gruut thread after its first use of `lang` has opened the database; if gruut's internals
    are not what gruut 2.2-2.4 has, the lexicon is left as it is (correct, only slower)."""
    import sqlite3

    import gruut

    processor = getattr(getattr(gruut, "_LOCAL", None), "processors", {}).get("espeak")
    settings = processor.get_settings(lang) if processor is not None else None
    phonemizer = getattr(getattr(settings, "lookup_phonemes", None), "phonemizer", None)
    connection = getattr(phonemizer, "db_conn", None)
    if not isinstance(connection, sqlite3.Connection):
        return
    memory = sqlite3.connect(":memory:")
    connection.backup(memory)
    memory.execute("CREATE INDEX IF NOT EXISTS openvoice_tt_word ON word_phonemes(word)")
    phonemizer.db_conn = memory
    connection.close()


_PUNCTUATION_RUN = re.compile(rf"(\s*[{re.escape(UPSTREAM_PUNCTUATION)}]+\s*)+")


def word_ipa(word: str, lang: str) -> str:
    """Upstream's `es2ipa(word)` / `fr2ipa(word)` before its French post-processing: punctuation runs kept
    as they are, the text between them phonemized by gruut (BERT splits punctuation off, so a word is
    either all punctuation or has none)."""
    word = word.strip()
    out: list[str] = []
    last = 0
    for match in _PUNCTUATION_RUN.finditer(word):
        if match.start() > last:
            out.append(gruut_ipa(word[last : match.start()], lang))
        out.append(match.group())
        last = match.end()
    if last < len(word):
        out.append(gruut_ipa(word[last:], lang))
    return "".join(out)


_DIGITS = frozenset("0123456789")


def _is_latin_letter(c: str) -> bool:
    import unicodedata

    return c.isalpha() and "LATIN" in unicodedata.name(c, "")


def is_silent_word(word: str) -> bool:
    """Punctuation only (Unicode category P): nothing is missing when it has no phone. Emoji and other
    symbols are not silent: a word of them that gets no phone is reported."""
    import unicodedata

    return all(unicodedata.category(c).startswith("P") or c.isspace() for c in word)


class LatinFrontEnd(LanguageFrontEnd):
    """Normalize, tokenize, phonemize with gruut and assemble one chunk; see `TextInputs`.

    Subclasses set `language` (its registry entry), `gruut_lang`, `casing` (the BERT tokenizer's,
    used without a BERT folder), `required` (the phones the checkpoint's symbol list must hold), and
    define `normalize` (the cleaners) and optionally `merge` and `postprocess`. gruut and the language's
    gruut data (gruut_lang_es, ...) are the packages the constructor checks.
    """

    gruut_lang: ClassVar[str]
    silent = SILENT
    phoneme_source = "gruut"

    # -- language hooks -------------------------------------------------------------------------------
    def normalize(self, text: str) -> str:
        raise NotImplementedError

    def merge(self, groups: list[WordGroup], text: str) -> list[WordGroup]:
        """Join words that must be read together (French elisions); upstream joins none."""
        return groups

    def postprocess(self, ipa: str) -> str:
        return ipa

    # -- the conversion -------------------------------------------------------------------------------
    def word_phones(self, word: str) -> list[str]:
        """The phones of one rebuilt word: every character of its IPA but spaces. A word with neither a
        Latin letter nor a digit 0-9 (and not punctuation) has none: gruut's guesser reads such words
        (emoji, `Ⅻ`, `١٢٣`, `½`) as stray letters (`d`, `bo`, `ɛf`)."""
        if not is_silent_word(word) and not any(c in _DIGITS or _is_latin_letter(c) for c in word):
            return []
        try:
            ipa = word_ipa(word, self.gruut_lang)
        except (decimal.DecimalException, OverflowError):  # gruut's number reading overflows (1e308)
            ipa = word_ipa(" ".join(word), self.gruut_lang)  # each character on its own
        return [c for c in self.postprocess(ipa) if c != " "]

    def g2p(self, text: str) -> tuple[list[str], list[int], list[str]]:
        """Phones, word2ph (per BERT piece, no pads) and the words left unspoken, for normalized `text`."""
        phones, word2ph, skipped, _ = self.converted(text)
        return phones, word2ph, skipped

    def converted(self, text: str) -> tuple[list[str], list[int], list[str], tuple[tuple[str, int], ...]]:
        """`g2p`'s phones, word2ph and unspoken words, and the words as `TextInputs.words` gives them (each
        word's text and its BERT pieces)."""
        groups = self.merge(group_pieces(self.tokenizer.pieces(text), text), text)
        phones: list[str] = []
        word2ph: list[int] = []
        skipped: list[str] = []
        for group in groups:
            found = [] if group.unknown else self.word_phones(group.word)
            covered = text[group.start : group.end]
            if not found and not is_silent_word(covered):
                skipped.append(covered)
            phones += found
            word2ph += distribute_phone(len(found), group.tokens)
        words = tuple((text[group.start : group.end], group.tokens) for group in groups)
        return phones, word2ph, skipped, words

    def __call__(self, text: str, timer: StageTimer = NULL_TIMER, defer_bert: bool = False) -> TextInputs:
        """Model inputs for one chunk; raises TextError if it has nothing to speak. Words it cannot speak
        are left out with one SkippedTextWarning. The BERT call is timed as stage "bert" on `timer`."""
        normalized = self.normalize(text)
        phones, word2ph, skipped, words = self.converted(normalized)
        return self.finish(text, normalized, phones, None, word2ph, skipped, timer, defer_bert, words)


def substitute(rules: Sequence[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]], text: str) -> str:
    """Apply (pattern, replacement) rules in order."""
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text
