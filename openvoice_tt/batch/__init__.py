"""Many utterances from one list file: models load once, a bad item is reported and the rest go on.

Input formats (chosen by extension, or explicitly):
  .txt          one text per non-empty line (synthesized with the batch's options)
  .csv / .tsv   a header row, then one item per row; columns as in `COLUMNS`, only `text` required
  .jsonl        one JSON object per line with the same keys (`reference` may also be a list)

An item with `reference` (one or more audio files, `|`-separated in CSV/TSV) or `se` (a voice embedding
file) is cloned; any other item is synthesized with a base speaker. Relative paths in a list file are
taken relative to the list file's folder, so a list and its references can move together. Outputs are
named by `output` (a file name inside the output folder) or numbered `0001.wav`, `0002.wav`, ... in item
order.

Isolation: whatever is wrong with one item (a bad value, a name the file system refuses, a cell over
`MAX_FIELD_CHARS`, an output that would replace an input of the run, an error while it runs) fails that
item alone, with a one-line reason; only a list that cannot be read as a list at all (missing, binary, not
UTF-8, over `MAX_LIST_BYTES` or `MAX_ITEMS`, a table without a `text` column) stops the batch up front.

Resume: the output folder's record of finished items (`MANIFEST`) keeps, per output, a fingerprint of
everything that determines its audio (text, options, the content of its reference recordings or
embedding file, the lexicon's content, the checkpoint files' content, the device) and the size and sha256
of the file written. With `resume`, an item is skipped only when its fingerprint is unchanged and the file
there now is the one written; otherwise it is made again and the report (and the record) says why.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import stat
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt import audio as audio_io
from openvoice_tt import layout
from openvoice_tt.errors import InputError, OpenVoiceError, OutputError, Terminated
from openvoice_tt.outputs import NAME_MAX, output_error, write_file

if TYPE_CHECKING:
    import torch

    from openvoice_tt.api import TTS, Progress, Speech, VoiceCloner
    from openvoice_tt.text.lexicon import Lexicon

COLUMNS = (
    "text",
    "speaker",
    "reference",
    "se",
    "output",
    "speed",
    "seed",
    "sdp_ratio",
    "noise_scale",
    "noise_scale_w",
    "tau",
    "format",
)
NUMBER_OPTIONS = ("speed", "sdp_ratio", "noise_scale", "noise_scale_w", "tau")
INPUT_FORMATS = ("txt", "csv", "tsv", "jsonl")
REFERENCE_SEPARATOR = "|"

MAX_LIST_BYTES = 16 * 1024 * 1024
"""Largest list file read (16 MiB: about 100,000 items of 160 characters). A bigger file, or an endless one
(`/dev/zero`, a pipe that never ends), is an InputError after reading at most this much, so memory stays
bounded whatever the list is."""
MAX_ITEMS = 100_000
"""Most items in one list: each costs memory for the whole run (its outcome is reported at the end)."""
MAX_FIELD_CHARS = 128 * 1024
"""Longest value of one field (a text, a path, a CSV cell): a longer one fails its item, not the batch."""
_READ_CHUNK = 1 << 20  # a Ctrl-C or SIGTERM is honoured between chunks of a slow or endless list

DONE, SKIPPED, FAILED, NOT_RUN = "done", "skipped", "failed", "not run"


@dataclass(frozen=True)
class Options:
    """Per-item synthesis options; the batch's command-line values fill in whatever an item leaves out."""

    speaker: str | None = None
    speed: float | None = None
    seed: int | None = None
    sdp_ratio: float | None = None
    noise_scale: float | None = None
    noise_scale_w: float | None = None
    tau: float | None = None
    format: str | None = None

    def over(self, defaults: Options) -> Options:
        """These options, with `defaults` where these are unset."""
        return replace(defaults, **{f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None})

    def synthesis_kwargs(self) -> dict[str, Any]:
        names = ("speaker", "speed", "seed", "sdp_ratio", "noise_scale", "noise_scale_w")
        return {name: value for name in names if (value := getattr(self, name)) is not None}


@dataclass(frozen=True)
class Item:
    """One line of the list file. `problem` says why it cannot run (it is then reported as failed)."""

    index: int  # 1-based position among the items
    line: int  # line number in the list file
    text: str = ""
    output: str = ""
    references: tuple[Path, ...] = ()
    se: Path | None = None
    options: Options = field(default_factory=Options)
    problem: str | None = None
    source: Path | None = None  # the list file, which no output of the batch may replace

    @property
    def kind(self) -> str:
        return "clone" if self.references or self.se is not None else "synth"


@dataclass
class Outcome:
    item: Item
    status: str = NOT_RUN
    seconds: float | None = None  # length of the audio written
    elapsed: float | None = None  # wall-clock seconds spent on the item
    error: str | None = None
    redone: str | None = None  # with resume: why an item that has a record was made again

    def to_json(self) -> dict[str, Any]:
        item = self.item
        return {
            "index": item.index,
            "line": item.line,
            "kind": item.kind,
            "text": item.text,
            "output": item.output,
            "status": self.status,
            "seconds": self.seconds,
            "elapsed": self.elapsed,
            "error": self.error,
            "redone": self.redone,
        }


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    interrupted: bool = False
    terminated: bool = False  # the interruption was a SIGTERM, not Ctrl-C

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    def to_json(self, source: Path, out_dir: Path, device: str | None) -> dict[str, Any]:
        return {
            "input": str(source),
            "output_dir": str(out_dir),
            "device": device,
            "interrupted": self.interrupted,
            "terminated": self.terminated,
            "counts": {status: self.count(status) for status in (DONE, SKIPPED, FAILED, NOT_RUN)},
            "items": [outcome.to_json() for outcome in self.outcomes],
        }


# ----------------------------------------------------------------------------------------------- reading


def read_items(path: Path, input_format: str | None = None, default_format: str = "wav") -> list[Item]:
    """Parse a list file into items. A file that cannot be used as a list at all (missing, binary, not
    UTF-8, over `MAX_LIST_BYTES` or `MAX_ITEMS`, unknown format, no `text` column, unknown columns, no
    items) is an InputError; whatever is wrong with one line makes that item's `problem`, so the rest of
    the batch still runs."""
    fmt = input_format or path.suffix.lower().lstrip(".")
    if fmt not in INPUT_FORMATS:
        raise InputError(
            f"{path}: unknown list format '{path.suffix}' (use .txt, .csv, .tsv or .jsonl, or choose --input-format)"
        )
    content = _read_list(path)
    if fmt == "txt":
        rows = ((n, {"text": line.strip()}) for n, line in enumerate(content.splitlines(), 1) if line.strip())
    elif fmt == "jsonl":
        rows = _jsonl_rows(content)
    else:
        rows = _table_rows(content, "," if fmt == "csv" else "\t", path)
    items: list[Item] = []
    with _csv_fields_up_to(MAX_LIST_BYTES):  # a long cell fails its item (below), not the whole reader
        for line, row in rows:
            if len(items) == MAX_ITEMS:
                raise InputError(f"{path}: more than {MAX_ITEMS:,} items (split the list)")
            items.append(_item(len(items) + 1, line, row, path, default_format))
    if not items:
        raise InputError(f"{path}: no items (the file has no text lines)")
    return _flag_duplicate_outputs(items)


def _read_list(path: Path) -> str:
    """The list file's text, read in chunks up to `MAX_LIST_BYTES`: an endless or huge file is refused
    after that much, and a signal stops a slow read between chunks."""
    data = bytearray()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_READ_CHUNK):
                data += chunk
                if len(data) > MAX_LIST_BYTES:
                    raise InputError(f"{path}: list file over {MAX_LIST_BYTES // 2**20} MiB (split the list)")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a list file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    if "\0" in text:
        raise InputError(f"{path}: binary data (a NUL byte), not a text list")
    return text


@contextlib.contextmanager
def _csv_fields_up_to(limit: int) -> Iterator[None]:
    """csv's field limit (a process-wide setting, 128 KiB by default, whose error would end the reader)
    raised while a list is read; `MAX_FIELD_CHARS` then fails only the item with the long cell."""
    previous = csv.field_size_limit(max(limit, csv.field_size_limit()))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _jsonl_rows(content: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for line, raw in enumerate(content.splitlines(), 1):
        if not raw.strip():
            continue
        if len(raw) > MAX_FIELD_CHARS * 2:
            yield line, f"line over {MAX_FIELD_CHARS * 2:,} characters"
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as e:
            yield line, f"not valid JSON ({e.msg})"
            continue
        except (ValueError, RecursionError) as e:  # a number of over 4,300 digits; nesting beyond the stack
            yield line, f"not valid JSON ({_one_line(e)})"
            continue
        yield line, row if isinstance(row, dict) else "not a JSON object"


def _table_rows(content: str, delimiter: str, path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)  # quoted cells may span lines
    with _csv_fields_up_to(MAX_LIST_BYTES):
        try:
            names = reader.fieldnames or []
        except csv.Error as e:
            raise InputError(f"{path}: the header row is not valid CSV ({e})") from None
    header = [name.strip() for name in names]
    if "text" not in header:
        raise InputError(f"{path}: the header row must name a 'text' column (columns: {', '.join(COLUMNS)})")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise InputError(f"{path}: unknown column {', '.join(map(repr, unknown))} (columns: {', '.join(COLUMNS)})")
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise InputError(f"{path}: column {', '.join(map(repr, twice))} given twice")
    reader.fieldnames = header
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:  # the reader goes on with the next line
            yield reader.line_num, f"not valid CSV ({e})"
            continue
        if None in row:
            yield reader.line_num, f"{len(header) + len(row[None])} cells but the header names {len(header)}"
        elif any((value or "").strip() for value in row.values()):
            yield reader.line_num, {k: v.strip() for k, v in row.items() if v is not None and v.strip()}


def _item(index: int, line: int, row: dict[str, Any] | str, source: Path, default_format: str) -> Item:
    """One item; any failure to make sense of the row (ours or Python's: a path the OS cannot represent,
    a number out of range) becomes its `problem`, so no single line can end the batch."""
    if isinstance(row, str):
        return Item(index, line, problem=row, source=source)
    try:
        return _parse_item(index, line, row, source, default_format)
    except InputError as e:
        problem = str(e)
    except Exception as e:  # reported as this item's failure, never hidden
        problem = f"cannot use this item ({type(e).__name__}: {_one_line(e)})"
    text = row.get("text")
    text = _displayable(text if isinstance(text, str) else "")
    return Item(index, line, text=text, problem=_displayable(problem), source=source)


def _parse_item(index: int, line: int, row: dict[str, Any], source: Path, default_format: str) -> Item:
    base = source.parent
    unknown = [key for key in row if key not in COLUMNS]
    if unknown:
        raise InputError(f"unknown key {', '.join(map(repr, unknown))} (keys: {', '.join(COLUMNS)})")
    for key, value in row.items():
        _check_strings(key, value)
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError("no text")
    speaker = _optional_str(row, "speaker")
    numbers = {name: _number(row, name) for name in NUMBER_OPTIONS}
    seed = _integer(row, "seed")
    fmt = _optional_str(row, "format")
    if fmt is not None:
        fmt = audio_io.audio_format_for("-", fmt)
    output = _output_name(_optional_str(row, "output"), index, fmt, default_format)
    references = tuple(base / p for p in _paths(row.get("reference")))
    se = _optional_str(row, "se")
    if references and se is not None:
        raise InputError("give either 'reference' or 'se', not both")
    options = Options(speaker=speaker, seed=seed, format=audio_io.audio_format_for(output), **numbers)
    return Item(index, line, text, output, references, base / se if se else None, options, source=source)


def _check_strings(key: str, value: Any) -> None:
    """Every string of a row fits `MAX_FIELD_CHARS`, holds no NUL and is real Unicode (JSON's "\\ud800"
    escapes give lone surrogates, which no file, terminal or report can hold)."""
    for text in value if isinstance(value, list) else [value]:
        if not isinstance(text, str):
            continue
        if len(text) > MAX_FIELD_CHARS:
            raise InputError(f"{key} is {len(text):,} characters, over the limit of {MAX_FIELD_CHARS:,}")
        if "\0" in text:  # no file name can hold one, and no text needs one
            raise InputError(f"{key} contains a NUL character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InputError(f"{key} is not valid Unicode (a lone surrogate at character {e.start})") from None


def _optional_str(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{key} must be a string, got {_short_repr(value)}")
    return value.strip() or None


def _number(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{key} must be a number, got {_short_repr(value)}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InputError(f"{key} must be a finite number, got {_short_repr(value)}")
    return number


def _integer(row: dict[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 20:
        return int(value)
    raise InputError(f"{key} must be a whole number, got {_short_repr(value)}")


def _paths(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        paths = [p.strip() for p in value.split(REFERENCE_SEPARATOR) if p.strip()]
    elif isinstance(value, list) and value and all(isinstance(p, str) and p.strip() for p in value):
        paths = [p.strip() for p in value]
    else:
        raise InputError(f"reference must be a path or a list of paths, got {_short_repr(value)}")
    return paths


def _output_name(given: str | None, index: int, fmt: str | None, default_format: str) -> str:
    if given is None:
        return f"{index:04d}.{fmt or default_format}"
    if os.sep in given or (os.altsep and os.altsep in given) or given in (".", ".."):
        raise InputError(f"output must be a file name inside the output folder, got {_short_repr(given)}")
    if any(unicodedata.category(c) == "Cc" for c in given):
        raise InputError(f"output {_short_repr(given)} contains a control character (a newline, a tab, ...)")
    suffix = Path(given).suffix.lower().lstrip(".")
    if not suffix:
        given = f"{given}.{fmt or default_format}"
    elif suffix not in audio_io.FORMATS:
        raise InputError(f"output {_short_repr(given)}: unknown audio extension (use {', '.join(audio_io.FORMATS)})")
    elif fmt is not None and fmt != suffix:
        raise InputError(f"output {_short_repr(given)} does not match format {fmt!r}")
    size = len(given.encode("utf-8"))
    if size > NAME_MAX:
        raise InputError(f"output name is {size} bytes; file names are limited to {NAME_MAX}")
    return given


def _flag_duplicate_outputs(items: list[Item]) -> list[Item]:
    first: dict[str, int] = {}
    flagged = []
    for item in items:
        if item.problem is None and item.output in first:
            item = replace(item, problem=f"output {item.output!r} is already used by item {first[item.output]}")
        elif item.problem is None:
            first[item.output] = item.index
        flagged.append(item)
    return flagged


def _short_repr(value: Any, limit: int = 80) -> str:
    """A value for a one-line message: a 100 KiB cell is not echoed whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _displayable(text: str) -> str:
    """`text` with anything a UTF-8 report or terminal cannot hold (lone surrogates) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# ----------------------------------------------------------------------------------------------- running


class Engine:
    """The models of a batch, each loaded once and only if some item needs it; `lexicon` (already loaded,
    so a bad file fails before the first item) goes to the TTS."""

    def __init__(
        self,
        checkpoints: Path | None,
        device: str,
        cache_dir: Path | None = None,
        method: str = "silero",
        use_cache: bool = True,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.checkpoints = checkpoints
        self.lexicon = lexicon
        self.device = device
        self.cache_dir = cache_dir
        self.method = method
        self.use_cache = use_cache
        self._voices: dict[tuple[Path, ...], torch.Tensor] = {}

    @property
    def device_used(self) -> str | None:
        """The resolved device ("cpu", "cuda", "tt") once a model is loaded, else None."""
        loaded = self.__dict__.get("tts")
        return loaded.device if loaded is not None else None

    @cached_property
    def resolved_device(self) -> str:
        """What items run on: "cpu", "cuda" or "tt:<OPENVOICE_TT_DEVICE>" (a chip, its emulation or a mock
        compute differently), known before any model loads; part of an item's fingerprint."""
        from openvoice_tt import api
        from openvoice_tt.backends import TT_DEVICE_ENV

        device = self.device_used or api.resolve_device(self.device)
        return f"tt:{os.environ.get(TT_DEVICE_ENV, 'hardware')}" if device == "tt" else device

    def load(self, kinds: set[str]) -> None:
        """Load the models that items of these kinds ("synth", "clone") need, before the first item runs."""
        if kinds:
            _ = self.tts
        if "clone" in kinds:
            _ = self.cloner

    @cached_property
    def tts(self) -> TTS:
        from openvoice_tt.api import TTS

        return TTS(self.checkpoints, self.device, self.lexicon)

    @cached_property
    def cloner(self) -> VoiceCloner:
        from openvoice_tt.api import ToneColorConverter, VoiceCloner

        converter = ToneColorConverter(self.checkpoints, self.device, self.cache_dir)
        return VoiceCloner(tts=self.tts, converter=converter)

    def voice(self, references: tuple[Path, ...]) -> torch.Tensor:
        """Embedding of a reference set, computed once per batch."""
        if references not in self._voices:
            self._voices[references] = self.cloner.converter.extract_se(references, self.method, self.use_cache)
        return self._voices[references]

    def speak(self, item: Item, options: Options, progress: Progress | None) -> Speech:
        kwargs = options.synthesis_kwargs()
        if item.kind == "synth":
            return self.tts.synth(item.text, progress=progress, **kwargs)
        se = item.se if item.se is not None else self.voice(item.references)
        tau = {"tau": options.tau} if options.tau is not None else {}
        return self.cloner.clone(item.text, se=se, progress=progress, **kwargs, **tau)


MANIFEST = ".openvoice-tt-batch.json"
"""The output folder's record of finished items, in JSON Lines: `{"format": 2}`, then per finished item
`{"output": name, "record": {"fingerprint": {part: sha256}, "bytes", "sha256", "redone"}}` and per file
hashed `{"file": path, "hash": [size, mtime_ns, ctime_ns, inode, sha256]}` (a cache, so that unchanged
checkpoints are not read again on every run). A later line for the same output or file wins."""
MANIFEST_FORMAT = 2
NEW = "new"  # Manifest.why_redo: neither a record nor a file, so nothing is redone
UNREADABLE = "unreadable: "  # a fingerprint part that could not be computed: it never matches

FINGERPRINT_PARTS = {
    "text": "text changed",
    "options": "options changed",
    "voice": "reference content changed",
    "lexicon": "lexicon changed",
    "checkpoints": "checkpoint files changed",
    "device": "device changed",
}
"""What determines an item's audio, each with the reason given when --resume redoes an item for it."""

CHECKPOINT_PARTS = {
    "synth": (layout.ENGLISH.folder, layout.ENGLISH.bert.folder),
    "clone": (
        layout.ENGLISH.folder,
        layout.ENGLISH.bert.folder,
        layout.CONVERTER.folder,
        layout.CONVERTER.speaker_embeddings,
    ),
}
"""The checkpoint folders (see checkpoints/README.md) whose files determine the audio of each kind."""


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
    (lexicon, checkpoints, device) are computed once; a part that cannot be computed (a reference gone)
    is `UNREADABLE` + why, which never matches a record: the item runs (and fails with the real error if
    the file is gone; an in-memory lexicon, which has no file, is made again on every resume)."""

    def __init__(self, engine: Engine, hashes: FileHashes) -> None:
        self.engine = engine
        self.hashes = hashes
        self._run_wide: dict[str, str] = {}

    def of(self, item: Item, options: Options) -> dict[str, str]:
        return {
            "text": _sha(item.text),
            "options": _sha(asdict(options)),
            "voice": self._voice(item),
            "lexicon": self._once("lexicon", self._lexicon),
            "checkpoints": self._once(f"checkpoints:{item.kind}", lambda: self._checkpoints(item.kind)),
            "device": self._once("device", lambda: _sha(self.engine.resolved_device)),
        }

    def _once(self, key: str, compute: Callable[[], str]) -> str:
        if key not in self._run_wide:
            self._run_wide[key] = compute()
        return self._run_wide[key]

    def _voice(self, item: Item) -> str:
        try:
            if item.se is not None:
                return _sha(["se", self.hashes.sha256(item.se)])
            if item.references:  # the segmentation method shapes the embedding as much as the recordings do
                return _sha([self.engine.method, [self.hashes.sha256(p) for p in item.references]])
        except (OSError, InputError) as e:
            return UNREADABLE + _one_line(e)
        return _sha(None)

    def _lexicon(self) -> str:
        lexicon = self.engine.lexicon
        if lexicon is None:
            return _sha(None)
        try:  # the file it was loaded from (an in-memory lexicon has none: UNREADABLE)
            return _sha(["lexicon", self.hashes.sha256(Path(lexicon.path))])
        except (OSError, InputError) as e:
            return UNREADABLE + _one_line(e)

    def _checkpoints(self, kind: str) -> str:
        from openvoice_tt import api

        root = api.checkpoint_dir(self.engine.checkpoints)
        files = []
        for part in CHECKPOINT_PARTS[kind]:
            folder = root / part
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                try:
                    if path.is_file():
                        files.append([str(path.relative_to(root)), self.hashes.sha256(path)])
                except (OSError, InputError) as e:
                    return UNREADABLE + _one_line(e)
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
            why
            for part, why in FINGERPRINT_PARTS.items()
            if recorded.get(part) != fingerprint[part] or fingerprint[part].startswith(UNREADABLE)
        ]
        if changed and item.se is not None:
            changed = [
                "embedding file content changed" if why == FINGERPRINT_PARTS["voice"] else why for why in changed
            ]
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


class Guard:
    """The files of a run that no item's output may replace: the list file(s), the record, the --report
    file, the lexicon and every item's references and embedding file (an item writing `out/voice.wav` must
    not destroy the recording a later item clones). Compared by resolved path and by inode (hard links).
    The record and the report are outputs too: one that is an input is an OutputError before any work."""

    def __init__(self, items: list[Item], out_dir: Path, lexicon: Lexicon | None) -> None:
        self.paths: dict[str, str] = {}
        self.inodes: dict[tuple[int, int], str] = {}
        for source in {item.source for item in items if item.source is not None}:
            self.add(source, "the list file")
        if lexicon is not None:
            self.add(Path(lexicon.path), "the lexicon")
        for item in items:
            if item.problem is None:
                for reference in item.references:
                    self.add(reference, f"a reference of item {item.index}")
                if item.se is not None:
                    self.add(item.se, f"the embedding file of item {item.index}")
        record = out_dir / MANIFEST
        what = self.holder(record)
        if what is not None:  # say, a symlink to the list: writing the record would replace it
            raise OutputError(f"{record}: the record of finished items is {what}; refusing to replace it")
        self.add(record, f"the record {MANIFEST}")

    def add(self, path: Path, what: str) -> None:
        self.paths.setdefault(os.path.realpath(path), what)
        inode = _inode(path)
        if inode is not None:
            self.inodes.setdefault(inode, what)

    def holder(self, path: Path) -> str | None:
        """What `path` is to this run (say "the list file"), if writing it would replace a guarded file."""
        inode = _inode(path)
        return self.paths.get(os.path.realpath(path)) or (self.inodes.get(inode) if inode else None)

    def check_report(self, report: Path) -> None:
        """Before any work: the --report file must not be an input or the record (OutputError); from then
        on it is guarded too, so an item that would write it fails alone."""
        what = self.holder(report)
        if what is not None:
            raise OutputError(f"--report {report}: is {what}; refusing to replace it")
        self.add(report, "the --report file")

    def check(self, item: Item, out_dir: Path) -> None:
        """An InputError if writing this item's output would replace a guarded file, or would go to a pipe
        or device already there (the writer streams into those in place: a pipe without a reader would
        hold the whole batch)."""
        path = out_dir / item.output
        what = self.holder(path)
        if what is not None:
            raise InputError(f"output {item.output!r} would replace {what} ({path}); choose another name")
        try:
            mode = os.stat(path).st_mode
        except OSError:  # not there yet (or unreachable: the write will say why)
            return
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # a directory fails when written, quickly
            raise InputError(f"output {item.output!r} exists and is no regular file (a pipe, device or socket)")


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


ItemProgress = Callable[[int, int, Item | None], None]
"""(items handled, items in total, item about to run or None)."""


def run_batch(
    items: list[Item],
    out_dir: Path,
    engine: Engine,
    defaults: Options,
    resume: bool = False,
    on_item: ItemProgress | None = None,
    on_chunk: Progress | None = None,
    *,
    report: Path | None = None,
) -> BatchResult:
    """Run every item; a failing item (any exception, down to an output name the file system refuses) is
    recorded with a one-line reason and the batch goes on. No item's output may replace an input, the
    list file, the record or `report` (a `report` that is one of those is an OutputError before any
    work). Models are loaded before the first item, so a missing checkpoint stops the batch at once.
    Ctrl-C stops it after cleaning up (outputs are written atomically, so none is left half-written): the
    items not run are reported, and `resume` finishes them later. A SIGTERM is handled like Ctrl-C where
    the CLI turns it into `errors.Terminated`."""
    outcomes = [Outcome(item) for item in items]
    guard = Guard(items, out_dir, engine.lexicon)
    if report is not None:
        guard.check_report(report)
    manifest = Manifest(out_dir)
    fingerprints = Fingerprints(engine, manifest.hashes)
    pending: list[Outcome] = []
    try:
        for outcome in outcomes:
            _prepare(outcome, out_dir, defaults, resume, guard, manifest, fingerprints)
            if outcome.status == NOT_RUN:
                pending.append(outcome)
    except KeyboardInterrupt as stop:
        return BatchResult(outcomes, interrupted=True, terminated=isinstance(stop, Terminated))
    engine.load({o.item.kind for o in pending})
    handled = len(outcomes) - len(pending)
    try:
        for outcome in pending:
            if on_item is not None:
                on_item(handled, len(outcomes), outcome.item)
            _run_one(outcome, out_dir, engine, defaults, on_chunk, manifest, fingerprints)
            handled += 1
    except KeyboardInterrupt as stop:
        return BatchResult(outcomes, interrupted=True, terminated=isinstance(stop, Terminated))
    if on_item is not None:
        on_item(handled, len(outcomes), None)
    return BatchResult(outcomes)


def _prepare(
    outcome: Outcome,
    out_dir: Path,
    defaults: Options,
    resume: bool,
    guard: Guard,
    manifest: Manifest,
    fingerprints: Fingerprints,
) -> None:
    """Before any model loads: fail an item that cannot run, skip (with resume) one that is done, and
    leave the rest NOT_RUN with, for resume, the reason it is (re)made."""
    item = outcome.item
    if item.problem is not None:
        outcome.status, outcome.error = FAILED, item.problem
        return
    try:
        guard.check(item, out_dir)
        if resume:
            why = manifest.why_redo(item, fingerprints.of(item, item.options.over(defaults)), out_dir / item.output)
            if why is None:
                outcome.status = SKIPPED
            outcome.redone = None if why == NEW else why
    except Exception as e:  # this item's failure, reported; the others go on
        outcome.status, outcome.error = FAILED, _reason(e)


def _run_one(
    outcome: Outcome,
    out_dir: Path,
    engine: Engine,
    defaults: Options,
    on_chunk: Progress | None,
    manifest: Manifest,
    fingerprints: Fingerprints,
) -> None:
    item = outcome.item
    options = item.options.over(defaults)
    start = time.perf_counter()
    try:
        fingerprint = fingerprints.of(item, options)  # before the run: what the audio is made from
        speech = engine.speak(item, options, on_chunk)
        speech.save(out_dir / item.output, options.format)
        manifest.add(item, fingerprint, out_dir / item.output, outcome.redone)
    except Exception as e:  # this item's failure, reported; the others go on
        outcome.status, outcome.error = FAILED, _reason(e)
    else:
        outcome.status, outcome.seconds = DONE, round(speech.seconds, 3)
    outcome.elapsed = round(time.perf_counter() - start, 3)


def _reason(error: Exception) -> str:
    """One line for the report: our errors say what is wrong; anything else also names its type."""
    message = _one_line(error) if isinstance(error, OpenVoiceError) else f"{type(error).__name__}: {_one_line(error)}"
    return _displayable(message)


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write the JSON report with the one output writer (atomic for a regular file)."""
    write_file(path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())
