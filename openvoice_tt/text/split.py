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
"""

from __future__ import annotations

import bisect
import re

from openvoice_tt.text.normalize import ABBREVIATIONS

_CLOSERS = "\"'”’»)]"
_CLOSER_CLASS = "[" + re.escape(_CLOSERS) + "]*"
_SENTENCE_END = re.compile(r"[.!?…。！？]+" + _CLOSER_CLASS + r"(?=\s|$)")
_CLAUSE_END = re.compile(r"[,;:，；：]+" + _CLOSER_CLASS + r"(?=\s|$)|\n")
_ABBREVIATIONS = frozenset(ABBREVIATIONS) | {"vs", "etc", "e.g", "i.e", "mt", "prof", "sr"}


def split_text(text: str, max_chars: int = 256, first_chars: int | None = None) -> list[str]:
    """Chunks of at most `max_chars` characters, cut at the best boundary available; the first chunk of a
    text longer than `max_chars` at most `first_chars` when given (module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    if first_chars is not None and first_chars < 1:
        raise ValueError(f"first_chars must be at least 1, got {first_chars}")
    # Collapse whitespace, keeping one line break where a run of whitespace had one.
    text = re.sub(r"\s+", lambda m: "\n" if "\n" in m.group(0) else " ", text).strip()
    levels = _boundaries(text)
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


def _is_abbreviation(text: str, dot: int) -> bool:
    word_start = max(text.rfind(" ", 0, dot), text.rfind("\n", 0, dot)) + 1
    word = text[word_start:dot].lstrip(_CLOSERS + "(“‘«[").lower()
    initial_or_acronym = word.replace(".", "").isalpha() and (len(word) == 1 or "." in word)  # "J", "U.S"
    return word in _ABBREVIATIONS or initial_or_acronym


def _inside_quotes(text: str) -> list[bool]:
    """Per character, whether it is inside a double-quoted passage; all False if the quotes don't pair up."""
    state, inside = False, []
    for c in text:
        if c == '"':
            state = not state
        elif c == "“":
            state = True
        elif c == "”":
            state = False
        inside.append(state)
    return inside if not state else [False] * len(text)
