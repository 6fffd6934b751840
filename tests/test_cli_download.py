"""`openvoice-tt download` against a local stand-in for the Hugging Face hub (no network): files land in
the checkpoint layout, present files are kept, a missing file is reported with what to put where; each
language fetches exactly its own files, with the sizes the hub gives."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvoice_tt.cli import app
from openvoice_tt.cli.render import byte_size
from openvoice_tt.download import BASE_SPEAKERS, MELO_REPO, official_files
from openvoice_tt.languages import EN_NEWEST, ES, FR, LANGUAGES
from openvoice_tt.layout import MELO_MODELS, RemoteFile


class FakeHub(http.server.BaseHTTPRequestHandler):
    """Serves `<root>/<owner>/<repo>/<file>` at `/<owner>/<repo>/resolve/main/<file>` with the headers
    huggingface_hub reads (ETag, X-Repo-Commit, Content-Length); anything else is a 404."""

    root: Path

    def _file(self) -> Path | None:
        repo, sep, name = self.path.partition("/resolve/main/")
        path = self.root / repo.strip("/") / name
        return path if sep and path.is_file() else None

    def _head(self) -> bytes | None:
        path = self._file()
        if path is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("X-Repo-Commit", "0" * 40)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        return data

    def do_HEAD(self) -> None:
        self._head()

    def do_GET(self) -> None:
        data = self._head()
        if data is not None:
            self.wfile.write(data)

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass


def hub_file(root: Path, remote: RemoteFile) -> Path:
    return root / remote.repo / remote.filename


@pytest.fixture
def hub(multilingual_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every language's files but the BERTs (the tiny checkpoints of each language) laid out as the hub
    repos, served on a free local port."""
    root = tmp_path / "hub"
    for remote in official_files(include_bert=False, melo_models=MELO_MODELS):
        target = hub_file(root, remote)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((multilingual_checkpoints / remote.target).read_bytes())
    handler = type("Hub", (FakeHub,), {"root": root})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    yield root
    server.shutdown()
    thread.join()


def test_download_fills_the_layout_and_keeps_present_files(hub: Path, tiny_checkpoints: Path, tmp_path: Path) -> None:
    """English by default, as before languages (the tiny English files are the multilingual ones)."""
    folder = tmp_path / "checkpoints"
    result = CliRunner().invoke(app, ["download", "-c", str(folder), "--no-bert"])
    assert result.exit_code == 0, result.output
    assert "9 file(s) downloaded" in result.stderr
    for remote in official_files(include_bert=False):
        assert (folder / remote.target).read_bytes() == (tiny_checkpoints / remote.target).read_bytes()
    assert {p.stem for p in (folder / "base_speakers" / "ses").glob("*.pth")} == set(BASE_SPEAKERS)
    assert CliRunner().invoke(app, ["doctor", "-c", str(folder), "-q"]).exit_code == 0
    again = CliRunner().invoke(app, ["download", "-c", str(folder), "--no-bert"])
    assert again.exit_code == 0 and f"all files already in {folder}" in again.stderr


def test_download_reports_a_file_the_hub_lacks(hub: Path, tmp_path: Path) -> None:
    (hub / MELO_REPO / "checkpoint.pth").unlink()
    folder = tmp_path / "checkpoints"
    result = CliRunner().invoke(app, ["download", "-c", str(folder)])  # BERT too: the hub has none of it
    assert result.exit_code == 4
    lines = result.stderr.splitlines()
    error = next(line for line in lines if line.startswith("error: "))
    assert f"downloading {MELO_REPO}/checkpoint.pth failed" in error and "Traceback" not in result.output
    remaining = [line.strip().split("  ->  ")[1] for line in lines if "  ->  " in line]
    assert remaining == [
        str(folder / "melotts-english" / "checkpoint.pth"),
        *(str(folder / "bert-base-uncased" / name) for name in ("config.json", "model.safetensors", "vocab.txt")),
    ]
    assert (folder / "converter" / "checkpoint.pth").is_file()  # what came before the failure stays
    assert not (folder / "melotts-english" / "checkpoint.pth").exists()


def stderr_sizes(stderr: str) -> dict[str, str]:
    """`repo/filename -> size` from the `[i/n] repo/filename (size)` lines."""
    return dict(re.findall(r"^\[\d+/\d+\] (\S+) \((.+)\)$", stderr, flags=re.MULTILINE))


def test_download_fetches_exactly_each_languages_files(hub: Path, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    result = CliRunner().invoke(app, ["download", "--languages", "es", "fr", "en-v3", "-c", str(folder), "--no-bert"])
    assert result.exit_code == 0, result.output
    # huggingface_hub keeps its bookkeeping in .cache/huggingface of each local_dir
    on_disk = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and ".cache" not in p.parts)
    assert on_disk == sorted([
        "converter/config.json", "converter/checkpoint.pth",
        "base_speakers/ses/en-newest.pth", "base_speakers/ses/es.pth", "base_speakers/ses/fr.pth",
        *(f"{folder_name}/{name}" for folder_name in ("melotts-spanish", "melotts-french", "melotts-english-v3")
          for name in ("config.json", "checkpoint.pth")),
    ])  # fmt: skip
    wanted = official_files(False, (ES.model, FR.model, EN_NEWEST.model))
    for remote in wanted:
        assert (folder / remote.target).read_bytes() == hub_file(hub, remote).read_bytes()
    total = sum(hub_file(hub, remote).stat().st_size for remote in wanted)
    assert f"fetching 11 file(s) for es fr en-v3: {byte_size(total)}" in result.stderr
    sizes = stderr_sizes(result.stderr)  # the hub's size of each file, as it is fetched
    es_weights = hub_file(hub, ES.model.remote_files(False)[1])
    assert sizes["myshell-ai/MeloTTS-Spanish/checkpoint.pth"] == byte_size(es_weights.stat().st_size)
    assert len(sizes) == 11 and "11 file(s) downloaded" in result.stderr
    doctor = CliRunner().invoke(app, ["doctor", "-c", str(folder), "--json"])
    assert doctor.exit_code == 0, doctor.output  # what was fetched is each language's whole model
    checks = {check["name"] for check in json.loads(doctor.stdout)["checks"]}
    assert {"melotts-english-v3", "melotts-spanish", "melotts-french"} < checks and "melotts-english" not in checks
    english = CliRunner().invoke(app, ["download", "-l", "en,es", "-c", str(folder), "--no-bert"])
    assert english.exit_code == 0, english.output  # the converter and Spanish are kept: English's 7 files come
    assert "fetching 7 file(s) for en es" in english.stderr and "7 file(s) downloaded" in english.stderr


def test_download_fetches_chinese_japanese_and_korean(hub: Path, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    result = CliRunner().invoke(app, ["download", "--languages", "zh", "jp", "kr", "-c", str(folder), "--no-bert"])
    assert result.exit_code == 0, result.output
    on_disk = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and ".cache" not in p.parts)
    assert on_disk == sorted([
        "converter/config.json", "converter/checkpoint.pth",
        "base_speakers/ses/zh.pth", "base_speakers/ses/jp.pth", "base_speakers/ses/kr.pth",
        *(f"{folder_name}/{name}" for folder_name in ("melotts-chinese", "melotts-japanese", "melotts-korean")
          for name in ("config.json", "checkpoint.pth")),
    ])  # fmt: skip
    assert "fetching 11 file(s) for zh jp kr" in result.stderr
    speakers = CliRunner().invoke(app, ["speakers", "-c", str(folder), "--json"])
    assert [row["name"] for row in json.loads(speakers.stdout)] == ["ZH", "JP", "KR"]
    offline = CliRunner().invoke(app, ["download", "-l", "jp", "--dry-run", "-c", str(tmp_path / "x")])
    assert offline.exit_code == 0, offline.output
    for name in ("config.json", "vocab.txt", "tokenizer_config.json"):  # the Japanese BERT's files are listed
        assert str(tmp_path / "x" / "bert-base-japanese-v3" / name) in offline.stdout


def test_download_dry_run_lists_files_and_sizes_and_fetches_nothing(hub: Path, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    result = CliRunner().invoke(app, ["download", "all", "--dry-run", "--json", "-c", str(folder)])
    assert result.exit_code == 0, result.output
    assert not folder.exists()
    summary = json.loads(result.stdout)
    assert summary["languages"] == [language.key for language in LANGUAGES] and summary["dry_run"] is True
    files = {(f["repo"], f["filename"]): f for f in summary["files"]}
    assert len(files) == len(summary["files"])  # bert-base-uncased, shared by three English models, once
    berts = {repo for repo, _ in files if "bert" in repo}
    assert berts == {
        "google-bert/bert-base-uncased",
        "dccuchile/bert-base-spanish-wwm-uncased",
        "dbmdz/bert-base-french-europeana-cased",
        "google-bert/bert-base-multilingual-uncased",
        "tohoku-nlp/bert-base-japanese-v3",
        "kykim/bert-kor-base",
    }
    for remote in official_files(True, MELO_MODELS):
        entry = files.pop((remote.repo, remote.filename))
        assert entry["path"] == str(folder / remote.target)
        on_hub = hub_file(hub, remote)
        assert entry["size"] == (on_hub.stat().st_size if on_hub.is_file() else None)  # the hub has no BERT
    assert not files
    assert summary["bytes"] == sum(p.stat().st_size for p in hub.rglob("*") if p.is_file())
    unknown = sum(remote.repo in berts for remote in official_files(True, MELO_MODELS))
    assert f"and {unknown} of unknown size" in result.stderr
    table = CliRunner().invoke(app, ["download", "fr", "--dry-run", "--no-bert", "-c", str(folder)])
    assert table.exit_code == 0 and not folder.exists()
    assert str(folder / "melotts-french" / "checkpoint.pth") in table.stdout
    assert "melotts-english" not in table.stdout and "9 file(s)" not in table.stderr
    assert "5 file(s) to fetch for fr" in table.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--languages", "de"], "error: unknown language 'de' (known: en, en-v2, en-v3, es, fr, zh, jp, kr)"),
        (["es", "klingon"], "error: unknown language 'klingon' (known: en, en-v2, en-v3, es, fr, zh, jp, kr)"),
    ],
)
def test_download_unknown_language(args: list[str], message: str, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    result = CliRunner().invoke(app, ["download", *args, "-c", str(folder)])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [message] and not folder.exists()


def test_download_offline_lists_the_languages_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = tmp_path / "checkpoints"
    result = CliRunner().invoke(app, ["download", "-l", "fr", "-c", str(folder)])
    assert result.exit_code == 4
    lines = result.stderr.splitlines()
    assert lines[0] == "error: cannot download: HF_HUB_OFFLINE is set"
    targets = [line.split("  ->  ")[1] for line in lines[1:] if "  ->  " in line]
    assert targets == [str(folder / remote.target) for remote in official_files(True, (FR.model,))]
    assert len(targets) == 2 + 1 + 2 + 4  # converter, fr.pth, melotts-french, the French BERT's four files


@pytest.mark.parametrize(
    ("size", "shown"),
    [(None, "size unknown"), (0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1049, "1.0 kB"), (1051, "1.1 kB"),
     (207_770_124, "207.8 MB"), (440_473_133, "440.5 MB"), (1_234_000_000, "1.23 GB")],
)  # fmt: skip
def test_byte_size(size: int | None, shown: str) -> None:
    assert byte_size(size) == shown
