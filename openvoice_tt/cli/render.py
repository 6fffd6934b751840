"""The tables and summaries commands print on stdout when not asked for --json.

Each function takes what a command computed (a report, result rows) and only lays it out with rich, so a
command reads as: check options, call the API, render. rich is imported here, at the first table, not at
start-up. Tables written to a file or pipe are never cut to the terminal's width (see `Ui`).
"""

import sys
from typing import Any

from openvoice_tt.cli.ui import Ui


def phonemes(ui: Ui, chunks: list[dict[str, Any]]) -> None:
    """Per chunk, its normalized text, then per word: the phones (English: ARPAbet with stress digits) and
    where they came from; a chunk the model gets nothing of says why."""
    from rich.markup import escape
    from rich.table import Table

    for chunk in chunks:
        ui.out.print(chunk["normalized"], markup=False)
        table = Table("word", "phones", "source", box=None, padding=(0, 2, 0, 2))
        for word in chunk["words"]:
            phones = word["arpabet"] if "arpabet" in word else " ".join(word["phones"])
            table.add_row(escape(word["word"]), escape(phones), word["source"])
        ui.out.print(table)
        if chunk.get("unspoken"):
            ui.out.print(f"  (not spoken: {chunk['unspoken']})", markup=False)


def byte_size(size: int | None) -> str:
    """A byte count as people read it (1 decimal, powers of 1000 as the hub shows them); None is unknown."""
    if size is None:
        return "size unknown"
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.2f} GB"


def download_plan(ui: Ui, planned: list[Any], folder: Any) -> None:
    """The files `download` would fetch: where each goes, its hub repo and its size."""
    from rich.table import Table

    table = Table("file", "from", "size", box=None)
    for item in planned:
        remote = item.remote
        table.add_row(str(folder / remote.target), f"{remote.repo}/{remote.filename}", byte_size(item.size))
    ui.out.print(table)


def speakers(ui: Ui, rows: list[dict[str, Any]]) -> None:
    """The base speakers with their language (--language key) and model folder, and the embedding file
    `clone` needs for each (marked when it is missing)."""
    from rich.table import Table

    table = Table("speaker", "language", "model", "id", "embedding (for clone)", box=None)
    for row in rows:
        embedding = row["se"] if row["se_present"] else f"{row['se']} (missing)"
        table.add_row(row["name"], row["language_key"], row["model"], str(row["id"]), embedding)
    ui.out.print(table)


def doctor(ui: Ui, checks: list[Any], code: int) -> None:
    """Every check with its status (coloured) and, where it is not ok, what to do; then the verdict."""
    from rich.markup import escape
    from rich.table import Table

    style = {"ok": "green", "warn": "yellow", "fail": "bold red", "info": "dim"}
    table = Table("check", "status", "detail", box=None)
    for check in checks:
        detail = check.detail + (f"\n→ {check.hint}" if check.hint and check.status != "ok" else "")
        # details hold paths and pip extras (`openvoice-tt[es]`), not markup
        table.add_row(escape(check.name), f"[{style[check.status]}]{check.status}[/]", escape(detail))
    ui.out.print(table)
    ui.out.print("ready" if code == 0 else "not ready: fix the failed checks above", markup=False)


def batch(ui: Ui, result: Any, summary: dict[str, Any], elapsed: float, json_out: bool) -> None:
    """One row per item and a count per status; failed items also as `error:` lines on stderr when the
    table is not shown (--quiet, --json), so a failure is never silent."""
    from openvoice_tt.batch import FAILED

    for outcome in result.outcomes:
        if outcome.status == FAILED and (ui.quiet or json_out):
            print(f"error: item {outcome.item.index} (line {outcome.item.line}): {outcome.error}", file=sys.stderr)
    if json_out:
        Ui.json(summary)
        return
    if ui.quiet:
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table("#", "line", "kind", "output", "status", "audio s", "error", box=None)
    for outcome in result.outcomes:
        item = outcome.item
        seconds = f"{outcome.seconds:.2f}" if outcome.seconds is not None else ""
        cells = (str(item.index), str(item.line), item.kind, item.output, outcome.status, seconds, outcome.error or "")
        table.add_row(*(escape(cell) for cell in cells))  # names and errors are the user's text, not markup
    ui.out.print(table)
    counts = ", ".join(f"{n} {status}" for status, n in summary["counts"].items() if n)
    ui.out.print(f"{len(result.outcomes)} item(s): {counts} in {elapsed:.1f} s", markup=False)


def bench(ui: Ui, report: Any) -> None:
    """Seconds per stage of synth and clone side by side, the run's setup in one line, then per audio second."""
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
    if report.precision is not None:
        synth, convert = report.precision["synth"], report.precision["convert"]
        ui.out.print(f"precision: synth {synth['mode']} ({synth['reason']}); convert {convert['mode']}", markup=False)
    if report.tone_color_seconds is not None:
        ui.out.print(f"reference embedding: {report.tone_color_seconds:.3f} s (once, not in the table)", markup=False)
    if report.program_cache_clears is not None:
        clears = ", ".join(map(str, report.program_cache_clears))
        ui.out.print(f"program cache clears (warm-up, then each pass): {clears}", markup=False)
    ui.out.print(table)
    per_audio_second(ui, report)


def throughput(ui: Ui, report: dict[str, Any]) -> None:
    """`bench --devices`: items per second on one replica and on one per chip, side by side."""
    from rich.table import Table

    table = Table("replicas", "items", "seconds", "items/s", "audio s/s", "speedup", box=None)
    for run in report["runs"]:
        cells = (run["replicas"], run["items"], f"{run['seconds']:.2f}", f"{run['items_per_second']:.3f}")
        table.add_row(*map(str, cells), f"{run['audio_seconds_per_second']:.3f}", f"{run['speedup']:.2f}x")
    where = report["tt_device"] or report["device"]
    ui.out.print(
        f"{where} (backend {report['backend']}), devices {','.join(map(str, report['devices']))}; replicas loaded "
        f"in {report['load_seconds']:.1f} s; same audio on every replica: {'yes' if report['same_audio'] else 'NO'}",
        markup=False,
    )
    ui.out.print(table)


def bench_precisions(ui: Ui, rows: list[dict[str, Any]]) -> None:
    """The RTFs of several --precision runs side by side (ratio: to the first run's)."""
    from rich.table import Table

    table = Table("--precision", "ran", "synth RTF", "clone RTF", "synth ratio", "clone ratio", box=None)
    for row in rows:
        ran = (
            row["synth_mode"]
            if row["synth_mode"] == row["convert_mode"]
            else f"{row['synth_mode']}/{row['convert_mode']}"
        )
        table.add_row(
            row["requested"],
            ran,
            f"{row['synth_rtf']:.3f}",
            f"{row['clone_rtf']:.3f}",
            f"{row['synth_ratio']:.3f}",
            f"{row['clone_ratio']:.3f}",
        )
    ui.out.print(table)


def per_audio_second(ui: Ui, report: Any) -> None:
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


def placement(ui: Ui, report: Any) -> None:
    """Per stage: where it runs, its ttnn ops and host transfers, GFLOP per audio second, its commonest ops."""
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
