"""Reading the text a command speaks and writing the audio it makes, then saying what was written.

The destination is checked before any model loads (format known, folder writable; `-o -` is stdout), so a
typo costs no minutes of synthesis. Audio goes to the file or stdout; the one-line summary goes to stderr,
and with --json the summary is the result on stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from openvoice_tt import api, outputs
from openvoice_tt.api.validation import MAX_TEXT_CHARS, check_unicode
from openvoice_tt.audio import FORMATS, STDOUT, audio_format_for
from openvoice_tt.cli.options import AudioFormat
from openvoice_tt.cli.ui import Ui
from openvoice_tt.errors import InputError
from openvoice_tt.reading import read_bounded

if TYPE_CHECKING:
    from openvoice_tt.timing import StageTimer


def read_text(text: str) -> str:
    """TEXT, or stdin's text for "-", as real Unicode of at most `MAX_TEXT_CHARS` (exit 3 otherwise).

    stdin is read as bytes in chunks up to `MAX_TEXT_CHARS` bytes, so an endless input (/dev/zero, a pipe
    that never closes) is refused at the bound and SIGINT/SIGTERM stop the read between chunks; bytes that
    are not UTF-8 (in stdin or, surrogate-escaped, in argv) are an error naming the byte offset, never dropped.
    """
    if text != STDOUT:
        check_unicode(text, "TEXT")
        return text
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputError("stdin: not open (TEXT is '-')")
    try:
        data = read_bounded(stream, MAX_TEXT_CHARS)
    except OSError as e:
        raise InputError(f"stdin: cannot read ({e.strerror or e})") from None
    if data is None:
        raise InputError(f"stdin: over {MAX_TEXT_CHARS // 2**20} MiB of text (the limit; split it, or use batch)")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise InputError(f"stdin: not UTF-8 text (byte 0x{data[e.start]:02x} at byte offset {e.start})") from None


def audio_output(output: str, fmt: AudioFormat | None, json_out: bool, inputs: Iterable[Any] = ()) -> str:
    """Check the destination before any work: format known, folder writable, not one of the command's
    `inputs` (which writing would destroy). Returns the format: -f, else the extension; stdout and a
    special file without a known extension (`/dev/stdout`, `/dev/null`, a FIFO) get wav."""
    if output == STDOUT and json_out:
        raise typer.BadParameter("--json cannot be combined with -o - (both would use stdout)", param_hint="--json")
    explicit = fmt.value if fmt else None
    if explicit is None and outputs.is_special(output) and Path(output).suffix.lower().lstrip(".") not in FORMATS:
        explicit = "wav"
    name = audio_format_for(output, explicit)
    outputs.check_output_file(output)
    if json_out:
        outputs.check_output_file(STDOUT)  # the --json result must have somewhere to go
    outputs.check_not_an_input(output, inputs)
    return name


def check_streamable(fmt: str) -> None:
    """--stream writes a header of unknown length and then samples, which only some formats allow."""
    from openvoice_tt.streaming import STREAM_FORMATS

    if fmt not in STREAM_FORMATS:
        raise typer.BadParameter(f"--stream writes {' or '.join(STREAM_FORMATS)}, not {fmt}", param_hint="--format")


def write_streamed(
    ui: Ui, json_out: bool, command: str, output: str, fmt: str, pieces: Iterable[Any], rate: int, seed: int, **at: Any
) -> None:
    """Write streamed audio as it comes, then report like `finish` (with the time to the first audio)."""
    from openvoice_tt.streaming import write_stream

    streamed = write_stream(output, pieces, rate, fmt)
    seconds = streamed.samples / rate
    if json_out:
        ui.json(
            {
                "command": command,
                "output": output,
                "format": fmt,
                "streamed": True,
                "sample_rate": rate,
                "seconds": round(seconds, 4),
                "samples": streamed.samples,
                "seed": seed,
                **at,
                "first_audio_seconds": round(streamed.first_audio_seconds, 4),
                "wall_seconds": round(streamed.seconds, 4),
            }
        )
    destination = "stdout" if output == STDOUT else output
    first = streamed.first_audio_seconds
    ui.status(f"wrote {destination}: {seconds:.2f} s at {rate} Hz (seed {seed}), first audio after {first:.2f} s")


@dataclass(frozen=True)
class Written:
    """What a non-streamed command wrote, as its summary reports it (a `Speech` without the samples)."""

    sample_rate: int
    samples: int
    frames: int
    hop_length: int
    chunks: int
    seed: int
    timings: Mapping[str, Mapping[str, float]]

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate

    @classmethod
    def of(cls, speech: api.Speech) -> Written:
        return cls(
            speech.sample_rate,
            len(speech.audio),
            speech.frames,
            speech.hop_length,
            len(speech.chunks),
            speech.seed,
            speech.timings,
        )


def write_synthesized(
    output: str, fmt: str, pieces: Iterable[Any], tts: api.TTS, speed: float, seed: int, timer: StageTimer
) -> Written:
    """Write a synthesis (`TTS.stream`'s pieces, the chunk loop every output shares) to `output` piece by
    piece (`streaming.write_take`), so memory does not grow with the audio: the file is the one
    `TTS.synth(...).save(output)` writes, and the summary its `Speech`'s (every piece is a chunk's
    `frames * hop_length` samples followed by the pause, `TTS.silence_samples`)."""
    from openvoice_tt.streaming import write_take

    take = write_take(output, pieces, tts.sample_rate, fmt)
    frames, rest = divmod(take.samples - take.pieces * tts.silence_samples(speed), tts.hop_length)
    if rest:  # a backend broke the contract above: a bug, keep the traceback
        raise AssertionError(f"synthesis of {take.samples} samples is not whole frames plus pauses")
    return Written(tts.sample_rate, take.samples, frames, tts.hop_length, take.pieces, seed, {"synth": timer.seconds})


def language_fields(ui: Ui, base: api.BaseSpeaker) -> dict[str, Any]:
    """The JSON fields saying which language speaks (`language`, its code as `speakers` and `phonemes` give
    it, and `language_key`) and, when it was detected from the text (`--language auto` or no speaker),
    `language_detected` (key, code, reason); a detection of any language but English (what a speaker-less
    call spoke before there was detection) is also said on stderr."""
    from openvoice_tt.languages import EN

    if base.detection is not None and base.language is not EN:
        ui.status(f"language: {base.language.key} ({base.detection.reason})")
    return base.language_json()


def finish(
    ui: Ui, json_out: bool, command: str, output: str, fmt: str, speech: api.Speech | Written, **extra: Any
) -> None:
    """Say what was written: one line on stderr; with --json, the full summary (timings too) on stdout."""
    written = speech if isinstance(speech, Written) else Written.of(speech)
    if json_out:
        ui.json(
            {
                "command": command,
                "output": output,
                "format": fmt,
                "sample_rate": written.sample_rate,
                "seconds": round(written.seconds, 4),
                "samples": written.samples,
                "frames": written.frames,
                "hop_length": written.hop_length,
                "chunks": written.chunks,
                "seed": written.seed,
                **extra,
                "timings": {phase: {k: round(v, 4) for k, v in t.items()} for phase, t in written.timings.items()},
            }
        )
    where = "stdout" if output == STDOUT else output
    ui.status(f"wrote {where}: {written.seconds:.2f} s at {written.sample_rate} Hz (seed {written.seed})")
