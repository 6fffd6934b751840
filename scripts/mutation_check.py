#!/usr/bin/env python3
"""Inject each known parity trap (spec §9) into a scratch copy of the repository, one at a time, and check
that the default test suite catches it: a test suite that passes with a trap in place proves nothing.

Each mutant replaces one exact piece of source (which must occur exactly once, so the list cannot
silently go stale) and runs the tests that should catch it (`pytest -x`, slow tests excluded). The real
working tree is never touched: the repository's files (committed or not, minus ignored ones) are
copied to a temporary folder, and every mutant is undone before the next. Prints one line per mutant
and exits 1 if any survived (or no longer applies), 0 if every one was killed.

Usage: python scripts/mutation_check.py [--only TEXT ...] [--skip NAME ...] [--shard K/N] [--list]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TT_CONVERTER = "tests/tt/test_converter.py"
TT_MELO = "tests/tt/test_synthesizer.py"
TRAPS = "tests/reference/test_traps.py"
GOLDEN = "tests/reference/test_upstream_golden.py"
ALIGNMENT = "tests/reference/test_alignment.py"
ATTENTION = "tests/reference/test_attention.py"
SEQUENCE = "tests/text/test_text_sequence.py"
CHECKPOINTS = "tests/test_checkpoints.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the repository root
    original: str  # must occur exactly once in the file
    mutated: str
    tests: tuple[str, ...]  # the default-suite test files that must catch it


MUTANTS = [
    # Trap 14: HiFi-GAN leaky-ReLU slopes (0.1 inside, 0.01 before conv_post) and the resblock mean (x / 3).
    Mutant(
        "tt: slope 0.1 before conv_post",
        "openvoice_tt/tt/hifigan.py",
        "masked_leaky_relu(ttnn, x, mask, LRELU_SLOPE_POST, dram=True)",
        "masked_leaky_relu(ttnn, x, mask, 0.1, dram=True)",
        (TT_CONVERTER, TT_MELO),
    ),
    Mutant(
        "reference: slope 0.1 before conv_post",
        "openvoice_tt/reference/hifigan.py",
        "self.conv_post(F.leaky_relu(x, LRELU_SLOPE_POST))",
        "self.conv_post(F.leaky_relu(x, 0.1))",
        (GOLDEN, TRAPS),
    ),
    Mutant(
        "tt: resblock slope 0.12",
        "openvoice_tt/tt/hifigan.py",
        "return masked_leaky_relu(self.ttnn, x, mask, LRELU_SLOPE, memory_config=shards)",
        "return masked_leaky_relu(self.ttnn, x, mask, 0.12, memory_config=shards)",
        (TT_CONVERTER, TT_MELO),
    ),
    Mutant(
        "reference: resblock slope 0.12",
        "openvoice_tt/reference/hifigan.py",
        "xt = conv1(F.leaky_relu(x, LRELU_SLOPE))",
        "xt = conv1(F.leaky_relu(x, 0.12))",
        (GOLDEN, TRAPS),
    ),
    Mutant(
        "tt: upsampling slope 0.01",
        "openvoice_tt/tt/hifigan.py",
        "x = masked_leaky_relu(ttnn, x, mask, LRELU_SLOPE, dram=True)",
        "x = masked_leaky_relu(ttnn, x, mask, 0.01, dram=True)",
        (TT_CONVERTER, TT_MELO),
    ),
    Mutant(
        "reference: upsampling slope 0.01",
        "openvoice_tt/reference/hifigan.py",
        "x = up(F.leaky_relu(x, LRELU_SLOPE))",
        "x = up(F.leaky_relu(x, 0.01))",
        (GOLDEN, TRAPS),
    ),
    Mutant(
        "shared: LRELU_SLOPE_POST = 0.1",
        "openvoice_tt/reference/commons.py",
        "LRELU_SLOPE_POST = 0.01",
        "LRELU_SLOPE_POST = 0.1",
        (GOLDEN, TRAPS),
    ),
    Mutant(
        "tt: resblock sum not divided by 3",
        "openvoice_tt/tt/hifigan.py",
        "mean = 1.0 / ref.num_kernels",
        "mean = 1.0",
        (TT_CONVERTER, TT_MELO),
    ),
    Mutant(
        "reference: resblock sum not divided by 3",
        "openvoice_tt/reference/hifigan.py",
        "x = xs / self.num_kernels",
        "x = xs",
        (GOLDEN, TRAPS),
    ),
    # Trap 15: weight norm's g is per dim 0 (the input channel of a ConvTranspose1d).
    Mutant(
        "shared: weight-norm norm over dims but 1",
        "openvoice_tt/checkpoints.py",
        "dims = tuple(range(1, v.dim()))",
        "dims = tuple(d for d in range(v.dim()) if d != 1)",
        (GOLDEN, CHECKPOINTS),
    ),
    # Spec §3: the SDP noise is scaled by noise_scale_w, the prior noise by noise_scale (0.8 / 0.6).
    Mutant(
        "tt: SDP noise scaled by noise_scale",
        "openvoice_tt/tt/synthesizer.py",
        "ttnn.multiply(sdp_noise, params.noise_scale_w)",
        "ttnn.multiply(sdp_noise, params.noise_scale)",
        (TT_MELO,),
    ),
    Mutant(
        "reference: SDP noise scaled by noise_scale",
        "openvoice_tt/reference/synthesizer.py",
        "* params.noise_scale_w",
        "* params.noise_scale",
        (GOLDEN,),
    ),
    Mutant(
        "tt: prior noise scale 0.55",
        "openvoice_tt/tt/synthesizer.py",
        "ttnn.exp(logs_p)), params.noise_scale)",
        "ttnn.exp(logs_p)), 0.55)",
        (TT_MELO,),
    ),
    Mutant(
        "reference: prior noise scale 0.55",
        "openvoice_tt/reference/synthesizer.py",
        "torch.exp(logs_p) * params.noise_scale",
        "torch.exp(logs_p) * 0.55",
        (GOLDEN,),
    ),
    Mutant(
        "shared: default noise_scale 0.55",
        "openvoice_tt/config/defaults.py",
        "    noise_scale: float = 0.6\n",
        "    noise_scale: float = 0.55\n",
        (GOLDEN,),
    ),
    # Trap 8: logw = ratio * SDP + (1 - ratio) * DP.
    Mutant(
        "tt: SDP and DP weights swapped",
        "openvoice_tt/tt/synthesizer.py",
        "ttnn.multiply(logw_sdp, params.sdp_ratio), ttnn.multiply(logw_dp, 1 - params.sdp_ratio)",
        "ttnn.multiply(logw_sdp, 1 - params.sdp_ratio), ttnn.multiply(logw_dp, params.sdp_ratio)",
        (TT_MELO,),
    ),
    # Trap 1: blanks get tone 0 and language 0.
    Mutant(
        "text: blank tone 7",
        "openvoice_tt/text/sequence.py",
        "intersperse(tone_ids, 0)",
        "intersperse(tone_ids, EN_TONE_START)",
        (SEQUENCE,),
    ),
    Mutant(
        "text: blank language 2",
        "openvoice_tt/text/sequence.py",
        "intersperse(language_ids, 0)",
        "intersperse(language_ids, EN_LANGUAGE_ID)",
        (SEQUENCE,),
    ),
    # The monotonic alignment: token i covers frames [cumsum_{i-1}, cumsum_i).
    Mutant(
        "reference: alignment cumsum reversed",
        "openvoice_tt/reference/alignment.py",
        "ends = torch.cumsum(durations, dim=-1)",
        "ends = torch.cumsum(durations.flip(-1), dim=-1).flip(-1)",
        (ALIGNMENT, GOLDEN),
    ),
    Mutant(
        "tt: alignment cumsum reversed",
        "openvoice_tt/tt/alignment.py",
        "ends = ttnn.transpose(ttnn.cumsum(durations, dim=2), -2, -1)",
        "ends = ttnn.transpose(ttnn.add(ttnn.subtract(ttnn.sum(durations), ttnn.cumsum(durations, dim=2)), "
        "durations), -2, -1)",
        (TT_MELO,),
    ),
    # Trap 10: relative attention window 4 (offsets -4..4).
    Mutant(
        "reference: relative window read as 3",
        "openvoice_tt/reference/attention.py",
        "rel_k = relative_embeddings(self.emb_rel_k, length, self.window_size)",
        "rel_k = relative_embeddings(self.emb_rel_k, length, self.window_size - 1)",
        (ATTENTION, GOLDEN),
    ),
    Mutant(
        "tt: relative offsets mirrored",
        "openvoice_tt/tt/attention.py",
        "torch.arange(-window, window + 1, dtype=torch.float32)",
        "torch.arange(window, -window - 1, -1, dtype=torch.float32)",
        (TT_MELO,),
    ),
    # Trap 9: speaker conditioning added before encoder layer 2.
    Mutant(
        "tt: speaker conditioning before layer 1",
        "openvoice_tt/tt/attention.py",
        "if i == self.cond_layer_idx and g is not None:",
        "if i == self.cond_layer_idx - 1 and g is not None:",
        (TT_MELO,),
    ),
    # Trap 11: zero_g: the converter's posterior encoder and decoder see a zero vector, biases still apply.
    Mutant(
        "reference: converter uses the speaker vector instead of zero_g",
        "openvoice_tt/reference/converter.py",
        "torch.zeros_like(se) if self.zero_g else se",
        "se",
        (GOLDEN, TRAPS),
    ),
    Mutant(
        "tt: zero_g drops the decoder's cond bias",
        "openvoice_tt/tt/hifigan.py",
        'w.get(f"{name}.conv_pre.bias+cond", lambda: ref.conv_pre.bias + ref.cond.bias)',
        'w.get(f"{name}.conv_pre.bias+cond", lambda: ref.conv_pre.bias)',
        (TT_CONVERTER,),
    ),
    Mutant(
        "tt: zero_g drops the WaveNet cond bias",
        "openvoice_tt/tt/wavenet.py",
        "lambda layer=layer, rows=rows: layer.bias + ref.cond_layer.bias[rows]",
        "lambda layer=layer, rows=rows: layer.bias",
        (TT_CONVERTER,),
    ),
    # Trap 12: the converter's spectrogram (periodic Hann, +1e-6 inside the sqrt).
    Mutant(
        "tt: symmetric Hann window",
        "openvoice_tt/tt/spectrogram.py",
        "torch.hann_window(win_length, periodic=True, dtype=torch.float64)",
        "torch.hann_window(win_length, periodic=False, dtype=torch.float64)",
        (TT_CONVERTER,),
    ),
    # Trap 7: the SDP's reverse pass skips sdp.flows.1 and runs the others in reverse order.
    Mutant(
        "reference: SDP flows in forward order",
        "openvoice_tt/reference/stochastic_duration_predictor.py",
        "self.reverse_order = tuple(str(2 * i + 1) for i in range(n_flows - 1, 0, -1))",
        "self.reverse_order = tuple(str(2 * i + 1) for i in range(1, n_flows))",
        (GOLDEN, TRAPS),
    ),
]


def scratch_copy(target: Path) -> None:
    """The working tree as git sees it (tracked and untracked, not ignored), without touching it."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_mutant(root: Path, mutant: Mutant, env: dict[str, str]) -> tuple[str, float, str]:
    """Apply, test, undo. Returns (killed | SURVIVED | STALE, seconds, the last line pytest printed)."""
    path = root / mutant.path
    text = path.read_text()
    if text.count(mutant.original) != 1:
        return "STALE", 0.0, f"{mutant.path}: the original text occurs {text.count(mutant.original)} times"
    path.write_text(text.replace(mutant.original, mutant.mutated))
    start = time.perf_counter()
    try:
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "-p", "no:cacheprovider"]
        result = subprocess.run([*command, *mutant.tests], cwd=root, env=env, capture_output=True, text=True)
    finally:
        path.write_text(text)
    lines = (result.stdout + result.stderr).strip().splitlines()
    verdict = "killed" if result.returncode == 1 else "SURVIVED" if result.returncode == 0 else "ERROR"
    return verdict, time.perf_counter() - start, lines[-1] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="TEXT", help="run only mutants whose name contains TEXT")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME", help="leave out mutants with this exact name")
    parser.add_argument("--shard", default="1/1", help="K/N: run every N-th mutant from the K-th (parallel runs)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    shard, shards = (int(n) for n in args.shard.split("/"))
    chosen = [m for m in MUTANTS if (not args.only or any(t in m.name for t in args.only)) and m.name not in args.skip]
    mutants = chosen[shard - 1 :: shards]
    if args.list:
        for m in mutants:
            print(f"{m.name}  ({m.path}; {', '.join(m.tests)})")
        return 0
    total = time.perf_counter()
    failed = []
    with tempfile.TemporaryDirectory(prefix="mutation-check-") as scratch:
        root = Path(scratch)
        scratch_copy(root)
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("OPENVOICE_TT_DEVICE", None)
        for mutant in mutants:
            verdict, seconds, last = run_mutant(root, mutant, env)
            print(f"{verdict:<8} {seconds:6.1f} s  {mutant.name}  [{last}]", flush=True)
            if verdict != "killed":
                failed.append(mutant.name)
    print(f"{len(mutants) - len(failed)} of {len(mutants)} mutants killed in {time.perf_counter() - total:.0f} s")
    if failed:
        print("not killed: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
