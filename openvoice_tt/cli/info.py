"""The commands that look without making audio: phonemes, speakers, doctor.

They answer "what will the model be fed", "which voices are there" and "can this machine run it"; none of
them makes audio, so they are quick to run before a long job.
"""

from typing import Annotated

import typer

from openvoice_tt import api
from openvoice_tt.cli import render
from openvoice_tt.cli.errors import guarded
from openvoice_tt.cli.options import LANGUAGE_KEYS, CheckpointsOpt, JsonOpt, LexiconOpt, QuietOpt
from openvoice_tt.cli.textio import read_text
from openvoice_tt.cli.ui import Ui


@guarded
def phonemes(
    text: Annotated[str, typer.Argument(help="Text to look at, or - to read it from stdin.", show_default=False)],
    language: Annotated[
        str,
        typer.Option(
            "--language",
            help=f"Language whose front end reads the text: {LANGUAGE_KEYS}, or auto (detected from the text "
            "among the installed languages; --json says which and why).",
        ),
    ] = "en",
    lexicon: LexiconOpt = None,
    checkpoints: CheckpointsOpt = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Show what the model is fed: per word, the phones and where they come from; with --json also, per
    chunk, the model inputs (phone_ids, tone_ids, language_ids, word2ph).

    English phones are ARPAbet with stress digits; sources: lexicon (--lexicon), dictionary (MeloTTS's
    training dictionary), g2p_en dictionary, letter-to-sound (g2p_en's model), punctuation, none. Spanish and
    French phones are IPA characters from gruut (source gruut); Chinese, Japanese and Korean phones are
    MeloTTS's own (pinyin initials and finals, romaji phones, jamo). Ids come from the language's installed
    checkpoint (its config's symbol list) when there is one, else the bundled upstream list (the JSON's
    `symbols` says which). Text is chunked as synthesis chunks it (Chinese, Japanese and Korean sentences
    end at 。！？ with no space after them). Loads no model, but a non-English language's BERT when installed
    (its word pieces decide word2ph).

    Example: openvoice-tt phonemes "¿Dónde está la estación?" --language es --json
    Example: openvoice-tt phonemes "今天天气很好。" --language auto --json
    """
    from openvoice_tt.cli.model_inputs import describe
    from openvoice_tt.detection import is_auto
    from openvoice_tt.languages import find_language

    user_lexicon = api.load_lexicon(lexicon)
    ui = Ui(quiet)
    text = read_text(text)
    detection = api.detect_language(text, checkpoints) if is_auto(language) else None
    chosen = detection.language if detection is not None else find_language(language)
    if detection is not None:
        ui.status(f"language: {chosen.key} ({detection.reason})")
    with ui.rendered_warnings():  # words left out, text in another language: one note each on stderr
        symbols, chunks = describe(text, chosen, checkpoints, user_lexicon)
    if json_out:
        detected = {"language_detected": detection.to_json()} if detection is not None else {}
        Ui.json({"language": chosen.code, **detected, "symbols": symbols.to_json(), "chunks": chunks})
        return
    if quiet:
        return
    render.phonemes(ui, chunks)


@guarded
def speakers(checkpoints: CheckpointsOpt = None, quiet: QuietOpt = False, json_out: JsonOpt = False) -> None:
    """List the base speakers of every installed language: each one's language, model folder and id, and
    whether the embedding file that clone starts from is present. --speaker NAME picks that model.

    Example: openvoice-tt speakers
    """
    from openvoice_tt.layout import Layout, existing_checkpoint_dir

    layout = Layout(existing_checkpoint_dir(checkpoints))
    rows = [
        {
            "name": speaker.name,
            "language": speaker.language.code,
            "language_key": speaker.language.key,
            "model": str(speaker.model_folder),
            "id": speaker.speaker_id,
            "se": str(path := layout.speaker_se(speaker.name)),
            "se_present": path.is_file(),
        }
        for speaker in api.require_speakers(checkpoints)
    ]
    if json_out:
        Ui.json(rows)
        return
    if quiet:
        return
    render.speakers(Ui(), rows)


@guarded
def doctor(checkpoints: CheckpointsOpt = None, quiet: QuietOpt = False, json_out: JsonOpt = False) -> None:
    """Check Python, torch, CUDA, ttnn, the Tenstorrent device and every checkpoint file; say what to fix.

    Every installed language is checked: its model, base-speaker embeddings, BERT and packages (a missing
    package names the pip extra). Exit code 0 when synthesis and cloning can run, 4 when a checkpoint is
    missing or broken or an installed language's packages are missing.

    Example: openvoice-tt doctor
    """
    from openvoice_tt import doctor as checks_module

    ui = Ui(quiet)
    with ui.rendered_warnings(), ui.progress("checking") as progress:
        checks = checks_module.run_checks(checkpoints, progress)
    code = checks_module.exit_code(checks)
    if json_out:
        Ui.json({"ok": code == 0, "checks": [c.to_json() for c in checks]})
    elif not quiet:
        render.doctor(ui, checks, code)
    if code:
        raise typer.Exit(code)
