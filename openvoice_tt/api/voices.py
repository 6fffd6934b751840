"""Which base speakers are installed, which language (MeloTTS checkpoint) speaks each, and a pool that keeps
one loaded `TTS` per language.

A speaker name picks its model: `ES` is the Spanish checkpoint's, `EN-Newest` the v3 English one's. The
names come from each installed checkpoint's config.json (`data.spk2id`), read without loading weights, so a
typo fails in milliseconds. EN and EN_V2 share their speaker names; a shared name goes to the first language
in `LANGUAGES` order (EN) unless a language is named.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from openvoice_tt.api.speech import PathLike
from openvoice_tt.api.validation import find_speaker
from openvoice_tt.errors import CheckpointError, InputError
from openvoice_tt.languages import EN, LANGUAGES, Language, find_language
from openvoice_tt.layout import Layout, existing_checkpoint_dir, require_files, speaker_key

if TYPE_CHECKING:
    from openvoice_tt.api.tts import TTS
    from openvoice_tt.text.lexicon import Lexicon


@dataclass(frozen=True)
class BaseSpeaker:
    """A MeloTTS base speaker: its config name, the language whose checkpoint speaks it, that folder."""

    name: str
    language: Language
    model_folder: Path
    speaker_id: int = 0
    """The speaker's row in the checkpoint's speaker table (`data.spk2id`)."""

    @property
    def key(self) -> str:
        """The speaker's embedding file stem in base_speakers/ses (EN_INDIA -> en-india)."""
        return speaker_key(self.name)


def installed_languages(checkpoints: PathLike | None = None) -> list[Language]:
    """The languages whose MeloTTS config.json is in the checkpoint folder, in `LANGUAGES` order."""
    root = existing_checkpoint_dir(checkpoints)
    return [language for language in LANGUAGES if Layout(root, language.model).melo.config.is_file()]


def language_speakers(checkpoints: PathLike | None, language: Language) -> list[BaseSpeaker]:
    """`language`'s speakers in config order; a CheckpointError naming the config (and how to get it) when
    the language is not installed."""
    from openvoice_tt.config import MeloConfig

    folder = Layout(existing_checkpoint_dir(checkpoints), language.model).melo
    if not folder.config.is_file() and language is not EN:
        raise CheckpointError(
            f"{folder.config}: not found: {language.name} is not installed "
            f"('openvoice-tt download --languages {language.key}' fetches it)"
        )
    require_files(folder.config)
    config = MeloConfig.from_file(folder.config)
    return [BaseSpeaker(name, language, folder.path, sid) for name, sid in config.speakers.items()]


def installed_speakers(checkpoints: PathLike | None = None) -> list[BaseSpeaker]:
    """Every installed base speaker: languages in `LANGUAGES` order, each language's in config order.
    Languages without a folder are skipped."""
    return [
        speaker for language in installed_languages(checkpoints) for speaker in language_speakers(checkpoints, language)
    ]


def find_base_speaker(
    checkpoints: PathLike | None, name: str | None, language: str | Language | None = None
) -> BaseSpeaker:
    """The base speaker called `name` (any case, `-`/`_` alike), in `language` (a code or key) when given.

    No name gives the language's first speaker, or without a language the first installed speaker (EN-US
    when English is installed). An unknown name is an InputError listing the installed speakers, an unknown
    language an InputError listing the languages (both exit 3); a named language that is not installed,
    or no installed language at all, a CheckpointError.
    """
    if name is not None and not isinstance(name, str):
        raise InputError(f"speaker must be a name (a string), got {name!r}")
    if language is not None:
        chosen = language if isinstance(language, Language) else find_language(language)
        speakers = language_speakers(checkpoints, chosen)
        wanted = find_speaker([speaker.name for speaker in speakers], name)
        return next(speaker for speaker in speakers if speaker.name == wanted)
    speakers = installed_speakers(checkpoints)
    if not speakers:  # nothing installed: the English config's path, as before languages were many
        return language_speakers(checkpoints, EN)[0]
    if name is None:
        return speakers[0]
    for speaker in speakers:
        if speaker_key(speaker.name) == speaker_key(name):
            return speaker
    known = ", ".join(dict.fromkeys(speaker.name for speaker in speakers))
    raise InputError(f"unknown speaker '{name}' (choose from {known})")


class TTSPool:
    """One `TTS` per language, each loaded the first time a speaker of it is asked for and then kept (the
    server and batch hold one pool: switching language costs a load once, not per request). Thread-safe."""

    def __init__(
        self, checkpoints: PathLike | None = None, device: str = "auto", lexicon: PathLike | Lexicon | None = None
    ) -> None:
        from openvoice_tt.api.device import resolve_device
        from openvoice_tt.api.pronunciation import load_lexicon

        self.checkpoints = existing_checkpoint_dir(checkpoints)
        self.device = resolve_device(device)
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
        from openvoice_tt.api.tts import TTS

        chosen = language if isinstance(language, Language) else find_language(language)
        with self._lock:
            tts = self._loaded.get(chosen.code)
            if tts is None:
                tts = TTS(self.checkpoints, self.device, self.lexicon, language=chosen)
                self._loaded[chosen.code] = tts
            return tts

    def speaker(self, name: str | None, language: str | Language | None = None) -> tuple[TTS, str]:
        """The TTS that speaks base speaker `name` (see `find_base_speaker`) and the config's spelling of it."""
        found = find_base_speaker(self.checkpoints, name, language)
        return self.get(found.language), found.name
