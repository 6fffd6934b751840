"""Which Tenstorrent device OPENVOICE_TT_DEVICE names: the one parser of that variable.

`openvoice-tt doctor`, `--device auto` and the ttnn backend all read the variable through
`device_choice`, so they accept and refuse the same values with the same message (before this module,
each had its own reading: doctor called `emulation:typo` fine while opening the device failed).

Values (surrounding blanks and letter case are ignored):
  hardware (or unset, or empty)   a real chip through ttnn
  emulation, emulation:faithful   the CPU emulation of ttnn, computing what a chip computes
  emulation:exact                 the CPU emulation in float32 with storage rounding only (debugging)
  mock:wormhole_n150, mock:blackhole_p150   ttnn's mock device: validates ops, computes nothing

An empty value means the same as an unset one (hardware): `OPENVOICE_TT_DEVICE= openvoice-tt ...` is how
a shell user clears a variable for one command, and it must not turn into an error.

A leaf module (no ttnn, no torch), so doctor can parse the variable without importing a backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from openvoice_tt.errors import DeviceError

TT_DEVICE_ENV = "OPENVOICE_TT_DEVICE"
# Set by `tt.device.configure_mock` (or by hand): ttnn then opens a mock device in place of a chip.
MOCK_ENV = "TT_METAL_MOCK_CLUSTER_DESC_PATH"
EMULATION_MODES = ("faithful", "exact")
# mock device name -> its cluster descriptor (package data under tt/mock_devices/)
MOCK_DESCRIPTORS = {
    "wormhole_n150": "wormhole_N150.yaml",
    "blackhole_p150": "blackhole_P150.yaml",
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
