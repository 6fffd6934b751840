"""Which base speakers are installed, and which language (MeloTTS checkpoint) speaks each.

A speaker name picks its model: `ES` is the Spanish checkpoint's, `EN-Newest` the v3 English one's. The
names come from each installed checkpoint's config.json (`data.spk2id`), read without loading weights, so a
typo fails in milliseconds. EN and EN_V2 share their speaker names; a shared name goes to the first language
in `LANGUAGES` order (EN) unless a language is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from openvoice_tt.api.speech import PathLike
from openvoice_tt.detection import Detection, choose, is_auto
from openvoice_tt.errors import CheckpointError, InputError
from openvoice_tt.languages import EN, LANGUAGES, Language, find_language
from openvoice_tt.layout import Layout, existing_checkpoint_dir, require_files, speaker_key


def find_speaker(speakers: Sequence[str], name: str | None) -> str:
    """The config's spelling of `name` among `speakers`, matched case-insensitively with `_`/`-`
    interchangeable; None gives the first speaker. An unknown name is an InputError listing the valid ones."""
    if name is None:
        return speakers[0]
    if not isinstance(name, str):
        raise InputError(f"speaker must be a name (a string), got {name!r}")
    for candidate in speakers:
        if speaker_key(candidate) == speaker_key(name):
            return candidate
    raise InputError(f"unknown speaker '{name}' (choose from {', '.join(speakers)})")


@dataclass(frozen=True)
class BaseSpeaker:
    """A MeloTTS base speaker: its config name, the language whose checkpoint speaks it, that folder."""

    name: str
    language: Language
    model_folder: Path
    speaker_id: int = 0
    """The speaker's row in the checkpoint's speaker table (`data.spk2id`)."""
    detection: Detection | None = None
    """How the language was detected from the text (`--language auto` or a speaker-less call); None when
    a speaker or language named it."""

    @property
    def key(self) -> str:
        """The speaker's embedding file stem in base_speakers/ses (EN_INDIA -> en-india)."""
        return speaker_key(self.name)

    def language_json(self) -> dict[str, Any]:
        """Which language speaks, as `--json` and the batch report say it: `language` (the code `speakers`
        and `phonemes` give), `language_key` and, when it was detected from the text, `language_detected`
        (key, code, reason)."""
        fields: dict[str, Any] = {"language": self.language.code, "language_key": self.language.key}
        if self.detection is not None:
            fields["language_detected"] = self.detection.to_json()
        return fields


def installed_languages(checkpoints: PathLike | None = None) -> list[Language]:
    """The languages whose MeloTTS config.json is in the checkpoint folder, in `LANGUAGES` order."""
    root = existing_checkpoint_dir(checkpoints)
    return [language for language in LANGUAGES if Layout(root, language.model).melo.config.is_file()]


def readable_languages(checkpoints: PathLike | None = None) -> list[Language]:
    """The languages `phonemes` can read text in: the installed ones (`installed_languages`) when the
    checkpoint folder has any, else every language whose packages are installed (phonemes needs no model)."""
    from openvoice_tt.layout import checkpoint_dir

    if checkpoint_dir(checkpoints).is_dir():
        installed = installed_languages(checkpoints)
        if installed:
            return installed
    return [language for language in LANGUAGES if not language.missing_packages()]


def detect_language(text: str, checkpoints: PathLike | None = None) -> Detection:
    """The language `text` is in, among `readable_languages` (see `openvoice_tt.detection.choose`)."""
    return choose(text, readable_languages(checkpoints))


def language_speakers(checkpoints: PathLike | None, language: Language) -> list[BaseSpeaker]:
    """`language`'s speakers in config order; a CheckpointError naming the config (and how to get it) when
    the language is not installed."""
    from openvoice_tt.config import MeloConfig

    folder = Layout(existing_checkpoint_dir(checkpoints), language.model).melo
    if not folder.config.is_file() and language is not EN:
        raise CheckpointError(
            f"{folder.config}: not found ({language.name} is not installed; "
            f"'openvoice-tt download --languages {language.key}' fetches it)"
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


def require_speakers(checkpoints: PathLike | None = None) -> list[BaseSpeaker]:
    """`installed_speakers`, which must not be empty: with no language installed, a CheckpointError names
    the English config (the default model) and how to get it."""
    return installed_speakers(checkpoints) or language_speakers(checkpoints, EN)


def find_base_speaker(
    checkpoints: PathLike | None, name: str | None, language: str | Language | None = None, text: str | None = None
) -> BaseSpeaker:
    """The base speaker called `name` (any case, `-`/`_` alike), in `language` (a code or key) when given.

    No name gives the language's first speaker. With neither, or with `language="auto"` and no name, the
    language is detected from `text` among the installed ones (`openvoice_tt.detection`; the result's
    `detection` says what and why); without `text` either, the first installed speaker (EN-US when English
    is installed). `auto` with a name is the name alone. An unknown name is an InputError listing the
    installed speakers, an unknown language an InputError listing the languages (both exit 3); a named
    language that is not installed, a speaker of a language that is not installed (`ES` without Spanish),
    text detected as a language that is not installed, or no installed language at all, a CheckpointError
    saying how to get it.
    """
    if name is not None and not isinstance(name, str):
        raise InputError(f"speaker must be a name (a string), got {name!r}")
    if is_auto(language):
        language = None
        if name is None and text is None:
            raise InputError("--language auto needs the text to detect its language from")
    if name is None and language is None and text is not None:
        installed = installed_languages(checkpoints)
        if installed:
            detection = choose(text, installed)
            first = language_speakers(checkpoints, detection.language)[0]
            return replace(first, detection=detection)
    if language is not None:
        chosen = language if isinstance(language, Language) else find_language(language)
        speakers = language_speakers(checkpoints, chosen)
        wanted = find_speaker([speaker.name for speaker in speakers], name)
        return next(speaker for speaker in speakers if speaker.name == wanted)
    installed = installed_languages(checkpoints)
    if not installed:
        return language_speakers(checkpoints, EN)[0]  # raises: the English config is named as missing
    for candidate in installed:  # config by config, so a broken config of another language is never read
        for speaker in language_speakers(checkpoints, candidate):
            if name is None or speaker_key(speaker.name) == speaker_key(name):
                return speaker
    for candidate in LANGUAGES:  # a speaker of a language that is not installed: say how to get it
        if candidate not in installed and speaker_key(name) in candidate.model.speaker_embeddings:
            language_speakers(checkpoints, candidate)  # raises: the config is named as missing, with the fix
    known = ", ".join(dict.fromkeys(speaker.name for speaker in installed_speakers(checkpoints)))
    raise InputError(f"unknown speaker '{name}' (choose from {known})")
