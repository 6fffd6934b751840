#!/usr/bin/env python3
"""Regenerate the README's derivable tables from the code, so the README cannot drift from it.

`placement`: runs the command the README shows (`openvoice-tt placement` on the host emulation of
ttnn, full-size random-weight checkpoints) and renders its table (ttnn ops, host transfers, GFLOP per
audio second per stage) with the audio length and the transfer count the text quotes.
`bench`: renders the bench table and its "where the time goes" sentence from `openvoice-tt bench
--json` outputs, so RTFs and stage sums come from the same run.

`programs`: device programs and host seconds per audio second on the mock devices, before (`--against`
REV) and after (this tree), measured by `scripts/tt_programs.py` into tests/data/tt_programs.json (or
rendered from that file as it is with `--measured`) and written into the README's table.

`tests/test_readme.py` checks the placement table (and the exit-code table) against the code, and the
programs table against tests/data/tt_programs.json.

Usage:
  python scripts/readme_tables.py placement [--checkpoints DIR] [--write]   # DIR: full size (else generated)
  python scripts/readme_tables.py bench BERT_OFF.json BERT_ON.json
  python scripts/readme_tables.py programs (--checkpoints DIR --against REV | --measured) [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PLACEMENT_TEXT = "The quick brown fox jumps over the lazy dog."
PLACEMENT_HEADER = "| stage | runs on | ttnn ops | host transfers | GFLOP per audio second |"
PLACEMENT_LABELS = {  # stage name in `placement --json` -> the README's description of it
    "bert": "BERT (word-table lookup, 10 post-LayerNorm layers, word2ph expansion as a one-hot matmul)",
    "text_encoder": "text encoder (embeddings as one-hot matmuls, BERT projection, 6 relative-attention layers)",
    "duration": "duration (stochastic predictor incl. the inverse spline, deterministic predictor, ceil)",
    "alignment": "alignment (prefix sums, path, frame expansion)",
    "flow": "flow (4 transformer coupling layers, reverse)",
    "vocoder": "vocoder (HiFi-GAN, 44.1 kHz)",
    "resample": "resample 44.1 -> 22.05 kHz (polyphase FIR)",
    "converter.spectrogram": "converter spectrogram (reflect pad + windowed-DFT matmul)",
    "converter.posterior_encoder": "converter posterior encoder (16-layer WaveNet)",
    "converter.flow": "converter flow (forward with the source voice, reverse with the target)",
    "converter.vocoder": "converter vocoder (HiFi-GAN, 22.05 kHz)",
    "extract.reference_encoder": "tone-color extraction (LayerNorm, six Conv2d, GRU as matmuls, Linear)",
    "host boundary": "host boundary",
}
AUDIO_SECONDS = re.compile(r"On full-size checkpoints \(([\d.]+) s of(\s+)audio\)")
HOST_TRANSFERS = re.compile(r"The host's (\d+) transfers")


def placement_checkpoints(source: Path, scratch: Path) -> Path:
    """The checkpoints the placement table is measured on: `source`'s folders (linked, not copied) and, unless
    it has one, a full-size bert-base-uncased of random weights, so the table shows the BERT on the device."""
    from openvoice_tt.layout import BERT_DIR
    from scripts.make_test_checkpoints import write_bert

    folder = scratch / "placement-checkpoints"
    folder.mkdir()
    for entry in Path(source).iterdir():
        (folder / entry.name).symlink_to(entry.resolve())
    if not (folder / BERT_DIR).exists():
        write_bert(folder / BERT_DIR)
    return folder


def placement_report(checkpoints: Path) -> dict:
    """`OPENVOICE_TT_DEVICE=emulation openvoice-tt placement TEXT -c DIR --json`, in a fresh process."""
    env = {**os.environ, "OPENVOICE_TT_DEVICE": "emulation", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "openvoice_tt", "placement", PLACEMENT_TEXT, "-c", str(checkpoints), "--json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"placement failed ({result.returncode}): {result.stderr.strip()}")
    return json.loads(result.stdout)


def placement_table(report: dict) -> list[str]:
    lines = [PLACEMENT_HEADER, "|---|---|---|---|---|"]
    for row in report["rows"]:
        stage = row["stage"].split(" (")[0]  # "host boundary (inputs, noise, length, audio)"
        if stage not in PLACEMENT_LABELS:
            raise KeyError(f"stage {stage!r} has no README label: add it to PLACEMENT_LABELS")
        gflop = row["gflop_per_audio_second"]
        cells = [PLACEMENT_LABELS[stage], row["runs_on"], row["ttnn_ops"], row["host_transfers"], f"{gflop:.2f}"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return lines


def placement_facts(report: dict) -> dict[str, str]:
    """The numbers the README's prose quotes next to the table."""
    per_utterance = ("uploads", "downloads", "scalar_reads")  # constants and weights: once per bucket
    transfers = sum(len(report["transfers"][k]) for k in per_utterance)
    return {"audio_seconds": f"{report['audio_seconds']:.1f}", "host_transfers": str(transfers)}


def readme_placement(text: str) -> tuple[list[str], dict[str, str]]:
    """The placement table and the quoted numbers as the README has them."""
    lines = text.splitlines()
    start = lines.index(PLACEMENT_HEADER)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    seconds, transfers = AUDIO_SECONDS.search(text), HOST_TRANSFERS.search(text)
    facts = {
        "audio_seconds": seconds.group(1) if seconds else "?",
        "host_transfers": transfers.group(1) if transfers else "?",
    }
    return lines[start:end], facts


def write_placement(text: str, report: dict) -> str:
    table, _ = readme_placement(text)
    new = "\n".join(placement_table(report))
    text = text.replace("\n".join(table), new)
    facts = placement_facts(report)
    text = AUDIO_SECONDS.sub(
        lambda m: f"On full-size checkpoints ({facts['audio_seconds']} s of{m.group(2)}audio)", text
    )
    return HOST_TRANSFERS.sub(f"The host's {facts['host_transfers']} transfers", text)


def bench_lines(bert_off: dict, bert_on: dict) -> list[str]:
    """The bench table rows and the "where the time goes" sentence (BERT-on run, its clone pass)."""

    def row(label: str, report: dict) -> str:
        load = report["load_seconds"]
        model = "MeloTTS with BERT" if report["bert"] else "MeloTTS"
        return (
            f"| {label} | {report['synth']['rtf']:.2f} | {report['clone']['rtf']:.2f} | "
            f"{load['tts']:.1f} s {model} + {load['converter']:.1f} s converter |"
        )

    clone = bert_on["clone"]["stages"]
    synth = {k.removeprefix("synth."): v for k, v in clone.items() if k.startswith("synth.")}
    converter = {k.removeprefix("convert."): v for k, v in clone.items() if k.startswith("convert.")}
    resample = converter.pop("resample", 0.0)  # bench's clone phases are "synth" and "convert" (api.Speech)
    words = ", ".join(f"{k} {v:.2f}" for k, v in sorted(synth.items(), key=lambda kv: -kv[1]))
    conv = ", ".join(f"{k} {v:.2f}" for k, v in sorted(converter.items(), key=lambda kv: -kv[1]))
    return [
        f"{bert_on['clone']['audio_seconds']:.1f} s of audio per pass",
        row("BERT off (zero features)", bert_off),
        row("BERT on", bert_on),
        f"Where the time goes (BERT on, the clone pass, seconds): synth = {words}; resample {resample:.2f}; "
        f"converter = {conv}; other {bert_on['clone']['other']:.2f}; total {bert_on['clone']['total']:.2f}.",
    ]


PROGRAMS_JSON = REPO / "tests" / "data" / "tt_programs.json"
PROGRAMS_HEADER = "| device | job | audio s | programs / audio s"


def measure_programs(checkpoints: Path, against: str, out: Path) -> dict:
    """`python scripts/tt_programs.py DIR --against REV --together --warm 5 --rounds 3 --json OUT` (every job,
    both mocks, 2 and 10 s; both trees of a device measured at the same time, so other work on the machine
    slows both alike; three worker processes per tree, each stage's least host seconds kept, as the host
    seconds of one process drift by tens of percent from the next)."""
    command = [sys.executable, "scripts/tt_programs.py", str(checkpoints), "--against", against, "--together"]
    command += ["--warm", "5", "--rounds", "3"]
    subprocess.run([*command, "--json", str(out.relative_to(REPO))], check=True, stdout=subprocess.DEVNULL, cwd=REPO)
    return json.loads(out.read_text())


def programs_table(report: dict) -> list[str]:
    """The README's table: per mock device, job and length, totals before and after."""
    from scripts.tt_programs import markdown

    return markdown(report)


def readme_programs(text: str) -> list[str]:
    """The programs table as the README has it (empty if it has none)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(PROGRAMS_HEADER)), len(lines))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return lines[start:end]


def write_programs(text: str, report: dict) -> str:
    table = readme_programs(text)
    if not table:
        raise ValueError(f"README has no table starting with {PROGRAMS_HEADER!r}")
    return text.replace("\n".join(table), "\n".join(programs_table(report)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    placement = commands.add_parser("placement")
    placement.add_argument("--checkpoints", type=Path, help="full-size checkpoints (else generated, ~330 MB)")
    placement.add_argument("--write", action="store_true", help="update README.md in place")
    bench = commands.add_parser("bench")
    bench.add_argument("bert_off", type=Path)
    bench.add_argument("bert_on", type=Path)
    programs = commands.add_parser("programs")
    source = programs.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoints", type=Path, help="full-size checkpoints: measure now (with --against)")
    source.add_argument("--measured", action="store_true", help=f"render {PROGRAMS_JSON.relative_to(REPO)} as it is")
    programs.add_argument("--against", metavar="REV", help="the commit to compare with (before)")
    programs.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args()
    if args.command == "bench":
        print("\n".join(bench_lines(json.loads(args.bert_off.read_text()), json.loads(args.bert_on.read_text()))))
        return
    if args.command == "programs":
        sys.path.insert(0, str(REPO))
        if args.checkpoints is not None and args.against is None:
            parser.error("programs --checkpoints needs --against REV")
        if args.measured:
            report = json.loads(PROGRAMS_JSON.read_text())
        else:
            report = measure_programs(args.checkpoints, args.against, PROGRAMS_JSON)
        if args.write:
            README.write_text(write_programs(README.read_text(), report))
        print("\n".join(programs_table(report)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.checkpoints
        sys.path.insert(0, str(REPO))
        if folder is None:
            from scripts.make_test_checkpoints import write_all

            folder = write_all(Path(scratch) / "full", "full", seed=0)
        report = placement_report(placement_checkpoints(folder, Path(scratch)))
    if args.write:
        README.write_text(write_placement(README.read_text(), report))
    print("\n".join(placement_table(report)))
    print(placement_facts(report))


if __name__ == "__main__":
    main()
