"""What the model is fed, word by word: for `openvoice-tt phonemes`, to debug a pronunciation.

Runs the same split -> normalize -> tokenize -> G2P steps as synthesis, and keeps per word the ARPAbet
(stress digits intact) and which source gave it (see `g2p.Source`). Needs no checkpoint: the tokenizer's
vocabulary ships with the package, and phone names, not symbol ids, are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openvoice_tt.config import SynthesisDefaults
from openvoice_tt.text.g2p import Pronunciation, pronounce_words
from openvoice_tt.text.lexicon import Lexicon
from openvoice_tt.text.normalize import normalize_text
from openvoice_tt.text.split import split_text


@dataclass(frozen=True)
class WordPhonemes:
    """One word as G2P sees it: its WordPiece pieces and its pronunciation."""

    pieces: tuple[str, ...]
    pronunciation: Pronunciation

    @property
    def word(self) -> str:
        return "".join(self.pieces)

    def to_json(self) -> dict[str, Any]:
        pron = self.pronunciation
        return {
            "word": self.word,
            "pieces": list(self.pieces),
            "arpabet": " ".join(pron.arpabet),
            "phones": list(pron.phones),
            "tones": list(pron.tones),
            "source": pron.source.value,
        }


@dataclass(frozen=True)
class ChunkPhonemes:
    """One synthesis chunk: its text, normalized text and words."""

    text: str
    normalized: str
    words: tuple[WordPhonemes, ...]

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "normalized": self.normalized, "words": [w.to_json() for w in self.words]}


def describe(
    text: str,
    max_chars: int,
    lexicon: Lexicon | None = None,
    tokenizer: Any = None,
    first_chars: int | None = SynthesisDefaults().first_chunk_chars,
) -> list[ChunkPhonemes]:
    """Per chunk of `text` (split as synthesis splits it, `pipeline.split_chunks`: the first chunk of a long
    text at most `first_chars`), the words and where their phones come from.

    `tokenizer` defaults to the packaged bert-base-uncased WordPiece tokenizer.
    """
    if tokenizer is None:
        from openvoice_tt.bert.tokenizer import WordPieceTokenizer

        tokenizer = WordPieceTokenizer()
    chunks = []
    for chunk in split_text(text, max_chars, first_chars):
        normalized = normalize_text(chunk)
        words = pronounce_words(tokenizer.tokenize(normalized), lexicon)
        chunks.append(ChunkPhonemes(chunk, normalized, tuple(WordPhonemes(tuple(g), p) for g, p in words)))
    return chunks
