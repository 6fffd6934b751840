#!/usr/bin/env python3
"""Measure what each storage precision and math fidelity costs, block by block (PCC against torch).

Runs the ttnn modules on the faithful host emulation (what a chip computes: 19-bit matrix-unit operands,
the math fidelity's phases, every tensor rounded to its stored type) with each candidate precision
applied to all blocks at the chosen fidelity, then the chosen configuration at lower fidelities and on
the exact (float32-math) emulation; feeds every block the reference's own inputs (MeloTTS's vocoder and
flow on the reference's durations), and prints a markdown table per network: the numbers behind
`config.ConverterPrecision`, `config.MeloPrecision` and `config.MathConfig` (README "Precision").

Usage: python scripts/tt_precision_report.py CHECKPOINT_DIR [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from scripts.tt_parity import Agreement

CANDIDATES = {
    "fp32 / fp32": ("fp32", "fp32"),
    "fp32 / bf16": ("fp32", "bf16"),
    "fp32 / bfp8": ("fp32", "bfp8"),
    "bf16 / bf16": ("bf16", "bf16"),
}
FIDELITIES = ("HiFi2",)  # the chosen storage at a lower fidelity (HiFi4 + fp32 is refused on Wormhole)
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
    parser.add_argument(
        "--columns", nargs="+", metavar="NAME", help='measure only these columns, e.g. "chosen, HiFi3" (slow machines)'
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from openvoice_tt.config import BlockPrecision, ConverterPrecision, MathConfig, MeloPrecision, TtBuckets
    from openvoice_tt.reference.converter import load_converter_model
    from openvoice_tt.reference.synthesizer import load_melo_synthesizer
    from openvoice_tt.text import EnglishFrontEnd
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_emulated_device
    from openvoice_tt.tt.synthesizer import MeloSynthesizer
    from scripts.tt_parity import converter_blocks, melo_blocks, melo_inputs, speechlike_audio

    def at(precision, fidelity: str):
        """Every block of a ConverterPrecision / MeloPrecision at another math fidelity."""
        blocks = {f.name: replace(getattr(precision, f.name), math=MathConfig(fidelity)) for f in fields(precision)}
        return type(precision)(**blocks)

    default_fidelity = MathConfig().fidelity
    folder = args.checkpoints / "converter"
    converter = load_converter_model(folder / "config.json", folder / "checkpoint.pth")
    audio = speechlike_audio(args.seconds)
    options = {}
    for name, (act, wt) in CANDIDATES.items():
        p = BlockPrecision(act, wt)
        options[name] = ("faithful", ConverterPrecision(BlockPrecision("fp32", "fp32"), p, p, p, p))
    options[f"chosen, {default_fidelity}"] = ("faithful", ConverterPrecision())
    options |= {f"chosen, {f}": ("faithful", at(ConverterPrecision(), f)) for f in FIDELITIES}
    options["chosen, exact math"] = ("exact", ConverterPrecision())
    options = {name: option for name, option in options.items() if not args.columns or name in args.columns}
    results = {}
    for name, (mode, precision) in options.items():
        device = open_emulated_device(mode)
        results[name] = converter_blocks(converter, ToneColorConverter(device, converter, precision), device, audio)
        print(f"converter: {name} done", file=sys.stderr, flush=True)
    print(table(f"Converter, {args.seconds:g} s of audio", results), "\n")

    folder = args.checkpoints / "melotts-english"
    melo = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    inputs = melo_inputs(EnglishFrontEnd(melo.config.symbols), SENTENCE)
    results, durations = {}, {"label": "durations differing"}
    options = {name: ("faithful", MeloPrecision(*[BlockPrecision(*pair)] * 4)) for name, pair in CANDIDATES.items()}
    options[f"chosen, {default_fidelity}"] = ("faithful", MeloPrecision())
    options |= {f"chosen, {f}": ("faithful", at(MeloPrecision(), f)) for f in FIDELITIES}
    options["chosen, exact math"] = ("exact", MeloPrecision())
    options = {name: option for name, option in options.items() if not args.columns or name in args.columns}
    for name, (mode, precision) in options.items():
        device = open_emulated_device(mode)
        tt = MeloSynthesizer(device, melo, precision, buckets=TtBuckets(1, 1))
        results[name], differing = melo_blocks(melo, tt, device, inputs, waveform=True)
        durations[name] = f"{differing} of {inputs.phone_ids.numel()}"
        print(f"melotts: {name} done", file=sys.stderr, flush=True)
    print(table("MeloTTS, one sentence", results, durations))


if __name__ == "__main__":
    main()
