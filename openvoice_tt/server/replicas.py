"""The server's pipeline replicas: one set of models per chip (or GPU) that `serve --devices` names.

Why: an N300 has two chips and a T3000 eight; one replica per chip, each with its own worker thread
(`worker.DeviceQueue`), serves that many requests at once. A replica's models load on its own chip only
(`device_index`), each language on the replica's first request in it, so no chip's device memory, program
cache or input slots are ever touched by two requests at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openvoice_tt.api import TTSPool, VoiceCloner
    from openvoice_tt.languages import Language


@dataclass
class Replica:
    """One chip's models: `pool` (a TTS per language, loaded on first use) and `cloner` (the converter and
    the TTS stored voices speak through by default), both on chip or GPU `index`."""

    pool: TTSPool
    cloner: VoiceCloner
    index: int = 0

    def cloner_for(self, language: Language) -> VoiceCloner:
        """A cloner over `language`'s TTS on this replica (loaded now if it is its first use) and its converter."""
        from openvoice_tt.api import VoiceCloner

        if language is self.cloner.tts.language:
            return self.cloner
        return VoiceCloner(tts=self.pool.get(language), converter=self.cloner.converter)


def load_replicas(checkpoints: Path | None, device: str, precision: str, indices: tuple[int, ...]) -> list[Replica]:
    """A replica on each chip or GPU of `indices`, each with the first installed language and the converter
    loaded now (a broken model fails at start, not at the first request)."""
    from openvoice_tt import api

    first = api.find_base_speaker(checkpoints, None)
    replicas = []
    for index in indices:
        pool = api.TTSPool(checkpoints, device, precision=precision, device_index=index)
        converter = api.ToneColorConverter(checkpoints, device, precision=precision, device_index=index)
        cloner = api.VoiceCloner(tts=pool.get(first.language), converter=converter)
        replicas.append(Replica(pool, cloner, index))
    return replicas
