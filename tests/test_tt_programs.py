"""scripts/tt_programs.py: programs and host seconds per audio second, side by side with another commit."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.tt_programs import collector_seconds, markdown, merge_rounds, tree_at

from .tt.mock import REPO, requires_ttnn


def _cell(audio: float, programs: dict[str, int], host: dict[str, float]) -> dict:
    return {"audio_seconds": audio, "programs": programs, "host_seconds": host}


def _report(before: dict, after: dict) -> dict:
    results = {
        label: {"wormhole_n150": {"arch": "wormhole_b0", "results": {"synth": {"2.0": cell}}}}
        for label, cell in (("before", before), ("after", after))
    }
    revisions = {"before": "aaaaaaa", "after": "bbbbbbb"}
    return {"revisions": revisions, "jobs": ["synth"], "seconds": [2.0], "results": results}


def test_markdown_puts_both_commits_per_audio_second_with_the_factor() -> None:
    before = _cell(2.0, {"flow": 4000, "total": 6000}, {"flow": 0.8, "total": 1.2})
    after = _cell(2.0, {"flow": 1000, "total": 1500}, {"flow": 0.3, "total": 0.3})
    header, rule, row = markdown(_report(before, after))
    assert header.startswith("| device | job | audio s | programs / audio s before (aaaaaaa) |")
    assert rule.count("---") == 9
    # 6000 / 2 s = 3000 and 1500 / 2 s = 750 programs per audio s (4x); 0.6 and 0.15 host s (4x)
    assert row == "| wormhole_n150 | synth | 2.00 | 3000 | 750 | 4.00 | 0.600 | 0.150 | 4.00 |"
    stages = markdown(_report(before, after), stages=True)[2:]
    assert stages[0] == "| wormhole_n150 | synth | 2.00 | flow | 2000 | 500 | 4.00 | 0.400 | 0.150 | 2.67 |"
    assert stages[1].split(" | ")[3] == "total" and len(stages) == 2


def _round(flow: float, total: float, programs: int = 1500, gc_seconds: float = 0.0) -> dict:
    cell = _cell(2.0, {"flow": programs, "total": programs}, {"flow": flow, "total": total})
    cell |= {"first_seconds": total * 10, "gc_seconds": gc_seconds, "program_cache_clears_while_warm": 0}
    return {"arch": "wormhole_b0", "results": {"synth": {"2.0": cell}}}


def test_rounds_keep_each_stages_least_and_every_rounds_total() -> None:
    """Per stage the least over the rounds, even when the least flow and the least total come from
    different rounds; each round's total kept in round order; the most gc seconds of any round."""
    merged = merge_rounds([_round(0.5, 0.9, gc_seconds=0.002), _round(0.3, 1.1), _round(0.4, 0.7)])
    cell = merged["results"]["synth"]["2.0"]
    assert cell["host_seconds"] == {"flow": 0.3, "total": 0.7}
    assert cell["host_seconds_rounds"] == [0.9, 1.1, 0.7]
    assert cell["gc_seconds"] == 0.002 and cell["first_seconds"] == 7.0 and cell["programs"]["total"] == 1500
    with pytest.raises(SystemExit, match=r"synth 2\.0 s: programs or audio differ between rounds"):
        merge_rounds([_round(0.5, 0.9), _round(0.5, 0.9, programs=1501)])


def test_collector_seconds_counts_a_collection_inside_the_block() -> None:
    cycles = []
    for _ in range(20000):
        node: list = []
        node.append(node)
        cycles.append(node)
    del cycles, node
    with collector_seconds() as outside:
        pass
    with collector_seconds() as inside:
        gc.collect()
    assert outside == [0.0] and inside[0] > 0.0


def test_the_other_commit_is_exported_as_it_was_committed() -> None:
    with tree_at("HEAD") as root:
        committed = subprocess.run(
            ["git", "-C", str(REPO), "show", "HEAD:scripts/tt_programs.py"], capture_output=True, text=True, check=True
        ).stdout
        assert (root / "scripts" / "tt_programs.py").read_text() == committed
        assert (root / "openvoice_tt" / "tt" / "mock_devices").is_dir()  # a mock needs its descriptors
    assert not root.exists()  # removed afterwards, and no git worktree registered
    worktrees = subprocess.run(["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True).stdout
    assert str(root) not in worktrees


@pytest.mark.parametrize("folder", ["checkpoints", "not a checkpoint folder"])
def test_bad_input_is_one_line_before_anything_runs(tiny_checkpoints: Path, folder: str) -> None:
    checkpoints = tiny_checkpoints if folder == "checkpoints" else REPO
    command = [sys.executable, str(REPO / "scripts" / "tt_programs.py"), str(checkpoints), "--against", "no-such-rev"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: --against no-such-rev: fatal: not a valid object name: no-such-rev"
        if folder == "checkpoints"
        else f"error: {REPO}: no melotts-english/checkpoint.pth (a checkpoint folder?)"
    ]


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.slow
def test_against_head_measures_both_trees_alike(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """HEAD against itself (the same model code, so the same programs), by one command in one run."""
    out = tmp_path / "programs.json"
    command = [sys.executable, str(REPO / "scripts" / "tt_programs.py"), str(tiny_checkpoints), "--against", "HEAD"]
    command += ["--arch", "wormhole_n150", "--jobs", "extract", "--seconds", "1", "--warm", "1", "--json", str(out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    assert report["revisions"]["before"] == head.stdout.strip()
    assert report["revisions"]["after"].startswith(head.stdout.strip())
    cells = [report["results"][label]["wormhole_n150"]["results"]["extract"]["1.0"] for label in ("before", "after")]
    assert cells[0]["programs"] == cells[1]["programs"] and cells[0]["programs"]["reference_encoder"] > 0
    assert cells[0]["audio_seconds"] == cells[1]["audio_seconds"] == 1.0
    assert all(cell["host_seconds"]["total"] >= cell["host_seconds"]["reference_encoder"] > 0 for cell in cells)
    assert done.stdout.splitlines()[2].startswith("| wormhole_n150 | extract | 1.00 |")
