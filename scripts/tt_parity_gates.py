#!/usr/bin/env python3
"""Measure how closely the exact ttnn emulation follows the torch reference: the numbers behind the
default suite's parity gates (`tests/tt/test_converter.py`, `tests/tt/test_synthesizer.py`).

Both networks at the given checkpoint size, once with every block in float32 (the emulation then
differs from torch only by the order of float32 operations, so a parity trap stands out by orders of
magnitude) and once in the shipped precision (`config.ConverterPrecision`, `config.MeloPrecision`):
per block fed the reference's own inputs, and the whole waveform. The tests run these same scenarios.

Usage: python scripts/tt_parity_gates.py [--size tiny|full] [--checkpoints DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openvoice_tt.config import ConverterPrecision, MeloPrecision
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.synthesizer import SynthesisParams
from scripts.tt_parity import Agreement, compare

CONVERTER_SECONDS = 1.5
MELO_SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs back home."
EMULATION_MODE = "exact"  # the gates are set for this mode: float32 math, storage rounding only
PRECISIONS = {"fp32": (ConverterPrecision.all_fp32(), MeloPrecision.all_fp32()), "shipped": (None, None)}


def converter_agreements(reference, precision: ConverterPrecision | None) -> dict[str, Agreement]:
    """Every converter block and the waveform, on CONVERTER_SECONDS of speech-like audio."""
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_emulated_device
    from scripts.tt_parity import converter_blocks, speechlike_audio

    device = open_emulated_device(EMULATION_MODE)
    tt = ToneColorConverter(device, reference, precision or ConverterPrecision())
    return converter_blocks(reference, tt, device, speechlike_audio(CONVERTER_SECONDS))


def melo_agreements(reference, front_end, precision: MeloPrecision | None) -> tuple[dict[str, Agreement], int]:
    """Every MeloTTS block and the waveform for MELO_SENTENCE, and how many token durations differ."""
    from openvoice_tt.config import TtBuckets
    from openvoice_tt.tt.device import open_emulated_device
    from openvoice_tt.tt.synthesizer import MeloSynthesizer
    from scripts.tt_parity import melo_blocks, melo_inputs

    device = open_emulated_device(EMULATION_MODE)
    tt = MeloSynthesizer(device, reference, precision or MeloPrecision(), buckets=TtBuckets(1, 1))
    inputs = melo_inputs(front_end, MELO_SENTENCE)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=["tiny", "full"], default="tiny")
    parser.add_argument("--checkpoints", type=Path, help="an existing folder of that size (else generated)")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.checkpoints
        if folder is None:
            from scripts.make_test_checkpoints import write_all

            folder = write_all(Path(scratch), args.size, seed=0)
        converter, melo, front_end = load(folder)
        for name, (converter_precision, melo_precision) in PRECISIONS.items():
            print(f"## {args.size} checkpoints, {name} precision, emulation mode {EMULATION_MODE}")
            for block, agreement in converter_agreements(converter, converter_precision).items():
                print(f"converter {block:<22} {agreement}")
            blocks, differing = melo_agreements(melo, front_end, melo_precision)
            for block, agreement in blocks.items():
                print(f"melo      {block:<22} {agreement}")
            print(f"melo      durations differing    {differing}")


if __name__ == "__main__":
    main()
