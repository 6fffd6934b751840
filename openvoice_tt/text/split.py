"""Split long text into chunks the TTS model synthesizes one at a time (spec §3.1 step 2).

Upstream (`split_utils.txtsplit`) inserts a space after every `, . ? !`, which breaks "10,000" and
"3.14" apart, and then packs sentences into chunks of *at least* 256 characters. This splitter keeps the
text as written (only whitespace is collapsed) and packs as many whole sentences as fit into at most
`max_chars` characters, so any text under `max_chars` is one chunk, as upstream's short texts are.

`first_chars` makes the first chunk of a longer text (one that is chunked anyway) shorter, packed by the
same rules within the smaller limit: usually the first sentence alone. A chunk is synthesized whole before
any of its audio exists, so the first chunk's length is the time to first audio of a stream; the later
chunks are packed to `max_chars` as before, each still ending at the best boundary with upstream's pause
after it. A text under `max_chars` stays one chunk (upstream's single pass) whatever `first_chars` is.

Where a chunk must end, in order of preference:
  1. after a sentence end (`. ! ? …` and CJK `。！？`, with any closing quotes or brackets) outside a quotation;
     a full stop after a known abbreviation ("Dr."), a single letter ("J.") or a dotted acronym ("U.S.")
     is not a sentence end, and neither is a point inside a number ("3.14");
  2. after a line break, a clause mark (`, ; :` followed by a space) or a sentence end inside quotes;
  3. at a space;
  4. anywhere (a run of more than `max_chars` characters without a space).
Chunks with no letter or digit (empty, punctuation or emoji only) are dropped.

`splitter="cjk"` (Chinese, Japanese, Korean: `Language.splitter`) changes what a boundary is, not how
chunks are packed. These scripts put no space after a sentence or between words, so:
  * `。！？` end a sentence wherever they stand (with any closing `」』）】` or quote after them), and so do
    `.!?…` when followed by a space, the end, or a character outside ASCII (`好.他` but not `3.14`);
    `「」『』` quote like `"`;
  * `，、；：` are clause marks wherever they stand (`,;:` before a space or a non-ASCII character);
  * after a space, a cut may fall between any two characters of which one is CJK (Han, kana, Hangul,
    full-width forms), never inside a run of ASCII letters or digits or before a combining mark, so a
    10,000-character paragraph with no punctuation is cut into whole chunks without splitting an
    English word or a number inside it.
The limits differ too (`chunk_limits`): 100 characters, the first chunk of a longer text 40, in place of
256 and 100. A Chinese character is about two phones (initial and final) and a Japanese or Korean one two
to three, where an English character is under one, so 100 CJK characters give the model about as many
phones (200 to 300, twice that with blanks) as 256 English ones, and 15 to 25 seconds of speech where
256 characters of Chinese would be a minute; BERT sees at most one token per character (each Han
character is a token of the multilingual and Japanese tokenizers; WordPiece pieces are at least a
character long), so 100 characters stay far under its 512 positions. Upstream's `split_sentences_zh`
instead cuts after every `。！？；，` once a piece passes 10 characters, giving a chunk (and its pause) per
clause; packing whole sentences keeps a sentence's clauses in one BERT context and one prosodic phrase.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

from openvoice_tt.config.defaults import SynthesisDefaults
from openvoice_tt.text.normalize import ABBREVIATIONS

SPLITTERS = ("latin", "cjk")
"""The splitter families (`Language.splitter`)."""

_CLOSERS = "\"'”’»)]"
_CLOSER_CLASS = "[" + re.escape(_CLOSERS) + "]*"
_SENTENCE_END = re.compile(r"[.!?…。！？]+" + _CLOSER_CLASS + r"(?=\s|$)")
_CLAUSE_END = re.compile(r"[,;:，；：]+" + _CLOSER_CLASS + r"(?=\s|$)|\n")
_ABBREVIATIONS = frozenset(ABBREVIATIONS) | {"vs", "etc", "e.g", "i.e", "mt", "prof", "sr"}

_CJK_CLOSERS = _CLOSERS + "」』）】〉》〕］｝〞"
_CJK_CLOSER_CLASS = "[" + re.escape(_CJK_CLOSERS) + "]*"
_AFTER_ASCII_MARK = r"(?=\s|$|[^\x00-\x7f])"  # a space, the end, or a non-ASCII character: not "3.14", "10,000"
_CJK_SENTENCE_END = re.compile(
    r"[。！？]+[.!?…。！？]*" + _CJK_CLOSER_CLASS + r"|[.!?…]+" + _CJK_CLOSER_CLASS + _AFTER_ASCII_MARK
)
_CJK_CLAUSE_END = re.compile(
    r"[，、；：]+" + _CJK_CLOSER_CLASS + r"|[,;:]+" + _CJK_CLOSER_CLASS + _AFTER_ASCII_MARK + r"|\n"
)
_CJK_ABBREVIATION = re.compile(r"[A-Za-z][A-Za-z.]*$")
_WIDE_START = 0x2E80  # CJK radicals onwards: Han, kana, Hangul, CJK and full-width punctuation


def chunk_limits(splitter: str = "latin") -> tuple[int, int]:
    """(max_chars, first_chars) for a splitter family: 256 and 100 (`SynthesisDefaults`) for Latin
    scripts, 100 and 40 for CJK (module docstring)."""
    defaults = SynthesisDefaults()
    if splitter == "cjk":
        return defaults.cjk_max_chunk_chars, defaults.cjk_first_chunk_chars
    _check_splitter(splitter)
    return defaults.max_chunk_chars, defaults.first_chunk_chars


def _check_splitter(splitter: str) -> None:
    if splitter not in SPLITTERS:
        raise ValueError(f"splitter must be one of {', '.join(SPLITTERS)}, got {splitter!r}")


def split_text(text: str, max_chars: int = 256, first_chars: int | None = None, splitter: str = "latin") -> list[str]:
    """Chunks of at most `max_chars` characters, cut at the best boundary available; the first chunk of a
    text longer than `max_chars` at most `first_chars` when given; boundaries of the `splitter` family
    (`latin` or `cjk`; module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    if first_chars is not None and first_chars < 1:
        raise ValueError(f"first_chars must be at least 1, got {first_chars}")
    _check_splitter(splitter)
    # Collapse whitespace, keeping one line break where a run of whitespace had one.
    text = re.sub(r"\s+", lambda m: "\n" if "\n" in m.group(0) else " ", text).strip()
    levels = _boundaries(text) if splitter == "latin" else _cjk_boundaries(text)
    chunks = []
    start = 0
    size = min(first_chars, max_chars) if first_chars is not None and len(text) > max_chars else max_chars
    while len(text) - start > size:
        limit = start + size
        end = next((p for cuts in levels if (p := _last_cut(cuts, start, limit)) is not None), limit)
        chunks.append(text[start:end])
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
        size = max_chars
    chunks.append(text[start:])
    chunks = [" ".join(c.split()) for c in chunks]
    return [c for c in chunks if any(ch.isalnum() for ch in c)]


def _last_cut(cuts: list[int], start: int, limit: int) -> int | None:
    i = bisect.bisect_right(cuts, limit)
    return cuts[i - 1] if i and cuts[i - 1] > start else None


def _boundaries(text: str) -> list[list[int]]:
    """Cut positions (a chunk may end just before each) for preference levels 1, 2 and 3."""
    inside = _inside_quotes(text)
    sentence, clause = [], []
    for m in _SENTENCE_END.finditer(text):
        if m.group(0) == "." and _is_abbreviation(text, m.start()):
            continue
        (clause if inside[m.end() - 1] else sentence).append(m.end())
    clause += [m.end() for m in _CLAUSE_END.finditer(text)]
    spaces = [m.start() for m in re.finditer(r"\s", text)]
    return [sentence, sorted(clause), spaces]


def _cjk_boundaries(text: str) -> list[list[int]]:
    """`_boundaries` for CJK text: marks need no space after them, and a fourth level, between two
    characters one of which is CJK (module docstring)."""
    inside = _inside_quotes(text, cjk=True)
    sentence, clause = [], []
    for m in _CJK_SENTENCE_END.finditer(text):
        if m.group(0) == "." and _cjk_abbreviation(text, m.start()):
            continue
        (clause if inside[m.end() - 1] else sentence).append(m.end())
    clause += [m.end() for m in _CJK_CLAUSE_END.finditer(text)]
    spaces = [m.start() for m in re.finditer(r"\s", text)]
    wide = [ord(c) >= _WIDE_START for c in text]
    between = [
        i
        for i in range(1, len(text))
        if (wide[i - 1] or wide[i]) and not unicodedata.combining(text[i]) and not text[i].isspace()
    ]
    return [sentence, sorted(clause), spaces, between]


def _cjk_abbreviation(text: str, dot: int) -> bool:
    """`_is_abbreviation` for the ASCII word just before `dot` (CJK text has no space before it)."""
    m = _CJK_ABBREVIATION.search(text, max(0, dot - 32), dot)
    if m is None:
        return False
    word = m.group(0).lower()
    return word in _ABBREVIATIONS or (word.replace(".", "").isalpha() and (len(word) == 1 or "." in word))


def _is_abbreviation(text: str, dot: int) -> bool:
    word_start = max(text.rfind(" ", 0, dot), text.rfind("\n", 0, dot)) + 1
    word = text[word_start:dot].lstrip(_CLOSERS + "(“‘«[").lower()
    initial_or_acronym = word.replace(".", "").isalpha() and (len(word) == 1 or "." in word)  # "J", "U.S"
    return word in _ABBREVIATIONS or initial_or_acronym


def _inside_quotes(text: str, cjk: bool = False) -> list[bool]:
    """Per character, whether it is inside a double-quoted passage (`cjk`: also `「」『』`); all False if
    the quotes don't pair up."""
    opening, closing = ("“「『", "”」』") if cjk else ("“", "”")
    state, inside = False, []
    for c in text:
        if c == '"':
            state = not state
        elif c in opening:
            state = True
        elif c in closing:
            state = False
        inside.append(state)
    return inside if not state else [False] * len(text)
