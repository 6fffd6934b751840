#!/usr/bin/env python3
"""Is each forward traceable? Run a job several times at one length and report what the last run did.

A ttnn trace replays a forward's device commands with their buffer addresses fixed at capture, so after
a bucket's first run a forward must allocate nothing that outlives it, build no host tensor, move no data
between host and device except the inputs, noise and valid lengths (into their preallocated slots) and
the one length read per chunk, and issue the same ops at every length of its bucket. On a mock device
(traces off: ttnn 0.81.1's mock cannot capture) this script checks that from ttnn's graph capture of the
last run, and runs each forward (`TtDevice.traces.run`) under the op recorder's tape, which refuses any
host transfer inside it and lists the ops it issues (name, input and output shapes) and the programs it
compiled. `--shorter S` runs the last run at S seconds (another length of the same buckets): its forwards
must issue the ops of the run before it and compile nothing. On a chip (traces on by default) it reports
whether the captured and replayed runs returned exactly what an eager run at their length returns.
Prints one JSON object: per job, the last run's counts.

Usage: python scripts/tt_traceable.py CHECKPOINT_DIR --device mock:wormhole_n150|mock:blackhole_p150|hardware
           [--jobs synth,convert,extract,clone] [--seconds S] [--runs N] [--shorter S]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoints", type=Path)
    parser.add_argument("--device", default="mock:wormhole_n150")
    parser.add_argument("--jobs", default="synth,convert,extract,clone")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--shorter", type=float, default=None, help="seconds of the last run (same buckets)")
    args = parser.parse_args()

    from openvoice_tt.tt.device import configure_mock

    mock = args.device.startswith("mock:")
    if mock:
        configure_mock(args.device.split(":", 1)[1])

    import torch
    import ttnn

    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.converter import load_converter_model
    from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_ttnn_device
    from openvoice_tt.tt.settings import ConverterPrecision, MeloPrecision
    from openvoice_tt.tt.synthesizer import MeloSynthesizer
    from scripts.tt_acceptance import pin_scalars
    from scripts.tt_harness import clone_on_device

    device = open_ttnn_device()
    if not mock and device.kind != "hardware":
        raise SystemExit("no Tenstorrent chip found")
    pinned = pin_scalars(device) if mock else {}
    folder = args.checkpoints / "converter"
    converter = ToneColorConverter(
        device, load_converter_model(folder / "config.json", folder / "checkpoint.pth"), ConverterPrecision()
    )
    folder = args.checkpoints / "melotts-english"
    melo = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    synthesizer = MeloSynthesizer(device, melo, MeloPrecision())
    src, tgt = (torch.randn(1, 256, 1, generator=torch.Generator().manual_seed(seed)) for seed in (1, 2))

    def jobs_at(seconds: float) -> dict:
        """The jobs' calls on inputs of `seconds` (the same draws for the same seconds)."""
        gen = torch.Generator().manual_seed(0)
        frames = int(seconds * melo.config.data.sampling_rate / melo.config.data.hop_length)
        pinned["frames"] = frames  # a mock device computes no durations
        tokens = max(3, round(frames / 3.5)) | 1
        inputs = SimpleNamespace(
            phone_ids=torch.randint(1, 200, (tokens,), generator=gen),
            tone_ids=torch.randint(0, 11, (tokens,), generator=gen),
            language_ids=torch.full((tokens,), 2),
            ja_bert=torch.randn(768, tokens, generator=gen) * 0.3,
            bert=torch.zeros(1024, tokens),
        )
        audio = (torch.randn(int(seconds * converter.config.data.sampling_rate), generator=gen) * 0.3).numpy()
        params, silence = SynthesisParams(), 2205
        return {
            "synth": lambda: synthesizer.synthesize(inputs, 0, params, NoiseSource(0))[0],
            "convert": lambda: torch.from_numpy(converter.convert(audio, src, tgt, 0.3, NoiseSource(0))),
            "extract": lambda: converter.tone_color([audio]),
            "clone": lambda: torch.from_numpy(
                clone_on_device(synthesizer, converter, [inputs], 0, params, NoiseSource(0), silence, src, tgt, 0.3)
            ),
        }

    addresses = _record_upload_addresses(device)
    forwards = _tape_forwards(device, ttnn) if mock else []
    report = {"device": args.device, "kind": device.kind, "arch": device.arch, "traces": device.traces.enabled}
    seconds = [args.seconds] * (args.runs - 1) + [args.shorter or args.seconds]
    for job in args.jobs.split(","):
        outputs, runs = [], []
        captures, replays = device.traces.captures, device.traces.replays
        for run, length in enumerate(seconds):
            last = run == args.runs - 1
            call = jobs_at(length)[job]
            device.transfers.reset()
            addresses.clear()
            forwards.clear()
            graph = None
            before = _memory(ttnn, device.handle)
            if last and mock:
                ttnn.graph.begin_graph_capture(ttnn.graph.RunMode.NORMAL)
            outputs.append(call())
            if last and mock:
                graph = ttnn.graph.end_graph_capture()
            runs.append(
                {
                    "upload_addresses": list(addresses),
                    "memory_before": before,
                    "memory_after": _memory(ttnn, device.handle),
                    "forwards": list(forwards),
                }
            )
        eager = _eager_results(device, jobs_at, job, seconds) if device.traces.enabled else outputs
        summary = {
            "seconds": seconds,
            "output_sizes": [int(out.numel()) for out in outputs],
            "transfers": {k: list(v) for k, v in vars(device.transfers).items()},
            "forwards": runs[-1]["forwards"],
            "previous_forwards": runs[-2]["forwards"] if len(runs) > 1 else [],
            "upload_addresses": [r["upload_addresses"] for r in runs],
            "memory_before": runs[-1]["memory_before"],
            "memory_after": runs[-1]["memory_after"],
            "identical_to_first": [bool(torch.equal(outputs[0], out)) for out in outputs[1:]],
            "identical_to_eager": [bool(torch.equal(e, out)) for e, out in zip(eager, outputs, strict=True)]
            if device.traces.enabled
            else None,
            "captures": device.traces.captures - captures,
            "replays": device.traces.replays - replays,
        }
        if graph is not None:
            summary.update(_graph_summary(graph))
        report[job] = summary
    device.close()
    print(json.dumps(report))


def _record_upload_addresses(device) -> list[int]:
    """Wraps `device.upload` to note the device buffer each input lands in (a preallocated slot, or not)."""
    seen: list[int] = []
    upload = device.upload

    def recorded(*args, **kwargs):
        tensor = upload(*args, **kwargs)
        seen.append(int(tensor.buffer_address()))
        return tensor

    device.upload = recorded
    return seen


def _tape_forwards(device, ttnn) -> list[dict]:
    """Runs every forward (`device.traces.run`, traces off) under the op recorder's tape, which raises on a
    host transfer inside it, and notes its ops (name, input and output shapes), the programs it compiled
    and the counted transfers it made (first runs make resident constants and prepared weights: the tape is
    only switched on from the second run of a forward in a bucket)."""
    notes: list[dict] = []
    run, seen = device.traces.run, set()

    def taped(name, scalars, inputs, forward):
        key = (name, scalars)
        first = key not in seen
        seen.add(key)

        def forward_taped(*tensors):
            moved = device.transfers.summary()
            programs = device.handle.num_program_cache_entries()
            if not first:
                device.ttnn.start_tape(keep=False)  # holding outputs would keep them allocated
            try:
                out = forward(*tensors)
            finally:
                tape = device.ttnn.stop_tape()
            after = device.transfers.summary()
            notes.append(
                {
                    "name": name,
                    "ops": len(tape),
                    "op_graph": [_op_signature(op, args, kwargs, result) for op, args, kwargs, result in tape],
                    "new_programs": device.handle.num_program_cache_entries() - programs,
                    "transfers": {k: after[k] - moved[k] for k in after},
                }
            )
            return out

        return run(name, scalars, inputs, forward_taped)

    device.traces.run = taped
    return notes


def _op_signature(op, args: tuple, kwargs: dict, result) -> str:
    """An op call as its programs see it: name, shapes of its tensor arguments, its output's shape."""

    def shapes(values) -> list:
        return [list(v.shape) for v in values if hasattr(v, "shape") and hasattr(v, "layout")]

    out = result[0] if isinstance(result, tuple) else result
    name = getattr(op, "__name__", None) or str(op)
    return f"{name}{shapes(args)}{shapes(kwargs.values())}->{shapes([out])}"


def _eager_results(device, jobs_at, job: str, seconds: list[float]) -> list:
    """What each run returns with traces off (on the same device, programs already compiled)."""
    device.traces.release_all()
    device.traces.enabled = False
    try:
        return [jobs_at(length)[job]() for length in seconds]
    finally:
        device.traces.enabled = True


def _memory(ttnn, handle) -> dict[str, int]:
    """Bytes allocated per bank in DRAM and L1 (ttnn's allocator)."""
    return {
        kind: int(ttnn.get_memory_view(handle, getattr(ttnn.BufferType, kind)).total_bytes_allocated_per_bank)
        for kind in ("DRAM", "L1")
    }


def _graph_summary(graph: list[dict]) -> dict:
    """From ttnn's graph capture: calls at the host boundary, programs, and buffers still allocated at the end."""
    calls = Counter(node["params"].get("name") for node in graph if node["node_type"] == "function_start")
    live: dict[tuple, int] = {}
    for node in graph:
        params = node.get("params") or {}
        if node["node_type"] == "buffer_allocate":
            live[(params["address"], params["type"])] = int(params["size"])
        elif node["node_type"] == "buffer_deallocate":
            live.pop((params["address"], params["type"]), None)
    return {
        "host_tensors_built": calls["ttnn.from_torch"],
        "new_device_tensors_from_host": calls["Tensor::to_device"],
        "copies_into_slots": calls["ttnn.copy_host_to_device_tensor"],
        "device_reads": calls["Tensor::cpu"],
        "programs": sum(1 for node in graph if node["node_type"] == "program_execution"),
        "buffers_allocated": sum(1 for node in graph if node["node_type"] == "buffer_allocate"),
        "buffers_left_allocated": [{"address": int(a), "type": t, "size": s} for (a, t), s in live.items()],
    }


if __name__ == "__main__":
    main()
