"""Hostile values from checkpoint files and a damaged weight cache (issue 23, part 2).

Names read from a checkpoint's config.json become file names only when they are plain names (no path
separators, no `..`, no control characters, not overlong), and a base speaker's embedding file must lie in
the speaker-embeddings folder: otherwise one error line, exit 4, naming the config file and the name. A weight
cache entry that is truncated or holds NaN is removed, rebuilt from the checkpoint and reported, and the run
goes on.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from openvoice_tt import backends
from openvoice_tt.cli import app
from openvoice_tt.config import MeloConfig
from openvoice_tt.errors import CheckpointError, ConfigError, name_problem
from openvoice_tt.layout import Layout
from openvoice_tt.tt.weights import WeightCache, WeightCacheWarning

pytestmark = pytest.mark.usefixtures("tool_environment")

EVIL = "../../../../evil"
HOSTILE_NAMES = [EVIL, "EN/US", "EN\\US", "..", ".hidden", "EN\x00US", "EN\x1b[31mUS", "x" * 65, ""]


def invoke(*args: object, input: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def hostile_copy(tiny_checkpoints: Path, tmp_path: Path, name: str) -> Path:
    """A copy of the tiny checkpoint folder, two levels below `tmp_path`, whose MeloTTS config names speaker
    `name` (id 0, in place of EN-US); a valid embedding lies at tmp_path/evil.pth, where EVIL leads."""
    root = tmp_path / "a" / "ckpt"
    shutil.copytree(tiny_checkpoints, root)
    config = root / "melotts-english" / "config.json"
    obj = json.loads(config.read_text())
    spk2id = obj["data"]["spk2id"]
    del spk2id["EN-US"]
    obj["data"]["spk2id"] = {name: 0, **spk2id}
    config.write_text(json.dumps(obj))
    shutil.copy(root / "base_speakers" / "ses" / "en-us.pth", tmp_path / "evil.pth")
    return root


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file torch.load reads in this test."""
    seen: list[Path] = []
    real = torch.load

    def spy(f, *args, **kwargs):
        if isinstance(f, str | Path):
            seen.append(Path(f).resolve())
        return real(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    return seen


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_speaker_name_in_config_is_a_checkpoint_error(name: str, tiny_checkpoints: Path) -> None:
    assert name_problem(name) is not None
    obj = json.loads((tiny_checkpoints / "melotts-english" / "config.json").read_text())
    obj["data"]["spk2id"] = {"EN-US": 1, name: 0}
    with pytest.raises(ConfigError) as caught:
        MeloConfig.from_dict(obj, source="/x/config.json")
    message = str(caught.value)
    assert message.startswith("/x/config.json: field 'data.spk2id'") and "not a plain name" in message
    assert "\n" not in message and "\x00" not in message and "\x1b" not in message
    assert CheckpointError.exit_code == 4


@pytest.mark.filterwarnings("ignore:no BERT model")
@pytest.mark.parametrize("command", ["speakers", "synth", "clone"])
def test_cli_refuses_a_config_speaker_that_leads_outside(
    command: str, tiny_checkpoints: Path, tmp_path: Path, voice: Path, loads: list[Path]
) -> None:
    root = hostile_copy(tiny_checkpoints, tmp_path, EVIL)
    out = tmp_path / "out.wav"
    args = {
        "speakers": ["speakers", "-c", root],
        "synth": ["synth", "Hello.", "-s", EVIL, "-o", out, "-c", root, "-d", "cpu", "-q"],
        "clone": ["clone", "Hello.", "-r", voice, "--speaker", EVIL, "-o", out, "-c", root, "-d", "cpu", "-q"],
    }[command]
    result = invoke(*args)
    assert result.exit_code == 4, (result.exit_code, result.output, result.exception)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "config.json" in errors[0] and repr(EVIL) in errors[0], result.stderr
    assert "Traceback" not in result.output and not out.exists()
    assert (tmp_path / "evil.pth").resolve() not in loads


def test_speaker_se_stays_in_the_embeddings_folder(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "ckpt")
    assert layout.speaker_se("EN_INDIA") == tmp_path / "ckpt" / "base_speakers" / "ses" / "en-india.pth"
    for name in HOSTILE_NAMES:
        with pytest.raises(CheckpointError, match="cannot name a file"):
            layout.speaker_se(name)
    ses = layout.speaker_embeddings
    ses.mkdir(parents=True)
    (ses / "en-link.pth").symlink_to(tmp_path / "evil.pth")  # a file name inside, resolving outside
    with pytest.raises(CheckpointError, match="leads outside"):
        layout.speaker_se("EN_LINK")


def test_a_hostile_speaker_from_the_user_is_an_unknown_speaker(
    tiny_checkpoints: Path, tmp_path: Path, loads: list[Path]
) -> None:
    result = invoke("synth", "Hello.", "-s", EVIL, "-o", tmp_path / "x.wav", "-c", tiny_checkpoints, "-d", "cpu", "-q")
    assert result.exit_code == 3 and "unknown speaker" in result.stderr, result.output
    from openvoice_tt import api
    from openvoice_tt.errors import InputError

    converter = api.ToneColorConverter(tiny_checkpoints, device="cpu")
    with pytest.raises(InputError, match="unknown speaker"):
        converter.base_speaker_se(EVIL)
    assert not [p for p in loads if p.name == "evil.pth"]


# ------------------------------------------------------------------------------------------ weight cache


def test_a_damaged_cache_entry_is_removed_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "entry.safetensors"
    built = WeightCache(path)
    built.get("w", lambda: torch.ones(4, 4))
    built.save()
    good = path.read_bytes()

    path.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.warns(WeightCacheWarning, match=r"entry .*entry\.safetensors was damaged \(unreadable"):
        cache = WeightCache(path)
    assert not path.exists() and not cache.loaded_from_disk
    assert torch.equal(cache.get("w", lambda: torch.ones(4, 4)), torch.ones(4, 4))
    cache.save()
    assert path.read_bytes() == good

    from safetensors.torch import save_file

    save_file({"w": torch.full((4, 4), float("nan"))}, str(path))  # well-formed, but NaN
    with pytest.warns(WeightCacheWarning, match=r"non-finite values in 'w'"):
        cache = WeightCache(path)
    cache.get("w", lambda: torch.ones(4, 4))
    cache.save()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = WeightCache(path)
    assert again.loaded_from_disk and torch.equal(again.tensors["w"], torch.ones(4, 4))


@pytest.mark.usefixtures("fresh_tt_device")
@pytest.mark.filterwarnings("ignore:no BERT model")
def test_synth_on_tt_survives_a_truncated_or_nan_cache(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safetensors.torch import load_file, save_file

    monkeypatch.setenv("OPENVOICE_TT_DEVICE", "emulation")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))

    def synth(name: str):
        out = tmp_path / f"{name}.wav"
        result = invoke("synth", "Hello.", "-o", out, "-c", tiny_checkpoints, "-d", "tt", "--seed", 1)
        assert result.exit_code == 0 and out.stat().st_size > 0, result.output
        return result, out.read_bytes()

    first, audio = synth("first")
    (entry,) = (tmp_path / "tt-weights").glob("*.safetensors")
    good = entry.read_bytes()
    assert "damaged" not in first.stderr

    entry.write_bytes(good[:100])
    result, again = synth("truncated")
    assert f"weight cache entry {entry} was damaged" in result.stderr and "rebuilt" in result.stderr
    assert again == audio and load_file(str(entry)).keys() == load_file_bytes(good).keys()

    tensors = load_file(str(entry))
    name = next(iter(tensors))
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    save_file(tensors, str(entry))
    result, again = synth("nan")
    assert "non-finite values" in result.stderr and "noise-scale-w" not in result.stderr
    assert again == audio and torch.isfinite(load_file(str(entry))[name]).all()


def load_file_bytes(data: bytes) -> dict[str, torch.Tensor]:
    from safetensors.torch import load

    return load(data)


# ------------------------------------------------------------------------------------- other languages


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("¿Dónde está el baño, señor?", "Spanish"),
        ("Ça va très bien, garçon.", "French"),
        ("Grüße aus München, Straße.", "German"),
        ("Hello there, how are you?", None),
        ("He paid 5 € for a naïve café.", "French"),
    ],
)
def test_other_latin_languages_get_one_notice(text: str, language: str | None) -> None:
    from openvoice_tt.text.frontend import foreign_letters

    notice = foreign_letters(text)
    if language is None:
        assert notice is None
    else:
        assert notice is not None and f"looks like {language}" in notice and "English letter-to-sound" in notice
        assert "only English is spoken" not in notice
        speaker = {"Spanish": "ES", "French": "FR"}.get(language)
        if speaker:
            assert f"--speaker {speaker}" in notice
        else:
            assert "(ES)" in notice and "(FR)" in notice


@pytest.mark.filterwarnings("ignore:no BERT model")
def test_synth_warns_once_per_text(tiny_checkpoints: Path, tmp_path: Path) -> None:
    text = "¿Dónde está el baño? " * 30  # several chunks, one notice
    result = invoke("synth", text, "-o", tmp_path / "es.wav", "-c", tiny_checkpoints, "-d", "cpu")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("looks like Spanish") == 1, result.stderr
