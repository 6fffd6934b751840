"""Tone-color embeddings on disk: `.pth` files in upstream's format, and the cache of reference embeddings."""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from openvoice_tt.api.speech import PathLike
from openvoice_tt.errors import CheckpointError, InputError

if TYPE_CHECKING:
    import torch

SE_CACHE_ENV = "OPENVOICE_TT_SE_CACHE"
"""Environment variable naming the speaker-embedding cache folder (default ~/.cache/openvoice-tt/se)."""

SE_CACHE_VERSION = 1  # bump when the embedding computation changes, so stale cache entries are not reused


MAX_SE_BYTES = 1024 * 1024
"""Largest embedding file read (one is about 1.5 KB): a bigger file, a device or an endless input is refused."""
_AUDIO_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS", b"ID3", b"FORM", b".snd", b"\xff\xfb", b"\xff\xf3")


def load_se(path: PathLike) -> torch.Tensor:
    """Read a tone-color embedding file (upstream's format: a bare [1, 256, 1] tensor).

    What is plainly not one (a recording, a text file, a device, anything over `MAX_SE_BYTES`) is refused
    from its first bytes before torch sees it, saying what was expected instead."""
    from openvoice_tt.checkpoints import load_tone_color_embedding

    check_embedding_file(path)
    return load_tone_color_embedding(Path(path))


def check_embedding_file(path: PathLike) -> None:
    """CheckpointError unless `path` looks like a torch file (a zip or a pickle) of a sane size; a
    recording given where an embedding is expected names the option to use instead."""
    name = os.fspath(path)
    expected = "a tone-color embedding (a .pth saved by extract-se)"
    try:
        info = os.stat(name)
        if stat.S_ISDIR(info.st_mode):
            return  # load_tone_color_embedding names a directory
        if not stat.S_ISREG(info.st_mode):
            raise CheckpointError(f"{name}: not a regular file, so not {expected}")
        if info.st_size > MAX_SE_BYTES:
            raise CheckpointError(f"{name}: {info.st_size:,} bytes, too large for {expected}")
        with open(name, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        return  # load_tone_color_embedding names a missing file
    except OSError as e:
        raise CheckpointError(f"{name}: cannot read ({e.strerror or e})") from None
    if head.startswith(_AUDIO_MAGIC):
        raise CheckpointError(f"{name}: is not {expected}; for a recording use --reference")
    if head and not head.startswith((b"PK", b"\x80")):
        raise CheckpointError(f"{name}: is not {expected}")


def save_se(embedding: torch.Tensor, path: PathLike) -> None:
    """Write a tone-color embedding atomically in upstream's format (loadable by upstream OpenVoice)."""
    from openvoice_tt.checkpoints import save_tone_color_embedding

    save_tone_color_embedding(embedding, Path(path))


def as_embedding(value: torch.Tensor | PathLike, role: str = "voice embedding") -> torch.Tensor:
    """An embedding file (loaded) or tensor (checked: a [1, 128, 1] tensor is an InputError, not a torch
    shape error deep in the converter)."""
    from openvoice_tt.checkpoints import tone_color_embedding

    if isinstance(value, str | os.PathLike):
        return load_se(value)
    return tone_color_embedding(value, role, InputError)


def default_cache_dir() -> Path:
    """$OPENVOICE_TT_SE_CACHE, else $XDG_CACHE_HOME/openvoice-tt/se, else ~/.cache/openvoice-tt/se."""
    explicit = os.environ.get(SE_CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "openvoice-tt" / "se"


class EmbeddingCache:
    """Speaker embeddings on disk, one `<key>.pth` per set of references (upstream's SE file format).

    A damaged entry is ignored (and overwritten); a cache that cannot be written costs only the time to
    recompute, so both are warnings, not errors.
    """

    def __init__(self, folder: PathLike | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.pth"

    def get(self, key: str) -> torch.Tensor | None:
        from openvoice_tt.checkpoints import load_tone_color_embedding

        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return load_tone_color_embedding(path)
        except CheckpointError as e:
            warnings.warn(f"ignoring a damaged cached voice embedding: {e}", UserWarning, stacklevel=3)
            return None

    def put(self, key: str, embedding: torch.Tensor) -> None:
        from openvoice_tt.checkpoints import save_tone_color_embedding

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            save_tone_color_embedding(embedding, self.path(key))
        except OSError as e:
            warnings.warn(
                f"could not cache the voice embedding in {self.folder} ({e.strerror or e})", UserWarning, stacklevel=3
            )
