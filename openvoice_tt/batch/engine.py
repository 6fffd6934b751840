"""The models of a batch: each loaded once for the whole list, and only if some item needs it.

Loading is the slow part of a run, so the engine holds the TTS, the voice cloner and each reference set's
embedding for every item to share; `run_batch` loads what the items need before the first one runs, so a
missing checkpoint stops the batch at once rather than failing every item.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from openvoice_tt.batch.items import Item, Options

if TYPE_CHECKING:
    import torch

    from openvoice_tt.api import TTS, Progress, Speech, VoiceCloner
    from openvoice_tt.text.lexicon import Lexicon


class Engine:
    """The models of a batch, each loaded once and only if some item needs it; `lexicon` (already loaded,
    so a bad file fails before the first item) goes to the TTS."""

    def __init__(
        self,
        checkpoints: Path | None,
        device: str,
        cache_dir: Path | None = None,
        method: str = "silero",
        use_cache: bool = True,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.checkpoints = checkpoints
        self.lexicon = lexicon
        self.device = device
        self.cache_dir = cache_dir
        self.method = method
        self.use_cache = use_cache
        self._voices: dict[tuple[Path, ...], torch.Tensor] = {}

    @property
    def device_used(self) -> str | None:
        """The resolved device ("cpu", "cuda", "tt") once a model is loaded, else None."""
        loaded = self.__dict__.get("tts")
        return loaded.device if loaded is not None else None

    @cached_property
    def resolved_device(self) -> str:
        """What items run on: "cpu", "cuda" or "tt:<kind[:variant]>" (a chip, its emulation or a mock compute
        differently, as the backend's own parser of OPENVOICE_TT_DEVICE reads it), known before any model
        loads; part of an item's fingerprint."""
        from openvoice_tt import api
        from openvoice_tt.tt.device_choice import device_choice

        device = self.device_used or api.resolve_device(self.device)
        return f"tt:{device_choice()}" if device == "tt" else device

    def load(self, kinds: set[str]) -> None:
        """Load the models that items of these kinds ("synth", "clone") need, before the first item runs."""
        if kinds:
            _ = self.tts
        if "clone" in kinds:
            _ = self.cloner

    @cached_property
    def tts(self) -> TTS:
        from openvoice_tt.api import TTS

        return TTS(self.checkpoints, self.device, self.lexicon)

    @cached_property
    def cloner(self) -> VoiceCloner:
        from openvoice_tt.api import ToneColorConverter, VoiceCloner

        converter = ToneColorConverter(self.checkpoints, self.device, self.cache_dir)
        return VoiceCloner(tts=self.tts, converter=converter)

    def voice(self, references: tuple[Path, ...]) -> torch.Tensor:
        """Embedding of a reference set, computed once per batch."""
        if references not in self._voices:
            self._voices[references] = self.cloner.converter.extract_se(references, self.method, self.use_cache)
        return self._voices[references]

    def speak(self, item: Item, options: Options, progress: Progress | None) -> Speech:
        kwargs = options.synthesis_kwargs()
        if item.kind == "synth":
            return self.tts.synth(item.text, progress=progress, **kwargs)
        se = item.se if item.se is not None else self.voice(item.references)
        tau = {"tau": options.tau} if options.tau is not None else {}
        return self.cloner.clone(item.text, se=se, progress=progress, **kwargs, **tau)
