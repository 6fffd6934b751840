"""Word timings: when each word of a chunk is spoken, from the frames the duration predictor gave its phones.

The synthesizer gives every model token (phones after add_blank: a blank before each phone and one at the
end, pads for [CLS] and [SEP]) a whole number of frames, and a frame is `hop_length` samples of audio, so
a token's span is exact in samples: token i covers frames [sum(d[:i]), sum(d[:i + 1])). The front end's
`word2ph` says how many tokens each BERT piece got ([CLS] first with the leading blank, [SEP] last) and its
`words` which pieces make a word (`(normalized word, pieces)`), or its `word_phones` how many phones each
word has (Japanese, whose words are not BERT's); a word's span is the frames of all its tokens: its phones
and the blank after each. Only words with a letter or digit, or a spoken phone (`%` read as 퍼센트), are
listed: punctuation and the pads are gaps between them. Positions are samples of the whole take: the
chunk's `offset` (the audio and the pauses of the chunks before it) plus frames * hop.

A word is reported as the user wrote it (`source` "text") when the normalized word is found, whole and
case-insensitively, in the chunk's text after the previous word found there; otherwise as the normalized
word (`source` "normalized", e.g. "three" for "3", 三 for 3, or Japanese's katakana reading of kanji). In
scripts written without spaces (Chinese, Japanese) a word is found wherever its characters stand in that
order. A front end that gives no `words` has its chunk reported as one word (`source` "chunk").

This module only counts; the pipeline's chunk loop calls `chunk_words` once per chunk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PAD_PHONE = "_"
"""The name of the blank and pad symbols in `TextInputs.phones`."""


@dataclass(frozen=True)
class PhoneTiming:
    """One phone (not a blank or pad) and its samples [start, end)."""

    phone: str
    start: int
    end: int


@dataclass(frozen=True)
class WordTiming:
    """One word and its samples [start, end) in the take at its sample rate; `source` says where `text`
    comes from: "text" (as written), "normalized" (the front end's reading) or "chunk" (no word split)."""

    text: str
    source: str
    start: int
    end: int
    phones: tuple[PhoneTiming, ...] = ()

    def rescaled(self, rate_in: int, rate_out: int) -> WordTiming:
        """The same word at another sample rate (a clone's 22.05 kHz): every position * rate_out / rate_in,
        rounded down; exact where it divides (frames are 512 samples at 44.1 kHz, 256 at 22.05 kHz)."""

        def at(sample: int) -> int:
            return sample * rate_out // rate_in

        phones = tuple(PhoneTiming(p.phone, at(p.start), at(p.end)) for p in self.phones)
        return WordTiming(self.text, self.source, at(self.start), at(self.end), phones)

    def to_json(self, sample_rate: int, phones: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "source": self.source,
            "start": self.start / sample_rate,
            "end": self.end / sample_rate,
            "start_sample": self.start,
            "end_sample": self.end,
        }
        if phones:
            out["phones"] = [
                {
                    "phone": p.phone,
                    "start": p.start / sample_rate,
                    "end": p.end / sample_rate,
                    "start_sample": p.start,
                    "end_sample": p.end,
                }
                for p in self.phones
            ]
        return out


def chunk_words(
    durations: Sequence[int],
    word2ph: Sequence[int],
    phones: Sequence[str],
    words: Sequence[tuple[str, int]],
    written: str,
    hop: int,
    offset: int = 0,
    word_phones: Sequence[tuple[str, int]] = (),
) -> list[WordTiming]:
    """The words of one chunk and their samples (see the module docstring). `durations` are frames per
    token, `word2ph` tokens per BERT piece ([CLS] and [SEP] included), `words` the pieces' words in order
    (`(normalized text, pieces)`, [CLS]/[SEP] not counted; empty: the chunk is one word), `written` the
    chunk's text as the user wrote it, `offset` the chunk's first sample in the take. `word_phones`, when
    given, counts the words in phones instead (`TextInputs.word_phones`: words that do not follow the BERT
    pieces); a phone's tokens are itself and, with add_blank, the blank after it."""
    if len(durations) != len(phones) or sum(word2ph) != len(phones):
        raise ValueError(f"{len(durations)} durations, {len(phones)} tokens, word2ph sums to {sum(word2ph)}")
    starts = [0]
    for frames in durations:
        starts.append(starts[-1] + int(frames))

    def sample(token: int) -> int:
        return offset + starts[token] * hop

    def phone_spans(first: int, last: int) -> tuple[PhoneTiming, ...]:
        return tuple(
            PhoneTiming(phones[t], sample(t), sample(t + 1)) for t in range(first, last) if phones[t] != PAD_PHONE
        )

    inner = list(word2ph[1:-1])
    if not words and not word_phones:
        first, last = word2ph[0], len(phones) - word2ph[-1]
        return [WordTiming(written.strip(), "chunk", sample(first), sample(last), phone_spans(first, last))]
    out: list[WordTiming] = []
    token, cursor = word2ph[0], 0
    for text, width in _token_widths(inner, words, word_phones, per_phone=(word2ph[0] + 1) // 2):
        first, token = token, token + width
        if width == 0 or not (any(c.isalnum() for c in text) or any(_spoken(phones[t]) for t in range(first, token))):
            continue  # a mark (no letter or digit, no spoken phone), or a word that got no phone
        shown, source, cursor = as_written(text, written, cursor)
        out.append(WordTiming(shown, source, sample(first), sample(token), phone_spans(first, token)))
    return out


SPACELESS = "\u3005\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
"""Scripts written without spaces between words (kanji, hanzi, kana): a word there has no boundary to
check, and a letter or digit of another script next to it is not part of it."""
_SPACED_LETTER = f"[^\\W{SPACELESS}]"


def _spoken(phone: str) -> bool:
    """A phone that is speech: not a blank or pad, not a punctuation mark."""
    return phone != PAD_PHONE and any(c.isalnum() for c in phone)


def _token_widths(
    inner: Sequence[int], words: Sequence[tuple[str, int]], word_phones: Sequence[tuple[str, int]], per_phone: int
) -> list[tuple[str, int]]:
    """Each word and its tokens: from its phones (`per_phone` tokens each: 2 with add_blank, whose [CLS]
    has 3 tokens, else 1) or from its BERT pieces (`inner`: tokens per piece)."""
    if word_phones:
        widths = [(text, count * per_phone) for text, count in word_phones]
        if sum(width for _, width in widths) != sum(inner):
            raise ValueError(f"words cover {sum(c for _, c in word_phones)} phones, word2ph has {sum(inner)} tokens")
        return widths
    if sum(count for _, count in words) != len(inner):
        raise ValueError(f"words cover {sum(c for _, c in words)} pieces, word2ph has {len(inner)}")
    out, piece = [], 0
    for text, count in words:
        out.append((text, sum(inner[piece : piece + count])))
        piece += count
    return out


def as_written(word: str, written: str, cursor: int) -> tuple[str, str, int]:
    """`word` as it stands in `written` at or after `cursor` (whole, any case): (that text, "text", the
    position after it); else (`word`, "normalized", `cursor`). Whole: not inside a longer word of a script
    written with spaces; a word of a script without them (`SPACELESS`: 今天 in 我今天买了) has no such edge."""
    word = word.strip()
    if not word:
        return word, "normalized", cursor
    before = "" if re.match(f"[{SPACELESS}]", word[0]) else f"(?<!{_SPACED_LETTER})"
    after = "" if re.match(f"[{SPACELESS}]", word[-1]) else f"(?!{_SPACED_LETTER})"
    found = re.compile(before + re.escape(word) + after, re.IGNORECASE).search(written, cursor)
    if found is None:
        return word, "normalized", cursor
    return found.group(0), "text", found.end()
