"""Running a batch: the driver that hands every item to the workers, writes each one's output and record
line as it comes back, and the report.

Whoever computes the audio (`batch.workers`: the in-process engine, or a Ray cluster), the driver alone
decides what runs and writes: the guard, resume's record and fingerprints, every output file, record line
and the report, so a batch's files are the same bytes whichever workers made them, and `resume` works
across both.

Isolation: whatever goes wrong with one item (a problem found when the list was read, an output that would
replace an input, an error while it runs) fails that item alone, with a one-line reason, and the batch
goes on. Ctrl-C (or a SIGTERM, where the CLI turns it into `errors.Terminated`) stops it cleanly: the items
not run are reported, and `resume` finishes them later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt.batch.engine import Engine
from openvoice_tt.batch.items import Item, Options
from openvoice_tt.batch.messages import reason
from openvoice_tt.batch.naming import Guard
from openvoice_tt.batch.record import NEW, Fingerprints, Manifest
from openvoice_tt.batch.workers import Finished, Job, LocalWorkers, Workers
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
    retried: tuple[str, ...] = ()  # per lost attempt, why (a Ray worker that died): the item ran again
    attempts: int = 0  # workers that ran it (`Finished.attempts`): 0 for an item no worker ran

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
            "attempts": self.attempts,
            "retried": list(self.retried),
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
    workers: Workers | None = None,
) -> BatchResult:
    """Run every item; a failing item (any exception, down to an output name the file system refuses) is
    recorded with a one-line reason and the batch goes on. No item's output may replace an input, the
    list file, the record or `report` (a `report` that is one of those is an OutputError before any
    work). The models of every language the items speak are loaded before the first item runs, so a missing
    checkpoint or language package stops the batch at once (exit 4 or 7) instead of failing items hours in;
    a precision the device refuses (not "auto" on the ttnn backend) stops it before that (exit 6).
    `workers` compute the audio (default: `LocalWorkers` on `engine`, in list order, `on_chunk` seeing each
    chunk); `engine` is the driver's own, for the voices, embeddings and fingerprints, and loads no model
    unless it is also the workers'. Each output and its record line are written here as its audio comes back.
    Ctrl-C stops it after cleaning up (outputs are written atomically, so none is left half-written): the
    items not run are reported, and `resume` finishes them later. A SIGTERM is handled like Ctrl-C where
    the CLI turns it into `errors.Terminated`."""
    workers = workers if workers is not None else LocalWorkers(engine, on_chunk)
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
    workers.start(
        {o.item.kind for o in pending}, [o.item.options.over(defaults) for o in pending], [o.item.text for o in pending]
    )
    handled = len(outcomes) - len(pending)
    fingerprints_of: dict[int, tuple[Outcome, dict[str, str]]] = {}

    def announce(item: Item) -> None:
        if on_item is not None:
            on_item(handled, len(outcomes), item)

    def jobs() -> Iterator[Job]:
        """Each pending item's job, made as the workers take it (so a local batch fingerprints an item just
        before it runs, as it always did); an item whose speaker cannot be found fails here."""
        nonlocal handled
        for outcome in pending:
            made = _job(outcome, defaults, engine, fingerprints)
            if made is None:
                announce(outcome.item)
                handled += 1
                continue
            fingerprints_of[outcome.item.index] = (outcome, made[1])
            yield made[0]

    try:
        for finished in workers.run(jobs(), lambda job: announce(job.item)):
            outcome, fingerprint = fingerprints_of[finished.job.item.index]
            _write(outcome, finished, fingerprint, out_dir, manifest)
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


def _job(
    outcome: Outcome, defaults: Options, engine: Engine, fingerprints: Fingerprints
) -> tuple[Job, dict[str, str]] | None:
    """The item's job and its fingerprint (taken before it runs: what its audio is made from), or None when
    its speaker cannot be found (the item then fails with the reason)."""
    item = outcome.item
    options = item.options.over(defaults)
    try:
        fingerprint = fingerprints.of(item, options)
        base = engine.base_speaker(options, item.text)
    except Exception as e:  # this item's failure, reported; the others go on
        outcome.status, outcome.error, outcome.elapsed = FAILED, reason(e), 0.0
        return None
    outcome.voice = {"speaker": base.name, **base.language_json()}
    return Job(item, options, base), fingerprint


def _write(
    outcome: Outcome, finished: Finished, fingerprint: dict[str, str], out_dir: Path, manifest: Manifest
) -> None:
    """The one place a batch writes an item: its output (atomically, by `Speech.save`) and its record line."""
    item, speech = outcome.item, finished.speech
    outcome.retried, outcome.attempts = finished.retried, finished.attempts
    start = time.perf_counter()
    try:
        if speech is None:
            outcome.status, outcome.error = FAILED, finished.error
            return
        speech.save(out_dir / item.output, finished.job.options.format)
        manifest.add(item, fingerprint, out_dir / item.output, outcome.redone)
    except Exception as e:  # this item's failure, reported; the others go on
        outcome.status, outcome.error = FAILED, reason(e)
    else:
        outcome.status, outcome.seconds = DONE, round(speech.seconds, 3)
    finally:
        outcome.elapsed = round(finished.elapsed + time.perf_counter() - start, 3)


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write the JSON report with the one output writer (atomic for a regular file)."""
    write_file(path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())
