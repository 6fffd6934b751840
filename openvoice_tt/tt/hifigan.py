"""ttnn twin of `reference/hifigan.py`: HiFi-GAN on [1, 1, T, C] tensors, entirely on device.

ConvTranspose1d runs as a polyphase conv1d (`layers.ConvTranspose1d`); the mean over the three
resblocks (x / 3) is folded into the next conv's weights (leaky ReLU is positively homogeneous, so
conv(lrelu(x / 3)) = (conv / 3)(lrelu(x)) up to the bias); a zero speaker vector's conditioning (V2's
zero_g) is `cond.bias`, folded into `conv_pre`'s bias.

Run on a padded length bucket, every conv input is masked to zero past the valid samples, so the
output equals an exact-length run (whose convs see zero padding there) sample for sample.
"""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.commons import LRELU_SLOPE, LRELU_SLOPE_POST
from openvoice_tt.reference.hifigan import Generator as ReferenceGenerator
from openvoice_tt.reference.hifigan import ResBlock1 as ReferenceResBlock1
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d, ConvTranspose1d, Linear, Precision, length_mask, masked


class ResBlock1:
    def __init__(self, device: TtDevice, ref: ReferenceResBlock1, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.convs1 = [Conv1d.of(device, c, f"{name}.convs1.{i}", precision) for i, c in enumerate(ref.convs1)]
        self.convs2 = [Conv1d.of(device, c, f"{name}.convs2.{i}", precision) for i, c in enumerate(ref.convs2)]

    def __call__(self, x: Any, length: int, mask: Any | None = None) -> Any:
        ttnn = self.ttnn
        for conv1, conv2 in zip(self.convs1, self.convs2, strict=True):
            xt = masked(ttnn, conv1(ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE), length), mask)
            xt = masked(ttnn, conv2(ttnn.leaky_relu(xt, negative_slope=LRELU_SLOPE), length), mask)
            x = ttnn.add(x, xt)
        return x


class Generator:
    def __init__(
        self, device: TtDevice, ref: ReferenceGenerator, name: str, precision: Precision, zero_condition: bool
    ) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.num_kernels = ref.num_kernels
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
            device, w.get(f"{name}.conv_post.weight*{mean:.6f}", lambda: ref.conv_post.weight * mean), None, precision
        )

    def __call__(self, z: Any, length: int, g: Any | None, valid: int | None = None) -> tuple[Any, int]:
        """z [1, 1, T, C] (zero past `valid` frames) -> waveform [1, 1, T * hop, 1] and its length."""
        ttnn = self.ttnn
        x = self.conv_pre(z, length)
        if self.cond is not None:
            x = ttnn.add(x, self.cond(g))
        x = masked(ttnn, x, length_mask(self.device, valid, length) if valid is not None else None)
        for i, up in enumerate(self.ups):
            x = up(ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE), length)
            length *= up.stride
            valid = None if valid is None else valid * up.stride
            mask = length_mask(self.device, valid, length) if valid is not None else None
            x = masked(ttnn, x, mask)
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0](x, length, mask)
            for block in blocks[1:]:
                xs = ttnn.add(xs, block(x, length, mask))
            x = xs  # the 1/num_kernels mean lives in the next conv's weights
        x = self.conv_post(ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE_POST), length)
        return ttnn.tanh(x), length
