"""The voices a client may ask for: the base speakers of every installed language, and the cloned voices
stored as <voices>/<name>.pth.

The base speakers are read once, when the server starts, from each installed language's config.json
(`api.installed_speakers`); a speaker name picks its language (EN before EN_V2 for the names they share,
unless the request names a language). A language's models load on its first request and are kept
(`api.TTSPool`).

Why one module: a voice name comes from the client and becomes a file name, and two requests may register
the same name at once. Names are checked against one pattern (`VOICE_NAME`) before any path is made from
them, so no request reaches outside the voices folder; a voice file appears whole and only once (written
aside, then hard-linked in, so of two requests for one name exactly one succeeds and the other gets 409).
A .pth placed in the folder by hand works the same as a registered one.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt.server.errors import ApiError, shown

if TYPE_CHECKING:
    from openvoice_tt.api import BaseSpeaker, VoiceCloner
    from openvoice_tt.languages import Language

VOICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class VoiceRegistry:
    """The voices folder of a server (created if missing) beside the base speakers of every installed
    language (those of the checkpoint folder of `cloner`, read now)."""

    def __init__(self, cloner: VoiceCloner, folder: Path, max_reference_seconds: float) -> None:
        from openvoice_tt.api.voices import installed_speakers, language_speakers
        from openvoice_tt.languages import EN

        self.cloner = cloner
        self.folder = folder.resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_reference_seconds = max_reference_seconds
        self.registering: set[str] = set()  # voice names (casefolded) a request is registering right now
        self.lock = threading.Lock()
        checkpoints = cloner.tts.checkpoints  # none installed: English's missing config is the error
        self.speakers: list[BaseSpeaker] = installed_speakers(checkpoints) or language_speakers(checkpoints, EN)
        self.sample_rates = {s.language.code: _sample_rate(s.model_folder) for s in self.speakers}

    def base_speaker(self, name: str, language: Language | None = None) -> BaseSpeaker | None:
        """The base speaker called `name` (any case, `-`/`_` alike), of `language` when given; the first
        language's for a name two share."""
        from openvoice_tt.api import speaker_key

        return next(
            (
                s
                for s in self.speakers
                if speaker_key(s.name) == speaker_key(name) and (language is None or s.language == language)
            ),
            None,
        )

    def voice_file(self, name: str) -> Path:
        """<voices>/<name>.pth for a name that matches VOICE_NAME (nothing else makes a path)."""
        if not isinstance(name, str) or not VOICE_NAME.fullmatch(name):
            raise ApiError(400, f"invalid voice name {shown(name)} (letters, digits, - and _; at most 64)", "voice")
        return self.folder / f"{name}.pth"

    def voice_list(self) -> list[dict[str, Any]]:
        """Every base speaker (with its language: `language` is upstream's code, `language_key` the
        request's `language` value) and every stored voice."""
        converter = self.cloner.converter
        base = [
            {
                "name": s.name,
                "kind": "base speaker",
                "language": s.language.code,
                "language_key": s.language.key,
                "sample_rate": self.sample_rates[s.language.code],
            }
            for s in self.speakers
        ]
        stored = sorted(p.stem for p in self.folder.glob("*.pth") if VOICE_NAME.fullmatch(p.stem))
        return base + [{"name": n, "kind": "embedding", "sample_rate": converter.sample_rate} for n in stored]

    @contextlib.contextmanager
    def claim(self, name: str, replace: bool) -> Iterator[Path]:
        """Hold voice `name` for one registering request (-> its file): a second request for the same name
        gets 409 at once, and so does a name already taken unless `replace`. The claim only answers early;
        `register` makes the file appear atomically, so a voice placed by hand (or by another server on
        the same folder) meanwhile is still never overwritten without `replace`."""
        if self.base_speaker(name) is not None:
            raise ApiError(409, f"'{name}' is a base speaker", "name", code="voice_exists")
        target = self.voice_file(name)
        key = name.casefold()  # "Me" and "me" are one file on a case-insensitive file system
        with self.lock:
            if key in self.registering:
                raise ApiError(409, f"voice '{name}' is being registered by another request", "name", code="voice_busy")
            if not replace and os.path.lexists(target):
                raise ApiError(
                    409, f"voice '{name}' already exists (send replace=true to replace it)", "name", code="voice_exists"
                )
            self.registering.add(key)
        try:
            yield target
        finally:
            with self.lock:
                self.registering.discard(key)

    def register(self, name: str, target: Path, files: list[Path], replace: bool) -> Callable[[Any], Iterator[Any]]:
        """Work for the device queue, run with any replica's converter (`replica.cloner`: each replica's
        gives the same embedding): the embedding of `files` stored as voice `name` at `target`. Written
        whole beside it first, then hard-linked in (fails if the name exists: 409) or, with `replace`,
        renamed over it: a reader sees the old voice or the new one, never a part, and never a voice
        replaced that the request did not ask to replace. The embedding cache is not used: a cache hit
        skips the reference checks and so their warnings, which this client must get (the voices folder
        is the server's store of embeddings)."""
        from openvoice_tt.api import save_se

        def produce(replica: Any) -> Iterator[dict[str, Any]]:
            self.check_references(files)
            embedding = replica.cloner.converter.extract_se(files, use_cache=False)
            staged = target.with_name(f".{name}.{uuid.uuid4().hex[:12]}.partial")
            try:
                save_se(embedding, staged)
                if replace:
                    os.replace(staged, target)
                else:
                    try:
                        os.link(staged, target)
                    except FileExistsError:
                        raise ApiError(409, f"voice '{name}' already exists", "name", code="voice_exists") from None
            finally:
                staged.unlink(missing_ok=True)
            yield {"name": name, "kind": "embedding", "sample_rate": self.cloner.sample_rate}

        return produce

    def check_references(self, files: list[Path]) -> None:
        """Refuse (413) recordings that would decode to more than `max_reference_seconds` together, or one
        with more samples than that long at 48 kHz stereo, from their headers, before any is decoded: a
        compressed upload is small, what it decodes to need not be (16 kB of FLAC silence is 700 s at
        8 kHz; a header can claim 8 channels at 655 kHz). Decoding reads no more than the header says."""
        from openvoice_tt.audio import check_readable

        limit = self.max_reference_seconds
        seconds = 0.0
        for path in files:
            info = check_readable(path)  # its header; AudioError (400) naming the file for what is not audio
            seconds += info.frames / info.samplerate
            if seconds > limit or info.frames * info.channels > limit * 48_000 * 2:
                raise ApiError(
                    413,
                    f"{path}: the recordings decode to more than {limit:g} s of audio (the limit)",
                    "file",
                    code="request_too_large",
                )


def _sample_rate(model_folder: Path) -> int:
    """The output rate of the MeloTTS model in `model_folder` (its config; the weights are not loaded)."""
    from openvoice_tt.config import MeloConfig
    from openvoice_tt.layout import ModelFolder

    return MeloConfig.from_file(ModelFolder(model_folder).config).data.sampling_rate
