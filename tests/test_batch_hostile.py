"""`openvoice-tt batch` against hostile lists (issue 23): whatever is wrong with one item fails that item
alone and the report is still written; a list that is no list at all (endless, huge, binary) is refused
up front, fast and in bounded memory; no output replaces an input, the record or the report; and
--resume redoes exactly the items whose audio would change, saying why."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from openvoice_tt import batch as batching
from openvoice_tt.api import load_lexicon
from openvoice_tt.checkpoints import save_tone_color_embedding
from openvoice_tt.cli import app
from openvoice_tt.errors import InputError, OutputError

pytestmark = pytest.mark.usefixtures("tool_environment")
REPO = Path(__file__).resolve().parents[1]


def run_batch(*args: object):
    return CliRunner().invoke(app, ["batch", *map(str, args)])


def jsonl(path: Path, rows: list[dict[str, object] | str]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def statuses(report: dict[str, object]) -> dict[str, tuple[str, str | None]]:
    """output (or "#index" for an item without one) -> (status, error or redone reason)."""
    return {
        item["output"] or f"#{item['index']}": (item["status"], item["error"] or item["redone"])
        for item in report["items"]  # type: ignore[union-attr]
    }


def child(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


# ------------------------------------------------------------------------------------- items fail alone

HOSTILE_ROWS: list[tuple[dict[str, object] | str, str]] = [
    ({"text": "x", "output": "a\0b.wav"}, "output contains a NUL character"),
    ({"text": "x", "se": "a\0b.pth"}, "se contains a NUL character"),
    ({"text": "a\0b"}, "text contains a NUL character"),
    ({"text": "x", "output": "a\nb.wav"}, "contains a control character"),
    ({"text": "x", "output": "n" * 300}, "output name is 304 bytes; file names are limited to 255"),
    ({"text": "x", "output": "é" * 126 + ".wav"}, "output name is 256 bytes"),
    ({"text": "y" * (batching.MAX_FIELD_CHARS + 1)}, "text is 131,073 characters, over the limit of 131,072"),
    ({"text": "x", "speaker": "s" * (batching.MAX_FIELD_CHARS + 1)}, "speaker is 131,073 characters"),
    ('{"text": "lone \\ud800 surrogate"}', "text is not valid Unicode (a lone surrogate at character 5)"),
    ('{"text": "x", "seed": ' + "9" * 5000 + "}", "not valid JSON (Exceeds the limit (4300 digits)"),
    ("[" * 100_000, "not valid JSON (maximum recursion depth exceeded"),
    ('{"text": "x", "speed": 1e400}', "speed must be a finite number, got inf"),
    ('{"text": "x", "noise_scale": NaN}', "noise_scale must be a finite number, got nan"),
    ({"text": "x", "seed": "1" * 30}, "seed must be a whole number"),
    ({"text": "x", "reference": ["ok.wav", "a\0.wav"]}, "reference contains a NUL character"),
    ({"text": 5}, "no text"),
    ({"text": "x", "se": ["a.pth"]}, "se must be a string"),
    ({"text": "x", "output": ["a.wav"]}, "output must be a string"),
    ({"text": "x", "output": "z" * 1000}, "output name is 1004 bytes"),
]


def test_each_hostile_row_fails_alone(tmp_path: Path) -> None:
    """Every row above becomes its own item's one-line problem; the good rows around them parse."""
    rows: list[dict[str, object] | str] = []
    for row, _ in HOSTILE_ROWS:
        rows += [row, {"text": "Fine."}]
    items = batching.read_items(jsonl(tmp_path / "list.jsonl", rows))
    assert len(items) == 2 * len(HOSTILE_ROWS)
    for (_, fragment), bad, good in zip(HOSTILE_ROWS, items[::2], items[1::2], strict=True):
        assert bad.problem is not None and fragment in bad.problem, (bad.problem, fragment)
        assert "\n" not in bad.problem and len(bad.problem) < 300
        bad.problem.encode("utf-8")  # no lone surrogate reaches a report or a terminal
        assert good.problem is None and good.output == f"{good.index:04d}.wav"
    assert all(len(item.output.encode()) <= 255 for item in items)
    assert (
        batching.read_items(jsonl(tmp_path / "ok.jsonl", [{"text": "x", "output": "é" * 125 + ".wav"}]))[0].output
        == "é" * 125 + ".wav"
    )  # 254 bytes: allowed


def test_a_cell_over_the_csv_limit_fails_its_row_only(tmp_path: Path) -> None:
    """Reproduction: a CSV cell over csv's 128 KiB field limit raised csv.Error and ended the whole run.
    Now the row fails with the reason and csv's process-wide limit is left as it was."""
    limit = csv.field_size_limit()
    big = "w" * (200 * 1024)
    path = tmp_path / "list.csv"
    path.write_text(f'text,output\nfirst,a\n"{big}",b\nthird,c\n"quoted\nacross lines",d\n', encoding="utf-8")
    items = batching.read_items(path)
    assert [(i.output, i.line) for i in items if i.problem is None] == [("a.wav", 2), ("c.wav", 4), ("d.wav", 6)]
    assert items[1].problem == "text is 204,800 characters, over the limit of 131,072" and items[1].line == 3
    assert csv.field_size_limit() == limit
    tsv = tmp_path / "list.tsv"
    tsv.write_text(f"text\tspeaker\nfine\t\nx\t{big}\n", encoding="utf-8")
    assert [i.problem is None for i in batching.read_items(tsv)] == [True, False]


def test_unexpected_errors_while_parsing_fail_the_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only our InputErrors: any exception from one row (here, a bug in the format lookup) fails that
    row, named with its type."""

    def broken(destination: str, fmt: str | None = None) -> str:
        if fmt == "ogg":
            raise RuntimeError("a bug\nover two lines")
        return "wav"

    monkeypatch.setattr(batching.listing.audio_io, "audio_format_for", broken)
    items = batching.read_items(jsonl(tmp_path / "l.jsonl", [{"text": "a", "format": "ogg"}, {"text": "b"}]))
    assert items[0].problem == "cannot use this item (RuntimeError: a bug over two lines)"
    assert items[1].problem is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"text\n" + b"\0" * 10, "binary data (a NUL byte), not a text list"),
        (b'"text",text\nx,y\n', "column 'text' given twice"),
    ],
)
def test_lists_that_are_no_list_fail_up_front(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(message)):
        batching.read_items(path)


def test_too_many_items_fail_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "list.txt"
    path.write_text("x\n" * (batching.MAX_ITEMS + 1), encoding="utf-8")
    with pytest.raises(InputError, match="more than 100,000 items"):
        batching.read_items(path)
    monkeypatch.setattr(batching.listing, "MAX_ITEMS", 3)  # the bound itself is allowed (read there)
    path.write_text("x\n" * 3, encoding="utf-8")
    assert len(batching.read_items(path)) == 3
    path.write_text("x\n" * 4, encoding="utf-8")
    with pytest.raises(InputError, match="more than 3 items"):
        batching.read_items(path)


# ---------------------------------------------------------------------------------- unbounded lists

MEASURE_READ = """
import resource, sys, time
from pathlib import Path
from openvoice_tt import batch
from openvoice_tt.errors import InputError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
try:
    batch.read_items(Path(sys.argv[1]), "txt")
except InputError as e:
    print(e)
print(time.monotonic() - start, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


@pytest.mark.parametrize("source", ["/dev/zero", "sparse"])
def test_an_endless_or_huge_list_is_refused_in_bounded_memory_and_time(tmp_path: Path, source: str) -> None:
    """Reproduction: `batch /dev/zero` grew to 20 GB. The list is read up to MAX_LIST_BYTES and refused;
    the child's peak memory grows by at most twice that (the bytes read, plus slack)."""
    path = Path(source)
    if source == "sparse":
        path = tmp_path / "huge.txt"
        with open(path, "wb") as fh:
            fh.truncate(8 * 2**30)  # 8 GiB that take no disk
    done = child(MEASURE_READ, str(path))
    message, numbers = done.stdout.splitlines()
    seconds, grown = map(float, numbers.split())
    assert message == f"{path}: list file over 16 MiB (split the list)", done.stderr
    assert seconds < 10 and grown < 2 * batching.MAX_LIST_BYTES, (seconds, grown)


def test_cli_refuses_dev_zero_with_exit_3(tmp_path: Path) -> None:
    result = run_batch("/dev/zero", "--input-format", "txt", "-o", tmp_path / "out", "--json")
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["error"] == "/dev/zero: list file over 16 MiB (split the list)"


SLOW_LIST = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from openvoice_tt.cli import main
sys.argv = ["openvoice-tt", "batch", sys.argv[1], "--input-format", "txt", "-o", sys.argv[2]]
main()
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_reading_a_list_that_never_ends(tmp_path: Path, signum: int, code: int) -> None:
    """A list from a pipe whose writer never finishes: the read blocks, and Ctrl-C or SIGTERM still ends
    the command at once with its exit code."""
    fifo = tmp_path / "list.fifo"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-c", SLOW_LIST, str(fifo), str(tmp_path / "out")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    writer = -1
    deadline = time.monotonic() + 60
    while writer < 0 and process.poll() is None and time.monotonic() < deadline:
        try:  # succeeds once the child has opened the pipe to read it (it then runs the command)
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            time.sleep(0.05)
    assert writer >= 0, process.communicate(timeout=60)
    try:
        os.write(writer, b"A first line.\n")
        time.sleep(0.5)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        os.close(writer)
    assert process.returncode == code, stderr.decode()
    assert b"Traceback" not in stderr


# ----------------------------------------------------------------------------------- running batches


def test_odd_items_fail_alone_and_the_rest_are_written(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reproduction: an output name with a NUL or over 255 bytes, or a 128 KiB cell, ended the run with no
    summary or report. Now each fails alone, as does an item whose synthesis raises something that is no
    OpenVoiceError, and the rest are written and reported."""
    speak = batching.Engine.speak

    def explode_on_cue(self: batching.Engine, item: batching.Item, *args: object, **kwargs: object) -> object:
        if item.text == "Explode.":
            raise ValueError("an unexpected failure")
        return speak(self, item, *args, **kwargs)

    monkeypatch.setattr(batching.Engine, "speak", explode_on_cue)
    longest = "n" * 251 + ".wav"  # 255 bytes: its temporary file's name is cut short, not refused
    rows: list[dict[str, object] | str] = [
        {"text": "One.", "output": "one"},
        {"text": "x", "output": "bad\0name.wav"},
        {"text": "x", "output": "n" * 300},
        {"text": "y" * 200_000, "output": "huge"},
        '{"text": "lone \\udc80", "output": "lone"}',
        {"text": "Explode.", "output": "boom"},
        {"text": "Two.", "output": longest},
        {"text": "Three.", "output": "three.flac"},
    ]
    out, report = tmp_path / "out", tmp_path / "report.json"
    listing = jsonl(tmp_path / "list.jsonl", rows)
    result = run_batch(listing, "-o", out, "--report", report, "-c", tiny_checkpoints, "-d", "cpu", "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data == json.loads(result.stdout)
    assert data["counts"] == {"done": 3, "skipped": 0, "failed": 5, "not run": 0}
    got = {item["index"]: (item["status"], item["error"]) for item in data["items"]}
    assert got[1] == got[7] == got[8] == ("done", None)
    assert "NUL character" in got[2][1] and "304 bytes" in got[3][1] and "200,000 characters" in got[4][1]
    assert "lone surrogate" in got[5][1] and data["items"][4]["text"] == "lone \\udc80"
    assert got[6] == ("failed", "ValueError: an unexpected failure")
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        ["one.wav", longest, "three.flac"]
    )
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []
    assert sf.info(out / longest).frames > 0


@pytest.mark.filterwarnings("ignore:no BERT model")  # the tiny checkpoints have none
def test_outputs_never_replace_an_input_the_record_or_the_report(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """Reproduction: `--report out/x.wav` with an item writing x.wav: the item said done and the file held
    the report. An output that is the report, the list, the lexicon, the record or another item's
    embedding file fails alone; the inputs keep their bytes and the report is written."""
    out = tmp_path / "out"
    out.mkdir()
    voice = out / "voice.pth"
    save_tone_color_embedding(torch.randn(1, 256, 1), voice)
    lexicon = out / "words.wav"  # odd names, so that an item's output can hit them
    lexicon.write_text("hello  HH AH0 L OW1\n", encoding="utf-8")
    listing = out / "list.wav"
    report = out / "report.wav"
    jsonl(
        listing,
        [
            {"text": "Hello.", "se": str(voice), "output": "cloned"},
            {"text": "Hello.", "output": "voice.wav"},  # a .wav next to voice.pth: fine
            {"text": "Hello.", "output": "report"},
            {"text": "Hello.", "output": "list"},
            {"text": "Hello.", "output": "words"},
            {"text": "Hello.", "output": "fine.wav"},
        ],
    )
    os.symlink(voice, out / "link.wav")
    with listing.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "Hello.", "output": "link.wav"}) + "\n")
    before = {p: p.read_bytes() for p in (voice, lexicon, listing)}
    items = batching.read_items(listing, "jsonl")
    engine = batching.Engine(tiny_checkpoints, "cpu", lexicon=load_lexicon(lexicon))
    result = batching.run_batch(items, out, engine, batching.Options(seed=0), report=report)
    errors = {o.item.output: o.error for o in result.outcomes}
    assert [o.status for o in result.outcomes] == ["done", "done", "failed", "failed", "failed", "done", "failed"]
    assert errors["report.wav"].startswith("output 'report.wav' would replace the --report file")
    assert errors["list.wav"].startswith("output 'list.wav' would replace the list file")
    assert errors["words.wav"].startswith("output 'words.wav' would replace the lexicon")
    assert errors["link.wav"].startswith("output 'link.wav' would replace the embedding file of item 1")
    assert {p: p.read_bytes() for p in before} == before and not report.exists()
    for bad in (listing, voice, lexicon, out / batching.MANIFEST):
        with pytest.raises(OutputError, match="refusing to replace it"):
            batching.run_batch(items, out, engine, batching.Options(seed=0), report=bad)
    assert {p: p.read_bytes() for p in before} == before
    (out / batching.MANIFEST).unlink()
    (out / batching.MANIFEST).symlink_to(listing)  # the record's writes would go to the list
    with pytest.raises(OutputError, match="the record of finished items is the list file; refusing"):
        batching.run_batch(items, out, engine, batching.Options(seed=0))
    assert {p: p.read_bytes() for p in before} == before


def test_an_output_replacing_an_input_fails_through_the_cli(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """Through the command: item 1 would write `out/ref.wav`, the recording item 2 clones, item 4 the list
    file itself and item 5 a FIFO nobody reads; they fail, the files are untouched, item 3 is written."""
    out = tmp_path / "out"
    out.mkdir()
    recording = out / "ref.wav"
    sf.write(recording, np.zeros(22_050, dtype=np.float32), 22_050)
    before = recording.read_bytes()
    listing = jsonl(
        out / "list.wav",
        [
            {"text": "A.", "output": "ref.wav"},
            {"text": "B.", "reference": str(recording)},
            {"text": "C."},
            {"text": "D.", "output": "list"},
            {"text": "E.", "output": "pipe"},  # a FIFO without a reader: writing it would hang the batch
        ],
    )
    os.mkfifo(out / "pipe.wav")
    listed = listing.read_bytes()
    result = run_batch(listing, "--input-format", "jsonl", "-o", out, "-c", tiny_checkpoints, "-d", "cpu", "--json")
    report = json.loads(result.stdout)
    assert report["items"][0]["error"] == (
        f"output 'ref.wav' would replace a reference of item 2 ({recording}); choose another name"
    )
    assert report["items"][3]["error"].startswith("output 'list.wav' would replace the list file")
    assert report["items"][2]["status"] == "done"  # item 2 fails too: its recording is silence
    assert report["items"][4]["error"] == "output 'pipe.wav' exists and is no regular file (a pipe, device or socket)"
    assert recording.read_bytes() == before and listing.read_bytes() == listed


def test_the_report_is_never_an_items_output_and_names_are_shown_as_written(
    tiny_checkpoints: Path, tmp_path: Path
) -> None:
    """Through the command: an item whose output is the --report file fails (the report is the report,
    not the item's audio), and output names that look like rich markup (`[red]`) are shown as written
    in the table instead of crashing it after the report was written."""
    out = tmp_path / "out"
    listing = jsonl(
        tmp_path / "list.jsonl", [{"text": "A.", "output": "report.json"}, {"text": "B.", "output": "[red]x"}]
    )
    report = out / "report.json"
    result = run_batch(listing, "-o", out, "-c", tiny_checkpoints, "-d", "cpu", "--report", report)
    assert result.exit_code == 1, result.output  # one item failed, the run finished
    assert "Traceback" not in result.output and "[red]x.wav" in result.output
    written = json.loads(report.read_text())
    assert written["items"][0]["status"] == "failed" and "report" in written["items"][0]["error"]
    assert written["items"][1]["status"] == "done" and sf.info(out / "[red]x.wav").frames > 0


# ------------------------------------------------------------------------------------------- resume


def resume_setup(tmp_path: Path, tiny_checkpoints: Path) -> tuple[Path, Path, Path, Path, Path]:
    """Own copies of everything a resume test changes: checkpoints, an embedding file, a lexicon, a list."""
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(tiny_checkpoints, checkpoints)
    se = tmp_path / "voice.pth"
    save_tone_color_embedding(torch.randn(1, 256, 1, generator=torch.Generator().manual_seed(1)), se)
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("hello  HH AH0 L OW1\n", encoding="utf-8")
    listing = jsonl(
        tmp_path / "list.jsonl",
        [{"text": "Hello there.", "output": "a"}, {"text": "Hello again.", "se": "voice.pth", "output": "b"}],
    )
    return checkpoints, se, lexicon, listing, tmp_path / "out"


def resumed(listing: Path, out: Path, checkpoints: Path, lexicon: Path, *extra: object) -> dict[str, tuple]:
    result = run_batch(listing, "-o", out, "-c", checkpoints, "-d", "cpu", "--lexicon", lexicon, "--json", *extra)
    assert result.exit_code == 0, result.output
    return statuses(json.loads(result.stdout))


def recorded(out: Path) -> dict[str, dict[str, object]]:
    """The record's latest line per output."""
    lines = [json.loads(line) for line in (out / batching.MANIFEST).read_text().splitlines() if line]
    assert lines[0] == {"format": 2}
    return {line["output"]: line["record"] for line in lines if "output" in line}


def test_resume_redoes_exactly_what_changed_and_says_why(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """Reproduction: --resume skipped items whose embedding file, lexicon or checkpoint weights had changed
    (the record hashed text, paths and options only). Each change redoes the items it touches, no other,
    with the reason in the report and the record."""
    checkpoints, se, lexicon, listing, out = resume_setup(tmp_path, tiny_checkpoints)
    assert resumed(listing, out, checkpoints, lexicon) == {"a.wav": ("done", None), "b.wav": ("done", None)}
    same = ("skipped", None)
    assert resumed(listing, out, checkpoints, lexicon, "--resume") == {"a.wav": same, "b.wav": same}

    save_tone_color_embedding(torch.randn(1, 256, 1, generator=torch.Generator().manual_seed(2)), se)
    assert resumed(listing, out, checkpoints, lexicon, "--resume") == {
        "a.wav": same,
        "b.wav": ("done", "embedding file content changed"),
    }
    assert recorded(out)["b.wav"]["redone"] == "embedding file content changed"

    converter = checkpoints / "converter" / "checkpoint.pth"
    state = torch.load(converter, weights_only=True)
    name = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][name] = state["model"][name] + 0.01
    torch.save(state, converter)  # only the converter: synth items keep theirs
    assert resumed(listing, out, checkpoints, lexicon, "--resume") == {
        "a.wav": same,
        "b.wav": ("done", "checkpoint files changed"),
    }

    with lexicon.open("a", encoding="utf-8") as fh:
        fh.write("again  AH0 G EH1 N\n")
    assert resumed(listing, out, checkpoints, lexicon, "--resume") == {
        "a.wav": ("done", "lexicon changed"),
        "b.wav": ("done", "lexicon changed"),
    }
    assert resumed(listing, out, checkpoints, lexicon, "--resume", "--seed", "5") == {
        "a.wav": ("done", "options changed"),
        "b.wav": ("done", "options changed"),
    }
    jsonl(
        listing, [{"text": "Hello there!", "output": "a"}, {"text": "Hello again.", "se": "voice.pth", "output": "b"}]
    )
    assert resumed(listing, out, checkpoints, lexicon, "--resume", "--seed", "5") == {
        "a.wav": ("done", "text changed"),
        "b.wav": same,
    }


def test_resume_sees_a_checkpoint_rewritten_with_its_size_and_mtime_kept(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash cache (size, mtime, ctime, inode) spares reading unchanged checkpoints again, yet a file
    rewritten in place with its size and mtime put back (rsync -t, touch -r) is noticed: ctime moved."""
    checkpoints, _, lexicon, listing, out = resume_setup(tmp_path, tiny_checkpoints)
    assert resumed(listing, out, checkpoints, lexicon)["a.wav"] == ("done", None)
    from openvoice_tt import checkpoints as checkpoint_files

    read: list[Path] = []
    real = checkpoint_files.file_sha256
    monkeypatch.setattr(checkpoint_files, "file_sha256", lambda path: read.append(path) or real(path))
    assert resumed(listing, out, checkpoints, lexicon, "--resume")["a.wav"] == ("skipped", None)
    assert [p for p in read if checkpoints in p.parents] == []  # all from the cache

    config = checkpoints / "melotts-english" / "config.json"
    info = config.stat()
    text = config.read_text()
    config.write_text(text.replace(" ", "\t", 1) if " " in text else text + " ")
    assert config.stat().st_size == info.st_size
    os.utime(config, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert resumed(listing, out, checkpoints, lexicon, "--resume")["a.wav"] == ("done", "checkpoint files changed")


def test_resume_redoes_an_item_whose_reference_recording_changed(
    tiny_checkpoints: Path, tmp_path: Path, voice: Path
) -> None:
    """Same path, other content: the item cloning it is redone, the one cloning another recording not."""
    mine, other = tmp_path / "mine.wav", tmp_path / "other.wav"
    shutil.copy(voice, mine)
    shutil.copy(voice, other)
    listing = jsonl(
        tmp_path / "list.jsonl",
        [
            {"text": "Hello there.", "reference": "mine.wav", "output": "a"},
            {"text": "Hello there.", "reference": "other.wav", "output": "b"},
            {"text": "Hello there.", "output": "c"},
        ],
    )
    out = tmp_path / "out"
    args = (listing, "-o", out, "-c", tiny_checkpoints, "-d", "cpu", "--json")
    assert run_batch(*args).exit_code == 0
    audio, rate = sf.read(voice, dtype="float32")
    sf.write(mine, audio * 0.5, rate)
    result = run_batch(*args, "--resume")
    assert statuses(json.loads(result.stdout)) == {
        "a.wav": ("done", "reference content changed"),
        "b.wav": ("skipped", None),
        "c.wav": ("skipped", None),
    }


def test_an_old_or_damaged_record_redoes_everything_and_says_so(tiny_checkpoints: Path, tmp_path: Path) -> None:
    checkpoints, _, lexicon, listing, out = resume_setup(tmp_path, tiny_checkpoints)
    resumed(listing, out, checkpoints, lexicon)
    old = {"a.wav": {"item": "0" * 64, "bytes": 1, "sha256": "0" * 64}}  # the format before fingerprints
    (out / batching.MANIFEST).write_text(json.dumps(old))
    why = f"the record {batching.MANIFEST} is from an older openvoice-tt (no fingerprint of the inputs)"
    assert resumed(listing, out, checkpoints, lexicon, "--resume") == {"a.wav": ("done", why), "b.wav": ("done", why)}
    (out / batching.MANIFEST).write_text("{not json")
    why = f"the record {batching.MANIFEST} is unreadable"
    assert resumed(listing, out, checkpoints, lexicon, "--resume") == {"a.wav": ("done", why), "b.wav": ("done", why)}
    (out / "b.wav").write_bytes(b"tampered")
    assert resumed(listing, out, checkpoints, lexicon, "--resume") == {
        "a.wav": ("skipped", None),
        "b.wav": ("done", "output file changed since it was written"),
    }


def test_the_record_is_rewritten_once_per_run_and_survives_a_cut_line(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record was rewritten whole after every item (quadratic in the items of a run); now the first
    finished item rewrites it and the others append a line each. A crash that cuts the last line costs
    that one item, made again on --resume; the lines before it still count."""
    out = tmp_path / "out"
    listing = tmp_path / "list.txt"
    listing.write_text("One.\nTwo.\nThree.\n", encoding="utf-8")
    args = (listing, "-o", out, "-c", tiny_checkpoints, "-d", "cpu", "--json")
    rewrites: list[Path] = []
    write_file = batching.record.write_file  # patched where the record looks it up

    def counted(path: Path, data: bytes) -> None:
        rewrites.append(path)
        write_file(path, data)

    monkeypatch.setattr(batching.record, "write_file", counted)
    assert run_batch(*args).exit_code == 0
    assert rewrites == [out / batching.MANIFEST] and set(recorded(out)) == {"0001.wav", "0002.wav", "0003.wav"}
    record = (out / batching.MANIFEST).read_bytes()
    (out / batching.MANIFEST).write_bytes(record[: record.rindex(b'"output"') + 12])  # the last line cut short
    assert statuses(json.loads(run_batch(*args, "--resume").stdout)) == {
        "0001.wav": ("skipped", None),
        "0002.wav": ("skipped", None),
        "0003.wav": ("done", "the file there is not in the record"),
    }
    assert set(recorded(out)) == {"0001.wav", "0002.wav", "0003.wav"}


@pytest.mark.filterwarnings("ignore:no BERT model")  # the tiny checkpoints have none
def test_an_in_memory_lexicon_is_never_taken_as_unchanged(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """A Lexicon made in Python has no file whose content could be compared: --resume makes its items
    again (saying so) rather than trusting a record made with another lexicon."""
    from openvoice_tt.text.lexicon import Lexicon

    out = tmp_path / "out"
    out.mkdir()
    items = batching.read_items(jsonl(tmp_path / "list.jsonl", [{"text": "Hello."}]))
    for words, why in (("hello  HH AH0 L OW1", None), ("hello  HH EH1 L OW0", "lexicon changed")):
        engine = batching.Engine(tiny_checkpoints, "cpu", lexicon=Lexicon.parse(words))
        result = batching.run_batch(items, out, engine, batching.Options(seed=0), resume=True)
        assert [(o.status, o.redone) for o in result.outcomes] == [("done", why)]
