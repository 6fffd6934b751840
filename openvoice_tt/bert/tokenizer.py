"""BERT WordPiece tokenization from a local `vocab.txt`, through the `tokenizers` package.

The front ends need this even without BERT weights: MeloTTS groups the WordPiece tokens into words for
G2P, and word2ph counts phones per token (spec §4.4). bert-base-uncased's vocabulary ships with the
package (`data/vocab.txt`, see data/NOTICE), so English tokenization never touches the network.

Casing and accents follow the BERT folder's `tokenizer_config.json` with Hugging Face's semantics
(`do_lower_case`, default True; `strip_accents`, where None/absent means "the same as do_lower_case"):
bert-base-uncased lower-cases and strips accents, the Spanish BETO (uncased) lower-cases and keeps them
(its hub config says `"strip_accents": false`), the French Europeana BERT keeps both case and accents.
For Spanish this decides the phones: upstream phonemizes the words rebuilt from these pieces, so an
accent-stripping tokenizer would read `niño` as `nino`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openvoice_tt.errors import CheckpointError

DEFAULT_VOCAB = Path(__file__).with_name("data") / "vocab.txt"

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
MAX_WORD_CHARS = 100  # a longer word is one [UNK], as in Hugging Face's BertTokenizer

_SURROGATES = re.compile("[\ud800-\udfff]+")

TOKENIZER_CONFIG = "tokenizer_config.json"


@dataclass(frozen=True)
class Casing:
    """How a BERT tokenizer treats case and accents (Hugging Face's `do_lower_case` / `strip_accents`)."""

    lowercase: bool = True
    strip_accents: bool | None = None
    """None: strip them when lower-casing (Hugging Face's default)."""

    @property
    def strips_accents(self) -> bool:
        return self.lowercase if self.strip_accents is None else self.strip_accents

    def normalizer(self) -> Any:
        """BERT's text normalizer (`tokenizers`) with these settings: drop control characters, space out CJK
        ideographs, then lower-case and strip accents as set."""
        from tokenizers import normalizers

        return normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=True, strip_accents=self.strips_accents, lowercase=self.lowercase
        )

    @classmethod
    def from_config(cls, path: str | os.PathLike[str]) -> Casing:
        """The settings of a `tokenizer_config.json`; a missing file gives the defaults (lower-case,
        strip accents: bert-base-uncased)."""
        path = Path(path)
        raw = read_tokenizer_config(path)
        lowercase, strip = raw.get("do_lower_case", True), raw.get("strip_accents")
        if not isinstance(lowercase, bool) or not (strip is None or isinstance(strip, bool)):
            raise CheckpointError(f"{path}: do_lower_case must be true/false and strip_accents true/false/null")
        return cls(lowercase, strip)


UNCASED = Casing()
"""bert-base-uncased: lower-case, strip accents."""


class WordPieceTokenizer:
    """BERT tokenizer (Hugging Face's BertTokenizer); by default bert-base-uncased's, lower-casing and
    stripping accents, else as `casing` says.

    Same pipeline as Hugging Face's: drop control characters and normalize whitespace, put spaces around
    CJK ideographs, lower-case and strip accents (as `casing` says), split on whitespace and punctuation,
    then greedy longest-match WordPiece with `##` continuations; a word of more than 100 characters or with
    no WordPiece cover becomes `[UNK]`. Lone surrogates, which cannot be UTF-8 encoded for the Rust
    tokenizer, are dropped. Special tokens are found by name, never by id (BETO's [PAD] is id 1).
    """

    def __init__(self, vocab_path: str | os.PathLike[str] | None = None, casing: Casing = UNCASED) -> None:
        from tokenizers import Tokenizer, models, pre_tokenizers, processors

        self.casing = casing
        path = Path(vocab_path) if vocab_path is not None else DEFAULT_VOCAB
        vocab = load_vocab(path)
        self.vocab_path = path
        self.vocab: dict[str, int] = vocab
        self.cls_id, self.sep_id, self.unk_id = vocab[CLS], vocab[SEP], vocab[UNK]
        tok = Tokenizer(models.WordPiece(vocab, unk_token=UNK, max_input_chars_per_word=MAX_WORD_CHARS))
        tok.normalizer = casing.normalizer()
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.post_processor = processors.BertProcessing((SEP, self.sep_id), (CLS, self.cls_id))
        # Like Hugging Face's BertTokenizer, a literal "[SEP]" etc. in the text is that special token.
        tok.add_special_tokens([t for t in (PAD, UNK, CLS, SEP, MASK) if t in vocab])
        self._tok = tok

    def __len__(self) -> int:
        return len(self.vocab)

    def tokenize(self, text: str) -> list[str]:
        """WordPiece tokens without [CLS]/[SEP], e.g. `open ##vo ##ice`."""
        return self._tok.encode(_SURROGATES.sub("", text), add_special_tokens=False).tokens

    def pieces(self, text: str) -> list[tuple[str, str]]:
        """`tokenize`'s tokens, each with the text it covers (an [UNK] keeps the word it stands for). A
        character split into several pieces (uncased: a Hangul syllable's jamo) is covered by the first
        of them; the others cover "" (so the pieces' texts joined are the text, not `안안안`)."""
        clean = _SURROGATES.sub("", text)
        encoding = self._tok.encode(clean, add_special_tokens=False)
        out: list[tuple[str, str]] = []
        previous = None
        for token, span in zip(encoding.tokens, encoding.offsets, strict=True):
            start, end = span
            out.append((token, "" if span == previous and start < end else clean[start:end]))
            previous = span
        return out

    def encode(self, text: str) -> list[int]:
        """Token ids with [CLS] first and [SEP] last, as the BERT encoder takes them."""
        return self._tok.encode(_SURROGATES.sub("", text), add_special_tokens=True).ids


class WordTokenizer:
    """BERT's basic tokenization alone (the same normalizer and word splitting as `WordPieceTokenizer`,
    no vocabulary): every word and punctuation mark is one token. The Spanish and French front ends use it
    when no BERT folder is given: their phones come from whole words anyway (upstream rebuilds words from
    the pieces), so only word2ph's split of a word's phones over its pieces differs."""

    def __init__(self, casing: Casing = UNCASED) -> None:
        from tokenizers import pre_tokenizers

        self.casing = casing
        self._normalizer = casing.normalizer()
        self._pre_tokenizer = pre_tokenizers.BertPreTokenizer()

    def pieces(self, text: str) -> list[tuple[str, str]]:
        """The words, each with the text it covers; a word of more than 100 characters is `[UNK]`."""
        from tokenizers import PreTokenizedString

        clean = _SURROGATES.sub("", text)
        pre = PreTokenizedString(clean)
        pre.normalize(lambda normalized: self._normalizer.normalize(normalized))
        self._pre_tokenizer.pre_tokenize(pre)
        return [
            (UNK if len(word) > MAX_WORD_CHARS else word, clean[start:end])
            for word, (start, end), _ in pre.get_splits(offset_referential="original")
        ]

    def tokenize(self, text: str) -> list[str]:
        return [token for token, _ in self.pieces(text)]


def load_vocab(path: Path) -> dict[str, int]:
    """A BERT vocab.txt: one token per line, id = line number (a repeated token keeps its last line, as Hugging
    Face's loader); a CheckpointError if it cannot be read or lacks [CLS], [SEP] or [UNK]."""
    try:
        with path.open(encoding="utf-8") as f:
            vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the BERT vocabulary ({e.strerror or e})") from e
    missing = [t for t in (CLS, SEP, UNK) if t not in vocab]
    if missing:
        raise CheckpointError(f"{path}: not a BERT vocabulary (no {', '.join(missing)})")
    return vocab


def read_tokenizer_config(path: Path) -> dict[str, Any]:
    """The JSON object of a tokenizer_config.json; {} when there is none."""
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable tokenizer config ({e})") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path}: not a readable tokenizer config (not a JSON object)")
    return raw
