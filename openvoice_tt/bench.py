"""`openvoice-tt bench`: seconds per stage and real-time factor for synth and clone on the current backend.

Fixed English sentences of different lengths (the last one spans two front-end chunks), one warm-up
utterance first, seed 0 throughout. RTF = compute seconds / seconds of audio produced (below 1 is faster
than real time). Stage names are the backends' (`StageTimer`): synth = front_end, bert, text_encoder,
duration, alignment, flow, vocoder; clone = those + resample + the converter's spectrogram,
posterior_encoder, flow, vocoder. The reference embedding is computed once, outside the timed loop, and
reported on its own; without a reference the clone target is a base-speaker embedding (the same compute).
Each sentence is also run streamed (`TTS.stream`, `VoiceCloner.stream`) for the time to first audio.

`precision` is the torch path's `--precision` (auto, fp32, bf16; `reference.precision`): the report says
what each model ran and why. `run_precisions` runs the whole bench once per precision, one after the other
in one process, so `--precision fp32 --precision auto` puts both RTFs side by side from one machine.

Per second of audio, each stage also gets its host seconds and, on the ttnn backend, the device programs it
launches (ttnn's graph capture, `tt/programs.py`), counted in one extra pass over the sentences after the
timed ones so the capture's own cost stays out of the seconds. The emulation launches no programs (None
there, not 0). On a chip, one more pass synchronizes the device at every stage edge for device seconds
(host dispatch and device execution until the device is idle); a mock computes nothing, so None there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openvoice_tt.api import TTS, Speech, ToneColorConverter, VoiceCloner
from openvoice_tt.timing import StageTimer

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


def stage_names(timings: Mapping[str, Mapping[str, float]], prefixed: bool) -> dict[str, float]:
    """A Speech's {phase: {stage: value}} -> {stage: value}, as "phase.stage" where `prefixed` (clone)."""
    names = {}
    for phase, stages in timings.items():
        for stage, value in stages.items():
            names[f"{phase}.{stage}" if prefixed else stage] = value
    return names


@dataclass
class StageCounts:
    """Per-stage values of one untimed pass over the sentences (device programs, or seconds with the device
    synchronized at stage edges) and the audio that pass made, to put them per second of audio."""

    stages: dict[str, float] = field(default_factory=dict)
    total: float = 0.0  # programs: everything the calls launched, inside a stage or not
    audio_seconds: float = 0.0

    def add(self, values: Mapping[str, float], total: float, audio_seconds: float) -> None:
        for stage, value in values.items():
            self.stages[stage] = self.stages.get(stage, 0) + value
        self.total += total
        self.audio_seconds += audio_seconds

    def per_audio_second(self, stage: str) -> float | None:
        """None for a stage this pass never entered (e.g. `front_end`, timed without a stage block)."""
        if stage not in self.stages or not self.audio_seconds:
            return None
        return self.stages[stage] / self.audio_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "stages": {k: round(v, 4) for k, v in self.stages.items()},
            "total": round(self.total, 4),
            "audio_seconds": round(self.audio_seconds, 3),
        }


@dataclass
class PhaseTiming:
    """Accumulated over all timed utterances of one kind."""

    stages: dict[str, float] = field(default_factory=dict)
    total: float = 0.0  # wall-clock seconds of the API calls
    audio_seconds: float = 0.0
    first_audio: list[float] = field(default_factory=list)  # per streamed utterance: seconds to its first audio
    programs: StageCounts | None = None  # device programs per stage (ttnn on a chip or a mock; else None)
    device_seconds: StageCounts | None = None  # seconds, device synchronized at stage edges (a chip only)

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
        for name, value in stage_names(speech.timings, prefixed).items():
            self.stages[name] = self.stages.get(name, 0.0) + value
        self.total += seconds
        self.audio_seconds += speech.seconds

    def per_audio_second(self) -> dict[str, dict[str, float | None]]:
        """Per stage: host seconds, device programs and device seconds per second of audio (None: not
        measured on this backend)."""
        return {
            stage: {
                "host_seconds": _rounded(seconds / self.audio_seconds if self.audio_seconds else None),
                "programs": _rounded(self.programs.per_audio_second(stage) if self.programs else None, 1),
                "device_seconds": _rounded(
                    self.device_seconds.per_audio_second(stage) if self.device_seconds else None
                ),
            }
            for stage, seconds in self.stages.items()
        }

    def totals_per_audio_second(self) -> dict[str, float | None]:
        """The whole calls (stages and what lies between them) per second of audio: host seconds (the RTF),
        every program they launched, device seconds."""

        def per_second(counts: StageCounts | None, digits: int) -> float | None:
            return _rounded(counts.total / counts.audio_seconds, digits) if counts and counts.audio_seconds else None

        return {
            "host_seconds": _rounded(self.rtf if self.audio_seconds else None),
            "programs": per_second(self.programs, 1),
            "device_seconds": per_second(self.device_seconds, 4),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "stages": {k: round(v, 4) for k, v in self.stages.items()},
            "other": round(self.other, 4),
            "total": round(self.total, 4),
            "audio_seconds": round(self.audio_seconds, 3),
            "rtf": round(self.rtf, 4),
            "first_audio_seconds": round(self.first_audio_seconds, 4),
            "per_audio_second": self.per_audio_second(),
            "total_per_audio_second": self.totals_per_audio_second(),
            "programs": None if self.programs is None else self.programs.to_json(),
            "device_seconds": None if self.device_seconds is None else self.device_seconds.to_json(),
        }


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


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
    tt_device: str | None = None  # ttnn backend: "hardware wormhole_b0", "mock blackhole", "emulation host"
    # what --precision resolved to per model ("synth", "convert"): requested, mode ("fp32", "bf16") and reason
    precision: dict[str, dict[str, str]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
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
            "tt_device": self.tt_device,
        }


def stepper(steps: int, on_step: Callable[[int, int], None] | None) -> Callable[[], None]:
    """A step of a run of `steps`: each call tells `on_step` (None: nobody) the steps done so far and the total."""
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_step is not None:
            on_step(done, steps)

    return step


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
    precision: str = "auto",
) -> BenchReport:
    """Load (timed: cold start), warm up, then time synth and clone of every sentence `repeat` times."""
    import torch

    start = time.perf_counter()
    tts = TTS(checkpoints, device, precision=precision)
    loaded_tts = time.perf_counter()
    converter = ToneColorConverter(checkpoints, device, precision=precision)
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
    device = _tt_device(tts.backend)
    counted = device is not None and not device.is_emulation  # the emulation launches no programs
    synchronized = device is not None and device.kind == "hardware"  # a mock computes nothing to wait for
    steps = 1 + 4 * repeat * len(sentences) + (counted + synchronized) * len(sentences)
    step = stepper(steps, on_step)
    if on_step is not None:
        on_step(0, steps)
    clears = _ClearCounter() if device is None else _ClearCounter(device, [device.generation])
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
    if counted:
        synth.programs, clone.programs = _extra_pass(tts, cloner, sentences, target_se, _programs(device), step)
    if synchronized:
        synth.device_seconds, clone.device_seconds = _extra_pass(
            tts, cloner, sentences, target_se, _synchronized(device), step
        )
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
        tt_device=None if device is None else f"{device.kind} {device.arch}",
        precision={"synth": tts.precision.to_json(), "convert": converter.precision.to_json()},
    )


def run_precisions(
    checkpoints: Path | None,
    device: str,
    precisions: Sequence[str],
    reference: Sequence[Path] | None = None,
    repeat: int = 1,
    sentences: Sequence[str] = SENTENCES,
    on_step: Callable[[int, int], None] | None = None,
) -> list[BenchReport]:
    """`run_bench` once per precision, in the order given (each loads its own models and warms up)."""
    return [
        run_bench(checkpoints, device, reference, repeat, sentences, on_step, precision) for precision in precisions
    ]


def precisions_json(reports: Sequence[BenchReport]) -> dict[str, Any]:
    """Several precisions' reports: each whole, and their RTFs side by side (ratio: to the first run's)."""
    first = reports[0]
    rows = [
        {
            "requested": report.precision["synth"]["requested"] if report.precision else None,
            "synth_mode": report.precision["synth"]["mode"] if report.precision else None,
            "convert_mode": report.precision["convert"]["mode"] if report.precision else None,
            "synth_rtf": round(report.synth.rtf, 4),
            "clone_rtf": round(report.clone.rtf, 4),
            "synth_ratio": round(report.synth.rtf / first.synth.rtf, 3),
            "clone_ratio": round(report.clone.rtf / first.clone.rtf, 3),
        }
        for report in reports
    ]
    return {"side_by_side": rows, "runs": [report.to_json() for report in reports]}


Measure = Callable[[Callable[[StageTimer], Speech]], tuple[Speech, Mapping[str, float], float]]
"""Runs one API call with a stage timer of its own -> (the speech, values per stage, total value)."""


def _extra_pass(
    tts: TTS, cloner: VoiceCloner, sentences: Sequence[str], se: Any, measure: Measure, step: Callable[[], None]
) -> tuple[StageCounts, StageCounts]:
    """Synth and clone of every sentence once more, untimed, measured per stage by `measure`."""
    from openvoice_tt.api import clone_phases

    synth, clone = StageCounts(), StageCounts()
    for sentence in sentences:
        speech, stages, total = measure(lambda timer, text=sentence: tts.synth(text, timer=timer))
        synth.add(stage_names({"synth": stages}, False), total, speech.seconds)
        speech, stages, total = measure(lambda timer, text=sentence: cloner.clone(text, se=se, timer=timer))
        clone.add(stage_names(clone_phases(stages), True), total, speech.seconds)
        step()
    return synth, clone


def _programs(device: Any) -> Measure:
    """Device programs per stage, and all the call launched (ttnn graph capture; a chip or a mock)."""
    from openvoice_tt.tt.programs import StagePrograms, counting

    def measure(call: Callable[[StageTimer], Speech]) -> tuple[Speech, Mapping[str, float], float]:
        timer = StagePrograms()
        with counting(device) as total:
            speech = call(timer)
        return speech, timer.programs, total.programs

    return measure


def _synchronized(device: Any) -> Measure:
    """Seconds per stage with the chip drained at every stage edge, so they include the device's execution,
    not only the host's dispatch (ttnn ops return before they run)."""

    def sync() -> None:
        import ttnn

        ttnn.synchronize_device(device.handle)

    def measure(call: Callable[[StageTimer], Speech]) -> tuple[Speech, Mapping[str, float], float]:
        timer = StageTimer(sync)
        speech = call(timer)
        return speech, timer.seconds, timer.total()

    return measure


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


def _tt_device(backend: str) -> Any:
    """The ttnn backend's device (None on torch)."""
    if backend != "tt":
        return None
    from openvoice_tt.backends import tt_device

    return tt_device()
