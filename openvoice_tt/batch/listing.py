"""Reading a list file into items, with bounds that keep a hostile or broken list from ending the batch.

Input formats (chosen by extension, or explicitly):
  .txt          one text per non-empty line (synthesized with the batch's options)
  .csv / .tsv   a header row, then one item per row; columns as in `COLUMNS`, only `text` required
  .jsonl        one JSON object per line with the same keys (`reference` may also be a list)

Relative paths in a list file are taken relative to the list file's folder, so a list and its references
can move together. Only a list that cannot be read as a list at all (missing, binary, not UTF-8, over
`MAX_LIST_BYTES` or `MAX_ITEMS`, a table without a `text` column) is an InputError; whatever is wrong with
one line (a bad value, a cell over `MAX_FIELD_CHARS`, an output name the file system refuses) becomes that
item's `problem`, so it fails alone and the rest of the batch runs. Output names are checked by
`openvoice_tt.batch.naming`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt import audio as audio_io
from openvoice_tt.batch.items import Item, Options
from openvoice_tt.batch.messages import displayable, one_line, short_repr
from openvoice_tt.batch.naming import flag_duplicate_outputs, output_name
from openvoice_tt.errors import InputError
from openvoice_tt.reading import read_bounded

if TYPE_CHECKING:
    from openvoice_tt.api import VoiceMix

COLUMNS = (
    "text",
    "speaker",
    "language",
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
    return flag_duplicate_outputs(items)


def _read_list(path: Path) -> str:
    """The list file's text, read in chunks up to `MAX_LIST_BYTES`: an endless or huge file is refused
    after that much, and a signal stops a slow read between chunks."""
    try:
        with open(path, "rb") as fh:
            data = read_bounded(fh, MAX_LIST_BYTES)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a list file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    if data is None:
        raise InputError(f"{path}: list file over {MAX_LIST_BYTES // 2**20} MiB (split the list)")
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
            yield line, f"not valid JSON ({one_line(e)})"
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
        problem = f"cannot use this item ({type(e).__name__}: {one_line(e)})"
    text = row.get("text")
    text = displayable(text if isinstance(text, str) else "")
    return Item(index, line, text=text, problem=displayable(problem), source=source)


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
    language = _optional_str(row, "language")
    numbers = {name: _number(row, name) for name in NUMBER_OPTIONS}
    seed = _integer(row, "seed")
    fmt = _optional_str(row, "format")
    if fmt is not None:
        fmt = audio_io.audio_format_for("-", fmt)
    output = output_name(_optional_str(row, "output"), index, fmt, default_format)
    references = tuple(base / p for p in _paths(row.get("reference")))
    se = _optional_str(row, "se")
    if references and se is not None:
        raise InputError("give either 'reference' or 'se', not both")
    fmt = audio_io.audio_format_for(output)
    options = Options(speaker=speaker, language=language, seed=seed, format=fmt, **numbers)
    return Item(index, line, text, output, references, _voice_mix(se, base), options, source=source)


def _voice_mix(se: str | None, base: Path) -> VoiceMix | None:
    """An item's `se`: one embedding file or a mix, `a.pth:0.7|b.pth:0.3` (the CLI's --se parts joined by
    `|`, as `reference` lists several), each file relative to the list's folder."""
    if se is None:
        return None
    from openvoice_tt.api.mix import MixPart, VoiceMix, split_mix

    mix = split_mix(se, REFERENCE_SEPARATOR)
    return VoiceMix(tuple(MixPart(str(base / part.voice), part.weight, part.weighted) for part in mix.parts))


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
        raise InputError(f"{key} must be a string, got {short_repr(value)}")
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
        raise InputError(f"{key} must be a number, got {short_repr(value)}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InputError(f"{key} must be a finite number, got {short_repr(value)}")
    return number


def _integer(row: dict[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 20:
        return int(value)
    raise InputError(f"{key} must be a whole number, got {short_repr(value)}")


def _paths(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        paths = [p.strip() for p in value.split(REFERENCE_SEPARATOR) if p.strip()]
    elif isinstance(value, list) and value and all(isinstance(p, str) and p.strip() for p in value):
        paths = [p.strip() for p in value]
    else:
        raise InputError(f"reference must be a path or a list of paths, got {short_repr(value)}")
    return paths
