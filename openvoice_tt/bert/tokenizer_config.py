"""Which tokenizer a BERT folder needs, from its `tokenizer_config.json`.

Plain BERTs (bert-base-uncased, BETO, the French Europeana BERT, multilingual uncased, kykim's Korean BERT)
use `WordPieceTokenizer` with the config's casing (`Casing.from_config`, unchanged). The Japanese
bert-base-japanese-v3 says `word_tokenizer_type: mecab` (with `mecab_kwargs.mecab_dic: unidic_lite`,
`subword_tokenizer_type: wordpiece`, `do_lower_case: false`): it gets `MecabWordPieceTokenizer`, whose
module (and MeCab) is imported only then.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from openvoice_tt.bert.tokenizer import Casing, WordPieceTokenizer, read_tokenizer_config
from openvoice_tt.errors import CheckpointError


def uses_mecab(config: dict[str, Any]) -> bool:
    return config.get("word_tokenizer_type") == "mecab" or config.get("tokenizer_class") == "BertJapaneseTokenizer"


def load_tokenizer(vocab: str | os.PathLike[str] | None, config_path: str | os.PathLike[str]) -> Any:
    """The tokenizer that `config_path` (a tokenizer_config.json, maybe absent) asks for over `vocab`
    (None: the bundled bert-base-uncased vocabulary, plain WordPiece only)."""
    config_path = Path(config_path)
    config = read_tokenizer_config(config_path)
    if not uses_mecab(config):
        word_type = config.get("word_tokenizer_type", "basic")
        if word_type != "basic":
            raise CheckpointError(f"{config_path}: word_tokenizer_type {word_type!r} is not supported (basic, mecab)")
        return WordPieceTokenizer(vocab, Casing.from_config(config_path))
    word_type = config.get("word_tokenizer_type", "basic")
    subword = config.get("subword_tokenizer_type", "wordpiece")
    if word_type != "mecab" or subword != "wordpiece":
        raise CheckpointError(
            f"{config_path}: a Japanese BERT tokenizer with word_tokenizer_type {word_type!r} and "
            f"subword_tokenizer_type {subword!r} is not supported (mecab + wordpiece, as bert-base-japanese-v3)"
        )
    kwargs = config.get("mecab_kwargs") or {}
    if not isinstance(kwargs, dict) or kwargs.get("mecab_option"):
        raise CheckpointError(f"{config_path}: mecab_kwargs may name mecab_dic only (got {kwargs!r})")
    lowercase = config.get("do_lower_case", False)
    if not isinstance(lowercase, bool):
        raise CheckpointError(f"{config_path}: do_lower_case must be true/false")
    if vocab is None:
        raise CheckpointError(f"{config_path.parent}: vocab.txt not found (a Japanese BERT needs its own)")
    from openvoice_tt.bert.mecab import MecabWordPieceTokenizer

    return MecabWordPieceTokenizer(vocab, lowercase=lowercase, dictionary=kwargs.get("mecab_dic", "unidic_lite"))
