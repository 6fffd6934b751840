"""The checkpoint layout (`openvoice_tt.layout`): where the folder is, what is in it, and that the code, the
generated test checkpoints and checkpoints/README.md describe the same layout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openvoice_tt.config import MeloConfig
from openvoice_tt.errors import CheckpointError
from openvoice_tt.layout import (
    DEFAULT_CHECKPOINTS,
    ENGLISH,
    HOME_ENV,
    MELO_MODELS,
    Layout,
    checkpoint_dir,
    existing_checkpoint_dir,
    official_files,
    speaker_key,
)

README = Path(__file__).resolve().parents[1] / "checkpoints" / "README.md"


def test_the_folder_is_the_option_else_the_environment_else_checkpoints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    assert checkpoint_dir() == DEFAULT_CHECKPOINTS == Path("checkpoints")
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    assert checkpoint_dir() == tmp_path / "home"
    assert checkpoint_dir(tmp_path / "given") == tmp_path / "given"
    with pytest.raises(CheckpointError, match=f"checkpoint folder not found .*{HOME_ENV}"):
        existing_checkpoint_dir()


@pytest.mark.parametrize(
    ("name", "key"), [("EN-US", "en-us"), ("EN_INDIA", "en-india"), (" EN-Default ", "en-default")]
)
def test_speaker_embedding_file_names(name: str, key: str) -> None:
    assert speaker_key(name) == key
    assert Layout(Path("ck")).speaker_se(name) == Path("ck/base_speakers/ses") / f"{key}.pth"


def test_generated_checkpoints_have_every_file_of_the_layout(tiny_checkpoints: Path) -> None:
    """scripts/make_test_checkpoints.py writes what `download` fetches, where the API looks for it."""
    layout = Layout(tiny_checkpoints)
    missing = [f.target for f in official_files(include_bert=False) if not (tiny_checkpoints / f.target).is_file()]
    assert missing == []
    for folder in (layout.melo, layout.converter):
        assert folder.require().path.parent == tiny_checkpoints
    speakers = MeloConfig.from_file(layout.melo.config).speakers
    assert {speaker_key(name) for name in speakers} <= set(ENGLISH.speaker_embeddings)
    assert all(layout.speaker_se(name).is_file() for name in speakers)


def test_a_missing_file_is_named_with_where_the_layout_is_told(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"melotts-english/config\.json: not found \(layout: checkpoints/README"):
        Layout(tmp_path).melo.require()


def test_the_checkpoints_readme_shows_every_folder_file_and_repo() -> None:
    text = README.read_text()
    tree = text.split("```", 2)[1]
    folders = set(re.findall(r"^  (\S+)/", tree, re.MULTILINE))
    for remote in official_files(melo_models=MELO_MODELS):  # every language's folders, files and repos
        assert remote.target.parent.as_posix() in folders, remote.target
        assert remote.target.name in tree, remote.target
        assert remote.repo in text, remote.repo
