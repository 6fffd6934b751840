"""`--device tt` for every language's model: the same blocks at config-driven sizes, on the host emulation
of ttnn (held to the torch backend like English in tests/test_cli_tt.py) and on both ttnn mock devices
(every op validated). Tiny checkpoints of each language, each read by its own front end (its tone and
language ids: ES 12 and 5, FR 13 and 6, ZH 0 and 3, JP 6 and 1, KR 11 and 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from openvoice_tt import backends
from openvoice_tt.cli import app
from tests.compare import WAVEFORM_FLOOR, Gate, assert_agrees
from tests.tt.mock import ARCHES, requires_ttnn

REPO = Path(__file__).resolve().parents[1]
TEXTS = {
    "EN-Newest": "The quick brown fox jumps over the lazy dog.",
    "ES": "¿Dónde está la estación de tren?",
    "FR": "Bonjour, où est la gare?",
    "ZH": "今天天气很好，我们去公园散步吧。",
    "JP": "今日はいい天気ですね。",
    "KR": "오늘 날씨가 좋네요.",
}
SPEAKERS = list(TEXTS)
CASES = [("synth", s) for s in ("EN-Newest", "ES", "FR")] + [("clone", s) for s in SPEAKERS]
"""Chinese, Japanese and Korean run as clones only: a clone synthesizes its take on the device first, so
it covers the language's synthesis too, at half the suite time of both commands."""
MOCK_CASES = [("synth", "EN-Newest")] + [("clone", s) for s in ("ES", "FR", "ZH", "JP", "KR")]
"""On the mock devices, one command per language (6, as many as before Chinese, Japanese and Korean):
every language's model is the same graph at its config's sizes, so what differs is the text's length and
ids, and each clone runs its language's synthesis on the device before the converter."""
# Measured by this test (tiny checkpoints of each language, exact emulation, shipped precision, 16-bit
# files): PCC / max abs error; gates at twice the measured deficit and error, as CLI_GATES in test_cli_tt.
GATES = {
    ("synth", "EN-Newest"): Gate(0.999415, 0.111, WAVEFORM_FLOOR),  # 0.9997075 / 0.0553
    ("synth", "ES"): Gate(0.999192, 0.0618, WAVEFORM_FLOOR),  # 0.9995963 / 0.0309
    ("synth", "FR"): Gate(0.999417, 0.176, WAVEFORM_FLOOR),  # 0.9997087 / 0.0879
    ("clone", "EN-Newest"): Gate(0.995368, 0.188, WAVEFORM_FLOOR),  # 0.9976843 / 0.0941
    ("clone", "ES"): Gate(0.998151, 0.078, WAVEFORM_FLOOR),  # 0.9990756 / 0.039
    ("clone", "FR"): Gate(0.992048, 0.202, WAVEFORM_FLOOR),  # 0.9960244 / 0.101
    ("clone", "ZH"): Gate(0.998552, 0.0844, WAVEFORM_FLOOR),  # 0.9992761 / 0.0422
    ("clone", "JP"): Gate(0.995170, 0.170, WAVEFORM_FLOOR),  # 0.9975849 / 0.0849
    ("clone", "KR"): Gate(0.998511, 0.0842, WAVEFORM_FLOOR),  # 0.9992558 / 0.0421
}


def command_line(command: str, speaker: str, checkpoints: Path, out: Path, device: str) -> list[str]:
    target = ["--se", str(checkpoints / "base_speakers" / "ses" / "en-br.pth")] if command == "clone" else []
    common = ["-o", str(out), "-c", str(checkpoints), "-d", device, "--seed", "4", "--json"]
    return [command, TEXTS[speaker], *target, "--speaker", speaker, *common]


@pytest.fixture
def emulated_tt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv(backends.TT_DEVICE_ENV, "emulation:exact")  # the gates are set for exact mode
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    monkeypatch.setenv("OPENVOICE_TT_SE_CACHE", str(tmp_path / "se-cache"))
    yield


@pytest.mark.usefixtures("tool_environment", "emulated_tt", "fresh_tt_device")
@pytest.mark.parametrize(("command", "speaker"), CASES)
def test_emulation_matches_torch_in_every_language(
    multilingual_checkpoints: Path, tmp_path: Path, command: str, speaker: str
) -> None:
    outputs = {}
    for device in ("tt", "cpu"):
        out = tmp_path / f"{device}.wav"
        result = CliRunner().invoke(app, command_line(command, speaker, multilingual_checkpoints, out, device))
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["speaker"] == speaker and report["backend"] == ("tt" if device == "tt" else "torch")
        outputs[device], rate = sf.read(out, dtype="float32")
        assert rate == (44_100 if command == "synth" else 22_050)
    assert_agrees(outputs["cpu"], outputs["tt"], GATES[command, speaker], f"{command} --speaker {speaker} tt vs cpu")


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.parametrize("arch", ARCHES)
def test_mock_devices_run_every_languages_model(multilingual_checkpoints: Path, tmp_path: Path, arch: str) -> None:
    """synth and clone with each language's model on a mock device, in one fresh process (the mock is
    opened once per process): every op of each model's graph passes ttnn's host-side validation."""
    commands = [
        command_line(command, speaker, multilingual_checkpoints, tmp_path / f"{command}-{speaker}.wav", "tt")
        for command, speaker in MOCK_CASES
    ]
    script = f"from tests.languages import run_commands; run_commands({commands!r})"
    env = os.environ | {
        backends.TT_DEVICE_ENV: f"mock:{arch}",
        backends.TT_CACHE_ENV: str(tmp_path / "tt-weights"),
        "OPENVOICE_TT_SE_CACHE": str(tmp_path / "se-cache"),
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"exit_code"')]
    assert len(results) == len(commands), done.stdout[-3000:]
    for args, result in zip(commands, results, strict=True):
        assert result["exit_code"] == 0, (args, result["output"])
        report = json.loads(result["output"])
        assert (report["command"], report["speaker"]) == (args[0], args[args.index("--speaker") + 1])
        assert report["backend"] == "tt" and Path(report["output"]).is_file()


@pytest.mark.usefixtures("tool_environment", "emulated_tt", "fresh_tt_device")
@pytest.mark.parametrize(("args", "embedding"), [(["--speaker", "FR"], "fr"), (["--language", "en-v3"], "en-newest")])
def test_placement_runs_the_speakers_language_model(
    multilingual_checkpoints: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], embedding: str
) -> None:
    """`placement` picks the model from the speaker like synth and clone: every stage on the device, the
    clone starting from the speaker's own embedding."""
    from openvoice_tt.api import converter

    loaded: list[str] = []
    load_se = converter.load_se
    monkeypatch.setattr(converter, "load_se", lambda path: (loaded.append(Path(path).stem), load_se(path))[1])
    result = CliRunner().invoke(
        app, ["placement", TEXTS["EN-Newest"], *args, "-c", str(multilingual_checkpoints), "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = {row["stage"]: row for row in json.loads(result.stdout)["rows"]}
    assert all(rows[stage]["runs_on"] == "device" for stage in ("text_encoder", "flow", "vocoder", "converter.flow"))
    assert loaded == [embedding, embedding]  # the source, and the target: the speaker's own voice
