"""`SpeechService`: what the HTTP endpoints stand on, loaded once for the server's life.

Why: the routes (app.py) only parse requests and shape answers; the models, the voices, the device queue,
the private uploads folder and the scrubber that keeps their paths out of messages live here, built once
by `openvoice-tt serve` (or a test) and closed when the server shuts down.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from openvoice_tt.server.errors import ApiError, PathScrubber
from openvoice_tt.server.limits import Limits
from openvoice_tt.server.voices import VoiceRegistry
from openvoice_tt.server.worker import DeviceQueue

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from openvoice_tt.api import VoiceCloner

SHUTDOWN_WAIT_SECONDS = 30.0  # longest wait at shutdown for the device worker to finish its piece
_log = logging.getLogger("openvoice_tt.server")  # one logger for the whole server, as an admin configures it


class SpeechService:
    """The loaded models, the voices folder and the device queue behind the HTTP endpoints."""

    def __init__(self, cloner: VoiceCloner, voices: Path, limits: Limits = Limits()) -> None:
        self.cloner = cloner
        self.registry = VoiceRegistry(cloner, voices, limits.max_reference_seconds)
        self.voices = self.registry.folder
        self.limits = limits
        self.queue = DeviceQueue(limits.queue)
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
    def base_speaker(self, name: str) -> str | None:
        return self.registry.base_speaker(name)

    def voice_file(self, name: str) -> Path:
        return self.registry.voice_file(name)

    def voice_list(self) -> list[dict[str, Any]]:
        return self.registry.voice_list()

    def claim(self, name: str, replace: bool) -> AbstractContextManager[Path]:
        return self.registry.claim(name, replace)

    def register(self, name: str, target: Path, files: list[Path], replace: bool) -> Callable[[], Iterator[Any]]:
        return self.registry.register(name, target, files, replace)

    def check_references(self, files: list[Path]) -> None:
        self.registry.check_references(files)

    def speech(self, text: str, voice: str, speed: float, seed: int) -> tuple[int, Callable[[], Iterator[np.ndarray]]]:
        """(sample rate, a function that streams the audio) for a request; the voice is checked here."""
        speaker = self.base_speaker(voice)
        if speaker is not None:
            tts = self.cloner.tts
            return tts.sample_rate, lambda: tts.stream(text, speaker, speed=speed, seed=seed)
        path = self.voice_file(voice)
        if not path.is_file():
            names = ", ".join(v["name"] for v in self.voice_list())
            raise ApiError(400, f"unknown voice '{voice}' (choose from {names})", "voice")
        return self.cloner.sample_rate, lambda: self.cloner.stream(text, se=path, speed=speed, seed=seed)

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
