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
which BLAS and the thread count change), and never below the README's promised floor (`tests/compare.py`:
PCC 0.999 per block, 0.99 per waveform; a rule gate under the floor is raised to it). `--write` puts them
into the test files (TINY_SHIPPED_GATES or FULL_SHIPPED_GATES), so re-measuring after a change is one
command. It is a ratchet: `--write` refuses (exit 1, one line per gate, nothing written) a gate looser
than the one in the file (lower PCC, larger max abs error, or a block left out) unless `--loosen` says so,
and refuses a block measured below its floor always, since no flag makes a broken promise true.

Usage: python scripts/tt_parity_gates.py [--size tiny|full] [--checkpoints DIR] [--write [--loosen]]
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.synthesizer import SynthesisParams
from openvoice_tt.tt.settings import ConverterPrecision, MeloPrecision
from scripts.tt_parity import CONVERTER_FIELDS, MELO_FIELDS, Agreement, compare
from tests.compare import BLOCK_FLOOR, WAVEFORM_FLOOR, Gate, floor_of

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


def gate(name: str, agreement: Agreement, float32: bool) -> Gate:
    """The gate for a measured block: 2x its PCC deficit and error, 4x in float32, its PCC never below the
    block's floor. A measurement below the floor is an error (`BelowFloor`), not a gate."""
    floor = floor_of(name)
    if not agreement.pcc >= floor:  # NaN too
        raise BelowFloor(f"{name}: measured PCC {agreement.pcc:.10f} is below the promised floor {floor}")
    factor = 4 if float32 else 2
    deficit = _up(max(factor * (1 - agreement.pcc), 1e-9))
    return Gate(max(round(1 - deficit, 12), floor), _up(factor * agreement.max_abs), floor)


class BelowFloor(ValueError):
    """A block measured below the PCC the README promises for it: no gate may admit that."""


def proposed_gates(results: Mapping[str, Agreement], float32: set[str]) -> tuple[dict[str, Gate], list[str]]:
    """The rule's gate for every measured block, and one line for each block measured below its floor."""
    gates, refusals = {}, []
    for block, agreement in results.items():
        try:
            gates[block] = gate(block, agreement, block in float32)
        except BelowFloor as error:
            refusals.append(str(error))
    return gates, refusals


def looser(current: Mapping[str, Gate], proposed: Mapping[str, Gate]) -> list[str]:
    """One line per gate that `proposed` loosens: a lower PCC, a larger max abs error, or a gate dropped."""
    lines = []
    for block, old in current.items():
        new = proposed.get(block)
        if new is None:
            lines.append(f"{block}: gate dropped (was {old})")
        elif new.min_pcc < old.min_pcc or new.max_abs > old.max_abs:
            lines.append(f"{block}: {old} -> {new}")
    return lines


GATE_LINE = re.compile(r'^\s+"(?P<block>[^"]+)": Gate\((?P<pcc>[^,)]+), (?P<max_abs>[^,)]+)(?:, (?P<floor>\w+))?\)')
FLOOR_NAMES = {"WAVEFORM_FLOOR": WAVEFORM_FLOOR, "BLOCK_FLOOR": BLOCK_FLOOR, None: BLOCK_FLOOR}


def _dict_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^{name} = \{{.*?^\}}$", re.S | re.M)


def read_gates(path: Path, name: str) -> dict[str, Gate]:
    """The gates dict `name` as the test file holds it now (one `"block": Gate(...)` line per block)."""
    found = _dict_pattern(name).findall(path.read_text())
    if len(found) != 1:
        raise SystemExit(f"{path}: no single {name} dict to read")
    matches = [GATE_LINE.match(line) for line in found[0].splitlines()[1:-1]]
    return {m["block"]: Gate(float(m["pcc"]), float(m["max_abs"]), FLOOR_NAMES[m["floor"]]) for m in matches if m}


def gate_block(name: str, results: dict[str, Agreement], gates: Mapping[str, Gate], what: str) -> str:
    """The Python source of a gates dict, one commented line per block (measured PCC / max abs error)."""
    lines = [f"{name} = {{  # {what} (scripts/tt_parity_gates.py): measured PCC / max abs error"]
    for block, agreement in results.items():
        g = gates[block]
        floor = ", WAVEFORM_FLOOR" if g.floor == WAVEFORM_FLOOR else ""
        measured = f"{agreement.pcc:.10f} / {agreement.max_abs:.3g}"
        lines.append(f'    "{block}": Gate({g.min_pcc!r}, {g.max_abs:.3g}{floor}),  # {measured}')
    return "\n".join([*lines, "}"])


def write(path: Path, name: str, source: str) -> None:
    """Replace the dict `name` (from its `NAME = {` line to the first line `}`) in a test file."""
    text = path.read_text()
    pattern = _dict_pattern(name)
    if len(pattern.findall(text)) != 1:
        raise SystemExit(f"{path}: no single {name} dict to replace")
    path.write_text(pattern.sub(lambda _: source, text))


def update(
    targets: Mapping[Path, tuple[dict[str, Agreement], set[str]]], name: str, what: str, *, loosen: bool, dry: bool
) -> list[str]:
    """Derive the gates `name` of every test file from its measured `(results, float32 blocks)`, print them
    and (unless `dry`) write them, all or none: the refusals come back instead, one line each, when a block
    is below its floor or (without `loosen`) a gate would be looser than the file's."""
    sources, refusals = {}, []
    for path, (results, float32) in targets.items():
        gates, below = proposed_gates(results, float32)
        refusals += [f"{path.name} {name} {line}" for line in below]
        if below:
            continue  # no gate to compare or write for that file
        if not loosen:
            current = read_gates(path, name)
            refusals += [f"{path.name} {name} looser: {line} (pass --loosen)" for line in looser(current, gates)]
        sources[path] = gate_block(name, results, gates, what)
    for path, source in sources.items():
        print(f"\n# {path.name}\n{source}")
    if not refusals and not dry:
        for path, source in sources.items():
            write(path, name, source)
    return refusals


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
    parser.add_argument(
        "--loosen", action="store_true", help="with --write: allow gates looser than the tests' (never below a floor)"
    )
    args = parser.parse_args()
    if args.loosen and not args.write:
        parser.error("--loosen only means something with --write")
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
        targets = {
            TESTS / "test_converter.py": (converter_worst, float32_blocks(ConverterPrecision(), CONVERTER_FIELDS)),
            TESTS / "test_synthesizer.py": (melo_worst, float32_blocks(MeloPrecision(), MELO_FIELDS)),
        }
        refusals = update(targets, name, what, loosen=args.loosen, dry=not args.write)
    for line in refusals:
        print(f"{'refused' if args.write else 'would refuse'}: {line}", file=sys.stderr)
    if refusals and args.write:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
