"""OPENVOICE_TT_DEVICE has one parser (`tt.device_choice`), and doctor and the ttnn backend agree on it.

Reproduction: doctor reported `emulation:typo` as a working emulation while `synth --device tt` refused it,
and an empty value was "not checked" by doctor but an error for the backend. Here every kind of value is
given to both `openvoice-tt doctor` and `openvoice-tt synth --device tt` in this process: a value doctor
accepts runs (or, for hardware on a machine without a chip, both say there is none), and a value doctor
refuses fails synth with the same one-line message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvoice_tt import backends
from openvoice_tt.cli import app
from openvoice_tt.errors import DeviceError
from openvoice_tt.tt import device as tt_device_module
from openvoice_tt.tt.device_choice import MOCK_ENV, TT_DEVICE_ENV, DeviceChoice, device_choice, parse_device_choice


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DeviceChoice("hardware")),
        ("", DeviceChoice("hardware")),  # empty is unset: how a shell clears a variable for one command
        ("  ", DeviceChoice("hardware")),
        ("hardware", DeviceChoice("hardware")),
        ("emulation", DeviceChoice("emulation", "faithful")),
        ("emulation:faithful", DeviceChoice("emulation", "faithful")),
        ("Emulation:Exact", DeviceChoice("emulation", "exact")),
        ("mock:wormhole_n150", DeviceChoice("mock", "wormhole_n150")),
        ("mock:blackhole_p150 ", DeviceChoice("mock", "blackhole_p150")),
    ],
)
def test_valid_values_parse(value: str | None, expected: DeviceChoice) -> None:
    assert parse_device_choice(value) == expected


@pytest.mark.parametrize("value", ["emulation:typo", "emulation:", "garbage", "mock:nonexistent", "mock", "hardware:0"])
def test_a_bad_value_is_one_line_naming_it_and_the_valid_ones(value: str) -> None:
    with pytest.raises(DeviceError) as error:
        parse_device_choice(value)
    message = str(error.value)
    assert message.startswith(f"{TT_DEVICE_ENV}={value!r}: use hardware, emulation,") and "\n" not in message
    assert "emulation:exact" in message and "mock:wormhole_n150" in message and "mock:blackhole_p150" in message


def test_hardware_with_a_mock_descriptor_set_is_refused() -> None:
    with pytest.raises(DeviceError, match=f"^{MOCK_ENV} is set, which makes ttnn open a mock device"):
        device_choice({MOCK_ENV: "/some/descriptor.yaml"})
    assert device_choice({MOCK_ENV: "/some/descriptor.yaml", TT_DEVICE_ENV: "emulation"}).kind == "emulation"


@pytest.mark.usefixtures("tool_environment", "fresh_tt_device")
@pytest.mark.filterwarnings("ignore:no BERT model")
@pytest.mark.parametrize(
    "value",
    [None, "", "hardware", "emulation", "emulation:exact", "emulation:typo", "garbage", "mock:nonexistent"],
)
def test_doctor_and_synth_on_tt_agree(
    value: str | None, tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tt_device_module, "DRIVER_PATH", tmp_path / "no-driver")  # this machine has no chip
    monkeypatch.delenv(MOCK_ENV, raising=False)
    if value is not None:
        monkeypatch.setenv(TT_DEVICE_ENV, value)
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    doctor = invoke("doctor", "-c", tiny_checkpoints, "--json")
    check = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}["tenstorrent device"]
    out = tmp_path / "out.wav"
    synth = invoke("synth", "Hello.", "-o", out, "-c", tiny_checkpoints, "-d", "tt", "-q")
    errors = [line for line in synth.stderr.splitlines() if line.startswith("error: ")]
    try:
        choice = parse_device_choice(value)
    except DeviceError as e:  # refused by the parser: refused by both, with its message
        assert check["status"] == "fail" and check["detail"] == str(e), check
        assert doctor.exit_code == 4, doctor.output
        assert synth.exit_code == DeviceError.exit_code and len(errors) == 1, synth.output
        assert errors[0] == f"error: {e}"
        assert not out.exists()
        return
    if choice.kind == "emulation":  # accepted by both: doctor says ok and synth runs on the emulation
        assert check["status"] == "ok" and "emulation" in check["detail"], check
        assert synth.exit_code == 0 and out.stat().st_size > 0, synth.output
        assert backends.TT_DEVICE.opened is not None and backends.TT_DEVICE.opened.handle.mode == choice.variant
        return
    # hardware (unset and empty too) on a machine without a chip: doctor finds none, synth --device tt fails so
    assert choice.kind == "hardware"
    assert check["status"] == "info" and check["detail"].startswith("none found"), check
    assert synth.exit_code == DeviceError.exit_code and len(errors) == 1, synth.output
    assert "no Tenstorrent device found" in errors[0] and TT_DEVICE_ENV not in errors[0]


@pytest.mark.usefixtures("fresh_tt_device")
def test_the_device_is_closed_and_reopened_through_the_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TT_DEVICE_ENV, "emulation")
    first = backends.tt_device()
    assert backends.tt_device() is first and backends.TT_DEVICE.opened is first  # one device a process
    backends.close_tt_device()
    assert backends.TT_DEVICE.opened is None
    backends.close_tt_device()  # closing twice is harmless
    second = backends.tt_device()
    assert second is not first and second.handle.mode == "faithful"
    monkeypatch.setenv(TT_DEVICE_ENV, "emulation:exact")  # the variable names another device: that one opens
    assert backends.tt_device().handle.mode == "exact"
    monkeypatch.setenv(TT_DEVICE_ENV, "emulation:typo")
    with pytest.raises(DeviceError, match="emulation:typo"):
        backends.tt_device()
