"""The English front end: one chunk of text -> everything MeloTTS's text encoder takes (spec §4).

torch is imported only when a chunk is converted, so `import openvoice_tt.text` stays light; BERT
weights are optional (spec §4.7: without them `ja_bert` is zeros, announced by one warning).
"""

from __future__ import annotations

import string
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from openvoice_tt.errors import CheckpointError, TextError, preview
from openvoice_tt.text.g2p import g2p
from openvoice_tt.text.lexicon import Lexicon
from openvoice_tt.text.normalize import normalize_text
from openvoice_tt.text.sequence import PhoneSequence, assemble
from openvoice_tt.text.symbols import ENGLISH_PHONES, SymbolTable
from openvoice_tt.timing import NULL_TIMER, StageTimer

if TYPE_CHECKING:
    import torch

    from openvoice_tt.bert.features import BertFeatureExtractor

BERT_DIM = 1024
"""Width of the `bert` input (Chinese BERT); always zeros for English (spec §4.6)."""

JA_BERT_DIM = 768
"""Width of the `ja_bert` input, where English bert-base-uncased features go."""


class NoBertWarning(UserWarning):
    """The front end runs without BERT weights, so `ja_bert` is zeros (spec §4.7)."""


class SkippedTextWarning(UserWarning):
    """Part of a chunk has no English pronunciation (another script, a symbol, a word over 100 characters)
    and is not spoken; the warning names it."""


class ForeignTextWarning(UserWarning):
    """The text has letters of another Latin-script language (Spanish ñ ¿ ¡, French ç œ, accented vowels):
    it is read with English letter-to-sound all the same; the warning says so once per text."""


_LANGUAGE_MARKS = (
    ("Spanish", "ñ¿¡áíóú"),
    ("French", "çœæàâèêëîïôùûÿé"),
    ("German", "äöüß"),
    ("Portuguese", "ãõ"),
)


_SPEAKER_FOR = {"Spanish": "ES", "French": "FR"}
"""The base speaker that speaks a language `foreign_letters` may name."""


def zero_features(dim: int, length: int) -> torch.Tensor:
    """float32 [dim, length] of zeros as an expanded view of one [dim, 1] column: 4 * dim bytes whatever
    the length, so a long text's prepared chunks hold no per-token zeros (a view: read it, never write it)."""
    import torch

    return torch.zeros(dim, 1).expand(dim, length)


def foreign_letters(text: str) -> str | None:
    """A notice when `text` has Latin letters with non-English diacritics (None otherwise): which language
    it looks like, and that English letter-to-sound reads it."""
    import unicodedata

    lowered = text.lower()
    found = sorted({c for c in lowered if c in "¿¡" or (not c.isascii() and "LATIN" in unicodedata.name(c, ""))})
    if not found:
        return None
    scores = [(sum(c in marks for c in found), name) for name, marks in _LANGUAGE_MARKS]
    best, name = max(scores)
    language = name if best else "another language"
    shown = "".join(found[:8])
    hint = _SPEAKER_FOR.get(language)
    advice = (
        f"; for {language} speech pick the {hint} speaker (--speaker {hint})"
        if hint
        else "; English, Spanish (ES) and French (FR) are the languages spoken"
    )
    return (
        f"the text looks like {language} ({shown}): it is read with English letter-to-sound, as English words{advice}"
    )


def _unspoken_words(pieces: Sequence[tuple[str, str]], word2ph: Sequence[int]) -> list[str]:
    """The words (WordPiece groups, as `g2p.group_tokens` forms them) that got no phone, except ASCII
    punctuation (`:`, `;`, quotes, brackets): upstream reads it as no phone too, and it says nothing."""
    words: list[tuple[str, int]] = []
    for (token, covered), count in zip(pieces, word2ph, strict=True):
        if token.startswith("##") and len(token) > 2 and words:
            words[-1] = (words[-1][0] + covered, words[-1][1] + count)
        else:
            words.append((covered, count))
    return [word for word, count in words if count == 0 and not all(c in string.punctuation for c in word)]


def left_out(words: Sequence[str]) -> str:
    """The left-out words, quoted, each saying why when it is its length."""
    from openvoice_tt.bert.tokenizer import MAX_WORD_CHARS

    shown = [
        f"{preview(w, 24)} (longer than {MAX_WORD_CHARS} characters)" if len(w) > MAX_WORD_CHARS else preview(w, 24)
        for w in words[:6]
    ]
    return ", ".join(shown) + (f" and {len(words) - 6} more" if len(words) > 6 else "")


@dataclass(frozen=True, eq=False)
class TextInputs:
    """Model inputs for one chunk. T = len(phones); with add_blank, T = 2 * (phones incl. pads) + 1.

    `phones[i]` is the symbol name of `phone_ids[i]` (pads and blanks are `_`, unknown phones `UNK`);
    `word2ph` has one entry per BERT token including [CLS] and [SEP], and sums to T.
    `features` is `ja_bert` or, when the front end was asked to defer BERT, what computes it
    (`features(timer)`, timed as "bert"): prepared chunks then hold no per-token floats until spoken, and
    `with_features(timer)` gives the chunk with them, just before synthesis (pipeline's chunk loop).
    `words` groups the pieces of `word2ph` ([CLS]/[SEP] not counted) into words, for word timings
    (`openvoice_tt.word_timings`); front ends that do not split words give (). `word_phones` gives the
    words by their phones instead ([CLS]/[SEP] not counted), where the front end's words do not follow the
    BERT pieces (Japanese: MeCab reads the katakana reading of a phrase as one word).
    """

    normalized: str
    phones: tuple[str, ...]
    phone_ids: torch.Tensor  # int64 [T]
    tone_ids: torch.Tensor  # int64 [T]
    language_ids: torch.Tensor  # int64 [T]
    word2ph: tuple[int, ...]
    bert: torch.Tensor  # float32 [1024, T], zeros for English
    features: torch.Tensor | Callable[[StageTimer], torch.Tensor]  # ja_bert, or what computes it
    words: tuple[tuple[str, int], ...] = ()  # (normalized word, its BERT pieces) in order; () where not given
    word_phones: tuple[tuple[str, int], ...] = ()  # (normalized word, its phones) in order; () where not given

    @property
    def ja_bert(self) -> torch.Tensor:
        """float32 [768, T]; computed on each read while deferred (see `with_features`)."""
        return self.features(NULL_TIMER) if self.deferred else self.features  # type: ignore[operator,return-value]

    @property
    def deferred(self) -> bool:
        return callable(self.features)

    def with_features(self, timer: StageTimer = NULL_TIMER) -> TextInputs:
        """These inputs with `ja_bert` computed (timed as "bert"); themselves when nothing is deferred."""
        if not self.deferred:
            return self
        return replace(self, features=self.features(timer))  # type: ignore[operator]


def text_inputs(
    normalized: str,
    seq: PhoneSequence,
    bert: BertFeatureExtractor | None,
    dim: int,
    timer: StageTimer,
    defer: bool,
    words: tuple[tuple[str, int], ...] = (),
    word_phones: tuple[tuple[str, int], ...] = (),
) -> TextInputs:
    """The model inputs of an assembled chunk, for every front end: ids as tensors, `bert` zeros (a view), and
    `features` zeros without a BERT; with one, its features now (timed as "bert") or, when `defer`, a
    callable that computes them when the chunk is spoken."""
    import torch

    length = len(seq.phone_ids)
    features: torch.Tensor | Callable[[StageTimer], torch.Tensor]
    if bert is None:
        features = zero_features(dim, length)
    else:

        def compute(timer: StageTimer) -> torch.Tensor:
            with timer("bert"):
                return bert(normalized, seq.word2ph)

        features = compute if defer else compute(timer)
    return TextInputs(
        normalized=normalized,
        phones=seq.phones,
        phone_ids=torch.tensor(seq.phone_ids, dtype=torch.long),
        tone_ids=torch.tensor(seq.tone_ids, dtype=torch.long),
        language_ids=torch.tensor(seq.language_ids, dtype=torch.long),
        word2ph=seq.word2ph,
        bert=zero_features(BERT_DIM, length),
        features=features,
        words=words,
        word_phones=word_phones,
    )


JOINERS = "'-’"
"""Marks that join the words either side of them when written without spaces (`don't`, `well-known`): BERT
splits there and the model reads the parts apart, but a reader sees one word."""


def piece_words(pieces: Sequence[tuple[str, str]], text: str = "") -> tuple[tuple[str, int], ...]:
    """WordPiece pieces `(token, covered text)` of `text` grouped into words: `(the word's text, its pieces)`.
    A `##` piece joins the word before it (as `_unspoken_words` groups them); a joiner (`'`, `-`) written
    between two pieces with nothing around it joins them too (`don't` is one word, not `don`, `'`, `t`)."""
    spans: list[tuple[int, int]] = []  # each piece's place in `text` ((-1, -1): not found)
    cursor = 0
    for _, covered in pieces:
        found = text.find(covered, cursor) if covered else -1
        spans.append((found, found + len(covered)) if found >= 0 else (-1, -1))
        cursor = found + len(covered) if found >= 0 else cursor

    def touch(left: int, right: int) -> bool:
        return left >= 0 and right < len(pieces) and spans[left][1] == spans[right][0] >= 0

    def joiner(i: int) -> bool:
        covered = pieces[i][1]
        return bool(covered) and all(c in JOINERS for c in covered)

    words: list[tuple[str, int]] = []
    for i, (token, covered) in enumerate(pieces):
        continued = token.startswith("##") and len(token) > 2
        glued = joiner(i) and touch(i - 1, i) and touch(i, i + 1) and not joiner(i - 1) and not joiner(i + 1)
        after_glue = i >= 2 and joiner(i - 1) and not joiner(i - 2) and not joiner(i) and touch(i - 2, i - 1)
        after_glue = after_glue and touch(i - 1, i)
        if words and (continued or glued or after_glue):
            words[-1] = (words[-1][0] + covered, words[-1][1] + 1)
        else:
            words.append((covered, 1))
    return tuple(words)


class EnglishFrontEnd:
    """Normalize, tokenize, G2P and assemble one chunk; see `TextInputs`.

    `symbols` is the `symbols` list of the checkpoint's config.json (ids depend on its order).
    `bert` gives the `ja_bert` features; None means zeros, with one `NoBertWarning` when constructed.
    `lexicon` (the user's pronunciations) overrides the dictionaries and the letter-to-sound model.
    """

    def __init__(
        self,
        symbols: Sequence[str],
        add_blank: bool = True,
        bert: BertFeatureExtractor | None = None,
        ja_bert_dim: int = JA_BERT_DIM,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.table = SymbolTable(symbols)
        self.lexicon = lexicon
        self.add_blank = add_blank
        self.bert = bert
        self.ja_bert_dim = ja_bert_dim
        if bert is None:
            from openvoice_tt.bert.tokenizer import WordPieceTokenizer

            self.tokenizer = WordPieceTokenizer()
            warnings.warn(
                "no BERT model given: English BERT features (ja_bert) will be zeros. This no-BERT mode is "
                "out of the training distribution and may flatten prosody; pass a local bert-base-uncased "
                "folder to use real features.",
                NoBertWarning,
                stacklevel=2,
            )
        else:
            if bert.hidden_size != ja_bert_dim:
                raise CheckpointError(
                    f"BERT model gives {bert.hidden_size}-wide features but ja_bert takes {ja_bert_dim} "
                    "(the English model needs bert-base-uncased)"
                )
            self.tokenizer = bert.tokenizer

    def __call__(self, text: str, timer: StageTimer = NULL_TIMER, defer_bert: bool = False) -> TextInputs:
        """Model inputs for one chunk; raises TextError if it has nothing to speak. Words it cannot speak
        (other scripts, symbols, words over 100 characters) are left out with one SkippedTextWarning. The
        BERT call is timed as stage "bert" on `timer` (the caller's, so concurrent calls keep their
        timings apart); `defer_bert` leaves it to `TextInputs.with_features`, when the chunk is spoken."""
        normalized = normalize_text(text)
        pieces = self.tokenizer.pieces(normalized)
        phones, tones, word2ph = g2p([token for token, _ in pieces], self.lexicon)
        skipped = _unspoken_words(pieces, word2ph)
        if not any(p in ENGLISH_PHONES for p in phones):
            if skipped:  # say why, with less of the text itself
                raise TextError(f"text has nothing to speak: {preview(text, 40)} (left out: {left_out(skipped)})")
            raise TextError(f"text has nothing to speak: {preview(text)}")
        if skipped:
            warnings.warn(f"left out what English cannot speak: {left_out(skipped)}", SkippedTextWarning, stacklevel=2)
        seq = assemble(phones, tones, word2ph, self.table, self.add_blank)
        words = piece_words(pieces, normalized)
        return text_inputs(normalized, seq, self.bert, self.ja_bert_dim, timer, defer_bert, words)
