"""`openvoice-tt doctor` over every installed base-speaker language: each model folder loaded, each
language's packages found (the pip extra named when not), the embedding of every installed speaker, each
installed language's BERT (a warning when absent), and what is not installed."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvoice_tt.cli import app
from openvoice_tt.languages import EN, EN_NEWEST, EN_V2, ES, FR, JP, KR, ZH

pytestmark = pytest.mark.usefixtures("tool_environment")


@pytest.fixture
def multilingual(multilingual_checkpoints: Path, tmp_path: Path) -> Path:
    """English, English v3 and Spanish installed (English v2, French, Chinese, Japanese, Korean not)."""
    folder = tmp_path / "checkpoints"
    shutil.copytree(multilingual_checkpoints, folder)
    for language in (EN_V2, FR, ZH, JP, KR):
        shutil.rmtree(folder / language.model.folder)
    return folder


def doctor(folder: Path) -> tuple[int, dict[str, dict[str, str]]]:
    result = CliRunner().invoke(app, ["doctor", "-c", str(folder), "--json"])
    report = json.loads(result.stdout)
    assert report["ok"] is (result.exit_code == 0)
    return result.exit_code, {c["name"]: c for c in report["checks"]}


def test_doctor_checks_every_installed_language(multilingual: Path) -> None:
    code, checks = doctor(multilingual)
    assert code == 0, checks
    names = list(checks)
    models = [name for name in names if name.startswith("melotts-")]
    assert models == ["melotts-english", "melotts-english-v3", "melotts-spanish"]  # registry order
    assert "Spanish" in checks["melotts-spanish"]["detail"] and "speakers ES" in checks["melotts-spanish"]["detail"]
    assert checks["packages es"]["status"] == "ok" and "gruut" in checks["packages es"]["detail"]
    assert "packages en" not in checks and "packages en-v3" not in checks  # English needs no extra package
    speakers = checks["base speakers"]
    assert speakers["status"] == "ok" and "(en 5, en-v3 1, es 1)" in speakers["detail"]
    # English's BERT (shared by en and en-v3) is one check; Spanish's is another; both absent: warnings
    assert checks["bert"]["status"] == "warn" and "synthesis in en, en-v3 uses zero" in checks["bert"]["detail"]
    beto = checks["bert-base-spanish-wwm-uncased"]
    assert beto["status"] == "warn" and "synthesis in es uses zero" in beto["detail"]
    assert "download --languages es" in beto["hint"] and "dccuchile/bert-base-spanish-wwm-uncased" in beto["hint"]
    others = checks["other languages"]
    assert others["status"] == "info"
    assert others["detail"] == "not installed: English (v2), French, Chinese (with English), Japanese, Korean"
    assert others["hint"] == "openvoice-tt download --languages en-v2 fr zh jp kr"


def test_doctor_fails_a_language_with_a_missing_embedding_or_package(
    multilingual: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (multilingual / "base_speakers" / "ses" / "es.pth").unlink()
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "gruut" else real_find_spec(name, *a)
    )
    code, checks = doctor(multilingual)
    assert code == 4
    assert checks["base speakers"]["status"] == "fail" and "es.pth: not found" in checks["base speakers"]["detail"]
    packages = checks["packages es"]
    assert packages["status"] == "fail" and packages["detail"] == "Spanish needs gruut, which is not installed"
    assert packages["hint"] == "pip install 'openvoice-tt[es]' (or run ./setup_and_run.sh)"
    assert checks["melotts-spanish"]["status"] == "ok" and checks["melotts-english"]["status"] == "ok"
    human = CliRunner().invoke(app, ["doctor", "-c", str(multilingual)])
    assert human.exit_code == 4 and "pip install 'openvoice-tt[es]'" in human.stdout


def test_doctor_without_english_checks_only_what_is_installed(multilingual_checkpoints: Path, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    shutil.copytree(multilingual_checkpoints, folder)
    for language in (EN, EN_V2, EN_NEWEST, ES, ZH, JP, KR):
        shutil.rmtree(folder / language.model.folder)
    (folder / "melotts-french" / "checkpoint.pth").write_bytes(b"not a checkpoint")  # an interrupted download
    code, checks = doctor(folder)
    assert code == 4
    assert [name for name in checks if name.startswith("melotts-")] == ["melotts-french"]
    assert checks["melotts-french"]["status"] == "fail"
    assert str(folder / "melotts-french" / "checkpoint.pth") in checks["melotts-french"]["detail"]
    assert "bert" not in checks and checks["bert-base-french-europeana-cased"]["status"] == "warn"
    assert checks["base speakers"]["status"] == "ok" and "(fr 1)" in checks["base speakers"]["detail"]
    assert (
        checks["other languages"]["detail"]
        == "not installed: English, English (v2), English (v3, EN-Newest), Spanish, Chinese (with English), Japanese, "
        "Korean"
    )


def test_doctor_on_an_empty_folder_asks_for_english(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    code, checks = doctor(folder)
    assert code == 4
    assert checks["melotts-english"]["status"] == "fail"
    assert "melotts-english/config.json: not found" in checks["melotts-english"]["detail"]
    assert checks["base speakers"]["status"] == "fail"


def test_doctor_fails_a_symbol_list_the_front_end_cannot_use(multilingual: Path) -> None:
    """A Spanish config whose symbol list lacks a phone the Spanish front end makes (same length, so the
    weights still load): synthesis would refuse it, and so does doctor."""
    config_path = multilingual / "melotts-spanish" / "config.json"
    config = json.loads(config_path.read_text())
    config["symbols"] = ["QQ" if symbol == "θ" else symbol for symbol in config["symbols"]]
    config_path.write_text(json.dumps(config))
    code, checks = doctor(multilingual)
    assert code == 4
    spanish = checks["melotts-spanish"]
    assert spanish["status"] == "fail" and "lacks symbols the Spanish front end needs: θ" in spanish["detail"]
    assert checks["melotts-english"]["status"] == "ok"


@pytest.fixture
def cjk(multilingual_checkpoints: Path, tmp_path: Path) -> Path:
    """Chinese, Japanese and Korean installed, nothing else."""
    folder = tmp_path / "cjk"
    shutil.copytree(multilingual_checkpoints, folder)
    for language in (EN, EN_V2, EN_NEWEST, ES, FR):
        shutil.rmtree(folder / language.model.folder)
    return folder


def test_doctor_checks_chinese_japanese_and_korean(cjk: Path) -> None:
    """Each model loads and its front end is built over its symbol list; each language's packages are
    found; each speaker's embedding; each BERT (absent here: a warning naming its download and repo)."""
    code, checks = doctor(cjk)
    assert code == 0, checks
    assert [name for name in checks if name.startswith("melotts-")] == [
        "melotts-chinese", "melotts-japanese", "melotts-korean"
    ]  # fmt: skip
    for language in (ZH, JP, KR):
        model = checks[language.model.folder]
        assert model["status"] == "ok" and f"speakers {language.code}" in model["detail"]
        packages = checks[f"packages {language.key}"]
        assert packages["status"] == "ok" and ", ".join(language.packages) in packages["detail"]
        bert = checks[language.model.bert.folder]
        assert bert["status"] == "warn" and f"synthesis in {language.key} uses zero" in bert["detail"]
        assert language.model.bert.repo in bert["hint"] and f"--languages {language.key}" in bert["hint"]
    assert checks["base speakers"]["status"] == "ok" and "(zh 1, jp 1, kr 1)" in checks["base speakers"]["detail"]
    assert "bert" not in checks  # English's BERT is no installed language's


@pytest.mark.parametrize(("missing", "language"), [("jieba", ZH), ("MeCab", JP), ("g2pkk", KR)])
def test_doctor_names_the_extra_a_cjk_language_lacks(
    cjk: Path, monkeypatch: pytest.MonkeyPatch, missing: str, language
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == missing else real_find_spec(name, *a)
    )
    code, checks = doctor(cjk)
    assert code == 4
    packages = checks[f"packages {language.key}"]
    assert (
        packages["status"] == "fail"
        and packages["detail"] == f"{language.name} needs {missing}, which is not installed"
    )
    assert packages["hint"] == f"pip install 'openvoice-tt[{language.key}]' (or run ./setup_and_run.sh)"
    others = [other for other in (ZH, JP, KR) if other is not language]
    assert all(checks[f"packages {other.key}"]["status"] == "ok" for other in others)
