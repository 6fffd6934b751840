"""What the front end makes of text, without any model: user lexicons and per-word phonemes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openvoice_tt.api.validation import MAX_TEXT_CHARS, SYNTHESIS, check_unicode
from openvoice_tt.errors import TextError, preview

if TYPE_CHECKING:
    from openvoice_tt.api.speech import PathLike
    from openvoice_tt.text.lexicon import Lexicon
    from openvoice_tt.text.phonemes import ChunkPhonemes


def load_lexicon(lexicon: PathLike | Lexicon | None) -> Lexicon | None:
    """A user lexicon from its file (a LexiconError names the file and line of a bad entry), as is, or None."""
    from openvoice_tt.text.lexicon import Lexicon

    if lexicon is None or isinstance(lexicon, Lexicon):
        return lexicon
    return Lexicon.load(lexicon)


def phonemes(text: str, lexicon: PathLike | Lexicon | None = None) -> list[ChunkPhonemes]:
    """Per synthesis chunk of `text`: the normalized text and, per word, its phones and their source.

    Loads no checkpoint. Text that gives no chunk at all (empty, only spaces) is a TextError.
    """
    from openvoice_tt.text.phonemes import describe

    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise TextError(f"text is over {MAX_TEXT_CHARS:,} characters (the limit; split it)")
    check_unicode(text, "text")
    chunks = describe(text, SYNTHESIS.max_chunk_chars, load_lexicon(lexicon))
    if not chunks:
        raise TextError(f"text has nothing to speak: {preview(text)}")
    return chunks
