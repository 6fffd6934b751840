"""`openvoice-tt download` against a local stand-in for the Hugging Face hub (no network): files land in
the checkpoint layout, present files are kept, a missing file is reported with what to put where."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvoice_tt.cli import app
from openvoice_tt.download import BASE_SPEAKERS, MELO_REPO, official_files


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


@pytest.fixture
def hub(tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The tiny checkpoints laid out as the three hub repos, served on a free local port."""
    root = tmp_path / "hub"
    for remote in official_files(include_bert=False):
        source = tiny_checkpoints / remote.target
        target = root / remote.repo / remote.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
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
