"""Opening a Tenstorrent device (real, mock, or the host emulation) and the host<->device boundary.

Every `tt/` module receives a `TtDevice` and calls ops on `device.ttnn`, which is either the real ttnn
package (a chip, or a mock device that validates but computes nothing) or `host_ttnn`, the CPU
emulation used for numerics. Every host->device copy goes through `_to_device` here and is counted by
kind: per-utterance inputs and noise (`upload`), weights (`constant`, and the conv weights ttnn prepares
on a conv's first call for a shape), and resident constants (`resident`: positions, fills, masks made
once and kept on the device). Downloads and the one length read are counted too, so tests hold the
pipeline to its transfer budget: a second utterance in a bucket uploads only its inputs and noise.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from openvoice_tt.errors import DeviceError, shorten
from openvoice_tt.tt.constants import ResidentConstants
from openvoice_tt.tt.program_budget import ProgramBudget
from openvoice_tt.tt.trace import OpTrace
from openvoice_tt.tt.weights import WeightCache

MOCK_ENV = "TT_METAL_MOCK_CLUSTER_DESC_PATH"
MOCK_DESCRIPTORS = {
    "wormhole_n150": "wormhole_N150.yaml",
    "blackhole_p150": "blackhole_P150.yaml",
}
# Conv config tables stay in L1_SMALL for as long as their programs are cached: `ProgramBudget` clears
# the program cache only when a new (model, bucket) key may not fit (tests/tt/test_mock_device.py).
# 512 KiB hold every key of `openvoice-tt bench` (32 KiB ran out on P150 at 30 s, 128 KiB after ~5 keys)
# and leave the convs' circular buffers enough L1 at 30 s on both mock devices.
L1_SMALL_SIZE = 524288
# The length-bucket rule of the L1 conv chains (layers.fits_l1): per core, one activation of a chain may
# take this many bytes, or the chain runs in DRAM. A resblock chain holds about five activations at once
# (input, running sum, conv input, halo copy at twice that, output) beside the convs' circular buffers, in
# the L1 that L1_SMALL leaves (869,024 B per bank on N150, 936,832 B on P150). Measured on the mock devices:
# 88 KiB per core (11,008 x 128 block-sharded on 32 cores) runs, 128 KiB (16,384 x 128) runs out of L1.
L1_ACTIVATION_BYTES = {"wormhole_b0": 96 * 1024, "blackhole": 96 * 1024}
L1_GRID_OF_EMULATION = (8, 8)


@dataclass
class TransferLog:
    """Host<->device traffic since the last reset (per utterance): `uploads` are the per-utterance inputs
    and noise; `constants` and `weights` are copies that a later utterance of the same bucket reuses."""

    uploads: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    scalar_reads: list[str] = field(default_factory=list)
    constants: list[str] = field(default_factory=list)
    weights: list[str] = field(default_factory=list)

    def reset(self) -> None:
        for names in (self.uploads, self.downloads, self.scalar_reads, self.constants, self.weights):
            names.clear()

    def summary(self) -> dict[str, int]:
        return {
            "uploads": len(self.uploads),
            "downloads": len(self.downloads),
            "scalar_reads": len(self.scalar_reads),
            "constants": len(self.constants),
            "weights": len(self.weights),
        }

    def host_to_device(self) -> int:
        """Every host->device copy counted here (inputs, noise, constants, weights)."""
        return len(self.uploads) + len(self.constants) + len(self.weights)


@dataclass
class TtDevice:
    ttnn: OpTrace  # the real ttnn or host_ttnn, behind a (normally idle) op recorder
    handle: Any
    kind: str  # "emulation" | "mock" | "hardware"
    arch: str  # "host" | "wormhole_b0" | "blackhole"
    transfers: TransferLog = field(default_factory=TransferLog)
    weights: WeightCache = field(default_factory=WeightCache)
    budget: ProgramBudget = field(default_factory=ProgramBudget)  # when to clear the program cache
    generation: int = 0  # program cache clears so far (prepared conv weights go with each)
    resident: ResidentConstants = field(init=False)  # constants made once and kept on the device

    def __post_init__(self) -> None:
        self.resident = ResidentConstants(self.ttnn, self.upload_constant)

    def use_shape(self, key: tuple) -> None:
        """Declare the (model, length bucket) about to run: programs of a compiled key are reused; a new
        key clears the program cache first only if its conv tables may not fit in L1_SMALL."""
        self.budget.admit(key, self._clear_program_cache)

    def _clear_program_cache(self) -> None:
        if not self.is_emulation:
            self.handle.clear_program_cache()
        self.generation += 1

    @property
    def l1_grid(self) -> tuple[int, int]:
        """(columns, rows) of the worker cores that hold sharded L1 tensors (the emulation: an N150's)."""
        if self.is_emulation:
            return L1_GRID_OF_EMULATION
        grid = self.handle.compute_with_storage_grid_size()
        return int(grid.x), int(grid.y)

    @property
    def l1_activation_bytes(self) -> int:
        """Per-core bytes one activation of an L1 conv chain may take (`L1_ACTIVATION_BYTES`)."""
        return L1_ACTIVATION_BYTES.get(self.arch, L1_ACTIVATION_BYTES["wormhole_b0"])

    @property
    def is_emulation(self) -> bool:
        return self.kind == "emulation"

    # The one host->device path, and what goes through it.

    def _to_device(self, tensor: torch.Tensor, dtype: Any, log: list[str], name: str, layout: Any = None) -> Any:
        ttnn = self.ttnn
        log.append(name)
        if not tensor.is_floating_point():  # ids: int32 row-major
            ids = tensor.to(torch.int32)
            return ttnn.from_torch(ids, dtype=dtype, layout=ttnn.ROW_MAJOR_LAYOUT, device=self.handle)
        return ttnn.from_torch(
            tensor.float().contiguous(),
            dtype=dtype,
            layout=layout if layout is not None else ttnn.TILE_LAYOUT,
            device=self.handle,
        )

    def constant(self, tensor: torch.Tensor, dtype: Any, layout: Any = None) -> Any:
        """A weight (or other model constant) uploaded once at module construction."""
        return self._to_device(tensor.float(), dtype, self.transfers.weights, "weight", layout)

    def upload_constant(self, tensor: torch.Tensor, dtype: Any, name: str) -> Any:
        """A resident constant (see `constants.py`): uploaded on its first use, then reused."""
        return self._to_device(tensor.float(), dtype, self.transfers.constants, name)

    def count_prepared_weight(self, name: str) -> None:
        """ttnn.conv1d/conv2d upload a host weight themselves (prepared) on a conv's first call of a shape."""
        self.transfers.weights.append(name)

    def host_weight(self, tensor: torch.Tensor) -> Any:
        """A float32 ROW_MAJOR host tensor: the form ttnn.conv1d/conv2d prepare on their first call."""
        return self.ttnn.from_torch(tensor.float().contiguous(), dtype=self.ttnn.float32)

    # The per-utterance boundary.

    def upload(self, tensor: torch.Tensor, dtype: Any, name: str, layout: Any = None) -> Any:
        """A per-utterance input or noise tensor."""
        return self._to_device(tensor, dtype, self.transfers.uploads, name, layout)

    def download(self, tensor: Any, name: str) -> torch.Tensor:
        self.transfers.downloads.append(name)
        return self.ttnn.to_torch(tensor).float()

    def read_scalar(self, tensor: Any, name: str) -> float:
        self.transfers.scalar_reads.append(name)
        value = float(self.ttnn.to_torch(tensor).float().reshape(-1)[0])
        return value

    @contextmanager
    def preparing(self, cache: WeightCache) -> Iterator[WeightCache]:
        """Build one model's modules with `cache` as their source of prepared weights (modules read
        `device.weights` in their constructors only); the device's own cache comes back afterwards, so a
        second model never prepares into, or saves, the first one's file."""
        previous, self.weights = self.weights, cache
        try:
            yield cache
        finally:
            self.weights = previous

    def close(self) -> None:
        if not self.is_emulation:
            self.ttnn.close_device(self.handle)


def open_emulated_device(mode: str = "faithful") -> TtDevice:
    """The CPU emulation of ttnn: "faithful" computes what a chip computes (source-register truncation,
    math fidelity, packer rounding); "exact" computes in float32 with storage rounding only (debugging)."""
    from openvoice_tt.tt import host_ttnn

    return TtDevice(OpTrace(host_ttnn), host_ttnn.open_device(mode=mode), "emulation", "host")


def ttnn_installed() -> bool:
    return importlib.util.find_spec("ttnn") is not None


def mock_descriptor(arch: str) -> Path:
    """Cluster descriptor of a mock N150 / P150 (package data, so an installed package has them too)."""
    try:
        name = MOCK_DESCRIPTORS[arch.lower()]
    except KeyError:
        raise DeviceError(f"unknown mock device '{arch}' (choose from {', '.join(MOCK_DESCRIPTORS)})") from None
    return Path(__file__).resolve().parent / "mock_devices" / name


def configure_mock(arch: str) -> None:
    """Select a mock device; must run before ttnn is first imported in this process."""
    import sys

    path = str(mock_descriptor(arch))
    if "ttnn" in sys.modules and os.environ.get(MOCK_ENV) != path:
        raise DeviceError("ttnn is already imported; a mock device must be chosen before the first import")
    os.environ[MOCK_ENV] = path
    os.environ.setdefault("TT_METAL_CACHE", str(Path.home() / ".cache" / "ttnn-jit") + "/")
    # WARNING, not ERROR: ttnn's own precision warnings (e.g. HiFi4 + fp32 accumulation on Wormhole) must
    # stay visible; tests/tt/test_compute_config.py fails on any of them.
    os.environ.setdefault("TT_METAL_LOGGER_LEVEL", "WARNING")
    os.environ.setdefault("LOGURU_LEVEL", "WARNING")


def open_ttnn_device(l1_small_size: int = L1_SMALL_SIZE) -> TtDevice:
    """Open device 0 through the real ttnn: a chip, or the mock device selected by `configure_mock`."""
    if not ttnn_installed():
        raise DeviceError("ttnn is not installed: pip install 'openvoice-tt[tt]' (Python 3.10 or 3.12)")
    os.environ.setdefault("LOGURU_LEVEL", "WARNING")
    import ttnn

    mock = bool(os.environ.get(MOCK_ENV))
    if not mock and not hardware_available(ttnn):
        raise DeviceError("no Tenstorrent device found (ttnn sees no chip); use --device cpu")
    handle = ttnn.open_device(device_id=0, l1_small_size=l1_small_size)
    arch = str(handle.arch()).split(".")[-1].lower()
    device = TtDevice(OpTrace(ttnn), handle, "mock" if mock else "hardware", arch)
    device.budget.meter = partial(l1_small_usage, ttnn, handle)
    return device


def l1_small_usage(ttnn: ModuleType, handle: Any) -> tuple[int, int]:
    """(bytes allocated, bytes in total) of L1_SMALL per bank, from ttnn's allocator (not a traced op)."""
    view = ttnn.get_memory_view(handle, ttnn.BufferType.L1_SMALL)
    return int(view.total_bytes_allocated_per_bank), int(view.total_bytes_per_bank)


DRIVER_PATH = Path("/dev/tenstorrent")  # the kernel driver's device nodes: /dev/tenstorrent/0, ...


def hardware_available(ttnn: ModuleType | None = None) -> bool:
    """A real chip is present: no mock configured, the kernel driver lists a device under /dev/tenstorrent
    and ttnn counts at least one (checked in that order, so machines without a chip never import ttnn).

    A chip the driver lists but ttnn cannot use (ttnn fails to import or to count it, or counts none) is
    a DeviceError naming the cause, not "no chip": --device auto must not quietly fall back to the CPU
    when the user has a broken card."""
    if os.environ.get(MOCK_ENV) or not DRIVER_PATH.exists():
        return False
    if DRIVER_PATH.is_dir() and not any(DRIVER_PATH.iterdir()):
        return False  # the driver is loaded, but no card is
    if ttnn is None:
        if not ttnn_installed():
            return False
        try:
            import ttnn
        except Exception as e:  # a native library that fails to load raises anything from ImportError to OSError
            raise _broken_chip(f"ttnn fails to import: {type(e).__name__}: {e}") from None
    try:
        count = int(ttnn.GetNumAvailableDevices())
    except Exception as e:  # ttnn's native TT_FATAL errors arrive as RuntimeError or its own types
        raise _broken_chip(f"ttnn cannot count the devices: {type(e).__name__}: {e}") from None
    if count < 1:
        raise _broken_chip("ttnn counts no device")
    return True


def _broken_chip(reason: str) -> DeviceError:
    return DeviceError(
        f"{DRIVER_PATH} lists a Tenstorrent device, but {shorten(reason, 160)}; check the driver and firmware "
        "(tt-smi), or run with --device cpu"
    )
