#!/usr/bin/env bash
# Speak one text in the voice of every reference recording in a folder (openvoice-tt batch, models loaded once).
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/clone_dir.sh TEXT REFDIR OUTDIR [openvoice-tt batch options...]

For every audio file in REFDIR (wav, flac, ogg, oga, opus, mp3, aif, aiff, au), clones TEXT in that
voice into OUTDIR/<file name without extension>.wav (dots in the name become _). OUTDIR is created if
needed. Options after OUTDIR go to 'openvoice-tt batch', for example:
  --speaker EN-BR  --seed 3  --tau 0.3  --format flac  --resume  --report OUTDIR/report.json
  --checkpoints DIR  --device cpu|cuda|tt
Exit status: that of 'openvoice-tt batch' (0 all done, 1 some references failed, 130 interrupted).
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

csv_field() {  # one CSV cell: always quoted, inner quotes doubled
    printf '"%s"' "${1//\"/\"\"}"
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
esac
if [ $# -lt 3 ]; then
    usage >&2
    exit 2
fi
text=$1
ref_dir=$2
out_dir=$3
shift 3
if [ ! -d "$ref_dir" ]; then
    echo "error: $ref_dir: no such folder" >&2
    exit 3
fi

references=()
for path in "$ref_dir"/*; do
    [ -f "$path" ] || continue
    case "${path,,}" in
        *.wav | *.flac | *.ogg | *.oga | *.opus | *.mp3 | *.aif | *.aiff | *.au) references+=("$path") ;;
    esac
done
if [ ${#references[@]} -eq 0 ]; then
    echo "error: $ref_dir: no audio files (wav, flac, ogg, oga, opus, mp3, aif, aiff, au)" >&2
    exit 3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
list="$work/clone_dir.csv"
{
    echo "text,reference,output"
    for path in "${references[@]}"; do
        name=$(basename "$path")
        name=${name%.*}
        printf '%s,%s,%s\n' "$(csv_field "$text")" "$(csv_field "$(realpath "$path")")" "$(csv_field "${name//./_}")"
    done
} >"$list"
openvoice_tt batch "$list" --output "$out_dir" "$@"
