#!/usr/bin/env bash
# Synthesize every line of a text file into a folder, loading the models once (openvoice-tt batch).
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/batch_synth.sh TEXTFILE OUTDIR [openvoice-tt batch options...]

Speaks every non-empty line of TEXTFILE with a base speaker into OUTDIR/0001.wav, 0002.wav, ...
(OUTDIR is created if needed). Options after OUTDIR go to 'openvoice-tt batch', for example:
  --speaker EN-BR  --speed 1.1  --seed 3  --format flac  --resume  --report OUTDIR/report.json
  --checkpoints DIR  --device cpu|cuda|tt
Exit status: that of 'openvoice-tt batch' (0 all done, 1 some lines failed, 130 interrupted).
USAGE
}

openvoice_tt() {  # the project's .venv if there is one, else whatever is on PATH
    local here venv_bin
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    venv_bin="$here/.venv/bin/openvoice-tt"
    if [ -x "$venv_bin" ]; then
        "$venv_bin" "$@"
    elif command -v openvoice-tt >/dev/null 2>&1; then
        openvoice-tt "$@"
    else
        echo "error: openvoice-tt is not installed (run ./setup_and_run.sh first)" >&2
        return 1
    fi
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
esac
if [ $# -lt 2 ]; then
    usage >&2
    exit 2
fi
text_file=$1
out_dir=$2
shift 2
if [ ! -f "$text_file" ]; then
    echo "error: $text_file: no such file" >&2
    exit 3
fi
openvoice_tt batch "$text_file" --input-format txt --output "$out_dir" "$@"
