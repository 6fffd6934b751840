"""Free-running token durations of the faithful emulation (what a chip computes) against torch.

Durations are `ceil(exp(logw))`: a chip's 19-bit matrix-unit operands move a predicted duration by
~1e-3, so a token within that of an integer lands one frame off (and every later frame with it). The
pipeline accepts this; comparisons with torch run on the reference's durations and count the
differences separately. This test counts them over more than 1,000 tokens of full-size checkpoints
and holds the count to what was measured, each difference to one frame.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer
from openvoice_tt.text import EnglishFrontEnd, NoBertWarning
from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.settings import MeloPrecision, TtBuckets
from openvoice_tt.tt.synthesizer import MeloSynthesizer
from scripts.tt_given_durations import synthesize_on_durations
from scripts.tt_parity import compare, free_running_durations, melo_inputs

from ..compare import WAVEFORM_FLOOR

SENTENCES = [
    "The quick brown fox jumps over the lazy dog, and then it runs all the way back home again.",
    "Every morning she walks along the river, counting the boats that drift slowly toward the sea.",
    "OpenVoice clones the tone color of a reference speaker while MeloTTS speaks the text in a base voice.",
    "A gentle breeze carried the smell of fresh bread from the bakery at the corner of the market square.",
    "Numbers like three thousand four hundred and twelve are read out in full by the English front end.",
    "He asked whether the meeting had been moved to Thursday afternoon, but nobody seemed to remember.",
    "Bright stars filled the winter sky above the quiet village as the last train left the station.",
    "Please remember to water the plants, feed the cat, and lock the back door before you leave today.",
]
MEASURED = {"tokens": 1078, "differing": 2}  # faithful emulation, HiFi3, full-size seed-0 checkpoints
WAVEFORM_PCC = WAVEFORM_FLOOR  # the README's waveform promise, as the parity tests and the hardware tier hold it
REPORT = Path(__file__).parent / "reports"


def count_duration_differences(checkpoints: Path) -> dict[str, int]:
    """Token durations that differ between the faithful emulation and torch, over SENTENCES."""
    folder = checkpoints / "melotts-english"
    ref = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        front_end = EnglishFrontEnd(ref.config.symbols)
    tt = MeloSynthesizer(open_emulated_device("faithful"), ref, MeloPrecision(), buckets=TtBuckets(1, 1))
    counts = {"tokens": 0, "differing": 0, "largest_frames": 0}
    for seed, text in enumerate(SENTENCES):
        expected, got = free_running_durations(ref, tt, melo_inputs(front_end, text, seed=seed), seed)
        difference = (got - expected).abs()
        counts["tokens"] += expected.numel()
        counts["differing"] += int((difference > 0).sum())
        counts["largest_frames"] = max(counts["largest_frames"], int(difference.max()))
    return counts


@pytest.mark.slow
def test_faithful_free_running_durations_differ_rarely_and_by_one_frame(full_checkpoints: Path) -> None:
    counts = count_duration_differences(full_checkpoints)
    REPORT.mkdir(exist_ok=True)
    (REPORT / "faithful_duration_differences.json").write_text(json.dumps(counts, indent=2))
    assert counts["tokens"] == MEASURED["tokens"] > 1000
    assert counts["differing"] <= MEASURED["differing"], counts
    assert counts["largest_frames"] <= 1, counts


def test_reference_durations_replace_the_length_read(tiny_checkpoints: Path) -> None:
    """The comparison path: the reference's durations are uploaded instead of read back, nothing else."""
    folder = tiny_checkpoints / "melotts-english"
    ref = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        inputs = melo_inputs(EnglishFrontEnd(ref.config.symbols), SENTENCES[0])
    device = open_emulated_device()
    tt = MeloSynthesizer(device, ref, MeloPrecision())
    durations = torch.arange(inputs.phone_ids.numel()) % 3 + 1.0  # not what the predictors say
    device.transfers.reset()
    wave, frames = synthesize_on_durations(tt, inputs, 1, SynthesisParams(), NoiseSource(0), durations)
    assert frames == int(durations.sum()) and wave.shape == (frames * ref.config.data.hop_length,)
    assert device.transfers.scalar_reads == [] and "reference_durations" in device.transfers.uploads


def test_comparing_on_reference_durations_fails_a_wrong_block(tiny_checkpoints: Path) -> None:
    """What the hardware tier relies on: on torch's durations the waveform PCC passes the faithful
    emulation and fails a synthesizer with one wrong block (its vocoder's first upsampling weights)."""
    folder = tiny_checkpoints / "melotts-english"
    ref = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        inputs = melo_inputs(EnglishFrontEnd(ref.config.symbols), SENTENCES[1])
    ids = (inputs.phone_ids[None], inputs.tone_ids[None], inputs.language_ids[None])
    expected = ref.infer(*ids, inputs.bert[None], inputs.ja_bert[None], 1, NoiseSource(4))
    wrong = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    with torch.no_grad():
        wrong.dec.ups[0].weight.add_(torch.randn_like(wrong.dec.ups[0].weight) * wrong.dec.ups[0].weight.std())
    pccs = {}
    for name, model in (("right", ref), ("wrong", wrong)):
        tt = MeloSynthesizer(open_emulated_device(), model, MeloPrecision())
        wave, _ = synthesize_on_durations(
            tt, inputs, 1, SynthesisParams(), NoiseSource(4), expected.durations.flatten()
        )
        pccs[name] = compare(expected.audio.flatten(), wave).pcc
    assert pccs["right"] >= WAVEFORM_PCC > pccs["wrong"], pccs
