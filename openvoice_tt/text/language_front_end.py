"""What every front end but English's shares: the constructor's checks and the end of a chunk's conversion.

Spanish, French (`latin.LatinFrontEnd`), Chinese, Japanese and Korean each read text their own way, but they
all refuse an ARPAbet lexicon, check their packages and the checkpoint's symbols, take their BERT's
tokenizer (or, without a BERT folder, a word tokenizer with the same settings and one NoBertWarning), and
end a chunk the same way: nothing speakable is a TextError, what was left out is named in one
SkippedTextWarning, and the phones are assembled with the language's tone start and language id. A
subclass sets the class attributes and defines `__call__` in terms of `finish`.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from openvoice_tt.errors import CheckpointError, LexiconError, TextError, preview
from openvoice_tt.text.frontend import JA_BERT_DIM, NoBertWarning, SkippedTextWarning, TextInputs, left_out, text_inputs
from openvoice_tt.text.sequence import assemble
from openvoice_tt.text.symbols import SymbolTable
from openvoice_tt.timing import NULL_TIMER, StageTimer

if TYPE_CHECKING:
    from openvoice_tt.bert.features import BertFeatureExtractor
    from openvoice_tt.bert.tokenizer import Casing
    from openvoice_tt.languages import Language
    from openvoice_tt.text.lexicon import Lexicon


class LanguageFrontEnd:
    """The shared part of a non-English front end (module docstring)."""

    language: ClassVar[Language]
    casing: ClassVar[Casing]
    """The BERT tokenizer's case and accent settings, used by the word tokenizer without a BERT folder."""
    required: ClassVar[frozenset[str]]
    """The phones the checkpoint's symbol list must hold."""
    silent: ClassVar[Collection[str]]
    """Phones that are not speech: a chunk with nothing else has nothing to speak."""
    bert_name: ClassVar[str]
    """The hub name of the language's BERT, for messages."""
    phoneme_source: ClassVar[str]
    """What gives a word its phones (`phonemes`' per-word `source`): gruut, pypinyin, pykakasi, g2pkk."""

    def __init__(
        self,
        symbols: Sequence[str],
        add_blank: bool = True,
        bert: BertFeatureExtractor | None = None,
        lexicon: Lexicon | None = None,
        ja_bert_dim: int = JA_BERT_DIM,
        tokenizer: Any = None,
    ) -> None:
        if lexicon is not None:
            raise LexiconError(f"--lexicon is English-only (ARPAbet); {self.language.name} has no lexicon support")
        self.language.require_packages()
        self.table = SymbolTable(symbols, self.required, self.language.name)
        self.add_blank = add_blank
        self.bert = bert
        self.ja_bert_dim = ja_bert_dim
        if bert is None:
            self.tokenizer = tokenizer if tokenizer is not None else self.word_tokenizer()
            warnings.warn(
                f"no BERT model given: {self.language.name} BERT features (ja_bert) will be zeros. This no-BERT "
                "mode is out of the training distribution and may flatten prosody; pass a local "
                f"{self.bert_name} folder to use real features.",
                NoBertWarning,
                stacklevel=2,
            )
        else:
            if bert.hidden_size != ja_bert_dim:
                raise CheckpointError(
                    f"BERT model gives {bert.hidden_size}-wide features but ja_bert takes {ja_bert_dim} "
                    f"(the {self.language.name} model needs {self.bert_name})"
                )
            self.tokenizer = bert.tokenizer

    def word_tokenizer(self) -> Any:
        """The tokenizer without a BERT folder: one piece per word, with the BERT's casing."""
        from openvoice_tt.bert.tokenizer import WordTokenizer

        return WordTokenizer(self.casing)

    def finish(
        self,
        text: str,
        normalized: str,
        phones: list[str],
        tones: list[int] | None,
        word2ph: list[int],
        skipped: list[str],
        timer: StageTimer = NULL_TIMER,
        defer_bert: bool = False,
        words: tuple[tuple[str, int], ...] = (),
        word_phones: tuple[tuple[str, int], ...] = (),
    ) -> TextInputs:
        """The model inputs of a converted chunk (`tones` None: all 0): a TextError if nothing in it is
        speech, one SkippedTextWarning naming what was left out. The BERT call is timed as stage "bert".
        `words`, `word_phones`: `TextInputs.words` and `.word_phones` (() where not given)."""
        if not any(p not in self.silent for p in phones):
            if skipped:
                raise TextError(f"text has nothing to speak: {preview(text, 40)} (left out: {left_out(skipped)})")
            raise TextError(f"text has nothing to speak: {preview(text)}")
        if skipped:
            warnings.warn(
                f"left out what {self.language.name} cannot speak: {left_out(skipped)}",
                SkippedTextWarning,
                stacklevel=3,  # the caller of the front end
            )
        seq = assemble(
            phones,
            [0] * len(phones) if tones is None else tones,
            word2ph,
            self.table,
            self.add_blank,
            tone_start=self.language.tone_start,
            language_id=self.language.language_id,
        )
        return text_inputs(normalized, seq, self.bert, self.ja_bert_dim, timer, defer_bert, words, word_phones)
