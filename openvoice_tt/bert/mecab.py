"""The Japanese BERT tokenizer: MeCab (unidic-lite) word splitting, then WordPiece (spec §4.6, JP).

tohoku-nlp/bert-base-japanese-v3's hub `tokenizer_config.json` names `BertJapaneseTokenizer` with
`word_tokenizer_type: mecab`, `mecab_kwargs: {"mecab_dic": "unidic_lite"}`, `subword_tokenizer_type:
wordpiece` and `do_lower_case: false`. Hugging Face's implementation normalizes the text with NFKC, splits it
into MeCab's words (their surfaces; whitespace is never part of a word), lower-cases them when asked, and
cuts each word into WordPiece pieces (greedy longest match, `##` continuations, a word of more than 100
characters or with no cover is one `[UNK]`). We do the same through mecab-python3 (the package upstream's
`japanese.py` imports; the same MeCab library and the same unidic-lite dictionary as Hugging Face's
fugashi), so no network and no transformers are needed. `BertFeatureExtractor.from_folder` picks this
tokenizer when the folder's tokenizer_config.json says `word_tokenizer_type: mecab`.

MeCab is imported when the first tokenizer is made (a Japanese front end or a Japanese BERT folder), never
by English or the other languages. A NUL character would end MeCab's C string early: it is dropped first,
like lone surrogates (which cannot be UTF-8 encoded).
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

from openvoice_tt.bert.tokenizer import CLS, MASK, MAX_WORD_CHARS, PAD, SEP, UNK, load_vocab
from openvoice_tt.errors import CheckpointError, MissingPackagesError

DICTIONARIES = ("unidic_lite",)
"""The MeCab dictionaries we can load (`mecab_kwargs.mecab_dic`); the full `unidic` needs a separate
download and `ipadic` gives other words than the model was trained with."""

_DROPPED = re.compile("[\x00\ud800-\udfff]+")

_TAGGERS: dict[str, Any] = {}
_TAGGER_LOCK = threading.Lock()


def mecab_tagger(dictionary: str = "unidic_lite") -> Any:
    """One MeCab tagger per dictionary for the process (loading unidic-lite takes a moment); `mecab_words`
    parses under a lock, so threads share it safely."""
    if dictionary not in DICTIONARIES:
        raise CheckpointError(
            f"the tokenizer asks for the MeCab dictionary {dictionary!r}; only unidic_lite is supported "
            "(bert-base-japanese-v3's own setting)"
        )
    with _TAGGER_LOCK:
        tagger = _TAGGERS.get(dictionary)
        if tagger is None:
            try:
                import MeCab
                import unidic_lite
            except ImportError as e:
                raise MissingPackagesError(
                    f"Japanese needs mecab-python3 and unidic-lite ({e}): install them with "
                    "pip install 'openvoice-tt[jp]' (or run ./setup_and_run.sh)"
                ) from e
            dicdir = unidic_lite.DICDIR
            rc = os.path.join(dicdir, "mecabrc")
            try:
                tagger = MeCab.Tagger(f'-d "{dicdir}" -r "{rc}"')
            except RuntimeError as e:
                raise MissingPackagesError(
                    f"MeCab cannot load the unidic-lite dictionary at {dicdir} ({e}): reinstall it with "
                    "pip install --force-reinstall 'openvoice-tt[jp]'"
                ) from e
            _TAGGERS[dictionary] = tagger
        return tagger


def clean(text: str) -> str:
    """NFKC (Hugging Face's MecabTokenizer `normalize_text`), without NUL and lone surrogates."""
    return unicodedata.normalize("NFKC", _DROPPED.sub("", text))


def mecab_words(text: str, dictionary: str = "unidic_lite") -> list[tuple[str, int, int]]:
    """MeCab's words of `text` (already cleaned) with their spans: (surface, start, end)."""
    if not text.strip():
        return []
    tagger = mecab_tagger(dictionary)
    with _TAGGER_LOCK:
        node = tagger.parseToNode(text)
        surfaces = []
        while node is not None:
            if node.stat not in (2, 3):  # not BOS / EOS
                surfaces.append(node.surface)
            node = node.next
    words: list[tuple[str, int, int]] = []
    cursor = 0
    for surface in surfaces:
        if not surface:
            continue
        found = text.find(surface, cursor)
        start = found if found >= 0 else cursor
        end = start + len(surface)
        cursor = max(cursor, end)
        words.append((surface, start, end))
    return words


def wordpiece(word: str, vocab: dict[str, int]) -> list[str]:
    """Hugging Face's WordpieceTokenizer on one word: greedy longest match, `##` after the first piece; a
    word over 100 characters or with no cover is `[UNK]`."""
    if len(word) > MAX_WORD_CHARS:
        return [UNK]
    pieces: list[str] = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = piece
                break
            end -= 1
        if found is None:
            return [UNK]
        pieces.append(found)
        start = end
    return pieces


class MecabWordPieceTokenizer:
    """BertJapaneseTokenizer (mecab + wordpiece) from a local vocab.txt; `pieces`, `tokenize` and `encode`
    as `WordPieceTokenizer`'s."""

    def __init__(
        self, vocab_path: str | os.PathLike[str], lowercase: bool = False, dictionary: str = "unidic_lite"
    ) -> None:
        path = Path(vocab_path)
        vocab = load_vocab(path)
        mecab_tagger(dictionary)  # a missing MeCab is found now, not at the first sentence
        self.vocab_path = path
        self.vocab: dict[str, int] = vocab
        self.lowercase = lowercase
        self.dictionary = dictionary
        self.cls_id, self.sep_id, self.unk_id = vocab[CLS], vocab[SEP], vocab[UNK]
        # Like Hugging Face's tokenizers, a literal "[SEP]" etc. in the text is that special token.
        specials = [t for t in (PAD, UNK, CLS, SEP, MASK) if t in vocab]
        self._specials = re.compile("(" + "|".join(map(re.escape, specials)) + ")")

    def __len__(self) -> int:
        return len(self.vocab)

    def pieces(self, text: str) -> list[tuple[str, str]]:
        """The WordPiece tokens, each with the (NFKC-normalized) text of the word part it covers; an
        [UNK] covers its whole word. A special token written in the text ([SEP]) is that token."""
        clean_text = clean(text)
        out: list[tuple[str, str]] = []
        for part in self._specials.split(clean_text):
            if self._specials.fullmatch(part):
                out.append((part, part))
            else:
                out += self._pieces(part)
        return out

    def _pieces(self, clean_text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for surface, start, end in mecab_words(clean_text, self.dictionary):
            word = surface.lower() if self.lowercase else surface
            offset = start
            for piece in wordpiece(word, self.vocab):
                if piece == UNK:
                    out.append((UNK, clean_text[start:end]))
                    continue
                length = len(piece) - 2 if piece.startswith("##") and offset > start else len(piece)
                out.append((piece, clean_text[offset : offset + length]))
                offset += length
        return out

    def tokenize(self, text: str) -> list[str]:
        return [piece for piece, _ in self.pieces(text)]

    def encode(self, text: str) -> list[int]:
        """Token ids with [CLS] first and [SEP] last."""
        return [self.cls_id, *(self.vocab[piece] for piece in self.tokenize(text)), self.sep_id]


class MecabWordTokenizer:
    """MeCab's words alone (no vocabulary): the Japanese front end's pieces without a BERT folder. A word of
    more than 100 characters is `[UNK]`, as WordPiece would make it."""

    def __init__(self, lowercase: bool = False, dictionary: str = "unidic_lite") -> None:
        mecab_tagger(dictionary)
        self.lowercase = lowercase
        self.dictionary = dictionary

    def pieces(self, text: str) -> list[tuple[str, str]]:
        clean_text = clean(text)
        out = []
        for surface, start, end in mecab_words(clean_text, self.dictionary):
            word = surface.lower() if self.lowercase else surface
            out.append((UNK if len(word) > MAX_WORD_CHARS else word, clean_text[start:end]))
        return out

    def tokenize(self, text: str) -> list[str]:
        return [piece for piece, _ in self.pieces(text)]
