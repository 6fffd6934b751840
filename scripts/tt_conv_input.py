#!/usr/bin/env python3
"""Whether an L1 conv reads a tensor written in `layers.l1_conv_input`'s sharding as it is, on a mock device.

For each (rows, channels): an L1 `Conv1d` given an interleaved DRAM input shards it itself (an
InterleavedToSharded program); the memory config it asks for there is ttnn's own choice, compared with
`l1_conv_input`'s. The same conv given an input that a multiply wrote in `l1_conv_input`'s config must
launch no copy (halo + conv only). Prints one JSON object, per case: whether the configs agree and the
device operations the conv ran.

Usage: python scripts/tt_conv_input.py --device mock:wormhole_n150|mock:blackhole_p150 [--rows 256,896]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROWS = (128, 256, 896, 2688, 6144)  # frame buckets of 1, 2, 10, 30 s and the largest L1 WaveNet bucket
# height-sharded (tiny checkpoints), height-sharded, block-sharded (WaveNet H), and x = [h | g] of a
# speaker-conditioned WaveNet (H + gin = 192 + 256, `tt/wavenet.py`)
CHANNELS = (32, 64, 192, 448)
COPY = "InterleavedToShardedDeviceOperation"
HOST_WORDS = ("to_device", "from_device", "cpu", "to_torch")  # any read back to the host would show


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", required=True)
    parser.add_argument("--rows", default=",".join(map(str, ROWS)))
    args = parser.parse_args()
    from openvoice_tt.tt.device import configure_mock

    configure_mock(args.device.split(":", 1)[1])
    import torch
    import ttnn

    from openvoice_tt.tt.device import open_ttnn_device
    from openvoice_tt.tt.layers import Conv1d, dtype_of, l1_conv_input
    from openvoice_tt.tt.settings import LOFI_BFP8

    device = open_ttnn_device()
    bf16 = dtype_of(device, "bf16")

    def device_ops(call) -> list[str]:
        """The device operations (and host transfers) of one call (graph capture of a second, warm call)."""
        call()
        ttnn.graph.begin_graph_capture(ttnn.graph.RunMode.NORMAL)
        call()
        graph = ttnn.graph.end_graph_capture()
        names = [n["params"].get("name", "") for n in graph if n["node_type"] == "function_start"]
        return [name for name in names if "Operation" in name or any(word in name for word in HOST_WORDS)]

    def shard(text: str) -> str:
        return re.search(r"memory_layout=[^,]*,buffer_type=[^,]*,shard_spec=ShardSpec\{.*?\}", text).group(0)

    def shards_itself(conv, dram, rows: int) -> str:
        """The memory config an L1 conv asks InterleavedToSharded for, given an interleaved input."""
        conv(dram, rows, l1=True, keep_input=True)
        ttnn.graph.begin_graph_capture(ttnn.graph.RunMode.NORMAL)
        conv(dram, rows, l1=True, keep_input=True)
        for node in ttnn.graph.end_graph_capture():
            if node["node_type"] == "function_start" and node["params"].get("name") == COPY:
                return node["arguments"][0]
        raise RuntimeError("an interleaved input was not copied into L1 shards")

    def case(rows: int, channels: int) -> dict:
        conv = Conv1d(device, torch.randn(2 * channels, channels, 5), None, LOFI_BFP8, dilation=2)
        dram = device.upload(torch.randn(1, 1, rows, channels), bf16, "x")
        mask = device.upload(torch.ones(1, 1, rows, 1), bf16, "mask")
        home = l1_conv_input(device, rows, channels)
        theirs = shards_itself(conv, dram, rows)
        x = ttnn.multiply(dram, mask, memory_config=home)
        return {
            "same_config": shard(theirs) == shard(str(home)),
            "written_in_place": shard(str(x.memory_config())) == shard(str(home)),
            "conv": device_ops(lambda: conv(x, rows, l1=True, keep_input=True)),
        }

    report = {
        f"{rows}x{channels}": case(rows, channels) for channels in CHANNELS for rows in map(int, args.rows.split(","))
    }
    device.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
