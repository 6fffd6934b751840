#!/usr/bin/env python3
"""Measure what each storage precision and math fidelity costs, block by block (PCC against torch).

Runs the ttnn modules on the faithful host emulation (what a chip computes: 19-bit matrix-unit operands,
the math fidelity's phases, every tensor rounded to its stored type) with each candidate (activations /
weights, fidelity) applied to every block, then the shipped configuration (`tt.settings.ConverterPrecision`,
`tt.settings.MeloPrecision`: per block, the lowest candidate that holds PCC >= 0.999); feeds every block the
reference's own inputs (MeloTTS's flow and vocoder on the reference's durations), so one run measures
each block at one candidate independently of the others. Prints a markdown table per network with the
FLOPs each block carries (matrix and conv ops, counted by the op trace, per audio second): the numbers
behind README "Precision per block".

Usage: python scripts/tt_precision_report.py CHECKPOINT_DIR [--seconds 5] [--columns NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from scripts.tt_parity import Agreement

# Lowest first: a block takes the first that holds (README "Precision per block").
CANDIDATES = {
    "bf16 / bfp8 LoFi": ("bf16", "bfp8", "LoFi"),
    "bf16 / bfp8 HiFi2": ("bf16", "bfp8", "HiFi2"),
    "fp32 / bfp8 HiFi2": ("fp32", "bfp8", "HiFi2"),
    "fp32 / bf16 HiFi3": ("fp32", "bf16", "HiFi3"),
    "fp32 / fp32 HiFi3": ("fp32", "fp32", "HiFi3"),
}
CHOSEN = "chosen"
SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs all the way back home again."
# Which ttnn module of the synthesizer / converter each reported block runs.
CONVERTER_MODULES = {
    "spectrogram": "spectrogram",
    "reference_encoder": "ref_enc",
    "posterior_encoder": "enc_q",
    "flow_forward": "flow",
    "flow_reverse": "flow",
    "vocoder": "dec",
}
MELO_MODULES = {
    "text_encoder.h": "enc_p",
    "text_encoder.m_p": "enc_p",
    "text_encoder.logs_p": "enc_p",
    "sdp": "sdp",
    "dp": "dp",
    "flow": "flow",
    "vocoder": "dec",
}


@dataclass
class FirstCallFlops:
    """Stands in for one ttnn module and keeps, per method, the FLOPs of its first call (counted by the
    device's op trace): per-block FLOPs without touching the parity harness. A block's FLOPs are those of
    its largest entry point (the converter flow's `__call__`, not its `condition`)."""

    module: Any
    trace: Any
    first_calls: dict[str, int] = field(default_factory=dict)
    args: dict[str, tuple] = field(default_factory=dict)

    @property
    def flops(self) -> int:
        return max(self.first_calls.values())

    def _counted(self, name: str, function: Callable) -> Callable:
        def call(*args: Any, **kwargs: Any) -> Any:
            before, recording = self.trace.flops, self.trace.recording
            self.trace.recording = True
            try:
                return function(*args, **kwargs)
            finally:
                self.trace.recording = recording
                if name not in self.first_calls:
                    self.first_calls[name], self.args[name] = self.trace.flops - before, args

        return call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted("__call__", self.module)(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.module, name)
        return self._counted(name, attr) if callable(attr) and not isinstance(attr, type) else attr


def count_flops(tt: Any, modules: dict[str, str]) -> dict[str, FirstCallFlops]:
    """Wrap `tt`'s modules in place (they keep computing the same values); returns the counters."""
    counters = {name: FirstCallFlops(getattr(tt, name), tt.device.ttnn) for name in set(modules.values())}
    for name, counter in counters.items():
        setattr(tt, name, counter)
    return counters


def label(precision: Any) -> str:
    """A BlockPrecision as the tables name it: "bf16 / bfp8 HiFi2"."""
    return f"{precision.activations} / {precision.weights} {precision.math.fidelity}"


def table(
    title: str,
    results: dict[str, dict[str, Agreement]],
    gflops: dict[str, float],
    extra: dict[str, dict[str, str]],
    chosen: dict[str, str],
) -> str:
    """Markdown: one row per block, one column per candidate; the chosen column names each block's choice."""
    blocks = list(dict.fromkeys(b for column in results.values() for b in column))
    lines = [
        f"**{title}** (activations / weights, math fidelity; PCC against torch)",
        "",
        "| block | GFLOP per audio second | " + " | ".join(results) + " |",
        "|---|---|" + "---|" * len(results),
    ]
    for b in blocks:
        flops = f"{gflops[b]:.2f}" if b in gflops else ""
        cells = [f"{results[c][b].pcc:.6f}" if b in results[c] else "" for c in results]
        if CHOSEN in results and b in chosen and b in results[CHOSEN]:
            cells[list(results).index(CHOSEN)] += f" ({chosen[b]})"
        lines.append(f"| {b} | {flops} | " + " | ".join(cells) + " |")
    for row, cells in extra.items():
        lines.append(f"| {row} | | " + " | ".join(cells.get(c, "") for c in results) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", type=Path)
    parser.add_argument("--seconds", type=float, default=5.0, help="converter input length")
    parser.add_argument(
        "--columns",
        nargs="+",
        metavar="NAME",
        choices=[*CANDIDATES, CHOSEN],
        help='measure only these columns, e.g. "chosen" (the full table takes hours on a 2-core machine)',
    )
    parser.add_argument("--skip", nargs="+", choices=["converter", "melotts"], default=[], help="networks to skip")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from openvoice_tt.reference.converter import load_converter_model
    from openvoice_tt.reference.synthesizer import load_melo_synthesizer
    from openvoice_tt.text import EnglishFrontEnd
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_emulated_device
    from openvoice_tt.tt.settings import BlockPrecision, ConverterPrecision, MathConfig, MeloPrecision, TtBuckets
    from openvoice_tt.tt.synthesizer import MeloSynthesizer
    from scripts.tt_parity import CONVERTER_FIELDS, MELO_FIELDS, converter_blocks, melo_blocks, speechlike_audio
    from scripts.tt_parity import melo_inputs as make_melo_inputs

    candidates = {name: BlockPrecision(a, w, MathConfig(f)) for name, (a, w, f) in CANDIDATES.items()}
    columns = args.columns or [*CANDIDATES, CHOSEN]

    if "converter" not in args.skip:
        folder = args.checkpoints / "converter"
        converter = load_converter_model(folder / "config.json", folder / "checkpoint.pth")
        audio = speechlike_audio(args.seconds)
        fp32 = BlockPrecision("fp32", "fp32")  # the spectrogram is an exact DFT of the input in every column
        options = {name: ConverterPrecision(fp32, p, p, p, p) for name, p in candidates.items()}
        options[CHOSEN] = ConverterPrecision()
        results, gflops, extra = {}, {}, {}
        for name in columns:
            device = open_emulated_device("faithful")
            tt = ToneColorConverter(device, converter, options[name])
            counters = count_flops(tt, CONVERTER_MODULES) if not gflops else {}
            results[name] = converter_blocks(converter, tt, device, audio)
            gflops |= {b: counters[m].flops / args.seconds / 1e9 for b, m in CONVERTER_MODULES.items() if counters}
            print(f"converter: {name} done", file=sys.stderr, flush=True)
        chosen = {b: label(getattr(options[CHOSEN], f)) for b, f in CONVERTER_FIELDS.items()}
        print(table(f"Converter, {args.seconds:g} s of audio", results, gflops, extra, chosen), "\n")

    if "melotts" not in args.skip:
        folder = args.checkpoints / "melotts-english"
        melo = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
        inputs = make_melo_inputs(EnglishFrontEnd(melo.config.symbols), SENTENCE)
        rate, hop = melo.config.data.sampling_rate, melo.config.data.hop_length
        options = {name: MeloPrecision(*[p] * 4) for name, p in candidates.items()}
        options[CHOSEN] = MeloPrecision()
        results, gflops, durations = {}, {}, {}
        for name in columns:
            device = open_emulated_device("faithful")
            tt = MeloSynthesizer(device, melo, options[name], buckets=TtBuckets(1, 1))
            counters = count_flops(tt, MELO_MODULES) if not gflops else {}
            # the whole synthesis (on the reference's durations) only for the shipped configuration: it runs
            # every block again
            results[name], differing = melo_blocks(melo, tt, device, inputs, waveform=name == CHOSEN)
            durations[name] = f"{differing} of {inputs.phone_ids.numel()}"
            if counters:
                frames = counters["dec"].args["__call__"][1]  # the vocoder's input: the reference's durations
                seconds = frames * hop / rate
                gflops = {b: counters[m].flops / seconds / 1e9 for b, m in MELO_MODULES.items()}
            print(f"melotts: {name} done", file=sys.stderr, flush=True)
        extra = {"durations differing (one sentence, free-running)": durations}
        chosen = {b: label(getattr(options[CHOSEN], f)) for b, f in MELO_FIELDS.items()}
        print(table("MeloTTS, one sentence", results, gflops, extra, chosen))


if __name__ == "__main__":
    main()
