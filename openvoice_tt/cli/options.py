"""The option types the commands share: choices (enums) and `Annotated` Typer options with their help.

One definition per option, so `--speed` or `--checkpoints` reads and behaves the same in every command
that takes it; a command's signature lists these types in the order its `-h` shows them.
"""

import enum
from pathlib import Path
from typing import Annotated

import typer

from openvoice_tt import api, layout
from openvoice_tt.audio import FORMATS
from openvoice_tt.languages import LANGUAGES

LANGUAGE_KEYS = ", ".join(language.key for language in LANGUAGES)
"""The command-line language names, from the registry, for help texts: en, en-v2, ..., zh, jp, kr."""


class Device(str, enum.Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    tt = "tt"


class Precision(str, enum.Enum):
    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"


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
        help=f"Checkpoint folder (default: ${layout.HOME_ENV}, else ./checkpoints).",
        show_default=False,
    ),
]
DeviceOpt = Annotated[Device, typer.Option("--device", "-d", help="Where to run: auto = tt, else cuda, else cpu.")]
PrecisionOpt = Annotated[
    Precision,
    typer.Option(
        "--precision",
        help="Torch backend: auto = bf16 vocoders and flows where the CPU/GPU computes bf16 natively, else fp32 "
        "(the reference); durations are the same in each.",
    ),
]
DevicesOpt = Annotated[
    str | None,
    typer.Option(
        "--devices",
        help="One pipeline replica per chip (--device tt) or GPU (--device cuda): all, or ids such as 0,1; items "
        "and requests are spread across them (default: chip or GPU 0 alone; `openvoice-tt doctor` lists the chips).",
        show_default=False,
    ),
]
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
        help="Base speaker; it picks the language model (EN-US, ES, FR, ZH, JP, KR, EN-Newest, ...: see "
        "'openvoice-tt speakers'). Default: with --language, that language's first; else the first speaker of "
        "the language detected from the text (EN-US for English).",
        show_default=False,
    ),
]
LanguageOpt = Annotated[
    str | None,
    typer.Option(
        "--language",
        help=f"Language model to speak with: {LANGUAGE_KEYS} (a code such as EN_NEWEST works too), or auto: "
        "detect it from the text among the installed languages (also what no --speaker and no --language "
        "do; --json says what was chosen and why). Needed for a speaker name two models share "
        "(--language en-v2 --speaker EN-US), or alone to use that language's first speaker.",
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
    list[str] | None,
    typer.Option(
        "--se",
        help="Target voice embedding (.pth from extract-se) instead of --reference. Repeat to mix voices: "
        "--se a.pth:0.7 --se b.pth:0.3 (a weight follows the LAST ':' when what follows is a number; no weight "
        "is 1; weights are normalized to sum 1; at most 8 voices).",
        show_default=False,
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


def synthesis_options(speed: float, sdp_ratio: float, noise_scale: float, noise_scale_w: float) -> dict[str, float]:
    """The four synthesis options as the API's `check_request(synthesis=...)` takes them."""
    return {"speed": speed, "sdp_ratio": sdp_ratio, "noise_scale": noise_scale, "noise_scale_w": noise_scale_w}


def one_of(reference: list[Path] | None, se: list[str] | None) -> list[Path] | None:
    """The target voice comes from --reference recordings or from --se embeddings (one, or a mix): exactly
    one of them."""
    if reference and se:
        raise typer.BadParameter("give --reference (one or more) or --se, not both", param_hint="--reference/--se")
    if not reference and not se:
        raise typer.BadParameter(
            "give --reference (a recording of the voice) or --se (an embedding saved by extract-se)",
            param_hint="--reference/--se",
        )
    return reference or None


def voice_mix(se: list[str] | None) -> api.VoiceMix | None:
    """The --se values as a checked mix (InputError, exit 3, for a bad weight or too many voices)."""
    return api.parse_mix(se) if se else None


def mix_files(mix: api.VoiceMix | None) -> list[Path]:
    return [Path(voice) for voice in mix.voices] if mix is not None else []


def mix_field(mix: api.VoiceMix | None) -> str | None:
    """--json's `se`: the file of one voice, or the mix as `a.pth:0.7|b.pth:0.3`."""
    if mix is None:
        return None
    return str(Path(mix.voices[0])) if len(mix.parts) == 1 else mix.spec()
