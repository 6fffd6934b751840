"""What one item of a batch is: its text, voice, output name and options, or why it cannot run.

Every other part of the batch speaks in these terms (the list is read into `Item`s, the engine speaks one,
the record fingerprints one, the run reports one), so they live apart from all of those: no part has to
import another just to name an item, and the parts form no import cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openvoice_tt.api import VoiceMix


@dataclass(frozen=True)
class Options:
    """Per-item synthesis options; the batch's command-line values fill in whatever an item leaves out."""

    speaker: str | None = None
    language: str | None = None
    """The speaker's language (code or key), for a name two models share or a language's first speaker."""
    speed: float | None = None
    seed: int | None = None
    sdp_ratio: float | None = None
    noise_scale: float | None = None
    noise_scale_w: float | None = None
    tau: float | None = None
    format: str | None = None

    def over(self, defaults: Options) -> Options:
        """These options, with `defaults` where these are unset. The voice (speaker and language) is taken
        whole: an item that names either takes neither from the defaults, since the batch's speaker need
        not be in the item's language (an item `language: es` speaks with ES, not with the batch's EN-AU)."""
        if self.speaker is not None or self.language is not None:
            defaults = replace(defaults, speaker=None, language=None)
        return replace(defaults, **{f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None})

    def fingerprint(self) -> dict[str, Any]:
        """The options as the --resume record hashes them: `language` only when set, so records written
        before there was a language option still match."""
        values = asdict(self)
        if values["language"] is None:
            del values["language"]
        return values

    def synthesis_kwargs(self) -> dict[str, Any]:
        names = ("speaker", "speed", "seed", "sdp_ratio", "noise_scale", "noise_scale_w")
        return {name: value for name in names if (value := getattr(self, name)) is not None}


@dataclass(frozen=True)
class Item:
    """One line of the list file. `problem` says why it cannot run (it is then reported as failed)."""

    index: int  # 1-based position among the items
    line: int  # line number in the list file
    text: str = ""
    output: str = ""
    references: tuple[Path, ...] = ()
    se: VoiceMix | None = None  # one embedding file, or a mix (`a.pth:0.7|b.pth:0.3`); paths made absolute
    options: Options = field(default_factory=Options)
    problem: str | None = None
    source: Path | None = None  # the list file, which no output of the batch may replace

    @property
    def se_files(self) -> tuple[Path, ...]:
        """The embedding file(s) of the item's `se` (a mix has several)."""
        return tuple(Path(voice) for voice in self.se.voices) if self.se is not None else ()

    @property
    def kind(self) -> str:
        return "clone" if self.references or self.se is not None else "synth"
