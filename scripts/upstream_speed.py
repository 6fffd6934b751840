#!/usr/bin/env python3
"""This project's torch models against upstream's own classes, timed side by side in one process.

The same checkpoint files are loaded into upstream's `SynthesizerTrn` (MeloTTS `melo/models.py`, loaded
strict as `melo.api.TTS` does) and OpenVoice's (`openvoice/models.py`, as `ToneColorConverter` does), and
into this project's `reference` models once per `--precision`. The contestants then run round-robin,
`--runs` rounds on identical inputs, so a busy machine slows all of them alike; the minimum of each is
reported with its ratio to upstream's minimum (the issue's figure: project auto / upstream).

What is timed is the model, front end excluded on both sides (upstream's `infer` and `voice_conversion`,
this project's `MeloSynthesizer.infer` and `ToneColorConverterModel.convert`, from ids and BERT features or
from a spectrogram and two embeddings). Both noises are zero (`noise_scale`, `noise_scale_w` and `tau`
0), so every contestant computes the same durations and the same waveform, and the PCC of each against
upstream's waveform is printed beside its time: a fast contestant that computed something else shows it.

The upstream code is not part of this repository: pass checkouts (`git clone` or, from a mirror,
`git --git-dir=MIRROR archive HEAD | tar -x -C DIR`). Their packages' `__init__` files import nothing; MeloTTS's
training-only monotonic alignment (numba) is stubbed, as inference never calls it.

Usage: python scripts/upstream_speed.py DIR --melotts MELO_CHECKOUT --openvoice OPENVOICE_CHECKOUT
       [--language en] [--seconds 4] [--runs 7] [--precision fp32 --precision auto] [--json out.json]
DIR holds full-size random-weight checkpoints (`python scripts/make_test_checkpoints.py DIR --size full`).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openvoice_tt.checkpoints import read_state_dict
from openvoice_tt.languages import find_language
from openvoice_tt.layout import Layout
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.converter import load_converter_model
from openvoice_tt.reference.precision import (
    ConverterTorchPrecision,
    MeloTorchPrecision,
    choose_precision,
    cpu_native_bf16,
)
from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer
from scripts.cpu_precision_gates import SENTENCES, SPEAKER, front_end_of
from scripts.tt_parity import compare, melo_inputs, speechlike_audio

SILENT = SynthesisParams(noise_scale=0.0, noise_scale_w=0.0)  # sdp_ratio and length_scale as upstream's defaults
TAU = 0.0


@dataclass
class Contestant:
    """One model under test: a name, a call that returns its waveform, its times."""

    name: str
    run: Callable[[], torch.Tensor]
    seconds: list[float]
    waveform: torch.Tensor | None = None


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def import_upstream(melotts: Path, openvoice: Path) -> tuple[types.ModuleType, types.ModuleType]:
    """Upstream's two model modules, from their checkouts."""
    for checkout, package in ((melotts, "melo"), (openvoice, "openvoice")):
        if not (checkout / package / "models.py").is_file():
            sys.exit(f"error: {checkout} is not a checkout with {package}/models.py")
        sys.path.insert(0, str(checkout))
    stub = types.ModuleType("melo.monotonic_align")  # numba; used by training only
    stub.maximum_path = None  # type: ignore[attr-defined]
    sys.modules["melo.monotonic_align"] = stub
    import melo.models
    import openvoice.models

    return melo.models, openvoice.models


def upstream_melo(models: types.ModuleType, folder: Path) -> torch.nn.Module:
    """As `melo.api.TTS.__init__` builds and loads it (strict)."""
    hps = _json(folder / "config.json")
    model = models.SynthesizerTrn(
        len(hps["symbols"]),
        hps["data"]["filter_length"] // 2 + 1,
        hps["train"]["segment_size"] // hps["data"]["hop_length"],
        n_speakers=hps["data"]["n_speakers"],
        num_tones=hps["num_tones"],
        num_languages=hps["num_languages"],
        **hps["model"],
    )
    model.load_state_dict(read_state_dict(folder / "checkpoint.pth"), strict=True)
    return model.eval()


def upstream_converter(models: types.ModuleType, folder: Path) -> torch.nn.Module:
    """As `openvoice.api.OpenVoiceBaseClass` builds it and `load_ckpt` loads it (strict=False there; the
    missing and unexpected keys are checked to be none here)."""
    hps = _json(folder / "config.json")
    model = models.SynthesizerTrn(
        len(hps.get("symbols", [])),
        hps["data"]["filter_length"] // 2 + 1,
        n_speakers=hps["data"]["n_speakers"],
        **hps["model"],
    )
    missing, unexpected = model.load_state_dict(read_state_dict(folder / "checkpoint.pth"), strict=False)
    if missing or unexpected:
        sys.exit(f"error: upstream converter keys: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return model.eval()


def race(contestants: list[Contestant], runs: int) -> None:
    """Round-robin: each round runs every contestant once (the first round also keeps the waveforms)."""
    for _ in range(runs):
        for c in contestants:
            start = time.perf_counter()
            with torch.no_grad():
                out = c.run()
            c.seconds.append(time.perf_counter() - start)
            if c.waveform is None:
                c.waveform = out.detach().float().flatten()


def synth_contestants(
    upstream: torch.nn.Module, folder: Path, language: str, seconds: float, precisions: list[str]
) -> tuple[list[Contestant], float]:
    """Upstream's MeloTTS and the project's, one per precision, on one sentence repeated to about `seconds`."""
    project = {p: load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth") for p in precisions}
    for p, model in project.items():
        model.set_precision(MeloTorchPrecision.for_mode(choose_precision(p, "cpu").mode))
    probe = next(iter(project.values()))
    front_end = front_end_of(find_language(language), probe)
    sentence = SENTENCES.get(find_language(language).code, SENTENCES["EN"])
    rate = probe.config.data.sampling_rate

    def inputs_for(text: str):
        i = melo_inputs(front_end, text)
        return [x[None] for x in (i.phone_ids, i.tone_ids, i.language_ids, i.bert, i.ja_bert)]

    one = inputs_for(sentence)
    per_sentence = probe.infer(*one, SPEAKER, NoiseSource(0), SILENT).audio.numel() / rate
    phones, tones, langs, bert, ja_bert = inputs_for(" ".join([sentence] * max(1, math.ceil(seconds / per_sentence))))
    lengths, sid = torch.tensor([phones.shape[1]]), torch.tensor([SPEAKER])

    def run_upstream() -> torch.Tensor:
        return upstream.infer(
            phones,
            lengths,
            sid,
            tones,
            langs,
            bert,
            ja_bert,
            noise_scale=0.0,
            noise_scale_w=0.0,
            sdp_ratio=SILENT.sdp_ratio,
            length_scale=SILENT.length_scale,
        )[0]

    contestants = [Contestant("upstream (fp32)", run_upstream, [])]
    for p, model in project.items():
        run = lambda m=model: m.infer(phones, tones, langs, bert, ja_bert, SPEAKER, NoiseSource(0), SILENT).audio  # noqa: E731
        contestants.append(Contestant(f"project --precision {p} ({model.precision.vocoder} vocoder)", run, []))
    return contestants, rate


def convert_contestants(
    upstream: torch.nn.Module, folder: Path, seconds: float, precisions: list[str]
) -> tuple[list[Contestant], float]:
    """Upstream's converter and the project's, one per precision, on `seconds` of speech-like audio."""
    project = {p: load_converter_model(folder / "config.json", folder / "checkpoint.pth") for p in precisions}
    for p, model in project.items():
        model.set_precision(ConverterTorchPrecision.for_mode(choose_precision(p, "cpu").mode))
    probe = next(iter(project.values()))
    spec = probe.spectrogram(torch.from_numpy(speechlike_audio(seconds))[None])
    src = probe.tone_color(spec)
    tgt = probe.tone_color(probe.spectrogram(torch.from_numpy(speechlike_audio(seconds, seed=1))[None]))
    lengths = torch.tensor([spec.shape[-1]])
    contestants = [
        Contestant("upstream (fp32)", lambda: upstream.voice_conversion(spec, lengths, src, tgt, tau=TAU)[0], [])
    ]
    for p, model in project.items():
        run = lambda m=model: m.convert(spec, src, tgt, NoiseSource(0), TAU)  # noqa: E731
        contestants.append(Contestant(f"project --precision {p} ({model.precision.vocoder} vocoder)", run, []))
    return contestants, probe.config.data.sampling_rate


def rows(contestants: list[Contestant], rate: int) -> list[dict[str, Any]]:
    base = contestants[0]
    audio = base.waveform.numel() / rate
    out = []
    for c in contestants:
        agreement = compare(base.waveform, c.waveform) if c.waveform.shape == base.waveform.shape else None
        out.append(
            {
                "contestant": c.name,
                "min_s": round(min(c.seconds), 4),
                "median_s": round(statistics.median(c.seconds), 4),
                "rtf_min": round(min(c.seconds) / audio, 4),
                "ratio_to_upstream": round(min(c.seconds) / min(base.seconds), 3),
                "pcc_vs_upstream": None if agreement is None else round(agreement.pcc, 6),
                "audio_s": round(c.waveform.numel() / rate, 3),
            }
        )
    return out


def print_table(title: str, table: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print("| contestant | min s | median s | RTF (min) | ratio to upstream | PCC vs upstream | audio s |")
    print("|---|---|---|---|---|---|---|")
    for r in table:
        pcc = "—" if r["pcc_vs_upstream"] is None else f"{r['pcc_vs_upstream']:.6f}"
        print(
            f"| {r['contestant']} | {r['min_s']:.3f} | {r['median_s']:.3f} | {r['rtf_min']:.3f} | "
            f"{r['ratio_to_upstream']:.2f} | {pcc} | {r['audio_s']:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path)
    parser.add_argument("--melotts", type=Path, required=True, help="a MeloTTS checkout (holds melo/)")
    parser.add_argument("--openvoice", type=Path, required=True, help="an OpenVoice checkout (holds openvoice/)")
    parser.add_argument("--language", default="en", help="MeloTTS language key (default en)")
    parser.add_argument("--seconds", type=float, default=4.0, help="audio per run (default 4 s)")
    parser.add_argument("--runs", type=int, default=7, help="rounds (default 7)")
    parser.add_argument(
        "--precision", action="append", choices=("auto", "fp32", "bf16"), help="repeatable (default fp32, auto)"
    )
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args()
    precisions = args.precision or ["fp32", "auto"]
    melo_models, openvoice_models = import_upstream(args.melotts.resolve(), args.openvoice.resolve())
    layout = Layout(args.checkpoints, find_language(args.language).model)
    melo_folder, converter_folder = layout.melo.require().path, layout.converter.require().path

    native = cpu_native_bf16()
    choices = {p: str(choose_precision(p, "cpu")) for p in precisions}
    print(
        f"CPU: {platform.processor() or platform.machine()}; native bf16: {native.native} ({native.evidence}); "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.runs} rounds, round-robin",
        file=sys.stderr,
    )
    for p, choice in choices.items():
        print(f"--precision {p}: {choice}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # weight_norm's deprecation in upstream's modules
        synth, synth_rate = synth_contestants(
            upstream_melo(melo_models, melo_folder), melo_folder, args.language, args.seconds, precisions
        )
        race(synth, args.runs)
        convert, convert_rate = convert_contestants(
            upstream_converter(openvoice_models, converter_folder), converter_folder, args.seconds, precisions
        )
        race(convert, args.runs)
    tables = {"synth": rows(synth, synth_rate), "convert": rows(convert, convert_rate)}
    print_table(f"synth (MeloTTS {args.language}, model only)", tables["synth"])
    print_table("convert (tone-color converter, model only)", tables["convert"])
    if args.json:
        out = {
            "command": " ".join(sys.argv),
            "cpu": platform.processor() or platform.machine(),
            "native_bf16": native.native,
            "evidence": native.evidence,
            "precision": choices,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "runs": args.runs,
            **tables,
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
