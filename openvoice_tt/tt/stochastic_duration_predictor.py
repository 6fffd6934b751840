"""ttnn twin of `reference/stochastic_duration_predictor.py` (reverse pass only, `sdp.flows.1` unused).

The two flow channels are kept as two [1, 1, T, 1] columns, so the Flips between flows cost nothing:
each ConvFlow just reads the other column (flows 7 and 3 read column 1 and update column 0, flow 5 the
opposite), and the final ElementwiseAffine maps column 0 to the log-durations.

Few device programs: a DDSConv keeps its running sum masked (`x + mask * y`, one addcmul per layer)
so no conv input needs masking again, and a ConvFlow's projection is three Linears (widths, heights,
derivatives: the rows of `proj`) instead of one projection sliced at unaligned columns.
"""

from __future__ import annotations

import math
from typing import Any

from openvoice_tt.reference.stochastic_duration_predictor import ConvFlow as ReferenceConvFlow
from openvoice_tt.reference.stochastic_duration_predictor import DDSConv as ReferenceDDSConv
from openvoice_tt.reference.stochastic_duration_predictor import StochasticDurationPredictor as ReferenceSDP
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d, Linear, Precision, compute_config, layer_norm_params, masked
from openvoice_tt.tt.spline import InverseSpline


class DDSConv:
    def __init__(self, device: TtDevice, ref: ReferenceDDSConv, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.layers = [
            (
                Conv1d.of(device, sep, f"{name}.convs_sep.{i}", precision),
                layer_norm_params(device, n1, f"{name}.norms_1.{i}", precision),
                Linear.of(device, pointwise, f"{name}.convs_1x1.{i}", precision),
                layer_norm_params(device, n2, f"{name}.norms_2.{i}", precision),
            )
            for i, (sep, pointwise, n1, n2) in enumerate(
                zip(ref.convs_sep, ref.convs_1x1, ref.norms_1, ref.norms_2, strict=True)
            )
        ]
        self.compute = compute_config(device, precision)

    def __call__(self, x: Any, length: int, mask: Any | None, g: Any | None = None) -> Any:
        ttnn = self.ttnn
        if g is not None:
            x = ttnn.add(x, g)
        x = masked(ttnn, x, mask)
        for sep, norm_1, pointwise, norm_2 in self.layers:
            # an L1 conv where the bucket fits (depthwise: its output is as wide as its input), its output
            # copied back to DRAM for the layer norm (4 programs, against 5 for ttnn's DRAM slicing)
            if sep.runs_in_l1(length, "convs"):
                y = ttnn.to_memory_config(sep(x, length, l1=True, keep_input=True), ttnn.DRAM_MEMORY_CONFIG)
            else:
                y = sep(x, length)
            y = ttnn.gelu(
                ttnn.layer_norm(y, weight=norm_1[0], bias=norm_1[1], epsilon=1e-5, compute_kernel_config=self.compute),
                fast_and_approximate_mode=False,
            )
            y = pointwise(y)
            y = ttnn.gelu(
                ttnn.layer_norm(y, weight=norm_2[0], bias=norm_2[1], epsilon=1e-5, compute_kernel_config=self.compute),
                fast_and_approximate_mode=False,
            )
            x = ttnn.add(x, y) if mask is None else ttnn.addcmul(x, y, mask, value=1.0)
        return x


class ConvFlow:
    def __init__(self, device: TtDevice, ref: ReferenceConvFlow, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.num_bins = ref.num_bins
        self.scale = 1.0 / math.sqrt(ref.filter_channels)
        self.pre = Linear.of(device, ref.pre, f"{name}.pre", precision)
        self.convs = DDSConv(device, ref.convs, f"{name}.convs", precision)
        w, k = device.weights, ref.num_bins
        parts = (("widths", slice(0, k)), ("heights", slice(k, 2 * k)), ("derivatives", slice(2 * k, None)))
        self.proj = [  # widths, heights, derivatives: rows of proj
            Linear(
                device,
                w.get(f"{name}.proj.weight[{part}]", lambda rows=rows: ref.proj.weight[rows]),
                w.get(f"{name}.proj.bias[{part}]", lambda rows=rows: ref.proj.bias[rows]),
                precision,
            )
            for part, rows in parts
        ]
        self.spline = InverseSpline(device, ref.num_bins, ref.tail_bound, precision)

    def reverse(self, source: Any, target: Any, length: int, mask: Any | None, condition: Any) -> Any:
        """Update column `target` with the inverse spline whose parameters come from column `source`.

        h is masked (DDSConv), so padded rows carry the projection's bias only: finite, and their
        spline outputs are masked away.
        """
        ttnn = self.ttnn
        h = self.convs(self.pre(source), length, mask, g=condition)
        widths, heights, derivatives = (proj(h) for proj in self.proj)
        unnormalized = ttnn.multiply(ttnn.concat([widths, heights], dim=1), self.scale)
        return masked(ttnn, self.spline(target, unnormalized, derivatives, length), mask)


class StochasticDurationPredictor:
    def __init__(self, device: TtDevice, ref: ReferenceSDP, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        w = device.weights
        self.pre = Linear.of(device, ref.pre, f"{name}.pre", precision)
        self.cond = Linear.of(device, ref.cond, f"{name}.cond", precision)
        self.convs = DDSConv(device, ref.convs, f"{name}.convs", precision)
        self.proj = Linear.of(device, ref.proj, f"{name}.proj", precision)
        self.flows = [ConvFlow(device, ref.flows[key], f"{name}.flows.{key}", precision) for key in ref.reverse_order]
        affine = ref.flows["0"]
        m = w.get(f"{name}.flows.0.m", lambda: affine.m)
        logs = w.get(f"{name}.flows.0.logs", lambda: affine.logs)
        self.affine_shift = float(m[0, 0])
        self.affine_scale = float(math.exp(-float(logs[0, 0])))

    def __call__(self, x: Any, length: int, mask: Any | None, g: Any, noise: Any) -> Any:
        """h [1, 1, T, C], scaled noise [1, 1, T, 2] -> log-durations [1, 1, T, 1]."""
        ttnn = self.ttnn
        c = masked(ttnn, self.proj(self.convs(ttnn.add(self.pre(x), self.cond(g)), length, mask)), mask)
        columns = [ttnn.slice(noise, [0, 0, 0, i], [1, 1, length, i + 1]) for i in range(2)]
        for i, flow in enumerate(self.flows):  # after an odd number of flips the flow reads column 1
            source = 1 if i % 2 == 0 else 0
            columns[1 - source] = flow.reverse(columns[source], columns[1 - source], length, mask, c)
        logw = ttnn.multiply(ttnn.subtract(columns[0], self.affine_shift), self.affine_scale)
        return masked(ttnn, logw, mask)
