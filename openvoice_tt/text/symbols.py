"""The model's symbol table, and the English tone and language constants (spec §4.2–4.3).

Symbol *ids* are never hard-coded here: two MeloTTS symbol orders exist in the wild and they give
punctuation different ids, so the table is always built from the `symbols` list in the checkpoint's own
`config.json`. What is fixed is the set of symbol *names* each front end can produce, which we use to
check that a config list is usable before anything is synthesized (`SymbolTable(symbols, required)`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path

from openvoice_tt.errors import ConfigError

PAD = "_"
"""Pad symbol; the model's id 0 doubles as the blank that `add_blank` intersperses."""

UNK = "UNK"
"""Symbol for any phone the table does not know (upstream `post_replace_ph`)."""

BLANK_ID = 0
"""Id of the interspersed blank: upstream uses the literal 0 regardless of the list (spec §4.5)."""

EN_TONE_START = 7
"""`language_tone_start_map['EN']`: English tones 0..3 become tone ids 7..10."""

EN_LANGUAGE_ID = 2
"""`language_id_map['EN']`."""

ENGLISH_PHONES = frozenset((
    "aa", "ae", "ah", "ao", "aw", "ay", "b", "ch", "d", "dh", "eh", "er", "ey", "f", "g", "hh", "ih", "iy", "jh",
    "k", "l", "m", "n", "ng", "ow", "oy", "p", "r", "s", "sh", "t", "th", "uh", "uw", "V", "w", "y", "z", "zh",
))  # fmt: skip
"""The 39 English phones: lower-cased ARPAbet, except /v/ which is upper-case `V` (lower `v` is Chinese)."""

PUNCTUATION = frozenset("!?,.'-")
"""Punctuation the English G2P can emit as a phone of its own (tone 0)."""

ENGLISH_REQUIRED = ENGLISH_PHONES | PUNCTUATION | {PAD, UNK}
"""What a checkpoint's symbol list must hold for the English front end."""


UPSTREAM_SYMBOLS = Path(__file__).with_name("data") / "melo_symbols.json"
"""Upstream's symbol list (`melo/text/symbols.py`, 219 entries), for when no checkpoint config is at hand."""


def upstream_symbols() -> tuple[str, ...]:
    """The symbol list of upstream's `melo/text/symbols.py` (ids of the released checkpoints' configs)."""
    return tuple(json.loads(UPSTREAM_SYMBOLS.read_text(encoding="utf-8")))


class SymbolTable:
    """Maps symbol names to ids using the checkpoint config's own list.

    As upstream (`{s: i for i, s in enumerate(symbols)}`), a name listed twice gets its last index.
    Names the table lacks map to `UNK`, as upstream's `post_replace_ph` does. `required` is what the
    front end (named `front_end` in the error) can produce; the list must hold all of it and UNK.
    """

    def __init__(
        self, symbols: Sequence[str], required: Collection[str] = ENGLISH_REQUIRED, front_end: str = "English"
    ) -> None:
        if isinstance(symbols, str) or not all(isinstance(s, str) for s in symbols):
            raise ConfigError("config symbols: expected a list of strings")
        self.symbols: tuple[str, ...] = tuple(symbols)
        self._ids = {s: i for i, s in enumerate(self.symbols)}
        missing = sorted((set(required) | {UNK}) - self._ids.keys())
        if missing:
            raise ConfigError(
                f"config symbols: list of {len(self.symbols)} lacks symbols the {front_end} front end needs: "
                f"{' '.join(missing)}"
            )
        self.unk_id = self._ids[UNK]

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._ids

    def id(self, symbol: str) -> int:
        """Id of `symbol`, or of `UNK` when the table does not list it."""
        return self._ids.get(symbol, self.unk_id)
