"""Issue 23, bounded and honest reading of inputs: text (argv, stdin), --lexicon, references, --se.

Each case is replayed as a user meets it, in a subprocess where a signal, the time or the memory is measured:
an endless input is refused at its documented bound with exit 3 in seconds and with a peak RSS far below
what reading it whole would take, SIGTERM/SIGINT stop a read of a pipe that never ends (143/130), bytes that
are not UTF-8 are named by offset instead of dropped, and nothing prints a traceback.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from openvoice_tt import api
from openvoice_tt.api.validation import MAX_TEXT_CHARS
from openvoice_tt.audio import MAX_REFERENCE_SECONDS
from openvoice_tt.errors import CheckpointError, LexiconError, TextError
from openvoice_tt.text.lexicon import MAX_ENTRIES, MAX_LEXICON_BYTES, MAX_PHONES, Lexicon

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": "1"}
CLI = [sys.executable, "-m", "openvoice_tt"]
# The CLI before any model loads is about 60 MiB (Python, numpy, the front end); the bounded buffers add at
# most MAX_LEXICON_BYTES (8 MiB) or MAX_TEXT_CHARS bytes (1 MiB) and their decoded copies. Reading /dev/zero
# whole reached 20 GB in 35 s before.
PEAK_RSS_MIB = 60 + 4 * MAX_LEXICON_BYTES // 2**20 + 100  # margin for other Pythons and allocators
SECONDS = 120
READ_SYSCALL = {"x86_64": "0", "aarch64": "63"}  # read(2)'s number

MEASURED = """
import resource, subprocess, sys, time, json
start = time.monotonic()
with open(sys.argv[1], "rb") as stdin:
    done = subprocess.run(sys.argv[2:], stdin=stdin, capture_output=True, timeout=TIMEOUT)
print(json.dumps({"rc": done.returncode, "out": done.stdout.decode("utf-8", "replace"),
                  "err": done.stderr.decode("utf-8", "replace"), "seconds": time.monotonic() - start,
                  "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
""".replace("TIMEOUT", str(SECONDS))


def measured(args: list[object], stdin: str = os.devnull) -> dict:
    """Run the CLI under a fresh parent process whose only child it is, so RUSAGE_CHILDREN's peak RSS is
    this command's alone."""
    command = [sys.executable, "-c", MEASURED, stdin, *CLI, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=SECONDS + 60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "Traceback" not in result["out"] + result["err"], result["err"]
    return result


def refused(result: dict, message: str, code: int = 3) -> None:
    assert result["rc"] == code, result
    lines = result["err"].splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result["err"]


def cli(args: list[object], data: bytes = b"", timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run([*CLI, *map(str, args)], input=data, capture_output=True, env=ENV, timeout=timeout)
    assert b"Traceback" not in done.stdout + done.stderr, done.stderr
    return done


# ------------------------------------------------------------------------------------- endless inputs


@pytest.mark.parametrize("command", ["synth", "phonemes"])
def test_endless_stdin_is_refused_at_the_bound(command: str, tmp_path: Path) -> None:
    """`synth - < /dev/zero` reached 20 GB in 35 s; now exit 3 at MAX_TEXT_CHARS bytes, memory bounded."""
    args = [command, "-", *(["-o", tmp_path / "out.wav"] if command == "synth" else [])]
    result = measured(args, stdin="/dev/zero")
    refused(result, f"stdin: over {MAX_TEXT_CHARS // 2**20} MiB of text (the limit")
    assert result["seconds"] < SECONDS and result["peak_mib"] < PEAK_RSS_MIB, result
    assert not (tmp_path / "out.wav").exists()


def test_endless_lexicon_is_refused_fast(tmp_path: Path) -> None:
    result = measured(["phonemes", "Hello.", "--lexicon", "/dev/zero"])
    refused(result, f"lexicon /dev/zero: over {MAX_LEXICON_BYTES // 2**20} MiB (the limit)")
    assert result["seconds"] < SECONDS and result["peak_mib"] < PEAK_RSS_MIB, result


def test_an_entry_of_ten_thousand_phones_is_refused_fast(tmp_path: Path) -> None:
    """It ran for minutes at ~1 GB: memory was no longer bounded by the text's length."""
    lexicon = tmp_path / "long.txt"
    lexicon.write_text("hello  HH AH0 L OW1\nab " + " ".join(["AH0"] * 10_000) + "\n", encoding="utf-8")
    result = measured(["phonemes", "ab", "--lexicon", lexicon])
    refused(result, f"lexicon {lexicon}, line 2: 'ab' has 10,000 phones; at most 16 for a word of 2 letters")
    assert result["seconds"] < SECONDS and result["peak_mib"] < PEAK_RSS_MIB, result


def _wait_until_reading_stdin(child: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until the child's main thread sits in read(0, ...) (Linux's /proc/PID/syscall: the call's number, then
    its first argument, fd 0), so the signal lands in the read under test, not in the imports before it,
    however busy the machine (a fixed 8 s sleep assumed the imports' time)."""
    number = READ_SYSCALL.get(platform.machine())
    syscall = Path(f"/proc/{child.pid}/syscall")
    if number is None or not syscall.exists():
        time.sleep(8)  # elsewhere: the imports' usual time
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert child.poll() is None, "the CLI ended before reading stdin"
        if syscall.read_text().split()[:2] == [number, "0x0"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"the CLI was not reading stdin after {timeout:.0f} s")


@pytest.mark.parametrize(
    ("signum", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_stops_a_read_of_a_pipe_that_never_ends(signum: int, code: int, word: str) -> None:
    """stdin is a pipe whose writer never closes it; only SIGKILL stopped such a read before."""
    # SIGINT as a terminal delivers it: a suite started as a background job (`cmd &` in a script) hands its
    # children SIGINT ignored, and Python then keeps it ignored (as it should); the CLI's own handling is what
    # is under test, so the child starts with SIGINT's default disposition.
    child = subprocess.Popen(
        [*CLI, "phonemes", "-"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert child.stdin is not None
        child.stdin.write(b"Hello there, ")
        child.stdin.flush()
        _wait_until_reading_stdin(child)
        start = time.monotonic()
        child.send_signal(signum)
        _, err = child.communicate(timeout=30)
        assert time.monotonic() - start < 30
    finally:
        child.kill()
    assert (child.returncode, err.decode()) == (code, f"error: {word}\n")


# -------------------------------------------------------------------------------------- not UTF-8


@pytest.mark.parametrize("command", ["synth", "phonemes"])
def test_invalid_utf8_in_stdin_or_argv_is_named_not_dropped(command: str, tmp_path: Path) -> None:
    """Such bytes were dropped silently (exit 0) where stdin or argv was surrogate-escaped."""
    output = ["-o", tmp_path / "out.wav"] if command == "synth" else []
    for env in (ENV, {**ENV, "LC_ALL": "C"}):
        done = subprocess.run(
            [*CLI, command, "-", *map(str, output)],
            input=b"Hello \xe9t\xe9.",
            capture_output=True,
            env=env,
            timeout=300,
        )
        assert (done.returncode, done.stderr) == (3, b"error: stdin: not UTF-8 text (byte 0xe9 at byte offset 6)\n")
        argv = [*CLI, command, os.fsdecode(b"Hello \xe9t\xe9."), *map(str, output)]
        done = subprocess.run(argv, capture_output=True, env=env, timeout=300)
        assert (done.returncode, done.stderr) == (3, b"error: TEXT is not valid UTF-8 (byte 0xe9 at byte offset 6)\n")
    assert not (tmp_path / "out.wav").exists()


def test_a_bom_on_stdin_is_not_text() -> None:
    done = cli(["phonemes", "-"], "\ufeffHello.".encode())
    assert done.returncode == 0 and b"hello" in done.stdout


def test_the_api_bounds_text_and_refuses_lone_surrogates() -> None:
    with pytest.raises(TextError, match=r"^text is over 1,048,576 characters \(the limit"):
        api.check_text("a " * (MAX_TEXT_CHARS // 2 + 1))
    with pytest.raises(TextError, match=r"^text is over 1,048,576 characters \(the limit"):
        api.phonemes("a" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(TextError, match=r"^text is not valid UTF-8 \(byte 0xff at byte offset 4\)$"):
        api.check_text("hé \udcff")
    with pytest.raises(TextError, match=r"^text is not valid UTF-8 \(a lone surrogate at byte offset 0\)$"):
        api.phonemes("\ud800 hello")


# ------------------------------------------------------------------------------------------ lexicon


def test_lexicon_bounds_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "lex.txt"
    path.write_bytes("\ufeffsiobhan  SH IH0 V AO1 N\n".encode())
    assert Lexicon.load(path).get("Siobhan") == ("SH", "IH0", "V", "AO1", "N")
    path.write_text("w  D AH1 B AH0 L Y UW0\n" + "a" * 50 + " " + " ".join(["AH0"] * (MAX_PHONES + 1)) + "\n")
    with pytest.raises(LexiconError, match=rf", line 2: .* has {MAX_PHONES + 1} phones; at most {MAX_PHONES} "):
        Lexicon.load(path)
    path.write_text("a" * 101 + "  AH0\n")
    with pytest.raises(LexiconError, match=r", line 1: a word of 101 characters \(at most 100"):
        Lexicon.load(path)
    path.write_bytes(b"hello  HH AH0 L OW1\nzo\x00  Z OW1\n")
    with pytest.raises(LexiconError, match=r", line 2: binary data \(a NUL byte\)"):
        Lexicon.load(path)

    def word(i: int) -> str:
        letters = ""
        while True:
            i, r = divmod(i, 26)
            letters += chr(97 + r)
            if not i:
                return letters

    path.write_text("".join(f"{word(i)} AH0\n" for i in range(MAX_ENTRIES + 1)))
    with pytest.raises(LexiconError, match=rf", line {MAX_ENTRIES + 1}: more than {MAX_ENTRIES:,} words \(the limit\)"):
        Lexicon.load(path)


# ----------------------------------------------------------------------------------- references, --se


def test_a_fifo_or_device_reference_is_refused_not_hung(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """A FIFO with a writer hung (it was opened twice: header check, then decoding)."""
    fifo = tmp_path / "ref.wav"
    os.mkfifo(fifo)
    held = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer that never finishes
    try:
        for reference in (fifo, Path("/dev/zero")):
            start = time.monotonic()
            done = cli(
                ["clone", "Hi.", "-r", reference, "-o", tmp_path / "out.wav", "-c", tiny_checkpoints], timeout=120
            )
            assert time.monotonic() - start < 120
            message = f"error: {reference}: not a regular file (a pipe or device); give an audio file\n"
            assert (done.returncode, done.stderr.decode()) == (3, message)
    finally:
        os.close(held)


def test_a_reference_longer_than_the_limit_is_refused_from_its_header(tiny_checkpoints: Path, tmp_path: Path) -> None:
    long = tmp_path / "long.flac"
    rate = 8000
    sf.write(long, np.zeros(int(rate * (MAX_REFERENCE_SECONDS + 1)), dtype=np.int16), rate)
    done = cli(["clone", "Hi.", "-r", long, "-o", tmp_path / "out.wav", "-c", tiny_checkpoints])
    message = f"error: {long}: decodes to more than {MAX_REFERENCE_SECONDS:g} s of audio (the limit; cut it shorter)\n"
    assert (done.returncode, done.stderr.decode()) == (3, message)


def test_voice_messages(tiny_checkpoints: Path, tmp_path: Path, voice: Path) -> None:
    """`--se ref.wav` said 'pop from empty list'; clone with no voice said 'not both'."""
    out = tmp_path / "out.wav"
    done = cli(["clone", "Hi.", "--se", voice, "-o", out, "-c", tiny_checkpoints])
    expected = f"{voice}: is not a tone-color embedding (a .pth saved by extract-se); for a recording use --reference"
    assert (done.returncode, done.stderr.decode()) == (4, f"error: {expected}\n")
    done = cli(["clone", "Hi.", "-o", out, "-c", tiny_checkpoints])
    assert done.returncode == 2
    assert done.stderr.decode().startswith("error: Invalid value for --reference/--se: give --reference (a recording")
    assert "not both" not in done.stderr.decode()
    with pytest.raises(CheckpointError, match=r"^/dev/zero: not a regular file, so not a tone-color embedding"):
        api.load_se("/dev/zero")
