"""`--timestamps FILE` of synth and clone: the words' times (`Speech.words`) as JSON, SRT or WebVTT.

The format is the file's extension (.json, .srt, .vtt), checked with the destination before any model
loads (another extension is a usage error, exit 2); the file is written through `outputs` (atomic). JSON
gives each word's text, where the text comes from, and its start and end in seconds and in samples of the
audio written (with `--json`, each phone's too); a subtitle file has one cue per word, in milliseconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from openvoice_tt import outputs
from openvoice_tt.word_timings import WordTiming

TIMESTAMP_FORMATS = {".json": "json", ".srt": "srt", ".vtt": "vtt"}

TimestampsOpt = Annotated[
    Path | None,
    typer.Option(
        "--timestamps",
        help="Also write when each word is spoken: .json (seconds and samples per word; with --json per phone "
        "too), .srt or .vtt (one subtitle per word), by the extension.",
        show_default=False,
    ),
]


def timestamps_output(destination: Path | None, audio: str, inputs: Iterable[Any] = ()) -> str | None:
    """Check `--timestamps` before any model loads: its format (the extension), that it can be written,
    and that it is neither the audio output nor an input. Returns the format (None: not asked for)."""
    if destination is None:
        return None
    name = os.fspath(destination)
    fmt = TIMESTAMP_FORMATS.get(Path(name).suffix.lower())
    if fmt is None or name == outputs.STDOUT:
        known = ", ".join(TIMESTAMP_FORMATS)
        message = f"{name}: name a {known} file (its extension is the format)"
        raise typer.BadParameter(message, param_hint="--timestamps")
    if audio != outputs.STDOUT and os.path.realpath(audio) == os.path.realpath(name):
        raise typer.BadParameter(f"{name}: is also the audio output", param_hint="--timestamps")
    outputs.check_output_file(name)
    outputs.check_not_an_input(name, inputs)
    return fmt


def write_timestamps(
    destination: Path, fmt: str, words: Sequence[WordTiming], sample_rate: int, phones: bool = False
) -> None:
    """Write `words` (samples at `sample_rate`) to `destination` in `fmt` (atomic, `outputs.write_file`)."""
    outputs.write_file(destination, render(words, sample_rate, fmt, phones).encode("utf-8"))


def render(words: Sequence[WordTiming], sample_rate: int, fmt: str, phones: bool = False) -> str:
    if fmt == "json":
        body = {"sample_rate": sample_rate, "words": [word.to_json(sample_rate, phones) for word in words]}
        return json.dumps(body, ensure_ascii=False, indent=1) + "\n"
    cues = []
    for index, word in enumerate(words, start=1):
        start, end = clock(word.start, sample_rate, fmt), clock(word.end, sample_rate, fmt)
        cues.append((f"{index}\n" if fmt == "srt" else "") + f"{start} --> {end}\n{word.text}\n")
    return ("WEBVTT\n\n" if fmt == "vtt" else "") + "\n".join(cues)


def clock(sample: int, sample_rate: int, fmt: str) -> str:
    """A sample position as a subtitle time, rounded to the millisecond: SRT `HH:MM:SS,mmm`, WebVTT `.`."""
    ms = (sample * 1000 + sample_rate // 2) // sample_rate
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{',' if fmt == 'srt' else '.'}{ms:03d}"
