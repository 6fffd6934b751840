"""Word timings: when each word of a chunk is spoken, from the frames the duration predictor gave its phones.

The synthesizer gives every model token (phones after add_blank: a blank before each phone and one at the
end, pads for [CLS] and [SEP]) a whole number of frames, and a frame is `hop_length` samples of audio, so
a token's span is exact in samples: token i covers frames [sum(d[:i]), sum(d[:i + 1])). The front end's
`word2ph` says how many tokens each BERT piece got ([CLS] first with the leading blank, [SEP] last) and its
`words` which pieces make a word (`(normalized word, pieces)`); a word's span is the frames of all its
tokens, its leading blank included. Only whole words with a letter or digit are listed: punctuation and
the pads are gaps between them. Positions are samples of the whole take: the chunk's `offset` (the audio
and the pauses of the chunks before it) plus frames * hop.

A word is reported as the user wrote it (`source` "text") when the normalized word is found, whole and
case-insensitively, in the chunk's text after the previous word found there; otherwise as the normalized
word (`source` "normalized", e.g. "three" for "3"). A front end that gives no `words` (the CJK ones) has
its chunk reported as one word (`source` "chunk").

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
) -> list[WordTiming]:
    """The words of one chunk and their samples (see the module docstring). `durations` are frames per
    token, `word2ph` tokens per BERT piece ([CLS] and [SEP] included), `words` the pieces' words in order
    (`(normalized text, pieces)`, [CLS]/[SEP] not counted; empty: the chunk is one word), `written` the
    chunk's text as the user wrote it, `offset` the chunk's first sample in the take."""
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
    if not words:
        first, last = word2ph[0], len(phones) - word2ph[-1]
        return [WordTiming(written.strip(), "chunk", sample(first), sample(last), phone_spans(first, last))]
    if sum(count for _, count in words) != len(inner):
        raise ValueError(f"words cover {sum(c for _, c in words)} pieces, word2ph has {len(inner)}")
    out: list[WordTiming] = []
    token, piece, cursor = word2ph[0], 0, 0
    for text, count in words:
        width = sum(inner[piece : piece + count])
        piece += count
        first, token = token, token + width
        if width == 0 or not any(c.isalnum() for c in text):
            continue
        shown, source, cursor = as_written(text, written, cursor)
        out.append(WordTiming(shown, source, sample(first), sample(token), phone_spans(first, token)))
    return out


def as_written(word: str, written: str, cursor: int) -> tuple[str, str, int]:
    """`word` as it stands in `written` at or after `cursor` (whole, any case): (that text, "text", the
    position after it); else (`word`, "normalized", `cursor`)."""
    found = re.compile(rf"(?<!\w){re.escape(word.strip())}(?!\w)", re.IGNORECASE).search(written, cursor)
    if found is None or not word.strip():
        return word.strip(), "normalized", cursor
    return found.group(0), "text", found.end()
