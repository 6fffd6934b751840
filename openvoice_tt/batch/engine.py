"""The models of a batch: each loaded once for the whole list, and only if some item needs it.

Loading is the slow part of a run, so the engine holds one TTS per language (`api.TTSPool`), the converter
and each reference set's embedding for every item to share. `run_batch` loads the models of every language
some item speaks (and no other) before the first item runs, so a missing checkpoint or language package
stops the batch at once (exit 4 or 7) rather than failing every item of that language hours in. Every
model loads in the batch's one `precision` (`--precision`), which `resolved_precision` resolves before any
loads, for the resume record (bf16 makes other audio than fp32).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt.batch.items import Item, Options

if TYPE_CHECKING:
    import torch

    from openvoice_tt.api import (
        TTS,
        BaseSpeaker,
        Progress,
        Speech,
        ToneColorConverter,
        TTSPool,
        VoiceCloner,
        VoiceMix,
    )
    from openvoice_tt.languages import Language
    from openvoice_tt.reference.precision import PrecisionChoice
    from openvoice_tt.text.lexicon import Lexicon


class Engine:
    """The models of a batch, each loaded once and only if some item needs it; `lexicon` (already loaded,
    so a bad file fails before the first item) goes to the TTS of each language, `precision` ("auto",
    "fp32", "bf16": `api.TTS`'s) to every model, `device_index` (the chip or GPU: one engine per chip with
    `--devices`) too."""

    def __init__(
        self,
        checkpoints: Path | None,
        device: str,
        cache_dir: Path | None = None,
        method: str = "silero",
        use_cache: bool = True,
        lexicon: Lexicon | None = None,
        precision: str = "auto",
        device_index: int = 0,
    ) -> None:
        self.checkpoints = checkpoints
        self.device_index = device_index
        self.lexicon = lexicon
        self.device = device
        self.precision = precision
        self.cache_dir = cache_dir
        self.method = method
        self.use_cache = use_cache
        self._voices: dict[tuple[Path, ...], torch.Tensor] = {}
        self._mixes: dict[VoiceMix, torch.Tensor] = {}
        self._speakers: dict[tuple[str | None, str | None], BaseSpeaker] = {}
        self._cloners: dict[str, VoiceCloner] = {}

    def settings(self) -> dict[str, Any]:
        """The arguments this engine was built with, so that a worker elsewhere (a Ray actor, another chip's
        replica with its own `device`) builds one that makes the same audio: `Engine(**engine.settings())`."""
        return {
            "checkpoints": self.checkpoints,
            "device": self.device,
            "cache_dir": self.cache_dir,
            "method": self.method,
            "use_cache": self.use_cache,
            "lexicon": self.lexicon,
            "precision": self.precision,
            "device_index": self.device_index,
        }

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

    @cached_property
    def resolved_precision(self) -> PrecisionChoice:
        """What `precision` resolves to on this device, known before any model loads (`api.resolve_precision`:
        the models load with the same choice; a DeviceError for anything but "auto" on the ttnn backend);
        its mode is part of an item's fingerprint."""
        from openvoice_tt import api

        return api.resolve_precision(self.precision, self.device)

    @property
    def precision_used(self) -> dict[str, dict[str, str] | None]:
        """What `precision` ran as and why, per model ("synth", "convert"; as `clone --json` says it), each
        None until that model has loaded."""
        pool = self.__dict__.get("pool")
        loaded = pool.loaded if pool is not None else ()
        converter = self.__dict__.get("converter")
        return {  # every language's TTS loads with the one precision: the first one's says it
            "synth": pool.get(loaded[0]).precision.to_json() if loaded else None,
            "convert": converter.precision.to_json() if converter is not None else None,
        }

    def base_speaker(self, options: Options, text: str | None = None) -> BaseSpeaker:
        """The base speaker (and so the language) that `options` name, looked up once per batch; with no
        speaker and no language (or `auto`), that of the language detected from the item's `text`
        (`openvoice_tt.detection`), looked up once per detected language."""
        from openvoice_tt import api
        from openvoice_tt.detection import is_auto

        if options.speaker is None and (options.language is None or is_auto(options.language)) and text is not None:
            found = api.find_base_speaker(self.checkpoints, None, "auto", text)
            self._speakers.setdefault(("auto", found.language.code), found)
            return found  # with this text's detection (its reason), for the item's report
        key = (options.speaker, options.language)
        if key not in self._speakers:
            self._speakers[key] = api.find_base_speaker(self.checkpoints, options.speaker, options.language)
        return self._speakers[key]

    def load(self, kinds: set[str], voices: Sequence[Options] = (), texts: Sequence[str | None] = ()) -> None:
        """Load, before the first item runs, the models that items of these kinds ("synth", "clone") need:
        the TTS of each language that `voices` (the pending items' options, defaults applied, with their
        `texts` for the items whose language is detected) speak in, in order of first use, and the converter
        for clones. A voice naming no installed speaker is skipped here: it fails its own item."""
        from openvoice_tt.errors import OpenVoiceError

        if not kinds:
            return
        languages: list[Language] = []
        texts = list(texts) + [None] * (len(voices) - len(texts))
        for options, text in zip(voices or [Options()], texts or [None], strict=False):
            try:
                language = self.base_speaker(options, text).language
            except OpenVoiceError:
                continue
            if language not in languages:
                languages.append(language)
        for language in languages:
            self.tts(language)
        if "clone" in kinds:
            _ = self.converter

    @cached_property
    def pool(self) -> TTSPool:
        from openvoice_tt.api import TTSPool

        return TTSPool(self.checkpoints, self.device, self.lexicon, self.precision, self.device_index)

    def tts(self, language: Language) -> TTS:
        """The TTS of `language`, loaded at its first use and then kept."""
        return self.pool.get(language)

    @cached_property
    def converter(self) -> ToneColorConverter:
        from openvoice_tt.api import ToneColorConverter

        return ToneColorConverter(self.checkpoints, self.device, self.cache_dir, self.precision, self.device_index)

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

    def embedding(self, mix: VoiceMix) -> torch.Tensor:
        """An item's `se` (one file, or a mix of several) loaded and mixed, once per batch: `run_batch` loads
        it before any model does, so a bad file fails its item at once."""
        from openvoice_tt.api import load_mix

        if mix not in self._mixes:
            self._mixes[mix] = load_mix(mix)
        return self._mixes[mix]

    def speak(
        self,
        item: Item,
        options: Options,
        base: BaseSpeaker,
        progress: Progress | None,
        se: torch.Tensor | None = None,
    ) -> Speech:
        """The item's audio, spoken by `base` (`base_speaker(options, item.text)`). A clone's `se`, when given,
        is its voice already computed (a worker on another machine, where the item's files are not, is handed
        the driver's); otherwise it comes from the item's `se` or `references`."""
        kwargs = options.synthesis_kwargs() | {"speaker": base.name}
        if item.kind == "synth":
            return self.tts(base.language).synth(item.text, progress=progress, **kwargs)
        if se is None:
            se = self.embedding(item.se) if item.se is not None else self.voice(item.references)
        tau = {"tau": options.tau} if options.tau is not None else {}
        return self.cloner(base.language).clone(item.text, se=se, progress=progress, **kwargs, **tau)
