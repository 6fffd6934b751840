"""Reading a byte stream with a bound: the one loop behind every input that could be endless or huge.

Text on stdin, a lexicon and a batch list may each be /dev/zero, a pipe that never closes or a file of
gigabytes. Each is read in chunks up to its documented bound, so memory stays bounded and a Ctrl-C or
SIGTERM (whose handlers raise) is honoured between chunks; the caller says what the bound means in its
own one-line error.
"""

from __future__ import annotations

from typing import BinaryIO

CHUNK_BYTES = 64 * 1024


def read_bounded(stream: BinaryIO, limit: int, chunk: int = CHUNK_BYTES) -> bytearray | None:
    """The stream's bytes when there are at most `limit` of them, else None (reading stops just past it)."""
    read = getattr(stream, "read1", stream.read)  # read1: what a pipe has now, without waiting for a full chunk
    data = bytearray()
    while piece := read(chunk):
        data += piece
        if len(data) > limit:
            return None
    return data
