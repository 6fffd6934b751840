"""User-facing errors.

Every error a user can cause (a bad file, bad text, a missing checkpoint) is one of these, carries a
one-line message that names the file or field and the problem, and maps to a documented exit code.
The CLI prints the message and exits; anything else reaching the CLI is a bug and keeps its traceback.
"""

import unicodedata


class OpenVoiceError(Exception):
    """Base class; `exit_code` is the CLI's exit status for this kind of failure."""

    exit_code = 1


class InputError(OpenVoiceError):
    """The user's input (text, audio, options) cannot be used."""

    exit_code = 3


class TextError(InputError, ValueError):
    """Text that cannot be turned into a phone sequence (e.g. it normalizes to nothing)."""


class AudioError(InputError):
    """Audio that is missing, unreadable, empty, silent or too short."""


class CheckpointError(OpenVoiceError):
    """A checkpoint, embedding or config file that is missing, unsafe or does not match the model."""

    exit_code = 4


class ConfigError(CheckpointError):
    """A config.json that is missing a field or has a field of the wrong type or value."""


class OutputError(OpenVoiceError):
    """An output that cannot be written (unwritable directory, full disk)."""

    exit_code = 5


class DeviceError(OpenVoiceError):
    """The requested compute device (cuda, tt) is not available."""

    exit_code = 6


class MissingPackagesError(OpenVoiceError):
    """A language's front end needs packages that are not installed; the message names the pip extra."""

    exit_code = 7


class LexiconError(InputError):
    """A user lexicon (`--lexicon`) that cannot be read or has a malformed line."""


class Terminated(KeyboardInterrupt):
    """The process got SIGTERM. The CLI raises it from its signal handler so that a termination unwinds
    exactly like Ctrl-C (partial outputs cleaned up, a batch's summary and report written); exit 143."""


def shorten(text: str, limit: int = 120) -> str:
    """`text` on one line, at most about `limit` characters, cut at a word boundary with "…" (a message
    cut mid-word reads as a different word)."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit + 1].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(" ,;:") + "…"


def preview(text: str, limit: int = 60) -> str:
    """A quoted, shortened copy of user text for a message."""
    return repr(shorten(text, limit))


MAX_NAME_CHARS = 64
"""The longest name (a base speaker's, from a config.json) that may become a file name."""


def name_problem(name: object) -> str | None:
    """Why `name` (a name read from a checkpoint file, e.g. a config's speaker) is not a plain name that may
    become a file name in a checkpoint folder, or None when it is one: no path separators, no leading `.`
    (so no `..`), no NUL or other control characters, at most MAX_NAME_CHARS characters."""
    if not isinstance(name, str) or not name.strip():
        return "is empty"
    if len(name) > MAX_NAME_CHARS:
        return f"is over {MAX_NAME_CHARS} characters"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "holds a control character"
    if "/" in name or "\\" in name:
        return "holds a path separator"
    if name.strip().startswith("."):
        return "starts with '.'"
    return None


def shown_name(name: object) -> str:
    """`name` quoted on one line (control characters escaped), shortened when long."""
    text = repr(name)
    return text if len(text) <= MAX_NAME_CHARS + 2 else text[:MAX_NAME_CHARS] + "…"
