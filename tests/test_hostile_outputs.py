"""Outputs that destroyed inputs, widened access, crashed or misreported (issue 23, outputs slice), each
replayed as a real process on the tiny checkpoints: an output that is one of the command's inputs,
replacing a 0600/0640 file, a 300-character name, `/dev/stdout` and `/dev/null`, stdout closed, and a
reader that closes the pipe early. Each ends in one `error:` line with the README's exit code (5), or in a
correct write; inputs and modes stay as they were."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from openvoice_tt import outputs
from openvoice_tt.errors import OutputError

pytestmark = pytest.mark.usefixtures("tool_environment")
REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 300  # seconds per command; the tiny models take a few
BROKEN = "error: stdout: output closed early (broken pipe)"


def environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    env["OPENVOICE_TT_SE_CACHE"] = str(tmp_path / "se-cache")
    return env


def cli(tmp_path: Path, *args: object, **popen: object) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-m", "openvoice_tt", *map(str, args)]
    popen.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        argv, stderr=subprocess.PIPE, env=environment(tmp_path), cwd=tmp_path, timeout=TIMEOUT, **popen
    )


def one_error(done: subprocess.CompletedProcess[bytes], code: int) -> str:
    """Exit `code`, no traceback nor "Exception ignored" noise, exactly one `error:` line; returns it."""
    stderr = done.stderr.decode()
    assert done.returncode == code, (done.returncode, stderr)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


def synth(checkpoints: Path, *more: object) -> list[object]:
    return ["synth", "Hello there.", "-c", checkpoints, "-d", "cpu", *more]


@pytest.fixture
def recording(tiny_checkpoints: Path, tmp_path: Path) -> Path:
    """A short WAV made by the tiny synthesizer (the inputs below must be real audio)."""
    path = tmp_path / "me.wav"
    assert cli(tmp_path, *synth(tiny_checkpoints, "-o", path)).returncode == 0
    return path


# --------------------------------------------------------------------- an output that is one of the inputs


def test_an_output_that_is_an_input_is_refused_before_any_model_loads(
    tiny_checkpoints: Path, tmp_path: Path, recording: Path
) -> None:
    before = recording.read_bytes()
    (tmp_path / "link.wav").symlink_to(recording)
    os.link(recording, tmp_path / "hard.wav")
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("tomato t ah0 m ey1 t ow2\n")
    cases = [
        ["extract-se", recording, "-c", tiny_checkpoints, "-d", "cpu", "-o", recording],  # the case
        ["extract-se", recording, "-c", tiny_checkpoints, "-d", "cpu", "-o", tmp_path / "link.wav"],
        ["convert", tmp_path / "hard.wav", "--reference", recording, "-c", tiny_checkpoints, "-o", recording],
        ["clone", "Hi.", "--reference", recording, "-c", tiny_checkpoints, "-o", tmp_path / "hard.wav", "--json"],
        synth(tiny_checkpoints, "--stream", "--lexicon", lexicon, "-o", lexicon, "-f", "wav"),
    ]
    for argv in cases:
        done = cli(tmp_path, *argv)
        error = one_error(done, 5)
        assert "is also an input" in error and "note:" not in done.stderr.decode(), error  # before any model
    assert recording.read_bytes() == before and (tmp_path / "link.wav").is_symlink()
    assert lexicon.read_text() == "tomato t ah0 m ey1 t ow2\n"


def test_check_not_an_input_compares_files_not_spellings(tmp_path: Path) -> None:
    data = tmp_path / "a.wav"
    data.write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    for same in (data, tmp_path / "sub" / ".." / "a.wav"):
        with pytest.raises(OutputError, match="is also an input"):
            outputs.check_not_an_input(same, [None, tmp_path / "b.wav", data])
    outputs.check_not_an_input(tmp_path / "new.wav", [data, None])  # a new file is no input
    outputs.check_not_an_input("-", [data])


# ------------------------------------------------------------------------------- permissions when replacing


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_replacing_a_file_keeps_its_mode_directly_and_through_a_symlink(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "secret.wav"
    target.write_bytes(b"old")
    target.chmod(mode)
    outputs.write_file(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == mode
    link = tmp_path / "link.wav"
    link.symlink_to(target)
    outputs.write_file(link, b"newer")
    assert link.is_symlink() and target.read_bytes() == b"newer"
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_a_new_file_gets_the_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        outputs.write_file(tmp_path / "new.wav", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.wav").stat().st_mode) == 0o640


def test_the_cli_keeps_a_0600_output_0600(tiny_checkpoints: Path, tmp_path: Path) -> None:
    out = tmp_path / "private.wav"
    out.write_bytes(b"old")
    out.chmod(0o600)
    assert cli(tmp_path, *synth(tiny_checkpoints, "-o", out)).returncode == 0
    assert out.read_bytes()[:4] == b"RIFF" and stat.S_IMODE(out.stat().st_mode) == 0o600


# ------------------------------------------------------------------------------------- names, special files


def test_a_name_over_the_file_system_limit_is_one_line_exit_5(tiny_checkpoints: Path, tmp_path: Path) -> None:
    error = one_error(cli(tmp_path, *synth(tiny_checkpoints, "-o", "x" * 300 + ".wav")), 5)
    assert "file name too long" in error


def test_dev_null_and_dev_stdout_need_no_format_and_work_on_a_pipe(tiny_checkpoints: Path, tmp_path: Path) -> None:
    done = cli(tmp_path, *synth(tiny_checkpoints, "-o", "/dev/null"))
    assert done.returncode == 0, done.stderr.decode()
    done = cli(tmp_path, *synth(tiny_checkpoints, "-o", "/dev/stdout"))  # stdout is a pipe here
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout[:4] == b"RIFF" and done.stdout[8:12] == b"WAVE"


# ----------------------------------------------------------------------------- stdout closed or broken


@pytest.mark.parametrize("more", [["-o", "-"], ["-o", "out.wav", "--json"]])
def test_stdout_closed_fails_before_any_work(tiny_checkpoints: Path, tmp_path: Path, more: list[str]) -> None:
    argv = [sys.executable, "-m", "openvoice_tt", *map(str, synth(tiny_checkpoints, *more))]
    shell = 'exec "$@" >&-'  # start the command with fd 1 closed
    env = environment(tmp_path)
    done = subprocess.run(
        ["sh", "-c", shell, "sh", *argv], stderr=subprocess.PIPE, env=env, cwd=tmp_path, timeout=TIMEOUT
    )
    assert one_error(done, 5) == "error: stdout: not open"
    assert "note:" not in done.stderr.decode()  # refused before the model loaded
    assert not (tmp_path / "out.wav").exists()


def closed_early(tmp_path: Path, argv: list[object], read: int = 0) -> subprocess.CompletedProcess[bytes]:
    """Run with stdout a pipe whose reader takes `read` bytes and then closes its end (`| head -c N`)."""
    full = [sys.executable, "-m", "openvoice_tt", *map(str, argv)]
    with subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(tmp_path)) as p:
        assert p.stdout is not None and p.stderr is not None
        if read:
            p.stdout.read(read)
        p.stdout.close()
        stderr = p.stderr.read()
        code = p.wait(timeout=TIMEOUT)
    return subprocess.CompletedProcess(full, code, b"", stderr)


@pytest.mark.parametrize(
    "more, read",
    [
        (["-o", "-"], 0),  # audio to stdout
        (["-o", "-", "--stream"], 10),  # streamed audio, the reader takes 10 bytes (`| head -c 10`)
        (["-o", "out.wav", "--json"], 0),  # the --json result
    ],
)
def test_a_reader_that_leaves_early_is_exit_5_broken_pipe_in_every_mode(
    tiny_checkpoints: Path, tmp_path: Path, more: list[str], read: int
) -> None:
    text = "Hello there. " * 20 if "--stream" in more else "Hello there."
    done = closed_early(tmp_path, ["synth", text, "-c", tiny_checkpoints, "-d", "cpu", *more], read)
    assert one_error(done, 5) == BROKEN


def test_a_table_to_a_reader_that_left_is_the_same_broken_pipe(tiny_checkpoints: Path, tmp_path: Path) -> None:
    done = closed_early(tmp_path, ["speakers", "-c", tiny_checkpoints, "--json"])
    assert one_error(done, 5) == BROKEN
