"""`pipeline.clone` on bare ttnn models, for the scripts and tests that build the models themselves.

The acceptance and traceability scripts, the program counts and the op-coverage test build a
`tt.synthesizer.MeloSynthesizer` and a `tt.converter.ToneColorConverter` on a device they opened, and
clone through the product's own pipeline and ttnn backends around them. That is harness code: it imports
the pipeline and the backends, which `openvoice_tt/tt/` never may (pyproject.toml's `[tool.importlinter]`),
so it lives here, outside the package. The imports of the pipeline and the backends happen on call, so
`tt_programs.py --against REV` can run this file against an older tree's `openvoice_tt`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from openvoice_tt.timing import NULL_TIMER, StageTimer

if TYPE_CHECKING:
    import numpy as np
    import torch

    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.synthesizer import SynthesisParams
    from openvoice_tt.text import TextInputs
    from openvoice_tt.tt.converter import ToneColorConverter
    from openvoice_tt.tt.synthesizer import MeloSynthesizer


def clone_on_device(
    synthesizer: MeloSynthesizer,
    converter: ToneColorConverter,
    chunks: Sequence[TextInputs],
    speaker_id: int,
    params: SynthesisParams,
    noise: NoiseSource,
    silence_samples: int,
    source_se: torch.Tensor,
    target_se: torch.Tensor,
    tau: float,
    timer: StageTimer = NULL_TIMER,
    durations: Sequence[torch.Tensor] | None = None,
) -> np.ndarray:
    """`pipeline.clone` on bare ttnn models (for the acceptance script and the op-coverage test).

    `durations` (per chunk; comparisons with torch only) replaces each chunk's predicted durations with
    the reference's, as `MeloSynthesizer.synthesize_on_device` documents."""
    from openvoice_tt.backends import TtConverter, TtSynthesizer
    from openvoice_tt.pipeline import Chunk, Conversion, Voice, clone

    voice = Voice(speaker_id, params, silence_samples)
    pieces = [Chunk("", inputs) for inputs in chunks]
    return clone(
        TtSynthesizer(synthesizer) if durations is None else _OnGivenDurations(synthesizer, durations),
        TtConverter(converter),
        pieces,
        voice,
        Conversion(source_se, target_se, tau),
        noise,
        timer,
    )


class _OnGivenDurations:
    """A ttnn synthesizer backend whose chunks run on given durations, one tensor per chunk in order
    (the acceptance script's torch comparisons; never the product's path)."""

    keeps_audio_on_device = True

    def __init__(self, model: MeloSynthesizer, durations: Sequence[torch.Tensor]) -> None:
        self.model, self.config, self.device = model, model.config, model.device
        self.durations = iter(durations)

    def synthesize_on_device(
        self, inputs: Any, speaker_id: int, params: SynthesisParams, noise: NoiseSource, timer: StageTimer = NULL_TIMER
    ):
        from openvoice_tt.interfaces import Synthesized
        from scripts.tt_given_durations import synthesize_on_device_on_durations

        given = next(self.durations)
        wave, samples, frames = synthesize_on_device_on_durations(
            self.model, inputs, speaker_id, params, noise, given, timer
        )
        return Synthesized(wave, None, frames, samples)
