"""The rational-quadratic spline: invertible inside the bound, identity outside."""

from __future__ import annotations

import torch

from openvoice_tt.reference.spline import rational_quadratic_spline, search_bins

BOUND = 5.0


def _params(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, 10, generator=g) * 2, torch.randn(n, 10, generator=g) * 2, torch.randn(n, 9, generator=g))


def test_inverse_of_forward_is_identity_inside_the_bound() -> None:
    x = torch.linspace(-BOUND, BOUND, 2001, dtype=torch.float64)
    w, h, d = (p.double() for p in _params(x.numel()))
    y = rational_quadratic_spline(x, w, h, d, inverse=False, tail_bound=BOUND)
    assert (y - x).abs().max() > 0.1  # the transform is not trivially the identity
    back = rational_quadratic_spline(y, w, h, d, inverse=True, tail_bound=BOUND)
    torch.testing.assert_close(back, x, rtol=0, atol=1e-9)


def test_round_trip_in_float32_at_realistic_parameter_scale() -> None:
    """ConvFlow divides widths/heights by sqrt(192); at that scale float32 round-trips to ~1e-5."""
    x = torch.linspace(-BOUND, BOUND, 2001)
    w, h, d = _params(x.numel())
    w, h = w / 192**0.5 * 4, h / 192**0.5 * 4
    y = rational_quadratic_spline(x, w, h, d, inverse=False, tail_bound=BOUND)
    back = rational_quadratic_spline(y, w, h, d, inverse=True, tail_bound=BOUND)
    torch.testing.assert_close(back, x, rtol=0, atol=5e-5)


def test_one_spline_is_monotone_and_maps_the_bound_onto_itself() -> None:
    x = torch.linspace(-BOUND, BOUND, 501)
    w, h, d = (p[:1].expand(501, -1) for p in _params(1, seed=3))
    y = rational_quadratic_spline(x, w, h, d, inverse=False, tail_bound=BOUND)
    assert torch.all(y[1:] > y[:-1])
    torch.testing.assert_close(y[[0, -1]], torch.tensor([-BOUND, BOUND]), rtol=0, atol=1e-5)


def test_values_outside_the_tail_bound_pass_through_unchanged() -> None:
    x = torch.tensor([-1e3, -5.0001, 5.0001, 12.5, 1e6])
    w, h, d = _params(x.numel())
    for inverse in (False, True):
        assert torch.equal(rational_quadratic_spline(x, w, h, d, inverse=inverse, tail_bound=BOUND), x)


def test_bin_search_counts_knots_below() -> None:
    knots = torch.tensor([[-5.0, -1.0, 0.0, 2.0, 5.0]])
    x = torch.tensor([[-5.0, -1.5, -1.0, 1.9, 5.0]])
    assert search_bins(knots.expand(5, -1), x[0]).tolist() == [0, 0, 1, 2, 3]
