"""Every chip of a card (`--devices`): the chip list's parser, one replica per chip on the emulation (several
emulated devices in one process: its chips give the bytes one chip gives), `api.replicas.spread`, the
server's worker per replica, and `bench --devices`. The same on ttnn's mock N300 and T3000:
tests/tt/test_mock_card.py."""

from __future__ import annotations

import json
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
from openvoice_tt.errors import DeviceError, InputError
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
    with pytest.raises(InputError) as refused:
        parse_chips(value)
    assert str(refused.value) == message


def test_the_cpu_takes_no_device_list_and_cuda_needs_a_gpu() -> None:
    assert api.resolve_replicas("cpu", None) == (0,)
    with pytest.raises(DeviceError) as no_gpu:  # this machine has none: never an empty list of replicas
        api.resolve_replicas("cuda", "all")
    assert str(no_gpu.value) == "--devices all: no CUDA device is available (torch sees none)"
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


def test_spread_takes_the_items_in_the_callers_thread_one_ahead_per_replica() -> None:
    """A lazy source (a batch's jobs, made as they are taken) is advanced by the caller only, never by two
    threads, and at most one item ahead for each replica."""
    takers: list[str] = []
    started: list[int] = []

    def source():
        for item in range(6):
            takers.append(threading.current_thread().name)
            yield item

    def run(replica: int, item: int) -> int:
        started.append(item)
        return item

    seen = []
    for finished in spread(source(), [0, 1], run):
        seen.append(finished.item)
        assert len(takers) <= len(seen) + 2  # taken: those finished, and one for each replica
    assert sorted(seen) == list(range(6)) and sorted(started) == list(range(6))
    assert set(takers) == {threading.current_thread().name}


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


def test_spread_raises_the_sources_error_after_the_running_items() -> None:
    """An error of the item source (the caller's, not an item's) comes after the items already running have
    come back, none lost; zero replicas is refused."""

    def source():
        yield from (0, 1)
        raise RuntimeError("the source broke")

    seen = []
    with pytest.raises(RuntimeError, match="the source broke"):
        for finished in spread(source(), [0, 1], lambda r, i: i):
            seen.append(finished.item)
    assert sorted(seen) == [0, 1]
    with pytest.raises(ValueError, match="at least one replica"):
        next(spread([1], [], lambda r, i: i))


def test_spread_on_one_replica_runs_in_the_callers_thread() -> None:
    names = [f.result for f in spread(range(3), ["only"], lambda r, i: threading.current_thread().name)]
    assert names == [threading.current_thread().name] * 3


def test_the_device_queue_runs_one_job_per_replica_at_once_and_keeps_their_warnings_apart() -> None:
    """Two replicas' workers run two jobs at the same time; each job gets its own warnings only."""
    shown, filters = warnings.showwarning, warnings.filters[:]
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
    assert warnings.showwarning is shown and warnings.filters == filters  # restored once both jobs ended


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
    assert (
        str(refused.value)
        == "chip 2 is not open (open: 1, 0; open several at once with --devices, or api.resolve_replicas)"
    )


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
    assert one["items_per_replica"] == [4] and sum(two["items_per_replica"]) == 4
    assert min(two["items_per_replica"]) >= 1  # both replicas ran items (same_audio compares them)
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
    for voice, samples in expected.items():  # each replica's own models, asked directly
        _, speak, _ = service.speech(text, voice, 1.0, 4)
        for replica in service.replicas:
            np.testing.assert_array_equal(np.concatenate(list(speak(replica))), samples)
    with TestClient(app) as client:
        assert client.get("/health").json()["devices"] == [0, 1]
        for _ in range(2):  # whichever of the two workers (replicas) takes a request, the bytes are one chip's
            for voice, samples in expected.items():
                body = {"model": "openvoice-tt", "voice": voice, "input": text, "seed": 4}
                response = client.post("/v1/audio/speech", json=body)
                assert response.status_code == 200, response.text
                assert response.content[44:] == pcm16(samples), voice


@pytest.mark.usefixtures("tool_environment", "fresh_tt_device")
@pytest.mark.filterwarnings("ignore:no BERT model")
def test_batch_devices_spreads_items_over_two_chips_and_writes_one_chips_bytes(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`batch --devices 0,1` on two emulated chips writes the files, records and report a one-chip batch
    writes (synth and clone items), and `--resume` of either run with the other skips every item."""
    monkeypatch.setenv(TT_DEVICE_ENV, "emulation")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    se = tiny_checkpoints / "base_speakers" / "ses" / "en-br.pth"
    rows = [{"text": "One chip or two."}, {"text": "A cloned line.", "se": str(se)}, {"text": "Third line here."}]
    rows += [{"text": "And a fourth, cloned.", "se": str(se), "seed": 7}, {"text": "Five."}]
    listing = tmp_path / "items.jsonl"
    listing.write_text("".join(json.dumps(row) + "\n" for row in rows))
    common = ("-c", tiny_checkpoints, "-d", "tt")
    one = invoke("batch", listing, "-o", tmp_path / "one", *common, "--report", tmp_path / "one.json")
    assert one.exit_code == 0, one.output
    backends.close_tt_device()
    two = invoke(
        "batch", listing, "-o", tmp_path / "two", *common, "--devices", "0,1", "--report", tmp_path / "two.json"
    )
    assert two.exit_code == 0, two.output
    assert len(backends.TT_DEVICE.card.devices) == 2  # both chips opened (each with its own engine's models)
    files = {p.name: p.read_bytes() for p in sorted((tmp_path / "one").glob("*.wav"))}
    assert sorted(files) == [f"{n:04d}.wav" for n in range(1, 6)]
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "two").glob("*.wav"))} == files
    reports = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("one", "two")]
    for report in reports:
        assert report["counts"] == {"done": 5, "skipped": 0, "failed": 0, "not run": 0}
        assert report["device"] == "tt"
    keep = ("index", "kind", "output", "status", "seconds", "speaker", "attempts", "retried")
    assert [{k: i[k] for k in keep} for i in reports[1]["items"]] == [
        {k: i[k] for k in keep} for i in reports[0]["items"]
    ]
    for folder, devices in (("two", ()), ("one", ("--devices", "1,0"))):
        again = invoke("batch", listing, "-o", tmp_path / folder, *common, *devices, "--resume", "--json", "-q")
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["counts"] == {"done": 0, "skipped": 5, "failed": 0, "not run": 0}


@pytest.mark.usefixtures("tool_environment")
def test_batch_devices_is_refused_with_ray_and_on_the_cpu(tiny_checkpoints: Path, tmp_path: Path) -> None:
    listing = tmp_path / "items.txt"
    listing.write_text("Hello.\n")
    with_ray = invoke("batch", listing, "-o", tmp_path / "a", "-c", tiny_checkpoints, "--ray", "--devices", "0,1")
    assert with_ray.exit_code == 3, with_ray.output
    assert with_ray.stderr.strip().splitlines() == [
        "error: --devices is for this machine's chips; with --ray every chip of a node is a slot"
    ]
    on_cpu = invoke("batch", listing, "-o", tmp_path / "b", "-c", tiny_checkpoints, "-d", "cpu", "--devices", "all")
    assert on_cpu.exit_code == 6, on_cpu.output
    assert on_cpu.stderr.strip().splitlines()[-1] == (
        "error: --devices all: the CPU is one device (--devices picks chips: --device tt, or GPUs: --device cuda)"
    )
    assert not list((tmp_path / "b").glob("*.wav"))


def test_each_worker_of_a_node_claims_its_own_chip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`batch --ray` chip slots: each worker process takes the first chip no other holds; a released chip is
    taken again; with every chip held, a one-line DeviceError."""
    from openvoice_tt.tt import card
    from openvoice_tt.tt.device_choice import DeviceChoice

    monkeypatch.setattr(card, "chip_count", lambda choice: 2)  # a mock N300's count, without opening ttnn
    n300 = DeviceChoice("mock", "wormhole_n300")
    first, second = card.claim_chip(n300, tmp_path), card.claim_chip(n300, tmp_path)
    assert (first.chip, second.chip) == (0, 1)
    with pytest.raises(DeviceError) as refused:
        card.claim_chip(n300, tmp_path)
    assert str(refused.value) == "every chip here (2) is held by another worker (one worker per chip)"
    first.release()
    again = card.claim_chip(n300, tmp_path)
    assert again.chip == 0
    emulated = [card.claim_chip(DeviceChoice("emulation", "faithful"), tmp_path) for _ in range(3)]
    assert [claim.chip for claim in emulated] == [0, 1, 2]  # the emulation has as many chips as are claimed


@pytest.mark.usefixtures("tool_environment", "fresh_tt_device")
def test_serve_refuses_a_queue_shorter_than_its_replicas(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TT_DEVICE_ENV, "emulation")
    args = ("serve", "-c", tiny_checkpoints, "--voices", tmp_path / "v", "-d", "tt", "--devices", "0,1,2")
    done = invoke(*args, "--queue", "2")
    assert done.exit_code == 3, done.output
    assert done.stderr.strip().splitlines() == [
        "error: --queue 2 would leave replicas idle: give at least 3 (--devices)"
    ]
