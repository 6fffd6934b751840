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
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

PREPARATION_VERSION = "1"  # bump when a preparation function changes what it produces


def cache_key(checkpoint_sha256: str, arch: str, precision: object) -> str:
    text = f"{checkpoint_sha256}|{arch}|{precision!r}|{PREPARATION_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class WeightCache:
    """name -> prepared host tensor; backed by `path` when given (None: in memory only)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.tensors: dict[str, torch.Tensor] = {}
        self.builds = 0
        if self.path is not None and self.path.is_file():
            self.tensors = load_file(str(self.path))
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
