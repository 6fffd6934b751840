#!/usr/bin/env python3
"""Run the ttnn modules on a mock Tenstorrent device (or the host emulation) and report the op graph.

Mock devices validate every op (shapes, layouts, program configs, L1/DRAM allocation) with the real
ttnn host code but compute nothing. This script is what the acceptance tests run in a subprocess (a
mock device must be chosen before ttnn is imported); it prints one JSON object: the transfers and the
(op, output shape) sequence, so a caller can compare it with the emulated run of the same inputs.

The data-dependent frame count of synthesis (which a mock device cannot compute) is pinned to the
requested length on both mock and emulation, so the two run the same graph.

With `--compare` it also runs the torch reference on the same inputs and noise and reports the PCC and
max abs error (meaningful on hardware and the emulation; a mock device returns zeros). Synthesis then runs
on the reference's token durations, so a duration one frame off (a chip's 19-bit matrix operands can move
a token across an integer) cannot misalign the waveform; the free-running durations are compared
separately and reported as `durations` (tokens, differing, largest difference in frames).

Usage: python scripts/tt_acceptance.py CHECKPOINT_DIR
           --device hardware|emulation|emulation:exact|mock:wormhole_n150|mock:blackhole_p150
           --job convert|extract|synth|clone [--seconds S] [--seed N] [--compare]
       python scripts/tt_acceptance.py CHECKPOINT_DIR --device D --plan '[["--job", "synth"], ...]'
           (several jobs in one process, each on a fresh device: the tests batch their runs this way)
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scripts.tt_parity import Agreement

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoints", type=Path)
    parser.add_argument("--device", default="emulation")
    parser.add_argument(
        "--job",
        choices=["convert", "extract", "synth", "clone", "sweep", "bench", "l1-boundary"],
        default="convert",
        help="sweep: many utterance lengths in one process (program cache / L1_SMALL budget); "
        "l1-boundary: both vocoders at each stage's longest L1 bucket (the L1 rule's boundary); "
        "bench: clones of `openvoice-tt bench`'s sentences (use --repeat 2: the second pass must not clear)",
    )
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", action="store_true", help="PCC against the torch reference")
    parser.add_argument("--repeat", type=int, default=1, help="run the job N times; report the last run")
    parser.add_argument(
        "--plan",
        help='JSON list of argument lists (e.g. \'[["--job", "synth"]]\'): run each as its own job, on a fresh '
        "device and fresh models, in this one process (the imports and checkpoint loads happen once); one JSON "
        "line per job, in order",
    )
    args = parser.parse_args()
    plan = [args]
    if args.plan:
        common = [str(args.checkpoints), "--device", args.device]
        plan = [parser.parse_args([*common, *job]) for job in json.loads(args.plan)]

    from openvoice_tt.tt.device import configure_mock

    if args.device.startswith("mock:"):
        configure_mock(args.device.split(":", 1)[1])
    loaded = ReferenceModels()
    for job in plan:
        print(json.dumps(run(job, loaded)), flush=True)


class ReferenceModels:
    """The torch models of a checkpoint folder, loaded once per process and handed out as private copies:
    a plan's jobs then skip the loads (most of a short job's time) yet cannot see each other's state."""

    def __init__(self) -> None:
        self._models: dict[str, object] = {}

    def get(self, folder: Path, load):
        key = str(folder)
        if key not in self._models:
            self._models[key] = load(folder / "config.json", folder / "checkpoint.pth")
        model = self._models[key]
        # frozen configs (dataclasses holding read-only mappings, which deepcopy refuses) are shared
        frozen = {id(v): v for m in model.modules() for v in vars(m).values() if _frozen_dataclass(v)}
        return copy.deepcopy(model, memo=frozen)


def _frozen_dataclass(value: object) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    return params is not None and params.frozen


def run(args: argparse.Namespace, loaded: ReferenceModels) -> dict:
    """One job (`--job`, `--seconds`, `--repeat`...) on a freshly opened device -> the report."""
    import torch

    from openvoice_tt.chunking import ConversionChunking, convert_in_pieces
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.converter import load_converter_model
    from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_emulated_device, open_ttnn_device
    from openvoice_tt.tt.settings import ConverterPrecision, MeloPrecision
    from openvoice_tt.tt.synthesizer import MeloSynthesizer
    from scripts.tt_harness import clone_on_device

    if args.device.startswith("emulation"):  # emulation (faithful) or emulation:exact
        device = open_emulated_device(args.device.partition(":")[2] or "faithful")
    else:
        device = open_ttnn_device()
    if args.device == "hardware" and device.kind != "hardware":
        raise SystemExit("no Tenstorrent chip found")
    trace = device.ttnn
    pinned = pin_scalars(device) if device.kind != "hardware" else {}
    gen = torch.Generator().manual_seed(args.seed)
    converter = synthesizer = ref = inputs = None
    if args.job in ("convert", "extract", "clone", "sweep", "bench", "l1-boundary"):
        ref_converter = loaded.get(args.checkpoints / "converter", load_converter_model)
        converter = ToneColorConverter(device, ref_converter, ConverterPrecision())
    if args.job in ("synth", "clone", "sweep", "bench", "l1-boundary"):
        ref = loaded.get(args.checkpoints / "melotts-english", load_melo_synthesizer)
        synthesizer = MeloSynthesizer(device, ref, MeloPrecision())
        frames = int(args.seconds * ref.config.data.sampling_rate / ref.config.data.hop_length)
        if device.kind == "mock" or (device.kind == "emulation" and not args.compare):
            pinned["frames"] = frames  # a mock device cannot compute the durations
        inputs = token_inputs(frames, gen)
    reference = None  # (torch synthesis, its noise source) on the same inputs, to compare on its durations
    if args.compare and args.job in ("synth", "clone"):
        reference = _reference_synthesis(ref, inputs, args.seed)
    given = reference[0].durations.flatten() if reference is not None else None

    def run_job() -> tuple:
        if args.job == "sweep":  # 8 clip lengths through the converter, 6 sentence lengths through MeloTTS
            for i in range(8):
                audio = (torch.randn(int((2 + 0.9 * i) * 22050), generator=gen) * 0.3).numpy()
                converter.convert(audio, torch.randn(1, 256, 1), torch.randn(1, 256, 1), 0.3, NoiseSource(i))
                converter.tone_color([audio])
            for i in range(6):
                tokens = 21 + 61 * i
                pinned["frames"] = int(tokens * 3.5)
                piece = SimpleNamespace(
                    phone_ids=inputs.phone_ids.repeat(tokens)[:tokens],
                    tone_ids=inputs.tone_ids.repeat(tokens)[:tokens],
                    language_ids=torch.full((tokens,), 2),
                    ja_bert=torch.zeros(768, tokens),
                )
                result, _ = synthesizer.synthesize(piece, 0, SynthesisParams(), NoiseSource(i))
        elif args.job == "bench":
            result = _bench_pass(pinned, synthesizer, converter, ref.config)
        elif args.job == "l1-boundary":
            boundary = [*_l1_boundary(device, converter.dec, None), *_l1_boundary(device, synthesizer.dec, ref)]
            result = torch.tensor([case["frames"] for case in boundary])
        elif args.job == "extract":
            audio = (torch.randn(int(args.seconds * 22050), generator=gen) * 0.3).numpy()
            result = converter.tone_color([audio])
        elif args.job == "convert":
            audio = (torch.randn(int(args.seconds * 22050), generator=gen) * 0.3).numpy()
            src, tgt = torch.randn(1, 256, 1, generator=gen), torch.randn(1, 256, 1, generator=gen)
            if args.seconds > ConversionChunking().max_seconds:  # too long for one pass: in pieces
                result = convert_in_pieces(
                    lambda piece, noise: converter.convert(piece, src, tgt, 0.3, noise),
                    audio,
                    converter.config,
                    NoiseSource(args.seed),
                    ConversionChunking(),
                )
            else:
                result = converter.convert(audio, src, tgt, 0.3, NoiseSource(args.seed))
        elif args.job == "synth":
            if given is None:
                result, _ = synthesizer.synthesize(inputs, 0, SynthesisParams(), NoiseSource(args.seed))
            else:  # --compare: on the reference's durations
                from scripts.tt_given_durations import synthesize_on_durations

                result, _ = synthesize_on_durations(
                    synthesizer, inputs, 0, SynthesisParams(), NoiseSource(args.seed), given
                )
        else:
            src, tgt = torch.randn(1, 256, 1, generator=gen), torch.randn(1, 256, 1, generator=gen)
            result = clone_on_device(
                synthesizer,
                converter,
                [inputs],
                0,
                SynthesisParams(),
                NoiseSource(args.seed),
                2205,
                src,
                tgt,
                0.3,
                durations=None if given is None else [given],
            )
        return result, locals()

    trace.calls.clear()
    trace.recording = True
    runs, clears, graph = [], [], None
    start = time.perf_counter()
    for run in range(args.repeat):
        device.transfers.reset()
        generation = device.generation
        capture = run == args.repeat - 1 and device.kind != "emulation"
        if capture:  # ttnn's own record of what the last run did (host->device writes, conv slicing)
            import ttnn

            ttnn.graph.begin_graph_capture(ttnn.graph.RunMode.NORMAL)
        result, scope = run_job()
        if capture:
            graph = ttnn.graph.end_graph_capture()
        runs.append({k: list(v) for k, v in vars(device.transfers).items()})
        clears.append(device.generation - generation)
    seconds = time.perf_counter() - start
    device.budget.settle()  # the last key's L1_SMALL footprint
    trace.recording = False
    durations = None
    if reference is not None:  # free-running durations against torch's, counted apart from the PCC
        from scripts.tt_parity import free_running_durations

        expected, got = free_running_durations(ref, synthesizer, inputs, args.seed, speaker=0)
        difference = (got - expected).abs()
        durations = {
            "tokens": expected.numel(),
            "differing": int((difference > 0).sum()),
            "largest_frames": int(difference.max()),
        }
    device.close()
    agreement = None
    if args.compare:
        scope = {**locals(), **scope}
        agreement = _compare(args, ref_converter if converter else None, reference, scope, result)
    return {
        "device": args.device,
        "kind": device.kind,
        "arch": device.arch,
        "job": args.job,
        "output_shape": list(result.shape),
        "transfers": {k: runs[-1][k] for k in ("uploads", "downloads", "scalar_reads")},
        "constants": runs[-1]["constants"],
        "weights": len(runs[-1]["weights"]),
        "first_run": {"constants": len(runs[0]["constants"]), "weights": len(runs[0]["weights"])},
        "device_writes": None if graph is None else _device_writes(graph),
        "height_slices": None if graph is None else _height_slices(graph),
        "ops": trace.calls,
        "compute_configs": trace.compute_configs,
        "seconds": seconds,
        "pcc": None if agreement is None else agreement.pcc,
        "max_abs_error": None if agreement is None else agreement.max_abs,
        "durations": durations,
        "program_cache_clears": device.generation,
        "program_cache_clears_per_run": clears,
        "l1_small_per_key": {"/".join(map(str, k)): v for k, v in device.budget.footprints.items()},
        "l1_boundary": scope.get("boundary"),
    }


def pin_scalars(device) -> dict[str, float]:
    """A mock device computes nothing (its scalar reads return 0), so this harness pins the data-dependent
    lengths it reads (name -> value in the returned dict, filled in by the caller): a mock and an emulated
    run then execute the same graph. The read itself still happens and is counted; the product's
    `TtDevice.read_scalar` has no such hook."""
    pinned: dict[str, float] = {}
    read = device.read_scalar

    def read_pinned(tensor, name: str) -> float:
        value = read(tensor, name)
        return pinned.get(name, value)

    device.read_scalar = read_pinned
    return pinned


def token_inputs(frames: int, gen) -> SimpleNamespace:
    """Random inputs of one chunk for about `frames` frames: 3.5 frames per token, an odd token count
    (scripts/tt_programs.py measures on the same inputs)."""
    import torch

    tokens = max(3, round(frames / 3.5)) | 1
    return SimpleNamespace(
        phone_ids=torch.randint(1, 200, (tokens,), generator=gen),
        tone_ids=torch.randint(0, 11, (tokens,), generator=gen),
        language_ids=torch.full((tokens,), 2),
        ja_bert=torch.randn(768, tokens, generator=gen) * 0.3,
        bert=torch.zeros(1024, tokens),
    )


def _bench_pass(pinned: dict[str, float], synthesizer, converter, config):
    """One clone of each of `openvoice-tt bench`'s sentences (chunks as the API splits them), with the
    frame count pinned to 3 frames per token (the duration the random-weight checkpoints give)."""
    import warnings

    import torch

    from openvoice_tt.bench import SENTENCES
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.synthesizer import SynthesisParams
    from openvoice_tt.text import EnglishFrontEnd
    from openvoice_tt.text.split import split_text
    from scripts.tt_harness import clone_on_device

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        front_end = EnglishFrontEnd(config.symbols)
        for i, sentence in enumerate(SENTENCES):
            chunks = [front_end(chunk) for chunk in split_text(sentence, 256)]
            tokens = sum(int(c.phone_ids.numel()) for c in chunks)
            pinned["frames"] = 3 * tokens // len(chunks)
            se = torch.ones(1, 256, 1)
            result = clone_on_device(
                synthesizer, converter, chunks, 0, SynthesisParams(), NoiseSource(i), 1102, se, se, 0.3
            )
    return result


def _l1_boundary(device, generator, melo) -> list[dict]:
    """A vocoder (`tt.hifigan.Generator`) at the longest frame bucket whose stage runs its resblock chains
    in L1 (`layers.fits_l1`), for each stage that does at one bucket at least: the L1 rule's boundary per
    channel count, with the rest of the vocoder around it (a later stage's DRAM convs slice through the L1
    that the chains' sum still holds). Frames up to 16,384 (190 s at 22.05 kHz); `melo`: the MeloTTS
    reference, whose vocoder reads a speaker embedding."""
    import torch

    from openvoice_tt.tt.settings import TtBuckets

    step = TtBuckets().frame_multiple
    longest = {}  # frames -> the stages at their boundary there
    for stage in range(len(generator.ups)):
        admitted = [
            frames
            for frames in range(step, 16384 + 1, step)
            if generator.l1_stage(stage, frames * generator.samples_per_frame(stage))
        ]
        if admitted:
            longest.setdefault(max(admitted), []).append(stage)
    cases = []
    for frames, stages in sorted(longest.items()):
        z = device.upload(torch.zeros(1, 1, frames, generator.conv_pre.in_channels), generator.dtype, "z")
        g = None
        if generator.cond is not None:
            g = device.upload(torch.zeros(1, 1, 1, melo.dec.cond.in_channels), generator.dtype, "g")
        generator(z, frames, g, valid=device.upload_count(frames - 1, "valid_frames"))
        for stage in stages:
            channels, rows = generator.ups[stage].out_channels, frames * generator.samples_per_frame(stage)
            cases.append({"stage": stage, "channels": channels, "rows": rows, "frames": frames})
    return cases


def _op(node: dict) -> str | None:
    """The name of a captured call (None for other graph nodes)."""
    return (node.get("params") or {}).get("name") if node.get("node_type") == "function_start" else None


def _device_writes(graph: list[dict]) -> int:
    """Host->device tensor copies ttnn made (graph capture), to compare with the counted transfers: new
    device tensors, and copies into preallocated ones (an input's slot after its first upload)."""
    return sum(1 for node in graph if _op(node) in ("Tensor::to_device", "ttnn.copy_host_to_device_tensor"))


SHAPE = re.compile(r"Shape\(\[([0-9, ]+)\]\)")


def _height_slices(graph: list[dict]) -> list[dict]:
    """The slices a conv read through DRAM by height (PaddedSlice ops cutting the H of [N, H, W, C]):
    input shape, start and end. conv1d's inputs are [1, 1, L, C], sliced by width only."""
    slices = []
    for node in graph:
        if _op(node) != "PaddedSliceDeviceOperation":
            continue
        params, tensor = node["arguments"][0], node["arguments"][1]
        start, end = ([int(v) for v in m.split(",")] for m in SHAPE.findall(params)[:2])
        shape = [int(v) for v in SHAPE.search(tensor.split("logical_shape=", 1)[1]).group(1).split(",")]
        if end[1] - start[1] < shape[1]:
            slices.append({"input": shape, "start": start, "end": end})
    return slices


def _reference_synthesis(ref_melo, inputs, seed: int):
    """torch MeloTTS on the run's inputs and noise -> (its output, the noise source, to go on with)."""
    from openvoice_tt.noise import NoiseSource

    noise = NoiseSource(seed)
    out = ref_melo.infer(
        inputs.phone_ids[None],
        inputs.tone_ids[None],
        inputs.language_ids[None],
        inputs.bert[None],
        inputs.ja_bert[None],
        0,
        noise,
    )
    return out, noise


def _compare(args, ref_converter, reference, scope: dict, result) -> Agreement:
    """The torch reference on the run's inputs and noise (clone: the reference resampler, not soxr)."""
    import torch

    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.resample import decimate_by_two
    from scripts.tt_parity import compare

    if args.job in ("convert", "extract"):
        spec = ref_converter.spectrogram(torch.from_numpy(scope["audio"])[None])
        if args.job == "extract":
            return compare(ref_converter.tone_color(spec), result)
        return compare(ref_converter.convert(spec, scope["src"], scope["tgt"], NoiseSource(args.seed), 0.3), result)
    out, noise = reference
    if args.job == "synth":
        return compare(out.audio, result)
    speech = torch.cat([out.audio.flatten(), torch.zeros(2205)])
    speech = decimate_by_two(speech)[None]
    return compare(
        ref_converter.convert(ref_converter.spectrogram(speech), scope["src"], scope["tgt"], noise, 0.3), result
    )


if __name__ == "__main__":
    main()
