"""`--devices` on ttnn's mock cards: an N300 (2 Wormhole chips) and a T3000 (8), from UMD cluster
descriptors shipped in `tt/mock_devices/`. Each named chip is a 1 x 1 submesh of the card's mesh with a
replica of its own: the whole clone pipeline (BERT on the device included) is accepted on every chip, each
chip's models sit on that chip's device, a chip that is not there is refused naming the ones there are,
and the card closes cleanly. The mock computes nothing: the bytes a chip gives are the emulation's
business (tests/test_chips.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.tt.mock import requires_ttnn, run_json

pytestmark = [requires_ttnn]

SNIPPET = """
import json, sys
from pathlib import Path
from openvoice_tt import api, backends
from openvoice_tt.errors import DeviceError

checkpoints, chips, missing = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
indices = api.resolve_replicas("tt", chips)
card = backends.TT_DEVICE.card
seen = {}
for chip in indices:
    tts = api.TTS(checkpoints, "tt", device_index=chip)
    converter = api.ToneColorConverter(checkpoints, "tt", device_index=chip)
    cloner = api.VoiceCloner(tts=tts, converter=converter)
    speech = cloner.clone("Every chip of a card.", se=converter.base_speaker_se(tts.speakers[0]))
    device = tts.synthesizer.device
    seen[chip] = {
        "device_ids": list(device.handle.get_device_ids()),
        "converter_same_device": converter.converter.device is device,
        "bert_on_device": tts.bert_on_device,
        "arch": device.arch,
        "kind": device.kind,
        "samples": len(speech.audio),
    }
backends.close_tt_device()
reopened = list(api.resolve_replicas("tt", chips))  # a closed card opens again
backends.close_tt_device()
try:
    api.resolve_replicas("tt", missing)
    refused = None
except DeviceError as e:
    refused = str(e)
backends.close_tt_device()
print(json.dumps({"indices": list(indices), "chips_on_card": card.chips_on_card, "seen": seen, "refused": refused,
                  "reopened": reopened}))
"""


@pytest.fixture(scope="module")
def bert_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from scripts.make_test_checkpoints import write_all

    return write_all(tmp_path_factory.mktemp("card_checkpoints"), "tiny", seed=0, bert=True)


@pytest.mark.filterwarnings("ignore:no BERT model")
@pytest.mark.parametrize(
    ("mock", "chips", "count", "missing", "refused"),
    [
        ("wormhole_n300", "all", 2, "0,2", "--devices 0,2: no chip 2 here (2 chips: ids 0 to 1; "),
        ("wormhole_t3000", "7,3", 8, "8", "--devices 8: no chip 8 here (8 chips: ids 0 to 7; "),
    ],
)
def test_each_chip_of_a_mock_card_runs_its_own_replica(
    bert_checkpoints: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mock: str,
    chips: str,
    count: int,
    missing: str,
    refused: str,
) -> None:
    monkeypatch.setenv("OPENVOICE_TT_CACHE", str(tmp_path / "weights"))  # run_json passes the environment on
    command = [sys.executable, "-c", f"import os; os.environ['OPENVOICE_TT_DEVICE'] = 'mock:{mock}'\n{SNIPPET}"]
    result = run_json([*command, str(bert_checkpoints), chips, missing], timeout=600)
    expected = list(range(count)) if chips == "all" else [int(chip) for chip in chips.split(",")]
    assert result["indices"] == expected == result["reopened"] and result["chips_on_card"] == count
    assert list(map(int, result["seen"])) == expected
    for chip, seen in result["seen"].items():
        assert seen["device_ids"] == [int(chip)], seen  # the chip's own 1 x 1 submesh
        assert seen["converter_same_device"] and seen["bert_on_device"], seen
        assert (seen["kind"], seen["arch"]) == ("mock", "wormhole_b0") and seen["samples"] > 0, seen
    assert result["refused"].startswith(refused) and result["refused"].endswith("`openvoice-tt doctor` lists them)")
