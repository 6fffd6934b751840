#!/usr/bin/env python3
"""Which operand dtype mixes ttnn accepts, on a mock device and on the host emulation, side by side.

On a chip, ttnn refuses some ops whose tensor operands are stored in different types (TT_FATAL): a
bf16 block given a float32 mask fails there. The emulation must refuse the same mixes, or an emulated
test passes a graph the chip rejects. This calls each op the ttnn modules may mix types in, with every
float32 / bfloat16 / bfloat8_b combination of its tensor operands, on the chosen device, and prints one
JSON object: per case, the output dtype or "refused". Run once on a mock and once on the emulation
(`tests/tt/test_host_ttnn.py` compares the two).

Usage: python scripts/tt_dtype_mixes.py --device emulation|mock:wormhole_n150|mock:blackhole_p150
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DTYPES = ("float32", "bfloat16", "bfloat8_b")


def cases(ttnn: Any, tensor: Callable[..., Any], compute: Any) -> dict[str, Callable[[], Any]]:
    """Case name -> a call of ttnn on fresh operands; names list the operands' dtypes in argument order."""
    out: dict[str, Callable[[], Any]] = {}
    matrix = {"compute_kernel_config": compute}
    for a, b in itertools.product(DTYPES, repeat=2):
        out[f"add {a} {b}"] = lambda a=a, b=b: ttnn.add(tensor(a), tensor(b))
        out[f"multiply {a} {b}"] = lambda a=a, b=b: ttnn.multiply(tensor(a), tensor(b))
        out[f"where(c, t, scalar) {a} {b}"] = lambda a=a, b=b: ttnn.where(tensor(a), tensor(b), -1e4)
        out[f"where(c, scalar, t) {a} {b}"] = lambda a=a, b=b: ttnn.where(tensor(a), 0.0, tensor(b))
        out[f"concat {a} {b}"] = lambda a=a, b=b: ttnn.concat([tensor(a), tensor(b)], dim=3)
        out[f"matmul {a} {b}"] = lambda a=a, b=b: ttnn.matmul(tensor(a), tensor(b, (1, 1, 64, 32)), **matrix)
        out[f"linear {a} {b}"] = lambda a=a, b=b: ttnn.linear(
            tensor(a), tensor(b, (64, 32)), bias=tensor(b, (1, 32)), **matrix
        )
    for a, b, c in itertools.product(DTYPES, repeat=3):
        out[f"addcmul {a} {b} {c}"] = lambda a=a, b=b, c=c: ttnn.addcmul(tensor(a), tensor(b), tensor(c), value=1.0)
        out[f"where(c, t, f) {a} {b} {c}"] = lambda a=a, b=b, c=c: ttnn.where(tensor(a), tensor(b), tensor(c))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", required=True, help="emulation | mock:wormhole_n150 | mock:blackhole_p150")
    args = parser.parse_args()

    import torch

    from openvoice_tt.tt.device import configure_mock, open_emulated_device, open_ttnn_device
    from openvoice_tt.tt.layers import compute_config
    from openvoice_tt.tt.settings import MathConfig

    if args.device.startswith("mock:"):
        configure_mock(args.device.removeprefix("mock:"))
        device = open_ttnn_device()
    else:
        device = open_emulated_device()
    ttnn = device.ttnn

    def tensor(dtype: str, shape: tuple[int, ...] = (1, 1, 32, 64)) -> Any:
        values = torch.rand(shape)
        return ttnn.from_torch(values, dtype=getattr(ttnn, dtype), layout=ttnn.TILE_LAYOUT, device=device.handle)

    results = {}
    for name, call in cases(ttnn, tensor, compute_config(device, MathConfig())).items():
        try:
            results[name] = str(call().dtype).rsplit(".", 1)[-1].lower()
        except RuntimeError:
            results[name] = "refused"
    print(json.dumps(results))


if __name__ == "__main__":
    main()
