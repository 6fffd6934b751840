"""Writing output files (audio, voice embeddings, batch reports) without ever losing or corrupting one.

One writer for every output, by what the destination is:
- a regular file, or a path that does not exist yet: written to a temporary file next to it and renamed
  over it, so an existing file is replaced whole or not at all, and a failure leaves nothing behind;
- a symlink: resolved, and its final target replaced the same way (the link stays a link);
- a FIFO, character device or socket (`/dev/null`, `/dev/stdout`, a named pipe): written in place, as a
  stream; renaming over it would replace the node itself (its reader would get nothing, and as root
  `-o /dev/null` would replace the system's /dev/null).
New files get the umask's permissions, as a plain `open()` gives them. OS failures become OutputError
naming the destination ("out.wav: disk full"); destinations are checked before any work starts.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import uuid
from pathlib import Path

from openvoice_tt.errors import OutputError

STDOUT = "-"


def write_file(destination: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `destination` ("-" for stdout) as the module docstring describes."""
    name = os.fspath(destination)
    if name == STDOUT:
        write_stdout(data)
        return
    target = _target(Path(name))
    mode = _mode(target, name)
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{name}: is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(target, data, name)
    else:
        _write_atomically(target, data, name)


def write_stdout(data: bytes) -> None:
    try:
        sys.stdout.flush()  # text already printed must come out before the binary
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except OSError as e:
        raise output_error("stdout", e) from None


def _target(path: Path) -> Path:
    """The file a write to `path` must change: a symlink's final target (which may not exist yet)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _mode(target: Path, name: str) -> int | None:
    try:
        return os.stat(target).st_mode
    except FileNotFoundError:
        return None
    except OSError as e:  # a symlink loop, a path through a file, ...
        raise output_error(name, e) from None


def _write_in_place(target: Path, data: bytes, name: str) -> None:
    try:
        fd = os.open(target, os.O_WRONLY)  # no O_CREAT, no O_TRUNC: the node stays what it is
    except OSError as e:
        raise output_error(name, e) from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as e:
        raise output_error(name, e) from None
    finally:
        os.close(fd)


def _write_atomically(target: Path, data: bytes, name: str) -> None:
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:  # os.open with 0o666 lets the umask decide the mode, as for a plain open(); mkstemp would force 0o600
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise output_error(name, e) from None
    replaced = False
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
        replaced = True
    except OSError as e:
        raise output_error(name, e) from None
    finally:
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temp)


# ------------------------------------------------------------------------------------------------ checks


def check_output_dir(folder: str | os.PathLike[str]) -> None:
    """Fail fast (OutputError) unless `folder` exists and a file can be created in it: a run must not spend
    minutes computing audio it cannot save. Probes by creating and deleting a hidden file, which also
    catches read-only file systems and a full disk, where permission bits alone would not."""
    folder = Path(folder)
    if not folder.exists():
        raise OutputError(f"{folder}: directory does not exist")
    if not folder.is_dir():
        raise OutputError(f"{folder}: not a directory")
    probe = folder / f".openvoice-tt-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise OutputError(f"{folder}: cannot write here ({write_problem(e)})") from None
    os.close(fd)
    os.unlink(probe)


def ensure_output_dir(folder: str | os.PathLike[str]) -> None:
    """Create `folder` (and its parents) if needed, then `check_output_dir` it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{folder}: cannot create the directory ({write_problem(e)})") from None
    check_output_dir(folder)


def check_output_file(destination: str | os.PathLike[str]) -> None:
    """Fail fast unless `destination` ("-" for stdout) can be written: a special file (FIFO, device) must
    be writable itself; anything else needs a writable folder for the temporary file."""
    name = os.fspath(destination)
    if name == STDOUT:
        return
    target = _target(Path(name))
    mode = _mode(target, name)
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{name}: is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        if not os.access(target, os.W_OK):
            raise OutputError(f"{name}: permission denied")
        return
    check_output_dir(target.parent)


def write_problem(error: OSError) -> str:
    """An OSError while writing, in a few words."""
    return _known_problem(error) or _one_line(error)


def output_error(name: str, error: OSError) -> OutputError:
    """The OutputError for a failed write to `name`."""
    if isinstance(error, FileNotFoundError):
        return OutputError(f"{name}: directory {Path(name).parent} does not exist")
    return OutputError(f"{name}: {_known_problem(error) or f'cannot write ({_one_line(error)})'}")


def _known_problem(error: OSError) -> str | None:
    return {
        errno.ENOSPC: "disk full",
        errno.EDQUOT: "disk full",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
        errno.ELOOP: "too many levels of symbolic links",
    }.get(error.errno)


def _one_line(error: OSError) -> str:
    return " ".join((error.strerror or str(error)).split()) or type(error).__name__
