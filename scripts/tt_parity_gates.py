#!/usr/bin/env python3
"""Measure how closely the exact ttnn emulation follows the torch reference, and derive the parity gates
of `tests/tt/test_converter.py` and `tests/tt/test_synthesizer.py` from the measurement.

Tiny checkpoints (the default suite's scenario): both networks once with every block in float32 (the
emulation then differs from torch only by the order of float32 operations, so a parity trap stands out
by orders of magnitude) and once in the shipped precision (`tt.settings.ConverterPrecision`,
`tt.settings.MeloPrecision`): per block fed the reference's own inputs, and the whole waveform. Full size (the
slow tests' scenarios): the shipped precision only, the converter at 2 s and 20 s and MeloTTS on three
sentences, the worst of them per block. The tests run these same scenarios.

The shipped-precision gates follow one rule (`gate`): twice the measured PCC deficit and max abs error
for a block in reduced precision; four times both for a block in float32 (its error is rounding order,
which BLAS and the thread count change). `--write` puts them into the test files (TINY_SHIPPED_GATES or
FULL_SHIPPED_GATES), so re-measuring after a change is one command:

Usage: python scripts/tt_parity_gates.py [--size tiny|full] [--checkpoints DIR] [--write]
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.synthesizer import SynthesisParams
from openvoice_tt.tt.settings import ConverterPrecision, MeloPrecision
from scripts.tt_parity import CONVERTER_FIELDS, MELO_FIELDS, Agreement, compare

CONVERTER_SECONDS = 1.5
MELO_SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs back home."
FULL_CONVERTER_SECONDS = (2.0, 20.0)
FULL_MELO_SENTENCES = [  # the slow tests' three sentences (seed = index)
    "Hello there!",
    MELO_SENTENCE,
    "OpenVoice clones the tone color of a reference speaker; MeloTTS speaks the text first, in a base voice, "
    "and the converter then changes only the timbre, keeping rhythm and intonation.",
]
TESTS = Path(__file__).resolve().parents[1] / "tests" / "tt"
EMULATION_MODE = "exact"  # the gates are set for this mode: float32 math, storage rounding only
PRECISIONS = {"fp32": (ConverterPrecision.all_fp32(), MeloPrecision.all_fp32()), "shipped": (None, None)}


def converter_agreements(
    reference, precision: ConverterPrecision | None, seconds: float = CONVERTER_SECONDS
) -> dict[str, Agreement]:
    """Every converter block and the waveform, on `seconds` of speech-like audio."""
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_emulated_device
    from scripts.tt_parity import converter_blocks, speechlike_audio

    device = open_emulated_device(EMULATION_MODE)
    tt = ToneColorConverter(device, reference, precision or ConverterPrecision())
    return converter_blocks(reference, tt, device, speechlike_audio(seconds))


def melo_agreements(
    reference, front_end, precision: MeloPrecision | None, text: str = MELO_SENTENCE, seed: int = 0
) -> tuple[dict[str, Agreement], int]:
    """Every MeloTTS block and the waveform for `text` (ja_bert features drawn with `seed`), and how many
    token durations differ."""
    from openvoice_tt.tt.device import open_emulated_device
    from openvoice_tt.tt.settings import TtBuckets
    from openvoice_tt.tt.synthesizer import MeloSynthesizer
    from scripts.tt_parity import melo_blocks, melo_inputs

    device = open_emulated_device(EMULATION_MODE)
    tt = MeloSynthesizer(device, reference, precision or MeloPrecision(), buckets=TtBuckets(1, 1))
    inputs = melo_inputs(front_end, text, seed=seed)
    results, differing = melo_blocks(reference, tt, device, inputs)
    expected = reference.infer(
        inputs.phone_ids[None],
        inputs.tone_ids[None],
        inputs.language_ids[None],
        inputs.bert[None],
        inputs.ja_bert[None],
        1,
        NoiseSource(3),
    )
    wave, frames = tt.synthesize(inputs, 1, SynthesisParams(), NoiseSource(3))
    if frames != expected.frames:  # different durations: the waveforms are not comparable sample for sample
        raise AssertionError(f"tt spoke {frames} frames, the reference {expected.frames}")
    results["waveform"] = compare(expected.audio.flatten(), wave)
    return results, differing


def load(checkpoints: Path):
    """The two reference models and the front end."""
    from openvoice_tt.reference.converter import load_converter_model
    from openvoice_tt.reference.synthesizer import load_melo_synthesizer
    from openvoice_tt.text import EnglishFrontEnd, NoBertWarning

    converter = load_converter_model(checkpoints / "converter/config.json", checkpoints / "converter/checkpoint.pth")
    folder = checkpoints / "melotts-english"
    melo = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        front_end = EnglishFrontEnd(melo.config.symbols)
    return converter, melo, front_end


def worst(runs: list[dict[str, Agreement]]) -> dict[str, Agreement]:
    """Per block, the lowest PCC and the largest max abs error over several scenarios."""
    return {
        block: Agreement(min(run[block].pcc for run in runs), max(run[block].max_abs for run in runs))
        for block in runs[0]
    }


def _up(value: float, digits: int = 3) -> float:
    """`value` rounded up to `digits` significant digits (a gate never tighter than the rule)."""
    scale = 10 ** (digits - 1 - math.floor(math.log10(value)))
    return math.ceil(value * scale - 1e-9) / scale


def gate(agreement: Agreement, float32: bool) -> tuple[float, float]:
    """(least PCC, largest max abs error) for a measured block: 2x its deficit and error, 4x in float32."""
    factor = 4 if float32 else 2
    deficit = _up(max(factor * (1 - agreement.pcc), 1e-9))
    return round(1 - deficit, 12), _up(factor * agreement.max_abs)


def gate_block(name: str, results: dict[str, Agreement], float32_blocks: set[str], what: str) -> str:
    """The Python source of a gates dict, one commented line per block (measured PCC / max abs error)."""
    lines = [f"{name} = {{  # {what} (scripts/tt_parity_gates.py): measured PCC / max abs error"]
    for block, agreement in results.items():
        pcc, max_abs = gate(agreement, block in float32_blocks)
        lines.append(f'    "{block}": Gate({pcc!r}, {max_abs:.3g}),  # {agreement.pcc:.10f} / {agreement.max_abs:.3g}')
    return "\n".join([*lines, "}"])


def write(path: Path, name: str, source: str) -> None:
    """Replace the dict `name` (from its `NAME = {` line to the first line `}`) in a test file."""
    text = path.read_text()
    pattern = re.compile(rf"^{name} = \{{.*?^\}}$", re.S | re.M)
    if len(pattern.findall(text)) != 1:
        raise SystemExit(f"{path}: no single {name} dict to replace")
    path.write_text(pattern.sub(lambda _: source, text))


def float32_blocks(precision, fields: dict[str, str]) -> set[str]:
    """The reported blocks whose precision field keeps float32 activations and weights."""
    return {
        block
        for block, field in fields.items()
        if (getattr(precision, field).activations, getattr(precision, field).weights) == ("fp32", "fp32")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=["tiny", "full"], default="tiny")
    parser.add_argument("--checkpoints", type=Path, help="an existing folder of that size (else generated)")
    parser.add_argument("--write", action="store_true", help="write the shipped-precision gates into the tests")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    name = f"{args.size.upper()}_SHIPPED_GATES"
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.checkpoints
        if folder is None:
            from scripts.make_test_checkpoints import write_all

            folder = write_all(Path(scratch), args.size, seed=0)
        converter, melo, front_end = load(folder)
        precisions = PRECISIONS if args.size == "tiny" else {"shipped": PRECISIONS["shipped"]}
        seconds = (CONVERTER_SECONDS,) if args.size == "tiny" else FULL_CONVERTER_SECONDS
        sentences = [MELO_SENTENCE] if args.size == "tiny" else FULL_MELO_SENTENCES
        for label, (converter_precision, melo_precision) in precisions.items():
            print(f"## {args.size} checkpoints, {label} precision, emulation mode {EMULATION_MODE}")
            runs = []
            for length in seconds:
                runs.append(converter_agreements(converter, converter_precision, length))
                for block, agreement in runs[-1].items():
                    print(f"converter {length:g} s {block:<22} {agreement}", flush=True)
            converter_worst = worst(runs)
            runs = []
            for seed, text in enumerate(sentences):
                blocks, differing = melo_agreements(melo, front_end, melo_precision, text, seed)
                runs.append(blocks)
                for block, agreement in blocks.items():
                    print(f"melo      {text[:12]!r} {block:<22} {agreement}", flush=True)
                print(f"melo      {text[:12]!r} durations differing    {differing}")
            melo_worst = worst(runs)  # the last label is "shipped": its numbers set the gates
        what = "tiny, one scenario" if args.size == "tiny" else "full size, worst scenario"
        sources = {
            TESTS / "test_converter.py": gate_block(
                name, converter_worst, float32_blocks(ConverterPrecision(), CONVERTER_FIELDS), what
            ),
            TESTS / "test_synthesizer.py": gate_block(
                name, melo_worst, float32_blocks(MeloPrecision(), MELO_FIELDS), what
            ),
        }
        for path, source in sources.items():
            print(f"\n# {path.name}\n{source}")
            if args.write:
                write(path, name, source)


if __name__ == "__main__":
    main()
