"""ttnn twin of `reference/spline.py`: the inverse rational-quadratic spline, element-wise on device.

The bin search is a compare-and-sum (number of knots <= x, minus one) and every per-bin gather is a
one-hot mask times the table, summed over the bins: no data-dependent indexing leaves the device.
Tensors are [., ., T, K] with the K bins on the last axis.

Few device programs: widths and heights travel together as [1, 2, T, K] (one softmax, one cumsum,
one knot table for both), and the six values the inverse needs (knot x, knot y and slope at the bin's
two ends) come from one wide multiply and one reduction: the three tables [1, 3, T, K+1] against the
one-hot rows of the bin and of the next knot [2, 1, T, K+1]. The bin widths, heights and their ratio
are the differences of the picked knots, the same float32 operations the reference's tables use, and
the search counts the upper knots of bins 0..K-2 (the last one, B, carries the search epsilon).
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
        ttnn, k, b = device.ttnn, num_bins, tail_bound
        if MIN_BIN_WIDTH != MIN_BIN_HEIGHT:  # widths and heights share one [1, 2, T, K] tensor
            raise ValueError("the stacked spline tables need MIN_BIN_WIDTH == MIN_BIN_HEIGHT")
        ids = torch.arange(k + 1, dtype=torch.float32)
        # one-hot ids: row 0 picks the bin's own knot (index bin), row 1 the next one (index bin + 1)
        self.knot_ids = device.constant(torch.stack([ids, ids - 1]).reshape(2, 1, 1, k + 1), ttnn.float32)
        # upper knots of bins 0..K-1: 2B * cumsum - B, the last pinned to B (cumsum * 0 + B)
        scale, offset = torch.full((1, 1, 1, k), 2 * b), torch.full((1, 1, 1, k), -b)
        scale[..., -1], offset[..., -1] = 0.0, b
        self.knot_scale = device.constant(scale, ttnn.float32)
        self.knot_offset = device.constant(offset, ttnn.float32)
        # the search reads the heights' knots only: the widths' row is lifted out of reach (+4B)
        search = torch.zeros(1, 2, 1, k)
        search[0, 0] = 4 * b
        search[0, 1, 0, -1] = SEARCH_EPS
        self.search_offset = device.constant(search, ttnn.float32)
        self.compute = compute_config(device, precision)

    def _column(self, shape: tuple[int, ...], value: float, like: Any) -> Any:
        """A constant column to concatenate with `like` (ttnn's concat takes one dtype)."""
        return self.device.resident.filled(shape, value, like.dtype)

    def __call__(self, inputs: Any, unnormalized: Any, derivatives: Any, length: int) -> Any:
        """inputs [1, 1, T, 1]; unnormalized widths|heights [1, 2, T, K], derivatives [1, 1, T, K-1] -> outputs."""
        ttnn, k, b = self.ttnn, self.num_bins, self.bound
        x = ttnn.clamp(inputs, min=-b, max=b)
        inside = ttnn.eq(x, inputs)  # clamping changed nothing: -B <= input <= B

        sizes = ttnn.softmax(unnormalized, dim=-1, compute_kernel_config=self.compute)
        sizes = ttnn.add(ttnn.multiply(sizes, 1 - MIN_BIN_WIDTH * k), MIN_BIN_WIDTH)  # MIN_BIN_HEIGHT is equal
        upper = ttnn.add(ttnn.multiply(ttnn.cumsum(sizes, dim=3), self.knot_scale), self.knot_offset)
        knots = ttnn.concat([self._column((1, 2, length, 1), -b, upper), upper], dim=3)  # [1, 2, T, K+1]
        slopes = ttnn.add(ttnn.softplus(derivatives, beta=1.0, threshold=20.0), MIN_DERIVATIVE)
        boundary = self._column((1, 1, length, 1), BOUNDARY_SLOPE, slopes)
        slopes = ttnn.concat([boundary, slopes, boundary], dim=3)
        tables = ttnn.concat([knots, slopes], dim=1)  # [1, 3, T, K+1]: x knots, y knots, slopes

        found = ttnn.sum(
            ttnn.ge(x, ttnn.add(upper, self.search_offset)), dim=-1, keepdim=True, compute_kernel_config=self.compute
        )
        one_hot = ttnn.eq(ttnn.slice(found, [0, 1, 0, 0], [1, 2, length, 1]), self.knot_ids)  # [2, 1, T, K+1]
        picked = ttnn.sum(
            ttnn.multiply(tables, one_hot), dim=-1, keepdim=True, compute_kernel_config=self.compute
        )  # [2, 3, T, 1]: (bin, next knot) x (x, y, slope)

        def value(end: int, table: int) -> Any:
            return ttnn.slice(picked, [end, table, 0, 0], [end + 1, table + 1, length, 1])

        x_k, y_k, d_k = value(0, 0), value(0, 1), value(0, 2)
        x_k1, y_k1, d_k1 = value(1, 0), value(1, 1), value(1, 2)
        w_k, h_k = ttnn.subtract(x_k1, x_k), ttnn.subtract(y_k1, y_k)
        delta_k = ttnn.div(h_k, w_k)

        # the reference's root with c = -c_neg and the signs carried exactly:
        # b^2 - 4ac = b^2 + 4a c_neg, and 2c / (-b - sqrt(.)) = 2 c_neg / (b + sqrt(.))
        shifted = ttnn.subtract(x, y_k)
        curvature = ttnn.subtract(ttnn.add(d_k, d_k1), ttnn.multiply(delta_k, 2.0))
        shifted_curvature = ttnn.multiply(shifted, curvature)
        a = ttnn.add(shifted_curvature, ttnn.multiply(h_k, ttnn.subtract(delta_k, d_k)))
        b_ = ttnn.subtract(ttnn.multiply(h_k, d_k), shifted_curvature)
        c_neg = ttnn.multiply(delta_k, shifted)
        discriminant = ttnn.add(ttnn.multiply(b_, b_), ttnn.multiply(ttnn.multiply(a, c_neg), 4.0))
        theta = ttnn.div(ttnn.multiply(c_neg, 2.0), ttnn.add(b_, ttnn.sqrt(discriminant)))
        outputs = ttnn.add(ttnn.multiply(theta, w_k), x_k)
        return ttnn.where(inside, outputs, inputs)
