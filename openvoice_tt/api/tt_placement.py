"""The ttnn placement diagnostic (`openvoice-tt placement`): where each stage of a clone ran, with its ttnn
ops, FLOPs and host<->device transfers.

Unlike the rest of the API it looks inside the ttnn backend: it takes the process's shared device from
`backends.tt_device()` and reads and resets that device's transfer log (`device.transfers`), which the
models' own calls fill in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from openvoice_tt.api.cloner import VoiceCloner
from openvoice_tt.api.speech import PathLike
from openvoice_tt.api.validation import DEFAULT_SEED
from openvoice_tt.api.voices import find_base_speaker


@dataclass
class Placement:
    """Where each stage of a clone (and of extracting the result's tone color) ran on the ttnn backend."""

    device: str
    audio_seconds: float
    rows: list[dict[str, Any]]
    transfers: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def placement(
    text: str,
    checkpoints: PathLike | None = None,
    speaker: str | None = None,
    seed: int = DEFAULT_SEED,
    language: str | None = None,
) -> Placement:
    """Clone `text` (to the base speaker's own voice) and extract the result's embedding on the ttnn
    backend, recording per stage the ttnn ops, their FLOPs and any host<->device transfer. The speaker
    (and `language`, see `find_base_speaker`) picks the language model, as in synth and clone."""
    from openvoice_tt.backends import tt_device
    from openvoice_tt.tt.placement import PlacementTimer

    base = find_base_speaker(checkpoints, speaker, language)
    cloner = VoiceCloner(checkpoints, "tt", language=base.language)
    name = base.name
    device = tt_device()
    timer = PlacementTimer(device)
    device.transfers.reset()
    with timer.recording():
        speech = cloner.clone(text, se=cloner.converter.base_speaker_se(name), speaker=name, seed=seed, timer=timer)
        cloner.converter.converter.tone_color([speech.audio], timer.prefixed("extract."))
    seconds = max(speech.seconds, 1e-9)
    rows = [
        {
            "stage": row.stage,
            "runs_on": row.where,
            "ttnn_ops": sum(row.ops.values()),
            "host_transfers": row.transfers,
            "gflop_per_audio_second": row.flops / seconds / 1e9,
            "most_used_ops": dict(row.ops.most_common(4)),
        }
        for row in timer.rows()
    ]
    transfers = {
        "uploads": list(device.transfers.uploads),
        "downloads": list(device.transfers.downloads),
        "scalar_reads": list(device.transfers.scalar_reads),
        "constants": list(device.transfers.constants),  # made once per device (first use of a bucket)
        "weights": len(device.transfers.weights),  # conv weights ttnn prepares for a new bucket
    }
    return Placement(f"{device.kind} {device.arch}", speech.seconds, rows, transfers)
