"""`openvoice-tt batch --ray`: a two-node Ray cluster on this machine (started with the venv's `ray` CLI)
loses its worker node mid-run, and the batch still writes every item once, byte-identical to a local
batch, naming the retried items in the report; `--resume` crosses between Ray and local runs; without Ray
installed, and with an address where no cluster answers, `--ray` is a one-line error with its exit code;
and the dispatch loop, against a stand-in for Ray, sends a lost worker's items elsewhere and fails an item
once no worker is left or it lost `MAX_ATTEMPTS`."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from openvoice_tt import batch as batching
from openvoice_tt.api import Speech
from openvoice_tt.batch import ray_workers
from openvoice_tt.batch.ray_workers import IN_FLIGHT
from openvoice_tt.batch.workers import Finished, Job
from openvoice_tt.errors import DeviceError
from tests.require import require

pytestmark = pytest.mark.usefixtures("tool_environment")

REPO = Path(__file__).resolve().parents[1]
OBJECT_STORE_BYTES = 100 * 2**20  # each node's shared memory: a few seconds of audio per item need little
SLOW_S = 20.0
"""Seconds the worker node's actor waits before each item: the node is killed long before its first item
is done, so it always holds exactly `IN_FLIGHT` items then, whatever the machine's load."""
SLOW_SITE = f"""
import time
import openvoice_tt.batch.engine as engine
speak = engine.Engine.speak
def slow(self, *args, **kwargs):
    time.sleep({SLOW_S})
    return speak(self, *args, **kwargs)
engine.Engine.speak = slow
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ray_listing(tmp_path: Path, voice: Path) -> Path:
    """Ten items: synthesized ones (one with its own seed, one with another speaker) and clones."""
    items = [{"text": f"Sentence number {n} of a batch that runs on two nodes."} for n in range(1, 11)]
    for n in (2, 5, 9):
        items[n - 1]["reference"] = str(voice)
    items[3]["seed"] = 7
    items[6]["speaker"] = "EN-BR"
    path = tmp_path / "list.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def environment(*paths: Path) -> dict[str, str]:
    """This checkout first on the path (then `paths`), torch's default thread count (no OMP_NUM_THREADS or
    MKL_NUM_THREADS: the local batch, the driver and the nodes alike, so a Ray CPU worker matches the local
    batch only by taking the driver's count; Ray's default for an actor of one CPU is one thread), no
    cluster from outside, and Ray's token authentication off for this loopback-only cluster: left unset,
    Ray turns it on wherever ~/.ray/auth_token exists (a local `ray.init()` cluster writes one), and a node
    that disagrees with the head cannot join."""
    leave = ("RAY_ADDRESS", "RAY_AUTH", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(leave)}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (REPO, *paths))
    env |= {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    return env


def batch_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "openvoice_tt", "batch", *map(str, args)]


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(batch_command(*args), env=environment(), capture_output=True, text=True, timeout=300)


def audio_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def record_lines(folder: Path) -> list[str]:
    """The outputs the folder's record has a line for, one per time an item was written."""
    lines = (folder / batching.MANIFEST).read_text().splitlines()
    return [entry["output"] for line in lines if line and "output" in (entry := json.loads(line))]


def require_ray() -> None:
    import importlib.util

    require(importlib.util.find_spec("ray") is not None, "ray is not installed (pip install -e '.[ray]')")


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    log: Path

    def wait_started(self, timeout: float = 120) -> None:
        """Until `ray start --block` says the node is up (it has registered with the head by then)."""
        deadline = time.monotonic() + timeout
        while b"block forever" not in self.log.read_bytes():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def kill(self) -> None:
        """The node's whole process group at once (`ray start` and the GCS, raylet, agents and workers it
        started), as a machine that dies would go: a SIGTERM leaves the GCS running for over 30 s."""
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@dataclass
class Cluster:
    address: str
    head: Node
    worker: Node


def start_node(folder: Path, name: str, env: dict[str, str], *args: str) -> Node:
    ray = Path(sys.executable).with_name("ray")
    log = folder / f"{name}.log"
    command = [str(ray), "start", *args, "--num-cpus=1", f"--object-store-memory={OBJECT_STORE_BYTES}", "--block"]
    with log.open("wb") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [*command, "--disable-usage-stats"], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return Node(process, log)


@pytest.fixture
def ray_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A head node and a worker node (one CPU slot each) on this machine; the worker node's actors are
    slowed by `SLOW_SITE`. Both process groups are killed at the end, whatever happened."""
    require_ray()
    temp = Path(tempfile.mkdtemp(prefix="ovt-ray-"))  # short: Ray's socket paths live under it
    slow = tmp_path / "slow-site"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(SLOW_SITE)
    port = free_port()
    nodes: list[Node] = []
    try:
        head_args = ("--head", f"--port={port}", f"--temp-dir={temp}", "--include-dashboard=false")
        in_temp = {"TMPDIR": str(temp)}  # where the actors keep the references sent to them
        nodes.append(start_node(tmp_path, "head", environment() | in_temp, *head_args))
        nodes[0].wait_started()
        worker_env = environment(slow) | in_temp
        nodes.append(start_node(tmp_path, "worker", worker_env, f"--address=127.0.0.1:{port}"))
        nodes[1].wait_started()
        yield Cluster(f"127.0.0.1:{port}", *nodes)
    finally:
        for node in reversed(nodes):
            node.kill()
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_batch_loses_a_node_and_writes_what_a_local_batch_writes(
    ray_cluster: Cluster, tiny_checkpoints: Path, tmp_path: Path, voice: Path
) -> None:
    started = time.monotonic()
    listing = ray_listing(tmp_path, voice)
    common = ("-c", tiny_checkpoints, "-d", "cpu")
    local, on_ray, report = tmp_path / "local", tmp_path / "ray", tmp_path / "report.json"
    made = cli(listing, "-o", local, *common, "--report", tmp_path / "local.json")  # torch's default threads
    assert made.returncode == 0, made.stderr
    command = batch_command(listing, "-o", on_ray, *common, "--ray-address", ray_cluster.address, "--report", report)
    process = subprocess.Popen(command, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (on_ray.is_dir() and audio_files(on_ray)) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, process.communicate()
    ray_cluster.worker.kill()  # the worker node dies: its raylet and its actor with it
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr, stderr.decode()
    assert b"10 item(s): 10 done in " in stdout  # the summary table's last line

    written = audio_files(on_ray)
    assert written == audio_files(local)  # the same files, byte for byte, whichever worker made them
    assert sorted(written) == [f"{n:04d}.wav" for n in range(1, 11)]
    assert sorted(record_lines(on_ray)) == sorted(written)  # every item written (and recorded) once
    summary = json.loads(report.read_text())
    assert summary["counts"] == {"done": 10, "skipped": 0, "failed": 0, "not run": 0}
    local_summary = json.loads((tmp_path / "local.json").read_text())
    assert summary["device"] == local_summary["device"] == "cpu"
    assert summary["precision"] == local_summary["precision"]  # what the actors' models ran in
    retried = {item["index"]: item for item in summary["items"] if item["retried"]}
    # Each of the two actors was sent its first IN_FLIGHT items in list order (1 and 2, 3 and 4): the lost
    # node's actor was running the first of its two (1 or 3); the one waiting behind it is not charged.
    assert IN_FLIGHT == 2 and sorted(retried) in ([1], [3])
    (item,) = retried.values()
    lost = 1 if item["index"] == 1 else 2
    assert item["attempts"] == 2 and len(item["retried"]) == 1
    assert item["retried"][0].startswith(f"Ray worker {lost} on ") and " lost (" in item["retried"][0]
    assert [item["attempts"] for item in summary["items"] if not item["retried"]] == [1] * 9

    resumed_locally = cli(listing, "-o", on_ray, *common, "--resume", "--json")
    assert resumed_locally.returncode == 0, resumed_locally.stderr
    assert json.loads(resumed_locally.stdout)["counts"] == {"done": 0, "skipped": 10, "failed": 0, "not run": 0}
    resumed_on_ray = cli(listing, "-o", local, *common, "--resume", "--json", "--ray-address", ray_cluster.address)
    assert resumed_on_ray.returncode == 0, resumed_on_ray.stderr
    assert json.loads(resumed_on_ray.stdout)["counts"] == {"done": 0, "skipped": 10, "failed": 0, "not run": 0}
    assert audio_files(on_ray) == audio_files(local) == written
    print(f"two-node Ray batch test body: {time.monotonic() - started:.1f} s", file=sys.stderr)


NO_RAY_CLI = """
import sys
sys.modules["ray"] = None  # as if Ray were not installed: `import ray` raises ImportError
from openvoice_tt.cli import main
sys.argv[0] = "openvoice-tt"
main()
"""


@pytest.mark.parametrize("option", [("--ray",), ("--ray-address", "127.0.0.1:6379")])
def test_ray_not_installed_is_exit_7_before_anything_runs(tmp_path: Path, option: tuple[str, ...]) -> None:
    listing, out = tmp_path / "list.txt", tmp_path / "out"
    listing.write_text("One line.\n")
    command = [sys.executable, "-c", NO_RAY_CLI, "batch", str(listing), "-o", str(out), *option]
    done = subprocess.run(command, env=environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 7
    assert done.stderr == "error: --ray needs Ray, which is not installed: pip install 'openvoice-tt[ray]'\n"
    assert not out.exists()  # found before the output folder is made, let alone a model loaded


def test_unreachable_or_malformed_ray_address_is_one_line(tmp_path: Path) -> None:
    require_ray()
    listing, out = tmp_path / "list.txt", tmp_path / "out"
    listing.write_text("One line.\n")
    port = free_port()  # nothing listens there
    started = time.monotonic()
    unreachable = cli(listing, "-o", out, "--ray-address", f"127.0.0.1:{port}")
    assert time.monotonic() - started < 60  # not Ray's minutes of retries
    assert unreachable.returncode == 6
    assert unreachable.stderr == (
        f"error: --ray-address 127.0.0.1:{port}: no Ray cluster answers there (Connection refused)\n"
    )
    malformed = cli(listing, "-o", out, "--ray-address", "headnode")
    assert malformed.returncode == 3
    assert malformed.stderr == "error: --ray-address 'headnode': not HOST:PORT (the Ray cluster head's address)\n"
    assert audio_files(out) == {}


# The dispatch loop against a stand-in for the few Ray calls it makes (remote, wait, get, put, kill): which
# items go where when workers are lost, exactly, without a cluster. `wait` returns the oldest call first.


class Lost(Exception):
    """Stands for `ray.exceptions.RayError` (an actor, its process or its node gone)."""


class Bug(Lost):
    """Stands for `ray.exceptions.RayTaskError`: the worker's own code raised."""


@dataclass(eq=False)  # a key of the in-flight calls, by identity as Ray's ObjectRefs are
class Call:
    """A remote call; its result (or the error that lost it) is computed when it is got."""

    result: Callable[[], Any]
    ready: bool = True  # False: never done (an actor Ray cannot place)


@dataclass
class Method:
    run: Callable[..., Any]
    ready: bool = True

    def remote(self, *args: Any) -> Call:
        return Call(lambda: self.run(*args), self.ready)


def label(job: Job) -> Any:
    """The stand-in's audio for a job: a label naming the item."""
    return f"audio {job.item.index}"


class StandInActor:
    def __init__(
        self,
        number: int,
        dies: Callable[[int, Job], bool],
        info: dict[str, Any],
        speech: Callable[[Job], Any],
        loads: str = "yes",
    ) -> None:
        """`loads`: "yes", "never" (its load call never ends) or "lost" (the actor dies as it loads)."""
        self.number, self.dies, self.dead, self.speech = number, dies, False, speech
        self.load = Method(lambda *_: self._lost() if loads == "lost" else info | {"node": f"node{number}"})
        self.load.ready = loads != "never"
        self.speak = Method(self._speak)
        self.close = Method(lambda: None)

    def _lost(self) -> None:
        raise Lost(f"actor {self.number} died")

    def _speak(self, job: Job, voice: Any) -> Finished:
        if job.item.text == "bug":
            raise Bug("the worker's code raised")
        self.dead = self.dead or self.dies(self.number, job)
        if self.dead:  # an actor that died stays dead: every call it had is lost
            raise Lost(f"actor {self.number} died")
        return Finished(job, speech=self.speech(job), elapsed=0.5)


class StandInRay:
    exceptions = SimpleNamespace(RayError=Lost, RayTaskError=Bug)

    def __init__(
        self, slots: int, dies: Callable[[int, Job], bool], info: dict[str, Any], speech: Callable[[Job], Any] = label
    ) -> None:
        self.slots, self.dies, self.info, self.speech = slots, dies, info, speech
        self.free = slots  # the slots no other job holds
        self.loads: Callable[[int], str] = lambda actor: "yes"
        self.actors: list[StandInActor] = []
        self.killed: list[int] = []
        self.threads: list[int | None] = []  # each actor's torch threads, as the driver asked
        self.timeouts: list[float | None] = []  # of every wait

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": float(self.slots)}

    def available_resources(self) -> dict[str, float]:
        return {"CPU": float(self.free)}

    def remote(self, **options: Any) -> Callable[[type], Any]:
        return lambda cls: SimpleNamespace(options=lambda **_: SimpleNamespace(remote=self._actor))

    def _actor(self, settings: dict[str, Any], threads: int | None) -> StandInActor:
        number = len(self.actors) + 1
        self.actors.append(StandInActor(number, self.dies, self.info, self.speech, self.loads(number)))
        self.threads.append(threads)
        return self.actors[-1]

    def get(self, call: Call) -> Any:
        return call.result()

    def wait(self, calls: list[Call], num_returns: int = 1, timeout: float | None = None) -> tuple[list, list]:
        """The first `num_returns` calls done, oldest first (sooner, after `timeout`, the ones done by then)."""
        self.timeouts.append(timeout)
        ready = [call for call in calls if call.ready][:num_returns]
        assert len(ready) == num_returns or timeout is not None, "Ray would wait here forever"
        return ready, [call for call in calls if call not in ready]

    def put(self, value: Any) -> Any:
        return value

    def kill(self, actor: StandInActor) -> None:
        self.killed.append(actor.number)


def stand_in(
    monkeypatch: pytest.MonkeyPatch,
    slots: int,
    dies: Callable[[int, Job], bool],
    engine: batching.Engine | None = None,
    speech: Callable[[Job], Any] = label,
) -> tuple[ray_workers.RayWorkers, StandInRay]:
    """`RayWorkers` over a stand-in cluster of `slots` CPU slots whose actor dies when `dies(actor, job)`."""
    engine = engine if engine is not None else batching.Engine(None, "cpu")
    info = {"device": "cpu", "precision": engine.resolved_precision.mode, "device_used": "cpu"}
    ray = StandInRay(slots, dies, info | {"precision_used": {"synth": None, "convert": None}}, speech)
    monkeypatch.setattr(ray_workers, "require_ray", lambda: ray)
    return ray_workers.RayWorkers("127.0.0.1:1", engine), ray


def run_lines(workers: ray_workers.RayWorkers, texts: list[str]) -> tuple[list[Finished], list[int]]:
    """Every job's `Finished` in the order `RayWorkers.run` yields them, and the item dispatched each time."""
    items = [batching.Item(n, n, text, f"{n:04d}.wav") for n, text in enumerate(texts, start=1)]
    jobs = [Job(item, batching.Options(), None) for item in items]  # no speaker: the stand-in speaks none
    workers.start({"synth"}, [job.options for job in jobs], texts)
    dispatched: list[int] = []
    finished = list(workers.run(jobs, lambda job: dispatched.append(job.item.index)))
    return finished, dispatched


def stand_in_run(
    monkeypatch: pytest.MonkeyPatch, slots: int, items: int, dies: Callable[[int, Job], bool]
) -> tuple[list[Finished], list[int], StandInRay]:
    workers, ray = stand_in(monkeypatch, slots, dies)
    return (*run_lines(workers, [f"Line {n}." for n in range(1, 1 + items)]), ray)


def test_a_lost_workers_items_run_again_on_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)  # the driver's torch threads
    finished, dispatched, ray = stand_in_run(monkeypatch, slots=3, items=6, dies=lambda actor, job: actor == 2)
    assert dispatched == [1, 2, 3, 4, 5, 6, 3, 4]  # two each, then the lost worker's two to the first free one
    assert [f.job.item.index for f in finished] == [1, 2, 5, 6, 3, 4]  # each once, as it finished
    lost = ("Ray worker 2 on node2 lost (Lost: actor 2 died)",)
    assert [(f.speech, f.error, f.retried, f.attempts) for f in finished] == [
        ("audio 1", None, (), 1),
        ("audio 2", None, (), 1),
        ("audio 5", None, (), 1),
        ("audio 6", None, (), 1),
        ("audio 3", None, lost, 2),  # worker 2 was running it
        ("audio 4", None, (), 1),  # it waited behind item 3 there: it ran once, on worker 1
    ]
    assert ray.killed == [2]
    assert ray.threads == [3, 3, 3]  # a CPU worker runs torch on the driver's thread count


def test_an_item_fails_once_no_worker_is_left_or_it_lost_three(monkeypatch: pytest.MonkeyPatch) -> None:
    finished, dispatched, ray = stand_in_run(monkeypatch, slots=2, items=3, dies=lambda actor, job: True)
    assert dispatched == [1, 2, 3, 1]
    one, two = "Ray worker 1 on node1 lost (Lost: actor 1 died)", "Ray worker 2 on node2 lost (Lost: actor 2 died)"
    # Each worker dies on the first item it runs (1, then 3); the items waiting behind them never ran.
    assert [(f.job.item.index, f.speech, f.error, f.retried, f.attempts) for f in finished] == [
        (1, None, f"no Ray worker left to run it ({one})", (one,), 1),
        (3, None, f"no Ray worker left to run it ({two})", (two,), 1),
        (2, None, "no Ray worker left to run it", (), 0),
    ]
    assert ray.killed == [1, 2]


def test_only_the_item_a_lost_worker_was_running_is_charged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 1 kills every worker it reaches; item 2, sent to the same worker behind it each time, had not
    started there: it goes elsewhere uncharged and is done once a worker outlives item 1's third try."""
    poison = stand_in_run(monkeypatch, slots=4, items=4, dies=lambda actor, job: job.item.index == 1)
    finished, dispatched, ray = poison
    assert dispatched == [1, 2, 3, 4, 1, 2, 1, 2, 2] and ray.killed == [1, 3, 2]
    lost = {n: f"Ray worker {n} on node{n} lost (Lost: actor {n} died)" for n in (1, 2, 3)}
    three = (lost[1], lost[3], lost[2])
    failed = f"{ray_workers.MAX_ATTEMPTS} Ray workers were lost while running it ({'; '.join(three)})"
    assert [(f.job.item.index, f.speech, f.error, f.retried, f.attempts) for f in finished] == [
        (3, "audio 3", None, (), 1),
        (4, "audio 4", None, (), 1),
        (1, None, failed, three, 3),
        (2, "audio 2", None, (), 1),  # on worker 4, after waiting behind item 1 on workers 1, 3 and 2
    ]


def test_jobs_are_taken_as_workers_have_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `Workers` contract: a job is made (fingerprinted, in a batch) only as a worker takes it."""
    workers, _ = stand_in(monkeypatch, 1, lambda actor, job: False)
    events: list[str] = []

    def jobs() -> Iterator[Job]:
        for n in range(1, 5):
            events.append(f"made {n}")
            yield Job(batching.Item(n, n, f"Line {n}.", f"{n:04d}.wav"), batching.Options(), None)

    workers.start({"synth"}, [batching.Options()] * 4, ["Line."] * 4)
    for finished in workers.run(jobs(), lambda job: events.append(f"sent {job.item.index}")):
        events.append(f"done {finished.job.item.index}")
    assert events == [
        *("made 1", "sent 1", "made 2", "sent 2"),  # IN_FLIGHT items on the one worker
        *("done 1", "made 3", "sent 3", "done 2", "made 4", "sent 4", "done 3", "done 4"),
    ]


def test_a_bug_in_the_workers_code_is_raised_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray's RayTaskError (the actor's method raised; an item's own failure comes back as a `Finished`) is
    a bug, which keeps its traceback as in a local batch: not a lost worker whose items run elsewhere."""
    workers, ray = stand_in(monkeypatch, 2, lambda actor, job: False)
    with pytest.raises(Bug, match="the worker's code raised"):
        run_lines(workers, ["Fine.", "bug"])
    assert ray.killed == []


def silence(job: Job) -> Speech:
    return Speech(np.zeros(441, dtype=np.float32), 44100, frames=1, hop_length=441, seed=0)


def test_the_reports_attempts_are_the_workers_that_ran_each_item(
    monkeypatch: pytest.MonkeyPatch, tiny_checkpoints: Path, tmp_path: Path
) -> None:
    """`attempts` in the report counts the workers that ran the item: 0 for an item that failed before any
    worker had it (a list problem, an unknown speaker), the lost workers for one that lost `MAX_ATTEMPTS`."""
    rows = [{"text": "Fine."}, {"text": "Poison."}, {"text": "Bad speed.", "speed": "fast"}]
    rows.append({"text": "Who?", "speaker": "XX"})
    listing = tmp_path / "list.jsonl"
    listing.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    items = batching.read_items(listing)
    engine = batching.Engine(tiny_checkpoints, "cpu")
    workers, ray = stand_in(monkeypatch, 3, lambda actor, job: job.item.text == "Poison.", engine, silence)
    out = tmp_path / "out"
    out.mkdir()
    result = batching.run_batch(items, out, engine, batching.Options(), workers=workers)
    report = result.to_json(listing, out, workers.device_used, workers.precision_used)["items"]
    assert [(item["status"], item["attempts"], len(item["retried"])) for item in report] == [
        ("done", 1, 0),
        ("failed", 3, 3),
        ("failed", 0, 0),
        ("failed", 0, 0),
    ]
    assert report[1]["error"].startswith("3 Ray workers were lost while running it (Ray worker 1 on node1 lost")
    assert ray.killed == [1, 2, 3]
    assert audio_files(out) == {"0001.wav": (out / "0001.wav").read_bytes()}


def test_workers_are_counted_from_the_free_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slots another job holds are not counted: one free slot of four, one worker."""
    workers, ray = stand_in(monkeypatch, 4, lambda actor, job: False)
    ray.free = 1
    finished, dispatched = run_lines(workers, ["One.", "Two.", "Three."])
    assert (
        len(ray.actors) == 1
        and dispatched == [1, 2, 3]
        and [f.speech for f in finished]
        == [
            "audio 1",
            "audio 2",
            "audio 3",
        ]
    )


@pytest.mark.parametrize(
    ("slots", "error"),
    [
        (2, "the Ray cluster's 2 CPU slot(s) are all taken (by another job?): none is free for --device cpu"),
        (0, "the Ray cluster has no CPU slot for --device cpu"),
    ],
)
def test_no_free_slot_is_a_device_error(monkeypatch: pytest.MonkeyPatch, slots: int, error: str) -> None:
    workers, ray = stand_in(monkeypatch, slots, lambda actor, job: False)
    ray.free = 0
    with pytest.raises(DeviceError) as raised:
        workers.start({"synth"}, [batching.Options()], ["One."])
    assert str(raised.value) == error and raised.value.exit_code == 6
    assert ray.actors == []


def test_workers_that_do_not_load_are_left_out_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker Ray cannot place (its slot taken since it was counted) does not hold the batch forever: the
    driver waits `LOAD_TIMEOUT_S` for the models to load, then leaves it out, as one lost before it loaded;
    each is a warning line, and the batch runs on the others."""
    workers, ray = stand_in(monkeypatch, 3, lambda actor, job: False)
    ray.loads = lambda actor: {1: "never", 2: "yes", 3: "lost"}[actor]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        finished, dispatched = run_lines(workers, ["One.", "Two.", "Three."])
    assert [str(warning.message) for warning in caught] == [
        "Ray worker 1 had not loaded the models after 600 s (its CPU slot taken by another job, or its node "
        "gone): left out, the batch runs on 1 worker(s)",
        "Ray worker 3 was lost before it loaded the models (Lost: actor 3 died): left out, the batch runs on 1 "
        "worker(s)",
    ]
    assert ray.timeouts[0] == ray_workers.LOAD_TIMEOUT_S == 600
    assert ray.killed == [1]  # not placed yet: it would take its slot later, for nothing
    assert dispatched == [1, 2, 3] and all(f.retried == () and f.speech is not None for f in finished)
    assert [slot.name for slot in workers.slots] == ["Ray worker 2 on node2"]


@pytest.mark.parametrize(
    ("loads", "error"),
    [
        (
            "never",
            "no Ray worker started: Ray worker 1 had not loaded the models after 600 s (its CPU slot taken by "
            "another job, or its node gone)",
        ),
        ("lost", "no Ray worker started: Ray worker 1 was lost before it loaded the models (Lost: actor 1 died)"),
    ],
)
def test_no_worker_loading_is_a_device_error(monkeypatch: pytest.MonkeyPatch, loads: str, error: str) -> None:
    workers, ray = stand_in(monkeypatch, 2, lambda actor, job: False)
    ray.loads = lambda actor: loads
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DeviceError) as raised:
            workers.start({"synth"}, [batching.Options()] * 2, ["One.", "Two."])
    assert str(raised.value) == error and raised.value.exit_code == 6
    assert caught == []  # the error alone says it


@pytest.mark.parametrize("loads", [("never", "yes"), ("never", "never")])
def test_the_cli_warns_of_a_worker_left_out_and_stops_when_none_loads(
    monkeypatch: pytest.MonkeyPatch, tiny_checkpoints: Path, tmp_path: Path, loads: tuple[str, str]
) -> None:
    """`batch --ray` on the stand-in: a worker left out is a warning line and the batch runs on the other;
    none loaded is one error line, exit 6."""
    from typer.testing import CliRunner

    from openvoice_tt.cli import app

    listing, out = tmp_path / "list.txt", tmp_path / "out"
    listing.write_text("One.\nTwo.\n")
    precision = batching.Engine(tiny_checkpoints, "cpu").resolved_precision.mode
    info = {"device": "cpu", "precision": precision, "device_used": "cpu", "precision_used": {}}
    ray = StandInRay(2, lambda actor, job: False, info, silence)
    ray.loads = lambda actor: loads[actor - 1]
    ray.init = ray.shutdown = lambda *args, **kwargs: None  # type: ignore[method-assign]
    monkeypatch.setattr(ray_workers, "require_ray", lambda: ray)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    args = ["batch", str(listing), "-o", str(out), "-c", str(tiny_checkpoints), "-d", "cpu", "--ray"]
    result = CliRunner().invoke(app, args)
    left_out = (
        "Ray worker 1 had not loaded the models after 600 s (its CPU slot taken by another job, or its node gone)"
    )
    if loads[1] == "yes":
        assert result.exit_code == 0, result.output
        assert f"warning: {left_out}: left out, the batch runs on 1 worker(s)\n" in result.stderr
        assert sorted(audio_files(out)) == ["0001.wav", "0002.wav"]
    else:
        assert result.exit_code == 6
        assert result.stderr == f"error: no Ray worker started: {left_out}\n"
        assert audio_files(out) == {}


@pytest.mark.parametrize(
    ("device", "resource", "options"),
    [
        ("cpu", "CPU", {"num_cpus": 1}),
        ("cuda", "GPU", {"num_gpus": 1}),
        ("tt:emulation:faithful", "tt", {"resources": {"tt": 1}}),
    ],
)
def test_every_kind_of_slot_runs_torch_on_the_drivers_thread_count(
    monkeypatch: pytest.MonkeyPatch, tiny_checkpoints: Path, device: str, resource: str, options: dict
) -> None:
    """A chip's or GPU's worker computes the host's share (and, on the ttnn emulation, all of it) with torch
    too: every worker takes the driver's thread count, not Ray's one thread."""
    from openvoice_tt.batch.engine import Engine
    from openvoice_tt.batch.ray_workers import RayWorkers

    require_ray()
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)
    engine = Engine(tiny_checkpoints, "cpu")
    engine.__dict__["resolved_device"] = device  # what the batch's --device resolved to
    assert RayWorkers(None, engine)._slot_resources() == (resource, options, 3)
