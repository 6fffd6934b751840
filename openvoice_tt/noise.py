"""Seeded Gaussian noise shared by both backends.

Upstream draws three Gaussian tensors with the global torch RNG (SDP noise, prior noise, posterior
noise). Here every draw comes from one host generator in a fixed order, so the torch and ttnn backends,
given the same seed and inputs, see exactly the same noise, and a seed reproduces a waveform bit for bit.
"""

from __future__ import annotations

import torch


class NoiseSource:
    """Draws standard-normal tensors on the host (CPU) from a private, seeded generator."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.generator = torch.Generator(device="cpu").manual_seed(seed)

    def normal(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.generator, dtype=torch.float32)

    def derived(self) -> NoiseSource:
        """A second, independent source fixed by this one's seed (a streamed clone's conversions draw from
        it, so the synthesizer's draws stay those of the non-streamed clone)."""
        return NoiseSource((self.seed * 0x9E3779B97F4A7C15 + 1) % 2**63)


class ReplayNoise(NoiseSource):
    """Returns given tensors in order (checking shapes): for parity tests against recorded runs."""

    def __init__(self, tensors: list[torch.Tensor]) -> None:
        super().__init__(0)
        self.queue = list(tensors)

    def normal(self, *shape: int) -> torch.Tensor:
        if not self.queue:
            raise RuntimeError(f"ReplayNoise exhausted (asked for {list(shape)})")
        tensor = self.queue.pop(0)
        if tuple(tensor.shape) != tuple(shape):
            raise RuntimeError(f"ReplayNoise: recorded {list(tensor.shape)}, asked for {list(shape)}")
        return tensor.float().clone()
