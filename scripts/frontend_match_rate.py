#!/usr/bin/env python3
"""How often openvoice_tt's Spanish, French, Japanese or Chinese front end gives upstream MeloTTS's exact model inputs.

Runs the language's front end (found through openvoice_tt.languages) over tests/text/data/golden_<lang>.json
(derived from upstream's own code by scripts/derive_frontend_golden_latin.py, JP by
scripts/derive_frontend_golden_jp.py, tokenized with MeCab + WordPiece as tokenizer_config_jp.json says; ZH by
scripts/derive_frontend_golden_zh.py, KR by scripts/derive_frontend_golden_kr.py) with the goldens' synthetic
BERT vocabulary tests/text/data/vocab_<lang>.txt and the real model's casing
(tests/text/data/tokenizer_config_<lang>.json), no BERT weights (ja_bert zeros, not compared), and counts
the sentences whose phone_ids, tone_ids, language_ids and word2ph (after add_blank) all equal upstream's:
over all sentences, and over those where upstream reads right (the issue's >= 97 % gate). Sentences where
upstream misreads are expected to differ wherever the front end reads them right; a ZH or KR golden where upstream
raises (it records `upstream_error`, no ids) counts as differing.

  PYTHONPATH=$PWD .venv/bin/python scripts/frontend_match_rate.py --language ES [--show 5] [--fail-under 97]

Exit status: 0, or 1 with --fail-under when the rate where upstream reads right is below it; 2 for bad
arguments (argparse). A sentence the front end rejects (an openvoice_tt error) counts as a mismatch and is
listed with its message.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "text" / "data"
FIELDS = ("phone_ids", "tone_ids", "language_ids", "word2ph")


def make_japanese_front_end():
    """JP: the Japanese front end tokenizing with the goldens' synthetic vocabulary through the tokenizer the
    real BERT's tokenizer_config_jp.json asks for (MeCab with unidic-lite, then WordPiece)."""
    from openvoice_tt.bert.tokenizer_config import load_tokenizer
    from openvoice_tt.languages import find_language

    symbols = json.loads((DATA / "melo_symbols.json").read_text(encoding="utf-8"))
    tokenizer = load_tokenizer(DATA / "vocab_jp.txt", DATA / "tokenizer_config_jp.json")
    cls = find_language("JP").front_end_class()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the no-BERT warning: features are not compared here
        return cls(symbols, add_blank=True, tokenizer=tokenizer)


def make_front_end(code: str):
    """The registry's front end for `code` over the checkpoint symbol list, tokenizing with the goldens'
    synthetic vocabulary and the real BERT's casing (tokenizer_config_<lang>.json)."""
    from openvoice_tt.bert.tokenizer import WordPieceTokenizer

    if code.upper() == "JP":
        return make_japanese_front_end()
    from openvoice_tt.languages import find_language

    lang = code.lower()
    symbols = json.loads((DATA / "melo_symbols.json").read_text(encoding="utf-8"))
    try:
        from openvoice_tt.bert.tokenizer import Casing
    except ImportError:  # a tokenizer without casing options cannot reproduce these goldens
        raise SystemExit("openvoice_tt.bert.tokenizer has no Casing: the ES/FR tokenizer options are missing") from None
    casing = Casing.from_config(DATA / f"tokenizer_config_{lang}.json")
    tokenizer = WordPieceTokenizer(DATA / f"vocab_{lang}.txt", casing=casing)
    cls = find_language(code).front_end_class()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the no-BERT warning: features are not compared here
        if "tokenizer" in inspect.signature(cls).parameters:
            front_end = cls(symbols, add_blank=True, tokenizer=tokenizer)
        else:
            front_end = cls(symbols, add_blank=True)
            front_end.tokenizer = tokenizer
    return front_end


def compare(front_end, case: dict) -> tuple[list[str], str]:
    """The fields (or the error) where the front end's output differs from the golden case, and its phones
    (without blanks, as the golden's `phones`)."""
    from openvoice_tt.errors import OpenVoiceError

    if "phone_ids" not in case:  # upstream raised on it (ZH goldens): nothing to compare
        return [f"upstream raised ({case['upstream_error']})"], ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = front_end(case["text"])
    except OpenVoiceError as e:
        return [f"error: {e}"], ""
    if "upstream_error" in case:  # JP: upstream raised on it (いすゞ); a misread by definition
        phones = " ".join(out.phones[1::2]) if front_end.add_blank else " ".join(out.phones)
        return [f"upstream raised {case['upstream_error'].split(':')[0]}"], phones
    got = {
        "phone_ids": out.phone_ids.tolist(),
        "tone_ids": out.tone_ids.tolist(),
        "language_ids": out.language_ids.tolist(),
        "word2ph": list(out.word2ph),
    }
    want = {**{f: case[f] for f in FIELDS[:3]}, "word2ph": case["word2ph_blank"]}
    phones = " ".join(out.phones[1::2]) if front_end.add_blank else " ".join(out.phones)
    return [f for f in FIELDS if got[f] != want[f]], phones


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", required=True, type=str.upper, choices=["ES", "FR", "JP", "ZH", "KR"])
    parser.add_argument("--show", type=int, default=0, metavar="N", help="list the first N mismatches of each kind")
    parser.add_argument(
        "--fail-under", type=float, metavar="PCT", help="exit 1 below this rate where upstream reads right"
    )
    args = parser.parse_args()
    cases = json.loads((DATA / f"golden_{args.language.lower()}.json").read_text(encoding="utf-8"))
    front_end = make_front_end(args.language)
    results = [(case, *compare(front_end, case)) for case in cases]
    right = [r for r in results if r[0]["upstream_reads_right"]]
    wrong = [r for r in results if not r[0]["upstream_reads_right"]]

    def line(name: str, group: list) -> str:
        n = sum(not d for _, d, _ in group)
        return f"{name}: {n}/{len(group)} exact ({100 * n / max(len(group), 1):.1f} %)"

    print(f"{args.language} front end vs upstream goldens ({len(cases)} sentences)")
    print("  " + line("all sentences", results))
    print("  " + line("where upstream reads right", right))
    print("  " + line("where upstream misreads", wrong))
    for title, group in (("upstream reads right", right), ("upstream misreads", wrong)):
        misses = [r for r in group if r[1]][: args.show]
        for c, d, phones in misses:
            print(f"  mismatch ({title}): {c['text']!r}: {', '.join(d)}")
            if phones:
                print(f"    upstream: {c.get('phones', c.get('upstream_error'))}")
                print(f"    ours:     {phones}")
    rate = 100 * sum(not d for _, d, _ in right) / max(len(right), 1)
    return 1 if args.fail_under is not None and rate < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
