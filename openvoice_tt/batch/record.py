"""What --resume trusts: content fingerprints of each item's inputs and the output folder's record.

The record (`MANIFEST`) keeps, per output, a fingerprint of everything that determines its audio (text,
options, the content of its reference recordings or embedding file, the lexicon's content, the checkpoint
files' content, the device, the precision the models ran in) and the size and sha256 of the file
written. With `resume`, an item is skipped only when its fingerprint is unchanged and the file there now
is the one written; otherwise it is made again and the report (and the record) says why. Content, not
names or times, is compared: a reference re-recorded under the same name, or a checkpoint replaced in
place, makes its items again. The precision
is the one `--precision` resolved to ("fp32", "bf16"; the ttnn path's own), not the word asked for: `auto`
where it runs fp32 makes the same bytes as `fp32`, and bf16 other ones. A record written before a part
existed (the precision) has no value for it: its items are made again, saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt import layout
from openvoice_tt.batch.items import Item, Options
from openvoice_tt.batch.messages import one_line
from openvoice_tt.errors import InputError, OpenVoiceError, OutputError
from openvoice_tt.languages import EN, Language
from openvoice_tt.outputs import output_error, write_file

if TYPE_CHECKING:
    from openvoice_tt.batch.engine import Engine


MANIFEST = ".openvoice-tt-batch.json"
"""The output folder's record of finished items, in JSON Lines: `{"format": 2}`, then per finished item
`{"output": name, "record": {"fingerprint": {part: sha256}, "bytes", "sha256", "redone"}}` and per file
hashed `{"file": path, "hash": [size, mtime_ns, ctime_ns, inode, sha256]}` (a cache, so that unchanged
checkpoints are not read again on every run). A later line for the same output or file wins."""
MANIFEST_FORMAT = 2
NEW = "new"  # Manifest.why_redo: neither a record nor a file, so nothing is redone
MIX_CHANGED = "voice mix changed (an embedding file's content or a weight)"
UNREADABLE = "unreadable: "  # a fingerprint part that could not be computed: it never matches

FINGERPRINT_PARTS = {
    "text": "text changed",
    "options": "options changed",
    "voice": "reference content changed",
    "lexicon": "lexicon changed",
    "checkpoints": "checkpoint files changed",
    "device": "device changed",
    "precision": "precision changed",
}
"""What determines an item's audio, each with the reason given when --resume redoes an item for it."""


def checkpoint_parts(kind: str, language: Language = EN) -> tuple[str, ...]:
    """The checkpoint folders (see checkpoints/README.md) whose files determine the audio of an item of
    `kind` ("synth", "clone") spoken in `language`: its MeloTTS and BERT folders, and for a clone the
    converter and the base-speaker embeddings."""
    model = language.model
    melo = (model.folder, model.bert.folder)
    return melo if kind == "synth" else (*melo, layout.CONVERTER.folder, layout.CONVERTER.speaker_embeddings)


CHECKPOINT_PARTS = {kind: checkpoint_parts(kind) for kind in ("synth", "clone")}
"""`checkpoint_parts` of English, the default language."""


class FileHashes:
    """sha256 of files' contents, each file read at most once per run, and not at all when the record's
    cache holds it with the same size, mtime, ctime and inode (ctime cannot be set back by `touch` or
    rsync, so a rewritten file is noticed even when its size and mtime were kept)."""

    def __init__(self, known: dict[str, Any]) -> None:
        self.known = known
        self.fresh: set[str] = set()  # hashed since the record last saved them

    def sha256(self, path: Path) -> str:
        """The content hash of a regular file (OSError if it cannot be read; an InputError for a FIFO or
        device, which reading would consume or never finish)."""
        from openvoice_tt.checkpoints import file_sha256

        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file")
        key = os.path.realpath(path)
        stamp = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
        cached = self.known.get(key)
        if isinstance(cached, list) and cached[:4] == stamp and isinstance(cached[-1], str):
            return cached[-1]
        digest = file_sha256(Path(key))
        self.known[key] = [*stamp, digest]
        self.fresh.add(key)
        return digest


class Fingerprints:
    """Per item, a hash of each part of what determines its audio (`FINGERPRINT_PARTS`). Run-wide parts
    (lexicon, checkpoints, device, precision) are computed once; a part that cannot be computed (a reference gone)
    is `UNREADABLE` + why, which never matches a record: the item runs (and fails with the real error if
    the file is gone; an in-memory lexicon, which has no file, is made again on every resume)."""

    def __init__(self, engine: Engine, hashes: FileHashes) -> None:
        self.engine = engine
        self.hashes = hashes
        self._run_wide: dict[str, str] = {}

    def of(self, item: Item, options: Options) -> dict[str, str]:
        return {
            "text": _sha(item.text),
            "options": _sha(options.fingerprint()),
            "voice": self._voice(item),
            "lexicon": self._once("lexicon", self._lexicon),
            "checkpoints": self._checkpoints_of(item, options),
            "device": self._once("device", lambda: _sha(self.engine.resolved_device)),
            "precision": self._once("precision", lambda: _sha(self.engine.resolved_precision.mode)),
        }

    def _once(self, key: str, compute: Callable[[], str]) -> str:
        if key not in self._run_wide:
            self._run_wide[key] = compute()
        return self._run_wide[key]

    def _voice(self, item: Item) -> str:
        try:
            if item.se is not None and len(item.se.parts) == 1:  # one voice, of any weight, is that voice
                return _sha(["se", self.hashes.sha256(item.se_files[0])])
            if item.se is not None:  # a mix: every file's content and its weight
                files = zip(item.se_files, item.se.weights, strict=True)
                return _sha(["se-mix", [[self.hashes.sha256(path), weight] for path, weight in files]])
            if item.references:  # the segmentation method shapes the embedding as much as the recordings do
                return _sha([self.engine.method, [self.hashes.sha256(p) for p in item.references]])
        except (OSError, InputError) as e:
            return UNREADABLE + one_line(e)
        return _sha(None)

    def _lexicon(self) -> str:
        lexicon = self.engine.lexicon
        if lexicon is None:
            return _sha(None)
        try:  # the file it was loaded from (an in-memory lexicon has none: UNREADABLE)
            return _sha(["lexicon", self.hashes.sha256(Path(lexicon.path))])
        except (OSError, InputError) as e:
            return UNREADABLE + one_line(e)

    def _checkpoints_of(self, item: Item, options: Options) -> str:
        """The checkpoint files of the item's own language (its speaker's model); a speaker that names
        no installed model is `UNREADABLE`, so the item runs and fails with the real error."""
        try:
            language = self.engine.base_speaker(options, item.text).language
        except OpenVoiceError as e:
            return UNREADABLE + one_line(e)
        key = f"checkpoints:{item.kind}:{language.code}"
        return self._once(key, lambda: self._checkpoints(item.kind, language))

    def _checkpoints(self, kind: str, language: Language) -> str:
        from openvoice_tt import api

        root = api.checkpoint_dir(self.engine.checkpoints)
        files = []
        for part in checkpoint_parts(kind, language):
            folder = root / part
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                try:
                    if path.is_file():
                        files.append([str(path.relative_to(root)), self.hashes.sha256(path)])
                except (OSError, InputError) as e:
                    return UNREADABLE + one_line(e)
        return _sha(files)


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Manifest:
    """What --resume trusts: an output counts as done only if this record holds it with the fingerprint
    the item has now and the file matches the size and sha256 recorded. The first item a run finishes
    rewrites the whole record (atomically, dropping superseded lines); every later one appends its line
    and fsyncs, so a run of many items costs one line per item, not the whole record per item. A line cut
    short by a crash is ignored when read: that one item is made again."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST
        self.problem: str | None = None  # why no record is trusted at all
        self.records: dict[str, dict[str, Any]] = {}
        self.hashes = FileHashes({})
        self._rewritten = False
        try:
            lines = self.path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return
        except OSError:
            lines = [b""]
        if _json_line(lines[0]) != {"format": MANIFEST_FORMAT}:
            self.problem = f"the record {MANIFEST} is " + (
                "from an older openvoice-tt (no fingerprint of the inputs)"
                if _json_line(b"\n".join(lines)) is not None
                else "unreadable"
            )
            return
        for line in lines[1:]:
            entry = _json_line(line) or {}
            if isinstance(entry.get("output"), str) and isinstance(entry.get("record"), dict):
                self.records[entry["output"]] = entry["record"]
            elif isinstance(entry.get("file"), str) and isinstance(entry.get("hash"), list):
                self.hashes.known[entry["file"]] = entry["hash"]

    def why_redo(self, item: Item, fingerprint: dict[str, str], path: Path) -> str | None:
        """None if the output is this item's, unchanged since it was written; `NEW` if there is neither a
        record nor a file; else why it is made again."""
        record = self.records.get(item.output)
        if record is None and not os.path.lexists(path):
            return NEW
        if record is None:
            return self.problem or "the file there is not in the record"
        recorded = record.get("fingerprint")
        recorded = recorded if isinstance(recorded, dict) else {}
        changed = [
            why if part in recorded else f"{part} not in the record (written by an older openvoice-tt)"
            for part, why in FINGERPRINT_PARTS.items()
            if recorded.get(part) != fingerprint[part] or fingerprint[part].startswith(UNREADABLE)
        ]
        if changed and item.se is not None:
            voice = "embedding file content changed" if len(item.se.parts) == 1 else MIX_CHANGED
            changed = [voice if why == FINGERPRINT_PARTS["voice"] else why for why in changed]
        if changed:
            return ", ".join(changed)
        written = _file_record(path, self.hashes)
        if written is None:
            return "output file missing"
        if written != {"bytes": record.get("bytes"), "sha256": record.get("sha256")}:
            return "output file changed since it was written"
        return None

    def add(self, item: Item, fingerprint: dict[str, str], path: Path, redone: str | None) -> None:
        written = _file_record(path, self.hashes)
        if written is None:
            raise OutputError(f"{path}: gone right after it was written")
        self.records[item.output] = {"fingerprint": fingerprint, **written, "redone": redone}
        self.problem = None  # what is written now is in the current format
        if not self._rewritten or not self.path.exists():
            lines = [{"format": MANIFEST_FORMAT}]
            lines += [{"output": output, "record": record} for output, record in self.records.items()]
            lines += [{"file": file, "hash": stamp} for file, stamp in self.hashes.known.items()]
            write_file(self.path, _json_lines(lines))
            self._rewritten = True
        else:
            lines = [{"file": file, "hash": self.hashes.known[file]} for file in sorted(self.hashes.fresh)]
            lines.append({"output": item.output, "record": self.records[item.output]})
            _append(self.path, b"\n" + _json_lines(lines))  # a leading newline ends any line a crash cut
        self.hashes.fresh.clear()


def _json_line(line: bytes) -> dict[str, Any] | None:
    """One JSON object, or None for anything else (a damaged or cut line)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _json_lines(entries: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries).encode()


def _append(path: Path, data: bytes) -> None:
    """Append `data` to the record and fsync it: one item's lines, whole or (after a crash) cut short."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise output_error(str(path), e) from None


def _file_record(path: Path, hashes: FileHashes) -> dict[str, Any] | None:
    try:
        return {"bytes": path.stat().st_size, "sha256": hashes.sha256(path)}
    except (OSError, InputError):
        return None
