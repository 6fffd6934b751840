"""ttnn twin of `reference/hifigan.py`: HiFi-GAN on [1, 1, T, C] tensors, entirely on device.

ConvTranspose1d runs as a polyphase conv1d (`layers.ConvTranspose1d`); the mean over the three
resblocks (x / 3) is folded into the next conv's weights (leaky ReLU is positively homogeneous, so
conv(lrelu(x / 3)) = (conv / 3)(lrelu(x)) up to the bias); a zero speaker vector's conditioning (V2's
zero_g) is `cond.bias`, folded into `conv_pre`'s bias.

Fewer programs: the leaky ReLU between a resblock's two convs is the first conv's fused activation,
the final tanh is conv_post's, every other leaky ReLU is fused with the length mask into one multiply,
and a stage's three resblocks share two merged convs (`StageResBlocks`: their first conv1s as one, their
last conv2s as one). A stage can keep its conv inputs and outputs in L1 (sharded, no DRAM slicing) when
`StageResBlocks.runs_in_l1` says its length bucket fits, else in DRAM; both run the same ops. In L1 a
resblock conv costs 2 programs (halo, conv): every op that writes a conv's input writes it in the conv's
own sharding (`layers.l1_conv_input`), against 5 in DRAM (slice in, halo, move, conv, slice out: ttnn's
DRAM slicing always moves the halo output); which stages fit depends on the length bucket and the
activations' type.

Run on a padded length bucket, the padded tail must read as zeros wherever a conv reads it, so that the
output equals an exact-length run (whose convs see zero padding there) sample for sample. The mask is
applied where a conv reads its input, and only there: a conv's output tail may hold anything (the
residual sums carry it along) as long as every conv input is masked; leaky ReLU keeps zeros zero, so
masking before or after it is the same.
"""

from __future__ import annotations

from math import prod
from typing import Any

import torch

from openvoice_tt.reference.commons import LRELU_SLOPE, LRELU_SLOPE_POST
from openvoice_tt.reference.hifigan import Generator as ReferenceGenerator
from openvoice_tt.reference.hifigan import ResBlock1 as ReferenceResBlock1
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import (
    Conv1d,
    ConvTranspose1d,
    Linear,
    Precision,
    dtype_of,
    l1_conv_input,
    leaky_relu_activation,
    length_mask,
    masked,
    masked_leaky_relu,
    placed,
)


def embedded(convs: list[torch.nn.Conv1d]) -> list[torch.Tensor]:
    """The convs' weights [out, in, k] as dilation-1 "same" kernels of one length, the longest span among
    them (d * (k - 1) + 1 taps): each tap at its offset from the centre, zeros elsewhere. A conv with such a
    kernel and padding (taps - 1) / 2 computes what the original did (odd kernels, "same" padding)."""
    taps = max(c.dilation[0] * (c.kernel_size[0] - 1) + 1 for c in convs)
    out = []
    for c in convs:
        k, d = c.kernel_size[0], c.dilation[0]
        if k % 2 == 0 or c.padding[0] != d * (k - 1) // 2:
            raise ValueError("HiFi-GAN resblocks: the ttnn vocoder needs odd, same-padded kernels")
        weight = c.weight.new_zeros(*c.weight.shape[:2], taps)
        start = (taps - 1) // 2 - d * (k - 1) // 2
        weight[:, :, start : start + d * (k - 1) + 1 : d] = c.weight
        out.append(weight)
    return out


class StageResBlocks:
    """A stage's resblocks (ResBlock1, one per kernel size), summed, the convs they share merged.

    Every block starts with a conv1 reading the same input (the stage's masked leaky ReLU) and ends with a
    conv2 whose output only feeds the stage's sum, so, exact in math (`embedded` kernels):
    - the blocks' first conv1s run as ONE conv, C -> B * C channels (B blocks), leaky ReLU fused, then one
      masked multiply and one split into the blocks' C-wide conv2 inputs;
    - the blocks' last conv2s run as ONE conv, B * C -> C, over the concatenated conv1 outputs (masked once,
      after the concat), their biases summed: sum_b (x_b + conv2_b(t_b)) = sum_b x_b + conv2(concat_b t_b).
    The middle pairs run per block. In V2's vocoders (kernels 3, 7, 11, first and last at dilation 1) each
    merged conv has 33 taps' weights (3 x 11) against the separate convs' 21: 1.19x a stage's resblock
    FLOPs, for fewer programs per stage (probe: README bench).

    bfloat8_b weights: a merged weight holds the separate weights' values and exact zeros; a chip's shared
    exponents (16 values along the output channels, one tap and input channel) keep each block's own when
    C is a multiple of 16 (V2's vocoders: 256 down to 16), and zeros never raise one. The last conv's bias
    is the sum of three, rounded once (the separate biases were each rounded, then added in float32)."""

    def __init__(
        self, device: TtDevice, refs: list[ReferenceResBlock1], names: list[str], precision: Precision
    ) -> None:
        self.ttnn, self.device = device.ttnn, device
        pairs = len(refs[0].convs1)
        if pairs < 2 or any(len(ref.convs1) != pairs for ref in refs):
            raise ValueError("HiFi-GAN resblocks: the ttnn vocoder needs one number (>= 2) of conv pairs per block")
        self.channels = refs[0].convs1[0].in_channels
        w, merged = device.weights, f"{names[0]}-{names[-1].rsplit('.', 1)[-1]}"
        lrelu = leaky_relu_activation(device.ttnn, LRELU_SLOPE)
        firsts, lasts = [ref.convs1[0] for ref in refs], [ref.convs2[-1] for ref in refs]
        self.first = Conv1d(
            device,
            w.get(f"{merged}.convs1.0.merged.weight", lambda: torch.cat(embedded(firsts), dim=0)),
            w.get(f"{merged}.convs1.0.merged.bias", lambda: torch.cat([c.bias for c in firsts])),
            precision,
            activation=lrelu,
        )
        self.last = Conv1d(
            device,
            w.get(f"{merged}.convs2.{pairs - 1}.merged.weight", lambda: torch.cat(embedded(lasts), dim=1)),
            w.get(f"{merged}.convs2.{pairs - 1}.merged.bias", lambda: sum(c.bias for c in lasts)),
            precision,
        )
        self.blocks = []  # per block: its first conv2, its middle (conv1, conv2) pairs, its last conv1
        for ref, name in zip(refs, names, strict=True):
            convs1 = [
                Conv1d.of(device, ref.convs1[i], f"{name}.convs1.{i}", precision, activation=lrelu)
                for i in range(1, pairs)
            ]
            convs2 = [Conv1d.of(device, ref.convs2[i], f"{name}.convs2.{i}", precision) for i in range(pairs - 1)]
            self.blocks.append((convs2[0], list(zip(convs1[:-1], convs2[1:], strict=True)), convs1[-1]))

    def runs_in_l1(self, rows: int) -> bool:
        """Whether the chains run in L1 at `rows` rows (the length-bucket rule): the C-wide chain, asked of the
        first conv (its input), and the merged convs' B * C-wide activation, asked of the last conv (its
        input; the first conv's output is as wide), each against its budget (`device.L1_ACTIVATION_BYTES`)."""
        return self.first.runs_in_l1(rows, "resblocks") and self.last.runs_in_l1(rows, "resblocks-merged")

    def __call__(self, x: Any, length: int, mask: Any | None, l1: bool) -> Any:
        """The stage's input x (in DRAM; its padded tail need not be zero) -> the sum of its blocks (the tail
        not zero either)."""
        ttnn = self.ttnn
        # In L1 only the convs' inputs and outputs are in L1: the ops that write a conv's input write it in
        # the conv's own sharding (`l1_conv_input`: no copy into its shards), and every residual (a block's
        # x, the stage's sum) and the concat go to DRAM, written there by the op that makes them (no program
        # of their own). Kept in L1 beside the pending split parts and the blocks' last conv1 outputs, they
        # ran out of L1 at the rule's boundary (mock N150, 128 channels at 16,384 rows: a 2 s conversion).
        dram, shards = placed(ttnn.DRAM_MEMORY_CONFIG), self._shards(length, l1)
        x_in = self.activate(x, mask, shards)
        # the conv2 inputs of every block's first pair: one conv, one mask, one split (one program into the
        # convs' shards when C is a tile multiple; else ttnn splits by slices, which untilize: in DRAM, as
        # from L1 shards their buffers clashed with the L1 chain's, mock N150, 16 channels at 131,072 rows)
        tiled = self.channels % 32 == 0
        first = masked(ttnn, self.first(x_in, length, l1=l1), mask, None if tiled else ttnn.DRAM_MEMORY_CONFIG)
        del x_in  # the L1 conv freed it
        parts = ttnn.split(first, self.channels, dim=3, **(placed(shards) if tiled else dram))
        del first
        # lists an op returned or read are never changed afterwards (a recorded trace holds them); an L1 conv
        # frees its input's buffer itself
        total, ends = None, []
        for (conv2, middle, conv1), part in zip(self.blocks, parts, strict=True):
            xb = ttnn.add(x, conv2(part, length, l1=l1), **dram)
            for conv1_, conv2_ in middle:
                xt = masked(ttnn, conv1_(self.activate(xb, mask, shards), length, l1=l1), mask)
                xb = ttnn.add(xb, conv2_(xt, length, l1=l1), **dram)
            ends.append(conv1(self.activate(xb, mask, shards), length, l1=l1))  # masked once, after the concat
            total = xb if total is None else ttnn.add(total, xb, **dram)
            del xb
        joined = ttnn.concat(ends, dim=3, **dram)
        del ends, parts, part
        joined = masked(ttnn, joined, mask, self._shards(length, l1, len(self.blocks)))
        return ttnn.add(total, self.last(joined, length, l1=l1), **dram)

    def _shards(self, length: int, l1: bool, blocks: int = 1) -> Any | None:
        """The L1 sharding a conv of this stage reads its input in, `blocks` times the stage's channels wide
        (None in DRAM)."""
        return l1_conv_input(self.device, length, blocks * self.channels) if l1 else None

    def activate(self, x: Any, mask: Any | None, shards: Any | None) -> Any:
        """The masked leaky ReLU a conv1 reads (one multiply), written in its L1 sharding (`shards`)."""
        return masked_leaky_relu(self.ttnn, x, mask, LRELU_SLOPE, memory_config=shards)


class Generator:
    def __init__(
        self, device: TtDevice, ref: ReferenceGenerator, name: str, precision: Precision, zero_condition: bool
    ) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.num_kernels = ref.num_kernels
        self.dtype = dtype_of(device, precision.activations)  # of the length masks
        w = device.weights
        mean = 1.0 / ref.num_kernels
        if zero_condition:  # cond(0) is cond.bias: fold it into conv_pre's bias
            self.conv_pre = Conv1d(
                device,
                w.get(f"{name}.conv_pre.weight", lambda: ref.conv_pre.weight),
                w.get(f"{name}.conv_pre.bias+cond", lambda: ref.conv_pre.bias + ref.cond.bias),
                precision,
            )
        else:
            self.conv_pre = Conv1d.of(device, ref.conv_pre, f"{name}.conv_pre", precision)
        self.cond = None if zero_condition else Linear.of(device, ref.cond, f"{name}.cond", precision)
        self.ups = []
        for i, up in enumerate(ref.ups):
            scale = 1.0 if i == 0 else mean  # stage i > 0 consumes the resblock mean of stage i - 1
            self.ups.append(
                ConvTranspose1d(
                    device,
                    w.get(f"{name}.ups.{i}.weight*{scale:.6f}", lambda up=up, scale=scale: up.weight * scale),
                    w.get(f"{name}.ups.{i}.bias", lambda up=up: up.bias),
                    stride=up.stride[0],
                    padding=up.padding[0],
                    precision=precision,
                )
            )
        n = ref.num_kernels
        self.stages = [
            StageResBlocks(
                device,
                list(ref.resblocks[i * n : (i + 1) * n]),
                [f"{name}.resblocks.{j}" for j in range(i * n, (i + 1) * n)],
                precision,
            )
            for i in range(len(ref.ups))
        ]
        self.conv_post = Conv1d(
            device,
            w.get(f"{name}.conv_post.weight*{mean:.6f}", lambda: ref.conv_post.weight * mean),
            None,
            precision,
            activation=device.ttnn.UnaryWithParam(device.ttnn.UnaryOpType.TANH),
        )

    def __call__(self, z: Any, length: int, g: Any | None, valid: Any | None = None) -> tuple[Any, int]:
        """z [1, 1, T, C] (zero past the `valid` frames: a device count, `TtDevice.upload_count`; None
        without padding) -> waveform [1, 1, T * hop, 1] and its length (the padded one)."""
        ttnn = self.ttnn
        x = self.conv_pre(z, length)
        if self.cond is not None:
            x = ttnn.add(x, self.cond(g))
        mask = length_mask(self.device, valid, length, self.dtype)
        for i, up in enumerate(self.ups):
            # rebinding frees the previous stage's sum (in L1 after an L1 stage) before the transposed conv
            # slices through L1: kept, it left ttnn too little L1 for the slice it picks (mock N150, 2,048
            # frames of the converter after its 256-channel stage ran in L1 at 128 KiB per core)
            x = masked_leaky_relu(ttnn, x, mask, LRELU_SLOPE, dram=True)
            x = up(x, length)
            length *= up.stride
            mask = length_mask(self.device, valid, length, self.dtype, scale=self.samples_per_frame(i))
            x = self._resblocks(i, x, length, mask)
        # conv_post with tanh fused (tt-metal's conv tests cover a fused TANH), in DRAM: the waveform
        # outlives this call (joined, resampled, converted), never in L1, where a later program's circular
        # buffers may need the space (ttnn's static CB region check); a conv's DRAM path returns DRAM
        x = masked_leaky_relu(ttnn, x, mask, LRELU_SLOPE_POST, dram=True)
        return self.conv_post(x, length), length

    def samples_per_frame(self, stage: int) -> int:
        """Rows per input frame once stage `stage` has upsampled."""
        return prod(up.stride for up in self.ups[: stage + 1])

    def l1_stage(self, stage: int, length: int) -> bool:
        """Whether stage `stage`'s resblock chains run in L1 at `length` rows (the length-bucket rule,
        `StageResBlocks.runs_in_l1`)."""
        return self.stages[stage].runs_in_l1(length)

    def _resblocks(self, stage: int, x: Any, length: int, mask: Any | None) -> Any:
        """The sum of a stage's resblocks (their mean lives in the next conv's weights). A method of its
        own so that nothing of the previous stage stays referenced (allocated) while this one runs."""
        return self.stages[stage](x, length, mask, self.l1_stage(stage, length))
