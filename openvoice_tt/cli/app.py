"""The `openvoice-tt` Typer app: its name and help, `--version`, and the list of its commands.

The commands live in modules by what a user does (speech, inspect, ops, measure); they are registered
here, in one list, because that list is the order `openvoice-tt --help` shows them in. Usage errors and
every other failure are reported by `errors` (one `error:` line, a documented exit code).
"""

import os
from typing import Annotated

import typer

from openvoice_tt import __version__
from openvoice_tt.cli import info, measure, ops, speech
from openvoice_tt.cli.errors import OneLineErrors

app = typer.Typer(
    cls=OneLineErrors,
    name="openvoice-tt",
    help=(
        "OpenVoice V2 voice cloning (MeloTTS English, Spanish, French + tone-color converter), offline, "
        "on CPU, CUDA or Tenstorrent."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

COMMANDS = (  # in the order --help lists them: make audio, look, run at scale, measure
    speech.synth,
    speech.clone,
    speech.convert,
    speech.extract_se,
    info.phonemes,
    info.speakers,
    info.doctor,
    ops.download,
    ops.batch,
    ops.serve,
    measure.bench,
    measure.placement,
)
for command in COMMANDS:
    app.command()(command)  # the name is the function's, with - for _ (extract_se -> extract-se)


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
    """OpenVoice V2 voice cloning (MeloTTS English, Spanish, French + tone-color converter), offline.

    Checkpoints: --checkpoints, $OPENVOICE_TT_HOME or ./checkpoints ('openvoice-tt download' fetches them).
    """


def main() -> None:
    """Console-script entry point (`openvoice-tt`)."""
    os.environ.setdefault("TT_METAL_LOGGER_LEVEL", "ERROR")  # ttnn's native info log goes to stdout (and -o -)
    app(prog_name="openvoice-tt")
