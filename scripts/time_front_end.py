#!/usr/bin/env python3
"""Time a front end in a fresh process: its import, its first sentence, a later sentence.

The first sentence pays the one-time costs (the BERT tokenizer, the English training dictionary's
decompression, or gruut's import and its lexicon and models for Spanish and French, MeCab with
unidic-lite and pykakasi's dictionaries for Japanese;
for Chinese jieba's dictionary (its cache built once under ~/.cache/openvoice-tt, then loaded), pypinyin's and cn2an's
imports; g2pkk's rules and MeCab with mecab-ko-dic for Korean; torch's import);
torch is imported before the clock starts for it and timed on its own line, because synthesis imports
it anyway. Wall and CPU seconds are both printed: on a shared machine the CPU time is the steadier number.
No BERT weights are used (the features are zeros), so this is the text front end alone.

Usage: PYTHONPATH=$PWD python scripts/time_front_end.py [--language EN|ES|FR|JP|ZH|KR]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

SYMBOLS = Path(__file__).resolve().parents[1] / "openvoice_tt" / "text" / "data" / "melo_symbols.json"

SENTENCES = {
    "EN": ("The weather today is sunny and warm.", "Cats, dogs, and birds chirp at 7:05 pm."),
    "ES": ("El tiempo hoy es soleado y cálido.", "Los gatos, los perros y los pájaros cantan a las siete."),
    "FR": (
        "Le temps est ensoleillé et doux aujourd'hui.",
        "Les chats, les chiens et les oiseaux chantent à sept heures.",
    ),
    "JP": ("今日はいい天気で、暖かいです。", "猫と犬と鳥が七時に鳴きます。"),
    "ZH": ("今天天气很好，我们去公园散步吧。", "我最近在学习machine learning，希望8:30能到。"),
    "KR": ("오늘은 날씨가 맑고 따뜻합니다.", "고양이와 강아지가 오후 3시에 공원에서 놀아요."),
}


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def report(label: str, start: tuple[float, float]) -> tuple[float, float]:
    now = clock()
    print(f"{label:<16} {now[0] - start[0]:6.3f} s wall  {now[1] - start[1]:6.3f} s cpu")
    return now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", default="EN", type=str.upper, choices=sorted(SENTENCES))
    code = parser.parse_args().language
    start = clock()
    import openvoice_tt.text as text
    from openvoice_tt.languages import find_language

    cls = find_language(code).front_end_class() if code != "EN" else text.EnglishFrontEnd
    start = report("import", start)
    import torch  # noqa: F401

    start = report("import torch", start)
    warnings.simplefilter("ignore")
    front_end = cls(json.loads(SYMBOLS.read_text(encoding="utf-8")))
    first, later = SENTENCES[code]
    front_end(first)
    start = report("first sentence", start)
    front_end(later)
    report("next sentence", start)


if __name__ == "__main__":
    main()
