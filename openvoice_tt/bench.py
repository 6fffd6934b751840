"""`openvoice-tt bench`: seconds per stage and real-time factor for synth and clone on the current backend.

Fixed English sentences of different lengths (the last one spans two front-end chunks), one warm-up
utterance first, seed 0 throughout. RTF = compute seconds / seconds of audio produced (below 1 is faster
than real time). Stage names are the backends' (`StageTimer`): synth = front_end, bert, text_encoder,
duration, alignment, flow, vocoder; clone = those + resample + the converter's spectrogram,
posterior_encoder, flow, vocoder. The reference embedding is computed once, outside the timed loop, and
reported on its own; without a reference the clone target is a base-speaker embedding (the same compute).
Each sentence is also run streamed (`TTS.stream`, `VoiceCloner.stream`) for the time to first audio.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openvoice_tt.api import TTS, Speech, ToneColorConverter, VoiceCloner

SENTENCES = (
    "Good morning.",
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "When sunlight strikes raindrops in the air, they act as a prism and form a rainbow: white light "
    "divided into many beautiful colors, in a long round arch with its path high above.",
    "Every morning the old lighthouse keeper climbed the hundred and twelve steps to the lamp room, wiped "
    "the salt from the great glass lens, and wrote the weather into a leather book that his grandfather had "
    "started. Ships no longer needed the light, but he kept it burning anyway, because the town liked to see "
    "it turn at night and because, he said, you never know who is still out there on the water.",
)


@dataclass
class PhaseTiming:
    """Accumulated over all timed utterances of one kind."""

    stages: dict[str, float] = field(default_factory=dict)
    total: float = 0.0  # wall-clock seconds of the API calls
    audio_seconds: float = 0.0
    first_audio: list[float] = field(default_factory=list)  # per streamed utterance: seconds to its first audio

    @property
    def rtf(self) -> float:
        return self.total / self.audio_seconds if self.audio_seconds else float("nan")

    @property
    def first_audio_seconds(self) -> float:
        """Mean time from the call to the first streamed audio (`TTS.stream` / `VoiceCloner.stream`)."""
        return sum(self.first_audio) / len(self.first_audio) if self.first_audio else float("nan")

    @property
    def other(self) -> float:
        """Time outside the named stages (chunk bookkeeping, concatenation, copies)."""
        return max(0.0, self.total - sum(self.stages.values()))

    def add(self, speech: Speech, seconds: float, prefixed: bool) -> None:
        for phase, stages in speech.timings.items():
            for stage, value in stages.items():
                name = f"{phase}.{stage}" if prefixed else stage
                self.stages[name] = self.stages.get(name, 0.0) + value
        self.total += seconds
        self.audio_seconds += speech.seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "stages": {k: round(v, 4) for k, v in self.stages.items()},
            "other": round(self.other, 4),
            "total": round(self.total, 4),
            "audio_seconds": round(self.audio_seconds, 3),
            "rtf": round(self.rtf, 4),
            "first_audio_seconds": round(self.first_audio_seconds, 4),
        }


@dataclass
class BenchReport:
    device: str
    backend: str
    bert: bool
    threads: int
    cpus: int | None
    load_seconds: dict[str, float]
    target: str
    tone_color_seconds: float | None
    sentences: int
    repeat: int
    synth: PhaseTiming
    clone: PhaseTiming
    # ttnn backend: program cache clears during the warm-up and during each timed pass (None elsewhere)
    program_cache_clears: list[int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "backend": self.backend,
            "bert": self.bert,
            "torch_threads": self.threads,
            "cpus": self.cpus,
            "load_seconds": {k: round(v, 3) for k, v in self.load_seconds.items()},
            "clone_target": self.target,
            "tone_color_seconds": None if self.tone_color_seconds is None else round(self.tone_color_seconds, 4),
            "sentences": self.sentences,
            "repeat": self.repeat,
            "synth": self.synth.to_json(),
            "clone": self.clone.to_json(),
            "program_cache_clears": self.program_cache_clears,
        }


def first_audio_seconds(start: Callable[[], Iterator[Any]]) -> float:
    """Seconds from starting a stream to its first piece (the stream is then run to its end)."""
    begin = time.perf_counter()
    pieces = start()
    next(pieces)
    seconds = time.perf_counter() - begin
    for _ in pieces:
        pass
    return seconds


def run_bench(
    checkpoints: Path | None,
    device: str,
    reference: Sequence[Path] | None = None,
    repeat: int = 1,
    sentences: Sequence[str] = SENTENCES,
    on_step: Callable[[int, int], None] | None = None,
) -> BenchReport:
    """Load (timed: cold start), warm up, then time synth and clone of every sentence `repeat` times."""
    import torch

    start = time.perf_counter()
    tts = TTS(checkpoints, device)
    loaded_tts = time.perf_counter()
    converter = ToneColorConverter(checkpoints, device)
    loaded_converter = time.perf_counter()
    cloner = VoiceCloner(tts=tts, converter=converter)
    load = {"tts": loaded_tts - start, "converter": loaded_converter - loaded_tts}
    tone_color_seconds = None
    if reference:
        start = time.perf_counter()
        target_se = converter.extract_se(reference, use_cache=False)
        tone_color_seconds = time.perf_counter() - start
        target = ", ".join(map(str, reference))
    else:
        target_speaker = tts.speakers[-1]
        target_se = converter.base_speaker_se(target_speaker)
        target = f"base speaker {target_speaker}"
    steps = 1 + 4 * repeat * len(sentences)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_step is not None:
            on_step(done, steps)

    if on_step is not None:
        on_step(0, steps)
    clears = _program_cache_clears(tts.backend)
    tts.synth(sentences[0])  # warm-up: first-call costs (allocator, lazy tables) stay out of the numbers
    cloner.clone(sentences[0], se=target_se)
    step()
    clears.mark()
    synth, clone = PhaseTiming(), PhaseTiming()
    for _ in range(repeat):
        for sentence in sentences:
            start = time.perf_counter()
            speech = tts.synth(sentence)
            synth.add(speech, time.perf_counter() - start, prefixed=False)
            step()
            start = time.perf_counter()
            speech = cloner.clone(sentence, se=target_se)
            clone.add(speech, time.perf_counter() - start, prefixed=True)
            step()
            synth.first_audio.append(first_audio_seconds(lambda text=sentence: tts.stream(text)))
            step()
            clone.first_audio.append(first_audio_seconds(lambda text=sentence: cloner.stream(text, se=target_se)))
            step()
        clears.mark()
    return BenchReport(
        device=tts.device,
        backend=tts.backend,
        bert=tts.has_bert,
        threads=torch.get_num_threads(),
        cpus=os.cpu_count(),
        load_seconds=load,
        target=target,
        tone_color_seconds=tone_color_seconds,
        sentences=len(sentences),
        repeat=repeat,
        synth=synth,
        clone=clone,
        program_cache_clears=clears.per_phase(),
    )


@dataclass
class _ClearCounter:
    """Program cache clears of the ttnn device between marks (a device's count only ever grows)."""

    device: Any = None
    marks: list[int] = field(default_factory=list)

    def mark(self) -> None:
        if self.device is not None:
            self.marks.append(self.device.generation)

    def per_phase(self) -> list[int] | None:
        if self.device is None:
            return None
        return [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)]


def _program_cache_clears(backend: str) -> _ClearCounter:
    if backend != "tt":
        return _ClearCounter()
    from openvoice_tt.backends import tt_device

    device = tt_device()
    return _ClearCounter(device, [device.generation])
