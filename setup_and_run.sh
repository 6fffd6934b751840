#!/usr/bin/env bash
# First run on a fresh machine: build .venv (Python 3.10-3.12), install openvoice-tt, check the
# checkpoints (downloading them if missing), then speak a demo sentence into outputs/demo.wav.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib/env.sh"
cd "$REPO_ROOT"

DEMO_TEXT="Hello! This is OpenVoice, running on your own machine."

case "${1:-}" in
    -h | --help)
        cat <<'USAGE'
Usage: ./setup_and_run.sh

Creates .venv (with ttnn on Python 3.10/3.12), installs openvoice-tt with every language's front end
(the languages extra: es, fr, zh, jp, kr), makes sure the checkpoints are
in place (--checkpoints folder: $OPENVOICE_TT_HOME, else ./checkpoints), downloading them from Hugging
Face if needed, and synthesizes a demo sentence to outputs/demo.wav. Safe to run again.
USAGE
        exit 0
        ;;
esac

ensure_venv "tt,languages"  # ttnn and every language's front end; scripts/test.sh's install (tt,dev,serve,languages) covers this
OPENVOICE_TT="$VENV/bin/openvoice-tt"
folder=$("$VENV/bin/python" -c 'from openvoice_tt.layout import checkpoint_dir; print(checkpoint_dir().resolve())')

offline_help() {
    cat >&2 <<HELP

The checkpoints could not be downloaded (offline?). Put the files listed above into $folder
(layout: checkpoints/README.md), or point OPENVOICE_TT_HOME at a folder that has them, then run
./setup_and_run.sh again.
To try the pipeline without the official weights (it runs, but speaks noise):
  $VENV/bin/python scripts/make_test_checkpoints.py $folder --size full
HELP
}

if "$OPENVOICE_TT" doctor --quiet; then
    say "checkpoints ok in $folder"
    if [ ! -d "$folder/bert-base-uncased" ]; then
        say "bert-base-uncased is missing (prosody features): downloading it (about 440 MB)"
        "$OPENVOICE_TT" download \
            || say "warning: no BERT model; synthesis uses zero BERT features (flatter prosody) until it is downloaded"
    fi
else
    say "checkpoints missing or incomplete in $folder: downloading them (about 800 MB)"
    if ! "$OPENVOICE_TT" download; then
        offline_help
        exit 4
    fi
    if ! "$OPENVOICE_TT" doctor --quiet; then
        "$OPENVOICE_TT" doctor || true
        say "error: the checkpoints in $folder are still not usable (see above; 'openvoice-tt download --force' fetches them again)"
        exit 4
    fi
fi

mkdir -p outputs
"$OPENVOICE_TT" synth "$DEMO_TEXT" --output outputs/demo.wav
say "demo written to $REPO_ROOT/outputs/demo.wav"
say "next: $OPENVOICE_TT clone \"Your text.\" --reference your-voice.wav --output outputs/clone.wav"
