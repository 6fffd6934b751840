"""Shared by the front-end golden tests (Spanish and French, and the Chinese, Japanese and Korean ones for
the comparison): front ends over the goldens' synthetic vocabulary with the real BERTs' casing
(tests/text/data/*_<lang> files, see scripts/derive_frontend_golden_*.py), and a comparison of their output
with a golden case."""

from __future__ import annotations

import warnings

from openvoice_tt.bert.tokenizer import Casing, WordPieceTokenizer
from tests.text.text_testdata import DATA, load_json


def tokenizer(lang: str) -> WordPieceTokenizer:
    return WordPieceTokenizer(DATA / f"vocab_{lang}.txt", Casing.from_config(DATA / f"tokenizer_config_{lang}.json"))


def front_end(cls, lang: str, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NoBertWarning: the features are not what these tests check
        return cls(load_json("melo_symbols.json"), tokenizer=tokenizer(lang), **kwargs)


def run(fe, text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fe(text)


def model_inputs(out) -> dict:
    return {
        "normalized": out.normalized,
        "phone_ids": out.phone_ids.tolist(),
        "tone_ids": out.tone_ids.tolist(),
        "language_ids": out.language_ids.tolist(),
        "word2ph": list(out.word2ph),
    }


def golden_inputs(case: dict) -> dict:
    return {
        "normalized": case["normalized"],
        "phone_ids": case["phone_ids"],
        "tone_ids": case["tone_ids"],
        "language_ids": case["language_ids"],
        "word2ph": case["word2ph_blank"],
    }


def spoken(out) -> str:
    """The phones between the pads, blanks dropped, as one string."""
    return "".join(out.phones[1::2][1:-1])


def mismatches(fe, cases: list[dict]) -> list[str]:
    return [case["text"] for case in cases if model_inputs(run(fe, case["text"])) != golden_inputs(case)]
