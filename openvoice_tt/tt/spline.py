"""ttnn twin of `reference/spline.py`: the inverse rational-quadratic spline, element-wise on device.

The bin search is a compare-and-sum (number of knots <= x, minus one) and every per-bin gather is a
one-hot mask times the table, summed over the bins: no data-dependent indexing leaves the device.
Tensors are [1, 1, T, K] with the K bins on the last axis.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from openvoice_tt.reference.spline import BOUNDARY_DERIVATIVE, MIN_BIN_HEIGHT, MIN_BIN_WIDTH, MIN_DERIVATIVE, SEARCH_EPS
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Precision, compute_config

# softplus(boundary) + min = 1: the slope where the spline meets its linear tails (computed as upstream does)
BOUNDARY_SLOPE = float(F.softplus(torch.tensor(BOUNDARY_DERIVATIVE, dtype=torch.float32)) + MIN_DERIVATIVE)


class InverseSpline:
    def __init__(self, device: TtDevice, num_bins: int, tail_bound: float, precision: Precision) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.num_bins = num_bins
        self.bound = tail_bound
        ttnn = device.ttnn
        self.bin_ids = device.constant(torch.arange(num_bins, dtype=torch.float32).reshape(1, 1, 1, -1), ttnn.float32)
        last_knot_eps = torch.zeros(1, 1, 1, num_bins + 1)
        last_knot_eps[..., -1] = SEARCH_EPS
        self.search_eps = device.constant(last_knot_eps, ttnn.float32)
        self.compute = compute_config(device, precision)

    def _column(self, value: float, length: int) -> Any:
        return self.device.resident.filled((1, 1, length, 1), value, self.ttnn.float32)

    def _knots(self, unnormalized: Any, min_size: float, length: int) -> tuple[Any, Any]:
        """-> knot positions [T, K+1] on [-B, B] (ends pinned) and bin sizes [T, K]."""
        ttnn, k, b = self.ttnn, self.num_bins, self.bound
        sizes = ttnn.add(
            ttnn.multiply(ttnn.softmax(unnormalized, dim=-1, compute_kernel_config=self.compute), 1 - min_size * k),
            min_size,
        )
        inner = ttnn.slice(ttnn.cumsum(sizes, dim=3), [0, 0, 0, 0], [1, 1, length, k - 1])
        inner = ttnn.subtract(ttnn.multiply(inner, 2 * b), b)
        knots = ttnn.concat([self._column(-b, length), inner, self._column(b, length)], dim=3)
        first = ttnn.slice(knots, [0, 0, 0, 0], [1, 1, length, k])
        return knots, ttnn.subtract(ttnn.slice(knots, [0, 0, 0, 1], [1, 1, length, k + 1]), first)

    def __call__(self, inputs: Any, widths: Any, heights: Any, derivatives: Any, length: int) -> Any:
        """inputs [1, 1, T, 1]; unnormalized widths, heights [.., K] and derivatives [.., K-1] -> outputs."""
        ttnn, k, b = self.ttnn, self.num_bins, self.bound
        inside = ttnn.multiply(ttnn.ge(inputs, -b), ttnn.le(inputs, b))
        x = ttnn.clamp(inputs, min=-b, max=b)
        cumwidths, bin_widths = self._knots(widths, MIN_BIN_WIDTH, length)
        cumheights, bin_heights = self._knots(heights, MIN_BIN_HEIGHT, length)
        slopes = ttnn.add(ttnn.softplus(derivatives, beta=1.0, threshold=20.0), MIN_DERIVATIVE)
        slopes = ttnn.concat(
            [self._column(BOUNDARY_SLOPE, length), slopes, self._column(BOUNDARY_SLOPE, length)], dim=3
        )

        found = ttnn.sum(
            ttnn.ge(x, ttnn.add(cumheights, self.search_eps)), dim=-1, keepdim=True, compute_kernel_config=self.compute
        )
        one_hot = ttnn.eq(ttnn.subtract(found, 1.0), self.bin_ids)

        def pick(table: Any, start: int = 0) -> Any:
            return ttnn.sum(
                ttnn.multiply(one_hot, ttnn.slice(table, [0, 0, 0, start], [1, 1, length, start + k])),
                dim=-1,
                keepdim=True,
                compute_kernel_config=self.compute,
            )

        x_k, w_k = pick(cumwidths), pick(bin_widths)
        y_k, h_k = pick(cumheights), pick(bin_heights)
        delta_k = pick(ttnn.div(bin_heights, bin_widths))
        d_k, d_k1 = pick(slopes), pick(slopes, 1)

        shifted = ttnn.subtract(x, y_k)
        curvature = ttnn.subtract(ttnn.add(d_k, d_k1), ttnn.multiply(delta_k, 2.0))
        a = ttnn.add(ttnn.multiply(shifted, curvature), ttnn.multiply(h_k, ttnn.subtract(delta_k, d_k)))
        b_ = ttnn.subtract(ttnn.multiply(h_k, d_k), ttnn.multiply(shifted, curvature))
        c = ttnn.neg(ttnn.multiply(delta_k, shifted))
        discriminant = ttnn.subtract(ttnn.multiply(b_, b_), ttnn.multiply(ttnn.multiply(a, c), 4.0))
        theta = ttnn.div(ttnn.multiply(c, 2.0), ttnn.subtract(ttnn.neg(b_), ttnn.sqrt(discriminant)))
        outputs = ttnn.add(ttnn.multiply(theta, w_k), x_k)
        return ttnn.where(inside, outputs, inputs)
