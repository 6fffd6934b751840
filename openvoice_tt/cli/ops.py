"""The commands that set the tool up and run it at scale: download (the checkpoints), batch (a list
file), serve (OpenAI's speech API over HTTP).

batch and serve load the models once and then work through many items or requests; a failing item or
request is reported and the rest go on.
"""

import sys
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from openvoice_tt import api, outputs
from openvoice_tt.cli import render
from openvoice_tt.cli.errors import guarded, stopped
from openvoice_tt.cli.options import (
    LANGUAGE_KEYS,
    AudioFormat,
    CheckpointsOpt,
    Device,
    DeviceOpt,
    DevicesOpt,
    JsonOpt,
    LanguageOpt,
    LexiconOpt,
    ListFormat,
    NoCacheOpt,
    NoiseScaleOpt,
    NoiseScaleWOpt,
    Precision,
    PrecisionOpt,
    QuietOpt,
    SdpRatioOpt,
    SeedOpt,
    SpeakerOpt,
    SpeedOpt,
    TauOpt,
    Vad,
    VadOpt,
    mix_files,
    synthesis_options,
    voice_mix,
)
from openvoice_tt.cli.ui import Ui
from openvoice_tt.errors import InputError

S = api.SYNTHESIS  # the defaults users see in -h
C = api.CONVERSION


@guarded
def download(
    language_args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="LANGUAGE",
            help=f"Languages to fetch, as after --languages ({LANGUAGE_KEYS}, all).",
            show_default=False,
        ),
    ] = None,
    languages: Annotated[
        list[str] | None,
        typer.Option(
            "--languages",
            "-l",
            help=f"Base-speaker languages to fetch: {LANGUAGE_KEYS} or all (default: en); several may follow "
            "(--languages zh jp kr) or be separated by commas.",
            show_default=False,
        ),
    ] = None,
    checkpoints: CheckpointsOpt = None,
    no_bert: Annotated[
        bool, typer.Option("--no-bert", help="Skip the languages' BERTs (~440 MB each; flatter prosody).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Download again even if files are present.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the files that would be fetched, with sizes; fetch nothing.")
    ] = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Fetch the official checkpoints from Hugging Face: the converter, and per language its MeloTTS
    model, BERT and base-speaker embeddings (English when no language is named).

    The only command that uses the network. Shows each file's size (as the hub gives it) before fetching;
    files already present are kept. Offline, it lists which file goes where (exit code 4).

    Example: openvoice-tt download --languages es fr en-v3 --checkpoints ~/openvoice-checkpoints
    Example: openvoice-tt download --languages zh jp kr
    """
    from openvoice_tt.download import DEFAULT_LANGUAGES, plan
    from openvoice_tt.download import download as fetch
    from openvoice_tt.languages import find_languages
    from openvoice_tt.layout import checkpoint_dir

    names = [
        name for value in [*(languages or []), *(language_args or [])] for name in value.split(",") if name.strip()
    ]
    chosen = find_languages(names) if names else DEFAULT_LANGUAGES
    ui = Ui(quiet)
    folder = checkpoint_dir(checkpoints)
    if not dry_run:
        outputs.ensure_output_dir(folder)
    keys = " ".join(language.key for language in chosen)
    planned = plan(folder, include_bert=not no_bert, force=force, languages=chosen)
    known = sum(p.size for p in planned if p.size is not None)
    unknown = sum(p.size is None for p in planned)
    total = render.byte_size(known) + (f" and {unknown} of unknown size" if unknown else "")
    summary = {
        "command": "download",
        "folder": str(folder),
        "languages": [language.key for language in chosen],
        "bytes": known,
        "files": [p.to_json(folder) for p in planned],
    }
    if dry_run:
        if json_out:
            Ui.json({**summary, "dry_run": True})
        elif not quiet:
            render.download_plan(ui, planned, folder)
        ui.status(
            f"{len(planned)} file(s) to fetch for {keys}: {total}" if planned else f"all files already in {folder}"
        )
        return
    if planned:
        ui.status(f"fetching {len(planned)} file(s) for {keys}: {total}")

    def on_file(done: int, count: int, planned_file: Any) -> None:
        if done < count:
            remote = planned_file.remote
            ui.status(f"[{done + 1}/{count}] {remote.repo}/{remote.filename} ({render.byte_size(planned_file.size)})")

    written = fetch(folder, include_bert=not no_bert, force=force, quiet=quiet, on_file=on_file, planned=planned)
    if json_out:
        Ui.json({**summary, "written": [str(p) for p in written]})
    ui.status(f"{len(written)} file(s) downloaded into {folder}" if written else f"all files already in {folder}")


@guarded
def batch(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="List file: .txt, .csv, .tsv or .jsonl.")],
    out_dir: Annotated[Path, typer.Option("--output", "-o", help="Output folder (created if missing).")],
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Skip items already made from the same inputs (text, options, the content of references, "
            "embeddings, lexicon and checkpoints).",
        ),
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write a JSON report here.", show_default=False)
    ] = None,
    input_format: Annotated[
        ListFormat | None,
        typer.Option("--input-format", help="List format (default: from INPUT's extension).", show_default=False),
    ] = None,
    speaker: SpeakerOpt = None,
    language: LanguageOpt = None,
    se: Annotated[
        list[str] | None,
        typer.Option(
            "--se",
            help="Clone every item that names no reference or se in this voice: an embedding (.pth), or a mix "
            "(repeat: --se a.pth:0.7 --se b.pth:0.3; a weight after the LAST ':' when it is a number, else 1).",
            show_default=False,
        ),
    ] = None,
    speed: SpeedOpt = S.speed,
    sdp_ratio: SdpRatioOpt = S.sdp_ratio,
    noise_scale: NoiseScaleOpt = S.noise_scale,
    noise_scale_w: NoiseScaleWOpt = S.noise_scale_w,
    tau: TauOpt = C.tau,
    seed: SeedOpt = api.DEFAULT_SEED,
    vad: VadOpt = Vad.silero,
    no_cache: NoCacheOpt = False,
    fmt: Annotated[AudioFormat, typer.Option("--format", "-f", help="Format of numbered outputs.")] = AudioFormat[
        "wav"
    ],
    lexicon: LexiconOpt = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    devices: DevicesOpt = None,
    precision: PrecisionOpt = Precision.auto,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            help="Run the items on a Ray cluster, one worker per device slot, the audio coming back here to be "
            "written: the cluster at RAY_ADDRESS, else the one `ray start` began on this machine, else a new local one "
            "(needs Ray: the ray extra of openvoice-tt).",
        ),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            metavar="HOST:PORT",
            help="With --ray (implied): the Ray cluster's head to connect to.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Synthesize or clone every item of a list file into a folder; models load once.

    A .txt file has one text per line. A .csv/.tsv (header row) or .jsonl file can set per item: text,
    speaker, language, reference (clone; several separated by |), se (an embedding, or a voice mix
    a.pth:0.7|b.pth:0.3 as clone's --se), output, speed, seed, sdp_ratio, noise_scale, noise_scale_w, tau,
    format. --se clones the items that name no voice (reference or se) in one: an embedding, or a mix. The
    speaker picks each item's language model (each loads at its first item and is kept); an item naming a
    speaker or language takes neither from --speaker/--language; one naming neither, with neither option
    given (or language auto), speaks the language detected from its text.
    A bad item is reported and the rest go on; the exit code is 1 if any
    item failed, 130 if interrupted (143 on SIGTERM; then --resume finishes the rest). --devices runs one
    replica per chip or GPU of this machine, --ray the items on a Ray cluster (one worker per device slot);
    either way the files are written here, the same bytes.

    Example: openvoice-tt batch lines.txt -o out/ --speaker EN-AU --resume --report out/report.json
    """
    from openvoice_tt import batch as batching

    ray_address = ray_address if ray_address is not None else ("" if ray else None)  # "": Ray's own choice
    if ray_address is not None:
        from openvoice_tt.batch.ray_workers import require_ray

        require_ray()  # exit 7 before anything else is read or loaded
        if devices is not None:
            raise InputError("--devices is for this machine's chips; with --ray every chip of a node is a slot")
    ui = Ui(quiet)
    user_lexicon = api.load_lexicon(lexicon)
    items = batching.read_items(input_file, input_format.value if input_format else None, fmt.value)
    outputs.ensure_output_dir(out_dir)
    if report is not None:
        outputs.check_output_file(report)
    synthesis = synthesis_options(speed, sdp_ratio, noise_scale, noise_scale_w)
    mix = voice_mix(se)
    api.check_request(
        checkpoints,
        speakers=[speaker],
        synthesis=synthesis,
        tau=tau,
        seed=seed,
        language=language,
        embeddings=mix_files(mix),
    )
    if mix is not None:
        api.load_mix(mix)  # every file of the mix an embedding of one shape, before any model loads
        items = [
            replace(item, se=mix) if item.problem is None and not item.references and item.se is None else item
            for item in items
        ]
    defaults = batching.Options(
        speaker=speaker,
        language=language,
        speed=speed,
        seed=seed,
        sdp_ratio=sdp_ratio,
        noise_scale=noise_scale,
        noise_scale_w=noise_scale_w,
        tau=tau,
    )
    engine = batching.Engine(
        checkpoints,
        device.value,
        method=vad.value,
        use_cache=not no_cache,
        lexicon=user_lexicon,
        precision=precision.value,
    )
    indices = api.resolve_replicas(device.value, devices) if devices is not None else None  # chips opened now
    with (
        workers_for(ray_address, engine, indices) as workers,
        ui.rendered_warnings(),
        ui.progress("batch") as item_bar,
    ):
        started = time.perf_counter()
        result = batching.run_batch(
            items,
            out_dir,
            engine,
            defaults,
            resume,
            lambda done, total, _: item_bar(done, total),
            report=report,
            workers=workers,
        )
    elapsed = time.perf_counter() - started
    summary = result.to_json(input_file, out_dir, workers.device_used, workers.precision_used)
    if report is not None:
        batching.write_report(summary, report)
    render.batch(ui, result, summary, elapsed, json_out)
    if result.interrupted:
        word, code = stopped(result.terminated)
        print(
            f"error: {word}; {result.count(batching.NOT_RUN)} item(s) not run (run again with --resume)",
            file=sys.stderr,
        )
        raise typer.Exit(code)
    if result.failed:
        raise typer.Exit(1)


def workers_for(
    ray_address: str | None, engine: Any, indices: tuple[int, ...] | None = None
) -> AbstractContextManager[Any]:
    """Who computes a batch's items: the in-process engine, an engine per chip or GPU of `indices`
    (--devices), or with --ray (ADDRESS, or "" for Ray's own choice) a Ray cluster, connected on entering and
    left on exit."""
    from openvoice_tt.batch.workers import LocalWorkers, ReplicaWorkers

    if ray_address is None:
        return nullcontext(LocalWorkers(engine) if indices is None else ReplicaWorkers(engine, indices))
    from openvoice_tt.batch.ray_workers import RayWorkers

    return RayWorkers(ray_address or None, engine)


@guarded
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (another than loopback exposes it).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8000,
    voices: Annotated[
        Path, typer.Option("--voices", help="Folder of voice embeddings (<name>.pth); POST /v1/voices adds to it.")
    ] = Path("voices"),
    queue: Annotated[
        int | None,
        typer.Option(
            "--queue",
            min=1,
            help="Requests that may run or wait; more get 503 (default: 4, or twice the replicas of --devices).",
            show_default=False,
        ),
    ] = None,
    max_input_chars: Annotated[int, typer.Option("--max-input-chars", min=1, help="Longest `input` text.")] = 4096,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", min=0.001, help="Largest voice upload.")] = 20.0,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = Device.auto,
    devices: DevicesOpt = None,
    precision: PrecisionOpt = Precision.auto,
    quiet: QuietOpt = False,
) -> None:
    """Serve OpenAI's speech API over HTTP (POST /v1/audio/speech, /v1/voices, /health); models load once.

    Every installed language's base speakers are voices; a language's models load on its first request and
    stay loaded. A request may add "language" (es, fr, zh, jp, kr, en-v3, ...) to speak or clone a stored
    voice with that language's speaker, or "auto"; a stored voice with no language (or "auto") speaks the
    language detected from the input.

    Example: openvoice-tt serve --port 8000, then: curl -s localhost:8000/v1/audio/speech -H
    'Content-Type: application/json' -d '{"model": "openvoice-tt", "input": "Hi.", "voice": "EN-US"}' -o hi.wav
    """
    try:
        import uvicorn

        from openvoice_tt.api.replicas import load_replicas
        from openvoice_tt.server import Limits, SpeechService, create_app
    except ImportError as e:
        extra = "pip install 'openvoice-tt[serve]'"
        raise InputError(f"serve needs the 'serve' extra ({e.name} is missing): {extra}") from None
    ui = Ui(quiet)
    api.check_request(checkpoints)
    outputs.ensure_output_dir(voices)
    with ui.rendered_warnings():
        indices = api.resolve_replicas(device.value, devices)  # chips opened here, before any model loads
        if queue is None:  # every replica busy, and as many waiting
            queue = max(Limits.queue, 2 * len(indices))
        elif queue < len(indices):
            raise InputError(f"--queue {queue} would leave replicas idle: give at least {len(indices)} (--devices)")
        limits = Limits(queue=queue, max_input_chars=max_input_chars, max_upload_bytes=int(max_upload_mb * 2**20))
        # each replica's first language and converter load now: a broken model fails here
        replicas = load_replicas(checkpoints, device.value, precision.value, indices)
        service = SpeechService(None, voices, limits, replicas=replicas)
    cloner = service.cloner
    languages = ", ".join(dict.fromkeys(speaker.language.key for speaker in service.registry.speakers))
    on = f", {len(indices)} replicas on {cloner.tts.device} {','.join(map(str, indices))}" if devices else ""
    ui.status(
        f"serving on http://{host}:{port} ({cloner.tts.backend} backend{on}, precision "
        f"{cloner.tts.precision.mode}; languages {languages}, "
        f"{cloner.tts.language.key} loaded, the others on first use; voices in {voices})"
    )
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning" if quiet else "info")
