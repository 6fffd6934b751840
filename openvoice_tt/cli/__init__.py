"""`openvoice-tt`, the command-line tool: thin Typer commands over `openvoice_tt.api`, rendered with rich.

Output goes where scripts expect it: results (tables, `--json`) on stdout; progress bars, notes, warnings
and errors on stderr; audio on stdout only with `-o -`. `--quiet` leaves nothing but errors. torch is
imported inside the commands, so `--help` is quick.

Exit codes: 0 success; 1 some batch items failed; 2 usage error (bad option); 3 bad input (text, audio,
option value, unknown speaker, lexicon); 4 checkpoint problem (missing, corrupt, unsafe, NaN weights,
mismatched, download failed); 5 output cannot be written (missing or unwritable folder, disk full); 6 device
unavailable or broken; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). Every failure is one `error:`
line on stderr (usage errors too), and with --json also a JSON error object on stdout.
"""

import enum
import functools
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

from openvoice_tt import __version__, api, outputs
from openvoice_tt.audio import FORMATS, STDOUT, audio_format_for
from openvoice_tt.errors import InputError, OpenVoiceError, Terminated

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM
WIDE = 400  # characters: the console width for tables written to a file or pipe
PACKAGE_DIR = str(Path(__file__).resolve().parent)


class _OneLineErrors(typer.core.TyperGroup):
    """Usage errors (unknown option, missing argument, bad choice) as one `error: ...` line and exit 2, in
    the same style as every other error, instead of Click's boxed usage panel; with --json, also a JSON
    error object on stdout. (typer vendors click: its ClickException derives from typer.TyperException.)"""

    def main(self, args: Any = None, *pos: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(args, *pos, standalone_mode=False, **kwargs)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, *pos, standalone_mode=False, **kwargs)
        except typer.TyperException as e:
            if type(e).__name__ == "NoArgsIsHelpError":  # no arguments at all: the help is the answer
                print(e.format_message(), file=sys.stderr)
            else:
                ctx = getattr(e, "ctx", None)
                hint = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
                _report(f"{' '.join(e.format_message().split())}{hint}", e.exit_code, "--json" in argv)
            sys.exit(e.exit_code)
        except typer.Abort:
            _report("interrupted", EXIT_INTERRUPTED, "--json" in argv)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    name="openvoice-tt",
    help="OpenVoice V2 voice cloning (MeloTTS English + tone-color converter), offline, on CPU, CUDA or Tenstorrent.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Device(str, enum.Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    tt = "tt"


AudioFormat = enum.Enum("AudioFormat", {name: name for name in FORMATS}, type=str)


class Vad(str, enum.Enum):
    silero = "silero"
    energy = "energy"


class ListFormat(str, enum.Enum):
    txt = "txt"
    csv = "csv"
    tsv = "tsv"
    jsonl = "jsonl"


# Options shared by several commands.
CheckpointsOpt = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        "-c",
        help=f"Checkpoint folder (default: ${api.HOME_ENV}, else ./checkpoints).",
        show_default=False,
    ),
]
DeviceOpt = Annotated[Device, typer.Option("--device", "-d", help="Where to run: auto = tt, else cuda, else cpu.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="Output audio file, or - for stdout.")]
FormatOpt = Annotated[
    AudioFormat | None,
    typer.Option(
        "--format", "-f", help="Audio format (default: the output's extension; wav for -).", show_default=False
    ),
]
SpeakerOpt = Annotated[
    str | None,
    typer.Option(
        "--speaker",
        "-s",
        help="Base speaker, see 'openvoice-tt speakers' (default: the first, EN-US).",
        show_default=False,
    ),
]
SpeedOpt = Annotated[float, typer.Option("--speed", help="Speaking rate (1.0 = normal; 0.1-10).")]
SdpRatioOpt = Annotated[float, typer.Option("--sdp-ratio", help="Stochastic share of the duration prediction (0-1).")]
NoiseScaleOpt = Annotated[float, typer.Option("--noise-scale", help="Prior noise scale (variation in voice).")]
NoiseScaleWOpt = Annotated[float, typer.Option("--noise-scale-w", help="Duration noise scale (variation in timing).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same audio.")]
TauOpt = Annotated[float, typer.Option("--tau", help="Converter posterior noise (0 = deterministic).")]
ReferenceOpt = Annotated[
    list[Path] | None,
    typer.Option("--reference", "-r", help="Recording of the target voice (repeat for several).", show_default=False),
]
SeOpt = Annotated[
    Path | None,
    typer.Option(
        "--se", help="Target voice embedding (.pth from extract-se) instead of --reference.", show_default=False
    ),
]
VadOpt = Annotated[Vad, typer.Option("--vad", help="How speech is found in references.")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Recompute reference embeddings (ignore the cache).")]
TextArg = Annotated[str, typer.Argument(help="Text to speak, or - to read it from stdin.", show_default=False)]
StreamOpt = Annotated[
    bool,
    typer.Option(
        "--stream", help="Write the audio chunk by chunk as it is made (wav or pcm; to -, a WAV of unknown length)."
    ),
]
LexiconOpt = Annotated[
    Path | None,
    typer.Option(
        "--lexicon",
        help="Pronunciations that override the dictionary: 'word  ARPABET' lines (CMUdict format; see README).",
        show_default=False,
    ),
]

S = api.SYNTHESIS
C = api.CONVERSION


# ------------------------------------------------------------------------------------------------ output


class Ui:
    """Where the command's words go; --quiet silences everything but errors."""

    def __init__(self, quiet: bool = False) -> None:
        from rich.console import Console

        self.quiet = quiet
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False, soft_wrap=True)
        if not self.out.is_terminal:  # tables in a file or pipe: never cut cells to 80 columns
            self.out.width = WIDE

    def note(self, message: str) -> None:
        if not self.quiet:
            self.err.print(f"note: {message}", markup=False)

    def warning(self, message: str) -> None:
        if not self.quiet:
            self.err.print(f"warning: {message}", markup=False)

    def status(self, message: str) -> None:
        if not self.quiet:
            self.err.print(message, markup=False)

    @staticmethod
    def json(data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    @contextmanager
    def progress(self, label: str) -> Iterator[Callable[[int, int], None]]:
        """A progress bar on stderr, driven by the API's (done, total) callbacks; only on a terminal (in a
        log or a pipe it would leave blank lines behind)."""
        if self.quiet or not self.err.is_terminal:
            yield lambda done, total: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(label, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)

    @contextmanager
    def rendered_warnings(self) -> Iterator[None]:
        """Show this package's warnings as one-line notes (each once); drop library deprecation chatter."""
        from openvoice_tt.text import NoBertWarning

        seen: set[str] = set()

        def show(message: Warning | str, category: type[Warning], filename: str, *args: object, **kw: object) -> None:
            text = " ".join(str(message).split())
            ours = category.__module__.startswith("openvoice_tt") or filename.startswith(PACKAGE_DIR)
            if not ours or text in seen:
                return
            seen.add(text)
            (self.note if issubclass(category, NoBertWarning) else self.warning)(text)

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            warnings.showwarning = show
            yield


def _guarded(command: Callable[..., None]) -> Callable[..., None]:
    """User errors -> `error: <one line>` on stderr and the error's exit code; Ctrl-C -> exit 130; SIGTERM
    -> the same clean unwinding (as `Terminated`), exit 143."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            with _sigterm_unwinds():
                command(*args, **kwargs)
        except OpenVoiceError as e:
            _report(" ".join(str(e).split()), e.exit_code, kwargs.get("json_out", False), getattr(e, "manual", ()))
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt as e:
            word, code = _stopped(isinstance(e, Terminated))
            _report(word, code, kwargs.get("json_out", False))
            raise typer.Exit(code) from None

    return run


def _report(message: str, code: int, json_out: bool, manual: Iterable[str] = ()) -> None:
    """A failure: `error: <message>` on stderr (then any manual steps, indented); with --json also
    {"ok": false, "error": ..., "exit_code": ...} on stdout, so a script reading stdout sees why."""
    print(f"error: {message}", file=sys.stderr)
    for line in manual:
        print(f"  {line}", file=sys.stderr)
    if json_out:
        Ui.json({"ok": False, "error": message, "exit_code": code})


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While a command runs, SIGTERM raises `Terminated` (a KeyboardInterrupt) instead of killing the
    process where it stands, so temporary files are removed and a batch still writes its summary."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(terminated: bool) -> tuple[str, int]:
    """How a stop is reported: SIGTERM ("terminated", 143) or Ctrl-C ("interrupted", 130)."""
    return ("terminated", EXIT_TERMINATED) if terminated else ("interrupted", EXIT_INTERRUPTED)


def _read_text(text: str) -> str:
    """TEXT, or stdin's text for "-"; stdin that is closed or not UTF-8 is bad input (exit 3)."""
    if text != STDOUT:
        return text
    if sys.stdin is None:
        raise InputError("stdin: not open (TEXT is '-')")
    try:
        return sys.stdin.read()
    except UnicodeDecodeError:
        raise InputError("stdin: not UTF-8 text") from None
    except OSError as e:
        raise InputError(f"stdin: cannot read ({e.strerror or e})") from None


def _synthesis(speed: float, sdp_ratio: float, noise_scale: float, noise_scale_w: float) -> dict[str, float]:
    return {"speed": speed, "sdp_ratio": sdp_ratio, "noise_scale": noise_scale, "noise_scale_w": noise_scale_w}


def _audio_output(output: str, fmt: AudioFormat | None, json_out: bool) -> str:
    """Check the destination before any work: format known, folder writable. Returns the format."""
    if output == STDOUT and json_out:
        raise typer.BadParameter("--json cannot be combined with -o - (both would use stdout)", param_hint="--json")
    name = audio_format_for(output, fmt.value if fmt else None)
    outputs.check_output_file(output)
    return name


def _streamable(fmt: str) -> None:
    from openvoice_tt.streaming import STREAM_FORMATS

    if fmt not in STREAM_FORMATS:
        raise typer.BadParameter(f"--stream writes {' or '.join(STREAM_FORMATS)}, not {fmt}", param_hint="--format")


def _stream(
    ui: Ui, json_out: bool, command: str, output: str, fmt: str, pieces: Iterable[Any], rate: int, seed: int, **at: Any
) -> None:
    """Write streamed audio as it comes, then report like `_finish` (with the time to the first audio)."""
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


def _one_of(reference: list[Path] | None, se: Path | None) -> list[Path] | None:
    if bool(reference) == (se is not None):
        raise typer.BadParameter("give --reference (one or more) or --se, not both", param_hint="--reference/--se")
    return reference or None


def _finish(ui: Ui, json_out: bool, command: str, output: str, fmt: str, speech: api.Speech, **extra: Any) -> None:
    if json_out:
        ui.json(
            {
                "command": command,
                "output": output,
                "format": fmt,
                "sample_rate": speech.sample_rate,
                "seconds": round(speech.seconds, 4),
                "samples": len(speech.audio),
                "frames": speech.frames,
                "hop_length": speech.hop_length,
                "chunks": len(speech.chunks),
                "seed": speech.seed,
                **extra,
                "timings": {phase: {k: round(v, 4) for k, v in t.items()} for phase, t in speech.timings.items()},
            }
        )
    where = "stdout" if output == STDOUT else output
    ui.status(f"wrote {where}: {speech.seconds:.2f} s at {speech.sample_rate} Hz (seed {speech.seed})")


# ---------------------------------------------------------------------------------------------- commands


def _version(value: bool) -> None:
    if value:
        typer.echo(f"openvoice-tt {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Show the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """OpenVoice V2 voice cloning (MeloTTS English + tone-color converter), offline.

    Checkpoints: --checkpoints, $OPENVOICE_TT_HOME or ./checkpoints ('openvoice-tt download' fetches them).
    """


@app.command()
@_guarded
def synth(
    text: TextArg,
    output: OutputOpt,
    speaker: SpeakerOpt = None,
    speed: SpeedOpt = S.speed,
    sdp_ratio: SdpRatioOpt = S.sdp_ratio,
    noise_scale: NoiseScaleOpt = S.noise_scale,
    noise_scale_w: NoiseScaleWOpt = S.noise_scale_w,
    seed: SeedOpt = api.DEFAULT_SEED,
    fmt: FormatOpt = None,
    stream: StreamOpt = False,
    lexicon: LexiconOpt = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Speak TEXT with a base speaker (MeloTTS, 44.1 kHz).

    Example: openvoice-tt synth "Hello there." -o hello.wav --speaker EN-BR --seed 7
    """
    ui = Ui(quiet)
    fmt_name = _audio_output(output, fmt, json_out)
    if stream:
        _streamable(fmt_name)
    user_lexicon = api.load_lexicon(lexicon)
    text = _read_text(text)
    synthesis = _synthesis(speed, sdp_ratio, noise_scale, noise_scale_w)
    api.check_request(checkpoints, text=text, speakers=[speaker], synthesis=synthesis, seed=seed)
    with ui.rendered_warnings():
        tts = api.TTS(checkpoints, device.value, user_lexicon)
        name = tts.speaker(speaker)
        with ui.progress("synthesizing") as progress:
            if stream:
                pieces = tts.stream(text, name, speed, sdp_ratio, noise_scale, noise_scale_w, seed, progress)
                where = {"speaker": name, "device": tts.device, "backend": tts.backend}
                _stream(ui, json_out, "synth", output, fmt_name, pieces, tts.sample_rate, seed, **where)
                return
            speech = tts.synth(text, name, speed, sdp_ratio, noise_scale, noise_scale_w, seed, progress)
    speech.save(output, fmt_name)
    _finish(ui, json_out, "synth", output, fmt_name, speech, speaker=name, device=tts.device, backend=tts.backend)


@app.command()
@_guarded
def clone(
    text: TextArg,
    output: OutputOpt,
    reference: ReferenceOpt = None,
    se: SeOpt = None,
    speaker: SpeakerOpt = None,
    speed: SpeedOpt = S.speed,
    sdp_ratio: SdpRatioOpt = S.sdp_ratio,
    noise_scale: NoiseScaleOpt = S.noise_scale,
    noise_scale_w: NoiseScaleWOpt = S.noise_scale_w,
    tau: TauOpt = C.tau,
    seed: SeedOpt = api.DEFAULT_SEED,
    vad: VadOpt = Vad.silero,
    no_cache: NoCacheOpt = False,
    fmt: FormatOpt = None,
    stream: StreamOpt = False,
    lexicon: LexiconOpt = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Speak TEXT in the voice of a reference recording (22.05 kHz).

    Example: openvoice-tt clone "Hello there." --reference me.wav -o hello-me.wav
    """
    ui = Ui(quiet)
    references = _one_of(reference, se)
    fmt_name = _audio_output(output, fmt, json_out)
    if stream:
        _streamable(fmt_name)
    user_lexicon = api.load_lexicon(lexicon)
    text = _read_text(text)
    api.check_request(
        checkpoints,
        text=text,
        speakers=[speaker],
        synthesis=_synthesis(speed, sdp_ratio, noise_scale, noise_scale_w),
        tau=tau,
        seed=seed,
        audio=references or [],
        embeddings=[se] if se else [],
    )
    with ui.rendered_warnings():
        cloner = api.VoiceCloner(checkpoints, device.value, lexicon=user_lexicon)
        name = cloner.tts.speaker(speaker)
        options = {"speaker": name, "speed": speed, "sdp_ratio": sdp_ratio, "noise_scale": noise_scale}
        options |= {"noise_scale_w": noise_scale_w, "tau": tau, "seed": seed, "method": vad.value}
        voice = {"reference": references, "se": se, "use_cache": not no_cache}
        where = {
            "speaker": name,
            "reference": [str(p) for p in references or []],
            "se": str(se) if se else None,
            "device": cloner.converter.device,
            "backend": cloner.converter.backend,
        }
        with ui.progress("cloning") as progress:
            if stream:
                pieces = cloner.stream(text, **voice, **options, progress=progress)
                _stream(ui, json_out, "clone", output, fmt_name, pieces, cloner.sample_rate, seed, **where)
                return
            speech = cloner.clone(text, **voice, **options, progress=progress)
    speech.save(output, fmt_name)
    _finish(ui, json_out, "clone", output, fmt_name, speech, **where)


@app.command()
@_guarded
def convert(
    source: Annotated[Path, typer.Argument(help="Speech to re-voice (any format and rate).", show_default=False)],
    output: OutputOpt,
    reference: ReferenceOpt = None,
    se: SeOpt = None,
    source_se: Annotated[
        Path | None,
        typer.Option(
            "--source-se", help="Embedding of the source voice (default: taken from SOURCE itself).", show_default=False
        ),
    ] = None,
    source_speaker: Annotated[
        str | None,
        typer.Option(
            "--source-speaker", help="The source is this base speaker (uses base_speakers/ses).", show_default=False
        ),
    ] = None,
    tau: TauOpt = C.tau,
    seed: SeedOpt = api.DEFAULT_SEED,
    vad: VadOpt = Vad.silero,
    no_cache: NoCacheOpt = False,
    fmt: FormatOpt = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Re-voice SOURCE audio with the voice of a reference (the converter alone, 22.05 kHz).

    Example: openvoice-tt convert lecture.wav --reference me.wav -o lecture-me.wav
    """
    ui = Ui(quiet)
    references = _one_of(reference, se)
    if source_se is not None and source_speaker is not None:
        raise typer.BadParameter("give --source-se or --source-speaker, not both", param_hint="--source-se")
    fmt_name = _audio_output(output, fmt, json_out)
    api.check_request(
        checkpoints,
        speakers=[source_speaker],
        tau=tau,
        seed=seed,
        audio=[source, *(references or [])],
        embeddings=[path for path in (se, source_se) if path is not None],
    )
    with ui.rendered_warnings():
        converter = api.ToneColorConverter(checkpoints, device.value)
        with ui.progress("reading voices") as progress:
            target = se if se is not None else converter.extract_se(references, vad.value, not no_cache, progress)
            if source_speaker is not None:
                origin = converter.base_speaker_se(source_speaker)
            elif source_se is not None:
                origin = api.load_se(source_se)
            else:
                origin = converter.extract_se([source], vad.value, not no_cache, progress)
        with ui.progress("converting") as progress:
            speech = converter.convert(source, origin, target, tau, seed, progress=progress)
    speech.save(output, fmt_name)
    _finish(
        ui,
        json_out,
        "convert",
        output,
        fmt_name,
        speech,
        source=str(source),
        reference=[str(p) for p in references or []],
        se=str(se) if se else None,
        device=converter.device,
        backend=converter.backend,
    )


@app.command("extract-se")
@_guarded
def extract_se(
    references: Annotated[list[Path], typer.Argument(help="Recordings of one voice (pooled).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Embedding file to write (.pth).")],
    vad: VadOpt = Vad.silero,
    no_cache: NoCacheOpt = False,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Compute a voice's tone-color embedding from reference recordings (for clone/convert --se).

    The speech of all files is pooled, cut into ~10 s pieces and the piece embeddings averaged; results are
    cached by audio content and converter checkpoint.

    Example: openvoice-tt extract-se me1.wav me2.flac -o me.pth
    """
    ui = Ui(quiet)
    if str(output) == STDOUT:
        raise typer.BadParameter("an embedding cannot be written to stdout; name a .pth file", param_hint="--output")
    outputs.check_output_file(output)
    api.check_request(checkpoints, audio=references)
    with ui.rendered_warnings():
        converter = api.ToneColorConverter(checkpoints, device.value)
        with ui.progress("reading voice") as progress:
            embedding = converter.extract_se(references, vad.value, not no_cache, progress)
    api.save_se(embedding, output)
    if json_out:
        ui.json(
            {
                "command": "extract-se",
                "output": str(output),
                "references": [str(p) for p in references],
                "vad": vad.value,
                "cache": None if no_cache else str(converter.cache.folder),
                "device": converter.device,
                "backend": converter.backend,
            }
        )
    ui.status(f"wrote {output}: voice embedding from {len(references)} reference file(s)")


@app.command()
@_guarded
def phonemes(
    text: Annotated[str, typer.Argument(help="Text to look at, or - to read it from stdin.", show_default=False)],
    lexicon: LexiconOpt = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Show what the model is fed: per word, the phones (ARPAbet, stress digits) and where they come from.

    Sources: lexicon (--lexicon), dictionary (MeloTTS's training dictionary), g2p_en dictionary,
    letter-to-sound (g2p_en's model), punctuation, none. Loads no model.

    Example: openvoice-tt phonemes "Tenstorrent reads 3.14." --lexicon names.txt
    """
    user_lexicon = api.load_lexicon(lexicon)
    chunks = api.phonemes(_read_text(text), user_lexicon)
    if json_out:
        Ui.json({"chunks": [chunk.to_json() for chunk in chunks]})
        return
    if quiet:
        return
    from rich.table import Table

    ui = Ui()
    for chunk in chunks:
        ui.out.print(chunk.normalized, markup=False)
        table = Table("word", "phones", "source", box=None, padding=(0, 2, 0, 2))
        for word in chunk.words:
            table.add_row(word.word, " ".join(word.pronunciation.arpabet), word.pronunciation.source.value)
        ui.out.print(table)


@app.command()
@_guarded
def speakers(checkpoints: CheckpointsOpt = None, quiet: QuietOpt = False, json_out: JsonOpt = False) -> None:
    """List the base speakers of the MeloTTS checkpoint (and whether their embedding file is present).

    Example: openvoice-tt speakers
    """
    from openvoice_tt.config import MeloConfig

    folder = api.existing_checkpoint_dir(checkpoints)
    config = MeloConfig.from_file(folder / api.MELO_DIR / "config.json")
    rows = [
        {
            "name": name,
            "id": sid,
            "se": str(path := folder / api.SES_DIR / f"{api.speaker_key(name)}.pth"),
            "se_present": path.is_file(),
        }
        for name, sid in config.speakers.items()
    ]
    if json_out:
        Ui.json(rows)
        return
    if quiet:
        return
    from rich.table import Table

    table = Table("speaker", "id", "embedding (for clone)", box=None)
    for row in rows:
        table.add_row(row["name"], str(row["id"]), row["se"] if row["se_present"] else f"{row['se']} (missing)")
    Ui().out.print(table)


@app.command()
@_guarded
def doctor(checkpoints: CheckpointsOpt = None, quiet: QuietOpt = False, json_out: JsonOpt = False) -> None:
    """Check Python, torch, CUDA, ttnn, the Tenstorrent device and every checkpoint file; say what to fix.

    Exit code 0 when synthesis and cloning can run, 4 when a checkpoint is missing or broken.

    Example: openvoice-tt doctor
    """
    from openvoice_tt import doctor as checks_module

    ui = Ui(quiet)
    with ui.rendered_warnings(), ui.progress("checking") as progress:
        checks = checks_module.run_checks(checkpoints, progress)
    code = checks_module.exit_code(checks)
    if json_out:
        Ui.json({"ok": code == 0, "checks": [c.to_json() for c in checks]})
    elif not quiet:
        from rich.table import Table

        style = {"ok": "green", "warn": "yellow", "fail": "bold red", "info": "dim"}
        table = Table("check", "status", "detail", box=None)
        for check in checks:
            detail = check.detail + (f"\n→ {check.hint}" if check.hint and check.status != "ok" else "")
            table.add_row(check.name, f"[{style[check.status]}]{check.status}[/]", detail)
        ui.out.print(table)
        ui.out.print("ready" if code == 0 else "not ready: fix the failed checks above", markup=False)
    if code:
        raise typer.Exit(code)


@app.command()
@_guarded
def download(
    checkpoints: CheckpointsOpt = None,
    no_bert: Annotated[bool, typer.Option("--no-bert", help="Skip bert-base-uncased (~440 MB).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Download again even if files are present.")] = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Fetch the official checkpoints (OpenVoiceV2, MeloTTS-English, bert-base-uncased) from Hugging Face.

    The only command that uses the network. Offline, it lists which file goes where.

    Example: openvoice-tt download --checkpoints ~/openvoice-checkpoints
    """
    from openvoice_tt.download import download as fetch

    ui = Ui(quiet)
    folder = api.checkpoint_dir(checkpoints)
    outputs.ensure_output_dir(folder)

    def on_file(done: int, total: int, remote: Any) -> None:
        if done < total:
            ui.status(f"[{done + 1}/{total}] {remote.repo}/{remote.filename}")

    written = fetch(folder, include_bert=not no_bert, force=force, quiet=quiet, on_file=on_file)
    if json_out:
        Ui.json({"command": "download", "folder": str(folder), "written": [str(p) for p in written]})
    ui.status(f"{len(written)} file(s) downloaded into {folder}" if written else f"all files already in {folder}")


@app.command()
@_guarded
def batch(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="List file: .txt, .csv, .tsv or .jsonl.")],
    out_dir: Annotated[Path, typer.Option("--output", "-o", help="Output folder (created if missing).")],
    resume: Annotated[bool, typer.Option("--resume", help="Skip items whose output already exists.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write a JSON report here.", show_default=False)
    ] = None,
    input_format: Annotated[
        ListFormat | None,
        typer.Option("--input-format", help="List format (default: from INPUT's extension).", show_default=False),
    ] = None,
    speaker: SpeakerOpt = None,
    speed: SpeedOpt = S.speed,
    sdp_ratio: SdpRatioOpt = S.sdp_ratio,
    noise_scale: NoiseScaleOpt = S.noise_scale,
    noise_scale_w: NoiseScaleWOpt = S.noise_scale_w,
    tau: TauOpt = C.tau,
    seed: SeedOpt = api.DEFAULT_SEED,
    vad: VadOpt = Vad.silero,
    no_cache: NoCacheOpt = False,
    fmt: Annotated[AudioFormat, typer.Option("--format", "-f", help="Format of numbered outputs.")] = AudioFormat[
        "wav"
    ],
    lexicon: LexiconOpt = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Synthesize or clone every item of a list file into a folder; models load once.

    A .txt file has one text per line. A .csv/.tsv (header row) or .jsonl file can set per item: text,
    speaker, reference (clone; several separated by |), se, output, speed, seed, sdp_ratio, noise_scale,
    noise_scale_w, tau, format. A bad item is reported and the rest go on; the exit code is 1 if any
    item failed, 130 if interrupted (143 on SIGTERM; then --resume finishes the rest).

    Example: openvoice-tt batch lines.txt -o out/ --speaker EN-AU --resume --report out/report.json
    """
    from openvoice_tt import batch as batching

    ui = Ui(quiet)
    user_lexicon = api.load_lexicon(lexicon)
    items = batching.read_items(input_file, input_format.value if input_format else None, fmt.value)
    outputs.ensure_output_dir(out_dir)
    if report is not None:
        outputs.check_output_file(report)
    synthesis = _synthesis(speed, sdp_ratio, noise_scale, noise_scale_w)
    api.check_request(checkpoints, speakers=[speaker], synthesis=synthesis, tau=tau, seed=seed)
    defaults = batching.Options(
        speaker=speaker,
        speed=speed,
        seed=seed,
        sdp_ratio=sdp_ratio,
        noise_scale=noise_scale,
        noise_scale_w=noise_scale_w,
        tau=tau,
    )
    engine = batching.Engine(checkpoints, device.value, method=vad.value, use_cache=not no_cache, lexicon=user_lexicon)
    with ui.rendered_warnings(), ui.progress("batch") as item_bar:
        started = time.perf_counter()
        result = batching.run_batch(
            items, out_dir, engine, defaults, resume, lambda done, total, _: item_bar(done, total)
        )
    elapsed = time.perf_counter() - started
    summary = result.to_json(input_file, out_dir, engine.device_used)
    if report is not None:
        batching.write_report(summary, report)
    _render_batch(ui, result, summary, elapsed, json_out)
    if result.interrupted:
        word, code = _stopped(result.terminated)
        print(
            f"error: {word}; {result.count(batching.NOT_RUN)} item(s) not run (run again with --resume)",
            file=sys.stderr,
        )
        raise typer.Exit(code)
    if result.failed:
        raise typer.Exit(1)


def _render_batch(ui: Ui, result: Any, summary: dict[str, Any], elapsed: float, json_out: bool) -> None:
    from openvoice_tt.batch import FAILED

    for outcome in result.outcomes:
        if outcome.status == FAILED and (ui.quiet or json_out):
            print(f"error: item {outcome.item.index} (line {outcome.item.line}): {outcome.error}", file=sys.stderr)
    if json_out:
        Ui.json(summary)
        return
    if ui.quiet:
        return
    from rich.table import Table

    table = Table("#", "line", "kind", "output", "status", "audio s", "error", box=None)
    for outcome in result.outcomes:
        item = outcome.item
        seconds = f"{outcome.seconds:.2f}" if outcome.seconds is not None else ""
        table.add_row(
            str(item.index), str(item.line), item.kind, item.output, outcome.status, seconds, outcome.error or ""
        )
    ui.out.print(table)
    counts = ", ".join(f"{n} {status}" for status, n in summary["counts"].items() if n)
    ui.out.print(f"{len(result.outcomes)} item(s): {counts} in {elapsed:.1f} s", markup=False)


@app.command()
@_guarded
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (another than loopback exposes it).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8000,
    voices: Annotated[
        Path, typer.Option("--voices", help="Folder of voice embeddings (<name>.pth); POST /v1/voices adds to it.")
    ] = Path("voices"),
    queue: Annotated[int, typer.Option("--queue", min=1, help="Requests that may run or wait; more get 503.")] = 4,
    max_input_chars: Annotated[int, typer.Option("--max-input-chars", min=1, help="Longest `input` text.")] = 4096,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", min=0.001, help="Largest voice upload.")] = 20.0,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
) -> None:
    """Serve OpenAI's speech API over HTTP (POST /v1/audio/speech, /v1/voices, /health); models load once.

    Example: openvoice-tt serve --port 8000, then: curl -s localhost:8000/v1/audio/speech -H
    'Content-Type: application/json' -d '{"model": "openvoice-tt", "input": "Hi.", "voice": "EN-US"}' -o hi.wav
    """
    try:
        import uvicorn

        from openvoice_tt.server import Limits, SpeechService, create_app
    except ImportError as e:
        extra = "pip install 'openvoice-tt[serve]'"
        raise InputError(f"serve needs the 'serve' extra ({e.name} is missing): {extra}") from None
    ui = Ui(quiet)
    api.check_request(checkpoints)
    outputs.ensure_output_dir(voices)
    limits = Limits(queue=queue, max_input_chars=max_input_chars, max_upload_bytes=int(max_upload_mb * 2**20))
    with ui.rendered_warnings():
        service = SpeechService(api.VoiceCloner(checkpoints, device.value), voices, limits)
    ui.status(f"serving on http://{host}:{port} ({service.cloner.tts.backend} backend; voices in {voices})")
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning" if quiet else "info")


@app.command()
@_guarded
def bench(
    reference: ReferenceOpt = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Passes over the sentences.")] = 1,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Seconds per stage and real-time factor (compute s / audio s) of synth and clone on this backend.

    Five built-in sentences (2 to 25 s of speech), after one warm-up utterance. Per stage and per second
    of audio: host seconds, and with --device tt the device programs launched (counted in an extra untimed
    pass; not on the emulation) and, on a chip, device seconds.

    Example: openvoice-tt bench --device cpu --json
    """
    from openvoice_tt.bench import run_bench

    ui = Ui(quiet)
    with ui.rendered_warnings(), ui.progress("benchmarking") as progress:
        report = run_bench(checkpoints, device.value, reference, repeat, on_step=progress)
    if json_out:
        Ui.json(report.to_json())
    elif not quiet:
        _render_bench(ui, report)


def _render_bench(ui: Ui, report: Any) -> None:
    from rich.table import Table

    synth, clone = report.synth, report.clone
    table = Table("stage", "synth s", "clone s", box=None)
    synth_names = list(synth.stages)
    for stage in synth_names:
        table.add_row(stage, f"{synth.stages[stage]:.3f}", f"{clone.stages.get('synth.' + stage, 0.0):.3f}")
    for name, value in clone.stages.items():
        if not name.startswith("synth."):
            table.add_row(name, "", f"{value:.3f}")
    table.add_row("other", f"{synth.other:.3f}", f"{clone.other:.3f}")
    table.add_row("total", f"{synth.total:.3f}", f"{clone.total:.3f}")
    table.add_row("audio", f"{synth.audio_seconds:.3f}", f"{clone.audio_seconds:.3f}")
    table.add_row("RTF", f"{synth.rtf:.3f}", f"{clone.rtf:.3f}")
    table.add_row("first audio s (--stream)", f"{synth.first_audio_seconds:.3f}", f"{clone.first_audio_seconds:.3f}")
    ui.out.print(
        f"device {report.device} (backend {report.backend}), {report.threads} torch threads on {report.cpus} CPUs, "
        f"BERT {'on' if report.bert else 'off (zero features)'}; load {sum(report.load_seconds.values()):.2f} s; "
        f"{report.sentences} sentences x {report.repeat}; clone target: {report.target}"
        + ("" if report.tt_device is None else f"; ttnn device: {report.tt_device}"),
        markup=False,
    )
    if report.tone_color_seconds is not None:
        ui.out.print(f"reference embedding: {report.tone_color_seconds:.3f} s (once, not in the table)", markup=False)
    if report.program_cache_clears is not None:
        clears = ", ".join(map(str, report.program_cache_clears))
        ui.out.print(f"program cache clears (warm-up, then each pass): {clears}", markup=False)
    ui.out.print(table)
    _render_per_audio_second(ui, report)


def _render_per_audio_second(ui: Ui, report: Any) -> None:
    """Host seconds, device programs and device seconds per second of audio, per stage ("-": not measured
    on this backend, with a line saying why)."""
    from rich.table import Table

    synth, clone = report.synth, report.clone
    columns = [("host s", "host_seconds", "{:.4f}"), ("programs", "programs", "{:.0f}")]
    if synth.device_seconds is not None:
        columns.append(("device s", "device_seconds", "{:.4f}"))
    table = Table("per audio second", *(f"{p} {name}" for p in ("synth", "clone") for name, _, _ in columns), box=None)
    rows: dict[str, list[dict | None]] = {stage: [values, None] for stage, values in synth.per_audio_second().items()}
    for stage, values in clone.per_audio_second().items():
        rows.setdefault(stage.removeprefix("synth."), [None, None])[1] = values
    rows["total"] = [synth.totals_per_audio_second(), clone.totals_per_audio_second()]
    for stage, phases in rows.items():
        cells = []
        for values in phases:
            for _, key, form in columns:
                value = None if values is None else values[key]
                cells.append("-" if value is None else form.format(value))
        table.add_row(stage, *cells)
    ui.out.print(table)
    if synth.programs is None:
        ui.out.print(
            "programs: only on the ttnn backend on a chip or a mock device (the emulation launches none)", markup=False
        )
    else:
        ui.out.print("programs: device programs (ttnn graph capture, in an extra untimed pass)", markup=False)
    if synth.device_seconds is None:
        ui.out.print("device s: only on a Tenstorrent chip (stage edges synchronized)", markup=False)
    if report.tt_device is not None and report.tt_device.startswith("mock"):
        ui.out.print(
            "a mock device computes nothing: its durations read 0 frames, so audio lengths (and the per audio "
            "second figures) are degenerate; scripts/tt_programs.py pins them",
            markup=False,
        )


@app.command()
@_guarded
def placement(
    text: Annotated[
        str, typer.Argument(help="Text to clone (- reads stdin).")
    ] = "Where does each stage of a clone run?",
    speaker: SpeakerOpt = None,
    seed: SeedOpt = api.DEFAULT_SEED,
    checkpoints: CheckpointsOpt = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Show where every stage runs on the ttnn backend: its ttnn ops, their FLOPs, any host transfer.

    Runs one clone (to the base speaker's own voice) and extracts the result's tone color on --device tt.
    With OPENVOICE_TT_DEVICE=emulation it runs on the CPU emulation of ttnn; on a mock device lengths
    are degenerate (a mock computes nothing) but every op still runs through ttnn.

    Example: openvoice-tt placement "Hello there." --json
    """
    ui = Ui(quiet)
    with ui.rendered_warnings():
        report = api.placement(_read_text(text), checkpoints, speaker, seed)
    if json_out:
        Ui.json(report.to_json())
    elif not quiet:
        from rich.table import Table

        table = Table("stage", "runs on", "ttnn ops", "host transfers", "GFLOP / audio s", "most used ops", box=None)
        for row in report.rows:
            ops = ", ".join(f"{name} {count}" for name, count in row["most_used_ops"].items())
            table.add_row(
                row["stage"],
                row["runs_on"],
                str(row["ttnn_ops"]),
                str(row["host_transfers"]),
                f"{row['gflop_per_audio_second']:.2f}",
                ops,
            )
        t = report.transfers
        ui.out.print(
            f"{report.device}, {report.audio_seconds:.2f} s of audio; uploads {', '.join(t['uploads'])}; "
            f"length reads {len(t['scalar_reads'])}; downloads {', '.join(t['downloads'])}; "
            f"first use of these buckets: {len(t['constants'])} constants, {t['weights']} prepared conv weights",
            markup=False,
        )
        ui.out.print(table)


def main() -> None:
    """Console-script entry point (`openvoice-tt`)."""
    os.environ.setdefault("TT_METAL_LOGGER_LEVEL", "ERROR")  # ttnn's native info log goes to stdout (and -o -)
    app(prog_name="openvoice-tt")
