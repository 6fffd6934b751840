"""The bad-input matrix: every user mistake gives one `error: ...` line on stderr, its documented exit code,
no traceback, and no output file (nor a half-written temporary one).

Exit codes (README): 2 usage, 3 bad input, 4 checkpoint, 5 output, 6 device, 130 interrupted.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from openvoice_tt import api, pipeline
from openvoice_tt.cli import app
from tests.speech import ESPEAK_RATE, synthesize

pytestmark = pytest.mark.usefixtures("tool_environment")


def fails(args: list[object], code: int, message: str, out: Path | None = None) -> str:
    """Run quietly; assert exit `code`, exactly one stderr line `error: ...message...`, nothing on stdout,
    no traceback and nothing written at `out` or next to it."""
    result = CliRunner().invoke(app, [*map(str, args), "-q"])
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert result.stdout == "" and "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    if out is not None:
        assert not out.exists()
        if out.parent.is_dir():
            assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    return lines[0]


# ------------------------------------------------------------------------------------------- references


def bad_references(tmp: Path) -> dict[str, tuple[Path, str]]:
    """Reference files for each way a recording can be unusable, with the expected message."""
    (tmp / "notes.wav").write_text("these are not samples\n")
    (tmp / "empty.wav").write_bytes(b"")
    header = io.BytesIO()
    sf.write(header, np.zeros(1000, np.float32), 22050, format="WAV")
    (tmp / "corrupt.wav").write_bytes(header.getvalue()[:30])
    sf.write(tmp / "no-frames.wav", np.zeros(0, np.float32), 22050)
    sf.write(tmp / "silent.wav", np.zeros(3 * 22050, np.float32), 22050)
    speech = synthesize("Hello there, this is a short clip.")
    sf.write(tmp / "short.wav", speech[int(0.3 * ESPEAK_RATE) : int(0.5 * ESPEAK_RATE)], ESPEAK_RATE)
    (tmp / "folder.wav").mkdir()
    return {
        "missing": (tmp / "missing.wav", "missing.wav: no such file"),
        "unreadable": (tmp / "notes.wav", "notes.wav: not a readable audio file"),
        "folder": (tmp / "folder.wav", "folder.wav: is a directory"),
        "empty": (tmp / "empty.wav", "empty.wav: not a readable audio file"),
        "no frames": (tmp / "no-frames.wav", "no-frames.wav: contains no audio"),
        "corrupt": (tmp / "corrupt.wav", "corrupt.wav: not a readable audio file"),
        "silent": (tmp / "silent.wav", "silent.wav: no speech found"),
        "0.2 s": (tmp / "short.wav", "short.wav: only 0.20 s of speech; need at least 1 s"),
    }


@pytest.mark.parametrize(
    "case", ["missing", "unreadable", "folder", "empty", "no frames", "corrupt", "silent", "0.2 s"]
)
def test_bad_reference(tiny_checkpoints: Path, tmp_path: Path, case: str) -> None:
    reference, message = bad_references(tmp_path)[case]
    common = ["-c", tiny_checkpoints, "-d", "cpu"]
    out = tmp_path / "out.wav"
    fails(["clone", "Hello.", "-r", reference, "-o", out, *common], 3, message, out)
    fails(["extract-se", reference, "-o", tmp_path / "v.pth", *common], 3, message, tmp_path / "v.pth")
    target = tiny_checkpoints / "base_speakers/ses/en-us.pth"
    fails(["convert", reference, "--se", target, "-o", out, *common], 3, message, out)  # the source is read too


def test_short_reference_warns_once_and_works(tiny_checkpoints: Path, tmp_path: Path) -> None:
    short = tmp_path / "short.wav"
    sf.write(short, synthesize("Hello there, this is a short clip."), ESPEAK_RATE)
    result = CliRunner().invoke(
        app, ["extract-se", str(short), "-o", str(tmp_path / "v.pth"), "-c", str(tiny_checkpoints), "-d", "cpu"]
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "s of speech; 5 s or more clones the voice better" in warnings[0]


# ------------------------------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "text has nothing to speak"),
        ("!!! ... ???", "text has nothing to speak"),
        ("😀 🎉", "text has nothing to speak"),
        ("ภาษาไทย 中文", "text has nothing to speak: 'ภาษาไทย 中文' (left out: 'ภาษาไทย', '中', '文')"),
    ],
)
def test_text_with_nothing_to_speak(tiny_checkpoints: Path, tmp_path: Path, voice: Path, text: str, message) -> None:
    out = tmp_path / "out.wav"
    common = ["-o", out, "-c", tiny_checkpoints, "-d", "cpu", "-s", "EN-US"]  # English named: nothing detected
    fails(["synth", text, *common], 3, message, out)
    fails(["clone", text, "-r", voice, *common], 3, message, out)


def test_text_in_a_language_not_installed(tiny_checkpoints: Path, tmp_path: Path, voice: Path, no_models) -> None:
    """No speaker: the text's language is detected, and one that is not installed is named with its
    download (exit 4) before any model loads, rather than English leaving every word out."""
    out = tmp_path / "out.wav"
    message = (
        "the text looks Korean (Hangul script (5 Hangul of 5 CJK characters)), which is not installed: "
        "'openvoice-tt download --languages kr' fetches it"
    )
    for extra in ((), ("--language", "auto")):
        fails(["synth", "안녕하세요", *extra, "-o", out, "-c", tiny_checkpoints, "-d", "cpu"], 4, message, out)
        fails(["clone", "안녕하세요", *extra, "-r", voice, "-o", out, "-c", tiny_checkpoints], 4, message, out)


def test_unknown_speaker_lists_the_valid_ones(tiny_checkpoints: Path, tmp_path: Path, voice: Path, no_models) -> None:
    out = tmp_path / "out.wav"
    message = "unknown speaker 'EN-XX' (choose from EN-US, EN-BR, EN_INDIA, EN-AU, EN-Default)"
    fails(["synth", "Hi.", "-s", "EN-XX", "-o", out, "-c", tiny_checkpoints, "-d", "cpu"], 3, message, out)
    fails(["clone", "Hi.", "-r", voice, "-s", "EN-XX", "-o", out, "-c", tiny_checkpoints, "-d", "cpu"], 3, message)
    target = tiny_checkpoints / "base_speakers/ses/en-us.pth"
    convert = ["convert", voice, "--se", target, "--source-speaker", "EN-XX", "-o", out, "-c", tiny_checkpoints]
    fails(convert, 3, message, out)
    fails(["batch", tmp_path / "none.txt", "-o", tmp_path / "b", "-c", tiny_checkpoints], 3, "none.txt: no such file")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--speed", "0", "speed must be between 0.1 and 10, got 0"),
        ("--speed", "nan", "speed must be a number"),
        ("--sdp-ratio", "1.5", "sdp_ratio must be between 0 and 1"),
        ("--noise-scale", "-1", "noise_scale must be between 0 and 10"),
        ("--seed", "-1", "seed must be an integer from 0"),
        ("--tau", "-0.5", "tau must be between 0 and 10"),
    ],
)
def test_bad_option_values(tiny_checkpoints: Path, tmp_path: Path, voice: Path, option, value, message, no_models):
    out = tmp_path / "out.wav"
    fails(["clone", "Hi.", "-r", voice, option, value, "-o", out, "-c", tiny_checkpoints, "-d", "cpu"], 3, message, out)


def test_input_mistakes_are_found_before_any_model_loads(
    tiny_checkpoints: Path, tmp_path: Path, voice: Path, no_models
) -> None:
    """Reproduction: each of these cost 4-15 s of model loading before its error; `convert` even computed
    the reference embedding before noticing its source was missing. `no_models` fails any model load."""
    out = tmp_path / "out.wav"
    common = ["-o", out, "-c", tiny_checkpoints, "-d", "cpu"]
    missing = tmp_path / "missing.wav"
    (tmp_path / "notes.wav").write_text("not audio")
    target = tiny_checkpoints / "base_speakers/ses/en-us.pth"
    fails(["synth", "", *common], 3, "text has nothing to speak: ''", out)
    fails(["synth", "  \n\t ", *common], 3, "text has nothing to speak", out)
    fails(["clone", "", "-r", voice, *common], 3, "text has nothing to speak", out)
    fails(["synth", "Hi.", "--noise-scale-w", "11", *common], 3, "noise_scale_w must be between 0 and 10", out)
    fails(["clone", "Hi.", "-r", missing, *common], 3, "missing.wav: no such file", out)
    fails(["clone", "Hi.", "-r", voice, "--se", target, *common], 2, "not both")
    fails(["clone", "Hi.", "--se", tmp_path / "notes.wav", *common], 4, "notes.wav: is not a tone-color embedding", out)
    recording = "is not a tone-color embedding (a .pth saved by extract-se); for a recording use --reference"
    fails(["clone", "Hi.", "--se", voice, *common], 4, f"{Path(voice).name}: {recording}", out)
    fails(["convert", missing, "-r", voice, *common], 3, "missing.wav: no such file", out)
    fails(["convert", voice, "-r", tmp_path / "notes.wav", *common], 3, "notes.wav: not a readable audio file")
    fails(["convert", voice, "--se", target, "--tau", "-1", *common], 3, "tau must be between 0 and 10", out)
    fails(["extract-se", voice, missing, "-o", tmp_path / "v.pth", "-c", tiny_checkpoints], 3, "no such file")
    (tmp_path / "lines.txt").write_text("Hello.\n")
    batch = ["batch", tmp_path / "lines.txt", "-o", tmp_path / "b", "-c", tiny_checkpoints]
    fails([*batch, "-s", "EN-XX"], 3, "unknown speaker 'EN-XX'")
    fails([*batch, "--speed", "20"], 3, "speed must be between 0.1 and 10, got 20")


# ------------------------------------------------------------------------------------------ checkpoints


def damaged(tiny_checkpoints: Path, tmp_path: Path, damage: Callable[[Path], None]) -> Path:
    folder = tmp_path / "checkpoints"
    shutil.copytree(tiny_checkpoints, folder)
    damage(folder)
    return folder


def truncate(path: Path) -> None:
    """Keep the first half: an interrupted download."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


CHECKPOINT_DAMAGE = {
    "truncated melotts": (lambda f: truncate(f / "melotts-english/checkpoint.pth"), "checkpoint.pth: not a PyTorch"),
    "truncated converter": (lambda f: truncate(f / "converter/checkpoint.pth"), "checkpoint.pth: not a PyTorch"),
    "config not json": (lambda f: (f / "melotts-english/config.json").write_text("{"), "config.json: not valid JSON"),
    "missing config": (lambda f: (f / "converter/config.json").unlink(), "converter/config.json: not found"),
    "missing speaker embedding": (lambda f: (f / "base_speakers/ses/en-us.pth").unlink(), "en-us.pth: not found"),
    "bad speaker embedding": (
        lambda f: torch.save(torch.zeros(3), f / "base_speakers/ses/en-us.pth"),
        "en-us.pth: not a tone-color embedding",
    ),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_DAMAGE))
def test_damaged_checkpoints(tiny_checkpoints: Path, tmp_path: Path, voice: Path, case: str) -> None:
    damage, message = CHECKPOINT_DAMAGE[case]
    folder = damaged(tiny_checkpoints, tmp_path, damage)
    out = tmp_path / "out.wav"
    fails(["clone", "Hello.", "-r", voice, "-o", out, "-c", folder, "-d", "cpu"], 4, message, out)


def test_missing_checkpoint_folder(tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    message = f"{tmp_path / 'nowhere'}: checkpoint folder not found"
    for command in (["synth", "Hi."], ["extract-se", tmp_path / "x.wav"], ["speakers"]):
        fails([*command, *(["-o", out] if command[0] != "speakers" else []), "-c", tmp_path / "nowhere"], 4, message)


def test_corrupt_se_file(tiny_checkpoints: Path, tmp_path: Path) -> None:
    torch.save(torch.zeros(1, 256, 1), tmp_path / "voice.pth")
    truncate(tmp_path / "voice.pth")
    out = tmp_path / "out.wav"
    args = ["clone", "Hi.", "--se", tmp_path / "voice.pth", "-o", out, "-c", tiny_checkpoints, "-d", "cpu"]
    fails(args, 4, "voice.pth: not a PyTorch checkpoint", out)


# ----------------------------------------------------------------------------------------------- output


@pytest.fixture
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output problems must be found before any model loads (minutes of work would be lost otherwise)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded before the output was checked")

    for cls in (api.TTS, api.ToneColorConverter):
        monkeypatch.setattr(cls, "__init__", refuse)


def test_missing_or_bad_output_directory(tiny_checkpoints: Path, tmp_path: Path, voice: Path, no_models) -> None:
    common = ["-c", tiny_checkpoints, "-d", "cpu"]
    missing = tmp_path / "no-such-dir" / "out.wav"
    fails(["synth", "Hi.", "-o", missing, *common], 5, f"{missing.parent}: directory does not exist", missing)
    (tmp_path / "taken.wav").mkdir()
    fails(["clone", "Hi.", "-r", voice, "-o", tmp_path / "taken.wav", *common], 5, "taken.wav: is a directory")
    (tmp_path / "file").write_text("x")
    fails(["extract-se", voice, "-o", tmp_path / "file" / "v.pth", *common], 5, "file: not a directory")
    fails(["synth", "Hi.", "-o", tmp_path / "out.mp3", *common], 3, "out.mp3: unknown audio extension '.mp3'")


def test_unwritable_output_directory(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_models
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root ignores permission bits: make the kernel's answer for everyone else explicit
        real_open = os.open

        def deny(path: object, *args: object, **kwargs: object) -> int:
            if Path(os.fspath(path)).parent == locked:
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", deny)
    out = locked / "out.wav"
    try:
        fails(["synth", "Hi.", "-o", out, "-c", tiny_checkpoints, "-d", "cpu"], 5, "cannot write here", out)
        fails(["batch", tmp_path / "x.txt", "-o", locked, "-c", tiny_checkpoints], 3, "x.txt: no such file")
        (tmp_path / "x.txt").write_text("Hello.\n")
        fails(["batch", tmp_path / "x.txt", "-o", locked, "-c", tiny_checkpoints], 5, "permission denied")
    finally:
        locked.chmod(0o755)


def test_full_disk_leaves_no_file_and_keeps_the_old_one(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.wav"
    out.write_bytes(b"previous take")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    fails(["synth", "Hello.", "-o", out, "-c", tiny_checkpoints, "-d", "cpu"], 5, f"{out}: disk full")
    assert out.read_bytes() == b"previous take"
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


# --------------------------------------------------------------------------------------- usage, device


def test_usage_errors_exit_2_in_one_line(tiny_checkpoints: Path, tmp_path: Path, voice: Path) -> None:
    """Reproduction: usage errors came in Click's boxed multi-line panel; now one `error:` line like the rest."""
    out = tmp_path / "out.wav"
    cases = {
        "give --reference (a recording of the voice) or --se (an embedding": ["clone", "Hi.", "-o", out],
        "Invalid value for --reference/--se": ["clone", "Hi.", "-r", voice, "--se", voice, "-o", out],
        "Invalid value for '--device'": ["synth", "Hi.", "-o", out, "--device", "gpu"],
        "Missing option '--output' / '-o'": ["synth", "Hi."],
        "No such option: --bogus": ["synth", "Hi.", "-o", out, "--bogus"],
        "Invalid value for '--speed'": ["synth", "Hi.", "-o", out, "--speed", "fast"],
    }
    for message, args in cases.items():
        line = fails([*args, "-c", tiny_checkpoints], 2, message, out)
        assert line.endswith(f"(see 'openvoice-tt {args[0]} -h')") and "│" not in line, line


def test_json_failure_prints_a_json_error_object(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """Reproduction: with --json a failure printed nothing on stdout; a script reading it saw no reason."""
    out = tmp_path / "out.wav"
    cases = [
        (["synth", "Hi.", "-o", out, "-s", "EN-XX"], 3, "unknown speaker 'EN-XX'"),
        (["synth", "Hi.", "-o", tmp_path / "none" / "out.wav"], 5, "directory does not exist"),
        (["synth", "Hi.", "-o", out, "--bogus"], 2, "No such option: --bogus"),
        (["synth", "Hi.", "-o", "-"], 2, "--json cannot be combined with -o - (both would use stdout)"),
    ]
    for args, code, message in cases:
        result = CliRunner().invoke(app, [*map(str, args), "-c", str(tiny_checkpoints), "--json"])
        assert result.exit_code == code, result.output
        error = json.loads(result.stdout)
        assert error["ok"] is False and error["exit_code"] == code and message in error["error"]
        assert result.stderr.splitlines() == [f"error: {error['error']}"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda(tiny_checkpoints: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    fails(["synth", "Hi.", "-o", out, "-c", tiny_checkpoints, "-d", "cuda"], 6, "no CUDA device is available", out)


def test_ctrl_c_exits_130_without_output(tiny_checkpoints: Path, tmp_path: Path, monkeypatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> Iterator[tuple[object, int]]:
        raise KeyboardInterrupt  # at the first piece, while the take is being written
        yield  # a generator, as pipeline.speak

    monkeypatch.setattr(pipeline, "speak", interrupted)
    out = tmp_path / "out.wav"
    fails(["synth", "Hello.", "-o", out, "-c", tiny_checkpoints, "-d", "cpu"], 130, "interrupted", out)


def test_download_offline_says_which_files_go_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ck"
    for env in ({"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9"}):
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        result = CliRunner().invoke(app, ["download", "-c", str(folder)])
        assert result.exit_code == 4, result.output
        lines = result.stderr.splitlines()
        assert lines[0].startswith("error: cannot ") and ("HF_HUB_OFFLINE" in lines[0] or "127.0.0.1:9" in lines[0])
        assert any(line.endswith(str(folder / "melotts-english" / "checkpoint.pth")) for line in lines[1:])
        assert any("myshell-ai/OpenVoiceV2/resolve/main/converter/checkpoint.pth" in line for line in lines[1:])
        assert any(line.endswith(str(folder / "bert-base-uncased" / "model.safetensors")) for line in lines[1:])
        assert len(lines) == 1 + 12 and "Traceback" not in result.output
    as_json = CliRunner().invoke(app, ["download", "-c", str(folder), "--no-bert", "--json"])
    assert as_json.exit_code == 4 and json.loads(as_json.stdout)["ok"] is False  # a JSON error, no result
    assert len(as_json.stderr.splitlines()) == 1 + 9  # without BERT's three files
