#!/usr/bin/env python3
"""Time to first audio with --stream against the time to the whole file, for a 20-sentence text.

Runs the CLI in fresh processes, as a user would: `synth`/`clone --stream -o -` (the clock stops at the
first audio bytes after the WAV header, and again at the end of the stream) and the same command writing
a file (the clock stops when the process exits). Every run pays the same process start and model load,
so the difference is what streaming saves. Checkpoints: DIR, or random-weight checkpoints of the real
sizes written to a temporary folder (their work per second of audio is that of the real models).

Usage: PYTHONPATH=$PWD python scripts/time_first_audio.py [--checkpoints DIR] [--device cpu] [--sentences 20]
           [--commands synth,clone]
Prints one JSON line per command as soon as it is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WAV_HEADER = 44
SUBJECTS = ("the river", "an old clock", "the market", "a quiet street", "the harbour", "the library", "a garden")
ACTIONS = ("changes with the seasons", "was busy before dawn", "had a story to tell", "looked different today")


def text(sentences: int) -> str:
    """`sentences` plain English sentences of 8 to 12 words."""
    return " ".join(
        f"Sentence {n + 1}: {SUBJECTS[n % len(SUBJECTS)]} {ACTIONS[n % len(ACTIONS)]}, as everyone agreed."
        for n in range(sentences)
    )


def streamed(command: list[str]) -> tuple[float, float, int]:
    """(seconds to the first audio bytes, seconds to the end, audio bytes) of a --stream -o - run."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=os.environ | {"PYTHONPATH": str(REPO)})
    received, first = b"", None
    assert process.stdout is not None
    while piece := process.stdout.read1(65536):
        received += piece
        if first is None and len(received) > WAV_HEADER:
            first = time.perf_counter() - start
    if process.wait() != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return first or float("nan"), time.perf_counter() - start, len(received) - WAV_HEADER


def whole(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=os.environ | {"PYTHONPATH": str(REPO)})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", type=Path)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sentences", type=int, default=20)
    parser.add_argument("--commands", default="synth,clone", help="synth, clone or both, comma-separated")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="first-audio-"))
    checkpoints = args.checkpoints
    if checkpoints is None:
        sys.path.insert(0, str(REPO))
        from scripts.make_test_checkpoints import write_all

        checkpoints = write_all(work / "checkpoints", "full", seed=0)
    speech = text(args.sentences)
    cli = [sys.executable, "-m", "openvoice_tt"]
    common = ["-c", str(checkpoints), "-d", args.device, "-q", "--seed", "0"]
    se = ["--se", str(checkpoints / "base_speakers" / "ses" / "en-br.pth")]
    setup = {"sentences": args.sentences, "characters": len(speech), "device": args.device}
    for name, extra, rate in (("synth", [], 44100), ("clone", se, 22050)):
        if name not in args.commands.split(","):
            continue
        first, end, data = streamed([*cli, name, speech, "--stream", "-o", "-", *common, *extra])
        file_seconds = whole([*cli, name, speech, "-o", str(work / f"{name}.wav"), *common, *extra])
        result = {
            "command": name,
            **setup,
            "audio_seconds": round(data / 2 / rate, 2),
            "first_audio_seconds": round(first, 2),
            "stream_end_seconds": round(end, 2),
            "whole_file_seconds": round(file_seconds, 2),
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
