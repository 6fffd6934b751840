"""bert-base-uncased WordPiece tokenization from a local `vocab.txt`, through the `tokenizers` package.

The English front end needs this even without BERT weights: MeloTTS groups the WordPiece tokens into
words for G2P, and word2ph counts phones per token (spec §4.4). The vocabulary ships with the package
(`data/vocab.txt`, see data/NOTICE), so tokenization never touches the network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from openvoice_tt.errors import CheckpointError

DEFAULT_VOCAB = Path(__file__).with_name("data") / "vocab.txt"

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
MAX_WORD_CHARS = 100  # a longer word is one [UNK], as in Hugging Face's BertTokenizer

_SURROGATES = re.compile("[\ud800-\udfff]+")


class WordPieceTokenizer:
    """Lower-casing, accent-stripping BERT tokenizer (the BertTokenizer of bert-base-uncased).

    Same pipeline as Hugging Face's: drop control characters and normalize whitespace, put spaces around
    CJK ideographs, lower-case and strip accents, split on whitespace and punctuation, then greedy
    longest-match WordPiece with `##` continuations; a word of more than 100 characters or with no
    WordPiece cover becomes `[UNK]`. Lone surrogates, which cannot be UTF-8 encoded for the Rust
    tokenizer, are dropped.
    """

    def __init__(self, vocab_path: str | os.PathLike[str] | None = None) -> None:
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

        path = Path(vocab_path) if vocab_path is not None else DEFAULT_VOCAB
        try:
            vocab = _read_vocab(path)
        except OSError as e:
            raise CheckpointError(f"{path}: cannot read the BERT vocabulary ({e.strerror or e})") from e
        missing = [t for t in (CLS, SEP, UNK) if t not in vocab]
        if missing:
            raise CheckpointError(f"{path}: not a BERT vocabulary (no {', '.join(missing)})")
        self.vocab_path = path
        self.vocab: dict[str, int] = vocab
        self.cls_id, self.sep_id, self.unk_id = vocab[CLS], vocab[SEP], vocab[UNK]
        tok = Tokenizer(models.WordPiece(vocab, unk_token=UNK, max_input_chars_per_word=MAX_WORD_CHARS))
        tok.normalizer = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True
        )
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
        """`tokenize`'s tokens, each with the text it covers (an [UNK] keeps the word it stands for)."""
        clean = _SURROGATES.sub("", text)
        encoding = self._tok.encode(clean, add_special_tokens=False)
        spans = zip(encoding.tokens, encoding.offsets, strict=True)
        return [(token, clean[start:end]) for token, (start, end) in spans]

    def encode(self, text: str) -> list[int]:
        """Token ids with [CLS] first and [SEP] last, as the BERT encoder takes them."""
        return self._tok.encode(_SURROGATES.sub("", text), add_special_tokens=True).ids


def _read_vocab(path: Path) -> dict[str, int]:
    # One token per line, id = line number; a repeated token keeps its last line, as Hugging Face's loader.
    with path.open(encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}
