"""Many utterances from one list file: models load once, a bad item is reported and the rest go on.

Input formats (chosen by extension, or explicitly):
  .txt          one text per non-empty line (synthesized with the batch's options)
  .csv / .tsv   a header row, then one item per row; columns as in `COLUMNS`, only `text` required
  .jsonl        one JSON object per line with the same keys (`reference` may also be a list)

An item with `reference` (one or more audio files, `|`-separated in CSV/TSV) or `se` (a voice embedding
file) is cloned; any other item is synthesized with a base speaker. The item's speaker (and `language`,
for a name two models share or a language's first speaker) picks the language model: `ES` speaks Spanish,
`EN-Newest` the v3 English model; each language's models load at its first item and are kept. Relative
paths in a list file are taken relative to the list file's folder, so a list and its references can move
together. Outputs are named by `output` (a file name inside the output folder) or numbered `0001.wav`,
`0002.wav`, ... in item order.

Isolation: whatever is wrong with one item (a bad value, a name the file system refuses, a cell over
`MAX_FIELD_CHARS`, an output that would replace an input of the run, an error while it runs) fails that
item alone, with a one-line reason; only a list that cannot be read as a list at all (missing, binary, not
UTF-8, over `MAX_LIST_BYTES` or `MAX_ITEMS`, a table without a `text` column) stops the batch up front.

Resume: the output folder's record of finished items (`MANIFEST`) keeps, per output, a fingerprint of
everything that determines its audio (text, options, the content of its reference recordings or
embedding file, the lexicon's content, the checkpoint files' content, the device, the precision the models
ran in) and the size and sha256 of the file written. With `resume`, an item is skipped only when its
fingerprint is unchanged and the file there now is the one written; otherwise it is made again and the
report (and the record) says why.

One concern per module, each importing its siblings by full path (never this `__init__`, which would make
an import cycle):
  items.py      `Item` and its `Options`: what every other part speaks of
  listing.py    reading a list file into items, with its bounds and per-item validation
  naming.py     output names, duplicate outputs, and the `Guard` against replacing an input of the run
  record.py     content fingerprints and the resume record (`MANIFEST`)
  engine.py     the models, loaded once per batch (per language), that speak an item
  workers.py    who computes the items (`Workers`: `LocalWorkers` runs them on the in-process engine)
  ray_workers.py  `RayWorkers`, on a Ray cluster (`batch --ray`); the one module importing ray, lazily
  run.py        `run_batch` (the driver, which writes everything), each item's `Outcome`, the `BatchResult`
                and the JSON report
  messages.py   the one-line reasons the report gives

This `__init__` only re-exports the names used from outside, so `from openvoice_tt import batch` and
`batch.X` read as before the split. A test that patches a module-level name (`MAX_ITEMS`, `write_file`)
patches it in the module that reads it, `batch.listing` or `batch.record`.
"""

from __future__ import annotations

from openvoice_tt.batch.engine import Engine
from openvoice_tt.batch.items import Item, Options
from openvoice_tt.batch.listing import (
    COLUMNS,
    INPUT_FORMATS,
    MAX_FIELD_CHARS,
    MAX_ITEMS,
    MAX_LIST_BYTES,
    NUMBER_OPTIONS,
    REFERENCE_SEPARATOR,
    read_items,
)
from openvoice_tt.batch.naming import Guard
from openvoice_tt.batch.record import (
    CHECKPOINT_PARTS,
    FINGERPRINT_PARTS,
    MANIFEST,
    MANIFEST_FORMAT,
    NEW,
    UNREADABLE,
    FileHashes,
    Fingerprints,
    Manifest,
    checkpoint_parts,
)
from openvoice_tt.batch.run import (
    DONE,
    FAILED,
    NOT_RUN,
    SKIPPED,
    BatchResult,
    ItemProgress,
    Outcome,
    run_batch,
    write_report,
)

__all__ = [
    "CHECKPOINT_PARTS",
    "COLUMNS",
    "DONE",
    "FAILED",
    "FINGERPRINT_PARTS",
    "INPUT_FORMATS",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "MAX_FIELD_CHARS",
    "MAX_ITEMS",
    "MAX_LIST_BYTES",
    "NEW",
    "NOT_RUN",
    "NUMBER_OPTIONS",
    "REFERENCE_SEPARATOR",
    "SKIPPED",
    "UNREADABLE",
    "BatchResult",
    "Engine",
    "FileHashes",
    "Fingerprints",
    "Guard",
    "Item",
    "ItemProgress",
    "Manifest",
    "Options",
    "Outcome",
    "checkpoint_parts",
    "read_items",
    "run_batch",
    "write_report",
]
