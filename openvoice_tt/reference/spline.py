"""Monotonic rational-quadratic spline with linear tails (Durkan et al. 2019; upstream `transforms.py`).

Used by the stochastic duration predictor's ConvFlow in the reverse (inverse-spline) direction. Inputs
outside [-bound, bound] pass through unchanged; inside, the bin is found by counting knots below the
input (upstream's `searchsorted`), which is also how the ttnn twin does it. Elements are processed
together with `where` instead of upstream's boolean indexing; each element's arithmetic is identical.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MIN_BIN_WIDTH = 1e-3
MIN_BIN_HEIGHT = 1e-3
MIN_DERIVATIVE = 1e-3
SEARCH_EPS = 1e-6
# Unnormalized boundary derivative whose softplus(+min) is exactly 1: the spline meets the linear tails.
BOUNDARY_DERIVATIVE = math.log(math.exp(1 - MIN_DERIVATIVE) - 1)


def knots(unnormalized: torch.Tensor, low: float, high: float, min_size: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax bin sizes -> (cumulative knot positions [..., K+1], bin sizes [..., K]) on [low, high]."""
    num_bins = unnormalized.shape[-1]
    sizes = min_size + (1 - min_size * num_bins) * F.softmax(unnormalized, dim=-1)
    cumulative = F.pad(torch.cumsum(sizes, dim=-1), (1, 0), value=0.0)
    cumulative = (high - low) * cumulative + low
    cumulative[..., 0] = low
    cumulative[..., -1] = high
    return cumulative, cumulative[..., 1:] - cumulative[..., :-1]


def search_bins(knot_positions: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Index of the bin holding each input: (number of knots <= input) - 1, last knot nudged by eps."""
    locations = knot_positions.clone()
    locations[..., -1] += SEARCH_EPS
    return torch.sum(inputs[..., None] >= locations, dim=-1) - 1


def _pick(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return table.gather(-1, index[..., None])[..., 0]


def rational_quadratic_spline(
    inputs: torch.Tensor,
    unnormalized_widths: torch.Tensor,
    unnormalized_heights: torch.Tensor,
    unnormalized_derivatives: torch.Tensor,
    inverse: bool,
    tail_bound: float,
) -> torch.Tensor:
    """inputs [...], params [..., K], [..., K], [..., K-1] -> outputs [...] (linear tails)."""
    inside = (inputs >= -tail_bound) & (inputs <= tail_bound)
    x = inputs.clamp(-tail_bound, tail_bound)  # outside elements are replaced below; clamp keeps them finite

    derivatives_raw = F.pad(unnormalized_derivatives, (1, 1))
    derivatives_raw[..., 0] = BOUNDARY_DERIVATIVE
    derivatives_raw[..., -1] = BOUNDARY_DERIVATIVE
    derivatives = MIN_DERIVATIVE + F.softplus(derivatives_raw)

    cumwidths, widths = knots(unnormalized_widths, -tail_bound, tail_bound, MIN_BIN_WIDTH)
    cumheights, heights = knots(unnormalized_heights, -tail_bound, tail_bound, MIN_BIN_HEIGHT)

    bin_idx = search_bins(cumheights if inverse else cumwidths, x)
    x_k = _pick(cumwidths, bin_idx)
    w_k = _pick(widths, bin_idx)
    y_k = _pick(cumheights, bin_idx)
    h_k = _pick(heights, bin_idx)
    delta_k = _pick(heights / widths, bin_idx)
    d_k = _pick(derivatives, bin_idx)
    d_k1 = _pick(derivatives[..., 1:], bin_idx)

    if inverse:
        shifted = x - y_k
        curvature = d_k + d_k1 - 2 * delta_k
        a = shifted * curvature + h_k * (delta_k - d_k)
        b = h_k * d_k - shifted * curvature
        c = -delta_k * shifted
        discriminant = b.pow(2) - 4 * a * c
        theta = (2 * c) / (-b - torch.sqrt(discriminant))
        outputs = theta * w_k + x_k
    else:
        theta = (x - x_k) / w_k
        theta_one_minus_theta = theta * (1 - theta)
        numerator = h_k * (delta_k * theta.pow(2) + d_k * theta_one_minus_theta)
        denominator = delta_k + (d_k + d_k1 - 2 * delta_k) * theta_one_minus_theta
        outputs = y_k + numerator / denominator
    return torch.where(inside, outputs, inputs)
