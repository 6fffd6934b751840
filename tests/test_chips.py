"""Every chip of a card (`--devices`): the chip list's parser, one replica per chip on the emulation (several
emulated devices in one process: its chips give the bytes one chip gives), `api.replicas.spread`, the
server's worker per replica, and `bench --devices`. The same on ttnn's mock N300 and T3000:
tests/tt/test_mock_card.py."""

from __future__ import annotations

import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from openvoice_tt import api, backends
from openvoice_tt.api.replicas import spread
from openvoice_tt.cli import app
from openvoice_tt.errors import DeviceError
from openvoice_tt.server.worker import DONE, DeviceQueue, Job
from openvoice_tt.streaming import pcm16
from openvoice_tt.tt.device_choice import TT_DEVICE_ENV, ChipSelection, parse_chips


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(
    ("value", "ids"), [("all", None), (" ALL ", None), ("0", (0,)), ("1,0", (1, 0)), (" 0 , 3 ", (0, 3))]
)
def test_chip_lists_are_read_in_the_order_given(value: str, ids: tuple[int, ...] | None) -> None:
    assert parse_chips(value) == ChipSelection(ids)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "--devices '': use all, or chip ids separated by commas such as 0,1"),
        ("0,", "--devices '0,': use all, or chip ids separated by commas such as 0,1"),
        ("-1", "--devices '-1': use all, or chip ids separated by commas such as 0,1"),
        ("one", "--devices 'one': use all, or chip ids separated by commas such as 0,1"),
        ("٣", "--devices '٣': use all, or chip ids separated by commas such as 0,1"),  # a digit, not ASCII
        ("0,0", "--devices '0,0': each chip once"),
        ("64", "--devices '64': at most 64 chips, ids below 64"),
    ],
)
def test_bad_chip_lists_are_refused_with_one_line(value: str, message: str) -> None:
    with pytest.raises(DeviceError) as refused:
        parse_chips(value)
    assert str(refused.value) == message


def test_the_cpu_takes_no_device_list() -> None:
    assert api.resolve_replicas("cpu", None) == (0,)
    with pytest.raises(DeviceError) as refused:
        api.resolve_replicas("cpu", "0,1")
    assert str(refused.value) == (
        "--devices 0,1: the CPU is one device (--devices picks chips: --device tt, or GPUs: --device cuda)"
    )


@pytest.mark.usefixtures("tool_environment")
def test_serve_with_devices_on_the_cpu_stops_before_any_model_loads(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """Exit 6 (DeviceError) with one line, before the server loads anything or listens."""
    done = invoke("serve", "-c", tiny_checkpoints, "--voices", tmp_path / "v", "--device", "cpu", "--devices", "all")
    assert done.exit_code == DeviceError.exit_code == 6, done.output
    assert done.stderr.strip().splitlines() == [
        "error: --devices all: the CPU is one device (--devices picks chips: --device tt, or GPUs: --device cuda)"
    ]


def test_spread_runs_every_item_once_on_the_replicas_at_once() -> None:
    """Each replica takes the next item when free; two replicas run at the same time (the first items of
    both wait for each other), and a failing item is its own."""
    both = threading.Barrier(2, timeout=10)
    ran: dict[int, list[str]] = {0: [], 1: []}

    def run(replica: int, item: int) -> int:
        if item < 2:
            both.wait()  # returns only when both replicas are inside an item at once
        if item == 5:
            raise ValueError("item 5 fails")
        ran[replica].append(threading.current_thread().name)
        return item * 10

    finished = list(spread(range(8), [0, 1], run))
    assert sorted(f.item for f in finished) == list(range(8))
    assert {f.item: f.result for f in finished if f.error is None} == {i: i * 10 for i in range(8) if i != 5}
    [failed] = [f for f in finished if f.error is not None]
    assert failed.item == 5 and str(failed.error) == "item 5 fails" and failed.result is None
    assert set(ran[0]) == {"openvoice-tt-replica-0"} and set(ran[1]) == {"openvoice-tt-replica-1"}


def test_spread_stops_taking_items_when_the_caller_stops() -> None:
    taken: list[int] = []

    def run(replica: int, item: int) -> int:
        taken.append(item)
        time.sleep(0.05)
        return item

    results = spread(range(100), [0, 1], run)
    first = next(results)
    results.close()  # the caller leaves: each replica ends the item it runs and takes no other
    assert first.item in (0, 1) and len(taken) <= 4
    assert not [t for t in threading.enumerate() if t.name.startswith("openvoice-tt-replica-")]


def test_spread_on_one_replica_runs_in_the_callers_thread() -> None:
    names = [f.result for f in spread(range(3), ["only"], lambda r, i: threading.current_thread().name)]
    assert names == [threading.current_thread().name] * 3


def test_the_device_queue_runs_one_job_per_replica_at_once_and_keeps_their_warnings_apart() -> None:
    """Two replicas' workers run two jobs at the same time; each job gets its own warnings only."""
    queue = DeviceQueue(limit=4, replicas=["chip0", "chip1"])
    both = threading.Barrier(2, timeout=10)

    def produce(name: str):
        def work(replica: str):
            both.wait()
            warnings.warn(f"{name} on {replica}", UserWarning, stacklevel=1)
            both.wait()  # both jobs have warned before either ends: their collecting overlaps
            yield replica

        return work

    jobs = [Job(produce("a"), timeout=10), Job(produce("b"), timeout=10)]
    for job in jobs:
        queue.submit(job)
    replicas = [job.next(10) for job in jobs]
    assert sorted(replicas) == ["chip0", "chip1"]
    assert [job.next(10) for job in jobs] == [DONE, DONE]
    assert [job.warnings for job in jobs] == [[f"a on {replicas[0]}"], [f"b on {replicas[1]}"]]
    queue.stop()
    assert queue.join(10)


@pytest.mark.usefixtures("tool_environment", "fresh_tt_device")
@pytest.mark.filterwarnings("ignore:no BERT model")
def test_each_emulated_chip_speaks_the_bytes_of_one_chip(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chips 0 and 1 of the emulation are two devices (own weights, slots, program budget), each giving the
    audio chip 0 alone gives, bit for bit."""
    monkeypatch.setenv(TT_DEVICE_ENV, "emulation")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    alone = api.TTS(tiny_checkpoints, "tt").synth("Two chips, one voice.", seed=3).audio
    backends.close_tt_device()
    assert api.resolve_replicas("tt", "1,0") == (1, 0)
    chips = [api.TTS(tiny_checkpoints, "tt", device_index=chip) for chip in (0, 1)]
    devices = [tts.synthesizer.device for tts in chips]
    assert devices[0] is not devices[1] and devices == [backends.tt_device(0), backends.tt_device(1)]
    for tts in chips:
        np.testing.assert_array_equal(tts.synth("Two chips, one voice.", seed=3).audio, alone)
    with pytest.raises(DeviceError) as refused:
        backends.tt_device(2)
    assert str(refused.value) == "chip 2 is not open (open: 1, 0)"


@pytest.mark.usefixtures("tool_environment", "fresh_tt_device")
@pytest.mark.filterwarnings("ignore:no BERT model")
def test_throughput_gives_items_per_second_for_one_and_two_replicas(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `bench --devices 0,1` runs (on two short sentences here: bench's five take minutes on the
    emulation), and its table."""
    from openvoice_tt.cli import render
    from openvoice_tt.cli.ui import Ui
    from openvoice_tt.throughput import run_throughput

    monkeypatch.setenv(TT_DEVICE_ENV, "emulation")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    indices = api.resolve_replicas("tt", "0,1")
    report = run_throughput(tiny_checkpoints, "tt", indices, sentences=("Hi.", "Good morning.")).to_json()
    assert report["devices"] == [0, 1] and report["tt_device"] == "emulation host"
    assert report["same_audio"] is True
    assert [run["replicas"] for run in report["runs"]] == [1, 2]
    assert [run["items"] for run in report["runs"]] == [4, 4]  # a synth and a clone of each sentence
    one, two = report["runs"]
    assert one["audio_seconds"] == two["audio_seconds"] > 0
    # speedup = one's seconds / two's, from the unrounded seconds: each shown seconds is off by up to 0.0005
    # and the speedup by up to 0.0005 more, so the shown numbers' ratio is within 0.0005 * (1 + speedup) /
    # two["seconds"] + 0.0005 of it
    bound = 0.0005 * (1 + two["speedup"]) / two["seconds"] + 0.0005
    assert one["speedup"] == 1.0 and abs(two["speedup"] - one["seconds"] / two["seconds"]) <= bound
    ui = Ui()
    with ui.out.capture() as captured:
        render.throughput(ui, report)
    lines = captured.get().splitlines()
    assert lines[0].startswith("emulation host (backend tt), devices 0,1; replicas loaded in ")
    assert lines[0].endswith("same audio on every replica: yes")
    assert lines[2].split()[:2] == ["1", "4"] and lines[3].split()[:2] == ["2", "4"]


@pytest.mark.usefixtures("tool_environment")
def test_bench_devices_takes_one_precision(tiny_checkpoints: Path) -> None:
    done = invoke(
        "bench", "-c", tiny_checkpoints, "-d", "cpu", "--devices", "0", "--precision", "fp32", "--precision", "auto"
    )
    assert done.exit_code == 3, done.output
    assert done.stderr.strip().splitlines() == [
        "error: bench --devices takes one --precision (compare precisions without --devices)"
    ]


@pytest.mark.usefixtures("tool_environment", "fresh_tt_device")
@pytest.mark.filterwarnings("ignore:no BERT model")
def test_serve_devices_loads_a_replica_per_chip_and_each_answers_one_chips_bytes(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve --device tt --devices 0,1` on the emulation: two replicas, each on its own chip's device with
    its own models, /health lists them, and what either answers is what one chip computes."""
    from fastapi.testclient import TestClient

    from tests.test_server import served_by_cli

    monkeypatch.setenv(TT_DEVICE_ENV, "emulation")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    voices = tmp_path / "voices"
    voices.mkdir()
    stored = voices / "stored.pth"
    stored.write_bytes((tiny_checkpoints / "base_speakers" / "ses" / "en-br.pth").read_bytes())
    text = "Two chips serve."
    one_chip = api.VoiceCloner(tiny_checkpoints, "tt")
    expected = {
        "EN-US": one_chip.tts.synth(text, seed=4).audio,
        "stored": np.concatenate(list(one_chip.stream(text, se=stored, seed=4))),
    }
    backends.close_tt_device()
    result, started = served_by_cli(tiny_checkpoints, voices, monkeypatch, "-d", "tt", "--devices", "0,1")
    assert result.exit_code == 0, result.output
    assert "tt backend, 2 replicas on tt 0,1, precision" in result.stderr
    ((app, service),) = started
    devices = [replica.cloner.tts.synthesizer.device for replica in service.replicas]
    assert devices == [backends.tt_device(0), backends.tt_device(1)] and devices[0] is not devices[1]
    assert [replica.cloner.converter.converter.device for replica in service.replicas] == devices
    with TestClient(app) as client:
        assert client.get("/health").json()["devices"] == [0, 1]
        for _ in range(2):  # whichever of the two workers (replicas) takes a request, the bytes are one chip's
            for voice, samples in expected.items():
                body = {"model": "openvoice-tt", "voice": voice, "input": text, "seed": 4}
                response = client.post("/v1/audio/speech", json=body)
                assert response.status_code == 200, response.text
                assert response.content[44:] == pcm16(samples), voice
