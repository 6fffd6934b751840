"""Where each item's audio goes, and what no output of a run may replace.

Outputs are named by an item's `output` (a file name inside the output folder) or numbered `0001.wav`,
`0002.wav`, ... in item order; two items naming one output, or a name the file system cannot hold, fail
the later item when the list is read. Before anything runs, `Guard` fails an item whose output would
replace an input of the run (the list, a reference, the lexicon, the record, the report) or go to a pipe
or device: one careless name must not destroy what a later item clones.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from openvoice_tt import audio as audio_io
from openvoice_tt.batch.items import Item
from openvoice_tt.batch.messages import short_repr
from openvoice_tt.batch.record import MANIFEST
from openvoice_tt.errors import InputError, OutputError
from openvoice_tt.outputs import NAME_MAX

if TYPE_CHECKING:
    from openvoice_tt.text.lexicon import Lexicon


def output_name(given: str | None, index: int, fmt: str | None, default_format: str) -> str:
    if given is None:
        return f"{index:04d}.{fmt or default_format}"
    if os.sep in given or (os.altsep and os.altsep in given) or given in (".", ".."):
        raise InputError(f"output must be a file name inside the output folder, got {short_repr(given)}")
    if any(unicodedata.category(c) == "Cc" for c in given):
        raise InputError(f"output {short_repr(given)} contains a control character (a newline, a tab, ...)")
    suffix = Path(given).suffix.lower().lstrip(".")
    if not suffix:
        given = f"{given}.{fmt or default_format}"
    elif suffix not in audio_io.FORMATS:
        raise InputError(f"output {short_repr(given)}: unknown audio extension (use {', '.join(audio_io.FORMATS)})")
    elif fmt is not None and fmt != suffix:
        raise InputError(f"output {short_repr(given)} does not match format {fmt!r}")
    size = len(given.encode("utf-8"))
    if size > NAME_MAX:
        raise InputError(f"output name is {size} bytes; file names are limited to {NAME_MAX}")
    return given


def flag_duplicate_outputs(items: list[Item]) -> list[Item]:
    first: dict[str, int] = {}
    flagged = []
    for item in items:
        if item.problem is None and item.output in first:
            item = replace(item, problem=f"output {item.output!r} is already used by item {first[item.output]}")
        elif item.problem is None:
            first[item.output] = item.index
        flagged.append(item)
    return flagged


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
                for path in item.se_files:
                    self.add(path, f"the embedding file of item {item.index}")
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
