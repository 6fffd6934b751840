"""Every chip a process uses: one `TtDevice` per chip, each a pipeline replica's own device.

An N300 has two Wormhole chips and a T3000 eight. The way tt-metal's data-parallel demos use them is one
mesh device over the card, split into 1 x 1 submeshes (`MeshDevice.create_submeshes`), each then driven as
a device of its own: here each submesh gets its own `TtDevice` (program cache, weights, input slots,
traces), so a replica built on it shares nothing with the others. The whole card is opened even when
`--devices` names fewer chips: ttnn opens a mesh of the system's shape, and the chips left out stay idle.

One chip alone (chip 0, the default) is opened as before, with `ttnn.open_device`: the path every
single-chip command has always taken. The emulation has no card: it gives each named chip an emulated
device of its own (chip ids are only names there), and `all` is one chip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openvoice_tt.errors import DeviceError
from openvoice_tt.tt.device import (
    TtDevice,
    configure_mock,
    hardware_available,
    open_arguments,
    open_emulated_device,
    open_ttnn_device,
    ttnn_device,
    ttnn_installed,
)
from openvoice_tt.tt.device_choice import MAX_CHIPS, ChipSelection, DeviceChoice
from openvoice_tt.tt.settings import TraceSettings


@dataclass
class Card:
    """The open chips: `devices` by chip id (in the order `--devices` named them); `mesh` the parent mesh
    device when the chips were opened as submeshes (closed after them), `spare` the submeshes not used."""

    devices: dict[int, TtDevice]
    mesh: Any = None
    spare: list[Any] = field(default_factory=list)
    chips_on_card: int = 1

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(self.devices)

    def device(self, chip: int) -> TtDevice:
        """The device of `chip`; a DeviceError naming the open chips if it is not one of them."""
        if chip not in self.devices:
            raise DeviceError(
                f"chip {chip} is not open (open: {', '.join(map(str, self.ids))}; open several at once with "
                "--devices, or api.resolve_replicas)"
            )
        return self.devices[chip]

    def close(self) -> None:
        """Close every chip, then the mesh they were split from (ttnn requires that order); one that fails to
        close does not keep the others open (the first failure is raised after all were tried)."""
        closers = [device.close for device in self.devices.values()]
        if self.mesh is not None:
            import ttnn

            closers += [lambda sub=sub: ttnn.close_mesh_device(sub) for sub in self.spare]
            closers.append(lambda mesh=self.mesh: ttnn.close_mesh_device(mesh))
        self.devices, self.spare, self.mesh = {}, [], None
        failure: BaseException | None = None
        for close in closers:
            try:
                close()
            except Exception as e:  # the others still close; the first failure is the caller's
                failure = failure or e
        if failure is not None:
            raise failure


def chip_count(choice: DeviceChoice) -> int | None:
    """How many chips the device `choice` names has (ttnn's count: a chip's card, or the mock's descriptor);
    None for the emulation, which emulates as many as are named. Call before the first `import ttnn` only
    through `open_card` (a mock must be configured first)."""
    if choice.kind == "emulation":
        return None
    if choice.kind == "mock":
        configure_mock(choice.variant or "")
    elif not hardware_available():
        raise DeviceError("no Tenstorrent device found (ttnn sees no chip); use --device cpu")
    if not ttnn_installed():
        raise DeviceError("ttnn is not installed: pip install 'openvoice-tt[tt]' (Python 3.10 or 3.12)")
    import ttnn

    return int(ttnn.GetNumAvailableDevices())


def open_card(choice: DeviceChoice, chips: ChipSelection, trace: TraceSettings = TraceSettings()) -> Card:
    """Open the chips `chips` names on the device `choice` names; a DeviceError naming the chips there are
    when an id is not one of them. The caller owns the card and closes it (`Card.close`)."""
    if choice.kind == "emulation":
        ids = chips.ids or (0,)
        devices = {chip: open_emulated_device(choice.variant or "faithful", trace) for chip in ids}
        return Card(devices, chips_on_card=len(ids))
    count = chip_count(choice)
    assert count is not None
    ids = chips.ids if chips.ids is not None else tuple(range(count))
    missing = [chip for chip in ids if chip >= count]
    if missing:
        raise DeviceError(
            f"--devices {chips}: no chip {', '.join(map(str, missing))} here ({count} chip{'s' * (count != 1)}: "
            f"ids 0 to {count - 1}; `openvoice-tt doctor` lists them)"
        )
    if ids == (0,):
        return Card({0: open_ttnn_device(trace=trace)}, chips_on_card=count)
    return _open_submeshes(choice, ids, count, trace)


def _open_submeshes(choice: DeviceChoice, ids: tuple[int, ...], count: int, trace: TraceSettings) -> Card:
    """The card as one mesh of the system's shape, split into 1 x 1 submeshes; `ids` get a device each."""
    import ttnn

    kind = choice.kind
    mesh = ttnn.open_mesh_device(**open_arguments(trace, kind))
    card = Card({}, mesh=mesh, chips_on_card=count)
    try:
        submeshes = {int(sub.get_device_ids()[0]): sub for sub in mesh.create_submeshes(ttnn.MeshShape(1, 1))}
        card.spare = list(submeshes.values())
        if not set(ids) <= set(submeshes):
            raise DeviceError(
                f"ttnn split the card into chips {sorted(submeshes)}, not the ids it counts (0 to {count - 1})"
            )
        for chip in ids:
            card.spare.remove(submeshes[chip])
            card.devices[chip] = ttnn_device(ttnn, submeshes[chip], kind, trace)
    except BaseException:
        card.close()  # nothing half-open is left behind
        raise
    return card


@dataclass
class ChipClaim:
    """A chip this process holds against the other processes of the machine (an advisory lock on one file
    per chip, released with the process or by `release`)."""

    chip: int
    lock: Any

    def release(self) -> None:
        self.lock.close()


def claim_chip(choice: DeviceChoice, folder: Path | None = None) -> ChipClaim:
    """The first chip of the device `choice` names that no other process of this machine has claimed: one
    Ray worker per chip of a node (`batch --ray`), each opening its own, where every worker would otherwise
    open chip 0. The emulation has as many chips as are claimed. A DeviceError when every chip is held."""
    import fcntl
    import tempfile

    folder = folder if folder is not None else Path(tempfile.gettempdir()) / "openvoice-tt-chips"
    folder.mkdir(parents=True, exist_ok=True)
    count = chip_count(choice) if choice.kind != "emulation" else MAX_CHIPS
    for chip in range(count or 0):
        lock = open(folder / f"{choice.kind}-{chip}.lock", "a")  # noqa: SIM115 - held open: the claim
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return ChipClaim(chip, lock)
    raise DeviceError(f"every chip here ({count}) is held by another worker (one worker per chip)")
