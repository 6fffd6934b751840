"""`openvoice-tt bench --devices`: items per second on one pipeline replica and on one per chip (or GPU).

Each replica (a TTS, a converter and a cloner on its own chip, `device_index`) is loaded and warmed up
first on every distinct item (so neither run pays a length bucket's first programs or conv weights); then
the same items, a synth and a clone of each of bench's sentences `repeat` times, run once on the first
replica alone and once spread over all of them (`api.replicas.spread`: a thread per replica, each taking
the next item when free). Both runs happen in one process, one after the other, so the two rates come
from the same machine. Every item's audio is compared between the runs: a replica must give the same
samples as any other for the same item and seed, which `same_audio` says.

What it can show: how much the host side (Python dispatch, the front end, the host's share of each stage)
lets replicas overlap. On the emulation both replicas compute on the same CPU cores; on a mock device
nothing computes and the seconds are host dispatch only. Neither says what a real N300 or T3000 does:
there each chip computes on its own, and the rate depends on how much of an item the host holds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openvoice_tt.api import Replica, Speech, load_replicas, spread
from openvoice_tt.bench import SENTENCES, stepper


def _run(replica: Replica, target_se: Any, item: tuple[str, str]) -> Speech:
    """A synth (with the replica's first language's TTS) or a clone (into the base speaker `target_se`)."""
    kind, text = item
    if kind == "synth":
        return replica.cloner.tts.synth(text)
    return replica.cloner.clone(text, se=target_se)


@dataclass
class Run:
    """One timed run of every item over `replicas` replicas."""

    replicas: int
    items: int
    seconds: float
    audio_seconds: float
    per_replica: list[int]  # items each replica ran (by its place in the list)

    def to_json(self, baseline: Run) -> dict[str, Any]:
        return {
            "replicas": self.replicas,
            "items": self.items,
            "seconds": round(self.seconds, 3),
            "audio_seconds": round(self.audio_seconds, 3),
            "items_per_second": round(self.items / self.seconds, 4),
            "audio_seconds_per_second": round(self.audio_seconds / self.seconds, 4),
            "speedup": round(baseline.seconds / self.seconds, 3),
            "items_per_replica": self.per_replica,
        }


@dataclass
class ThroughputReport:
    device: str
    backend: str
    tt_device: str | None
    indices: tuple[int, ...]
    runs: list[Run]
    same_audio: bool
    load_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "backend": self.backend,
            "tt_device": self.tt_device,
            "devices": list(self.indices),
            "load_seconds": round(self.load_seconds, 3),
            "same_audio": self.same_audio,
            "runs": [run.to_json(self.runs[0]) for run in self.runs],
        }


def run_throughput(
    checkpoints: Path | None,
    device: str,
    indices: Sequence[int],
    repeat: int = 1,
    sentences: Sequence[str] = SENTENCES,
    on_step: Callable[[int, int], None] | None = None,
    precision: str = "auto",
) -> ThroughputReport:
    """Load a replica on each of `indices` (chips opened already: `api.resolve_replicas`), warm each up,
    then time every item on the first replica alone and on all of them."""
    items = [(kind, sentence) for _ in range(repeat) for sentence in sentences for kind in ("synth", "clone")]
    step = stepper(len(indices) + (1 + (len(indices) > 1)) * len(items), on_step)
    start = time.perf_counter()
    replicas = load_replicas(checkpoints, device, precision, indices)
    targets = [replica.cloner.converter.base_speaker_se(replica.cloner.tts.speakers[-1]) for replica in replicas]
    for replica, target in zip(replicas, targets, strict=True):
        for item in dict.fromkeys(items):  # warm-up: first-call and first-length costs (a new length bucket's
            _run(replica, target, item)  # programs, prepared conv weights) stay out of both runs
        step()
    load_seconds = time.perf_counter() - start
    slots = list(zip(replicas, targets, strict=True))  # each replica with its converter's target embedding
    runs, audio = [], []
    for count in dict.fromkeys((1, len(replicas))):
        hashes: dict[int, str] = {}
        seconds, per_replica = 0.0, [0] * count
        start = time.perf_counter()
        work = list(enumerate(items))
        for finished in spread(work, slots[:count], lambda slot, item: _run(*slot, item[1])):
            if finished.error is not None:
                raise finished.error
            speech = finished.result
            assert speech is not None
            hashes[finished.item[0]] = hashlib.sha256(speech.audio.tobytes()).hexdigest()
            seconds += speech.seconds
            per_replica[finished.replica] += 1
            step()
        runs.append(Run(count, len(items), time.perf_counter() - start, seconds, per_replica))
        audio.append(hashes)
    first = replicas[0].cloner.tts
    tt_device = None
    if first.backend == "tt":
        handle = first.synthesizer.device
        tt_device = f"{handle.kind} {handle.arch}"
    return ThroughputReport(
        device=first.device,
        backend=first.backend,
        tt_device=tt_device,
        indices=tuple(indices),
        runs=runs,
        same_audio=all(hashes == audio[0] for hashes in audio),
        load_seconds=load_seconds,
    )
