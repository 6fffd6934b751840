"""Voice mixes: a weighted mean of tone-color embeddings, a new voice as stable as its parts.

One parser and one mixer for the CLI (`--se a.pth:0.7 --se b.pth:0.3`, `extract-se --mix`), batch (an
item's `se`: `a.pth:0.7|b.pth:0.3`) and the server (`voice: "alice*0.7+bob*0.3"`), so a mix is checked
and computed the same everywhere. Each part is a voice (a file, or a stored voice's name) with an optional
weight after the LAST weight separator, taken as a weight only when what follows reads as a number
(`C:\\voices\\a.pth` or `my:voice.pth` stay paths; a file whose name ends in `:<number>` is named with an
explicit weight, `x:1:1`). A part without a weight weighs 1.

Checked before any model loads: at most `MAX_MIX_VOICES` parts, no empty part, every weight finite and above
0 as the float32 the mix computes with (so is their sum), each file an embedding (`load_se`'s checks) and
all of one shape. The mix is sum(w_i * se_i) / sum(w_i) in float32; a mix of one voice is that voice's
tensor unchanged, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from openvoice_tt.api.embeddings import load_se
from openvoice_tt.api.speech import PathLike
from openvoice_tt.errors import InputError

if TYPE_CHECKING:
    import torch

MAX_MIX_VOICES = 8
"""Most voices in one mix."""
FILE_WEIGHT = ":"
"""Between an embedding file and its weight (CLI `--se`/`--mix`, batch `se`)."""
FILE_SEPARATOR = "|"
"""Between the files of a mix in one batch `se` value (as `reference` lists several recordings)."""
NAME_WEIGHT = "*"
"""Between a stored voice's name and its weight (the server's `voice`)."""
NAME_SEPARATOR = "+"
"""Between the voices of a mix in the server's `voice`."""


@dataclass(frozen=True)
class MixPart:
    voice: str  # a file (CLI, batch) or a stored voice's name (server)
    weight: float  # as given (the mix divides by the sum)
    weighted: bool  # the weight was written (`a.pth:1`), not implied (`a.pth`)

    def spec(self, weight_separator: str) -> str:
        return f"{self.voice}{weight_separator}{self.weight:g}" if self.weighted else self.voice


@dataclass(frozen=True)
class VoiceMix:
    """A checked mix: 1 to `MAX_MIX_VOICES` parts, every weight finite and above 0."""

    parts: tuple[MixPart, ...]

    @property
    def voices(self) -> tuple[str, ...]:
        return tuple(part.voice for part in self.parts)

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(part.weight for part in self.parts)

    def spec(self, weight_separator: str = FILE_WEIGHT, separator: str = FILE_SEPARATOR) -> str:
        """The mix written back (one part: as it was given)."""
        return separator.join(part.spec(weight_separator) for part in self.parts)


def _float32(value: float) -> float:
    import numpy as np

    with np.errstate(over="ignore", under="ignore"):
        return float(np.float32(value))


def parse_part(spec: str, weight_separator: str = FILE_WEIGHT) -> MixPart:
    """`voice` or `voice<sep>weight`; InputError for an empty voice or weight, or a weight not finite and
    above 0 (as a float32)."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"voice mix: an empty voice (write each as VOICE or VOICE{weight_separator}WEIGHT)")
    spec = spec.strip()
    voice, separator, tail = spec.rpartition(weight_separator)
    if not separator:
        return MixPart(spec, 1.0, False)
    if not tail.strip():
        raise InputError(f"voice mix: no weight after '{weight_separator}' in {spec!r}")
    try:
        weight = float(tail)
    except ValueError:  # not a number: the separator is part of the voice's name
        return MixPart(spec, 1.0, False)
    if not voice.strip():
        raise InputError(f"voice mix: no voice before the weight in {spec!r}")
    if not (math.isfinite(weight) and weight > 0 and _float32(weight) > 0 and math.isfinite(_float32(weight))):
        raise InputError(
            f"voice mix: the weight of {voice.strip()!r} must be a finite number above 0 "
            f"(as a float32: 1.4e-45 to 3.4e38), got {tail.strip()!r}"
        )
    return MixPart(voice.strip(), weight, True)


def parse_mix(specs: Sequence[str], weight_separator: str = FILE_WEIGHT) -> VoiceMix:
    """One part per spec (`parse_part`), at most `MAX_MIX_VOICES`, their float32 sum finite."""
    if isinstance(specs, str):
        specs = [specs]
    if not specs:
        raise InputError("voice mix: no voice")
    if len(specs) > MAX_MIX_VOICES:
        raise InputError(f"voice mix: {len(specs)} voices, at most {MAX_MIX_VOICES}")
    parts = tuple(parse_part(spec, weight_separator) for spec in specs)
    total = 0.0
    for part in parts:
        total = _float32(total + _float32(part.weight))
    if not (math.isfinite(total) and total > 0):
        given = sum(part.weight for part in parts)
        raise InputError(f"voice mix: the weights add up to more than a float32 holds ({given:g})")
    return VoiceMix(parts)


def split_mix(text: str, separator: str = FILE_SEPARATOR, weight_separator: str = FILE_WEIGHT) -> VoiceMix:
    """A mix written as one string (batch `a.pth:0.7|b.pth:0.3`, server `alice*0.7+bob*0.3`)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("voice mix: no voice")
    pieces = text.split(separator)
    if len(pieces) > 1 and any(not piece.strip() for piece in pieces):
        raise InputError(f"voice mix: an empty voice in {text.strip()!r} (write VOICE{separator}VOICE)")
    return parse_mix(pieces, weight_separator)


def mix_embeddings(embeddings: Sequence[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    """sum(w_i * se_i) / sum(w_i) in float32, summed in the given order; one embedding is returned as it is
    (not multiplied by its weight and divided by it again: the same tensor, bit for bit)."""
    import torch

    if len(embeddings) != len(weights) or not embeddings:
        raise InputError("voice mix: one weight per voice")
    if len(embeddings) == 1:
        return embeddings[0]
    shapes = {tuple(e.shape) for e in embeddings}
    if len(shapes) > 1:
        raise InputError(f"voice mix: the embeddings differ in shape ({', '.join(map(str, sorted(shapes)))})")
    w = torch.tensor(list(weights), dtype=torch.float32)
    mixed = embeddings[0].to(torch.float32) * w[0]
    total = w[0]
    for embedding, weight in zip(embeddings[1:], w[1:], strict=True):
        mixed = mixed + embedding.to(torch.float32) * weight
        total = total + weight
    return mixed / total


def load_mix(mix: VoiceMix, path_of: Callable[[str], PathLike] | None = None) -> torch.Tensor:
    """The mixed embedding of `mix`: each voice's file (`path_of(voice)`, default the voice itself) read by
    `load_se` (its errors: a missing or damaged file is a CheckpointError naming it), then mixed."""
    embeddings = [load_se(path_of(voice) if path_of is not None else voice) for voice in mix.voices]
    return mix_embeddings(embeddings, mix.weights)
