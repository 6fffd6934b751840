"""Running `scripts/tt_acceptance.py` in a subprocess (a mock device must be chosen before ttnn loads)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARCHES = ["wormhole_n150", "blackhole_p150"]

# ttnn importable: a skip, a failure in CI on a Python with a ttnn wheel (tests/conftest.py `ttnn_installed`)
requires_ttnn = pytest.mark.usefixtures("ttnn_installed")


def run_json(command: list[str], timeout: int) -> dict:
    """`command` (a script, or `python -c` a snippet that picks its mock device before ttnn loads) in a fresh
    process without the caller's mock variables, ttnn's log quiet: the last JSON line it printed. Fails the
    test on a non-zero exit or no JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK")}
    env |= {"PYTHONPATH": str(REPO), "TT_METAL_LOGGER_LEVEL": "ERROR", "LOGURU_LEVEL": "ERROR"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-2000:]
    return json.loads(lines[-1])


def _acceptance(checkpoints: Path, device: str, args: list[str], timeout: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK")}
    command = [sys.executable, str(REPO / "scripts" / "tt_acceptance.py"), str(checkpoints), "--device", device, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)


def _log(done: subprocess.CompletedProcess) -> str:
    """ttnn's log, warnings included (tt-metal logs to stdout): every line but the JSON reports."""
    return "\n".join(line for line in (done.stdout + done.stderr).splitlines() if not line.startswith("{"))


def _errors(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (done.stderr + done.stdout).splitlines() if "TT_FATAL" in line or "Error" in line][-3:]


def run_acceptance(checkpoints: Path, device: str, *args: str, timeout: int = 600) -> dict:
    done = _acceptance(checkpoints, device, list(args), timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"{device} {' '.join(args)} failed (exit {done.returncode}): {_errors(done)}")
    result = json.loads(lines[-1])
    result["log"] = _log(done)  # tests/tt/test_compute_config.py reads it
    return result


Job = tuple[str, ...]  # (device, *arguments of tt_acceptance.py)


class AcceptanceRuns:
    """`run_acceptance` in batches: the first job asked of a device runs, in one subprocess (`--plan`), every
    job the selected tests will ask of that device. Each job still opens a fresh device and gets fresh model
    copies; only the imports and checkpoint loads, most of a short job's time, are shared. A job the plan
    did not foresee runs alone; a failing job fails its own tests, and the jobs after it run again."""

    def __init__(self, checkpoints: Path, planned: Iterable[Job]) -> None:
        self.checkpoints = checkpoints
        self.planned = list(dict.fromkeys(planned))
        self.results: dict[Job, dict | str] = {}

    def __call__(self, device: str, *args: str, timeout: int = 600) -> dict:
        job = (device, *args)
        if job not in self.results:
            batch = [j for j in self.planned if j[0] == device and j not in self.results]
            self._run(device, batch if job in batch else [job], timeout)
        result = self.results[job]
        if isinstance(result, str):
            raise AssertionError(result)
        return result

    def _run(self, device: str, batch: list[Job], timeout: int) -> None:
        plan = json.dumps([list(job[1:]) for job in batch])
        done = _acceptance(self.checkpoints, device, ["--plan", plan], timeout * len(batch))
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        log = _log(done)
        for job, result in zip(batch, lines, strict=False):
            self.results[job] = {**result, "log": log}
        if done.returncode != 0 or len(lines) < len(batch):  # the job after the last report failed (or the
            failed = batch[min(len(lines), len(batch) - 1)]  # last one, at exit); later ones run when asked again
            self.results[failed] = f"{' '.join(failed)} failed (exit {done.returncode}): {_errors(done)}"


def planned_jobs(items: Iterable[pytest.Item], jobs_of: dict[str, Callable[[dict], list[Job]]]) -> list[Job]:
    """The acceptance jobs the selected tests will ask for: `jobs_of` maps a test function's name to its
    jobs, given the test's parameters."""
    planned = []
    for item in items:
        name = getattr(item, "originalname", item.name)
        if name in jobs_of:
            callspec = getattr(item, "callspec", None)
            planned += jobs_of[name](callspec.params if callspec else {})
    return planned
