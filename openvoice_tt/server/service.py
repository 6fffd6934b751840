"""`SpeechService`: what the HTTP endpoints stand on, loaded once for the server's life.

Why: the routes (app.py) only parse requests and shape answers; the models, the voices, the device queue,
the private uploads folder and the scrubber that keeps their paths out of messages live here, built once
by `openvoice-tt serve` (or a test) and closed when the server shuts down.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from openvoice_tt.server.errors import ApiError, PathScrubber, shown
from openvoice_tt.server.limits import Limits
from openvoice_tt.server.voices import VoiceRegistry
from openvoice_tt.server.worker import DeviceQueue

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import torch

    from openvoice_tt.api import BaseSpeaker, TTSPool, VoiceCloner
    from openvoice_tt.api.replicas import Replica
    from openvoice_tt.languages import Language
    from openvoice_tt.word_timings import WordTiming

Speak = Callable[..., Iterator[np.ndarray]]
"""A request's audio stream: called on a device worker with its replica and `words`, a list for the word timings
or None."""

LANGUAGE_HEADER = "X-OpenVoice-Language"
"""The response header naming the language that spoke (its key: en, zh, ...)."""
LANGUAGE_REASON_HEADER = "X-OpenVoice-Language-Reason"
"""With a language detected from the input: why (a JSON string, ASCII)."""
SHUTDOWN_WAIT_SECONDS = 30.0  # longest wait at shutdown for the device worker to finish its piece
_log = logging.getLogger("openvoice_tt.server")  # one logger for the whole server, as an admin configures it


class SpeechService:
    """The loaded models, the voices folder and the device queue behind the HTTP endpoints.

    `cloner` holds the converter and the TTS stored voices speak through by default; `pool` (made from the
    cloner's checkpoint folder, device and requested precision when not given) holds one TTS per language,
    the cloner's included, each loaded on its language's first request (on the device worker) and kept.
    `replicas` (`serve --devices`: one per chip or GPU, `api.replicas.load_replicas`) are given instead of
    that one pair (`cloner` None): the first is `cloner` and `pool`, and each gets a worker of the device
    queue.
    """

    def __init__(
        self,
        cloner: VoiceCloner | None,
        voices: Path,
        limits: Limits = Limits(),
        pool: TTSPool | None = None,
        replicas: list[Replica] | None = None,
    ) -> None:
        from openvoice_tt.api import TTSPool
        from openvoice_tt.api.replicas import Replica

        if (replicas is None) == (cloner is None) or (replicas is not None and (pool is not None or not replicas)):
            raise ValueError("give SpeechService a cloner (and optionally its pool), or a non-empty list of replicas")
        if replicas is None:
            assert cloner is not None
            tts = cloner.tts
            pool = pool if pool is not None else TTSPool(tts.checkpoints, tts.device, precision=tts.precision.requested)
            replicas = [Replica(pool, cloner, tts.device_index)]
        for replica in replicas:
            replica.pool.add(replica.cloner.tts)
        self.replicas = replicas
        self.cloner, self.pool = replicas[0].cloner, replicas[0].pool
        self.registry = VoiceRegistry(self.cloner, voices, limits.max_reference_seconds)
        self.voices = self.registry.folder
        self.limits = limits
        self.queue = DeviceQueue(limits.queue, replicas)
        self.uploads = Path(tempfile.mkdtemp(prefix="openvoice-tt-uploads-"))
        self.scrub = PathScrubber(self._private_folders())

    def _private_folders(self) -> dict[Path, str]:
        """The server's folders a message may name, each with the name a client sees instead."""
        tts, converter = self.cloner.tts, self.cloner.converter
        folders = {self.uploads: "<upload>", self.voices: "<voices>", converter.cache.folder: "<cache>"}
        folders.setdefault(tts.checkpoints, "<checkpoints>")
        folders.setdefault(converter.checkpoints, "<checkpoints>")
        folders.setdefault(Path(tempfile.gettempdir()), "<tmp>")
        folders.setdefault(Path.home(), "~")
        return folders

    # the voices (voices.py), here too: the routes and the tests ask the service
    def base_speaker(self, name: str, language: Language | None = None) -> BaseSpeaker | None:
        return self.registry.base_speaker(name, language)

    def voice_file(self, name: str) -> Path:
        return self.registry.voice_file(name)

    def voice_list(self) -> list[dict[str, Any]]:
        return self.registry.voice_list()

    def claim(self, name: str, replace: bool) -> AbstractContextManager[Path]:
        return self.registry.claim(name, replace)

    def register(self, name: str, target: Path, files: list[Path], replace: bool) -> Callable[[Replica], Iterator[Any]]:
        return self.registry.register(name, target, files, replace)

    def check_references(self, files: list[Path]) -> None:
        self.registry.check_references(files)

    def speech(
        self, text: str, voice: str, speed: float, seed: int, language: str | None = None
    ) -> tuple[int, Speak, dict[str, str]]:
        """(sample rate, a function that streams the audio, the headers saying which language speaks) for a
        request; the voice and language are checked here. The stream function takes the replica whose models
        speak (the device queue's worker's) and `words` (a list, or None): each chunk's word timings are
        appended to it, at the returned rate, before its audio is yielded (`TTS.stream`,
        `VoiceCloner.stream`). A base speaker speaks with its language's TTS; a
        stored voice is cloned from `language`'s TTS (its first speaker: cross-lingual cloning) when one is
        named, else from that of the language detected from `text` among the installed ones
        (`openvoice_tt.detection`; `language: "auto"` asks for the same), whose headers then say why.
        The stream function loads a language's models on its first use: it runs on the device worker."""
        from openvoice_tt.detection import is_auto

        chosen = None if is_auto(language) else self._language(language)
        speaker = self.base_speaker(voice, chosen)
        if speaker is not None:
            self._require_packages(speaker.language)
            rate, name, code = self.registry.sample_rates[speaker.language.code], speaker.name, speaker.language
            said = {LANGUAGE_HEADER: code.key}

            def spoken(replica: Replica, words: list[WordTiming] | None = None) -> Iterator[np.ndarray]:
                return replica.pool.get(code).stream(text, name, speed=speed, seed=seed, words=words)

            return rate, spoken, said
        if chosen is not None and self.base_speaker(voice) is not None:
            raise ApiError(400, f"voice '{voice}' is not a {chosen.name} speaker (GET /v1/voices lists them)", "voice")
        se = self._mixed_voice(voice) if _is_mix(voice) else self._stored_voice(voice)
        said = {}
        if chosen is None:
            chosen, reason = self._detect(text)
            said[LANGUAGE_REASON_HEADER] = json.dumps(reason)  # ASCII: a header value is Latin-1 at most
        said = {LANGUAGE_HEADER: chosen.key, **said}
        self._require_packages(chosen)
        language = chosen

        def cloned(replica: Replica, words: list[WordTiming] | None = None) -> Iterator[np.ndarray]:
            return replica.cloner_for(language).stream(text, se=se, speed=speed, seed=seed, words=words)

        return self.cloner.sample_rate, cloned, said

    def _stored_voice(self, voice: str) -> Path:
        """The file of stored voice `voice`; 400 naming the voices when there is none."""
        path = self.voice_file(voice)
        if not path.is_file():
            self._not_installed_speaker(voice)
            names = ", ".join(dict.fromkeys(v["name"] for v in self.voice_list()))
            raise ApiError(400, f"unknown voice '{voice}' (choose from {names})", "voice")
        return path

    def _mixed_voice(self, voice: str) -> torch.Tensor:
        """The embedding of a voice mix, `alice+bob` (equal weights) or `alice*0.7+bob*0.3`, each part a
        stored voice (`api.split_mix`: the CLI's and batch's checks); 400 for a bad mix or an unknown voice,
        before the request is queued."""
        from openvoice_tt.api.mix import NAME_SEPARATOR, NAME_WEIGHT, load_mix, split_mix
        from openvoice_tt.errors import InputError

        try:
            mix = split_mix(voice, NAME_SEPARATOR, NAME_WEIGHT)
        except InputError as e:
            raise ApiError(400, str(e), "voice") from None
        for name in mix.voices:
            path = self.voice_file(name)
            if not path.is_file():
                stored = ", ".join(sorted(v["name"] for v in self.voice_list() if v["kind"] == "embedding"))
                raise ApiError(
                    400,
                    f"unknown voice '{name}' in the mix {shown(voice)} (a mix takes stored voices: {stored or 'none'})",
                    "voice",
                )
        return load_mix(mix, self.voice_file)

    def _detect(self, text: str) -> tuple[Language, str]:
        """The installed language `text` is in, and why; 400 when it is in one this server lacks."""
        from openvoice_tt.detection import choose
        from openvoice_tt.errors import CheckpointError
        from openvoice_tt.languages import LANGUAGES

        installed = [language for language in LANGUAGES if language.code in self.registry.sample_rates]
        try:
            detection = choose(text, installed)
        except CheckpointError as e:
            raise ApiError(400, f'{e} (on this server; or name a "language")', "input") from None
        return detection.language, detection.reason

    def _language(self, language: str | None) -> Language | None:
        """The installed language a request names (None when it names none); 400 otherwise."""
        from openvoice_tt.errors import InputError
        from openvoice_tt.languages import find_language

        if language is None:
            return None
        if not isinstance(language, str):
            raise ApiError(400, "language must be a language name such as es, zh or en-v3, or auto", "language")
        try:
            chosen = find_language(language)
        except InputError as e:
            raise ApiError(400, str(e), "language") from None
        if chosen.code not in self.registry.sample_rates:
            installed = ", ".join(dict.fromkeys(s.language.key for s in self.registry.speakers))
            raise ApiError(400, f"{chosen.name} is not installed on this server (installed: {installed})", "language")
        return chosen

    def _not_installed_speaker(self, voice: str) -> None:
        """A 400 saying so when `voice` is a base speaker of a language this server has not installed (`ES`
        without Spanish): no typo to correct, the administrator has to download the language."""
        from openvoice_tt.languages import LANGUAGES
        from openvoice_tt.layout import speaker_key

        key = speaker_key(voice)
        for language in LANGUAGES:
            if language.code not in self.registry.sample_rates and key in language.model.speaker_embeddings:
                installed = ", ".join(dict.fromkeys(s.language.key for s in self.registry.speakers))
                raise ApiError(
                    400,
                    f"voice '{voice}' speaks {language.name}, which is not installed on this server "
                    f"(installed: {installed}; GET /v1/voices lists the voices)",
                    "voice",
                )

    @staticmethod
    def _require_packages(language: Language) -> None:
        """A language whose packages the server lacks: 503, naming the extra for the administrator."""
        missing = language.missing_packages()
        if missing:
            raise ApiError(
                503,
                f"{language.name} is unavailable on this server: it needs {', '.join(missing)} "
                f"(pip install 'openvoice-tt[{language.extra}]')",
                "voice",
                code="language_unavailable",
                kind="server_error",
            )

    def new_upload(self) -> Path:
        fd, name = tempfile.mkstemp(dir=self.uploads, suffix=".audio")
        os.close(fd)
        return Path(name)

    def close(self, wait: float = SHUTDOWN_WAIT_SECONDS) -> None:
        """At shutdown: stop the device worker, and once it has ended close the Tenstorrent device if one
        was opened (its memory and the chip are released now, not left to the process's exit). A worker
        still computing after `wait` seconds keeps the device: closing it under a running model could hang
        or crash, and the process's exit releases it anyway."""
        from openvoice_tt.backends import close_tt_device

        self.queue.stop()
        if not self.queue.join(wait):
            _log.warning("the device worker is still busy after %g s; the device is left open", wait)
            return
        close_tt_device()


def _is_mix(voice: str) -> bool:
    """A `voice` naming a mix (`alice+bob`, `alice*0.7+bob*0.3`): no voice name holds `+` or `*`."""
    from openvoice_tt.api.mix import NAME_SEPARATOR, NAME_WEIGHT

    return NAME_SEPARATOR in voice or NAME_WEIGHT in voice
