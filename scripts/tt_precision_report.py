#!/usr/bin/env python3
"""Measure what each storage precision costs, block by block (PCC against the torch reference).

Runs the ttnn modules on the host emulation (which rounds every tensor to its stored type) with each
candidate precision applied to all blocks, feeds every block the reference's own inputs, and prints a
markdown table per network: the numbers behind the choices in `config.ConverterPrecision` and
`config.MeloPrecision` (README "Precision").

Usage: python scripts/tt_precision_report.py CHECKPOINT_DIR [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from openvoice_tt.tt.parity import Agreement

CANDIDATES = {
    "fp32 / fp32": ("fp32", "fp32"),
    "fp32 / bf16": ("fp32", "bf16"),
    "fp32 / bfp8": ("fp32", "bfp8"),
    "bf16 / bf16": ("bf16", "bf16"),
}
SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs all the way back home again."


def table(title: str, results: dict[str, dict[str, Agreement]], extra: dict[str, str] | None = None) -> str:
    blocks = list(next(iter(results.values())))
    lines = [
        f"**{title}** (activations / weights)",
        "",
        "| block | " + " | ".join(results) + " |",
        "|---|" + "---|" * len(results),
    ]
    lines += [f"| {b} | " + " | ".join(f"{results[c][b].pcc:.6f}" for c in results) + " |" for b in blocks]
    if extra:
        lines.append("| " + " | ".join([extra.pop("label"), *extra.values()]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", type=Path)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from openvoice_tt.config import BlockPrecision, ConverterPrecision, MeloPrecision, TtBuckets
    from openvoice_tt.reference.converter import load_converter_model
    from openvoice_tt.reference.synthesizer import load_melo_synthesizer
    from openvoice_tt.text import EnglishFrontEnd
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_emulated_device
    from openvoice_tt.tt.parity import converter_blocks, melo_blocks, melo_inputs, speechlike_audio
    from openvoice_tt.tt.synthesizer import MeloSynthesizer

    folder = args.checkpoints / "converter"
    converter = load_converter_model(folder / "config.json", folder / "checkpoint.pth")
    audio = speechlike_audio(args.seconds)
    results = {}
    for name, (act, wt) in CANDIDATES.items():
        p = BlockPrecision(act, wt)
        device = open_emulated_device()
        tt = ToneColorConverter(device, converter, ConverterPrecision(BlockPrecision("fp32", "fp32"), p, p, p, p))
        results[name] = converter_blocks(converter, tt, device, audio)
    device = open_emulated_device()
    results["chosen"] = converter_blocks(
        converter, ToneColorConverter(device, converter, ConverterPrecision()), device, audio
    )
    print(table(f"Converter, {args.seconds:g} s of audio", results), "\n")

    folder = args.checkpoints / "melotts-english"
    melo = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    inputs = melo_inputs(EnglishFrontEnd(melo.config.symbols), SENTENCE)
    results, durations = {}, {"label": "durations differing"}
    options = {name: MeloPrecision(*[BlockPrecision(*pair)] * 4) for name, pair in CANDIDATES.items()}
    options["chosen"] = MeloPrecision()
    for name, precision in options.items():
        device = open_emulated_device()
        tt = MeloSynthesizer(device, melo, precision, buckets=TtBuckets(1, 1))
        results[name], differing = melo_blocks(melo, tt, device, inputs)
        durations[name] = f"{differing} of {inputs.phone_ids.numel()}"
    print(table("MeloTTS, one sentence", results, durations))


if __name__ == "__main__":
    main()
