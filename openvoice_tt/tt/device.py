"""Opening a Tenstorrent device (real, mock, or the host emulation) and the host<->device boundary.

Every `tt/` module receives a `TtDevice` and calls ops on `device.ttnn`, which is either the real ttnn
package (a chip, or a mock device that validates but computes nothing) or `host_ttnn`, the CPU
emulation used for numerics. All host<->device traffic of an utterance goes through `upload`,
`download` and `read_scalar` here, which count it, so tests can hold the pipeline to its transfer
budget (inputs and noise up, at most one length read, audio down).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from openvoice_tt.errors import DeviceError, shorten
from openvoice_tt.tt.trace import OpTrace
from openvoice_tt.tt.weights import WeightCache

MOCK_ENV = "TT_METAL_MOCK_CLUSTER_DESC_PATH"
MOCK_DESCRIPTORS = {
    "wormhole_n150": "wormhole_N150.yaml",
    "blackhole_p150": "blackhole_P150.yaml",
}
L1_SMALL_SIZE = 131072  # conv halo/config tables live here; 32 KiB ran out on P150 at 30 s of audio
# Conv halo tables stay in L1_SMALL for as long as their programs are cached (one set per input shape):
# a mock P150 ran out after 4 converter lengths or 5 MeloTTS buckets. So at most this many shapes are
# kept compiled; a new one beyond it clears the program cache first (tests/tt/test_mock_device.py).
MAX_CACHED_SHAPES = 4


@dataclass
class TransferLog:
    """Host<->device traffic since the last reset (per utterance)."""

    uploads: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    scalar_reads: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.uploads.clear()
        self.downloads.clear()
        self.scalar_reads.clear()

    def summary(self) -> dict[str, int]:
        return {"uploads": len(self.uploads), "downloads": len(self.downloads), "scalar_reads": len(self.scalar_reads)}


@dataclass
class TtDevice:
    ttnn: OpTrace  # the real ttnn or host_ttnn, behind a (normally idle) op recorder
    handle: Any
    kind: str  # "emulation" | "mock" | "hardware"
    arch: str  # "host" | "wormhole_b0" | "blackhole"
    transfers: TransferLog = field(default_factory=TransferLog)
    weights: WeightCache = field(default_factory=WeightCache)
    # A mock device computes nothing (its scalar reads return 0): acceptance runs pin data-dependent
    # lengths here so a mock and an emulated run execute the same graph. Ignored on hardware.
    forced_scalars: dict[str, float] = field(default_factory=dict)
    shapes: list[tuple] = field(default_factory=list)  # the shapes whose programs are cached, oldest first
    generation: int = 0  # bumped whenever the program cache is cleared (prepared conv weights go with it)

    def use_shape(self, key: tuple) -> None:
        """Declare the (model, length) about to run: programs for a shape already compiled are reused; a
        new shape beyond MAX_CACHED_SHAPES clears the program cache, which frees the conv halo tables."""
        if key in self.shapes:
            return
        if len(self.shapes) >= MAX_CACHED_SHAPES:
            if not self.is_emulation:
                self.handle.clear_program_cache()
            self.shapes.clear()
            self.generation += 1
        self.shapes.append(key)

    @property
    def is_emulation(self) -> bool:
        return self.kind == "emulation"

    # Weights and constants: uploaded once at module construction, not part of an utterance's budget.

    def constant(self, tensor: torch.Tensor, dtype: Any, layout: Any = None) -> Any:
        ttnn = self.ttnn
        return ttnn.from_torch(
            tensor.float().contiguous(),
            dtype=dtype,
            layout=layout if layout is not None else ttnn.TILE_LAYOUT,
            device=self.handle,
        )

    def host_weight(self, tensor: torch.Tensor) -> Any:
        """A float32 ROW_MAJOR host tensor: the form ttnn.conv1d/conv2d prepare on their first call."""
        return self.ttnn.from_torch(tensor.float().contiguous(), dtype=self.ttnn.float32)

    # The per-utterance boundary.

    def upload(self, tensor: torch.Tensor, dtype: Any, name: str, layout: Any = None) -> Any:
        self.transfers.uploads.append(name)
        return self.constant(tensor, dtype, layout) if tensor.is_floating_point() else self._upload_ids(tensor, dtype)

    def _upload_ids(self, tensor: torch.Tensor, dtype: Any) -> Any:
        ttnn = self.ttnn
        return ttnn.from_torch(tensor.to(torch.int32), dtype=dtype, layout=ttnn.ROW_MAJOR_LAYOUT, device=self.handle)

    def download(self, tensor: Any, name: str) -> torch.Tensor:
        self.transfers.downloads.append(name)
        return self.ttnn.to_torch(tensor).float()

    def read_scalar(self, tensor: Any, name: str) -> float:
        self.transfers.scalar_reads.append(name)
        value = float(self.ttnn.to_torch(tensor).float().reshape(-1)[0])
        return value if self.kind == "hardware" else self.forced_scalars.get(name, value)

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
    return TtDevice(OpTrace(ttnn), handle, "mock" if mock else "hardware", arch)


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
