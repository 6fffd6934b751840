"""One-line messages for the report: how a failed item's reason and a quoted value are written.

The report and the terminal give each item one line, so a reason must not span lines, echo a 100 KiB cell
whole, or hold what UTF-8 cannot (lone surrogates from JSON escapes). Reading the list, fingerprinting and
running all write such reasons, so the rules live here once.
"""

from __future__ import annotations

from typing import Any

from openvoice_tt.errors import OpenVoiceError


def short_repr(value: Any, limit: int = 80) -> str:
    """A value for a one-line message: a 100 KiB cell is not echoed whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def displayable(text: str) -> str:
    """`text` with anything a UTF-8 report or terminal cannot hold (lone surrogates) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def reason(error: Exception) -> str:
    """One line for the report: our errors say what is wrong; anything else also names its type."""
    message = one_line(error) if isinstance(error, OpenVoiceError) else f"{type(error).__name__}: {one_line(error)}"
    return displayable(message)
