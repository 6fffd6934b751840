"""Running a batch: every item in order, each one's outcome, and the report.

Isolation: whatever goes wrong with one item (a problem found when the list was read, an output that would
replace an input, an error while it runs) fails that item alone, with a one-line reason, and the batch
goes on. Ctrl-C (or a SIGTERM, where the CLI turns it into `errors.Terminated`) stops it cleanly: the items
not run are reported, and `resume` finishes them later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt.batch.engine import Engine
from openvoice_tt.batch.items import Item, Options
from openvoice_tt.batch.messages import reason
from openvoice_tt.batch.naming import Guard
from openvoice_tt.batch.record import NEW, Fingerprints, Manifest
from openvoice_tt.errors import Terminated
from openvoice_tt.outputs import write_file

if TYPE_CHECKING:
    from openvoice_tt.api import Progress


DONE, SKIPPED, FAILED, NOT_RUN = "done", "skipped", "failed", "not run"


@dataclass
class Outcome:
    item: Item
    status: str = NOT_RUN
    seconds: float | None = None  # length of the audio written
    elapsed: float | None = None  # wall-clock seconds spent on the item
    error: str | None = None
    redone: str | None = None  # with resume: why an item that has a record was made again
    voice: dict[str, Any] | None = None  # who spoke it: speaker, language and, when detected, why

    def to_json(self) -> dict[str, Any]:
        item = self.item
        return {
            "index": item.index,
            "line": item.line,
            "kind": item.kind,
            "text": item.text,
            "output": item.output,
            "status": self.status,
            "seconds": self.seconds,
            "elapsed": self.elapsed,
            "error": self.error,
            "redone": self.redone,
            **(self.voice or {}),
        }


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    interrupted: bool = False
    terminated: bool = False  # the interruption was a SIGTERM, not Ctrl-C

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    def to_json(
        self, source: Path, out_dir: Path, device: str | None, precision: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The report; `precision` is `Engine.precision_used` (what each model ran in and why)."""
        return {
            "input": str(source),
            "output_dir": str(out_dir),
            "device": device,
            "precision": precision,
            "interrupted": self.interrupted,
            "terminated": self.terminated,
            "counts": {status: self.count(status) for status in (DONE, SKIPPED, FAILED, NOT_RUN)},
            "items": [outcome.to_json() for outcome in self.outcomes],
        }


ItemProgress = Callable[[int, int, Item | None], None]
"""(items handled, items in total, item about to run or None)."""


def run_batch(
    items: list[Item],
    out_dir: Path,
    engine: Engine,
    defaults: Options,
    resume: bool = False,
    on_item: ItemProgress | None = None,
    on_chunk: Progress | None = None,
    *,
    report: Path | None = None,
) -> BatchResult:
    """Run every item; a failing item (any exception, down to an output name the file system refuses) is
    recorded with a one-line reason and the batch goes on. No item's output may replace an input, the
    list file, the record or `report` (a `report` that is one of those is an OutputError before any
    work). The models of every language the items speak are loaded before the first item runs, so a missing
    checkpoint or language package stops the batch at once (exit 4 or 7) instead of failing items hours in;
    a precision the device refuses (not "auto" on the ttnn backend) stops it before that (exit 6).
    Ctrl-C stops it after cleaning up (outputs are written atomically, so none is left half-written): the
    items not run are reported, and `resume` finishes them later. A SIGTERM is handled like Ctrl-C where
    the CLI turns it into `errors.Terminated`."""
    outcomes = [Outcome(item) for item in items]
    guard = Guard(items, out_dir, engine.lexicon)
    if report is not None:
        guard.check_report(report)
    _ = engine.resolved_precision  # a precision the device refuses stops the batch, not each fingerprint
    manifest = Manifest(out_dir)
    fingerprints = Fingerprints(engine, manifest.hashes)
    pending: list[Outcome] = []
    try:
        for outcome in outcomes:
            _prepare(outcome, out_dir, defaults, resume, guard, manifest, fingerprints, engine)
            if outcome.status == NOT_RUN:
                pending.append(outcome)
    except KeyboardInterrupt as stop:
        return BatchResult(outcomes, interrupted=True, terminated=isinstance(stop, Terminated))
    engine.load(
        {o.item.kind for o in pending}, [o.item.options.over(defaults) for o in pending], [o.item.text for o in pending]
    )
    handled = len(outcomes) - len(pending)
    try:
        for outcome in pending:
            if on_item is not None:
                on_item(handled, len(outcomes), outcome.item)
            _run_one(outcome, out_dir, engine, defaults, on_chunk, manifest, fingerprints)
            handled += 1
    except KeyboardInterrupt as stop:
        return BatchResult(outcomes, interrupted=True, terminated=isinstance(stop, Terminated))
    if on_item is not None:
        on_item(handled, len(outcomes), None)
    return BatchResult(outcomes)


def _prepare(
    outcome: Outcome,
    out_dir: Path,
    defaults: Options,
    resume: bool,
    guard: Guard,
    manifest: Manifest,
    fingerprints: Fingerprints,
    engine: Engine,
) -> None:
    """Before any model loads: fail an item that cannot run (its embedding file or voice mix included),
    skip (with resume) one that is done, and leave the rest NOT_RUN with, for resume, the reason it is
    (re)made."""
    item = outcome.item
    if item.problem is not None:
        outcome.status, outcome.error = FAILED, item.problem
        return
    try:
        guard.check(item, out_dir)
        if item.se is not None:
            engine.embedding(item.se)
        if resume:
            why = manifest.why_redo(item, fingerprints.of(item, item.options.over(defaults)), out_dir / item.output)
            if why is None:
                outcome.status = SKIPPED
            outcome.redone = None if why == NEW else why
    except Exception as e:  # this item's failure, reported; the others go on
        outcome.status, outcome.error = FAILED, reason(e)


def _run_one(
    outcome: Outcome,
    out_dir: Path,
    engine: Engine,
    defaults: Options,
    on_chunk: Progress | None,
    manifest: Manifest,
    fingerprints: Fingerprints,
) -> None:
    item = outcome.item
    options = item.options.over(defaults)
    start = time.perf_counter()
    try:
        fingerprint = fingerprints.of(item, options)  # before the run: what the audio is made from
        base = engine.base_speaker(options, item.text)
        outcome.voice = {"speaker": base.name, **base.language_json()}
        speech = engine.speak(item, options, base, on_chunk)
        speech.save(out_dir / item.output, options.format)
        manifest.add(item, fingerprint, out_dir / item.output, outcome.redone)
    except Exception as e:  # this item's failure, reported; the others go on
        outcome.status, outcome.error = FAILED, reason(e)
    else:
        outcome.status, outcome.seconds = DONE, round(speech.seconds, 3)
    outcome.elapsed = round(time.perf_counter() - start, 3)


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write the JSON report with the one output writer (atomic for a regular file)."""
    write_file(path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())
