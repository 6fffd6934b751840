"""Where and how the models run: the `device` argument resolved to a backend, the `precision` argument
resolved on it (before any model loads), and the per-utterance stage timer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openvoice_tt.reference.precision import PrecisionChoice
    from openvoice_tt.timing import StageTimer


def resolve_device(device: str) -> str:
    """--device -> "cpu", "cuda" or "tt". Probing for a Tenstorrent chip ("auto") makes ttnn's native code
    log to stdout, which would corrupt audio written to stdout, so that probe runs with output silenced."""
    from openvoice_tt import backends

    if device != "auto":
        return backends.resolve_device(device)
    with silenced_native_output():
        return backends.resolve_device(device)


def resolve_replicas(device: str, devices: str | None) -> tuple[int, ...]:
    """`--devices` on `device`: the chips (ttnn) or GPUs (CUDA) to run one pipeline replica each on, "all"
    or ids such as "0,1" (None: chip or GPU 0 alone). On the ttnn backend the chips are opened now, before
    any model loads, so a chip that is not there is a DeviceError naming the ones there are; the CPU is one
    device (a DeviceError for anything but None)."""
    from openvoice_tt import backends
    from openvoice_tt.errors import DeviceError
    from openvoice_tt.tt.device_choice import parse_chips

    kind = resolve_device(device)
    if devices is None:
        return (0,)
    chips = parse_chips(devices)
    if kind == "tt":
        with silenced_native_output():  # opening a card logs to stdout from native code
            return backends.open_tt_chips(chips)
    if kind == "cuda":
        import torch

        count = torch.cuda.device_count()
        ids = chips.ids if chips.ids is not None else tuple(range(count))
        if not ids:
            raise DeviceError(f"--devices {devices}: no CUDA device is available (torch sees none)")
        for index in ids:
            backends.torch_device("cuda", index)  # a GPU that is not there: DeviceError naming the count
        return ids
    raise DeviceError(
        f"--devices {devices}: the CPU is one device (--devices picks chips: --device tt, or GPUs: --device cuda)"
    )


def resolve_precision(precision: str, device: str) -> PrecisionChoice:
    """--precision on --device, as the models would load it, before any loads (what `TTS.precision` and
    `ToneColorConverter.precision` then say): an InputError for an unknown value, a DeviceError for a value
    other than "auto" on the ttnn backend, which chooses its own precision per block."""
    from openvoice_tt import backends

    return backends.precision_choice(precision, resolve_device(device))


@contextlib.contextmanager
def silenced_native_output() -> Iterator[None]:
    """Point file descriptors 1 and 2 at /dev/null for a while (native libraries bypass sys.stdout)."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def stage_timer(device: str, index: int = 0) -> StageTimer:
    """A per-utterance stage timer; on CUDA it synchronizes GPU `index` (the model's) at stage edges so seconds
    mean compute time (a bare synchronize would wait on the thread's current GPU: another replica's)."""
    from openvoice_tt.timing import StageTimer

    if device == "cuda":
        from functools import partial

        import torch

        return StageTimer(sync=partial(torch.cuda.synchronize, index))
    return StageTimer()
