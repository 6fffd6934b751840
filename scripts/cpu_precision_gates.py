#!/usr/bin/env python3
"""The torch path's bf16 blocks against float32: PCC per block and per waveform, durations compared.

For every MeloTTS language installed in DIR (or those named) and the converter, one float32 model and one in
the shipped bf16 configuration (`reference.precision.MeloTorchPrecision()`, `ConverterTorchPrecision()`)
are loaded from the same files. Each bf16 block is fed the float32 model's own inputs to it, so each PCC
measures that block alone; the waveforms run the whole chain, and the durations of both runs are compared
token by token (they must be identical: the blocks that decide them are float32 in every configuration).
Gates (README "Precision per block", CPU rows): PCC >= 0.999 per block, >= 0.99 per waveform, 0 durations
differing; the exit status is 1 when one fails.

Measure on full-size checkpoints (`python scripts/make_test_checkpoints.py DIR --size full --languages en
es`). bf16 without native support (AVX2 only) is emulated and slow, so the audio is kept short: one
sentence per language (about 2 s on random weights) and `--seconds` of speech-like audio for the
converter. The seconds each block took are printed too; they mean something only on a quiet machine.

Usage: python scripts/cpu_precision_gates.py DIR [--languages en es] [--seconds 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openvoice_tt.languages import LANGUAGES, Language, find_language
from openvoice_tt.layout import Layout
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.converter import ToneColorConverterModel, load_converter_model
from openvoice_tt.reference.precision import (
    ConverterTorchPrecision,
    MeloTorchPrecision,
    cpu_native_bf16,
)
from openvoice_tt.reference.synthesizer import MeloSynthesizer, SynthesisParams, load_melo_synthesizer
from scripts.tt_parity import Agreement, compare, melo_inputs, melo_reference_stages, speechlike_audio

BLOCK_FLOOR, WAVEFORM_FLOOR = 0.999, 0.99
# One short sentence per language (its own script and phones; random weights make ~3 frames a token).
SENTENCES = {
    "EN": "Good morning, how are you today?",
    "EN_V2": "Good morning, how are you today?",
    "EN_NEWEST": "Good morning, how are you today?",
    "ES": "Buenos días, ¿cómo estás hoy?",
    "FR": "Bonjour, comment allez-vous aujourd'hui ?",
    "ZH": "你好,今天天气很好。",
    "JP": "こんにちは、今日はいい天気ですね。",
    "KR": "안녕하세요, 오늘 날씨가 좋네요.",
}
SPEAKER = 0
SEED = 7


@dataclass
class Report:
    """Agreements per block (bf16 against float32 on the same inputs), durations differing, seconds."""

    blocks: dict[str, Agreement] = field(default_factory=dict)
    seconds: dict[str, tuple[float, float]] = field(default_factory=dict)  # block: (fp32 s, bf16 s)
    durations_differing: int | None = None
    tokens: int | None = None
    audio_seconds: float = 0.0

    def failures(self) -> list[str]:
        bad = [
            f"{name}: {agreement} (floor {WAVEFORM_FLOOR if name == 'waveform' else BLOCK_FLOOR})"
            for name, agreement in self.blocks.items()
            if not agreement.pcc >= (WAVEFORM_FLOOR if name == "waveform" else BLOCK_FLOOR)
        ]
        if self.durations_differing:
            bad.append(f"durations: {self.durations_differing} of {self.tokens} tokens differ")
        return bad

    def to_json(self) -> dict[str, Any]:
        return {
            "blocks": {k: {"pcc": round(v.pcc, 6), "max_abs": round(v.max_abs, 5)} for k, v in self.blocks.items()},
            "seconds": {k: {"fp32": round(a, 3), "bf16": round(b, 3)} for k, (a, b) in self.seconds.items()},
            "durations_differing": self.durations_differing,
            "tokens": self.tokens,
            "audio_seconds": round(self.audio_seconds, 3),
        }


def _timed(call: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    with torch.no_grad():
        out = call()
    return out, time.perf_counter() - start


def melo_gates(fp32: MeloSynthesizer, bf16: MeloSynthesizer, front_end: Any, text: str) -> Report:
    """Flow and vocoder on the float32 model's own inputs, then the whole synthesis (free-running: the
    durations of both runs compared token by token, the waveforms compared when the durations agree)."""
    report = Report()
    inputs = melo_inputs(front_end, text)
    params = SynthesisParams()
    r = melo_reference_stages(fp32, inputs, NoiseSource(SEED), params, SPEAKER)
    for name, run in {
        "flow": lambda m: m.reverse_flow(r["z_p"], r["y_mask"], r["g"]),
        "vocoder": lambda m: m.decode(r["z"], r["y_mask"], r["g"]),
    }.items():
        expected, t32 = _timed(lambda run=run: run(fp32))
        actual, t16 = _timed(lambda run=run: run(bf16))
        report.blocks[name] = compare(expected, actual)
        report.seconds[name] = (t32, t16)
    args = [x[None] for x in (inputs.phone_ids, inputs.tone_ids, inputs.language_ids, inputs.bert, inputs.ja_bert)]
    expected = fp32.infer(*args, SPEAKER, NoiseSource(SEED), params)
    actual = bf16.infer(*args, SPEAKER, NoiseSource(SEED), params)
    report.tokens = expected.durations.numel()
    report.durations_differing = int((expected.durations != actual.durations).sum())
    if expected.audio.shape == actual.audio.shape:
        report.blocks["waveform"] = compare(expected.audio, actual.audio)
    report.audio_seconds = expected.audio.numel() / fp32.config.data.sampling_rate
    return report


def converter_gates(fp32: ToneColorConverterModel, bf16: ToneColorConverterModel, seconds: float) -> Report:
    """Posterior encoder, flow forward and reverse, vocoder on the float32 model's own inputs, then the
    whole conversion of `seconds` of speech-like audio (tau 0.3, one seeded noise)."""
    report = Report()
    audio = torch.from_numpy(speechlike_audio(seconds))[None]
    spec = fp32.spectrogram(audio)
    src = fp32.tone_color(spec)
    tgt = fp32.tone_color(fp32.spectrogram(torch.from_numpy(speechlike_audio(seconds, seed=1))[None]))
    frames = spec.shape[-1]
    mask = torch.ones(1, 1, frames)
    noise = NoiseSource(5).normal(1, fp32.enc_q.out_channels, frames)
    zero = torch.zeros_like(src)
    with torch.no_grad():
        z = fp32.posterior(spec, mask, zero, noise, 0.3)
        z_p = fp32.run_flow(z, mask, src, reverse=False)
        z_hat = fp32.run_flow(z_p, mask, tgt, reverse=True)
    for name, run in {
        "posterior_encoder": lambda m: m.posterior(spec, mask, zero, noise, 0.3),
        "flow_forward": lambda m: m.run_flow(z, mask, src, reverse=False),
        "flow_reverse": lambda m: m.run_flow(z_p, mask, tgt, reverse=True),
        "vocoder": lambda m: m.decode(z_hat * mask, zero),
    }.items():
        expected, t32 = _timed(lambda run=run: run(fp32))
        actual, t16 = _timed(lambda run=run: run(bf16))
        report.blocks[name] = compare(expected, actual)
        report.seconds[name] = (t32, t16)
    expected = fp32.convert(spec, src, tgt, NoiseSource(5), 0.3)
    actual = bf16.convert(spec, src, tgt, NoiseSource(5), 0.3)
    report.blocks["waveform"] = compare(expected, actual)
    report.audio_seconds = expected.numel() / fp32.config.data.sampling_rate
    return report


def melo_pair(folder: Path) -> tuple[MeloSynthesizer, MeloSynthesizer]:
    load = lambda: load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")  # noqa: E731
    return load(), load().set_precision(MeloTorchPrecision())


def converter_pair(folder: Path) -> tuple[ToneColorConverterModel, ToneColorConverterModel]:
    load = lambda: load_converter_model(folder / "config.json", folder / "checkpoint.pth")  # noqa: E731
    return load(), load().set_precision(ConverterTorchPrecision())


def front_end_of(language: Language, model: MeloSynthesizer) -> Any:
    from openvoice_tt.text import NoBertWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        return language.make_front_end(model.config.symbols, model.config.data.add_blank)


def measure(folder: Path, languages: list[Language], seconds: float) -> dict[str, Report]:
    reports = {}
    for language in languages:
        fp32, bf16 = melo_pair(Layout(folder, language.model).melo.require().path)
        text = SENTENCES.get(language.code, SENTENCES["EN"])
        reports[f"melo {language.key}"] = melo_gates(fp32, bf16, front_end_of(language, fp32), text)
        print(f"measured melo {language.key}", file=sys.stderr)
    fp32_c, bf16_c = converter_pair(Layout(folder).converter.require().path)
    reports["converter"] = converter_gates(fp32_c, bf16_c, seconds)
    return reports


def table(reports: dict[str, Report]) -> str:
    lines = [
        "| model | block | PCC bf16 vs fp32 | max abs error | fp32 s | bf16 s |",
        "|---|---|---|---|---|---|",
    ]
    for model, report in reports.items():
        for name, agreement in report.blocks.items():
            t32, t16 = report.seconds.get(name, (None, None))
            times = f"{t32:.2f} | {t16:.2f}" if t32 is not None else " | "
            pcc = f"{agreement.pcc:.6f}"
            floor = WAVEFORM_FLOOR if name == "waveform" else BLOCK_FLOOR
            pcc = pcc if agreement.pcc >= floor else f"**{pcc}**"
            lines.append(f"| {model} | {name} | {pcc} | {agreement.max_abs:.3g} | {times} |")
        if report.durations_differing is not None:
            lines.append(f"| {model} | durations differing | {report.durations_differing} of {report.tokens} | | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path)
    parser.add_argument("--languages", nargs="*", help="language keys (default: every one installed in DIR)")
    parser.add_argument("--seconds", type=float, default=2.0, help="converter audio (default 2 s)")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args()
    if args.languages:
        languages = [find_language(key) for key in args.languages]
    else:
        languages = [x for x in LANGUAGES if (args.checkpoints / x.model.folder).is_dir()]
    native = cpu_native_bf16()
    print(
        f"CPU: {platform.processor() or platform.machine()}; native bf16: {native.native} ({native.evidence}); "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads",
        file=sys.stderr,
    )
    reports = measure(args.checkpoints, languages, args.seconds)
    print(table(reports))
    if args.json:
        out = {
            "command": " ".join(sys.argv),
            "native_bf16": native.native,
            "evidence": native.evidence,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "reports": {k: v.to_json() for k, v in reports.items()},
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    failures = [f"{model}: {bad}" for model, report in reports.items() for bad in report.failures()]
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
