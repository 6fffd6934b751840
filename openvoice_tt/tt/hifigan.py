"""ttnn twin of `reference/hifigan.py`: HiFi-GAN on [1, 1, T, C] tensors, entirely on device.

ConvTranspose1d runs as a polyphase conv1d (`layers.ConvTranspose1d`); the mean over the three
resblocks (x / 3) is folded into the next conv's weights (leaky ReLU is positively homogeneous, so
conv(lrelu(x / 3)) = (conv / 3)(lrelu(x)) up to the bias); a zero speaker vector's conditioning (V2's
zero_g) is `cond.bias`, folded into `conv_pre`'s bias.

Fewer programs: the leaky ReLU between a resblock's two convs is the first conv's fused activation,
the final tanh is conv_post's, every other leaky ReLU is fused with the length mask into one multiply,
and the first one of a stage's resblocks (they all read the stage's input) runs once for all of them, in
DRAM like the stage's input, so in an L1 stage too (each first conv copies it into its shards and keeps
it; in L1 it would be one more live activation at the L1 rule's boundary). A stage can keep its activations
in L1 (sharded, no DRAM slicing) when `Conv1d.runs_in_l1` says its length bucket fits, else in DRAM; both
run the same ops. In L1 a resblock conv costs 2 programs (halo, conv) or 3 when its input comes from
DRAM, against 5 in DRAM (slice in, halo, move, conv, slice out: ttnn's DRAM slicing always moves the
halo output); which stages fit depends on the length bucket and the activations' type.

Run on a padded length bucket, the padded tail must read as zeros wherever a conv reads it, so that the
output equals an exact-length run (whose convs see zero padding there) sample for sample. The mask is
applied where a conv reads its input, and only there: a conv's output tail may hold anything (the
residual sums carry it along) as long as every conv input is masked; leaky ReLU keeps zeros zero, so
masking before or after it is the same.
"""

from __future__ import annotations

from math import prod
from typing import Any

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
    leaky_relu_activation,
    length_mask,
    masked,
    masked_leaky_relu,
)


class ResBlock1:
    def __init__(self, device: TtDevice, ref: ReferenceResBlock1, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.convs1 = [
            Conv1d.of(
                device, c, f"{name}.convs1.{i}", precision, activation=leaky_relu_activation(device.ttnn, LRELU_SLOPE)
            )
            for i, c in enumerate(ref.convs1)
        ]
        self.convs2 = [Conv1d.of(device, c, f"{name}.convs2.{i}", precision) for i, c in enumerate(ref.convs2)]

    def activate(self, x: Any, mask: Any | None) -> Any:
        """The masked leaky ReLU a conv1 reads (one multiply; a stage computes its first once, for all blocks)."""
        return masked_leaky_relu(self.ttnn, x, mask, LRELU_SLOPE)

    def __call__(
        self, x: Any, length: int, mask: Any | None = None, l1: bool = False, activated: Any | None = None
    ) -> Any:
        """x (its padded tail need not be zero) -> the block's output (its tail is not zero either).

        `activated`: masked leaky_relu(x) when the caller computed it once for every block of a stage (its
        first conv then keeps it: the other blocks read it too)."""
        ttnn = self.ttnn
        for k, (conv1, conv2) in enumerate(zip(self.convs1, self.convs2, strict=True)):
            shared = k == 0 and activated is not None
            xt = activated if shared else self.activate(x, mask)
            xt = conv1(xt, length, l1=l1, keep_input=shared)  # leaky ReLU fused
            xt = masked(ttnn, xt, mask)  # rebinding frees the unmasked output before conv2 runs
            x = ttnn.add(x, conv2(xt, length, l1=l1))
        return x


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
        self.resblocks = [
            ResBlock1(device, block, f"{name}.resblocks.{j}", precision) for j, block in enumerate(ref.resblocks)
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
        """Whether stage `stage`'s resblock chains run in L1 at `length` rows (the length-bucket rule), asked
        of the stage's first resblock conv: its input is the stage's width, as every activation of the chains."""
        return self.resblocks[stage * self.num_kernels].convs1[0].runs_in_l1(length, "resblocks")

    def _resblocks(self, stage: int, x: Any, length: int, mask: Any | None) -> Any:
        """The sum of a stage's resblocks (their mean lives in the next conv's weights). A method of its
        own so that nothing of the previous stage stays referenced (allocated) while this one runs."""
        ttnn = self.ttnn
        l1 = self.l1_stage(stage, length)
        blocks = self.resblocks[stage * self.num_kernels : (stage + 1) * self.num_kernels]
        # every block's first conv reads the same masked leaky_relu(x): one op for the stage, in DRAM like
        # x (an L1 conv keeps it: each copies it into its shards), freed when the stage returns
        activated = blocks[0].activate(x, mask)
        xs = blocks[0](x, length, mask, l1, activated)
        for block in blocks[1:]:
            xs = ttnn.add(xs, block(x, length, mask, l1, activated))
        return xs
