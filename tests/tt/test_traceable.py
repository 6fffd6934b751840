"""Traceable by construction (issue 13): what a forward does after its bucket's first run.

A ttnn trace replays a forward's device commands with the buffer addresses of its capture, so a
forward can be traced only if, after its bucket's first run, it allocates nothing that outlives it,
builds no host tensor, reads nothing back but the one length per chunk, and reads its inputs from
preallocated buffers. One trace serves a whole length bucket only if the forward's op graph does not
depend on the valid length inside it: the valid token and frame counts are inputs too (device counts
the masks are built from). Trace capture does not run on ttnn 0.81.1's mock devices, so:

- on both mock devices, ttnn's graph capture of a run at another length of the same buckets proves
  those properties (`scripts/tt_traceable.py --shorter`): every forward runs under the op recorder's
  tape, which refuses any host transfer inside it, issues the ops (names and shapes) of the run before
  it at the first length, and compiles no program;
- on the emulation, `tt/traced.py`'s capture and replay (an op list replayed as a chip replays a trace)
  must give exactly what an eager run gives, for new inputs and noise in the same slots, at another
  length of the bucket than the one captured, and after a program cache clear;
- on a chip, tests/tt/test_hardware.py replays real traces.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.converter import load_converter_model
from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer
from openvoice_tt.text import EnglishFrontEnd, NoBertWarning
from openvoice_tt.tt.converter import ToneColorConverter
from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.settings import ConverterPrecision, MeloPrecision, TraceSettings, TtBuckets
from openvoice_tt.tt.synthesizer import MeloSynthesizer
from scripts.tt_given_durations import synthesize_on_durations
from scripts.tt_parity import melo_inputs, speechlike_audio

from .mock import REPO, requires_ttnn

SYNTH_INPUTS = [
    *["phone_ids", "tone_ids", "language_ids", "ja_bert", "speaker_id", "sdp_noise", "valid_tokens"],
    *["prior_noise", "valid_frames"],
]
# a clone's waveform is on the device: it uploads all but the first
CONVERT_INPUTS = ["waveform", "source_se", "target_se", "posterior_noise", "valid_frames"]
SYNTH_FORWARDS = ["melotts.encode", "melotts.decode"]  # split by the one length read
TRACED = TraceSettings(enabled=True)
SENTENCE = "The keeper climbed the stairs every evening."


def run_traceable(
    checkpoints: Path,
    device: str,
    jobs: str,
    runs: int = 2,
    seconds: float = 1.0,
    shorter: float | None = None,
    timeout: int = 900,
) -> dict:
    """`scripts/tt_traceable.py` in a subprocess (a mock device must be chosen before ttnn loads)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK")}
    command = [sys.executable, str(REPO / "scripts" / "tt_traceable.py"), str(checkpoints), "--device", device]
    command += ["--jobs", jobs, "--runs", str(runs), "--seconds", str(seconds)]
    command += ["--shorter", str(shorter)] if shorter is not None else []
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"{device} {jobs} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return json.loads(lines[-1])


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.parametrize("arch", ["wormhole_n150", pytest.param("blackhole_p150", marks=pytest.mark.slow)])
def test_a_run_at_another_length_of_the_bucket_is_traceable_on_the_mock_device(
    tiny_checkpoints: Path, arch: str
) -> None:
    # 1.0 s, 1.0 s, then 0.8 s: the same token and frame buckets (64 tokens, 128 frames), other valid lengths
    report = run_traceable(tiny_checkpoints, f"mock:{arch}", "clone,extract", runs=3, seconds=1.0, shorter=0.8)
    assert report["kind"] == "mock" and report["traces"] is False  # off on a mock by default
    expected = {
        "clone": (SYNTH_INPUTS + CONVERT_INPUTS[1:], ["frames"], [*SYNTH_FORWARDS, "converter.forward"]),
        "extract": (["waveform", "valid_frames"], [], ["converter.embed"]),
    }
    for job, (inputs, scalar_reads, forwards) in expected.items():
        run = report[job]
        transfers = run["transfers"]
        # host -> device: only the inputs and noise, each copied into the buffer its first run allocated
        assert transfers["uploads"] == inputs, job
        assert transfers["constants"] == [] and transfers["weights"] == [], job
        assert run["copies_into_slots"] == len(inputs) and run["new_device_tensors_from_host"] == 0, job
        first, *later = run["upload_addresses"]
        assert len(first) == len(inputs) and all(addresses == first for addresses in later), job
        # host tensors: only the staging copies of those inputs; reads: the length and the result
        assert run["host_tensors_built"] == len(inputs), job
        assert transfers["scalar_reads"] == scalar_reads and len(transfers["downloads"]) == 1, job
        assert run["device_reads"] == len(scalar_reads) + 1, job
        # allocations: every buffer the run allocated was freed by its end; the persistent set is unchanged
        assert run["buffers_allocated"] > 0 and run["buffers_left_allocated"] == [], job
        assert run["memory_after"] == run["memory_before"], job
        # each forward ran under the tape (which raises on a host transfer) and moved nothing itself
        assert [f["name"] for f in run["forwards"]] == forwards, job
        for forward in run["forwards"]:
            assert forward["ops"] > 0 and not any(forward["transfers"].values()), forward["name"]
        # at the other length: each forward issued the previous run's ops, shape for shape, and compiled nothing
        assert run["seconds"] == [1.0, 1.0, 0.8], job
        assert [f["name"] for f in run["previous_forwards"]] == forwards, job
        for forward, previous in zip(run["forwards"], run["previous_forwards"], strict=True):
            assert forward["op_graph"] == previous["op_graph"] and len(forward["op_graph"]) == forward["ops"], job
            assert forward["new_programs"] == 0, forward["name"]  # (the run before may: positions grew in run 1)
    clone_sizes = report["clone"]["output_sizes"]  # the valid length did change: the take is shorter
    assert clone_sizes[2] < clone_sizes[1] == clone_sizes[0]


@pytest.fixture(scope="module")
def tiny_models(tiny_checkpoints: Path):
    folder = tiny_checkpoints / "melotts-english"
    melo = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    folder = tiny_checkpoints / "converter"
    converter = load_converter_model(folder / "config.json", folder / "checkpoint.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        return melo, converter, EnglishFrontEnd(melo.config.symbols)


def test_a_synthesis_trace_captured_at_one_length_replays_another_length_of_its_buckets(tiny_models) -> None:
    melo, _, front_end = tiny_models
    device = open_emulated_device("exact", TRACED)
    tt = MeloSynthesizer(device, melo, MeloPrecision())
    eager_tt = MeloSynthesizer(open_emulated_device("exact"), melo, MeloPrecision())  # traces off
    inputs = melo_inputs(front_end, SENTENCE)
    shorter = melo_inputs(front_end, SENTENCE.replace(" every", ""))
    # given durations fix the frame count; both lengths share the token and the frame bucket
    tokens, fewer = inputs.phone_ids.numel(), shorter.phone_ids.numel()
    assert TtBuckets().tokens(fewer) == TtBuckets().tokens(tokens) and fewer < tokens
    assert TtBuckets().frames(2 * fewer) == TtBuckets().frames(2 * tokens)

    def synthesize(model, text, seed: int) -> torch.Tensor:
        durations = torch.full((text.phone_ids.numel(),), 2.0)
        return synthesize_on_durations(model, text, 1, SynthesisParams(), NoiseSource(seed), durations)[0]

    long_eager, short_eager = synthesize(eager_tt, inputs, 0), synthesize(eager_tt, shorter, 1)
    assert short_eager.numel() < long_eager.numel()
    # encode and decode each: eager at the long length, captured at the short one, then replayed at both
    assert torch.equal(synthesize(tt, inputs, 0), long_eager)
    assert torch.equal(synthesize(tt, shorter, 1), short_eager)
    assert (device.traces.captures, device.traces.replays) == (2, 0)
    assert torch.equal(synthesize(tt, inputs, 0), long_eager)  # the short length's trace, the long length's result
    assert torch.equal(synthesize(tt, shorter, 1), short_eager)
    assert (device.traces.captures, device.traces.replays) == (2, 4)
    device._clear_program_cache()  # what ProgramBudget does: the traces of that cache go with it
    assert not device.traces.captured
    assert torch.equal(synthesize(tt, inputs, 0), long_eager)  # eager again, conv weights prepared anew
    assert (device.traces.captures, device.traces.replays) == (2, 4)


def test_conversion_and_extraction_traces_replay_other_lengths_of_their_bucket(tiny_models) -> None:
    _, ref, _ = tiny_models
    device = open_emulated_device("exact", TRACED)
    tt = ToneColorConverter(device, ref, ConverterPrecision())
    eager_tt = ToneColorConverter(open_emulated_device("exact"), ref, ConverterPrecision())  # traces off
    # 103 and 43 frames: one 128-frame bucket, two and one GRU steps on real rows (the second one guarded)
    long, short = speechlike_audio(1.2), speechlike_audio(0.5, seed=3)
    assert TtBuckets().frames(long.size // 256) == TtBuckets().frames(short.size // 256)
    src, tgt = torch.randn(1, 256, 1, generator=torch.Generator().manual_seed(1)), torch.randn(1, 256, 1)

    def convert(model, audio, seed: int) -> np.ndarray:
        return model.convert(audio, src, tgt, 0.3, NoiseSource(seed))

    long_eager, short_eager = convert(eager_tt, long, 0), convert(eager_tt, short, 1)
    np.testing.assert_array_equal(convert(tt, long, 0), long_eager)  # eager
    np.testing.assert_array_equal(convert(tt, short, 1), short_eager)  # captured at the short length
    np.testing.assert_array_equal(convert(tt, long, 0), long_eager)  # replayed at the long one
    assert (device.traces.captures, device.traces.replays) == (1, 1) and short_eager.size < long_eager.size
    # two clips of two lengths of one bucket: the second replays the first's trace, whose output the mean
    # must not lose
    clips = [long, short]
    expected = eager_tt.tone_color(clips)
    for _ in range(2):  # eager then captured; then both replayed
        assert torch.equal(tt.tone_color(clips), expected)
    assert (device.traces.captures, device.traces.replays) == (2, 3)


def test_a_capture_refuses_host_transfers() -> None:
    device = open_emulated_device("exact", TRACED)
    ttnn = device.ttnn
    x = device.upload(torch.ones(1, 1, 32, 32), ttnn.float32, "x")

    def uploads_inside(x):
        return ttnn.add(x, device.upload(torch.zeros(1, 1, 32, 32), ttnn.float32, "y"))

    def reads_inside(x):
        device.read_scalar(x, "length")
        return ttnn.add(x, 1.0)

    for forward in (uploads_inside, reads_inside):
        device.traces.run(forward.__name__, (), (x,), forward)  # a first run may (resident constants)
        with pytest.raises(RuntimeError, match="inside a trace capture"):
            device.traces.run(forward.__name__, (), (x,), forward)


def test_traces_are_on_for_a_chip_only_by_default() -> None:
    assert [TraceSettings().active(kind) for kind in ("hardware", "mock", "emulation")] == [True, False, False]
    assert open_emulated_device("exact").traces.enabled is False
