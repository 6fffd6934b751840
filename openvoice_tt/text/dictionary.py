"""The shipped pronouncing dictionaries: sorted `WORD<TAB>PHONES` text, looked up by bisection.

`training_dictionary()` is MeloTTS's `cmudict.rep`, the dictionary MeloTTS-English was trained with;
`g2p_en_dictionary()` stands in for the CMUdict g2p_en consults for words cmudict.rep lacks. Both are built
by scripts/build_cmudict.py (sources, checksums and the exact parsing rules are documented there; CMUdict
notices in data/NOTICE). Loading is one gzip decompression (~30 ms): no dict of 130k words is built, a
lookup bisects the sorted text instead (~17 string probes).
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("data")
TRAINING_DICTIONARY = DATA / "melo_cmudict.txt.gz"
G2P_EN_DICTIONARY = DATA / "g2p_en_cmudict.txt.gz"


class PronouncingDictionary:
    """Word -> ARPAbet phones (stress digits intact) over text of `WORD<TAB>PH PH ...` lines sorted by word."""

    def __init__(self, text: str) -> None:
        self._text = text if text.endswith("\n") else text + "\n"

    @classmethod
    def from_gzip(cls, path: Path) -> PronouncingDictionary:
        return cls(gzip.decompress(path.read_bytes()).decode("utf-8"))

    def __len__(self) -> int:
        return self._text.count("\n")

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    def get(self, word: str) -> tuple[str, ...] | None:
        """The phones of `word` (exact, case-sensitive key), or None."""
        text = self._text
        lo, hi = 0, len(text)  # lo and hi are line starts (or the end); the answer's line starts in [lo, hi)
        while lo < hi:
            start = max(text.rfind("\n", 0, (lo + hi) // 2) + 1, lo)
            tab = text.index("\t", start)
            end = text.index("\n", tab)
            key = text[start:tab]
            if key == word:
                return tuple(text[tab + 1 : end].split(" "))
            if key < word:
                lo = end + 1
            else:
                hi = start
        return None


@cache
def training_dictionary() -> PronouncingDictionary:
    """MeloTTS's cmudict.rep (upper-case keys), the entry upstream's read_dict keeps per word."""
    return PronouncingDictionary.from_gzip(TRAINING_DICTIONARY)


@cache
def g2p_en_dictionary() -> PronouncingDictionary:
    """g2p_en's CMUdict stand-in (lower-case keys, first pronunciation); loaded only when a word misses
    the training dictionary."""
    return PronouncingDictionary.from_gzip(G2P_EN_DICTIONARY)
