"""The models of a batch: each loaded once for the whole list, and only if some item needs it.

Loading is the slow part of a run, so the engine holds one TTS per language (`api.TTSPool`), the converter
and each reference set's embedding for every item to share. `run_batch` loads the first item's models
before it runs, so a missing checkpoint stops the batch at once rather than failing every item; another
language's models load at its first item and stay loaded (a language that fails to load fails its items,
without being tried again for each).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from openvoice_tt.batch.items import Item, Options

if TYPE_CHECKING:
    import torch

    from openvoice_tt.api import TTS, BaseSpeaker, Progress, Speech, ToneColorConverter, TTSPool, VoiceCloner
    from openvoice_tt.languages import Language
    from openvoice_tt.text.lexicon import Lexicon


class Engine:
    """The models of a batch, each loaded once and only if some item needs it; `lexicon` (already loaded,
    so a bad file fails before the first item) goes to the TTS of each language."""

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
        self._speakers: dict[tuple[str | None, str | None], BaseSpeaker] = {}
        self._failed: dict[str, Exception] = {}
        self._cloners: dict[str, VoiceCloner] = {}

    @property
    def device_used(self) -> str | None:
        """The resolved device ("cpu", "cuda", "tt") once a model is loaded, else None."""
        pool = self.__dict__.get("pool")
        return pool.device if pool is not None and pool.loaded else None

    @cached_property
    def resolved_device(self) -> str:
        """What items run on: "cpu", "cuda" or "tt:<kind[:variant]>" (a chip, its emulation or a mock compute
        differently, as the backend's own parser of OPENVOICE_TT_DEVICE reads it), known before any model
        loads; part of an item's fingerprint."""
        from openvoice_tt import api
        from openvoice_tt.tt.device_choice import device_choice

        device = self.device_used or api.resolve_device(self.device)
        return f"tt:{device_choice()}" if device == "tt" else device

    def base_speaker(self, options: Options) -> BaseSpeaker:
        """The base speaker (and so the language) that `options` name, looked up once per batch."""
        from openvoice_tt import api

        key = (options.speaker, options.language)
        if key not in self._speakers:
            self._speakers[key] = api.find_base_speaker(self.checkpoints, options.speaker, options.language)
        return self._speakers[key]

    def load(self, kinds: set[str], first: Options | None = None) -> None:
        """Load, before the first item runs, the models that items of these kinds ("synth", "clone") need:
        the TTS of the language `first` (the first item's options) speaks, when its speaker is known (an
        unknown one fails its item instead), and the converter for clones."""
        if not kinds:
            return
        from openvoice_tt.errors import InputError

        try:
            language = self.base_speaker(first if first is not None else Options()).language
        except InputError:
            language = None
        if language is not None:
            self.tts(language)
        if "clone" in kinds:
            _ = self.converter

    @cached_property
    def pool(self) -> TTSPool:
        from openvoice_tt.api import TTSPool

        return TTSPool(self.checkpoints, self.device, self.lexicon)

    def tts(self, language: Language) -> TTS:
        """The TTS of `language`, loaded at its first use; a language that failed to load raises the same
        error again without a second try."""
        if language.code in self._failed:
            raise self._failed[language.code]
        try:
            return self.pool.get(language)
        except Exception as e:
            self._failed[language.code] = e
            raise

    @cached_property
    def converter(self) -> ToneColorConverter:
        from openvoice_tt.api import ToneColorConverter

        return ToneColorConverter(self.checkpoints, self.device, self.cache_dir)

    def cloner(self, language: Language) -> VoiceCloner:
        """A cloner over `language`'s TTS and the one converter."""
        from openvoice_tt.api import VoiceCloner

        if language.code not in self._cloners:
            self._cloners[language.code] = VoiceCloner(tts=self.tts(language), converter=self.converter)
        return self._cloners[language.code]

    def voice(self, references: tuple[Path, ...]) -> torch.Tensor:
        """Embedding of a reference set, computed once per batch."""
        if references not in self._voices:
            self._voices[references] = self.converter.extract_se(references, self.method, self.use_cache)
        return self._voices[references]

    def speak(self, item: Item, options: Options, progress: Progress | None) -> Speech:
        base = self.base_speaker(options)
        kwargs = options.synthesis_kwargs() | {"speaker": base.name}
        if item.kind == "synth":
            return self.tts(base.language).synth(item.text, progress=progress, **kwargs)
        se = item.se if item.se is not None else self.voice(item.references)
        tau = {"tau": options.tau} if options.tau is not None else {}
        return self.cloner(base.language).clone(item.text, se=se, progress=progress, **kwargs, **tau)
