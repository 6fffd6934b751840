"""The crashes and data-loss cases a hostile-input sweep found (issue 10), each written from its
reproduction on the tiny checkpoints: a NaN weight, options that ask for terabytes, special output files,
and more. Each must end in one `error:` line with the README's exit code, or in a correct write."""

from __future__ import annotations

import importlib.machinery
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from openvoice_tt import api, outputs
from openvoice_tt.cli import app
from openvoice_tt.errors import DeviceError, InputError, OutputError
from openvoice_tt.reference.alignment import MAX_FRAMES_PER_TOKEN

pytestmark = pytest.mark.usefixtures("tool_environment")
REPO = Path(__file__).resolve().parents[1]
HELLO = "Hello there, how are you today?"


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error(result, code: int) -> str:
    """Assert exit `code`, no traceback, and exactly one `error:` line on stderr; return it."""
    assert result.exit_code == code, (result.exit_code, result.output)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.stderr
    return errors[0]


# --------------------------------------------------------------------------------- NaN in a checkpoint


def poisoned(tiny: Path, tmp_path: Path, model: str, key: str) -> Path:
    folder = tmp_path / "checkpoints"
    shutil.copytree(tiny, folder)
    path = folder / model / "checkpoint.pth"
    raw = torch.load(path, weights_only=True)
    raw["model"][key].view(-1)[0] = float("nan")
    torch.save(raw, path)
    return folder


def test_nan_weight_fails_at_load_with_exit_4_naming_the_tensor(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """Reproduction: synth and convert ended in `write_audio got NaN or infinite samples` (a traceback,
    exit 1) and doctor said ready."""
    folder = poisoned(tiny_checkpoints, tmp_path, "melotts-english", "dec.conv_post.weight")
    out = tmp_path / "out.wav"
    line = one_error(invoke("synth", "Hello.", "-o", out, "-c", folder, "-d", "cpu", "-q"), 4)
    checkpoint = folder / "melotts-english" / "checkpoint.pth"
    assert line == f"error: {checkpoint}: tensor dec.conv_post.weight holds NaN values (the file is damaged)"
    assert not out.exists()
    doctor = invoke("doctor", "-c", folder, "--json")
    assert doctor.exit_code == 4
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["melotts-english"]["status"] == "fail"
    assert "tensor dec.conv_post.weight holds NaN values" in checks["melotts-english"]["detail"]
    assert checks["converter"]["status"] == "ok"


# ------------------------------------------------------------------------ options that ask for terabytes


def peak_rss_of_synth(tiny: Path, out: Path, *options: str) -> tuple[int, str, int]:
    """(exit code, stderr, peak resident KiB) of `openvoice-tt synth HELLO` in a fresh process."""
    code = (
        "import resource, sys\n"
        "from openvoice_tt.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code or 0\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    argv = ["synth", HELLO, "-o", str(out), "-c", str(tiny), "-d", "cpu", "-q", *options]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=600)
    peak = int(done.stderr.rsplit("PEAK", 1)[1])
    return done.returncode, done.stderr.rsplit("PEAK", 1)[0], peak


def test_extreme_duration_options_fail_early_without_growing_memory(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """Reproduction: `--noise-scale-w 10 --sdp-ratio 1` asked reference/attention.py for a 3.5 TB allocation
    (a traceback). Now: exit 3 naming the bound, and no more memory than the same text at the defaults."""
    normal_code, _, normal_peak = peak_rss_of_synth(tiny_checkpoints, tmp_path / "normal.wav")
    code, stderr, peak = peak_rss_of_synth(
        tiny_checkpoints, tmp_path / "out.wav", "--noise-scale-w", "10", "--sdp-ratio", "1"
    )
    assert normal_code == 0 and code == 3, stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("error: ")]
    found = re.fullmatch(
        r"error: the predicted durations ask for (\d+) frames for a chunk of (\d+) tokens, more than the limit of "
        r"(\d+) per token \((\d+)\); lower --noise-scale-w or --sdp-ratio, or raise --speed",
        line,
    )
    assert found, line
    asked, tokens, per_token, limit = map(int, found.groups())
    assert per_token == MAX_FRAMES_PER_TOKEN and limit == per_token * tokens and asked > limit and tokens > 10
    assert not (tmp_path / "out.wav").exists()
    assert peak <= normal_peak, (peak, normal_peak)


@pytest.mark.filterwarnings("ignore:no BERT model")
@pytest.mark.usefixtures("fresh_tt_device")  # this test's emulated device is not left to others
def test_frame_bound_applies_on_the_tt_backend_too(tiny_checkpoints: Path, tmp_path: Path, monkeypatch) -> None:
    """The same options on the ttnn backend (host emulation) stop at the same check, before the prior noise
    or any frame-sized buffer exists."""
    monkeypatch.setenv("OPENVOICE_TT_DEVICE", "emulation")
    monkeypatch.setenv("OPENVOICE_TT_CACHE", str(tmp_path / "tt-cache"))
    tts = api.TTS(tiny_checkpoints, "tt")
    with pytest.raises(InputError, match=rf"more than the limit of {MAX_FRAMES_PER_TOKEN} per token"):
        tts.synth(HELLO, noise_scale_w=10, sdp_ratio=1)


# ----------------------------------------------------------------------------------- special output files


def wav_bytes(seconds: float = 0.01) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(int(22050 * seconds), np.float32), 22050, format="WAV")
    return buffer.getvalue()


def test_fifo_output_is_streamed_into_not_replaced(tmp_path: Path) -> None:
    """Reproduction: `-o fifo` replaced the FIFO with a regular file; its reader got nothing."""
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    data = wav_bytes()
    outputs.write_file(fifo, data)
    reader.join(timeout=30)
    assert received == [data]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.wav"]  # no temporary left behind


def test_character_device_is_written_in_place(tmp_path: Path) -> None:
    """Reproduction: `-o /dev/null -f wav` renamed a regular file over the node (as root: over the system's
    /dev/null). A symlink to /dev/null in a scratch folder shows the same without touching /dev."""
    before = os.stat("/dev/null")
    link = tmp_path / "null.wav"
    link.symlink_to("/dev/null")
    outputs.check_output_file(link)
    outputs.write_file(link, wav_bytes())
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null.wav"]


def test_symlink_output_replaces_its_target_and_stays_a_link(tmp_path: Path) -> None:
    """Reproduction: a symlink output was replaced by a regular file instead of written through."""
    (tmp_path / "takes").mkdir()
    target = tmp_path / "takes" / "real.wav"
    target.write_bytes(b"old take")
    link = tmp_path / "latest.wav"
    link.symlink_to(Path("takes") / "real.wav")
    chain = tmp_path / "chain.wav"
    chain.symlink_to(link)
    data = wav_bytes()
    outputs.write_file(chain, data)
    assert chain.is_symlink() and link.is_symlink() and target.read_bytes() == data
    dangling = tmp_path / "new.wav"
    dangling.symlink_to(Path("takes") / "new.wav")
    outputs.write_file(dangling, data)
    assert dangling.is_symlink() and (tmp_path / "takes" / "new.wav").read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "takes").iterdir()) == ["new.wav", "real.wav"]


def test_symlink_loop_is_an_output_error(tmp_path: Path) -> None:
    loop = tmp_path / "loop.wav"
    loop.symlink_to(loop)
    with pytest.raises(OutputError, match=r"loop\.wav: too many levels of symbolic links"):
        outputs.check_output_file(loop)


def test_cli_writes_audio_into_a_fifo(tiny_checkpoints: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = invoke("synth", "Hello.", "-o", fifo, "-c", tiny_checkpoints, "-d", "cpu", "-q")
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    audio, rate = sf.read(io.BytesIO(received[0]))
    assert rate == 44_100 and len(audio) > 0 and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_embedding_file_gets_the_audio_outputs_permissions(tmp_path: Path) -> None:
    """Reproduction: `extract-se -o` wrote 0600 files (mkstemp) where audio outputs follow the umask."""
    old = os.umask(0o022)
    try:
        api.save_se(torch.zeros(1, 256, 1), tmp_path / "voice.pth")
        outputs.write_file(tmp_path / "audio.wav", wav_bytes())
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "voice.pth").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "audio.wav").st_mode) == 0o644
    assert torch.equal(api.load_se(tmp_path / "voice.pth"), torch.zeros(1, 256, 1))


# ------------------------------------------------------------------------------------ devices and doctor


@pytest.mark.usefixtures("fresh_tt_device")  # no device opened by an earlier test in this process
def test_doctor_reports_a_bad_tt_device_variable(tiny_checkpoints: Path, monkeypatch) -> None:
    """Reproduction: `OPENVOICE_TT_DEVICE=bogus openvoice-tt doctor` exited 6 with no report."""
    monkeypatch.setenv("OPENVOICE_TT_DEVICE", "bogus")
    result = invoke("doctor", "-c", tiny_checkpoints, "--json")
    assert result.exit_code == 4, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    device = checks["tenstorrent device"]
    assert device["status"] == "fail" and device["detail"].startswith("OPENVOICE_TT_DEVICE='bogus': use hardware")
    assert checks["converter"]["status"] == "ok" and checks["melotts-english"]["status"] == "ok"


class BrokenTtnn:
    """Stands in for a ttnn whose native layer cannot talk to the card."""

    @staticmethod
    def GetNumAvailableDevices() -> int:
        raise RuntimeError("TT_FATAL @ cluster.cpp: firmware 80.10 is older than the minimum supported")


@pytest.mark.usefixtures("fresh_tt_device")
def test_a_broken_chip_is_an_error_not_a_silent_cpu_fallback(tiny_checkpoints: Path, tmp_path: Path, monkeypatch):
    """Reproduction: with /dev/tenstorrent present but ttnn failing, `hardware_available` said "no chip" and
    --device auto quietly ran on the CPU."""
    from openvoice_tt.tt import device

    nodes = tmp_path / "dev-tenstorrent"
    nodes.mkdir()
    monkeypatch.setattr(device, "DRIVER_PATH", nodes)
    monkeypatch.delenv("OPENVOICE_TT_DEVICE", raising=False)
    monkeypatch.delenv(device.MOCK_ENV, raising=False)
    assert device.hardware_available(BrokenTtnn) is False  # the driver is loaded, but no card is
    (nodes / "0").touch()
    with pytest.raises(DeviceError, match="a Tenstorrent device, but ttnn cannot count the devices: RuntimeError"):
        device.hardware_available(BrokenTtnn)
    broken = types.ModuleType("ttnn")
    broken.__spec__ = importlib.machinery.ModuleSpec("ttnn", None)
    broken.GetNumAvailableDevices = BrokenTtnn.GetNumAvailableDevices
    monkeypatch.setitem(sys.modules, "ttnn", broken)
    out = tmp_path / "out.wav"
    line = one_error(invoke("synth", "Hello.", "-o", out, "-c", tiny_checkpoints, "-q"), 6)
    assert f"{nodes} lists a Tenstorrent device, but ttnn cannot count the devices" in line and "firmware" in line
    assert not out.exists()
    checks = {c["name"]: c for c in json.loads(invoke("doctor", "-c", tiny_checkpoints, "--json").stdout)["checks"]}
    chip = checks["tenstorrent device"]
    assert chip["status"] == "fail" and "firmware 80.10" in chip["detail"]


def test_unreadable_stdin_is_bad_input(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """TEXT "-" with stdin closed, or not UTF-8: exit 3 with one line (was an AttributeError traceback)."""
    out = tmp_path / "out.wav"
    command = [sys.executable, "-m", "openvoice_tt", "synth", "-", "-o", str(out), "-c", str(tiny_checkpoints), "-q"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}
    closed = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        preexec_fn=lambda: os.close(0),
    )
    assert (closed.returncode, closed.stderr) == (3, "error: stdin: not open (TEXT is '-')\n")
    binary = subprocess.run(command, input=b"\xff\xfe caf\xe9", capture_output=True, env=env, timeout=300)
    assert (binary.returncode, binary.stderr) == (3, b"error: stdin: not UTF-8 text (byte 0xff at byte offset 0)\n")
    assert not out.exists()
