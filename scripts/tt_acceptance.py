#!/usr/bin/env python3
"""Run the ttnn modules on a mock Tenstorrent device (or the host emulation) and report the op graph.

Mock devices validate every op (shapes, layouts, program configs, L1/DRAM allocation) with the real
ttnn host code but compute nothing. This script is what the acceptance tests run in a subprocess (a
mock device must be chosen before ttnn is imported); it prints one JSON object: the transfers and the
(op, output shape) sequence, so a caller can compare it with the emulated run of the same inputs.

Usage: python scripts/tt_acceptance.py CHECKPOINT_DIR --device mock:wormhole_n150|mock:blackhole_p150|emulation
                                        --job convert|extract [--seconds S] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoints", type=Path)
    parser.add_argument("--device", default="emulation")
    parser.add_argument("--job", choices=["convert", "extract"], default="convert")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from openvoice_tt.tt.device import configure_mock

    if args.device.startswith("mock:"):
        configure_mock(args.device.split(":", 1)[1])

    import torch

    from openvoice_tt.config import ConverterPrecision
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.converter import load_converter_model
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.device import open_emulated_device, open_ttnn_device
    from openvoice_tt.tt.trace import OpTrace

    folder = args.checkpoints / "converter"
    ref = load_converter_model(folder / "config.json", folder / "checkpoint.pth")
    device = open_emulated_device() if args.device == "emulation" else open_ttnn_device()
    trace = OpTrace(device.ttnn)
    device.ttnn = trace
    model = ToneColorConverter(device, ref, ConverterPrecision())
    gen = torch.Generator().manual_seed(args.seed)
    audio = (torch.randn(int(args.seconds * ref.config.data.sampling_rate), generator=gen) * 0.3).numpy()
    trace.calls.clear()
    device.transfers.reset()
    start = time.perf_counter()
    if args.job == "extract":
        result = model.tone_color([audio])
    else:
        src, tgt = torch.randn(1, 256, 1, generator=gen), torch.randn(1, 256, 1, generator=gen)
        result = model.convert(audio, src, tgt, 0.3, NoiseSource(args.seed))
    seconds = time.perf_counter() - start
    device.close()
    print(
        json.dumps(
            {
                "device": args.device,
                "kind": device.kind,
                "arch": device.arch,
                "job": args.job,
                "output_shape": list(result.shape),
                "transfers": {
                    "uploads": device.transfers.uploads,
                    "downloads": device.transfers.downloads,
                    "scalar_reads": device.transfers.scalar_reads,
                },
                "ops": trace.calls,
                "seconds": seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
