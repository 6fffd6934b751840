"""Which Tenstorrent device OPENVOICE_TT_DEVICE names: the one parser of that variable.

`openvoice-tt doctor`, `--device auto` and the ttnn backend all read the variable through
`device_choice`, so they accept and refuse the same values with the same message (before this module,
each had its own reading: doctor called `emulation:typo` fine while opening the device failed).

Values (surrounding blanks and letter case are ignored):
  hardware (or unset, or empty)   a real chip through ttnn
  emulation, emulation:faithful   the CPU emulation of ttnn, computing what a chip computes
  emulation:exact                 the CPU emulation in float32 with storage rounding only (debugging)
  mock:wormhole_n150, mock:blackhole_p150   ttnn's mock device: validates ops, computes nothing
  mock:wormhole_n300, mock:wormhole_t3000   a mock card of 2 / 8 Wormhole chips (`--devices`)

An empty value means the same as an unset one (hardware): `OPENVOICE_TT_DEVICE= openvoice-tt ...` is how
a shell user clears a variable for one command, and it must not turn into an error.

A leaf module (no ttnn, no torch), so doctor can parse the variable without importing a backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from openvoice_tt.errors import DeviceError, InputError

TT_DEVICE_ENV = "OPENVOICE_TT_DEVICE"
# Set by `tt.device.configure_mock` (or by hand): ttnn then opens a mock device in place of a chip.
MOCK_ENV = "TT_METAL_MOCK_CLUSTER_DESC_PATH"
EMULATION_MODES = ("faithful", "exact")
# mock device name -> its cluster descriptor (package data under tt/mock_devices/): UMD's format, one chip
# (N150, P150), or a card of several: an N300 (two Wormhole chips joined by ethernet, one on PCIe) and a
# T3000 (four N300s, eight chips in a 2 x 4 mesh), which `--devices` opens as one submesh per chip
MOCK_DESCRIPTORS = {
    "wormhole_n150": "wormhole_N150.yaml",
    "blackhole_p150": "blackhole_P150.yaml",
    "wormhole_n300": "wormhole_N300.yaml",
    "wormhole_t3000": "wormhole_T3000.yaml",
}
VALID_VALUES = (
    "hardware",
    "emulation",
    *(f"emulation:{mode}" for mode in EMULATION_MODES),
    *(f"mock:{name}" for name in MOCK_DESCRIPTORS),
)


@dataclass(frozen=True)
class DeviceChoice:
    """A parsed OPENVOICE_TT_DEVICE: `kind` "hardware" | "emulation" | "mock"; `variant` the emulation
    mode or the mock device name (None for hardware)."""

    kind: str
    variant: str | None = None

    def __str__(self) -> str:
        return self.kind if self.variant is None else f"{self.kind}:{self.variant}"


def parse_device_choice(value: str | None) -> DeviceChoice:
    """OPENVOICE_TT_DEVICE's value (None: unset) -> DeviceChoice, or a one-line DeviceError naming the
    value and the valid ones."""
    text = (value or "").strip().lower()
    kind, _, variant = text.partition(":")
    if text in ("", "hardware"):
        return DeviceChoice("hardware")
    if kind == "emulation" and (variant in EMULATION_MODES or text == "emulation"):
        return DeviceChoice("emulation", variant or "faithful")
    if kind == "mock" and variant in MOCK_DESCRIPTORS:
        return DeviceChoice("mock", variant)
    raise DeviceError(
        f"{TT_DEVICE_ENV}={value!r}: use {', '.join(VALID_VALUES[:-1])} or {VALID_VALUES[-1]} "
        "(unset or empty: hardware)"
    )


def device_choice(environ: Mapping[str, str] | None = None) -> DeviceChoice:
    """The device `environ` (default: this process's environment) names. Hardware with a mock descriptor
    set is refused: ttnn would open the mock (which computes nothing) in place of the chip."""
    environ = os.environ if environ is None else environ
    choice = parse_device_choice(environ.get(TT_DEVICE_ENV))
    if choice.kind == "hardware" and environ.get(MOCK_ENV):
        raise DeviceError(
            f"{MOCK_ENV} is set, which makes ttnn open a mock device (it computes nothing); unset it, "
            f"or ask for a mock explicitly with {TT_DEVICE_ENV}=mock:wormhole_n150"
        )
    return choice


@dataclass(frozen=True)
class ChipSelection:
    """Which chips `--devices` names: `ids` in the order given, or None for every chip the card has."""

    ids: tuple[int, ...] | None = (0,)

    @property
    def every(self) -> bool:
        return self.ids is None

    def __str__(self) -> str:
        return "all" if self.ids is None else ",".join(map(str, self.ids))


MAX_CHIPS = 64  # more ids than any Tenstorrent system has chips: a typo, not a card


def parse_chips(value: str) -> ChipSelection:
    """`--devices` -> ChipSelection: "all", or chip ids separated by commas ("0,1"), each once; a one-line
    InputError otherwise (exit 3, as another bad option value). Whether the ids exist is known only when the
    card is opened (`tt.card`): a DeviceError then."""
    text = value.strip().lower()
    if text == "all":
        return ChipSelection(None)
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and part.isascii() for part in parts):
        raise InputError(f"--devices {value!r}: use all, or chip ids separated by commas such as 0,1")
    ids = tuple(int(part) for part in parts)
    if len(set(ids)) != len(ids):
        raise InputError(f"--devices {value!r}: each chip once")
    if len(ids) > MAX_CHIPS or max(ids) >= MAX_CHIPS:
        raise InputError(f"--devices {value!r}: at most {MAX_CHIPS} chips, ids below {MAX_CHIPS}")
    return ChipSelection(ids)
