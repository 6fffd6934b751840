"""Opening a Tenstorrent device (real, mock, or the host emulation) and the host<->device boundary.

Every `tt/` module receives a `TtDevice` and calls ops on `device.ttnn`, which is either the real ttnn
package (a chip, or a mock device that validates but computes nothing) or `host_ttnn`, the CPU
emulation used for numerics. Every host->device copy goes through `_to_device` here and is counted by
kind: per-utterance inputs and noise (`upload`), weights (`constant`, and the conv weights ttnn prepares
on a conv's first call for a shape), and resident constants (`resident`: positions, fills, masks made
once and kept on the device). Downloads and the one length read are counted too, so tests hold the
pipeline to its transfer budget: a second utterance in a bucket uploads only its inputs and noise.

Inputs, noise and valid lengths land in preallocated device tensors (`InputSlots`, one per name and
shape, so one per length bucket): the first upload allocates, every later one copies into the same buffer
(`copy_host_to_device_tensor`), which is what lets a trace (`traced.py`) replay a forward that reads them.
With two command queues (a chip with traces on) uploads go on their own queue, ordered against compute
by events.
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
from openvoice_tt.tt.device_choice import MOCK_DESCRIPTORS, MOCK_ENV, DeviceChoice
from openvoice_tt.tt.program_budget import ProgramBudget
from openvoice_tt.tt.settings import TraceSettings
from openvoice_tt.tt.slots import InputSlots
from openvoice_tt.tt.trace import OpTrace
from openvoice_tt.tt.traced import Traces
from openvoice_tt.tt.weights import WeightCache

# Conv config tables stay in L1_SMALL for as long as their programs are cached: `ProgramBudget` clears
# the program cache only when a new (model, bucket) key may not fit (tests/tt/test_mock_device.py).
# 512 KiB hold every key of `openvoice-tt bench` (32 KiB ran out on P150 at 30 s, 128 KiB after ~5 keys)
# and leave the convs' circular buffers enough L1 at 30 s on both mock devices.
L1_SMALL_SIZE = 524288
# The length-bucket rule of the L1 conv chains (layers.fits_l1, asked through Conv1d.runs_in_l1), per kind
# of chain: per core, one activation of a chain may take this many bytes, or the chain runs in DRAM. The
# same on every arch (with `L1_RULE_GRID`: every arch runs one op graph), so set by the smaller L1 (N150:
# 869,024 B per bank beside L1_SMALL; P150: 936,832 B).
# "wavenet" (the gated convs, `wavenet.WN.gates_in_l1`): the first calibration, kept: vocoder chains of
# 11,008 x 128 (88 KiB per core) ran on the mock devices and 16,384 x 128 (128 KiB) ran out of L1, before
# the bf16/bfp8 precision change; the gates' own boundary (6,144 frames in bf16) is not re-measured.
# "convs": the two-conv chains of the text encoder's and flows' feed-forward layers and the duration
# predictors' convs (MeloTTS), at the first calibration's budget; mock acceptance of synthesis at 1, 10 and
# 30 s runs them in L1 on both mocks (the flows' 768-channel feed-forward at 2,688 frames: 63 KiB per core).
# "resblocks": a vocoder stage's resblock chains, bf16 activations and bfloat8_b weights (HiFi-GAN; about
# four activations live at once: the stage's sum, the block's residual, the masked conv input and the
# halo copy, beside the convs' circular buffers). Measured on both mocks with every stage at the longest
# frame bucket the rule admits, inside its vocoder (`scripts/tt_acceptance.py --job l1-boundary`, run by
# tests/tt/test_mock_device.py): at 128 KiB all run on N150 and P150 (256 channels at 16,384 rows, 128 at
# 16,384, 64 at 65,536, 32 and 16 at 131,072), and on the mock N150 they still run with a further 64 KiB
# per bank held in L1 beside them (the margin: half an activation more; 96 KiB more fails, 64 channels
# at 65,536 rows). 160 KiB fails on the mock N150 (64 channels at 81,920 rows: circular buffers clash),
# 192 KiB too (128 channels at 24,576 rows: out of L1); the P150 runs both. Less than 128 KiB would lose
# the 2 s conversion's 128-channel stage (256 frames: 16,384 rows, exactly 128 KiB per core).
# "resblocks-merged": the B * C-wide activation of a stage's merged resblock convs (`hifigan.StageResBlocks`:
# the first conv's output, the last conv's input), asked beside "resblocks". Measured like it
# (`--job l1-boundary`): at 320 KiB every stage runs on both mocks (256 channels at 13,312 rows, 312 KiB;
# 32 at 98,304, 288 KiB; 128, 64 and 16 bound by "resblocks"); 384 KiB fails on the mock N150 (64
# channels at 65,536 rows: the merged first conv's circular buffers clash with the L1 buffers).
L1_ACTIVATION_BYTES = {
    "wavenet": {"wormhole_b0": 96 * 1024, "blackhole": 96 * 1024},
    "resblocks": {"wormhole_b0": 128 * 1024, "blackhole": 128 * 1024},
    "resblocks-merged": {"wormhole_b0": 320 * 1024, "blackhole": 320 * 1024},
    "convs": {"wormhole_b0": 96 * 1024, "blackhole": 96 * 1024},
}
# The worker grid the L1 rule counts cores on, on every arch: an N150's 8 x 8, the smallest supported. A
# P150's larger grid only spreads a chain thinner (what fits here fits there), and one rule for every arch
# gives every arch the same op graph, so the emulation (which computes it) runs what each mock device runs.
L1_RULE_GRID = (8, 8)


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
    trace: TraceSettings = field(default_factory=TraceSettings)
    resident: ResidentConstants = field(init=False)  # constants made once and kept on the device
    slots: InputSlots = field(init=False)  # preallocated device tensors of the per-utterance inputs
    traces: Traces = field(init=False)  # captured forwards per bucket (idle unless `trace` is active)

    def __post_init__(self) -> None:
        self.resident = ResidentConstants(self.ttnn, self.upload_constant)
        self.slots = InputSlots()
        self.traces = Traces(self, self.trace.active(self.kind), self.trace.max_traces)

    @property
    def two_queues(self) -> bool:
        """Uploads on their own command queue (a chip with traces on; the mock devices cannot wait on events)."""
        return self.traces.enabled and not self.is_emulation and self.trace.upload_queue != 0

    def epoch(self) -> tuple[int, int, int]:
        """Changes whenever a device buffer that a captured forward may read could have moved or gone:
        a program cache clear (prepared conv weights), a resident constant replaced, an input slot dropped."""
        return self.generation, self.resident.moves, self.slots.evictions

    def use_shape(self, key: tuple) -> None:
        """Declare the (model, length bucket) about to run: programs of a compiled key are reused; a new
        key clears the program cache first only if its conv tables may not fit in L1_SMALL."""
        self.budget.admit(key, self._clear_program_cache)

    def _clear_program_cache(self) -> None:
        self.traces.release_all()  # a trace replays the programs (and prepared weights) being dropped
        if not self.is_emulation:
            self.handle.clear_program_cache()
        self.generation += 1

    @property
    def l1_grid(self) -> tuple[int, int]:
        """(columns, rows) of the worker cores the L1 rule counts (`L1_RULE_GRID`, the same on every arch;
        never more than the device has)."""
        columns, rows = self.compute_grid
        return min(columns, L1_RULE_GRID[0]), min(rows, L1_RULE_GRID[1])

    @property
    def compute_grid(self) -> tuple[int, int]:
        """(columns, rows) of the worker cores ttnn spreads an op over (the emulation, which has no cores,
        takes `L1_RULE_GRID`'s): the grid an L1 conv's input sharding is chosen on (`layers.l1_conv_input`)."""
        if self.is_emulation:
            return L1_RULE_GRID
        grid = self.handle.compute_with_storage_grid_size()
        return int(grid.x), int(grid.y)

    def l1_activation_bytes(self, chain: str) -> int:
        """Per-core bytes one activation of an L1 conv chain of this kind may take (`L1_ACTIVATION_BYTES`)."""
        budgets = L1_ACTIVATION_BYTES[chain]
        return budgets.get(self.arch, budgets["wormhole_b0"])

    @property
    def is_emulation(self) -> bool:
        return self.kind == "emulation"

    # The one host->device path, and what goes through it.

    def _to_device(self, tensor: torch.Tensor, dtype: Any, log: list[str], name: str, layout: Any = None) -> Any:
        log.append(name)
        return self._converted(tensor, dtype, layout, self.handle)

    def _converted(self, tensor: torch.Tensor, dtype: Any, layout: Any, device: Any) -> Any:
        """`tensor` in ttnn's form: on `device`, or a host tensor (device None) to copy into a slot."""
        ttnn = self.ttnn
        if not tensor.is_floating_point():  # ids: int32 row-major
            ids = tensor.to(torch.int32)
            return ttnn.from_torch(ids, dtype=dtype, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
        return ttnn.from_torch(
            tensor.float().contiguous(),
            dtype=dtype,
            layout=layout if layout is not None else ttnn.TILE_LAYOUT,
            device=device,
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
        """A per-utterance input or noise tensor, written into its preallocated slot (name, shape, dtype,
        layout): the same name and shape is the same device tensor, so an upload overwrites the previous
        upload of that name and shape (callers give each live input its own name)."""
        key = (name, tuple(tensor.shape), str(dtype), str(layout))
        slot = self.slots.get(key)
        if slot is None:
            return self.slots.add(key, self._to_device(tensor, dtype, self.transfers.uploads, name, layout))
        self.transfers.uploads.append(name)
        self._write(self._converted(tensor, dtype, layout, None), slot)
        return slot

    def upload_count(self, count: int, name: str) -> Any:
        """A valid length (tokens, frames) as a forward reads it: a [1, 1, 1, 1] float32 tensor in its input
        slot, like the inputs. Forwards build their padding masks from it on the device
        (`layers.length_mask`), so their op graph depends on the length bucket only and a trace captured
        at one length replays at any other length of its bucket."""
        return self.upload(torch.full((1, 1, 1, 1), float(count)), self.ttnn.float32, name)

    def stage(self, tensor: Any, name: str) -> Any:
        """A tensor computed on the device outside a traced forward (a clone's joined take), copied into its
        slot on the device, so the forward reads the same buffer every time (no host transfer)."""
        key = (name, tuple(tensor.shape), str(tensor.dtype), str(tensor.layout))
        slot = self.slots.get(key)
        if slot is None:
            return self.slots.add(key, self.ttnn.clone(tensor))
        self.ttnn.copy(tensor, slot)
        return slot

    def _write(self, host: Any, slot: Any) -> None:
        """Copy a host tensor into a device tensor; with two queues, on the upload queue, after the compute
        queued so far (which may still read the slot) and before any compute queued next."""
        ttnn = self.ttnn
        if not self.two_queues:
            ttnn.copy_host_to_device_tensor(host, slot)
            return
        queue = self.trace.upload_queue
        ttnn.wait_for_event(queue, ttnn.record_event(self.handle, 0))
        ttnn.copy_host_to_device_tensor(host, slot, cq_id=queue)
        ttnn.wait_for_event(0, ttnn.record_event(self.handle, queue))

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
        self.traces.release_all()
        if not self.is_emulation:
            self.ttnn.close_device(self.handle)


def open_device(choice: DeviceChoice, trace: TraceSettings = TraceSettings()) -> TtDevice:
    """Open the device `choice` names (`device_choice.device_choice()` reads it from OPENVOICE_TT_DEVICE);
    the caller owns it and closes it (`TtDevice.close`)."""
    if choice.kind == "emulation":
        return open_emulated_device(choice.variant or "faithful", trace)
    if choice.kind == "mock":
        configure_mock(choice.variant or "")
    return open_ttnn_device(trace=trace)


def open_emulated_device(mode: str = "faithful", trace: TraceSettings = TraceSettings()) -> TtDevice:
    """The CPU emulation of ttnn: "faithful" computes what a chip computes (source-register truncation,
    math fidelity, packer rounding); "exact" computes in float32 with storage rounding only (debugging).
    `trace` off by default; on, forwards are recorded and replayed as op lists (tests of `traced.py`)."""
    from openvoice_tt.tt import host_ttnn

    return TtDevice(OpTrace(host_ttnn), host_ttnn.open_device(mode=mode), "emulation", "host", trace=trace)


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


def open_ttnn_device(l1_small_size: int = L1_SMALL_SIZE, trace: TraceSettings = TraceSettings()) -> TtDevice:
    """Open device 0 through the real ttnn: a chip, or the mock device selected by `configure_mock`.
    With traces active (a chip, by default) it opens two command queues and a trace region."""
    if not ttnn_installed():
        raise DeviceError("ttnn is not installed: pip install 'openvoice-tt[tt]' (Python 3.10 or 3.12)")
    os.environ.setdefault("LOGURU_LEVEL", "WARNING")
    mock = bool(os.environ.get(MOCK_ENV))
    if not mock and not hardware_available():  # before importing ttnn: a machine without a chip never does
        raise DeviceError("no Tenstorrent device found (ttnn sees no chip); use --device cpu")
    import ttnn

    kind = "mock" if mock else "hardware"
    handle = ttnn.open_device(device_id=0, **open_arguments(trace, kind, l1_small_size))
    return ttnn_device(ttnn, handle, kind, trace)


def open_arguments(trace: TraceSettings, kind: str, l1_small_size: int = L1_SMALL_SIZE) -> dict[str, int]:
    """ttnn's arguments for opening a device (a chip alone, or a card's mesh) of `kind`: the L1_SMALL region,
    and with traces active (a chip) two command queues and a trace region; a DeviceError for traces asked
    of a mock."""
    traced = trace.active(kind)
    if traced and kind == "mock":
        raise DeviceError("trace capture needs a chip: ttnn's mock devices abort in it (TraceSettings.enabled)")
    queues = {"num_command_queues": 2 if trace.upload_queue else 1, "trace_region_size": trace.region_bytes}
    return {"l1_small_size": l1_small_size, **(queues if traced else {})}


def ttnn_device(ttnn: ModuleType, handle: Any, kind: str, trace: TraceSettings) -> TtDevice:
    """A `TtDevice` around an open ttnn device (a chip opened alone, or one chip's submesh of a card)."""
    arch = str(handle.arch()).split(".")[-1].lower()
    device = TtDevice(OpTrace(ttnn), handle, kind, arch, trace=trace)
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
