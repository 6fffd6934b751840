"""`TTSPool`: one loaded `TTS` per language, for the long-lived callers (the server, batch) that speak with
speakers of several languages and should load each language's models once, on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from openvoice_tt.api.device import resolve_device
from openvoice_tt.api.pronunciation import load_lexicon
from openvoice_tt.api.speech import PathLike
from openvoice_tt.api.tts import TTS
from openvoice_tt.api.voices import find_base_speaker
from openvoice_tt.languages import EN, Language, find_language
from openvoice_tt.layout import existing_checkpoint_dir

if TYPE_CHECKING:
    from openvoice_tt.text.lexicon import Lexicon


class TTSPool:
    """One `TTS` per language, each loaded the first time a speaker of it is asked for and then kept (the
    server and batch hold one pool: switching language costs a load once, not per request). Thread-safe.

    `lexicon` (ARPAbet) goes to the languages read with the English front end; the others get none, so a
    mixed list or server with a lexicon for its English names still speaks Spanish and French."""

    def __init__(
        self,
        checkpoints: PathLike | None = None,
        device: str = "auto",
        lexicon: PathLike | Lexicon | None = None,
        precision: str = "auto",
        device_index: int = 0,
    ) -> None:
        self.checkpoints = existing_checkpoint_dir(checkpoints)
        self.precision = precision
        self.device = resolve_device(device)
        self.device_index = device_index  # the chip or GPU every TTS of the pool loads on
        self.lexicon = load_lexicon(lexicon)
        self._loaded: dict[str, TTS] = {}
        self._lock = threading.Lock()

    @property
    def loaded(self) -> tuple[Language, ...]:
        """The languages loaded so far, in load order."""
        return tuple(find_language(code) for code in self._loaded)

    def add(self, tts: TTS) -> None:
        """Keep an already loaded TTS (e.g. the one a command made first) for its language."""
        with self._lock:
            self._loaded.setdefault(tts.language.code, tts)

    def get(self, language: str | Language = EN) -> TTS:
        """The TTS of `language`, loaded now if this is its first use."""
        chosen = language if isinstance(language, Language) else find_language(language)
        with self._lock:
            tts = self._loaded.get(chosen.code)
            if tts is None:
                lexicon = self.lexicon if chosen.reads_english else None
                tts = TTS(
                    self.checkpoints,
                    self.device,
                    lexicon,
                    language=chosen,
                    precision=self.precision,
                    device_index=self.device_index,
                )
                self._loaded[chosen.code] = tts
            return tts

    def speaker(self, name: str | None, language: str | Language | None = None) -> tuple[TTS, str]:
        """The TTS that speaks base speaker `name` (see `find_base_speaker`) and the config's spelling of it."""
        found = find_base_speaker(self.checkpoints, name, language)
        return self.get(found.language), found.name
