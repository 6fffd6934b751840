"""`openvoice-tt doctor`: is this machine ready, and if not, what to do about it.

Each check loads what a real run would load (configs, then the weights with key validation), so a file
that is present but damaged is caught here rather than halfway through a batch. Status "fail" means
synthesis or cloning cannot work (the command then exits with 4); "warn" means it works, but worse.

Every installed base-speaker language is checked (a language is installed when its MeloTTS folder is
there; English is checked even when it is not, unless another language is installed): its model
(named by its folder: melotts-english, melotts-spanish, ...; its front end built over the config's symbol
list, which must hold every phone the front end makes), its BERT when present (English's
bert-base-uncased is the check named "bert", the others are named by their folder; a missing BERT is a
warning: zero features), the packages its front end needs (`packages <key>`, naming the pip extra),
and in one "base speakers" check the embedding of every installed speaker.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from openvoice_tt.api import default_cache_dir, silenced_native_output
from openvoice_tt.errors import OpenVoiceError
from openvoice_tt.languages import EN, LANGUAGES, Language
from openvoice_tt.layout import HOME_ENV, BertModel, Layout, checkpoint_dir, require_files

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
DOWNLOAD_HINT = "run 'openvoice-tt download', or see checkpoints/README.md for where the files go"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    hint: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def run_checks(checkpoints: Path | None = None, progress: Callable[[int, int], None] | None = None) -> list[Check]:
    """Environment first (cheap), then every checkpoint file (loads the weights: a few seconds)."""
    folder = checkpoint_dir(checkpoints)
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("python", _python),
        ("torch", _torch),
        ("cuda", _cuda),
        ("precision", _precision),
        ("ttnn", _ttnn),
        ("tenstorrent device", _tenstorrent),
        ("speech detection", _speech_detection),
        ("checkpoint folder", lambda: _folder(folder)),
    ]
    if folder.is_dir():
        languages = installed_languages(folder)
        steps.append(("converter", lambda: _converter(folder)))
        for language in languages:
            steps.append((language.model.folder, lambda language=language: _melo(folder, language)))
            if language.packages:
                steps.append((f"packages {language.key}", lambda language=language: _packages(language)))
        steps.append(("base speakers", lambda: _base_speakers(folder, languages)))
        berts = list(dict.fromkeys(language.model.bert for language in languages))
        steps += [(bert.folder, lambda bert=bert: _bert(folder, bert, languages)) for bert in berts]
        others = [language for language in LANGUAGES if language not in languages]
        if others:
            steps.append(("other languages", lambda: _not_installed(others)))
    steps.append(("voice cache", _cache))
    checks = []
    for done, (_, step) in enumerate(steps):
        if progress is not None:
            progress(done, len(steps))
        checks.append(step())
    return checks


def installed_languages(folder: Path) -> list[Language]:
    """The languages whose MeloTTS folder is in `folder`, in registry order; English when there is none
    (so that an empty folder reports English's files as missing, as before there were languages)."""
    found = [language for language in LANGUAGES if (folder / language.model.folder).is_dir()]
    return found or [EN]


def exit_code(checks: list[Check]) -> int:
    """4 when any check failed (README: "doctor found a problem"), else 0."""
    return 4 if any(check.status == FAIL for check in checks) else 0


def _python() -> Check:
    version = platform.python_version()
    if (3, 10) <= sys.version_info[:2] <= (3, 12):
        return Check("python", OK, f"{version} ({sys.executable})")
    return Check("python", WARN, f"{version}: untested", "use Python 3.10, 3.11 or 3.12")


def _torch() -> Check:
    import torch

    return Check("torch", OK, f"{torch.__version__}, {torch.get_num_threads()} CPU threads")


def _cuda() -> Check:
    import torch

    if torch.cuda.is_available():
        return Check("cuda", OK, f"{torch.cuda.get_device_name(0)} (--device cuda)")
    return Check("cuda", INFO, "no CUDA device")


def _precision() -> Check:
    """What `--precision auto` runs on the torch backend, and why (the CPU's flags; CUDA's compute capability)."""
    import torch

    from openvoice_tt.reference.precision import choose_precision

    cpu = choose_precision("auto", "cpu")
    detail = f"--device cpu: {cpu.mode} ({cpu.reason})"
    if torch.cuda.is_available():
        cuda = choose_precision("auto", "cuda")
        detail += f"; --device cuda: {cuda.mode} ({cuda.reason})"
    return Check("precision", INFO, detail, "--precision fp32 or bf16 overrides auto")


def _ttnn() -> Check:
    try:
        return Check("ttnn", OK, importlib.metadata.version("ttnn"))
    except importlib.metadata.PackageNotFoundError:
        return Check(
            "ttnn", INFO, "not installed", "pip install 'openvoice-tt[tt]' (Python 3.10 or 3.12) for --device tt"
        )


def _tenstorrent() -> Check:
    """What `--device tt` would get: the value of OPENVOICE_TT_DEVICE is read by the backend's own parser
    (`tt.device_choice`), so a value doctor accepts opens, and one it refuses fails `synth --device tt`
    with the same message."""
    from openvoice_tt.backends import TT_DEVICE, tt_device
    from openvoice_tt.tt.device import hardware_available, ttnn_installed
    from openvoice_tt.tt.device_choice import TT_DEVICE_ENV, device_choice

    hint = f"fix it, or unset {TT_DEVICE_ENV} and use --device cpu"
    try:
        choice = device_choice()
    except OpenVoiceError as e:
        return Check("tenstorrent device", FAIL, str(e), hint)
    if choice.kind == "emulation":
        return Check(
            "tenstorrent device",
            OK,
            f"host emulation of ttnn on the CPU ({TT_DEVICE_ENV}={choice}; --devices: one emulated chip per id named)",
        )
    if not ttnn_installed():
        return Check("tenstorrent device", INFO, "not checked (ttnn is not installed)")
    try:
        with silenced_native_output():  # ttnn's native logger writes to stdout
            if choice.kind == "hardware" and not hardware_available():
                return Check("tenstorrent device", INFO, f"none found (for testing: {TT_DEVICE_ENV}=emulation)")
            device = tt_device()  # opens it: the arch comes from the device itself
    except OpenVoiceError as e:  # a broken chip, or a mock that cannot open: --device auto would fail too
        return Check("tenstorrent device", FAIL, str(e), hint)
    chips = _chips(TT_DEVICE.card.chips_on_card if TT_DEVICE.card is not None else 1)
    if device.kind == "mock":
        return Check(
            "tenstorrent device",
            OK,
            f"mock {device.arch} ({choice.variant}), {chips}: validates ops, computes nothing",
        )
    return Check("tenstorrent device", OK, f"real {device.arch}, {chips} (--device tt; auto uses it)")


def _chips(count: int) -> str:
    """The chips `--devices` can name, e.g. "2 chips (ids 0-1: --devices all or 0,1, one replica each)"."""
    if count == 1:
        return "1 chip (id 0)"
    return f"{count} chips (ids 0-{count - 1}: --devices all or 0,1, one replica each)"


def _speech_detection() -> Check:
    import warnings

    import numpy as np

    from openvoice_tt.audio import VAD_RATE, detect_speech

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        method = detect_speech(np.zeros(VAD_RATE, dtype=np.float32), VAD_RATE, "silero").method
    if method == "silero":
        return Check("speech detection", OK, "silero-vad (bundled model)")
    reason = str(caught[0].message) if caught else "silero-vad unavailable"
    return Check("speech detection", WARN, reason, "pip install silero-vad; energy detection works meanwhile")


def _folder(folder: Path) -> Check:
    if folder.is_dir():
        return Check("checkpoint folder", OK, str(folder.resolve()))
    return Check(
        "checkpoint folder",
        FAIL,
        f"{folder} not found",
        f"give --checkpoints or set {HOME_ENV}; {DOWNLOAD_HINT}",
    )


def _loading(name: str, load: Callable[[], str]) -> Check:
    """Run a loader; a user-fixable problem (OpenVoiceError) is a failed check, anything else a bug."""
    try:
        return Check(name, OK, load())
    except OpenVoiceError as e:
        return Check(name, FAIL, str(e), DOWNLOAD_HINT)


def _parameters(module: object) -> str:
    count = sum(p.numel() for p in module.parameters())
    return f"{count / 1e6:.1f} M parameters"


def _converter(folder: Path) -> Check:
    def load() -> str:
        from openvoice_tt.reference.converter import load_converter_model

        sub = Layout(folder).converter.require()
        model = load_converter_model(sub.config, sub.weights)
        return f"{sub.path}: {_parameters(model)}, {model.config.data.sampling_rate} Hz"

    return _loading("converter", load)


def _melo(folder: Path, language: Language) -> Check:
    name = language.model.folder

    def load() -> str:
        from openvoice_tt.reference.synthesizer import load_melo_synthesizer

        sub = Layout(folder, language.model).melo.require()
        model = load_melo_synthesizer(sub.config, sub.weights)
        if not language.missing_packages():  # (else its packages check fails)
            _front_end(language, model.config)
        speakers = ", ".join(model.config.speakers)
        return (
            f"{sub.path}: {language.name}, {_parameters(model)}, {model.config.data.sampling_rate} Hz, "
            f"speakers {speakers}"
        )

    return _loading(name, load)


def _front_end(language: Language, config: object) -> None:
    """Build the language's front end over the checkpoint's symbol list, as synthesis does (a ConfigError
    when the list lacks a phone the front end makes); no BERT, so no warning about it."""
    import warnings

    from openvoice_tt.text import NoBertWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        language.make_front_end(config.symbols, config.data.add_blank)


def _packages(language: Language) -> Check:
    """The packages the language's front end imports (none is imported here: only found)."""
    name = f"packages {language.key}"
    missing = language.missing_packages()
    if missing:
        return Check(
            name,
            FAIL,
            f"{language.name} needs {', '.join(missing)}, which is not installed",
            f"pip install 'openvoice-tt[{language.extra}]' (or run ./setup_and_run.sh)",
        )
    return Check(name, OK, f"{language.name}: {', '.join(language.packages)} installed")


def _base_speakers(folder: Path, languages: list[Language]) -> Check:
    def load() -> str:
        from openvoice_tt.api import load_se
        from openvoice_tt.config import MeloConfig

        counts = []
        done: set[Path] = set()
        for language in languages:
            layout = Layout(folder, language.model)
            speakers = MeloConfig.from_file(layout.melo.config).speakers
            for name in speakers:
                path = layout.speaker_se(name)
                if path not in done:
                    require_files(path)
                    load_se(path)
                    done.add(path)
            counts.append(f"{language.key} {len(speakers)}")
        return f"{Layout(folder).speaker_embeddings}: an embedding for each speaker ({', '.join(counts)})"

    return _loading("base speakers", load)


def _bert(folder: Path, model: BertModel, languages: list[Language]) -> Check:
    """The BERT folder `model` of the installed `languages` that read it; missing is a warning."""
    from openvoice_tt.bert import BertFeatureExtractor

    name = "bert" if model == EN.model.bert else model.folder
    users = ", ".join(language.key for language in languages if language.model.bert == model)
    sub = folder / model.folder
    try:
        bert = BertFeatureExtractor.from_folder(sub, missing_ok=True)
    except OpenVoiceError as e:
        return Check(name, FAIL, str(e), DOWNLOAD_HINT)
    if bert is None:
        return Check(
            name,
            WARN,
            f"{sub} not found: synthesis in {users} uses zero BERT features (flatter prosody)",
            f"run 'openvoice-tt download --languages {users}' to get {model.folder} ({model.repo})",
        )
    return Check(name, OK, f"{sub}: {bert.hidden_size}-wide features (for {users})")


def _not_installed(languages: list[Language]) -> Check:
    keys = " ".join(language.key for language in languages)
    return Check(
        "other languages",
        INFO,
        f"not installed: {', '.join(language.name for language in languages)}",
        f"openvoice-tt download --languages {keys}",
    )


def _cache() -> Check:
    return Check("voice cache", INFO, f"{default_cache_dir()} (reference embeddings; safe to delete)")
