"""Warnings about a request (words left out of the text, a short reference), collected for its client.

Why: the library tells its caller about its input through UserWarnings, which a CLI user sees on the
terminal but an HTTP client never would. The device workers collect the ones their jobs raise (`WarningRouter`);
the client gets them in the `X-OpenVoice-Warnings` header (`warnings_header`: a JSON list, ASCII) and, for
JSON answers, a "warnings" field, and the server's log still shows them.
"""

from __future__ import annotations

import contextlib
import json
import threading
import warnings
from collections.abc import Iterator
from typing import Any

WARNINGS_HEADER = "X-OpenVoice-Warnings"
MAX_WARNINGS_HEADER = 4096  # bytes: well under the 8 KiB that proxies and clients accept for all headers
MAX_WARNING_CHARS = 500


class WarningRouter:
    """Routes the UserWarnings each device worker thread raises (what the library says about its input:
    words left out, a short reference, a fallback) to the list of the job that thread runs (`collecting`),
    once per message, and still shows them as before (the server's log). Each one is shown, not only the
    first from its line: the same words left out again are news to the next request. Other categories (a
    library's DeprecationWarning) concern the server's code, not the request: they are neither collected
    nor repeated.

    The warnings module's state is process-wide (Python 3.12 has no per-thread warning filters) and
    `catch_warnings` blocks entered by several threads at once restore it out of order, so the router
    changes it while any job collects (installed by the first, restored by the last, under one lock) and
    tells the workers' jobs apart by thread; warnings of threads with no job never reach a list."""

    def __init__(self) -> None:
        self._lists: dict[int, list[str]] = {}
        self._lock = threading.Lock()
        self._saved: Any = None
        self._shown: Any = warnings.showwarning  # what showed warnings before the router was last installed

    def _install(self) -> None:
        self._saved = (warnings.filters[:], warnings.showwarning)
        self._shown = warnings.showwarning
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = self._show

    def _uninstall(self) -> None:
        filters, shown = self._saved
        warnings.filters[:] = filters
        warnings.showwarning = shown
        self._saved = None

    def _show(self, message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        text = str(message)
        with self._lock:
            into = self._lists.get(threading.get_ident())
            if into is not None and issubclass(category, UserWarning) and text not in into:
                into.append(text)
        self._shown(message, category, *args, **kwargs)

    @contextlib.contextmanager
    def collecting(self, into: list[str]) -> Iterator[None]:
        """Within the block, this thread's UserWarnings are appended to `into`."""
        thread = threading.get_ident()
        with self._lock:
            if not self._lists:
                self._install()
            self._lists[thread] = into
        try:
            yield
        finally:
            with self._lock:
                self._lists.pop(thread, None)
                if not self._lists:
                    self._uninstall()


ROUTER = WarningRouter()
"""The process's one router: the warnings module's state is process-wide, so two routers changing it would
restore each other's state out of order (every device queue's workers collect through this one)."""


def warnings_header(messages: list[str]) -> dict[str, str]:
    """{X-OpenVoice-Warnings: a JSON list of `messages`} (none: {}). ASCII JSON, since a header value is
    latin-1 and may hold no line break (a word left out is often Chinese or an emoji: "\\u4f60"); each
    message at most MAX_WARNING_CHARS, and as many as fit MAX_WARNINGS_HEADER bytes (then a count of the
    rest)."""
    shown: list[str] = []
    for n, message in enumerate(messages):
        short = message if len(message) <= MAX_WARNING_CHARS else f"{message[: MAX_WARNING_CHARS - 3]}..."
        if len(json.dumps([*shown, short, f"and {len(messages)} more warnings"])) > MAX_WARNINGS_HEADER:
            shown.append(f"and {len(messages) - n} more warnings")
            break
        shown.append(short)
    return {WARNINGS_HEADER: json.dumps(shown)} if shown else {}
