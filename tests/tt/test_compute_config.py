"""Compute configs from the real op graph: every op that takes one gets one, and none asks for HiFi4 with
fp32 accumulation on Wormhole (tt-metal #38306: outputs occasionally off by a power of two).

The configs are read from the op trace of a whole mock-N150 clone and extraction (the real ttnn host code,
so the configs are the ones a chip would get), and ttnn's own log of that run must hold no precision
warning. Which ops take a config is checked against ttnn 0.81.1's own docstrings.
"""

from __future__ import annotations

import operator
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from openvoice_tt.errors import DeviceError
from openvoice_tt.tt.device import MOCK_ENV, mock_descriptor, open_emulated_device
from openvoice_tt.tt.layers import compute_config
from openvoice_tt.tt.settings import BlockPrecision, ConverterPrecision, MathConfig, MeloPrecision
from openvoice_tt.tt.trace import COMPUTE_CONFIG_KWARG

from .mock import requires_ttnn, run_acceptance

# ttnn's log lines are "<time> | warning  | <module> | <text>"; a precision warning names the fidelity,
# the accumulation or the accuracy (ttnn 0.81.1: "On Wormhole with fp32 accumulation, output accuracy can be
# worse with HiFi4 than HiFi3 due to a hardware bug. ...").
PRECISION_WARNING = re.compile(r"\|\s*warning\s*\|.*(fidelity|hifi|lofi|accumulation|accuracy|precision)", re.I)


def precision_warnings(log: str) -> list[str]:
    return [line for line in log.splitlines() if PRECISION_WARNING.search(line)]


@pytest.fixture(scope="module")
def mock_n150_runs(tiny_checkpoints: Path) -> dict[str, dict]:
    return {
        job: run_acceptance(tiny_checkpoints, "mock:wormhole_n150", "--job", job, "--seconds", "1")
        for job in ("clone", "extract")
    }


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.parametrize("job", ["clone", "extract"])
def test_every_compute_config_on_a_mock_n150_is_explicit_and_not_hifi4_fp32(mock_n150_runs, job: str) -> None:
    run = mock_n150_runs[job]
    assert run["arch"] == "wormhole_b0"
    ops_taking_a_config = [name for name, _ in run["ops"] if name in COMPUTE_CONFIG_KWARG]
    assert [name for name, _ in run["compute_configs"]] == ops_taking_a_config
    missing = [name for name, config in run["compute_configs"] if config is None]
    assert not missing, f"ops without an explicit compute config: {sorted(set(missing))}"
    unsafe = [
        name
        for name, config in run["compute_configs"]
        if config["math_fidelity"] == "HiFi4" and config["fp32_dest_acc_en"]
    ]
    assert not unsafe, f"HiFi4 + fp32 accumulation on Wormhole: {sorted(set(unsafe))}"
    expected = {"clone": {"matmul", "linear", "conv1d", "layer_norm", "softmax", "sum"}, "extract": {"conv2d"}}[job]
    assert expected <= set(ops_taking_a_config)
    assert not precision_warnings(run["log"]), precision_warnings(run["log"])
    # the shipped fidelities per block (LoFi flows, HiFi2 vocoders and encoders, HiFi3 where durations are
    # decided and in the spectrogram) reach the mock device, which accepts them
    converter = ConverterPrecision()
    blocks = {
        "clone": [*(getattr(MeloPrecision(), f.name) for f in fields(MeloPrecision))]
        + [getattr(converter, f.name) for f in fields(ConverterPrecision) if f.name != "reference_encoder"],
        "extract": [converter.spectrogram, converter.reference_encoder],
    }[job]
    used = {config["math_fidelity"] for _, config in run["compute_configs"]}
    assert used == {block.math.fidelity for block in blocks}, used


@requires_ttnn
@pytest.mark.tt_mock
def test_the_config_table_matches_ttnn_signatures(mock_n150_runs, monkeypatch: pytest.MonkeyPatch) -> None:
    """An op whose ttnn docstring mentions a compute config is in COMPUTE_CONFIG_KWARG, with that keyword."""
    monkeypatch.setenv(MOCK_ENV, str(mock_descriptor("wormhole_n150")))  # (restored afterwards) no chip lookup
    import ttnn

    used = {name for run in mock_n150_runs.values() for name, _ in run["ops"]}
    takes = {}
    for name in sorted(used):
        doc = operator.attrgetter(name)(ttnn).__doc__ or ""  # dotted: ttnn.transformer.*
        keyword = next((k for k in ("compute_kernel_config", "compute_config") if re.search(rf"\b{k}\b", doc)), None)
        if keyword is not None:
            takes[name] = keyword
    assert takes == {name: k for name, k in COMPUTE_CONFIG_KWARG.items() if name in used}


@requires_ttnn
@pytest.mark.tt_mock
def test_the_warning_check_sees_ttnns_hifi4_warning(tmp_path: Path) -> None:
    """The log check above would catch the warning: ttnn prints it for HiFi4 + fp32 on a mock N150."""
    script = (
        "import torch, ttnn\n"
        "d = ttnn.open_device(device_id=0, l1_small_size=32768)\n"
        "a = ttnn.from_torch(torch.ones(1, 1, 32, 32), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=d)\n"
        "c = ttnn.init_device_compute_kernel_config(d.arch(), math_fidelity=ttnn.MathFidelity.HiFi4,"
        " fp32_dest_acc_en=True)\n"
        "ttnn.matmul(a, a, compute_kernel_config=c)\n"
        "ttnn.close_device(d)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL")}
    env |= {
        MOCK_ENV: str(mock_descriptor("wormhole_n150")),
        "TT_METAL_LOGGER_LEVEL": "WARNING",
        "TT_METAL_CACHE": str(Path.home() / ".cache" / "ttnn-jit") + "/",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = precision_warnings(done.stdout + done.stderr)
    assert len(found) == 1 and "HiFi4" in found[0], found


def test_hifi4_with_fp32_accumulation_is_refused_on_wormhole() -> None:
    device = open_emulated_device()
    unsafe = BlockPrecision("fp32", "bf16", MathConfig("HiFi4", True))
    assert compute_config(device, unsafe).math_fidelity.value == "HiFi4"  # the emulation may measure it
    device.arch = "wormhole_b0"
    with pytest.raises(DeviceError, match="#38306"):
        compute_config(device, unsafe)
    config = compute_config(device, BlockPrecision())
    assert (config.math_fidelity.value, config.fp32_dest_acc_en) == ("HiFi3", True)
    with pytest.raises(ValueError, match="unknown math fidelity"):
        MathConfig("HiFi5")
