"""`openvoice-tt phonemes` in any language: per chunk, the words with their phones and sources, and the model
inputs the language's front end makes of it (phone, tone and language ids and `word2ph`).

The front end is built through the language registry (`Language.make_front_end`, so a language whose
packages are missing is exit 7 before anything is read) and run as synthesis runs it, chunk by chunk.
Symbol ids come from the symbol list of the language's installed checkpoint (its config.json) when there
is one, else from the bundled list (upstream `melo/text/symbols.py` today; a checkpoint whose config
orders punctuation differently gives other ids, which is why an installed one is preferred). The
output says which list was used.

Word pieces decide `word2ph`: English uses the bundled bert-base-uncased vocabulary (the installed
BERT's own), so it loads no model. Other languages use their BERT's tokenizer: when the language's
BERT folder is installed, it is loaded (as synthesis loads it) so `word2ph` is what the model receives
with it; without it, the front end's no-BERT word pieces (as synthesis without the BERT).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt.errors import TextError, preview
from openvoice_tt.languages import Language
from openvoice_tt.layout import Layout, checkpoint_dir

if TYPE_CHECKING:
    from openvoice_tt.text.frontend import TextInputs
    from openvoice_tt.text.lexicon import Lexicon


@dataclass(frozen=True)
class Symbols:
    """The symbol list the ids come from, and where it was found."""

    names: tuple[str, ...]
    add_blank: bool
    source: str
    """`checkpoint` or `bundled`."""
    path: str | None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "path": self.path, "count": len(self.names), "add_blank": self.add_blank}


def symbols_for(language: Language, checkpoints: Path | None) -> Symbols:
    """The installed checkpoint's symbol list (and add_blank) for `language`, else the bundled list."""
    from openvoice_tt.config import MeloConfig
    from openvoice_tt.text.symbols import upstream_symbols

    config_path = Layout(checkpoint_dir(checkpoints), language.model).melo.config
    if config_path.is_file():
        config = MeloConfig.from_file(config_path)
        return Symbols(tuple(config.symbols), config.data.add_blank, "checkpoint", str(config_path))
    return Symbols(upstream_symbols(), True, "bundled", None)


def model_inputs_json(inputs: TextInputs) -> dict[str, Any]:
    """What the model receives for one chunk: the four id lists (and the phone names of `phone_ids`)."""
    return {
        "phones": list(inputs.phones),
        "phone_ids": inputs.phone_ids.tolist(),
        "tone_ids": inputs.tone_ids.tolist(),
        "language_ids": inputs.language_ids.tolist(),
        "word2ph": list(inputs.word2ph),
    }


APOSTROPHES = "'’"


def piece_words(pieces: list[tuple[str, str]], inputs: TextInputs, source: str = "gruut") -> list[dict[str, Any]]:
    """Per word, its pieces, its phones (blanks and pads left out) and where they came from (`source`, the
    front end's `phoneme_source`, for a word with phones). `word2ph` has one entry per piece plus [CLS] and
    [SEP]; each piece's phones are its slice of `inputs.phones`.

    A word is a piece and the `##` pieces after it, and an apostrophe joins the letters it stands
    between (`l'école`, `aujourd'hui`): a French front end reads an elision as one word and spreads its
    phones over the pieces, so only the whole shows which phones the word got."""
    counts = inputs.word2ph[1:-1]
    if len(counts) != len(pieces):
        raise ValueError(f"word2ph has {len(inputs.word2ph)} entries for {len(pieces)} word pieces")
    text = inputs.normalized
    start, cursor, previous_end = inputs.word2ph[0], 0, -1
    words: list[dict[str, Any]] = []
    for (token, covered), count in zip(pieces, counts, strict=True):
        phones = [p for p in inputs.phones[start : start + count] if p != "_"]
        start += count
        found = text.find(covered, cursor) if covered else -1
        at = found if found >= 0 else cursor
        cursor = at + len(covered)
        touching = at == previous_end
        previous_end = cursor
        joins = bool(words) and (
            (token.startswith("##") and len(token) > 2)
            or (touching and covered in APOSTROPHES and words[-1]["word"][-1:].isalpha())
            or (touching and covered[:1].isalpha() and words[-1]["word"][-1:] in APOSTROPHES)
        )
        if joins:
            words[-1]["pieces"].append(token)
            words[-1]["word"] += covered
            words[-1]["phones"] += phones
        else:
            words.append({"word": covered, "pieces": [token], "phones": phones})
    for word in words:
        if not word["phones"]:
            word["source"] = "none"
        elif not any(c.isalnum() for c in word["word"]):
            word["source"] = "punctuation"
        else:
            word["source"] = source
    return words


def _bert(language: Language, checkpoints: Path | None) -> Any:
    """The language's installed BERT (its tokenizer decides `word2ph`), or None when not installed."""
    from openvoice_tt.bert import BertFeatureExtractor

    return BertFeatureExtractor.from_folder(Layout(checkpoint_dir(checkpoints), language.model).bert, missing_ok=True)


def describe(
    text: str, language: Language, checkpoints: Path | None = None, lexicon: Lexicon | None = None
) -> tuple[Symbols, list[dict[str, Any]]]:
    """The symbol list used, and per synthesis chunk of `text`: text, normalized text, words (word, pieces,
    phones, source; English also arpabet and tones) and `model_inputs` (None for a chunk with nothing to
    speak, with the reason in `unspoken`)."""
    from openvoice_tt.api import phonemes as english_words
    from openvoice_tt.api.validation import MAX_TEXT_CHARS, check_unicode
    from openvoice_tt.text import NoBertWarning
    from openvoice_tt.text.split import chunk_limits, split_text

    language.front_end_class()  # exit 7 when its packages are missing, before anything is read
    english = language.reads_english
    symbols = symbols_for(language, checkpoints)

    def build(bert: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoBertWarning)  # phonemes shows inputs, not BERT features
            return language.make_front_end(symbols.names, symbols.add_blank, bert, lexicon)

    front_end = build(None)  # a refused lexicon or symbol list fails here, before a BERT loads
    bert = None if english else _bert(language, checkpoints)
    if bert is not None:
        front_end = build(bert)
    if english:
        texts = [(chunk.text, chunk.to_json()) for chunk in english_words(text, lexicon)]
    else:  # the checks api.phonemes makes for English
        if len(text) > MAX_TEXT_CHARS:
            raise TextError(f"text is over {MAX_TEXT_CHARS:,} characters (the limit; split it)")
        check_unicode(text, "text")
        limits = chunk_limits(language.splitter)
        texts = [(chunk, None) for chunk in split_text(text, *limits, splitter=language.splitter)]
        if not texts:
            raise TextError(f"text has nothing to speak: {preview(text)}")
    chunks = []
    for chunk_text, english_chunk in texts:
        try:
            inputs = front_end(chunk_text)
        except TextError as e:  # the model receives nothing for this chunk; say why
            row = english_chunk or {"text": chunk_text, "normalized": chunk_text, "words": []}
            chunks.append({**row, "model_inputs": None, "unspoken": str(e)})
            continue
        if english_chunk is not None:
            row = english_chunk
        else:
            pieces = front_end.tokenizer.pieces(inputs.normalized)
            row = {
                "text": chunk_text,
                "normalized": inputs.normalized,
                "words": piece_words(pieces, inputs, front_end.phoneme_source),
            }
        chunks.append({**row, "model_inputs": model_inputs_json(inputs)})
    return symbols, chunks
