"""The ttnn backend: modules mirroring `openvoice_tt/reference/` file for file, on channels-last tensors.

Forward passes use ttnn ops only (through `device.ttnn`, the real package or its host emulation); the
host touches data only at the boundaries in `tt/device.py` (upload inputs and noise, read one length,
download audio).
"""
