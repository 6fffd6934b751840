"""The one place a language's front end is built: the class comes from the language registry.

Every caller (TTS, the server, batch) goes through `front_end_class`/`make_front_end`, so a language whose
packages are missing fails the same way everywhere (`MissingPackagesError`, exit 7) and before any model
loads, and a new language needs an entry in `openvoice_tt.languages`, not a branch here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from openvoice_tt.languages import Language

if TYPE_CHECKING:
    from openvoice_tt.bert import BertFeatureExtractor
    from openvoice_tt.text.lexicon import Lexicon


def front_end_class(language: Language) -> Any:
    """The front-end class of `language`, imported now; a MissingPackagesError (exit 7) naming the pip
    extra when its packages are not installed. Call it before loading models, so that error comes first."""
    return language.front_end_class()


def make_front_end(
    language: Language,
    symbols: Sequence[str],
    add_blank: bool,
    bert: BertFeatureExtractor | None,
    lexicon: Lexicon | None,
    cls: Any = None,
) -> Any:
    """`language`'s front end over the model's symbol table (keywords: the English class takes `ja_bert_dim`
    fourth). `cls` is `front_end_class(language)` when already imported."""
    cls = cls if cls is not None else front_end_class(language)
    return cls(symbols, add_blank=add_blank, bert=bert, lexicon=lexicon)
