"""The commands that make audio or a voice: synth, clone, convert, extract-se.

Each is thin: check every option and the destination before a model loads (a typo fails in a second, not
after minutes of synthesis), call `openvoice_tt.api`, write the result, say what was written.
"""

from pathlib import Path
from typing import Annotated

import typer

from openvoice_tt import api, outputs
from openvoice_tt.api.device import stage_timer
from openvoice_tt.audio import STDOUT
from openvoice_tt.cli.errors import guarded
from openvoice_tt.cli.options import (
    CheckpointsOpt,
    Device,
    DeviceOpt,
    FormatOpt,
    JsonOpt,
    LanguageOpt,
    LexiconOpt,
    NoCacheOpt,
    NoiseScaleOpt,
    NoiseScaleWOpt,
    OutputOpt,
    Precision,
    PrecisionOpt,
    QuietOpt,
    ReferenceOpt,
    SdpRatioOpt,
    SeedOpt,
    SeOpt,
    SpeakerOpt,
    SpeedOpt,
    StreamOpt,
    TauOpt,
    TextArg,
    Vad,
    VadOpt,
    mix_field,
    mix_files,
    one_of,
    synthesis_options,
    voice_mix,
)
from openvoice_tt.cli.textio import (
    audio_output,
    check_streamable,
    finish,
    language_fields,
    read_text,
    write_streamed,
    write_synthesized,
)
from openvoice_tt.cli.timestamps import TimestampsOpt, timestamps_output, write_timestamps
from openvoice_tt.cli.ui import Ui

S = api.SYNTHESIS  # the defaults users see in -h
C = api.CONVERSION


@guarded
def synth(
    text: TextArg,
    output: OutputOpt,
    speaker: SpeakerOpt = None,
    language: LanguageOpt = None,
    speed: SpeedOpt = S.speed,
    sdp_ratio: SdpRatioOpt = S.sdp_ratio,
    noise_scale: NoiseScaleOpt = S.noise_scale,
    noise_scale_w: NoiseScaleWOpt = S.noise_scale_w,
    seed: SeedOpt = api.DEFAULT_SEED,
    fmt: FormatOpt = None,
    stream: StreamOpt = False,
    lexicon: LexiconOpt = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    precision: PrecisionOpt = Precision.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    timestamps: TimestampsOpt = None,
) -> None:
    """Speak TEXT with a base speaker (MeloTTS, 44.1 kHz); the speaker picks the language model.

    Example: openvoice-tt synth "Hello there." -o hello.wav --speaker EN-BR --seed 7
    Example: openvoice-tt synth "¿Dónde está la estación?" -o donde.wav --speaker ES
    Example: openvoice-tt synth "Hello there." -o hello.wav --timestamps hello.srt
    """
    ui = Ui(quiet)
    fmt_name = audio_output(output, fmt, json_out, [lexicon])
    timestamps_fmt = timestamps_output(timestamps, output, [lexicon])
    if stream:
        check_streamable(fmt_name)
    user_lexicon = api.load_lexicon(lexicon)
    text = read_text(text)
    synthesis = synthesis_options(speed, sdp_ratio, noise_scale, noise_scale_w)
    api.check_request(checkpoints, text=text, speakers=[speaker], synthesis=synthesis, seed=seed, language=language)
    base = api.find_base_speaker(checkpoints, speaker, language, text)
    said = language_fields(ui, base)
    with ui.rendered_warnings():
        tts = api.TTS(checkpoints, device.value, user_lexicon, base.language, precision.value)
        name = base.name
        precision_json = tts.precision.to_json()
        where = {"speaker": name, **said, "device": tts.device, "backend": tts.backend, "precision": precision_json}
        if timestamps is not None:
            where["timestamps"] = str(timestamps)
        words: list[api.WordTiming] | None = None if timestamps_fmt is None else []
        settings = (speed, sdp_ratio, noise_scale, noise_scale_w, seed)
        with ui.progress("synthesizing") as progress:
            if stream:
                pieces = tts.stream(text, name, *settings, progress, words=words)
                write_streamed(ui, json_out, "synth", output, fmt_name, pieces, tts.sample_rate, seed, **where)
            else:
                # written as made: memory does not grow with the audio
                timer = stage_timer(tts.device, tts.device_index)
                pieces = tts.stream(text, name, *settings, progress, timer, words=words)
                written = write_synthesized(output, fmt_name, pieces, tts, speed, seed, timer)
        if timestamps is not None and timestamps_fmt is not None and words is not None:
            write_timestamps(timestamps, timestamps_fmt, words, tts.sample_rate, phones=json_out)
    if not stream:
        finish(ui, json_out, "synth", output, fmt_name, written, **where)


@guarded
def clone(
    text: TextArg,
    output: OutputOpt,
    reference: ReferenceOpt = None,
    se: SeOpt = None,
    speaker: SpeakerOpt = None,
    language: LanguageOpt = None,
    speed: SpeedOpt = S.speed,
    sdp_ratio: SdpRatioOpt = S.sdp_ratio,
    noise_scale: NoiseScaleOpt = S.noise_scale,
    noise_scale_w: NoiseScaleWOpt = S.noise_scale_w,
    tau: TauOpt = C.tau,
    seed: SeedOpt = api.DEFAULT_SEED,
    vad: VadOpt = Vad.silero,
    no_cache: NoCacheOpt = False,
    fmt: FormatOpt = None,
    stream: StreamOpt = False,
    lexicon: LexiconOpt = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    precision: PrecisionOpt = Precision.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    timestamps: TimestampsOpt = None,
) -> None:
    """Speak TEXT in the voice of a reference recording (22.05 kHz), in the base speaker's language.

    Example: openvoice-tt clone "Hello there." --reference me.wav -o hello-me.wav
    Example: openvoice-tt clone "Bonjour." --speaker FR --reference me.wav -o bonjour-me.wav
    """
    ui = Ui(quiet)
    references = one_of(reference, se)
    mix = voice_mix(se)
    inputs = [*(references or []), *mix_files(mix), lexicon]
    fmt_name = audio_output(output, fmt, json_out, inputs)
    timestamps_fmt = timestamps_output(timestamps, output, inputs)
    if stream:
        check_streamable(fmt_name)
    user_lexicon = api.load_lexicon(lexicon)
    text = read_text(text)
    api.check_request(
        checkpoints,
        text=text,
        speakers=[speaker],
        synthesis=synthesis_options(speed, sdp_ratio, noise_scale, noise_scale_w),
        tau=tau,
        seed=seed,
        references=references or [],
        embeddings=mix_files(mix),
        language=language,
    )
    target = api.load_mix(mix) if mix is not None else None
    base = api.find_base_speaker(checkpoints, speaker, language, text)
    said = language_fields(ui, base)
    with ui.rendered_warnings():
        cloner = api.VoiceCloner(
            checkpoints, device.value, lexicon=user_lexicon, language=base.language, precision=precision.value
        )
        name = base.name
        options = {"speaker": name, "speed": speed, "sdp_ratio": sdp_ratio, "noise_scale": noise_scale}
        options |= {"noise_scale_w": noise_scale_w, "tau": tau, "seed": seed, "method": vad.value}
        voice = {"reference": references, "se": target, "use_cache": not no_cache}
        where = {
            "speaker": name,
            **said,
            "reference": [str(p) for p in references or []],
            "se": mix_field(mix),
            "device": cloner.converter.device,
            "backend": cloner.converter.backend,
            "precision": {"synth": cloner.tts.precision.to_json(), "convert": cloner.converter.precision.to_json()},
        }
        with ui.progress("cloning") as progress:
            if stream:
                words: list[api.WordTiming] | None = None if timestamps is None else []
                if timestamps is not None:
                    where["timestamps"] = str(timestamps)
                pieces = cloner.stream(text, **voice, **options, progress=progress, words=words)
                write_streamed(ui, json_out, "clone", output, fmt_name, pieces, cloner.sample_rate, seed, **where)
                if timestamps is not None and timestamps_fmt is not None and words is not None:
                    write_timestamps(timestamps, timestamps_fmt, words, cloner.sample_rate, phones=json_out)
                return
            speech = cloner.clone(text, **voice, **options, progress=progress, words=timestamps is not None)
    speech.save(output, fmt_name)
    if timestamps is not None and timestamps_fmt is not None:
        write_timestamps(timestamps, timestamps_fmt, speech.words, speech.sample_rate, phones=json_out)
        where["timestamps"] = str(timestamps)
    finish(ui, json_out, "clone", output, fmt_name, speech, **where)


@guarded
def convert(
    source: Annotated[Path, typer.Argument(help="Speech to re-voice (any format and rate).", show_default=False)],
    output: OutputOpt,
    reference: ReferenceOpt = None,
    se: SeOpt = None,
    source_se: Annotated[
        Path | None,
        typer.Option(
            "--source-se", help="Embedding of the source voice (default: taken from SOURCE itself).", show_default=False
        ),
    ] = None,
    source_speaker: Annotated[
        str | None,
        typer.Option(
            "--source-speaker", help="The source is this base speaker (uses base_speakers/ses).", show_default=False
        ),
    ] = None,
    tau: TauOpt = C.tau,
    seed: SeedOpt = api.DEFAULT_SEED,
    vad: VadOpt = Vad.silero,
    no_cache: NoCacheOpt = False,
    fmt: FormatOpt = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    precision: PrecisionOpt = Precision.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Re-voice SOURCE audio with the voice of a reference (the converter alone, 22.05 kHz).

    Example: openvoice-tt convert lecture.wav --reference me.wav -o lecture-me.wav
    """
    ui = Ui(quiet)
    references = one_of(reference, se)
    if source_se is not None and source_speaker is not None:
        raise typer.BadParameter("give --source-se or --source-speaker, not both", param_hint="--source-se")
    mix = voice_mix(se)
    fmt_name = audio_output(output, fmt, json_out, [source, *(references or []), *mix_files(mix), source_se])
    api.check_request(
        checkpoints,
        speakers=[source_speaker],
        tau=tau,
        seed=seed,
        audio=[source],
        references=references or [],
        embeddings=[*mix_files(mix), *([source_se] if source_se is not None else [])],
    )
    mixed = api.load_mix(mix) if mix is not None else None
    with ui.rendered_warnings():
        converter = api.ToneColorConverter(checkpoints, device.value, precision=precision.value)
        with ui.progress("reading voices") as progress:
            target = mixed if mixed is not None else converter.extract_se(references, vad.value, not no_cache, progress)
            if source_speaker is not None:
                origin = converter.base_speaker_se(source_speaker)
            elif source_se is not None:
                origin = api.load_se(source_se)
            else:
                origin = converter.extract_se([source], vad.value, not no_cache, progress)
        with ui.progress("converting") as progress:
            speech = converter.convert(source, origin, target, tau, seed, progress=progress)
    speech.save(output, fmt_name)
    finish(
        ui,
        json_out,
        "convert",
        output,
        fmt_name,
        speech,
        source=str(source),
        reference=[str(p) for p in references or []],
        se=mix_field(mix),
        device=converter.device,
        backend=converter.backend,
        precision=converter.precision.to_json(),
    )


@guarded
def extract_se(
    output: Annotated[Path, typer.Option("--output", "-o", help="Embedding file to write (.pth).")],
    references: Annotated[
        list[Path] | None, typer.Argument(help="Recordings of one voice (pooled).", show_default=False)
    ] = None,
    mix: Annotated[
        list[str] | None,
        typer.Option(
            "--mix",
            help="Instead of recordings: save a mix of embeddings, --mix a.pth:0.7 --mix b.pth:0.3 (as --se of "
            "clone: a weight after the LAST ':' when it is a number, else 1; normalized; at most 8). No model loads.",
            show_default=False,
        ),
    ] = None,
    vad: VadOpt = Vad.silero,
    no_cache: NoCacheOpt = False,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Compute a voice's tone-color embedding from reference recordings (for clone/convert --se), or save
    a mix of embeddings (--mix) as one.

    The speech of all files is pooled, cut into ~10 s pieces and the piece embeddings averaged; results are
    cached by audio content and converter checkpoint. A mix is sum(w * se) / sum(w) in float32.

    Example: openvoice-tt extract-se me1.wav me2.flac -o me.pth
    Example: openvoice-tt extract-se --mix alice.pth:0.7 --mix bob.pth:0.3 -o mixed.pth
    """
    ui = Ui(quiet)
    if references and mix:
        raise typer.BadParameter("give recordings or --mix, not both", param_hint="REFERENCES/--mix")
    if not references and not mix:
        raise typer.BadParameter("give recordings of the voice, or --mix embeddings", param_hint="REFERENCES/--mix")
    if str(output) == STDOUT:
        raise typer.BadParameter("an embedding cannot be written to stdout; name a .pth file", param_hint="--output")
    outputs.check_output_file(output)
    if mix:
        voices = voice_mix(mix)
        outputs.check_not_an_input(output, mix_files(voices))
        api.save_se(api.load_mix(voices), output)
        if json_out:
            parts = [{"se": str(Path(part.voice)), "weight": part.weight} for part in voices.parts]
            ui.json({"command": "extract-se", "output": str(output), "mix": parts})
        ui.status(f"wrote {output}: voice mix of {len(voices.parts)} embedding(s)")
        return
    references = references or []
    outputs.check_not_an_input(output, references)
    api.check_request(checkpoints, references=references)
    with ui.rendered_warnings():
        converter = api.ToneColorConverter(checkpoints, device.value)
        with ui.progress("reading voice") as progress:
            embedding = converter.extract_se(references, vad.value, not no_cache, progress)
    api.save_se(embedding, output)
    if json_out:
        ui.json(
            {
                "command": "extract-se",
                "output": str(output),
                "references": [str(p) for p in references],
                "vad": vad.value,
                "cache": None if no_cache else str(converter.cache.folder),
                "device": converter.device,
                "backend": converter.backend,
            }
        )
    ui.status(f"wrote {output}: voice embedding from {len(references)} reference file(s)")
