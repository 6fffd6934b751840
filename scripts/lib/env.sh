# Shared shell helpers for setup_and_run.sh, scripts/test.sh and .ci/run (sourced, not executed).
# The project's virtual environment is .venv at the repository root, built from Python 3.10-3.12
# (ttnn publishes wheels for cp310 and cp312 only, so 3.12 and 3.10 are preferred over 3.11).

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV="$REPO_ROOT/.venv"

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# in_ci: the CI variable is set (to anything but "", 0, false or no), as CI services set it; tests/require.py
# reads it the same way (a missing requirement fails there instead of skipping).
in_ci() {
    case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
        "" | 0 | false | no) return 1 ;;
        *) return 0 ;;
    esac
}

python_version_ok() {  # prints "3.12" etc. when $1 is a usable interpreter
    "$1" -c 'import sys; v = sys.version_info[:2]; assert (3, 10) <= v <= (3, 12); print("%d.%d" % v)' 2>/dev/null
}

find_python() {
    local candidates=() root
    [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
    candidates+=(python3.12 python3.10)
    if command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root)
        candidates+=("$root"/versions/3.12*/bin/python3 "$root"/versions/3.10*/bin/python3 "$root"/versions/3.11*/bin/python3)
    fi
    candidates+=(python3.11 python3)
    local c path
    for c in "${candidates[@]}"; do
        path=$(command -v "$c" 2>/dev/null) || continue
        if python_version_ok "$path" >/dev/null; then
            echo "$path"
            return 0
        fi
    done
    return 1
}

# install_signature PYTHON_VERSION: hash of what an install depends on (pyproject.toml, and the
# constraints file for that Python when there is one).
install_signature() {
    local files=("$REPO_ROOT/pyproject.toml") constraints="$REPO_ROOT/requirements/constraints-py${1/./}.txt"
    [ -f "$constraints" ] && files+=("$constraints")
    cat "${files[@]}" | sha256sum | cut -c1-16
}

# installed_covers STAMP WANT: the install recorded in STAMP ("<hash> extras=[a,b]") has WANT's pyproject
# hash and at least WANT's extras.
installed_covers() {
    local have=$1 want=$2 extra
    [ "${have%% *}" = "${want%% *}" ] || return 1
    have=${have#*extras=[}; have=",${have%]},"
    want=${want#*extras=[}; want=${want%]}
    for extra in ${want//,/ }; do
        [[ "$have" == *",$extra,"* ]] || return 1
    done
}

# ensure_venv EXTRAS: create .venv if needed and install the project with the given extras
# ("tt,dev,serve" for tests). Re-installs only when pyproject.toml changed or an extra is missing.
ensure_venv() {
    local extras=$1 py version stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        py=$(find_python) || die "no Python 3.10-3.12 found (install one, e.g. 'pyenv install 3.12', or set PYTHON=/path/to/python3.12)"
        version=$(python_version_ok "$py")
        say "creating .venv with $py (Python $version)"
        "$py" -m venv "$VENV" || die "could not create $VENV"
    fi
    version=$(python_version_ok "$VENV/bin/python") || die "$VENV holds an unsupported Python; remove it and run again"
    if [ "$version" = "3.11" ] && [[ "$extras" == *tt* ]]; then
        in_ci && die "ttnn has no wheel for Python 3.11, and CI must run the ttnn tier: build .venv with Python 3.12 or 3.10 (PYTHON=python3.12)"
        say "warning: ttnn has no wheel for Python 3.11; installing without the tt extra"
        extras=${extras//tt,/}; extras=${extras//,tt/}; extras=${extras//tt/}
    fi
    stamp="$VENV/.openvoice-tt-installed"
    want="$(install_signature "$version") extras=[$extras]"
    if [ -f "$stamp" ] && installed_covers "$(cat "$stamp")" "$want"; then
        return 0  # same pyproject.toml, and every requested extra already installed
    fi
    say "installing openvoice-tt[$extras] into .venv (first time: several minutes, torch is large)"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    local constraints=()  # the exact versions CI tested, where they were recorded (Python 3.12)
    [ -f "$REPO_ROOT/requirements/constraints-py${version/./}.txt" ] \
        && constraints=(-c "$REPO_ROOT/requirements/constraints-py${version/./}.txt")
    "$VENV/bin/python" -m pip install -q -e "$REPO_ROOT[$extras]" "${constraints[@]}" \
        || die "pip install failed (see the messages above)"
    echo "$want" > "$stamp"
}

# The ttnn mock device JIT-builds firmware with the SFPI RISC-V compiler, which is not installable
# here; tests/tt_mock holds a stand-in. Never install it next to a real chip.
ensure_mock_sfpi() {
    "$VENV/bin/python" -c 'import ttnn' >/dev/null 2>&1 || return 0
    [ -e /dev/tenstorrent ] && return 0
    local ttnn_dir gxx
    ttnn_dir=$("$VENV/bin/python" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("ttnn").origin))')
    gxx="$ttnn_dir/runtime/sfpi/compiler/bin/riscv-tt-elf-g++"
    if [ -f "$gxx" ] && ! grep -q "Fake SFPI" "$gxx"; then
        return 0  # a real SFPI toolchain is installed: leave it alone
    fi
    bash "$REPO_ROOT/tests/tt_mock/install_fake_sfpi.sh" "$VENV/bin/python" >/dev/null
}

# Debian's espeak-ng makes the real speech the tests use.
ensure_espeak() {
    command -v espeak-ng >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing espeak-ng (apt-get)"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null) \
            || die "apt-get install espeak-ng failed"
    else
        die "the tests need espeak-ng: run 'sudo apt-get install espeak-ng'"
    fi
}
