"""BERT for MeloTTS's English prosody features: WordPiece tokenizer, torch encoder, feature extractor.

The tokenizer is torch-free and always available (bundled vocabulary); `BertEncoder` and
`BertFeatureExtractor` import torch, so they are loaded only when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openvoice_tt.bert.tokenizer import WordPieceTokenizer

if TYPE_CHECKING:
    from openvoice_tt.bert.features import BertFeatureExtractor
    from openvoice_tt.bert.model import BertConfig, BertEncoder

__all__ = ["BertConfig", "BertEncoder", "BertFeatureExtractor", "WordPieceTokenizer"]

_LAZY = {
    "BertConfig": "openvoice_tt.bert.model",
    "BertEncoder": "openvoice_tt.bert.model",
    "BertFeatureExtractor": "openvoice_tt.bert.features",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
