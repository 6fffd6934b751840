"""Warnings about a request (words left out of the text, a short reference), collected for its client.

Why: the library tells its caller about its input through UserWarnings, which a CLI user sees on the
terminal but an HTTP client never would. The device worker collects the ones its job raises (`collected`);
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


@contextlib.contextmanager
def collected(into: list[str]) -> Iterator[None]:
    """Within the block, every UserWarning this thread raises (what the library says about its input:
    words left out, a short reference, a fallback) is appended to `into` (once per message) and still shown
    as before (the server's log). Each one is shown, not only the first from its line: the same words left
    out again are news to the next request. Other categories (a library's DeprecationWarning) concern the
    server's code, not the request: they are neither collected nor repeated.

    The warnings module's state is process-wide (Python 3.12 has no per-thread warning filters), so while
    the block runs other threads' UserWarnings are shown each time too; they are told apart by thread and
    never reach `into`. Only the device worker enters this block, one job at a time."""
    thread = threading.get_ident()
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        shown = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            text = str(message)
            if threading.get_ident() == thread and issubclass(category, UserWarning) and text not in into:
                into.append(text)
            shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


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
