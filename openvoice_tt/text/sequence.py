"""Turn phones, tones and word2ph into the id sequences the model takes (spec §4.4 step 5, §4.5).

The model was trained on exactly this layout, so every detail is upstream's: a pad phone `_` with
tone 0 for [CLS] and [SEP]; tone ids offset by the language's tone start (English 7, Spanish 12,
French 13) and its language id (English 2, Spanish 5, French 6) for every phone, pads included;
then, with `add_blank`, a blank before every phone and one at the end, with phone 0, tone 0 and
language 0 (not the offsets), and word2ph doubled with the extra leading blank given to [CLS].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from openvoice_tt.text.symbols import BLANK_ID, EN_LANGUAGE_ID, EN_TONE_START, PAD, UNK, SymbolTable

T = TypeVar("T")


@dataclass(frozen=True)
class PhoneSequence:
    """Model inputs as plain tuples, all of length T; `word2ph` has one entry per BERT token
    ([CLS] and [SEP] included) and sums to T."""

    phones: tuple[str, ...]
    phone_ids: tuple[int, ...]
    tone_ids: tuple[int, ...]
    language_ids: tuple[int, ...]
    word2ph: tuple[int, ...]


def intersperse(items: Sequence[T], blank: T) -> list[T]:
    """`[a, b]` -> `[blank, a, blank, b, blank]`."""
    out = [blank] * (2 * len(items) + 1)
    out[1::2] = items
    return out


def assemble(
    phones: Sequence[str],
    tones: Sequence[int],
    word2ph: Sequence[int],
    table: SymbolTable,
    add_blank: bool = True,
    tone_start: int = EN_TONE_START,
    language_id: int = EN_LANGUAGE_ID,
) -> PhoneSequence:
    """Pad for [CLS]/[SEP], map to ids (unknown phones -> UNK), offset tones by `tone_start`, give every
    phone `language_id`, and intersperse blanks (the defaults are English's)."""
    if len(phones) != len(tones) or sum(word2ph) != len(phones):
        raise ValueError(
            f"inconsistent G2P output: {len(phones)} phones, {len(tones)} tones, sum(word2ph)={sum(word2ph)}"
        )
    names = [PAD] + [p if p in table else UNK for p in phones] + [PAD]
    phone_ids = [table.id(p) for p in names]
    tone_ids = [tone_start] + [t + tone_start for t in tones] + [tone_start]
    language_ids = [language_id] * len(names)
    counts = [1, *word2ph, 1]
    if add_blank:
        names = intersperse(names, table.symbols[BLANK_ID])
        phone_ids = intersperse(phone_ids, BLANK_ID)
        tone_ids = intersperse(tone_ids, 0)
        language_ids = intersperse(language_ids, 0)
        counts = [2 * c for c in counts]
        counts[0] += 1
    return PhoneSequence(tuple(names), tuple(phone_ids), tuple(tone_ids), tuple(language_ids), tuple(counts))
