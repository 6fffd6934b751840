"""A batch's items computed on a Ray cluster (`batch --ray`, `--ray-address HOST:PORT`): one actor per
device slot, each loading the models once; the audio comes back to the driver, which writes everything (`batch.run`).

Why this shape: the driver keeps the one writer, the record and the report, so a Ray batch's files are the
bytes a local batch on the driver writes (every item's noise comes from its own seed; a CPU slot runs torch
on the driver's thread count, as torch's sums round by thread count, on nodes of the driver's instruction
set) and `--resume` works across both.
An actor is an `Engine` built from the driver's `Engine.settings()`, one per slot free as the batch starts
(an actor not loaded within `LOAD_TIMEOUT_S`, or lost first, is left out with a warning); a slot is one CPU
(`--device cpu`), one GPU (`cuda`) or one Tenstorrent chip (`tt`: a node started with `ray start --resources
'{"tt": N}'`), so a slot runs one item at a time, and each actor has `IN_FLIGHT` items sent to it (the next one waits
there while the current one runs: no slot idles while the driver writes). Items are written in the order
they finish.

The item's files stay on the driver: a clone's reference recordings go to the actor as bytes (put in
Ray's object store once per reference set; an actor keeps them in its own temporary folder until the
driver leaves), an `se` item's voice as the embedding the driver loaded. The checkpoints must be on every
node, at the `--checkpoints` path or in the node's default folder, and the same files (the record
fingerprints the driver's); each actor's device and precision must resolve to the driver's (checked as
the models load: exit 6 otherwise).

A worker that dies (its node lost, its process killed) loses the items it had: they go to the remaining
actors, ahead of the items not yet sent. Only the item it was running (its oldest call in flight: an actor
runs its calls in the order they were sent) is charged with the loss: the report's `retried` names, per
lost attempt, the worker and why, and `attempts` counts it; the item waiting behind it had not started and
goes elsewhere uncharged. An item that lost `MAX_ATTEMPTS` workers, or that no live worker is left for,
fails with that reason. Lost actors are not replaced (their slot is gone with their node). Jobs are taken
from the driver only as a worker has room for them (each is fingerprinted as it is taken).

`ray` is imported here only, and only when `--ray` is used (`require_ray`): without it, `--ray` is exit 7.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import tempfile
import time
import warnings
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from openvoice_tt.batch.engine import Engine
from openvoice_tt.batch.items import Item, Options
from openvoice_tt.batch.messages import one_line, reason
from openvoice_tt.batch.workers import Dispatched, Finished, Job, speak
from openvoice_tt.errors import DeviceError, InputError, MissingPackagesError, OpenVoiceError, shorten

if TYPE_CHECKING:
    import torch

IN_FLIGHT = 2
"""Items sent to an actor at once: the one it runs and the next, so it never waits on the driver."""
MAX_ATTEMPTS = 3
"""Workers an item may lose (each died while running it) before it fails: an item that kills every worker
it reaches fails alone instead of taking the cluster down."""
CONNECT_TIMEOUT_S = 5.0
"""How long a reachability check of ADDRESS waits: Ray itself retries an unreachable address for minutes."""

LOAD_TIMEOUT_S = 600.0
"""How long the driver waits for the actors to start and load the models (a chip's first load compiles its
programs: minutes): an actor Ray cannot place (its slot taken by another job since it was counted free, its
node gone) would otherwise hold the batch forever. One not loaded by then is left out with a warning."""

CLOSE_WAIT_S = 5.0
"""How long the driver, leaving, waits for the actors to remove their copies of the references."""

References = tuple[tuple[str, bytes], ...]
"""A clone's reference recordings as the actor gets them: (file name, content) each."""


def require_ray() -> ModuleType:
    """Ray, or the one-line exit-7 error saying how to install it (before any model loads)."""
    try:
        import ray
    except ImportError:
        raise MissingPackagesError("--ray needs Ray, which is not installed: pip install 'openvoice-tt[ray]'") from None
    return ray


def check_reachable(address: str, named: str) -> None:
    """A one-line error, before Ray is asked, when `address` (HOST:PORT of the cluster's head; `named`
    says where it came from) is no such address (exit 3) or does not answer (exit 6): Ray itself retries
    an unreachable address for minutes, logging as it goes. Ray's other forms ("auto", ray://...) are left
    to Ray when they come from RAY_ADDRESS."""
    host, sep, port = address.rpartition(":")
    if not (sep and host and port.isdigit()):
        if named == "RAY_ADDRESS":
            return
        raise InputError(f"{named} {address!r}: not HOST:PORT (the Ray cluster head's address)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise DeviceError(f"{named} {address}: no Ray cluster answers there ({e.strerror or e})") from None


class SlotWorker:
    """What runs in a Ray actor: one `Engine`, built like the driver's, loading the models once."""

    def __init__(self, settings: dict[str, Any], threads: int) -> None:
        """`threads`: the torch threads of this actor, the driver's count (Ray's own default for an actor is
        OMP_NUM_THREADS=1), on every kind of slot."""
        import torch

        torch.set_num_threads(threads)  # whatever the node's environment
        self.chip = self._claim_chip(settings["device"])
        if self.chip is not None:  # a chip slot: this node's chip no other worker holds
            settings = settings | {"device_index": self.chip.chip}
        self.engine = Engine(**settings)
        self.folder = Path(tempfile.mkdtemp(prefix="openvoice-tt-ray-"))  # the references sent here
        self.originals: dict[str, str] = {}  # a written reference's path here -> its path on the driver

    def load(
        self, kinds: set[str], voices: Sequence[Options], texts: Sequence[str | None]
    ) -> dict[str, Any] | OpenVoiceError:
        """Load the models, and say what they run on; a user error (a missing checkpoint or language
        package) is handed back for the driver to raise, with its own message and exit code."""
        import ray

        try:
            self.engine.load(kinds, voices, texts)
            return {
                "node": ray.util.get_node_ip_address(),
                "device": self.engine.resolved_device,
                "precision": self.engine.resolved_precision.mode,
                "device_used": self.engine.device_used,
                "precision_used": self.engine.precision_used,
            }
        except OpenVoiceError as e:
            return e

    def speak(self, job: Job, voice: torch.Tensor | References | None) -> Finished:
        """The job's audio, its clone voice from `voice` (an embedding, or the reference recordings' bytes;
        None: the item's own files, read here)."""
        start = time.perf_counter()
        try:
            se = self._voice(job.item, voice)
        except Exception as e:  # this item's failure, reported with the driver's paths; the others go on
            message = reason(e)
            for here, there in self.originals.items():
                message = message.replace(here, there)
            return Finished(job, error=message, elapsed=time.perf_counter() - start)
        finished = speak(self.engine, job, se=se)
        return replace(finished, elapsed=time.perf_counter() - start)

    def close(self) -> None:
        """Remove the references sent here (the driver asks as it leaves; a lost actor's stay behind)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    @staticmethod
    def _claim_chip(device: str) -> Any:
        """On the ttnn backend, a chip of this node no other worker holds (`tt.card.claim_chip`: Ray gives a
        custom resource such as "tt" no ids, so every worker of a node would open chip 0); else None. A GPU
        slot needs none: Ray sets each worker's CUDA_VISIBLE_DEVICES to its own GPU."""
        from openvoice_tt import api

        if api.resolve_device(device) != "tt":
            return None
        from openvoice_tt.tt.card import claim_chip
        from openvoice_tt.tt.device_choice import device_choice

        return claim_chip(device_choice())

    def _voice(self, item: Item, voice: torch.Tensor | References | None) -> torch.Tensor | None:
        if not isinstance(voice, tuple):
            return voice
        paths = []
        for original, (name, content) in zip(item.references, voice, strict=True):
            folder = self.folder / hashlib.sha256(content).hexdigest()
            path = folder / name
            if not path.exists():
                folder.mkdir(exist_ok=True)
                partial = folder / f".{name}.{os.getpid()}.part"
                partial.write_bytes(content)
                os.replace(partial, path)
            self.originals[str(path)] = str(original)
            paths.append(path)
        return self.engine.voice(tuple(paths))


@dataclass
class _Slot:
    """One actor, as the driver tracks it."""

    number: int
    actor: Any
    node: str = "?"
    calls: list[Any] = field(default_factory=list)  # its calls in flight, in the order they were sent
    lost: str | None = None  # why it is dead
    running: Any = None  # once lost: the call it was running then (its oldest in flight), charged the loss

    @property
    def name(self) -> str:
        return f"Ray worker {self.number} on {self.node}"


@dataclass
class _Attempt:
    job: Job
    retried: list[str] = field(default_factory=list)


class RayWorkers:
    """`Workers` on a Ray cluster: `with RayWorkers(address, engine) as workers:` connects (`address`
    None: `ray.init()`'s own choice, RAY_ADDRESS, the cluster `ray start` last began here, or a new local
    one), and leaving it kills the actors and disconnects. `engine` is the driver's: its settings build
    every actor's, its resolved device and precision are what every actor must resolve to, and its
    embeddings are the `se` items' voices."""

    def __init__(self, address: str | None, engine: Engine) -> None:
        self.ray = require_ray()
        self.address = address
        self.engine = engine
        self.slots: list[_Slot] = []
        self.loaded: dict[str, Any] = {}
        self._voices: dict[Any, Any] = {}  # reference set or voice mix -> its ray object

    def __enter__(self) -> RayWorkers:
        named = "--ray-address" if self.address else "RAY_ADDRESS"
        address = self.address or os.environ.get("RAY_ADDRESS")
        if address:
            check_reachable(address, named)
        try:
            self.ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, RuntimeError) as e:  # gone since the check, another Ray version, ...
            where = f"at {named} {address}" if address else "started here"
            raise DeviceError(f"the Ray cluster {where}: {shorten(one_line(e), 200)}") from None
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        """Each live actor removes its copies of the references (waiting at most `CLOSE_WAIT_S`, as one may
        still be on an item after a Ctrl-C), then every actor is killed and the driver disconnects."""
        closing = [slot.actor.close.remote() for slot in self.slots if slot.lost is None]
        if closing:
            self.ray.wait(closing, num_returns=len(closing), timeout=CLOSE_WAIT_S)
        for slot in self.slots:
            self.ray.kill(slot.actor)
        self.slots = []
        self.ray.shutdown()

    def _slot_resources(self) -> tuple[str, dict[str, Any], int]:
        """The cluster resource one slot is, for the batch's device, the actor options that take one, and
        the torch threads every actor runs: the driver's own count (`torch.get_num_threads()`), so its audio
        is that of a local batch run here (torch's sums can round otherwise on another thread count: on a
        CPU slot all of the audio, on a chip's or GPU's the host's share, and all of it on the ttnn
        emulation). A CPU slot is still one CPU of Ray's: a node's `--num-cpus` bounds its workers, not
        their threads."""
        import torch

        device, threads = self.engine.resolved_device, torch.get_num_threads()
        if device == "cuda":
            return "GPU", {"num_gpus": 1}, threads
        if device.startswith("tt"):
            return "tt", {"resources": {"tt": 1}}, threads
        return "CPU", {"num_cpus": 1}, threads

    def start(self, kinds: set[str], voices: Sequence[Options], texts: Sequence[str | None]) -> None:
        """An actor per free slot of the cluster (at most one per pending item), each loading the models;
        the first user error any hands back stops the batch, as a local load would. An actor that has not
        loaded within `LOAD_TIMEOUT_S` (its slot taken by another job meanwhile, its node gone) or that is
        lost first is left out with a warning; none loaded is a DeviceError (exit 6) saying why."""
        if not kinds:
            return
        resource, options, threads = self._slot_resources()
        device = self.engine.resolved_device
        count = min(int(self.ray.available_resources().get(resource, 0)), len(voices))
        if count < 1:
            total = int(self.ray.cluster_resources().get(resource, 0))
            if total:
                raise DeviceError(
                    f"the Ray cluster's {total} {resource} slot(s) are all taken (by another job?): none is free "
                    f"for --device {device}"
                )
            raise DeviceError(f"the Ray cluster has no {resource} slot for --device {device}")
        actor_class = self.ray.remote(max_restarts=0, **options)(SlotWorker)
        settings = self.engine.settings()
        spread = actor_class.options(scheduling_strategy="SPREAD")
        slots = [_Slot(n + 1, spread.remote(settings, threads)) for n in range(count)]
        loading = {slot.actor.load.remote(kinds, list(voices), list(texts)): slot for slot in slots}
        ready, _ = self.ray.wait(list(loading), num_returns=len(loading), timeout=LOAD_TIMEOUT_S)
        left_out: list[str] = []
        for ref, slot in loading.items():
            if ref not in ready:
                self.ray.kill(slot.actor)
                left_out.append(
                    f"Ray worker {slot.number} had not loaded the models after {LOAD_TIMEOUT_S:.0f} s (its "
                    f"{resource} slot taken by another job, or its node gone)"
                )
                continue
            try:
                info = self.ray.get(ref)
            except self.ray.exceptions.RayTaskError:
                raise  # the worker's code failed, not the worker: a bug, which keeps its traceback
            except self.ray.exceptions.RayError as e:  # lost before it loaded: the others go on
                why = f"{type(e).__name__}: {shorten(one_line(e), 160)}"
                left_out.append(f"Ray worker {slot.number} was lost before it loaded the models ({why})")
                continue
            if isinstance(info, OpenVoiceError):
                raise info
            slot.node = info["node"]
            self._check(slot, info)
            self.loaded = self.loaded or info
            self.slots.append(slot)
        if not self.slots:
            raise DeviceError(f"no Ray worker started: {left_out[0]}")
        for line in left_out:
            warnings.warn(f"{line}: left out, the batch runs on {len(self.slots)} worker(s)", stacklevel=1)

    def _check(self, slot: _Slot, info: dict[str, Any]) -> None:
        """An actor whose device or precision resolves otherwise than the driver's would write audio the
        record does not describe: stop (exit 6)."""
        driver = (self.engine.resolved_device, self.engine.resolved_precision.mode)
        if (info["device"], info["precision"]) != driver:
            raise DeviceError(
                f"{slot.name} runs on {info['device']} in {info['precision']}, the driver on {driver[0]} in "
                f"{driver[1]}: give --device (and --precision) that resolve alike everywhere"
            )

    def run(self, jobs: Iterable[Job], dispatched: Dispatched) -> Iterator[Finished]:
        """Every job's `Finished`, as each comes back; a job whose worker died goes to another one. A job is
        taken from `jobs` only as a worker has room for it (the `Workers` contract: jobs are made as they are
        taken), after the jobs whose worker was lost."""
        fresh = iter(jobs)
        again: deque[_Attempt] = deque()  # jobs whose worker was lost, sent before any fresh one
        in_flight: dict[Any, tuple[_Slot, _Attempt]] = {}
        while True:
            for slot in self.slots:
                while slot.lost is None and len(slot.calls) < IN_FLIGHT:
                    attempt = again.popleft() if again else next(map(_Attempt, fresh), None)
                    if attempt is None:
                        break
                    dispatched(attempt.job)
                    ref = slot.actor.speak.remote(attempt.job, self._voice(attempt.job.item))
                    in_flight[ref] = (slot, attempt)
                    slot.calls.append(ref)
            if not in_flight:  # nothing left to run, or every worker is lost: the rest fail
                for attempt in chain(again, (_Attempt(job) for job in fresh)):
                    yield self._failed(attempt, "no Ray worker left to run it")
                return
            (ref,), _ = self.ray.wait(list(in_flight), num_returns=1)
            slot, attempt = in_flight.pop(ref)
            try:
                finished = self.ray.get(ref)
            except self.ray.exceptions.RayTaskError:
                raise  # the worker's code failed, not the worker (an item's own failure comes back as one)
            except self.ray.exceptions.RayError as e:  # the actor, its process or its node is gone
                if slot.lost is None:
                    slot.lost = f"{type(e).__name__}: {shorten(one_line(e), 160)}"
                    slot.running = slot.calls[0]  # an actor runs its calls in the order they were sent
                    self.ray.kill(slot.actor)  # never back: each of its calls comes back lost, and is requeued
                slot.calls.remove(ref)
                if ref == slot.running:  # the item it was running is charged with the loss
                    attempt.retried.append(f"{slot.name} lost ({slot.lost})")
                    if len(attempt.retried) >= MAX_ATTEMPTS:
                        yield self._failed(attempt, f"{MAX_ATTEMPTS} Ray workers were lost while running it")
                        continue
                # Requeued ahead of the fresh jobs; one that waited behind the running item had not started
                # there, and is not charged.
                again.appendleft(attempt)
                continue
            slot.calls.remove(ref)
            retried = tuple(attempt.retried)
            yield replace(finished, job=attempt.job, retried=retried, attempts=len(retried) + 1)

    @staticmethod
    def _failed(attempt: _Attempt, why: str) -> Finished:
        """The item failed without a worker's answer: it ran only on the workers that were lost with it."""
        lost = f" ({'; '.join(attempt.retried)})" if attempt.retried else ""
        return Finished(attempt.job, error=why + lost, retried=tuple(attempt.retried), attempts=len(attempt.retried))

    def _voice(self, item: Item) -> Any:
        """What the actor needs of a clone's voice, put in the object store once per voice: the `se` mix's
        embedding (the driver loaded it for the item's checks), or the reference recordings' bytes (None
        when one cannot be read here: the actor then reads the paths and fails with the real error)."""
        if item.kind == "synth":
            return None
        key = item.se if item.se is not None else item.references
        if key not in self._voices:
            if item.se is not None:
                self._voices[key] = self.ray.put(self.engine.embedding(item.se))
            else:
                try:
                    files = tuple((path.name, path.read_bytes()) for path in item.references)
                except OSError:
                    return None
                self._voices[key] = self.ray.put(files)
        return self._voices[key]

    @property
    def device_used(self) -> str | None:
        return self.loaded.get("device_used")

    @property
    def precision_used(self) -> dict[str, dict[str, str] | None]:
        return self.loaded.get("precision_used") or {"synth": None, "convert": None}
