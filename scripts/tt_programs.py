#!/usr/bin/env python3
"""Device programs and warm host seconds per second of audio, per stage, on the mock devices; with
`--against REV`, the same measurement of commit REV side by side, by the same command in the same run.

For each mock device and each tree (REV, exported with `git archive` into a temporary folder, then this
working tree) one worker process (a mock must be chosen before ttnn loads) builds the ttnn models of
that tree and runs each job (synth, convert, clone, extract) at each length: once cold (compiles the
programs), `--warm` times with a stage timer (host seconds; the best of the runs per stage), and once
more counting the device programs per stage (`openvoice_tt/tt/programs.py` of this tree, whatever tree
the models come from: both are counted by the same code; the count runs apart from the timed runs).

A mock device computes nothing, so the data-dependent frame count of synthesis is pinned to the length
asked for (`tt_acceptance.pin_scalars`) and the inputs are `tt_acceptance.token_inputs`, as in the mock
acceptance tests. On a mock the host seconds are ttnn's host dispatch cost only (no device work, no
waiting for it): what trace replay and fewer programs save, not a chip's run time.

Host seconds drift with whatever else the machine runs, and the same code's best run moves by tens of
percent from one worker process to the next even on a quiet machine. With `--rounds N` each tree is
measured by N worker processes per device, the trees' order alternating round by round (before, after;
after, before; ...), and each stage keeps its least host seconds over every round's runs: on a mock the
host seconds are a fixed amount of dispatch work plus delays that only add (other processes, caches,
the scheduler), so the least is the estimate of that work the least moved by them (a median of the
rounds' bests would keep half the process-to-process drift). Each round's best total is kept beside it
(`host_seconds_rounds`), so the spread stays visible; the machine's load average before and after
the run is recorded too (`load_average`): the least of a few rounds defeats a busy moment, not a machine
that is busy for the whole run. Each worker collects garbage and freezes the
collector's generations after building the models (`gc.freeze`: a collection inside a timed run then
scans that run's garbage only, not the models' objects), and records the seconds collections took
inside the timed runs (`gc_seconds`, the most any timed run spent). With `--together` the two trees of a
device are measured at the same time, so a busy machine slows both alike.

Output: a JSON file (`--json`) and a markdown table on stdout (per job: totals; `--stages` adds a row per
stage). `python scripts/readme_tables.py programs FILE.json` renders the README's table from the JSON.

Usage: python scripts/tt_programs.py CHECKPOINT_DIR [--against REV] [--arch wormhole_n150 blackhole_p150]
           [--jobs synth convert clone extract] [--seconds 2 10] [--warm 2] [--rounds 1] [--json OUT] [--stages]
           [--together]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ARCHES = ("wormhole_n150", "blackhole_p150")
JOBS = ("synth", "convert", "clone", "extract")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", type=Path, help="full-size checkpoints (make_test_checkpoints.py --size full)")
    parser.add_argument("--against", metavar="REV", help="also measure this commit, side by side (before)")
    parser.add_argument("--arch", nargs="+", choices=ARCHES, default=list(ARCHES))
    parser.add_argument("--jobs", nargs="+", choices=JOBS, default=list(JOBS))
    parser.add_argument("--seconds", nargs="+", type=float, default=[2.0, 10.0])
    parser.add_argument("--warm", type=int, default=2, help="timed warm runs per job and length (best is kept)")
    parser.add_argument("--rounds", type=int, default=1, help="worker processes per tree and device (least is kept)")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--stages", action="store_true", help="a table row per stage, not only per job")
    parser.add_argument("--together", action="store_true", help="measure both trees at the same time, per device")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # internal: measure the tree at this path
    args = parser.parse_args()
    if not (args.checkpoints / "melotts-english" / "checkpoint.pth").is_file():
        raise SystemExit(f"error: {args.checkpoints}: no melotts-english/checkpoint.pth (a checkpoint folder?)")
    if args.warm < 1 or args.rounds < 1 or any(s <= 0 for s in args.seconds):
        raise SystemExit("error: --warm, --rounds and --seconds must be positive")
    if args.worker is not None:
        print(json.dumps(measure_tree(args.worker, args.checkpoints, args.arch[0], args.jobs, args.seconds, args.warm)))
        return
    report = compare(args)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print("\n".join(markdown(report, args.stages)))


# ------------------------------------------------------------------------------------------ the run


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """Measure REV (if given) and this tree on every mock device, `--rounds` times each; the trees' order
    alternates from round to round."""
    command = " ".join(["python scripts/tt_programs.py", *sys.argv[1:]])
    load_before = os.getloadavg()[0]
    with tree_at(args.against) as before:
        trees = ([("before", describe(args.against), before)] if before else []) + [("after", describe(), REPO)]
        results: dict[str, dict[str, Any]] = {label: {} for label, _, _ in trees}
        for arch in args.arch:
            rounds: list[list[dict[str, Any]]] = [[] for _ in trees]
            for round_ in range(args.rounds):
                order = list(range(len(trees)))[:: -1 if round_ % 2 else 1]
                measured = run_workers([trees[i][2] for i in order], args, arch)
                for i, result in zip(order, measured, strict=True):
                    rounds[i].append(result)
            for (label, _, _), measured in zip(trees, rounds, strict=True):
                results[label][arch] = merge_rounds(measured)
    return {
        "command": command,
        "revisions": {label: revision for label, revision, _ in trees},
        "jobs": args.jobs,
        "seconds": args.seconds,
        "warm": args.warm,
        "rounds": args.rounds,
        "together": args.together,
        # the machine's 1-minute load average before and after, and its cores: rounds keep the least of
        # each stage, which defeats a busy moment, not a machine busy for the whole run
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "results": results,
    }


def merge_rounds(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One tree's worker results on one device -> one: per job and length, each stage's least host
    seconds over the rounds, every round's total beside it, the most gc seconds of any timed run. The
    programs and audio seconds are the same in every round (checked: the count is deterministic)."""
    merged = {"arch": rounds[0]["arch"], "results": {}}
    for job, lengths in rounds[0]["results"].items():
        for seconds, first in lengths.items():
            cells = [result["results"][job][seconds] for result in rounds]
            for cell in cells[1:]:
                if (cell["programs"], cell["audio_seconds"]) != (first["programs"], first["audio_seconds"]):
                    raise SystemExit(f"error: {job} {seconds} s: programs or audio differ between rounds")
            merged["results"].setdefault(job, {})[seconds] = {
                **first,
                "first_seconds": min(cell["first_seconds"] for cell in cells),
                "host_seconds": {k: min(cell["host_seconds"][k] for cell in cells) for k in first["host_seconds"]},
                "host_seconds_rounds": [cell["host_seconds"]["total"] for cell in cells],
                "gc_seconds": max(cell["gc_seconds"] for cell in cells),
                "program_cache_clears_while_warm": max(cell["program_cache_clears_while_warm"] for cell in cells),
            }
    return merged


def describe(rev: str | None = None) -> str:
    """Commit `rev`'s short hash; without one, this tree's (HEAD's, "+changes" if it has uncommitted ones)."""
    git = ["git", "-C", str(REPO)]
    sha = subprocess.run([*git, "rev-parse", "--short", rev or "HEAD"], capture_output=True, text=True, check=True)
    if rev is not None:
        return sha.stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return sha.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


@contextmanager
def tree_at(rev: str | None) -> Iterator[Path | None]:
    """The files of commit `rev` in a temporary folder (`git archive`: no worktree is registered)."""
    if rev is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="tt_programs_") as scratch:
        archive = Path(scratch) / "tree.tar"
        done = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), rev], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"error: --against {rev}: {done.stderr.strip().splitlines()[-1]}")
        root = Path(scratch) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
        yield root


def run_workers(roots: list[Path], args: argparse.Namespace, arch: str) -> list[dict[str, Any]]:
    """This script on the models of each tree in `roots`, each in a fresh process (one mock per process):
    one after the other, or all at once with `--together` (then a busy machine slows every tree alike)."""
    if args.together:
        return [
            finish_worker(process, root, arch) for root, process in [(r, start_worker(r, args, arch)) for r in roots]
        ]
    return [finish_worker(start_worker(root, args, arch), root, arch) for root in roots]


def start_worker(root: Path, args: argparse.Namespace, arch: str) -> subprocess.Popen:
    command = [sys.executable, str(Path(__file__).resolve()), str(args.checkpoints), "--worker", str(root)]
    command += ["--arch", arch, "--jobs", *args.jobs, "--seconds", *map(str, args.seconds), "--warm", str(args.warm)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK") and k != "PYTHONPATH"}
    env |= {"TT_METAL_LOGGER_LEVEL": "ERROR", "LOGURU_LEVEL": "ERROR", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=root)


def finish_worker(process: subprocess.Popen, root: Path, arch: str) -> dict[str, Any]:
    stdout, stderr = process.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        raise SystemExit(f"error: {arch} on {root} failed (exit {process.returncode}): {' | '.join(tail)}")
    return json.loads(lines[-1])


# ------------------------------------------------------------------------------------- the worker


def measure_tree(root: Path, checkpoints: Path, arch: str, jobs: list[str], lengths: list[float], warm: int) -> dict:
    """Every job at every length on a mock `arch`, with the models of the tree at `root`."""
    sys.path.insert(0, str(root.resolve()))
    from openvoice_tt.tt.device import configure_mock

    configure_mock(arch)
    import torch

    from openvoice_tt.reference.converter import load_converter_model
    from openvoice_tt.reference.synthesizer import load_melo_synthesizer
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_ttnn_device
    from openvoice_tt.tt.settings import ConverterPrecision, MeloPrecision
    from openvoice_tt.tt.synthesizer import MeloSynthesizer

    if not Path(sys.modules["openvoice_tt"].__file__).is_relative_to(root.resolve()):
        raise SystemExit(f"error: openvoice_tt was imported from {sys.modules['openvoice_tt'].__file__}, not {root}")
    acceptance, programs = _this_tree("tt_acceptance", "scripts"), _this_tree("programs", "openvoice_tt/tt")
    device = open_ttnn_device()
    pinned = acceptance.pin_scalars(device)
    melo = load_melo_synthesizer(
        checkpoints / "melotts-english" / "config.json", checkpoints / "melotts-english" / "checkpoint.pth"
    )
    converter_ref = load_converter_model(
        checkpoints / "converter" / "config.json", checkpoints / "converter" / "checkpoint.pth"
    )
    synthesizer = MeloSynthesizer(device, melo, MeloPrecision())
    converter = ToneColorConverter(device, converter_ref, ConverterPrecision())
    gc.collect()
    gc.freeze()  # the models' objects: no collection inside a timed run scans them
    results: dict[str, dict[str, Any]] = {}
    for job in jobs:
        for seconds in lengths:
            gen = torch.Generator().manual_seed(0)
            run = _job(job, seconds, gen, acceptance, pinned, synthesizer, converter, melo.config.data)
            results.setdefault(job, {})[str(seconds)] = _measure(run, device, programs, warm)
    device.close()
    return {"arch": device.arch, "results": results}


def _this_tree(name: str, folder: str) -> Any:
    """A module of this script's tree loaded by path, whatever tree `openvoice_tt` comes from: the
    measurement code (pinning, program counting) is the same for both trees."""
    spec = importlib.util.spec_from_file_location(f"_measure_{name}", REPO / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    spec.loader.exec_module(module)
    sys.path[:] = path  # tt_acceptance puts its own tree first; the models' tree must stay first
    return module


Run = Callable[[Any], float]  # runs a job with a stage timer -> seconds of audio it produced


def _job(
    job: str, seconds: float, gen: Any, acceptance: Any, pinned: dict, synthesizer: Any, converter: Any, data: Any
) -> Run:
    """One job at one length, as tt_acceptance.py runs it (same inputs, same pinned frame count)."""
    import torch

    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.synthesizer import SynthesisParams

    rate = converter.config.data.sampling_rate
    audio = (torch.randn(int(seconds * rate), generator=gen) * 0.3).numpy()
    src, tgt = torch.randn(1, 256, 1, generator=gen), torch.randn(1, 256, 1, generator=gen)
    frames = int(seconds * data.sampling_rate / data.hop_length)
    inputs = acceptance.token_inputs(frames, gen) if job in ("synth", "clone") else None

    clone_on_device = _this_tree("tt_harness", "scripts").clone_on_device if job == "clone" else None

    def run(timer: Any) -> float:
        pinned["frames"] = frames
        if job == "synth":
            wave, _ = synthesizer.synthesize(inputs, 0, SynthesisParams(), NoiseSource(0), timer)
            return len(wave) / data.sampling_rate
        if job == "convert":
            return len(converter.convert(audio, src, tgt, 0.3, NoiseSource(0), timer)) / rate
        if job == "extract":
            converter.tone_color([audio], timer)
            return len(audio) / rate
        out = clone_on_device(
            synthesizer, converter, [inputs], 0, SynthesisParams(), NoiseSource(0), 2205, src, tgt, 0.3, timer
        )
        return len(out) / rate

    return run


def _measure(run: Run, device: Any, programs: Any, warm: int) -> dict[str, Any]:
    """Cold run, `warm` timed runs (best per stage; the garbage of earlier runs collected before each, and
    the seconds collections took inside each recorded), one counted run."""
    from openvoice_tt.timing import StageTimer

    start = time.perf_counter()
    run(StageTimer())
    first = time.perf_counter() - start
    generation, host, gc_most = device.generation, None, 0.0
    for _ in range(warm):
        timer = StageTimer()
        gc.collect()
        with collector_seconds() as in_gc:
            start = time.perf_counter()
            audio_seconds = run(timer)
            seconds = {**timer.seconds, "total": time.perf_counter() - start}
        gc_most = max(gc_most, in_gc[0])
        host = seconds if host is None else {k: min(v, host[k]) for k, v in seconds.items()}
    clears = device.generation - generation
    counter = programs.StagePrograms()
    with programs.counting(device) as total:
        run(counter)
    return {
        "audio_seconds": round(audio_seconds, 4),
        "first_seconds": round(first, 3),
        "host_seconds": {k: round(v, 4) for k, v in host.items()},
        "gc_seconds": round(gc_most, 4),
        "programs": {**counter.programs, "total": total.programs},
        "program_cache_clears_while_warm": clears,
    }


@contextmanager
def collector_seconds() -> Iterator[list[float]]:
    """[seconds Python's garbage collector ran inside the block], filled in as it runs."""
    total, started = [0.0], [0.0]

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            total[0] += time.perf_counter() - started[0]

    gc.callbacks.append(note)
    try:
        yield total
    finally:
        gc.callbacks.remove(note)


# ---------------------------------------------------------------------------------------- the tables


def per_audio_second(cell: dict[str, Any], kind: str, stage: str = "total") -> float | None:
    """One measurement's programs or host seconds (`kind`) of a stage per second of audio."""
    value = cell[kind].get(stage)
    return None if value is None else value / cell["audio_seconds"]


def markdown(report: dict[str, Any], stages: bool = False) -> list[str]:
    """Per device, job and length (and stage): programs and warm host seconds per audio second, before
    and after, and the factor (before / after)."""
    revisions = report["revisions"]
    labels = list(revisions)
    head = ["device", "job", "audio s", "stage"] if stages else ["device", "job", "audio s"]
    for kind in ("programs", "host s"):
        head += [f"{kind} / audio s {label} ({revisions[label]})" for label in labels]
        head += ["x fewer" if kind == "programs" else "x less"] if len(labels) == 2 else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for arch in report["results"][labels[-1]]:
        for job in report["jobs"]:
            for seconds in map(str, report["seconds"]):
                cells = {label: report["results"][label][arch]["results"][job][seconds] for label in labels}
                after = cells[labels[-1]]
                names = [*(k for k in after["programs"] if k != "total"), "total"] if stages else ["total"]
                for stage in names:
                    row = [arch, job, f"{after['audio_seconds']:.2f}"] + ([stage] if stages else [])
                    for kind, form in (("programs", "{:.0f}"), ("host_seconds", "{:.3f}")):
                        values = [per_audio_second(cells[label], kind, stage) for label in labels]
                        row += ["-" if v is None else form.format(v) for v in values]
                        if len(values) == 2:
                            row.append(_factor(*values))
                    lines.append("| " + " | ".join(row) + " |")
    return lines


def _factor(before: float | None, after: float | None) -> str:
    if before is None or after is None or after == 0:
        return "-"
    return f"{before / after:.2f}"


if __name__ == "__main__":
    main()
