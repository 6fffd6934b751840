"""Many utterances from one list file: models load once, a bad item is reported and the rest go on.

Input formats (chosen by extension, or explicitly):
  .txt          one text per non-empty line (synthesized with the batch's options)
  .csv / .tsv   a header row, then one item per row; columns as in `COLUMNS`, only `text` required
  .jsonl        one JSON object per line with the same keys (`reference` may also be a list)

An item with `reference` (one or more audio files, `|`-separated in CSV/TSV) or `se` (a voice embedding
file) is cloned; any other item is synthesized with a base speaker. Relative paths in a list file are
taken relative to the list file's folder, so a list and its references can move together. Outputs are
named by `output` (a file name inside the output folder) or numbered `0001.wav`, `0002.wav`, ... in item
order. With `resume`, an item is skipped when the output folder's record of finished items (`MANIFEST`)
says this very item (same text, voice and options) wrote the file that is there now (same size and
sha256), so an interrupted or partly failed batch can be finished by running it again, and a truncated,
replaced or stale file is made again rather than kept as done.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt import audio as audio_io
from openvoice_tt.errors import InputError, OpenVoiceError, Terminated
from openvoice_tt.outputs import write_file

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
    """Parse a list file into items. A file that cannot be used at all (missing, not UTF-8, unknown format,
    no `text` column, unknown columns, no items) is an InputError; a bad line becomes an item with a
    `problem`, so the rest of the batch still runs."""
    fmt = input_format or path.suffix.lower().lstrip(".")
    if fmt not in INPUT_FORMATS:
        raise InputError(
            f"{path}: unknown list format '{path.suffix}' (use .txt, .csv, .tsv or .jsonl, or choose --input-format)"
        )
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a list file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    if fmt == "txt":
        rows = ((n, {"text": line.strip()}) for n, line in enumerate(content.splitlines(), 1) if line.strip())
    elif fmt == "jsonl":
        rows = _jsonl_rows(content)
    else:
        rows = _table_rows(content, "," if fmt == "csv" else "\t", path)
    items: list[Item] = []
    for line, row in rows:
        items.append(_item(len(items) + 1, line, row, path.parent, default_format))
    if not items:
        raise InputError(f"{path}: no items (the file has no text lines)")
    return _flag_duplicate_outputs(items)


def _jsonl_rows(content: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for line, raw in enumerate(content.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as e:
            yield line, f"not valid JSON ({e.msg})"
            continue
        yield line, row if isinstance(row, dict) else "not a JSON object"


def _table_rows(content: str, delimiter: str, path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)  # quoted cells may span lines
    header = [name.strip() for name in reader.fieldnames or []]
    if "text" not in header:
        raise InputError(f"{path}: the header row must name a 'text' column (columns: {', '.join(COLUMNS)})")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise InputError(f"{path}: unknown column {', '.join(map(repr, unknown))} (columns: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    for row in reader:
        if None in row:
            yield reader.line_num, f"{len(header) + len(row[None])} cells but the header names {len(header)}"
        elif any((value or "").strip() for value in row.values()):
            yield reader.line_num, {k: v.strip() for k, v in row.items() if v is not None and v.strip()}


def _item(index: int, line: int, row: dict[str, Any] | str, base: Path, default_format: str) -> Item:
    if isinstance(row, str):
        return Item(index, line, problem=row)
    try:
        return _parse_item(index, line, row, base, default_format)
    except InputError as e:
        return Item(index, line, text=str(row.get("text", "")), problem=str(e))


def _parse_item(index: int, line: int, row: dict[str, Any], base: Path, default_format: str) -> Item:
    unknown = [key for key in row if key not in COLUMNS]
    if unknown:
        raise InputError(f"unknown key {', '.join(map(repr, unknown))} (keys: {', '.join(COLUMNS)})")
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
    return Item(index, line, text, output, references, base / se if se else None, options)


def _optional_str(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{key} must be a string, got {value!r}")
    return value.strip()


def _number(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{key} must be a number, got {value!r}") from None


def _integer(row: dict[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise InputError(f"{key} must be a whole number, got {value!r}")


def _paths(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(REFERENCE_SEPARATOR) if p.strip()]
    if isinstance(value, list) and value and all(isinstance(p, str) and p.strip() for p in value):
        return [p.strip() for p in value]
    raise InputError(f"reference must be a path or a list of paths, got {value!r}")


def _output_name(given: str | None, index: int, fmt: str | None, default_format: str) -> str:
    if given is None:
        return f"{index:04d}.{fmt or default_format}"
    if os.sep in given or (os.altsep and os.altsep in given) or given in (".", ".."):
        raise InputError(f"output must be a file name inside the output folder, got {given!r}")
    suffix = Path(given).suffix.lower().lstrip(".")
    if not suffix:
        return f"{given}.{fmt or default_format}"
    if suffix not in audio_io.FORMATS:
        raise InputError(f"output {given!r}: unknown audio extension (use {', '.join(audio_io.FORMATS)})")
    if fmt is not None and fmt != suffix:
        raise InputError(f"output {given!r} does not match format {fmt!r}")
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
"""The output folder's record of finished items: output name -> the item's digest, and the size and sha256
of the file written for it."""


class Manifest:
    """What --resume trusts: an output counts as done only if this record says so and the file matches it.
    Rewritten (atomically) after every finished item, so an interruption at any moment leaves it valid."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST
        self.records = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            records = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or damaged: nothing is trusted, everything is redone
            return {}
        return {k: v for k, v in records.items() if isinstance(v, dict)} if isinstance(records, dict) else {}

    def finished(self, item: Item, options: Options, path: Path) -> bool:
        record = self.records.get(item.output)
        return (
            record is not None
            and record.get("item") == _digest(item, options)
            and record == self._record(item, options, path)
        )

    def add(self, item: Item, options: Options, path: Path) -> None:
        self.records[item.output] = self._record(item, options, path)
        write_file(self.path, (json.dumps(self.records, indent=1, sort_keys=True) + "\n").encode())

    @staticmethod
    def _record(item: Item, options: Options, path: Path) -> dict[str, Any] | None:
        from openvoice_tt.checkpoints import file_sha256

        try:
            return {"item": _digest(item, options), "bytes": path.stat().st_size, "sha256": file_sha256(path)}
        except OSError:
            return None


def _digest(item: Item, options: Options) -> str:
    """What determines an item's audio: its text, voice and options (after the batch's defaults)."""
    material = [item.text, [str(p) for p in item.references], str(item.se) if item.se else None, asdict(options)]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


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
) -> BatchResult:
    """Run every item; a failing item (any OpenVoiceError) is recorded and the batch goes on. Models are
    loaded before the first item, so a missing checkpoint stops the batch at once. Ctrl-C stops it after
    cleaning up (outputs are written atomically, so none is left half-written): the items not run are
    reported, and `resume` finishes them later. A SIGTERM is handled like Ctrl-C where the CLI turns it
    into `errors.Terminated`."""
    outcomes = [Outcome(item) for item in items]
    manifest = Manifest(out_dir)
    pending: list[Outcome] = []
    for outcome in outcomes:
        item = outcome.item
        if item.problem is not None:
            outcome.status, outcome.error = FAILED, item.problem
        elif resume and manifest.finished(item, item.options.over(defaults), out_dir / item.output):
            outcome.status = SKIPPED
        else:
            pending.append(outcome)
    engine.load({o.item.kind for o in pending})
    handled = len(outcomes) - len(pending)
    try:
        for outcome in pending:
            if on_item is not None:
                on_item(handled, len(outcomes), outcome.item)
            _run_one(outcome, out_dir, engine, defaults, on_chunk, manifest)
            handled += 1
    except KeyboardInterrupt as stop:
        return BatchResult(outcomes, interrupted=True, terminated=isinstance(stop, Terminated))
    if on_item is not None:
        on_item(handled, len(outcomes), None)
    return BatchResult(outcomes)


def _run_one(
    outcome: Outcome, out_dir: Path, engine: Engine, defaults: Options, on_chunk: Progress | None, manifest: Manifest
) -> None:
    item = outcome.item
    options = item.options.over(defaults)
    start = time.perf_counter()
    try:
        speech = engine.speak(item, options, on_chunk)
        speech.save(out_dir / item.output, options.format)
        manifest.add(item, options, out_dir / item.output)
    except OpenVoiceError as e:
        outcome.status, outcome.error = FAILED, str(e)
    else:
        outcome.status, outcome.seconds = DONE, round(speech.seconds, 3)
    outcome.elapsed = round(time.perf_counter() - start, 3)


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write the JSON report with the one output writer (atomic for a regular file)."""
    write_file(path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())
