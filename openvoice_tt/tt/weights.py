"""Prepared weights, cached on disk per checkpoint and device arch.

Module constructors ask for each tensor by name with a function that prepares it from the reference
module (transposes, flip-folded coupling weights, folded biases, scaled upsampling weights). The first
load runs those functions and writes the results to one safetensors file; later loads read the file and
run none of them. (On hardware the conv weights are further prepared by ttnn itself on their first call,
and kept by each module for every later call of the same shape.)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

PREPARATION_VERSION = "1"  # bump when a preparation function changes what it produces


def cache_key(checkpoint_sha256: str, arch: str, precision: object) -> str:
    text = f"{checkpoint_sha256}|{arch}|{precision!r}|{PREPARATION_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class WeightCacheWarning(UserWarning):
    """A weight cache entry was damaged (unreadable, truncated, or holding non-finite values): it was removed
    and its weights are prepared again from the checkpoint; the warning names the file."""


def _read_entry(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of cache entry `path`; a ValueError saying what is wrong when it cannot be trusted."""
    try:
        tensors = load_file(str(path))
    except Exception as e:  # safetensors raises its own SafetensorError (and OSError) on a bad file
        raise ValueError(f"unreadable: {' '.join(str(e).split())[:120]}") from e
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"non-finite values in '{name}'")
    return tensors


class WeightCache:
    """name -> prepared host tensor; backed by `path` when given (None: in memory only).

    An entry on disk that cannot be read or holds NaN/inf is removed with a WeightCacheWarning naming it,
    and everything is prepared again from the checkpoint (and saved anew): a damaged cache is never a
    failure of the run, nor mistaken for the effect of the user's options."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.tensors: dict[str, torch.Tensor] = {}
        self.builds = 0
        self.rebuilt = False
        if self.path is not None and self.path.is_file():
            try:
                self.tensors = _read_entry(self.path)
            except ValueError as e:
                self.path.unlink(missing_ok=True)
                self.rebuilt = True
                warnings.warn(
                    f"weight cache entry {self.path} was damaged ({e}); removed, rebuilt from the checkpoint",
                    WeightCacheWarning,
                    stacklevel=2,
                )
        self.loaded_from_disk = bool(self.tensors)

    def get(self, name: str, build: Callable[[], torch.Tensor]) -> torch.Tensor:
        tensor = self.tensors.get(name)
        if tensor is None:
            tensor = build().detach().float().contiguous()
            self.tensors[name] = tensor
            self.builds += 1
        return tensor

    def save(self) -> None:
        """Write atomically when something new was prepared."""
        if self.path is None or self.builds == 0:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        os.close(fd)
        try:
            save_file(self.tensors, tmp)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
