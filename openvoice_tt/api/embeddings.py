"""Tone-color embeddings on disk: `.pth` files in upstream's format, and the cache of reference embeddings."""

from __future__ import annotations

import os
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


def load_se(path: PathLike) -> torch.Tensor:
    """Read a tone-color embedding file (upstream's format: a bare [1, 256, 1] tensor)."""
    from openvoice_tt.checkpoints import load_tone_color_embedding

    return load_tone_color_embedding(Path(path))


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
