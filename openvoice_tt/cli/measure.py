"""The commands that measure the pipeline: bench (seconds per stage, real-time factor) and placement
(where each stage runs on the ttnn backend: ops, FLOPs, host transfers).

Both run real synthesis and clone passes; their tables are in `render`, their numbers come from
`openvoice_tt.bench` and `api.placement`.
"""

from typing import Annotated

import typer

from openvoice_tt import api
from openvoice_tt.cli import render
from openvoice_tt.cli.errors import guarded
from openvoice_tt.cli.options import (
    CheckpointsOpt,
    Device,
    DeviceOpt,
    DevicesOpt,
    JsonOpt,
    LanguageOpt,
    Precision,
    QuietOpt,
    ReferenceOpt,
    SeedOpt,
    SpeakerOpt,
)
from openvoice_tt.cli.textio import read_text
from openvoice_tt.cli.ui import Ui


@guarded
def bench(
    reference: ReferenceOpt = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Passes over the sentences.")] = 1,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    precision: Annotated[
        list[Precision] | None,
        typer.Option(
            "--precision",
            help="Torch precision (auto, fp32, bf16); repeat it to bench each in turn and compare "
            "(--precision fp32 --precision auto). Default: auto.",
            show_default=False,
        ),
    ] = None,
    devices: DevicesOpt = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Seconds per stage and real-time factor (compute s / audio s) of synth and clone on this backend.

    Five built-in sentences (2 to 25 s of speech), after one warm-up utterance. Per stage and per second
    of audio: host seconds, and with --device tt the device programs launched (counted in an extra untimed
    pass; not on the emulation) and, on a chip, device seconds. With --devices: items per second (a synth
    and a clone of each sentence) on one replica and on one per chip, side by side, instead.

    Example: openvoice-tt bench --device cpu --json
    """
    from openvoice_tt.bench import precisions_json, run_precisions

    ui = Ui(quiet)
    precisions = [p.value for p in precision or [Precision.auto]]
    if devices is not None:
        _throughput(ui, checkpoints, device.value, devices, precisions, repeat, json_out)
        return
    with ui.rendered_warnings(), ui.progress("benchmarking") as progress:
        reports = run_precisions(checkpoints, device.value, precisions, reference, repeat, on_step=progress)
    if json_out:
        Ui.json(reports[0].to_json() if len(reports) == 1 else precisions_json(reports))
    elif not quiet:
        for report in reports:
            render.bench(ui, report)
        if len(reports) > 1:
            render.bench_precisions(ui, precisions_json(reports)["side_by_side"])


def _throughput(
    ui: Ui, checkpoints: object, device: str, devices: str, precisions: list[str], repeat: int, json_out: bool
) -> None:
    """`bench --devices`: one precision (a second makes no sense side by side with replica counts)."""
    from openvoice_tt.errors import InputError
    from openvoice_tt.throughput import run_throughput

    if len(precisions) > 1:
        raise InputError("bench --devices takes one --precision (compare precisions without --devices)")
    with ui.rendered_warnings():
        indices = api.resolve_replicas(device, devices)
        with ui.progress("benchmarking replicas") as progress:
            report = run_throughput(checkpoints, device, indices, repeat, on_step=progress, precision=precisions[0])
    if json_out:
        Ui.json(report.to_json())
    elif not ui.quiet:
        render.throughput(ui, report.to_json())


@guarded
def placement(
    text: Annotated[
        str, typer.Argument(help="Text to clone (- reads stdin).")
    ] = "Where does each stage of a clone run?",
    speaker: SpeakerOpt = None,
    language: LanguageOpt = None,
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
        report = api.placement(read_text(text), checkpoints, speaker, seed, language)
    if json_out:
        Ui.json(report.to_json())
    elif not quiet:
        render.placement(ui, report)
