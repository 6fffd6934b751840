#!/usr/bin/env python3
"""Time the English front end in a fresh process: its import, its first sentence, a later sentence.

The first sentence pays the one-time costs (the BERT tokenizer, the training dictionary's decompression,
torch's import); torch is imported before the clock starts for it and timed on its own line, because
synthesis imports it anyway. Wall and CPU seconds are both printed: on a shared machine the CPU time is
the steadier number.

Usage: PYTHONPATH=$PWD python scripts/time_front_end.py
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

SYMBOLS = Path(__file__).resolve().parents[1] / "tests" / "text" / "data" / "melo_symbols.json"


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def report(label: str, start: tuple[float, float]) -> tuple[float, float]:
    now = clock()
    print(f"{label:<16} {now[0] - start[0]:6.3f} s wall  {now[1] - start[1]:6.3f} s cpu")
    return now


def main() -> None:
    start = clock()
    import openvoice_tt.text as text

    start = report("import", start)
    import torch  # noqa: F401

    start = report("import torch", start)
    warnings.simplefilter("ignore")
    front_end = text.EnglishFrontEnd(json.loads(SYMBOLS.read_text(encoding="utf-8")))
    front_end("The weather today is sunny and warm.")
    start = report("first sentence", start)
    front_end("Cats, dogs, and birds chirp at 7:05 pm.")
    report("next sentence", start)


if __name__ == "__main__":
    main()
